//! The messages Latchkey sends, as text and HTML, rendered from templates in
//! `crates/core/templates/mail`, queued in the durable outbox and delivered by [`delivery`].

mod delivery;

use askama::Template;
use serde::{Deserialize, Serialize};

pub use crate::outbox::DeliveryReport;
pub use delivery::{Mailer, OUTBOX_KIND};

use crate::accounts::Email;
use crate::branding::model::Brand;

/// A message ready for a transport: RFC 5322 framing is the transport's job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    /// The sender's display name (the installation's), used when the configured sender has
    /// none. Absent in messages queued before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[error("mail template: {0}")]
pub struct RenderError(#[from] askama::Error);

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyEmailText<'a> {
    brand: &'a Brand,
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/verify_email.html")]
struct VerifyEmailHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/signup_existing.txt")]
struct SignupExistingText<'a> {
    brand: &'a Brand,
    login_link: &'a str,
    reset_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/signup_existing.html")]
struct SignupExistingHtml<'a> {
    brand: &'a Brand,
    login_link: &'a str,
    reset_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/reset_password.txt")]
struct ResetPasswordText<'a> {
    brand: &'a Brand,
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/reset_password.html")]
struct ResetPasswordHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct PasswordChangedText<'a> {
    brand: &'a Brand,
    name: &'a str,
    reset_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.html")]
struct PasswordChangedHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    reset_link: &'a str,
}

pub fn verify_email(
    brand: &Brand,
    to: &Email,
    name: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "Verify your email address".to_owned(),
        text: VerifyEmailText { brand, name, link }.render()?,
        html: VerifyEmailHtml { brand, name, link }.render()?,
    })
}

/// Sent instead of a verification mail when someone signs up with an address that already has
/// an account: the page they see is the same, so the form reveals nothing.
pub fn signup_existing(
    brand: &Brand,
    to: &Email,
    login_link: &str,
    reset_link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "You already have an account".to_owned(),
        text: SignupExistingText { brand, login_link, reset_link }.render()?,
        html: SignupExistingHtml { brand, login_link, reset_link }.render()?,
    })
}

pub fn reset_password(
    brand: &Brand,
    to: &Email,
    name: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "Reset your password".to_owned(),
        text: ResetPasswordText { brand, name, link }.render()?,
        html: ResetPasswordHtml { brand, name, link }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/invitation.txt")]
struct InvitationText<'a> {
    brand: &'a Brand,
    name: &'a str,
    inviter: &'a str,
    site: &'a str,
    link: &'a str,
    login: &'a str,
}

#[derive(Template)]
#[template(path = "mail/invitation.html")]
struct InvitationHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    inviter: &'a str,
    site: &'a str,
    link: &'a str,
    login: &'a str,
}

/// A site admin made the account: the person chooses a password through a reset link (which
/// also proves the address).
pub fn invitation(
    brand: &Brand,
    to: &Email,
    name: &str,
    inviter: &str,
    site: &str,
    link: &str,
    login: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "Your account is ready: choose a password".to_owned(),
        text: InvitationText { brand, name, inviter, site, link, login }.render()?,
        html: InvitationHtml { brand, name, inviter, site, link, login }.render()?,
    })
}

pub fn password_changed(
    brand: &Brand,
    to: &Email,
    name: &str,
    reset_link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "Your password was changed".to_owned(),
        text: PasswordChangedText { brand, name, reset_link }.render()?,
        html: PasswordChangedHtml { brand, name, reset_link }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/security_changed.txt")]
struct SecurityChangedText<'a> {
    brand: &'a Brand,
    name: &'a str,
    what: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/security_changed.html")]
struct SecurityChangedHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    what: &'a str,
    link: &'a str,
}

/// A change to how the account signs in (two-step verification on or off, new recovery
/// codes, an administrator's reset).
pub fn security_changed(
    brand: &Brand,
    to: &Email,
    name: &str,
    what: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "Your sign-in settings changed".to_owned(),
        text: SecurityChangedText { brand, name, what, link }.render()?,
        html: SecurityChangedHtml { brand, name, what, link }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/now_managed.txt")]
struct NowManagedText<'a> {
    brand: &'a Brand,
    name: &'a str,
    org: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/now_managed.html")]
struct NowManagedHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    org: &'a str,
    link: &'a str,
}

/// Sent once to each account on a domain an organization has just verified.
pub fn now_managed(
    brand: &Brand,
    to: &Email,
    name: &str,
    org: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: format!("Your account is now managed by {org}"),
        text: NowManagedText { brand, name, org, link }.render()?,
        html: NowManagedHtml { brand, name, org, link }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/domain_proof_missing.txt")]
struct ProofMissingText<'a> {
    brand: &'a Brand,
    name: &'a str,
    domain: &'a str,
    org: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/domain_proof_missing.html")]
struct ProofMissingHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    domain: &'a str,
    org: &'a str,
    link: &'a str,
}

/// To an organization's admins: a verified domain's TXT record has gone.
pub fn domain_proof_missing(
    brand: &Brand,
    to: &Email,
    name: &str,
    domain: &str,
    org: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: format!("The verification proof of {domain} is missing"),
        text: ProofMissingText { brand, name, domain, org, link }.render()?,
        html: ProofMissingHtml { brand, name, domain, org, link }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/email_change_confirm.txt")]
struct EmailChangeConfirmText<'a> {
    brand: &'a Brand,
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_change_confirm.html")]
struct EmailChangeConfirmHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    link: &'a str,
}

/// To the new address: the change takes effect only through this link.
pub fn email_change_confirm(
    brand: &Brand,
    to: &Email,
    name: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "Confirm your new email address".to_owned(),
        text: EmailChangeConfirmText { brand, name, link }.render()?,
        html: EmailChangeConfirmHtml { brand, name, link }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/email_changed_notice.txt")]
struct EmailChangedText<'a> {
    brand: &'a Brand,
    name: &'a str,
    new_email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_changed_notice.html")]
struct EmailChangedHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    new_email: &'a str,
    link: &'a str,
}

/// To the old address: the change happened, with the "this wasn't me" link.
pub fn email_changed_notice(
    brand: &Brand,
    to: &Email,
    name: &str,
    new_email: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: "Your email address was changed".to_owned(),
        text: EmailChangedText { brand, name, new_email, link }.render()?,
        html: EmailChangedHtml { brand, name, new_email, link }.render()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_part_escapes_names_and_text_part_keeps_them() {
        let to = Email::parse("a@example.com").unwrap();
        let brand = Brand::default();
        let m =
            verify_email(&brand, &to, "<b>Eve</b>", "https://id.example.com/verify-email?token=x")
                .unwrap();
        assert!(m.html.contains("&#60;b&#62;Eve") || m.html.contains("&lt;b&gt;Eve"));
        assert!(!m.html.contains("<b>Eve"));
        assert!(m.text.contains("<b>Eve</b>"));
        assert!(m.text.contains("https://id.example.com/verify-email?token=x"));
    }
}
pub mod ports;

#[derive(Template)]
#[template(path = "mail/legacy_link_confirm.txt")]
struct LegacyLinkText<'a> {
    brand: &'a Brand,
    requester: &'a str,
    product: &'a str,
    email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/legacy_link_confirm.html")]
struct LegacyLinkHtml<'a> {
    brand: &'a Brand,
    requester: &'a str,
    product: &'a str,
    email: &'a str,
    link: &'a str,
}

/// "Change account" on `/account/services`: to the legacy account's address, the link that
/// makes the change (used by the asking account).
pub fn legacy_link_confirm(
    brand: &Brand,
    to: &Email,
    requester: &str,
    product: &str,
    link: &str,
) -> Result<OutgoingMail, RenderError> {
    let email = to.as_str();
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: email.to_owned(),
        subject: format!("Use your {product} account with {}", brand.name()),
        text: LegacyLinkText { brand, requester, product, email, link }.render()?,
        html: LegacyLinkHtml { brand, requester, product, email, link }.render()?,
    })
}

/// What the certificate-expiry mail says of one certificate.
pub struct ExpiringCertificate<'a> {
    pub connection: &'a str,
    pub org: &'a str,
    pub subject: &'a str,
    pub fingerprint: &'a str,
    /// "on 2027-01-03" or "on 2026-11-30 (already expired)".
    pub when: &'a str,
    pub link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/saml_certificate_expiring.txt")]
struct CertificateExpiringText<'a> {
    brand: &'a Brand,
    name: &'a str,
    c: &'a ExpiringCertificate<'a>,
}

#[derive(Template)]
#[template(path = "mail/saml_certificate_expiring.html")]
struct CertificateExpiringHtml<'a> {
    brand: &'a Brand,
    name: &'a str,
    c: &'a ExpiringCertificate<'a>,
}

/// To an organization's admins, once per certificate: an IdP signing certificate of a SAML
/// connection expires soon.
pub fn saml_certificate_expiring(
    brand: &Brand,
    to: &Email,
    name: &str,
    c: &ExpiringCertificate<'_>,
) -> Result<OutgoingMail, RenderError> {
    Ok(OutgoingMail {
        sender_name: Some(brand.name().to_owned()),
        to: to.as_str().to_owned(),
        subject: format!("The SAML certificate of {} expires {}", c.connection, c.when),
        text: CertificateExpiringText { brand, name, c }.render()?,
        html: CertificateExpiringHtml { brand, name, c }.render()?,
    })
}

//! Background job: an identity provider's signing certificate close to expiry is mailed to the
//! organization's admins, once per certificate (the notice is claimed in the database, so one
//! node sends it however many run the job).

use latchkey_protocol::saml::signature::Certificate;

use super::{EXPIRY_WARNING_DAYS, SamlSp};
use crate::audit::{Actor, Outcome, Record};
use crate::errors::RepoError;
use crate::mail::ExpiringCertificate;

impl SamlSp {
    /// Mails the admins of each organization about certificates that expire within
    /// [`EXPIRY_WARNING_DAYS`] (or have expired) and were not announced yet. Returns how many
    /// certificates were announced.
    pub async fn warn_expiring_certificates(&self) -> Result<u64, RepoError> {
        let now = self.kernel.now();
        let horizon = now.plus_secs(EXPIRY_WARNING_DAYS * 86_400).unix();
        let mut announced = 0;
        for connection in self.repo.all_connections().await? {
            let expiring: Vec<_> = connection
                .certificates
                .iter()
                .map(Certificate::info)
                .filter(|info| info.not_after <= horizon)
                .collect();
            if expiring.is_empty() {
                continue;
            }
            let Some(org) = self.orgs.find_org(&connection.org_id).await? else { continue };
            let admins = self.orgs.org_admins(&org.id).await?;
            let link = self.kernel.link(&format!("/admin/org/{}/saml", org.id));
            for info in expiring {
                if !self.repo.claim_expiry_notice(&connection.id, &info.fingerprint, now).await? {
                    continue;
                }
                let date = crate::clock::Timestamp::from_unix(info.not_after).rfc3339();
                let date = date.get(..10).unwrap_or(&date);
                let when = if info.not_after <= now.unix() {
                    format!("on {date} (it has expired)")
                } else {
                    format!("on {date}")
                };
                let notice = ExpiringCertificate {
                    connection: &connection.name,
                    org: &org.name,
                    subject: &info.subject,
                    fingerprint: &info.fingerprint,
                    when: &when,
                    link: &link,
                };
                for id in &admins {
                    let Some(person) = self.accounts.find_by_id(id).await? else { continue };
                    if person.is_active() {
                        self.kernel
                            .send_mail(|brand| {
                                crate::mail::saml_certificate_expiring(
                                    brand,
                                    &person.email,
                                    person.name.as_str(),
                                    &notice,
                                )
                            })
                            .await;
                    }
                }
                let record = Record::new("saml.certificate_expiring", Actor::System)
                    .outcome(Outcome::Failure)
                    .in_org(&org.id)
                    .about(format!("SAML connection {}", connection.name))
                    .details(serde_json::json!({
                        "connection": connection.id,
                        "sha256": info.fingerprint,
                        "not_after": info.not_after,
                        "admins_mailed": admins.len(),
                    }));
                self.audit.record(record).await;
                announced += 1;
            }
        }
        Ok(announced)
    }
}

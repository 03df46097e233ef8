//! `/account/services`: the products a person uses, and "change account" for the support-site
//! case, where a product let several of its accounts share an address and the wrong one got
//! linked. The change is made only by a link mailed to the address of the legacy account
//! wanted, used by the Latchkey account that asked (so neither a stolen session alone nor
//! the mailbox alone can move a product's data to another person).

use crate::accounts::Email;
use crate::audit::{Actor, Record};
use crate::authority::SignedIn;
use crate::errors::{RepoError, Unexpected};
use crate::guard::{RetryAfter, account_key, name_key};
use crate::legacy::Legacy;
use crate::legacy::model::{LinkChange, LinkChoice, NewLinkChange, Service};
use crate::mail;
use crate::secret::OpaqueToken;

const LINK_TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum LinkChangeError {
    #[error("There is no such product among yours.")]
    UnknownProduct,
    #[error("{0} has no accounts from before Latchkey, so there is nothing to change.")]
    NoLegacyAccounts(String),
    #[error("Verify your email address first: the link we sent you when you signed up does it.")]
    NotVerified,
    /// Changing which account a product sees needs a sign-in from the last few minutes.
    #[error("For your security, sign in again to change the account a product uses.")]
    SignInAgain,
    #[error("Too many requests. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("This link is not valid any more. Start again from your products page.")]
    InvalidLink,
    #[error(
        "This link was asked for by another Latchkey account. Sign in as that account to use it."
    )]
    OtherAccount,
    #[error("Choose one of the accounts listed.")]
    NotAChoice,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for LinkChangeError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl Legacy {
    /// The products the signed-in person uses, by name.
    pub async fn services(&self, signed_in: &SignedIn) -> Result<Vec<Service>, RepoError> {
        let account = signed_in.account();
        self.repo.services(&account.id, &account.email).await
    }

    /// "Change account" on a product: mails a link to `email` when the product has active
    /// legacy accounts registered to it. The answer is the same either way, so it does not
    /// tell who has an account in the product.
    pub async fn request_link_change(
        &self,
        signed_in: &SignedIn,
        client_id: &str,
        email: &Email,
    ) -> Result<(), LinkChangeError> {
        let account = signed_in.account();
        let service = self
            .services(signed_in)
            .await?
            .into_iter()
            .find(|s| s.client_id == client_id)
            .ok_or(LinkChangeError::UnknownProduct)?;
        if service.rollout.is_none() {
            return Err(LinkChangeError::NoLegacyAccounts(service.name));
        }
        if !account.email_verified() {
            return Err(LinkChangeError::NotVerified);
        }
        if !self.guard.sign_in_is_recent(signed_in) {
            return Err(LinkChangeError::SignInAgain);
        }
        let now = self.kernel.now();
        // A visible limit per account; a silent one per target address, past which nothing
        // is sent and the answer stays the same.
        let limits = self.guard.login_limits();
        let per_account = name_key("legacy_link:acct:", account.id.as_str());
        let counted = self
            .guard
            .count_against(
                &[(per_account.as_str(), limits.mails_per_address)],
                limits.mail_window_secs,
                now,
            )
            .await?;
        if let Some(RetryAfter(secs)) = counted {
            return Err(LinkChangeError::Throttled(secs));
        }
        let per_target = account_key("legacy_link:to:", email);
        let target_key = [(per_target.as_str(), limits.mails_per_address)];
        if self.guard.count_against(&target_key, limits.mail_window_secs, now).await?.is_some() {
            tracing::warn!(account = %account.id, "legacy link change: target address over its limit; nothing sent");
            return Ok(());
        }
        let records = self.repo.for_email(email).await?;
        if !records.iter().any(|s| s.record.client_id == client_id && s.record.active) {
            return Ok(());
        }
        let token = OpaqueToken::generate(self.kernel.rng());
        self.repo
            .insert_link_change(&NewLinkChange {
                token_hash: token.hash(),
                account: account.id.clone(),
                client_id: client_id.to_owned(),
                email: email.clone(),
                created_at: now,
                expires_at: now.plus_secs(LINK_TTL_SECS),
            })
            .await?;
        let link = self.kernel.link(&format!("/account/services/confirm?token={}", token.expose()));
        self.kernel
            .send_mail(|brand| {
                mail::legacy_link_confirm(
                    brand,
                    email,
                    account.email.as_str(),
                    &service.name,
                    &link,
                )
            })
            .await;
        let record = Record::new("legacy.link_change_requested", Actor::Person(account))
            .target(account)
            .about(format!("product {client_id}"))
            .details(serde_json::json!({ "client_id": client_id }));
        self.audit.record(record).await;
        Ok(())
    }

    /// Housekeeping: forgets "change account" links past their expiry.
    pub async fn purge_expired_links(&self) -> Result<u64, RepoError> {
        self.repo.purge_link_changes(self.kernel.now()).await
    }

    /// What a "change account" link offers the signed-in person: the product's active legacy
    /// accounts at the mailed address. Refused unless they asked for it.
    pub async fn link_change(
        &self,
        signed_in: &SignedIn,
        raw_token: &str,
    ) -> Result<LinkChange, LinkChangeError> {
        let token = OpaqueToken::parse(raw_token).ok_or(LinkChangeError::InvalidLink)?;
        let now = self.kernel.now();
        let (asker, client_id, email) = self
            .repo
            .peek_link_change(&token.hash(), now)
            .await?
            .ok_or(LinkChangeError::InvalidLink)?;
        let account = signed_in.account();
        if asker != account.id {
            return Err(LinkChangeError::OtherAccount);
        }
        let email = Email::parse(&email).map_err(|_| LinkChangeError::InvalidLink)?;
        let product = self
            .services(signed_in)
            .await?
            .into_iter()
            .find(|s| s.client_id == client_id)
            .map(|s| s.name)
            .ok_or(LinkChangeError::InvalidLink)?;
        let choices: Vec<LinkChoice> = self
            .repo
            .for_email(&email)
            .await?
            .into_iter()
            .filter(|s| s.record.client_id == client_id && s.record.active)
            .map(|s| LinkChoice {
                current: s.account.as_ref() == Some(&account.id),
                legacy_id: s.record.legacy_id,
                username: s.record.username,
                name: s.record.name,
            })
            .collect();
        if choices.is_empty() {
            return Err(LinkChangeError::InvalidLink);
        }
        Ok(LinkChange { client_id, product, email, choices })
    }

    /// Uses a "change account" link: the chosen legacy account (one the link offers) becomes
    /// the one the product sees for the signed-in person. The choice is checked before the
    /// link is used up, and the link is used up (once, by the account that asked) before
    /// anything changes.
    pub async fn confirm_link_change(
        &self,
        signed_in: &SignedIn,
        raw_token: &str,
        legacy_id: &str,
    ) -> Result<LinkChange, LinkChangeError> {
        let change = self.link_change(signed_in, raw_token).await?;
        if !change.choices.iter().any(|c| c.legacy_id == legacy_id) {
            return Err(LinkChangeError::NotAChoice);
        }
        let token = OpaqueToken::parse(raw_token).ok_or(LinkChangeError::InvalidLink)?;
        let account = signed_in.account();
        let now = self.kernel.now();
        if !self.repo.claim_link_change(&token.hash(), &account.id, now).await? {
            return Err(LinkChangeError::InvalidLink);
        }
        let before = self.repo.linked_id(&account.id, &change.client_id).await?;
        let previous_owner =
            self.repo.relink(&change.client_id, legacy_id, &account.id, now).await?;
        tracing::info!(account = %account.id, client = %change.client_id, "legacy account link changed");
        let record = Record::new("legacy.link_changed", Actor::Person(account))
            .target(account)
            .about(format!("product {}", change.client_id))
            .details(serde_json::json!({
                "client_id": change.client_id,
                "from": before,
                "to": legacy_id,
                "taken_from_account": previous_owner
                    .filter(|p| *p != account.id)
                    .map(|p| p.as_str().to_owned()),
            }));
        self.audit.record(record).await;
        Ok(change)
    }
}

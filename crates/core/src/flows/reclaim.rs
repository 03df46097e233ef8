//! Taking an account back: when its mailbox is proven by a recovery route that may follow
//! someone else's use of the account (a password reset that is the address's first proof, or
//! the "this wasn't me" revert of an email change), everything such a person could have left
//! behind goes: second factors and passkeys, consents and the products' grants, pending email
//! changes and every session. The owner is told what went.

use crate::accounts::AccountId;
use crate::errors::RepoError;
use crate::flows::Accounts;
use crate::flows::ports::EmailChangeKind;

/// What a reclaim removed, for the mail and the audit log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reclaimed {
    pub authenticator_app: bool,
    pub security_keys: usize,
    pub products: usize,
    pub sessions: u64,
    pub api_tokens: u64,
}

impl Reclaimed {
    /// The sentence the owner's mail carries.
    pub(crate) fn describe(&self) -> String {
        let mut gone = Vec::new();
        if self.authenticator_app {
            gone.push("the authenticator app and its recovery codes".to_owned());
        }
        if self.security_keys > 0 {
            gone.push(format!("{} security key(s) or passkey(s)", self.security_keys));
        }
        if self.products > 0 {
            gone.push(format!("the sign-ins of {} product(s)", self.products));
        }
        if self.api_tokens > 0 {
            gone.push(format!("{} API token(s)", self.api_tokens));
        }
        gone.push("every signed-in session and any pending email change".to_owned());
        format!(
            "To make sure nobody else keeps a way in, we removed {}. Set up two-step verification again from your account's security page.",
            gone.join(", ")
        )
    }

    pub(crate) fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "authenticator_app": self.authenticator_app,
            "security_keys": self.security_keys,
            "products": self.products,
            "sessions": self.sessions,
            "api_tokens": self.api_tokens,
        })
    }
}

impl Accounts {
    /// Removes every factor, consent, grant, API token, pending email change and session of
    /// the account.
    pub(crate) async fn reclaim(&self, account: &AccountId) -> Result<Reclaimed, RepoError> {
        let now = self.kernel.now();
        let (authenticator_app, security_keys) =
            self.second_factor.remove_all_factors(account).await?;
        let products = self.oidc.forget_products(account).await?;
        let api_tokens = self.api_tokens.revoke_all(account).await?;
        self.email_changes.cancel_email_changes(account, EmailChangeKind::Confirm, now).await?;
        let (sessions, _) = self
            .sessions
            .end_sessions_except(account, None)
            .await
            .map_err(|e| RepoError(Box::new(e)))?;
        Ok(Reclaimed { authenticator_app, security_keys, products, sessions, api_tokens })
    }
}

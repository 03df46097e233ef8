//! Emailed single-use links (verify the address, reset the password): one way to issue them
//! and one way to look at them without using them up. The token is random, stored hashed,
//! bound to its purpose and its account, and expires.

use crate::accounts::AccountId;
use crate::errors::RepoError;
use crate::flows::Accounts;
use crate::flows::ports::{NewOneTimeToken, TokenPurpose};
use crate::secret::OpaqueToken;

impl Accounts {
    /// A fresh link for `account` and `purpose`, as an absolute URL under the public URL.
    pub(crate) async fn issue_link(
        &self,
        account: &AccountId,
        purpose: TokenPurpose,
    ) -> Result<String, RepoError> {
        let now = self.kernel.now();
        let (path, ttl) = match purpose {
            TokenPurpose::VerifyEmail => ("/verify-email", self.settings.verify_email_ttl_secs),
            TokenPurpose::ResetPassword => {
                ("/reset-password", self.settings.reset_password_ttl_secs)
            }
        };
        let token = OpaqueToken::generate(self.kernel.rng());
        let record = NewOneTimeToken {
            hash: token.hash(),
            purpose,
            account: account.clone(),
            created_at: now,
            expires_at: now.plus_secs(ttl),
        };
        self.tokens.insert(&record).await?;
        Ok(self.kernel.link(&format!("{path}?token={}", token.expose())))
    }

    /// Whether a link is still good for `purpose` (to show its form), without using it.
    pub(crate) async fn link_is_valid(
        &self,
        raw_token: &str,
        purpose: TokenPurpose,
    ) -> Result<bool, RepoError> {
        let Some(token) = OpaqueToken::parse(raw_token) else { return Ok(false) };
        let now = self.kernel.now();
        Ok(self.tokens.peek(&token.hash(), purpose, now).await?.is_some())
    }
}

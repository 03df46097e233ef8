//! Bearer tokens for the admin API (`latchkey admin-token create`): 256 random bits with a
//! recognisable prefix (so secret scanners can spot a leaked one), stored as SHA-256, bound to
//! a site-admin account. A token stops working when revoked, or when its account is
//! deactivated or loses the site-admin flag.

use crate::accounts::{Account, AccountId, Email};
use crate::audit::{Actor, Record};
use crate::authority::SiteAdmin;
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::secret::OpaqueToken;

/// What every admin token starts with.
pub const ADMIN_TOKEN_PREFIX: &str = "lka_";
/// `last_used_at` is written at most this often per token, not on every request.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub id: String,
    pub account: AccountId,
    pub label: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl AdminToken {
    /// What operators see of a token (CLI `--json`, admin API): never its value.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "account_id": self.account.as_str(),
            "label": self.label,
            "created_at": self.created_at.unix(),
            "last_used_at": self.last_used_at.map(Timestamp::unix),
            "revoked": self.revoked_at.is_some(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminTokenError {
    #[error("no account has this email")]
    UnknownAccount,
    #[error("{0} is not an active site admin")]
    NotSiteAdmin(String),
    #[error(
        "the label must be 1 to 100 characters, without control or invisible formatting characters"
    )]
    BadLabel,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for AdminTokenError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// An authenticated admin API caller.
#[derive(Debug, Clone)]
pub struct AdminCaller {
    pub admin: SiteAdmin,
    pub account: Account,
    pub token_id: String,
}

impl Accounts {
    /// Issues a token for a site admin; the token is returned once and never stored.
    pub async fn create_admin_token(
        &self,
        admin: &SiteAdmin,
        email: &Email,
        label: &str,
    ) -> Result<(AdminToken, String), AdminTokenError> {
        let label = label.trim();
        if label.is_empty()
            || label.chars().count() > 100
            || crate::text::has_hidden_or_control(label)
        {
            return Err(AdminTokenError::BadLabel);
        }
        let account =
            self.repo.find_by_email(email).await?.ok_or(AdminTokenError::UnknownAccount)?;
        if SiteAdmin::from_account(&account).is_none() {
            return Err(AdminTokenError::NotSiteAdmin(email.to_string()));
        }
        let now = self.kernel.now();
        let secret = OpaqueToken::generate(self.kernel.rng());
        let token = AdminToken {
            id: self.kernel.new_id(now),
            account: account.id.clone(),
            label: label.to_owned(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        self.admin_tokens.insert(&token, &secret.hash()).await?;
        tracing::info!(account = %account.id, token = %token.id, "admin token created");
        let record = Record::new("admin_token.created", Actor::Site(admin))
            .target(&account)
            .details(serde_json::json!({ "token": token.id, "label": token.label }));
        self.audit.record(record).await;
        Ok((token, format!("{ADMIN_TOKEN_PREFIX}{}", secret.expose())))
    }

    /// The caller behind a bearer token, if the token is live and its account still an active
    /// site admin.
    pub async fn authenticate_admin_token(
        &self,
        presented: &str,
    ) -> Result<Option<AdminCaller>, RepoError> {
        let Some(secret) = presented.strip_prefix(ADMIN_TOKEN_PREFIX).and_then(OpaqueToken::parse)
        else {
            return Ok(None);
        };
        let Some((token, account)) = self.admin_tokens.find_live(&secret.hash()).await? else {
            return Ok(None);
        };
        let Some(admin) = SiteAdmin::from_account(&account) else {
            return Ok(None);
        };
        let now = self.kernel.now();
        if token.last_used_at.is_none_or(|t| t.secs_until(now) >= TOUCH_EVERY_SECS) {
            self.admin_tokens.touch(&token.id, now).await?;
        }
        Ok(Some(AdminCaller { admin, account, token_id: token.id }))
    }

    pub async fn list_admin_tokens(
        &self,
        _admin: &SiteAdmin,
    ) -> Result<Vec<AdminToken>, RepoError> {
        self.admin_tokens.list().await
    }

    /// False when there was no live token with this id.
    pub async fn revoke_admin_token(&self, admin: &SiteAdmin, id: &str) -> Result<bool, RepoError> {
        let revoked = self.admin_tokens.revoke(id, self.kernel.now()).await?;
        if revoked {
            tracing::info!(token = %id, "admin token revoked");
            let record = Record::new("admin_token.revoked", Actor::Site(admin))
                .about(format!("admin token {id}"))
                .details(serde_json::json!({ "token": id }));
            self.audit.record(record).await;
        }
        Ok(revoked)
    }
}

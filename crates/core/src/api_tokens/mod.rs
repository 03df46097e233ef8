//! API tokens (app passwords) and bot accounts: people make tokens for their own account,
//! admins for the bots they own; products verify basic-auth pairs (an email with a token, or
//! a password where the policy allows it) and introspect tokens, in [`verify`].
//!
//! Tokens carry 256 random bits behind the `lkp_` prefix and are stored as SHA-256 only (a
//! random secret that long cannot be guessed, so a slow hash would buy nothing and cost every
//! product request). Lookups are cached per node for at most [`CACHE_SECS`] seconds. Authority over other people's tokens (an organization's admins) is
//! checked by the organizations service, which hands over accounts it has resolved.

mod cache;
pub mod model;
pub mod ports;
mod usage;
mod verify;

pub use cache::KEEP_SECS as CACHE_SECS;
pub use model::{
    API_TOKEN_PREFIX, ApiToken, BasicAuthAnswer, Credential, DEFAULT_LIFETIME_DAYS, InactiveReason,
    TokenRequest, TokenState,
};
pub use verify::{TokenIntrospection, VerifyError};

use std::sync::Arc;

use crate::accounts::ports::{AccountRepo, InsertAccountError};
use crate::accounts::{Account, AccountId, DisplayName, Email, NewAccount};
use crate::api_tokens::ports::ApiTokenRepo;
use crate::audit::{Actor, Audit, Record};
use crate::authority::{OrgAdmin, SignedIn, SiteAdmin};
use crate::credentials::PasswordHasher;
use crate::errors::{RepoError, Unexpected};
use crate::guard::Guard;
use crate::kernel::Kernel;
use crate::legacy::Legacy;
use crate::oidc_provider::ports::ClientRepo;
use crate::orgs::ports::OrgRepo;
use crate::policies::Policies;
use crate::second_factor::ports::SecondFactorRepo;
use crate::secret::OpaqueToken;

/// The domain of every bot's username: reserved (RFC 2606), so nothing is ever delivered to it.
pub const BOT_DOMAIN: &str = "bots.invalid";

#[derive(Debug, thiserror::Error)]
pub enum ApiTokenError {
    #[error(
        "The name must be 1 to 100 characters, without control or invisible formatting characters."
    )]
    BadName,
    #[error("The expiry must be between 1 and {0} days (the most your policy allows).")]
    BadLifetime(u32),
    #[error("There is no product with client id {0:?}.")]
    UnknownProduct(String),
    #[error("API tokens are turned off for this account by its authentication policy.")]
    NotAllowed,
    #[error("Verify your email address before creating API tokens.")]
    EmailNotVerified,
    #[error("For your security, sign in again to create an API token.")]
    SignInAgain,
    #[error("No account has this email.")]
    UnknownAccount,
    #[error("The account is not active.")]
    NotActive,
    #[error("No such API token.")]
    NotFound,
    /// Administrators make tokens for bots; people make their own.
    #[error(
        "Administrators create API tokens for bots only; people create their own on their security page."
    )]
    NotABot,
    #[error("There is no organization {0:?}.")]
    UnknownOrg(String),
    /// An organization admin named an account the organization does not manage.
    #[error("No such managed account.")]
    NotManaged,
    #[error(
        "This account is a site administrator or administers another organization; only site administrators can change its tokens."
    )]
    Protected,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for ApiTokenError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// A token with what its owner and admins see about it.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub token: ApiToken,
    pub state: TokenState,
    /// The earlier of its own expiry and its policy's cap.
    pub expires_at: crate::clock::Timestamp,
    /// The products it is restricted to, by client id and name (empty: every product).
    pub products: Vec<(String, String)>,
    /// The owner's address (the username to use with it).
    pub owner: String,
}

impl TokenView {
    /// What the CLI and admin API print: never the secret or its hash.
    pub fn summary(&self) -> serde_json::Value {
        let t = &self.token;
        serde_json::json!({
            "id": t.id,
            "name": t.name,
            "email": self.owner,
            "state": self.state,
            "created_at": t.created_at.rfc3339(),
            "expires_at": self.expires_at.rfc3339(),
            "revoked_at": t.revoked_at.map(crate::clock::Timestamp::rfc3339),
            "last_used_at": t.last_used_at.map(crate::clock::Timestamp::rfc3339),
            "last_used_ip": t.last_used_ip,
            "products": self.products.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        })
    }
}

/// The ports the service uses.
pub struct ApiTokenPorts {
    pub tokens: Arc<dyn ApiTokenRepo>,
    pub accounts: Arc<dyn AccountRepo>,
    pub clients: Arc<dyn ClientRepo>,
    pub orgs: Arc<dyn OrgRepo>,
    pub second_factor: Arc<dyn SecondFactorRepo>,
}

/// Who makes a bot.
pub enum BotOwner<'a> {
    /// A site admin, for an organization (by id) or for the site.
    Site(&'a SiteAdmin, Option<&'a str>),
    Org(&'a OrgAdmin),
}

#[derive(Clone)]
pub struct ApiTokens {
    repo: Arc<dyn ApiTokenRepo>,
    accounts: Arc<dyn AccountRepo>,
    clients: Arc<dyn ClientRepo>,
    orgs: Arc<dyn OrgRepo>,
    factors: Arc<dyn SecondFactorRepo>,
    guard: Guard,
    policies: Policies,
    hasher: PasswordHasher,
    audit: Audit,
    kernel: Kernel,
    legacy: Legacy,
    uses: Arc<usage::UseCounter>,
    cache: Arc<cache::TokenCache>,
}

impl ApiTokens {
    pub fn new(
        ports: ApiTokenPorts,
        guard: Guard,
        policies: Policies,
        hasher: PasswordHasher,
        audit: Audit,
        kernel: Kernel,
        legacy: Legacy,
    ) -> Self {
        Self {
            repo: ports.tokens,
            accounts: ports.accounts,
            clients: ports.clients,
            orgs: ports.orgs,
            factors: ports.second_factor,
            guard,
            policies,
            hasher,
            audit,
            kernel,
            legacy,
            uses: Arc::default(),
            cache: Arc::default(),
        }
    }

    /// A signed-in person's own token: needs a verified address and a recent sign-in; the
    /// owner is emailed.
    pub async fn create_own(
        &self,
        signed_in: &SignedIn,
        request: &TokenRequest,
    ) -> Result<(TokenView, String), ApiTokenError> {
        if !self.guard.sign_in_is_recent(signed_in) {
            return Err(ApiTokenError::SignInAgain);
        }
        let account = signed_in.account();
        self.create_for(Actor::Person(account), account, request, None).await
    }

    /// The operator's or a site admin's token for any account (a bot's, usually).
    pub async fn create_as_site_admin(
        &self,
        admin: &SiteAdmin,
        email: &Email,
        request: &TokenRequest,
    ) -> Result<(TokenView, String), ApiTokenError> {
        let account = self.account_by_email(email).await?;
        self.create_for(Actor::Site(admin), &account, request, admin.actor()).await
    }

    /// A site admin's token for a bot (the console): never for a person, whom it would let the
    /// admin impersonate towards products.
    pub async fn create_for_bot_as_site_admin(
        &self,
        admin: &SiteAdmin,
        email: &Email,
        request: &TokenRequest,
    ) -> Result<(TokenView, String), ApiTokenError> {
        let account = self.account_by_email(email).await?;
        if !account.bot {
            return Err(ApiTokenError::NotABot);
        }
        self.create_for(Actor::Site(admin), &account, request, admin.actor()).await
    }

    /// Makes a token for an account whose authority the caller has already established.
    pub(crate) async fn create_for(
        &self,
        actor: Actor<'_>,
        account: &Account,
        request: &TokenRequest,
        created_by: Option<&AccountId>,
    ) -> Result<(TokenView, String), ApiTokenError> {
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > 100 || crate::text::has_hidden_or_control(name)
        {
            return Err(ApiTokenError::BadName);
        }
        if !account.is_active() {
            return Err(ApiTokenError::NotActive);
        }
        if !account.bot && !account.email_verified() {
            return Err(ApiTokenError::EmailNotVerified);
        }
        let settings = self.policies.for_account(account).await?.settings;
        if !settings.api_tokens {
            return Err(ApiTokenError::NotAllowed);
        }
        let max = settings.api_token_max_days;
        let days = request.expires_days.unwrap_or(DEFAULT_LIFETIME_DAYS.min(max));
        if days == 0 || days > max {
            return Err(ApiTokenError::BadLifetime(max));
        }
        let products = self.known_products(&request.products).await?;
        let now = self.kernel.now();
        let secret = OpaqueToken::generate(self.kernel.rng());
        let token = ApiToken {
            id: self.kernel.new_id(now),
            account: account.id.clone(),
            name: name.to_owned(),
            products: products.iter().map(|(id, _)| id.clone()).collect(),
            created_by: created_by.filter(|by| **by != account.id).cloned(),
            created_at: now,
            expires_at: now.plus_secs(i64::from(days) * 24 * 3600),
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
        };
        self.repo.insert(&token, &secret.hash()).await?;
        tracing::info!(account = %account.id, token = %token.id, "API token created");
        let record = Record::new("api_token.created", actor).target(account).details(
            serde_json::json!({ "token": token.id, "name": token.name, "days": days, "products": token.products }),
        );
        self.audit.record(record).await;
        if !account.bot {
            let what = format!(
                "An API token named \"{}\" was created for your account. If this wasn't you, revoke it on your security page and change your password.",
                token.name
            );
            let link = self.kernel.link("/account/security");
            self.kernel
                .send_mail(|brand| {
                    crate::mail::security_changed(
                        brand,
                        &account.email,
                        account.name.as_str(),
                        &what,
                        &link,
                    )
                })
                .await;
        }
        let view = TokenView {
            state: TokenState::Active,
            expires_at: token.expires_at,
            products,
            owner: account.email.as_str().to_owned(),
            token,
        };
        Ok((view, model::display_token(&secret)))
    }

    /// The requested products, each known, as (client id, name), without repeats.
    async fn known_products(
        &self,
        requested: &[String],
    ) -> Result<Vec<(String, String)>, ApiTokenError> {
        if requested.is_empty() {
            return Ok(Vec::new());
        }
        let clients = self.clients.list().await?;
        let mut out: Vec<(String, String)> = Vec::new();
        for id in requested {
            let id = id.trim();
            let client = clients
                .iter()
                .find(|c| c.id == id)
                .ok_or_else(|| ApiTokenError::UnknownProduct(id.chars().take(80).collect()))?;
            if !out.iter().any(|(known, _)| known == id) {
                out.push((client.id.clone(), client.name.clone()));
            }
        }
        Ok(out)
    }

    async fn account_by_email(&self, email: &Email) -> Result<Account, ApiTokenError> {
        self.accounts.find_by_email(email).await?.ok_or(ApiTokenError::UnknownAccount)
    }

    /// Products a person may restrict a token to: every registered product, by id and name.
    pub async fn products(&self) -> Result<Vec<(String, String)>, RepoError> {
        Ok(self.clients.list().await?.into_iter().map(|c| (c.id, c.name)).collect())
    }

    pub async fn list_own(&self, signed_in: &SignedIn) -> Result<Vec<TokenView>, RepoError> {
        self.list_for(std::slice::from_ref(signed_in.account())).await
    }

    pub async fn list_as_site_admin(
        &self,
        _admin: &SiteAdmin,
        email: &Email,
    ) -> Result<Vec<TokenView>, ApiTokenError> {
        let account = self.account_by_email(email).await?;
        Ok(self.list_for(std::slice::from_ref(&account)).await?)
    }

    /// The tokens of accounts whose authority the caller has already established.
    pub(crate) async fn list_for(&self, accounts: &[Account]) -> Result<Vec<TokenView>, RepoError> {
        let ids: Vec<AccountId> = accounts.iter().map(|a| a.id.clone()).collect();
        let tokens = self.repo.list_for_accounts(&ids).await?;
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let clients = self.clients.list().await?;
        let now = self.kernel.now();
        let mut out = Vec::with_capacity(tokens.len());
        for token in tokens {
            let Some(owner) = accounts.iter().find(|a| a.id == token.account) else { continue };
            let max = self.policies.for_account(owner).await?.settings.api_token_max_days;
            let products = token
                .products
                .iter()
                .map(|id| {
                    let name = clients.iter().find(|c| &c.id == id).map_or(id, |c| &c.name);
                    (id.clone(), name.clone())
                })
                .collect();
            out.push(TokenView {
                state: TokenState::of(&token, max, now),
                expires_at: token.effective_expiry(max),
                products,
                owner: owner.email.as_str().to_owned(),
                token,
            });
        }
        Ok(out)
    }

    pub async fn revoke_own(&self, signed_in: &SignedIn, id: &str) -> Result<(), ApiTokenError> {
        let account = signed_in.account();
        self.revoke_for(Actor::Person(account), account, id).await
    }

    pub async fn revoke_as_site_admin(
        &self,
        admin: &SiteAdmin,
        email: &Email,
        id: &str,
    ) -> Result<(), ApiTokenError> {
        let account = self.account_by_email(email).await?;
        self.revoke_for(Actor::Site(admin), &account, id).await
    }

    /// Revokes one of the account's live tokens; effective at once on every node (nothing
    /// caches a token's verdict).
    pub(crate) async fn revoke_for(
        &self,
        actor: Actor<'_>,
        account: &Account,
        id: &str,
    ) -> Result<(), ApiTokenError> {
        if !self.repo.revoke(id, &account.id, self.kernel.now()).await? {
            return Err(ApiTokenError::NotFound);
        }
        self.cache.forget_token(id);
        tracing::info!(account = %account.id, token = %id, "API token revoked");
        let record = Record::new("api_token.revoked", actor)
            .target(account)
            .details(serde_json::json!({ "token": id }));
        self.audit.record(record).await;
        Ok(())
    }

    /// Revokes every token of an account being taken back by its owner.
    pub(crate) async fn revoke_all(&self, account: &AccountId) -> Result<u64, RepoError> {
        let revoked = self.repo.revoke_all(account, self.kernel.now()).await?;
        self.cache.forget_account(account);
        Ok(revoked)
    }

    /// The account was deactivated or closed here: its tokens' next verification on this node
    /// reads its new status (other nodes within [`CACHE_SECS`]).
    pub(crate) fn account_changed(&self, account: &AccountId) {
        self.cache.forget_account(account);
    }

    /// Creates a bot: a name, no mailbox (its username is on [`BOT_DOMAIN`]), no password.
    pub async fn create_bot(
        &self,
        owner: BotOwner<'_>,
        name: &str,
    ) -> Result<Account, ApiTokenError> {
        let name = DisplayName::parse(name).map_err(|_| ApiTokenError::BadName)?;
        let org = match &owner {
            BotOwner::Org(admin) => Some(admin.org().clone()),
            BotOwner::Site(_, Some(id)) => Some(
                self.orgs
                    .find_org(id)
                    .await?
                    .ok_or_else(|| ApiTokenError::UnknownOrg(id.chars().take(80).collect()))?,
            ),
            BotOwner::Site(_, None) => None,
        };
        let now = self.kernel.now();
        let mut attempt = 0;
        let bot = loop {
            let email = self.bot_username(&name)?;
            let bot = NewAccount {
                id: AccountId::from_stored(self.kernel.new_id(now)),
                email,
                name: name.clone(),
                password_hash: None,
                email_verified_at: None,
                site_admin: false,
                created_at: now,
            };
            match self.repo.insert_bot(&bot, org.as_ref().map(|o| o.id.as_str())).await {
                Ok(()) => break bot,
                Err(InsertAccountError::EmailTaken) if attempt < 3 => attempt += 1,
                Err(InsertAccountError::EmailTaken) => {
                    return Err(Unexpected::from(RepoError("no free bot username".into())).into());
                }
                Err(InsertAccountError::Unexpected(e)) => return Err(e.into()),
            }
        };
        let account = self.accounts.find_by_id(&bot.id).await?.ok_or_else(|| {
            ApiTokenError::Unexpected(RepoError("the new bot is missing".into()).into())
        })?;
        let actor = match &owner {
            BotOwner::Site(admin, _) => Actor::Site(admin),
            BotOwner::Org(admin) => Actor::Org(admin),
        };
        let mut record = Record::new("bot.created", actor).target(&account);
        if let Some(org) = &org {
            record = record.in_org(&org.id);
        }
        self.audit.record(record).await;
        tracing::info!(bot = %account.id, "bot created");
        Ok(account)
    }

    /// `<name>-<8 hex>@bots.invalid`: readable, unique, and never a real mailbox.
    fn bot_username(&self, name: &DisplayName) -> Result<Email, ApiTokenError> {
        let mut slug: String = name
            .as_str()
            .chars()
            .filter_map(|c| {
                if c.is_ascii_alphanumeric() {
                    Some(c.to_ascii_lowercase())
                } else if c == ' ' || c == '-' || c == '_' || c == '.' {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
        slug.truncate(40);
        if slug.is_empty() {
            slug.push_str("bot");
        }
        let mut bytes = [0u8; 4];
        self.kernel.rng().fill(&mut bytes);
        let suffix = bytes.iter().fold(String::new(), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        });
        Email::parse(&format!("{slug}-{suffix}@{BOT_DOMAIN}"))
            .map_err(|e| ApiTokenError::Unexpected(RepoError(e.to_string().into()).into()))
    }

    pub async fn list_bots_as_site_admin(
        &self,
        _admin: &SiteAdmin,
    ) -> Result<Vec<Account>, RepoError> {
        self.repo.list_bots(None).await
    }

    /// Every bot's tokens (the site console).
    pub async fn bot_tokens_as_site_admin(
        &self,
        _admin: &SiteAdmin,
    ) -> Result<Vec<TokenView>, RepoError> {
        let bots = self.repo.list_bots(None).await?;
        self.list_for(&bots).await
    }

    pub async fn list_org_bots(&self, admin: &OrgAdmin) -> Result<Vec<Account>, RepoError> {
        self.repo.list_bots(Some(&admin.org().id)).await
    }
}

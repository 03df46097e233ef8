//! Signing up: an unverified account and a verification email. The answer is the same whether
//! or not the address already has an account, so the form cannot be used to probe for one.

use crate::accounts::ports::InsertAccountError;
use crate::accounts::{AccountId, DisplayName, Email, NewAccount};
use crate::credentials::Password;
use crate::errors::Unexpected;
use crate::flows::Accounts;
use crate::guard::HashFailure;
use crate::guard::{RetryAfter, ip_key};

#[derive(Debug)]
pub struct SignUpRequest {
    pub email: Email,
    pub name: DisplayName,
    pub password: Password,
    pub ip: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    #[error("Too many sign-ups from your network. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("We are handling a lot of requests right now. Try again in a moment.")]
    Busy,
    /// The password breaks a rule of the policy the new account would be under. Decided by
    /// the password, the address's domain and the name alone, so it says nothing about
    /// whether the address has an account.
    #[error(transparent)]
    Rule(#[from] crate::policies::PasswordRuleError),
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

from_new_password_error!(SignUpError);

impl From<HashFailure> for SignUpError {
    fn from(e: HashFailure) -> Self {
        match e {
            HashFailure::Busy => Self::Busy,
            HashFailure::Unexpected(u) => Self::Unexpected(u),
        }
    }
}

impl From<crate::errors::RepoError> for SignUpError {
    fn from(e: crate::errors::RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

use super::mail_requests::MailRequest;
use crate::audit::{Actor, Record};

impl Accounts {
    /// Creates the account and emails a verification link; if the address is taken, emails its
    /// owner instead. Either way the caller learns only that a message is on its way.
    pub async fn sign_up(&self, req: SignUpRequest) -> Result<(), SignUpError> {
        let now = self.kernel.now();
        let policy = self.settings.throttle;
        let ip_key = ip_key("signup:ip:", &req.ip);
        let limits = [(ip_key.as_str(), policy.requests_per_ip)];
        if let Some(RetryAfter(secs)) =
            self.guard.count_against(&limits, policy.mail_window_secs, now).await?
        {
            return Err(SignUpError::Throttled(secs));
        }
        self.check_password_for_address(&req.email, req.name.as_str(), false, &req.password)
            .await?;
        // Hashed before we know whether the address is taken: both paths cost the same.
        let hash =
            self.hasher.hash(&req.password, self.kernel.rng()).await.map_err(HashFailure::from)?;
        let account = NewAccount {
            id: AccountId::from_stored(self.kernel.new_id(now)),
            email: req.email.clone(),
            name: req.name,
            password_hash: Some(crate::secret::Secret::new(hash)),
            email_verified_at: None,
            site_admin: false,
            created_at: now,
        };
        // Both paths: one insert attempt, one read, one audit event, one queued job (see
        // `mail_requests`), so the answer's timing does not tell whether the address is taken.
        let from = crate::sessions::ClientInfo { ip: req.ip.clone(), user_agent: String::new() };
        let job = match self.repo.insert(&account).await {
            Ok(()) => {
                tracing::info!(account = %account.id, "account created");
                if let Some(hash) = &account.password_hash {
                    self.policies.remember_password(&account.id, hash.expose()).await?;
                }
                if let Some(created) = self.repo.find_by_id(&account.id).await? {
                    let record = Record::new("account.created", Actor::Person(&created))
                        .target(&created)
                        .from(&from)
                        .details(serde_json::json!({ "method": "sign_up" }));
                    self.audit.record(record).await;
                }
                MailRequest::Verification { account: account.id.as_str().to_owned() }
            }
            Err(InsertAccountError::EmailTaken) => {
                let existing = self.repo.find_by_email(&req.email).await?;
                let record = Record::new("account.sign_up_refused", Actor::Anonymous)
                    .maybe_target(existing.as_ref())
                    .from(&from)
                    .details(serde_json::json!({ "reason": "address_taken" }));
                self.audit.record(record).await;
                MailRequest::SignUpTaken { email: req.email.as_str().to_owned() }
            }
            Err(InsertAccountError::Unexpected(e)) => return Err(Unexpected::from(e).into()),
        };
        self.queue_mail_request(&job).await?;
        Ok(())
    }
}

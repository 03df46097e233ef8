//! The sessions service: starting, resolving, listing and ending browser sessions.

use std::sync::Arc;

use crate::accounts::ports::AccountRepo;
use crate::accounts::{Account, AccountId};
use crate::audit::Audit;
use crate::authority::SignedIn;
use crate::errors::RepoError;
use crate::kernel::Kernel;
use crate::policies::{AuthMethod, Policies, SessionVerdict};
use crate::secret::OpaqueToken;
use crate::sessions::ports::{SessionEndListener, SessionRepo};
use crate::sessions::{ClientInfo, Session, SessionId};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

/// A freshly created session and the cookie value that carries it (shown once).
#[derive(Debug)]
pub struct NewSessionCookie {
    pub session: Session,
    pub token: OpaqueToken,
}

/// A finished sign-in: the account and its new session's cookie.
#[derive(Debug)]
pub struct LoginSuccess {
    pub account: crate::accounts::Account,
    pub cookie: NewSessionCookie,
}

/// `last_seen_at` is written at most this often, so reading a page is not a write.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The outcome of "sign out everywhere".
#[derive(Debug, Clone)]
pub struct SignedOutEverywhere {
    pub sessions: u64,
    /// For `OidcProvider::sign_out_report`; `None` when no product had to be told.
    pub receipt: Option<String>,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetimes {
    /// Absolute lifetime of a browser session.
    pub absolute_secs: i64,
    /// A session unused for this long ends.
    pub idle_secs: i64,
}

#[derive(Clone)]
pub struct Sessions {
    repo: Arc<dyn SessionRepo>,
    accounts: Arc<dyn AccountRepo>,
    listener: Arc<dyn SessionEndListener>,
    policies: Policies,
    audit: Audit,
    kernel: Kernel,
    lifetimes: SessionLifetimes,
}

impl Sessions {
    pub fn new(
        repo: Arc<dyn SessionRepo>,
        accounts: Arc<dyn AccountRepo>,
        listener: Arc<dyn SessionEndListener>,
        policies: Policies,
        audit: Audit,
        kernel: Kernel,
        lifetimes: SessionLifetimes,
    ) -> Self {
        Self { repo, accounts, listener, policies, audit, kernel, lifetimes }
    }

    /// Starts a session for `account`, signed in by `amr`; it lasts what the account's
    /// policy allows (within the site's own cap). Signing in again in a browser that had a
    /// session replaces it: `replacing` (that browser's session, of whichever account) ends
    /// first.
    pub(crate) async fn start_session(
        &self,
        account: &Account,
        client: ClientInfo,
        replacing: Option<&SignedIn>,
        amr: Vec<AuthMethod>,
    ) -> Result<NewSessionCookie, RepoError> {
        if let Some(old) = replacing {
            self.end_session(&old.account().id, &old.session().id)
                .await
                .map_err(|SessionError::Unexpected(e)| e)?;
        }
        let now = self.kernel.now();
        let token = OpaqueToken::generate(self.kernel.rng());
        let policy = self.policies.for_account(account).await?;
        let lifetime = self.lifetimes.absolute_secs.min(policy.settings.session_max_secs());
        let session = Session {
            id: SessionId::from_stored(self.kernel.new_id(now)),
            token_hash: token.hash(),
            account: account.id.clone(),
            client,
            created_at: now,
            last_seen_at: now,
            expires_at: now.plus_secs(lifetime),
            amr,
        };
        self.repo.insert(&session).await?;
        Ok(NewSessionCookie { session, token })
    }

    /// Resolves a cookie to its session and account. Expired sessions, idle sessions and
    /// sessions of accounts that are no longer active resolve to nothing (and are removed).
    pub async fn resolve_session(
        &self,
        cookie_value: &str,
    ) -> Result<Option<SignedIn>, SessionError> {
        let Some(token) = OpaqueToken::parse(cookie_value) else {
            return Ok(None);
        };
        let Some((session, account)) = self.repo.find_by_token_hash(&token.hash()).await? else {
            return Ok(None);
        };
        let now = self.kernel.now();
        let idle_deadline = session.last_seen_at.plus_secs(self.lifetimes.idle_secs);
        let ended = now >= session.expires_at || now >= idle_deadline || !account.is_active();
        let verdict = if ended {
            SessionVerdict::TooOld
        } else {
            let policy = self.policies.for_account(&account).await?;
            policy.session_verdict(
                &account,
                session.created_at,
                session.last_seen_at,
                &session.amr,
                now,
            )
        };
        // Too old or idle under the policy: the session ends. A password to renew or a factor
        // to set up does not end it: the person keeps their own pages (where they can do just
        // that), and the next product sign-in asks them to sign in again and take the steps.
        if matches!(verdict, SessionVerdict::TooOld | SessionVerdict::Idle) {
            self.repo.delete(&account.id, &session.id).await?;
            if !ended {
                tracing::info!(account = %account.id, ?verdict, "session ended by policy");
            }
            return Ok(None);
        }
        if session.last_seen_at.secs_until(now) >= TOUCH_INTERVAL_SECS {
            self.repo.touch(&session.id, now).await?;
        }
        Ok(Some(SignedIn::new(session, account)))
    }

    pub async fn list_sessions(&self, account: &AccountId) -> Result<Vec<Session>, SessionError> {
        let now = self.kernel.now();
        let mut sessions = self.repo.list_for_account(account).await?;
        sessions.retain(|s| {
            now < s.expires_at && now < s.last_seen_at.plus_secs(self.lifetimes.idle_secs)
        });
        Ok(sessions)
    }

    /// Ends one of the account's own sessions; false if it was not (or no longer) there.
    pub async fn end_session(
        &self,
        account: &AccountId,
        session: &SessionId,
    ) -> Result<bool, SessionError> {
        let ended = self.repo.delete(account, session).await?;
        if ended {
            self.listener.sessions_ended(std::slice::from_ref(session)).await?;
            if let Some(who) = self.accounts.find_by_id(account).await? {
                let record = crate::audit::Record::new("logout", crate::audit::Actor::Person(&who))
                    .target(&who)
                    .details(serde_json::json!({ "session": session.as_str() }));
                self.audit.record(record).await;
            }
        }
        Ok(ended)
    }

    /// Ends one session for a site admin (audited by the caller, not as the person's logout).
    pub async fn end_sessions_by_admin(
        &self,
        account: &AccountId,
        session: &SessionId,
    ) -> Result<bool, SessionError> {
        let ended = self.repo.delete(account, session).await?;
        if ended {
            self.listener.sessions_ended(std::slice::from_ref(session)).await?;
        }
        Ok(ended)
    }

    /// "Sign out everywhere": ends every session of the account, the current one included,
    /// and logs it out of every product.
    /// "Sign out everywhere": every session ends, and the receipt (if products were told)
    /// lets the person watch which of them confirmed.
    pub async fn end_all_sessions(
        &self,
        account: &AccountId,
    ) -> Result<SignedOutEverywhere, SessionError> {
        let (sessions, deliveries) = self.end_sessions_except(account, None).await?;
        if let Some(who) = self.accounts.find_by_id(account).await? {
            let record = crate::audit::Record::new("logout", crate::audit::Actor::Person(&who))
                .target(&who)
                .details(serde_json::json!({ "everywhere": true, "sessions": sessions }));
            self.audit.record(record).await;
        }
        Ok(SignedOutEverywhere { sessions, receipt: self.listener.receipt(&deliveries) })
    }

    /// Ends every session of the account but `keep`; products signed in under them are
    /// logged out on their back-channel. Returns how many ended, and the deliveries queued.
    pub(crate) async fn end_sessions_except(
        &self,
        account: &AccountId,
        keep: Option<&SessionId>,
    ) -> Result<(u64, Vec<String>), SessionError> {
        let ended = self.repo.delete_all_for_account(account, keep).await?;
        let deliveries = self.listener.sessions_ended(&ended).await?;
        Ok((u64::try_from(ended.len()).unwrap_or(u64::MAX), deliveries))
    }

    /// Housekeeping run by the background job.
    pub async fn purge_expired_sessions(&self) -> Result<u64, SessionError> {
        let now = self.kernel.now();
        let idle_before = now.plus_secs(-self.lifetimes.idle_secs);
        Ok(self.repo.delete_expired(now, idle_before).await?)
    }
}

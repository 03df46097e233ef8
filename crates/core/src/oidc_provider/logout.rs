//! Single logout. When a Latchkey session ends — logout, "sign out everywhere", a password
//! change or reset, deactivation — every product signed in under it gets a signed logout
//! token on its back-channel (Back-Channel Logout 1.0 with its errata), delivered through the
//! durable outbox: retried with backoff, dead-lettered after a bounded time, never blocking
//! the person. RP-initiated logout (RP-Initiated Logout 1.0) is planned here too.

use std::collections::BTreeMap;

use latchkey_protocol::oidc::IdTokenClaims;
use serde::{Deserialize, Serialize};

use crate::errors::{RepoError, RepoResult};
use crate::oidc_provider::OidcProvider;
use crate::oidc_provider::ports::LogoutNotifier;
use crate::outbox::DeliveryReport;
use crate::outbox::ports::NewOutboxItem;
use crate::sessions::SessionId;
use crate::sessions::ports::SessionEndListener;

pub const BACKCHANNEL_KIND: &str = crate::outbox::BACKCHANNEL_LOGOUT_KIND;
/// About an hour and a half of retries in all; a logout that late has lost its point.
const BACKOFF_SECS: [i64; 6] = [5, 30, 120, 600, 1800, 3600];
/// Logout tokens are short-lived (the errata make `exp` required).
const LOGOUT_TOKEN_TTL_SECS: i64 = 120;
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Debug, Serialize, Deserialize)]
struct PendingLogout {
    client_id: String,
    uri: String,
    sid: String,
    sub: String,
}

#[derive(Debug, Serialize)]
struct LogoutTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    sid: &'a str,
    events: BTreeMap<&'static str, serde_json::Value>,
}

/// Where an RP-initiated logout ends up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSessionPlan {
    /// The registered post-logout redirect URI with `state`, if the product asked for one.
    pub redirect: Option<String>,
    /// The Latchkey session the product's `id_token_hint` names.
    pub hinted_session: Option<String>,
}

impl OidcProvider {
    /// Revokes what products hold under these sessions and queues a logout token for each
    /// product that registered a back-channel logout URI; returns the queued deliveries' ids.
    pub(crate) async fn log_out_products(
        &self,
        sessions: &[SessionId],
    ) -> Result<Vec<String>, RepoError> {
        let now = self.kernel.now();
        let mut queued = Vec::new();
        for session in sessions {
            let grants = self.repo.grants_for_session(session).await?;
            let mut notified: Vec<&str> = Vec::new();
            for grant in &grants {
                self.revoke_grant(&grant.id).await?;
                if notified.contains(&grant.client_id.as_str()) {
                    continue;
                }
                notified.push(&grant.client_id);
                let Some(client) = self.find_client(&grant.client_id).await? else { continue };
                let Some(uri) = client.backchannel_logout_uri.clone() else { continue };
                let pending = PendingLogout {
                    client_id: client.id.clone(),
                    uri: uri.clone(),
                    sid: session.as_str().to_owned(),
                    sub: grant.account.as_str().to_owned(),
                };
                let payload =
                    serde_json::to_string(&pending).map_err(|e| RepoError(Box::new(e)))?;
                let id = self.kernel.new_id(now);
                queued.push(id.clone());
                self.kernel
                    .outbox
                    .enqueue(&NewOutboxItem {
                        id,
                        kind: BACKCHANNEL_KIND,
                        recipient: uri,
                        summary: client.name.clone(),
                        payload,
                        created_at: now,
                    })
                    .await?;
            }
        }
        Ok(queued)
    }

    /// Delivers due logout tokens. Every node runs it; leases keep deliveries single.
    pub async fn deliver_due_logouts(
        &self,
        notifier: &dyn LogoutNotifier,
    ) -> Result<DeliveryReport, RepoError> {
        self.kernel
            .outbox
            .drain(BACKCHANNEL_KIND, &BACKOFF_SECS, |item| async move {
                let pending: PendingLogout = serde_json::from_str(&item.payload)
                    .map_err(|e| format!("unreadable item: {e}"))?;
                let client = self
                    .find_client(&pending.client_id)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("the product no longer exists")?;
                let now = self.kernel.now();
                let claims = LogoutTokenClaims {
                    iss: self.kernel.public_url(),
                    sub: &pending.sub,
                    aud: &client.id,
                    iat: now.unix(),
                    exp: now.unix() + LOGOUT_TOKEN_TTL_SECS,
                    jti: self.new_jti(),
                    sid: &pending.sid,
                    events: BTreeMap::from([(EVENT, serde_json::json!({}))]),
                };
                let token = self
                    .state
                    .keys
                    .sign(
                        self.signing_keys.as_ref(),
                        now,
                        client.id_token_alg,
                        "logout+jwt",
                        &claims,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                notifier.notify(&pending.uri, &token).await
            })
            .await
    }

    /// The products signed in under each of these sessions ("Tracker, Wiki"), by name, for
    /// `/account`: one list per session, in the order given, from one read of their grants.
    pub async fn products_in_sessions(
        &self,
        sessions: &[SessionId],
    ) -> Result<Vec<Vec<String>>, RepoError> {
        let grants = self.repo.grants_for_sessions(sessions).await?;
        let mut names: Vec<Vec<String>> = vec![Vec::new(); sessions.len()];
        for grant in grants {
            let Some(at) = sessions.iter().position(|s| *s == grant.session) else { continue };
            if let Some(client) = self.find_client(&grant.client_id).await?
                && !names[at].contains(&client.name)
            {
                names[at].push(client.name);
            }
        }
        for list in &mut names {
            list.sort();
        }
        Ok(names)
    }

    /// Recent back-channel deliveries (product, time, attempts, last error), newest first.
    pub async fn recent_logout_deliveries(
        &self,
        _admin: &crate::authority::SiteAdmin,
        limit: u32,
    ) -> Result<Vec<crate::outbox::ports::DeliveryRecord>, RepoError> {
        self.kernel.outbox.repo().list_recent(BACKCHANNEL_KIND, limit).await
    }

    /// Back-channel deliveries by status (pending, delivered, dead), for operators.
    pub async fn logout_delivery_status(&self) -> Result<Vec<(String, u64)>, RepoError> {
        self.kernel.outbox.repo().count_by_status(BACKCHANNEL_KIND).await
    }

    /// Checks an RP-initiated logout request (RP-Initiated Logout 1.0 §2–3): the hint must be an
    /// ID token we issued (expired ones are fine), and a post-logout redirect URI must be one
    /// registered for the product it names. `Err` carries a message for the person.
    pub async fn plan_end_session(
        &self,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<EndSessionPlan, String> {
        let now = self.kernel.now();
        let hint = match id_token_hint {
            Some(raw) => Some(
                self.state
                    .keys
                    .verify::<IdTokenClaims>(
                        self.signing_keys.as_ref(),
                        now,
                        raw,
                        "JWT",
                        self.kernel.public_url(),
                    )
                    .await
                    .map_err(|_| "the request could not be checked; try again".to_owned())?
                    .ok_or("the id_token_hint is not an ID token issued by Latchkey")?,
            ),
            None => None,
        };
        let client_id = match (hint.as_ref().map(|h| h.aud.as_str()), client_id) {
            (Some(a), Some(c)) if a != c => {
                return Err("client_id does not match the id_token_hint".into());
            }
            (Some(a), _) => Some(a),
            (None, c) => c,
        };
        let redirect = match post_logout_redirect_uri {
            None => None,
            Some(uri) => {
                let id = client_id
                    .ok_or("a post_logout_redirect_uri needs a client_id or an id_token_hint")?;
                let client = self
                    .find_client(id)
                    .await
                    .map_err(|_| "the request could not be checked; try again".to_owned())?
                    .ok_or("unknown client_id")?;
                if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
                    return Err(
                        "post_logout_redirect_uri is not registered for this product".into()
                    );
                }
                let mut url = url::Url::parse(uri)
                    .map_err(|_| "invalid post_logout_redirect_uri".to_owned())?;
                if let Some(state) = state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                Some(url.to_string())
            }
        };
        Ok(EndSessionPlan { redirect, hinted_session: hint.map(|h| h.sid) })
    }
}

/// What a sign-out receipt carries: the deliveries it queued, and until when it can be read.
#[derive(Serialize, Deserialize)]
struct Receipt {
    d: Vec<String>,
    exp: i64,
}

/// A receipt is readable for this long after signing out.
const RECEIPT_TTL_SECS: i64 = 3600;
/// At most this many deliveries are followed on the receipt page.
const RECEIPT_MAX: usize = 50;

impl OidcProvider {
    /// A sealed receipt for the back-channel deliveries a sign-out queued, so the person (no
    /// longer signed in) can watch which products confirmed. `None` when nothing was queued.
    pub(crate) fn sign_out_receipt(&self, deliveries: &[String]) -> Option<String> {
        if deliveries.is_empty() {
            return None;
        }
        let receipt = Receipt {
            d: deliveries.iter().take(RECEIPT_MAX).cloned().collect(),
            exp: self.kernel.now().plus_secs(RECEIPT_TTL_SECS).unix(),
        };
        self.state.receipts.seal(&serde_json::to_vec(&receipt).ok()?, self.kernel.rng())
    }

    /// The deliveries behind a receipt (product, status, attempts, last error); `None` for a
    /// receipt that is not ours or has expired.
    pub async fn sign_out_report(
        &self,
        receipt: &str,
    ) -> Result<Option<Vec<crate::outbox::ports::DeliveryRecord>>, RepoError> {
        let Some(plain) = self.state.receipts.open(receipt) else { return Ok(None) };
        let Ok(receipt) = serde_json::from_slice::<Receipt>(&plain) else { return Ok(None) };
        if self.kernel.now().unix() >= receipt.exp {
            return Ok(None);
        }
        Ok(Some(self.kernel.outbox.repo().find(&receipt.d).await?))
    }
}

/// Ending a session (sign-out, a password change, closure) logs its products out.
#[async_trait::async_trait]
impl SessionEndListener for OidcProvider {
    async fn sessions_ended(&self, ended: &[SessionId]) -> RepoResult<Vec<String>> {
        self.log_out_products(ended).await
    }

    fn receipt(&self, deliveries: &[String]) -> Option<String> {
        self.sign_out_receipt(deliveries)
    }
}

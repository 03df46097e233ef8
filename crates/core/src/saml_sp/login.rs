//! The sign-in through an identity provider: the AuthnRequest out (with its RelayState kept
//! here), the Response in at the ACS, and from a verified assertion to an account.

use latchkey_protocol::saml::request::AuthnRequest;
use latchkey_protocol::saml::response::{self, Assertion, Expectations};

use super::{CLOCK_SKEW_SECS, LOGIN_TTL_SECS, SamlConnection, SamlSp};
use crate::accounts::{Account, AccountId, DisplayName, Email, NewAccount};
use crate::audit::{Actor, Outcome, Record};
use crate::authority::SignedIn;
use crate::errors::{RepoError, Unexpected};
use crate::policies::model::AuthMethod;
use crate::return_to::ReturnTo;
use crate::saml_sp::model::PendingSamlLogin;
use crate::second_factor::BeginSignIn;
use crate::secret::OpaqueToken;
use crate::sessions::model::ClientInfo;

/// What the ACS did.
pub enum SamlLogin {
    /// A sign-in began (a session, or a pending login's next step); then `next`.
    SignedIn(BeginSignIn, ReturnTo),
    /// A "test connection" run: nobody was signed in.
    Tested(TestReport),
}

/// What "test connection" shows the admin.
#[derive(Debug, Clone)]
pub struct TestReport {
    pub connection: String,
    /// Where the console page of the connection is.
    pub next: ReturnTo,
    pub outcome: Result<TestedAssertion, String>,
}

#[derive(Debug, Clone)]
pub struct TestedAssertion {
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub attributes: Vec<(String, Vec<String>)>,
    /// What a real sign-in would do with it.
    pub verdict: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SamlLoginError {
    #[error("there is no such SAML connection")]
    UnknownConnection,
    /// Refused, with the reason (audited; shown to the person).
    #[error("{0}")]
    Refused(String),
    #[error("this account is deactivated")]
    Deactivated,
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl From<RepoError> for SamlLoginError {
    fn from(e: RepoError) -> Self {
        Self::Unexpected(e.into())
    }
}

fn refused(reason: impl Into<String>) -> SamlLoginError {
    SamlLoginError::Refused(reason.into())
}

impl SamlSp {
    /// The connection answering for an address's domain, if any (home-realm discovery).
    pub async fn connection_for_email(
        &self,
        email: &Email,
    ) -> Result<Option<SamlConnection>, RepoError> {
        self.repo.connection_for_domain(&email.domain().to_ascii_lowercase()).await
    }

    /// Whether any organization has SAML configured (the login page then asks for the
    /// email first).
    pub async fn configured_anywhere(&self) -> Result<bool, RepoError> {
        self.repo.any_connection().await
    }

    pub async fn find_connection(&self, id: &str) -> Result<Option<SamlConnection>, RepoError> {
        self.repo.find_connection(id).await
    }

    /// Starts an SP-initiated login: the URL to send the browser to. The login in flight is
    /// kept here behind a single-use RelayState (the IdP's cross-site POST back carries no
    /// `SameSite` cookie), bound to this connection and to the AuthnRequest's ID.
    pub async fn begin_login(
        &self,
        connection: &SamlConnection,
        next: &ReturnTo,
        test: bool,
    ) -> Result<String, SamlLoginError> {
        let now = self.kernel.now();
        let relay = self.kernel.new_opaque_token();
        let request_id = format!("_{}", self.kernel.new_opaque_token().expose());
        let pending = PendingSamlLogin {
            connection_id: connection.id.clone(),
            request_id: request_id.clone(),
            next: next.as_str().to_owned(),
            test,
            expires_at: now.plus_secs(LOGIN_TTL_SECS),
        };
        self.repo.insert_pending(&relay.hash(), &pending, now).await?;
        let (entity_id, acs) = self.sp_endpoints(connection);
        let instant = now.rfc3339();
        let request = AuthnRequest {
            id: &request_id,
            issue_instant: &instant,
            sp_entity_id: &entity_id,
            acs_url: &acs,
            idp_sso_url: &connection.sso_url,
            force_authn: test,
        };
        let url = if connection.sign_requests {
            let connection = self.keyed(connection.clone()).await?;
            let key = connection.sp_key.as_ref().ok_or_else(|| Unexpected("no SP key".into()))?;
            request.signed_redirect_url(relay.expose(), &|octets| self.state.sign(key, octets))
        } else {
            request.redirect_url(relay.expose())
        };
        let url = url.map_err(|e| SamlLoginError::Unexpected(Unexpected(e.into())))?;
        Ok(url.to_string())
    }

    /// The ACS: checks the response, takes the login in flight, and signs the person in (or
    /// reports, for "test connection"). Every refusal is audited with its reason.
    pub async fn consume(
        &self,
        connection_id: &str,
        saml_response: &str,
        relay_state: &str,
        client: ClientInfo,
        replacing: Option<&SignedIn>,
    ) -> Result<SamlLogin, SamlLoginError> {
        let connection = self
            .repo
            .find_connection(connection_id)
            .await?
            .ok_or(SamlLoginError::UnknownConnection)?;
        let relay = OpaqueToken::parse(relay_state.trim());
        let now = self.kernel.now();
        let pending = match &relay {
            Some(r) => self.repo.find_pending(&r.hash(), &connection.id, now).await?,
            None => None,
        };
        let test = pending.as_ref().is_some_and(|p| p.test);
        let verified =
            self.verify(&connection, saml_response, relay.as_ref(), pending.as_ref()).await;
        if test {
            let next = pending
                .as_ref()
                .and_then(|p| ReturnTo::parse(&p.next))
                .unwrap_or_else(ReturnTo::account);
            return Ok(SamlLogin::Tested(self.report(&connection, verified, next).await));
        }
        let result = match verified {
            Ok(assertion) => {
                self.sign_in(&connection, &assertion, pending.as_ref(), &client, replacing).await
            }
            Err(e) => Err(e),
        };
        if let Err(e @ (SamlLoginError::Refused(_) | SamlLoginError::Deactivated)) = &result {
            self.audit_refusal(&connection, &e.to_string(), &client).await;
        }
        result
    }

    /// The checks, the single use of the login in flight, and the replay store.
    async fn verify(
        &self,
        connection: &SamlConnection,
        saml_response: &str,
        relay: Option<&OpaqueToken>,
        pending: Option<&PendingSamlLogin>,
    ) -> Result<Assertion, SamlLoginError> {
        if pending.is_none() && !connection.allow_idp_initiated {
            return Err(refused(if relay.is_some() {
                "the sign-in this answers is unknown, already used or expired; start again"
            } else {
                "IdP-initiated sign-in is off for this connection; start from the Latchkey login page"
            }));
        }
        let (sp_entity_id, acs_url) = self.sp_endpoints(connection);
        let now = self.kernel.now();
        let decryption_key =
            connection.sp_key.as_ref().map(|k| self.state.decryption_key(k)).transpose()?;
        let expect = Expectations {
            idp_entity_id: &connection.idp_entity_id,
            sp_entity_id: &sp_entity_id,
            acs_url: &acs_url,
            in_response_to: pending.map(|p| p.request_id.as_str()),
            now: now.unix(),
            skew_secs: CLOCK_SKEW_SECS,
            certificates: &connection.certificates,
            allow_sha1: connection.allow_sha1,
            decryption_key: decryption_key.as_ref(),
        };
        let xml = response::decode_post(saml_response).map_err(|e| refused(e.to_string()))?;
        let assertion = response::verify(&xml, &expect, self.verifier.as_ref())
            .map_err(|e| refused(e.to_string()))?;
        if let (Some(relay), Some(pending)) = (relay, pending)
            && !self
                .repo
                .take_pending(&relay.hash(), &connection.id, &pending.request_id, now)
                .await?
        {
            return Err(refused("this sign-in was already used"));
        }
        let keep_until =
            crate::clock::Timestamp::from_unix(assertion.replayable_until + CLOCK_SKEW_SECS);
        if !self.repo.remember_assertion(&connection.id, &assertion.id, keep_until).await? {
            return Err(refused(format!("assertion {} was already used (a replay)", assertion.id)));
        }
        Ok(assertion)
    }

    /// From a verified assertion to an account of the organization, then the usual sign-in.
    async fn sign_in(
        &self,
        connection: &SamlConnection,
        assertion: &Assertion,
        pending: Option<&PendingSamlLogin>,
        client: &ClientInfo,
        replacing: Option<&SignedIn>,
    ) -> Result<SamlLogin, SamlLoginError> {
        let account = self.account_for(connection, assertion).await?;
        if !account.is_active() {
            return Err(SamlLoginError::Deactivated);
        }
        let record = Record::new("login", Actor::Person(&account))
            .target(&account)
            .from(client)
            .in_org(&connection.org_id)
            .details(serde_json::json!({ "method": "saml", "connection": connection.id, "name_id": assertion.name_id }));
        self.audit.record(record).await;
        let next = match (pending, &connection.landing_client) {
            (Some(p), _) => ReturnTo::parse(&p.next).unwrap_or_else(ReturnTo::account),
            // IdP-initiated: the product the connection names, through `/launch/<client>`.
            (None, Some(client)) => ReturnTo::parse(&format!(
                "/launch/{}",
                url::form_urlencoded::byte_serialize(client.as_bytes()).collect::<String>()
            ))
            .unwrap_or_else(ReturnTo::account),
            (None, None) => ReturnTo::account(),
        };
        let begun = self
            .second_factor
            .begin_sign_in(&account, client, &next, replacing, vec![AuthMethod::Federated])
            .await?;
        tracing::info!(account = %account.id, connection = %connection.id, outcome = "success", method = "saml", "login");
        Ok(SamlLogin::SignedIn(begun, next))
    }

    /// The account an assertion stands for: the linked identity, else the managed account with
    /// its email (linked now), else one created just in time when the connection allows it.
    /// Only ever an account on the connection's domains that the organization still holds
    /// verified, and never a site admin.
    async fn account_for(
        &self,
        connection: &SamlConnection,
        assertion: &Assertion,
    ) -> Result<Account, SamlLoginError> {
        let person = connection.mapping.apply(assertion);
        let email = Email::parse(&person.email).map_err(|_| {
            refused(format!("the assertion's email {:?} is not an address", person.email))
        })?;
        self.check_domain(connection, &email).await?;
        let provider = connection.provider();
        let now = self.kernel.now();
        let account = if let Some(id) =
            self.repo.find_identity(&provider, &assertion.name_id).await?
        {
            self.linked(connection, &id).await?
        } else {
            let account = match self.accounts.find_by_email(&email).await? {
                Some(account) => account,
                None if connection.jit => {
                    self.create_just_in_time(connection, &email, person.name.as_deref()).await?
                }
                None => {
                    return Err(refused(format!(
                        "there is no account for {email}, and this connection does not create accounts"
                    )));
                }
            };
            if !self.repo.link_identity(&provider, &assertion.name_id, &account.id, now).await? {
                return Err(refused("this identity is linked to another account"));
            }
            account
        };
        if account.site_admin {
            return Err(refused(
                "site administrators sign in with their own credentials, never through an organization's identity provider",
            ));
        }
        if !account.email_verified() {
            // The organization holds the domain and its IdP vouches for the address.
            self.accounts.mark_email_verified(&account.id, now).await?;
        }
        Ok(account)
    }

    async fn linked(
        &self,
        connection: &SamlConnection,
        id: &AccountId,
    ) -> Result<Account, SamlLoginError> {
        let account = self
            .accounts
            .find_by_id(id)
            .await?
            .ok_or_else(|| refused("the linked account is gone"))?;
        self.check_domain(connection, &account.email).await?;
        Ok(account)
    }

    /// The address is on one of the connection's domains, and the organization still holds
    /// that domain verified.
    async fn check_domain(
        &self,
        connection: &SamlConnection,
        email: &Email,
    ) -> Result<(), SamlLoginError> {
        let domain = email.domain().to_ascii_lowercase();
        let owner = self.orgs.verified_owner(&domain).await?;
        if !connection.answers_for(&domain) || owner.is_none_or(|o| o.id != connection.org_id) {
            return Err(refused(format!(
                "{email} is not on a verified domain this connection answers for"
            )));
        }
        Ok(())
    }

    async fn create_just_in_time(
        &self,
        connection: &SamlConnection,
        email: &Email,
        name: Option<&str>,
    ) -> Result<Account, SamlLoginError> {
        let now = self.kernel.now();
        let name = name
            .and_then(|n| DisplayName::parse(n).ok())
            .unwrap_or_else(|| DisplayName::from_email(email));
        let new = NewAccount {
            id: AccountId::from_stored(self.kernel.new_id(now)),
            email: email.clone(),
            name,
            password_hash: None,
            email_verified_at: Some(now),
            site_admin: false,
            created_at: now,
        };
        // A concurrent first login may have created it: then it is simply found.
        let _ = self.accounts.insert(&new).await;
        let account = self
            .accounts
            .find_by_email(email)
            .await?
            .ok_or_else(|| refused("the account could not be created"))?;
        if account.id == new.id {
            let record = Record::new("account.created", Actor::System)
                .target(&account)
                .in_org(&connection.org_id)
                .details(serde_json::json!({ "via": "saml", "connection": connection.id }));
            self.audit.record(record).await;
        }
        Ok(account)
    }

    async fn audit_refusal(&self, connection: &SamlConnection, reason: &str, client: &ClientInfo) {
        tracing::info!(connection = %connection.id, outcome = "refused", reason, method = "saml", "login");
        let record = Record::new("saml.login_refused", Actor::Anonymous)
            .outcome(Outcome::Refused)
            .in_org(&connection.org_id)
            .from(client)
            .about(format!("SAML connection {}", connection.name))
            .details(serde_json::json!({ "connection": connection.id, "reason": reason }));
        self.audit.record(record).await;
    }

    async fn report(
        &self,
        connection: &SamlConnection,
        verified: Result<Assertion, SamlLoginError>,
        next: ReturnTo,
    ) -> TestReport {
        let outcome = match verified {
            Ok(assertion) => {
                let person = connection.mapping.apply(&assertion);
                let verdict = match Email::parse(&person.email) {
                    Err(_) => format!("refused: the email {:?} is not an address", person.email),
                    Ok(email) => match self.check_domain(connection, &email).await {
                        Err(e) => format!("refused: {e}"),
                        Ok(()) => format!("accepted: {email} would be signed in"),
                    },
                };
                Ok(TestedAssertion {
                    name_id: assertion.name_id,
                    name_id_format: assertion.name_id_format,
                    email: person.email,
                    name: person.name,
                    attributes: assertion.attributes,
                    verdict,
                })
            }
            Err(e) => Err(e.to_string()),
        };
        let record = Record::new("saml.connection_tested", Actor::System)
            .outcome(if outcome.is_ok() { Outcome::Success } else { Outcome::Refused })
            .in_org(&connection.org_id)
            .about(format!("SAML connection {}", connection.name))
            .details(serde_json::json!({
                "connection": connection.id,
                "reason": outcome.as_ref().err(),
            }));
        self.audit.record(record).await;
        TestReport { connection: connection.id.clone(), next, outcome }
    }

    /// Housekeeping: logins in flight and assertion IDs past their time.
    pub async fn purge_expired(&self) -> Result<u64, RepoError> {
        self.repo.purge_expired(self.kernel.now()).await
    }
}

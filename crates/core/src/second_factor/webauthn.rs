//! Security keys and passkeys (WebAuthn Level 2/3) through `webauthn-rs`: registration from
//! `/account/security`, the second step of a password login, and passwordless login with a
//! discoverable credential (user verification required). We never verify WebAuthn ourselves.
//!
//! - The relying party id and origin come from `LATCHKEY_PUBLIC_URL`; a public URL whose host
//!   is an IP address cannot use WebAuthn (browsers refuse), and the features say so.
//! - Ceremony state lives in the database (so any node can finish what another started),
//!   single-use and five minutes long.
//! - A signature counter that goes backwards fails the ceremony (webauthn-rs's default, the
//!   spec's advice for a possibly cloned authenticator); a valid use stores the new counter.

use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::accounts::{Account, AccountId};
use crate::audit::{Actor, Outcome, Record};
use crate::authority::SignedIn;
use crate::clock::Timestamp;
use crate::errors::RepoError;
use crate::policies::AuthMethod;
use crate::return_to::ReturnTo;
use crate::second_factor::SecondFactor;
use crate::second_factor::SecondFactorError;
use crate::second_factor::ports::{WebauthnChallenge, WebauthnCredential};
use crate::second_factor::{BeginSignIn, PendingStep, SignInStep};
use crate::secret::OpaqueToken;
use crate::sessions::ClientInfo;

const CHALLENGE_TTL_SECS: i64 = 300;
const REGISTER: &str = "register";
const SECOND_FACTOR: &str = "second_factor";
const PASSWORDLESS: &str = "passwordless";

/// The relying party, when the public URL allows WebAuthn.
pub fn relying_party(public_url: &str) -> Option<Webauthn> {
    let origin = Url::parse(public_url).ok()?;
    let rp_id = origin.domain()?.to_owned();
    WebauthnBuilder::new(&rp_id, &origin).ok()?.rp_name("Latchkey").build().ok()
}

/// A security key or passkey as `/account/security` lists it.
#[derive(Debug, Clone)]
pub struct KeySummary {
    pub id: String,
    pub nickname: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// What the browser needs to run a ceremony: our id for it and the options for
/// `navigator.credentials.create/get`.
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub challenge: String,
    pub options: serde_json::Value,
}

fn unexpected(what: impl std::fmt::Display) -> SecondFactorError {
    SecondFactorError::Unexpected(RepoError(what.to_string().into()).into())
}

fn refused(e: impl std::fmt::Display) -> SecondFactorError {
    tracing::info!(error = %e, "webauthn ceremony refused");
    SecondFactorError::KeyRefused
}

/// How a credential id is stored and looked up: base64url without padding.
fn credential_id_text(id: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, id)
}

fn user_handle(account: &AccountId) -> Result<Uuid, SecondFactorError> {
    Uuid::parse_str(account.as_str()).map_err(|e| unexpected(format!("account id: {e}")))
}

impl SecondFactor {
    fn webauthn(&self) -> Result<&Webauthn, SecondFactorError> {
        self.state.webauthn.as_ref().ok_or(SecondFactorError::KeysUnavailable)
    }

    /// Whether security keys can be used with this public URL.
    pub fn security_keys_available(&self) -> bool {
        self.state.webauthn.is_some()
    }

    async fn save_ceremony(
        &self,
        account: Option<&AccountId>,
        purpose: &'static str,
        state: &impl serde::Serialize,
        options: &impl serde::Serialize,
    ) -> Result<Ceremony, SecondFactorError> {
        let now = self.kernel.now();
        let id = OpaqueToken::generate(self.kernel.rng()).expose().to_owned();
        self.repo
            .insert_webauthn_challenge(&WebauthnChallenge {
                id: id.clone(),
                account: account.cloned(),
                purpose,
                state: serde_json::to_string(state).map_err(unexpected)?,
                expires_at: now.plus_secs(CHALLENGE_TTL_SECS),
            })
            .await?;
        Ok(Ceremony { challenge: id, options: serde_json::to_value(options).map_err(unexpected)? })
    }

    async fn take_ceremony<T: serde::de::DeserializeOwned>(
        &self,
        id: &str,
        purpose: &str,
    ) -> Result<(Option<AccountId>, T), SecondFactorError> {
        let now = self.kernel.now();
        let c = self
            .repo
            .take_webauthn_challenge(id, purpose, now)
            .await?
            .ok_or(SecondFactorError::Expired)?;
        let state = serde_json::from_str(&c.state).map_err(unexpected)?;
        Ok((c.account, state))
    }

    async fn passkeys(
        &self,
        account: &AccountId,
    ) -> Result<Vec<(WebauthnCredential, Passkey)>, SecondFactorError> {
        let stored = self.repo.list_webauthn_credentials(account).await?;
        stored
            .into_iter()
            .map(|c| {
                let key = serde_json::from_str(&c.passkey).map_err(unexpected)?;
                Ok((c, key))
            })
            .collect()
    }

    pub async fn list_security_keys(
        &self,
        account: &AccountId,
    ) -> Result<Vec<KeySummary>, RepoError> {
        Ok(self
            .repo
            .list_webauthn_credentials(account)
            .await?
            .into_iter()
            .map(|c| KeySummary {
                id: c.id,
                nickname: c.nickname,
                created_at: c.created_at,
                last_used_at: c.last_used_at,
            })
            .collect())
    }

    /// Starts registering a security key or passkey for a signed-in person.
    pub async fn begin_key_registration(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Ceremony, SecondFactorError> {
        self.may_change_factors(signed_in)?;
        self.begin_key_registration_for(signed_in.account()).await
    }

    pub(super) async fn begin_key_registration_for(
        &self,
        account: &Account,
    ) -> Result<Ceremony, SecondFactorError> {
        let webauthn = self.webauthn()?;
        let existing: Vec<_> = self
            .passkeys(&account.id)
            .await?
            .into_iter()
            .map(|(_, k)| k.cred_id().clone())
            .collect();
        let (options, state): (CreationChallengeResponse, PasskeyRegistration) = webauthn
            .start_passkey_registration(
                user_handle(&account.id)?,
                account.email.as_str(),
                account.name.as_str(),
                Some(existing),
            )
            .map_err(refused)?;
        let mut ceremony =
            self.save_ceremony(Some(&account.id), REGISTER, &state, &options).await?;
        // webauthn-rs asks for a non-discoverable credential ("discouraged"); we prefer a
        // discoverable one, so the same key can sign in without a password. Synced passkeys
        // are discoverable anyway; a security key with room for one makes one. The server-side
        // check does not depend on it.
        if let Some(selection) = ceremony.options.pointer_mut("/publicKey/authenticatorSelection") {
            selection["residentKey"] = "preferred".into();
        }
        Ok(ceremony)
    }

    pub async fn finish_key_registration(
        &self,
        signed_in: &SignedIn,
        challenge: &str,
        credential: &str,
        nickname: &str,
    ) -> Result<(), SecondFactorError> {
        self.finish_key_registration_for(signed_in.account(), challenge, credential, nickname).await
    }

    pub(super) async fn finish_key_registration_for(
        &self,
        account: &Account,
        challenge: &str,
        credential: &str,
        nickname: &str,
    ) -> Result<(), SecondFactorError> {
        if !account.email_verified() {
            return Err(SecondFactorError::EmailNotVerified);
        }
        let nickname = nickname.trim();
        if nickname.is_empty()
            || nickname.chars().count() > 60
            || crate::text::has_hidden_or_control(nickname)
        {
            return Err(SecondFactorError::BadNickname);
        }
        let webauthn = self.webauthn()?;
        let (owner, state): (_, PasskeyRegistration) =
            self.take_ceremony(challenge, REGISTER).await?;
        if owner.as_ref() != Some(&account.id) {
            return Err(SecondFactorError::Expired);
        }
        let credential: RegisterPublicKeyCredential =
            serde_json::from_str(credential).map_err(refused)?;
        let key = webauthn.finish_passkey_registration(&credential, &state).map_err(refused)?;
        let now = self.kernel.now();
        let stored = WebauthnCredential {
            id: self.kernel.new_id(now),
            account: account.id.clone(),
            credential_id: credential_id_text(key.cred_id()),
            passkey: serde_json::to_string(&key).map_err(unexpected)?,
            nickname: nickname.to_owned(),
            created_at: now,
            last_used_at: None,
        };
        self.repo.insert_webauthn_credential(&stored).await?;
        tracing::info!(account = %account.id, key = %stored.id, "security key registered");
        let record = Record::new("two_factor.key_added", Actor::Person(account))
            .target(account)
            .details(serde_json::json!({ "key": stored.id, "nickname": nickname }));
        self.audit.record(record).await;
        self.security_notice(
            account,
            &format!("A security key or passkey named \"{nickname}\" was added to your account."),
        )
        .await;
        Ok(())
    }

    pub async fn rename_security_key(
        &self,
        account: &Account,
        id: &str,
        nickname: &str,
    ) -> Result<bool, SecondFactorError> {
        let nickname = nickname.trim();
        if nickname.is_empty()
            || nickname.chars().count() > 60
            || crate::text::has_hidden_or_control(nickname)
        {
            return Err(SecondFactorError::BadNickname);
        }
        Ok(self.repo.rename_webauthn_credential(&account.id, id, nickname).await?)
    }

    /// Removes a key: needs a recent sign-in and the password (counted before it is checked).
    pub async fn remove_security_key(
        &self,
        signed_in: &SignedIn,
        password: &crate::credentials::Password,
        id: &str,
    ) -> Result<bool, SecondFactorError> {
        if !self.guard.sign_in_is_recent(signed_in) {
            return Err(SecondFactorError::SignInAgain);
        }
        let account = signed_in.account();
        let status = self.two_factor_status(&account.id).await?;
        if !status.totp && status.security_keys <= 1 {
            self.refuse_if_required(account).await?;
        }
        self.recheck_or_refuse(signed_in, password).await?;
        let removed = self.repo.delete_webauthn_credential(&account.id, id).await?;
        if removed {
            tracing::info!(account = %account.id, key = %id, "security key removed");
            let record = Record::new("two_factor.key_removed", Actor::Person(account))
                .target(account)
                .details(serde_json::json!({ "key": id }));
            self.audit.record(record).await;
            self.security_notice(
                account,
                "A security key or passkey was removed from your account.",
            )
            .await;
        }
        Ok(removed)
    }

    /// The second step of a login with a security key, for a pending login.
    pub async fn begin_key_second_factor(
        &self,
        pending: &str,
    ) -> Result<Ceremony, SecondFactorError> {
        let webauthn = self.webauthn()?;
        let login = self.pending_login(pending).await?.ok_or(SecondFactorError::Expired)?;
        let keys: Vec<Passkey> =
            self.passkeys(&login.account).await?.into_iter().map(|(_, k)| k).collect();
        if keys.is_empty() {
            return Err(SecondFactorError::NotEnabled);
        }
        let (options, state): (RequestChallengeResponse, PasskeyAuthentication) =
            webauthn.start_passkey_authentication(&keys).map_err(refused)?;
        self.save_ceremony(Some(&login.account), SECOND_FACTOR, &state, &options).await
    }

    pub async fn finish_key_second_factor(
        &self,
        pending: &str,
        challenge: &str,
        credential: &str,
        replacing: Option<&SignedIn>,
    ) -> Result<SignInStep, SecondFactorError> {
        let webauthn = self.webauthn()?;
        let (mut login, account) = self.pending_at(pending, PendingStep::SecondFactor).await?;
        let (owner, state): (_, PasskeyAuthentication) =
            self.take_ceremony(challenge, SECOND_FACTOR).await?;
        if owner.as_ref() != Some(&login.account) {
            return Err(SecondFactorError::Expired);
        }
        let credential: PublicKeyCredential = serde_json::from_str(credential).map_err(refused)?;
        let result =
            webauthn.finish_passkey_authentication(&credential, &state).map_err(refused)?;
        self.record_key_use(&login.account, &result).await?;
        login.steps.second_factor = false;
        AuthMethod::add(&mut login.amr, AuthMethod::HardwareKey);
        self.advance(pending, login, &account, replacing).await
    }

    /// Passwordless: any discoverable credential, user verification required.
    pub async fn begin_passwordless(&self) -> Result<Ceremony, SecondFactorError> {
        let webauthn = self.webauthn()?;
        let (options, state): (RequestChallengeResponse, DiscoverableAuthentication) =
            webauthn.start_discoverable_authentication().map_err(refused)?;
        self.save_ceremony(None, PASSWORDLESS, &state, &options).await
    }

    pub async fn finish_passwordless(
        &self,
        challenge: &str,
        credential: &str,
        client: ClientInfo,
        next: &ReturnTo,
        replacing: Option<&SignedIn>,
    ) -> Result<BeginSignIn, SecondFactorError> {
        let webauthn = self.webauthn()?;
        let (_, state): (_, DiscoverableAuthentication) =
            self.take_ceremony(challenge, PASSWORDLESS).await?;
        let credential: PublicKeyCredential = serde_json::from_str(credential).map_err(refused)?;
        let (handle, cred_id) =
            webauthn.identify_discoverable_authentication(&credential).map_err(refused)?;
        let cred_id = credential_id_text(cred_id);
        let stored = self
            .repo
            .find_webauthn_credential(&cred_id)
            .await?
            .filter(|c| user_handle(&c.account).is_ok_and(|h| h == handle))
            .ok_or(SecondFactorError::KeyRefused)?;
        let key: Passkey = serde_json::from_str(&stored.passkey).map_err(unexpected)?;
        let result = webauthn
            .finish_discoverable_authentication_v2(&credential, state, DiscoverableKey::from(&key))
            .map_err(refused)?;
        let account = self
            .accounts
            .find_by_id(&stored.account)
            .await?
            .ok_or(SecondFactorError::KeyRefused)?;
        if !account.is_active() {
            return Err(SecondFactorError::Deactivated);
        }
        if self.policies.sso_required(&account).await? {
            let record = Record::new("login", Actor::Anonymous)
                .outcome(Outcome::Refused)
                .target(&account)
                .from(&client)
                .details(
                    serde_json::json!({ "method": "passkey", "reason": "single sign-on required" }),
                );
            self.audit.record(record).await;
            return Err(SecondFactorError::SsoRequired);
        }
        self.record_key_use(&account.id, &result).await?;
        let record = Record::new("login", Actor::Person(&account))
            .target(&account)
            .from(&client)
            .details(serde_json::json!({ "method": "passkey" }));
        self.audit.record(record).await;
        // A passkey with user verification is two factors in one (the key, and the PIN or
        // biometric that unlocked it).
        let amr = vec![AuthMethod::HardwareKey, AuthMethod::MultiFactor];
        let begun = self.begin_sign_in(&account, &client, next, replacing, amr).await?;
        tracing::info!(account = %account.id, outcome = "success", method = "passkey", "login");
        Ok(begun)
    }

    async fn record_key_use(
        &self,
        account: &AccountId,
        result: &webauthn_rs::prelude::AuthenticationResult,
    ) -> Result<(), SecondFactorError> {
        let now = self.kernel.now();
        for (stored, mut key) in self.passkeys(account).await? {
            if key.update_credential(result).is_some() {
                let json = serde_json::to_string(&key).map_err(unexpected)?;
                self.repo.record_webauthn_use(&stored.id, &json, now).await?;
            }
        }
        Ok(())
    }
}

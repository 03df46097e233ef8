//! Two-step enrolment as a step of a pending login, when the account's policy requires it and
//! the account has no factor yet: the person sets up an authenticator app before the sign-in
//! finishes, and leaves with their recovery codes.

use crate::authority::SignedIn;
use crate::policies::AuthMethod;
use crate::second_factor::{
    Ceremony, Enrolment, PendingStep, SecondFactor, SecondFactorError, SignInStep,
};

impl SecondFactor {
    /// Starts (or shows again) the app set-up of a pending login at its enrolment step.
    pub async fn begin_required_totp(&self, token: &str) -> Result<Enrolment, SecondFactorError> {
        let (_, account) = self.pending_at(token, PendingStep::Enrolment).await?;
        if !account.email_verified() {
            return Err(SecondFactorError::EmailNotVerified);
        }
        if let Some(enrolment) = self.pending_totp_enrolment(&account).await? {
            return Ok(enrolment);
        }
        self.begin_totp_for(&account).await
    }

    /// Starts registering a security key or passkey instead of the app.
    pub async fn begin_required_key(&self, token: &str) -> Result<Ceremony, SecondFactorError> {
        let (_, account) = self.pending_at(token, PendingStep::Enrolment).await?;
        if !account.email_verified() {
            return Err(SecondFactorError::EmailNotVerified);
        }
        self.begin_key_registration_for(&account).await
    }

    /// Registers the key; the sign-in then carries on.
    pub async fn finish_required_key(
        &self,
        token: &str,
        challenge: &str,
        credential: &str,
        nickname: &str,
        replacing: Option<&SignedIn>,
    ) -> Result<SignInStep, SecondFactorError> {
        let (mut pending, account) = self.pending_at(token, PendingStep::Enrolment).await?;
        self.finish_key_registration_for(&account, challenge, credential, nickname).await?;
        pending.steps.enrolment = false;
        AuthMethod::add(&mut pending.amr, AuthMethod::HardwareKey);
        self.advance(token, pending, &account, replacing).await
    }

    /// Confirms the app with its first code; the sign-in then carries on. Returns the recovery
    /// codes (shown once) and where the sign-in stands.
    pub async fn confirm_required_totp(
        &self,
        token: &str,
        code: &str,
        replacing: Option<&SignedIn>,
    ) -> Result<(Vec<String>, SignInStep), SecondFactorError> {
        let (mut pending, account) = self.pending_at(token, PendingStep::Enrolment).await?;
        let codes = self.confirm_totp_for(&account, code).await?;
        pending.steps.enrolment = false;
        AuthMethod::add(&mut pending.amr, AuthMethod::OneTimeCode);
        let step = self.advance(token, pending, &account, replacing).await?;
        Ok((codes, step))
    }
}

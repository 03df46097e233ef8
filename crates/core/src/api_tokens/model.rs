//! API tokens and basic-auth answers as data: the token's shape, its lifetime under a policy,
//! and the verdict a product receives. No I/O here.

use serde::Serialize;

use crate::accounts::AccountId;
use crate::clock::Timestamp;
use crate::secret::OpaqueToken;

/// What every API token starts with (admin tokens start with `lka_`), so secret scanners and
/// people can tell one at a glance.
pub const API_TOKEN_PREFIX: &str = "lkp_";
/// Expiry when the creator names none (capped by the policy's maximum).
pub const DEFAULT_LIFETIME_DAYS: u32 = 365;
/// Characters of a token (after `lkp_`) that name its throttling counter: enough to tell
/// tokens apart, far too few to help guess one.
const THROTTLE_PREFIX_CHARS: usize = 8;
const DAY_SECS: i64 = 24 * 3600;

/// An API token as stored (its secret is not: only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub account: AccountId,
    pub name: String,
    /// Client ids the token is restricted to; empty: every product.
    pub products: Vec<String>,
    /// The admin who made it for someone else (a bot's token), if not the owner.
    pub created_by: Option<AccountId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_used_ip: Option<String>,
}

impl ApiToken {
    /// Whether a product may use the token.
    pub fn allows(&self, client_id: &str) -> bool {
        self.products.is_empty() || self.products.iter().any(|p| p == client_id)
    }

    /// When the token stops working: its own expiry, or earlier when its policy now caps
    /// tokens' lifetime below it (a lowered cap applies to tokens already made).
    pub fn effective_expiry(&self, max_days: u32) -> Timestamp {
        let cap = self.created_at.plus_secs(i64::from(max_days) * DAY_SECS);
        if cap.unix() < self.expires_at.unix() { cap } else { self.expires_at }
    }
}

/// A token's state as its owner and admins see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl TokenState {
    pub fn of(token: &ApiToken, max_days: u32, now: Timestamp) -> Self {
        if token.revoked_at.is_some() {
            Self::Revoked
        } else if now.unix() >= token.effective_expiry(max_days).unix() {
            Self::Expired
        } else {
            Self::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// What a creator asks for.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub name: String,
    /// Days until it expires; `None`: [`DEFAULT_LIFETIME_DAYS`] or the policy's cap if lower.
    pub expires_days: Option<u32>,
    /// Client ids; empty: every product.
    pub products: Vec<String>,
}

/// A presented API token, split into the part that names its throttling counter and the
/// whole secret.
pub(crate) struct PresentedToken {
    pub secret: OpaqueToken,
    pub throttle_key: String,
}

impl PresentedToken {
    /// `lkp_` and 43 URL-safe characters (256 random bits); anything else is not a token.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let body = raw.strip_prefix(API_TOKEN_PREFIX)?;
        let secret = OpaqueToken::parse(body)?;
        let throttle_key = format!("apitoken:prefix:{}", &body[..THROTTLE_PREFIX_CHARS]);
        Some(Self { secret, throttle_key })
    }
}

/// The token as its holder sees it, once.
pub(crate) fn display_token(secret: &OpaqueToken) -> String {
    format!("{API_TOKEN_PREFIX}{}", secret.expose())
}

/// Why a basic-auth pair is not good, in the words products switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InactiveReason {
    /// No such token, a wrong password, or a username that does not go with the token.
    Unknown,
    Expired,
    Revoked,
    /// The token is restricted to other products, or the account is bound to another one.
    WrongProduct,
    AccountDeactivated,
    /// The account's policy does not allow this kind of credential.
    PolicyForbids,
    /// A password is used with more than one product: the account must use API tokens.
    BotSpansProducts,
    Throttled,
}

impl InactiveReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::WrongProduct => "wrong_product",
            Self::AccountDeactivated => "account_deactivated",
            Self::PolicyForbids => "policy_forbids",
            Self::BotSpansProducts => "bot_spans_products",
            Self::Throttled => "throttled",
        }
    }
}

/// Which secret proved the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    ApiToken,
    Password,
}

/// The answer to `POST /oauth/basic-auth/verify`, serialized as products receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BasicAuthAnswer {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// Unix seconds; only for API tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<bool>,
    /// The product's own user id, when the password was checked against its legacy record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<InactiveReason>,
    /// Seconds until a throttled caller may try again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
}

impl BasicAuthAnswer {
    pub(crate) fn inactive(reason: InactiveReason) -> Self {
        Self {
            active: false,
            sub: None,
            email: None,
            name: None,
            credential: None,
            expires_at: None,
            bot: None,
            legacy_user_id: None,
            reason: Some(reason),
            retry_after: None,
        }
    }

    pub(crate) fn throttled(secs: i64) -> Self {
        Self { retry_after: Some(secs), ..Self::inactive(InactiveReason::Throttled) }
    }

    pub(crate) fn active(
        account: &crate::accounts::Account,
        credential: Credential,
        expires_at: Option<Timestamp>,
    ) -> Self {
        Self {
            active: true,
            sub: Some(account.id.as_str().to_owned()),
            email: Some(account.email.as_str().to_owned()),
            name: Some(account.name.as_str().to_owned()),
            credential: Some(credential),
            expires_at: expires_at.map(Timestamp::unix),
            bot: Some(account.bot),
            legacy_user_id: None,
            reason: None,
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(created: i64, expires: i64) -> ApiToken {
        ApiToken {
            id: "t".into(),
            account: AccountId::from_stored("a".into()),
            name: "n".into(),
            products: vec![],
            created_by: None,
            created_at: Timestamp::from_unix(created),
            expires_at: Timestamp::from_unix(expires),
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
        }
    }

    #[test]
    fn a_lower_policy_cap_shortens_tokens_already_made() {
        let t = token(0, 365 * DAY_SECS);
        assert_eq!(t.effective_expiry(30).unix(), 30 * DAY_SECS);
        assert_eq!(t.effective_expiry(3650).unix(), 365 * DAY_SECS);
        assert_eq!(
            TokenState::of(&t, 30, Timestamp::from_unix(30 * DAY_SECS - 1)),
            TokenState::Active
        );
        assert_eq!(
            TokenState::of(&t, 30, Timestamp::from_unix(30 * DAY_SECS)),
            TokenState::Expired
        );
    }

    #[test]
    fn an_unrestricted_token_serves_every_product_and_a_restricted_one_only_its_own() {
        let mut t = token(0, 10);
        assert!(t.allows("any"));
        t.products = vec!["jira".into()];
        assert!(t.allows("jira") && !t.allows("wiki"));
    }

    #[test]
    fn only_the_issued_shape_parses_as_a_token() {
        let good = format!("lkp_{}", "A".repeat(43));
        assert!(PresentedToken::parse(&good).is_some());
        for bad in [
            "lkp_".to_owned(),
            format!("lka_{}", "A".repeat(43)),
            format!("lkp_{}", "A".repeat(42)),
            format!("lkp_{}", "A".repeat(44)),
            format!("lkp_{}=", "A".repeat(42)),
            format!("lkp_{}é", "A".repeat(41)),
            format!("LKP_{}", "A".repeat(43)),
            "A".repeat(47),
        ] {
            assert!(PresentedToken::parse(&bad).is_none(), "{bad}");
        }
        let p = PresentedToken::parse(&good).unwrap();
        assert_eq!(p.throttle_key, "apitoken:prefix:AAAAAAAA");
    }

    #[test]
    fn answers_say_only_what_products_need() {
        let v =
            serde_json::to_value(BasicAuthAnswer::inactive(InactiveReason::WrongProduct)).unwrap();
        assert_eq!(v, serde_json::json!({"active": false, "reason": "wrong_product"}));
        let v = serde_json::to_value(BasicAuthAnswer::throttled(7)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"active": false, "reason": "throttled", "retry_after": 7})
        );
    }
}

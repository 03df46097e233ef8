//! The settings use cases run with: plain numbers and the public URL, chosen by the operator
//! (the binary's configuration) and handed to each service. Bottom layer: no feature here.

#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// Base of every link we email (no trailing slash).
    pub public_url: String,
    /// Absolute lifetime of a browser session.
    pub session_lifetime_secs: i64,
    /// A session unused for this long ends.
    pub session_idle_secs: i64,
    pub verify_email_ttl_secs: i64,
    pub reset_password_ttl_secs: i64,
    pub throttle: ThrottlePolicy,
    /// Closed accounts keep their personal data this long (reactivation is possible).
    pub closure_grace_secs: i64,
    /// Audit events are kept this long.
    pub audit_retention_secs: i64,
}

impl CoreSettings {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            session_lifetime_secs: 30 * 24 * 3600,
            session_idle_secs: 7 * 24 * 3600,
            verify_email_ttl_secs: 24 * 3600,
            reset_password_ttl_secs: 3600,
            throttle: ThrottlePolicy::default(),
            closure_grace_secs: 14 * 24 * 3600,
            audit_retention_secs: 365 * 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed logins allowed per account per window.
    pub account_failures: u32,
    /// Failed logins allowed per client IP per window.
    pub ip_failures: u32,
    pub login_window_secs: i64,
    /// Emails (verification resends, reset links) per address per window.
    pub mails_per_address: u32,
    /// Sign-ups, reset requests and resends per client IP per window.
    pub requests_per_ip: u32,
    pub mail_window_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_failures: 5,
            ip_failures: 50,
            login_window_secs: 300,
            mails_per_address: 3,
            requests_per_ip: 30,
            mail_window_secs: 900,
        }
    }
}

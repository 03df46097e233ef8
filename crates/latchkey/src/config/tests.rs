//! The configuration's parsing: defaults, precedence, and every refusal.

use super::*;

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let dir = tempfile::tempdir().unwrap();
    Config::load(&env, dir.path())
}

#[test]
fn defaults_match_the_contract() {
    let c = load(&[]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.public_url, "http://127.0.0.1:8080");
    assert!(c.data_dir.ends_with("latchkey-data"));
    assert!(
        c.database_url.starts_with("sqlite://")
            && c.database_url.ends_with("latchkey-data/latchkey.db")
    );
    assert!(c.smtp_url.is_none());
    assert_eq!(c.log, "info");
    assert_eq!(
        (c.passwords.memory_kib, c.passwords.iterations, c.passwords.parallelism),
        (19_456, 2, 1)
    );
}

#[test]
fn public_url_is_kept_exactly_and_follows_listen() {
    let c = load(&[("LATCHKEY_LISTEN", "127.0.0.1:9000")]).unwrap();
    assert_eq!(c.public_url, "http://127.0.0.1:9000");
    let c = load(&[("LATCHKEY_PUBLIC_URL", "https://id.example.com/")]).unwrap();
    assert_eq!(c.public_url, "https://id.example.com");
    let c = load(&[("LATCHKEY_PUBLIC_URL", "https://example.com/auth")]).unwrap();
    assert_eq!(c.public_url, "https://example.com/auth");
    assert_eq!(c.mail_from, "no-reply@example.com");
}

#[test]
fn bad_values_name_their_setting() {
    for (var, value) in [
        ("LATCHKEY_LISTEN", "nope"),
        ("LATCHKEY_PUBLIC_URL", "ftp://x"),
        ("LATCHKEY_PUBLIC_URL", "https://x.example?y=1"),
        ("LATCHKEY_DATABASE_URL", "mysql://x"),
        ("LATCHKEY_SMTP_URL", "http://mail"),
        ("LATCHKEY_DNS_SERVER", "1.1.1.1"),
        ("LATCHKEY_LOG", "info,[[["),
        ("LATCHKEY_TRUSTED_PROXIES", "10.0.0.1,zz"),
        ("LATCHKEY_METRICS", "maybe"),
        ("LATCHKEY_MAIL_FROM", "not a mailbox"),
        ("LATCHKEY_CONFIG", "/nonexistent/latchkey.toml"),
    ] {
        let err = load(&[(var, value)]).unwrap_err();
        assert_eq!(err.setting, var, "{var}={value}: {err}");
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn retention_and_grace_periods_are_days_in_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latchkey.toml");
    std::fs::write(&path, "[accounts]\nclosure_grace_days = 30\n[audit]\nretention_days = 90\n")
        .unwrap();
    let c = Config::load(&HashMap::new(), dir.path()).unwrap();
    assert_eq!((c.closure_grace_secs, c.audit_retention_secs), (30 * 86_400, 90 * 86_400));
    std::fs::write(&path, "[audit]\nretention_days = 0\n").unwrap();
    let err = Config::load(&HashMap::new(), dir.path()).unwrap_err();
    assert_eq!(err.setting, "audit.retention_days");
}

#[test]
fn outbound_fetches_refuse_private_addresses_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config::load(&HashMap::new(), dir.path()).unwrap();
    assert_eq!(c.outbound, OutboundPolicy::default());
    assert!(!c.outbound.allow_private_addresses);
    let path = dir.path().join("latchkey.toml");
    std::fs::write(&path, "[outbound]\nextra_roots = \"ca.pem\"\n").unwrap();
    let err = Config::load(&HashMap::new(), dir.path()).unwrap_err();
    assert_eq!(err.setting, "outbound.extra_roots");
    assert!(err.problem.contains("cannot read ca.pem"), "{err}");
    std::fs::write(dir.path().join("ca.pem"), "not a certificate").unwrap();
    let err = Config::load(&HashMap::new(), dir.path()).unwrap_err();
    assert!(err.problem.contains("no PEM certificate"), "{err}");
    std::fs::write(&path, "[outbound]\nverification_https_port = 0\n").unwrap();
    let err = Config::load(&HashMap::new(), dir.path()).unwrap_err();
    assert_eq!(err.setting, "outbound.verification_https_port");
    std::fs::write(
        &path,
        "[outbound]\nallow_private_addresses = true\nverification_https_port = 8443\n",
    )
    .unwrap();
    let c = Config::load(&HashMap::new(), dir.path()).unwrap();
    assert!(c.outbound.allow_private_addresses);
    assert_eq!(c.outbound.verification_https_port, 8443);
}

#[test]
fn file_settings_apply_and_env_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("latchkey.toml"),
        "listen = \"127.0.0.1:7000\"\nlog = \"debug\"\n[passwords]\nmemory_kib = 64\niterations = 1\n",
    )
    .unwrap();
    let env: HashMap<String, String> =
        [("LATCHKEY_LOG".to_owned(), "warn".to_owned())].into_iter().collect();
    let c = Config::load(&env, dir.path()).unwrap();
    assert_eq!(c.listen.port(), 7000);
    assert_eq!(c.log, "warn");
    assert_eq!(c.passwords.memory_kib, 64);
}

#[test]
fn unknown_or_malformed_file_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latchkey.toml"), "lisen = \"x\"\n").unwrap();
    let err = Config::load(&HashMap::new(), dir.path()).unwrap_err();
    assert_eq!(err.setting, "latchkey.toml");
    std::fs::write(dir.path().join("latchkey.toml"), "listen = \"nope\"\n").unwrap();
    let err = Config::load(&HashMap::new(), dir.path()).unwrap_err();
    assert_eq!(err.setting, "listen");
}

//! Login throttling per account and per IP (database counters), and the hashing queue bound.

use latchkey::Config;

use super::{PASSWORD, verified_user};

fn behind_proxy(c: &mut Config) {
    c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
}

fn behind_proxy_strict_ip(c: &mut Config) {
    behind_proxy(c);
    c.throttle.ip_failures = 3;
}

on_both_engines! {
    async fn an_account_attacked_from_many_addresses_is_throttled(server: TestServer, with behind_proxy) {
        let _owner = verified_user(&server, "target@example.com").await;
        for i in 0..5 {
            let attacker = server.browser_from(&format!("198.51.100.{i}"));
            let page = attacker.submit("/login", "/login", &[("email", "target@example.com"), ("password", "guess {i}")]).await;
            assert_eq!(page.status, 401, "attempt {i}");
        }
        // Now even the right password, from a new address, is held back.
        let owner = server.browser_from("192.0.2.77");
        let page = owner.submit("/login", "/login", &[("email", "target@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(page.status, 429);
        let retry: i64 = page.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=300).contains(&retry), "retry-after {retry}");
        assert!(page.contains("Too many attempts"));

        // The owner is not locked out for long: after the window, the right password works.
        server.clock.advance(301);
        owner.log_in("target@example.com", PASSWORD).await;
    }
}

on_both_engines! {
    async fn one_address_spraying_many_accounts_is_throttled(server: TestServer, with behind_proxy_strict_ip) {
        let _owner = verified_user(&server, "bystander@example.com").await;
        let sprayer = server.browser_from("203.0.113.5");
        for i in 0..3 {
            let page = sprayer.submit("/login", "/login", &[("email", &format!("victim{i}@example.com")), ("password", "Winter2026!")]).await;
            assert_eq!(page.status, 401);
        }
        let page = sprayer.submit("/login", "/login", &[("email", "victim9@example.com"), ("password", "Winter2026!")]).await;
        assert_eq!(page.status, 429);
        assert!(page.header("retry-after").is_some());
        // Other addresses are unaffected.
        server.browser_from("203.0.113.6").log_in("bystander@example.com", PASSWORD).await;
    }
}

on_both_engines! {
    async fn a_successful_login_clears_the_account_counter(server: TestServer) {
        let _owner = verified_user(&server, "forgetful@example.com").await;
        let b = server.browser();
        for _ in 0..4 {
            let page = b.submit("/login", "/login", &[("email", "forgetful@example.com"), ("password", "nope nope")]).await;
            assert_eq!(page.status, 401);
        }
        b.log_in("forgetful@example.com", PASSWORD).await;
        let c = server.browser();
        for _ in 0..4 {
            let page = c.submit("/login", "/login", &[("email", "forgetful@example.com"), ("password", "nope nope")]).await;
            assert_eq!(page.status, 401, "the earlier failures were forgotten");
        }
    }
}

fn one_slot_no_queue(c: &mut Config) {
    c.passwords.memory_kib = 19_456;
    c.passwords.iterations = 2;
    c.passwords.max_concurrent = 1;
    c.passwords.queue_timeout = std::time::Duration::ZERO;
    c.throttle.ip_failures = 1000;
    c.throttle.account_failures = 1000;
}

on_both_engines! {
    async fn a_login_storm_gets_503_instead_of_piling_up(server: TestServer, with one_slot_no_queue) {
        let b = std::sync::Arc::new(server.browser());
        let csrf = b.get("/login").await.csrf();
        let mut tasks = Vec::new();
        for i in 0..12 {
            let b = b.clone();
            let csrf = csrf.clone();
            tasks.push(tokio::spawn(async move {
                let email = format!("storm{i}@example.com");
                b.post_raw("/login", &[("csrf_token", &csrf), ("email", &email), ("password", "whatever!")]).await
            }));
        }
        let mut busy = 0;
        for t in tasks {
            let page = t.await.unwrap();
            match page.status {
                401 => {}
                503 => {
                    busy += 1;
                    assert_eq!(page.header("retry-after"), Some("1"));
                }
                other => panic!("unexpected status {other}"),
            }
        }
        assert!(busy > 0, "with one hashing slot and no queue some logins must be turned away");
    }
}

async fn account(server: &latchkey_testkit::TestServer, email: &str) {
    let email = latchkey_core::accounts::Email::parse(email).unwrap();
    server
        .core
        .accounts()
        .create_account(
            &server.site_admin(),
            latchkey_core::flows::CreateAccountRequest {
                name: latchkey_core::accounts::DisplayName::from_email(&email),
                email,
                password: Some(latchkey_core::credentials::Password::parse(PASSWORD).unwrap()),
                email_verified: true,
                site_admin: false,
            },
        )
        .await
        .unwrap();
}

on_both_engines! {
    /// Issue 17's login storm: a thousand guesses at one account from a thousand addresses,
    /// 250 in flight at a time, get no more password checks than the account's limit, while
    /// other people keep logging in.
    async fn a_thousand_parallel_guesses_from_a_thousand_addresses_get_five_checks(server: TestServer, with behind_proxy) {
        account(&server, "target@example.com").await;
        for i in 0..10 {
            account(&server, &format!("bystander{i}@example.com")).await;
        }
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(250));
        let attackers: Vec<_> = (0..1000u32)
            .map(|i| {
                let attacker = server.browser_from(&format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256 + 1));
                let gate = gate.clone();
                tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await.unwrap();
                    attacker
                        .submit("/login", "/login", &[("email", "target@example.com"), ("password", &format!("guess {i}"))])
                        .await
                        .status
                })
            })
            .collect();
        let bystanders: Vec<_> = (0..10)
            .map(|i| {
                let person = server.browser_from(&format!("192.0.2.{}", i + 1));
                tokio::spawn(async move {
                    let page = person
                        .submit("/login", "/login", &[("email", &format!("bystander{i}@example.com")), ("password", PASSWORD)])
                        .await;
                    page.status
                })
            })
            .collect();
        let mut statuses = std::collections::BTreeMap::new();
        for a in attackers {
            *statuses.entry(a.await.unwrap()).or_insert(0u32) += 1;
        }
        let checked = statuses.get(&401).copied().unwrap_or(0);
        assert!(checked <= 5, "password checks: {checked} ({statuses:?})");
        assert_eq!(statuses.keys().copied().filter(|s| ![401, 429].contains(s)).count(), 0, "{statuses:?}");
        for b in bystanders {
            assert_eq!(b.await.unwrap(), 303, "other people log in during the storm");
        }
        // The owner, from a new address, is held back only until the window ends.
        let owner = server.browser_from("198.51.100.200");
        let page = owner.submit("/login", "/login", &[("email", "target@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(page.status, 429);
    }
}

//! Several nodes on one PostgreSQL database behind a round-robin proxy (issue 17): what one
//! node does, every node sees — sessions and their end, sign-up and its mail, throttling
//! counters, signing keys within their cache bound, and periodic jobs run by one node at a time.
//! These need PostgreSQL (SQLite is one node's file); without `LATCHKEY_TEST_POSTGRES_URL`
//! they pass trivially, saying why (`.ci/run` always sets it).

use latchkey_core::jobs::Job;
use latchkey_testkit::Cluster;
use serde_json::Value;

use super::PASSWORD;

async fn cluster(n: usize) -> Option<Cluster> {
    let cluster = Cluster::spawn(n).await;
    if cluster.is_none() {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: the cluster tests need PostgreSQL");
    }
    cluster
}

#[tokio::test]
async fn a_session_made_on_one_node_works_on_every_node_and_logout_ends_it_everywhere() {
    let Some(cluster) = cluster(3).await else { return };
    let browser = cluster.browser();
    let signup = browser
        .submit(
            "/signup",
            "/signup",
            &[("email", "ada@example.com"), ("name", "Ada"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signup.status, 303, "{}", signup.body);
    let token = cluster.mail_to("ada@example.com", 1).await.token_for("/verify-email");
    let verified = browser
        .submit(&format!("/verify-email?token={token}"), "/verify-email", &[("token", &token)])
        .await;
    assert_eq!(
        verified.status, 303,
        "a link mailed by one node is honoured by another: {}",
        verified.body
    );
    assert_eq!(cluster.mails_to("ada@example.com").len(), 1, "mailed once, not once per node");

    let before = cluster.served();
    for _ in 0..6 {
        let page = browser.get("/account").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.contains("ada@example.com"));
    }
    let after = cluster.served();
    assert!(
        before.iter().zip(&after).all(|(b, a)| a - b == 2),
        "each node served two of six: {before:?} → {after:?}"
    );

    // Logout on whichever node gets the POST ends the session on all of them.
    let page = browser.get("/logout").await;
    let out = browser.post_raw("/logout", &[("csrf_token", &page.csrf())]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    for _ in 0..6 {
        assert_eq!(browser.get("/account").await.status, 303, "signed out on every node");
    }
    browser.log_in("ada@example.com", PASSWORD).await;
    for _ in 0..3 {
        assert_eq!(browser.get("/account").await.status, 200);
    }
}

#[tokio::test]
async fn throttling_counts_once_across_nodes_even_in_a_parallel_burst() {
    let Some(cluster) = cluster(3).await else { return };
    let operator = cluster.nodes[0].site_admin();
    let email = latchkey_core::accounts::Email::parse("target@example.com").unwrap();
    cluster.nodes[0]
        .core
        .accounts()
        .create_account(
            &operator,
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
    // Twelve wrong guesses at once, spread over the three nodes: the account's limit (five
    // failures) holds in total, not per node.
    let attackers: Vec<_> = (0..12)
        .map(|i| {
            let browser = cluster.browser();
            tokio::spawn(async move {
                browser
                    .submit(
                        "/login",
                        "/login",
                        &[("email", "target@example.com"), ("password", &format!("guess {i}"))],
                    )
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for a in attackers {
        statuses.push(a.await.unwrap());
    }
    let guesses = statuses.iter().filter(|s| **s == 401).count();
    assert!(guesses <= 5, "at most five guesses were checked: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 12 - guesses, "{statuses:?}");
    for _ in 0..3 {
        let page = cluster
            .browser()
            .submit("/login", "/login", &[("email", "target@example.com"), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, 429, "held back on every node");
    }
}

#[tokio::test]
async fn a_key_rotation_on_one_node_reaches_every_node_within_the_cache_bound() {
    let Some(cluster) = cluster(2).await else { return };
    let kids = |body: &str| -> Vec<String> {
        let doc: Value = serde_json::from_str(body).unwrap();
        doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let direct = |i: usize| latchkey_testkit::Browser::new(&cluster.nodes[i].url, None);
    let before = kids(&direct(1).get("/oauth/jwks").await.body);
    let created = cluster.nodes[0]
        .core
        .oidc()
        .rotate_signing_keys(&cluster.nodes[0].site_admin())
        .await
        .unwrap();
    let new: Vec<String> = created.iter().map(|(kid, _)| kid.clone()).collect();
    let here = kids(&direct(0).get("/oauth/jwks").await.body);
    assert!(new.iter().all(|k| here.contains(k)), "the rotating node publishes at once");
    // The other node's copy of the key set is at most a minute old.
    cluster.advance(61);
    let after = kids(&direct(1).get("/oauth/jwks").await.body);
    assert!(new.iter().all(|k| after.contains(k)), "{before:?} → {after:?}");
    assert!(before.iter().all(|k| after.contains(k)), "the old keys stay published");
}

#[tokio::test]
async fn periodic_jobs_run_on_one_node_and_move_when_it_stops() {
    let Some(mut cluster) = cluster(3).await else { return };
    let lead = |cluster: &Cluster| {
        let cores: Vec<_> = cluster.nodes.iter().map(|n| n.core.clone()).collect();
        async move {
            let rounds = cores.iter().map(|c| c.jobs().lead(Job::Housekeeping, 720));
            futures_util::future::join_all(rounds)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect::<Vec<bool>>()
        }
    };
    let first = lead(&cluster).await;
    assert_eq!(first.iter().filter(|l| **l).count(), 1, "{first:?}");
    assert_eq!(lead(&cluster).await, first, "the holder keeps it round after round");

    // Its node stops cleanly: it hands the job over, and another node runs the next round.
    let holder = first.iter().position(|l| *l).unwrap();
    cluster.nodes.remove(holder).stop().await;
    let next = lead(&cluster).await;
    assert_eq!(next.iter().filter(|l| **l).count(), 1, "{next:?}");
}

//! `latchkey demo`'s products against a real server: one login serves both, and signing out
//! in one signs the other out through the back-channel.

use latchkey_testkit::{Browser, Page, TestServer, eventually};

use super::{PASSWORD, verified_user};

/// Follows redirects (relative ones resolved against the current URL) until a page answers.
async fn follow(browser: &Browser, start: &str) -> (String, Page) {
    let mut url = url::Url::parse(start).unwrap();
    for _ in 0..10 {
        let page = browser.get(url.as_str()).await;
        match page.location() {
            Some(next) if (300..400).contains(&page.status) => url = url.join(next).unwrap(),
            _ => return (url.to_string(), page),
        }
    }
    panic!("too many redirects from {start}");
}

async fn start_products(server: &TestServer) -> (String, String) {
    let mut listeners = Vec::new();
    let mut bases = Vec::new();
    for name in latchkey::demo::PRODUCTS {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        bases.push((name, format!("http://{}", listener.local_addr().unwrap())));
        listeners.push(listener);
    }
    let specs = latchkey::demo::prepare(
        &server.core,
        &server.site_admin(),
        &server.config.data_dir,
        &server.url,
        &bases,
    )
    .await
    .unwrap();
    for (spec, listener) in specs.into_iter().zip(listeners) {
        let router = latchkey::demo::router(spec).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    }
    (bases[0].1.clone(), bases[1].1.clone())
}

on_both_engines! {
    async fn the_demo_products_share_one_login_and_one_logout(server: TestServer) {
        let (tracker, wiki) = start_products(&server).await;
        // A second run reuses the registrations it saved.
        let again = latchkey::demo::prepare(&server.core, &server.site_admin(), &server.config.data_dir, &server.url, &[("Tracker", tracker.clone()), ("Wiki", wiki.clone())]).await.unwrap();
        assert_eq!(server.core.oidc().list_clients(&server.site_admin()).await.unwrap().len(), 2);
        assert_eq!(again.len(), 2);

        drop(verified_user(&server, "demo@example.com").await);
        let browser = server.browser();
        let (_, home) = follow(&browser, &format!("{tracker}/")).await;
        assert!(home.body.contains("You are not signed in"), "{}", home.body);

        // Tracker sends the person to Latchkey's login page, and back after it.
        let (at, login) = follow(&browser, &format!("{tracker}/login")).await;
        assert!(at.starts_with(&format!("{}/login", server.url)), "{at}");
        let next = latchkey_testkit::hidden_input(&login.body, "next").unwrap();
        let done = browser.post_raw(&format!("{}/login", server.url), &[("csrf_token", &login.csrf()), ("email", "demo@example.com"), ("password", PASSWORD), ("next", &next)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let (at, page) = follow(&browser, url::Url::parse(&server.url).unwrap().join(done.location().unwrap()).unwrap().as_ref()).await;
        assert_eq!(at, format!("{tracker}/"));
        assert!(page.body.contains("Signed in as <strong>Test Person</strong> (demo@example.com)"), "{}", page.body);

        // Wiki: no second login.
        let (at, page) = follow(&browser, &format!("{wiki}/login")).await;
        assert_eq!(at, format!("{wiki}/"), "straight back, no login form");
        assert!(page.body.contains("Signed in as"), "{}", page.body);
        let account = browser.get(&format!("{}/account/sessions", server.url)).await;
        assert!(account.body.contains("Tracker, Wiki") || account.body.contains("Wiki, Tracker"), "/account lists both products: {}", account.body);

        // Sign out in Tracker: Latchkey ends the shared session and tells Wiki.
        let out = browser.post_raw(&format!("{tracker}/logout"), &[]).await;
        assert_eq!(out.status, 303);
        let (at, page) = follow(&browser, out.location().unwrap()).await;
        assert_eq!(at, format!("{tracker}/"), "back to Tracker after Latchkey's logout");
        assert!(page.body.contains("You are not signed in"));
        eventually("Wiki signed out by the back-channel", std::time::Duration::from_secs(10), || async {
            browser.get(&format!("{wiki}/")).await.body.contains("You are not signed in").then_some(())
        })
        .await;
        assert_eq!(browser.get(&format!("{}/account", server.url)).await.status, 303, "Latchkey session ended");

        // A forged logout token is refused.
        let forged = reqwest::Client::new().post(format!("{wiki}/backchannel-logout")).form(&[("logout_token", "e30.e30.")]).send().await.unwrap();
        assert_eq!(forged.status(), 400);
    }
}

//! Domain verification through an HTTPS file, and the guards on that outbound fetch.

use std::net::Ipv4Addr;

use latchkey_core::orgs::{DomainStatus, ProofMethod};
use latchkey_testkit::{DnsStub, HttpsStub, Reply, TestServer};

use super::account;

/// A server whose HTTPS proof fetches go to `https` (through `dns`), trusting its CA, with
/// private addresses allowed or not.
async fn spawn_for_https(
    engine: latchkey_testkit::Engine,
    dns: &DnsStub,
    https: Option<&HttpsStub>,
    allow_private: bool,
) -> Option<TestServer> {
    let addr = dns.addr;
    let roots = https.map(|h| h.ca_pem.clone().into_bytes());
    let port = https.map_or(443, |h| h.port);
    TestServer::spawn_with(engine, move |c| {
        c.dns_server = Some(addr);
        c.outbound.allow_private_addresses = allow_private;
        c.outbound.extra_roots_pem = roots;
        c.outbound.verification_https_port = port;
    })
    .await
}

#[tokio::test]
async fn domains_are_verified_through_an_https_file_on_both_engines() {
    for engine in [latchkey_testkit::Engine::Sqlite, latchkey_testkit::Engine::Postgres] {
        let dns = DnsStub::start().await;
        let names = ["acme.example", "hop.example", "big.example", "nowhere.example"];
        let https = HttpsStub::start(&names).await;
        for name in names {
            dns.set_a(name, &[Ipv4Addr::LOCALHOST]);
        }
        let Some(server) = spawn_for_https(engine, &dns, Some(&https), true).await else {
            continue;
        };
        https_verification(&server, &dns, &https).await;
    }
}

async fn https_verification(server: &TestServer, dns: &DnsStub, https: &HttpsStub) {
    let site = server.site_admin();
    let alice = account(server, "alice@acme.example").await;
    let org = server.core.orgs().create_organization(&site, "Acme", &alice).await.unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
    let verify = |name: &'static str| {
        let (core, admin) = (server.core.clone(), admin.clone());
        async move { core.orgs().verify_domain(&admin, name).await.unwrap() }
    };
    let acme = server.core.orgs().add_domain(&admin, "acme.example").await.unwrap();

    // No file (404), then a file without the token: pending, and each method says why.
    let check = verify("acme.example").await;
    assert_eq!(check.domain.status, DomainStatus::Pending);
    assert!(
        check.detail.contains("DNS: ") && check.detail.contains("answered 404"),
        "{}",
        check.detail
    );
    https.set("acme.example", Reply::Body(format!("{}x\n", acme.token)));
    let check = verify("acme.example").await;
    assert!(check.detail.contains("does not hold this domain's token"), "{}", check.detail);
    assert_eq!(check.domain.status, DomainStatus::Pending);

    https.set("acme.example", Reply::Body(format!("{}\n", acme.token)));
    let check = verify("acme.example").await;
    assert_eq!(check.domain.status, DomainStatus::Verified, "{}", check.detail);
    assert_eq!(check.domain.proof, Some(ProofMethod::HttpsFile));
    assert!(check.detail.contains("HTTPS file"), "{}", check.detail);
    let events = crate::audit_events(server, "domain.verified").await;
    assert_eq!(events.last().unwrap().details["method"], "https_file");

    // The file goes away: still verified, with the problem shown.
    https.remove("acme.example");
    let check = verify("acme.example").await;
    assert_eq!(check.domain.status, DomainStatus::Verified, "never silently dropped");
    assert!(check.domain.last_error.as_deref().is_some_and(|e| e.contains("404")));
    // The TXT record counts too, and is recorded as the proof from then on.
    dns.set_txt("acme.example", &[&acme.txt_record()]);
    let check = verify("acme.example").await;
    assert_eq!(check.domain.proof, Some(ProofMethod::DnsTxt));
    assert_eq!(check.domain.last_error, None);

    // Redirects stay on the host: to another path is followed, to another host is not.
    let hop = server.core.orgs().add_domain(&admin, "hop.example").await.unwrap();
    let port = https.port;
    https.set(
        "hop.example",
        Reply::Redirect(format!(
            "https://big.example:{port}/.well-known/latchkey-verification.txt"
        )),
    );
    https.set("big.example", Reply::Body(hop.token.clone()));
    let check = verify("hop.example").await;
    assert_eq!(check.domain.status, DomainStatus::Pending);
    assert!(
        check.detail.contains(&format!("redirected off the host (https://big.example:{port})")),
        "{}",
        check.detail
    );
    // Nor to plain HTTP on the same host, nor to another port.
    for elsewhere in [
        format!("http://hop.example:{port}/.well-known/latchkey-verification.txt"),
        format!("https://hop.example:{}/.well-known/latchkey-verification.txt", port + 1),
    ] {
        https.set("hop.example", Reply::Redirect(elsewhere.clone()));
        let check = verify("hop.example").await;
        assert!(check.detail.contains("redirected off the host"), "{elsewhere}: {}", check.detail);
    }
    https.set(
        "hop.example",
        Reply::Redirect(format!(
            "https://hop.example:{port}/.well-known/latchkey-verification.txt?again"
        )),
    );
    // (The stub answers the same table entry for the second hop: a redirect loop, cut short.)
    let check = verify("hop.example").await;
    assert!(check.detail.contains("too many redirects"), "{}", check.detail);

    // Bounded size: a huge file is refused, whatever it holds.
    let big = server.core.orgs().add_domain(&admin, "big.example").await.unwrap();
    https.set("big.example", Reply::Body(format!("{}\n{}", big.token, "#".repeat(64 * 1024))));
    let check = verify("big.example").await;
    assert_eq!(check.domain.status, DomainStatus::Pending);
    assert!(check.detail.contains("more than 4 KiB"), "{}", check.detail);

    // A name without addresses, and one that does not exist.
    dns.set_a("nowhere.example", &[]);
    server.core.orgs().add_domain(&admin, "nowhere.example").await.unwrap();
    let check = verify("nowhere.example").await;
    assert!(check.detail.contains("nowhere.example has no address"), "{}", check.detail);
}

#[tokio::test]
async fn the_https_file_is_never_fetched_from_private_addresses_or_untrusted_servers() {
    let dns = DnsStub::start().await;
    let https = HttpsStub::start(&["acme.example", "inside.example"]).await;
    dns.set_a("acme.example", &[Ipv4Addr::LOCALHOST]);
    dns.set_a("inside.example", &[Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(169, 254, 169, 254)]);

    // The default: private and loopback addresses are refused before any connection.
    let server =
        spawn_for_https(latchkey_testkit::Engine::Sqlite, &dns, Some(&https), false).await.unwrap();
    let site = server.site_admin();
    let alice = account(&server, "alice@acme.example").await;
    let org = server.core.orgs().create_organization(&site, "Acme", &alice).await.unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
    let acme = server.core.orgs().add_domain(&admin, "acme.example").await.unwrap();
    https.set("acme.example", Reply::Body(acme.token.clone()));
    for name in ["acme.example", "inside.example"] {
        server.core.orgs().add_domain(&admin, name).await.unwrap();
        let check = server.core.orgs().verify_domain(&admin, name).await.unwrap();
        assert_eq!(check.domain.status, DomainStatus::Pending, "{name}");
        assert!(
            check.detail.contains("non-public addresses, which are refused"),
            "{}",
            check.detail
        );
    }
    server.stop().await;

    // Private addresses allowed, but the server's certificate is not trusted: refused too.
    let port = https.port;
    let addr = dns.addr;
    let server = TestServer::spawn_with(latchkey_testkit::Engine::Sqlite, move |c| {
        c.dns_server = Some(addr);
        c.outbound.allow_private_addresses = true;
        c.outbound.verification_https_port = port;
    })
    .await
    .unwrap();
    let alice = account(&server, "alice@acme.example").await;
    let org = server.core.orgs().create_organization(&site, "Acme", &alice).await.unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
    let acme = server.core.orgs().add_domain(&admin, "acme.example").await.unwrap();
    https.set("acme.example", Reply::Body(acme.token.clone()));
    let check = server.core.orgs().verify_domain(&admin, "acme.example").await.unwrap();
    assert_eq!(check.domain.status, DomainStatus::Pending);
    assert!(check.detail.to_lowercase().contains("certificate"), "{}", check.detail);
}

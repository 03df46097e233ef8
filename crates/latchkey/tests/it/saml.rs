//! SAML single sign-on against an identity provider we did not write: pysaml2, signing with
//! xmlsec1 (`interop/saml/idp.py`). `.ci/run` installs both; without them these tests say so
//! and stop.

use std::path::PathBuf;
use std::process::Command;

use latchkey_core::saml_sp::{ConnectionRequest, IdpSource, Preset, SamlConnection};
use latchkey_testkit::{Browser, DnsStub, TestServer};

use crate::audit_events;
use crate::hardening::authority::verified_org;

const IDP_ENTITY: &str = "https://idp.test/saml";
const IDP_SSO: &str = "https://idp.test/saml/sso";

fn idp_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/saml/idp.py")
}

/// Whether pysaml2 and xmlsec1 are here.
fn idp_available() -> bool {
    let python = Command::new("python3").args(["-c", "import saml2"]).output();
    let xmlsec = Command::new("xmlsec1").arg("--version").output();
    let ok = python.is_ok_and(|o| o.status.success()) && xmlsec.is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "pysaml2 or xmlsec1 missing (pip install pysaml2; apt-get install xmlsec1): SAML interop not run"
        );
    }
    ok
}

fn idp(args: &[&str]) -> String {
    let out = Command::new("python3").arg(idp_script()).args(args).output().expect("run idp.py");
    assert!(out.status.success(), "idp.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

struct Idp {
    connection: SamlConnection,
    sp_metadata: tempfile::NamedTempFile,
}

impl Idp {
    /// pysaml2's answer to the AuthnRequest in `redirect` (the URL our login sent the browser to).
    fn answer(&self, redirect: &str, email: &str) -> (String, String) {
        self.answer_with(redirect, email, &[])
    }

    /// The same, with more of idp.py's options (`--encrypt`, `--require-signed-request`…). The
    /// whole query goes to the IdP, which checks a signed request's signature.
    fn answer_with(&self, redirect: &str, email: &str, extra: &[&str]) -> (String, String) {
        let url = url::Url::parse(redirect).unwrap();
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        let mut args = vec![
            "respond",
            "--entity-id",
            IDP_ENTITY,
            "--sso-url",
            IDP_SSO,
            "--sp-metadata",
            self.sp_metadata.path().to_str().unwrap(),
            "--email",
            email,
            "--attr",
            "givenName=Alice",
            "--attr",
            "sn=Liddell",
            "--query",
            url.query().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = idp(&args);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        (doc["SAMLResponse"].as_str().unwrap().to_owned(), query["RelayState"].clone())
    }
}

async fn connect(server: &TestServer, dns: &DnsStub, jit: bool) -> Idp {
    connect_with(server, dns, jit, false).await
}

async fn connect_with(server: &TestServer, dns: &DnsStub, jit: bool, sign_requests: bool) -> Idp {
    crate::verified_user(server, "boss@acme.test").await;
    let org = verified_org(server, dns, "Acme", "boss@acme.test", "acme.test").await;
    let admin =
        server.core.orgs().org_admin_as_site_admin(&server.site_admin(), &org.id).await.unwrap();
    let metadata = idp(&["metadata", "--entity-id", IDP_ENTITY, "--sso-url", IDP_SSO]);
    let request = ConnectionRequest {
        name: "Acme IdP".to_owned(),
        preset: Preset::Custom,
        source: IdpSource::Metadata(metadata),
        domains: vec!["acme.test".to_owned()],
        jit,
        allow_idp_initiated: false,
        allow_sha1: false,
        sign_requests,
        landing_client: None,
        mapping: None,
    };
    let connection = server.core.saml().add_connection(&admin, request).await.unwrap();
    let sp = server.browser().get(&format!("/saml/{}/metadata", connection.id)).await;
    assert_eq!(sp.status, 200);
    assert!(sp.body.contains(&format!("/saml/{}/acs", connection.id)), "{}", sp.body);
    let sp_metadata = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(sp_metadata.path(), sp.body).unwrap();
    Idp { connection, sp_metadata }
}

/// The login page's email step (home-realm discovery): the browser is sent to the IdP.
async fn start(browser: &Browser, email: &str, next: &str) -> String {
    let page = browser.get(&format!("/login?next={}", urlencode(next))).await;
    assert!(page.contains(r#"name="step" value="email""#), "{}", page.body);
    assert!(!page.contains(r#"name="password""#), "the password is the next step: {}", page.body);
    let sent = browser
        .post_raw(
            "/login",
            &[("csrf_token", &page.csrf()), ("email", email), ("step", "email"), ("next", next)],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.location().unwrap().to_owned();
    assert!(location.starts_with(IDP_SSO), "{location}");
    location
}

fn urlencode(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

on_both_engines! {
    async fn a_person_signs_in_through_the_organizations_idp(server: TestServer, dns: DnsStub) {
        if !idp_available() {
            return;
        }
        let idp = connect(&server, &dns, true).await;
        let acs = format!("/saml/{}/acs", idp.connection.id);
        // Home-realm discovery: another domain's address gets the password step, whether or not
        // it has an account (the answer depends on the domain alone).
        for email in ["bob@elsewhere.test", "nobody@elsewhere.test"] {
            let other = server.browser();
            let page = other.get("/login").await;
            let step = other.post_raw("/login", &[("csrf_token", &page.csrf()), ("email", email), ("step", "email"), ("next", "")]).await;
            assert_eq!(step.status, 200, "{}", step.body);
            assert!(step.body.contains(r#"name="password""#) && step.body.contains("readonly"), "{}", step.body);
            assert!(!step.body.contains(r#"role="alert""#), "{}", step.body);
        }
        let browser = server.browser();
        let redirect = start(&browser, "alice@acme.test", "/account/security").await;
        let (response, relay) = idp.answer(&redirect, "alice@acme.test");
        let landed = browser.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(landed.status, 303, "{}", landed.body);
        assert_eq!(landed.location(), Some("/account/security"));
        let account = browser.get("/account").await;
        assert!(account.contains("alice@acme.test"), "{}", account.body);
        assert!(account.contains("Alice Liddell"), "just-in-time account named from the attributes");

        // The same response again (a replay), or with the RelayState used: refused.
        let again = server.browser().post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(again.status, 403, "{}", again.body);
        // A second sign-in links to the same account through the stored identity.
        let second = server.browser();
        let redirect = start(&second, "alice@acme.test", "/account").await;
        let (response, relay) = idp.answer(&redirect, "alice@acme.test");
        let landed = second.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(landed.status, 303, "{}", landed.body);
        let site = server.site_admin();
        let alice = latchkey_core::accounts::Email::parse("alice@acme.test").unwrap();
        let account = server.core.accounts().find_account(&site, &alice).await.unwrap().unwrap();
        assert!(account.email_verified());
        let logins = audit_events(&server, "login").await;
        assert_eq!(logins.iter().filter(|e| e.details["method"] == "saml").count(), 2);
        let refusals = audit_events(&server, "saml.login_refused").await;
        assert_eq!(refusals.len(), 1);
        assert!(refusals[0].details["reason"].as_str().unwrap().contains("already used"), "{:?}", refusals[0].details);
    }
}

on_both_engines! {
    async fn requests_are_signed_and_encrypted_assertions_are_read(server: TestServer, dns: DnsStub) {
        if !idp_available() {
            return;
        }
        let idp = connect_with(&server, &dns, true, true).await;
        // Our metadata offers the connection's certificate for both uses and says we sign.
        let metadata = std::fs::read_to_string(idp.sp_metadata.path()).unwrap();
        assert!(metadata.contains(r#"AuthnRequestsSigned="true""#), "{metadata}");
        assert!(metadata.contains(r#"use="signing""#) && metadata.contains(r#"use="encryption""#), "{metadata}");
        assert!(metadata.contains("xmlenc11#aes256-gcm"), "{metadata}");
        assert!(!metadata.contains("PRIVATE"), "{metadata}");

        let browser = server.browser();
        let redirect = start(&browser, "alice@acme.test", "/account").await;
        assert!(redirect.contains("&SigAlg=") && redirect.contains("&Signature="), "{redirect}");
        // pysaml2 checks our signature with the certificate from our metadata, and encrypts
        // the assertion to it (AES-256-GCM, RSA-OAEP).
        let (response, relay) = idp.answer_with(
            &redirect,
            "alice@acme.test",
            &["--require-signed-request", "--encrypt", "aes256-gcm"],
        );
        let xml = latchkey_protocol::saml::response::decode_post(&response).unwrap();
        assert!(xml.contains("EncryptedAssertion") && !xml.contains("alice@acme.test"), "{xml}");
        let acs = format!("/saml/{}/acs", idp.connection.id);
        let landed = browser.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(landed.status, 303, "{}", landed.body);
        assert!(browser.get("/account").await.contains("alice@acme.test"));

        // The signature covers the RelayState: changed on the way, the IdP refuses the request.
        let tampered = redirect.replacen("RelayState=", "RelayState=x", 1);
        let url = url::Url::parse(&tampered).unwrap();
        let out = Command::new("python3")
            .arg(idp_script())
            .args(["respond", "--entity-id", IDP_ENTITY, "--sso-url", IDP_SSO, "--sp-metadata"])
            .arg(idp.sp_metadata.path())
            .args(["--email", "alice@acme.test", "--query", url.query().unwrap()])
            .output()
            .unwrap();
        assert!(!out.status.success(), "a tampered request was accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("signature"), "{}", String::from_utf8_lossy(&out.stderr));

        // CBC too; and an assertion encrypted to another key is refused with one reason.
        let second = server.browser();
        let redirect = start(&second, "alice@acme.test", "/account").await;
        let (response, relay) = idp.answer_with(&redirect, "alice@acme.test", &["--encrypt", "aes128-cbc"]);
        let landed = second.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(landed.status, 303, "{}", landed.body);
        let third = server.browser();
        let redirect = start(&third, "alice@acme.test", "/account").await;
        let other = concat!(env!("CARGO_MANIFEST_DIR"), "/../../interop/saml/keys/other.crt");
        let (response, relay) =
            idp.answer_with(&redirect, "alice@acme.test", &["--encrypt", "aes256-gcm", "--encrypt-cert", other]);
        let refused = third.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let reasons = audit_events(&server, "saml.login_refused").await;
        assert!(
            reasons.iter().any(|e| e.details["reason"].as_str().unwrap_or_default().contains("could not be decrypted")),
            "{reasons:?}"
        );
    }
}

on_both_engines! {
    async fn admins_hear_once_of_an_idp_certificate_near_expiry(server: TestServer, dns: DnsStub) {
        use latchkey_core::ports::Clock as _;
        if !idp_available() {
            return;
        }
        let idp = connect(&server, &dns, false).await;
        let saml = server.core.saml();
        assert_eq!(saml.warn_expiring_certificates().await.unwrap(), 0, "nothing expires soon");
        // Ten days before the IdP's certificate expires, as two nodes' jobs at once.
        let not_after = idp.connection.certificates[0].info().not_after;
        let now = server.clock.now().unix();
        server.clock.advance(not_after - now - 10 * 86_400);
        let (a, b) = tokio::join!(saml.warn_expiring_certificates(), saml.warn_expiring_certificates());
        assert_eq!(a.unwrap() + b.unwrap(), 1, "one notice, whichever node sends it");
        assert_eq!(saml.warn_expiring_certificates().await.unwrap(), 0);
        let mail = latchkey_testkit::eventually("the expiry notice", std::time::Duration::from_secs(10), || {
            let found = server.mails_to("boss@acme.test").into_iter().find(|m| m.subject.contains("SAML certificate"));
            async move { found }
        })
        .await;
        assert!(mail.subject.contains("expires"), "{}", mail.subject);
        assert!(mail.decoded.contains(&format!("/admin/org/{}/saml", idp.connection.org_id)), "{}", mail.decoded);
        assert_eq!(server.mails_to("boss@acme.test").iter().filter(|m| m.subject.contains("SAML certificate")).count(), 1);
        assert_eq!(audit_events(&server, "saml.certificate_expiring").await.len(), 1);
    }
}

on_both_engines! {
    async fn the_idp_never_reaches_beyond_its_domains_or_a_site_admin(server: TestServer, dns: DnsStub) {
        if !idp_available() {
            return;
        }
        let idp = connect(&server, &dns, false).await;
        let acs = format!("/saml/{}/acs", idp.connection.id);
        // An address on another domain, asserted by the IdP.
        let browser = server.browser();
        let redirect = start(&browser, "carol@acme.test", "/account").await;
        let (response, relay) = idp.answer(&redirect, "mallory@elsewhere.test");
        let refused = browser.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(refused.status, 403);
        assert!(refused.contains("not on a verified domain"), "{}", refused.body);
        // No account and no just-in-time creation.
        let redirect = start(&browser, "carol@acme.test", "/account").await;
        let (response, relay) = idp.answer(&redirect, "carol@acme.test");
        let refused = browser.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert!(refused.contains("does not create accounts"), "{}", refused.body);
        // A site admin on the organization's domain is never signed in by its IdP.
        let site = server.site_admin();
        server
            .core
            .accounts()
            .create_account(
                &site,
                latchkey_core::flows::CreateAccountRequest {
                    email: latchkey_core::accounts::Email::parse("root@acme.test").unwrap(),
                    name: latchkey_core::accounts::DisplayName::parse("Root").unwrap(),
                    password: None,
                    email_verified: true,
                    site_admin: true,
                },
            )
            .await
            .unwrap();
        let redirect = start(&browser, "root@acme.test", "/account").await;
        let (response, relay) = idp.answer(&redirect, "root@acme.test");
        let refused = browser.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert!(refused.contains("site administrators"), "{}", refused.body);
        assert_eq!(browser.get("/account").await.status, 303, "nobody was signed in");
        // IdP-initiated is off: a response without our RelayState is refused.
        let refused = browser.post_raw(&acs, &[("SAMLResponse", &response)]).await;
        assert!(refused.contains("IdP-initiated"), "{}", refused.body);
        let reasons: Vec<String> = audit_events(&server, "saml.login_refused")
            .await
            .iter()
            .map(|e| e.details["reason"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
    }
}

on_both_engines! {
    async fn a_burst_of_the_same_response_signs_in_once(server: TestServer, dns: DnsStub) {
        if !idp_available() {
            return;
        }
        let idp = connect(&server, &dns, true).await;
        let acs = format!("/saml/{}/acs", idp.connection.id);
        let browser = server.browser();
        let redirect = start(&browser, "alice@acme.test", "/account").await;
        let (response, relay) = idp.answer(&redirect, "alice@acme.test");
        let posts = (0..8).map(|_| {
            let b = server.browser();
            let (acs, response, relay) = (acs.clone(), response.clone(), relay.clone());
            async move { b.post_raw(&acs, &[("SAMLResponse", &response), ("RelayState", &relay)]).await.status }
        });
        let statuses = futures_util::future::join_all(posts).await;
        assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 7, "{statuses:?}");
    }
}

on_both_engines! {
    async fn connections_need_verified_domains_and_a_certificate(server: TestServer, dns: DnsStub) {
        crate::verified_user(&server, "boss@acme.test").await;
        crate::verified_user(&server, "boss@beta.test").await;
        let org = verified_org(&server, &dns, "Acme", "boss@acme.test", "acme.test").await;
        let admin = server.core.orgs().org_admin_as_site_admin(&server.site_admin(), &org.id).await.unwrap();
        let manual = |domains: Vec<&str>, certificates: Vec<String>| ConnectionRequest {
            name: "Manual".to_owned(),
            preset: Preset::Okta,
            source: IdpSource::Manual {
                entity_id: IDP_ENTITY.to_owned(),
                sso_url: IDP_SSO.to_owned(),
                certificates,
            },
            domains: domains.into_iter().map(str::to_owned).collect(),
            jit: false,
            allow_idp_initiated: false,
            allow_sha1: false,
            sign_requests: false,
            landing_client: None,
            mapping: None,
        };
        let cert = include_str!("../../../../interop/saml/keys/idp.crt").to_owned();
        let saml = server.core.saml();
        let err = saml.add_connection(&admin, manual(vec!["acme.test"], vec![])).await.unwrap_err();
        assert!(err.to_string().contains("signing certificate"), "{err}");
        let err = saml.add_connection(&admin, manual(vec!["other.test"], vec![cert.clone()])).await.unwrap_err();
        assert!(err.to_string().contains("not a verified domain"), "{err}");
        let first = saml.add_connection(&admin, manual(vec!["acme.test"], vec![cert.clone()])).await.unwrap();
        let err = saml.add_connection(&admin, manual(vec!["acme.test"], vec![cert])).await.unwrap_err();
        assert!(err.to_string().contains("already bound"), "{err}");
        assert_eq!(saml.list_connections(&admin).await.unwrap().len(), 1);
        // Another organization's admin sees nothing of it.
        let beta = verified_org(&server, &dns, "Beta", "boss@beta.test", "beta.test").await;
        let beta_admin = server.core.orgs().org_admin_as_site_admin(&server.site_admin(), &beta.id).await.unwrap();
        assert!(saml.connection(&beta_admin, &first.id).await.is_err());
        assert!(saml.remove_connection(&beta_admin, &first.id).await.is_err());
        saml.remove_connection(&admin, &first.id).await.unwrap();
        assert!(server.browser().get(&format!("/saml/{}/metadata", first.id)).await.status == 404);
    }
}

/// `latchkey org saml …` as the contract pins it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_manages_connections() {
    use crate::cli::{json, latchkey};
    let dns = DnsStub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let resolver = dns.addr.to_string();
    let env = [("LATCHKEY_DNS_SERVER", resolver.as_str())];
    let run = |args: &[&str]| latchkey(&d, args, None, &env);
    assert_eq!(run(&["user", "create", "--email", "it@corp.test", "--verified"]).code, 0);
    let org = json(&run(&["org", "create", "--name", "Corp", "--admin", "it@corp.test", "--json"]))
        ["org_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let added =
        json(&run(&["org", "domain", "add", "--org", &org, "--domain", "corp.test", "--json"]));
    dns.set_txt(
        "corp.test",
        &[&format!("latchkey-verification={}", added["token"].as_str().unwrap())],
    );
    assert_eq!(
        json(&run(&["org", "domain", "verify", "--org", &org, "--domain", "corp.test", "--json"]))
            ["status"],
        "verified"
    );
    let metadata = d.join("idp.xml");
    let cert = include_str!("../../../../interop/saml/keys/idp.crt");
    let body: String = cert.lines().filter(|l| !l.starts_with("-----")).collect();
    std::fs::write(
        &metadata,
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP_ENTITY}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{IDP_SSO}"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
        ),
    )
    .unwrap();
    let file = metadata.to_str().unwrap();
    let added = run(&[
        "org",
        "saml",
        "add",
        "--org",
        &org,
        "--name",
        "Corp IdP",
        "--domain",
        "corp.test",
        "--metadata-file",
        file,
        "--jit",
        "--json",
    ]);
    assert_eq!(added.code, 0, "{}", added.stderr);
    let doc = json(&added);
    let id = doc["connection_id"].as_str().unwrap().to_owned();
    assert!(doc["entity_id"].as_str().unwrap().ends_with(&format!("/saml/{id}/metadata")));
    assert!(doc["acs_url"].as_str().unwrap().ends_with(&format!("/saml/{id}/acs")));
    assert_eq!(doc["metadata_url"], doc["entity_id"]);
    assert_eq!(doc["jit"], true);
    assert_eq!(doc["allow_idp_initiated"], false);
    // An unverified domain is refused, and changes nothing.
    let refused = run(&[
        "org",
        "saml",
        "add",
        "--org",
        &org,
        "--name",
        "X",
        "--domain",
        "other.test",
        "--metadata-file",
        file,
    ]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("not a verified domain"), "{}", refused.stderr);
    let list = json(&run(&["org", "saml", "list", "--org", &org, "--json"]));
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
    // `--org` takes the organization's name as well as its id.
    let by_name = json(&run(&["org", "saml", "list", "--org", "corp", "--json"]));
    assert_eq!(by_name, list);
    let unknown = run(&["org", "saml", "list", "--org", "Nobody Inc"]);
    assert_ne!(unknown.code, 0);
    let shown = json(&run(&["org", "saml", "show", "--org", &org, "--connection", &id, "--json"]));
    assert_eq!(shown["idp_entity_id"], IDP_ENTITY);
    assert!(shown["sp_certificate"]["sha256"].as_str().is_some_and(|s| s.len() == 95), "{shown}");
    // Update: only what is given changes; a certificate is added, then the old one retired.
    let next = concat!(env!("CARGO_MANIFEST_DIR"), "/../../interop/saml/keys/other.crt");
    let updated = run(&[
        "org",
        "saml",
        "update",
        "--org",
        &org,
        "--connection",
        &id,
        "--jit=false",
        "--sign-requests",
        "--email-attribute",
        "mail",
        "--add-certificate",
        next,
        "--json",
    ]);
    assert_eq!(updated.code, 0, "{}", updated.stderr);
    let doc = json(&updated);
    assert_eq!((doc["jit"].clone(), doc["sign_requests"].clone()), (false.into(), true.into()));
    assert_eq!(doc["mapping"]["email"], "mail");
    assert_eq!(doc["name"], "Corp IdP");
    assert_eq!(doc["sp_certificate"], shown["sp_certificate"], "our key stays");
    let old = shown["certificates"][0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(doc["certificates"].as_array().unwrap().len(), 2);
    let retired = json(&run(&[
        "org",
        "saml",
        "update",
        "--org",
        &org,
        "--connection",
        &id,
        "--remove-certificate",
        &old,
        "--json",
    ]));
    assert_eq!(retired["certificates"].as_array().unwrap().len(), 1);
    assert_ne!(retired["certificates"][0]["sha256"], old.as_str());
    // The last certificate cannot go.
    let remaining = retired["certificates"][0]["sha256"].as_str().unwrap().to_owned();
    let refused = run(&[
        "org",
        "saml",
        "update",
        "--org",
        &org,
        "--connection",
        &id,
        "--remove-certificate",
        &remaining,
    ]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("certificate"), "{}", refused.stderr);
    assert_eq!(run(&["org", "saml", "remove", "--org", &org, "--connection", &id]).code, 0);
    let list = json(&run(&["org", "saml", "list", "--org", &org, "--json"]));
    assert!(list["connections"].as_array().unwrap().is_empty());
}

on_both_engines! {
    async fn the_admin_api_manages_connections(server: TestServer, dns: DnsStub) {
        use crate::admin_api::{call, site_admin_token};
        crate::verified_user(&server, "boss@acme.test").await;
        let org = verified_org(&server, &dns, "Acme", "boss@acme.test", "acme.test").await;
        let token = site_admin_token(&server, "ops@example.com").await;
        let cert = include_str!("../../../../interop/saml/keys/idp.crt");
        let base = format!("/orgs/{}/saml", org.id);
        let body = serde_json::json!({
            "name": "Okta", "preset": "okta", "domains": ["acme.test"],
            "entity_id": IDP_ENTITY, "sso_url": IDP_SSO, "certificates": [cert],
        });
        let (status, created) = call(&server, "POST", &base, Some(&token), Some(body.clone())).await;
        assert_eq!(status, 201, "{created}");
        let id = created["connection_id"].as_str().unwrap().to_owned();
        assert_eq!(created["mapping"]["given_name"], "firstName");
        let (status, again) = call(&server, "POST", &base, Some(&token), Some(body.clone())).await;
        assert_eq!((status, again["error"].as_str()), (409, Some("conflict")));
        let mut no_cert = body.clone();
        no_cert["certificates"] = serde_json::json!([]);
        let (status, err) = call(&server, "PUT", &format!("{base}/{id}"), Some(&token), Some(no_cert)).await;
        assert_eq!(status, 400, "{err}");
        let mut renamed = body.clone();
        renamed["name"] = serde_json::json!("Okta (prod)");
        renamed["jit"] = serde_json::json!(true);
        let (status, updated) = call(&server, "PUT", &format!("{base}/{id}"), Some(&token), Some(renamed)).await;
        assert_eq!((status, updated["name"].as_str(), updated["jit"].as_bool()), (200, Some("Okta (prod)"), Some(true)));
        assert_eq!(updated["connection_id"], created["connection_id"]);
        let (status, list) = call(&server, "GET", &base, Some(&token), None).await;
        assert_eq!((status, list["connections"].as_array().unwrap().len()), (200, 1));
        let (status, _) = call(&server, "DELETE", &format!("{base}/{id}"), Some(&token), None).await;
        assert_eq!(status, 204);
        let (status, _) = call(&server, "GET", &format!("{base}/{id}"), Some(&token), None).await;
        assert_eq!(status, 404);
        let (status, _) = call(&server, "GET", &base, None, None).await;
        assert_eq!(status, 401);
    }
}

on_both_engines! {
    async fn org_admins_add_test_and_remove_connections_in_the_console(server: TestServer, dns: DnsStub) {
        if !idp_available() {
            return;
        }
        let boss = crate::verified_user(&server, "boss@acme.test").await;
        let org = verified_org(&server, &dns, "Acme", "boss@acme.test", "acme.test").await;
        let console = format!("/admin/org/{}/saml", org.id);
        let page = boss.get(&console).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.contains("acme.test"));
        let metadata = idp(&["metadata", "--entity-id", IDP_ENTITY, "--sso-url", IDP_SSO]);
        let csrf = page.csrf();
        // Neither metadata nor URL: the reason, and nothing saved.
        let refused = boss.post_raw(&console, &[("csrf_token", &csrf), ("name", "Okta"), ("domains", "acme.test")]).await;
        assert_eq!(refused.status, 400);
        assert!(refused.contains("metadata"), "{}", refused.body);
        let saved = boss
            .post_raw(
                &console,
                &[("csrf_token", &csrf), ("name", "Acme IdP"), ("preset", "keycloak"), ("domains", "acme.test"), ("metadata_xml", &metadata), ("jit", "on")],
            )
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let page = boss.get(&console).await;
        let admin = server.core.orgs().org_admin_as_site_admin(&server.site_admin(), &org.id).await.unwrap();
        let connection = server.core.saml().list_connections(&admin).await.unwrap().pop().unwrap();
        assert!(page.contains(&format!("/saml/{}/acs", connection.id)), "{}", page.body);
        assert!(page.contains("Latchkey test IdP"), "the certificate's subject is shown");

        // "Test the connection": the IdP's answer is reported, nobody is signed in.
        let tested = boss.post_raw(&format!("{console}/test?connection={}", connection.id), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(tested.status, 303, "{}", tested.body);
        let sp_metadata = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(sp_metadata.path(), server.core.saml().sp_metadata(&connection.id).await.unwrap().unwrap()).unwrap();
        let idp_side = Idp { connection: connection.clone(), sp_metadata };
        let (response, relay) = idp_side.answer(tested.location().unwrap(), "dave@acme.test");
        let tab = server.browser();
        let report = tab.post_raw(&format!("/saml/{}/acs", connection.id), &[("SAMLResponse", &response), ("RelayState", &relay)]).await;
        assert_eq!(report.status, 200, "{}", report.body);
        assert!(report.contains("was verified") && report.contains("dave@acme.test would be signed in"), "{}", report.body);
        assert_eq!(tab.get("/account").await.status, 303, "a test signs nobody in");
        let site = server.site_admin();
        let dave = latchkey_core::accounts::Email::parse("dave@acme.test").unwrap();
        assert!(server.core.accounts().find_account(&site, &dave).await.unwrap().is_none());

        // Remove: a confirmation first, then gone.
        let confirm = boss.get(&format!("{console}/remove?connection={}", connection.id)).await;
        assert!(confirm.contains("Remove the connection"), "{}", confirm.body);
        let removed = boss.post_raw(&format!("{console}/remove?connection={}", connection.id), &[("csrf_token", &confirm.csrf())]).await;
        assert_eq!(removed.status, 303);
        assert!(server.core.saml().list_connections(&admin).await.unwrap().is_empty());
        // Another organization's connection is not found from this console.
        let missing = boss.get(&format!("{console}/remove?connection=nope")).await;
        assert_eq!(missing.status, 404);
    }
}

on_both_engines! {
    async fn sso_required_refuses_passwords_but_not_site_admins(server: TestServer, dns: DnsStub) {
        use latchkey_core::policies::{PolicyChange, PolicyEditor};
        let alice = crate::verified_user(&server, "alice@acme.test").await;
        drop(alice);
        crate::verified_user(&server, "boss@acme.test").await;
        let org = verified_org(&server, &dns, "Acme", "boss@acme.test", "acme.test").await;
        let site = server.site_admin();
        server
            .core
            .accounts()
            .create_account(
                &site,
                latchkey_core::flows::CreateAccountRequest {
                    email: latchkey_core::accounts::Email::parse("root@acme.test").unwrap(),
                    name: latchkey_core::accounts::DisplayName::parse("Root").unwrap(),
                    password: Some(latchkey_core::credentials::Password::parse(crate::PASSWORD).unwrap()),
                    email_verified: true,
                    site_admin: true,
                },
            )
            .await
            .unwrap();
        let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
        let mut settings = server.core.policies().list(PolicyEditor::Org(&admin)).await.unwrap()[0].settings;
        settings.sso_required = true;
        let change = PolicyChange { name: None, settings, require_new_password: false };
        server.core.policies().update(PolicyEditor::Org(&admin), "default", &change).await.unwrap();

        let browser = server.browser();
        let page = browser.submit("/login", "/login", &[("email", "alice@acme.test"), ("password", crate::PASSWORD)]).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(page.contains("identity provider"), "{}", page.body);
        assert_eq!(browser.get("/account").await.status, 303);
        // A wrong password still says only "incorrect".
        let wrong = server.browser().submit("/login", "/login", &[("email", "alice@acme.test"), ("password", "not-the-password-1")]).await;
        assert_eq!(wrong.status, 401);
        // Break-glass: the site admin on the same domain signs in with the password.
        server.browser().log_in("root@acme.test", crate::PASSWORD).await;
        // A reset request answers as always, and sends no link.
        let reset = server.browser().submit("/forgot-password", "/forgot-password", &[("email", "alice@acme.test")]).await;
        assert!(reset.status == 303 || reset.status == 200, "{}", reset.body);
        latchkey_testkit::eventually("the refused reset is audited", std::time::Duration::from_secs(10), || {
            let server = &server;
            async move { (!audit_events(server, "password.reset_refused").await.is_empty()).then_some(()) }
        })
        .await;
        assert!(server.mails_to("alice@acme.test").iter().all(|m| !m.subject.to_lowercase().contains("reset")));
    }
}

on_both_engines! {
    async fn org_admins_edit_mapping_settings_and_certificates(server: TestServer, dns: DnsStub) {
        let boss = crate::verified_user(&server, "boss@acme.test").await;
        let org = verified_org(&server, &dns, "Acme", "boss@acme.test", "acme.test").await;
        let admin = server.core.orgs().org_admin_as_site_admin(&server.site_admin(), &org.id).await.unwrap();
        let idp_cert = include_str!("../../../../interop/saml/keys/idp.crt");
        let next_cert = include_str!("../../../../interop/saml/keys/other.crt");
        let request = ConnectionRequest {
            name: "Okta".to_owned(),
            preset: Preset::Okta,
            source: IdpSource::Manual {
                entity_id: IDP_ENTITY.to_owned(),
                sso_url: IDP_SSO.to_owned(),
                certificates: vec![idp_cert.to_owned()],
            },
            domains: vec!["acme.test".to_owned()],
            jit: false,
            allow_idp_initiated: false,
            allow_sha1: false,
            sign_requests: false,
            landing_client: None,
            mapping: None,
        };
        let saml = server.core.saml();
        let created = saml.add_connection(&admin, request).await.unwrap();
        let key = created.sp_key.clone().expect("a new connection has its own key");
        let edit = format!("/admin/org/{}/saml/edit?connection={}", org.id, created.id);
        let page = boss.get(&edit).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.contains("firstName"), "the preset's mapping is shown: {}", page.body);
        // Key rollover at the IdP: add its next certificate, map the email from an attribute,
        // sign requests.
        let fields = |remove_first: bool, add: &str| {
            let mut f = vec![
                ("csrf_token", page.csrf()),
                ("name", "Okta (prod)".to_owned()),
                ("domains", "acme.test".to_owned()),
                ("jit", "on".to_owned()),
                ("sign_requests", "on".to_owned()),
                ("email_attribute", "mail".to_owned()),
                ("given_name", "givenName".to_owned()),
                ("family_name", "sn".to_owned()),
                ("display_name", String::new()),
                ("groups", "memberOf".to_owned()),
                ("add_certificate", add.to_owned()),
            ];
            if remove_first {
                f.push(("remove_certificate_0", "on".to_owned()));
            }
            f
        };
        let add = fields(false, next_cert);
        let saved = boss.post_raw(&edit, &add.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let updated = saml.connection(&admin, &created.id).await.unwrap();
        assert_eq!(updated.name, "Okta (prod)");
        assert_eq!(updated.certificates.len(), 2);
        assert!(updated.jit && updated.sign_requests);
        assert_eq!(updated.mapping.email.as_deref(), Some("mail"));
        assert_eq!(updated.mapping.display_name, None);
        assert_eq!(updated.mapping.groups.as_deref(), Some("memberOf"));
        assert_eq!(updated.sp_key.as_ref().unwrap().sealed, key.sealed, "our key survives an edit");
        // Removing every certificate is refused, with the reason, and changes nothing.
        let page = boss.get(&edit).await;
        let mut all = fields(true, "");
        all.push(("remove_certificate_1", "on".to_owned()));
        all[0].1 = page.csrf();
        let refused = boss.post_raw(&edit, &all.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(refused.contains("certificate"), "{}", refused.body);
        assert_eq!(saml.connection(&admin, &created.id).await.unwrap().certificates.len(), 2);
        // The old one retired after the switch.
        let mut retire = fields(true, "");
        retire[0].1 = page.csrf();
        let saved = boss.post_raw(&edit, &retire.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let updated = saml.connection(&admin, &created.id).await.unwrap();
        assert_eq!(updated.certificates.len(), 1);
        assert_ne!(updated.certificates[0].to_base64(), created.certificates[0].to_base64());
        // Another organization's admin cannot open it.
        let outsider = crate::verified_user(&server, "eve@beta.test").await;
        assert_eq!(outsider.get(&edit).await.status, 404);
    }
}

on_both_engines! {
    async fn idp_initiated_sign_ins_land_on_the_configured_product(server: TestServer, dns: DnsStub) {
        use latchkey_core::oidc_provider::GrantType;
        use latchkey_protocol::jose::SigningAlg;
        if !idp_available() {
            return;
        }
        let side = connect(&server, &dns, true).await;
        let wiki = crate::oidc::register(&server, "Wiki", false, SigningAlg::ES256, vec![GrantType::AuthorizationCode]).await;
        let admin = server.core.orgs().org_admin_as_site_admin(&server.site_admin(), &side.connection.org_id).await.unwrap();
        let c = &side.connection;
        let request = |landing: &str| ConnectionRequest {
            name: c.name.clone(),
            preset: c.preset,
            source: IdpSource::Manual {
                entity_id: c.idp_entity_id.clone(),
                sso_url: c.sso_url.clone(),
                certificates: c.certificates.iter().map(latchkey_protocol::saml::signature::Certificate::to_base64).collect(),
            },
            domains: vec!["acme.test".to_owned()],
            jit: true,
            allow_idp_initiated: true,
            allow_sha1: false,
            sign_requests: false,
            landing_client: Some(landing.to_owned()),
            mapping: None,
        };
        let saml = server.core.saml();
        let err = saml.update_connection(&admin, &c.id, request("no-such-product")).await.unwrap_err();
        assert!(err.to_string().contains("no product"), "{err}");
        saml.update_connection(&admin, &c.id, request(&wiki.id)).await.unwrap();

        let (entity_id, acs_url) = saml.sp_endpoints(c);
        let out = idp(&[
            "respond", "--entity-id", IDP_ENTITY, "--sso-url", IDP_SSO,
            "--sp-metadata", side.sp_metadata.path().to_str().unwrap(),
            "--email", "alice@acme.test", "--unsolicited", "--sp-entity-id", &entity_id, "--acs-url", &acs_url,
        ]);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        let browser = server.browser();
        let acs = format!("/saml/{}/acs", c.id);
        let landed = browser.post_raw(&acs, &[("SAMLResponse", doc["SAMLResponse"].as_str().unwrap())]).await;
        assert_eq!(landed.status, 303, "{}", landed.body);
        assert_eq!(landed.location(), Some(format!("/launch/{}", wiki.id).as_str()));
        let launch = browser.get(&format!("/launch/{}", wiki.id)).await;
        assert_eq!(launch.status, 303);
        assert_eq!(launch.location(), Some("http://127.0.0.1:9/"), "the product's site");
        assert!(browser.get("/account").await.contains("alice@acme.test"), "signed in to Latchkey");
        assert_eq!(server.browser().get("/launch/nope").await.status, 404);
    }
}

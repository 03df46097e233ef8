//! Who may act on whom: an organization's admin never acts on a site admin, nor on an admin of
//! another organization, even when their address is on the organization's verified domain.

use latchkey_core::accounts::{DisplayName, Email};
use latchkey_core::credentials::Password;
use latchkey_core::flows::CreateAccountRequest;
use latchkey_core::orgs::{ManagedAction, ManagedActionError, Organization};
use latchkey_testkit::{DnsStub, TestServer};

use crate::{PASSWORD, audit_events, verified_user};

/// A site-created organization whose domain is verified through the DNS stub.
pub async fn verified_org(
    server: &TestServer,
    dns: &DnsStub,
    name: &str,
    first_admin: &str,
    domain: &str,
) -> Organization {
    let site = server.site_admin();
    let org = server
        .core
        .orgs()
        .create_organization(&site, name, &Email::parse(first_admin).unwrap())
        .await
        .unwrap();
    let admin = server.core.orgs().org_admin_as_site_admin(&site, &org.id).await.unwrap();
    let added = server.core.orgs().add_domain(&admin, domain).await.unwrap();
    dns.set_txt(domain, &[&added.txt_record()]);
    let check = server.core.orgs().verify_domain(&admin, domain).await.unwrap();
    assert_eq!(check.domain.status.as_str(), "verified", "{}", check.detail);
    org
}

fn every_action() -> Vec<ManagedAction> {
    vec![
        ManagedAction::ChangeEmail(Email::parse("moved@acme.example").unwrap()),
        ManagedAction::SendPasswordReset,
        ManagedAction::ResetTwoFactor,
        ManagedAction::Rename(DisplayName::parse("Renamed").unwrap()),
        ManagedAction::Deactivate,
        ManagedAction::Close,
        ManagedAction::Reactivate,
    ]
}

on_both_engines! {
    async fn an_org_admin_never_acts_on_a_site_admin_or_another_orgs_admin(server: TestServer, dns: DnsStub) {
        let site = server.site_admin();
        // The site admin's own address is on the organization's domain.
        let root = Email::parse("root@acme.example").unwrap();
        server
            .core.accounts()
            .create_account(
                &site,
                CreateAccountRequest {
                    email: root.clone(),
                    name: DisplayName::parse("Root").unwrap(),
                    password: Some(Password::parse(PASSWORD).unwrap()),
                    email_verified: true,
                    site_admin: true,
                },
            )
            .await
            .unwrap();
        let boss = verified_user(&server, "boss@acme.example").await;
        let _rival = verified_user(&server, "rival@acme.example").await;
        let _worker = verified_user(&server, "worker@acme.example").await;
        let _outsider = verified_user(&server, "outsider@elsewhere.example").await;
        let acme = verified_org(&server, &dns, "Acme", "boss@acme.example", "acme.example").await;
        // rival@acme.example administers another organization.
        server
            .core.orgs()
            .create_organization(&site, "Beta", &Email::parse("rival@acme.example").unwrap())
            .await
            .unwrap();

        let boss_in = server.signed_in(&boss).await;
        let admin = server.core.orgs().org_admin_as(&boss_in, &acme.id).await.unwrap();
        assert!(!admin.is_site_admin());
        // Mail goes out in the background: wait for the "now managed" notice so a
        // late delivery is not mistaken for a reset link below.
        server.mail_to("root@acme.example", 1).await;
        let mails_to_root = server.mails_to("root@acme.example").len();
        for target in ["root@acme.example", "rival@acme.example"] {
            let target = Email::parse(target).unwrap();
            for action in every_action() {
                let refused = server.core.orgs().act_on_managed_account(&admin, &target, &action).await;
                assert!(
                    matches!(refused, Err(ManagedActionError::Protected)),
                    "{} on {target}: {refused:?}",
                    action.name()
                );
            }
        }
        // Accounts outside the organization stay "not found".
        let outsider = Email::parse("outsider@elsewhere.example").unwrap();
        for action in every_action() {
            let refused = server.core.orgs().act_on_managed_account(&admin, &outsider, &action).await;
            assert!(matches!(refused, Err(ManagedActionError::NotFound)), "{}: {refused:?}", action.name());
        }
        // Nothing happened to the site admin: same address, active, no mail, still signs in.
        let found = server.core.accounts().find_account(&site, &root).await.unwrap().expect("still there");
        assert_eq!(found.email, root);
        assert_eq!(found.name.as_str(), "Root");
        assert_eq!(found.status.as_str(), "active");
        assert_eq!(server.mails_to("root@acme.example").len(), mails_to_root, "no reset link went out");
        server.browser().log_in("root@acme.example", PASSWORD).await;

        // Each refusal is audited with its reason.
        let refusals = audit_events(&server, "account.action_refused").await;
        assert!(
            refusals.iter().filter(|e| e.details["reason"] == "the account is a site admin").count()
                >= every_action().len()
        );
        assert!(refusals.iter().any(|e| e.details["reason"] == "the account administers another organization"));

        // The same over the console: refused with 403, and the page offers no actions on them.
        let console = format!("/admin/org/{}", acme.id);
        let page = boss.get(&console).await;
        assert!(page.contains("only site administrators can change it"), "{}", page.body);
        let refused = boss
            .post_raw(
                &format!("{console}/accounts/action"),
                &[
                    ("csrf_token", &page.csrf()),
                    ("email", "root@acme.example"),
                    ("action", "change_email"),
                    ("new_email", "boss-owned@acme.example"),
                ],
            )
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert_eq!(server.core.accounts().find_account(&site, &root).await.unwrap().unwrap().email, root);

        // A worker is still the org admin's to manage; a site admin acting for the
        // organization may act on the site admin.
        let worker = Email::parse("worker@acme.example").unwrap();
        let renamed = ManagedAction::Rename(DisplayName::parse("Worker Bee").unwrap());
        server.core.orgs().act_on_managed_account(&admin, &worker, &renamed).await.unwrap();
        let as_site = server.core.orgs().org_admin_as_site_admin(&site, &acme.id).await.unwrap();
        server.core.orgs().act_on_managed_account(&as_site, &root, &renamed).await.unwrap();
    }
}

//! A product's bots and scripts that used their legacy accounts over basic auth keep working
//! through `POST /oauth/basic-auth/verify` while the account belongs to that one product:
//! checked against the imported hash, by the product's own username or by address.

use latchkey_core::legacy::{RawLegacyRecord, Rollout};

use super::{import, raw, rollout, vectors};
use crate::api_tokens::{product, reason, site_settings, verify};
use crate::audit_events;

fn named(id: &str, username: &str, email: &str, hash: &str) -> RawLegacyRecord {
    RawLegacyRecord { username: Some(username.into()), ..raw(id, email, hash) }
}

on_both_engines! {
    async fn a_legacy_bot_keeps_working_over_basic_auth_for_its_one_product(server: TestServer) {
        let tracker = product(&server, "Tracker").await;
        let wiki = product(&server, "Wiki").await;
        let v = vectors();
        let bcrypt = v.iter().find(|x| x.format.starts_with("bcrypt")).unwrap();
        let crowd = v.iter().find(|x| x.format == "crowd-pkcs5s2").unwrap();
        import(&server, &tracker.id, vec![
            named("B-1", "svc-build", "build@example.com", &bcrypt.hash),
            named("B-2", "svc-shared", "shared@example.com", &crowd.hash),
        ], false).await;
        import(&server, &wiki.id, vec![named("W-2", "shared", "shared@example.com", &crowd.hash)], false).await;

        // While the product is `legacy`, Latchkey does not answer for its records.
        assert_eq!(reason(&verify(&server, &tracker, "svc-build", &bcrypt.password).await), "unknown");
        rollout(&server, &tracker.id, Rollout::Upgrading).await;
        rollout(&server, &wiki.id, Rollout::Upgrading).await;

        for user in ["svc-build", "build@example.com", "svc-build"] {
            let answer = verify(&server, &tracker, user, &bcrypt.password).await;
            assert_eq!(answer["active"], true, "{user}: {answer}");
            assert_eq!((answer["credential"].as_str(), answer["legacy_user_id"].as_str()), (Some("password"), Some("B-1")), "{answer}");
            assert_eq!(answer["email"], "build@example.com");
            assert!(answer["sub"].as_str().is_some_and(|s| !s.is_empty()));
        }
        assert_eq!(reason(&verify(&server, &tracker, "svc-build", "not the password").await), "unknown");
        assert_eq!(reason(&verify(&server, &tracker, "svc-nobody", &bcrypt.password).await), "unknown");
        // The username is the product's own: another product does not know it, and the
        // address alone does not carry the old password there.
        assert_eq!(reason(&verify(&server, &wiki, "svc-build", &bcrypt.password).await), "unknown");
        assert_eq!(reason(&verify(&server, &wiki, "build@example.com", &bcrypt.password).await), "unknown");
        // Still good for its own product afterwards.
        assert_eq!(verify(&server, &tracker, "svc-build", &bcrypt.password).await["active"], true);

        // An address with records in two products is not one product's bot.
        let answer = verify(&server, &tracker, "svc-shared", &crowd.password).await;
        assert_eq!(reason(&answer), "bot_spans_products", "{answer}");
        assert!(!audit_events(&server, "basic_auth.failed").await.is_empty());

        // The site's ceiling applies to legacy passwords too.
        site_settings(&server, |s| s.password_basic_auth = false).await;
        assert_eq!(reason(&verify(&server, &tracker, "svc-build", &bcrypt.password).await), "policy_forbids");
    }
}

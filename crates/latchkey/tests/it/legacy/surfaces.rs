//! The import over the admin API (the body streamed) and in the site console (an upload, its
//! result page), with the rollout, the figures and the purge: what the CLI does, from the
//! other two surfaces, and hostile uploads refused line by line.

use latchkey_testkit::TestServer;
use serde_json::{Value, json};

use super::vectors;
use crate::admin_api::{call, site_admin_token};
use crate::api_tokens::product;
use crate::oidc::http;

fn jsonl(n: usize, hash: &str) -> String {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(
            &json!({"legacy_id": i, "email": format!("u{i}@example.com"), "password_hash": hash})
                .to_string(),
        );
        out.push('\n');
    }
    out
}

async fn upload(
    server: &TestServer,
    token: &str,
    client: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = http()
        .post(format!("{}/api/v1/clients/{client}/legacy/import{query}", server.url))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

on_both_engines! {
    async fn the_admin_api_streams_an_import_and_drives_the_rollout(server: TestServer) {
        let token = site_admin_token(&server, "ops@example.com").await;
        let tracker = product(&server, "Tracker").await;
        let hash = &vectors()[0].hash;
        // Three batches' worth, with a bad line, a huge line and bad bytes among them.
        let mut body = jsonl(2500, hash).into_bytes();
        body.extend_from_slice(b"not json\n");
        body.extend_from_slice(&vec![b'x'; 100 * 1024]);
        body.extend_from_slice(b"\n\xff\xfe\n");
        let (status, report) = upload(&server, &token, &tracker.id, "", "application/x-ndjson", body.clone()).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!((report["imported"].as_u64(), report["skipped"].as_u64()), (Some(2500), Some(3)), "{report}");
        let reasons: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
        assert!(reasons.iter().any(|r| r.contains("longer than")) && reasons.iter().any(|r| r.contains("UTF-8")), "{reasons:?}");
        let (_, again) = upload(&server, &token, &tracker.id, "", "application/x-ndjson", body).await;
        assert_eq!((again["imported"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2500)), "{again}");

        // CSV by ?format=, as a dry run.
        let csv = "legacy_id,email,password_hash\nc1,c1@example.com,x\n".as_bytes().to_vec();
        let (status, dry) = upload(&server, &token, &tracker.id, "?format=csv&dry_run=true", "application/octet-stream", csv).await;
        assert_eq!((status, dry["imported"].as_u64(), dry["dry_run"].as_bool()), (200, Some(1), Some(true)), "{dry}");

        // Refusals: an unknown product, no format, a CSV without its header, no token.
        assert_eq!(upload(&server, &token, "no-such-product", "", "text/csv", b"legacy_id,email\n".to_vec()).await.0, 404);
        assert_eq!(upload(&server, &token, &tracker.id, "", "text/plain", b"x".to_vec()).await.0, 415);
        let (status, err) = upload(&server, &token, &tracker.id, "", "text/csv", b"id,mail\n1,a@example.com\n".to_vec()).await;
        assert_eq!(status, 400, "{err}");
        assert!(err["error_description"].as_str().unwrap().contains("header"), "{err}");
        assert_eq!(upload(&server, "lka_nope", &tracker.id, "", "text/csv", b"legacy_id,email\n".to_vec()).await.0, 401);
        // A file refused at its header changes nothing, not even the product's state.
        let chat = product(&server, "Chat").await;
        assert_eq!(upload(&server, &token, &chat.id, "", "text/csv", b"id,mail\n".to_vec()).await.0, 400);
        let (_, figures) = call(&server, "GET", &format!("/clients/{}/legacy", chat.id), Some(&token), None).await;
        assert_eq!(figures["rollout"], Value::Null, "{figures}");

        // Figures, the rollout and the purge.
        let (status, figures) = call(&server, "GET", &format!("/clients/{}/legacy", tracker.id), Some(&token), None).await;
        assert_eq!(status, 200);
        assert_eq!((figures["records"].as_u64(), figures["rollout"].as_str()), (Some(2500), Some("legacy")), "{figures}");
        assert_eq!(figures["last_import"]["source"], "api");
        assert_eq!(figures["last_import"]["dry_run"], true, "the dry run was the last import");
        let path = format!("/clients/{}/rollout", tracker.id);
        assert_eq!(call(&server, "PUT", &path, Some(&token), Some(json!({"state": "sideways"}))).await.0, 400);
        let (status, body) = call(&server, "PUT", &path, Some(&token), Some(json!({"state": "upgrading"}))).await;
        assert_eq!((status, body["rollout"].as_str()), (200, Some("upgrading")));
        let (status, body) = call(&server, "POST", &format!("/clients/{}/legacy/purge", tracker.id), Some(&token), Some(json!({"dry_run": true}))).await;
        assert_eq!((status, body["purged"].as_u64()), (200, Some(0)), "nobody upgraded yet: {body}");

        // The OpenAPI document lists the new operations.
        let (_, doc) = call(&server, "GET", "/openapi.json", None, None).await;
        for p in ["/clients/{id}/legacy", "/clients/{id}/legacy/import", "/clients/{id}/rollout", "/clients/{id}/legacy/purge"] {
            assert!(doc["paths"].get(p).is_some(), "{p} documented");
        }
    }
}

on_both_engines! {
    async fn the_site_console_uploads_an_import_and_shows_its_result(server: TestServer) {
        crate::policies::account(&server, "root@example.com", true).await;
        let root = server.browser();
        root.log_in("root@example.com", crate::PASSWORD).await;
        let tracker = product(&server, "Tracker").await;
        let here = format!("/admin/products/{}/legacy", tracker.id);
        let page = root.get(&here).await;
        assert_eq!(page.status, 200);
        assert!(page.contains("Import") && page.contains("/assets/upload.js"), "{}", page.body);
        let csrf = page.csrf();
        let file = jsonl(30, &vectors()[0].hash);

        // Without the form's CSRF token, nothing is imported.
        let refused = root.post_multipart(&format!("{here}/import"), &[("csrf_token", "forged")], ("file", "users.jsonl", file.as_bytes())).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let (_, stats) = server.core.legacy().status(&server.site_admin(), &tracker.id).await.unwrap();
        assert_eq!(stats.records, 0);
        // A file whose format cannot be told.
        let page = root.post_multipart(&format!("{here}/import"), &[("csrf_token", &csrf)], ("file", "users.txt", file.as_bytes())).await;
        assert_eq!(page.status, 400);

        let page = root.post_multipart(&format!("{here}/import"), &[("csrf_token", &csrf)], ("file", "users.jsonl", file.as_bytes())).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let result = page.location().unwrap().to_owned();
        assert!(result.starts_with(&format!("{here}/imports/")), "{result}");
        let shown = root.get(&result).await;
        assert!(shown.contains("30 imported, 0 updated, 0 unchanged, 0 skipped"), "{}", shown.body);
        let page = root.get(&here).await;
        assert!(page.contains("30 imported") && page.contains("<strong>legacy</strong>"), "{}", page.body);
        let products = root.get("/admin/products").await;
        assert!(products.contains(&here), "the products page links the migration");

        // The rollout form, and the purge behind its confirmation.
        let page = root.submit(&here, &format!("/admin/products/{}/rollout", tracker.id), &[("state", "upgraded")]).await;
        assert_eq!(page.status, 303);
        assert!(root.get(&here).await.contains("<strong>upgraded</strong>"));
        let confirm = root.get(&format!("{here}/purge?older_than_days=1")).await;
        assert!(confirm.contains("Purge 0 old password hashes"), "{}", confirm.body);
        assert_eq!(root.get(&format!("{here}/purge?older_than_days=abc")).await.status, 400);
        let page = root.submit(&format!("{here}/purge?older_than_days=1"), &format!("{here}/purge?older_than_days=1"), &[]).await;
        assert_eq!(page.location(), Some(format!("{here}?notice=purged").as_str()), "{}", page.body);

        // People who are not site admins do not get the page.
        crate::policies::account(&server, "pat@example.com", false).await;
        let pat = server.browser();
        pat.log_in("pat@example.com", crate::PASSWORD).await;
        assert_ne!(pat.get(&here).await.status, 200);
    }
}

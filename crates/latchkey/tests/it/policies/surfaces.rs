//! Policies from the admin API and the command line: the same actions as the consoles, with
//! clear refusals for bad settings and for addresses an organization does not manage.

use std::process::{Command, Stdio};

use latchkey_testkit::DnsStub;
use serde_json::json;

use super::{account, acme};
use crate::admin_api::{call, site_admin_token};

on_both_engines! {
    async fn the_admin_api_edits_previews_and_assigns_policies(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        let _ = account(&server, "fay@acme.example", false).await;
        let token = site_admin_token(&server, "ops@example.com").await;
        let org = admin.org().id.clone();
        let t = Some(token.as_str());

        let (status, site) = call(&server, "GET", "/policy", t, None).await;
        assert_eq!((status, site["settings"]["password_min_length"].as_u64()), (200, Some(10)), "{site}");
        for (bad, needle) in [
            (json!({ "settings": { "password_min_length": 7 } }), "password_min_length"),
            (json!({ "settings": { "pasword_history": 2 } }), "unknown field"),
            (json!({ "settings": { "session_max_minutes": "lots" } }), "settings"),
            (json!({ "settings": [1, 2] }), "JSON object"),
        ] {
            let (status, body) = call(&server, "PATCH", "/policy", t, Some(bad.clone())).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert!(body["error_description"].as_str().unwrap().contains(needle), "{body}");
        }
        let (status, body) = call(&server, "PATCH", "/policy", t, Some(json!({ "settings": { "password_min_length": 12 } }))).await;
        assert_eq!((status, body["settings"]["password_min_length"].as_u64()), (200, Some(12)), "{body}");

        let (status, created) = call(&server, "POST", &format!("/orgs/{org}/policies"), t, Some(json!({ "name": "Contractors", "settings": { "password_max_age_days": 30 } }))).await;
        assert_eq!(status, 201, "{created}");
        let id = created["policy_id"].as_str().unwrap().to_owned();
        let (_, list) = call(&server, "GET", &format!("/orgs/{org}/policies"), t, None).await;
        let names: Vec<_> = list["policies"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, vec!["Default", "Contractors"]);

        let (status, preview) = call(&server, "PATCH", &format!("/orgs/{org}/policies/default"), t, Some(json!({ "require_new_password": true, "dry_run": true }))).await;
        assert_eq!(status, 200, "{preview}");
        assert_eq!(preview["preview"], json!({ "people": 2, "new_password": 2, "enrol_two_step": 0 }));
        let (_, unchanged) = call(&server, "GET", &format!("/orgs/{org}/policies/default"), t, None).await;
        assert!(unchanged["passwords_valid_after"].is_null(), "a dry run saves nothing");

        let (status, report) = call(&server, "POST", &format!("/orgs/{org}/policies/{id}/assign"), t, Some(json!({ "emails": ["fay@acme.example", "nobody@elsewhere.example", "not an address"] }))).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["assigned"], json!(["fay@acme.example"]));
        assert_eq!(report["refused"].as_array().unwrap().len(), 2);
        let (_, shown) = call(&server, "GET", &format!("/orgs/{org}/policies/{id}"), t, None).await;
        assert_eq!(shown["people"], 1);
        let (status, _) = call(&server, "GET", &format!("/orgs/{org}/policies/not-a-policy"), t, None).await;
        assert_eq!(status, 404);
        let (status, _) = call(&server, "GET", "/policy", None, None).await;
        assert_eq!(status, 401);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn latchkey(dir: &std::path::Path, dns: &str, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .current_dir(dir)
        .env_remove("LATCHKEY_CONFIG")
        .env("LATCHKEY_CONFIG", "fast.toml")
        .env("LATCHKEY_DATA_DIR", dir.join("data"))
        .env("LATCHKEY_DNS_SERVER", dns)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_of(run: &Run) -> serde_json::Value {
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

// The DNS stub answers on the runtime while the test thread waits on the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_manages_policies() {
    let dns = DnsStub::start().await;
    let dns_addr = dns.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("fast.toml"), "[passwords]\nmemory_kib = 256\niterations = 1\n").unwrap();
    let run = |args: &[&str], stdin: Option<&str>| latchkey(d, &dns_addr, args, stdin);
    let password = Some("correct horse battery staple\n");
    for who in ["boss@acme.example", "eve@acme.example"] {
        json_of(&run(
            &["user", "create", "--email", who, "--verified", "--password-stdin", "--json"],
            password,
        ));
    }
    let common = run(
        &["user", "create", "--email", "weak@acme.example", "--password-stdin"],
        Some("password123\n"),
    );
    assert_eq!(common.code, 1, "{}", common.stderr);
    assert!(common.stderr.contains("most common passwords"), "{}", common.stderr);

    let org = json_of(&run(
        &["org", "create", "--name", "Acme", "--admin", "boss@acme.example", "--json"],
        None,
    ));
    let org = org["org_id"].as_str().unwrap().to_owned();
    let added = json_of(&run(
        &["org", "domain", "add", "--org", &org, "--domain", "acme.example", "--json"],
        None,
    ));
    dns.set_txt(
        "acme.example",
        &[&format!("latchkey-verification={}", added["token"].as_str().unwrap())],
    );
    let verified = json_of(&run(
        &["org", "domain", "verify", "--org", &org, "--domain", "acme.example", "--json"],
        None,
    ));
    assert_eq!(verified["status"], "verified", "{verified}");

    let list = json_of(&run(&["org", "policy", "list", "--org", &org, "--json"], None));
    assert_eq!(list["policies"][0]["people"], 2);
    let created = json_of(&run(
        &[
            "org",
            "policy",
            "create",
            "--org",
            &org,
            "--name",
            "Engineering",
            "--password-min-length",
            "14",
            "--require-two-step",
            "--two-step-grace-days",
            "3",
            "--json",
        ],
        None,
    ));
    let id = created["policy_id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            created["settings"]["password_min_length"].as_u64(),
            created["settings"]["require_two_step"].as_bool()
        ),
        (Some(14), Some(true))
    );

    let dry = json_of(&run(
        &[
            "org",
            "policy",
            "update",
            "--org",
            &org,
            "--policy",
            "default",
            "--password-max-age-days",
            "90",
            "--require-new-password",
            "--dry-run",
            "--json",
        ],
        None,
    ));
    assert_eq!(dry["preview"]["new_password"], 2, "{dry}");
    let saved = json_of(&run(
        &[
            "org",
            "policy",
            "update",
            "--org",
            &org,
            "--policy",
            "default",
            "--password-max-age-days",
            "90",
            "--json",
        ],
        None,
    ));
    assert_eq!(saved["settings"]["password_max_age_days"], 90);
    assert!(saved["passwords_valid_after"].is_null());

    let assigned = json_of(&run(
        &[
            "org",
            "policy",
            "assign",
            "--org",
            &org,
            "--policy",
            &id,
            "--email",
            "eve@acme.example",
            "--json",
        ],
        None,
    ));
    assert_eq!(assigned["assigned"], serde_json::json!(["eve@acme.example"]));
    std::fs::write(
        d.join("list.txt"),
        "# people to move\nboss@acme.example\n\nsomeone@else.example\n",
    )
    .unwrap();
    let from_file = json_of(&run(
        &[
            "org",
            "policy",
            "assign",
            "--org",
            &org,
            "--policy",
            &id,
            "--emails-file",
            "list.txt",
            "--json",
        ],
        None,
    ));
    assert_eq!(from_file["assigned"], serde_json::json!(["boss@acme.example"]));
    let outside = run(
        &["org", "policy", "assign", "--org", &org, "--policy", &id, "--email", "x@else.example"],
        None,
    );
    assert_eq!(outside.code, 1, "nothing assigned: {}", outside.stdout);

    let bad = run(
        &["org", "policy", "update", "--org", &org, "--policy", &id, "--password-min-length", "7"],
        None,
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("password_min_length"), "{}", bad.stderr);
    let site = json_of(&run(
        &[
            "policy",
            "update",
            "--session-max-minutes",
            "720",
            "--session-idle-minutes",
            "60",
            "--json",
        ],
        None,
    ));
    assert_eq!(site["settings"]["session_max_minutes"], 720);
    let shown = json_of(&run(&["policy", "show", "--json"], None));
    assert_eq!(shown["settings"]["session_idle_minutes"], 60);
}

on_both_engines! {
    async fn the_console_previews_before_saving_and_refuses_hostile_forms(server: TestServer, dns: DnsStub) {
        let admin = acme(&server, &dns).await;
        let org = admin.org().id.clone();
        let _ = account(&server, "gus@acme.example", false).await;
        let boss = server.browser();
        boss.log_in("boss@acme.example", crate::PASSWORD).await;
        let base = format!("/admin/org/{org}/policies");
        let page = boss.get(&base).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.csrf();
        let form = |extra: &[(&'static str, &'static str)]| {
            let mut fields = vec![
                ("policy", "default"),
                ("password_min_length", "12"),
                ("password_min_strength", "0"),
                ("password_history", "0"),
                ("password_max_age_days", "0"),
                ("two_step_grace_days", "0"),
                ("session_max_minutes", "43200"),
                ("session_idle_minutes", "10080"),
                ("api_tokens", "on"),
                ("api_token_max_days", "365"),
                ("password_basic_auth", "on"),
            ];
            for (k, v) in extra {
                fields.retain(|(f, _)| f != k);
                fields.push((k, v));
            }
            fields
        };
        let post = |fields: Vec<(&'static str, &'static str)>| {
            let boss = &boss;
            let csrf = csrf.clone();
            let action = format!("{base}/edit");
            async move {
                let mut all = vec![("csrf_token", csrf.as_str())];
                all.extend(fields.iter().map(|(k, v)| (*k, *v)));
                boss.post_raw(&action, &all).await
            }
        };
        for (bad, reason) in [
            (vec![("password_min_length", "twelve")], "enter a whole number"),
            (vec![("password_min_length", "7")], "between 8 and 128"),
            (vec![("session_idle_minutes", "99999")], "maximum session length"),
            (vec![("password_history", "-1")], "enter a whole number"),
            (vec![("api_token_max_days", "0")], "between 1 and 3650"),
            (vec![("policy", "another-orgs-policy")], "No such policy"),
        ] {
            let page = post(form(&bad)).await;
            assert_eq!(page.status, 400, "{bad:?}");
            assert!(page.body.contains(reason), "{bad:?}: {}", page.body);
        }
        // The first press previews and saves nothing; the second saves.
        let preview = post(form(&[("require_new_password", "on")])).await;
        assert_eq!(preview.status, 200);
        assert!(preview.body.contains("require 2 of them to choose a new password"), "{}", preview.body);
        let stored = server.core.policies().show(latchkey_core::policies::PolicyEditor::Org(&admin), "default").await.unwrap();
        assert_eq!(stored.settings.password_min_length, 10, "a preview saves nothing");
        let saved = post(form(&[("confirm", "1")])).await;
        assert_eq!(saved.status, 303);
        assert!(saved.location().unwrap().contains("notice=saved"));
        let stored = server.core.policies().show(latchkey_core::policies::PolicyEditor::Org(&admin), "default").await.unwrap();
        assert_eq!(stored.settings.password_min_length, 12);

        // The console's account list says who is under which policy.
        let created = server.core.policies().create(latchkey_core::policies::PolicyEditor::Org(&admin), "Contractors", latchkey_core::policies::PolicySettings::default()).await.unwrap();
        server.core.policies().assign(&admin, &created.policy_id, &["gus@acme.example".to_owned()]).await.unwrap();
        let console = boss.get(&format!("/admin/org/{org}")).await;
        let gus_row = console.body.split("gus@acme.example").nth(1).unwrap().split("</tr>").next().unwrap();
        assert!(gus_row.contains("<td>Contractors</td>"), "{gus_row}");

        // Someone who does not administer the organization gets "not found".
        let gus = server.browser();
        gus.log_in("gus@acme.example", crate::PASSWORD).await;
        assert_eq!(gus.get(&base).await.status, 404);
        assert_eq!(gus.get("/admin/policy").await.status, 403);
    }
}

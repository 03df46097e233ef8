//! The command line as operators' scripts use it: exit codes, `--json`, shared database.

use std::io::Write as _;
use std::process::{Command, Stdio};

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn latchkey(
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("LATCHKEY_CONFIG")
        .env("LATCHKEY_DATA_DIR", dir.join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub(crate) fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", run.stdout))
}

#[test]
fn user_commands_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fast = [("LATCHKEY_CONFIG", "fast.toml")];
    std::fs::write(d.join("fast.toml"), "[passwords]\nmemory_kib = 256\niterations = 1\n").unwrap();

    let created = latchkey(
        d,
        &[
            "user",
            "create",
            "--email",
            "Root@Example.com",
            "--name",
            "Root",
            "--password-stdin",
            "--verified",
            "--site-admin",
            "--json",
        ],
        Some("a-long-password\n"),
        &fast,
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let v = json(&created);
    assert_eq!(v["email"], "Root@example.com");
    assert_eq!(v["email_verified"], true);
    assert_eq!(v["status"], "active");
    assert!(v["managed_by"].is_null());
    assert!(v["id"].as_str().unwrap().len() >= 32);

    let dup =
        latchkey(d, &["--json", "user", "create", "--email", "root@example.com"], None, &fast);
    assert_eq!(dup.code, 1, "refused: {}", dup.stderr);
    assert!(dup.stderr.contains("already exists"));
    assert_eq!(dup.stderr.trim().lines().count(), 1);

    let bad = latchkey(d, &["user", "create", "--email", "not-an-email"], None, &fast);
    assert_eq!(bad.code, 2);
    let short = latchkey(
        d,
        &["user", "create", "--email", "p@example.com", "--password-stdin"],
        Some("short\r\n"),
        &fast,
    );
    assert_eq!(short.code, 2, "{}", short.stderr);
    let usage = latchkey(d, &["user", "frobnicate"], None, &fast);
    assert_eq!(usage.code, 2);

    let shown = latchkey(d, &["user", "show", "ROOT@example.com", "--json"], None, &fast);
    assert_eq!(shown.code, 0);
    assert_eq!(json(&shown)["id"], v["id"]);
    let missing = latchkey(d, &["user", "show", "nobody@example.com", "--json"], None, &fast);
    assert_eq!(missing.code, 1);
    assert!(missing.stdout.is_empty());

    latchkey(d, &["user", "create", "--email", "second@example.com"], None, &fast);
    let listed = latchkey(d, &["user", "list", "--json"], None, &fast);
    assert_eq!(listed.code, 0);
    let users = json(&listed)["users"].as_array().unwrap().clone();
    assert_eq!(users.len(), 2);
    let second = users.iter().find(|u| u["email"] == "second@example.com").unwrap();
    assert_eq!(second["email_verified"], false);

    let off = latchkey(d, &["user", "deactivate", "second@example.com", "--json"], None, &fast);
    assert_eq!(off.code, 0);
    assert_eq!(json(&off)["status"], "deactivated");

    let migrated = latchkey(d, &["migrate", "--json"], None, &fast);
    assert_eq!(migrated.code, 0);
    assert_eq!(json(&migrated)["migrated"], true);
}

#[test]
fn bad_configuration_exits_2_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("LATCHKEY_LISTEN", "not-an-address"),
        ("LATCHKEY_DATABASE_URL", "mysql://nope"),
        ("LATCHKEY_PUBLIC_URL", "example.com"),
        ("LATCHKEY_SMTP_URL", "http://mail.example.com"),
    ] {
        let run = latchkey(dir.path(), &["user", "list"], None, &[(var, value)]);
        assert_eq!(run.code, 2, "{var}");
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(var), "{}", run.stderr);
    }
}

#[test]
fn a_postgres_database_can_be_shared_by_cli_and_server() {
    let Some(admin) = latchkey_testkit::postgres_url() else {
        eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(latchkey_testkit::FreshDatabase::create(&admin));
    let dir = tempfile::tempdir().unwrap();
    let env = [("LATCHKEY_DATABASE_URL", db.url.as_str())];
    let created = latchkey(
        dir.path(),
        &["user", "create", "--email", "pg@example.com", "--json"],
        None,
        &env,
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let shown = latchkey(dir.path(), &["user", "show", "pg@example.com", "--json"], None, &env);
    assert_eq!(json(&shown)["email"], "pg@example.com");
    drop(db);
}

#[test]
fn client_and_key_commands_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let web = latchkey(
        d,
        &[
            "client",
            "create",
            "--name",
            "Tracker",
            "--redirect-uri",
            "https://tracker.example.com/cb",
            "--redirect-uri",
            "http://127.0.0.1:3000/cb",
            "--backchannel-logout-uri",
            "https://tracker.example.com/bc",
            "--json",
        ],
        None,
        &[],
    );
    assert_eq!(web.code, 0, "{}", web.stderr);
    let v = json(&web);
    assert!(v["client_id"].as_str().unwrap().len() >= 32);
    assert_eq!(v["client_secret"].as_str().unwrap().len(), 43, "256 bits, base64url");
    assert_eq!(v["redirect_uris"].as_array().unwrap().len(), 2);

    let bot = latchkey(
        d,
        &["client", "create", "--name", "Bot", "--grant", "client_credentials", "--json"],
        None,
        &[],
    );
    assert_eq!(bot.code, 0, "a client_credentials client needs no redirect URI: {}", bot.stderr);
    let spa = latchkey(
        d,
        &[
            "client",
            "create",
            "--name",
            "SPA",
            "--public",
            "--redirect-uri",
            "http://localhost:5173/cb",
            "--json",
        ],
        None,
        &[],
    );
    assert_eq!(spa.code, 0, "{}", spa.stderr);
    assert!(json(&spa)["client_secret"].is_null());

    for bad in [
        vec!["client", "create", "--name", "X"],
        vec!["client", "create", "--name", "X", "--redirect-uri", "http://evil.example/cb"],
        vec!["client", "create", "--name", "X", "--redirect-uri", "https://x.example/cb#frag"],
        vec![
            "client",
            "create",
            "--name",
            "X",
            "--redirect-uri",
            "https://x.example/cb",
            "--grant",
            "password",
        ],
    ] {
        let run = latchkey(d, &bad, None, &[]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
    }
    let listed = latchkey(d, &["client", "list", "--json"], None, &[]);
    assert_eq!(json(&listed)["clients"].as_array().unwrap().len(), 3);

    // The life cycle after registration: update (only what is given), a new secret, disable,
    // show, delete; bad input exits 2 and changes nothing, an unknown product exits 1.
    let id = json(&bot)["client_id"].as_str().unwrap().to_owned();
    let old_secret = json(&bot)["client_secret"].as_str().unwrap().to_owned();
    let run = |args: &[&str]| latchkey(d, args, None, &[]);
    let updated = run(&[
        "client",
        "update",
        "--client",
        &id,
        "--name",
        "Nightly bot",
        "--scope",
        "reports.read",
        "--json",
    ]);
    assert_eq!(updated.code, 0, "{}", updated.stderr);
    assert_eq!(
        (json(&updated)["name"].as_str(), json(&updated)["scopes"].clone()),
        (Some("Nightly bot"), serde_json::json!(["reports.read"]))
    );
    let bad = run(&["client", "update", "--client", &id, "--logo-uri", "http://cdn.example/x.png"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(run(&["client", "update", "--client", "nope", "--name", "X"]).code, 1);
    let rotated = run(&["client", "rotate-secret", "--client", &id, "--json"]);
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    assert_ne!(json(&rotated)["client_secret"].as_str().unwrap(), old_secret);
    assert_eq!(run(&["client", "disable", "--client", &id]).code, 0);
    let shown = run(&["client", "show", "--client", &id, "--json"]);
    assert_eq!(
        (json(&shown)["enabled"].as_bool(), json(&shown)["name"].as_str()),
        (Some(false), Some("Nightly bot"))
    );
    assert_eq!(json(&shown)["usage"]["signed_in_people"].as_u64(), Some(0));
    assert_eq!(run(&["client", "enable", "--client", &id]).code, 0);
    let deleted = run(&["client", "delete", "--client", &id, "--json"]);
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert_eq!(run(&["client", "show", "--client", &id]).code, 1);
    let listed = run(&["client", "list", "--json"]);
    assert_eq!(json(&listed)["clients"].as_array().unwrap().len(), 2);

    let queue = latchkey(d, &["deliveries", "list", "--queue", "mail", "--json"], None, &[]);
    assert_eq!(queue.code, 0, "{}", queue.stderr);
    assert!(json(&queue)["deliveries"].is_array());
    let retried = latchkey(d, &["deliveries", "retry", "--queue", "logout", "--json"], None, &[]);
    assert_eq!(json(&retried)["retried"], 0);
    assert_eq!(latchkey(d, &["deliveries", "retry", "--queue", "pigeons"], None, &[]).code, 2);

    let rotated = latchkey(d, &["keys", "rotate", "--json"], None, &[]);
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    assert_eq!(json(&rotated)["keys"].as_array().unwrap().len(), 3);
}

#[test]
fn admin_tokens_are_issued_to_site_admins_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fast = [("LATCHKEY_CONFIG", "fast.toml")];
    std::fs::write(d.join("fast.toml"), "[passwords]\nmemory_kib = 256\niterations = 1\n").unwrap();
    for (email, admin) in [("root@example.com", true), ("plain@example.com", false)] {
        let mut args = vec!["user", "create", "--email", email];
        if admin {
            args.push("--site-admin");
        }
        assert_eq!(latchkey(d, &args, None, &fast).code, 0);
    }
    let issued = latchkey(
        d,
        &["admin-token", "create", "--email", "root@example.com", "--json"],
        None,
        &fast,
    );
    assert_eq!(issued.code, 0, "{}", issued.stderr);
    let token = json(&issued)["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("lka_") && token.len() == 47, "{token}");
    let plain =
        latchkey(d, &["admin-token", "create", "--email", "plain@example.com"], None, &fast);
    assert_eq!(plain.code, 1, "not a site admin: {}", plain.stderr);
    let unknown =
        latchkey(d, &["admin-token", "create", "--email", "who@example.com"], None, &fast);
    assert_eq!(unknown.code, 1);
    let listed = latchkey(d, &["admin-token", "list", "--json"], None, &fast);
    assert!(!listed.stdout.contains(&token[4..]), "listings never show the token");
    let id = json(&issued)["id"].as_str().unwrap().to_owned();
    assert_eq!(latchkey(d, &["admin-token", "revoke", &id], None, &fast).code, 0);
    assert_eq!(
        latchkey(d, &["admin-token", "revoke", &id], None, &fast).code,
        1,
        "already revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_and_domain_commands_follow_the_contract() {
    let dns = latchkey_testkit::DnsStub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let server = dns.addr.to_string();
    let env = [("LATCHKEY_DNS_SERVER", server.as_str())];
    assert_eq!(
        latchkey(&d, &["user", "create", "--email", "it@corp.example", "--verified"], None, &env)
            .code,
        0
    );
    let created = latchkey(
        &d,
        &["org", "create", "--name", "Corp", "--admin", "it@corp.example", "--json"],
        None,
        &env,
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let org = json(&created)["org_id"].as_str().unwrap().to_owned();
    let added = latchkey(
        &d,
        &["org", "domain", "add", "--org", &org, "--domain", "Corp.Example", "--json"],
        None,
        &env,
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    let added = json(&added);
    assert_eq!(
        (added["domain"].as_str(), added["status"].as_str()),
        (Some("corp.example"), Some("pending"))
    );
    let token = added["token"].as_str().unwrap().to_owned();

    let check = latchkey(
        &d,
        &["org", "domain", "verify", "--org", &org, "--domain", "corp.example", "--json"],
        None,
        &env,
    );
    assert_eq!(check.code, 0, "a check that finds nothing still did its work: {}", check.stderr);
    assert_eq!(json(&check)["status"], "pending");
    dns.set_txt("corp.example", &[&format!("latchkey-verification={token}")]);
    let check = latchkey(
        &d,
        &["org", "domain", "verify", "--org", &org, "--domain", "corp.example", "--json"],
        None,
        &env,
    );
    assert_eq!(json(&check)["status"], "verified", "{}", check.stdout);

    // The managed accounts, and an admin action on one of them.
    let listed = latchkey(&d, &["org", "account", "list", "--org", &org, "--json"], None, &env);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let accounts = json(&listed)["accounts"].as_array().unwrap().clone();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["email"], "it@corp.example");
    assert_eq!(accounts[0]["products"], serde_json::json!([]));
    let who = ["--org", org.as_str(), "--email", "it@corp.example"];
    let acted = latchkey(
        &d,
        &[&["org", "account", "deactivate"], &who[..], &["--json"]].concat(),
        None,
        &env,
    );
    assert_eq!(acted.code, 0, "{}", acted.stderr);
    assert_eq!(json(&acted)["status"], "deactivated");
    let acted = latchkey(
        &d,
        &[&["org", "account", "reactivate"], &who[..], &["--json"]].concat(),
        None,
        &env,
    );
    assert_eq!(json(&acted)["status"], "active");
    let renamed = latchkey(
        &d,
        &[&["org", "account", "rename"], &who[..], &["--name", "IT desk"]].concat(),
        None,
        &env,
    );
    assert_eq!(renamed.code, 0, "{}", renamed.stderr);
    let moved = latchkey(
        &d,
        &[&["org", "account", "change-email"], &who[..], &["--new-email", "it@gmail.com"]].concat(),
        None,
        &env,
    );
    assert_eq!(moved.code, 1, "off the organization's domains: refused");
    let outsider = latchkey(
        &d,
        &["org", "account", "deactivate", "--org", &org, "--email", "ghost@elsewhere.example"],
        None,
        &env,
    );
    assert_eq!((outsider.code, outsider.stderr.trim()), (1, "latchkey: No such managed account."));

    // The audit log, as the console filters and exports it.
    let log = latchkey(&d, &["audit", "--org", &org, "--json"], None, &env);
    assert_eq!(log.code, 0, "{}", log.stderr);
    let events = json(&log)["events"].as_array().unwrap().clone();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for kind in
        ["domain.verified", "account.deactivated", "account.reactivated", "account.action_refused"]
    {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let lines = latchkey(&d, &["audit", "--event", "account.deactivated"], None, &env);
    assert_eq!(lines.stdout.lines().count(), 1, "JSON Lines: {}", lines.stdout);
    let csv = latchkey(&d, &["audit", "--person", "it@corp.example", "--csv"], None, &env);
    assert!(csv.stdout.starts_with("id,time,event,"), "{}", csv.stdout);
    assert!(csv.stdout.contains("account.renamed"));
    assert_eq!(latchkey(&d, &["audit", "--from", "yesterday"], None, &env).code, 2);
    assert_eq!(latchkey(&d, &["audit", "--org", "no-such-org"], None, &env).code, 1);

    for bad in [
        vec!["org", "domain", "add", "--org", &org, "--domain", "gmail.com"],
        vec!["org", "create", "--name", "X", "--admin", "not-an-email"],
    ] {
        assert_eq!(latchkey(&d, &bad, None, &env).code, 2, "{bad:?}");
    }
    let missing = latchkey(
        &d,
        &["org", "domain", "add", "--org", "no-such-org", "--domain", "x.example"],
        None,
        &env,
    );
    assert_eq!(missing.code, 1);
    let unknown_admin = latchkey(
        &d,
        &["org", "create", "--name", "Y", "--admin", "ghost@corp.example"],
        None,
        &env,
    );
    assert_eq!(unknown_admin.code, 1);

    // Taking away: the last admin stays (exit 1), a domain goes, then the organization.
    let last = latchkey(
        &d,
        &["org", "admin", "remove", "--org", &org, "--email", "it@corp.example"],
        None,
        &env,
    );
    assert_eq!(last.code, 1, "{}", last.stderr);
    assert!(last.stderr.contains("last administrator"), "{}", last.stderr);
    let removed = latchkey(
        &d,
        &["org", "domain", "remove", "--org", &org, "--domain", "corp.example", "--json"],
        None,
        &env,
    );
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert_eq!(json(&removed)["changed"]["verified"], true);
    let deleted = latchkey(&d, &["org", "delete", "--org", "Corp", "--json"], None, &env);
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert_eq!(json(&deleted)["ended"]["admins"], 1);
    assert_eq!(latchkey(&d, &["org", "delete", "--org", &org], None, &env).code, 1);
}

#[test]
fn close_and_reactivate_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(latchkey(d, &["user", "create", "--email", "c@example.com"], None, &[]).code, 0);
    let closed = latchkey(d, &["user", "close", "c@example.com", "--json"], None, &[]);
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert_eq!(json(&closed)["status"], "closed");
    assert_eq!(
        latchkey(d, &["user", "close", "c@example.com"], None, &[]).code,
        1,
        "already closed"
    );
    let shown = latchkey(d, &["user", "show", "c@example.com", "--json"], None, &[]);
    assert_eq!(json(&shown)["status"], "closed");
    let back = latchkey(d, &["user", "reactivate", "c@example.com", "--json"], None, &[]);
    assert_eq!(json(&back)["status"], "active");
    assert_eq!(latchkey(d, &["user", "close", "nobody@example.com"], None, &[]).code, 1);
    assert_eq!(latchkey(d, &["user", "close", "not an email"], None, &[]).code, 2);
}

#[test]
fn api_token_and_bot_commands_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str], stdin: Option<&str>| latchkey(d, args, stdin, &[]);
    let product = json(&run(
        &[
            "client",
            "create",
            "--name",
            "Tracker",
            "--redirect-uri",
            "https://t.example/cb",
            "--json",
        ],
        None,
    ));
    let client = product["client_id"].as_str().unwrap().to_owned();
    let made = run(
        &[
            "user",
            "create",
            "--email",
            "ann@example.com",
            "--verified",
            "--password-stdin",
            "--json",
        ],
        Some("correct horse battery staple\n"),
    );
    assert_eq!(made.code, 0, "{}", made.stderr);

    let created = run(
        &[
            "api-token",
            "create",
            "--email",
            "ann@example.com",
            "--name",
            "deploys",
            "--expires-days",
            "30",
            "--client",
            &client,
            "--json",
        ],
        None,
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let created = json(&created);
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["token"].as_str().unwrap().starts_with("lkp_"), "{created}");
    assert_eq!(created["products"], serde_json::json!([client]));

    let listed = json(&run(&["api-token", "list", "--email", "ann@example.com", "--json"], None));
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!((tokens.len(), tokens[0]["state"].as_str()), (1, Some("active")));
    assert!(tokens[0].get("token").is_none() && !listed.to_string().contains("lkp_"), "{listed}");

    let revoked =
        run(&["api-token", "revoke", "--email", "ann@example.com", "--id", &id, "--json"], None);
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    let again = run(&["api-token", "revoke", "--email", "ann@example.com", "--id", &id], None);
    assert_eq!(again.code, 1, "a revoked token cannot be revoked twice");
    let listed = json(&run(&["api-token", "list", "--email", "ann@example.com", "--json"], None));
    assert_eq!(listed["tokens"][0]["state"], "revoked");

    for (args, code) in [
        (
            vec![
                "api-token",
                "create",
                "--email",
                "ann@example.com",
                "--name",
                "x",
                "--expires-days",
                "0",
            ],
            2,
        ),
        (
            vec![
                "api-token",
                "create",
                "--email",
                "ann@example.com",
                "--name",
                "x",
                "--client",
                "nope",
            ],
            2,
        ),
        (vec!["api-token", "create", "--email", "ann@example.com", "--name", "bad\u{202e}name"], 2),
        (vec!["api-token", "create", "--email", "nobody@example.com", "--name", "x"], 1),
        (vec!["api-token", "create", "--email", "not an address", "--name", "x"], 2),
    ] {
        let out = run(&args, None);
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.trim().is_empty());
    }

    let bot = run(&["bot", "create", "--name", "Release bot", "--json"], None);
    assert_eq!(bot.code, 0, "{}", bot.stderr);
    let bot = json(&bot);
    let username = bot["email"].as_str().unwrap().to_owned();
    assert!(bot["id"].is_string() && username.ends_with("@bots.invalid"), "{bot}");
    let token =
        json(&run(&["api-token", "create", "--email", &username, "--name", "ci", "--json"], None));
    assert!(token["token"].as_str().unwrap().starts_with("lkp_"));
    let unknown_org = run(&["bot", "create", "--name", "x", "--org", "no-such-org"], None);
    assert_eq!(unknown_org.code, 1, "{}", unknown_org.stderr);
    let bots = json(&run(&["bot", "list", "--json"], None));
    assert_eq!(bots["bots"].as_array().unwrap().len(), 1);
}

#[test]
fn legacy_import_rollout_and_status_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| latchkey(d, args, None, &[]);
    let product = json(&run(&[
        "client",
        "create",
        "--name",
        "Tracker",
        "--redirect-uri",
        "https://t.example/cb",
        "--json",
    ]));
    let client = product["client_id"].as_str().unwrap().to_owned();
    let bcrypt = "$2b$04$yrNbPCmYgAXB0mprjXNTtu7WhCwbzVQzvt1evClx.VfGp5w4xIHiO";
    let jsonl = d.join("users.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{}\n{}\n\n{}\nnot json\n",
            serde_json::json!({"legacy_id": 1, "username": "ann", "email": "ann@example.com", "name": "Ann", "password_hash": bcrypt, "active": true, "created_at": "2019-05-01T10:00:00Z", "last_login_at": 1_700_000_000_i64}),
            serde_json::json!({"legacy_id": "2", "email": "bob@example.com", "password_hash": "md5:1234"}),
            serde_json::json!({"legacy_id": "3", "email": "nope"}),
        ),
    )
    .unwrap();
    let dry = run(&[
        "client",
        "import",
        "--client",
        &client,
        jsonl.to_str().unwrap(),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let dry = json(&dry);
    assert_eq!(
        (dry["imported"].as_u64(), dry["skipped"].as_u64(), dry["dry_run"].as_bool()),
        (Some(2), Some(2), Some(true)),
        "{dry}"
    );
    let done =
        json(&run(&["client", "import", "--client", &client, jsonl.to_str().unwrap(), "--json"]));
    assert_eq!(
        (done["imported"].as_u64(), done["updated"].as_u64(), done["skipped"].as_u64()),
        (Some(2), Some(0), Some(2)),
        "{done}"
    );
    let lines: Vec<u64> =
        done["errors"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![2, 4, 5], "{done}");
    let again =
        json(&run(&["client", "import", "--client", &client, jsonl.to_str().unwrap(), "--json"]));
    assert_eq!((again["imported"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)));

    let csv = d.join("more.csv");
    std::fs::write(&csv, format!("legacy_id,username,email,name,password_hash,active\n4,cy,cy@example.com,\"Cy, Jr.\",{bcrypt},false\n5,dee,dee@example.com,Dee,,true\n6,\"broken\n")).unwrap();
    let csv_run =
        json(&run(&["client", "import", "--client", &client, csv.to_str().unwrap(), "--json"]));
    assert_eq!(csv_run["imported"].as_u64(), Some(2), "{csv_run}");

    let status = json(&run(&["client", "legacy", "status", "--client", &client, "--json"]));
    assert_eq!(
        (status["rollout"].as_str(), status["records"].as_u64(), status["upgraded"].as_u64()),
        (Some("legacy"), Some(4), Some(0)),
        "{status}"
    );
    let moved =
        json(&run(&["client", "rollout", "--client", &client, "--state", "upgrading", "--json"]));
    assert_eq!(moved["rollout"], "upgrading");
    assert_eq!(run(&["client", "rollout", "--client", &client, "--state", "sideways"]).code, 2);
    // Nothing upgraded yet; one record unused since 2023.
    let none =
        json(&run(&["client", "legacy", "purge", "--client", &client, "--dry-run", "--json"]));
    assert_eq!(none["purged"].as_u64(), Some(0), "{none}");
    let old = json(&run(&[
        "client",
        "legacy",
        "purge",
        "--client",
        &client,
        "--older-than-days",
        "30",
        "--dry-run",
        "--json",
    ]));
    assert_eq!(old["purged"].as_u64(), Some(1), "{old}");
    let done = json(&run(&[
        "client",
        "legacy",
        "purge",
        "--client",
        &client,
        "--older-than-days",
        "30",
        "--json",
    ]));
    assert_eq!(done["purged"].as_u64(), Some(1), "{done}");
    let again = json(&run(&[
        "client",
        "legacy",
        "purge",
        "--client",
        &client,
        "--older-than-days",
        "30",
        "--json",
    ]));
    assert_eq!(again["purged"].as_u64(), Some(0));
    assert_eq!(
        run(&["client", "rollout", "--client", "no-such-client", "--state", "upgraded"]).code,
        1
    );
    assert_eq!(
        run(&["client", "import", "--client", &client, d.join("users.txt").to_str().unwrap()]).code,
        2,
        "format unknown from the name"
    );
    assert_eq!(
        run(&["client", "import", "--client", "no-such-client", jsonl.to_str().unwrap()]).code,
        1
    );
}

/// A command run where there is no database, with the default location: it refuses, saying
/// where it looked and how to go on; `--init` creates the database; afterwards the folder has
/// one and commands say which they use.
#[test]
fn a_command_in_the_wrong_folder_refuses_instead_of_making_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("LATCHKEY_CONFIG")
            .env_remove("LATCHKEY_DATA_DIR")
            .env_remove("LATCHKEY_DATABASE_URL")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let refused = run(&["user", "list", "--json"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("no Latchkey database") && refused.stderr.contains("--init"),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty());
    assert!(!dir.path().join("latchkey-data").join("latchkey.db").exists(), "nothing was created");
    let created = run(&["user", "create", "--email", "first@example.com", "--init", "--json"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(
        created.stderr.contains("data folder") && created.stderr.contains("latchkey.db"),
        "{}",
        created.stderr
    );
    let listed = run(&["user", "list", "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("first@example.com"));
}

/// `user sessions` and `user end-session`: the console's "end this session" from a script.
#[test]
fn sessions_are_listed_and_ended_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(
        latchkey(d, &["user", "create", "--email", "pat@example.com", "--verified"], None, &[])
            .code,
        0
    );
    let listed = latchkey(d, &["user", "sessions", "pat@example.com", "--json"], None, &[]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(json(&listed)["sessions"].as_array().unwrap().len(), 0);
    let missing = latchkey(
        d,
        &[
            "user",
            "end-session",
            "pat@example.com",
            "--session",
            "0190a0a0-0000-7000-8000-000000000000",
        ],
        None,
        &[],
    );
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    let nobody = latchkey(d, &["user", "sessions", "nobody@example.com"], None, &[]);
    assert_eq!(nobody.code, 1);
}

/// `user site-admin E [--revoke]`: never the last active site admin.
#[test]
fn site_admins_are_made_from_the_cli_and_the_last_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(
        latchkey(
            d,
            &["user", "create", "--email", "a@example.com", "--verified", "--site-admin"],
            None,
            &[]
        )
        .code,
        0
    );
    assert_eq!(
        latchkey(d, &["user", "create", "--email", "b@example.com", "--verified"], None, &[]).code,
        0
    );
    let made = latchkey(d, &["user", "site-admin", "b@example.com", "--json"], None, &[]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(json(&made)["site_admin"], true);
    assert_eq!(
        latchkey(d, &["user", "site-admin", "b@example.com", "--revoke"], None, &[]).code,
        0
    );
    let last = latchkey(d, &["user", "site-admin", "a@example.com", "--revoke"], None, &[]);
    assert_eq!(last.code, 1, "{}", last.stderr);
    assert!(last.stderr.contains("last active site administrator"), "{}", last.stderr);
}

#[test]
fn invitations_and_reset_links_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let invited = latchkey(
        d,
        &["user", "create", "--email", "inv@example.com", "--invite", "--json"],
        None,
        &[],
    );
    assert_eq!(invited.code, 0, "{}", invited.stderr);
    assert_eq!(
        (json(&invited)["email_verified"].as_bool(), json(&invited)["has_password"].as_bool()),
        (Some(false), Some(false))
    );
    let conflicting = latchkey(
        d,
        &["user", "create", "--email", "x@example.com", "--invite", "--site-admin"],
        None,
        &[],
    );
    assert_eq!(conflicting.code, 2, "{}", conflicting.stderr);
    let reset = latchkey(d, &["user", "reset-password", "inv@example.com", "--json"], None, &[]);
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    assert_eq!(latchkey(d, &["user", "reset-password", "ghost@example.com"], None, &[]).code, 1);
}

/// `latchkey backup` while the data is in use, `latchkey restore` into a fresh data folder
/// (with the master key it needs), and a person logs in there with the password they had;
/// damaged, foreign and PostgreSQL cases are refused and change nothing.
#[tokio::test]
async fn a_backup_restored_into_a_fresh_folder_serves_the_same_people() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fast = [("LATCHKEY_CONFIG", "fast.toml")];
    std::fs::write(d.join("fast.toml"), "[passwords]\nmemory_kib = 256\niterations = 1\n").unwrap();
    let created = latchkey(
        d,
        &["user", "create", "--email", "kept@example.com", "--password-stdin", "--verified"],
        Some("a-long-password\n"),
        &fast,
    );
    assert_eq!(created.code, 0, "{}", created.stderr);

    let file = d.join("latchkey-backup.db");
    let backup = latchkey(d, &["backup", file.to_str().unwrap(), "--json"], None, &[]);
    assert_eq!(backup.code, 0, "{}", backup.stderr);
    let v = json(&backup);
    assert_eq!(v["accounts"], 1);
    assert!(v["master_key"].as_str().unwrap().ends_with("master.key"), "{v}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = latchkey(d, &["backup", file.to_str().unwrap()], None, &[]);
    assert_eq!(again.code, 1, "never overwrites: {}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    // A fresh folder: without the master key the restore refuses, and leaves nothing behind.
    let fresh = d.join("fresh");
    let fresh_env = [("LATCHKEY_DATA_DIR", fresh.to_str().unwrap())];
    let no_key = latchkey(d, &["restore", file.to_str().unwrap()], None, &fresh_env);
    assert_eq!(no_key.code, 1, "{}", no_key.stderr);
    assert!(no_key.stderr.contains("--master-key-file"), "{}", no_key.stderr);
    assert!(!fresh.join("latchkey.db").exists());

    // Hostile or wrong files are refused before anything is written.
    let garbage = d.join("garbage.db");
    std::fs::write(&garbage, b"not a database at all, just text\n".repeat(200)).unwrap();
    let truncated = d.join("truncated.db");
    std::fs::write(&truncated, &std::fs::read(&file).unwrap()[..1500]).unwrap();
    let key = d.join("data").join("master.key");
    for (bad, why) in [
        (&garbage, "not a SQLite database"),
        (&truncated, ""),
        (&d.join("missing.db"), "not a SQLite database"),
    ] {
        let out = latchkey(
            d,
            &["restore", bad.to_str().unwrap(), "--master-key-file", key.to_str().unwrap()],
            None,
            &fresh_env,
        );
        assert_eq!(out.code, 1, "{bad:?}: {}", out.stderr);
        assert!(out.stderr.contains(why), "{bad:?}: {}", out.stderr);
        assert!(!fresh.join("latchkey.db").exists(), "{bad:?}");
    }
    let short_key = d.join("short.key");
    std::fs::write(&short_key, b"too short").unwrap();
    let out = latchkey(
        d,
        &["restore", file.to_str().unwrap(), "--master-key-file", short_key.to_str().unwrap()],
        None,
        &fresh_env,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);

    let restored = latchkey(
        d,
        &["restore", file.to_str().unwrap(), "--master-key-file", key.to_str().unwrap(), "--json"],
        None,
        &fresh_env,
    );
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert_eq!(json(&restored)["accounts"], 1);
    let twice = latchkey(d, &["restore", file.to_str().unwrap()], None, &fresh_env);
    assert_eq!(twice.code, 1, "{}", twice.stderr);
    assert!(twice.stderr.contains("already holds a database"), "{}", twice.stderr);

    // A server on the restored folder: the person logs in with the password they had, and
    // tokens can be signed with the restored keys.
    let fresh_dir = fresh.clone();
    let server =
        latchkey_testkit::TestServer::spawn_with(latchkey_testkit::Engine::Sqlite, move |c| {
            c.database_url = format!("sqlite://{}", fresh_dir.join("latchkey.db").display());
            c.data_dir = fresh_dir;
        })
        .await
        .unwrap();
    server.browser().log_in("kept@example.com", "a-long-password").await;
    let jwks = server.browser().get("/oauth/jwks").await;
    assert_eq!(jwks.status, 200);

    let pg = latchkey(
        d,
        &["backup", d.join("pg.db").to_str().unwrap()],
        None,
        &[("LATCHKEY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")],
    );
    assert_eq!(pg.code, 2, "{}", pg.stderr);
    assert!(pg.stderr.contains("pg_dump"), "{}", pg.stderr);
}

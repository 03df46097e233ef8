//! The storage contract, run against `SqlStore` directly on both engines: the properties the
//! domain relies on (uniqueness, single use, atomic counters) hold on each.

use std::sync::Arc;

use latchkey_core::accounts::{AccountId, AccountStatus, DisplayName, Email, NewAccount};
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{
    AccountRepo, InsertAccountError, JobLeaseRepo, NewOneTimeToken, OneTimeTokenRepo, SessionRepo,
    ThrottleRepo, TokenPurpose,
};
use latchkey_core::secret::TokenHash;
use latchkey_core::sessions::{ClientInfo, Session, SessionId};
use latchkey_store::{SqlStore, StoreOptions};
use latchkey_testkit::FreshDatabase;

struct Fixture {
    store: SqlStore,
    _dir: Option<tempfile::TempDir>,
    _db: Option<FreshDatabase>,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("contract.db").display());
    let store = SqlStore::connect(&url, &StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    Fixture { store, _dir: Some(dir), _db: None }
}

async fn postgres() -> Option<Fixture> {
    let db = FreshDatabase::create(&latchkey_testkit::postgres_url()?).await;
    let store = SqlStore::connect(&db.url, &StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    Some(Fixture { store, _dir: None, _db: Some(db) })
}

macro_rules! contract {
    (async fn $name:ident($store:ident) $body:block) => {
        mod $name {
            use super::*;
            async fn run($store: SqlStore) $body
            #[tokio::test]
            async fn sqlite() {
                let f = super::sqlite().await;
                run(f.store.clone()).await;
            }
            #[tokio::test]
            async fn postgres() {
                match super::postgres().await {
                    Some(f) => run(f.store.clone()).await,
                    None => eprintln!("LATCHKEY_TEST_POSTGRES_URL not set: PostgreSQL variant not run"),
                }
            }
        }
    };
}

const T0: Timestamp = Timestamp::from_unix(1_795_000_000);

fn account(id: &str, email: &str) -> NewAccount {
    NewAccount {
        id: AccountId::from_stored(id.to_owned()),
        email: Email::parse(email).unwrap(),
        name: DisplayName::parse("Contract").unwrap(),
        password_hash: Some(latchkey_core::secret::Secret::new(
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".to_owned(),
        )),
        email_verified_at: None,
        site_admin: false,
        created_at: T0,
    }
}

fn session(id: &str, account: &str, hash: &str) -> Session {
    Session {
        id: SessionId::from_stored(id.to_owned()),
        token_hash: TokenHash::from_stored(hash.to_owned()),
        account: AccountId::from_stored(account.to_owned()),
        client: ClientInfo::new("ua", "127.0.0.1"),
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0.plus_secs(3600),
        amr: vec![latchkey_core::policies::AuthMethod::Password],
    }
}

contract! {
    async fn emails_are_unique_whatever_their_case(store) {
        AccountRepo::insert(&store, &account("a1", "Mixed.Case@Example.com")).await.unwrap();
        let dup = AccountRepo::insert(&store, &account("a2", "mixed.case@EXAMPLE.COM")).await;
        assert!(matches!(dup, Err(InsertAccountError::EmailTaken)));
        let found = store.find_by_email(&Email::parse("MIXED.case@example.com").unwrap()).await.unwrap().unwrap();
        assert_eq!(found.id.as_str(), "a1");
        assert_eq!(found.email.as_str(), "Mixed.Case@example.com", "the typed form is kept for mail");
        assert_eq!(found.status, AccountStatus::Active);
        assert!(!found.site_admin);

        store.mark_email_verified(&found.id, T0.plus_secs(5)).await.unwrap();
        store.mark_email_verified(&found.id, T0.plus_secs(99)).await.unwrap();
        let again = AccountRepo::find_by_id(&store, &found.id).await.unwrap().unwrap();
        assert_eq!(again.email_verified_at, Some(T0.plus_secs(5)), "the first verification time stays");
        store.set_status(&found.id, AccountStatus::Deactivated, T0).await.unwrap();
        assert_eq!(AccountRepo::find_by_id(&store, &found.id).await.unwrap().unwrap().status, AccountStatus::Deactivated);
        assert_eq!(store.list(10, 0).await.unwrap().len(), 1);
        assert_eq!(store.count_site_admins().await.unwrap(), 0);
    }
}

contract! {
    async fn tokens_are_single_use_even_under_a_race(store) {
        AccountRepo::insert(&store, &account("t1", "t@example.com")).await.unwrap();
        let hash = TokenHash::of("the-token");
        OneTimeTokenRepo::insert(&store, &NewOneTimeToken {
            hash: hash.clone(),
            purpose: TokenPurpose::ResetPassword,
            account: AccountId::from_stored("t1".into()),
            created_at: T0,
            expires_at: T0.plus_secs(3600),
        })
        .await
        .unwrap();
        assert!(OneTimeTokenRepo::peek(&store, &hash, TokenPurpose::VerifyEmail, T0).await.unwrap().is_none(), "purpose is part of the key");
        assert!(OneTimeTokenRepo::peek(&store, &hash, TokenPurpose::ResetPassword, T0.plus_secs(3600)).await.unwrap().is_none(), "expired at its expiry time");
        let store = Arc::new(store);
        let mut racers = Vec::new();
        for _ in 0..8 {
            let (store, hash) = (store.clone(), hash.clone());
            racers.push(tokio::spawn(async move {
                store.consume(&hash, TokenPurpose::ResetPassword, T0.plus_secs(10)).await.unwrap()
            }));
        }
        let mut winners = 0;
        for r in racers {
            if r.await.unwrap().is_some() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
        assert!(OneTimeTokenRepo::peek(&*store, &hash, TokenPurpose::ResetPassword, T0).await.unwrap().is_none());
    }
}

contract! {
    async fn throttle_counters_count_atomically_and_roll_over(store) {
        let store = Arc::new(store);
        let mut hits = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            hits.push(tokio::spawn(async move { store.hit("k", 60, T0).await.unwrap().count }));
        }
        let mut counts: Vec<u32> = Vec::new();
        for h in hits {
            counts.push(h.await.unwrap());
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=10).collect::<Vec<_>>(), "no lost updates");
        // A release gives one back (a counted attempt that was right), never below zero.
        store.release("k").await.unwrap();
        assert_eq!(store.hit("k", 60, T0.plus_secs(59)).await.unwrap().count, 10);
        let fresh = store.hit("k", 60, T0.plus_secs(61)).await.unwrap();
        assert_eq!((fresh.count, fresh.window_start), (1, T0.plus_secs(61)), "window over");
        store.clear("k").await.unwrap();
        assert_eq!(store.hit("k", 60, T0.plus_secs(61)).await.unwrap().count, 1, "cleared");
        store.release("k").await.unwrap();
        store.release("k").await.unwrap();
        assert_eq!(store.hit("k", 60, T0.plus_secs(61)).await.unwrap().count, 1, "never below zero");
        // Several keys in one statement, counted like single hits, in the order asked.
        store.hit("b", 60, T0).await.unwrap();
        let both = store.hit_all(&["a", "b"], 60, T0.plus_secs(61)).await.unwrap();
        assert_eq!(both.iter().map(|c| c.count).collect::<Vec<_>>(), vec![1, 1], "b's window was over");
        let both = store.hit_all(&["b", "a"], 60, T0.plus_secs(62)).await.unwrap();
        assert_eq!(both.iter().map(|c| c.count).collect::<Vec<_>>(), vec![2, 2]);
        // Settling clears one counter and gives the other its hit back.
        store.settle("a", "b").await.unwrap();
        let both = store.hit_all(&["a", "b"], 60, T0.plus_secs(63)).await.unwrap();
        assert_eq!(both.iter().map(|c| c.count).collect::<Vec<_>>(), vec![1, 2]);
        store.hit("old", 60, T0).await.unwrap();
        assert_eq!(store.delete_stale(T0.plus_secs(1)).await.unwrap(), 1);
    }
}

contract! {
    async fn sessions_join_their_account_and_delete_precisely(store) {
        AccountRepo::insert(&store, &account("s1", "s1@example.com")).await.unwrap();
        AccountRepo::insert(&store, &account("s2", "s2@example.com")).await.unwrap();
        SessionRepo::insert(&store, &session("x1", "s1", "h1")).await.unwrap();
        SessionRepo::insert(&store, &session("x2", "s1", "h2")).await.unwrap();
        SessionRepo::insert(&store, &session("x3", "s2", "h3")).await.unwrap();
        let (s, a) = store.find_by_token_hash(&TokenHash::from_stored("h2".into())).await.unwrap().unwrap();
        assert_eq!((s.id.as_str(), a.id.as_str()), ("x2", "s1"));
        assert!(store.find_by_token_hash(&TokenHash::from_stored("nope".into())).await.unwrap().is_none());

        let s1 = AccountId::from_stored("s1".into());
        let s2 = AccountId::from_stored("s2".into());
        assert!(!store.delete(&s2, &SessionId::from_stored("x1".into())).await.unwrap(), "not another account's session");
        store.touch(&SessionId::from_stored("x1".into()), T0.plus_secs(30)).await.unwrap();
        let listed = store.list_for_account(&s1).await.unwrap();
        assert_eq!(listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["x1", "x2"], "most recent first");
        let ended = store.delete_all_for_account(&s1, Some(&SessionId::from_stored("x1".into()))).await.unwrap();
        assert_eq!(ended, [SessionId::from_stored("x2".into())]);
        assert_eq!(store.list_for_account(&s1).await.unwrap().len(), 1);
        assert_eq!(store.list_for_account(&s2).await.unwrap().len(), 1, "other accounts untouched");
        assert_eq!(store.delete_expired(T0.plus_secs(3600), T0).await.unwrap(), 2);
    }
}

contract! {
    async fn migrations_are_idempotent(store) {
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
    }
}

fn mail_item(id: &str, at: Timestamp) -> latchkey_core::ports::NewOutboxItem {
    latchkey_core::ports::NewOutboxItem {
        id: id.to_owned(),
        kind: "mail",
        recipient: "r@example.com".to_owned(),
        summary: "subject".to_owned(),
        payload: format!("secret link for {id}"),
        created_at: at,
    }
}

contract! {
    async fn outbox_items_are_leased_to_one_taker_at_a_time(store) {
        use latchkey_core::ports::OutboxRepo;
        for i in 0..6 {
            store.enqueue(&mail_item(&format!("m{i}"), T0)).await.unwrap();
        }
        let store = Arc::new(store);
        let mut takers = Vec::new();
        for _ in 0..6 {
            let store = store.clone();
            takers.push(tokio::spawn(async move {
                store.lease_due("mail", T0, T0.plus_secs(60), 2).await.unwrap()
            }));
        }
        let mut taken: Vec<String> = Vec::new();
        for t in takers {
            taken.extend(t.await.unwrap().into_iter().map(|i| i.id));
        }
        taken.sort();
        assert_eq!(taken, ["m0", "m1", "m2", "m3", "m4", "m5"], "each item exactly once");
        assert!(store.lease_due("mail", T0.plus_secs(59), T0.plus_secs(120), 10).await.unwrap().is_empty(), "leases hold");
        assert!(store.lease_due("other", T0.plus_secs(61), T0.plus_secs(120), 10).await.unwrap().is_empty(), "kinds are separate");

        store.mark_delivered("m0", T0.plus_secs(1)).await.unwrap();
        store.retry_later("m1", "connection refused", T0.plus_secs(600), T0.plus_secs(1)).await.unwrap();
        store.give_up("m2", "550 no such user", T0.plus_secs(1)).await.unwrap();
        // Expired leases come back; retried items wait for their time; finished ones never.
        let again = store.lease_due("mail", T0.plus_secs(61), T0.plus_secs(10_000), 10).await.unwrap();
        let mut again: Vec<&str> = again.iter().map(|i| i.id.as_str()).collect();
        again.sort_unstable();
        assert_eq!(again, ["m3", "m4", "m5"]);
        let later = store.lease_due("mail", T0.plus_secs(600), T0.plus_secs(700), 10).await.unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!((later[0].id.as_str(), later[0].attempts), ("m1", 1));
        assert_eq!(later[0].payload, "secret link for m1", "pending items keep their content");

        let mut status = store.count_by_status("mail").await.unwrap();
        status.sort();
        assert_eq!(status, [("dead".to_owned(), 1), ("delivered".to_owned(), 1), ("pending".to_owned(), 4)]);
        assert_eq!(store.purge_delivered(T0.plus_secs(2)).await.unwrap(), 1);
    }
}

contract! {
    async fn a_job_lease_has_one_holder_at_a_time(store) {
        let acquire = |holder: String, at: i64| {
            let store = store.clone();
            tokio::spawn(async move {
                let now = T0.plus_secs(at);
                let held = JobLeaseRepo::take_lease(&store, "housekeeping", &holder, now, now.plus_secs(60)).await.unwrap();
                (holder, held)
            })
        };
        // Eight nodes race for a free lease: exactly one gets it.
        let racers: Vec<_> = (0..8).map(|n| acquire(format!("node-{n}"), 0)).collect();
        let mut winners = Vec::new();
        for r in racers {
            let (holder, held) = r.await.unwrap();
            if held {
                winners.push(holder);
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let first = winners.pop().unwrap();

        // Its holder renews it; others are refused while it lasts, even a moment before its end.
        assert!(acquire(first.clone(), 30).await.unwrap().1, "the holder renews");
        assert!(!acquire("late".into(), 89).await.unwrap().1, "renewed until 90");
        // Another job is another lease.
        assert!(JobLeaseRepo::take_lease(&store, "other", "late", T0, T0.plus_secs(60)).await.unwrap());

        // Once it ran out (the holder died), exactly one of the others takes it over.
        let racers: Vec<_> = (0..8).map(|n| acquire(format!("survivor-{n}"), 90)).collect();
        let mut winners = Vec::new();
        for r in racers {
            let (holder, held) = r.await.unwrap();
            if held {
                winners.push(holder);
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let second = winners.pop().unwrap();
        assert!(!acquire(first.clone(), 91).await.unwrap().1, "the old holder does not get it back");

        // Only the holder can hand it over; then the next node takes it at once.
        JobLeaseRepo::hand_over_lease(&store, "housekeeping", &first).await.unwrap();
        assert!(!acquire("next".into(), 92).await.unwrap().1, "someone else's release is ignored");
        JobLeaseRepo::hand_over_lease(&store, "housekeeping", &second).await.unwrap();
        assert!(acquire("next".into(), 92).await.unwrap().1);
    }
}

// Every hot statement is served by an index on both engines (issue 17: flat at a million
// accounts). The statements are the repositories' own; see `latchkey_store::QueryPlan`.
contract! {
    async fn hot_queries_are_index_backed(store) {
        let plans = store.hot_query_plans().await.unwrap();
        assert!(plans.len() >= 15, "{} plans", plans.len());
        for p in &plans {
            eprintln!("{}:\n    {}", p.name, p.plan.join("\n    "));
        }
        let scans: Vec<_> = plans
            .iter()
            .filter(|p| !p.whole_table_reads.is_empty())
            .map(|p| format!("{}: {:?}\n  {}", p.name, p.whole_table_reads, p.sql))
            .collect();
        assert!(scans.is_empty(), "hot statements reading whole tables:\n{}", scans.join("\n"));
    }
}

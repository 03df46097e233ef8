use super::*;
use crate::accounts::{AccountId, AccountStatus, DisplayName, Email};
use crate::secret::Secret;

const DAY: i64 = 24 * 3600;
const T0: i64 = 1_800_000_000;

fn account(password_changed_at: i64) -> Account {
    Account {
        id: AccountId::from_stored("a1".into()),
        email: Email::parse("ann@example.com").unwrap(),
        name: DisplayName::parse("Ann").unwrap(),
        password_hash: Some(Secret::new("$argon2id$…".into())),
        email_verified_at: None,
        status: AccountStatus::Active,
        site_admin: false,
        created_at: Timestamp::from_unix(T0 - 400 * DAY),
        updated_at: Timestamp::from_unix(T0),
        password_changed_at: Some(Timestamp::from_unix(password_changed_at)),
        policy_id: None,
        bot: false,
        bot_org_id: None,
    }
}

fn policy(settings: PolicySettings) -> Policy {
    let mut p = Policy::builtin(PolicyScope::Org("o1".into()), Timestamp::from_unix(T0));
    p.settings = settings;
    p
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(secs)
}

#[test]
fn a_password_expires_exactly_at_its_maximum_age_and_not_a_second_before() {
    let p = policy(PolicySettings { password_max_age_days: 90, ..PolicySettings::default() });
    let a = account(T0);
    assert_eq!(p.password_renewal(&a, at(T0 + 90 * DAY - 1)), None);
    assert_eq!(p.password_renewal(&a, at(T0 + 90 * DAY)), Some(Renewal::Expired));
}

#[test]
fn a_maximum_age_of_zero_means_passwords_never_expire() {
    let p = policy(PolicySettings::default());
    assert_eq!(p.password_renewal(&account(0), at(T0 + 10_000 * DAY)), None);
}

#[test]
fn requiring_new_passwords_catches_every_password_chosen_before_the_moment_of_the_change() {
    let mut p = policy(PolicySettings::default());
    p.passwords_valid_after = Some(at(T0));
    assert_eq!(p.password_renewal(&account(T0 - 1), at(T0 + 5)), Some(Renewal::RequiredByAdmin));
    assert_eq!(p.password_renewal(&account(T0), at(T0 + 5)), None);
}

#[test]
fn an_account_without_a_password_has_none_to_renew() {
    let p = policy(PolicySettings { password_max_age_days: 1, ..PolicySettings::default() });
    let mut a = account(0);
    a.password_hash = None;
    assert_eq!(p.password_renewal(&a, at(T0)), None);
}

#[test]
fn the_grace_period_ends_after_its_last_day() {
    let mut p = policy(PolicySettings {
        require_two_step: true,
        two_step_grace_days: 7,
        ..PolicySettings::default()
    });
    p.two_step_since = Some(at(T0));
    let a = account(T0);
    let until = at(T0 + 7 * DAY);
    assert_eq!(p.two_step(&a, false, at(T0 + 7 * DAY - 1)), TwoStep::Grace { until });
    assert_eq!(p.two_step(&a, false, at(T0 + 7 * DAY)), TwoStep::EnrolNow);
    assert_eq!(p.two_step(&a, true, at(T0 + 100 * DAY)), TwoStep::NotRequired);
}

#[test]
fn a_newer_account_gets_its_own_grace_period() {
    let mut p = policy(PolicySettings {
        require_two_step: true,
        two_step_grace_days: 3,
        ..PolicySettings::default()
    });
    p.two_step_since = Some(at(T0 - 100 * DAY));
    let mut a = account(T0);
    a.created_at = at(T0);
    assert_eq!(p.two_step(&a, false, at(T0 + DAY)), TwoStep::Grace { until: at(T0 + 3 * DAY) });
}

#[test]
fn without_a_grace_period_enrolment_is_due_at_once() {
    let mut p = policy(PolicySettings { require_two_step: true, ..PolicySettings::default() });
    p.two_step_since = Some(at(T0));
    assert_eq!(p.two_step(&account(T0), false, at(T0)), TwoStep::EnrolNow);
}

#[test]
fn a_session_ends_exactly_at_its_maximum_length_and_its_idle_timeout() {
    let p = policy(PolicySettings {
        session_max_minutes: 60,
        session_idle_minutes: 15,
        ..PolicySettings::default()
    });
    let a = account(T0);
    let pwd = [AuthMethod::Password];
    let v = |signed_in, used, now| p.session_verdict(&a, at(signed_in), at(used), &pwd, at(now));
    assert_eq!(v(T0, T0 + 3000, T0 + 3599), SessionVerdict::Live);
    assert_eq!(v(T0, T0 + 3000, T0 + 3600), SessionVerdict::TooOld);
    assert_eq!(v(T0, T0 + 100, T0 + 100 + 899), SessionVerdict::Live);
    assert_eq!(v(T0, T0 + 100, T0 + 100 + 900), SessionVerdict::Idle);
}

#[test]
fn a_session_without_a_second_factor_ends_once_enrolment_is_due() {
    let mut p = policy(PolicySettings { require_two_step: true, ..PolicySettings::default() });
    p.two_step_since = Some(at(T0));
    let a = account(T0);
    let pwd = [AuthMethod::Password];
    let mfa = [AuthMethod::Password, AuthMethod::OneTimeCode, AuthMethod::MultiFactor];
    assert_eq!(p.session_verdict(&a, at(T0), at(T0), &pwd, at(T0)), SessionVerdict::TwoStepDue);
    assert_eq!(p.session_verdict(&a, at(T0), at(T0), &mfa, at(T0)), SessionVerdict::Live);
}

#[test]
fn a_password_session_ends_once_the_password_must_be_renewed() {
    let mut p = policy(PolicySettings::default());
    p.passwords_valid_after = Some(at(T0));
    let a = account(T0 - 10);
    let pwd = [AuthMethod::Password];
    let v = p.session_verdict(&a, at(T0 - 5), at(T0 - 5), &pwd, at(T0 + 1));
    assert_eq!(v, SessionVerdict::PasswordRenewalDue);
}

#[test]
fn settings_out_of_range_are_refused_naming_the_field() {
    let ok = PolicySettings::default();
    assert_eq!(ok.validate(), Ok(()));
    for (bad, field) in [
        (PolicySettings { password_min_length: 7, ..ok }, "password_min_length"),
        (PolicySettings { password_min_length: 129, ..ok }, "password_min_length"),
        (PolicySettings { password_min_strength: 5, ..ok }, "password_min_strength"),
        (PolicySettings { password_history: 25, ..ok }, "password_history"),
        (PolicySettings { two_step_grace_days: 91, ..ok }, "two_step_grace_days"),
        (PolicySettings { session_max_minutes: 4, ..ok }, "session_max_minutes"),
        (
            PolicySettings { session_max_minutes: 60, session_idle_minutes: 61, ..ok },
            "session_idle_minutes",
        ),
    ] {
        assert_eq!(bad.validate().unwrap_err().field, field);
    }
}

#[test]
fn settings_documents_refuse_unknown_fields_and_fill_in_missing_ones() {
    let parsed: PolicySettings = serde_json::from_str(r#"{"password_history": 3}"#).unwrap();
    assert_eq!(parsed, PolicySettings { password_history: 3, ..PolicySettings::default() });
    assert!(serde_json::from_str::<PolicySettings>(r#"{"passwrd_history": 3}"#).is_err());
    assert!(serde_json::from_str::<PolicySettings>(r#"{"password_history": -1}"#).is_err());
}

#[test]
fn two_different_factors_make_mfa_and_unknown_stored_methods_count_for_nothing() {
    let mut m = vec![AuthMethod::Password];
    AuthMethod::add(&mut m, AuthMethod::Password);
    assert_eq!(AuthMethod::join(&m), "pwd");
    AuthMethod::add(&mut m, AuthMethod::OneTimeCode);
    assert_eq!(AuthMethod::join(&m), "pwd otp mfa");
    assert_eq!(
        AuthMethod::split("pwd  bogus mfa"),
        vec![AuthMethod::Password, AuthMethod::MultiFactor]
    );
}

//! `/welcome/upgraded`: the short screen after someone's first sign-in with a product's old
//! password. What happened ("your Tracker account is now a Latchkey account"), the address to
//! verify if it is not yet (with a resend), and the way back to where they were going.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use latchkey_core::return_to::ReturnTo;
use serde::Deserialize;

use crate::error::{PageError, render};
use crate::extract::{CsrfToken, PageQuery, SignedIn};
use crate::state::AppState;

const PATH: &str = "/welcome/upgraded";

/// The welcome screen, continuing to `next` afterwards.
pub(crate) fn path(next: &ReturnTo) -> ReturnTo {
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_str().as_bytes()).collect();
    ReturnTo::parse_or_account(&format!("{PATH}?next={encoded}"))
}

#[derive(Template)]
#[template(path = "upgraded.html")]
struct UpgradedPage {
    csrf: String,
    products: Vec<String>,
    email: String,
    verified: bool,
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    csrf: CsrfToken,
    PageQuery(q): PageQuery<NextQuery>,
) -> Result<Response, PageError> {
    let account = me.account();
    let linked = state.core.legacy().linked_products(&account.id).await?;
    Ok(render(&UpgradedPage {
        csrf: csrf.0,
        products: linked.into_iter().map(|(_, name, _)| name).collect(),
        email: account.email.as_str().to_owned(),
        verified: account.email_verified(),
        next: ReturnTo::parse_or_account(&q.next).as_str().to_owned(),
    }))
}

//! `/status`: for people, which of the organization's products already sign in with Latchkey
//! (with the password they had) and which follow later. First-party products only.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use latchkey_core::legacy::Rollout;

use crate::error::{PageError, render};
use crate::state::AppState;

struct Row {
    name: String,
    now: bool,
    words: String,
}

#[derive(Template)]
#[template(path = "rollout_status.html")]
struct StatusPage {
    rows: Vec<Row>,
}

pub async fn show(State(state): State<AppState>) -> Result<Response, PageError> {
    let brand = crate::brand::name();
    let rows = state
        .core
        .legacy()
        .rollout_overview()
        .await?
        .into_iter()
        .map(|(name, rollout)| {
            let (now, words) = match rollout {
                None => (true, format!("Signs in with your {brand} account.")),
                Some(Rollout::Upgrading | Rollout::Upgraded) => (
                    true,
                    format!("Signs in with your {brand} account. The first time, use the password you had for it: it becomes your {brand} password."),
                ),
                Some(Rollout::Legacy) => {
                    (false, format!("Moving to {brand} soon. Until then, sign in to it as you do today."))
                }
            };
            Row { name, now, words }
        })
        .collect();
    Ok(render(&StatusPage { rows }))
}

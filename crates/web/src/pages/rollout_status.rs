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
    words: &'static str,
}

#[derive(Template)]
#[template(path = "rollout_status.html")]
struct StatusPage {
    rows: Vec<Row>,
}

pub async fn show(State(state): State<AppState>) -> Result<Response, PageError> {
    let rows = state
        .core
        .legacy()
        .rollout_overview()
        .await?
        .into_iter()
        .map(|(name, rollout)| {
            let (now, words) = match rollout {
                None => (true, "Signs in with your Latchkey account."),
                Some(Rollout::Upgrading | Rollout::Upgraded) => (
                    true,
                    "Signs in with your Latchkey account. The first time, use the password you had for it: it becomes your Latchkey password.",
                ),
                Some(Rollout::Legacy) => {
                    (false, "Moving to Latchkey soon. Until then, sign in to it as you do today.")
                }
            };
            Row { name, now, words }
        })
        .collect();
    Ok(render(&StatusPage { rows }))
}

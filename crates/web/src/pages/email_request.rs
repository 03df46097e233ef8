//! The "enter your email" pages (forgot password, resend the verification link): one page and
//! one handler for both. The answer is the same whether or not the address has an account.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latchkey_core::accounts::Email;
use serde::Deserialize;

use crate::error::{Failure, render};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailRequest {
    ResetPassword,
    ResendVerification,
}

#[derive(Template)]
#[template(path = "email_request.html")]
struct EmailRequestPage {
    title: &'static str,
    intro: Option<&'static str>,
    action: &'static str,
    button: &'static str,
    sent_lead: &'static str,
    show_email: bool,
    sent_tail: &'static str,
    hide_form_when_sent: bool,
    csrf: String,
    email: String,
    sent: bool,
    form_error: Option<String>,
    email_error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    email: String,
}

impl EmailRequest {
    fn page(self, csrf: String) -> EmailRequestPage {
        let (title, intro, action, button) = match self {
            Self::ResetPassword => (
                "Reset your password",
                Some("Enter your email and we will send you a link to choose a new password."),
                "/forgot-password",
                "Send reset link",
            ),
            Self::ResendVerification => {
                ("Resend verification email", None, "/verify-email/resend", "Send a new link")
            }
        };
        let (sent_lead, show_email, sent_tail) = match self {
            Self::ResetPassword => (
                "If an account exists for",
                true,
                ", we sent it a link to reset the password. The link expires in 1 hour.",
            ),
            Self::ResendVerification => (
                "If that address has an account waiting for verification, a new link is on its way.",
                false,
                "",
            ),
        };
        EmailRequestPage {
            title,
            intro,
            action,
            button,
            sent_lead,
            show_email,
            sent_tail,
            hide_form_when_sent: self == Self::ResetPassword,
            csrf,
            email: String::new(),
            sent: false,
            form_error: None,
            email_error: None,
        }
    }

    pub fn show(self, csrf: String) -> Response {
        render(&self.page(csrf))
    }

    pub async fn submit(
        self,
        state: &AppState,
        ip: &str,
        csrf: String,
        form: EmailForm,
    ) -> Response {
        let mut page = self.page(csrf);
        page.email = form.email.chars().take(254).collect();
        let email = match Email::parse(&form.email) {
            Ok(e) => e,
            Err(e) => {
                page.email_error = Some(e.to_string());
                return (StatusCode::BAD_REQUEST, render(&page)).into_response();
            }
        };
        let outcome = match self {
            Self::ResetPassword => state
                .core
                .accounts()
                .request_password_reset(&email, ip)
                .await
                .map_err(Failure::from),
            Self::ResendVerification => {
                state.core.accounts().resend_verification(&email, ip).await.map_err(Failure::from)
            }
        };
        match outcome {
            Ok(()) => {
                page.email = email.to_string();
                page.sent = true;
                render(&page)
            }
            Err(failure) => {
                page.form_error = Some(failure.message.clone());
                failure.apply(render(&page))
            }
        }
    }
}

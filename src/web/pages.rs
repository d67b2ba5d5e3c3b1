//! Page rendering: tera templates with the message catalogue, and the one place where an
//! [`AppError`] becomes a status code and a page in the user's language.

use std::path::Path;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use tera::{Context, Tera};

use crate::i18n::{Catalog, CatalogError, Lang};

pub struct Pages {
    tera: Tera,
    catalog: Catalog,
    css: String,
    /// The staff pages' progressive enhancement (`templates/static/survey.js`).
    script: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    #[error("cannot load templates from {dir}: {source}")]
    Templates { dir: String, source: tera::Error },
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    #[error("cannot read {path}: {source}")]
    Static {
        path: String,
        source: std::io::Error,
    },
}

/// Everything that can go wrong in a request, mapped to statuses in [`AppError::status`].
/// Internal causes are logged, never shown; none of them carries a code or an answer.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("unknown invitation code")]
    UnknownCode,
    #[error("invitation code already used")]
    UsedCode,
    #[error("wave closed")]
    WaveClosed,
    #[error("malformed request")]
    BadRequest,
    /// A well-formed dashboard request the domain refuses; the reason is shown to the user.
    #[error("refused: {0}")]
    Rejected(super::refusals::Refusal),
    #[error("the wave is still open")]
    WaveStillOpen,
    #[error("not signed in")]
    NotSignedIn,
    #[error("not allowed")]
    Forbidden,
    #[error("request body too large")]
    TooLarge,
    #[error("too many attempts")]
    TooManyAttempts,
    /// Too many password checks at once (`hashing::Argon2Gate`): try again in a moment.
    #[error("busy")]
    Busy,
    /// A method the path does not take (`security::methods`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body did not arrive in time (`security::body_deadline`).
    #[error("request body too slow")]
    SlowRequest,
    #[error("internal error: {0}")]
    Internal(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::UnknownCode => StatusCode::NOT_FOUND,
            AppError::UsedCode => StatusCode::CONFLICT,
            AppError::WaveClosed => StatusCode::GONE,
            AppError::BadRequest | AppError::Rejected(_) => StatusCode::BAD_REQUEST,
            AppError::WaveStillOpen => StatusCode::CONFLICT,
            AppError::NotSignedIn => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyAttempts | AppError::Busy => StatusCode::TOO_MANY_REQUESTS,
            AppError::SlowRequest => StatusCode::REQUEST_TIMEOUT,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Message keys of the page's title and text.
    fn message_keys(&self) -> (&'static str, &'static str) {
        match self {
            AppError::NotFound => ("not_found_title", "not_found_message"),
            AppError::UnknownCode => ("code_unknown_title", "code_unknown_message"),
            AppError::UsedCode => ("code_used_title", "code_used_message"),
            AppError::WaveClosed => ("wave_closed_title", "wave_closed_message"),
            AppError::BadRequest => ("bad_request_title", "bad_request_message"),
            AppError::Rejected(_) => ("rejected_title", "rejected_message"),
            AppError::WaveStillOpen => ("wave_open_title", "wave_open_message"),
            AppError::NotSignedIn => ("not_signed_in_title", "not_signed_in_message"),
            AppError::Forbidden => ("forbidden_title", "forbidden_message"),
            AppError::TooLarge => ("too_large_title", "too_large_message"),
            AppError::TooManyAttempts => ("too_many_attempts_title", "too_many_attempts_message"),
            AppError::Busy => ("busy_title", "busy_message"),
            AppError::SlowRequest => ("slow_request_title", "slow_request_message"),
            AppError::MethodNotAllowed => {
                ("method_not_allowed_title", "method_not_allowed_message")
            }
            AppError::Internal(_) | AppError::Unavailable(_) => {
                ("server_error_title", "server_error_message")
            }
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        AppError::Unavailable(cause.to_string())
    }
}

impl Pages {
    pub fn load(templates_dir: &Path) -> Result<Self, PagesError> {
        let pattern = templates_dir.join("*.html");
        let tera =
            Tera::new(&pattern.to_string_lossy()).map_err(|source| PagesError::Templates {
                dir: templates_dir.display().to_string(),
                source,
            })?;
        let catalog = Catalog::load(&templates_dir.join("messages.toml"))?;
        let read_static = |name: &str| {
            let path = templates_dir.join("static").join(name);
            std::fs::read_to_string(&path).map_err(|source| PagesError::Static {
                path: path.display().to_string(),
                source,
            })
        };
        let css = read_static("app.css")?;
        let script = read_static("survey.js")?;
        Ok(Pages {
            tera,
            catalog,
            css,
            script,
        })
    }

    pub fn css(&self) -> &str {
        &self.css
    }

    pub fn script(&self) -> &str {
        &self.script
    }

    pub fn message<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.catalog.get(lang, key)
    }

    /// A context holding what every page needs: the language, the switch and the messages.
    pub fn context(&self, lang: Lang) -> Context {
        let mut context = Context::new();
        context.insert("lang", lang.code());
        context.insert("other_lang", lang.other().code());
        context.insert(
            "other_lang_name",
            match lang.other() {
                Lang::Ja => "日本語",
                Lang::En => "English",
            },
        );
        context.insert("t", self.catalog.messages(lang));
        // An absolute path: a relative "?lang=" would repeat a survey link's code in the URL.
        context.insert(
            "lang_switch_href",
            &format!("/?lang={}", lang.other().code()),
        );
        context
    }

    /// Renders a template into a response with the given status.
    pub fn html(&self, status: StatusCode, template: &str, context: &Context) -> HttpResponse {
        match self.tera.render(template, context) {
            Ok(body) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(body),
            Err(error) => {
                tracing::error!(template, error = %error_chain(&error), "template rendering failed");
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body("500 Internal Server Error")
            }
        }
    }

    /// The error page for `error`; internal causes go to the log only.
    pub fn error(&self, lang: Lang, error: &AppError) -> HttpResponse {
        if let AppError::Internal(cause) | AppError::Unavailable(cause) = error {
            tracing::error!(status = error.status().as_u16(), cause = %cause, "request failed");
        }
        let (title, message) = error.message_keys();
        let mut context = self.context(lang);
        context.insert("status", &error.status().as_u16());
        context.insert("title", self.message(lang, title));
        context.insert("message", self.message(lang, message));
        if let AppError::Rejected(refusal) = error {
            // Only dashboard users are refused this way; the page leads them back there.
            context.insert("reason", &refusal.text(self, lang));
        }
        let mut response = self.html(error.status(), "error.html", &context);
        if error.status() == StatusCode::SERVICE_UNAVAILABLE {
            ask_to_retry_later(&mut response);
        }
        if let AppError::Busy = error {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(super::hashing::RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// Seconds a client is asked to wait after a 503 (a full disk or a read-only database is
/// rarely fixed sooner).
const RETRY_AFTER_SECONDS: u32 = 60;

/// Marks a 503 as temporary with `Retry-After`.
pub fn ask_to_retry_later(response: &mut HttpResponse) {
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(RETRY_AFTER_SECONDS),
    );
}

/// `?lang=ja|en` on a page's URL.
#[derive(serde::Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// The language: an explicit choice, else the `lang` cookie, else `Accept-Language`, else
/// Japanese.
pub fn language(req: &HttpRequest, explicit: Option<&str>) -> Lang {
    explicit
        .and_then(Lang::from_code)
        .or_else(|| req.cookie("lang").and_then(|c| Lang::from_code(c.value())))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// Remembers an explicit language choice in a plain preference cookie.
pub fn remember_language(mut response: HttpResponse, explicit: Option<&str>) -> HttpResponse {
    if let Some(lang) = explicit.and_then(Lang::from_code) {
        let cookie = actix_web::cookie::Cookie::build("lang", lang.code())
            .path("/")
            .same_site(actix_web::cookie::SameSite::Lax)
            .http_only(true)
            .finish();
        // Adding a well-formed cookie cannot fail.
        let _ = response.add_cookie(&cookie);
    }
    response
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

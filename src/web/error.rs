//! The one path from a failure to a response. Handlers and extractors return
//! `Result<_, AppError>`; domain errors convert with `From`. [`AppError`] is an actix
//! [`ResponseError`], and the [`render_errors`] middleware turns it into what the route's kind
//! answers with ([`RouteKind`]): a page in the request's language, a JSON object, or a bare
//! status for a chart. Internal causes are logged here, never shown; none carries a code or an
//! answer.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::pages::{explicit_language, language, remember_language, Pages};
use super::refusals::Refusal;
use super::AppState;
use crate::accounts::AccountError;
use crate::codes::IssueError;
use crate::i18n::Lang;
use crate::waves::WaveError;

/// Everything that can go wrong in a request, mapped to statuses in [`AppError::status`].
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
    Rejected(Refusal),
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

    /// A form's wave request refused by the domain: the request's fault, with its reason
    /// (storage trouble stays a 503). Where a wave is merely looked up, `From` applies.
    pub fn wave_refused(error: WaveError) -> Self {
        match error {
            WaveError::Database(e) => AppError::unavailable(e),
            WaveError::Definition(e) => {
                tracing::warn!(error = %e, "a survey definition cannot be used");
                AppError::Rejected(super::refusals::wave(&WaveError::Definition(e)))
            }
            other => AppError::Rejected(super::refusals::wave(&other)),
        }
    }
}

/// The bare status; [`render_errors`] gives it its page, JSON or chart shape.
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status()).finish()
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::unavailable(error)
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        AppError::unavailable(error)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        AppError::internal(error)
    }
}

impl From<crate::collection::writer::WriterError> for AppError {
    fn from(error: crate::collection::writer::WriterError) -> Self {
        AppError::unavailable(error)
    }
}

impl From<std::io::Error> for AppError {
    fn from(error: std::io::Error) -> Self {
        AppError::internal(error)
    }
}

impl From<serde_json::Error> for AppError {
    fn from(error: serde_json::Error) -> Self {
        AppError::internal(error)
    }
}

impl From<actix_session::SessionInsertError> for AppError {
    fn from(error: actix_session::SessionInsertError) -> Self {
        AppError::internal(error)
    }
}

/// Looking a wave up: unknown is a 404, a closed or open one where the other was needed a
/// 410 or 409; anything else is the server's trouble.
impl From<WaveError> for AppError {
    fn from(error: WaveError) -> Self {
        match error {
            WaveError::NotFound(_) => AppError::NotFound,
            WaveError::AlreadyClosed(_) => AppError::WaveClosed,
            WaveError::StillOpen(_) => AppError::WaveStillOpen,
            WaveError::Database(e) => AppError::unavailable(e),
            other => AppError::internal(other),
        }
    }
}

impl From<crate::aggregation::load::ResultsError> for AppError {
    fn from(error: crate::aggregation::load::ResultsError) -> Self {
        use crate::aggregation::load::ResultsError;
        match error {
            ResultsError::Wave(WaveError::NotFound(_)) => AppError::NotFound,
            ResultsError::WaveOpen(_) => AppError::WaveStillOpen,
            ResultsError::Database(e) => AppError::unavailable(e),
            ResultsError::Psychometrics(e) => e.into(),
            other => AppError::internal(other),
        }
    }
}

/// The psychometrics report: an open wave is a 409, a wave whose organisation shows fewer
/// than k responses a refusal with its reason.
impl From<crate::aggregation::psychometrics::PsychometricsError> for AppError {
    fn from(error: crate::aggregation::psychometrics::PsychometricsError) -> Self {
        use crate::aggregation::psychometrics::PsychometricsError;
        match error {
            PsychometricsError::WaveOpen(_) => AppError::WaveStillOpen,
            PsychometricsError::TooFewResponses { k, .. } => {
                AppError::Rejected(super::refusals::psychometrics_too_few(k, &error))
            }
            PsychometricsError::Inconsistent { .. } => AppError::internal(error),
        }
    }
}

/// Account forms: a domain refusal becomes a 400 with its reason.
impl From<AccountError> for AppError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Database(e) => AppError::unavailable(e),
            AccountError::Hash(e) => AppError::internal(e),
            other => AppError::Rejected(super::refusals::account(&other)),
        }
    }
}

/// Issuing codes: a closed wave is a 410, a refused request a 400 with its reason.
impl From<IssueError> for AppError {
    fn from(error: IssueError) -> Self {
        match error {
            IssueError::Database(e) => AppError::unavailable(e),
            IssueError::WaveClosed(_) => AppError::WaveClosed,
            other => AppError::Rejected(super::refusals::codes(&other)),
        }
    }
}

/// What a route answers with when it fails, by where it is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// `/api/…`: `{"error":"<reason phrase>"}`.
    Json,
    /// `/charts/…`: the status alone (an `<img>` shows nothing either way).
    Svg,
    /// Everything else: an HTML page in the request's language; a dashboard request without
    /// a session goes to the login page.
    Page,
}

impl RouteKind {
    pub fn of(path: &str) -> Self {
        if path.starts_with("/api/") {
            RouteKind::Json
        } else if path.starts_with("/charts/") {
            RouteKind::Svg
        } else {
            RouteKind::Page
        }
    }
}

/// Middleware: a response that carries an [`AppError`] is replaced by its rendering.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let rendered = match response
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
    {
        Some(error) => render(response.request(), error),
        None => return Ok(response),
    };
    Ok(response.into_response(rendered))
}

/// Records the language a handler chose from the request's body (the survey form's own
/// switch), so that an error of the same request speaks it too.
pub fn use_language(req: &HttpRequest, lang: Lang) {
    req.extensions_mut().insert(lang);
}

/// The one place an [`AppError`] becomes a response.
pub fn render(req: &HttpRequest, error: &AppError) -> HttpResponse {
    if let AppError::Internal(cause) | AppError::Unavailable(cause) = error {
        tracing::error!(status = error.status().as_u16(), cause = %cause, "request failed");
    }
    match RouteKind::of(req.path()) {
        RouteKind::Json => HttpResponse::build(error.status())
            .content_type("application/json")
            .body(format!(
                "{{\"error\":\"{}\"}}",
                error.status().canonical_reason().unwrap_or("error")
            )),
        RouteKind::Svg => HttpResponse::build(error.status()).finish(),
        RouteKind::Page => render_page(req, error),
    }
}

/// The error as a page, whatever the route (a method or a body deadline the server itself
/// refuses): in the request's language, an explicit `?lang=` remembered.
pub fn render_page(req: &HttpRequest, error: &AppError) -> HttpResponse {
    let explicit = explicit_language(req);
    let page = match (error, req.app_data::<web::Data<AppState>>()) {
        (AppError::NotSignedIn, _) => super::redirect("/login"),
        (_, Some(state)) => {
            let chosen = req.extensions().get::<Lang>().copied();
            let lang = chosen.unwrap_or_else(|| language(req, explicit.as_deref()));
            page(&state.pages, lang, error)
        }
        (_, None) => error.error_response(),
    };
    remember_language(page, explicit.as_deref())
}

/// The error page for `error` in `lang`.
fn page(pages: &Pages, lang: Lang, error: &AppError) -> HttpResponse {
    let (title, message) = error.message_keys();
    let mut context = pages.context(lang);
    context.insert("status", &error.status().as_u16());
    context.insert("title", pages.message(lang, title));
    context.insert("message", pages.message(lang, message));
    if let AppError::Rejected(refusal) = error {
        // Only dashboard users are refused this way; the page leads them back there.
        context.insert("reason", &refusal.text(pages, lang));
    }
    let mut response = pages.html(error.status(), "error.html", &context);
    if error.status() == StatusCode::SERVICE_UNAVAILABLE {
        super::pages::ask_to_retry_later(&mut response);
    }
    if let AppError::Busy = error {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(super::hashing::RETRY_AFTER_SECONDS),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_decides_the_shape_of_an_error() {
        assert_eq!(RouteKind::of("/api/waves/1/results"), RouteKind::Json);
        assert_eq!(RouteKind::of("/charts/trend.svg"), RouteKind::Svg);
        assert_eq!(RouteKind::of("/dashboard"), RouteKind::Page);
        assert_eq!(RouteKind::of("/s/ABCD"), RouteKind::Page);
    }

    #[test]
    fn domain_errors_keep_their_statuses() {
        assert_eq!(
            AppError::from(WaveError::NotFound(3)).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            AppError::from(WaveError::AlreadyClosed(3)).status(),
            StatusCode::GONE
        );
        assert_eq!(
            AppError::wave_refused(WaveError::NotFound(3)).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            AppError::from(AccountError::WeakPassword).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            AppError::from(IssueError::WaveClosed(1)).status(),
            StatusCode::GONE
        );
    }
}

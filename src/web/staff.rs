//! Staff pages: enter a code, answer the survey, submit. Nothing here logs a code or an
//! answer, and a code travels in a URL only on the link's first GET.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;

use super::error::{use_language, AppError};
use super::pages::{language, remember_language, LangQuery};
use super::AppState;
use crate::codes::{CodeHash, InvitationCode};
use crate::collection::answers;
use crate::collection::form::{
    self, Field, FormRejection, COMMENT_FIELD, JOB_LEVEL_FIELD, NO_ANSWER_VALUE,
};
use crate::collection::store::{lookup_code, CodeStatus, Outcome, Submission};
use crate::i18n::Lang;
use crate::waves::WaveForm;

/// Largest accepted form body.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// How much of an oversized body is read and discarded so the client sees the 413 page.
const MAX_DRAIN_BYTES: usize = 1024 * 1024;

/// Form fields that belong to the page, not to the survey.
const CODE_FIELD: &str = "code";
const STEP_FIELD: &str = "step";
const SWITCH_LANG_FIELD: &str = "switch_lang";
const LANG_FIELD: &str = "lang";
const CONTROL_FIELDS: &[&str] = &[CODE_FIELD, STEP_FIELD, SWITCH_LANG_FIELD, LANG_FIELD];

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(index)));
    cfg.service(
        web::resource("/s")
            .route(web::post().to(start_or_submit))
            .route(web::get().to(back_to_start)),
    );
    cfg.service(
        web::resource("/s/{code}")
            .route(web::get().to(open_link))
            .route(web::post().to(submit_by_link)),
    );
    cfg.service(web::resource("/thanks").route(web::get().to(thanks)));
    cfg.service(web::resource("/static/app.css").route(web::get().to(stylesheet)));
    cfg.service(web::resource("/static/survey.js").route(web::get().to(script)));
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)));
}

async fn index(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LangQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let context = state.pages.context(lang);
    remember_language(
        state.pages.html(StatusCode::OK, "index.html", &context),
        query.lang.as_deref(),
    )
}

/// `GET /s` (e.g. the language link of an error page after a POST): back to the start page.
async fn back_to_start(query: web::Query<LangQuery>) -> HttpResponse {
    let location = match query.lang.as_deref().and_then(Lang::from_code) {
        Some(lang) => format!("/?lang={}", lang.code()),
        None => "/".to_string(),
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn thanks(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LangQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let mut context = state.pages.context(lang);
    context.insert(
        "lang_switch_href",
        &format!("/thanks?lang={}", lang.other().code()),
    );
    remember_language(
        state.pages.html(StatusCode::OK, "thanks.html", &context),
        query.lang.as_deref(),
    )
}

async fn stylesheet(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(state.pages.css().to_string())
}

async fn script(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(state.pages.script().to_string())
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let answered = state.with_conn(crate::db::ping).await;
    match answered {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable"),
    }
}

/// `GET /s/{code}`: the QR code or link. The only request that carries a code in its URL.
async fn open_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = language(&req, query.lang.as_deref());
    let admitted = admit(&state, &req, &path).await?;
    let form = wave_form(&state, admitted.status.wave_id).await?;
    let code = &admitted.code;
    let page = render_survey(&state, lang, &form, code, &HashMap::new(), Feedback::None);
    Ok(remember_language(page, query.lang.as_deref()))
}

/// `POST /s/{code}`: a submission addressed by the link itself (the stable interface).
async fn submit_by_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_form(payload, &req).await?;
    let pairs = form::decode(&body).ok_or(AppError::BadRequest)?;
    handle_form(&state, &req, &path, &pairs, false).await
}

/// `POST /s`: the code typed on the start page (shows the form), or a submission of the form,
/// which carries its code in the body so that it never appears in a later URL.
async fn start_or_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_form(payload, &req).await?;
    let pairs = form::decode(&body).ok_or(AppError::BadRequest)?;
    let code_text = field(&pairs, CODE_FIELD).unwrap_or_default().to_string();
    let starting = field(&pairs, STEP_FIELD).is_none();
    handle_form(&state, &req, &code_text, &pairs, starting).await
}

fn field<'a>(pairs: &'a [Field<'_>], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_ref())
}

/// A code typed on the start page, a language switch, or a submission of the form.
async fn handle_form(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    code_text: &str,
    pairs: &[Field<'_>],
    starting: bool,
) -> Result<HttpResponse, AppError> {
    let switch_to = field(pairs, SWITCH_LANG_FIELD);
    let lang = language(req, switch_to.or_else(|| field(pairs, LANG_FIELD)));
    use_language(req, lang);
    let admitted = match admit(state, req, code_text).await {
        // A mistyped code on the start page is answered on the start page.
        Err(AppError::UnknownCode) if starting => {
            return Ok(unknown_code_page(state, lang, code_text))
        }
        admitted => admitted?,
    };
    let form = wave_form(state, admitted.status.wave_id).await?;
    if starting || switch_to.is_some() {
        let entered = first_values(pairs);
        let code = &admitted.code;
        let page = render_survey(state, lang, &form, code, &entered, Feedback::None);
        // A switch is remembered, so that pages reached without the form (an oversized
        // body's page, an unknown address) speak the chosen language too.
        return Ok(remember_language(page, switch_to));
    }
    submit(state, lang, &form, &admitted, pairs).await
}

/// Parses the answers and hands them to the writer: 303 to the thank-you page once stored,
/// the form again with what to correct (400) or, when nothing could be stored, with the
/// answers to resend (503).
async fn submit(
    state: &AppState,
    lang: Lang,
    form: &WaveForm,
    admitted: &Admitted,
    pairs: &[Field<'_>],
) -> Result<HttpResponse, AppError> {
    let code = &admitted.code;
    let draft = match form::parse(&form.definition, pairs, CONTROL_FIELDS) {
        Ok(draft) => draft,
        Err(rejection) => {
            let feedback = Feedback::Rejected(&rejection);
            let entered = &rejection.entered;
            return Ok(render_survey(state, lang, form, code, entered, feedback));
        }
    };
    let submission = Submission {
        code_hash: admitted.hash,
        looked_up: Some((admitted.status.wave_id, admitted.status.workplace_id)),
        answers: answers::encode(&draft.answers),
        job_level: draft.job_level,
        comment: draft.comment,
    };
    match state.writer.submit(submission).await {
        Ok(outcome) => thanks_or_refusal(outcome, lang),
        // The disk is full, the database read-only or the writer gone: nothing was stored
        // and the code is unused. Give the answers back to resend.
        Err(_) => {
            let entered = first_values(pairs);
            let feedback = Feedback::NotSaved;
            Ok(render_survey(state, lang, form, code, &entered, feedback))
        }
    }
}

/// The writer's answer: 303 to the thank-you page once stored, else why not.
fn thanks_or_refusal(outcome: Outcome, lang: Lang) -> Result<HttpResponse, AppError> {
    match outcome {
        Outcome::Stored => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/thanks?lang={}", lang.code())))
            .finish()),
        Outcome::UnknownCode => Err(AppError::UnknownCode),
        Outcome::AlreadyUsed => Err(AppError::UsedCode),
        Outcome::WaveClosed => Err(AppError::WaveClosed),
    }
}

/// The start page again, saying the typed code is unknown (404).
fn unknown_code_page(state: &AppState, lang: Lang, code_text: &str) -> HttpResponse {
    let mut context = state.pages.context(lang);
    context.insert("error", state.pages.message(lang, "code_unknown_message"));
    context.insert("entered", code_text);
    state
        .pages
        .html(StatusCode::NOT_FOUND, "index.html", &context)
}

/// A code that may be used now: as typed, its keyed hash (computed once per request) and
/// where it stands.
struct Admitted {
    code: InvitationCode,
    hash: CodeHash,
    status: CodeStatus,
}

/// Checks a typed or linked code: well-formed, known, unused, wave open. Wrong codes count
/// against the client's throttle (kept in memory only).
async fn admit(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    typed: &str,
) -> Result<Admitted, AppError> {
    let client = super::security::client_address(req, state.settings.trust_proxy);
    if client.is_some_and(|ip| state.code_throttle.is_blocked(&ip)) {
        return Err(AppError::TooManyAttempts);
    }
    let code = InvitationCode::parse(typed);
    let found = match &code {
        Some(code) => {
            let hash = code.keyed_hash(&state.secret);
            let status = state.read_now(move |conn| lookup_code(conn, &hash)).await?;
            status.map(|status| (hash, status))
        }
        None => None,
    };
    let (Some(code), Some((hash, status))) = (code, found) else {
        if let Some(ip) = client {
            state.code_throttle.record_failure(ip);
        }
        return Err(AppError::UnknownCode);
    };
    match status.refusal() {
        Some(Outcome::WaveClosed) => Err(AppError::WaveClosed),
        Some(_) => Err(AppError::UsedCode),
        None => Ok(Admitted { code, hash, status }),
    }
}

/// The wave's parsed definition and k: from memory, or loaded once.
async fn wave_form(state: &web::Data<AppState>, wave_id: i32) -> Result<Arc<WaveForm>, AppError> {
    if let Some(form) = state.definitions.get(wave_id) {
        return Ok(form);
    }
    let app = state.clone();
    state
        // A stored wave whose snapshot cannot be read is the server's fault.
        .with_conn(move |conn| {
            app.definitions
                .load(conn, wave_id)
                .map_err(AppError::internal)
        })
        .await
}

fn first_values(pairs: &[Field<'_>]) -> HashMap<String, String> {
    let mut values = HashMap::new();
    for (name, value) in pairs {
        if !CONTROL_FIELDS.contains(&name.as_ref()) {
            values
                .entry(name.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    values
}

/// Reads an urlencoded body of at most [`MAX_FORM_BYTES`] (decode it with [`form::decode`]).
async fn read_form(
    mut payload: web::Payload,
    req: &HttpRequest,
) -> Result<web::BytesMut, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = web::BytesMut::new();
    let mut too_large = declared.is_some_and(|len| len > MAX_FORM_BYTES);
    let mut drained = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest)?;
        if too_large || body.len() + chunk.len() > MAX_FORM_BYTES {
            too_large = true;
            drained += chunk.len();
            if drained > MAX_DRAIN_BYTES {
                break;
            }
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    if too_large {
        return Err(AppError::TooLarge);
    }
    Ok(body)
}

#[derive(Serialize)]
struct OptionView {
    value: String,
    label: Option<String>,
}

#[derive(Serialize)]
struct ItemView {
    id: String,
    text: String,
    required: bool,
    options: Vec<OptionView>,
    no_answer: bool,
    selected: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct PartView {
    index: usize,
    total: usize,
    heading: Option<String>,
    items: Vec<ItemView>,
}

#[derive(Serialize)]
struct JobLevelOptionView {
    id: String,
    label: String,
    undisclosed: bool,
}

#[derive(Serialize)]
struct JobLevelView {
    question: String,
    required: bool,
    options: Vec<JobLevelOptionView>,
    selected: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct CommentView {
    question: String,
    max_chars: usize,
    value: String,
    error: Option<String>,
}

/// What the survey page tells the person above the form.
enum Feedback<'a> {
    None,
    /// Answers that need correcting (400).
    Rejected(&'a FormRejection),
    /// Valid answers the database could not store (503): they are shown again to resend.
    NotSaved,
}

fn render_survey(
    state: &AppState,
    lang: Lang,
    form: &WaveForm,
    code: &InvitationCode,
    entered: &HashMap<String, String>,
    feedback: Feedback,
) -> HttpResponse {
    let pages = &state.pages;
    let (rejection, status) = match feedback {
        Feedback::None => (None, StatusCode::OK),
        Feedback::Rejected(rejection) => (Some(rejection), StatusCode::BAD_REQUEST),
        Feedback::NotSaved => (None, StatusCode::SERVICE_UNAVAILABLE),
    };
    let definition = &form.definition;
    let problem = |field: &str| {
        rejection
            .and_then(|r| r.problems.get(field))
            .map(|p| pages.message(lang, p.key()).to_string())
    };
    let form_parts = definition.form_parts();
    let total = form_parts.len();
    let parts: Vec<PartView> = form_parts
        .iter()
        .enumerate()
        .map(|(index, items)| PartView {
            index: index + 1,
            total,
            heading: items
                .first()
                .and_then(|item| definition.dimension_of(item).heading.as_ref())
                .map(|h| h.get(lang).to_string()),
            items: items
                .iter()
                .map(|item| {
                    let scale = definition.scale_of(item);
                    ItemView {
                        id: item.id.clone(),
                        text: item.text.get(lang).to_string(),
                        required: item.required,
                        options: scale
                            .points()
                            .map(|value| OptionView {
                                value: value.to_string(),
                                label: scale.label_for(value).map(|l| l.get(lang).to_string()),
                            })
                            .collect(),
                        no_answer: scale.allow_no_answer,
                        selected: entered.get(&item.id).cloned(),
                        error: problem(&item.id),
                    }
                })
                .collect(),
        })
        .collect();
    let job_level = definition.job_level.as_ref().map(|question| JobLevelView {
        question: question.question.get(lang).to_string(),
        required: question.required,
        options: question
            .options
            .iter()
            .map(|o| JobLevelOptionView {
                id: o.id.clone(),
                label: o.label.get(lang).to_string(),
                undisclosed: o.undisclosed,
            })
            .collect(),
        selected: entered.get(JOB_LEVEL_FIELD).cloned(),
        error: problem(JOB_LEVEL_FIELD),
    });
    let comment = definition.comment.as_ref().map(|question| CommentView {
        question: question.question.get(lang).to_string(),
        max_chars: question.max_chars,
        value: entered.get(COMMENT_FIELD).cloned().unwrap_or_default(),
        error: problem(COMMENT_FIELD),
    });
    let mut form_errors = Vec::new();
    if rejection.is_some_and(|r| !r.unknown_fields.is_empty()) {
        form_errors.push(pages.message(lang, "error_unknown_fields").to_string());
    }
    let error_count = rejection.map_or(0, |r| r.problems.len()) + form_errors.len();
    // The first item to correct, in the page's order: it takes the focus (and so the view).
    let first_error = parts
        .iter()
        .flat_map(|part| part.items.iter())
        .find(|item| item.error.is_some())
        .map(|item| item.id.as_str())
        .or_else(|| {
            job_level
                .as_ref()
                .filter(|j| j.error.is_some())
                .map(|_| JOB_LEVEL_FIELD)
        })
        .or_else(|| {
            comment
                .as_ref()
                .filter(|c| c.error.is_some())
                .map(|_| COMMENT_FIELD)
        });

    let mut context = pages.context(lang);
    context.insert("code", &code.display_form());
    context.insert("post_path", "/s");
    context.insert("step", "answers");
    context.insert("no_answer_value", NO_ANSWER_VALUE);
    context.insert("k", &form.min_group_size);
    context.insert("title", definition.title.get(lang));
    context.insert("intro", &definition.intro.as_ref().map(|i| i.get(lang)));
    context.insert("parts", &parts);
    context.insert("job_level", &job_level);
    context.insert("comment", &comment);
    context.insert("form_errors", &form_errors);
    context.insert("error_count", &error_count);
    context.insert("first_error", &first_error);
    context.insert("not_saved", &(status == StatusCode::SERVICE_UNAVAILABLE));
    let mut response = pages.html(status, "survey.html", &context);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        super::pages::ask_to_retry_later(&mut response);
    }
    response
}

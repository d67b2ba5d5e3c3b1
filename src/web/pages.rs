//! Page rendering: tera templates with the message catalogue, and the request's language.
//! How a failure looks is decided in `error`.

use std::path::Path;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use tera::{Context, Tera};

use crate::i18n::{Catalog, CatalogError, Lang};

pub struct Pages {
    tera: Tera,
    catalog: Catalog,
    /// [`Pages::context`] for Japanese and English, built once: the catalogue's few hundred
    /// messages are copied per page instead of converted from the catalogue every time.
    contexts: [Context; 2],
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

/// A context holding what every page needs: the language, the switch and the messages.
fn base_context(catalog: &Catalog, lang: Lang) -> Context {
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
    context.insert("t", catalog.messages(lang));
    // An absolute path: a relative "?lang=" would repeat a survey link's code in the URL.
    context.insert(
        "lang_switch_href",
        &format!("/?lang={}", lang.other().code()),
    );
    context
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
        let contexts = [Lang::Ja, Lang::En].map(|lang| base_context(&catalog, lang));
        Ok(Pages {
            tera,
            catalog,
            contexts,
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
        match lang {
            Lang::Ja => self.contexts[0].clone(),
            Lang::En => self.contexts[1].clone(),
        }
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

/// The `?lang=` of the request's URL, if any.
pub fn explicit_language(req: &HttpRequest) -> Option<String> {
    actix_web::web::Query::<LangQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().lang)
}

/// The request's language as an extractor: `?lang=`, else the cookie, else
/// `Accept-Language`, else Japanese.
pub struct PageLang(pub Lang);

impl actix_web::FromRequest for PageLang {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let lang = language(req, explicit_language(req).as_deref());
        std::future::ready(Ok(PageLang(lang)))
    }
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

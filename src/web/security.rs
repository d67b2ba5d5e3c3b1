//! Response headers every page gets, the cross-origin POST check, and an access log that
//! never records an invitation code.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{Error, HttpRequest, HttpResponse};

/// No inline script or style anywhere, so the policy can forbid both. `no-referrer` because
/// codes live in the survey link's URL.
pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        // Shared PCs: no page (which may show a code or answers) is kept in a cache.
        .add((header::CACHE_CONTROL, "no-store"))
}

/// The access log line: method, a path with any code replaced, status and time. Query
/// strings are left out entirely, and so are sizes: the size of a survey form or of the page
/// that hands it back tells how long a comment was and how many items were left unanswered.
///
/// One `tracing` event with a fixed format (target `anshin::access`): actix's `Logger` cloned
/// its whole format for every request and went through the `log` bridge, about 6% of a
/// submission's instructions (docs/performance.md).
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !tracing::enabled!(target: "anshin::access", tracing::Level::INFO) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = redacted_path(req.path()).to_string();
    let response = next.call(req).await?.map_into_boxed_body();
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "anshin::access",
        "{method} {path} {} {millis:.6}ms",
        response.status().as_u16()
    );
    Ok(response)
}

/// `/s/ABCD-…` → `/s/{code}`; every other path as it is.
pub fn redacted_path(path: &str) -> &str {
    if path.starts_with("/s/") {
        "/s/{code}"
    } else {
        path
    }
}

/// Refuses cross-site POSTs (a form on another site posting here).
///
/// `Sec-Fetch-Site` decides where the browser sends it. Without it, an `Origin` naming another
/// host is refused. `Origin: null` proves nothing either way: browsers send it on every
/// same-origin POST from a page served with `Referrer-Policy: no-referrer`, as ours are. A
/// request with neither header is not from a browser form and goes on to the route's own
/// checks (an invitation code, or a session's CSRF token).
pub async fn same_origin_posts(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() == Method::POST && is_cross_site(&req) {
        let response = HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("403 Forbidden: cross-site form submission");
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn is_cross_site(req: &ServiceRequest) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    match header(header::ORIGIN) {
        None | Some("null") => false,
        Some(origin) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            Some(origin_host) != request_host(req).as_deref()
        }
    }
}

/// The host the request was addressed to: the `Host` header, or behind a trusted reverse
/// proxy (`--trust-proxy`) what it forwards (`Forwarded: host=`, `X-Forwarded-Host`). Without
/// `--trust-proxy` a client's forwarding headers are never read.
fn request_host(req: &ServiceRequest) -> Option<String> {
    let trust_proxy = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .is_some_and(|state| state.settings.trust_proxy);
    if trust_proxy {
        return Some(req.connection_info().host().to_string());
    }
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
}

/// Methods: `HEAD` is answered as `GET` is, without the body (the route sees `GET`, and
/// actix-http leaves the body out because the request on the wire was `HEAD`). A method a
/// known path does not take gets 405 with `Allow` (each path is one actix resource, which
/// answers so) and a page that says so in the user's language.
pub async fn methods(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let response = next.call(req).await?.map_into_boxed_body();
    if response.status() != actix_web::http::StatusCode::METHOD_NOT_ALLOWED {
        return Ok(response);
    }
    let mut allowed: Vec<String> = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if allowed.iter().any(|m| m == "GET") && !allowed.iter().any(|m| m == "HEAD") {
        allowed.push("HEAD".to_string());
    }
    let mut page =
        super::error::render_page(response.request(), &super::AppError::MethodNotAllowed);
    if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
        page.headers_mut().insert(header::ALLOW, value);
    }
    Ok(response.into_response(page))
}

/// A request body must arrive within `Settings::body_timeout` of the request's head (actix
/// itself bounds the head: `client_request_timeout`). A slower body — a client trickling a
/// byte a second to hold a connection — gets 408 and the connection is closed.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .cloned()
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
    let payload = Deadline {
        inner: actix_web::HttpMessage::take_payload(&mut req),
        sleep: Box::pin(tokio::time::sleep(state.settings.body_timeout)),
        timed_out: timed_out.clone(),
    };
    let payload: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> = Box::pin(payload);
    req.set_payload(actix_web::dev::Payload::from(payload));
    let response = next.call(req).await?.map_into_boxed_body();
    if !timed_out.get() {
        return Ok(response);
    }
    let mut page = super::error::render_page(response.request(), &super::AppError::SlowRequest);
    page.head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(response.into_response(page))
}

/// A request body that fails once its deadline has passed.
struct Deadline {
    inner: actix_web::dev::Payload,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    timed_out: std::rc::Rc<std::cell::Cell<bool>>,
}

impl futures_util::Stream for Deadline {
    type Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future;
        // The deadline first: a trickle of bytes must not keep postponing it.
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.timed_out.set(true);
            let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body too slow");
            return std::task::Poll::Ready(Some(Err(error.into())));
        }
        std::pin::Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// The client's address for throttling: the peer, or behind a trusted reverse proxy the
/// address it forwards. Kept in memory only.
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> Option<std::net::IpAddr> {
    if trust_proxy {
        if let Some(forwarded) = req.connection_info().realip_remote_addr() {
            // "192.0.2.1", "2001:db8::1", "192.0.2.1:4711" or "[2001:db8::1]:4711".
            let parsed = forwarded.parse::<std::net::IpAddr>().ok().or_else(|| {
                forwarded
                    .parse::<std::net::SocketAddr>()
                    .ok()
                    .map(|a| a.ip())
            });
            if parsed.is_some() {
                return parsed;
            }
        }
    }
    req.peer_addr().map(|addr| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_links_are_redacted_in_the_access_log() {
        assert_eq!(redacted_path("/s/ABCD-EFGH-JKMN-PQRS"), "/s/{code}");
        assert_eq!(redacted_path("/s"), "/s");
        assert_eq!(redacted_path("/healthz"), "/healthz");
    }
}

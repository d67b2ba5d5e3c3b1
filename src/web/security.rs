//! Response headers every page gets, the cross-origin POST check, and an access log that
//! never records an invitation code.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{DefaultHeaders, Logger, Next};
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
pub fn access_log() -> Logger {
    Logger::new("%{method_and_path}xi %s %Dms").custom_request_replace("method_and_path", |req| {
        format!("{} {}", req.method(), redacted_path(req.path()))
    })
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
            origin_host != req.connection_info().host()
        }
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

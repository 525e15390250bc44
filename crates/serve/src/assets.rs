//! The web page and the OpenAPI document, embedded in the binary (no CDN, works offline).

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::api_error::{ApiError, ErrorCode};

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE_CSS: &str = include_str!("../assets/style.css");
const FAVICON_SVG: &str = include_str!("../assets/favicon.svg");

/// The OpenAPI 3.1 document of the HTTP API (hand-written; tests check it lists every route
/// and error code).
pub const OPENAPI_JSON: &str = include_str!("../assets/openapi.json");

/// Everything from this origin only; recordings are played and drawn from `blob:` URLs.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

pub(crate) async fn index() -> Response {
    let mut response = embedded("text/html; charset=utf-8", INDEX_HTML);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "app.js" => embedded("text/javascript; charset=utf-8", APP_JS),
        "style.css" => embedded("text/css; charset=utf-8", STYLE_CSS),
        "favicon.svg" => embedded("image/svg+xml", FAVICON_SVG),
        _ => ApiError::new(
            ErrorCode::NotFound,
            format!("no such asset: /assets/{file}"),
        )
        .into_response(),
    }
}

pub(crate) async fn openapi() -> Response {
    embedded("application/json", OPENAPI_JSON)
}

fn embedded(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The assets change only with the binary; a short cache keeps reloads cheap and fresh.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

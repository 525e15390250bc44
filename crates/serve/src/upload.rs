//! Reading an upload out of a `POST /api/v1/predict` request: a raw body
//! (`audio/*`, `application/octet-stream`, curl's default form type, or no `Content-Type`) or `multipart/form-data`
//! with a `file` part and an optional `events` part; `?name=` and `?events=` may add to
//! either.
//!
//! The body is read to its end first, at the pace the service demands
//! ([`BodyPace`]: 408 when it falls behind) and counted against the bytes in flight as it
//! arrives ([`UploadBytes`]: 503 when they are all taken); a multipart body is then parsed
//! from memory.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::{HeaderMap, header};
use serde::Deserialize;

use crate::api_error::{ApiError, ErrorCode};
use crate::config::BodyPace;
use crate::events::parse_events;
use crate::limit::UploadBytes;

/// What a client sent: the file's bytes, its name and the events to classify, if any.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) bytes: Bytes,
    pub(crate) name: String,
    pub(crate) events: Option<Vec<(f64, f64)>>,
    /// The bytes counted against `max_upload_bytes_in_flight`, given back when dropped.
    pub(crate) held: Arc<UploadBytes>,
}

#[derive(Debug, Default, Deserialize)]
struct PredictQuery {
    /// Events JSON (any form [`parse_events`] accepts), URL-encoded.
    events: Option<String>,
    /// The file name used in messages and in the result.
    name: Option<String>,
}

/// Name used when the client gives none.
pub(crate) const DEFAULT_NAME: &str = "upload";

enum BodyKind {
    Raw,
    Multipart,
}

/// How a body must arrive: its size limits, its pace and where its bytes are counted.
pub(crate) struct BodyRules {
    /// Largest audio file (a raw body, or the `file` part).
    pub(crate) max_upload_bytes: usize,
    /// Largest multipart body.
    pub(crate) max_body_bytes: usize,
    pub(crate) pace: BodyPace,
    pub(crate) held: Arc<UploadBytes>,
    pub(crate) retry_after_s: u64,
}

/// Reads the request's upload (see the module docs).
pub(crate) async fn read_upload(request: Request, rules: BodyRules) -> Result<Upload, ApiError> {
    let query = match request.uri().query() {
        None => PredictQuery::default(),
        Some(_) => {
            Query::<PredictQuery>::try_from_uri(request.uri())
                .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))?
                .0
        }
    };
    let query_events = query.events.as_deref().map(parse_event_text).transpose()?;
    let query_name = query.name.as_deref().map(clean_name);

    let kind = body_kind(request.headers())?;
    let max = match kind {
        BodyKind::Raw => rules.max_upload_bytes,
        BodyKind::Multipart => rules.max_body_bytes,
    };
    let declared = content_length(request.headers());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(rules.max_upload_bytes));
    }
    let (parts, body) = request.into_parts();
    let body = read_paced(body, max, declared, &rules).await?;
    let (bytes, part_name, part_events) = match kind {
        BodyKind::Raw => (body, None, None),
        BodyKind::Multipart => {
            // Parsing holds a second copy of the body for a moment: count it too.
            let len = body.len();
            if !rules.held.try_grow(len) {
                return Err(bytes_in_flight_full(rules.retry_after_s));
            }
            let request = Request::from_parts(parts, Body::from(body));
            let parsed = read_multipart(request, rules.max_upload_bytes).await;
            rules.held.release(len);
            parsed?
        }
    };
    let events = match (part_events, query_events) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidEvents,
                "events were given both as a form part and as a query parameter; send them once",
            ));
        }
        // An empty list (a SPRSound record without events) means "scan the whole recording".
        (a, b) => a.or(b).filter(|events| !events.is_empty()),
    };
    let name = query_name
        .or(part_name)
        .unwrap_or_else(|| DEFAULT_NAME.to_string());
    Ok(Upload {
        bytes,
        name,
        events,
        held: rules.held,
    })
}

fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::Raw);
    };
    let text = value.to_str().unwrap_or("");
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "multipart/form-data" => Ok(BodyKind::Multipart),
        "application/octet-stream" | "" => Ok(BodyKind::Raw),
        // What `curl --data-binary @file` sends unless told otherwise: the
        // body is still the file, and decoding checks that it is audio.
        "application/x-www-form-urlencoded" => Ok(BodyKind::Raw),
        e if e.starts_with("audio/") => Ok(BodyKind::Raw),
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "Content-Type \"{}\" is not accepted: send a WAV or FLAC file as the body (audio/wav, \
                 audio/flac or application/octet-stream) or as the \"file\" part of multipart/form-data",
                text.chars().take(100).collect::<String>()
            ),
        )),
    }
}

async fn read_multipart(
    request: Request,
    max_upload_bytes: usize,
) -> Result<(Bytes, Option<String>, Option<Vec<(f64, f64)>>), ApiError> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::new(ErrorCode::InvalidMultipart, e.body_text()))?;
    let mut file: Option<(Bytes, Option<String>)> = None;
    let mut events = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if file.is_none() => {
                let name = field.file_name().map(clean_name);
                let mut chunks: Vec<Bytes> = Vec::new();
                let mut len = 0;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    len += chunk.len();
                    if len > max_upload_bytes {
                        return Err(too_large(max_upload_bytes));
                    }
                    chunks.push(chunk);
                }
                // Usually one chunk (the body is parsed from memory): no copy then.
                let bytes = match chunks.len() {
                    1 => chunks.pop().unwrap_or_default(),
                    _ => Bytes::from(chunks.concat()),
                };
                file = Some((bytes, name));
            }
            Some("file") => {
                return Err(ApiError::new(
                    ErrorCode::InvalidMultipart,
                    "more than one \"file\" part: send one recording per request",
                ));
            }
            Some("events") => {
                let text = field.text().await.map_err(multipart_error)?;
                if !text.trim().is_empty() {
                    events = Some(parse_event_text(&text)?);
                }
            }
            _ => {} // unknown parts are skipped
        }
    }
    let Some((bytes, name)) = file else {
        return Err(ApiError::new(
            ErrorCode::MissingFile,
            "the multipart form has no \"file\" part: put the WAV or FLAC recording in a part named \"file\"",
        ));
    };
    Ok((bytes, name, events))
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than the upload limit",
        )
    } else {
        ApiError::new(
            ErrorCode::InvalidMultipart,
            format!("cannot read the multipart form: {}", err.body_text()),
        )
    }
}

/// First capacity of a body buffer when the client declares its length; the buffer grows
/// to the declared length once more has arrived (so a client that declares 20 MB and
/// sends 1 byte does not get 20 MB reserved).
const FIRST_CAPACITY: usize = 64 * 1024;

/// Reads a body into memory, refusing it as soon as it passes `max` bytes (413), falls
/// behind `rules.pace` (408) or would pass the bytes in flight (503).
async fn read_paced(
    mut body: Body,
    max: usize,
    declared: Option<usize>,
    rules: &BodyRules,
) -> Result<Bytes, ApiError> {
    let declared = declared.map(|n| n.min(max));
    let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0).min(FIRST_CAPACITY));
    loop {
        let due = rules.pace.due(buf.len());
        let next = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        let frame = match tokio::time::timeout_at(due.into(), next).await {
            Err(_) => return Err(too_slow(&rules.pace, due, buf.len())),
            Ok(None) => break,
            Ok(Some(frame)) => frame.map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidBody,
                    format!("cannot read the request body: {e}"),
                )
            })?,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let len = buf.len() + data.len();
        if len > max {
            return Err(too_large(rules.max_upload_bytes));
        }
        if !rules.held.try_grow(data.len()) {
            return Err(bytes_in_flight_full(rules.retry_after_s));
        }
        if len > buf.capacity() {
            let want = declared
                .filter(|&d| d >= len)
                .unwrap_or(len.max(2 * buf.len()));
            buf.reserve_exact(want.min(max) - buf.len());
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// 408 for a body that missed `due`.
fn too_slow(pace: &BodyPace, due: Instant, received: usize) -> ApiError {
    let elapsed = pace.start.elapsed().as_secs_f64();
    let message = if pace.is_total(due) {
        format!(
            "the upload did not arrive within {} s ({received} bytes received)",
            pace.total.as_secs_f64()
        )
    } else {
        format!(
            "the upload is too slow: {received} bytes in {elapsed:.1} s, below the minimum of {} bytes/s \
             (after the first {} s)",
            pace.min_rate,
            pace.grace.as_secs_f64()
        )
    };
    ApiError::new(ErrorCode::BodyTimeout, message)
}

/// 503 for an upload that would pass `max_upload_bytes_in_flight`.
fn bytes_in_flight_full(retry_after_s: u64) -> ApiError {
    ApiError::new(
        ErrorCode::OverCapacity,
        format!(
            "the server is receiving too many uploads at once (their bytes fill its upload memory); \
             retry in {retry_after_s} s"
        ),
    )
    .with_retry_after(retry_after_s)
}

fn parse_event_text(text: &str) -> Result<Vec<(f64, f64)>, ApiError> {
    parse_events(text).map_err(|e| ApiError::new(ErrorCode::InvalidEvents, e))
}

pub(crate) fn too_large(max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the upload is larger than the limit of {} ({max} bytes)",
            human_bytes(max)
        ),
    )
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The last path component of a client-given name, without control characters, at most
/// 200 characters; [`DEFAULT_NAME`] if nothing is left.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        DEFAULT_NAME.to_string()
    } else {
        cleaned.to_string()
    }
}

fn human_bytes(n: usize) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if n as f64 >= MIB {
        format!("{:.1} MiB", n as f64 / MIB)
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_directories_and_control_characters() {
        assert_eq!(clean_name("C:\\rec\\a.wav"), "a.wav");
        assert_eq!(clean_name("../../etc/b\n.flac"), "b.flac");
        assert_eq!(clean_name("  "), DEFAULT_NAME);
        assert_eq!(clean_name(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn content_types_pick_raw_multipart_or_415() {
        let kind = |ct: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(ct) = ct {
                headers.insert(header::CONTENT_TYPE, ct.parse().expect("header"));
            }
            body_kind(&headers).map(|k| matches!(k, BodyKind::Multipart))
        };
        assert_eq!(kind(None).ok(), Some(false));
        assert_eq!(kind(Some("audio/x-wav")).ok(), Some(false));
        assert_eq!(kind(Some("Audio/FLAC")).ok(), Some(false));
        assert_eq!(kind(Some("application/octet-stream")).ok(), Some(false));
        assert_eq!(
            kind(Some("application/x-www-form-urlencoded")).ok(),
            Some(false)
        );
        assert_eq!(
            kind(Some("multipart/form-data; boundary=x")).ok(),
            Some(true)
        );
        let err = kind(Some("text/plain; charset=utf-8")).expect_err("415");
        assert_eq!(err.code(), ErrorCode::UnsupportedMediaType);
        assert!(err.message().contains("text/plain"), "{}", err.message());
    }

    #[test]
    fn sizes_read_as_mib_or_kib() {
        assert_eq!(human_bytes(20 * 1024 * 1024), "20.0 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}

//! Reading an upload out of a `POST /api/v1/predict` request: a raw body
//! (`audio/*`, `application/octet-stream`, curl's default form type, or no `Content-Type`) or `multipart/form-data`
//! with a `file` part and an optional `events` part; `?name=` and `?events=` may add to
//! either.

use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, Multipart, Query, Request};
use axum::http::{HeaderMap, header};
use serde::Deserialize;

use crate::api_error::{ApiError, ErrorCode};
use crate::events::parse_events;

/// What a client sent: the file's bytes, its name and the events to classify, if any.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) bytes: Bytes,
    pub(crate) name: String,
    pub(crate) events: Option<Vec<(f64, f64)>>,
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

/// Reads the request's upload. `max_upload_bytes` limits the file itself; a multipart
/// body is further limited by the router's `DefaultBodyLimit`.
pub(crate) async fn read_upload(
    request: Request,
    max_upload_bytes: usize,
) -> Result<Upload, ApiError> {
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

    let (bytes, part_name, part_events) = match body_kind(request.headers())? {
        BodyKind::Raw => {
            let declared = content_length(request.headers());
            if declared.is_some_and(|n| n > max_upload_bytes) {
                return Err(too_large(max_upload_bytes));
            }
            let bytes = read_limited(request.into_body(), max_upload_bytes, declared).await?;
            (bytes, None, None)
        }
        BodyKind::Multipart => read_multipart(request, max_upload_bytes).await?,
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
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if buf.len() + chunk.len() > max_upload_bytes {
                        return Err(too_large(max_upload_bytes));
                    }
                    buf.extend_from_slice(&chunk);
                }
                file = Some((Bytes::from(buf), name));
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

/// Reads a body into memory, refusing it as soon as it passes `max` bytes.
async fn read_limited(
    mut body: Body,
    max: usize,
    declared: Option<usize>,
) -> Result<Bytes, ApiError> {
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(max));
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidBody,
                format!("cannot read the request body: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max {
                return Err(too_large(max));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
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

//! Error responses: every failure is JSON `{"error": {"code": "...", "message": "..."}}`
//! with a status that says whose fault it is, and a `code` that programs can match on.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What went wrong with a request, as the `error.code` string of the response.
///
/// The codes (and their statuses) are part of the HTTP API and listed in the OpenAPI
/// document; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: a multipart request without a `file` part.
    MissingFile,
    /// 400: a body that is not valid `multipart/form-data`.
    InvalidMultipart,
    /// 400: the request body could not be read (the connection broke, ...).
    InvalidBody,
    /// 400: the events JSON cannot be parsed or an interval is invalid.
    InvalidEvents,
    /// 400: a query parameter cannot be parsed.
    InvalidQuery,
    /// 400: the HTTP request itself cannot be parsed (a control character in a header
    /// value, a bad request line, ...).
    MalformedRequest,
    /// 404: no such endpoint.
    NotFound,
    /// 405: the endpoint exists but not for this method.
    MethodNotAllowed,
    /// 408: the body did not arrive within the time allowed.
    BodyTimeout,
    /// 413: the upload is larger than the limit.
    PayloadTooLarge,
    /// 414: the request URI is longer than 65534 bytes.
    UriTooLong,
    /// 415: the request's `Content-Type`, or the file, is not WAV or FLAC audio.
    UnsupportedMediaType,
    /// 415: a WAV/FLAC file whose encoding cannot be decoded (ADPCM, ...).
    UnsupportedEncoding,
    /// 431: more than 100 request headers, or a request head larger than hyper's read
    /// buffer (checked from about 400 KiB on).
    HeadersTooLarge,
    /// 422: the upload has 0 bytes.
    EmptyUpload,
    /// 422: the file is damaged or truncated.
    CorruptAudio,
    /// 422: the file is well formed but holds no samples.
    NoSamples,
    /// 422: the file holds NaN or infinite samples.
    InvalidSamples,
    /// 422: the recording is longer than the limit.
    TooLong,
    /// 422: the recording is shorter than the model needs to give an answer
    /// ([`crate::Classifier::min_duration_s`]) and no events were given.
    TooShort,
    /// 422: an event lies outside the recording.
    EventsOutOfRange,
    /// 422: the model cannot classify this recording (too short for it, ...).
    UnprocessableAudio,
    /// 500: the model or the server failed.
    InternalError,
    /// 503: too many requests (or uploads, or upload bytes) at once; retry after the
    /// `Retry-After` seconds.
    OverCapacity,
    /// 503: no answer within the compute deadline (waiting for a slot, decoding and the
    /// model); retry after the `Retry-After` seconds.
    ComputeTimeout,
}

impl ErrorCode {
    /// Every code, in status order (for documentation and tests).
    pub const ALL: [ErrorCode; 25] = [
        ErrorCode::MissingFile,
        ErrorCode::InvalidMultipart,
        ErrorCode::InvalidBody,
        ErrorCode::InvalidEvents,
        ErrorCode::InvalidQuery,
        ErrorCode::MalformedRequest,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::BodyTimeout,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UriTooLong,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::UnsupportedEncoding,
        ErrorCode::HeadersTooLarge,
        ErrorCode::EmptyUpload,
        ErrorCode::CorruptAudio,
        ErrorCode::NoSamples,
        ErrorCode::InvalidSamples,
        ErrorCode::TooLong,
        ErrorCode::TooShort,
        ErrorCode::EventsOutOfRange,
        ErrorCode::UnprocessableAudio,
        ErrorCode::InternalError,
        ErrorCode::OverCapacity,
        ErrorCode::ComputeTimeout,
    ];

    /// The `error.code` string, e.g. `payload_too_large`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingFile => "missing_file",
            ErrorCode::InvalidMultipart => "invalid_multipart",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidEvents => "invalid_events",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::BodyTimeout => "body_timeout",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UriTooLong => "uri_too_long",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::UnsupportedEncoding => "unsupported_encoding",
            ErrorCode::HeadersTooLarge => "headers_too_large",
            ErrorCode::EmptyUpload => "empty_upload",
            ErrorCode::CorruptAudio => "corrupt_audio",
            ErrorCode::NoSamples => "no_samples",
            ErrorCode::InvalidSamples => "invalid_samples",
            ErrorCode::TooLong => "too_long",
            ErrorCode::TooShort => "too_short",
            ErrorCode::EventsOutOfRange => "events_out_of_range",
            ErrorCode::UnprocessableAudio => "unprocessable_audio",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::OverCapacity => "over_capacity",
            ErrorCode::ComputeTimeout => "compute_timeout",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MissingFile
            | ErrorCode::InvalidMultipart
            | ErrorCode::InvalidBody
            | ErrorCode::InvalidEvents
            | ErrorCode::InvalidQuery
            | ErrorCode::MalformedRequest => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UriTooLong => StatusCode::URI_TOO_LONG,
            ErrorCode::UnsupportedMediaType | ErrorCode::UnsupportedEncoding => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ErrorCode::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::EmptyUpload
            | ErrorCode::CorruptAudio
            | ErrorCode::NoSamples
            | ErrorCode::InvalidSamples
            | ErrorCode::TooLong
            | ErrorCode::TooShort
            | ErrorCode::EventsOutOfRange
            | ErrorCode::UnprocessableAudio => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::OverCapacity | ErrorCode::ComputeTimeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error answer: status and body follow from its [`ErrorCode`]; the message says what
/// is wrong in words, quoting the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    retry_after_s: Option<u64>,
    close: bool,
}

impl ApiError {
    /// An error with `code` and a human-readable `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after_s: None,
            close: false,
        }
    }

    /// Adds a `Retry-After: retry_after_s` header to the answer.
    pub fn with_retry_after(mut self, retry_after_s: u64) -> Self {
        self.retry_after_s = Some(retry_after_s);
        self
    }

    /// Adds `Connection: close` to the answer: for errors sent before the request body was
    /// read to its end (the rest of it is not waited for).
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// 503 `over_capacity` with a `Retry-After: retry_after_s` header.
    pub fn over_capacity(retry_after_s: u64) -> Self {
        ApiError::new(
            ErrorCode::OverCapacity,
            format!("the server is busy with other recordings; retry in {retry_after_s} s"),
        )
        .with_retry_after(retry_after_s)
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response body, `{"error": {"code": ..., "message": ...}}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code.as_str(), "message": self.message } })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.code.status().as_u16(),
            self.code.as_str(),
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        if status.is_server_error() {
            tracing::warn!("{self}");
        } else {
            tracing::debug!("{self}");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Maps a decoding error to the answer: not audio or an unknown encoding is 415, a damaged
/// file 422.
impl From<lungsound_audio::Error> for ApiError {
    fn from(err: lungsound_audio::Error) -> Self {
        use lungsound_audio::Error as E;
        let code = match &err {
            E::NotAudio { .. } => ErrorCode::UnsupportedMediaType,
            E::Unsupported { .. } => ErrorCode::UnsupportedEncoding,
            E::EmptyFile { .. } => ErrorCode::EmptyUpload,
            // A sample rate outside 1–384 kHz: a damaged or hostile header.
            E::Corrupt { .. } | E::Truncated { .. } | E::SampleRateOutOfRange { .. } => {
                ErrorCode::CorruptAudio
            }
            E::NoSamples { .. } => ErrorCode::NoSamples,
            E::TooLong { .. } => ErrorCode::TooLong,
            E::NonFinite { .. } | E::NonFiniteInput { .. } => ErrorCode::InvalidSamples,
            _ => ErrorCode::InternalError,
        };
        ApiError::new(code, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_4xx_or_5xx() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code:?}");
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn over_capacity_sets_retry_after() {
        let response = ApiError::over_capacity(3).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    }

    #[test]
    fn audio_errors_map_to_415_or_422() {
        let not_audio =
            lungsound_audio::decode_bytes(b"hello, this is text", "notes.wav").expect_err("text");
        assert_eq!(
            ApiError::from(not_audio).code(),
            ErrorCode::UnsupportedMediaType
        );
        let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
        wav.extend_from_slice(&[0xff; 8]);
        let corrupt = lungsound_audio::decode_bytes(&wav, "broken.wav").expect_err("corrupt");
        assert_eq!(
            ApiError::from(corrupt).code().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // A 1 Hz header: refused by the decoder, answered 422 (not 500).
        let one_hz = lungsound_testutil::wav_bytes(&[0.1; 16], 1, 1, 16, false);
        let err = lungsound_audio::decode_bytes(&one_hz, "slow.wav").expect_err("1 Hz");
        let err = ApiError::from(err);
        assert_eq!(err.code(), ErrorCode::CorruptAudio);
        assert!(err.message().contains("slow.wav"), "{}", err.message());
    }
}

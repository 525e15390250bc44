//! The HTTP API: [`router`] and its handlers.
//!
//! | method and path | answer |
//! |---|---|
//! | `POST /api/v1/predict` | the classifier's JSON for the uploaded recording |
//! | `GET /api/v1/models` | `{"models": classifier.models(), "limits": {...}}` |
//! | `GET /api/v1/openapi.json` | the OpenAPI 3.1 document of all of this |
//! | `GET /healthz` | `{"status": "ok", ...}` with load figures |
//! | `GET /` and `/assets/*` | the web page |
//!
//! Every error is [`ApiError`] JSON, unknown paths and methods included.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::api_error::{ApiError, ErrorCode};
use crate::classifier::{Classifier, ClassifyError};
use crate::config::ServeConfig;
use crate::events::fit_to_duration;
use crate::header::declared_duration_s;
use crate::limit::Admission;
use crate::upload::{Upload, read_upload};

/// Shared by all handlers.
#[derive(Clone)]
struct AppState {
    classifier: Arc<dyn Classifier>,
    /// `models()`, called once when the router is built.
    models: Arc<Vec<Value>>,
    config: Arc<ServeConfig>,
    admission: Arc<Admission>,
    started: Instant,
}

/// The service's routes over `classifier`, with `config`'s limits.
///
/// Calls [`Classifier::models`] once, here. Fails only if `config` is invalid.
pub fn router(
    classifier: Arc<dyn Classifier>,
    config: ServeConfig,
) -> Result<Router, crate::Error> {
    config.validate()?;
    let state = AppState {
        models: Arc::new(classifier.models()),
        classifier,
        admission: Admission::new(config.max_concurrency, config.queue),
        config: Arc::new(config),
        started: Instant::now(),
    };
    let body_limit = state.config.body_limit();
    Ok(Router::new()
        .route("/", get(crate::assets::index))
        .route("/assets/{file}", get(crate::assets::asset))
        .route("/healthz", get(healthz))
        .route("/api/v1/models", get(models))
        .route("/api/v1/openapi.json", get(crate::assets::openapi))
        .route("/api/v1/predict", post(predict))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state))
}

async fn predict(State(state): State<AppState>, request: Request) -> Response {
    match predict_inner(state, request).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn predict_inner(state: AppState, request: Request) -> Result<Response, ApiError> {
    // Refuse over capacity before reading anything: waiting requests hold their bodies.
    let ticket = state
        .admission
        .try_admit()
        .ok_or_else(|| ApiError::over_capacity(state.config.retry_after_s))?;
    let config = Arc::clone(&state.config);
    let received = Instant::now();
    let upload = tokio::time::timeout(
        config.body_timeout,
        read_upload(request, config.max_upload_bytes),
    )
    .await
    .map_err(|_| {
        ApiError::new(
            ErrorCode::BodyTimeout,
            format!(
                "the upload did not arrive within {} s",
                config.body_timeout.as_secs_f64()
            ),
        )
    })??;
    check_before_decoding(&upload, config.max_duration_s)?;

    let slot = ticket.run_slot().await;
    let waited = received.elapsed();
    let classifier = Arc::clone(&state.classifier);
    let job = tokio::task::spawn_blocking(move || {
        // Both are released when the work ends, even if the client has gone away.
        let _slot = slot;
        let _ticket = ticket;
        classify(classifier.as_ref(), upload, config.max_duration_s)
    });
    let (value, timing) = match job.await {
        Ok(result) => result?,
        Err(join) => {
            let what = if join.is_panic() {
                "panicked"
            } else {
                "was cancelled"
            };
            tracing::error!("classification {what}: {join}");
            return Err(ApiError::new(
                ErrorCode::InternalError,
                format!("the classifier {what} on this recording (see the server log)"),
            ));
        }
    };
    let mut response = Json(value).into_response();
    let server_timing = format!(
        "queue;dur={:.1}, decode;dur={:.1}, predict;dur={:.1}",
        waited.as_secs_f64() * 1e3,
        timing.decode_ms,
        timing.predict_ms
    );
    if let Ok(v) = HeaderValue::from_str(&server_timing) {
        response.headers_mut().insert("server-timing", v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Cheap checks on the raw bytes, before a slot is taken.
fn check_before_decoding(upload: &Upload, max_duration_s: f64) -> Result<(), ApiError> {
    if upload.bytes.is_empty() {
        return Err(ApiError::new(
            ErrorCode::EmptyUpload,
            "the upload is empty (0 bytes): send a WAV or FLAC recording",
        ));
    }
    if let Some(duration_s) = declared_duration_s(&upload.bytes) {
        check_duration(&upload.name, duration_s, max_duration_s)?;
    }
    Ok(())
}

fn check_duration(name: &str, duration_s: f64, max_duration_s: f64) -> Result<(), ApiError> {
    if duration_s > max_duration_s {
        return Err(ApiError::new(
            ErrorCode::TooLong,
            format!(
                "\"{name}\" lasts {duration_s:.1} s, longer than the limit of {max_duration_s} s"
            ),
        ));
    }
    Ok(())
}

struct Timing {
    decode_ms: f64,
    predict_ms: f64,
}

/// Decoding, checks and the model: runs on a blocking thread.
fn classify(
    classifier: &dyn Classifier,
    upload: Upload,
    max_duration_s: f64,
) -> Result<(Value, Timing), ApiError> {
    let start = Instant::now();
    let (audio, _info) = lungsound_audio::decode_bytes(&upload.bytes, &upload.name)?;
    drop(upload.bytes);
    let duration_s = audio.duration_s();
    check_duration(&upload.name, duration_s, max_duration_s)?;
    let mut events = upload.events;
    if let Some(events) = events.as_mut() {
        fit_to_duration(events, duration_s)
            .map_err(|e| ApiError::new(ErrorCode::EventsOutOfRange, e))?;
    }
    let decoded = Instant::now();
    let value = classifier
        .predict(&audio, &upload.name, events.as_deref())
        .map_err(|e| match e {
            ClassifyError::Input(message) => ApiError::new(ErrorCode::UnprocessableAudio, message),
            ClassifyError::Internal(message) => {
                tracing::error!("classifying \"{}\" failed: {message}", upload.name);
                ApiError::new(
                    ErrorCode::InternalError,
                    format!("the model failed on \"{}\": {message}", upload.name),
                )
            }
        })?;
    let timing = Timing {
        decode_ms: (decoded - start).as_secs_f64() * 1e3,
        predict_ms: decoded.elapsed().as_secs_f64() * 1e3,
    };
    Ok((value, timing))
}

async fn models(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "models": state.models.as_ref(),
        "limits": {
            "max_upload_bytes": c.max_upload_bytes,
            "max_duration_s": c.max_duration_s,
            "max_concurrency": c.max_concurrency,
            "queue": c.queue,
        },
    }))
}

async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let running = state.admission.running(state.config.max_concurrency);
    let admitted = state.admission.admitted();
    Json(json!({
        "status": "ok",
        "uptime_s": state.started.elapsed().as_secs_f64(),
        "running": running,
        "waiting": admitted.saturating_sub(running),
        "max_concurrency": state.config.max_concurrency,
        "queue": state.config.queue,
    }))
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "no such endpoint: {} (see /api/v1/openapi.json)",
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

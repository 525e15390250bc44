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
use crate::limit::{Admission, Limits};
use crate::upload::{BodyRules, Upload, read_upload};

/// Shared by all handlers.
#[derive(Clone)]
struct AppState {
    classifier: Arc<dyn Classifier>,
    /// `models()`, called once when the router is built.
    models: Arc<Vec<Value>>,
    config: Arc<ServeConfig>,
    /// What the classifier checks on the recording, besides the config.
    checks: Checks,
    admission: Arc<Admission>,
    started: Instant,
}

/// Durations a recording must fit.
#[derive(Debug, Clone, Copy)]
struct Checks {
    max_duration_s: f64,
    /// `classifier.min_duration_s()`, called once when the router is built.
    min_duration_s: f64,
}

/// The service's routes over `classifier`, with `config`'s limits.
///
/// Calls [`Classifier::models`] and [`Classifier::min_duration_s`] once, here. Fails only if
/// `config` is invalid.
///
/// The bare router does not turn hyper's own bodiless 400/414/431 answers into JSON: that
/// is done on the connections of [`crate::Server`].
pub fn router(
    classifier: Arc<dyn Classifier>,
    config: ServeConfig,
) -> Result<Router, crate::Error> {
    config.validate()?;
    let min_duration_s = classifier.min_duration_s();
    let state = AppState {
        models: Arc::new(classifier.models()),
        classifier,
        admission: Admission::new(Limits {
            max_concurrency: config.max_concurrency,
            queue: config.queue,
            max_uploads: config.max_uploads_in_flight,
            max_upload_bytes: config.max_upload_bytes_in_flight,
        }),
        checks: Checks {
            max_duration_s: config.max_duration_s,
            min_duration_s: if min_duration_s.is_finite() {
                min_duration_s.max(0.0)
            } else {
                0.0
            },
        },
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
    let config = Arc::clone(&state.config);
    let arrived = Instant::now();
    // Refuse at once, before reading anything, when the compute queue is full or too many
    // bodies are arriving. A body being received holds an upload slot and its own bytes,
    // never a compute slot: slow clients cannot starve fast ones.
    if state.admission.is_full() {
        return Err(ApiError::over_capacity(config.retry_after_s).closing());
    }
    let uploading = state.admission.try_start_upload().ok_or_else(|| {
        ApiError::new(
            ErrorCode::OverCapacity,
            format!(
                "the server is receiving {} uploads already; retry in {} s",
                config.max_uploads_in_flight, config.retry_after_s
            ),
        )
        .with_retry_after(config.retry_after_s)
        .closing()
    })?;
    let rules = BodyRules {
        max_upload_bytes: config.max_upload_bytes,
        max_body_bytes: config.body_limit(),
        pace: config.body_pace(arrived),
        held: state.admission.upload_bytes(),
        retry_after_s: config.retry_after_s,
    };
    let upload = read_upload(request, rules)
        .await
        .map_err(ApiError::closing)?;
    drop(uploading);

    // The compute stage: the deadline runs from the body's arrival.
    let received = Instant::now();
    let deadline = received + config.compute_timeout;
    check_before_decoding(&upload, state.checks)?;
    let ticket = state
        .admission
        .try_admit()
        .ok_or_else(|| ApiError::over_capacity(config.retry_after_s))?;
    let slot = tokio::time::timeout_at(deadline.into(), ticket.run_slot())
        .await
        .map_err(|_| compute_timeout(&config, "while waiting for a free slot"))?;
    let waited = received.elapsed();
    let classifier = Arc::clone(&state.classifier);
    let checks = state.checks;
    let job = tokio::task::spawn_blocking(move || {
        // Both are released when the work ends, even if the client has gone away or the
        // deadline has passed: the slot stays taken while the thread works.
        let _slot = slot;
        let _ticket = ticket;
        classify(classifier.as_ref(), upload, checks, deadline)
    });
    let (value, timing) = match tokio::time::timeout_at(deadline.into(), job).await {
        Err(_) => {
            tracing::warn!(
                "no answer within the compute deadline of {} s; the classification goes on in the background",
                config.compute_timeout.as_secs_f64()
            );
            return Err(compute_timeout(&config, "decoding and classifying"));
        }
        Ok(Ok(result)) => result.map_err(|e| match e.code() {
            ErrorCode::ComputeTimeout => e.with_retry_after(config.retry_after_s),
            _ => e,
        })?,
        Ok(Err(join)) => {
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

/// 503 `compute_timeout`, `what` saying where the time went.
fn compute_timeout(config: &ServeConfig, what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ComputeTimeout,
        format!(
            "no answer within the compute deadline of {} s ({what}); retry in {} s",
            config.compute_timeout.as_secs_f64(),
            config.retry_after_s
        ),
    )
    .with_retry_after(config.retry_after_s)
}

/// Cheap checks on the raw bytes, before a slot is taken: empty, and a duration read from
/// the header that is too long, or too short for the model when no events are given.
fn check_before_decoding(upload: &Upload, checks: Checks) -> Result<(), ApiError> {
    if upload.bytes.is_empty() {
        return Err(ApiError::new(
            ErrorCode::EmptyUpload,
            "the upload is empty (0 bytes): send a WAV or FLAC recording",
        ));
    }
    if let Some(duration_s) = declared_duration_s(&upload.bytes) {
        check_duration(&upload.name, upload.events.is_some(), duration_s, checks)?;
    }
    Ok(())
}

fn check_duration(
    name: &str,
    has_events: bool,
    duration_s: f64,
    checks: Checks,
) -> Result<(), ApiError> {
    if duration_s > checks.max_duration_s {
        return Err(ApiError::new(
            ErrorCode::TooLong,
            format!(
                "\"{name}\" lasts {duration_s:.1} s, longer than the limit of {} s",
                checks.max_duration_s
            ),
        ));
    }
    if !has_events && duration_s < checks.min_duration_s {
        return Err(ApiError::new(
            ErrorCode::TooShort,
            format!(
                "\"{name}\" lasts {duration_s:.3} s, shorter than the minimum of {} s the model needs \
                 for an answer: send a longer recording (or the events to classify)",
                checks.min_duration_s
            ),
        ));
    }
    Ok(())
}

struct Timing {
    decode_ms: f64,
    predict_ms: f64,
}

/// Decoding, checks and the model: runs on a blocking thread. The model is not called
/// once `deadline` has passed.
fn classify(
    classifier: &dyn Classifier,
    upload: Upload,
    checks: Checks,
    deadline: Instant,
) -> Result<(Value, Timing), ApiError> {
    let start = Instant::now();
    let Upload {
        bytes,
        name,
        mut events,
        held,
    } = upload;
    // The limit stops a FLAC whose header lies from expanding into gigabytes of samples.
    let decoded = lungsound_audio::decode_bytes_with_limit(&bytes, &name, checks.max_duration_s);
    // The upload's bytes are not needed any more: give them back to the upload budget.
    drop(bytes);
    drop(held);
    let (audio, _info) = decoded?;
    let duration_s = audio.duration_s();
    check_duration(&name, events.is_some(), duration_s, checks)?;
    if let Some(events) = events.as_mut() {
        fit_to_duration(events, duration_s)
            .map_err(|e| ApiError::new(ErrorCode::EventsOutOfRange, e))?;
    }
    let decoded = Instant::now();
    if decoded >= deadline {
        return Err(ApiError::new(
            ErrorCode::ComputeTimeout,
            format!(
                "no answer within the compute deadline: decoding \"{name}\" used up the time left, \
                 so the model was not run"
            ),
        ));
    }
    let value = classifier
        .predict(&audio, &name, events.as_deref())
        .map_err(|e| match e {
            ClassifyError::Input(message) => ApiError::new(ErrorCode::UnprocessableAudio, message),
            ClassifyError::Internal(message) => {
                tracing::error!("classifying \"{name}\" failed: {message}");
                ApiError::new(
                    ErrorCode::InternalError,
                    format!("the model failed on \"{name}\": {message}"),
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
            "min_duration_s": state.checks.min_duration_s,
            "max_concurrency": c.max_concurrency,
            "queue": c.queue,
            "max_uploads_in_flight": c.max_uploads_in_flight,
            "max_upload_bytes_in_flight": c.max_upload_bytes_in_flight,
            "min_body_rate_bytes_per_s": c.min_body_rate_bytes_per_s,
            "body_timeout_s": c.body_timeout.as_secs_f64(),
            "compute_timeout_s": c.compute_timeout.as_secs_f64(),
        },
    }))
}

async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let a = &state.admission;
    let running = a.running();
    Json(json!({
        "status": "ok",
        "uptime_s": state.started.elapsed().as_secs_f64(),
        "running": running,
        "waiting": a.admitted().saturating_sub(running),
        "uploading": a.uploads(),
        "upload_bytes_in_flight": a.bytes_in_flight(),
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

//! HTTP service and web page for lungsound predictions: the last library stage of the
//! pipeline, under the `lungsound serve` subcommand.
//!
//! This crate does not link libtorch. It talks to the model through the [`Classifier`]
//! trait, which the `lungsound` binary implements with `lungsound_infer::Predictor`;
//! [`StandInClassifier`] is a deterministic fake for tests and benchmarks.
//!
//! - [`Server`] binds an address and runs the service with graceful shutdown (Ctrl-C or
//!   SIGTERM); [`router`] gives the bare axum `Router` for embedding.
//! - [`ServeConfig`]: upload size, duration, pace and in-flight limits, concurrency, queue
//!   and compute deadline.
//! - Endpoints: `POST /api/v1/predict` (a WAV/FLAC upload, raw or multipart, with optional
//!   events), `GET /api/v1/models`, `GET /api/v1/openapi.json` ([`OPENAPI_JSON`]),
//!   `GET /healthz`, and the web page at `/`.
//! - Every error is JSON `{"error": {"code", "message"}}` ([`ApiError`], [`ErrorCode`]),
//!   hyper's own 400/414/431 included: 408 too slow an upload, 413 too large, 415 not
//!   WAV/FLAC, 422 empty / corrupt / too long / too short for the model, 503 over capacity
//!   or past the compute deadline (with `Retry-After`), 500 when the model fails or panics.
//!
//! A request is first an upload, then a computation, each bounded on its own: bodies are
//! received at a minimum pace, at most [`ServeConfig::max_uploads_in_flight`] and
//! [`ServeConfig::max_upload_bytes_in_flight`] bytes at once; only a fully arrived upload
//! waits for one of [`ServeConfig::max_concurrency`] slots (at most [`ServeConfig::queue`]
//! wait) to be decoded and classified on a blocking thread. Slow clients therefore cannot
//! starve fast ones, and memory is bounded by the limits, not by what is sent.
#![deny(missing_docs)]

mod api_error;
mod assets;
mod classifier;
mod config;
mod conn;
mod error;
mod events;
mod header;
mod limit;
mod routes;
mod server;
mod stand_in;
mod upload;

pub use api_error::{ApiError, ErrorCode};
pub use assets::OPENAPI_JSON;
pub use classifier::{Classifier, ClassifyError};
pub use config::ServeConfig;
pub use error::Error;
pub use routes::router;
pub use server::{Server, shutdown_signal};
pub use stand_in::StandInClassifier;

//! HTTP service and web page for lungsound predictions: the last library stage of the
//! pipeline, under the `lungsound serve` subcommand.
//!
//! This crate does not link libtorch. It talks to the model through the [`Classifier`]
//! trait, which the `lungsound` binary implements with `lungsound_train::Predictor`;
//! [`StandInClassifier`] is a deterministic fake for tests and benchmarks.
//!
//! - [`Server`] binds an address and runs the service with graceful shutdown (Ctrl-C or
//!   SIGTERM); [`router`] gives the bare axum `Router` for embedding.
//! - [`ServeConfig`]: upload size, duration, concurrency and queue limits.
//! - Endpoints: `POST /api/v1/predict` (a WAV/FLAC upload, raw or multipart, with optional
//!   events), `GET /api/v1/models`, `GET /api/v1/openapi.json` ([`OPENAPI_JSON`]),
//!   `GET /healthz`, and the web page at `/`.
//! - Every error is JSON `{"error": {"code", "message"}}` ([`ApiError`], [`ErrorCode`]):
//!   413 too large, 415 not WAV/FLAC, 422 empty / corrupt / too long, 503 over capacity
//!   (with `Retry-After`), 500 when the model fails or panics.
//!
//! Decoding and inference run on blocking threads, at most
//! [`ServeConfig::max_concurrency`] at a time; [`ServeConfig::queue`] more requests may
//! wait, and the rest are refused before their body is read, so memory stays bounded.
#![deny(missing_docs)]

mod api_error;
mod assets;
mod classifier;
mod config;
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

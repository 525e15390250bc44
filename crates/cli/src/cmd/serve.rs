//! `lungsound serve [--model DIR] [--gate RUN_DIR | --no-gate] [--addr 127.0.0.1:8080]`: the HTTP API
//! and web page of `lungsound-serve` over trained models.
//!
//! The models are found and loaded as `lungsound predict` loads them (a run directory, a
//! folder of run directories, or the shipped `models/` folder by default; gates as
//! there); every request runs all of them, and the answer is the JSON `predict --json`
//! gives for one file.
//! lungsound-serve knows nothing of libtorch: [`Predictors`] is its `Classifier`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use lungsound_audio::Audio;
use lungsound_serve::{Classifier, ClassifyError, ServeConfig, Server};
use lungsound_train::{EpochRecord, MODEL_CARD_FILE};
use serde_json::{Value, json};

use super::models::{
    FilePrediction, GateArgs, LoadedModel, default_models, load_models, predict_with,
};
use super::train::runtime::{self, DeviceArg};
use crate::outcome::Outcome;

/// Arguments of `lungsound serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A run directory, or a folder of run directories [default: the shipped
    /// models/ folder, or $LUNGSOUND_MODELS].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    #[command(flatten)]
    gate: GateArgs,
    /// Address and port to listen on. The service has no authentication: bind
    /// to 0.0.0.0 only on a trusted network.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    addr: SocketAddr,
    /// Largest accepted upload, in MiB (larger requests get 413).
    #[arg(long, default_value_t = 20, value_name = "MB")]
    max_upload_mb: usize,
    /// Longest accepted recording, in seconds (longer ones get 422).
    #[arg(long, default_value_t = 120.0, value_name = "S")]
    max_duration_s: f64,
    /// Recordings decoded and classified at the same time [default: the
    /// number of CPU cores].
    #[arg(long, value_name = "N")]
    max_concurrency: Option<usize>,
    /// Received uploads allowed to wait for a free slot; beyond that they get
    /// 503 with Retry-After.
    #[arg(long, default_value_t = 64, value_name = "N")]
    queue: usize,
    /// Uploads received at the same time (slow ones included); beyond that
    /// they get 503.
    #[arg(long, default_value_t = 256, value_name = "N")]
    max_uploads_in_flight: usize,
    /// MiB of uploads held at once (arriving or waiting to be decoded);
    /// beyond that they get 503. At least --max-upload-mb + 1.
    #[arg(long, default_value_t = 256, value_name = "MB")]
    max_upload_mb_in_flight: usize,
    /// Slowest accepted upload, in KiB/s after a 2 s grace; slower ones get
    /// 408 and are disconnected.
    #[arg(long, default_value_t = 8, value_name = "KIB_PER_S")]
    min_upload_kib_per_s: usize,
    /// Seconds from an upload's arrival to its answer (waiting for a slot,
    /// decoding, the model); past it the request gets 503.
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    compute_timeout_s: f64,
    /// CPU threads for libtorch [default: all].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// cpu or cuda [default: cuda if available].
    #[arg(long)]
    device: Option<DeviceArg>,
}

/// Runs `lungsound serve` until Ctrl-C (or SIGTERM).
pub fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    return_freed_memory();
    runtime::set_threads(args.threads)?;
    let device = runtime::device(args.device)?;
    let model_dir = match &args.model {
        Some(dir) => dir.clone(),
        None => default_models()?,
    };
    let models = load_models(&model_dir, &args.gate.choice(), device)?
        .into_iter()
        .map(|model| ServedModel {
            description: describe(&model),
            model,
        })
        .collect::<Vec<_>>();
    let max_upload_bytes = args
        .max_upload_mb
        .checked_mul(1024 * 1024)
        .with_context(|| format!("--max-upload-mb {} is too large", args.max_upload_mb))?;
    let max_upload_bytes_in_flight = args
        .max_upload_mb_in_flight
        .checked_mul(1024 * 1024)
        .with_context(|| {
            format!(
                "--max-upload-mb-in-flight {} is too large",
                args.max_upload_mb_in_flight
            )
        })?;
    let compute_timeout = std::time::Duration::try_from_secs_f64(args.compute_timeout_s)
        .ok()
        .filter(|t| !t.is_zero())
        .with_context(|| {
            format!(
                "--compute-timeout-s must be a positive number of seconds, got {}",
                args.compute_timeout_s
            )
        })?;
    let defaults = ServeConfig::default();
    let config = ServeConfig {
        max_upload_bytes,
        max_duration_s: args.max_duration_s,
        max_concurrency: args.max_concurrency.unwrap_or(defaults.max_concurrency),
        queue: args.queue,
        max_uploads_in_flight: args.max_uploads_in_flight,
        max_upload_bytes_in_flight,
        min_body_rate_bytes_per_s: args.min_upload_kib_per_s.saturating_mul(1024),
        compute_timeout,
        ..defaults
    };
    let names: Vec<String> = models
        .iter()
        .map(|m| match &m.model.gate {
            Some(gate) => format!("{} (gated by {})", m.model.name, gate.name),
            None => m.model.name.clone(),
        })
        .collect();
    let classifier = Arc::new(Predictors { models });

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    tokio.block_on(async move {
        let server = Server::bind(args.addr, classifier, config).await?;
        eprintln!(
            "lungsound serve: model{} {} from {}\nlistening on http://{}/ (API: /api/v1/openapi.json); Ctrl-C to stop",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            model_dir.display(),
            server.local_addr()
        );
        server.run().await
    })?;
    eprintln!("lungsound serve: stopped");
    Ok(Outcome::clean())
}

/// glibc's malloc variable that makes allocations of at least this many bytes (uploads,
/// decoded recordings) come from, and go back to, the system at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: (&str, &str) = ("MALLOC_MMAP_THRESHOLD_", "4194304");

/// Makes the memory of a burst of uploads go back to the system once it is over.
///
/// glibc raises its mmap threshold to the size of the largest block freed (up to 32 MiB),
/// so after the first large upload, uploads and decoded recordings come from the heap
/// arenas, which keep them when freed: after 70 simultaneous 19 MiB uploads the service
/// stayed at 330 MB instead of going back to 16 MB (BENCHMARKS.md, "Service under
/// abuse"). A fixed 4 MiB threshold fixes that and leaves libtorch's smaller tensors on
/// the heap. glibc reads it from the environment when the process starts, and unsafe code
/// (`mallopt`) is not allowed here, so the command runs itself again with it set, unless
/// the user set any of glibc's malloc variables themselves. If that fails, it goes on as it
/// is.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        let user_set = std::env::vars_os().any(|(k, _)| {
            let k = k.to_string_lossy();
            k.starts_with("MALLOC_") || k == "GLIBC_TUNABLES"
        });
        if user_set {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let error = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(MMAP_THRESHOLD.0, MMAP_THRESHOLD.1)
            .exec();
        tracing::warn!(
            "could not restart with {}={} ({error}); memory freed after a burst of uploads may \
             stay with the process",
            MMAP_THRESHOLD.0,
            MMAP_THRESHOLD.1
        );
    }
}

/// A loaded run and how `/api/v1/models` describes it.
struct ServedModel {
    model: LoadedModel,
    description: Value,
}

/// The loaded runs as lungsound-serve's [`Classifier`]: every request runs each of them.
struct Predictors {
    models: Vec<ServedModel>,
}

impl Classifier for Predictors {
    fn predict(
        &self,
        audio: &Audio,
        name: &str,
        events: Option<&[(f64, f64)]>,
    ) -> Result<Value, ClassifyError> {
        let result = predict_with(self.models.iter().map(|m| &m.model), audio, events).map_err(
            |(m, e)| match e {
                // Nothing to classify (too short for the model's clip, events unusable).
                lungsound_infer::Error::NoData(message) => {
                    ClassifyError::Input(format!("model {}: {message}", m.name))
                }
                other => ClassifyError::Internal(format!("model {}: {other}", m.name)),
            },
        )?;
        let file = FilePrediction::new(name, audio, result);
        // Through text, not `to_value`: that widens every f32 to f64 and answers
        // 0.22171659767627716 where `predict --json` writes 0.2217166.
        serde_json::to_string(&file)
            .and_then(|text| serde_json::from_str(&text))
            .map_err(|e| {
                ClassifyError::Internal(format!("cannot write the prediction as JSON: {e}"))
            })
    }

    fn models(&self) -> Vec<Value> {
        self.models.iter().map(|m| m.description.clone()).collect()
    }

    /// Some model must be able to answer: the smallest of their minimums (each model's own
    /// with its gate's); a model that needs more is skipped for that recording, named in
    /// `skipped_models`, as `predict` does.
    fn min_duration_s(&self) -> f64 {
        self.models
            .iter()
            .map(|m| m.model.min_duration_s())
            .reduce(f64::min)
            .unwrap_or(0.0)
    }
}

/// `/api/v1/models` entry of a run: its config's facts, its gate's name when gated, the
/// validation metrics of the selected epoch (from `history.csv`, chosen as the model card
/// says) and the model card.
fn describe(model: &LoadedModel) -> Value {
    let (name, dir) = (&model.name, &model.dir);
    let c = model.predictor.config();
    let metrics = match lungsound_train::read_history(dir) {
        Ok(history) => selected_epoch(&history).map_or_else(
            || json!({}),
            |b| {
                json!({
                    "epoch": b.epoch,
                    "val_score": b.val_score,
                    "val_se": b.val_se,
                    "val_sp": b.val_sp,
                    "val_accuracy": b.val_accuracy,
                    "val_loss": b.val_loss,
                })
            },
        ),
        Err(e) => {
            tracing::warn!("{}: no validation metrics: {e}", dir.display());
            json!({})
        }
    };
    let mut description = json!({
        "name": name,
        "task": c.task,
        "level": c.level(),
        "classes": c.classes,
        "dataset": c.dataset,
        "architecture": c.model.arch.to_string(),
        "sample_rate": c.features.sample_rate,
        "clip_seconds": c.features.clip_seconds,
        "window_hop_seconds": c.features.window_hop_seconds,
        "lungsound_version": c.lungsound_version,
        "metrics": metrics,
        "model_card": std::fs::read_to_string(dir.join(MODEL_CARD_FILE)).ok(),
    });
    if let Some(gate) = &model.gate {
        description["gated_by"] = json!(gate.name);
    }
    description
}

/// The epoch training kept: highest validation Score, ties to the lower validation loss.
fn selected_epoch(history: &[EpochRecord]) -> Option<&EpochRecord> {
    history.iter().max_by(|a, b| {
        a.val_score
            .total_cmp(&b.val_score)
            .then(b.val_loss.total_cmp(&a.val_loss))
    })
}

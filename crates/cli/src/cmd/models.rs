//! The models `lungsound predict` and `lungsound serve` run by default: the shipped
//! `models/` folder. Loading and running them is `lungsound_infer::models`; this adds where
//! the CLI finds them, the `--gate` / `--no-gate` flags, and how errors name them.

use std::path::{Path, PathBuf};

use anyhow::bail;
use lungsound_infer::GateChoice;
use lungsound_infer::models::run_dirs;
use lungsound_infer::tch::Device;

pub(crate) use lungsound_infer::models::{FilePrediction, LoadedModel, predict_with};

/// Environment variable naming the default models folder.
const MODELS_ENV: &str = "LUNGSOUND_MODELS";

/// The `--gate RUN_DIR` / `--no-gate` pair of `predict`, `serve` and `evaluate`.
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    /// Two-stage prediction: this Normal-vs-abnormal run (e.g. the shipped
    /// 1-1 model) gives each event or window its probability of Normal, and
    /// every model it fits (e.g. a 1-2 model) splits the rest over its
    /// abnormal classes [default: each run's own gate, named in its
    /// gate.json, as the shipped 1-2 model names the shipped 1-1 model].
    #[arg(long, value_name = "RUN_DIR")]
    gate: Option<PathBuf>,
    /// No two-stage prediction: every model alone, even one whose gate.json
    /// names a gate.
    #[arg(long, conflicts_with = "gate")]
    no_gate: bool,
}

impl GateArgs {
    /// What the flags ask for.
    pub(crate) fn choice(&self) -> GateChoice {
        GateChoice::from_flags(self.gate.clone(), self.no_gate)
    }
}

/// [`lungsound_infer::models::load_models`], its errors about a `--gate` run naming the flag.
///
/// # Errors
/// A run that cannot be loaded, a malformed gate.json, or a gate that does not fit.
pub(crate) fn load_models(
    model_dir: &Path,
    gate: &GateChoice,
    device: Device,
) -> anyhow::Result<Vec<LoadedModel>> {
    let flag = if matches!(gate, GateChoice::Run(_)) {
        "--gate"
    } else {
        "gate"
    };
    lungsound_infer::models::load_models(model_dir, gate, device).map_err(|e| match e {
        lungsound_infer::Error::Gate {
            message,
            source: Some(source),
        } => anyhow::Error::new(*source).context(format!("{flag} {message}")),
        lungsound_infer::Error::Gate {
            message,
            source: None,
        } => anyhow::anyhow!("{flag} {message}"),
        other => other.into(),
    })
}

/// The shipped `models/` folder: `$LUNGSOUND_MODELS`, else `models/` beside
/// the executable or in one of its parent folders (an installed tree or
/// `target/<profile>/`), else the source tree's (compile-time path).
pub(crate) fn default_models() -> anyhow::Result<PathBuf> {
    let mut tried = Vec::new();
    if let Some(dir) = std::env::var_os(MODELS_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if dir.is_dir() {
            return Ok(dir);
        }
        tried.push(format!("{} (${MODELS_ENV})", dir.display()));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.canonicalize().ok())
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        for dir in exe_dir.ancestors().take(4) {
            let candidate = dir.join("models");
            if is_models_folder(&candidate) {
                return Ok(candidate);
            }
            tried.push(candidate.display().to_string());
        }
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    if is_models_folder(&source) {
        return Ok(source.canonicalize().unwrap_or(source));
    }
    tried.push(source.display().to_string());
    bail!(
        "no models folder found; looked in: {}. Pass --model RUN_DIR or set ${MODELS_ENV}",
        tried.join(", ")
    )
}

fn is_models_folder(dir: &Path) -> bool {
    dir.is_dir() && run_dirs(dir).is_ok()
}

//! Recipes: one TOML (or JSON) file holding a whole experiment, run with
//! `lungsound train --recipe FILE.toml` = [`train`](crate::train) then
//! [`evaluate_run`] into `RUN_DIR/eval/`.
//!
//! A recipe's top-level keys are the [`ExperimentConfig`] keys a user sets —
//! `dataset` (required), `task` (required except for ICBHI, which defaults
//! to `cycles4`), `data_dir` (required), `features`, `model`, `optimizer`,
//! `schedule`, `training` (including `mixup`), `split`, `augment` — plus
//! `out` (the run directory, optional: `--out` wins) and an `[evaluate]`
//! table ([`EvaluateSettings`]). Every key not in the defaults of
//! [`ExperimentConfig::new`] for the dataset and task keeps its default.
//! Derived keys of `config.json` (`lungsound_version`, `command`, `classes`,
//! `normalization`) are not recipe keys. Unknown keys, at any depth, are
//! errors naming the file and the key.
//!
//! Relative paths in a recipe (`data_dir`, `out`, `evaluate.data`,
//! `training.pretrained`) are used as written, i.e. relative to the
//! **current directory** like the same paths given as flags or in a
//! `--config` file; the shipped recipes are meant to be run from the
//! repository root.

use std::path::{Path, PathBuf};

use lungsound_datasets::{DatasetKind, Task};
use serde::{Deserialize, Deserializer};

use crate::report::TrainReport;
use crate::training::{TrainOptions, train};
use lungsound_infer::config::{ExperimentConfig, from_value_at, read_settings};
use lungsound_infer::{Error, Result};
use lungsound_infer::{EvalSplit, EvaluateOptions, EvaluationReport, evaluate_run};

/// Folder of the evaluation inside the run directory.
pub const EVAL_DIR: &str = "eval";
/// Copy of the recipe file inside the run directory.
pub const RECIPE_FILE: &str = "recipe.toml";

/// The experiment keys a recipe may hold (as in `config.json`).
pub const CONFIG_KEYS: &[&str] = &[
    "dataset",
    "task",
    "data_dir",
    "features",
    "model",
    "optimizer",
    "schedule",
    "training",
    "split",
    "augment",
];
/// The keys a recipe adds to the experiment keys.
pub const RECIPE_KEYS: &[&str] = &["out", "evaluate"];

/// The `[evaluate]` table: what the run is evaluated on after training.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateSettings {
    /// Dataset folder (same kind as the training data). Default: `data_dir`.
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// Which recordings of it: `all`, `train`, `val` (the run's patient-wise
    /// splits; `data` must be the training folder) or `test` (ICBHI's
    /// official test split). Default: `val` without `data`, `all` with it.
    #[serde(default, deserialize_with = "eval_split")]
    pub split: Option<EvalSplit>,
    /// Score on a coarser task than the model's (e.g. `1-1` for a `1-2`
    /// model; see `lungsound evaluate --task`). Default: the model's task.
    #[serde(default)]
    pub task: Option<Task>,
    /// Clips per forward pass. Default 64.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
}

fn default_batch() -> usize {
    64
}

fn eval_split<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<EvalSplit>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| s.parse().map_err(serde::de::Error::custom))
        .transpose()
}

impl Default for EvaluateSettings {
    fn default() -> Self {
        Self {
            data: None,
            split: None,
            task: None,
            batch_size: default_batch(),
        }
    }
}

/// A parsed, validated recipe.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// The file it was read from.
    pub path: PathBuf,
    /// The experiment (defaults for the dataset and task < the recipe's keys).
    pub config: ExperimentConfig,
    /// Run directory from the recipe's `out` key, if any.
    pub out: Option<PathBuf>,
    /// The `[evaluate]` table.
    pub evaluate: EvaluateSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Extras {
    #[serde(default)]
    out: Option<PathBuf>,
    #[serde(default)]
    evaluate: Option<EvaluateSettings>,
}

impl Recipe {
    /// Reads and validates a recipe (TOML if the name ends in `.toml`, else JSON).
    ///
    /// # Errors
    /// Unreadable or unparseable file, an unknown key (named with its path
    /// in the file), a missing `dataset`/`task`/`data_dir`, or an invalid value.
    pub fn load(path: &Path) -> Result<Self> {
        Self::from_value(read_settings(path)?, path)
    }

    /// [`Recipe::load`] with the file already parsed; `path` names it in errors.
    pub fn from_value(value: serde_json::Value, path: &Path) -> Result<Self> {
        let at = |msg: String| Error::InvalidConfig(format!("{}: {msg}", path.display()));
        let serde_json::Value::Object(mut map) = value else {
            return Err(at("a recipe must be a table of settings".into()));
        };
        if let Some(key) = map
            .keys()
            .find(|k| !CONFIG_KEYS.contains(&k.as_str()) && !RECIPE_KEYS.contains(&k.as_str()))
        {
            return Err(at(format!(
                "unknown key `{key}`; a recipe holds {} and {}",
                CONFIG_KEYS.join(", "),
                RECIPE_KEYS.join(", ")
            )));
        }
        let mut extras = serde_json::Map::new();
        for key in RECIPE_KEYS {
            if let Some(v) = map.remove(*key) {
                extras.insert((*key).to_string(), v);
            }
        }
        let extras: Extras = from_value_at(serde_json::Value::Object(extras), path)?;
        let text = |key: &str| map.get(key).and_then(serde_json::Value::as_str);
        let dataset: DatasetKind = text("dataset")
            .ok_or_else(|| at("`dataset` (sprsound or icbhi) is required".into()))?
            .parse()
            .map_err(|e: lungsound_datasets::Error| at(format!("dataset: {e}")))?;
        let task: Task = match text("task") {
            Some(t) => t
                .parse()
                .map_err(|e: lungsound_datasets::Error| at(format!("task: {e}")))?,
            None if dataset == DatasetKind::Icbhi => Task::Cycles4,
            None => return Err(at("`task` (1-1, 1-2, 2-1 or 2-2) is required".into())),
        };
        let data_dir = text("data_dir").ok_or_else(|| at("`data_dir` is required".into()))?;
        let config = ExperimentConfig::new(dataset, task, data_dir)
            .merge_value(serde_json::Value::Object(map), path)?;
        config.validate().map_err(|e| at(e.to_string()))?;
        Ok(Self {
            path: path.to_path_buf(),
            config,
            out: extras.out,
            evaluate: extras.evaluate.unwrap_or_default(),
        })
    }

    /// The folder evaluated after training: `evaluate.data`, else `data_dir`.
    pub fn eval_data(&self) -> PathBuf {
        self.evaluate
            .data
            .clone()
            .unwrap_or_else(|| self.config.data_dir.clone())
    }

    /// The recordings evaluated: `evaluate.split`, else `val` (training
    /// folder) or `all` (another folder).
    pub fn eval_split(&self) -> EvalSplit {
        self.evaluate
            .split
            .unwrap_or(if self.evaluate.data.is_some() {
                EvalSplit::All
            } else {
                EvalSplit::Val
            })
    }
}

/// What running a recipe did.
#[derive(Debug, Clone)]
pub struct RecipeReport {
    /// The training run.
    pub train: TrainReport,
    /// The evaluation written to `RUN_DIR/eval/`.
    pub evaluation: EvaluationReport,
    /// `RUN_DIR/eval`.
    pub eval_dir: PathBuf,
}

/// Runs `recipe` (with `recipe.config` as the experiment, e.g. after
/// command-line overrides): trains into `run_dir`, copies the recipe file to
/// `RUN_DIR/recipe.toml`, then evaluates the selected model as
/// `lungsound evaluate` would into `RUN_DIR/eval/` (`metrics.json`,
/// `predictions.csv`, plots, `report.md`), on the same device and cache.
///
/// # Errors
/// Any error of [`train`](crate::train) or [`evaluate_run`].
pub fn run_recipe(recipe: &Recipe, run_dir: &Path, options: &TrainOptions) -> Result<RecipeReport> {
    let report = train(recipe.config.clone(), run_dir, options)?;
    if let Ok(text) = std::fs::read(&recipe.path) {
        lungsound_infer::fsutil::write_atomic(&run_dir.join(RECIPE_FILE), &text)?;
    }
    let mut eval = EvaluateOptions::new(options.device);
    eval.cache = options.cache.clone();
    eval.split = recipe.eval_split();
    eval.batch_size = recipe.evaluate.batch_size.max(1);
    eval.task = recipe.evaluate.task;
    eval.command = recipe.config.command.clone();
    let eval_dir = run_dir.join(EVAL_DIR);
    let evaluation = evaluate_run(run_dir, &recipe.eval_data(), &eval_dir, &eval)?;
    Ok(RecipeReport {
        train: report,
        evaluation,
        eval_dir,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<Recipe> {
        let value: serde_json::Value = toml::from_str(text).unwrap();
        Recipe::from_value(value, Path::new("r.toml"))
    }

    #[test]
    fn a_minimal_recipe_takes_the_defaults() {
        let r = parse("dataset = \"icbhi\"\ndata_dir = \"d\"\n[training]\nepochs = 3\n").unwrap();
        assert_eq!(r.config.task, Task::Cycles4);
        assert_eq!(r.config.training.epochs, 3);
        assert_eq!(r.eval_split(), EvalSplit::Val);
        assert_eq!(r.eval_data(), PathBuf::from("d"));
        let r = parse(
            "dataset = \"sprsound\"\ntask = \"1-1\"\ndata_dir = \"d\"\nout = \"runs/x\"\n\
             [evaluate]\ndata = \"e\"\n",
        )
        .unwrap();
        assert_eq!(r.out, Some(PathBuf::from("runs/x")));
        assert_eq!(
            (r.eval_split(), r.eval_data()),
            (EvalSplit::All, PathBuf::from("e"))
        );
    }

    #[test]
    fn unknown_and_missing_keys_are_named() {
        let base = "dataset = \"sprsound\"\ntask = \"1-1\"\ndata_dir = \"d\"\n";
        let err = |extra: &str| parse(&format!("{base}{extra}")).unwrap_err().to_string();
        let e = err("epochs = 3\n");
        assert!(e.contains("r.toml") && e.contains("`epochs`"), "{e}");
        let e = err("[features.spectrogram]\nn_mel = 3\n");
        assert!(
            e.contains("r.toml") && e.contains("features.spectrogram") && e.contains("n_mel"),
            "{e}"
        );
        let e = err("[training.mixup]\nalpha = 0.2\nmod = \"soft\"\n");
        assert!(e.contains("training.mixup") && e.contains("`mod`"), "{e}");
        let e = err("[evaluate]\ndatta = \"x\"\n");
        assert!(e.contains("evaluate") && e.contains("datta"), "{e}");
        let e = err("[evaluate]\nsplit = \"tset\"\n");
        assert!(e.contains("tset"), "{e}");
        let e = err(
            "[augment]\nclasses = [\"Wheeze\"]\n[[augment.transforms]]\nkind = \"gain\"\ngain = [1, 2]\n",
        );
        assert!(e.contains("augment") && e.contains("gain"), "{e}");
        let e = err("normalization = { mean = [], std = [] }\n");
        assert!(e.contains("`normalization`"), "{e}");
        let e = parse("dataset = \"sprsound\"\ndata_dir = \"d\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`task`"), "{e}");
        let e = parse("dataset = \"sprsound\"\ntask = \"1-1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`data_dir`"), "{e}");
    }
}

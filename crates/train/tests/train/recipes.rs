//! Recipes: every file in `recipes/` loads and validates (so a broken
//! recipe fails CI), unknown keys are named, and a tiny recipe runs end to
//! end (train, then the evaluation outputs in `RUN_DIR/eval/`).

use std::path::{Path, PathBuf};

use lungsound_datasets::{DatasetKind, Task};
use lungsound_infer::EvalSplit;
use lungsound_infer::config::{AugmentMode, MixupMode, OptimizerKind};
use lungsound_train::recipe::{EVAL_DIR, RECIPE_FILE};
use lungsound_train::{Recipe, read_history, run_recipe};

use super::{cpu_options, synthetic_sprsound, torch_rng};

fn recipes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes")
}

fn load(name: &str) -> Recipe {
    let path = recipes_dir().join(name);
    Recipe::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_shipped_recipe_loads_and_validates() {
    let mut names: Vec<String> = std::fs::read_dir(recipes_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    for name in &names {
        let recipe = load(name);
        recipe.config.validate().unwrap();
        recipe.config.model_config().unwrap();
        let text = std::fs::read_to_string(recipes_dir().join(name)).unwrap();
        assert!(text.starts_with('#'), "{name} lacks its comment header");
        assert!(
            text.contains("lungsound train --recipe recipes/"),
            "{name}: say how to run it"
        );
    }
    for expected in [
        "icbhi-mel-resnet152v2.toml",
        "icbhi-mel-vgg16.toml",
        "icbhi-mel-vgg19.toml",
        "icbhi-mel-mobilenetv3-large.toml",
        "icbhi-mel-inceptionv3.toml",
        "icbhi-mel-dualnet.toml",
        "sprsound-events-vgg16-logstft.toml",
        "sprsound-events-resnet18-stft.toml",
        "sprsound-default.toml",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
}

#[test]
fn every_benchmark_recipe_loads_and_validates() {
    let dir = recipes_dir().join("../scripts/bench/recipes");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let recipe = Recipe::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            recipe
                .config
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} recipes in {}", dir.display());
}

#[test]
fn the_icbhi_and_sprsound_recipes_hold_the_workflow_settings() {
    for name in [
        "icbhi-mel-resnet152v2.toml",
        "icbhi-mel-vgg16.toml",
        "icbhi-mel-vgg19.toml",
        "icbhi-mel-mobilenetv3-large.toml",
        "icbhi-mel-inceptionv3.toml",
        "icbhi-mel-dualnet.toml",
    ] {
        let r = load(name);
        let c = &r.config;
        assert_eq!(
            (c.dataset, c.task),
            (DatasetKind::Icbhi, Task::Cycles4),
            "{name}"
        );
        assert_eq!(c.features.sample_rate, 4000, "{name}");
        assert_eq!(c.features.clip_seconds, 4.0, "{name}");
        assert_eq!(c.features.spectrogram.n_mels, 128, "{name}");
        assert_eq!(
            (
                c.features.spectrogram.n_fft,
                c.features.spectrogram.hop_length
            ),
            (2048, 512),
            "{name}"
        );
        assert_eq!(c.features.input_size, Some([224, 224]), "{name}");
        assert_eq!(
            (c.training.batch_size, c.training.patience),
            (32, Some(40)),
            "{name}"
        );
        assert!(c.training.mixup.is_some(), "{name}");
        let a = c.augment.as_ref().unwrap();
        assert_eq!(
            (a.mode, a.transforms.len(), a.copies),
            (AugmentMode::Each, 4, 1),
            "{name}"
        );
        assert!(a.classes.as_ref().is_some_and(|c| c.len() == 3), "{name}");
        assert_eq!(r.eval_split(), EvalSplit::Test, "{name}");
    }
    for name in [
        "sprsound-events-vgg16-logstft.toml",
        "sprsound-events-resnet18-stft.toml",
    ] {
        let c = load(name).config;
        assert_eq!(
            (c.dataset, c.task),
            (DatasetKind::SprSound, Task::EventBinary),
            "{name}"
        );
        assert_eq!(c.features.max_event_seconds, Some(3.72), "{name}");
        let b = c.features.bandpass.as_ref().unwrap();
        assert_eq!((b.order, b.low_hz, b.high_hz), (6, 60.0, 1300.0), "{name}");
        assert_eq!(c.optimizer.kind, OptimizerKind::Sgd, "{name}");
        assert_eq!(
            (c.optimizer.lr, c.optimizer.momentum),
            (1e-3, 0.9),
            "{name}"
        );
        assert_eq!(
            (c.training.batch_size, c.training.patience),
            (10, Some(3)),
            "{name}"
        );
        assert_eq!(c.features.input_size, Some([224, 224]), "{name}");
    }
    let c = load("sprsound-default.toml").config;
    assert_eq!(c.task, Task::EventMulti);
    let defaults = lungsound_infer::ExperimentConfig::new(c.dataset, c.task, c.data_dir.clone());
    assert_eq!(
        (
            &c.features,
            &c.model,
            &c.optimizer,
            &c.schedule,
            &c.training,
            &c.split
        ),
        (
            &defaults.features,
            &defaults.model,
            &defaults.optimizer,
            &defaults.schedule,
            &defaults.training,
            &defaults.split
        ),
        "sprsound-default.toml reproduces the defaults"
    );
}

#[test]
fn an_unknown_key_in_a_recipe_file_is_an_error_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.toml");
    std::fs::write(
        &path,
        "dataset = \"sprsound\"\ntask = \"1-1\"\ndata_dir = \"d\"\n[training]\nbatch_sise = 8\n",
    )
    .unwrap();
    let err = Recipe::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("typo.toml") && err.contains("batch_sise"),
        "{err}"
    );
    std::fs::write(
        &path,
        "dataset = \"sprsound\"\ntask = \"1-1\"\ndata_dir = \"d\"\nepoch = 3\n",
    )
    .unwrap();
    let err = Recipe::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("typo.toml") && err.contains("`epoch`"),
        "{err}"
    );
}

#[test]
fn a_tiny_recipe_trains_and_writes_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 5);
    let run = dir.path().join("runs/recipe");
    let path = dir.path().join("tiny.toml");
    std::fs::write(
        &path,
        format!(
            r#"# A tiny recipe for the test.
dataset = "sprsound"
task = "1-1"
data_dir = "{}"
out = "{}"

[features]
clip_seconds = 1.0
window_hop_seconds = 0.5
max_event_seconds = 3.0
bandpass = {{ order = 4, low_hz = 100, high_hz = 2000 }}

[features.spectrogram]
n_fft = 256
hop_length = 128
n_mels = 16

[training]
epochs = 2
batch_size = 16
ema_decay = 0.9
mixup = {{ alpha = 0.3, mode = "hard-pair" }}

[split]
val_fraction = 0.3

[augment]
classes = ["Adventitious"]
[[augment.transforms]]
kind = "gain"
gain_db = [-3, 3]

[evaluate]
split = "val"
"#,
            data.display(),
            run.display()
        ),
    )
    .unwrap();
    let recipe = Recipe::load(&path).unwrap();
    assert_eq!(
        recipe.config.training.mixup.as_ref().map(|m| m.mode),
        Some(MixupMode::HardPair)
    );
    let _rng = torch_rng();
    let report = run_recipe(&recipe, recipe.out.as_deref().unwrap(), &cpu_options()).unwrap();
    assert_eq!(read_history(&run).unwrap().len(), 2);
    assert!(report.train.n_augmented_clips > 0);
    assert_eq!(report.eval_dir, run.join(EVAL_DIR));
    for file in [
        "metrics.json",
        "predictions.csv",
        "confusion_matrix.png",
        "roc.png",
        "report.md",
    ] {
        assert!(run.join(EVAL_DIR).join(file).is_file(), "{file} missing");
    }
    assert_eq!(
        std::fs::read(run.join(RECIPE_FILE)).unwrap(),
        std::fs::read(&path).unwrap()
    );
    assert_eq!(
        report.evaluation.metrics.n_samples,
        report.train.n_val_units
    );
}

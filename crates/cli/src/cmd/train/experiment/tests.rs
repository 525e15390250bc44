//! Flag parsing of `lungsound train` and the flag → config mapping: recipes, config files
//! and defaults with flags on top.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use clap::Parser;
use lungsound_infer::EvalSplit;
use lungsound_infer::config::MixupMode;
use lungsound_models::TimePooling;
use lungsound_train::Recipe;

use super::super::TrainArgs;
use super::{ExperimentFlags, parse_switch};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: TrainArgs,
}

fn args(flags: &[&str]) -> TrainArgs {
    Cli::try_parse_from(std::iter::once("train").chain(flags.iter().copied()))
        .unwrap()
        .args
}

fn recipe(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../recipes")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn flags_override_the_recipe() {
    let path = recipe("icbhi-mel-vgg16.toml");
    let a = args(&[
        "--recipe",
        &path,
        "--epochs",
        "1",
        "--input-size",
        "64x64",
        "--mixup",
        "0.5:soft",
        "--bandpass",
        "100-1500:4",
        "--augment-copies",
        "2",
        "--spec-augment",
        "2:8:1:12",
        "--data",
        "elsewhere",
    ]);
    let r = Recipe::load(Path::new(&path)).unwrap();
    let c = a.experiment.recipe_experiment(&r).unwrap();
    assert_eq!(c.training.epochs, 1);
    assert_eq!(c.features.input_size, Some([64, 64]));
    assert_eq!(c.model_config().unwrap().input, [64, 64]);
    let m = c.training.mixup.as_ref().unwrap();
    assert_eq!((m.alpha, m.mode), (0.5, MixupMode::Soft));
    assert_eq!(c.features.bandpass.as_ref().map(|b| b.order), Some(4));
    assert_eq!(c.augment.as_ref().map(|a| a.copies), Some(2));
    let s = c.training.spec_augment.as_ref().unwrap();
    assert_eq!(
        (s.freq_masks, s.freq_width, s.time_masks, s.time_width),
        (2, 8, 1, 12)
    );
    assert_eq!(c.data_dir, Path::new("elsewhere"));
    // Everything not given stays as the recipe says.
    assert_eq!(c.training.batch_size, r.config.training.batch_size);
    assert_eq!(c.optimizer, r.config.optimizer);

    let off = args(&[
        "--recipe",
        &path,
        "--mixup",
        "off",
        "--no-augment",
        "--spec-augment",
        "off",
    ]);
    let c = off.experiment.recipe_experiment(&r).unwrap();
    assert!(c.training.mixup.is_none() && c.augment.is_none());
    assert!(c.training.spec_augment.is_none());
    assert!(
        Cli::try_parse_from(["train", "--recipe", &path, "--spec-augment", "2:8"]).is_err(),
        "SpecAugment needs four numbers"
    );
    assert!(Cli::try_parse_from(["train", "--recipe", &path, "--time-pooling", "max"]).is_err());
    // Attention pooling is small-cnn's: refused for the recipe's VGG, taken with --arch small-cnn.
    let attention = |extra: &[&str]| {
        let flags = [&["--recipe", &path, "--time-pooling", "attention"], extra].concat();
        args(&flags).experiment.recipe_experiment(&r)
    };
    let err = format!("{:#}", attention(&[]).unwrap_err());
    assert!(err.contains("small-cnn option"), "{err}");
    let c = attention(&["--arch", "small-cnn"]).unwrap();
    assert_eq!(c.model.time_pooling, TimePooling::Attention);
}

#[test]
fn recipe_flags_conflict_and_parse() {
    let path = recipe("sprsound-default.toml");
    assert!(Cli::try_parse_from(["train", "--recipe", &path, "--config", "c.toml"]).is_err());
    assert!(Cli::try_parse_from(["train", "--resume", "r", "--recipe", &path]).is_err());
    assert!(Cli::try_parse_from(["train", "--eval-split", "test"]).is_err());
    let a = args(&["--recipe", &path, "--eval-split", "test"]);
    assert_eq!(a.eval_split, Some(EvalSplit::Test));
    assert!(parse_switch::<lungsound_infer::config::BandpassSettings>("60-1300:6").is_ok());
    assert!(
        parse_switch::<lungsound_infer::config::MixupSettings>("Off").is_ok_and(|s| s.0.is_none())
    );
    let err = parse_switch::<lungsound_infer::config::MixupSettings>("x").unwrap_err();
    assert!(err.contains("ALPHA"), "{err}");
    // --augment-copies needs an [augment] section to act on.
    let a = args(&["--recipe", &path, "--augment-copies", "2"]);
    let r = Recipe::load(Path::new(&path)).unwrap();
    let err = format!("{:#}", a.experiment.recipe_experiment(&r).unwrap_err());
    assert!(
        err.contains("--augment-copies needs an [augment] section"),
        "{err}"
    );
}

#[test]
fn flags_map_onto_the_defaults_with_their_side_effects() {
    let a = args(&[
        "--data",
        "somewhere",
        "--dataset",
        "sprsound",
        "--task",
        "1-2",
        "--features",
        "logstft",
        "--clip-seconds",
        "4",
        "--patience",
        "0",
        "--max-event-seconds",
        "0",
        "--fmax",
        "2000",
        "--lr",
        "0.01",
        "--seed",
        "7",
        "--split-seed",
        "9",
    ]);
    assert!(a.experiment.changes_experiment());
    let c = a.experiment.experiment(None).unwrap();
    assert_eq!(c.task, lungsound_datasets::Task::EventMulti);
    assert_eq!(c.data_dir, Path::new("somewhere"));
    // logstft is already log-compressed: no dB on top.
    assert!(!c.features.spectrogram.db);
    // A clip length sets the window hop to half of it unless the hop is given too.
    assert_eq!(
        (c.features.clip_seconds, c.features.window_hop_seconds),
        (4.0, 2.0)
    );
    // 0 switches patience and the event-length limit off.
    assert_eq!(c.training.patience, None);
    assert_eq!(c.features.max_event_seconds, None);
    assert_eq!(c.features.spectrogram.fmax, Some(2000.0));
    assert_eq!(c.optimizer.lr, 0.01);
    assert_eq!((c.training.seed, c.split.seed), (7, 9));

    // Without flags the defaults stay, and nothing counts as a change.
    let plain = args(&[
        "--data",
        "somewhere",
        "--dataset",
        "sprsound",
        "--task",
        "1-2",
    ]);
    assert!(!plain.experiment.changes_experiment());
    let d = plain.experiment.experiment(None).unwrap();
    let defaults = lungsound_infer::ExperimentConfig::new(
        lungsound_datasets::DatasetKind::SprSound,
        lungsound_datasets::Task::EventMulti,
        "somewhere",
    );
    assert_eq!(d.features, defaults.features);
    assert_eq!(d.training.epochs, defaults.training.epochs);
    assert_eq!(d.optimizer, defaults.optimizer);
}

#[test]
fn missing_data_or_task_is_an_error_and_cv_overrides_go_through_the_same_mapping() {
    let err = ExperimentFlags::default().experiment(None).unwrap_err();
    assert!(
        format!("{err:#}").contains("--data DIR is required"),
        "{err:#}"
    );
    let no_task = args(&["--data", "somewhere", "--dataset", "sprsound"]);
    let err = no_task.experiment.experiment(None).unwrap_err();
    assert!(format!("{err:#}").contains("--task"), "{err:#}");

    // `lungsound cv` fills only the overrides it offers.
    let path = recipe("sprsound-default.toml");
    let r = Recipe::load(Path::new(&path)).unwrap();
    let flags = ExperimentFlags {
        data: Some("other".into()),
        epochs: Some(3),
        ..ExperimentFlags::default()
    };
    let c = flags.recipe_experiment(&r).unwrap();
    assert_eq!(
        (c.data_dir.as_path(), c.training.epochs),
        (Path::new("other"), 3)
    );
    assert_eq!(c.features, r.config.features);
    assert_eq!(c.split.seed, r.config.split.seed);
}

//! Flag parsing of `lungsound train`: recipes with flags on top.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use clap::Parser;
use lungsound_infer::EvalSplit;
use lungsound_infer::config::MixupMode;
use lungsound_train::Recipe;

use super::{TrainArgs, parse_switch};

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
    let c = a.recipe_experiment(&r).unwrap();
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
    let c = off.recipe_experiment(&r).unwrap();
    assert!(c.training.mixup.is_none() && c.augment.is_none());
    assert!(c.training.spec_augment.is_none());
    assert!(
        Cli::try_parse_from(["train", "--recipe", &path, "--spec-augment", "2:8"]).is_err(),
        "SpecAugment needs four numbers"
    );
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
    let err = format!("{:#}", a.recipe_experiment(&r).unwrap_err());
    assert!(
        err.contains("--augment-copies needs an [augment] section"),
        "{err}"
    );
}

//! Property tests of the recipe/config parser: any TOML document gives a recipe or an
//! error naming the file, never a panic; a recipe that parses validates without panicking.

use std::path::Path;

use lungsound_train::Recipe;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    lungsound_testutil::proptest_config(300)
}

/// Values of the kinds recipes hold, odd ones included.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e300".to_string()),
        Just("\"mel\"".to_string()),
        Just("\"1-2\"".to_string()),
        Just("\"sprsound\"".to_string()),
        Just("\"attention\"".to_string()),
        Just("[]".to_string()),
        Just("[1, 2]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("dataset"),
        Just("task"),
        Just("data_dir"),
        Just("out"),
        Just("features.sample_rate"),
        Just("features.clip_seconds"),
        Just("features.pad"),
        Just("features.window_hop_seconds"),
        Just("features.input_size"),
        Just("features.spectrogram.kind"),
        Just("features.spectrogram.n_fft"),
        Just("features.spectrogram.hop_length"),
        Just("features.spectrogram.n_mels"),
        Just("features.spectrogram.fmin"),
        Just("features.spectrogram.fmax"),
        Just("training.epochs"),
        Just("training.batch_size"),
        Just("training.patience"),
        Just("training.class_weights"),
        Just("training.ema_decay"),
        Just("split.val_fraction"),
        Just("split.fold"),
        Just("model.arch"),
        Just("model.width_multiplier"),
        Just("model.time_pooling"),
        Just("optimizer.lr"),
        Just("schedule.kind"),
        Just("evaluate.split"),
        Just("augment.copies"),
        Just("nonsense"),
    ]
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_toml_text_never_panics(text in ".{0,200}") {
        if let Ok(value) = toml::from_str::<serde_json::Value>(&text)
            && let Ok(recipe) = Recipe::from_value(value, Path::new("r.toml"))
        {
            let _ = recipe.config.validate();
        }
    }

    #[test]
    fn recipes_with_odd_values_never_panic(
        entries in proptest::collection::vec((key(), value()), 0..12)
    ) {
        let mut text = String::from("dataset = \"sprsound\"\ntask = \"1-2\"\ndata_dir = \"d\"\n");
        for (k, v) in entries {
            // Dotted keys are TOML's own syntax for nested tables.
            text.push_str(&format!("{k} = {v}\n"));
        }
        if let Ok(value) = toml::from_str::<serde_json::Value>(&text) {
            match Recipe::from_value(value, Path::new("r.toml")) {
                Ok(recipe) => {
                    let _ = recipe.config.validate();
                }
                Err(e) => prop_assert!(e.to_string().contains("r.toml"), "{e}"),
            }
        }
    }
}

/// Found by the property above: a huge clip length overflowed the frame count while the
/// recipe was read (a panic in `refresh_derived`); now it is an error naming the setting.
#[test]
fn a_huge_clip_length_is_an_error_not_a_panic() {
    let text = "dataset = \"sprsound\"\ntask = \"1-2\"\ndata_dir = \"d\"\n\
                features.clip_seconds = 1e300\n";
    let value: serde_json::Value = toml::from_str(text).unwrap();
    let err = Recipe::from_value(value, Path::new("r.toml"))
        .and_then(|r| r.config.validate())
        .unwrap_err()
        .to_string();
    assert!(err.contains("clip_seconds must be in (0, 600]"), "{err}");
}

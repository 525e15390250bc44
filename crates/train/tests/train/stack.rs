//! A run on a multi-resolution input (`features.stack`): the network sees the parts one above
//! the other, the card and `config.json` say so, and the reloaded model recomputes the same
//! stacked features, so that evaluating it (without a feature cache) reproduces the selected
//! epoch's validation Score.

use lungsound_datasets::Task;
use lungsound_features::{FeatureConfig, FeatureKind};
use lungsound_infer::ExperimentConfig;
use lungsound_train::train;

use super::{
    assert_reloaded_run_reproduces_its_best_score, cpu_options, synthetic_sprsound, tiny_config,
    torch_rng,
};

#[test]
fn a_stacked_run_learns_and_its_reloaded_model_reproduces_its_score() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 10);
    let mut config = tiny_config(&data, Task::EventBinary, 8);
    let top = config.features.spectrogram.clone();
    let [top_rows, frames] = config.features.spectrogram_shape().unwrap();
    config.features.stack = vec![FeatureConfig {
        kind: FeatureKind::Stft,
        n_fft: 64,
        hop_length: top.hop_length,
        db: true,
        ..FeatureConfig::default()
    }];
    config.refresh_derived();
    assert_eq!(
        config.features.spectrogram_shape().unwrap(),
        [top_rows + 33, frames]
    );
    let run = dir.path().join("stacked");
    train(config, &run, &cpu_options()).unwrap();

    let card = std::fs::read_to_string(run.join("model_card.md")).unwrap();
    assert!(
        card.contains("Stacked below it along frequency (part 2): stft with n_fft 64"),
        "{card}"
    );
    let saved = ExperimentConfig::load(&run).unwrap();
    assert_eq!(saved.features.stack.len(), 1);
    assert_eq!(saved.features.stack[0].n_fft, 64);
    let norm = saved
        .normalization
        .as_ref()
        .expect("normalization in config.json");
    assert_eq!(norm.mean.len(), top_rows + 33);

    assert_reloaded_run_reproduces_its_best_score(&run, &data, &dir.path().join("eval"));
}

#[test]
fn a_stack_whose_frames_differ_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(dir.path(), Task::EventBinary, 1);
    config.features.stack = vec![FeatureConfig {
        kind: FeatureKind::Stft,
        n_fft: 64,
        hop_length: config.features.spectrogram.hop_length * 2,
        ..FeatureConfig::default()
    }];
    let message = config.validate().unwrap_err().to_string();
    assert!(
        message.contains("stacked spectrogram 2 must have the first one's frames"),
        "{message}"
    );
}

//! A run on PCEN features (`features.spectrogram.pcen`): it trains, says so in its card
//! and config, and the reloaded model recomputes the same features, so that evaluating
//! it (without a feature cache) reproduces the selected epoch's validation Score.

use lungsound_datasets::Task;
use lungsound_infer::ExperimentConfig;
use lungsound_train::train;

use super::{
    assert_reloaded_run_reproduces_its_best_score, cpu_options, synthetic_sprsound, tiny_config,
    torch_rng,
};

#[test]
fn a_pcen_run_learns_and_its_reloaded_model_reproduces_its_score() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 8);
    let mut config = tiny_config(&data, Task::EventBinary, 4);
    config.features.spectrogram.db = false;
    config.features.spectrogram.pcen = Some(lungsound_features::PcenParams {
        time_constant: 0.06,
        ..lungsound_features::PcenParams::default()
    });
    config.refresh_derived();
    let run = dir.path().join("pcen");
    train(config, &run, &cpu_options()).unwrap();

    let card = std::fs::read_to_string(run.join("model_card.md")).unwrap();
    assert!(
        card.contains("PCEN of the mel magnitude") && card.contains("time constant 0.06 s"),
        "{card}"
    );
    let saved = ExperimentConfig::load(&run).unwrap();
    let pcen = saved
        .features
        .spectrogram
        .pcen
        .expect("pcen kept in config.json");
    assert_eq!((pcen.time_constant, pcen.gain), (0.06, 0.98));

    assert_reloaded_run_reproduces_its_best_score(&run, &data, &dir.path().join("eval"));
}

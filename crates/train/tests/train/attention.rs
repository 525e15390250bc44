//! A small-cnn run with attention pooling over time (`model.time_pooling = "attention"`):
//! it trains, the attention head learns (its scores leave zero, where it equals mean-max
//! pooling), the card and config say so, and the reloaded model reproduces its Score.

use lungsound_datasets::Task;
use lungsound_infer::ExperimentConfig;
use lungsound_models::TimePooling;
use lungsound_train::train;
use tch::Tensor;

use super::{
    assert_reloaded_run_reproduces_its_best_score, cpu_options, synthetic_sprsound, tiny_config,
    torch_rng,
};

#[test]
fn an_attention_pooling_run_learns_its_weights_and_reloads_to_the_same_score() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 8);
    let mut config = tiny_config(&data, Task::EventBinary, 8);
    config.model.time_pooling = TimePooling::Attention;
    let run = dir.path().join("attention");
    train(config, &run, &cpu_options()).unwrap();

    let card = std::fs::read_to_string(run.join("model_card.md")).unwrap();
    assert!(card.contains("attention pooling over time"), "{card}");
    let saved = ExperimentConfig::load(&run).unwrap();
    assert_eq!(saved.model.time_pooling, TimePooling::Attention);

    let weights: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(run.join("model.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let attention = &weights["time_attention.weight"];
    assert_eq!(attention.size()[0], lungsound_models::small_cnn::FREQ_BANDS);
    let largest = attention.abs().max().double_value(&[]);
    assert!(
        largest > 1e-4,
        "the attention scores never left zero: {largest}"
    );

    assert_reloaded_run_reproduces_its_best_score(&run, &data, &dir.path().join("eval"));
}

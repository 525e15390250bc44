//! `load_pretrained` on the committed fixture: a PyTorch twin of small-cnn
//! (width 0.25, 3 channels, 5 classes) made by
//! `scripts/models/make_import_fixture.py small-cnn`.

use std::collections::HashMap;

use lungsound_models::{Arch, ChannelAdaptation, Error, ModelConfig, TimePooling, load_pretrained};
use tch::Tensor;
use tch::nn::ModuleT;

use crate::{built, fixture, max_abs_diff};

/// Tolerance of the comparison with PyTorch's output (float32, same ops).
const TOL: f64 = 1e-4;

fn twin_config(in_channels: i64, num_classes: i64) -> ModelConfig {
    ModelConfig {
        arch: Arch::SmallCnn,
        in_channels,
        num_classes,
        width_multiplier: 0.25,
        input: [40, 36],
        ..Default::default()
    }
}

fn io() -> HashMap<String, Tensor> {
    Tensor::read_safetensors(fixture("small_cnn_io.safetensors"))
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn state_dicts_in_every_format_reproduce_pytorch_output() {
    for file in [
        "small_cnn.pt",
        "small_cnn_legacy.pth",
        "small_cnn.safetensors",
    ] {
        let cfg = twin_config(3, 5);
        let (mut vs, model) = built(&cfg, 0);
        let report = load_pretrained(&mut vs, &fixture(file), &cfg).unwrap();
        assert_eq!(report.loaded.len(), vs.len(), "{file}: {report}");
        assert!(
            report.skipped.is_empty() && report.missing.is_empty() && report.unused.is_empty(),
            "{report}"
        );
        assert!(report.adapted.is_empty());
        let io = io();
        let out = model.forward_t(&io["input3"], false);
        let diff = max_abs_diff(&out, &io["expected"]);
        assert!(diff < TOL, "{file}: max |rust - torch| = {diff}");
    }
}

#[test]
fn mean_max_weights_start_an_attention_pooling_model_that_answers_the_same() {
    // The attention head is new (missing from the checkpoint) and starts at zero
    // scores, i.e. as the plain mean: PyTorch's mean-max twin gives the same output.
    let cfg = ModelConfig {
        time_pooling: TimePooling::Attention,
        ..twin_config(3, 5)
    };
    let (mut vs, model) = built(&cfg, 0);
    let report = load_pretrained(&mut vs, &fixture("small_cnn.pt"), &cfg).unwrap();
    assert_eq!(
        report.missing,
        ["time_attention.bias", "time_attention.weight"],
        "{report}"
    );
    assert!(
        report.skipped.is_empty() && report.unused.is_empty(),
        "{report}"
    );
    assert_eq!(vs.variables()["time_attention.weight"].size(), [4, 64]);
    let io = io();
    let diff = max_abs_diff(&model.forward_t(&io["input3"], false), &io["expected"]);
    assert!(diff < TOL, "max |rust - torch| = {diff}");
}

#[test]
fn three_channel_weights_load_into_one_channel_model() {
    let cfg = twin_config(1, 5);
    let (mut vs, model) = built(&cfg, 0);
    let report = load_pretrained(&mut vs, &fixture("small_cnn.pt"), &cfg).unwrap();
    assert_eq!(report.adapted.len(), 1, "{report}");
    let adapted = &report.adapted[0];
    assert_eq!(adapted.name, "blocks.0.conv1.weight");
    assert_eq!((adapted.from_channels, adapted.to_channels), (3, 1));
    assert_eq!(adapted.method, ChannelAdaptation::Sum);
    assert!(
        report
            .to_string()
            .contains("adapted from 3 to 1 input channels"),
        "{report}"
    );
    // Summing the kernel: the 1-channel model on x equals PyTorch's on [x, x, x].
    let io = io();
    let diff = max_abs_diff(&model.forward_t(&io["input1"], false), &io["expected"]);
    assert!(diff < TOL, "max |rust - torch| = {diff}");
}

#[test]
fn a_head_for_other_classes_is_skipped() {
    let cfg = twin_config(3, 2);
    let (mut vs, _model) = built(&cfg, 0);
    let fresh_fc = vs.variables()["fc.weight"].copy();
    let report = load_pretrained(&mut vs, &fixture("small_cnn.safetensors"), &cfg).unwrap();
    let skipped: Vec<&str> = report.skipped.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(skipped, ["fc.bias", "fc.weight"]);
    assert_eq!(report.skipped[1].checkpoint_shape, [5, 512]);
    assert_eq!(report.skipped[1].model_shape, [2, 512]);
    assert!(report.only_head_differs());
    assert_eq!(report.loaded.len(), vs.len() - 2);
    assert!(
        vs.variables()["fc.weight"].equal(&fresh_fc),
        "the new head keeps its initialisation"
    );
}

#[test]
fn one_checkpoint_initialises_both_dualnet_branches() {
    let cfg = ModelConfig {
        arch: Arch::DualNet,
        in_channels: 6,
        ..twin_config(6, 5)
    };
    let (mut vs, _model) = built(&cfg, 0);
    let report = load_pretrained(&mut vs, &fixture("small_cnn.pt"), &cfg).unwrap();
    assert!(
        report.missing.is_empty() && report.unused.is_empty(),
        "{report}"
    );
    // The dual head is twice as wide as the single model's.
    assert_eq!(report.skipped.len(), 1, "{report}");
    assert_eq!(report.skipped[0].name, "fc.weight");
    let vars = vs.variables();
    let a = &vars["branch_a.blocks.3.conv2.weight"];
    assert!(a.equal(&vars["branch_b.blocks.3.conv2.weight"]));
}

#[test]
fn weights_of_another_architecture_are_an_error() {
    let cfg = ModelConfig {
        arch: Arch::Resnet18,
        input: [32, 32],
        ..Default::default()
    };
    let (mut vs, _model) = built(&cfg, 0);
    let err = load_pretrained(&mut vs, &fixture("small_cnn.pt"), &cfg).unwrap_err();
    assert!(matches!(err, Error::Weights { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("small_cnn.pt") && msg.contains("no tensor matches a resnet18"),
        "{msg}"
    );
}

#[test]
fn unreadable_files_name_the_path() {
    let cfg = twin_config(3, 5);
    let (mut vs, _model) = built(&cfg, 0);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pt");
    let err = load_pretrained(&mut vs, &missing, &cfg).unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.to_string().contains("nope.pt"),
        "{err}"
    );
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not a safetensors file").unwrap();
    let err = load_pretrained(&mut vs, &garbage, &cfg).unwrap_err();
    assert!(err.to_string().contains("garbage.safetensors"), "{err}");
}

#[test]
fn var_store_files_load_back() {
    // What the training crate writes (safetensors) and tch's own format (.ot).
    let cfg = twin_config(3, 5);
    let (mut trained, model) = built(&cfg, 0);
    load_pretrained(&mut trained, &fixture("small_cnn.pt"), &cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let io = io();
    for name in ["model.safetensors", "model.ot"] {
        let path = dir.path().join(name);
        trained.save(&path).unwrap();
        let (mut fresh, fresh_model) = built(&cfg, 1);
        let report = load_pretrained(&mut fresh, &path, &cfg).unwrap();
        assert_eq!(report.loaded.len(), fresh.len(), "{report}");
        let diff = max_abs_diff(
            &fresh_model.forward_t(&io["input3"], false),
            &model.forward_t(&io["input3"], false),
        );
        assert_eq!(diff, 0.0, "{name}");
    }
}

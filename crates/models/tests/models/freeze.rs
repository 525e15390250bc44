//! `freeze_until`: registration order, optimiser behaviour, dualnet scoping.

use std::collections::BTreeMap;

use lungsound_models::{Arch, Error, ModelConfig, freeze_until, layer_names, parameters_in_order};
use tch::Tensor;
use tch::nn::VarStore;

use crate::{adam_step, built, randn};

fn snapshot(vs: &VarStore) -> BTreeMap<String, Tensor> {
    parameters_in_order(vs)
        .into_iter()
        .map(|(n, t)| (n, t.detach().copy()))
        .collect()
}

/// Names of the parameters an Adam step changed.
fn changed_by_a_step(vs: &VarStore, model: &lungsound_models::Model, channels: i64) -> Vec<String> {
    let before = snapshot(vs);
    let xs = randn(&[2, channels, 16, 16], 11);
    let ys = Tensor::from_slice(&[0i64, 1]);
    adam_step(vs, model, &xs, &ys, 1e-3);
    let after = snapshot(vs);
    before
        .into_iter()
        .filter(|(name, t)| !t.equal(&after[name]))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn registration_order_is_forward_order() {
    let (vs, _model) = built(&ModelConfig::default(), 0);
    assert_eq!(
        layer_names(&vs),
        ["blocks.0", "blocks.1", "blocks.2", "blocks.3", "fc"]
    );
    let cfg = ModelConfig {
        arch: Arch::Resnet18,
        input: [32, 32],
        ..Default::default()
    };
    let (vs, _model) = built(&cfg, 0);
    let names: Vec<String> = parameters_in_order(&vs)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names[..3], ["conv1.weight", "bn1.weight", "bn1.bias"]);
    assert!(
        names[names.len() - 2..]
            .iter()
            .all(|n| n.starts_with("fc."))
    );
    let layers = layer_names(&vs);
    assert_eq!(layers[..4], ["conv1", "bn1", "layer1.0", "layer1.1"]);
}

#[test]
fn frozen_layers_stay_put_and_the_rest_trains() {
    let (vs, model) = built(
        &ModelConfig {
            dropout: 0.0,
            ..Default::default()
        },
        1,
    );
    let frozen = freeze_until(&vs, "blocks.2").unwrap();
    assert!(
        frozen
            .iter()
            .all(|n| n.starts_with("blocks.0.") || n.starts_with("blocks.1."))
    );
    assert_eq!(
        frozen.len(),
        3 + 3,
        "conv1 and bn1 (weight, bias) of blocks 0 and 1"
    );
    let changed = changed_by_a_step(&vs, &model, 1);
    assert!(
        changed.iter().all(|n| !frozen.contains(n)),
        "frozen parameters moved: {changed:?}"
    );
    assert!(
        changed.contains(&"blocks.2.conv1.weight".to_string())
            && changed.contains(&"fc.weight".to_string())
    );

    // Freezing up to an earlier layer unfreezes the later ones again.
    assert_eq!(freeze_until(&vs, "blocks.0").unwrap(), Vec::<String>::new());
    assert!(changed_by_a_step(&vs, &model, 1).contains(&"blocks.0.conv1.weight".to_string()));
}

#[test]
fn prefixes_match_whole_components() {
    let cfg = ModelConfig {
        arch: Arch::MobilenetV3Large,
        input: [32, 32],
        ..Default::default()
    };
    let (vs, _model) = built(&cfg, 0);
    // "features.1" must not also match "features.10".
    let frozen = freeze_until(&vs, "features.1").unwrap();
    assert!(
        frozen.iter().all(|n| n.starts_with("features.0.")),
        "{frozen:?}"
    );
    let frozen = freeze_until(&vs, "features.10").unwrap();
    assert!(frozen.iter().any(|n| n.starts_with("features.9.")));
    assert!(
        !frozen
            .iter()
            .any(|n| n.starts_with("features.10.") || n.starts_with("features.11."))
    );
}

#[test]
fn dualnet_prefix_applies_to_each_branch() {
    let cfg = ModelConfig {
        arch: Arch::DualNet,
        in_channels: 2,
        dropout: 0.0,
        ..Default::default()
    };
    let (vs, model) = built(&cfg, 2);
    let frozen = freeze_until(&vs, "blocks.1").unwrap();
    assert_eq!(frozen.len(), 6);
    assert!(frozen.iter().any(|n| n.starts_with("branch_a.blocks.0.")));
    assert!(frozen.iter().any(|n| n.starts_with("branch_b.blocks.0.")));
    let changed = changed_by_a_step(&vs, &model, 2);
    assert!(changed.contains(&"fc.weight".to_string()));
    assert!(changed.iter().all(|n| !frozen.contains(n)));
    // A branch-qualified prefix works in plain registration order.
    let frozen = freeze_until(&vs, "branch_b").unwrap();
    assert!(frozen.iter().all(|n| n.starts_with("branch_a.")) && frozen.len() > 6);
}

#[test]
fn unknown_layer_lists_the_layers() {
    let (vs, _model) = built(&ModelConfig::default(), 0);
    let err = freeze_until(&vs, "layer3").unwrap_err();
    assert!(matches!(err, Error::UnknownLayer { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("\"layer3\"") && msg.contains("blocks.0, blocks.1"),
        "{msg}"
    );
    assert!(freeze_until(&vs, "").is_err());
    assert!(
        freeze_until(&vs, "blocks.0.conv").is_err(),
        "prefixes match whole components"
    );
}

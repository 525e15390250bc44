//! Every architecture: output shapes, train/eval behaviour, one Adam step,
//! parameter counts, and torchvision's names and shapes.

use std::collections::BTreeMap;

use lungsound_models::{Arch, ModelConfig, TimePooling, build, parameter_count};
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

use crate::{adam_step, big_model_lock, built, fixture, randn, rng_lock};

/// Adam's learning rate for the one-step test. Adam's first step moves every
/// weight by about `lr`; VGG's 25088 → 4096 layer without batch norm turns
/// that into a large jump of its activations, so it gets a smaller one (as
/// VGG fine-tuning does).
fn learning_rate(backbone: Arch) -> f64 {
    if matches!(backbone, Arch::Vgg16 | Arch::Vgg19) {
        1e-6
    } else {
        1e-4
    }
}

/// Input `[height, width]` used for `arch`: its minimum, non-square where
/// that costs little. The ResNets get 64×48 so that their last batch norms
/// see 2×2 maps: at 1×1 with batch 2 they only see two values per channel,
/// which normalise to ±1, and the loss surface gets too rough for a
/// reliable one-step test.
fn input_hw(arch: Arch, backbone: Arch) -> [i64; 2] {
    match arch {
        Arch::SmallCnn => [16, 24],
        Arch::Resnet18 | Arch::Resnet152V2 => [64, 48],
        Arch::DualNet => input_hw(backbone, backbone),
        other => other.min_input(),
    }
}

/// torchvision's model name for the architectures that have one.
fn torchvision_name(arch: Arch) -> Option<&'static str> {
    match arch {
        Arch::Vgg16 => Some("vgg16"),
        Arch::Vgg19 => Some("vgg19"),
        Arch::Resnet18 => Some("resnet18"),
        Arch::MobilenetV3Large => Some("mobilenet_v3_large"),
        Arch::InceptionV3 => Some("inception_v3"),
        _ => None,
    }
}

/// Every variable (parameters and BN statistics) with its shape.
fn shapes(vs: &nn::VarStore) -> BTreeMap<String, Vec<i64>> {
    vs.variables()
        .into_iter()
        .map(|(name, t)| (name, t.size()))
        .collect()
}

/// The whole check for one architecture (and dualnet backbone); returns the
/// parameter count at 1 channel (2 for dualnet) and 2 classes.
fn check(arch: Arch, backbone: Arch) -> usize {
    let start = std::time::Instant::now();
    let big = !matches!(
        backbone,
        Arch::SmallCnn | Arch::Resnet18 | Arch::MobilenetV3Large
    );
    let _guard = big.then(big_model_lock);
    let dual = arch == Arch::DualNet;
    let [h, w] = input_hw(arch, backbone);
    let base = ModelConfig {
        arch,
        dual_backbone: dual.then_some(backbone),
        input: [h, w],
        dropout: 0.5,
        ..ModelConfig::default()
    };

    // 1 channel (one per branch for dualnet), 2 classes, no dropout: every
    // forward pass is deterministic (the tests share libtorch's global RNG,
    // so dropout masks cannot be replayed by seeding).
    let c = if dual { 2 } else { 1 };
    let cfg = ModelConfig {
        in_channels: c,
        num_classes: 2,
        dropout: 0.0,
        ..base.clone()
    };
    let (vs, model) = built(&cfg, 1);
    let count = parameter_count(&vs);
    let xs = randn(&[2, c, h, w], 2);
    let eval = model.forward_t(&xs, false);
    assert_eq!(eval.size(), [2, 2], "{arch}/{backbone}");
    assert!(
        eval.isfinite().all().int64_value(&[]) == 1,
        "{arch}: non-finite logits"
    );
    assert!(
        eval.equal(&model.forward_t(&xs, false)),
        "{arch}: eval not deterministic"
    );
    // Training mode: batch norm uses batch statistics instead of running
    // ones; VGG (torchvision's, without BN) is then the same function.
    let train = model.forward_t(&xs, true);
    assert_eq!(train.size(), [2, 2]);
    let batch_norm = !matches!(backbone, Arch::Vgg16 | Arch::Vgg19);
    assert_eq!(
        !train.equal(&eval),
        batch_norm,
        "{arch}: training vs eval mode"
    );
    // One Adam step on a fixed batch lowers the loss.
    let ys = Tensor::from_slice(&[0i64, 1]);
    let (before, after) = adam_step(&vs, &model, &xs, &ys, learning_rate(backbone));
    assert!(
        after < before,
        "{arch}/{backbone}: loss {before} -> {after} after one Adam step"
    );
    println!(
        "{arch}/{backbone}: {count} parameters; one Adam step: loss {before:.4} -> {after:.4}"
    );
    drop((vs, model));

    // 3 channels (per branch), 7 classes, dropout 0.5.
    let c = if dual { 6 } else { 3 };
    let cfg = ModelConfig {
        in_channels: c,
        num_classes: 7,
        ..base
    };
    let (vs, model) = built(&cfg, 3);
    let xs = randn(&[2, c, h, w], 4);
    let eval = model.forward_t(&xs, false);
    assert_eq!(eval.size(), [2, 7], "{arch}/{backbone}");
    assert!(
        eval.equal(&model.forward_t(&xs, false)),
        "{arch}: eval not deterministic"
    );
    let (train1, train2) = {
        // Dropout draws from the global generator: under the lock (see `train_loss`).
        let _rng = rng_lock();
        (model.forward_t(&xs, true), model.forward_t(&xs, true))
    };
    assert_eq!(train1.size(), [2, 7]);
    assert!(
        !train1.equal(&train2),
        "{arch}: dropout inactive in training mode"
    );
    if let Some(name) = torchvision_name(arch) {
        let text = std::fs::read_to_string(fixture("torchvision_shapes.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let expected: BTreeMap<String, Vec<i64>> =
            serde_json::from_value(json["models"][name].clone()).unwrap();
        let ours = shapes(&vs);
        let missing: Vec<_> = expected.keys().filter(|k| !ours.contains_key(*k)).collect();
        let extra: Vec<_> = ours.keys().filter(|k| !expected.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{arch}: lacks {missing:?}, has extra {extra:?}"
        );
        assert_eq!(ours, expected, "{arch}: shapes differ from torchvision's");
    }
    println!(
        "{arch}/{backbone}: checked in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    count
}

#[test]
fn small_cnn() {
    let count = check(Arch::SmallCnn, Arch::SmallCnn);
    assert!(count < 2_000_000, "small-cnn has {count} parameters");
    assert_eq!(count, 982_754);
}

#[test]
fn vgg16() {
    // torchvision vgg16: 138,357,544 for 3 channels / 1000 classes.
    let expected = 138_357_544 - 2 * 64 * 9 - 4096 * 998 - 998;
    assert_eq!(check(Arch::Vgg16, Arch::Vgg16), expected);
}

#[test]
fn vgg19() {
    let expected = 143_667_240 - 2 * 64 * 9 - 4096 * 998 - 998;
    assert_eq!(check(Arch::Vgg19, Arch::Vgg19), expected);
}

#[test]
fn resnet18() {
    // torchvision resnet18: 11,689,512 for 3 channels / 1000 classes.
    let expected = 11_689_512 - 2 * 64 * 49 - 512 * 998 - 998;
    assert_eq!(check(Arch::Resnet18, Arch::Resnet18), expected);
}

#[test]
fn resnet152v2() {
    let count = check(Arch::Resnet152V2, Arch::Resnet152V2);
    // Keras ResNet152V2: 60,380,648 variables for 3 channels / 1000 classes,
    // of which 143,744 are BN moving statistics.
    let expected = 60_380_648 - 143_744 - 2 * 64 * 49 - 2048 * 998 - 998;
    assert_eq!(count, expected);
}

#[test]
fn mobilenetv3_large() {
    // torchvision mobilenet_v3_large: 5,483,032 for 3 channels / 1000 classes.
    let expected = 5_483_032 - 2 * 16 * 9 - 1280 * 998 - 998;
    assert_eq!(
        check(Arch::MobilenetV3Large, Arch::MobilenetV3Large),
        expected
    );
}

#[test]
fn inceptionv3() {
    // torchvision inception_v3(aux_logits=False): 23,834,568 at 3 channels / 1000 classes.
    let expected = 23_834_568 - 2 * 32 * 9 - 2048 * 998 - 998;
    assert_eq!(check(Arch::InceptionV3, Arch::InceptionV3), expected);
}

#[test]
fn dualnet_of_small_cnns() {
    // Two 1-channel small-cnns without their heads, one head over 2 × 2048 features.
    let branch = 982_754 - (2048 * 2 + 2);
    assert_eq!(
        check(Arch::DualNet, Arch::SmallCnn),
        2 * branch + 4096 * 2 + 2
    );
}

#[test]
fn dualnet_of_resnet18s() {
    let branch = 11_689_512 - 2 * 64 * 49 - 512 * 1000 - 1000;
    assert_eq!(
        check(Arch::DualNet, Arch::Resnet18),
        2 * branch + 1024 * 2 + 2
    );
}

#[test]
fn dualnet_branches_see_their_own_channels() {
    let cfg = ModelConfig {
        arch: Arch::DualNet,
        in_channels: 2,
        dropout: 0.0,
        ..Default::default()
    };
    let (_vs, model) = crate::built(&cfg, 5);
    let xs = randn(&[2, 2, 32, 32], 6);
    let base = model.forward_t(&xs, false);
    // Changing the second channel (branch B's input) changes the output…
    let changed_b = Tensor::cat(&[xs.narrow(1, 0, 1), xs.narrow(1, 1, 1) * 2.0], 1);
    assert!(crate::max_abs_diff(&base, &model.forward_t(&changed_b, false)) > 1e-6);
    // …and swapping the two channels does too (the branches are distinct).
    let swapped = Tensor::cat(&[xs.narrow(1, 1, 1), xs.narrow(1, 0, 1)], 1);
    assert!(crate::max_abs_diff(&base, &model.forward_t(&swapped, false)) > 1e-6);
}

#[test]
fn small_cnn_takes_other_input_sizes_and_widths() {
    for (hw, width) in [([64, 101], 1.0), ([128, 40], 0.5), ([17, 16], 0.25)] {
        let cfg = ModelConfig {
            input: hw,
            width_multiplier: width,
            num_classes: 4,
            ..Default::default()
        };
        let (_vs, model) = built(&cfg, 8);
        let out = model.forward_t(&randn(&[2, 1, hw[0], hw[1]], 9), false);
        assert_eq!(out.size(), [2, 4], "{hw:?} at width {width}");
    }
}

#[test]
fn attention_pooling_adds_one_score_head_per_branch_and_gets_gradients() {
    for (arch, heads) in [
        (Arch::SmallCnn, vec!["time_attention"]),
        (
            Arch::DualNet,
            vec!["branch_a.time_attention", "branch_b.time_attention"],
        ),
    ] {
        let cfg = ModelConfig {
            arch,
            in_channels: 2,
            width_multiplier: 0.25,
            num_classes: 3,
            time_pooling: TimePooling::Attention,
            ..Default::default()
        };
        let (vs, model) = built(&cfg, 10);
        let mean_max = ModelConfig {
            time_pooling: TimePooling::MeanMax,
            ..cfg.clone()
        };
        let extra = parameter_count(&vs) - parameter_count(&built(&mean_max, 10).0);
        assert_eq!(
            extra,
            heads.len() * (4 * 64 + 4),
            "{arch}: [4, C] weights and 4 biases"
        );
        let shapes = shapes(&vs);
        for head in &heads {
            assert_eq!(shapes[&format!("{head}.weight")], [4, 64], "{arch}");
        }
        let xs = randn(&[4, 2, 32, 40], 11);
        let ys = Tensor::from_slice(&[0i64, 1, 2, 1]);
        let out = model.forward_t(&xs, false);
        assert_eq!(out.size(), [4, 3]);
        // One step moves the attention scores away from zero: the head is trained.
        adam_step(&vs, &model, &xs, &ys, 1e-3);
        let moved = vs.variables()[&format!("{}.weight", heads[0])]
            .abs()
            .max()
            .double_value(&[]);
        assert!(moved > 1e-5, "{arch}: attention weights still zero");
    }
}

#[test]
fn build_rejects_invalid_configs() {
    let vs = nn::VarStore::new(Device::Cpu);
    let odd_dual = ModelConfig {
        arch: Arch::DualNet,
        in_channels: 3,
        ..Default::default()
    };
    let err = build(&vs.root(), &odd_dual).unwrap_err().to_string();
    assert!(err.contains("even, got 3"), "{err}");
    let small = ModelConfig {
        arch: Arch::Resnet18,
        input: [16, 64],
        ..Default::default()
    };
    let err = build(&vs.root(), &small).unwrap_err().to_string();
    assert!(err.contains("32x32"), "{err}");
    assert_eq!(vs.len(), 0, "a rejected config must not create variables");
}

#[test]
fn model_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<lungsound_models::Model>();
    let (_vs, model) = built(&ModelConfig::default(), 0);
    let handle = std::thread::spawn(move || {
        model
            .forward_t(
                &Tensor::zeros([2, 1, 16, 16], (Kind::Float, Device::Cpu)),
                false,
            )
            .size()
    });
    assert_eq!(handle.join().unwrap(), [2, 2]);
}

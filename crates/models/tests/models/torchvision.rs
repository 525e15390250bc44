//! Full-size torchvision checkpoints, generated at test time (too big to
//! commit): `scripts/models/make_import_fixture.py torchvision` writes a
//! randomly initialised model's state_dict and its output, and the Rust
//! model must reproduce the output after `load_pretrained`.
//!
//! Needs a Python with torch and torchvision: `$LUNGSOUND_PYTHON`, else the
//! workspace's `.venv/bin/python`. Without one the test prints why and
//! passes. resnet18, mobilenet_v3_large and inception_v3 run by default
//! (~170 MB of temporary files); `LUNGSOUND_FULL_IMPORT_TEST=1` adds vgg16
//! and vgg19 (~1.1 GB).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use lungsound_models::{Arch, ChannelAdaptation, ModelConfig, load_pretrained};
use tch::Tensor;
use tch::nn::ModuleT;

use crate::{big_model_lock, built, max_abs_diff};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Python that imports torchvision, or why there is none.
fn python() -> Result<PathBuf, String> {
    let python = std::env::var_os("LUNGSOUND_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import torch, torchvision, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Ok(python)
    } else {
        Err(format!(
            "{} cannot import torch, torchvision and numpy",
            python.display()
        ))
    }
}

#[test]
fn torchvision_checkpoints_reproduce_torchvision_outputs() {
    let python = match python() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let mut archs = vec![
        ("resnet18", Arch::Resnet18),
        ("mobilenet_v3_large", Arch::MobilenetV3Large),
        ("inception_v3", Arch::InceptionV3),
    ];
    if std::env::var_os("LUNGSOUND_FULL_IMPORT_TEST").is_some_and(|v| v == "1") {
        archs.extend([("vgg16", Arch::Vgg16), ("vgg19", Arch::Vgg19)]);
    }
    let dir = tempfile::tempdir().unwrap();
    let script = workspace_root().join("scripts/models/make_import_fixture.py");
    let mut command = Command::new(&python);
    command.arg(&script).arg("torchvision").arg(dir.path());
    command.args(archs.iter().map(|(name, _)| name));
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let _guard = big_model_lock();
    for (name, arch) in archs {
        let weights = dir.path().join(format!("{name}.pth"));
        let io: HashMap<String, Tensor> =
            Tensor::read_safetensors(dir.path().join(format!("{name}_io.safetensors")))
                .unwrap()
                .into_iter()
                .collect();
        let (xs, expected) = (&io["input"], &io["expected"]);
        let size = xs.size();
        let input = [size[2], size[3]];

        // Same shape as torchvision's: everything loads, outputs agree.
        let cfg = ModelConfig {
            arch,
            in_channels: 3,
            num_classes: 1000,
            input,
            ..Default::default()
        };
        let (mut vs, model) = built(&cfg, 0);
        let report = load_pretrained(&mut vs, &weights, &cfg).unwrap();
        assert_eq!(report.loaded.len(), vs.len(), "{name}: {report}");
        assert!(
            report.skipped.is_empty() && report.missing.is_empty(),
            "{name}: {report}"
        );
        if arch == Arch::InceptionV3 {
            assert!(
                !report.unused.is_empty()
                    && report.unused.iter().all(|n| n.starts_with("AuxLogits."))
            );
        } else {
            assert!(report.unused.is_empty(), "{name}: {report}");
        }
        let out = model.forward_t(xs, false);
        let scale = expected.abs().max().double_value(&[]).max(1.0);
        let diff = max_abs_diff(&out, expected);
        assert!(
            diff <= 1e-4 * scale,
            "{name}: max |rust - torch| = {diff} (logits up to {scale})"
        );
        drop((vs, model));

        // Transfer learning: 1 channel, 4 classes.
        let cfg = ModelConfig {
            in_channels: 1,
            num_classes: 4,
            ..cfg
        };
        let (mut vs, model) = built(&cfg, 0);
        let report = load_pretrained(&mut vs, &weights, &cfg).unwrap();
        assert_eq!(report.adapted.len(), 1, "{name}: {report}");
        assert_eq!(report.adapted[0].method, ChannelAdaptation::Sum);
        assert!(report.only_head_differs(), "{name}: {report}");
        assert_eq!(model.forward_t(&xs.narrow(1, 0, 1), false).size(), [2, 4]);
        drop((vs, model));

        // One resnet18 checkpoint into both branches of a dualnet.
        if arch == Arch::Resnet18 {
            let cfg = ModelConfig {
                arch: Arch::DualNet,
                dual_backbone: Some(arch),
                in_channels: 2,
                ..cfg
            };
            let (mut vs, _model) = built(&cfg, 0);
            let report = load_pretrained(&mut vs, &weights, &cfg).unwrap();
            assert_eq!(report.adapted.len(), 2, "{report}");
            assert!(
                report.only_head_differs() && report.unused.is_empty(),
                "{report}"
            );
        }
    }
}

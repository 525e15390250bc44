//! `dualnet`: two backbones over the two halves of the input channels.
//!
//! The input's first `in_channels / 2` channels go to `branch_a` (e.g. the
//! log-mel spectrogram), the rest to `branch_b` (e.g. the log-STFT, resized
//! upstream to the same height × width). Each branch is the body of
//! [`ModelConfig::dual_backbone`] (default `small-cnn`) up to its global
//! pooling; the two feature vectors are concatenated, then dropout and `fc`.
//!
//! Names: `branch_a.<backbone names>`, `branch_b.<backbone names>`, `fc`.
//! [`load_pretrained`](crate::load_pretrained) loads a single-backbone
//! checkpoint (e.g. torchvision's `resnet18`) into both branches, and
//! [`freeze_until`](crate::freeze_until) with a prefix such as `layer3`
//! freezes both branches up to that layer.
//!
//! Minimum input: the backbone's; `in_channels` must be even.

use tch::Tensor;
use tch::nn;

use crate::config::{Arch, ModelConfig};
use crate::layers::{Backbone, dropout_linear};
use crate::{inception, mobilenet_v3, resnet, resnet_v2, small_cnn, vgg};

/// Names of the two branches, in input-channel order.
pub const BRANCHES: [&str; 2] = ["branch_a", "branch_b"];

/// The pooled body of `arch` (any architecture but `dualnet`).
pub(crate) fn backbone(p: &nn::Path, arch: Arch, in_channels: i64, cfg: &ModelConfig) -> Backbone {
    match arch {
        Arch::SmallCnn | Arch::DualNet => {
            small_cnn::backbone(p, in_channels, cfg.width_multiplier, cfg.time_pooling)
        }
        Arch::Vgg16 => vgg::backbone(p, in_channels, vgg::Depth::D16),
        Arch::Vgg19 => vgg::backbone(p, in_channels, vgg::Depth::D19),
        Arch::Resnet18 => resnet::backbone(p, in_channels),
        Arch::Resnet152V2 => resnet_v2::backbone(p, in_channels),
        Arch::MobilenetV3Large => mobilenet_v3::backbone(p, in_channels),
        Arch::InceptionV3 => inception::backbone(p, in_channels),
    }
}

/// Builds `dualnet` under `p`; `cfg` has been validated (even `in_channels`,
/// backbone not `dualnet`).
///
/// # Shapes
/// `[batch, in_channels, h, w]` → `[batch, num_classes]`; each branch sees
/// `[batch, in_channels / 2, h, w]` and yields `[batch, features]`.
pub(crate) fn build(p: &nn::Path, cfg: &ModelConfig) -> nn::FuncT<'static> {
    let arch = cfg.dual_backbone();
    let half = cfg.branch_channels();
    let a = backbone(&(p / BRANCHES[0]), arch, half, cfg);
    let b = backbone(&(p / BRANCHES[1]), arch, half, cfg);
    let head = dropout_linear(
        p / "fc",
        a.out_features + b.out_features,
        cfg.num_classes,
        cfg.dropout,
    );
    let (a, b) = (a.net, b.net);
    nn::func_t(move |xs, train| {
        let features = Tensor::cat(
            &[
                xs.narrow(1, 0, half).apply_t(&a, train), // [B, features_a]
                xs.narrow(1, half, half).apply_t(&b, train), // [B, features_b]
            ],
            1,
        );
        features.apply_t(&head, train) // [B, num_classes]
    })
}

//! `vgg16`, `vgg19`: VGG with torchvision's layout and parameter names.
//!
//! Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale
//! Image Recognition" (2014), configurations D and E without batch norm, as
//! `torchvision.models.vgg16` / `vgg19`: `features.{i}` (3×3 convolutions
//! with bias, ReLU, 2×2 max pools, numbered as torchvision's `Sequential`
//! numbers them), an adaptive average pool to 7×7, and `classifier.{0,3,6}`
//! (25088 → 4096 → 4096 → classes, ReLU and dropout between).
//!
//! `tch::vision::vgg` has the same names but fixes 3 input channels and
//! flattens without the 7×7 pool (so it only takes 224×224), hence this copy.
//! The classifier keeps torchvision's shape so ImageNet weights load; its
//! first layer alone holds 103 M of VGG-16's 138 M parameters.
//!
//! Minimum input 32×32 (five poolings by 2). In `dualnet`, the backbone is
//! `features` with a global average pool (512 features) instead.

use tch::nn;

use crate::config::ModelConfig;
use crate::layers::{Backbone, conv2d, global_avg_pool, linear};

/// The first convolution's weight (for channel adaptation on import).
pub(crate) const INPUT_CONV: &str = "features.0.weight";

/// Convolution widths per stage, VGG-16 (configuration D).
const VGG16: [&[i64]; 5] = [
    &[64, 64],
    &[128, 128],
    &[256, 256, 256],
    &[512, 512, 512],
    &[512, 512, 512],
];
/// Convolution widths per stage, VGG-19 (configuration E).
const VGG19: [&[i64]; 5] = [
    &[64, 64],
    &[128, 128],
    &[256, 256, 256, 256],
    &[512, 512, 512, 512],
    &[512, 512, 512, 512],
];

/// Which VGG.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Depth {
    /// 16 weight layers.
    D16,
    /// 19 weight layers.
    D19,
}

/// `features`: the convolutional part.
///
/// # Shapes
/// `[batch, in_channels, h, w]` → `[batch, 512, h / 32, w / 32]`
fn features(p: nn::Path, in_channels: i64, depth: Depth) -> nn::SequentialT {
    let stages = match depth {
        Depth::D16 => VGG16,
        Depth::D19 => VGG19,
    };
    let mut seq = nn::seq_t();
    let mut c_in = in_channels;
    // torchvision numbers every module, ReLUs and pools included.
    let mut index = 0;
    for stage in stages {
        for &c_out in stage {
            seq = seq
                .add(conv2d(&p / index, c_in, c_out, 3, 1, 1, true))
                .add_fn(|xs| xs.relu());
            index += 2;
            c_in = c_out;
        }
        seq = seq.add_fn(|xs| xs.max_pool2d_default(2));
        index += 1;
    }
    seq
}

/// `features` followed by global average pooling: 512 features (for `dualnet`).
pub(crate) fn backbone(p: &nn::Path, in_channels: i64, depth: Depth) -> Backbone {
    let features = features(p / "features", in_channels, depth);
    let net = nn::func_t(move |xs, train| global_avg_pool(&xs.apply_t(&features, train)));
    Backbone {
        net,
        out_features: 512,
    }
}

/// Builds torchvision's VGG under `p`, with `cfg.dropout` in the classifier.
///
/// # Shapes
/// `[batch, in_channels, h, w]` (h, w ≥ 32) → `[batch, num_classes]`
pub(crate) fn build(p: &nn::Path, cfg: &ModelConfig, depth: Depth) -> nn::FuncT<'static> {
    let features = features(p / "features", cfg.in_channels, depth);
    let c = p / "classifier";
    let fc0 = linear(&c / 0, 512 * 7 * 7, 4096);
    let fc3 = linear(&c / 3, 4096, 4096);
    let fc6 = linear(&c / 6, 4096, cfg.num_classes);
    let dropout = cfg.dropout;
    nn::func_t(move |xs, train| {
        xs.apply_t(&features, train) // [B, 512, h/32, w/32]
            .adaptive_avg_pool2d([7, 7]) // [B, 512, 7, 7]
            .flatten(1, -1) // [B, 25088]
            .apply(&fc0)
            .relu()
            .dropout(dropout, train)
            .apply(&fc3)
            .relu()
            .dropout(dropout, train)
            .apply(&fc6) // [B, num_classes]
    })
}

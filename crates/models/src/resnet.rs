//! `resnet18`: ResNet-18 with torchvision's layout and parameter names.
//!
//! He et al., "Deep Residual Learning for Image Recognition" (2015), as
//! `torchvision.models.resnet18`: `conv1` (7×7, stride 2) → `bn1` → ReLU →
//! 3×3 max pool → `layer1`..`layer4` of two basic blocks each (`conv1`,
//! `bn1`, `conv2`, `bn2`, and `downsample.{0,1}` where the shape changes) →
//! global average pool → `fc`. The only addition is dropout before `fc`
//! (no parameters, so weights still load by name).
//!
//! `tch::vision::resnet` has the same names but fixes 3 input channels.
//! Minimum input 32×32 (the stride is 32; smaller inputs run but the last
//! stage then sees a 1×1 map of padding).

use tch::nn::{self, ModuleT};

use crate::config::ModelConfig;
use crate::layers::{Backbone, backbone_with_linear_head, batch_norm, conv2d, global_avg_pool};

/// The first convolution's weight (for channel adaptation on import).
pub(crate) const INPUT_CONV: &str = "conv1.weight";

/// Two 3×3 convolutions with a shortcut.
///
/// # Shapes
/// `[B, c_in, h, w]` → `[B, c_out, h / stride, w / stride]`
fn basic_block(p: nn::Path, c_in: i64, c_out: i64, stride: i64) -> impl ModuleT + 'static {
    let conv1 = conv2d(&p / "conv1", c_in, c_out, 3, stride, 1, false);
    let bn1 = batch_norm(&p / "bn1", c_out, 1e-5, 0.1);
    let conv2 = conv2d(&p / "conv2", c_out, c_out, 3, 1, 1, false);
    let bn2 = batch_norm(&p / "bn2", c_out, 1e-5, 0.1);
    let downsample = (stride != 1 || c_in != c_out).then(|| {
        let d = &p / "downsample";
        (
            conv2d(&d / 0, c_in, c_out, 1, stride, 0, false),
            batch_norm(&d / 1, c_out, 1e-5, 0.1),
        )
    });
    nn::func_t(move |xs, train| {
        let ys = xs
            .apply(&conv1)
            .apply_t(&bn1, train)
            .relu()
            .apply(&conv2)
            .apply_t(&bn2, train);
        let shortcut = match &downsample {
            Some((conv, bn)) => xs.apply(conv).apply_t(bn, train),
            None => xs.shallow_clone(),
        };
        (ys + shortcut).relu()
    })
}

/// `layerN`: `blocks` basic blocks, the first one with `stride`.
fn layer(p: nn::Path, c_in: i64, c_out: i64, stride: i64, blocks: i64) -> nn::SequentialT {
    let mut seq = nn::seq_t().add(basic_block(&p / 0, c_in, c_out, stride));
    for i in 1..blocks {
        seq = seq.add(basic_block(&p / i, c_out, c_out, 1));
    }
    seq
}

/// Everything up to and including the global average pool: 512 features.
pub(crate) fn backbone(p: &nn::Path, in_channels: i64) -> Backbone {
    let conv1 = conv2d(p / "conv1", in_channels, 64, 7, 2, 3, false);
    let bn1 = batch_norm(p / "bn1", 64, 1e-5, 0.1);
    let layer1 = layer(p / "layer1", 64, 64, 1, 2);
    let layer2 = layer(p / "layer2", 64, 128, 2, 2);
    let layer3 = layer(p / "layer3", 128, 256, 2, 2);
    let layer4 = layer(p / "layer4", 256, 512, 2, 2);
    let net = nn::func_t(move |xs, train| {
        let ys = xs
            .apply(&conv1) // [B, 64, h/2, w/2]
            .apply_t(&bn1, train)
            .relu()
            .max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false) // [B, 64, h/4, w/4]
            .apply_t(&layer1, train)
            .apply_t(&layer2, train)
            .apply_t(&layer3, train)
            .apply_t(&layer4, train); // [B, 512, h/32, w/32]
        global_avg_pool(&ys) // [B, 512]
    });
    Backbone {
        net,
        out_features: 512,
    }
}

/// Builds torchvision's ResNet-18 under `p`, with dropout before `fc`.
///
/// # Shapes
/// `[batch, in_channels, h, w]` (h, w ≥ 32) → `[batch, num_classes]`
pub(crate) fn build(p: &nn::Path, cfg: &ModelConfig) -> nn::FuncT<'static> {
    let body = backbone(p, cfg.in_channels);
    backbone_with_linear_head(p, body, "fc", cfg.num_classes, cfg.dropout)
}

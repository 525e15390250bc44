//! `mobilenetv3-large`: MobileNetV3-Large with torchvision's layout and names.
//!
//! Howard et al., "Searching for MobileNetV3" (2019), Table 1, as
//! `torchvision.models.mobilenet_v3_large` (width 1.0, no dilation):
//!
//! - `features.0`: 3×3 conv stride 2 → BN → hardswish (`.0` conv, `.1` BN).
//! - `features.1`..`features.15`: inverted residual blocks, each a
//!   `block` sequence of an optional 1×1 expansion (`block.0`), a depthwise
//!   k×k convolution, an optional squeeze-excitation (`fc1`, `fc2` as 1×1
//!   convolutions with bias, ReLU, hardsigmoid) and a 1×1 projection; the
//!   input is added back where stride is 1 and widths match.
//! - `features.16`: 1×1 conv to 960 → BN → hardswish; global average pool.
//! - `classifier.0` (960 → 1280) → hardswish → dropout → `classifier.3`.
//!
//! BN uses torchvision's eps 0.001 and momentum 0.01. Minimum input 32×32.
//! In `dualnet` the backbone ends at the pool (960 features).

use tch::nn::{self, ModuleT};

use crate::config::ModelConfig;
use crate::layers::{Backbone, batch_norm, global_avg_pool, linear};

/// The first convolution's weight (for channel adaptation on import).
pub(crate) const INPUT_CONV: &str = "features.0.0.weight";

const BN_EPS: f64 = 0.001;
const BN_MOMENTUM: f64 = 0.01;
/// Width of the classifier's hidden layer.
const LAST_CHANNEL: i64 = 1280;

/// One row of the paper's Table 1.
struct Bneck {
    c_in: i64,
    kernel: i64,
    expanded: i64,
    c_out: i64,
    se: bool,
    hardswish: bool,
    stride: i64,
}

/// MobileNetV3-Large's inverted residual blocks (torchvision's order).
#[rustfmt::skip]
const LARGE: [Bneck; 15] = {
    const fn b(c_in: i64, kernel: i64, expanded: i64, c_out: i64, se: bool, hs: bool, stride: i64) -> Bneck {
        Bneck { c_in, kernel, expanded, c_out, se, hardswish: hs, stride }
    }
    [
        b(16, 3, 16, 16, false, false, 1),
        b(16, 3, 64, 24, false, false, 2),
        b(24, 3, 72, 24, false, false, 1),
        b(24, 5, 72, 40, true, false, 2),
        b(40, 5, 120, 40, true, false, 1),
        b(40, 5, 120, 40, true, false, 1),
        b(40, 3, 240, 80, false, true, 2),
        b(80, 3, 200, 80, false, true, 1),
        b(80, 3, 184, 80, false, true, 1),
        b(80, 3, 184, 80, false, true, 1),
        b(80, 3, 480, 112, true, true, 1),
        b(112, 3, 672, 112, true, true, 1),
        b(112, 5, 672, 160, true, true, 2),
        b(160, 5, 960, 160, true, true, 1),
        b(160, 5, 960, 160, true, true, 1),
    ]
};

/// torchvision's `_make_divisible(v, 8)`: round to a multiple of 8, never
/// more than 10 % down.
fn make_divisible(v: i64) -> i64 {
    let rounded = ((v + 4) / 8 * 8).max(8);
    if (rounded as f64) < 0.9 * v as f64 {
        rounded + 8
    } else {
        rounded
    }
}

/// Activation of a block.
#[derive(Clone, Copy)]
enum Act {
    Relu,
    Hardswish,
}

/// torchvision's `Conv2dNormActivation`: `.0` conv (no bias), `.1` BN, activation.
fn conv_bn_act(
    p: nn::Path,
    c_in: i64,
    c_out: i64,
    kernel: i64,
    stride: i64,
    groups: i64,
    act: Option<Act>,
) -> impl ModuleT + 'static {
    let config = nn::ConvConfig {
        stride,
        padding: (kernel - 1) / 2,
        groups,
        bias: false,
        ..Default::default()
    };
    let conv = nn::conv2d(&p / 0, c_in, c_out, kernel, config);
    let bn = batch_norm(&p / 1, c_out, BN_EPS, BN_MOMENTUM);
    nn::func_t(move |xs, train| {
        let ys = xs.apply(&conv).apply_t(&bn, train);
        match act {
            Some(Act::Relu) => ys.relu(),
            Some(Act::Hardswish) => ys.hardswish(),
            None => ys,
        }
    })
}

/// Squeeze-excitation: channel weights from the pooled map.
///
/// # Shapes
/// `[B, c, h, w]` → `[B, c, h, w]`
fn squeeze_excitation(p: nn::Path, channels: i64) -> impl ModuleT + 'static {
    let squeeze = make_divisible(channels / 4);
    let fc1 = nn::conv2d(&p / "fc1", channels, squeeze, 1, Default::default());
    let fc2 = nn::conv2d(&p / "fc2", squeeze, channels, 1, Default::default());
    nn::func_t(move |xs, _train| {
        let scale = xs
            .adaptive_avg_pool2d([1, 1])
            .apply(&fc1)
            .relu()
            .apply(&fc2)
            .hardsigmoid();
        xs * scale
    })
}

/// One inverted residual block (`features.{i}.block.*`).
fn inverted_residual(p: nn::Path, cfg: &Bneck) -> impl ModuleT + 'static {
    let act = if cfg.hardswish {
        Act::Hardswish
    } else {
        Act::Relu
    };
    let block = &p / "block";
    // torchvision numbers the parts that exist: expansion and SE are optional.
    let mut parts: Vec<Box<dyn ModuleT>> = Vec::new();
    if cfg.expanded != cfg.c_in {
        let expand = conv_bn_act(
            &block / parts.len(),
            cfg.c_in,
            cfg.expanded,
            1,
            1,
            1,
            Some(act),
        );
        parts.push(Box::new(expand));
    }
    let depthwise = conv_bn_act(
        &block / parts.len(),
        cfg.expanded,
        cfg.expanded,
        cfg.kernel,
        cfg.stride,
        cfg.expanded,
        Some(act),
    );
    parts.push(Box::new(depthwise));
    if cfg.se {
        parts.push(Box::new(squeeze_excitation(
            &block / parts.len(),
            cfg.expanded,
        )));
    }
    let project = conv_bn_act(&block / parts.len(), cfg.expanded, cfg.c_out, 1, 1, 1, None);
    parts.push(Box::new(project));
    let residual = cfg.stride == 1 && cfg.c_in == cfg.c_out;
    nn::func_t(move |xs, train| {
        let ys = parts
            .iter()
            .fold(xs.shallow_clone(), |ys, part| part.forward_t(&ys, train));
        if residual { ys + xs } else { ys }
    })
}

/// `features` and the global average pool: 960 features.
pub(crate) fn backbone(p: &nn::Path, in_channels: i64) -> Backbone {
    let f = p / "features";
    let first = LARGE[0].c_in;
    let mut features = nn::seq_t().add(conv_bn_act(
        &f / 0,
        in_channels,
        first,
        3,
        2,
        1,
        Some(Act::Hardswish),
    ));
    for (i, cfg) in LARGE.iter().enumerate() {
        features = features.add(inverted_residual(&f / (i + 1), cfg));
    }
    let last_in = LARGE[LARGE.len() - 1].c_out;
    let last_out = 6 * last_in;
    features = features.add(conv_bn_act(
        &f / (LARGE.len() + 1),
        last_in,
        last_out,
        1,
        1,
        1,
        Some(Act::Hardswish),
    ));
    let net = nn::func_t(move |xs, train| {
        global_avg_pool(&xs.apply_t(&features, train)) // [B, 960]
    });
    Backbone {
        net,
        out_features: last_out,
    }
}

/// Builds torchvision's MobileNetV3-Large under `p`, with `cfg.dropout` in
/// the classifier.
///
/// # Shapes
/// `[batch, in_channels, h, w]` (h, w ≥ 32) → `[batch, num_classes]`
pub(crate) fn build(p: &nn::Path, cfg: &ModelConfig) -> nn::FuncT<'static> {
    let body = backbone(p, cfg.in_channels);
    let c = p / "classifier";
    let fc0 = linear(&c / 0, body.out_features, LAST_CHANNEL);
    let fc3 = linear(&c / 3, LAST_CHANNEL, cfg.num_classes);
    let dropout = cfg.dropout;
    let features = body.net;
    nn::func_t(move |xs, train| {
        xs.apply_t(&features, train) // [B, 960]
            .apply(&fc0) // [B, 1280]
            .hardswish()
            .dropout(dropout, train)
            .apply(&fc3) // [B, num_classes]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_divisible_matches_torchvision() {
        // Squeeze widths torchvision computes for the SE blocks.
        assert_eq!(make_divisible(72 / 4), 24);
        assert_eq!(make_divisible(120 / 4), 32);
        assert_eq!(make_divisible(480 / 4), 120);
        assert_eq!(make_divisible(672 / 4), 168);
        assert_eq!(make_divisible(960 / 4), 240);
    }
}

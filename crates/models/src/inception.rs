//! `inceptionv3`: Inception v3 with torchvision's layout and parameter names.
//!
//! Szegedy et al., "Rethinking the Inception Architecture for Computer
//! Vision" (2015), as `torchvision.models.inception_v3(aux_logits=False,
//! transform_input=False)`: the stem `Conv2d_1a_3x3` … `Conv2d_4a_3x3`, the
//! blocks `Mixed_5b` … `Mixed_7c` (each branch a `BasicConv2d`: `conv` without
//! bias, `bn` with eps 0.001, ReLU), global average pool, dropout, `fc`.
//!
//! Not included: the auxiliary classifier (`AuxLogits.*`, only used as an
//! extra training loss; its weights are reported as unused on import) and
//! `transform_input` (it re-normalises ImageNet-normalised RGB, meaningless
//! for spectrograms). `tch::vision::inception` has the same names but fixes
//! 3 input channels.
//!
//! Minimum input 75×75, as torchvision. In `dualnet` the backbone ends at
//! the pool (2048 features).

use tch::Tensor;
use tch::nn::{self, ModuleT};

use crate::config::ModelConfig;
use crate::layers::{Backbone, backbone_with_linear_head, batch_norm, global_avg_pool};

/// The first convolution's weight (for channel adaptation on import).
pub(crate) const INPUT_CONV: &str = "Conv2d_1a_3x3.conv.weight";

/// torchvision's `BasicConv2d`: `conv` (no bias) → `bn` (eps 0.001) → ReLU.
///
/// `kernel` and `padding` are `[height, width]`.
fn basic_conv(
    p: nn::Path,
    c_in: i64,
    c_out: i64,
    kernel: [i64; 2],
    stride: i64,
    padding: [i64; 2],
) -> impl ModuleT + 'static {
    let config = nn::ConvConfigND::<[i64; 2]> {
        stride: [stride, stride],
        padding,
        bias: false,
        ..Default::default()
    };
    let conv = nn::conv(&p / "conv", c_in, c_out, kernel, config);
    let bn = batch_norm(&p / "bn", c_out, 0.001, 0.1);
    nn::func_t(move |xs, train| xs.apply(&conv).apply_t(&bn, train).relu())
}

/// A square `basic_conv`.
fn conv_sq(
    p: nn::Path,
    c_in: i64,
    c_out: i64,
    k: i64,
    stride: i64,
    pad: i64,
) -> impl ModuleT + 'static {
    basic_conv(p, c_in, c_out, [k, k], stride, [pad, pad])
}

/// 3×3 average pool, stride 1, padding counted (torch's `avg_pool2d` default).
fn avg_pool_3x3(xs: &Tensor) -> Tensor {
    xs.avg_pool2d([3, 3], [1, 1], [1, 1], false, true, None)
}

/// 3×3 max pool, stride 2, no padding.
fn max_pool_3x3_s2(xs: &Tensor) -> Tensor {
    xs.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], false)
}

/// Applies a chain of modules.
fn chain(xs: &Tensor, modules: &[&dyn ModuleT], train: bool) -> Tensor {
    modules
        .iter()
        .fold(xs.shallow_clone(), |ys, m| m.forward_t(&ys, train))
}

/// `Mixed_5b/c/d`: 35×35 block, `64 + 64 + 96 + pool` channels out.
fn inception_a(p: nn::Path, c_in: i64, pool: i64) -> impl ModuleT + 'static {
    let b1 = conv_sq(&p / "branch1x1", c_in, 64, 1, 1, 0);
    let b5_1 = conv_sq(&p / "branch5x5_1", c_in, 48, 1, 1, 0);
    let b5_2 = conv_sq(&p / "branch5x5_2", 48, 64, 5, 1, 2);
    let b3_1 = conv_sq(&p / "branch3x3dbl_1", c_in, 64, 1, 1, 0);
    let b3_2 = conv_sq(&p / "branch3x3dbl_2", 64, 96, 3, 1, 1);
    let b3_3 = conv_sq(&p / "branch3x3dbl_3", 96, 96, 3, 1, 1);
    let bp = conv_sq(&p / "branch_pool", c_in, pool, 1, 1, 0);
    nn::func_t(move |xs, t| {
        let branches = [
            xs.apply_t(&b1, t),
            chain(xs, &[&b5_1, &b5_2], t),
            chain(xs, &[&b3_1, &b3_2, &b3_3], t),
            avg_pool_3x3(xs).apply_t(&bp, t),
        ];
        Tensor::cat(&branches, 1)
    })
}

/// `Mixed_6a`: 35×35 → 17×17, `384 + 96 + c_in` channels out.
fn inception_b(p: nn::Path, c_in: i64) -> impl ModuleT + 'static {
    let b3 = conv_sq(&p / "branch3x3", c_in, 384, 3, 2, 0);
    let b3d_1 = conv_sq(&p / "branch3x3dbl_1", c_in, 64, 1, 1, 0);
    let b3d_2 = conv_sq(&p / "branch3x3dbl_2", 64, 96, 3, 1, 1);
    let b3d_3 = conv_sq(&p / "branch3x3dbl_3", 96, 96, 3, 2, 0);
    nn::func_t(move |xs, t| {
        let branches = [
            xs.apply_t(&b3, t),
            chain(xs, &[&b3d_1, &b3d_2, &b3d_3], t),
            max_pool_3x3_s2(xs),
        ];
        Tensor::cat(&branches, 1)
    })
}

/// `Mixed_6b..e`: 17×17 block with factorised 7×7 convolutions, 768 out.
fn inception_c(p: nn::Path, c_in: i64, c7: i64) -> impl ModuleT + 'static {
    let (row, col) = (([1, 7], [0, 3]), ([7, 1], [3, 0]));
    let b1 = conv_sq(&p / "branch1x1", c_in, 192, 1, 1, 0);
    let b7_1 = conv_sq(&p / "branch7x7_1", c_in, c7, 1, 1, 0);
    let b7_2 = basic_conv(&p / "branch7x7_2", c7, c7, row.0, 1, row.1);
    let b7_3 = basic_conv(&p / "branch7x7_3", c7, 192, col.0, 1, col.1);
    let d_1 = conv_sq(&p / "branch7x7dbl_1", c_in, c7, 1, 1, 0);
    let d_2 = basic_conv(&p / "branch7x7dbl_2", c7, c7, col.0, 1, col.1);
    let d_3 = basic_conv(&p / "branch7x7dbl_3", c7, c7, row.0, 1, row.1);
    let d_4 = basic_conv(&p / "branch7x7dbl_4", c7, c7, col.0, 1, col.1);
    let d_5 = basic_conv(&p / "branch7x7dbl_5", c7, 192, row.0, 1, row.1);
    let bp = conv_sq(&p / "branch_pool", c_in, 192, 1, 1, 0);
    nn::func_t(move |xs, t| {
        let branches = [
            xs.apply_t(&b1, t),
            chain(xs, &[&b7_1, &b7_2, &b7_3], t),
            chain(xs, &[&d_1, &d_2, &d_3, &d_4, &d_5], t),
            avg_pool_3x3(xs).apply_t(&bp, t),
        ];
        Tensor::cat(&branches, 1)
    })
}

/// `Mixed_7a`: 17×17 → 8×8, `320 + 192 + c_in` channels out.
fn inception_d(p: nn::Path, c_in: i64) -> impl ModuleT + 'static {
    let b3_1 = conv_sq(&p / "branch3x3_1", c_in, 192, 1, 1, 0);
    let b3_2 = conv_sq(&p / "branch3x3_2", 192, 320, 3, 2, 0);
    let b7_1 = conv_sq(&p / "branch7x7x3_1", c_in, 192, 1, 1, 0);
    let b7_2 = basic_conv(&p / "branch7x7x3_2", 192, 192, [1, 7], 1, [0, 3]);
    let b7_3 = basic_conv(&p / "branch7x7x3_3", 192, 192, [7, 1], 1, [3, 0]);
    let b7_4 = conv_sq(&p / "branch7x7x3_4", 192, 192, 3, 2, 0);
    nn::func_t(move |xs, t| {
        let branches = [
            chain(xs, &[&b3_1, &b3_2], t),
            chain(xs, &[&b7_1, &b7_2, &b7_3, &b7_4], t),
            max_pool_3x3_s2(xs),
        ];
        Tensor::cat(&branches, 1)
    })
}

/// `Mixed_7b/c`: 8×8 block with split 1×3 / 3×1 convolutions, 2048 out.
fn inception_e(p: nn::Path, c_in: i64) -> impl ModuleT + 'static {
    let b1 = conv_sq(&p / "branch1x1", c_in, 320, 1, 1, 0);
    let b3_1 = conv_sq(&p / "branch3x3_1", c_in, 384, 1, 1, 0);
    let b3_2a = basic_conv(&p / "branch3x3_2a", 384, 384, [1, 3], 1, [0, 1]);
    let b3_2b = basic_conv(&p / "branch3x3_2b", 384, 384, [3, 1], 1, [1, 0]);
    let d_1 = conv_sq(&p / "branch3x3dbl_1", c_in, 448, 1, 1, 0);
    let d_2 = conv_sq(&p / "branch3x3dbl_2", 448, 384, 3, 1, 1);
    let d_3a = basic_conv(&p / "branch3x3dbl_3a", 384, 384, [1, 3], 1, [0, 1]);
    let d_3b = basic_conv(&p / "branch3x3dbl_3b", 384, 384, [3, 1], 1, [1, 0]);
    let bp = conv_sq(&p / "branch_pool", c_in, 192, 1, 1, 0);
    nn::func_t(move |xs, t| {
        let b3 = xs.apply_t(&b3_1, t);
        let d = chain(xs, &[&d_1, &d_2], t);
        let branches = [
            xs.apply_t(&b1, t),
            b3.apply_t(&b3_2a, t),
            b3.apply_t(&b3_2b, t),
            d.apply_t(&d_3a, t),
            d.apply_t(&d_3b, t),
            avg_pool_3x3(xs).apply_t(&bp, t),
        ];
        Tensor::cat(&branches, 1)
    })
}

/// Everything up to and including the global average pool: 2048 features.
pub(crate) fn backbone(p: &nn::Path, in_channels: i64) -> Backbone {
    let net = nn::seq_t()
        .add(conv_sq(p / "Conv2d_1a_3x3", in_channels, 32, 3, 2, 0)) // 299 → 149
        .add(conv_sq(p / "Conv2d_2a_3x3", 32, 32, 3, 1, 0)) // → 147
        .add(conv_sq(p / "Conv2d_2b_3x3", 32, 64, 3, 1, 1))
        .add_fn(max_pool_3x3_s2) // → 73
        .add(conv_sq(p / "Conv2d_3b_1x1", 64, 80, 1, 1, 0))
        .add(conv_sq(p / "Conv2d_4a_3x3", 80, 192, 3, 1, 0)) // → 71
        .add_fn(max_pool_3x3_s2) // → 35
        .add(inception_a(p / "Mixed_5b", 192, 32)) // 256 channels
        .add(inception_a(p / "Mixed_5c", 256, 64)) // 288
        .add(inception_a(p / "Mixed_5d", 288, 64)) // 288
        .add(inception_b(p / "Mixed_6a", 288)) // 768, → 17
        .add(inception_c(p / "Mixed_6b", 768, 128))
        .add(inception_c(p / "Mixed_6c", 768, 160))
        .add(inception_c(p / "Mixed_6d", 768, 160))
        .add(inception_c(p / "Mixed_6e", 768, 192))
        .add(inception_d(p / "Mixed_7a", 768)) // 1280, → 8
        .add(inception_e(p / "Mixed_7b", 1280)) // 2048
        .add(inception_e(p / "Mixed_7c", 2048))
        .add_fn(global_avg_pool); // [B, 2048]
    Backbone {
        net: nn::func_t(move |xs, train| xs.apply_t(&net, train)),
        out_features: 2048,
    }
}

/// Builds torchvision's Inception v3 (without auxiliary head) under `p`.
///
/// # Shapes
/// `[batch, in_channels, h, w]` (h, w ≥ 75) → `[batch, num_classes]`
pub(crate) fn build(p: &nn::Path, cfg: &ModelConfig) -> nn::FuncT<'static> {
    let body = backbone(p, cfg.in_channels);
    backbone_with_linear_head(p, body, "fc", cfg.num_classes, cfg.dropout)
}

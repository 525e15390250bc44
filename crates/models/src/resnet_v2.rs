//! `resnet152v2`: pre-activation ResNet-152 v2, as Keras' `ResNet152V2`, in torch layout.
//!
//! He et al., "Identity Mappings in Deep Residual Networks" (2016). The
//! structure follows `keras.applications.ResNet152V2` exactly (so its
//! parameter count, 60,380,648 with BN statistics for 1000 classes, matches);
//! only the layout is torch's (NCHW, `[out, in, kh, kw]` kernels, symmetric
//! padding, which equals Keras' explicit `ZeroPadding2D` here):
//!
//! - stem: `conv1` 7×7 stride 2 *with* bias, no BN (pre-activation), 3×3 max
//!   pool stride 2.
//! - `layer1`..`layer4` with 3, 8, 36, 3 bottleneck blocks of width 64, 128,
//!   256, 512 (output 4× that). As in Keras v2, the stride 2 sits in the
//!   *last* block of layers 1–3 (layer 4 keeps its resolution), and the
//!   first block of each layer has a 1×1 projection shortcut.
//! - block `layerN.i`: `bn1` → ReLU = pre-activation *a*; shortcut =
//!   `downsample(a)` (1×1 conv with bias) in the first block, else the input
//!   itself (1×1 max pool with the block's stride, i.e. subsampling, when
//!   strided); `conv1` 1×1 → `bn2` → ReLU → `conv2` 3×3 (stride) → `bn3` →
//!   ReLU → `conv3` 1×1 with bias; sum.
//! - `post_bn` → ReLU → global average pool → dropout → `fc`.
//!
//! BN epsilon is Keras' 1.001e-5; momentum is torch's default 0.1 (Keras'
//! 0.99). Names map one-to-one onto Keras' (`conv2_block1_preact_bn` =
//! `layer1.0.bn1`, `conv2_block1_0_conv` = `layer1.0.downsample`,
//! `conv2_block1_1_conv` = `layer1.0.conv1`, `conv2_block1_1_bn` =
//! `layer1.0.bn2`, …), so Keras weights can be converted by renaming and
//! transposing kernels (HWIO → OIHW); no converter ships here.
//!
//! Minimum input 32×32.

use tch::nn::{self, ModuleT};

use crate::config::ModelConfig;
use crate::layers::{Backbone, backbone_with_linear_head, batch_norm, conv2d, global_avg_pool};

/// The first convolution's weight (for channel adaptation on import).
pub(crate) const INPUT_CONV: &str = "conv1.weight";

/// Keras' batch-norm epsilon in the ResNet v2 family.
const BN_EPS: f64 = 1.001e-5;

/// Blocks per layer of ResNet-152 v2.
const BLOCKS: [i64; 4] = [3, 8, 36, 3];

/// One pre-activation bottleneck block.
///
/// # Shapes
/// `[B, c_in, h, w]` → `[B, 4 · width, h / stride, w / stride]`
fn block(
    p: nn::Path,
    c_in: i64,
    width: i64,
    stride: i64,
    projection: bool,
) -> impl ModuleT + 'static {
    let c_out = 4 * width;
    let bn1 = batch_norm(&p / "bn1", c_in, BN_EPS, 0.1);
    let downsample = projection.then(|| conv2d(&p / "downsample", c_in, c_out, 1, stride, 0, true));
    let conv1 = conv2d(&p / "conv1", c_in, width, 1, 1, 0, false);
    let bn2 = batch_norm(&p / "bn2", width, BN_EPS, 0.1);
    let conv2 = conv2d(&p / "conv2", width, width, 3, stride, 1, false);
    let bn3 = batch_norm(&p / "bn3", width, BN_EPS, 0.1);
    let conv3 = conv2d(&p / "conv3", width, c_out, 1, 1, 0, true);
    nn::func_t(move |xs, train| {
        let preact = xs.apply_t(&bn1, train).relu();
        let shortcut = match &downsample {
            Some(conv) => preact.apply(conv),
            // Keras: MaxPooling2D(1, strides=stride), i.e. subsampling.
            None if stride > 1 => xs.max_pool2d([1, 1], [stride, stride], [0, 0], [1, 1], false),
            None => xs.shallow_clone(),
        };
        let ys = preact
            .apply(&conv1)
            .apply_t(&bn2, train)
            .relu()
            .apply(&conv2)
            .apply_t(&bn3, train)
            .relu()
            .apply(&conv3);
        ys + shortcut
    })
}

/// `layerN`: a projection block, plain blocks, and the strided block last.
fn layer(p: nn::Path, c_in: i64, width: i64, blocks: i64, stride: i64) -> nn::SequentialT {
    let mut seq = nn::seq_t();
    let mut c = c_in;
    for i in 0..blocks {
        let block_stride = if i == blocks - 1 { stride } else { 1 };
        seq = seq.add(block(&p / i, c, width, block_stride, i == 0));
        c = 4 * width;
    }
    seq
}

/// Everything up to and including the global average pool: 2048 features.
pub(crate) fn backbone(p: &nn::Path, in_channels: i64) -> Backbone {
    let conv1 = conv2d(p / "conv1", in_channels, 64, 7, 2, 3, true);
    let layer1 = layer(p / "layer1", 64, 64, BLOCKS[0], 2);
    let layer2 = layer(p / "layer2", 256, 128, BLOCKS[1], 2);
    let layer3 = layer(p / "layer3", 512, 256, BLOCKS[2], 2);
    let layer4 = layer(p / "layer4", 1024, 512, BLOCKS[3], 1);
    let post_bn = batch_norm(p / "post_bn", 2048, BN_EPS, 0.1);
    let net = nn::func_t(move |xs, train| {
        let ys = xs
            .apply(&conv1) // [B, 64, h/2, w/2]
            .max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false) // [B, 64, h/4, w/4]
            .apply_t(&layer1, train) // [B, 256, h/8, w/8]
            .apply_t(&layer2, train) // [B, 512, h/16, w/16]
            .apply_t(&layer3, train) // [B, 1024, h/32, w/32]
            .apply_t(&layer4, train) // [B, 2048, h/32, w/32]
            .apply_t(&post_bn, train)
            .relu();
        global_avg_pool(&ys) // [B, 2048]
    });
    Backbone {
        net,
        out_features: 2048,
    }
}

/// Builds ResNet-152 v2 under `p`.
///
/// # Shapes
/// `[batch, in_channels, h, w]` (h, w ≥ 32) → `[batch, num_classes]`
pub(crate) fn build(p: &nn::Path, cfg: &ModelConfig) -> nn::FuncT<'static> {
    let body = backbone(p, cfg.in_channels);
    backbone_with_linear_head(p, body, "fc", cfg.num_classes, cfg.dropout)
}

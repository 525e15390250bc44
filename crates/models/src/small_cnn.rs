//! `small-cnn`: the fast default for log-mel / log-STFT spectrograms.
//!
//! Four blocks of `conv3x3 → 2×2 max pool → BN → ReLU` with widths
//! 32-64-128-256 (times `width_multiplier`); the last block, at 1/8 of the
//! input resolution, starts with an extra `conv3x3 → BN → ReLU`.
//!
//! Two choices keep it fast on CPU. Pooling right after the convolution
//! lets batch norm and ReLU run on a quarter of the values (a quarter less
//! time per step); max pooling commutes with ReLU and with batch norm's
//! per-channel affine map while its scale is positive, so this is nearly the
//! usual `conv → BN → ReLU → pool`. And only the last block has a second
//! convolution: one in an earlier block would cost twice that block's first
//! convolution at four times the area, for little gain on datasets of a few
//! thousand recordings.
//!
//! **Frequency-aware pooling.** An image CNN averages the last feature map
//! over both axes, which throws away *where in frequency* a pattern is. On a
//! spectrogram that position matters (wheezes are tonal bands, crackles are
//! broadband clicks), and the time position does not. So the head pools the
//! frequency axis only down to [`FREQ_BANDS`] coarse bands and pools time
//! completely, by both mean (sustained sounds) and max (short events):
//! `[B, C, F, T] → [B, 2 · C · FREQ_BANDS]`, then dropout and one linear layer.
//! With [`TimePooling::Attention`] the mean over time becomes a learned
//! attention-weighted mean ([`attention_band_pool`]); the width is the same.
//!
//! Size and speed (1 input channel, width 1.0): 982,754 parameters for 2
//! classes (3.9 MB as f32). A training step (forward, backward, Adam) on a
//! batch of 32 × [1, 128, 128] takes about 1.8 s of CPU time on one thread
//! (0.45 s at 64 × 64), so an epoch of 10,000 spectrograms costs about 9
//! CPU-minutes at 128 × 128 (2.3 at 64 × 64): roughly 5 minutes on two
//! cores. `cargo run -p lungsound-models --example step_timing` measures it.
//! Minimum input 16×16 (four poolings by 2).
//!
//! Names: `blocks.{i}.conv1`, `blocks.{i}.bn1` (i = 0..3), `blocks.3.conv2`,
//! `blocks.3.bn2`, `fc`; with attention pooling also `time_attention.weight`
//! (`[FREQ_BANDS, C]`) and `time_attention.bias` (`[FREQ_BANDS]`).

use tch::Tensor;
use tch::nn::{self, ModuleT};

use crate::config::{ModelConfig, TimePooling};
use crate::layers::{Backbone, backbone_with_linear_head, batch_norm, conv2d};

/// Widths of the four blocks at `width_multiplier` 1.0.
pub const WIDTHS: [i64; 4] = [32, 64, 128, 256];

/// Frequency bands kept by the pooling head (see the module docs).
pub const FREQ_BANDS: i64 = 4;

/// The name of the first convolution's weight (for channel adaptation on import).
pub(crate) const INPUT_CONV: &str = "blocks.0.conv1.weight";

/// `conv3x3 → max pool 2×2 → BN → ReLU`, with `conv3x3 → BN → ReLU` in
/// front if `double`.
///
/// # Shapes
/// `[B, c_in, h, w]` → `[B, c_out, h / 2, w / 2]`
fn block(p: nn::Path, c_in: i64, c_out: i64, double: bool) -> impl ModuleT + 'static {
    let conv1 = conv2d(&p / "conv1", c_in, c_out, 3, 1, 1, false);
    let bn1 = batch_norm(&p / "bn1", c_out, 1e-5, 0.1);
    let second = double.then(|| {
        let conv2 = conv2d(&p / "conv2", c_out, c_out, 3, 1, 1, false);
        let bn2 = batch_norm(&p / "bn2", c_out, 1e-5, 0.1);
        (conv2, bn2)
    });
    nn::func_t(move |xs, train| {
        let pool = |t: Tensor| t.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        match &second {
            None => pool(xs.apply(&conv1)).apply_t(&bn1, train).relu(),
            Some((conv2, bn2)) => {
                let ys = xs.apply(&conv1).apply_t(&bn1, train).relu(); // [B, c_out, h, w]
                pool(ys.apply(conv2)).apply_t(bn2, train).relu()
            }
        }
    })
}

/// Frequency-aware pooling: coarse frequency bands, mean and max over time.
///
/// # Shapes
/// `[batch, channels, freq, time]` → `[batch, 2 · channels · FREQ_BANDS]`
pub fn freq_band_pool(xs: &Tensor) -> Tensor {
    let bands = freq_bands(xs);
    let mean = bands.mean_dim(3, false, bands.kind()); // [B, C, bands]
    with_max_over_time(mean, &bands)
}

/// The average within each of [`FREQ_BANDS`] frequency bands, time kept.
///
/// # Shapes
/// `[batch, channels, freq, time]` → `[batch, channels, FREQ_BANDS, time]`
fn freq_bands(xs: &Tensor) -> Tensor {
    let time = xs.size()[3];
    xs.adaptive_avg_pool2d([FREQ_BANDS, time])
}

/// A pooled mean of `bands` with their max over time beside it, flattened.
///
/// # Shapes
/// `mean` `[batch, channels, FREQ_BANDS]`, `bands` `[batch, channels, FREQ_BANDS, time]`
/// → `[batch, 2 · channels · FREQ_BANDS]`
fn with_max_over_time(mean: Tensor, bands: &Tensor) -> Tensor {
    let (max, _) = bands.max_dim(3, false); // [B, C, bands]
    Tensor::cat(&[mean, max], 1).flatten(1, -1)
}

/// Frequency bands as in [`freq_band_pool`], then a learned
/// attention-weighted mean and the max over time.
///
/// Band `k` scores frame `t` by `Σ_c weight[k, c] · x[c, k, t] + bias[k]`; a
/// softmax over time turns the scores into weights. With `weight` and `bias`
/// zero the weights are uniform and this equals [`freq_band_pool`].
///
/// # Shapes
/// `xs` `[batch, channels, freq, time]`, `weight` `[FREQ_BANDS, channels]`,
/// `bias` `[FREQ_BANDS]` → `[batch, 2 · channels · FREQ_BANDS]`
pub fn attention_band_pool(xs: &Tensor, weight: &Tensor, bias: &Tensor) -> Tensor {
    let bands = freq_bands(xs); // [B, C, bands, T]
    let kind = bands.kind();
    let per_channel = weight.transpose(0, 1).unsqueeze(0).unsqueeze(-1); // [1, C, bands, 1]
    let scores = (&bands * per_channel).sum_dim_intlist(1, false, kind) + bias.view([1, -1, 1]); // [B, bands, T]
    let attention = scores.softmax(-1, kind).unsqueeze(1); // [B, 1, bands, T]
    let mean = (&bands * attention).sum_dim_intlist(3, false, kind); // [B, C, bands]
    with_max_over_time(mean, &bands)
}

/// The widths for a width multiplier (rounded, at least 4 channels).
pub fn widths(width_multiplier: f64) -> [i64; 4] {
    WIDTHS.map(|w| ((w as f64 * width_multiplier).round() as i64).max(4))
}

/// The convolutional body with frequency-aware pooling over time by
/// `time_pooling`.
pub(crate) fn backbone(
    p: &nn::Path,
    in_channels: i64,
    width_multiplier: f64,
    time_pooling: TimePooling,
) -> Backbone {
    let widths = widths(width_multiplier);
    let blocks_path = p / "blocks";
    let mut blocks = nn::seq_t();
    let mut c_in = in_channels;
    for (i, &c_out) in widths.iter().enumerate() {
        blocks = blocks.add(block(&blocks_path / i, c_in, c_out, i == widths.len() - 1));
        c_in = c_out;
    }
    let net = match time_pooling {
        TimePooling::MeanMax => {
            nn::func_t(move |xs, train| freq_band_pool(&xs.apply_t(&blocks, train)))
        }
        TimePooling::Attention => {
            // Zero scores: the head starts as mean-max pooling.
            let attention = p / "time_attention";
            let weight = attention.zeros("weight", &[FREQ_BANDS, c_in]);
            let bias = attention.zeros("bias", &[FREQ_BANDS]);
            nn::func_t(move |xs, train| {
                attention_band_pool(&xs.apply_t(&blocks, train), &weight, &bias)
            })
        }
    };
    Backbone {
        net,
        out_features: 2 * c_in * FREQ_BANDS,
    }
}

/// Builds `small-cnn` under `p`.
///
/// # Shapes
/// `[batch, in_channels, freq, time]` (freq, time ≥ 16) → `[batch, num_classes]`
pub(crate) fn build(p: &nn::Path, cfg: &ModelConfig) -> nn::FuncT<'static> {
    let body = backbone(p, cfg.in_channels, cfg.width_multiplier, cfg.time_pooling);
    backbone_with_linear_head(p, body, "fc", cfg.num_classes, cfg.dropout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// A tensor's values, flattened.
    fn values(t: &Tensor) -> Vec<f32> {
        t.reshape([-1]).try_into().unwrap_or_default()
    }

    #[test]
    fn freq_band_pool_keeps_band_position() {
        // Energy in the top band only: the pooled vector must say which band.
        let xs = Tensor::zeros([1, 1, 8, 5], (Kind::Float, Device::Cpu));
        let _ = xs.narrow(2, 6, 2).fill_(1.0);
        let pooled = freq_band_pool(&xs);
        assert_eq!(pooled.size(), [1, 2 * FREQ_BANDS]);
        assert_eq!(values(&pooled), [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn attention_pool_starts_as_mean_max_and_follows_its_scores() {
        let xs = Tensor::randn([2, 3, 8, 6], (Kind::Float, Device::Cpu));
        let zero_w = Tensor::zeros([FREQ_BANDS, 3], (Kind::Float, Device::Cpu));
        let zero_b = Tensor::zeros([FREQ_BANDS], (Kind::Float, Device::Cpu));
        let pooled = attention_band_pool(&xs, &zero_w, &zero_b);
        assert_eq!(pooled.size(), [2, 2 * 3 * FREQ_BANDS]);
        assert!(pooled.allclose(&freq_band_pool(&xs), 1e-6, 1e-6, false));

        // One channel, one band with energy, frames 0..4 at 1 and frame 4 at 5: a
        // large positive weight on that channel puts nearly all attention on frame 4.
        let xs = Tensor::zeros([1, 1, 4, 5], (Kind::Float, Device::Cpu));
        let _ = xs.narrow(2, 3, 1).fill_(1.0);
        let _ = xs.narrow(2, 3, 1).narrow(3, 4, 1).fill_(5.0);
        let weight = Tensor::full([FREQ_BANDS, 1], 10.0, (Kind::Float, Device::Cpu));
        let zero_b = Tensor::zeros([FREQ_BANDS], (Kind::Float, Device::Cpu));
        let attended = values(&attention_band_pool(&xs, &weight, &zero_b));
        let plain = values(&freq_band_pool(&xs));
        assert_eq!(plain[3], 1.8); // the plain mean of [1, 1, 1, 1, 5]
        assert!((attended[3] - 5.0).abs() < 1e-3, "{attended:?}");
        assert_eq!(attended[4..], plain[4..]); // the max is unchanged
        // A bias alone shifts every frame's score equally: still the plain mean.
        let bias = Tensor::full([FREQ_BANDS], 3.0, (Kind::Float, Device::Cpu));
        let zero_w = Tensor::zeros([FREQ_BANDS, 1], (Kind::Float, Device::Cpu));
        let biased = values(&attention_band_pool(&xs, &zero_w, &bias));
        assert!((biased[3] - 1.8).abs() < 1e-6);
    }

    #[test]
    fn widths_scale_and_stay_positive() {
        assert_eq!(widths(1.0), WIDTHS);
        assert_eq!(widths(0.5), [16, 32, 64, 128]);
        assert_eq!(widths(0.01), [4, 4, 4, 4]);
    }
}

//! Value and axis scales of the spectrogram figure: values in dB for display, and round ticks.

use lungsound_features::FeatureKind;
use ndarray::Array2;

/// `values` in dB for display (see [`write_spectrogram_figure`](super::write_spectrogram_figure)), or as
/// they are when `on_display_scale` (already dB, or PCEN). Non-finite values become `-inf` so
/// they take the lowest colour.
pub(super) fn display_db(
    values: &Array2<f32>,
    kind: FeatureKind,
    on_display_scale: bool,
) -> Array2<f32> {
    if on_display_scale {
        return values.mapv(|v| if v.is_finite() { v } else { f32::NEG_INFINITY });
    }
    // (linear value, amin, dB per decade): librosa's amin for power and amplitude.
    let linear = |v: f32| -> f64 {
        let v = f64::from(v);
        match kind {
            FeatureKind::Mel | FeatureKind::Stft => v,
            FeatureKind::LogStft => v.exp_m1(),
        }
    };
    let (amin, per_decade) = match kind {
        FeatureKind::Mel => (1e-10, 10.0),
        FeatureKind::Stft | FeatureKind::LogStft => (1e-5, 20.0),
    };
    let max = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| linear(v))
        .fold(0.0_f64, f64::max);
    let reference = max.max(amin).log10();
    values.mapv(|v| {
        if v.is_finite() {
            (per_decade * (linear(v).max(amin).log10() - reference)) as f32
        } else {
            f32::NEG_INFINITY
        }
    })
}

/// "Nice" ticks (steps of 1, 2, 2.5 or 5 × 10^k) inside `[lo, hi]`, about
/// `target` of them, with the decimals their step needs.
pub(super) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, usize) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (vec![lo], 0);
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let decimals = (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let ticks = (first..=last).map(|i| i as f64 * step).collect();
    (ticks, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn nice_ticks_are_round() {
        assert_eq!(
            nice_ticks(0.0, 4000.0, 5).0,
            vec![0.0, 1000.0, 2000.0, 3000.0, 4000.0]
        );
        assert_eq!(
            nice_ticks(-80.0, 0.0, 5).0,
            vec![-80.0, -60.0, -40.0, -20.0, 0.0]
        );
        assert_eq!(nice_ticks(0.0, 1.3, 5), (vec![0.0, 0.5, 1.0], 1));
        assert_eq!(
            nice_ticks(0.0, 1.3, 6),
            (vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25], 2)
        );
    }

    #[test]
    fn display_db_is_relative_to_the_maximum() {
        let power = array![[1.0_f32, 0.1], [0.01, 0.0]];
        let db = display_db(&power, FeatureKind::Mel, false);
        assert!((db[[0, 0]] - 0.0).abs() < 1e-5);
        assert!((db[[0, 1]] + 10.0).abs() < 1e-4);
        assert!((db[[1, 0]] + 20.0).abs() < 1e-4);
        assert!((db[[1, 1]] + 100.0).abs() < 1e-3);
        let magnitude = array![[2.0_f32, 0.2]];
        let db = display_db(&magnitude, FeatureKind::Stft, false);
        assert!((db[[0, 1]] + 20.0).abs() < 1e-4);
        let log = magnitude.mapv(|v| v.ln_1p());
        let db = display_db(&log, FeatureKind::LogStft, false);
        assert!((db[[0, 1]] + 20.0).abs() < 1e-3, "{db}");
    }
}

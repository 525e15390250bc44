//! Resampling: length rule, time alignment, frequency, passband gain, stopband attenuation.

use lungsound_audio::{resample, resampled_len};
use lungsound_testutil::{sine, white_noise};

use crate::{max_abs_diff, rms};

/// Rate pairs covering down/up, integer and fractional ratios, and (44.1k→16001) the
/// non-tabulated fallback path.
const PAIRS: [(u32, u32); 8] = [
    (44_100, 8_000),
    (8_000, 44_100),
    (4_000, 8_000),
    (8_000, 4_000),
    (16_000, 8_000),
    (8_000, 22_050),
    (48_000, 44_100),
    (44_100, 16_001),
];

/// Samples skipped at each end of the output (filter edge effects with zero history).
const EDGE: usize = 600;

#[test]
fn output_length_is_rounded_ratio() {
    for (from, to) in PAIRS {
        for len in [1usize, 2, 3, 99, 441, 1000, 12_345] {
            let out = resample(&vec![0.1; len], from, to).expect("resample");
            let expected = (len as f64 * f64::from(to) / f64::from(from)).round() as usize;
            assert_eq!(out.len(), expected, "{from}->{to}, len {len}");
            assert_eq!(resampled_len(len, from, to), expected);
        }
    }
}

#[test]
fn sine_keeps_phase_amplitude_and_frequency() {
    for (from, to) in PAIRS {
        let nyquist = f64::from(from.min(to)) / 2.0;
        for rel in [0.05, 0.3, 0.7] {
            let f = rel * nyquist;
            let x = sine(f, from, 1.0, 0.8);
            let y = resample(&x, from, to).expect("resample");
            let expected = sine(f, to, 1.0, 0.8);
            assert_eq!(y.len(), expected.len());
            let err = max_abs_diff(
                &y[EDGE..y.len() - EDGE],
                &expected[EDGE..expected.len() - EDGE],
            );
            // 1% of the amplitude: a phase error of 0.01 sample at 0.7 Nyquist would already
            // cost 0.8 · π · 0.7 · 0.01 ≈ 0.018.
            assert!(err < 0.004, "{from}->{to} at {f:.0} Hz: max error {err}");
        }
    }
}

#[test]
fn dc_and_impulse_are_preserved_and_centred() {
    // DC gain 1.
    let y = resample(&vec![0.5; 8000], 44_100, 8_000).expect("resample");
    assert!(
        y[EDGE..y.len() - EDGE]
            .iter()
            .all(|v| (v - 0.5).abs() < 1e-4)
    );
    // An impulse at input 441·k lands on output 80·k, with a symmetric response around it.
    let mut x = vec![0.0f32; 44_100];
    x[441 * 50] = 1.0;
    let y = resample(&x, 44_100, 8_000).expect("resample");
    let peak = (0..y.len())
        .max_by(|&a, &b| y[a].total_cmp(&y[b]))
        .expect("non-empty");
    assert_eq!(peak, 80 * 50);
    for j in 1..40 {
        assert!(
            (y[peak - j] - y[peak + j]).abs() < 1e-5,
            "asymmetric at ±{j}"
        );
    }
}

#[test]
fn frequency_is_preserved_by_zero_crossings() {
    for (from, to) in PAIRS {
        let f = 0.2 * f64::from(from.min(to)) / 2.0;
        let y = resample(&sine(f, from, 2.0, 0.5), from, to).expect("resample");
        let measured = crossing_frequency(&y[EDGE..y.len() - EDGE], to);
        assert!(
            (measured - f).abs() < 1e-3 * f,
            "{from}->{to}: {f} Hz became {measured} Hz"
        );
    }
}

#[test]
fn passband_gain_is_within_one_percent() {
    for (from, to) in PAIRS {
        let nyquist = f64::from(from.min(to)) / 2.0;
        for rel in [0.02, 0.25, 0.5, 0.8, 0.85] {
            let f = rel * nyquist;
            let x = sine(f, from, 1.0, 0.5);
            let y = resample(&x, from, to).expect("resample");
            let gain = rms(&y[EDGE..y.len() - EDGE]) / rms(&x[EDGE..x.len() - EDGE]);
            assert!(
                (gain - 1.0).abs() < 0.01,
                "{from}->{to} at {f:.0} Hz: gain {gain}"
            );
        }
    }
}

#[test]
fn content_above_the_new_nyquist_is_attenuated_by_40_db() {
    for (from, to) in PAIRS.into_iter().filter(|(from, to)| to < from) {
        let nyquist = f64::from(to) / 2.0;
        for rel in [1.05, 1.1, 1.5, 2.5] {
            let f = rel * nyquist;
            if f >= f64::from(from) / 2.0 {
                continue;
            }
            let x = sine(f, from, 1.0, 0.5);
            let y = resample(&x, from, to).expect("resample");
            let db = 20.0 * (rms(&y[EDGE..y.len() - EDGE]) / rms(&x)).log10();
            assert!(db < -40.0, "{from}->{to} at {f:.0} Hz: only {db:.1} dB");
        }
    }
}

#[test]
fn noise_resamples_to_finite_values_and_repeated_calls_agree() {
    let x = white_noise(20_000, 3);
    let a = resample(&x, 44_100, 8_000).expect("resample");
    let _other_rates = resample(&x, 8_000, 4_000).expect("resample");
    let b = resample(&x, 44_100, 8_000).expect("resample");
    assert!(a.iter().all(|v| v.is_finite()));
    assert_eq!(a, b, "the cached resampler must be reset between calls");
}

/// Frequency from rising zero crossings, interpolated linearly between samples.
fn crossing_frequency(y: &[f32], sample_rate: u32) -> f64 {
    let crossings: Vec<f64> = y
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, w)| i as f64 + f64::from(w[0]) / f64::from(w[0] - w[1]))
        .collect();
    let (first, last) = (crossings[0], crossings[crossings.len() - 1]);
    (crossings.len() - 1) as f64 / ((last - first) / f64::from(sample_rate))
}

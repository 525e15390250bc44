//! Audio augmentation, measured on the output.
//!
//! - pitch shift of a 440 Hz sine by +12 / -5 / +3.5 semitones: dominant
//!   frequency (zero-padded DFT peak, parabolic interpolation) moves by
//!   `2^(n/12)` within 1 %; length unchanged; a tone pushed above Nyquist
//!   leaves < -60 dB (no aliasing).
//! - time stretch by 0.8 / 1.25: length `round(len / rate)`, a tone burst's
//!   duration scales by `1 / rate` within one hop (frame), dominant frequency
//!   unchanged within 1 %.
//! - noise at 10 dB SNR (white and pink): measured SNR within 0.5 dB; pink has
//!   equal power per octave, white doubles per octave.
//! - gain: RMS ratio `10^(dB/20)` to float32 precision; roll: exact circular
//!   shift; zero-fill shift: exact.
//! - pipeline: same seed identical, different seeds different; probability
//!   respected; classes filter; serde round trip; validation messages.
//!
//! Run with `--nocapture` to see the measured values.
#![allow(clippy::unwrap_used)]

use std::f64::consts::PI;

use lungsound_features::augment::{
    self, Applied, AugmentConfig, Augmentation, Gain, Noise, NoiseColor, PitchShift, ShiftMode,
    Step, TimeShift, TimeStretch,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use realfft::RealFftPlanner;

const SR: u32 = 8000;

fn sine(freq: f64, n: usize, sr: u32) -> Vec<f32> {
    (0..n)
        .map(|i| (0.5 * (2.0 * PI * freq * i as f64 / f64::from(sr)).sin()) as f32)
        .collect()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Dominant frequency of `x` in Hz: Hann window, DFT zero-padded to 8x, peak
/// bin refined by a parabola through the log magnitudes around it.
fn dominant_frequency(x: &[f32], sr: u32) -> f64 {
    let n = x.len() * 8;
    let mut buf = vec![0.0f64; n];
    for (i, &v) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / x.len() as f64).cos();
        buf[i] = f64::from(v) * w;
    }
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut buf, &mut spectrum).unwrap();
    let mag: Vec<f64> = spectrum.iter().map(|c| c.norm().max(1e-300).ln()).collect();
    let k = (1..mag.len() - 1)
        .max_by(|&a, &b| mag[a].total_cmp(&mag[b]))
        .unwrap();
    let (a, b, c) = (mag[k - 1], mag[k], mag[k + 1]);
    let offset = 0.5 * (a - c) / (a - 2.0 * b + c);
    (k as f64 + offset) * f64::from(sr) / n as f64
}

/// The middle half of a signal (away from the vocoder's edge effects).
fn middle(x: &[f32]) -> &[f32] {
    &x[x.len() / 4..3 * x.len() / 4]
}

#[test]
fn pitch_shift_moves_the_dominant_frequency() {
    let x = sine(440.0, 2 * SR as usize, SR);
    assert!((dominant_frequency(&x, SR) - 440.0).abs() < 0.05);
    for (n_steps, n_fft, hop) in [
        (12.0, 2048, 512),
        (-5.0, 2048, 512),
        (3.5, 512, 128),
        (-12.0, 1024, 256),
    ] {
        let y = augment::pitch_shift(&x, n_steps, n_fft, hop);
        assert_eq!(y.len(), x.len(), "length must not change");
        let expected = 440.0 * 2f64.powf(n_steps / 12.0);
        let got = dominant_frequency(middle(&y), SR);
        let rel = (got - expected).abs() / expected;
        println!(
            "pitch shift {n_steps:+} st (n_fft {n_fft}): {got:.2} Hz, expected {expected:.2} Hz, rel err {rel:.2e}"
        );
        assert!(rel < 0.01, "{n_steps:+} st: {got} Hz vs {expected} Hz");
        // Level is roughly kept: the phase vocoder loses some (13 % at an
        // octave up, exactly as much as librosa's), the resampler none.
        let ratio = rms(middle(&y)) / rms(middle(&x));
        println!("  RMS ratio {ratio:.4}");
        assert!(
            (ratio - 1.0).abs() < 0.15,
            "{n_steps:+} st: RMS ratio {ratio}"
        );
    }
}

#[test]
fn pitch_shift_up_does_not_alias() {
    // 3000 Hz up an octave is 6000 Hz, above the 4000 Hz Nyquist frequency:
    // it must vanish, not fold back to 2000 Hz.
    let x = sine(3000.0, 2 * SR as usize, SR);
    let y = augment::pitch_shift(&x, 12.0, 2048, 512);
    let db = 20.0 * (rms(middle(&y)) / rms(middle(&x))).log10();
    println!("3000 Hz shifted +12 st at {SR} Hz: {db:.1} dB left");
    assert!(db < -60.0, "{db:.1} dB");
}

#[test]
fn time_stretch_scales_duration_not_pitch() {
    // Tone burst from 0.5 s to 1.5 s in 2 s of silence.
    let n = 2 * SR as usize;
    let burst = sine(440.0, n, SR);
    let x: Vec<f32> = (0..n)
        .map(|i| {
            if (SR as usize / 2..3 * SR as usize / 2).contains(&i) {
                burst[i]
            } else {
                0.0
            }
        })
        .collect();
    let hop = 512;
    for rate in [0.8, 1.25] {
        let y = augment::time_stretch(&x, rate, 2048, hop);
        assert_eq!(y.len(), (n as f64 / rate).round() as usize);
        // Effective burst duration: total energy over the steady power in the
        // middle of the stretched burst (robust to the vocoder's smeared edges).
        let (start, stop) = (0.5 * f64::from(SR) / rate, 1.5 * f64::from(SR) / rate);
        let centre =
            &y[(start + 0.3 * (stop - start)) as usize..(start + 0.7 * (stop - start)) as usize];
        let steady = rms(centre).powi(2);
        let energy: f64 = y.iter().map(|&v| f64::from(v).powi(2)).sum();
        let duration = energy / steady;
        let expected = f64::from(SR) / rate;
        println!(
            "time stretch {rate}: burst {duration:.0} samples, expected {expected:.0} (hop {hop})"
        );
        assert!(
            (duration - expected).abs() <= hop as f64,
            "rate {rate}: {duration} vs {expected}"
        );
        let (on, off) = (start as usize, stop as usize);
        let f = dominant_frequency(&y[on + hop * 2..off - hop * 2], SR);
        assert!((f - 440.0).abs() / 440.0 < 0.01, "rate {rate}: {f} Hz");
    }
    assert_eq!(augment::time_stretch(&x, 1.0, 2048, 512), x);
}

#[test]
fn noise_hits_the_requested_snr() {
    let x = sine(440.0, SR as usize, SR);
    for color in [NoiseColor::White, NoiseColor::Pink] {
        for snr in [10.0, 0.0, 30.0] {
            let y = augment::add_noise(&x, snr, color, 42);
            let noise: Vec<f32> = y.iter().zip(&x).map(|(a, b)| a - b).collect();
            let measured = 20.0 * (rms(&x) / rms(&noise)).log10();
            println!("{color} noise at {snr} dB: measured {measured:.4} dB");
            assert!((measured - snr).abs() < 0.5, "{color} {snr}: {measured}");
        }
    }
    // Silence stays silence.
    assert_eq!(
        augment::add_noise(&[0.0; 100], 10.0, NoiseColor::White, 1),
        vec![0.0; 100]
    );
}

#[test]
fn pink_noise_has_equal_power_per_octave() {
    let n = 1 << 16;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let band_db = |x: &[f64]| -> Vec<f64> {
        let mut buf = x.to_vec();
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
        let mut spectrum = fft.make_output_vec();
        fft.process(&mut buf, &mut spectrum).unwrap();
        // Octaves [2^k, 2^(k+1)) bins for k = 6..14.
        (6..14)
            .map(|k| {
                let p: f64 = spectrum[1 << k..1 << (k + 1)]
                    .iter()
                    .map(|c| c.norm_sqr())
                    .sum();
                10.0 * p.log10()
            })
            .collect()
    };
    let pink = band_db(&augment::gaussian_noise(n, NoiseColor::Pink, &mut rng));
    let white = band_db(&augment::gaussian_noise(n, NoiseColor::White, &mut rng));
    for w in pink.windows(2) {
        assert!(
            (w[1] - w[0]).abs() < 1.0,
            "pink octave step {:.2} dB",
            w[1] - w[0]
        );
    }
    for w in white.windows(2) {
        assert!(
            (w[1] - w[0] - 3.01).abs() < 1.0,
            "white octave step {:.2} dB",
            w[1] - w[0]
        );
    }
}

#[test]
fn gain_scales_rms_exactly() {
    let x = sine(300.0, 4000, SR);
    for db in [-6.0, 3.5, 12.0, 0.0] {
        let y = augment::gain(&x, db);
        let ratio = rms(&y) / rms(&x);
        let expected = 10f64.powf(db / 20.0);
        assert!(
            (ratio / expected - 1.0).abs() < 1e-6,
            "{db} dB: {ratio} vs {expected}"
        );
    }
}

/// `db = true` spectrograms are relative to their own maximum (librosa's
/// `ref=np.max`), so a gain leaves them unchanged: with such features a gain
/// "augmentation" only duplicates clips (see the ablation in BENCHMARKS.md).
#[test]
fn gain_does_not_change_a_max_referenced_db_spectrogram() {
    let x: Vec<f32> = sine(300.0, 16000, SR)
        .iter()
        .zip(sine(1234.5, 16000, SR))
        .enumerate()
        .map(|(i, (a, b))| a * (1.0 + (i as f32 / 900.0).sin()) * 0.5 + 0.2 * b)
        .collect();
    let config = lungsound_features::FeatureConfig {
        n_fft: 512,
        hop_length: 128,
        n_mels: 64,
        db: true,
        top_db: Some(80.0),
        ..Default::default()
    };
    let extractor = lungsound_features::FeatureExtractor::new(&config, SR).unwrap();
    let plain = extractor.compute(&x);
    for db in [-12.0, -6.0, 6.0] {
        let louder = extractor.compute(&augment::gain(&x, db));
        let worst = plain
            .iter()
            .zip(louder.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-3, "{db} dB gain moved a bin by {worst} dB");
    }
}

#[test]
fn roll_and_shift_are_exact() {
    let x: Vec<f32> = (0..10).map(|i| i as f32).collect();
    assert_eq!(
        augment::roll(&x, 3),
        [7., 8., 9., 0., 1., 2., 3., 4., 5., 6.]
    );
    assert_eq!(
        augment::roll(&x, -3),
        [3., 4., 5., 6., 7., 8., 9., 0., 1., 2.]
    );
    assert_eq!(augment::roll(&x, 13), augment::roll(&x, 3));
    assert_eq!(augment::roll(&x, 0), x);
    assert_eq!(
        augment::time_shift(&x, 3, ShiftMode::Zero),
        [0., 0., 0., 0., 1., 2., 3., 4., 5., 6.]
    );
    assert_eq!(
        augment::time_shift(&x, -3, ShiftMode::Zero),
        [3., 4., 5., 6., 7., 8., 9., 0., 0., 0.]
    );
    assert_eq!(augment::time_shift(&x, 30, ShiftMode::Zero), vec![0.0; 10]);
    assert!(augment::roll(&[], 5).is_empty());
    // Drawn shifts are whole samples within the range, both ends reachable.
    let shift = TimeShift {
        shift_s: [-0.001, 0.001],
        mode: ShiftMode::Roll,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..500 {
        match shift.draw(SR, &mut rng) {
            Applied::TimeShift { shift_samples, .. } => {
                assert!((-8..=8).contains(&shift_samples));
                seen.insert(shift_samples);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen.len(), 17);
}

fn full_config() -> AugmentConfig {
    AugmentConfig {
        transforms: vec![
            Step::new(Augmentation::TimeStretch(TimeStretch {
                rate: [0.9, 1.1],
                n_fft: 512,
                hop_length: 128,
            })),
            Step::new(Augmentation::PitchShift(PitchShift {
                semitones: [-2.0, 2.0],
                n_fft: 512,
                hop_length: 128,
            })),
            Step::new(Augmentation::TimeShift(TimeShift::default())),
            Step::new(Augmentation::Gain(Gain::default())).with_probability(0.5),
            Step::new(Augmentation::Noise(Noise {
                snr_db: [10.0, 20.0],
                color: NoiseColor::Pink,
            })),
        ],
        copies_per_clip: 2,
        classes: Some(vec!["Wheeze".into(), "Fine Crackle".into()]),
    }
}

#[test]
fn same_seed_same_output_different_seed_different() {
    let config = full_config();
    config.validate().unwrap();
    let x = sine(440.0, SR as usize, SR);
    let run = |seed| config.apply_recorded(&x, SR, &mut ChaCha8Rng::seed_from_u64(seed));
    let (a, applied_a) = run(1);
    let (b, applied_b) = run(1);
    let (c, applied_c) = run(2);
    assert_eq!(a, b);
    assert_eq!(applied_a, applied_b);
    assert_ne!(a, c);
    assert_ne!(applied_a, applied_c);
    // Replaying the record gives the same audio.
    assert_eq!(augment::apply_all(&applied_a, &x), a);
    println!("seed 1: {}", augment::describe(&applied_a));
    println!("seed 2: {}", augment::describe(&applied_c));
    // Each transform on its own is reproducible too.
    for step in &config.transforms {
        let d1 = step
            .augmentation
            .draw(SR, &mut ChaCha8Rng::seed_from_u64(5));
        let d2 = step
            .augmentation
            .draw(SR, &mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(d1.apply(&x), d2.apply(&x));
        let d3 = step
            .augmentation
            .draw(SR, &mut ChaCha8Rng::seed_from_u64(6));
        assert_ne!(d1.apply(&x), d3.apply(&x), "{}", step.augmentation.name());
    }
    // Derived seeds: stable, and different per key and index.
    let s = augment::derive_seed(7, "101_1b1_Al_sc_Meditron_000.wav", 0);
    assert_eq!(
        s,
        augment::derive_seed(7, "101_1b1_Al_sc_Meditron_000.wav", 0)
    );
    assert_ne!(
        s,
        augment::derive_seed(7, "101_1b1_Al_sc_Meditron_000.wav", 1)
    );
    assert_ne!(
        s,
        augment::derive_seed(7, "101_1b1_Al_sc_Meditron_001.wav", 0)
    );
    assert_ne!(
        s,
        augment::derive_seed(8, "101_1b1_Al_sc_Meditron_000.wav", 0)
    );
}

#[test]
fn probability_and_classes_are_respected() {
    let x = sine(440.0, 1000, SR);
    let gain_with = |p: f64| AugmentConfig {
        transforms: vec![
            Step::new(Augmentation::Gain(Gain {
                gain_db: [3.0, 3.0],
            }))
            .with_probability(p),
        ],
        ..AugmentConfig::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    assert_eq!(gain_with(0.0).apply(&x, SR, &mut rng), x);
    assert_eq!(
        gain_with(1.0).apply(&x, SR, &mut rng),
        augment::gain(&x, 3.0)
    );
    let applied = (0..2000)
        .filter(|_| !gain_with(0.3).draw(SR, &mut rng).is_empty())
        .count();
    assert!(
        (applied as f64 / 2000.0 - 0.3).abs() < 0.04,
        "{applied} of 2000"
    );
    assert_eq!(augment::describe(&[]), "none");

    let config = full_config();
    assert!(config.applies_to("Wheeze"));
    assert!(config.applies_to(" fine crackle "));
    assert!(!config.applies_to("Normal"));
    assert!(AugmentConfig::default().applies_to("Normal"));
}

#[test]
fn config_round_trips_through_json() {
    let config = full_config();
    let json = serde_json::to_string_pretty(&config).unwrap();
    assert!(json.contains("\"kind\": \"pitch_shift\""), "{json}");
    let back: AugmentConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    // Defaults fill in what a hand-written recipe leaves out.
    let recipe = r#"{ "transforms": [
        { "kind": "pitch_shift", "semitones": [-1, 1] },
        { "kind": "noise", "snr_db": [15, 25], "color": "pink", "probability": 0.5 },
        { "kind": "time_shift", "mode": "zero" } ] }"#;
    let parsed: AugmentConfig = serde_json::from_str(recipe).unwrap();
    parsed.validate().unwrap();
    assert_eq!(parsed.copies_per_clip, 1);
    assert_eq!(parsed.classes, None);
    assert_eq!(
        parsed.transforms[0],
        Step::new(Augmentation::PitchShift(PitchShift {
            semitones: [-1.0, 1.0],
            ..PitchShift::default()
        }))
    );
    assert_eq!(parsed.transforms[1].probability, 0.5);
    // Applied records serialise too (the CLI logs them).
    let applied = config.draw(SR, &mut ChaCha8Rng::seed_from_u64(1));
    let text = serde_json::to_string(&applied).unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<Applied>>(&text).unwrap(),
        applied
    );
    assert!(
        serde_json::from_str::<AugmentConfig>(r#"{ "transforms": [{ "kind": "reverb" }] }"#)
            .is_err()
    );
}

#[test]
fn invalid_configs_are_rejected_with_the_rule_and_value() {
    let check = |config: AugmentConfig, expected: &str| {
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains(expected),
            "{err:?} should contain {expected:?}"
        );
    };
    let one = |a: Augmentation| AugmentConfig {
        transforms: vec![Step::new(a)],
        ..AugmentConfig::default()
    };
    check(
        one(Augmentation::PitchShift(PitchShift {
            semitones: [3.0, -3.0],
            ..PitchShift::default()
        })),
        "transforms[0] (pitch_shift): pitch_shift.semitones must be [min, max] with finite min <= max, got [3, -3]",
    );
    check(
        one(Augmentation::PitchShift(PitchShift {
            semitones: [-30.0, 3.0],
            ..PitchShift::default()
        })),
        "must lie within [-24, 24], got [-30, 3]",
    );
    check(
        one(Augmentation::PitchShift(PitchShift {
            hop_length: 2000,
            ..PitchShift::default()
        })),
        "pitch_shift.hop_length must be in 1..=n_fft / 2 (1024), got 2000",
    );
    check(
        one(Augmentation::TimeStretch(TimeStretch {
            rate: [0.0, 1.2],
            ..TimeStretch::default()
        })),
        "time_stretch.rate must lie within [0.25, 4], got [0, 1.2]",
    );
    check(
        one(Augmentation::Gain(Gain {
            gain_db: [f64::NAN, 1.0],
        })),
        "got [NaN, 1]",
    );
    check(
        AugmentConfig {
            transforms: vec![
                Step::new(Augmentation::Noise(Noise::default())).with_probability(1.5),
            ],
            ..AugmentConfig::default()
        },
        "transforms[0] (noise): probability must be in [0, 1], got 1.5",
    );
    check(
        AugmentConfig {
            copies_per_clip: 0,
            ..AugmentConfig::default()
        },
        "copies_per_clip must be >= 1, got 0",
    );
    check(
        AugmentConfig {
            classes: Some(vec![]),
            ..AugmentConfig::default()
        },
        "classes must list non-empty class names",
    );
    AugmentConfig::default().validate().unwrap();
}

#[test]
fn short_and_empty_clips_do_not_panic() {
    let config = full_config();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for n in [0, 1, 2, 5, 100, 700] {
        let x = sine(440.0, n, SR);
        let y = config.apply(&x, SR, &mut rng);
        assert!(y.iter().all(|v| v.is_finite()), "n = {n}");
        assert_eq!(augment::pitch_shift(&x, 4.0, 2048, 512).len(), n);
    }
}

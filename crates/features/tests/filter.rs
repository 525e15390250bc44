//! Butterworth band-pass against scipy: the reference values in
//! `tests/fixtures/scipy/` come from `scripts/fixtures/make_scipy_fixtures.py`
//! (each file records the scipy and numpy versions).
//!
//! Tolerances:
//! - `sos` and `sosfilt_zi`: `|ours - scipy| <= 1e-6 * max(|scipy|, 1e-3)`
//!   per coefficient (relative, with a floor for coefficients that are
//!   exactly 0 in scipy, e.g. `b1` of a `[1, 0, -1]` section).
//! - filtered outputs (`sosfilt`, `sosfiltfilt`): `|ours - scipy| <= 1e-4 *
//!   max|scipy|`. Relative error per sample is meaningless where the output
//!   crosses zero; ours is computed in `f64` from the same float32 input and
//!   rounded to `f32`, scipy's stored with 10 significant digits, so the
//!   observed error is about float32 rounding (~1e-7 of the peak).
//! - `padlen`: identical.
//!
//! Run with `--nocapture` to see the largest error per design.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lungsound_features::filter::Butterworth;
use serde_json::Value;

const SOS_RTOL: f64 = 1e-6;
const SOS_FLOOR: f64 = 1e-3;
const OUTPUT_TOL: f64 = 1e-4;

fn fixture(name: &str) -> Value {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scipy")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn design(d: &Value) -> Butterworth {
    Butterworth::bandpass(
        d["order"].as_u64().unwrap() as usize,
        d["low_hz"].as_f64().unwrap(),
        d["high_hz"].as_f64().unwrap(),
        d["sample_rate"].as_u64().unwrap() as u32,
    )
    .unwrap()
}

fn coefficient_error(ours: &[f64], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() / b.abs().max(SOS_FLOOR))
        .fold(0.0, f64::max)
}

#[test]
fn sos_zi_and_padlen_match_scipy() {
    let doc = fixture("butter_bandpass.json");
    assert!(doc["scipy_version"].as_str().is_some());
    let designs = doc["designs"].as_array().unwrap();
    assert!(designs.len() >= 8);
    for d in designs {
        let name = d["name"].as_str().unwrap();
        let bp = design(d);
        let rows = d["sos"].as_array().unwrap();
        assert_eq!(bp.sos().len(), rows.len(), "{name}: number of sections");
        let mut worst: f64 = 0.0;
        for (i, (ours, theirs)) in bp.sos().iter().zip(rows).enumerate() {
            let err = coefficient_error(ours, &numbers(theirs));
            assert!(
                err <= SOS_RTOL,
                "{name} section {i}: {ours:?} vs {theirs} (rel err {err:.2e})"
            );
            worst = worst.max(err);
        }
        for (i, (ours, theirs)) in bp
            .sosfilt_zi()
            .iter()
            .zip(d["sosfilt_zi"].as_array().unwrap())
            .enumerate()
        {
            let err = coefficient_error(ours, &numbers(theirs));
            assert!(
                err <= SOS_RTOL,
                "{name} zi {i}: {ours:?} vs {theirs} (rel err {err:.2e})"
            );
            worst = worst.max(err);
        }
        assert_eq!(
            bp.padlen() as u64,
            d["padlen"].as_u64().unwrap(),
            "{name}: padlen"
        );
        println!("{name}: sos/zi max rel err {worst:.2e}");
    }
}

#[test]
fn sosfilt_and_sosfiltfilt_match_scipy() {
    let designs = fixture("butter_bandpass.json");
    let doc = fixture("filtered.json");
    let filtered = doc["filtered"].as_array().unwrap();
    assert!(!filtered.is_empty());
    for f in filtered {
        let name = f["design"].as_str().unwrap();
        let d = designs["designs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no design {name}"));
        let bp = design(d);
        let signal = &doc["signals"][f["signal"].as_str().unwrap()];
        assert_eq!(signal["sample_rate"], d["sample_rate"]);
        let x: Vec<f32> = numbers(&signal["samples"])
            .iter()
            .map(|&v| v as f32)
            .collect();
        for (what, ours) in [
            ("sosfilt", bp.filter(&x)),
            ("sosfiltfilt", bp.filtfilt(&x).unwrap()),
        ] {
            let theirs = numbers(&f[what]);
            assert_eq!(ours.len(), theirs.len(), "{name} {what}: length");
            let peak = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let err = ours
                .iter()
                .zip(&theirs)
                .map(|(&a, b)| (f64::from(a) - b).abs())
                .fold(0.0, f64::max)
                / peak;
            assert!(
                err <= OUTPUT_TOL,
                "{name} {what}: max error {err:.2e} of the peak"
            );
            println!("{name} {what}: max error {err:.2e} of the peak {peak:.3}");
        }
    }
}

#[test]
fn filtfilt_is_zero_phase_and_filter_is_not() {
    // A 400 Hz tone well inside 60-1300 Hz at 4 kHz: filtfilt returns it with
    // no delay and (squared) unit gain; the causal filter delays it.
    let sr = 4000;
    let x: Vec<f32> = (0..8000)
        .map(|i| (2.0 * std::f64::consts::PI * 400.0 * f64::from(i) / f64::from(sr)).sin() as f32)
        .collect();
    let bp = Butterworth::bandpass(4, 60.0, 1300.0, sr).unwrap();
    let zero_phase = bp.filtfilt(&x).unwrap();
    let causal = bp.filter(&x);
    let mid = 2000..6000;
    let err = |y: &[f32]| {
        mid.clone()
            .map(|i| (y[i] - x[i]).abs())
            .fold(0.0f32, f32::max)
    };
    assert!(err(&zero_phase) < 0.02, "filtfilt: {}", err(&zero_phase));
    assert!(
        err(&causal) > 0.1,
        "the causal filter should shift the phase"
    );
}

#[test]
fn stop_band_is_attenuated() {
    // 20 Hz and 1900 Hz are far outside 60-1300 Hz: order 6 forward-backward
    // removes them to well below -40 dB.
    let sr = 4000;
    for f in [20.0, 1900.0] {
        let x: Vec<f32> = (0..8000)
            .map(|i| (2.0 * std::f64::consts::PI * f * f64::from(i) / f64::from(sr)).sin() as f32)
            .collect();
        let y = Butterworth::bandpass(6, 60.0, 1300.0, sr)
            .unwrap()
            .filtfilt(&x)
            .unwrap();
        let rms = |v: &[f32]| {
            (v[2000..6000]
                .iter()
                .map(|s| f64::from(*s).powi(2))
                .sum::<f64>()
                / 4000.0)
                .sqrt()
        };
        let db = 20.0 * (rms(&y) / rms(&x)).log10();
        assert!(db < -40.0, "{f} Hz: {db:.1} dB");
    }
}

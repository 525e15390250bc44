//! Band-limited resampling with rubato's windowed-sinc resampler, time-aligned with the input.
//!
//! # Quality
//! A 512-tap sinc filter with a squared Blackman-Harris window, cut off at 0.95 of the lower
//! Nyquist frequency. Measured response (44.1 kHz → 8 kHz, relative to the new Nyquist):
//! gain within 0.1% up to 0.85, −0.6 dB at 0.9, −6 dB at 0.95, −26 dB at 1.0, below −60 dB
//! from 1.05 on. rubato's usual starting point, 256 taps, has the same shape twice as wide:
//! already −0.1 dB (1%) at 0.8 and only −40 dB at 1.1, which lets audible aliasing through
//! when going down to 4–8 kHz, where lung sounds still have energy near the top of the band.
//!
//! # Exact phases
//! Sample-rate pairs are reduced to `from/to = a/b`. Output sample `m` sits at input time
//! `m·a/b`, so its fractional position is always a multiple of `1/b`. When `b ≤ 1024`
//! (every common pair: 44.1k→8k has b = 80, 8k→44.1k has b = 441) the filter is tabulated
//! at exactly those `b` phases and used without interpolation (rubato's `Nearest` mode
//! with `oversampling_factor = b`), which is both exact and the cheapest mode. Otherwise
//! 256 phases with cubic interpolation between them.
//!
//! # Alignment
//! rubato's resampler starts with an internal history of zeros; its `k`-th output is centred
//! on input time `k·a/b + δ` with `δ = a/b − 1 + 1/phases` (from the start index and the
//! centre of its tabulated sincs). We prepend `P` zeros and drop the first `D` outputs,
//! choosing integers with `D·a/b + δ = P` (exact in the tabulated case), so that output
//! `m` is centred on input time `m·from/to` — the convention of librosa/soxr/scipy.
//! The output has `round(len·to/from)` samples.

use std::cell::RefCell;

use rubato::{
    Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType, WindowFunction,
};

use crate::error::Error;

/// Sinc filter length in input (or, when upsampling, output) samples; see the module doc.
const SINC_LEN: usize = 512;
/// Cutoff relative to the lower of the two Nyquist frequencies.
const F_CUTOFF: f32 = 0.95;
/// Largest reduced output rate `b` for which every phase gets its own tabulated filter
/// (512 × 1024 floats = 2 MiB).
const MAX_EXACT_PHASES: u32 = 1024;
/// Tabulated phases, interpolated cubically, beyond `MAX_EXACT_PHASES`.
const CUBIC_PHASES: usize = 256;
/// How far to search for the output skip `D` when phases are not exact.
const MAX_SKIP_SEARCH: usize = 4096;
/// Frames per rubato call on the higher-rate side (input when downsampling, output when
/// upsampling), unless rubato needs more.
const CHUNK: usize = 4096;

/// Resamples mono `samples` from `from_hz` to `to_hz` with a band-limited sinc filter.
///
/// Returns `round(len · to_hz / from_hz)` samples (halves round up), time-aligned with the
/// input: output sample `m` corresponds to input time `m · from_hz / to_hz`. Equal rates
/// return a copy. (librosa 0.11 returns `ceil` instead of `round` samples; the two differ
/// by at most one.)
///
/// # Quality and cost
/// rubato's `SincFixedIn` with a 512-tap sinc, squared Blackman-Harris window, cutoff 0.95 of
/// the lower Nyquist frequency. Relative to that Nyquist: gain within 0.1% up to 0.85,
/// −6 dB at 0.95, −26 dB at 1.0, below −60 dB from 1.05 on (so downsampling removes what
/// would alias). Filter phases are exact for every rate pair whose reduced output rate is
/// ≤ 1024 (all common ones); the result is aligned to well under 0.01 sample. About 512
/// multiply-adds per output sample; the filter table is cached per thread for the last
/// rate pair used.
///
/// # Errors
/// [`Error::InvalidSampleRate`] when either rate is 0; [`Error::Resample`] if rubato refuses.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, Error> {
    if from_hz == 0 {
        return Err(Error::InvalidSampleRate {
            name: "from_hz",
            value: from_hz,
        });
    }
    if to_hz == 0 {
        return Err(Error::InvalidSampleRate {
            name: "to_hz",
            value: to_hz,
        });
    }
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }
    let n_out = resampled_len(samples.len(), from_hz, to_hz);
    if n_out == 0 {
        return Ok(Vec::new());
    }
    thread_local! {
        // One resampler per thread, kept for the next call with the same rates: building the
        // filter table costs about as much as resampling a short recording.
        static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
    }
    CACHE.with(|cell| {
        let mut cached = cell.borrow_mut();
        match cached.as_mut() {
            Some(c) if c.plan.from_hz == from_hz && c.plan.to_hz == to_hz => c.resampler.reset(),
            _ => *cached = Some(Cached::new(from_hz, to_hz)?),
        }
        match cached.as_mut() {
            Some(c) => run(c, samples, n_out),
            None => unreachable_cache(from_hz, to_hz),
        }
    })
}

/// Number of samples [`resample`] returns: `round(n_samples · to_hz / from_hz)`, halves
/// rounded up; 0 when `from_hz` is 0.
pub fn resampled_len(n_samples: usize, from_hz: u32, to_hz: u32) -> usize {
    if from_hz == 0 {
        return 0;
    }
    let num = n_samples as u128 * u128::from(to_hz) * 2 + u128::from(from_hz);
    (num / (2 * u128::from(from_hz))) as usize
}

fn unreachable_cache(from_hz: u32, to_hz: u32) -> Result<Vec<f32>, Error> {
    Err(Error::Resample {
        from_hz,
        to_hz,
        detail: "internal resampler cache is empty".into(),
    })
}

/// How to drive rubato for one pair of rates.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    from_hz: u32,
    to_hz: u32,
    /// Input samples per output sample.
    step: f64,
    /// Tabulated filter phases.
    phases: usize,
    /// `true`: use the tabulated phase directly; `false`: cubic interpolation between phases.
    exact: bool,
    /// Zeros to prepend (`P`).
    pad_in: usize,
    /// Outputs to drop (`D`).
    skip_out: usize,
}

impl Plan {
    fn new(from_hz: u32, to_hz: u32) -> Plan {
        let g = gcd(from_hz, to_hz);
        let (a, b) = (from_hz / g, to_hz / g);
        let exact = b <= MAX_EXACT_PHASES;
        let phases = if exact { b as usize } else { CUBIC_PHASES };
        let step = f64::from(a) / f64::from(b);
        let delta = step - 1.0 + 1.0 / phases as f64;
        let limit = if exact { b as usize } else { MAX_SKIP_SEARCH };
        let mut best = (f64::INFINITY, 0usize, 0usize);
        for d in 0..limit.max(1) {
            let x = d as f64 * step + delta;
            let p = x.round();
            if p < 0.0 {
                continue;
            }
            let err = (x - p).abs();
            if err < best.0 {
                best = (err, d, p as usize);
                if err < 1e-9 {
                    break;
                }
            }
        }
        Plan {
            from_hz,
            to_hz,
            step,
            phases,
            exact,
            pad_in: best.2,
            skip_out: best.1,
        }
    }
}

struct Cached {
    plan: Plan,
    resampler: SincFixedIn<f32>,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl Cached {
    fn new(from_hz: u32, to_hz: u32) -> Result<Cached, Error> {
        let plan = Plan::new(from_hz, to_hz);
        let params = SincInterpolationParameters {
            sinc_len: SINC_LEN,
            f_cutoff: F_CUTOFF,
            oversampling_factor: plan.phases,
            interpolation: if plan.exact {
                SincInterpolationType::Nearest
            } else {
                SincInterpolationType::Cubic
            },
            window: WindowFunction::BlackmanHarris2,
        };
        // About CHUNK frames on the higher-rate side per call (bounded below by what rubato
        // needs), so that the output buffer stays small even for large upsampling ratios.
        let chunk = ((CHUNK as f64 * plan.step.min(1.0)).ceil() as usize).max(min_chunk(plan.step));
        let ratio = f64::from(to_hz) / f64::from(from_hz);
        let resampler =
            SincFixedIn::<f32>::new(ratio, 1.0, params, chunk, 1).map_err(|e| Error::Resample {
                from_hz,
                to_hz,
                detail: e.to_string(),
            })?;
        let output = vec![0.0; resampler.output_frames_max()];
        Ok(Cached {
            plan,
            resampler,
            input: vec![0.0; chunk],
            output,
        })
    }
}

/// Streams `[P zeros] samples [zeros...]` through the resampler until `n_out` aligned
/// outputs are collected. Each call is given only about as much input as the outputs still
/// missing need (rubato resamples its whole chunk), which matters for large upsampling
/// ratios and for short inputs.
fn run(c: &mut Cached, samples: &[f32], n_out: usize) -> Result<Vec<f32>, Error> {
    let Cached {
        plan,
        resampler,
        input,
        output,
    } = c;
    let (from_hz, to_hz) = (plan.from_hz, plan.to_hz);
    let resample_error = |detail: String| Error::Resample {
        from_hz,
        to_hz,
        detail,
    };
    let max_chunk = input.len();
    let min_chunk = min_chunk(plan.step).min(max_chunk);
    let mut out = Vec::with_capacity(n_out);
    let mut skip = plan.skip_out;
    let mut pos = 0usize; // position in the padded input stream
    let mut idle_calls = 0;
    while out.len() < n_out {
        let missing = n_out - out.len() + skip;
        // The filter's reach (2 × SINC_LEN) covers rubato's start-up latency.
        let wanted = (missing as f64 * plan.step).ceil() as usize + 2 * SINC_LEN;
        let chunk = wanted.clamp(min_chunk, max_chunk);
        resampler
            .set_chunk_size(chunk)
            .map_err(|e| resample_error(e.to_string()))?;
        let chunk_in = &mut input[..chunk];
        fill_chunk(chunk_in, samples, plan.pad_in, pos);
        pos += chunk;
        let (_, written) = resampler
            .process_into_buffer(&[&chunk_in[..]], &mut [&mut output[..]], None)
            .map_err(|e| resample_error(e.to_string()))?;
        let dropped = skip.min(written);
        skip -= dropped;
        let take = (written - dropped).min(n_out - out.len());
        out.extend_from_slice(&output[dropped..dropped + take]);
        idle_calls = if written == 0 { idle_calls + 1 } else { 0 };
        if idle_calls > 2 {
            return Err(resample_error(
                "the resampler stopped producing output".into(),
            ));
        }
    }
    Ok(out)
}

/// Smallest chunk that still yields output on every call: rubato keeps the filter length
/// plus one step of look-ahead back from each chunk.
fn min_chunk(step: f64) -> usize {
    2 * (SINC_LEN + step.ceil() as usize + 2)
}

/// Copies `[pos, pos + chunk.len())` of the stream `zeros(pad) ++ samples ++ zeros` into `chunk`.
fn fill_chunk(chunk: &mut [f32], samples: &[f32], pad: usize, pos: usize) {
    chunk.fill(0.0);
    let end = pos + chunk.len();
    // Range of `samples` that falls into this chunk.
    let first = pos.saturating_sub(pad).min(samples.len());
    let last = end.saturating_sub(pad).min(samples.len());
    if first < last {
        let offset = (first + pad) - pos;
        chunk[offset..offset + (last - first)].copy_from_slice(&samples[first..last]);
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rule_is_round_half_up() {
        assert_eq!(resampled_len(441, 44_100, 8_000), 80);
        assert_eq!(resampled_len(1000, 3, 2), 667); // 666.67
        assert_eq!(resampled_len(3, 2, 1), 2); // 1.5 rounds up
        assert_eq!(resampled_len(1, 44_100, 8_000), 0); // 0.18
        assert_eq!(resampled_len(10, 0, 8_000), 0);
        assert_eq!(resampled_len(usize::MAX / 2, 4000, 8000), usize::MAX - 1);
    }

    #[test]
    fn plans_for_common_pairs_align_exactly() {
        for (from, to) in [
            (44_100, 8_000),
            (8_000, 44_100),
            (4_000, 8_000),
            (16_000, 8_000),
            (48_000, 44_100),
        ] {
            let p = Plan::new(from, to);
            assert!(p.exact, "{from}->{to}");
            let residual =
                p.skip_out as f64 * p.step + p.step - 1.0 + 1.0 / p.phases as f64 - p.pad_in as f64;
            assert!(residual.abs() < 1e-9, "{from}->{to}: {p:?}");
        }
        let odd = Plan::new(44_100, 16_001);
        assert!(!odd.exact);
    }

    #[test]
    fn fill_chunk_places_padding_samples_and_tail() {
        let samples = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut chunk = [9.0; 4];
        fill_chunk(&mut chunk, &samples, 2, 0);
        assert_eq!(chunk, [0.0, 0.0, 1.0, 2.0]);
        fill_chunk(&mut chunk, &samples, 2, 4);
        assert_eq!(chunk, [3.0, 4.0, 5.0, 0.0]);
        fill_chunk(&mut chunk, &samples, 2, 8);
        assert_eq!(chunk, [0.0; 4]);
    }

    #[test]
    fn zero_rates_are_rejected_and_equal_rates_copy() {
        assert!(matches!(
            resample(&[1.0], 0, 8000),
            Err(Error::InvalidSampleRate {
                name: "from_hz",
                ..
            })
        ));
        assert!(matches!(
            resample(&[1.0], 8000, 0),
            Err(Error::InvalidSampleRate { name: "to_hz", .. })
        ));
        assert_eq!(
            resample(&[0.5, -0.5], 8000, 8000).ok(),
            Some(vec![0.5, -0.5])
        );
        assert_eq!(resample(&[], 8000, 16000).ok(), Some(vec![]));
    }

    #[test]
    fn extreme_ratios_still_give_the_promised_length() {
        let x: Vec<f32> = (0..1000)
            .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5)
            .collect();
        for (from, to, n) in [(48_000, 100, 1000), (44_100, 1, 1000), (100, 48_000, 20)] {
            let y = resample(&x[..n], from, to).expect("resample");
            assert_eq!(y.len(), resampled_len(n, from, to), "{from}->{to}");
            assert!(y.iter().all(|v| v.is_finite()), "{from}->{to}");
        }
    }

    #[test]
    fn gcd_reduces_rates() {
        assert_eq!(gcd(44_100, 8_000), 100);
        assert_eq!(gcd(7, 13), 1);
    }
}

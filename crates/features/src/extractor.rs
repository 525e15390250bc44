//! [`FeatureExtractor`]: a validated [`FeatureConfig`] with everything
//! precomputed (window, FFT plan, sparse mel filterbank), shared by reference
//! between threads.

use ndarray::Array2;
use rayon::prelude::*;

use crate::config::{FeatureConfig, FeatureKind};
use crate::db::{self, DbRef};
use crate::error::Error;
use crate::mel::{self, SparseFilterbank};
use crate::pcen::{PCEN_INPUT_SCALE, pcen_in_place};
use crate::stft::{StftPlan, StftScratch};

/// Computes one kind of spectrogram for audio at one sample rate.
///
/// Build once, then call [`compute`](Self::compute) from any number of threads
/// (`FeatureExtractor` is `Send + Sync`; each call allocates only a few
/// `n_fft`-sized buffers and its output). For long batches on one thread, or
/// one scratch per rayon worker, use [`scratch`](Self::scratch) with
/// [`compute_with_scratch`](Self::compute_with_scratch), or [`compute_many`](Self::compute_many).
///
/// ```
/// use lungsound_features::{FeatureConfig, FeatureExtractor};
/// let extractor = FeatureExtractor::new(&FeatureConfig::default(), 8000)?;
/// let mel = extractor.compute(&vec![0.0f32; 8000]);
/// assert_eq!(mel.dim(), (128, 16));
/// assert_eq!(extractor.output_shape(8000), [128, 16]);
/// # Ok::<(), lungsound_features::Error>(())
/// ```
pub struct FeatureExtractor {
    config: FeatureConfig,
    sample_rate: u32,
    engine: Engine,
    /// Spectrograms stacked below this one ([`stacked`](Self::stacked)); empty for one.
    below: Vec<FeatureExtractor>,
}

/// How the spectrogram is computed.
///
/// Mel runs its FFT in `f32`: summing power over each band averages the FFT's
/// rounding away, leaving <= 1e-5 relative error against librosa (which
/// transforms in f64), and a 2048-point `f32` FFT is ~3x faster than `f64` with
/// AVX. A single STFT bin has no such averaging (an `f32` FFT misses 1e-4 in
/// the quietest bins), so the STFT kinds keep librosa's `f64`.
enum Engine {
    Mel {
        plan: StftPlan<f32>,
        filterbank: SparseFilterbank,
    },
    Spectrum(StftPlan<f64>),
}

/// Per-thread buffers for [`FeatureExtractor::compute_with_scratch`].
pub struct Scratch {
    own: ScratchKind,
    /// One per stacked spectrogram.
    below: Vec<Scratch>,
}

enum ScratchKind {
    Mel {
        stft: StftScratch<f32>,
        power: Vec<f32>,
    },
    Spectrum(StftScratch<f64>),
}

impl FeatureExtractor {
    /// Validate `config` for audio at `sample_rate` Hz and precompute the
    /// window, FFT plan and (for mel) the filterbank.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the broken rule and the value
    /// (see [`FeatureConfig::validate`]).
    pub fn new(config: &FeatureConfig, sample_rate: u32) -> Result<Self, Error> {
        config.validate(sample_rate)?;
        let (n_fft, hop_length, win_length, center) = (
            config.n_fft,
            config.hop_length,
            config.win_length,
            config.center,
        );
        let engine = match config.kind {
            FeatureKind::Mel => Engine::Mel {
                plan: StftPlan::new(n_fft, hop_length, win_length, center)?,
                filterbank: SparseFilterbank::from_dense(&mel::filterbank(
                    sample_rate,
                    n_fft,
                    config.n_mels,
                    config.fmin,
                    config.fmax,
                    config.htk,
                    config.norm,
                )),
            },
            FeatureKind::Stft | FeatureKind::LogStft => {
                Engine::Spectrum(StftPlan::new(n_fft, hop_length, win_length, center)?)
            }
        };
        Ok(Self {
            config: config.clone(),
            sample_rate,
            engine,
            below: Vec::new(),
        })
    }

    /// A multi-resolution input: the spectrogram of `configs[0]` with those of the other
    /// configs stacked below it along the frequency axis, `[Σ n_freq, n_frames]`. Each part
    /// is computed (and scaled: dB, PCEN) on its own, exactly as its config alone would be,
    /// e.g. a 64-band log-mel of 64 ms windows over a log-STFT of 16 ms windows.
    ///
    /// Every part must give the same frame count for every signal: the same `hop_length`
    /// and `center`, and either `center` with even `n_fft`s or the same `n_fft`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`]: no config, a config that [`new`](Self::new) rejects
    /// (the message names its position), or parts whose frames would not line up.
    pub fn stacked(configs: &[FeatureConfig], sample_rate: u32) -> Result<Self, Error> {
        let Some((first, rest)) = configs.split_first() else {
            return crate::error::invalid!("a stacked spectrogram needs at least one config");
        };
        let mut extractor = Self::new(first, sample_rate)?;
        for (i, config) in rest.iter().enumerate() {
            let part = i + 2;
            let below = Self::new(config, sample_rate).map_err(|e| match e {
                Error::InvalidParameter(rule) => {
                    Error::InvalidParameter(format!("stacked spectrogram {part}: {rule}"))
                }
                other => other,
            })?;
            let frames_line_up = config.hop_length == first.hop_length
                && config.center == first.center
                && (config.n_fft == first.n_fft
                    || (first.center && config.n_fft % 2 == 0 && first.n_fft % 2 == 0));
            if !frames_line_up {
                return crate::error::invalid!(
                    "stacked spectrogram {part} must have the first one's frames: the same hop_length \
                     ({}) and center ({}), and an even n_fft when centred (the same n_fft otherwise); \
                     got hop_length {}, center {}, n_fft {}",
                    first.hop_length,
                    first.center,
                    config.hop_length,
                    config.center,
                    config.n_fft
                );
            }
            extractor.below.push(below);
        }
        Ok(extractor)
    }

    /// The configs of every part, top first: this extractor's, then each stacked one's.
    pub fn part_configs(&self) -> impl Iterator<Item = &FeatureConfig> {
        std::iter::once(&self.config).chain(self.below.iter().map(|b| &b.config))
    }

    /// The configuration this extractor was built from (the top part's, when
    /// [`stacked`](Self::stacked); see [`part_configs`](Self::part_configs)).
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// The sample rate (Hz) this extractor expects.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Output rows: `n_mels` for mel, `1 + n_fft / 2` for the STFT kinds; summed over the
    /// parts of a [`stacked`](Self::stacked) spectrogram.
    pub fn n_freq(&self) -> usize {
        self.own_n_freq() + self.below.iter().map(Self::n_freq).sum::<usize>()
    }

    /// Rows of this extractor's own part.
    fn own_n_freq(&self) -> usize {
        match &self.engine {
            Engine::Mel { filterbank, .. } => filterbank.len(),
            Engine::Spectrum(plan) => plan.n_bins(),
        }
    }

    /// Output columns for a signal of `n_samples` samples (librosa's frame count:
    /// `1 + n_samples / hop_length` when centred with an even `n_fft`).
    pub fn n_frames(&self, n_samples: usize) -> usize {
        match &self.engine {
            Engine::Mel { plan, .. } => plan.n_frames(n_samples),
            Engine::Spectrum(plan) => plan.n_frames(n_samples),
        }
    }

    /// `[n_freq, n_frames]` of [`compute`](Self::compute)'s output for `n_samples` samples.
    pub fn output_shape(&self, n_samples: usize) -> [usize; 2] {
        [self.n_freq(), self.n_frames(n_samples)]
    }

    /// Fresh buffers for [`compute_with_scratch`](Self::compute_with_scratch).
    pub fn scratch(&self) -> Scratch {
        Scratch {
            own: match &self.engine {
                Engine::Mel { plan, .. } => ScratchKind::Mel {
                    stft: plan.scratch(),
                    power: vec![0.0; plan.n_bins()],
                },
                Engine::Spectrum(plan) => ScratchKind::Spectrum(plan.scratch()),
            },
            below: self.below.iter().map(Self::scratch).collect(),
        }
    }

    /// The spectrogram of mono `samples` at [`sample_rate`](Self::sample_rate).
    ///
    /// Never fails: a signal too short for one frame (only possible with
    /// `center: false`, where librosa raises) gives `n_frames == 0`. Non-finite
    /// samples propagate (librosa rejects them; `lungsound-audio` already does).
    ///
    /// # Shapes
    /// `samples: [n]` → [`output_shape(n)`](Self::output_shape) = `[n_freq, n_frames]`
    pub fn compute(&self, samples: &[f32]) -> Array2<f32> {
        self.compute_with_scratch(samples, &mut self.scratch())
    }

    /// [`compute`](Self::compute) reusing caller-owned buffers from [`scratch`](Self::scratch).
    ///
    /// A scratch made by an extractor of another kind or `n_fft` is replaced
    /// (reallocated), never misused.
    pub fn compute_with_scratch(&self, samples: &[f32], scratch: &mut Scratch) -> Array2<f32> {
        if !self.scratch_fits(scratch) {
            *scratch = self.scratch();
        }
        let own = self.compute_own(samples, &mut scratch.own);
        if self.below.is_empty() {
            return own;
        }
        let mut parts = vec![own];
        for (below, scratch) in self.below.iter().zip(&mut scratch.below) {
            parts.push(below.compute_with_scratch(samples, scratch));
        }
        let views: Vec<_> = parts.iter().map(Array2::view).collect();
        ndarray::concatenate(ndarray::Axis(0), &views)
            .unwrap_or_else(|_| unreachable!("stacked() checked that the parts' frames line up"))
    }

    /// This extractor's own part (without the stacked ones).
    fn compute_own(&self, samples: &[f32], scratch: &mut ScratchKind) -> Array2<f32> {
        let mut out = match (&self.engine, scratch) {
            (Engine::Mel { plan, filterbank }, ScratchKind::Mel { stft, power }) => {
                let mut out = Array2::zeros((filterbank.len(), plan.n_frames(samples.len())));
                // PCEN follows librosa's recipe: mel of the magnitude (power=1), not the power.
                let magnitude = self.config.pcen.is_some();
                plan.columns(samples, stft, &mut out, |spectrum, column| {
                    for (p, c) in power.iter_mut().zip(spectrum) {
                        *p = if magnitude { c.norm() } else { c.norm_sqr() };
                    }
                    filterbank.apply(power, column);
                });
                if let Some(params) = &self.config.pcen {
                    out.mapv_inplace(|v| (f64::from(v) * PCEN_INPUT_SCALE) as f32);
                    let result =
                        pcen_in_place(&mut out, self.sample_rate, self.config.hop_length, params);
                    debug_assert!(result.is_ok(), "pcen parameters were validated: {result:?}");
                }
                out
            }
            (Engine::Spectrum(plan), ScratchKind::Spectrum(stft)) => {
                let mut out = plan.magnitude(samples, stft);
                if self.config.kind == FeatureKind::LogStft {
                    out.mapv_inplace(f32::ln_1p);
                }
                out
            }
            // scratch_fits() replaced a scratch of the other kind above.
            _ => Array2::zeros((self.own_n_freq(), 0)),
        };
        if self.config.db {
            // validate() guarantees amin > 0 and top_db >= 0, so these cannot fail.
            let result = match self.config.kind {
                FeatureKind::Mel => db::power_to_db_in_place(
                    &mut out,
                    DbRef::Max,
                    db::POWER_AMIN,
                    self.config.top_db,
                ),
                _ => db::amplitude_to_db_in_place(
                    &mut out,
                    DbRef::Max,
                    db::AMPLITUDE_AMIN,
                    self.config.top_db,
                ),
            };
            debug_assert!(result.is_ok(), "dB parameters were validated: {result:?}");
        }
        out
    }

    /// Whether `scratch` was made for an extractor of the same kind and `n_fft`.
    fn scratch_fits(&self, scratch: &Scratch) -> bool {
        let own = match (&self.engine, &scratch.own) {
            (Engine::Mel { plan, .. }, ScratchKind::Mel { stft, power }) => {
                plan.fits(stft) && power.len() == plan.n_bins()
            }
            (Engine::Spectrum(plan), ScratchKind::Spectrum(stft)) => plan.fits(stft),
            _ => false,
        };
        own && scratch.below.len() == self.below.len()
            && self
                .below
                .iter()
                .zip(&scratch.below)
                .all(|(below, scratch)| below.scratch_fits(scratch))
    }

    /// [`compute`](Self::compute) for many signals in parallel (rayon, one scratch per worker).
    /// Results are in input order.
    pub fn compute_many<S>(&self, signals: &[S]) -> Vec<Array2<f32>>
    where
        S: AsRef<[f32]> + Sync,
    {
        signals
            .par_iter()
            .map_init(
                || self.scratch(),
                |scratch, s| self.compute_with_scratch(s.as_ref(), scratch),
            )
            .collect()
    }
}

/// Mel power spectrogram (`librosa.feature.melspectrogram`) with `config`'s STFT
/// and mel parameters; `config.kind`, `config.db` and `config.pcen` are ignored (always mel power).
///
/// One-shot convenience: for many signals build a [`FeatureExtractor`] once.
///
/// # Errors
/// As [`FeatureExtractor::new`].
pub fn melspectrogram(
    samples: &[f32],
    sample_rate: u32,
    config: &FeatureConfig,
) -> Result<Array2<f32>, Error> {
    let config = FeatureConfig {
        kind: FeatureKind::Mel,
        db: false,
        pcen: None,
        ..config.clone()
    };
    Ok(FeatureExtractor::new(&config, sample_rate)?.compute(samples))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Axis, Slice};
    use std::f64::consts::PI;

    fn sine(freq_hz: f64, sample_rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (0.5 * (2.0 * PI * freq_hz * i as f64 / f64::from(sample_rate)).sin()) as f32)
            .collect()
    }

    #[test]
    fn extractor_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FeatureExtractor>();
        assert_send_sync::<Scratch>();
    }

    #[test]
    fn output_shape_matches_compute_for_every_kind() {
        let y = sine(440.0, 8000, 12_345);
        for kind in [FeatureKind::Mel, FeatureKind::Stft, FeatureKind::LogStft] {
            for center in [true, false] {
                let cfg = FeatureConfig {
                    kind,
                    center,
                    ..FeatureConfig::default()
                };
                let ex = FeatureExtractor::new(&cfg, 8000).expect("valid");
                let out = ex.compute(&y);
                assert_eq!(
                    [out.nrows(), out.ncols()],
                    ex.output_shape(y.len()),
                    "{kind} center={center}"
                );
            }
        }
        let ex = FeatureExtractor::new(&FeatureConfig::default(), 8000).expect("valid");
        assert_eq!(ex.output_shape(160_000), [128, 1 + 160_000 / 512]);
    }

    #[test]
    fn mel_peak_follows_the_tone() {
        let ex = FeatureExtractor::new(&FeatureConfig::default(), 8000).expect("valid");
        let low = ex.compute(&sine(200.0, 8000, 8000));
        let high = ex.compute(&sine(3000.0, 8000, 8000));
        let peak = |s: &Array2<f32>| {
            s.column(8)
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(m, _)| m)
                .unwrap_or(0)
        };
        let (pl, ph) = (peak(&low), peak(&high));
        assert!(pl < ph, "{pl} vs {ph}");
        let centre_hz = |m: usize| mel::mel_frequencies(130, 0.0, 4000.0, false)[m + 1];
        assert!((centre_hz(pl) - 200.0).abs() < 40.0, "{}", centre_hz(pl));
        assert!((centre_hz(ph) - 3000.0).abs() < 100.0, "{}", centre_hz(ph));
    }

    #[test]
    fn db_and_log_kinds_are_consistent() {
        let y = sine(440.0, 8000, 4000);
        let stft = FeatureExtractor::new(&FeatureConfig::with_kind(FeatureKind::Stft), 8000)
            .expect("valid");
        let log = FeatureExtractor::new(&FeatureConfig::with_kind(FeatureKind::LogStft), 8000)
            .expect("valid");
        let db = FeatureExtractor::new(
            &FeatureConfig {
                db: true,
                ..FeatureConfig::with_kind(FeatureKind::Stft)
            },
            8000,
        )
        .expect("valid");
        let (s, l, d) = (stft.compute(&y), log.compute(&y), db.compute(&y));
        assert!(
            l.iter()
                .zip(&s)
                .all(|(&l, &s)| (l - s.ln_1p()).abs() <= 1e-6 * l.abs())
        );
        let max_db = d.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min_db = d.iter().copied().fold(f32::INFINITY, f32::min);
        assert_eq!(max_db, 0.0);
        assert!((min_db + 80.0).abs() < 1e-4, "{min_db}");
    }

    #[test]
    fn a_foreign_scratch_is_replaced_not_misused() {
        let y = sine(440.0, 8000, 5000);
        let mel = FeatureExtractor::new(&FeatureConfig::default(), 8000).expect("valid");
        let stft512 = FeatureExtractor::new(
            &FeatureConfig {
                n_fft: 512,
                ..FeatureConfig::with_kind(FeatureKind::Stft)
            },
            8000,
        )
        .expect("valid");
        let mut scratch = stft512.scratch();
        assert_eq!(mel.compute_with_scratch(&y, &mut scratch), mel.compute(&y));
        let mut scratch = mel.scratch();
        assert_eq!(
            stft512.compute_with_scratch(&y, &mut scratch),
            stft512.compute(&y)
        );
    }

    fn mel_db_512() -> FeatureConfig {
        FeatureConfig {
            n_fft: 512,
            hop_length: 128,
            n_mels: 64,
            fmin: 50.0,
            db: true,
            ..FeatureConfig::default()
        }
    }

    fn logstft_128() -> FeatureConfig {
        FeatureConfig {
            n_fft: 128,
            hop_length: 128,
            ..FeatureConfig::with_kind(FeatureKind::LogStft)
        }
    }

    #[test]
    fn a_stack_is_its_parts_one_above_the_other() {
        let y = sine(440.0, 8000, 16_000);
        let parts = [mel_db_512(), logstft_128()];
        let stack = FeatureExtractor::stacked(&parts, 8000).expect("valid");
        let top = FeatureExtractor::new(&parts[0], 8000).expect("valid");
        let bottom = FeatureExtractor::new(&parts[1], 8000).expect("valid");
        let (s, t, b) = (stack.compute(&y), top.compute(&y), bottom.compute(&y));
        assert_eq!(stack.output_shape(y.len()), [64 + 65, t.ncols()]);
        assert_eq!(s.dim(), (64 + 65, t.ncols()));
        assert_eq!(s.slice_axis(Axis(0), Slice::from(..64)), t);
        assert_eq!(s.slice_axis(Axis(0), Slice::from(64..)), b);
        assert_eq!(stack.config(), &parts[0]);
        assert_eq!(stack.part_configs().cloned().collect::<Vec<_>>(), parts);
        // A scratch of the single extractor is replaced, not misused.
        let mut scratch = top.scratch();
        assert_eq!(stack.compute_with_scratch(&y, &mut scratch), s);
        assert_eq!(stack.compute_many(&[&y[..8000], &y[..]])[1], s);
        // One config is the plain extractor.
        let one = FeatureExtractor::stacked(&parts[..1], 8000).expect("valid");
        assert_eq!(one.compute(&y), t);
    }

    #[test]
    fn a_stack_whose_frames_would_not_line_up_is_refused() {
        let message = |parts: &[FeatureConfig]| {
            FeatureExtractor::stacked(parts, 8000)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let m = message(&[]);
        assert!(m.contains("needs at least one config"), "{m}");
        let m = message(&[
            mel_db_512(),
            FeatureConfig {
                hop_length: 64,
                ..logstft_128()
            },
        ]);
        assert!(
            m.contains("stacked spectrogram 2 must have the first one's frames"),
            "{m}"
        );
        assert!(m.contains("got hop_length 64"), "{m}");
        let m = message(&[
            mel_db_512(),
            FeatureConfig {
                n_fft: 127,
                ..logstft_128()
            },
        ]);
        assert!(m.contains("even n_fft"), "{m}");
        let uncentred = FeatureConfig {
            center: false,
            ..mel_db_512()
        };
        let m = message(&[
            uncentred.clone(),
            FeatureConfig {
                center: false,
                ..logstft_128()
            },
        ]);
        assert!(
            m.contains("got hop_length 128, center false, n_fft 128"),
            "{m}"
        );
        assert!(FeatureExtractor::stacked(&[uncentred.clone(), uncentred], 8000).is_ok());
        let m = message(&[
            mel_db_512(),
            FeatureConfig {
                n_mels: 0,
                ..mel_db_512()
            },
        ]);
        assert_eq!(
            m,
            "invalid feature parameter: stacked spectrogram 2: n_mels must be in 1..=1024, got 0"
        );
    }

    #[test]
    fn compute_many_equals_compute() {
        let signals: Vec<Vec<f32>> = (1..6)
            .map(|k| sine(100.0 * k as f64, 8000, 3000 + 700 * k))
            .collect();
        let ex = FeatureExtractor::new(&FeatureConfig::default(), 8000).expect("valid");
        let many = ex.compute_many(&signals);
        for (s, m) in signals.iter().zip(&many) {
            assert_eq!(&ex.compute(s), m);
        }
    }
}

//! Spectrogram features for lungsound, matching librosa 0.11.
//!
//! The stage after `lungsound-datasets` in the pipeline (which it uses only
//! for offline augmentation of a segmented folder, [`augment::augment_folder`]):
//! decoded mono samples from `lungsound-audio` go in, `ndarray::Array2<f32>`
//! spectrograms shaped `[n_freq, n_frames]` (librosa's orientation) come out,
//! for `lungsound-infer`'s feature cache and the CLI's `features` command.
//!
//! - [`FeatureConfig`] / [`FeatureKind`]: what to compute; defaults are librosa 0.11's
//!   (`n_fft` 2048, `hop_length` 512, periodic Hann, centred with zero padding,
//!   128 Slaney mels with Slaney norm, `fmax = sr / 2`).
//! - [`FeatureExtractor`]: validated config with window, FFT plan and sparse mel
//!   filterbank precomputed; `Send + Sync`, one per sample rate, shared by threads.
//! - Building blocks with librosa's names: [`stft_magnitude`], [`melspectrogram`],
//!   [`mel::filterbank`], [`power_to_db`], [`amplitude_to_db`], [`pcen()`], [`window::hann`].
//! - Export: [`write_npy`] / [`read_npy`] (float32 `.npy`), [`write_png`] ([`Colormap`]);
//!   [`export`]: a recording's (or a folder's) spectrogram files, `lungsound features`'s work.
//!
//! Agreement with librosa is checked against reference outputs in
//! `tests/fixtures/librosa-0.11/` (made by `scripts/fixtures/make_librosa_fixtures.py`).
//!
//! ```
//! use lungsound_features::{FeatureConfig, FeatureExtractor, FeatureKind};
//! let config = FeatureConfig { kind: FeatureKind::Mel, db: true, ..FeatureConfig::default() };
//! let extractor = FeatureExtractor::new(&config, 8000)?;
//! let samples: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.3).sin()).collect();
//! let mel_db = extractor.compute(&samples);
//! assert_eq!(mel_db.dim(), (128, 1 + 16_000 / 512));
//! # Ok::<(), lungsound_features::Error>(())
//! ```
#![deny(missing_docs)]

pub mod augment;
mod config;
pub mod db;
mod error;
pub mod export;
mod extractor;
pub mod filter;
pub mod mel;
mod npy;
pub mod pcen;
mod png;
mod stft;
pub mod window;

pub use augment::{AugmentConfig, Augmentation};
pub use config::{FeatureConfig, FeatureKind, MAX_N_FFT, MAX_N_MELS, MAX_SAMPLE_RATE};
pub use db::{DbRef, amplitude_to_db, power_to_db};
pub use error::Error;
pub use extractor::{FeatureExtractor, Scratch, melspectrogram};
pub use filter::Butterworth;
pub use mel::MelNorm;
pub use npy::{read_npy, write_npy};
pub use pcen::{PcenParams, pcen};
pub use png::{Colormap, to_image, write_png, write_png_resized};
pub use stft::stft_magnitude;

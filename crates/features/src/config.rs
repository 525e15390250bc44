//! What to compute: [`FeatureKind`] and [`FeatureConfig`].
//!
//! Every default is librosa 0.11's, so `FeatureConfig::default()` with
//! `kind: Mel` is `librosa.feature.melspectrogram(y=y, sr=sr)`.

use serde::{Deserialize, Serialize};

use crate::db::TOP_DB;
use crate::error::{Error, invalid};
use crate::mel::MelNorm;
use crate::pcen::PcenParams;

/// Which spectrogram to compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// Mel power spectrogram, `[n_mels, n_frames]`
    /// (`librosa.feature.melspectrogram`, `power=2`).
    #[default]
    Mel,
    /// STFT magnitude `|S|`, `[1 + n_fft / 2, n_frames]` (`np.abs(librosa.stft(y))`).
    Stft,
    /// `log1p(|S|)`, `[1 + n_fft / 2, n_frames]` (`np.log1p(np.abs(librosa.stft(y)))`).
    LogStft,
}

impl std::str::FromStr for FeatureKind {
    type Err = Error;

    /// `"mel"`, `"stft"` or `"logstft"` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mel" => Ok(FeatureKind::Mel),
            "stft" => Ok(FeatureKind::Stft),
            "logstft" => Ok(FeatureKind::LogStft),
            _ => Err(Error::Parse(format!(
                "unknown feature kind {s:?} (expected mel, stft or logstft)"
            ))),
        }
    }
}

impl std::fmt::Display for FeatureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FeatureKind::Mel => "mel",
            FeatureKind::Stft => "stft",
            FeatureKind::LogStft => "logstft",
        })
    }
}

/// Spectrogram parameters. Field names and defaults are librosa 0.11's.
///
/// Validated by [`crate::FeatureExtractor::new`] (see [`FeatureConfig::validate`]).
/// Missing fields deserialize to their defaults; unknown fields are errors
/// (a misspelt `n_mel` must not silently leave `n_mels` at its default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// Which spectrogram. Default [`FeatureKind::Mel`].
    pub kind: FeatureKind,
    /// FFT size in samples (`n_fft`); any size >= 2 (not only powers of two).
    /// Gives `1 + n_fft / 2` frequency bins. Default 2048 (librosa).
    pub n_fft: usize,
    /// Samples between frame starts (`hop_length`), > 0. Default 512
    /// (librosa's `win_length // 4` for the default window).
    pub hop_length: usize,
    /// Hann window length (`win_length`) in `1..=n_fft`, zero-padded to `n_fft`
    /// in the middle. `None` (default) means `n_fft`.
    pub win_length: Option<usize>,
    /// Number of mel bands (`n_mels`), > 0; mel only. Default 128 (librosa).
    pub n_mels: usize,
    /// Lowest mel band edge in Hz (`fmin`), in `[0, fmax)`; mel only. Default 0.
    pub fmin: f32,
    /// Highest mel band edge in Hz (`fmax`), at most `sample_rate / 2`; mel only.
    /// `None` (default) means `sample_rate / 2`.
    pub fmax: Option<f32>,
    /// HTK mel scale instead of Slaney's (`htk`); mel only. Default false.
    pub htk: bool,
    /// Mel filter normalisation (`norm`); mel only. Default [`MelNorm::Slaney`].
    pub norm: MelNorm,
    /// Convert to dB relative to the spectrogram's maximum: `power_to_db(ref=np.max,
    /// amin=1e-10)` for mel, `amplitude_to_db(ref=np.max, amin=1e-5)` (20 log10) for
    /// stft. Not allowed with logstft, which is already log-compressed. Default false
    /// (librosa's `melspectrogram` returns power).
    pub db: bool,
    /// With `db`: keep this many dB below the maximum (`top_db`), >= 0; `None` keeps
    /// everything down to `amin`. Default `Some(80.0)` (librosa).
    pub top_db: Option<f32>,
    /// Pad `n_fft / 2` zeros on each side so frame `t` is centred at `t * hop_length`
    /// (`center=True, pad_mode="constant"`, librosa 0.11's defaults). Default true.
    pub center: bool,
    /// Per-channel energy normalisation instead of dB (mel only, without `db`):
    /// `librosa.pcen(melspectrogram(power=1) * 2**31, sr, hop_length, ...)` with these
    /// parameters, the recipe of librosa's documentation (see [`crate::pcen`]). Default
    /// none. Absent from the serialized config when unset, so configs written before it
    /// existed (and feature caches keyed by them) stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcen: Option<PcenParams>,
}

/// The largest `n_fft` (and `hop_length`, `win_length`) accepted: 2^16 samples, 1.5 s at
/// 44.1 kHz, 8 s at 8 kHz — far past any spectrogram of a breath, and small enough that a
/// mistyped value cannot make the window and FFT buffers take gigabytes.
pub const MAX_N_FFT: usize = 1 << 16;
/// The highest sample rate accepted, in Hz (the decoder's upper limit too).
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// The largest `n_mels` accepted.
pub const MAX_N_MELS: usize = 1024;

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            kind: FeatureKind::Mel,
            n_fft: 2048,
            hop_length: 512,
            win_length: None,
            // The one literal 128 in the project: librosa 0.11's n_mels default.
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            htk: false,
            norm: MelNorm::Slaney,
            db: false,
            top_db: Some(TOP_DB),
            center: true,
            pcen: None,
        }
    }
}

impl FeatureConfig {
    /// Defaults with the given kind.
    pub fn with_kind(kind: FeatureKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// `win_length`, or `n_fft` when unset.
    pub fn resolved_win_length(&self) -> usize {
        self.win_length.unwrap_or(self.n_fft)
    }

    /// `fmax`, or `sample_rate / 2` when unset.
    pub fn resolved_fmax(&self, sample_rate: u32) -> f32 {
        self.fmax.unwrap_or(sample_rate as f32 / 2.0)
    }

    /// Check every rule for audio at `sample_rate` Hz; the error states the rule and the value.
    ///
    /// Mel-only fields are checked only for [`FeatureKind::Mel`].
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] on the first broken rule.
    pub fn validate(&self, sample_rate: u32) -> Result<(), Error> {
        if !(1..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return invalid!("sample_rate must be in 1..={MAX_SAMPLE_RATE} Hz, got {sample_rate}");
        }
        if !(2..=MAX_N_FFT).contains(&self.n_fft) {
            return invalid!("n_fft must be in 2..={MAX_N_FFT}, got {}", self.n_fft);
        }
        if !(1..=MAX_N_FFT).contains(&self.hop_length) {
            return invalid!(
                "hop_length must be in 1..={MAX_N_FFT}, got {}",
                self.hop_length
            );
        }
        let win_length = self.resolved_win_length();
        if win_length == 0 || win_length > self.n_fft {
            return invalid!(
                "win_length must be in 1..=n_fft ({}), got {win_length}",
                self.n_fft
            );
        }
        if self.kind == FeatureKind::Mel {
            if !(1..=MAX_N_MELS).contains(&self.n_mels) {
                return invalid!("n_mels must be in 1..={MAX_N_MELS}, got {}", self.n_mels);
            }
            let nyquist = sample_rate as f32 / 2.0;
            if !(self.fmin >= 0.0 && self.fmin.is_finite()) {
                return invalid!("fmin must be >= 0 Hz, got {}", self.fmin);
            }
            let fmax = self.resolved_fmax(sample_rate);
            if fmax.is_nan() || fmax > nyquist {
                return invalid!(
                    "fmax must be <= sample_rate / 2 ({nyquist} Hz at {sample_rate} Hz), got {fmax}"
                );
            }
            if self.fmin >= fmax {
                return invalid!("fmin ({} Hz) must be < fmax ({fmax} Hz)", self.fmin);
            }
        }
        if self.db && self.kind == FeatureKind::LogStft {
            return invalid!(
                "db applies to mel (power_to_db) and stft (amplitude_to_db), not to logstft, which is \
                 already log1p-compressed; use kind stft with db for a dB STFT"
            );
        }
        if let Some(top_db) = self.top_db
            && !(top_db >= 0.0 && top_db.is_finite())
        {
            return invalid!("top_db must be >= 0 dB (or unset), got {top_db}");
        }
        if let Some(pcen) = &self.pcen {
            if self.kind != FeatureKind::Mel {
                return invalid!("pcen applies to kind mel only, got kind {}", self.kind);
            }
            if self.db {
                return invalid!(
                    "pcen replaces the dB scale: set db = false (or drop pcen) for a mel spectrogram"
                );
            }
            pcen.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(cfg: &FeatureConfig, sample_rate: u32) -> String {
        cfg.validate(sample_rate)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn defaults_are_librosa_0_11() {
        let cfg = FeatureConfig::default();
        assert_eq!(
            (
                cfg.kind,
                cfg.n_fft,
                cfg.hop_length,
                cfg.resolved_win_length(),
                cfg.n_mels
            ),
            (FeatureKind::Mel, 2048, 512, 2048, 128)
        );
        assert_eq!(
            (cfg.fmin, cfg.resolved_fmax(8000), cfg.htk, cfg.norm),
            (0.0, 4000.0, false, MelNorm::Slaney)
        );
        assert!(cfg.center && !cfg.db);
        assert_eq!(cfg.top_db, Some(80.0));
        assert!(cfg.validate(8000).is_ok());
    }

    #[test]
    fn kinds_parse_and_print() {
        for (s, kind) in [
            ("mel", FeatureKind::Mel),
            ("stft", FeatureKind::Stft),
            ("logstft", FeatureKind::LogStft),
        ] {
            assert_eq!(s.parse::<FeatureKind>().ok(), Some(kind));
            assert_eq!(kind.to_string(), s);
        }
        let err = "mfcc".parse::<FeatureKind>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown feature kind \"mfcc\" (expected mel, stft or logstft)")
        );
    }

    #[test]
    fn invalid_values_are_named_in_the_message() {
        let base = FeatureConfig::default();
        let m = message(
            &FeatureConfig {
                n_mels: 0,
                ..base.clone()
            },
            8000,
        );
        assert!(m.contains("n_mels must be in 1..=1024, got 0"), "{m}");
        let m = message(
            &FeatureConfig {
                fmax: Some(5000.0),
                ..base.clone()
            },
            8000,
        );
        assert!(
            m.contains("fmax must be <= sample_rate / 2 (4000 Hz at 8000 Hz), got 5000"),
            "{m}"
        );
        let m = message(
            &FeatureConfig {
                hop_length: 0,
                ..base.clone()
            },
            8000,
        );
        assert!(m.contains("hop_length must be in 1..=65536, got 0"), "{m}");
        // Runaway sizes are refused before anything is allocated.
        for (config, words) in [
            (
                FeatureConfig {
                    n_fft: 100_000_000,
                    ..base.clone()
                },
                "n_fft must be in 2..=65536, got 100000000",
            ),
            (
                FeatureConfig {
                    n_mels: 1 << 20,
                    ..base.clone()
                },
                "n_mels must be in 1..=1024",
            ),
        ] {
            let m = message(&config, 8000);
            assert!(m.contains(words), "{m}");
        }
        let m = message(&base, 2_000_000_000);
        assert!(
            m.contains("sample_rate must be in 1..=384000 Hz, got 2000000000"),
            "{m}"
        );
        let m = message(
            &FeatureConfig {
                fmin: 3000.0,
                fmax: Some(2000.0),
                ..base.clone()
            },
            8000,
        );
        assert!(m.contains("fmin (3000 Hz) must be < fmax (2000 Hz)"), "{m}");
        let m = message(
            &FeatureConfig {
                win_length: Some(4096),
                ..base.clone()
            },
            8000,
        );
        assert!(m.contains("got 4096"), "{m}");
        let m = message(
            &FeatureConfig {
                kind: FeatureKind::LogStft,
                db: true,
                ..base.clone()
            },
            8000,
        );
        assert!(m.contains("not to logstft"), "{m}");
        assert!(message(&base, 0).contains("sample_rate must be in 1..=384000 Hz, got 0"));
        // Mel-only rules do not apply to STFT kinds.
        assert!(
            FeatureConfig {
                n_mels: 0,
                ..FeatureConfig::with_kind(FeatureKind::Stft)
            }
            .validate(8000)
            .is_ok()
        );
    }

    #[test]
    fn serde_round_trip_and_defaults_for_missing_fields() {
        let cfg = FeatureConfig {
            kind: FeatureKind::LogStft,
            n_fft: 1000,
            ..FeatureConfig::default()
        };
        let json = serde_json::to_string(&cfg).expect("serialize");
        assert!(json.contains("\"kind\":\"logstft\""), "{json}");
        let back: FeatureConfig = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, cfg);
        let partial: FeatureConfig =
            serde_json::from_str(r#"{"n_mels": 64, "norm": "none"}"#).expect("deserialize");
        assert_eq!(
            (partial.n_mels, partial.norm, partial.n_fft),
            (64, MelNorm::None, 2048)
        );
        let typo = serde_json::from_str::<FeatureConfig>(r#"{"n_mel": 64}"#)
            .expect_err("unknown field")
            .to_string();
        assert!(typo.contains("n_mel"), "{typo}");
    }

    #[test]
    fn pcen_is_absent_from_json_when_unset_and_round_trips_when_set() {
        let json = serde_json::to_string(&FeatureConfig::default()).expect("serialize");
        assert!(!json.contains("pcen"), "{json}");
        let cfg: FeatureConfig =
            serde_json::from_str(r#"{"pcen": {"time_constant": 0.06}}"#).expect("deserialize");
        let pcen = cfg.pcen.expect("pcen set");
        assert_eq!(
            (pcen.time_constant, pcen.gain),
            (0.06, PcenParams::default().gain)
        );
        let back: FeatureConfig =
            serde_json::from_str(&serde_json::to_string(&cfg).expect("serialize")).expect("read");
        assert_eq!(back, cfg);
        let typo = serde_json::from_str::<FeatureConfig>(r#"{"pcen": {"gian": 1.0}}"#)
            .expect_err("unknown field")
            .to_string();
        assert!(typo.contains("gian"), "{typo}");
    }

    #[test]
    fn pcen_needs_a_mel_spectrogram_without_db() {
        let pcen = Some(PcenParams::default());
        let ok = FeatureConfig {
            pcen,
            ..FeatureConfig::default()
        };
        assert!(ok.validate(8000).is_ok());
        let with_db = message(
            &FeatureConfig {
                db: true,
                ..ok.clone()
            },
            8000,
        );
        assert!(
            with_db.contains("pcen") && with_db.contains("db"),
            "{with_db}"
        );
        let stft = message(
            &FeatureConfig {
                kind: FeatureKind::Stft,
                ..ok.clone()
            },
            8000,
        );
        assert!(stft.contains("pcen") && stft.contains("stft"), "{stft}");
        let bad = PcenParams {
            eps: -1.0,
            ..PcenParams::default()
        };
        let eps = message(
            &FeatureConfig {
                pcen: Some(bad),
                ..ok
            },
            8000,
        );
        assert!(eps.contains("eps"), "{eps}");
    }
}

//! The value types: what a header says ([`AudioInfo`]) and decoded mono audio ([`Audio`]).

use std::fmt;

/// The container/codec of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// RIFF WAVE with PCM (integer) or IEEE float samples.
    Wav,
    /// Free Lossless Audio Codec.
    Flac,
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::Wav => "wav",
            Codec::Flac => "flac",
        })
    }
}

/// How samples are stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// Integer PCM (8-bit WAV is unsigned, everything else signed).
    Int,
    /// IEEE floating point (32 or 64 bit WAV).
    Float,
    /// 8-bit G.711 µ-law (WAV format 7), decoded to 16-bit values.
    MuLaw,
    /// 8-bit G.711 A-law (WAV format 6), decoded to 16-bit values.
    ALaw,
}

impl fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SampleFormat::Int => "int",
            SampleFormat::Float => "float",
            SampleFormat::MuLaw => "mu-law",
            SampleFormat::ALaw => "a-law",
        })
    }
}

/// What a file's header says about its audio, as returned by [`crate::probe`] and
/// [`crate::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioInfo {
    /// Frames per second, in Hz.
    pub sample_rate: u32,
    /// Number of interleaved channels in the file (the decoded [`Audio`] is always mono).
    pub channels: u16,
    /// Bits per sample as stored (8, 16, 24, 32 or 64); `None` if the header does not say.
    pub bits_per_sample: Option<u32>,
    /// Integer or floating-point samples.
    pub sample_format: SampleFormat,
    /// Frames per channel. From the header for [`crate::probe`]; the number actually decoded
    /// for [`crate::load`] (the two agree, otherwise `load` fails).
    pub n_frames: u64,
    /// WAV or FLAC.
    pub codec: Codec,
    /// Repairs made while reading a damaged or unusual header, one sentence each (a wrong
    /// WAV `block_align`, a `data` chunk longer than the file, ...): the file was read as
    /// libsndfile reads it, and these say how. Empty for a clean file.
    pub notes: Vec<String>,
}

impl AudioInfo {
    /// Duration in seconds: `n_frames / sample_rate` (0 when the sample rate is 0).
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.n_frames as f64 / f64::from(self.sample_rate)
        }
    }
}

/// Mono audio with samples in [-1, 1].
///
/// Integer files are scaled like librosa/soundfile: i16 / 32768, i24 / 2^23, i32 / 2^31,
/// u8 as (x - 128) / 128. Float files are passed through (and may exceed ±1).
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// The samples, one per frame.
    pub samples: Vec<f32>,
    /// Frames per second, in Hz.
    pub sample_rate: u32,
}

impl Audio {
    /// Duration in seconds: `samples.len() / sample_rate` (0 when the sample rate is 0).
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.samples.len() as f64 / f64::from(self.sample_rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_divide_frames_by_rate_and_survive_zero_rate() {
        let info = AudioInfo {
            sample_rate: 8000,
            channels: 2,
            bits_per_sample: Some(16),
            sample_format: SampleFormat::Int,
            n_frames: 12_000,
            codec: Codec::Wav,
            notes: Vec::new(),
        };
        assert_eq!(info.duration_s(), 1.5);
        assert_eq!(
            AudioInfo {
                sample_rate: 0,
                ..info.clone()
            }
            .duration_s(),
            0.0
        );
        let audio = Audio {
            samples: vec![0.0; 4000],
            sample_rate: 8000,
        };
        assert_eq!(audio.duration_s(), 0.5);
        assert_eq!(
            Audio {
                samples: vec![0.0; 3],
                sample_rate: 0
            }
            .duration_s(),
            0.0
        );
    }

    #[test]
    fn display_is_lowercase() {
        assert_eq!(Codec::Flac.to_string(), "flac");
        assert_eq!(SampleFormat::Float.to_string(), "float");
    }
}

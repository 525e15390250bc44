//! The crate's error type.
//!
//! Every variant that concerns a file carries its path (for [`crate::decode_bytes`], the
//! name the caller gave), and its message quotes what is wrong, so a caller can print an
//! error on its own and the user knows which file to look at.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong reading, resampling or writing audio.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read (missing, unreadable, a directory, ...).
    #[error("cannot read \"{}\": {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// The file has 0 bytes.
    #[error("\"{}\" is empty (0 bytes)", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },

    /// The file is not a WAV or FLAC file at all (for example a text file renamed `.wav`).
    #[error("\"{}\" is not a WAV or FLAC file: {detail}", path.display())]
    NotAudio {
        /// The file.
        path: PathBuf,
        /// What was found instead (the first bytes).
        detail: String,
    },

    /// A WAV or FLAC file whose encoding this crate cannot decode (ADPCM, RF64, ...).
    #[error("\"{}\" uses an unsupported audio format: {detail}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is unsupported, as the decoder reported it.
        detail: String,
    },

    /// The header or the audio stream is damaged.
    #[error("\"{}\" is corrupt: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the decoder found wrong.
        detail: String,
    },

    /// The stream ends before the number of frames its header declares.
    #[error(
        "\"{}\" is truncated or corrupt: its header declares {expected} frames but only {decoded} could be decoded",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Frames per channel declared by the header.
        expected: u64,
        /// Frames per channel actually decoded.
        decoded: u64,
    },

    /// The header's sample rate is outside [`crate::SAMPLE_RATE_RANGE`] (0 Hz, 1 Hz,
    /// 4294967295 Hz: damaged or hostile headers).
    #[error(
        "\"{}\" has a sample rate of {sample_rate} Hz, outside the supported {}–{} Hz",
        path.display(),
        crate::SAMPLE_RATE_RANGE.start(),
        crate::SAMPLE_RATE_RANGE.end()
    )]
    SampleRateOutOfRange {
        /// The file.
        path: PathBuf,
        /// The rate its header gives.
        sample_rate: u32,
    },

    /// The audio lasts longer than the caller's limit ([`crate::decode_bytes_with_limit`]).
    #[error("\"{}\" lasts more than {max_seconds} s, the limit here", path.display())]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The limit in seconds.
        max_seconds: f64,
    },

    /// A well-formed file that holds no audio frames.
    #[error("\"{}\" contains no audio samples (0 frames)", path.display())]
    NoSamples {
        /// The file.
        path: PathBuf,
    },

    /// A floating-point file holds NaN or infinite samples.
    #[error(
        "\"{}\" contains a non-finite sample ({value}) at frame {frame} ({time_s:.3} s)",
        path.display()
    )]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// Index of the first offending frame (after mixdown to mono).
        frame: u64,
        /// Its time in seconds.
        time_s: f64,
        /// The offending value (NaN, inf or -inf).
        value: f32,
    },

    /// `write_wav` was given NaN or infinite samples.
    #[error(
        "refusing to write \"{}\": sample {index} is non-finite ({value})",
        path.display()
    )]
    NonFiniteInput {
        /// The file that was to be written.
        path: PathBuf,
        /// Index of the first offending sample.
        index: usize,
        /// The offending value.
        value: f32,
    },

    /// Writing a WAV file failed.
    #[error("cannot write \"{}\": {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: hound::Error,
    },

    /// A sample rate of 0 Hz was passed to `resample`, `load_resampled` or `write_wav`.
    #[error("{name} must be a positive sample rate in Hz, got {value}")]
    InvalidSampleRate {
        /// The parameter name (`from_hz`, `to_hz`, `sample_rate`).
        name: &'static str,
        /// The value given.
        value: u32,
    },

    /// The resampler refused the requested conversion.
    #[error("cannot resample from {from_hz} Hz to {to_hz} Hz: {detail}")]
    Resample {
        /// Input rate in Hz.
        from_hz: u32,
        /// Output rate in Hz.
        to_hz: u32,
        /// The resampler's message.
        detail: String,
    },
}

impl Error {
    /// The file this error concerns, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Read { path, .. }
            | Error::EmptyFile { path }
            | Error::NotAudio { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Corrupt { path, .. }
            | Error::Truncated { path, .. }
            | Error::NoSamples { path }
            | Error::SampleRateOutOfRange { path, .. }
            | Error::TooLong { path, .. }
            | Error::NonFinite { path, .. }
            | Error::NonFiniteInput { path, .. }
            | Error::Write { path, .. } => Some(path),
            Error::InvalidSampleRate { .. } | Error::Resample { .. } => None,
        }
    }
}

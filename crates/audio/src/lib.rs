//! Audio I/O for lungsound, the first stage of the pipeline: everything downstream
//! (`lungsound-datasets`, `-features`, `-train`, `-serve`) gets its samples from here.
//!
//! - [`load`] decodes WAV (8/16/24/32-bit integer, 32/64-bit float, µ-law, A-law, any
//!   channel count) and FLAC into mono `f32` [`Audio`] (channel mean, integers scaled like
//!   soundfile/librosa), and returns the file's [`AudioInfo`]; [`probe`] returns the same
//!   info without decoding where the header can be trusted; [`decode_bytes`] does the same
//!   for in-memory uploads.
//! - WAV is read as libsndfile reads it (our own RIFF reader, `wav.rs`): the frame size
//!   comes from channels × bits, not `block_align` (the SPRSound release's headers say 4 for
//!   mono 16-bit); a `data` chunk longer than the file is read to the end; the whole frames
//!   before a cut are kept. Each repair is a note in [`AudioInfo::notes`] and a warning.
//!   FLAC goes through symphonia.
//! - [`resample`] is a band-limited sinc resampler (rubato), time-aligned with its input,
//!   returning `round(len · to / from)` samples; [`load_resampled`] combines the two.
//! - [`to_mono`] mixes interleaved channels, [`write_wav`] writes 32-bit float mono WAV,
//!   [`is_audio_path`] recognises `.wav` / `.flac`.
//!
//! Damaged input is an [`Error`] naming the file: missing, empty, not audio, unsupported
//! encoding, corrupt or truncated FLAC stream, zero frames, NaN/inf samples, a sample rate
//! outside [`SAMPLE_RATE_RANGE`]. Oddities that do not
//! stop decoding (float samples beyond ±1, a streamed WAV without a length, an ID3 tag before
//! FLAC) are reported with `tracing::warn!`.
//!
//! ```no_run
//! # fn main() -> Result<(), lungsound_audio::Error> {
//! use std::path::Path;
//! let (audio, info) = lungsound_audio::load(Path::new("101_1b1_Al_sc_Meditron.wav"))?;
//! println!("{} Hz, {} channels, {:.1} s", info.sample_rate, info.channels, audio.duration_s());
//! let at_8k = lungsound_audio::resample(&audio.samples, audio.sample_rate, 8000)?;
//! # let _ = at_8k;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod adpcm;
mod container;
mod decode;
mod error;
mod info;
mod mono;
mod resample;
mod wav;
mod write;

pub use decode::{
    SAMPLE_RATE_RANGE, decode_bytes, decode_bytes_with_limit, is_audio_path, load, load_resampled,
    probe,
};
pub use error::Error;
pub use info::{Audio, AudioInfo, Codec, SampleFormat};
pub use mono::to_mono;
pub use resample::{resample, resampled_len};
pub use write::write_wav;

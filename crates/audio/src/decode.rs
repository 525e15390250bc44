//! Reading WAV and FLAC: header probing, decoding to mono `f32`, and the checks that turn
//! damaged files into errors instead of silently short or garbage audio.
//!
//! Both containers go through symphonia. The format is picked from the file's first bytes
//! (not its extension), so a text file renamed `.wav` is reported as such. Decoding appends
//! each packet straight into the output vector, mixing channels down on the way, so there is
//! no per-packet allocation on our side and no interleaved intermediate copy.

use std::fs::{self, File};
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{
    CODEC_TYPE_PCM_F32BE, CODEC_TYPE_PCM_F32LE, CODEC_TYPE_PCM_F64BE, CODEC_TYPE_PCM_F64LE,
    CodecParameters, DecoderOptions,
};
use symphonia::core::conv::IntoSample;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatReader;
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadBytes};
use symphonia::core::sample::Sample;

use crate::container::{open_flac_reader, sniff, stream_error, symphonia_error};
use crate::error::Error;
use crate::info::{Audio, AudioInfo, Codec, SampleFormat};
use crate::wav;

/// The sample rates lungsound decodes, in Hz: 1 kHz (below any stethoscope recording)
/// to 384 kHz (the highest rate audio interfaces record at). A header outside this range is
/// damaged or hostile (a rate of 1 Hz would make resampling to 8 kHz a huge job), so
/// decoding refuses it before reading any samples.
pub const SAMPLE_RATE_RANGE: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// Upper bound for the up-front allocation taken from a header's frame count, so that a
/// corrupt header claiming 2^36 frames cannot make us reserve terabytes (the vector still
/// grows past it for genuinely long files).
const MAX_RESERVE_FRAMES: u64 = 1 << 24;

/// What [`load`] would return as [`AudioInfo`], read as cheaply as possible.
///
/// For WAV only the chunk headers are read: the frame count is the number of whole frames
/// present in the file, exactly what [`load`] decodes (a `data` chunk that claims more than
/// the file holds is read up to the end of the file, as libsndfile does). A FLAC header's
/// frame count cannot be trusted (0 when unknown, the original length of a cut file,
/// 2^36 - 1 in broken writers), so a FLAC file is decoded to count its frames, and fails here
/// as [`load`] would.
///
/// `n_frames` may be 0 for a WAV whose `data` chunk is empty; [`load`] rejects such files.
pub fn probe(path: &Path) -> Result<AudioInfo, Error> {
    let mut file = open(path)?;
    let file_len = file.metadata().map_err(|e| read_error(path, e))?.len();
    if file_len == 0 {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let mut head = [0u8; 12];
    let n_head = read_up_to(&mut file, &mut head).map_err(|e| read_error(path, e))?;
    let (codec, _) = sniff(&head[..n_head], file_len, path)?;
    match codec {
        Codec::Wav => {
            let layout = wav::read_layout(&mut file, file_len, path)?;
            log_notes(&layout.notes, path);
            Ok(wav_info(&layout, layout.n_frames()))
        }
        // A FLAC header's frame count can be wrong (0, 2^36 - 1, or a cut file's original
        // length): decoding is the only way to tell the truth, and it is fast.
        Codec::Flac => load(path).map(|(_, info)| info),
    }
}

/// Decodes a WAV or FLAC file to mono `f32` (channel mean), scaled like soundfile/librosa.
///
/// The returned [`AudioInfo`] describes the file; its `n_frames` is the number of frames
/// decoded, which equals `audio.samples.len()`.
///
/// # Errors
/// Each naming the file: unreadable or missing ([`Error::Read`]), 0 bytes
/// ([`Error::EmptyFile`]), not WAV/FLAC ([`Error::NotAudio`]), an encoding we cannot decode
/// ([`Error::Unsupported`]), a damaged header or stream ([`Error::Corrupt`]), fewer frames
/// than a FLAC header declares ([`Error::Truncated`]), no frames at all
/// ([`Error::NoSamples`]), NaN or infinite samples ([`Error::NonFinite`]), a sample rate
/// outside [`SAMPLE_RATE_RANGE`] ([`Error::SampleRateOutOfRange`]).
///
/// WAV files are read as libsndfile reads them (see [`AudioInfo::notes`] for the repairs
/// that takes: a wrong `block_align`, a `data` chunk longer than the file, a cut frame).
pub fn load(path: &Path) -> Result<(Audio, AudioInfo), Error> {
    let meta = fs::metadata(path).map_err(|e| read_error(path, e))?;
    if meta.is_dir() {
        return Err(read_error(path, io::Error::other("is a directory")));
    }
    let bytes = fs::read(path).map_err(|e| read_error(path, e))?;
    decode_owned(bytes, path, None)
}

/// Like [`load`], then resamples to `sample_rate` Hz with [`crate::resample`] when the file's
/// rate differs.
pub fn load_resampled(path: &Path, sample_rate: u32) -> Result<Audio, Error> {
    if sample_rate == 0 {
        return Err(Error::InvalidSampleRate {
            name: "sample_rate",
            value: 0,
        });
    }
    let (audio, _) = load(path)?;
    if audio.sample_rate == sample_rate {
        return Ok(audio);
    }
    let samples = crate::resample::resample(&audio.samples, audio.sample_rate, sample_rate)?;
    Ok(Audio {
        samples,
        sample_rate,
    })
}

/// Decodes a WAV or FLAC file held in memory (an HTTP upload, say), exactly as [`load`]
/// does; `name` stands in for the path in errors and log messages.
pub fn decode_bytes(bytes: &[u8], name: &str) -> Result<(Audio, AudioInfo), Error> {
    decode_owned(bytes.to_vec(), Path::new(name), None)
}

/// [`decode_bytes`] that gives up with [`Error::TooLong`] as soon as the audio is known to
/// last more than `max_seconds`: from the header for WAV, while decoding for FLAC (whose
/// header may lie or say nothing, so a small upload of constant frames could otherwise
/// expand into gigabytes of samples). For services that take files from anyone.
pub fn decode_bytes_with_limit(
    bytes: &[u8],
    name: &str,
    max_seconds: f64,
) -> Result<(Audio, AudioInfo), Error> {
    decode_owned(bytes.to_vec(), Path::new(name), Some(max_seconds))
}

/// `true` for paths ending in `.wav` or `.flac`, in any case.
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("flac"))
}

fn decode_owned(
    bytes: Vec<u8>,
    path: &Path,
    max_seconds: Option<f64>,
) -> Result<(Audio, AudioInfo), Error> {
    if bytes.is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let (codec, skip) = sniff(&bytes, bytes.len() as u64, path)?;
    if codec == Codec::Wav {
        let layout = wav::read_layout(&mut Cursor::new(&bytes[..]), bytes.len() as u64, path)?;
        log_notes(&layout.notes, path);
        if let Some(max) = max_seconds
            && layout.n_frames() as f64 > max * f64::from(layout.sample_rate)
        {
            return Err(too_long(path, max));
        }
        return decode_wav(&bytes, layout, path);
    }
    decode_flac(bytes, skip, path, max_seconds)
}

fn too_long(path: &Path, max_seconds: f64) -> Error {
    Error::TooLong {
        path: path.to_path_buf(),
        max_seconds,
    }
}

/// Decodes FLAC with symphonia.
fn decode_flac(
    bytes: Vec<u8>,
    skip: u64,
    path: &Path,
    max_seconds: Option<f64>,
) -> Result<(Audio, AudioInfo), Error> {
    let codec = Codec::Flac;
    let source: Box<dyn MediaSource> = Box::new(Cursor::new(bytes));
    let mut mss = MediaSourceStream::new(source, Default::default());
    mss.ignore_bytes(skip)
        .map_err(|e| symphonia_error(SymError::IoError(e), path))?;
    let mut reader = open_flac_reader(mss, path)?;
    let header = Header::from_reader(reader.as_ref(), codec, path)?;

    let mut decoder = symphonia::default::get_codecs()
        .make(&header.params, &DecoderOptions::default())
        .map_err(|e| symphonia_error(e, path))?;

    let reserve = header.n_frames.unwrap_or(0).min(MAX_RESERVE_FRAMES);
    let mut samples: Vec<f32> = Vec::with_capacity(reserve as usize);
    let mut cut_inside_frame = false;
    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            // symphonia signals the end of the stream with UnexpectedEof; whether it came
            // early is decided below by comparing with the header's frame count.
            Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(stream_error(e, path, samples.len())),
        };
        if packet.track_id() != header.track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                append_mono(buffer, &mut samples);
                if let Some(max) = max_seconds
                    && samples.len() as f64 > max * f64::from(header.info.sample_rate)
                {
                    return Err(too_long(path, max));
                }
            }
            Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                cut_inside_frame = true;
                break;
            }
            Err(e) => return Err(stream_error(e, path, samples.len())),
        }
    }

    let decoded = samples.len() as u64;
    match header.n_frames {
        Some(expected) if decoded < expected => {
            return Err(Error::Truncated {
                path: path.to_path_buf(),
                expected,
                decoded,
            });
        }
        Some(expected) if decoded > expected => tracing::warn!(
            "{}: decoded {decoded} frames but the header declares {expected}",
            path.display()
        ),
        None if cut_inside_frame => {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                detail: format!(
                    "the stream ends inside a frame after {decoded} frames (truncated file?)"
                ),
            });
        }
        _ => {}
    }
    if decoded == 0 {
        return Err(Error::NoSamples {
            path: path.to_path_buf(),
        });
    }
    let sample_rate = header.info.sample_rate;
    if header.info.sample_format == SampleFormat::Float {
        check_float_samples(&samples, sample_rate, path)?;
    }
    let info = AudioInfo {
        n_frames: decoded,
        ..header.info
    };
    Ok((
        Audio {
            samples,
            sample_rate,
        },
        info,
    ))
}

/// Decodes the samples of a PCM, float or G.711 WAV file held in memory, as libsndfile
/// would, given its `layout`.
fn decode_wav(
    bytes: &[u8],
    layout: wav::WavLayout,
    path: &Path,
) -> Result<(Audio, AudioInfo), Error> {
    let start = layout.data_offset as usize;
    let data = &bytes[start..start + layout.data_bytes as usize];
    let mut samples = Vec::new();
    layout
        .decode_samples(data, &mut samples)
        .map_err(|detail| Error::Corrupt {
            path: path.to_path_buf(),
            detail,
        })?;
    if samples.is_empty() {
        return Err(Error::NoSamples {
            path: path.to_path_buf(),
        });
    }
    if layout.encoding.sample_format() == SampleFormat::Float {
        check_float_samples(&samples, layout.sample_rate, path)?;
    }
    let info = wav_info(&layout, samples.len() as u64);
    Ok((
        Audio {
            samples,
            sample_rate: layout.sample_rate,
        },
        info,
    ))
}

fn wav_info(layout: &wav::WavLayout, n_frames: u64) -> AudioInfo {
    AudioInfo {
        sample_rate: layout.sample_rate,
        channels: layout.channels,
        bits_per_sample: Some(layout.bits_per_sample),
        sample_format: layout.encoding.sample_format(),
        n_frames,
        codec: Codec::Wav,
        notes: layout.notes.clone(),
    }
}

/// Logs each repair once for this file.
fn log_notes(notes: &[String], path: &Path) {
    for note in notes {
        tracing::warn!("{}: {note}", path.display());
    }
}

/// Refuses sample rates outside [`SAMPLE_RATE_RANGE`], naming the file.
pub(crate) fn check_sample_rate(sample_rate: u32, path: &Path) -> Result<(), Error> {
    if SAMPLE_RATE_RANGE.contains(&sample_rate) {
        Ok(())
    } else {
        Err(Error::SampleRateOutOfRange {
            path: path.to_path_buf(),
            sample_rate,
        })
    }
}

/// What we take from a format reader's track before decoding.
struct Header {
    info: AudioInfo,
    /// The header's frame count, `None` when it does not know.
    n_frames: Option<u64>,
    params: CodecParameters,
    track_id: u32,
}

impl Header {
    fn from_reader(reader: &dyn FormatReader, codec: Codec, path: &Path) -> Result<Header, Error> {
        let corrupt = |detail: &str| Error::Corrupt {
            path: path.to_path_buf(),
            detail: detail.to_string(),
        };
        let track = reader
            .default_track()
            .ok_or_else(|| corrupt("no audio track"))?;
        let params = track.codec_params.clone();
        if symphonia::default::get_codecs()
            .get_codec(params.codec)
            .is_none()
        {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                detail: format!("no decoder for codec {} in this build", params.codec),
            });
        }
        let sample_rate = match params.sample_rate {
            None => return Err(corrupt("the header gives no sample rate")),
            Some(sr) => sr,
        };
        check_sample_rate(sample_rate, path)?;
        let channels = params.channels.map(|c| c.count()).unwrap_or(0);
        let channels = match u16::try_from(channels) {
            Ok(0) | Err(_) => {
                return Err(corrupt(&format!("the header gives {channels} channels")));
            }
            Ok(c) => c,
        };
        let float_bits = match params.codec {
            CODEC_TYPE_PCM_F32LE | CODEC_TYPE_PCM_F32BE => Some(32),
            CODEC_TYPE_PCM_F64LE | CODEC_TYPE_PCM_F64BE => Some(64),
            _ => None,
        };
        let sample_format = if float_bits.is_some() {
            SampleFormat::Float
        } else {
            SampleFormat::Int
        };
        let bits_per_sample = params.bits_per_sample.or(float_bits);
        let n_frames = params.n_frames;
        let info = AudioInfo {
            sample_rate,
            channels,
            bits_per_sample,
            sample_format,
            n_frames: n_frames.unwrap_or(0),
            codec,
            notes: Vec::new(),
        };
        Ok(Header {
            info,
            n_frames,
            track_id: track.id,
            params,
        })
    }
}

/// Appends the channel mean of each frame of `buffer` to `out`.
fn append_mono(buffer: AudioBufferRef<'_>, out: &mut Vec<f32>) {
    match buffer {
        AudioBufferRef::U8(b) => mix_into(&b, out),
        AudioBufferRef::U16(b) => mix_into(&b, out),
        AudioBufferRef::U24(b) => mix_into(&b, out),
        AudioBufferRef::U32(b) => mix_into(&b, out),
        AudioBufferRef::S8(b) => mix_into(&b, out),
        AudioBufferRef::S16(b) => mix_into(&b, out),
        AudioBufferRef::S24(b) => mix_into(&b, out),
        AudioBufferRef::S32(b) => mix_into(&b, out),
        AudioBufferRef::F32(b) => mix_into(&b, out),
        AudioBufferRef::F64(b) => mix_into(&b, out),
    }
}

fn mix_into<S: Sample + IntoSample<f32>>(buffer: &AudioBuffer<S>, out: &mut Vec<f32>) {
    let channels = buffer.spec().channels.count();
    if channels == 1 {
        out.extend(buffer.chan(0).iter().map(|&s| s.into_sample()));
        return;
    }
    let start = out.len();
    out.resize(start + buffer.frames(), 0.0);
    let dst = &mut out[start..];
    for c in 0..channels {
        for (d, &s) in dst.iter_mut().zip(buffer.chan(c)) {
            *d += IntoSample::<f32>::into_sample(s);
        }
    }
    let n = channels as f32;
    dst.iter_mut().for_each(|d| *d /= n);
}

/// Float samples beyond this magnitude are worth a warning: far past full scale, as when
/// integer values were stored as floats. Between 1 and this, float audio is ordinary (a
/// resampled full-scale signal overshoots a little) and is read silently.
const FLOAT_PEAK_WARNING: f32 = 2.0;

/// Rejects NaN/inf; warns about float files that exceed full scale by far.
fn check_float_samples(samples: &[f32], sample_rate: u32, path: &Path) -> Result<(), Error> {
    let mut peak = 0.0f32;
    for (i, &x) in samples.iter().enumerate() {
        if !x.is_finite() {
            return Err(Error::NonFinite {
                path: path.to_path_buf(),
                frame: i as u64,
                time_s: i as f64 / f64::from(sample_rate),
                value: x,
            });
        }
        peak = peak.max(x.abs());
    }
    if peak > FLOAT_PEAK_WARNING {
        tracing::warn!(
            "{}: float samples reach {peak}, far outside [-1, 1] (integers stored as floats?)",
            path.display()
        );
    } else if peak > 1.0 {
        // Band-limited resampling of a full-scale signal overshoots a little (lungsound
        // segment's own clips do): valid float audio, read as it is.
        tracing::debug!(
            "{}: float samples reach {peak}, slightly outside [-1, 1]",
            path.display()
        );
    }
    Ok(())
}

fn open(path: &Path) -> Result<File, Error> {
    let file = File::open(path).map_err(|e| read_error(path, e))?;
    let meta = file.metadata().map_err(|e| read_error(path, e))?;
    if meta.is_dir() {
        return Err(read_error(path, io::Error::other("is a directory")));
    }
    Ok(file)
}

/// Reads until `buf` is full or the file ends; returns the count.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn read_error(path: &Path, source: io::Error) -> Error {
    Error::Read {
        path: PathBuf::from(path),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_paths_are_wav_and_flac_in_any_case() {
        for p in ["a.wav", "b.WAV", "dir/c.Flac", "d.FLAC"] {
            assert!(is_audio_path(Path::new(p)), "{p}");
        }
        for p in ["a.mp3", "wav", "a.wav.txt", "a", "a.fla"] {
            assert!(!is_audio_path(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn mixdown_of_planar_buffer_is_channel_mean() {
        use symphonia::core::audio::{Channels, SignalSpec};
        let spec = SignalSpec::new(8000, Channels::FRONT_LEFT | Channels::FRONT_RIGHT);
        let mut buf: AudioBuffer<i16> = AudioBuffer::new(4, spec);
        buf.render_reserved(Some(3));
        buf.chan_mut(0).copy_from_slice(&[16384, -32768, 0]);
        buf.chan_mut(1).copy_from_slice(&[0, -32768, 8192]);
        let mut out = vec![9.0];
        mix_into(&buf, &mut out);
        assert_eq!(out, vec![9.0, 0.25, -1.0, 0.125]);
    }
}

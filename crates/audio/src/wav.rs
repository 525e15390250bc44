//! RIFF/WAVE reading, done the way libsndfile (and so soundfile and librosa) does it.
//!
//! symphonia trusts a WAV header's `block_align` and its chunk sizes. The SPRSound 2022
//! release writes `block_align` 4 for mono 16-bit audio in every file, and a decoder that
//! trusts it reads half of each recording. libsndfile instead derives the frame size from
//! the channel count and the bits per sample, reads a `data` chunk that claims more bytes than
//! the file holds up to the end of the file, keeps the whole frames before a cut, and ignores
//! a wrong `RIFF` size. This module does the same; each such repair is recorded as a note
//! (and logged once per file), never by dropping samples.
//!
//! The container is small: a chunk walk to find `fmt ` and `data`, then a straight
//! conversion of the sample bytes (8-bit unsigned, 16/24/32-bit signed, 32/64-bit float,
//! µ-law and A-law, plain or `WAVE_FORMAT_EXTENSIBLE`) to `f32`, mixed down to mono.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::adpcm::Adpcm;
use crate::error::Error;
use crate::info::SampleFormat;

/// `WAVE_FORMAT_PCM`.
const TAG_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_ADPCM` (Microsoft ADPCM).
const TAG_MS_ADPCM: u16 = 0x0002;
/// `WAVE_FORMAT_IMA_ADPCM` (IMA / DVI ADPCM).
const TAG_IMA_ADPCM: u16 = 0x0011;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const TAG_FLOAT: u16 = 0x0003;
/// `WAVE_FORMAT_ALAW` (G.711 A-law).
const TAG_ALAW: u16 = 0x0006;
/// `WAVE_FORMAT_MULAW` (G.711 µ-law).
const TAG_MULAW: u16 = 0x0007;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format is in the sub-format GUID.
const TAG_EXTENSIBLE: u16 = 0xFFFE;
/// The last 14 bytes shared by the KSDATAFORMAT_SUBTYPE GUIDs of the basic formats.
const KSDATAFORMAT_SUFFIX: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// How one sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// 8-bit unsigned, offset 128.
    U8,
    /// 16-bit signed little-endian.
    I16,
    /// 24-bit signed little-endian.
    I24,
    /// 32-bit signed little-endian.
    I32,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 8-bit G.711 µ-law.
    MuLaw,
    /// 8-bit G.711 A-law.
    ALaw,
    /// Microsoft or IMA ADPCM (format 2 / 0x11): block-coded, see [`crate::adpcm`].
    Adpcm(Adpcm),
}

impl Encoding {
    /// Bytes per sample of one channel.
    pub(crate) fn bytes(self) -> usize {
        match self {
            // ADPCM frames are not byte-addressable; its blocks are decoded whole.
            Encoding::U8 | Encoding::MuLaw | Encoding::ALaw | Encoding::Adpcm(_) => 1,
            Encoding::I16 => 2,
            Encoding::I24 => 3,
            Encoding::I32 | Encoding::F32 => 4,
            Encoding::F64 => 8,
        }
    }

    /// How [`crate::AudioInfo`] describes the encoding.
    pub(crate) fn sample_format(self) -> SampleFormat {
        match self {
            Encoding::F32 | Encoding::F64 => SampleFormat::Float,
            Encoding::MuLaw => SampleFormat::MuLaw,
            Encoding::ALaw => SampleFormat::ALaw,
            _ => SampleFormat::Int,
        }
    }

    /// One sample as `f32`, scaled as libsndfile scales it when reading floats. `b` holds
    /// [`Encoding::bytes`] bytes in the file's byte order (`big`: RIFX).
    fn sample(self, b: &[u8], big: bool) -> f32 {
        // Little-endian view of the sample's bytes.
        let mut le = [0u8; 8];
        le[..b.len()].copy_from_slice(b);
        if big {
            le[..b.len()].reverse();
        }
        match self {
            Encoding::U8 => (f32::from(le[0]) - 128.0) / 128.0,
            Encoding::I16 => f32::from(i16::from_le_bytes([le[0], le[1]])) / 32_768.0,
            Encoding::I24 => {
                // Place the 24 bits at the top of an i32 and shift back to sign-extend.
                let v = i32::from_le_bytes([0, le[0], le[1], le[2]]) >> 8;
                v as f32 / 8_388_608.0
            }
            Encoding::I32 => {
                let v = i32::from_le_bytes([le[0], le[1], le[2], le[3]]);
                (f64::from(v) / 2_147_483_648.0) as f32
            }
            Encoding::F32 => f32::from_le_bytes([le[0], le[1], le[2], le[3]]),
            Encoding::F64 => f64::from_le_bytes(le) as f32,
            Encoding::MuLaw => f32::from(mulaw_to_i16(le[0])) / 32_768.0,
            Encoding::ALaw => f32::from(alaw_to_i16(le[0])) / 32_768.0,
            // Never asked: ADPCM blocks go through `crate::adpcm` (see `decode_samples`).
            Encoding::Adpcm(_) => 0.0,
        }
    }
}

/// What the chunk walk found: the sample layout and where the samples are.
#[derive(Debug, Clone)]
pub(crate) struct WavLayout {
    pub encoding: Encoding,
    pub channels: u16,
    pub sample_rate: u32,
    /// Bits per sample as the header states them (12 for 12-bit audio in 16-bit containers).
    pub bits_per_sample: u32,
    /// Byte offset of the first sample.
    pub data_offset: u64,
    /// Bytes of sample data present in the file (the declared length, cut at the file's end).
    pub data_bytes: u64,
    /// RIFX: samples (and header fields) are big-endian.
    pub big_endian: bool,
    /// The header's `block_align`: only used for ADPCM, whose blocks it sizes.
    pub block_align: u16,
    /// Repairs made to read the file as libsndfile does, one sentence each.
    pub notes: Vec<String>,
}

impl WavLayout {
    /// Bytes per frame (all channels), derived from the format, not from `block_align`.
    pub(crate) fn frame_bytes(&self) -> u64 {
        u64::from(self.channels) * self.encoding.bytes() as u64
    }

    /// Whole frames present in the file.
    pub(crate) fn n_frames(&self) -> u64 {
        match self.encoding {
            Encoding::Adpcm(kind) => {
                let block = u64::from(self.block_align.max(1));
                let per_block = kind
                    .frames_per_block(usize::from(self.block_align), usize::from(self.channels));
                self.data_bytes / block * per_block as u64
            }
            _ => self.data_bytes / self.frame_bytes(),
        }
    }

    /// Converts the file's sample `data` (from `data_offset`, `data_bytes` long) to mono
    /// `f32`, appending the channel mean of each frame to `out`.
    pub(crate) fn decode_samples(&self, data: &[u8], out: &mut Vec<f32>) -> Result<(), String> {
        let Encoding::Adpcm(kind) = self.encoding else {
            decode_frames(data, self.encoding, self.channels, self.big_endian, out);
            return Ok(());
        };
        let channels = usize::from(self.channels);
        let (ints, _) = kind.decode(data, usize::from(self.block_align), channels)?;
        let n = channels as f32;
        out.extend(ints.chunks_exact(channels).map(|frame| {
            frame
                .iter()
                .fold(0.0f32, |acc, &s| acc + f32::from(s) / 32_768.0)
                / n
        }));
        Ok(())
    }
}

/// Where libsndfile looks to tell 24-bit samples in 4-byte containers from packed ones (its
/// `audio_detect`): 4096 bytes from file offset 600, only in files at least that long.
const DETECT_OFFSET: u64 = 600;
/// Length of the window libsndfile inspects (see [`DETECT_OFFSET`]).
const DETECT_LEN: usize = 4096;

/// Walks the chunks of a RIFF/WAVE (or RIFX, RF64) file whose first bytes were already
/// recognised, and returns its layout. `file_len` is the real length of the file.
pub(crate) fn read_layout<R: Read + Seek>(
    reader: &mut R,
    file_len: u64,
    path: &Path,
) -> Result<WavLayout, Error> {
    let corrupt = |detail: String| Error::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let io_err = |e: io::Error| Error::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let mut riff = [0u8; 12];
    reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
    reader.read_exact(&mut riff).map_err(|_| {
        corrupt(format!(
            "the RIFF header is cut off ({file_len} bytes long)"
        ))
    })?;
    let big = &riff[0..4] == b"RIFX";
    let rf64 = &riff[0..4] == b"RF64";
    let riff_size = u32_at(&riff[4..8], big);
    if u64::from(riff_size) + 8 != file_len {
        tracing::debug!(
            "{}: RIFF size {riff_size} does not match the file length {file_len}; ignored",
            path.display()
        );
    }

    let mut format: Option<(FormatChunk, Vec<String>)> = None;
    // RF64 keeps the real data length in its `ds64` chunk.
    let mut ds64_data_len: Option<u64> = None;
    let mut pos = 12u64;
    let mut seen = Vec::new();
    let mut data_before_fmt: Option<u64> = None;
    while pos + 8 <= file_len {
        let mut chunk_header = [0u8; 8];
        reader.seek(SeekFrom::Start(pos)).map_err(io_err)?;
        reader.read_exact(&mut chunk_header).map_err(io_err)?;
        let id = &chunk_header[0..4];
        let size = u32_at(&chunk_header[4..8], big);
        let body = pos + 8;
        let available = file_len - body;
        seen.push(format!("\"{}\"", id.escape_ascii()));
        match id {
            b"fmt " => {
                if format.is_some() {
                    return Err(corrupt(
                        "it has two fmt chunks, so the sample format is ambiguous".to_string(),
                    ));
                }
                if u64::from(size) < 16 || available < 16 {
                    return Err(corrupt(format!(
                        "its fmt chunk is {} bytes long; a WAV format needs at least 16",
                        u64::from(size).min(available)
                    )));
                }
                let n = u64::from(size).min(available).min(64) as usize;
                let mut bytes = vec![0u8; n];
                reader.read_exact(&mut bytes).map_err(io_err)?;
                format = Some(FormatChunk::parse(&bytes, big, path)?);
            }
            b"ds64" if rf64 && available >= 16 => {
                let mut bytes = [0u8; 16];
                reader.read_exact(&mut bytes).map_err(io_err)?;
                ds64_data_len = Some(u64::from_le_bytes(
                    bytes[8..16].try_into().unwrap_or([0; 8]),
                ));
            }
            b"data" => {
                let Some((mut fmt, mut notes)) = format else {
                    // Keep walking, to tell a misplaced fmt chunk from a missing one.
                    data_before_fmt.get_or_insert(pos);
                    pos = body + u64::from(size) + u64::from(size & 1);
                    continue;
                };
                let declared = match ds64_data_len {
                    Some(len) if size == u32::MAX => len,
                    _ => u64::from(size),
                };
                let data_bytes = if size == 0 && riff_size == 8 {
                    // libsndfile's repair of a recording that was never closed.
                    if available > 0 {
                        notes.push(
                            "RIFF size 8 and data size 0 (a recording that was never closed); \
                             reading to the end of the file"
                                .to_string(),
                        );
                    }
                    available
                } else if declared > available {
                    if size != u32::MAX {
                        notes.push(format!(
                            "the data chunk declares {declared} bytes but the file holds \
                             {available} after its header (truncated file?); reading the {} \
                             whole frames present",
                            available / fmt.frame_bytes()
                        ));
                    }
                    available
                } else {
                    declared
                };
                if fmt.is_ambiguous_24_bit() {
                    fmt.encoding =
                        detect_24_bit_container(reader, file_len, &mut notes).map_err(io_err)?;
                }
                let frame_bytes = fmt.frame_bytes();
                let adpcm = matches!(fmt.encoding, Encoding::Adpcm(_));
                if !adpcm && data_bytes % frame_bytes != 0 {
                    notes.push(format!(
                        "the data ends inside a frame ({} stray bytes ignored)",
                        data_bytes % frame_bytes
                    ));
                }
                return Ok(WavLayout {
                    encoding: fmt.encoding,
                    channels: fmt.channels,
                    sample_rate: fmt.sample_rate,
                    bits_per_sample: fmt.bits_per_sample,
                    data_offset: body,
                    data_bytes,
                    big_endian: big,
                    block_align: fmt.block_align,
                    notes,
                });
            }
            _ => {}
        }
        // Chunks are word-aligned: an odd-sized chunk is followed by a pad byte.
        pos = body + u64::from(size) + u64::from(size & 1);
    }
    let found = if seen.is_empty() {
        "no chunks".to_string()
    } else {
        format!("chunks {}", seen.join(", "))
    };
    Err(corrupt(match (format, data_before_fmt) {
        (Some(_), Some(at)) => format!(
            "its data chunk (at byte {at}) comes before its fmt chunk ({found}); WAV needs the \
             format first"
        ),
        (None, _) => format!("it has no fmt chunk (found {found})"),
        (Some(_), None) => format!("it has no data chunk (found {found})"),
    }))
}

/// libsndfile's guess for a plain PCM header saying 24 bits with 4-byte frames: in a file
/// long enough to look at, a window of float words that look like values up to ±32768 (Cool
/// Edit's old bug) is read as unscaled float, a window of words whose low byte is zero as
/// 32-bit integers; anything else as packed 24-bit samples.
fn detect_24_bit_container<R: Read + Seek>(
    reader: &mut R,
    file_len: u64,
    notes: &mut Vec<String>,
) -> io::Result<Encoding> {
    let mut encoding = Encoding::I24;
    if file_len >= DETECT_OFFSET + DETECT_LEN as u64 {
        let mut window = vec![0u8; DETECT_LEN];
        reader.seek(SeekFrom::Start(DETECT_OFFSET))?;
        reader.read_exact(&mut window)?;
        // libsndfile's loop only ever checks the first word for floats.
        let first = &window[0..4];
        if first[0] != 0 && first[3] > 0x43 && first[3] < 0x4B {
            encoding = Encoding::F32;
        } else {
            let words = window.len() / 4;
            let low_zero = window
                .chunks_exact(4)
                .filter(|w| w[0] == 0 && w[1] != 0)
                .count();
            if low_zero > 3 * words / 4 {
                encoding = Encoding::I32;
            }
        }
    }
    notes.push(format!(
        "the header says 24 bits but 4 bytes per frame; read as {} (libsndfile's guess from \
         the data)",
        match encoding {
            Encoding::F32 => "unscaled 32-bit float",
            Encoding::I32 => "32-bit integers",
            _ => "packed 24-bit samples",
        }
    ));
    Ok(encoding)
}

/// The parsed `fmt ` chunk and the notes its inconsistencies produced.
#[derive(Debug)]
struct FormatChunk {
    encoding: Encoding,
    channels: u16,
    sample_rate: u32,
    bits_per_sample: u32,
    /// A plain PCM header with 24 bits but `block_align` 4 × channels.
    ambiguous_24_bit: bool,
    block_align: u16,
}

impl FormatChunk {
    fn frame_bytes(&self) -> u64 {
        u64::from(self.channels) * self.encoding.bytes() as u64
    }

    fn is_ambiguous_24_bit(&self) -> bool {
        self.ambiguous_24_bit
    }

    fn parse(b: &[u8], big: bool, path: &Path) -> Result<(FormatChunk, Vec<String>), Error> {
        let corrupt = |detail: String| Error::Corrupt {
            path: path.to_path_buf(),
            detail,
        };
        let unsupported = |detail: String| Error::Unsupported {
            path: path.to_path_buf(),
            detail,
        };
        let mut tag = u16_at(&b[0..2], big);
        let channels = u16_at(&b[2..4], big);
        let sample_rate = u32_at(&b[4..8], big);
        let block_align = u16_at(&b[12..14], big);
        let bits = u16_at(&b[14..16], big);
        let plain_pcm = tag == TAG_PCM;
        let mut notes = Vec::new();
        if tag == TAG_EXTENSIBLE {
            if b.len() < 40 {
                return Err(corrupt(format!(
                    "its WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes long; it needs 40",
                    b.len()
                )));
            }
            let guid = &b[24..40];
            if guid[2..16] != KSDATAFORMAT_SUFFIX {
                return Err(unsupported(format!(
                    "WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID {}",
                    hex(guid)
                )));
            }
            tag = u16_at(&guid[0..2], big);
        }
        if channels == 0 {
            return Err(corrupt("the header gives 0 channels".to_string()));
        }
        crate::decode::check_sample_rate(sample_rate, path)?;
        let encoding = match (tag, bits.div_ceil(8)) {
            (TAG_PCM, 1) => Encoding::U8,
            (TAG_PCM, 2) => Encoding::I16,
            (TAG_PCM, 3) => Encoding::I24,
            (TAG_PCM, 4) => Encoding::I32,
            (TAG_FLOAT, 4) => Encoding::F32,
            (TAG_FLOAT, 8) => Encoding::F64,
            (TAG_MULAW, _) => Encoding::MuLaw,
            (TAG_ALAW, _) => Encoding::ALaw,
            (TAG_MS_ADPCM, _) => Encoding::Adpcm(Adpcm::Microsoft),
            (TAG_IMA_ADPCM, _) => Encoding::Adpcm(Adpcm::Ima),
            (TAG_PCM | TAG_FLOAT, _) => {
                return Err(unsupported(format!(
                    "{bits}-bit {} samples",
                    if tag == TAG_PCM { "integer" } else { "float" }
                )));
            }
            (other, _) => {
                return Err(unsupported(format!(
                    "WAV format tag {other:#06x} ({}); lungsound reads integer PCM, float, \
                     µ-law and A-law",
                    format_tag_name(other)
                )));
            }
        };
        let ambiguous_24_bit =
            plain_pcm && bits == 24 && u64::from(block_align) == 4 * u64::from(channels);
        let fmt = FormatChunk {
            encoding,
            channels,
            sample_rate,
            bits_per_sample: u32::from(bits),
            ambiguous_24_bit,
            block_align,
        };
        let expected_align = fmt.frame_bytes();
        if !matches!(encoding, Encoding::Adpcm(_))
            && !ambiguous_24_bit
            && u64::from(block_align) != expected_align
        {
            notes.push(format!(
                "block_align is {block_align} but {channels} channel(s) of {bits}-bit samples \
                 take {expected_align} bytes per frame; using {expected_align} (as libsndfile does)"
            ));
        }
        Ok((fmt, notes))
    }
}

/// Converts `data` (whole frames; trailing stray bytes are ignored) to mono `f32`, appending
/// the channel mean of each frame to `out`.
pub(crate) fn decode_frames(
    data: &[u8],
    encoding: Encoding,
    channels: u16,
    big_endian: bool,
    out: &mut Vec<f32>,
) {
    let width = encoding.bytes();
    let channels = usize::from(channels);
    let frame = width * channels;
    out.reserve(data.len() / frame);
    if channels == 1 {
        out.extend(
            data.chunks_exact(width)
                .map(|b| encoding.sample(b, big_endian)),
        );
        return;
    }
    let n = channels as f32;
    out.extend(data.chunks_exact(frame).map(|f| {
        let sum = f
            .chunks_exact(width)
            .fold(0.0f32, |acc, b| acc + encoding.sample(b, big_endian));
        sum / n
    }));
}

/// G.711 µ-law to a 16-bit linear value (range ±32124), as libsndfile's table gives it.
pub(crate) fn mulaw_to_i16(code: u8) -> i16 {
    let u = !code;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let value = if u & 0x80 != 0 { -magnitude } else { magnitude };
    value as i16
}

/// G.711 A-law to a 16-bit linear value (range ±32256), as libsndfile's table gives it.
pub(crate) fn alaw_to_i16(code: u8) -> i16 {
    let a = code ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mut magnitude = i32::from(a & 0x0F) << 4;
    magnitude += match exponent {
        0 => 8,
        _ => 0x108,
    };
    if exponent > 1 {
        magnitude <<= exponent - 1;
    }
    let value = if a & 0x80 != 0 { magnitude } else { -magnitude };
    value as i16
}

fn format_tag_name(tag: u16) -> &'static str {
    match tag {
        0x0000 => "unknown",
        0x0002 => "MS ADPCM",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0050 => "MPEG",
        0x0055 => "MP3",
        _ => "not a PCM format",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn u16_at(b: &[u8], big: bool) -> u16 {
    let bytes = [b[0], b[1]];
    if big {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    }
}

fn u32_at(b: &[u8], big: bool) -> u32 {
    let bytes = [b[0], b[1], b[2], b[3]];
    if big {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_decoders_span_their_documented_ranges() {
        // µ-law: 0x00 is the most negative code, 0x80 the most positive, 0xFF / 0x7F zero.
        assert_eq!(mulaw_to_i16(0x00), -32124);
        assert_eq!(mulaw_to_i16(0x80), 32124);
        assert_eq!(mulaw_to_i16(0xFF), 0);
        assert_eq!(mulaw_to_i16(0x7F), 0);
        // A-law: 0xAA is the most positive code, 0x2A the most negative, 0xD5 the smallest step.
        assert_eq!(alaw_to_i16(0xAA), 32256);
        assert_eq!(alaw_to_i16(0x2A), -32256);
        assert_eq!(alaw_to_i16(0xD5), 8);
        assert_eq!(alaw_to_i16(0x55), -8);
        // Both are odd-symmetric around the sign bit.
        for code in 0..=0x7Fu8 {
            assert_eq!(
                mulaw_to_i16(code),
                -mulaw_to_i16(code | 0x80),
                "µ {code:#x}"
            );
            assert_eq!(alaw_to_i16(code), -alaw_to_i16(code | 0x80), "A {code:#x}");
        }
    }

    #[test]
    fn integer_scaling_matches_libsndfile() {
        assert_eq!(Encoding::U8.sample(&[0], false), -1.0);
        assert_eq!(Encoding::U8.sample(&[128], false), 0.0);
        assert_eq!(Encoding::I16.sample(&[0x00, 0x80], false), -1.0);
        assert_eq!(Encoding::I16.sample(&[0x80, 0x00], true), -1.0);
        assert_eq!(Encoding::I24.sample(&[0x00, 0x00, 0x80], false), -1.0);
        assert_eq!(
            Encoding::I24.sample(&[0xFF, 0xFF, 0x7F], false),
            8_388_607.0 / 8_388_608.0
        );
        assert_eq!(
            Encoding::I24.sample(&[0x7F, 0xFF, 0xFF], true),
            8_388_607.0 / 8_388_608.0
        );
        assert_eq!(Encoding::I32.sample(&[0, 0, 0, 0x80], false), -1.0);
    }

    #[test]
    fn multichannel_frames_mix_to_their_mean_and_stray_bytes_are_ignored() {
        let mut out = Vec::new();
        // Two stereo 16-bit frames (16384, 0) and (-32768, -32768), then one stray byte.
        decode_frames(
            &[0x00, 0x40, 0x00, 0x00, 0x00, 0x80, 0x00, 0x80, 0x11],
            Encoding::I16,
            2,
            false,
            &mut out,
        );
        assert_eq!(out, vec![0.25, -1.0]);
    }
}

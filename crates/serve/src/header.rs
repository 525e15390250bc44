//! A recording's duration read from the first bytes of a WAV or FLAC upload, so that an
//! over-long recording is refused before it is decoded (a 20 MB FLAC of near-silence can
//! hold hours of audio: gigabytes once decoded to `f32`).
//!
//! This is only a guard: anything it cannot read returns `None`, and the full decoder
//! (`lungsound_audio::decode_bytes`) has the last word on validity and length. A sample
//! rate outside `lungsound_audio::SAMPLE_RATE_RANGE` also gives `None`: the decoder refuses
//! it before reading any sample, naming the rate.

/// Duration in seconds that the header of `bytes` declares, if it is a WAV or FLAC header
/// this function understands and it states a frame count.
///
/// For WAV the `data` chunk's declared size is capped by the bytes actually present, so a
/// truncated file is not mistaken for a long one.
pub(crate) fn declared_duration_s(bytes: &[u8]) -> Option<f64> {
    if bytes.starts_with(b"fLaC") {
        flac_duration_s(bytes)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        wav_duration_s(bytes)
    } else {
        None
    }
}

fn flac_duration_s(bytes: &[u8]) -> Option<f64> {
    // "fLaC", then the STREAMINFO block header (type 0) and its 34 bytes; bytes 10..18 of
    // STREAMINFO pack sample rate (20 bits), channels − 1 (3), bits − 1 (5), total samples (36).
    let block_type = bytes.get(4)? & 0x7f;
    if block_type != 0 {
        return None;
    }
    let packed = u64::from_be_bytes(bytes.get(18..26)?.try_into().ok()?);
    let sample_rate = (packed >> 44) as u32;
    let total = packed & 0x000f_ffff_ffff;
    (lungsound_audio::SAMPLE_RATE_RANGE.contains(&sample_rate) && total > 0)
        .then(|| total as f64 / f64::from(sample_rate))
}

fn wav_duration_s(bytes: &[u8]) -> Option<f64> {
    let mut pos = 12;
    let mut format: Option<(u32, u16)> = None; // (sample_rate, block_align)
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            let fmt = bytes.get(body..body + 14)?;
            let sample_rate = u32::from_le_bytes(fmt[4..8].try_into().ok()?);
            let block_align = u16::from_le_bytes(fmt[12..14].try_into().ok()?);
            format = Some((sample_rate, block_align));
        } else if id == b"data" {
            let (sample_rate, block_align) = format?;
            if size == 0 || size == u32::MAX as usize {
                return None; // unknown length (streamed WAV): leave it to the decoder
            }
            if block_align == 0 || !lungsound_audio::SAMPLE_RATE_RANGE.contains(&sample_rate) {
                return None; // the decoder refuses it, with the reason
            }
            let present = size.min(bytes.len() - body);
            return Some((present / usize::from(block_align)) as f64 / f64::from(sample_rate));
        }
        pos = body.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_duration_comes_from_the_data_chunk() {
        let bytes = lungsound_testutil::wav_bytes(&vec![0.1; 8000 * 3], 8000, 2, 16, false);
        let d = declared_duration_s(&bytes).expect("duration");
        assert!((d - 1.5).abs() < 1e-9, "{d}"); // 24000 samples = 12000 stereo frames
    }

    #[test]
    fn truncated_wav_counts_only_the_bytes_present() {
        let bytes = lungsound_testutil::wav_bytes(&vec![0.1; 8000], 8000, 1, 16, false);
        let d = declared_duration_s(&bytes[..44 + 4000]).expect("duration");
        assert!((d - 0.25).abs() < 1e-9, "{d}");
    }

    #[test]
    fn flac_duration_comes_from_streaminfo() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../audio/tests/fixtures/tone_16bit_mono_8k.flac");
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!(
                "skipping flac_duration_comes_from_streaminfo: {} not found",
                path.display()
            );
            return;
        };
        let d = declared_duration_s(&bytes).expect("duration");
        assert!((d - 0.05).abs() < 1e-9, "{d}");
    }

    #[test]
    fn garbage_and_short_headers_give_none() {
        for bytes in [
            &b""[..],
            b"fLaC",
            b"RIFF\0\0\0\0WAVE",
            b"RIFF\0\0\0\0WAVEdata\x10\0\0\0",
            b"hello world",
        ] {
            assert_eq!(declared_duration_s(bytes), None, "{bytes:?}");
        }
        // Rates the decoder refuses (0 and 1 Hz): no duration from them.
        for rate in [0, 1] {
            let bytes = lungsound_testutil::wav_bytes(&[0.1; 100], rate, 1, 16, false);
            assert_eq!(declared_duration_s(&bytes), None, "{rate} Hz");
        }
    }
}

//! The two ADPCM codecs of WAV (Microsoft ADPCM, format 2; IMA/DVI ADPCM, format 0x11),
//! decoded block by block exactly as libsndfile's `msadpcm.c` and `ima_adpcm.c` do,
//! including their integer arithmetic (a shift, not a division, for the predictor; the step
//! kept in 16 bits), so the samples equal soundfile's.

/// Microsoft ADPCM step adaptation table.
const MS_ADAPTATION: [i32; 16] = [
    230, 230, 230, 230, 307, 409, 512, 614, 768, 614, 512, 409, 307, 230, 230, 230,
];
/// Microsoft ADPCM's seven standard predictor coefficient pairs.
const MS_COEFF1: [i32; 7] = [256, 512, 0, 192, 240, 460, 392];
/// Second coefficients of [`MS_COEFF1`]'s pairs.
const MS_COEFF2: [i32; 7] = [0, -256, 0, 64, 0, -208, -232];
/// Smallest Microsoft ADPCM step.
const MS_MIN_DELTA: i32 = 16;

/// IMA ADPCM step sizes.
const IMA_STEPS: [i32; 89] = [
    7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66,
    73, 80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449,
    494, 544, 598, 658, 724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272,
    2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493,
    10442, 11487, 12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
];
/// IMA ADPCM step-index changes per code.
const IMA_INDEX_ADJUST: [i32; 16] = [-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8];

/// Which ADPCM flavour a WAV holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adpcm {
    /// Microsoft ADPCM (format 2).
    Microsoft,
    /// IMA / DVI ADPCM (format 0x11).
    Ima,
}

impl Adpcm {
    /// Bytes of block header per channel.
    fn header_bytes(self) -> usize {
        match self {
            Adpcm::Microsoft => 7,
            Adpcm::Ima => 4,
        }
    }

    /// Frames one block of `block_align` bytes decodes to, as libsndfile computes it.
    pub(crate) fn frames_per_block(self, block_align: usize, channels: usize) -> usize {
        let body = block_align.saturating_sub(self.header_bytes() * channels);
        match self {
            Adpcm::Microsoft => body * 2 / channels + 2,
            Adpcm::Ima => body * 2 / channels + 1,
        }
    }

    /// Decodes every whole block of `data` to interleaved 16-bit samples. Returns them and
    /// the number of trailing bytes that did not fill a block (ignored).
    pub(crate) fn decode(
        self,
        data: &[u8],
        block_align: usize,
        channels: usize,
    ) -> Result<(Vec<i16>, usize), String> {
        let min_block = self.header_bytes() * channels + 1;
        if block_align < min_block {
            return Err(format!(
                "block_align {block_align} is too small for {channels}-channel ADPCM blocks"
            ));
        }
        let frames = self.frames_per_block(block_align, channels);
        let mut out = Vec::with_capacity(data.len() / block_align * frames * channels);
        for block in data.chunks_exact(block_align) {
            match self {
                Adpcm::Microsoft => decode_ms_block(block, channels, frames, &mut out)?,
                Adpcm::Ima => decode_ima_block(block, channels, frames, &mut out),
            }
        }
        Ok((out, data.len() % block_align))
    }
}

fn i16_at(b: &[u8], at: usize) -> i32 {
    i32::from(i16::from_le_bytes([b[at], b[at + 1]]))
}

fn clamp16(x: i32) -> i32 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

/// One Microsoft ADPCM block: per channel a predictor index, a step, and two starting samples
/// (the older one first in the output), then nibbles, high nibble first, channels alternating.
fn decode_ms_block(
    block: &[u8],
    channels: usize,
    frames: usize,
    out: &mut Vec<i16>,
) -> Result<(), String> {
    let mut predictor = vec![0usize; channels];
    let mut delta = vec![0i32; channels];
    let mut samples = vec![0i32; frames * channels];
    for c in 0..channels {
        predictor[c] = usize::from(block[c]);
        if predictor[c] >= MS_COEFF1.len() {
            return Err(format!(
                "MS ADPCM predictor index {} (at most 6)",
                predictor[c]
            ));
        }
        delta[c] = i16_at(block, channels + 2 * c);
        samples[channels + c] = i16_at(block, 3 * channels + 2 * c); // sample1
        samples[c] = i16_at(block, 5 * channels + 2 * c); // sample2
    }
    let nibbles = block[7 * channels..]
        .iter()
        .flat_map(|&byte| [byte >> 4, byte & 0x0F]);
    for (k, nibble) in (2 * channels..frames * channels).zip(nibbles) {
        let c = k % channels;
        let code = usize::from(nibble);
        let step = delta[c];
        // libsndfile keeps the step in a `short`: the product wraps to 16 bits.
        delta[c] =
            i32::from((MS_ADAPTATION[code].wrapping_mul(step) >> 8) as i16).max(MS_MIN_DELTA);
        let signed = if code & 0x8 != 0 {
            code as i32 - 16
        } else {
            code as i32
        };
        let p = predictor[c];
        let predict = samples[k - channels]
            .wrapping_mul(MS_COEFF1[p])
            .wrapping_add(samples[k - 2 * channels].wrapping_mul(MS_COEFF2[p]))
            >> 8;
        samples[k] = clamp16(signed.wrapping_mul(step).wrapping_add(predict));
    }
    out.extend(samples.iter().map(|&s| s as i16));
    Ok(())
}

/// One IMA ADPCM block: per channel a starting sample and step index, then groups of four
/// bytes per channel, low nibble first.
fn decode_ima_block(block: &[u8], channels: usize, frames: usize, out: &mut Vec<i16>) {
    let mut samples = vec![0i32; frames * channels];
    let mut step_index = vec![0i32; channels];
    for c in 0..channels {
        samples[c] = i16_at(block, 4 * c);
        step_index[c] = i32::from(block[4 * c + 2]).clamp(0, 88);
    }
    // Unpack the nibbles into their frame positions: each 4-byte group of a channel holds
    // 8 consecutive samples of that channel.
    let body = &block[4 * channels..];
    let mut codes = vec![0u8; frames * channels];
    for (g, group) in body.chunks_exact(4).enumerate() {
        let c = g % channels;
        let first_frame = 1 + (g / channels) * 8;
        for (b, &byte) in group.iter().enumerate() {
            for (half, code) in [byte & 0x0F, byte >> 4].into_iter().enumerate() {
                let frame = first_frame + 2 * b + half;
                if frame < frames {
                    codes[frame * channels + c] = code;
                }
            }
        }
    }
    for k in channels..frames * channels {
        let c = k % channels;
        let code = codes[k];
        let step = IMA_STEPS[step_index[c] as usize];
        let mut diff = step >> 3;
        if code & 1 != 0 {
            diff += step >> 2;
        }
        if code & 2 != 0 {
            diff += step >> 1;
        }
        if code & 4 != 0 {
            diff += step;
        }
        if code & 8 != 0 {
            diff = -diff;
        }
        samples[k] = clamp16(samples[k - channels] + diff);
        step_index[c] = (step_index[c] + IMA_INDEX_ADJUST[usize::from(code)]).clamp(0, 88);
    }
    out.extend(samples.iter().map(|&s| s as i16));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_per_block_follow_libsndfile() {
        assert_eq!(Adpcm::Microsoft.frames_per_block(64, 1), 116);
        assert_eq!(Adpcm::Microsoft.frames_per_block(512, 2), 500);
        assert_eq!(Adpcm::Ima.frames_per_block(64, 1), 121);
        assert_eq!(Adpcm::Ima.frames_per_block(1024, 2), 1017);
    }

    #[test]
    fn ima_silence_stays_at_its_start_value_with_the_smallest_steps() {
        // Start at 1000, step index 0, every code 0: each sample adds step >> 3 = 0.
        let mut block = vec![0u8; 8];
        block[0..2].copy_from_slice(&1000i16.to_le_bytes());
        let (out, rest) = Adpcm::Ima.decode(&block, 8, 1).expect("decode");
        assert_eq!(rest, 0);
        assert_eq!(out, vec![1000; 9]);
    }

    #[test]
    fn too_small_blocks_are_refused() {
        assert!(Adpcm::Microsoft.decode(&[0; 14], 7, 1).is_err());
    }
}

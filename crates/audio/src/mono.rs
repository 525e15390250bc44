//! Mixing interleaved multi-channel samples down to mono.

/// Averages the channels of interleaved samples (`[l0, r0, l1, r1, ...]` for stereo) into one
/// mono sample per frame, like librosa's `to_mono` (channel mean).
///
/// `channels == 1` returns a copy; `channels == 0` returns an empty vector. A trailing partial
/// frame (when `interleaved.len()` is not a multiple of `channels`) is dropped.
pub fn to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    match channels {
        0 => Vec::new(),
        1 => interleaved.to_vec(),
        _ => {
            let n = channels as f32;
            interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() / n)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_mono;

    #[test]
    fn stereo_is_averaged_per_frame() {
        assert_eq!(
            to_mono(&[1.0, 0.0, -0.5, -0.5, 0.25, 0.75], 2),
            vec![0.5, -0.5, 0.5]
        );
    }

    #[test]
    fn three_channels_and_partial_frame() {
        assert_eq!(to_mono(&[0.25, 0.5, 1.5, 1.0, 1.0], 3), vec![0.75]);
    }

    #[test]
    fn degenerate_channel_counts() {
        assert_eq!(to_mono(&[0.1, 0.2], 1), vec![0.1, 0.2]);
        assert!(to_mono(&[0.1, 0.2], 0).is_empty());
        assert!(to_mono(&[], 2).is_empty());
    }
}

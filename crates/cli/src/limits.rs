//! The ranges the command line accepts for sizes and rates, checked when the arguments are
//! parsed — before anything is read or allocated — so a mistyped `--n-fft 100000000` is an
//! error naming the flag and its range instead of a 25 GB allocation.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// `--n-fft`, `--hop`: samples (see `lungsound_features::MAX_N_FFT`).
pub const FFT_SIZES: RangeInclusive<usize> = 2..=lungsound_features::MAX_N_FFT;
/// `--hop`.
pub const HOP_SIZES: RangeInclusive<usize> = 1..=lungsound_features::MAX_N_FFT;
/// `--n-mels`.
pub const MEL_BANDS: RangeInclusive<usize> = 1..=lungsound_features::MAX_N_MELS;
/// `--sample-rate`: Hz, what the decoder accepts (`lungsound_audio::SAMPLE_RATE_RANGE`).
pub const SAMPLE_RATES: RangeInclusive<u32> = lungsound_audio::SAMPLE_RATE_RANGE;
/// `segment --length`: seconds per clip (10 ms to 10 minutes).
pub const CLIP_SECONDS: RangeInclusive<f64> = 0.01..=600.0;
/// `--batch-size`: clips per forward pass.
pub const BATCH_SIZES: RangeInclusive<usize> = 1..=4096;
/// `augment --copies`: augmented copies per clip.
pub const COPIES: RangeInclusive<usize> = 0..=100;

fn in_range<T>(text: &str, range: &RangeInclusive<T>, unit: &str) -> Result<T, String>
where
    T: FromStr + PartialOrd + Display,
    T::Err: Display,
{
    let value: T = text.trim().parse().map_err(|e| format!("{e}"))?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "must be in {}..={}{unit}, got {value}",
            range.start(),
            range.end()
        ))
    }
}

/// clap parser for `--n-fft`.
pub fn fft_size(text: &str) -> Result<usize, String> {
    in_range(text, &FFT_SIZES, "")
}

/// clap parser for `--hop`.
pub fn hop_size(text: &str) -> Result<usize, String> {
    in_range(text, &HOP_SIZES, "")
}

/// clap parser for `--n-mels`.
pub fn mel_bands(text: &str) -> Result<usize, String> {
    in_range(text, &MEL_BANDS, "")
}

/// clap parser for `--sample-rate`.
pub fn sample_rate(text: &str) -> Result<u32, String> {
    in_range(text, &SAMPLE_RATES, " Hz")
}

/// clap parser for `segment --length`.
pub fn clip_seconds(text: &str) -> Result<f64, String> {
    in_range(text, &CLIP_SECONDS, " s")
}

/// clap parser for `--batch-size`.
pub fn batch_size(text: &str) -> Result<usize, String> {
    in_range(text, &BATCH_SIZES, "")
}

/// clap parser for `augment --copies`.
pub fn copies(text: &str) -> Result<usize, String> {
    in_range(text, &COPIES, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_ranges_are_refused_with_the_range() {
        assert_eq!(fft_size("512"), Ok(512));
        assert_eq!(
            fft_size("100000000"),
            Err("must be in 2..=65536, got 100000000".to_string())
        );
        assert_eq!(
            sample_rate("2000000000"),
            Err("must be in 1000..=384000 Hz, got 2000000000".to_string())
        );
        assert_eq!(clip_seconds("4"), Ok(4.0));
        assert_eq!(
            clip_seconds("1e9"),
            Err("must be in 0.01..=600 s, got 1000000000".to_string())
        );
        assert!(clip_seconds("NaN").is_err());
        assert!(batch_size("0").is_err());
        assert!(copies("1000").is_err());
        assert!(mel_bands("x").is_err());
        assert_eq!(hop_size("1"), Ok(1));
    }
}

//! PNG export of a spectrogram, axis-free like the reference notebooks'
//! `librosa.display.specshow` images.
//!
//! One pixel per (bin, frame): width `n_frames`, height `n_freq`, low
//! frequencies at the **bottom**. Values are min–max normalised over the whole
//! spectrogram and mapped through a colormap, so pass dB values (`db: true`)
//! for a readable picture: on a linear power or magnitude scale a few loud
//! bins take the whole range and the rest looks black.

use std::path::Path;

use image::{ImageBuffer, Rgb, RgbImage, imageops};
use ndarray::Array2;

use crate::error::{Error, invalid};

/// Colormap for [`write_png`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Colormap {
    /// matplotlib's magma (librosa.display's default for spectrograms).
    #[default]
    Magma,
    /// matplotlib's viridis.
    Viridis,
    /// Black (minimum) to white (maximum).
    Gray,
}

impl std::str::FromStr for Colormap {
    type Err = Error;

    /// `"magma"`, `"viridis"` or `"gray"`/`"grey"` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "magma" => Ok(Colormap::Magma),
            "viridis" => Ok(Colormap::Viridis),
            "gray" | "grey" => Ok(Colormap::Gray),
            _ => Err(Error::Parse(format!(
                "unknown colormap {s:?} (expected magma, viridis or gray)"
            ))),
        }
    }
}

impl std::fmt::Display for Colormap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Colormap::Magma => "magma",
            Colormap::Viridis => "viridis",
            Colormap::Gray => "gray",
        })
    }
}

impl Colormap {
    /// Colour of `t` in `[0, 1]` (clamped).
    pub fn rgb(self, t: f32) -> [u8; 3] {
        let t = t.clamp(0.0, 1.0);
        let c = match self {
            Colormap::Magma => colorous::MAGMA.eval_continuous(f64::from(t)),
            Colormap::Viridis => colorous::VIRIDIS.eval_continuous(f64::from(t)),
            Colormap::Gray => {
                let v = (t * 255.0).round() as u8;
                return [v, v, v];
            }
        };
        [c.r, c.g, c.b]
    }
}

/// Render a `[n_freq, n_frames]` spectrogram as an image `n_frames` wide and
/// `n_freq` high, row 0 of the spectrogram (lowest frequency) at the bottom.
///
/// Min–max normalised over the finite values; a constant spectrogram maps to
/// the colormap's low end, non-finite values too.
///
/// # Errors
/// [`Error::InvalidParameter`] for an empty spectrogram (a PNG needs >= 1 pixel)
/// or one larger than `u32::MAX` pixels on a side.
pub fn to_image(spectrogram: &Array2<f32>, colormap: Colormap) -> Result<RgbImage, Error> {
    let (n_freq, n_frames) = spectrogram.dim();
    if n_freq == 0 || n_frames == 0 {
        return invalid!("cannot draw an empty spectrogram, shape [{n_freq}, {n_frames}]");
    }
    let (Ok(width), Ok(height)) = (u32::try_from(n_frames), u32::try_from(n_freq)) else {
        return invalid!("spectrogram too large for a PNG, shape [{n_freq}, {n_frames}]");
    };
    let (lo, hi) = spectrogram
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = hi - lo;
    let image = ImageBuffer::from_fn(width, height, |x, y| {
        // Image row 0 is the top: the highest frequency bin.
        let v = spectrogram[[n_freq - 1 - y as usize, x as usize]];
        let t = if v.is_finite() && range > 0.0 {
            (v - lo) / range
        } else {
            0.0
        };
        Rgb(colormap.rgb(t))
    });
    Ok(image)
}

/// Write `spectrogram` as a PNG, one pixel per bin and frame (see [`to_image`]).
///
/// # Errors
/// [`Error::InvalidParameter`] for an empty spectrogram, [`Error::Png`] with the
/// path when encoding or writing fails.
pub fn write_png(path: &Path, spectrogram: &Array2<f32>, colormap: Colormap) -> Result<(), Error> {
    save(path, &to_image(spectrogram, colormap)?)
}

/// Like [`write_png`], resized to `width x height` pixels (bilinear; e.g. 224 x 224 for a CNN).
///
/// # Errors
/// As [`write_png`]; also [`Error::InvalidParameter`] when `width` or `height` is 0.
pub fn write_png_resized(
    path: &Path,
    spectrogram: &Array2<f32>,
    colormap: Colormap,
    width: u32,
    height: u32,
) -> Result<(), Error> {
    if width == 0 || height == 0 {
        return invalid!("PNG size must be at least 1 x 1, got {width} x {height}");
    }
    let image = to_image(spectrogram, colormap)?;
    let resized = imageops::resize(&image, width, height, imageops::FilterType::Triangle);
    save(path, &resized)
}

fn save(path: &Path, image: &RgbImage) -> Result<(), Error> {
    image
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|source| Error::Png {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Row 0 (lowest frequency) bright, everything else dark.
    fn low_band() -> Array2<f32> {
        Array2::from_shape_fn((8, 5), |(f, _)| if f == 0 { 1.0 } else { 0.0 })
    }

    #[test]
    fn low_frequencies_are_at_the_bottom() {
        let image = to_image(&low_band(), Colormap::Gray).expect("image");
        assert_eq!(image.dimensions(), (5, 8));
        assert_eq!(image.get_pixel(0, 7).0, [255, 255, 255]);
        assert_eq!(image.get_pixel(0, 0).0, [0, 0, 0]);
    }

    #[test]
    fn written_png_has_one_pixel_per_bin_and_frame() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("s.png");
        write_png(&path, &low_band(), Colormap::Magma).expect("write");
        let back = image::open(&path).expect("open").to_rgb8();
        assert_eq!(back.dimensions(), (5, 8));
        let resized = dir.path().join("r.png");
        write_png_resized(&resized, &low_band(), Colormap::Viridis, 20, 16).expect("write");
        let back = image::open(&resized).expect("open");
        assert_eq!((back.width(), back.height()), (20, 16));
    }

    #[test]
    fn colormaps_parse_and_run_dark_to_bright() {
        for name in ["magma", "viridis", "gray"] {
            let cmap: Colormap = name.parse().expect("known");
            assert_eq!(cmap.to_string(), name);
            let sum = |c: [u8; 3]| c.iter().map(|&v| u32::from(v)).sum::<u32>();
            assert!(sum(cmap.rgb(0.0)) < sum(cmap.rgb(1.0)), "{name}");
        }
        assert!("jet".parse::<Colormap>().is_err());
    }

    #[test]
    fn low_frequency_sine_is_bright_near_the_bottom() {
        let y: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 150.0 * i as f32 / 8000.0).sin())
            .collect();
        let cfg = crate::FeatureConfig {
            db: true,
            ..crate::FeatureConfig::default()
        };
        let mel = crate::FeatureExtractor::new(&cfg, 8000)
            .expect("valid")
            .compute(&y);
        let image = to_image(&mel, Colormap::Gray).expect("image");
        assert_eq!(image.dimensions(), (32, 128));
        let row_mean = |y: u32| {
            (0..32)
                .map(|x| f32::from(image.get_pixel(x, y).0[0]))
                .sum::<f32>()
                / 32.0
        };
        let brightest = (0..128)
            .max_by(|&a, &b| row_mean(a).total_cmp(&row_mean(b)))
            .unwrap_or(0);
        // 150 Hz is 2.25 Slaney mels, band ~7 of 128 (0-4 kHz), i.e. image row ~120.
        assert!(brightest >= 112, "brightest row {brightest}");
        assert!(row_mean(brightest) > 200.0 && row_mean(10) < 100.0);
    }

    #[test]
    fn empty_and_constant_inputs() {
        assert!(to_image(&Array2::zeros((128, 0)), Colormap::Gray).is_err());
        let flat = to_image(&Array2::from_elem((2, 2), 3.0), Colormap::Gray).expect("image");
        assert!(flat.pixels().all(|p| p.0 == [0, 0, 0]));
    }
}

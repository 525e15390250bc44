//! [`SpectrogramFigures`]: the figure style of `lungsound features --png`,
//! handed to `lungsound_features::export` (which comes before this crate in
//! the pipeline and so cannot draw figures itself).

use std::path::Path;

use lungsound_features::export::FigureWriter;
use lungsound_features::{Colormap, FeatureConfig};
use ndarray::Array2;

use super::spectrogram::{SpectrogramAxes, write_spectrogram_figure};

/// Draws each spectrogram with [`write_spectrogram_figure`]: the axes of its
/// config and sample rate, the given colour map, and the title
/// `{file name} — {settings}` (e.g. `a.wav — mel, n_fft 2048, hop 512, 128
/// bands, 8000 Hz`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpectrogramFigures;

impl FigureWriter for SpectrogramFigures {
    fn write_figure(
        &self,
        spectrogram: &Array2<f32>,
        input: &Path,
        png: &Path,
        config: &FeatureConfig,
        sample_rate: u32,
        colormap: Colormap,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let axes = SpectrogramAxes {
            colormap,
            ..SpectrogramAxes::new(config, sample_rate)
        };
        let name = input.file_name().unwrap_or(input.as_os_str());
        let title = format!(
            "{} — {}",
            name.to_string_lossy(),
            axes.settings(spectrogram.nrows())
        );
        write_spectrogram_figure(spectrogram, &axes, &title, png)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_is_written_and_its_errors_keep_their_message() {
        let dir = tempfile::tempdir().unwrap();
        let config = FeatureConfig::default();
        let values = Array2::from_shape_fn((128, 20), |(i, j)| (1 + i + j) as f32);
        let png = dir.path().join("a.png");
        let figures = SpectrogramFigures;
        figures
            .write_figure(
                &values,
                Path::new("x/a.wav"),
                &png,
                &config,
                8000,
                Colormap::Magma,
            )
            .unwrap();
        assert_eq!(
            image::image_dimensions(&png).unwrap(),
            super::super::SPECTROGRAM_FIGURE_SIZE
        );
        // The same error as write_spectrogram_figure's, boxed.
        let empty = Array2::<f32>::zeros((0, 0));
        let axes = SpectrogramAxes::new(&config, 8000);
        let direct = write_spectrogram_figure(&empty, &axes, "t", &png).unwrap_err();
        let boxed = figures
            .write_figure(
                &empty,
                Path::new("a.wav"),
                &png,
                &config,
                8000,
                Colormap::Magma,
            )
            .unwrap_err();
        assert_eq!(boxed.to_string(), direct.to_string());
        assert!(boxed.downcast_ref::<crate::Error>().is_some());
    }
}

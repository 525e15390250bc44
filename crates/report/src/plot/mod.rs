//! Plot primitives. Each writes a PNG and an SVG with the same stem
//! (`<stem>.png`, `<stem>.svg`) and returns both paths, except
//! [`write_spectrogram_figure`], which writes one PNG.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (registered with
//! plotters' `ab_glyph` font table as `sans-serif`), so PNGs render the same
//! on a machine without any system font. SVGs name the `sans-serif` family
//! and leave the glyphs to the viewer; their layout was measured with
//! DejaVu Sans.

mod bar;
mod curves;
mod heatmap;
mod histogram;
mod roc;
mod scale;
mod spectrogram;
mod spectrogram_figures;
mod style;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use bar::{BarChart, BarSeries, bar_chart};
pub use curves::training_curves;
pub use heatmap::confusion_matrix_plot;
pub use histogram::{Histogram, histogram};
pub use roc::roc_plot;
pub use spectrogram::{
    SPECTROGRAM_FIGURE_SIZE, SPECTROGRAM_TOP_DB, SpectrogramAxes, write_spectrogram_figure,
};
pub use spectrogram_figures::SpectrogramFigures;

use crate::Error;

/// The two files a plot function writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotFiles {
    /// `<stem>.png`.
    pub png: PathBuf,
    /// `<stem>.svg`.
    pub svg: PathBuf,
}

/// Boxed error from either backend: drawing code uses `?` on plotters results.
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Something that can draw itself on any plotters backend, so the PNG and
/// the SVG come from the same code.
pub(crate) trait Figure {
    /// Pixel size (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws on a white `root` of `size()`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Family name the embedded font is registered under.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans once per process.
fn ensure_font() -> Result<(), Error> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok { Ok(()) } else { Err(Error::Font) }
}

/// `stem` with `suffix` appended (not `with_extension`, which would eat a
/// dotted stem such as `durations.events`).
fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(stem.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// Draws `figure` to `<stem>.png` and `<stem>.svg`, creating the parent directory.
pub(crate) fn render(figure: &impl Figure, stem: &Path) -> Result<PlotFiles, Error> {
    ensure_font()?;
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let png = with_suffix(stem, ".png");
    let svg = with_suffix(stem, ".svg");
    let size = figure.size();
    let plot_error = |path: &Path| {
        let path = path.to_path_buf();
        move |e: Box<dyn std::error::Error + Send + Sync>| Error::Plot {
            path,
            message: e.to_string(),
        }
    };
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw_and_present(figure, &root).map_err(plot_error(&png))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        draw_and_present(figure, &root).map_err(plot_error(&svg))?;
    }
    Ok(PlotFiles { png, svg })
}

fn draw_and_present<DB: DrawingBackend>(
    figure: &impl Figure,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    figure.draw(root)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_keeps_dotted_stems() {
        assert_eq!(
            with_suffix(Path::new("out/durations.events"), ".png"),
            PathBuf::from("out/durations.events.png")
        );
    }

    #[test]
    fn font_registers() {
        ensure_font().unwrap();
        ensure_font().unwrap();
    }
}

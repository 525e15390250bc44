//! Plots and Markdown reports for lungsound.
//!
//! This crate sits at the end of the pipeline, beside the CLI: it turns a
//! [`lungsound_datasets::DatasetSummary`] (`lungsound analyze`) and a
//! [`lungsound_eval::Metrics`] (`lungsound evaluate`) into files a person
//! reads, and offers the plot primitives the training loop uses.
//!
//! - [`write_analysis_report`]: `summary.json`, `report.md` and class
//!   balance, device, location, duration, age and split plots.
//! - [`write_evaluation_report`] with [`EvalContext`]: confusion matrix and
//!   ROC plots plus `report.md` with the BioCAS and ICBHI scores.
//! - [`plot`]: bar charts, histograms, confusion-matrix heatmaps, ROC curves
//!   and training curves, each written as PNG and SVG with the same stem;
//!   [`write_spectrogram_figure`]: a spectrogram PNG with time and frequency
//!   axes, a dB colour bar and a title (`lungsound features --png`, through
//!   [`SpectrogramFigures`], the `lungsound_features::export::FigureWriter`).
//!
//! Plots render text with DejaVu Sans compiled into the binary, so they
//! work on machines without system fonts.
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod analysis;
mod error;
mod evaluation;
mod markdown;
pub mod plot;

use std::path::Path;

pub use analysis::{REPORT_MD, SUMMARY_JSON, write_analysis_report};
pub use error::Error;
pub use evaluation::{
    CONFUSION_MATRIX_STEM, EvalContext, METRICS_JSON, ROC_STEM, Unscored, write_evaluation_report,
};
pub use plot::{PlotFiles, SpectrogramAxes, SpectrogramFigures, write_spectrogram_figure};

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

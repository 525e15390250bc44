//! Integration tests for lungsound-report: every plot writes a decodable
//! PNG and an SVG naming its labels; both reports write their files and
//! quote the numbers.
//!
//! Set `LUNGSOUND_PLOT_DIR=/some/dir` to keep the rendered examples for
//! looking at them; otherwise they go to a temporary directory.
#![allow(clippy::unwrap_used)]

mod analysis;
mod evaluation;
mod plots;
mod spectrogram;
mod util;

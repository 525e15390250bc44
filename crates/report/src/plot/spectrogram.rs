//! A spectrogram figure a person can read: time in seconds, frequency in Hz
//! (linear for STFTs, mel-spaced for mel spectrograms), a colour bar in dB and
//! a title. PNG only: an SVG of one rectangle per pixel would be megabytes.
//!
//! The one-pixel-per-bin image for model input stays in
//! `lungsound_features::write_png`.

use std::path::{Path, PathBuf};

use lungsound_features::{Colormap, FeatureConfig, FeatureKind};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::scale::{display_db, nice_ticks};
use super::style::{LABEL, TICK, format_tick, text, text_size};
use super::{DrawResult, ensure_font};
use crate::Error;

/// Pixel size (width, height) of every spectrogram figure.
pub const SPECTROGRAM_FIGURE_SIZE: (u32, u32) = (960, 460);

/// Dynamic range shown: values more than this many dB below the maximum are
/// drawn in the colour map's darkest colour (librosa's `top_db`).
pub const SPECTROGRAM_TOP_DB: f32 = 80.0;

/// What a spectrogram's rows, columns and values mean, for
/// [`write_spectrogram_figure`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrogramAxes {
    /// Sample rate of the audio, in Hz.
    pub sample_rate: u32,
    /// Samples between frames: frame `t` starts at `t * hop_length / sample_rate` s.
    pub hop_length: usize,
    /// FFT size; an STFT has `1 + n_fft / 2` rows, bin `k` at `k * sample_rate / n_fft` Hz.
    pub n_fft: usize,
    /// Mel power (rows are mel bands), STFT magnitude or `log1p(|S|)` (rows are FFT bins).
    pub kind: FeatureKind,
    /// Lowest mel band edge in Hz (mel only).
    pub fmin: f32,
    /// Highest mel band edge in Hz (mel only); `None` means `sample_rate / 2`.
    pub fmax: Option<f32>,
    /// HTK mel scale instead of Slaney's (mel only).
    pub htk: bool,
    /// The values are already in dB (`power_to_db` / `amplitude_to_db`); otherwise
    /// they are converted for display according to `kind`.
    pub db: bool,
    /// The values are PCEN (`librosa.pcen`): drawn as they are, from their minimum to
    /// their maximum, with a colour bar labelled PCEN.
    pub pcen: bool,
    /// Colour map of the image and the colour bar.
    pub colormap: Colormap,
}

impl SpectrogramAxes {
    /// The axes of spectrograms computed with `config` from audio at `sample_rate` Hz,
    /// drawn in magma.
    pub fn new(config: &FeatureConfig, sample_rate: u32) -> Self {
        Self {
            sample_rate,
            hop_length: config.hop_length,
            n_fft: config.n_fft,
            kind: config.kind,
            fmin: config.fmin,
            fmax: config.fmax,
            htk: config.htk,
            db: config.db,
            pcen: config.pcen.is_some(),
            colormap: Colormap::Magma,
        }
    }

    /// The settings for a title, e.g. `mel, n_fft 2048, hop 512, 128 bands, 8000 Hz`
    /// (`n_freq` is the spectrogram's number of rows).
    pub fn settings(&self, n_freq: usize) -> String {
        let mut s = format!(
            "{}, n_fft {}, hop {}",
            self.kind, self.n_fft, self.hop_length
        );
        if self.kind == FeatureKind::Mel {
            s.push_str(&format!(", {n_freq} bands"));
            let fmax = self.resolved_fmax();
            if self.fmin > 0.0 || self.fmax.is_some() {
                s.push_str(&format!(" {}–{} Hz", self.fmin, fmax));
            }
        }
        if self.db {
            s.push_str(", dB");
        }
        if self.pcen {
            s.push_str(", PCEN");
        }
        s.push_str(&format!(", {} Hz", self.sample_rate));
        s
    }

    fn resolved_fmax(&self) -> f32 {
        self.fmax.unwrap_or(self.sample_rate as f32 / 2.0)
    }

    fn nyquist(&self) -> f64 {
        f64::from(self.sample_rate) / 2.0
    }

    /// Seconds covered by `n_frames` frames.
    fn duration(&self, n_frames: usize) -> f64 {
        n_frames as f64 * self.hop_length as f64 / f64::from(self.sample_rate)
    }
}

/// Writes `png_path`: `values` (`[n_freq, n_frames]`, lowest frequency in row 0)
/// as a figure with a time axis in seconds, a frequency axis in Hz (mel-spaced
/// for [`FeatureKind::Mel`], linear 0 to `sample_rate / 2` otherwise), a colour
/// bar in dB relative to the maximum, and `title` on top. Returns `png_path`.
///
/// Values not already in dB are converted for display: mel power as
/// `10 log10(v / max)`, STFT magnitude as `20 log10(v / max)`, log-STFT as
/// `20 log10(expm1(v) / max)`; the shown range is the top
/// [`SPECTROGRAM_TOP_DB`] dB. Non-finite values are drawn as the minimum.
///
/// # Errors
/// [`Error::InvalidData`] for an empty spectrogram, a zero sample rate or hop, or
/// an STFT whose row count is not `1 + n_fft / 2`; [`Error::CreateDir`] or
/// [`Error::Plot`] when the file cannot be written.
pub fn write_spectrogram_figure(
    values: &Array2<f32>,
    axes: &SpectrogramAxes,
    title: &str,
    png_path: &Path,
) -> Result<PathBuf, Error> {
    let invalid = |message: String| Error::InvalidData {
        plot: "spectrogram",
        message,
    };
    let (n_freq, n_frames) = values.dim();
    if n_freq == 0 || n_frames == 0 {
        return Err(invalid(format!(
            "the spectrogram is empty ([{n_freq}, {n_frames}])"
        )));
    }
    if axes.sample_rate == 0 || axes.hop_length == 0 {
        return Err(invalid(format!(
            "sample rate ({}) and hop length ({}) must be positive",
            axes.sample_rate, axes.hop_length
        )));
    }
    if axes.kind != FeatureKind::Mel && n_freq != 1 + axes.n_fft / 2 {
        return Err(invalid(format!(
            "an STFT with n_fft {} has {} rows, got {n_freq}",
            axes.n_fft,
            1 + axes.n_fft / 2
        )));
    }
    if axes.kind == FeatureKind::Mel && !(axes.fmin >= 0.0 && axes.fmin < axes.resolved_fmax()) {
        return Err(invalid(format!(
            "mel band edges must satisfy 0 <= fmin < fmax, got {} and {}",
            axes.fmin,
            axes.resolved_fmax()
        )));
    }
    ensure_font()?;
    if let Some(dir) = png_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let figure = SpectrogramFigure::new(values, axes, title);
    let result = {
        let root = BitMapBackend::new(png_path, SPECTROGRAM_FIGURE_SIZE).into_drawing_area();
        (|| -> DrawResult {
            root.fill(&WHITE)?;
            figure.draw(&root)?;
            root.present()?;
            Ok(())
        })()
    };
    result.map_err(|e| Error::Plot {
        path: png_path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(png_path.to_path_buf())
}

/// Round frequencies offered as mel-axis ticks, in Hz.
const MEL_TICK_HZ: [f64; 24] = [
    0.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0,
    8000.0, 10000.0, 12000.0, 16000.0, 20000.0, 24000.0, 32000.0, 48000.0, 64000.0, 96000.0,
    128000.0, 192000.0,
];

/// Frequency axis: maps Hz to a fraction of the axis height (0 bottom, 1 top)
/// and a row of the spectrogram to its band.
enum FrequencyAxis {
    /// Mel bands: band `i` is centred at mel `lo + (i + 1) * step` (librosa's
    /// `mel_frequencies(n_mels + 2, fmin, fmax)`), drawn in `[i, i + 1)`.
    Mel {
        n_bands: usize,
        mel_lo: f64,
        mel_step: f64,
        fmin: f64,
        fmax: f64,
        htk: bool,
    },
    /// FFT bins: bin `k` at `k * sr / n_fft` Hz, axis 0 to `sr / 2`.
    Linear {
        nyquist: f64,
        bin_hz: f64,
        n_bins: usize,
    },
}

impl FrequencyAxis {
    fn new(axes: &SpectrogramAxes, n_freq: usize) -> Self {
        match axes.kind {
            FeatureKind::Mel => {
                let (fmin, fmax) = (f64::from(axes.fmin), f64::from(axes.resolved_fmax()));
                let mel_lo = lungsound_features::mel::hz_to_mel(fmin, axes.htk);
                let mel_hi = lungsound_features::mel::hz_to_mel(fmax, axes.htk);
                FrequencyAxis::Mel {
                    n_bands: n_freq,
                    mel_lo,
                    mel_step: (mel_hi - mel_lo) / (n_freq + 1) as f64,
                    fmin,
                    fmax,
                    htk: axes.htk,
                }
            }
            FeatureKind::Stft | FeatureKind::LogStft => FrequencyAxis::Linear {
                nyquist: axes.nyquist(),
                bin_hz: f64::from(axes.sample_rate) / axes.n_fft.max(1) as f64,
                n_bins: n_freq,
            },
        }
    }

    fn label(&self) -> &'static str {
        match self {
            FrequencyAxis::Mel { .. } => "Frequency (Hz, mel scale)",
            FrequencyAxis::Linear { .. } => "Frequency (Hz)",
        }
    }

    /// Row of the spectrogram shown at height fraction `y` (0 bottom, 1 top).
    fn row_at(&self, y: f64) -> usize {
        match *self {
            FrequencyAxis::Mel { n_bands, .. } => {
                ((y * n_bands as f64).floor() as usize).min(n_bands - 1)
            }
            FrequencyAxis::Linear {
                nyquist,
                bin_hz,
                n_bins,
            } => ((y * nyquist / bin_hz).round() as usize).min(n_bins - 1),
        }
    }

    /// Height fraction of `hz`, if it is on the axis.
    fn position(&self, hz: f64) -> Option<f64> {
        let y = match *self {
            FrequencyAxis::Mel {
                n_bands,
                mel_lo,
                mel_step,
                fmin,
                fmax,
                htk,
            } => {
                if hz < fmin || hz > fmax {
                    return None;
                }
                // Fractional band index, then the band's centre at i + 0.5.
                let band = (lungsound_features::mel::hz_to_mel(hz, htk) - mel_lo) / mel_step - 1.0;
                (band + 0.5) / n_bands as f64
            }
            FrequencyAxis::Linear { nyquist, .. } => hz / nyquist,
        };
        (-1e-9..=1.0 + 1e-9)
            .contains(&y)
            .then_some(y.clamp(0.0, 1.0))
    }

    /// Tick frequencies (Hz) with their labels, at least `min_gap` of the axis apart.
    fn ticks(&self, height_px: f64) -> Vec<(f64, String)> {
        let min_gap = 30.0 / height_px;
        match self {
            FrequencyAxis::Mel { .. } => {
                let mut ticks: Vec<(f64, String)> = Vec::new();
                let mut last = f64::NEG_INFINITY;
                for hz in MEL_TICK_HZ {
                    if let Some(y) = self.position(hz)
                        && y - last >= min_gap
                    {
                        ticks.push((y, format_tick(hz, 0)));
                        last = y;
                    }
                }
                ticks
            }
            FrequencyAxis::Linear { nyquist, .. } => {
                let target = ((height_px / 45.0) as usize).clamp(2, 8);
                let (hz, decimals) = nice_ticks(0.0, *nyquist, target);
                hz.into_iter()
                    .filter_map(|f| Some((self.position(f)?, format_tick(f, decimals))))
                    .collect()
            }
        }
    }
}

struct SpectrogramFigure<'a> {
    db: Array2<f32>,
    axes: &'a SpectrogramAxes,
    title: &'a str,
    /// Colour bar range.
    vmin: f32,
    vmax: f32,
}

impl<'a> SpectrogramFigure<'a> {
    fn new(values: &Array2<f32>, axes: &'a SpectrogramAxes, title: &'a str) -> Self {
        let db = display_db(values, axes.kind, axes.db || axes.pcen);
        // PCEN values are already compressed: shown over their whole range.
        let top = if axes.pcen {
            f32::INFINITY
        } else {
            SPECTROGRAM_TOP_DB
        };
        let finite = || db.iter().copied().filter(|v| v.is_finite());
        let vmax = finite().fold(f32::NEG_INFINITY, f32::max);
        let vmin = finite().fold(f32::INFINITY, f32::min);
        let (vmin, vmax) = if vmax.is_finite() {
            (vmin.max(vmax - top), vmax)
        } else {
            (-SPECTROGRAM_TOP_DB, 0.0)
        };
        Self {
            db,
            axes,
            title,
            vmin,
            vmax,
        }
    }

    /// Colour-map position of a dB value: a constant spectrogram maps to the low end.
    fn shade(&self, v: f32) -> f32 {
        let span = self.vmax - self.vmin;
        if span > 0.0 && v.is_finite() {
            ((v - self.vmin) / span).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    fn color(&self, t: f32) -> RGBColor {
        let [r, g, b] = self.axes.colormap.rgb(t);
        RGBColor(r, g, b)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (width, height) = root.dim_in_pixel();
        let (width, height) = (width as i32, height as i32);
        let (n_freq, n_frames) = self.db.dim();
        let freq_axis = FrequencyAxis::new(self.axes, n_freq);

        // Title, shrunk until it fits.
        let mut title_size = 24.0;
        while title_size > 11.0 && text_size(self.title, title_size).0 as i32 > width - 24 {
            title_size -= 1.0;
        }
        root.draw_text(
            self.title,
            &text(title_size, HPos::Center, VPos::Top),
            (width / 2, 10),
        )?;

        let tick_h = text_size("0123456789", TICK).1 as i32;
        let label_h = text_size("Ag", LABEL).1 as i32;
        let top = 10 + text_size("Ag", 24.0).1 as i32 + 16;
        let bottom = height - (8 + tick_h + 10 + label_h + 12);

        // Colour bar ticks decide the right margin.
        let (db_ticks, db_decimals) = nice_ticks(f64::from(self.vmin), f64::from(self.vmax), 5);
        let db_labels: Vec<String> = db_ticks
            .iter()
            .map(|&v| format_tick(v, db_decimals))
            .collect();
        let db_label_w = db_labels
            .iter()
            .map(|l| text_size(l, TICK).0 as i32)
            .max()
            .unwrap_or(0);
        let bar_w = 20;
        let bar_right = width - (14 + label_h + 10 + db_label_w + 8);
        let bar_left = bar_right - bar_w;

        // Frequency ticks decide the left margin.
        let freq_ticks = freq_axis.ticks(f64::from(bottom - top));
        let freq_label_w = freq_ticks
            .iter()
            .map(|(_, l)| text_size(l, TICK).0 as i32)
            .max()
            .unwrap_or(0);
        let left = 14 + label_h + 10 + freq_label_w + 8;
        let right = bar_left - 24;
        let (plot_w, plot_h) = (right - left, bottom - top);
        if plot_w < 10 || plot_h < 10 {
            return Err("figure too small for its labels".into());
        }

        // The image: nearest bin for every pixel.
        let columns: Vec<usize> = (0..plot_w)
            .map(|x| {
                (((f64::from(x) + 0.5) / f64::from(plot_w) * n_frames as f64) as usize)
                    .min(n_frames - 1)
            })
            .collect();
        for y in 0..plot_h {
            let row = freq_axis.row_at((f64::from(plot_h - y) - 0.5) / f64::from(plot_h));
            for (x, &col) in columns.iter().enumerate() {
                let c = self.color(self.shade(self.db[[row, col]]));
                root.draw_pixel((left + x as i32, top + y), &c)?;
            }
        }
        root.draw(&Rectangle::new(
            [(left, top), (right, bottom)],
            BLACK.stroke_width(1),
        ))?;

        // Time axis.
        let duration = self.axes.duration(n_frames);
        let target = ((plot_w / 90) as usize).clamp(2, 10);
        let (times, time_decimals) = nice_ticks(0.0, duration, target);
        for t in times {
            let x = left + (t / duration * f64::from(plot_w)).round() as i32;
            root.draw(&PathElement::new(vec![(x, bottom), (x, bottom + 5)], BLACK))?;
            root.draw_text(
                &format_tick(t, time_decimals),
                &text(TICK, HPos::Center, VPos::Top),
                (x, bottom + 8),
            )?;
        }
        root.draw_text(
            "Time (s)",
            &text(LABEL, HPos::Center, VPos::Bottom),
            ((left + right) / 2, height - 10),
        )?;

        // Frequency axis.
        for (y, label) in &freq_ticks {
            let py = bottom - (y * f64::from(plot_h)).round() as i32;
            root.draw(&PathElement::new(vec![(left - 5, py), (left, py)], BLACK))?;
            root.draw_text(
                label,
                &text(TICK, HPos::Right, VPos::Center),
                (left - 8, py),
            )?;
        }
        root.draw_text(
            freq_axis.label(),
            &text(LABEL, HPos::Center, VPos::Top).transform(FontTransform::Rotate270),
            (14, (top + bottom) / 2),
        )?;

        // Colour bar: vmax at the top, vmin at the bottom.
        for y in 0..plot_h {
            let t = (f64::from(plot_h - y) - 0.5) / f64::from(plot_h);
            let c = self.color(t as f32);
            root.draw(&PathElement::new(
                vec![(bar_left, top + y), (bar_right - 1, top + y)],
                c,
            ))?;
        }
        root.draw(&Rectangle::new(
            [(bar_left, top), (bar_right, bottom)],
            BLACK.stroke_width(1),
        ))?;
        let span = f64::from(self.vmax - self.vmin);
        for (v, label) in db_ticks.iter().zip(&db_labels) {
            let frac = if span > 0.0 {
                (v - f64::from(self.vmin)) / span
            } else {
                0.0
            };
            let py = bottom - (frac * f64::from(plot_h)).round() as i32;
            root.draw(&PathElement::new(
                vec![(bar_right, py), (bar_right + 5, py)],
                BLACK,
            ))?;
            root.draw_text(
                label,
                &text(TICK, HPos::Left, VPos::Center),
                (bar_right + 8, py),
            )?;
        }
        let db_axis = match (self.axes.pcen, self.axes.db) {
            (true, _) => "PCEN",
            (false, true) => "dB",
            (false, false) => "dB (re max)",
        };
        root.draw_text(
            db_axis,
            &text(LABEL, HPos::Center, VPos::Top).transform(FontTransform::Rotate270),
            (width - 14 - label_h, (top + bottom) / 2),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcen_is_shown_as_it_is_over_its_whole_range() {
        let config = FeatureConfig {
            pcen: Some(lungsound_features::PcenParams::default()),
            ..FeatureConfig::default()
        };
        let axes = SpectrogramAxes::new(&config, 8000);
        assert!(axes.pcen && axes.settings(128).contains(", PCEN"));
        // A 200-unit span would be cut to the top 80 if these were dB.
        let values = ndarray::array![[0.5_f32, 200.5], [f32::NAN, 100.0]];
        let figure = SpectrogramFigure::new(&values, &axes, "t");
        assert_eq!((figure.vmin, figure.vmax), (0.5, 200.5));
        assert_eq!(figure.db[[0, 1]], 200.5);
        assert_eq!(figure.db[[1, 0]], f32::NEG_INFINITY);
    }

    #[test]
    fn mel_band_centres_match_librosa_mel_frequencies() {
        let axes = SpectrogramAxes::new(&FeatureConfig::default(), 8000);
        let axis = FrequencyAxis::new(&axes, 16);
        let centres = lungsound_features::mel::mel_frequencies(18, 0.0, 4000.0, false);
        for (i, hz) in centres[1..17].iter().enumerate() {
            let y = axis.position(*hz).unwrap();
            assert!((y * 16.0 - (i as f64 + 0.5)).abs() < 1e-9, "band {i}");
            assert_eq!(axis.row_at(y), i);
        }
    }
}

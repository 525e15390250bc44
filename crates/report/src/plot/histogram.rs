//! Histogram of a list of values (durations, ages).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{
    ANNOTATION, LABEL, TICK, TITLE, format_tick, series_color, text, text_size, tick_decimals,
};
use super::{DrawResult, Figure, PlotFiles, render};
use crate::Error;

/// Values to bin into equal-width bins between their minimum and maximum.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Figure title.
    pub title: String,
    /// Horizontal axis description, with the unit (e.g. `duration (s)`).
    pub x_label: String,
    /// Vertical axis description (e.g. `events`).
    pub y_label: String,
    /// The values; NaN and infinite values are left out (and counted in the note).
    pub values: Vec<f64>,
    /// Number of bins, at least 1. 30 is a good start for a few thousand values.
    pub bins: usize,
}

/// Writes `<stem>.png` and `<stem>.svg`: the histogram with a note of n,
/// mean, median, minimum and maximum in the top-right corner. An empty
/// histogram is drawn with a "no data" note.
///
/// Errors when `bins` is 0.
pub fn histogram(hist: &Histogram, stem: &Path) -> Result<PlotFiles, Error> {
    if hist.bins == 0 {
        return Err(Error::InvalidData {
            plot: "histogram",
            message: "bins must be at least 1, got 0".to_string(),
        });
    }
    render(&Binned::new(hist), stem)
}

struct Binned<'a> {
    hist: &'a Histogram,
    /// Left edge of the first bin and bin width.
    start: f64,
    width: f64,
    counts: Vec<u64>,
    finite: Vec<f64>,
}

impl<'a> Binned<'a> {
    fn new(hist: &'a Histogram) -> Self {
        let mut finite: Vec<f64> = hist
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        finite.sort_by(f64::total_cmp);
        let (lo, hi) = match (finite.first(), finite.last()) {
            (Some(&lo), Some(&hi)) if hi > lo => (lo, hi),
            (Some(&v), _) => (v - 0.5, v + 0.5),
            _ => (0.0, 1.0),
        };
        let width = (hi - lo) / hist.bins as f64;
        let mut counts = vec![0u64; hist.bins];
        for &v in &finite {
            let bin = (((v - lo) / width) as usize).min(hist.bins - 1);
            counts[bin] += 1;
        }
        Self {
            hist,
            start: lo,
            width,
            counts,
            finite,
        }
    }

    fn note(&self) -> Vec<String> {
        let v = &self.finite;
        let mut lines = vec![format!("n = {}", v.len())];
        if !v.is_empty() {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let mid = v.len() / 2;
            let median = if v.len() % 2 == 1 {
                v[mid]
            } else {
                (v[mid - 1] + v[mid]) / 2.0
            };
            lines.push(format!("mean = {}", format_value(mean)));
            lines.push(format!("median = {}", format_value(median)));
            lines.push(format!(
                "range = {} – {}",
                format_value(v[0]),
                format_value(v[v.len() - 1])
            ));
        }
        let dropped = self.hist.values.len() - v.len();
        if dropped > 0 {
            lines.push(format!("{dropped} non-finite left out"));
        }
        lines
    }
}

/// Three significant digits, without exponent for everyday magnitudes.
pub(crate) fn format_value(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl Figure for Binned<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let max_count = self.counts.iter().max().copied().unwrap_or(0).max(1);
        let y_max = max_count as f64 * 1.08;
        let x_end = self.start + self.width * self.counts.len() as f64;
        let label_h = text_size("Ag", LABEL).1;
        let decimals = tick_decimals(x_end - self.start);
        let mut ctx = ChartBuilder::on(root)
            .caption(&self.hist.title, text(TITLE, HPos::Center, VPos::Top))
            .margin_top(12)
            .margin_left(16)
            .margin_right(30)
            .margin_bottom(16)
            .x_label_area_size(text_size("Ag", TICK).1 + label_h + 30)
            .y_label_area_size(110)
            .build_cartesian_2d(self.start..x_end, 0f64..y_max)?;
        ctx.configure_mesh()
            .disable_x_mesh()
            .x_labels(10)
            .y_labels(8)
            .x_label_formatter(&|v| format_tick(*v, decimals))
            .y_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{}", v.round() as i64)
                } else {
                    String::new()
                }
            })
            .label_style(text(TICK, HPos::Center, VPos::Center))
            .axis_desc_style(text(LABEL, HPos::Center, VPos::Center))
            .x_desc(self.hist.x_label.as_str())
            .y_desc(self.hist.y_label.as_str())
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        let color = series_color(0);
        ctx.draw_series(
            self.counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, &c)| {
                    let x0 = self.start + self.width * i as f64;
                    Rectangle::new([(x0, 0.0), (x0 + self.width, c as f64)], color.filled())
                }),
        )?;
        // Thin white gaps between bins so neighbouring bars stay distinct.
        ctx.draw_series(
            self.counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, &c)| {
                    let x0 = self.start + self.width * i as f64;
                    Rectangle::new(
                        [(x0, 0.0), (x0 + self.width, c as f64)],
                        WHITE.stroke_width(1),
                    )
                }),
        )?;

        let area = ctx.plotting_area();
        let (px, py) = area.get_pixel_range();
        let line_h = text_size("Ag", ANNOTATION).1 as i32 + 6;
        let lines = self.note();
        let note_w = lines
            .iter()
            .map(|l| text_size(l, ANNOTATION).0)
            .max()
            .unwrap_or(0) as i32;
        let (x0, y0) = (px.end - note_w - 24, py.start + 8);
        root.draw(&Rectangle::new(
            [
                (x0, y0),
                (px.end - 8, y0 + line_h * lines.len() as i32 + 10),
            ],
            WHITE.mix(0.85).filled(),
        ))?;
        for (i, line) in lines.iter().enumerate() {
            root.draw_text(
                line,
                &text(ANNOTATION, HPos::Left, VPos::Top),
                (x0 + 8, y0 + 8 + line_h * i as i32),
            )?;
        }
        if self.finite.is_empty() {
            area.draw(&Text::new(
                "no data",
                ((self.start + x_end) / 2.0, y_max / 2.0),
                text(LABEL, HPos::Center, VPos::Center),
            ))?;
        }
        Ok(())
    }
}

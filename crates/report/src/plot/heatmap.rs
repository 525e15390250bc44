//! Confusion-matrix heatmap: counts and row-normalised, side by side.

use std::path::Path;

use lungsound_eval::ConfusionMatrix;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{
    ANNOTATION, LABEL, TICK, TITLE, blues, colored_text, max_text_width, text, text_size,
};
use super::{DrawResult, Figure, PlotFiles, render};
use crate::Error;

/// Writes `<stem>.png` and `<stem>.svg`: the confusion matrix as two heatmaps,
/// counts on the left and row-normalised fractions (each true class sums to 1,
/// recall on the diagonal) on the right. Rows are true classes, columns
/// predicted classes, every cell carries its number, and the axes carry the
/// class names.
pub fn confusion_matrix_plot(
    cm: &ConfusionMatrix,
    title: &str,
    stem: &Path,
) -> Result<PlotFiles, Error> {
    let n = cm.n_classes();
    if cm.class_names.len() != n || cm.counts.iter().any(|row| row.len() != n) {
        return Err(Error::InvalidData {
            plot: "confusion matrix",
            message: format!(
                "counts must be square with one row per class name ({}), got {} rows",
                cm.class_names.len(),
                n
            ),
        });
    }
    render(&Heatmap::new(cm, title), stem)
}

const SUBTITLES: [&str; 2] = ["Counts", "Row-normalised (recall on diagonal)"];

/// Pixel layout of one panel, shared by both panels.
struct Heatmap<'a> {
    cm: &'a ConfusionMatrix,
    title: &'a str,
    normalized: Vec<Vec<f64>>,
    cell: u32,
    rotate_x_names: bool,
    /// Left of the matrix inside a panel.
    left: u32,
    /// Top of the matrix inside a panel.
    top: u32,
    /// Space below the matrix.
    bottom: u32,
    panel_width: u32,
    title_height: u32,
}

impl<'a> Heatmap<'a> {
    fn new(cm: &'a ConfusionMatrix, title: &'a str) -> Self {
        let names = cm.class_names.iter().map(String::as_str);
        let name_w = max_text_width(names, TICK);
        let max_count = cm.counts.iter().flatten().max().copied().unwrap_or(0);
        let number_w = max_text_width([max_count.to_string().as_str(), "0.00", ABSENT], ANNOTATION);
        let n = cm.n_classes().max(1) as u32;
        // Cells fit their numbers; small matrices still get a ~320 px square.
        let cell = (number_w + 20).max(76).max(320 / n);
        let rotate_x_names = name_w + 10 > cell;
        let tick_h = text_size("Ag", TICK).1;
        let label_h = text_size("Ag", LABEL).1;
        let x_names_h = if rotate_x_names { name_w } else { tick_h };
        let left = 16 + label_h + 14 + name_w + 10;
        let top = label_h + 20;
        let bottom = 10 + x_names_h + 14 + label_h + 16;
        let subtitle_w = max_text_width(SUBTITLES, LABEL);
        let panel_width = (left + n * cell + 30).max(subtitle_w + 40);
        let title_height = text_size("Ag", TITLE).1 + 24;
        Self {
            cm,
            title,
            normalized: cm.row_normalized(),
            cell,
            rotate_x_names,
            left,
            top,
            bottom,
            panel_width,
            title_height,
        }
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        subtitle: &str,
        value: impl Fn(usize, usize) -> (f64, String),
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.cm.n_classes() as i32;
        let (cell, left, top) = (self.cell as i32, self.left as i32, self.top as i32);
        let matrix = n * cell;
        // Centred over the matrix, but kept inside the panel.
        let (panel_w, _) = area.dim_in_pixel();
        let half = text_size(subtitle, LABEL).0 as i32 / 2;
        let x = (left + matrix / 2)
            .min(panel_w as i32 - half - 10)
            .max(half + 10);
        area.draw_text(subtitle, &text(LABEL, HPos::Center, VPos::Top), (x, 4))?;
        for t in 0..n {
            for p in 0..n {
                let (shade, label) = value(t as usize, p as usize);
                let (x0, y0) = (left + p * cell, top + t * cell);
                area.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell, y0 + cell)],
                    blues(shade).filled(),
                ))?;
                let ink = if shade > 0.55 { WHITE } else { BLACK };
                area.draw_text(
                    &label,
                    &colored_text(ANNOTATION, ink, HPos::Center, VPos::Center),
                    (x0 + cell / 2, y0 + cell / 2),
                )?;
            }
        }
        area.draw(&Rectangle::new(
            [(left, top), (left + matrix, top + matrix)],
            BLACK.stroke_width(1),
        ))?;
        for (i, name) in self.cm.class_names.iter().enumerate() {
            let centre = i as i32 * cell + cell / 2;
            area.draw_text(
                name,
                &text(TICK, HPos::Right, VPos::Center),
                (left - 10, top + centre),
            )?;
            let x_name = if self.rotate_x_names {
                // Reads bottom-to-top, ending just under the matrix.
                text(TICK, HPos::Right, VPos::Center).transform(FontTransform::Rotate270)
            } else {
                text(TICK, HPos::Center, VPos::Top)
            };
            area.draw_text(name, &x_name, (left + centre, top + matrix + 10))?;
        }
        let (_, height) = area.dim_in_pixel();
        area.draw_text(
            "Predicted class",
            &text(LABEL, HPos::Center, VPos::Bottom),
            (left + matrix / 2, height as i32 - 14),
        )?;
        area.draw_text(
            "True class",
            &text(LABEL, HPos::Center, VPos::Top).transform(FontTransform::Rotate270),
            (16, top + matrix / 2),
        )?;
        Ok(())
    }
}

/// Shade and label of a row-normalised cell. A class absent from the data has no recall to
/// show: its row reads `absent`, not a row of 0.00 that looks like a recall of zero.
fn normalized_cell(support: u64, value: f64) -> (f64, String) {
    if support == 0 {
        (0.0, ABSENT.to_string())
    } else {
        (value, format!("{value:.2}"))
    }
}

/// The label of a row-normalised cell of a class with no samples.
const ABSENT: &str = "absent";

impl Figure for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.cm.n_classes() as u32;
        (
            2 * self.panel_width,
            self.title_height + self.top + n * self.cell + self.bottom,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (width, _) = root.dim_in_pixel();
        root.draw_text(
            self.title,
            &text(TITLE, HPos::Center, VPos::Top),
            (width as i32 / 2, 12),
        )?;
        let body = root.split_vertically(self.title_height).1;
        let (counts_area, normalized_area) = body.split_horizontally(self.panel_width);
        let max_count = self
            .cm
            .counts
            .iter()
            .flatten()
            .max()
            .copied()
            .unwrap_or(0)
            .max(1);
        self.panel(&counts_area, SUBTITLES[0], |t, p| {
            let c = self.cm.counts[t][p];
            (c as f64 / max_count as f64, c.to_string())
        })?;
        self.panel(&normalized_area, SUBTITLES[1], |t, p| {
            normalized_cell(self.cm.support(t), self.normalized[t][p])
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_class_row_reads_absent_not_zero_recall() {
        assert_eq!(normalized_cell(0, 0.0), (0.0, "absent".to_string()));
        assert_eq!(normalized_cell(5, 0.4), (0.4, "0.40".to_string()));
        assert_eq!(normalized_cell(3, 0.0), (0.0, "0.00".to_string()));
    }
}

//! ROC curves: one-vs-rest per class plus averages, AUC in the legend.

use std::path::Path;

use lungsound_eval::RocCurve;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{ANNOTATION, GRID, LABEL, TICK, TITLE, series_color, text, text_size};
use super::{DrawResult, Figure, PlotFiles, render};
use crate::Error;

/// Writes `<stem>.png` and `<stem>.svg`: every curve of `per_class` in its
/// own colour, the `averages` (micro, macro) as dashed dark lines, the chance
/// diagonal, and a legend of `label (AUC = x.xxx)`. Undefined curves (class
/// absent from the data) are listed in the legend as "no AUC" and not drawn.
pub fn roc_plot(
    title: &str,
    per_class: &[RocCurve],
    averages: &[RocCurve],
    stem: &Path,
) -> Result<PlotFiles, Error> {
    if let Some(c) = per_class
        .iter()
        .chain(averages)
        .find(|c| c.fpr.len() != c.tpr.len())
    {
        return Err(Error::InvalidData {
            plot: "ROC",
            message: format!(
                "curve '{}' must have as many fpr as tpr values, got {} and {}",
                c.label,
                c.fpr.len(),
                c.tpr.len()
            ),
        });
    }
    render(
        &RocFigure {
            title,
            per_class,
            averages,
        },
        stem,
    )
}

struct RocFigure<'a> {
    title: &'a str,
    per_class: &'a [RocCurve],
    averages: &'a [RocCurve],
}

/// Colours of the average curves: near-black and dark purple-grey.
const AVERAGE_COLORS: [RGBColor; 2] = [RGBColor(20, 20, 20), RGBColor(120, 60, 140)];

fn legend_label(c: &RocCurve) -> String {
    match c.auc {
        Some(auc) => format!("{} (AUC = {auc:.3})", c.label),
        None => format!("{} (no AUC: one-sided labels)", c.label),
    }
}

impl Figure for RocFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (860, 820)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let label_h = text_size("Ag", LABEL).1;
        let mut ctx = ChartBuilder::on(root)
            .caption(self.title, text(TITLE, HPos::Center, VPos::Top))
            .margin_top(12)
            .margin_left(16)
            .margin_right(36)
            .margin_bottom(16)
            .x_label_area_size(text_size("Ag", TICK).1 + label_h + 30)
            .y_label_area_size(label_h + 80)
            .build_cartesian_2d(0f64..1f64, 0f64..1.0f64)?;
        ctx.configure_mesh()
            .x_labels(11)
            .y_labels(11)
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .label_style(text(TICK, HPos::Center, VPos::Center))
            .axis_desc_style(text(LABEL, HPos::Center, VPos::Center))
            .x_desc("False positive rate (1 − specificity)")
            .y_desc("True positive rate (sensitivity)")
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(230, 230, 230))
            .draw()?;
        ctx.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            6,
            6,
            GRID.stroke_width(2),
        ))?
        .label("chance (AUC = 0.5)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 28, y)], GRID.stroke_width(2)));

        for (i, curve) in self.per_class.iter().enumerate() {
            let color = series_color(i);
            let points = curve.fpr.iter().copied().zip(curve.tpr.iter().copied());
            ctx.draw_series(LineSeries::new(points, color.stroke_width(3)))?
                .label(legend_label(curve))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 28, y)], color.stroke_width(3))
                });
        }
        for (i, curve) in self.averages.iter().enumerate() {
            let color = AVERAGE_COLORS[i % AVERAGE_COLORS.len()];
            let points: Vec<(f64, f64)> = curve
                .fpr
                .iter()
                .copied()
                .zip(curve.tpr.iter().copied())
                .collect();
            ctx.draw_series(DashedLineSeries::new(points, 10, 5, color.stroke_width(3)))?
                .label(legend_label(curve))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 12, y)], color.stroke_width(3))
                });
        }
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .margin(12)
            .legend_area_size(36)
            .label_font(text(ANNOTATION, HPos::Left, VPos::Top))
            .background_style(WHITE.mix(0.92))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
        Ok(())
    }
}

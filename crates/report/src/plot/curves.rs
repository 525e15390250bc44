//! Training curves: loss and score per epoch.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{
    ANNOTATION, LABEL, TICK, TITLE, format_tick, series_color, text, text_size, tick_decimals,
};
use super::{DrawResult, Figure, PlotFiles, render};
use crate::Error;

/// Writes `<stem>.png` and `<stem>.svg` from `(epoch, series name, value)`
/// points: series whose name contains "loss" (case-insensitive) go in a left
/// "loss" panel, all others (accuracy, scores) in a right "score" panel; a
/// figure with only one kind has one panel. Series keep the order in which
/// their names first appear and are drawn as lines with a marker per epoch.
///
/// Errors when a value is not finite.
pub fn training_curves<S: AsRef<str>>(
    title: &str,
    points: &[(usize, S, f64)],
    stem: &Path,
) -> Result<PlotFiles, Error> {
    if let Some((epoch, name, value)) = points.iter().find(|(_, _, v)| !v.is_finite()) {
        return Err(Error::InvalidData {
            plot: "training curves",
            message: format!(
                "values must be finite, got {value} for '{}' at epoch {epoch}",
                name.as_ref()
            ),
        });
    }
    let mut series: Vec<Series> = Vec::new();
    for (epoch, name, value) in points {
        let name = name.as_ref();
        let index = match series.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                series.push(Series {
                    name: name.to_string(),
                    color: series_color(series.len()),
                    points: Vec::new(),
                });
                series.len() - 1
            }
        };
        series[index].points.push((*epoch as f64, *value));
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let (losses, scores): (Vec<Series>, Vec<Series>) = series
        .into_iter()
        .partition(|s| s.name.to_lowercase().contains("loss"));
    let mut panels = Vec::new();
    if !losses.is_empty() {
        panels.push(("loss", losses));
    }
    if !scores.is_empty() || panels.is_empty() {
        panels.push(("score", scores));
    }
    render(&Curves { title, panels }, stem)
}

struct Series {
    name: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

struct Curves<'a> {
    title: &'a str,
    panels: Vec<(&'static str, Vec<Series>)>,
}

const PANEL_WIDTH: u32 = 720;

impl Figure for Curves<'_> {
    fn size(&self) -> (u32, u32) {
        (PANEL_WIDTH * self.panels.len() as u32, 580)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (width, _) = root.dim_in_pixel();
        let title_h = text_size("Ag", TITLE).1 + 24;
        root.draw_text(
            self.title,
            &text(TITLE, HPos::Center, VPos::Top),
            (width as i32 / 2, 12),
        )?;
        let body = root.split_vertically(title_h).1;
        let areas = body.split_evenly((1, self.panels.len()));
        for ((y_label, series), area) in self.panels.iter().zip(&areas) {
            draw_panel(area, y_label, series)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y_label: &str,
    series: &[Series],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let all = series.iter().flat_map(|s| &s.points);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1.0 {
        (x0, x1) = (x0 - 0.5, x1 + 0.5);
    }
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    // Scores in [0, 1] keep that scale; losses start at their minimum.
    let (y0, y1) = if y_label == "score" && y0 >= 0.0 && y1 <= 1.0 {
        (0.0, 1.0)
    } else {
        (y0 - pad, y1 + pad)
    };
    let label_h = text_size("Ag", LABEL).1;
    let decimals = tick_decimals(y1 - y0);
    let mut ctx = ChartBuilder::on(area)
        .margin(16)
        .margin_left(16)
        .margin_right(28)
        .x_label_area_size(text_size("Ag", TICK).1 + label_h + 26)
        .y_label_area_size(label_h + 80)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    ctx.configure_mesh()
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-9 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| format_tick(*v, decimals))
        .label_style(text(TICK, HPos::Center, VPos::Center))
        .axis_desc_style(text(LABEL, HPos::Center, VPos::Center))
        .x_desc("epoch")
        .y_desc(y_label)
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(230, 230, 230))
        .draw()?;
    for s in series {
        let color = s.color;
        ctx.draw_series(
            LineSeries::new(s.points.iter().copied(), color.stroke_width(3)).point_size(4),
        )?
        .label(s.name.as_str())
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 28, y)], color.stroke_width(3)));
    }
    if !series.is_empty() {
        let position = if y_label == "loss" {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        };
        ctx.configure_series_labels()
            .position(position)
            .margin(10)
            .legend_area_size(36)
            .label_font(text(ANNOTATION, HPos::Left, VPos::Top))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
    }
    Ok(())
}

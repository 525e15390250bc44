//! Bar chart of counts per category, with the count written on each bar.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{ANNOTATION, LABEL, TICK, TITLE, max_text_width, series_color, text, text_size};
use super::{DrawResult, Figure, PlotFiles, render};
use crate::Error;

/// One series of a [`BarChart`]: a count per category.
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    /// Legend entry (shown only when the chart has more than one series).
    pub name: String,
    /// One count per category, in category order.
    pub values: Vec<u64>,
}

/// Counts per category; with several series, the bars of a category stand
/// side by side (e.g. train and test).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Figure title.
    pub title: String,
    /// Horizontal axis description (what the categories are).
    pub x_label: String,
    /// Vertical axis description (what is counted).
    pub y_label: String,
    /// Category names, left to right.
    pub categories: Vec<String>,
    /// The series; each has one value per category.
    pub series: Vec<BarSeries>,
}

impl BarChart {
    /// A one-series chart from `(category, count)` pairs.
    pub fn from_counts(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
        counts: &[(String, u64)],
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            categories: counts.iter().map(|(c, _)| c.clone()).collect(),
            series: vec![BarSeries {
                name: String::new(),
                values: counts.iter().map(|(_, v)| *v).collect(),
            }],
        }
    }
}

/// Writes `<stem>.png` and `<stem>.svg`: vertical bars with the category
/// names under them and each count above its bar. The figure widens with
/// the number of categories; names too long for their slot are turned
/// vertical. An empty chart is drawn with a "no data" note.
///
/// Errors when a series does not have one value per category.
pub fn bar_chart(chart: &BarChart, stem: &Path) -> Result<PlotFiles, Error> {
    if let Some(s) = chart
        .series
        .iter()
        .find(|s| s.values.len() != chart.categories.len())
    {
        return Err(Error::InvalidData {
            plot: "bar chart",
            message: format!(
                "series '{}' must have one value per category ({}), got {}",
                s.name,
                chart.categories.len(),
                s.values.len()
            ),
        });
    }
    render(&BarLayout::new(chart), stem)
}

/// Widest the figure gets before category names are turned vertical.
const MAX_WIDTH: u32 = 2000;

struct BarLayout<'a> {
    chart: &'a BarChart,
    bar_width: u32,
    slot: u32,
    rotate: bool,
    names_height: u32,
    width: u32,
}

impl<'a> BarLayout<'a> {
    fn new(chart: &'a BarChart) -> Self {
        let n = chart.categories.len().max(1) as u32;
        let g = chart.series.len().max(1) as u32;
        let max_value = chart.series.iter().flat_map(|s| &s.values).max().copied();
        let number_w = text_size(&max_value.unwrap_or(0).to_string(), ANNOTATION).0;
        let bar_width = (number_w + 8).max(36);
        let name_w = max_text_width(chart.categories.iter().map(String::as_str), TICK);
        let bars = g * bar_width + 24;
        let mut slot = bars.max(name_w + 16);
        let mut rotate = false;
        if MARGIN_LEFT + n * slot + MARGIN_RIGHT > MAX_WIDTH && name_w + 16 > bars {
            slot = bars.max(text_size("Ag", TICK).1 + 10);
            rotate = true;
        }
        let names_height = if rotate {
            name_w
        } else {
            text_size("Ag", TICK).1
        } + 14;
        let width = (16 + MARGIN_LEFT + n * slot + MARGIN_RIGHT).max(640);
        Self {
            chart,
            bar_width,
            slot,
            rotate,
            names_height,
            width,
        }
    }
}

/// Room for the y tick labels and description.
const MARGIN_LEFT: u32 = 110;
const MARGIN_RIGHT: u32 = 30;
const PLOT_HEIGHT: u32 = 420;

impl Figure for BarLayout<'_> {
    fn size(&self) -> (u32, u32) {
        let title = text_size("Ag", TITLE).1 + 30;
        let x_desc = text_size("Ag", LABEL).1 + 20;
        (
            self.width,
            title + PLOT_HEIGHT + self.names_height + x_desc + 20,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let chart = self.chart;
        let n = chart.categories.len();
        let max_value = chart
            .series
            .iter()
            .flat_map(|s| &s.values)
            .max()
            .copied()
            .unwrap_or(0);
        let legend = chart.series.len() > 1;
        // Headroom for the numbers above the bars (and the legend).
        let y_max = (max_value.max(1) as f64) * if legend { 1.3 } else { 1.12 };
        let x_desc_h = text_size("Ag", LABEL).1 + 20;
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&chart.title, text(TITLE, HPos::Center, VPos::Top))
            .margin_top(12)
            .margin_left(16)
            .margin_right(MARGIN_RIGHT)
            .margin_bottom(20)
            .x_label_area_size(self.names_height + x_desc_h)
            .y_label_area_size(MARGIN_LEFT);
        let mut ctx = builder.build_cartesian_2d(0f64..n.max(1) as f64, 0f64..y_max)?;
        ctx.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(8)
            .y_label_formatter(&|v| format_count(*v))
            .label_style(text(TICK, HPos::Center, VPos::Center))
            .axis_desc_style(text(LABEL, HPos::Center, VPos::Center))
            .x_desc(chart.x_label.as_str())
            .y_desc(chart.y_label.as_str())
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;

        if n == 0 {
            ctx.plotting_area().draw(&Text::new(
                "no data",
                (0.5, y_max / 2.0),
                text(LABEL, HPos::Center, VPos::Center),
            ))?;
            return Ok(());
        }

        // Bars are laid out in slot units: each category is one unit wide.
        let unit_bar = self.bar_width as f64 / self.slot as f64;
        let g = chart.series.len() as f64;
        for (s, series) in chart.series.iter().enumerate() {
            let color = series_color(s);
            let offset = 0.5 - unit_bar * g / 2.0 + unit_bar * s as f64;
            let bars = series.values.iter().enumerate().map(|(i, &v)| {
                let x0 = i as f64 + offset;
                Rectangle::new([(x0, 0.0), (x0 + unit_bar, v as f64)], color.filled())
            });
            let anno = ctx.draw_series(bars)?;
            if legend {
                anno.label(series.name.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 7), (x + 14, y + 7)], color.filled())
                });
            }
            let numbers = series.values.iter().enumerate().map(|(i, &v)| {
                let x = i as f64 + offset + unit_bar / 2.0;
                Text::new(
                    v.to_string(),
                    (x, v as f64 + y_max * 0.01),
                    text(ANNOTATION, HPos::Center, VPos::Bottom),
                )
            });
            ctx.draw_series(numbers)?;
        }
        if legend {
            ctx.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font(text(ANNOTATION, HPos::Left, VPos::Top))
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(160, 160, 160))
                .draw()?;
        }

        // Category names under the axis, centred on their slot.
        for (i, name) in chart.categories.iter().enumerate() {
            let (x, y) = ctx.backend_coord(&(i as f64 + 0.5, 0.0));
            let style = if self.rotate {
                text(TICK, HPos::Right, VPos::Center).transform(FontTransform::Rotate270)
            } else {
                text(TICK, HPos::Center, VPos::Top)
            };
            root.draw_text(name, &style, (x, y + 10))?;
        }
        Ok(())
    }
}

/// Tick label for a count axis: integers only (no "2.5 recordings").
fn format_count(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

//! Shared look: font sizes, colours and text measurement.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::FONT_FAMILY;

/// Figure title.
pub(crate) const TITLE: f64 = 28.0;
/// Axis descriptions.
pub(crate) const LABEL: f64 = 22.0;
/// Tick labels and category names.
pub(crate) const TICK: f64 = 19.0;
/// Numbers written on bars and cells, legend entries.
pub(crate) const ANNOTATION: f64 = 18.0;

/// Black text of `size` with the given anchor.
pub(crate) fn text(size: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    colored_text(size, BLACK, h, v)
}

/// Text of `size` and `color` with the given anchor.
pub(crate) fn colored_text(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    let mut style = TextStyle::from((FONT_FAMILY, size).into_font());
    style.color = color.to_backend_color();
    style.pos = Pos::new(h, v);
    style
}

/// Width and height in pixels of `s` at `size`. Falls back to a rough
/// estimate if the font is missing (it is registered before any layout).
pub(crate) fn text_size(s: &str, size: f64) -> (u32, u32) {
    (FONT_FAMILY, size)
        .into_font()
        .box_size(s)
        .unwrap_or(((s.chars().count() as f64 * size * 0.6) as u32, size as u32))
}

/// Widest of `labels` at `size`, in pixels.
pub(crate) fn max_text_width<'a>(labels: impl IntoIterator<Item = &'a str>, size: f64) -> u32 {
    labels
        .into_iter()
        .map(|l| text_size(l, size).0)
        .max()
        .unwrap_or(0)
}

/// Colour `i` of a categorical palette (Tableau 10, cycling).
pub(crate) fn series_color(i: usize) -> RGBColor {
    let c = colorous::TABLEAU10[i % colorous::TABLEAU10.len()];
    RGBColor(c.r, c.g, c.b)
}

/// Sequential blue for `t` in [0, 1] (matplotlib/ColorBrewer "Blues").
pub(crate) fn blues(t: f64) -> RGBColor {
    let c = colorous::BLUES.eval_continuous(t.clamp(0.0, 1.0));
    RGBColor(c.r, c.g, c.b)
}

/// Light grey for grids and reference lines.
pub(crate) const GRID: RGBColor = RGBColor(200, 200, 200);

/// Decimals for tick labels on an axis spanning `span`: enough to tell apart
/// ticks about `span / 10` apart (plotters picks round steps near that).
pub(crate) fn tick_decimals(span: f64) -> usize {
    if !(span.is_finite() && span > 0.0) {
        return 0;
    }
    let step = span / 10.0;
    (-step.log10().floor()).clamp(0.0, 6.0) as usize
}

/// `v` with `decimals` decimals ("-0" shown as "0").
pub(crate) fn format_tick(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_decimals_follow_the_span() {
        assert_eq!(tick_decimals(3.0), 1); // steps of 0.5 → "0.5"
        assert_eq!(tick_decimals(1.0), 1); // steps of 0.1
        assert_eq!(tick_decimals(80.0), 0);
        assert_eq!(tick_decimals(0.05), 3);
        assert_eq!(tick_decimals(0.0), 0);
        assert_eq!(format_tick(-0.0001, 2), "0.00");
        assert_eq!(format_tick(2.5, 1), "2.5");
    }
}

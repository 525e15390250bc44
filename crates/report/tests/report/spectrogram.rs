//! The spectrogram figure of `lungsound features --png`: readable axes, a dB
//! colour bar, and a log-STFT that is not almost all black.

use std::collections::HashSet;

use image::RgbImage;
use lungsound_features::{FeatureConfig, FeatureExtractor, FeatureKind};
use lungsound_report::Error;
use lungsound_report::plot::{SPECTROGRAM_FIGURE_SIZE, SpectrogramAxes, write_spectrogram_figure};
use lungsound_testutil::{sine, white_noise};
use ndarray::Array2;

use crate::util::out_dir;

const RATE: u32 = 8000;

/// 3 s of a 440 Hz tone, a 1.5 kHz tone and quiet white noise.
fn tone_and_noise() -> Vec<f32> {
    let a = sine(440.0, RATE, 3.0, 0.4);
    let b = sine(1500.0, RATE, 3.0, 0.2);
    let noise = white_noise(a.len(), 7);
    a.iter()
        .zip(&b)
        .zip(&noise)
        .map(|((a, b), n)| a + b + 0.02 * n)
        .collect()
}

fn compute(kind: FeatureKind, db: bool) -> (Array2<f32>, SpectrogramAxes) {
    let config = FeatureConfig {
        db,
        ..FeatureConfig::with_kind(kind)
    };
    let values = FeatureExtractor::new(&config, RATE)
        .unwrap()
        .compute(&tone_and_noise());
    (values, SpectrogramAxes::new(&config, RATE))
}

fn luminance(p: &image::Rgb<u8>) -> f64 {
    let [r, g, b] = p.0;
    0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)
}

/// Median luminance of a block well inside the image area.
fn plot_median_luminance(png: &RgbImage) -> f64 {
    let (w, h) = png.dimensions();
    let mut l: Vec<f64> = (w * 3 / 10..w * 7 / 10)
        .flat_map(|x| (h * 3 / 10..h * 7 / 10).map(move |y| (x, y)))
        .map(|(x, y)| luminance(png.get_pixel(x, y)))
        .collect();
    l.sort_by(f64::total_cmp);
    l[l.len() / 2]
}

/// Is there a colour-bar column on the right: over the middle half of the height,
/// luminance never rises going down, spans a wide range, through many colours?
fn has_colour_bar(png: &RgbImage) -> bool {
    let (w, h) = png.dimensions();
    (w * 4 / 5..w).any(|x| {
        let column: Vec<_> = (h / 4..h * 3 / 4).map(|y| *png.get_pixel(x, y)).collect();
        let l: Vec<f64> = column.iter().map(luminance).collect();
        let monotone = l.windows(2).all(|p| p[1] <= p[0] + 0.5);
        let distinct: HashSet<_> = column.iter().map(|p| p.0).collect();
        monotone && l[0] - l[l.len() - 1] > 60.0 && distinct.len() > 40
    })
}

/// Checks the figure: size, many colours, a title, a colour bar, and a plot
/// area bright enough to read. Returns the image.
fn check_figure(name: &str, kind: FeatureKind, db: bool) -> RgbImage {
    let (dir, _tmp) = out_dir("spectrogram");
    let (values, axes) = compute(kind, db);
    let title = format!("{name}.wav — {}", axes.settings(values.nrows()));
    let path = dir.join(format!("{name}.png"));
    let written = write_spectrogram_figure(&values, &axes, &title, &path).unwrap();
    assert_eq!(written, path);
    let png = image::open(&path).unwrap().to_rgb8();
    assert_eq!(png.dimensions(), SPECTROGRAM_FIGURE_SIZE, "{name}");
    let colours: HashSet<_> = png.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 200, "{name}: {} colours", colours.len());
    let dark_in_title = (0..png.width())
        .flat_map(|x| (0..40).map(move |y| (x, y)))
        .filter(|&(x, y)| png.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(dark_in_title > 50, "{name}: no title");
    assert!(has_colour_bar(&png), "{name}: no colour bar");
    // Text left of the image (frequency ticks) and below it (time ticks).
    let dark = |xs: std::ops::Range<u32>, ys: std::ops::Range<u32>| {
        xs.flat_map(|x| ys.clone().map(move |y| (x, y)))
            .filter(|&(x, y)| luminance(png.get_pixel(x, y)) < 80.0)
            .count()
    };
    let (w, h) = png.dimensions();
    assert!(dark(0..60, h / 4..h * 3 / 4) > 50, "{name}: no y label");
    assert!(dark(w / 4..w * 3 / 4, h - 40..h) > 50, "{name}: no x label");
    let median = plot_median_luminance(&png);
    assert!(median > 20.0, "{name}: plot area too dark ({median:.1})");
    png
}

#[test]
fn mel_figure_has_axes_colour_bar_and_title() {
    check_figure("mel", FeatureKind::Mel, false);
}

#[test]
fn mel_figure_of_db_values_matches_the_power_figure() {
    let power = check_figure("mel_power", FeatureKind::Mel, false);
    let db = check_figure("mel_db", FeatureKind::Mel, true);
    // power_to_db(ref=max, top_db=80) is what the figure does itself: the
    // images agree (titles and colour-bar labels differ).
    let (w, h) = power.dimensions();
    let block: Vec<(u32, u32)> = (w / 5..w * 4 / 5)
        .flat_map(|x| (h / 5..h * 4 / 5).map(move |y| (x, y)))
        .collect();
    let differing = block
        .iter()
        .filter(|&&(x, y)| {
            let (a, b) = (power.get_pixel(x, y).0, db.get_pixel(x, y).0);
            a.iter().zip(b).any(|(p, q)| p.abs_diff(q) > 8)
        })
        .count();
    assert!(differing < block.len() / 100, "{differing} pixels differ");
}

#[test]
fn stft_figure_has_axes_colour_bar_and_title() {
    check_figure("stft", FeatureKind::Stft, false);
}

#[test]
fn logstft_figure_is_drawn_in_db_and_not_almost_black() {
    let figure = check_figure("logstft", FeatureKind::LogStft, false);
    // The raw log1p image the issue complains about is much darker.
    let (values, _) = compute(FeatureKind::LogStft, false);
    let raw = lungsound_features::to_image(&values, lungsound_features::Colormap::Magma).unwrap();
    let mut l: Vec<f64> = raw.pixels().map(luminance).collect();
    l.sort_by(f64::total_cmp);
    let raw_median = l[l.len() / 2];
    let median = plot_median_luminance(&figure);
    assert!(
        median > raw_median + 20.0,
        "figure {median:.1} vs raw {raw_median:.1}"
    );
}

#[test]
fn stft_figure_rejects_a_row_count_that_is_not_one_plus_half_n_fft() {
    let (dir, _tmp) = out_dir("spectrogram_bad");
    let (values, mut axes) = compute(FeatureKind::Stft, false);
    axes.n_fft = 1024;
    let err = write_spectrogram_figure(&values, &axes, "t", &dir.join("bad.png")).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err}");
    assert!(err.to_string().contains("513"), "{err}");
    let empty = Array2::<f32>::zeros((128, 0));
    let (_, axes) = compute(FeatureKind::Mel, false);
    let err = write_spectrogram_figure(&empty, &axes, "t", &dir.join("empty.png")).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    assert!(!dir.join("bad.png").exists() && !dir.join("empty.png").exists());
}

#[test]
fn settings_name_kind_fft_hop_bands_and_rate() {
    let (values, axes) = compute(FeatureKind::Mel, false);
    assert_eq!(
        axes.settings(values.nrows()),
        "mel, n_fft 2048, hop 512, 128 bands, 8000 Hz"
    );
    let (values, axes) = compute(FeatureKind::LogStft, false);
    assert_eq!(
        axes.settings(values.nrows()),
        "logstft, n_fft 2048, hop 512, 8000 Hz"
    );
}

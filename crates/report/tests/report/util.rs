//! Shared helpers: output folders, plot checks, example metrics.

use std::path::PathBuf;

use lungsound_eval::evaluate;
use lungsound_report::PlotFiles;

/// Where examples go: `$LUNGSOUND_PLOT_DIR/<name>` or a fresh temp dir.
pub(crate) fn out_dir(name: &str) -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("LUNGSOUND_PLOT_DIR") {
        Some(dir) => (PathBuf::from(dir).join(name), None),
        None => {
            let tmp = tempfile::tempdir().unwrap();
            (tmp.path().join(name), Some(tmp))
        }
    }
}

pub(crate) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub(crate) const SPR_EVENTS: [&str; 7] = [
    "Normal",
    "Rhonchi",
    "Wheeze",
    "Stridor",
    "Coarse Crackle",
    "Fine Crackle",
    "Wheeze+Crackle",
];

/// `width="…" height="…"` of the root `<svg>` element.
pub(crate) fn svg_size(svg: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let key = format!("{name}=\"");
        let start = svg.find(&key).unwrap() + key.len();
        let end = start + svg[start..].find('"').unwrap();
        svg[start..end].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

/// Checks both files exist, the PNG decodes at the SVG's size, the SVG names
/// every label, and text was drawn into the PNG's top band (the title).
pub(crate) fn check_plot(files: &PlotFiles, labels: &[&str]) -> (u32, u32) {
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    let png = image::open(&files.png).unwrap().to_rgb8();
    let size = svg_size(&svg);
    assert_eq!(png.dimensions(), size, "{}", files.png.display());
    for label in labels {
        assert!(
            svg.contains(label),
            "{} does not mention {label}",
            files.svg.display()
        );
    }
    let dark_in_title = (0..png.width())
        .flat_map(|x| (0..40).map(move |y| (x, y)))
        .filter(|&(x, y)| png.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark_in_title > 50,
        "no title text drawn in {}",
        files.png.display()
    );
    size
}

/// A 7-class evaluation with one class (Stridor) absent from the data.
pub(crate) fn example_metrics() -> lungsound_eval::Metrics {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 10_000) as f32 / 10_000.0
    };
    let classes = [0, 0, 0, 0, 1, 2, 2, 5, 5, 6, 4];
    let (mut y, mut p) = (Vec::new(), Vec::new());
    for i in 0..660 {
        let t = classes[i % classes.len()];
        let mut row: Vec<f32> = (0..7).map(|_| rnd()).collect();
        row[t] += 0.9 * rnd();
        let sum: f32 = row.iter().sum();
        y.push(t);
        p.push(row.iter().map(|v| v / sum).collect::<Vec<f32>>());
    }
    evaluate(&y, &p, &strings(&SPR_EVENTS), 0).unwrap()
}

//! `write_analysis_report`: the `lungsound analyze` report of a dataset.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use lungsound_datasets::{Count, DatasetKind, DatasetSummary, Issue, Stats};

use crate::markdown::{escape, image, percent, table};
use crate::plot::{BarChart, BarSeries, Histogram, PlotFiles, bar_chart, histogram};
use crate::{Error, write_file};

/// File name of the serialised summary.
pub const SUMMARY_JSON: &str = "summary.json";
/// File name of the Markdown report (both reports).
pub const REPORT_MD: &str = "report.md";

/// The summary's name for a value the dataset does not record.
const UNKNOWN: &str = "unknown";

/// Bins of the duration and age histograms.
const BINS: usize = 30;

/// Writes the dataset analysis into `out_dir` (created if needed):
/// `summary.json` (the summary as is), `report.md` and, for every part of
/// the summary that has data, a plot as PNG and SVG:
///
/// | stem | what |
/// |---|---|
/// | `event_classes` | events (cycles) per class |
/// | `record_classes` | recordings per record label (SPRSound) |
/// | `devices`, `locations` | recordings per device / chest location |
/// | `event_durations` | histogram of event durations |
/// | `recording_durations` | histogram of recording durations (when probed) |
/// | `ages` | histogram of patient ages |
/// | `split_balance` | train vs test class counts (official split) |
///
/// `report.md` embeds the PNGs by relative link, so the folder can be moved
/// or viewed as is, and lists the first 50 issues (most
/// serious first; `summary.json` has every one, with severity, path, line
/// and message). Returns every file written.
pub fn write_analysis_report(
    summary: &DatasetSummary,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, Error> {
    crate::create_dir(out_dir)?;
    let mut written = Vec::new();

    let json_path = out_dir.join(SUMMARY_JSON);
    let json = serde_json::to_string_pretty(summary).map_err(|source| Error::Json {
        path: json_path.clone(),
        source,
    })?;
    write_file(&json_path, json.as_bytes())?;
    written.push(json_path);

    let mut md = String::new();
    let title = format!(
        "# Dataset analysis: {} ({})\n\n",
        escape(&summary.root.display().to_string()),
        kind_name(summary.kind)
    );
    md.push_str(&title);
    overview(&mut md, summary);

    let mut plots = Plots {
        out_dir,
        written: &mut written,
    };
    section_counts(
        &mut md,
        &mut plots,
        "Events by class",
        "class",
        "events",
        &summary.event_counts,
        "event_classes",
    )?;
    section_counts(
        &mut md,
        &mut plots,
        "Recordings by record label",
        "record label",
        "recordings",
        &summary.record_label_counts,
        "record_classes",
    )?;
    section_recordings(&mut md, summary);
    section_counts(
        &mut md,
        &mut plots,
        "Recordings by device",
        "device",
        "recordings",
        &summary.device_counts,
        "devices",
    )?;
    section_counts(
        &mut md,
        &mut plots,
        "Recordings by chest location",
        "location",
        "recordings",
        &summary.location_counts,
        "locations",
    )?;
    if summary.mode_counts.iter().any(|c| c.name != UNKNOWN) {
        md.push_str("## Recordings by acquisition mode\n\n");
        md.push_str(&count_table("mode", &summary.mode_counts));
        md.push('\n');
    }
    section_event_durations(&mut md, &mut plots, summary)?;
    section_recording_durations(&mut md, &mut plots, summary)?;
    section_patients(&mut md, &mut plots, summary)?;
    section_split(&mut md, &mut plots, summary)?;
    section_issues(&mut md, summary);

    let md_path = out_dir.join(REPORT_MD);
    write_file(&md_path, md.as_bytes())?;
    written.push(md_path);
    Ok(written)
}

/// Where plots go and the list of files written so far.
struct Plots<'a> {
    out_dir: &'a Path,
    written: &'a mut Vec<PathBuf>,
}

impl Plots<'_> {
    fn keep(&mut self, files: PlotFiles) -> String {
        let name = files
            .png
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.written.push(files.png);
        self.written.push(files.svg);
        name
    }

    fn bar(&mut self, chart: &BarChart, stem: &str) -> Result<String, Error> {
        let files = bar_chart(chart, &self.out_dir.join(stem))?;
        Ok(self.keep(files))
    }

    fn histogram(&mut self, hist: &Histogram, stem: &str) -> Result<String, Error> {
        let files = histogram(hist, &self.out_dir.join(stem))?;
        Ok(self.keep(files))
    }
}

fn kind_name(kind: DatasetKind) -> &'static str {
    match kind {
        DatasetKind::Icbhi => "ICBHI 2017",
        DatasetKind::SprSound => "SPRSound",
        DatasetKind::Folder => "plain audio folder",
    }
}

fn overview(md: &mut String, s: &DatasetSummary) {
    md.push_str("## Overview\n\n");
    let mut rows = vec![
        vec!["reader".to_string(), s.kind.to_string()],
        vec!["recordings".into(), s.n_recordings.to_string()],
        vec!["recordings with audio".into(), s.n_with_audio.to_string()],
        vec!["patients".into(), s.n_patients.to_string()],
        vec!["events / cycles".into(), s.n_events.to_string()],
    ];
    if let Some(stats) = &s.event_duration_stats {
        rows.push(vec![
            "annotated time".into(),
            format!("{:.1} min", stats.total / 60.0),
        ]);
    }
    if let Some(stats) = s.audio.as_ref().and_then(|a| a.stats.as_ref()) {
        rows.push(vec![
            "recorded time".into(),
            format!("{:.1} min", stats.total / 60.0),
        ]);
    }
    rows.push(vec!["issues".into(), s.n_issues.to_string()]);
    md.push_str(&table(&["", "value"], &rows));
    md.push('\n');
}

fn count_table(what: &str, counts: &[Count]) -> String {
    let total: usize = counts.iter().map(|c| c.count).sum();
    let mut rows: Vec<Vec<String>> = counts
        .iter()
        .map(|c| vec![c.name.clone(), c.count.to_string(), percent(c.count, total)])
        .collect();
    rows.push(vec![
        "total".into(),
        total.to_string(),
        percent(total, total),
    ]);
    table(&[what, "count", "share"], &rows)
}

fn to_pairs(counts: &[Count]) -> Vec<(String, u64)> {
    counts
        .iter()
        .map(|c| (c.name.clone(), c.count as u64))
        .collect()
}

/// A table and a bar chart of `counts`, or nothing when there are none.
fn section_counts(
    md: &mut String,
    plots: &mut Plots<'_>,
    title: &str,
    what: &str,
    unit: &str,
    counts: &[Count],
    stem: &str,
) -> Result<(), Error> {
    if counts.iter().all(|c| c.count == 0) {
        return Ok(());
    }
    let _ = writeln!(md, "## {title}\n");
    if counts.iter().all(|c| c.name == UNKNOWN || c.count == 0) {
        let _ = writeln!(md, "Not recorded in this dataset ({what} unknown).\n");
        return Ok(());
    }
    md.push_str(&count_table(what, counts));
    md.push('\n');
    let chart = BarChart::from_counts(title, what, unit, &to_pairs(counts));
    let png = plots.bar(&chart, stem)?;
    md.push_str(&image(title, &png));
    md.push('\n');
    Ok(())
}

fn stats_row(name: &str, s: Option<&Stats>, unit: &str) -> Vec<String> {
    match s {
        Some(s) => vec![
            name.to_string(),
            s.n.to_string(),
            format!("{:.2}{unit}", s.min),
            format!("{:.2}{unit}", s.median),
            format!("{:.2}{unit}", s.mean),
            format!("{:.2}{unit}", s.max),
            format!("{:.2}{unit}", s.std),
        ],
        None => vec![
            name.to_string(),
            "0".into(),
            "–".into(),
            "–".into(),
            "–".into(),
            "–".into(),
            "–".into(),
        ],
    }
}

const STATS_HEADERS: [&str; 7] = ["", "n", "min", "median", "mean", "max", "std"];

fn section_recordings(md: &mut String, s: &DatasetSummary) {
    if s.events_per_recording.is_empty() || s.n_events == 0 {
        return;
    }
    let values: Vec<f64> = s.events_per_recording.iter().map(|&n| n as f64).collect();
    let stats = Stats::of(&values);
    let without = s.events_per_recording.iter().filter(|&&n| n == 0).count();
    md.push_str("## Events per recording\n\n");
    md.push_str(&table(
        &STATS_HEADERS,
        &[stats_row("events per recording", stats.as_ref(), "")],
    ));
    let _ = writeln!(md, "\nRecordings without any event: {without}.\n");
}

fn section_event_durations(
    md: &mut String,
    plots: &mut Plots<'_>,
    s: &DatasetSummary,
) -> Result<(), Error> {
    if s.event_durations_s.is_empty() {
        return Ok(());
    }
    md.push_str("## Event durations\n\n");
    let mut rows = vec![stats_row(
        "all events",
        s.event_duration_stats.as_ref(),
        " s",
    )];
    rows.extend(
        s.event_durations_by_label
            .iter()
            .map(|l| stats_row(&l.label, l.stats.as_ref(), " s")),
    );
    md.push_str(&table(&STATS_HEADERS, &rows));
    md.push('\n');
    let png = plots.histogram(
        &Histogram {
            title: "Event durations".into(),
            x_label: "duration (s)".into(),
            y_label: "events".into(),
            values: s.event_durations_s.clone(),
            bins: BINS,
        },
        "event_durations",
    )?;
    md.push_str(&image("Event durations", &png));
    md.push('\n');
    Ok(())
}

fn section_recording_durations(
    md: &mut String,
    plots: &mut Plots<'_>,
    s: &DatasetSummary,
) -> Result<(), Error> {
    md.push_str("## Recording durations\n\n");
    let Some(audio) = &s.audio else {
        md.push_str("Audio headers were not read (durations not requested).\n\n");
        return Ok(());
    };
    md.push_str(&table(
        &STATS_HEADERS,
        &[stats_row("recordings", audio.stats.as_ref(), " s")],
    ));
    md.push('\n');
    if !audio.sample_rates.is_empty() {
        md.push_str(&count_table("sample rate (Hz)", &audio.sample_rates));
        md.push('\n');
    }
    if !audio.errors.is_empty() {
        let _ = writeln!(
            md,
            "{} audio header(s) could not be read.\n",
            audio.errors.len()
        );
    }
    if !audio.durations_s.is_empty() {
        let png = plots.histogram(
            &Histogram {
                title: "Recording durations".into(),
                x_label: "duration (s)".into(),
                y_label: "recordings".into(),
                values: audio.durations_s.clone(),
                bins: BINS,
            },
            "recording_durations",
        )?;
        md.push_str(&image("Recording durations", &png));
        md.push('\n');
    }
    Ok(())
}

fn section_patients(
    md: &mut String,
    plots: &mut Plots<'_>,
    s: &DatasetSummary,
) -> Result<(), Error> {
    md.push_str("## Patients\n\n");
    let recordings: Vec<f64> = s.patients.iter().map(|p| p.n_recordings as f64).collect();
    md.push_str(&table(
        &STATS_HEADERS,
        &[
            stats_row("age (years)", s.age_stats.as_ref(), ""),
            stats_row(
                "recordings per patient",
                Stats::of(&recordings).as_ref(),
                "",
            ),
        ],
    ));
    md.push('\n');
    if !s.sex_counts.is_empty() {
        md.push_str(&count_table("sex", &s.sex_counts));
        md.push('\n');
    }
    if s.diagnosis_counts.iter().any(|c| c.name != UNKNOWN) {
        md.push_str(&count_table("diagnosis", &s.diagnosis_counts));
        md.push('\n');
    }
    if !s.ages_years.is_empty() {
        let png = plots.histogram(
            &Histogram {
                title: "Patient ages".into(),
                x_label: "age (years)".into(),
                y_label: "patients".into(),
                values: s.ages_years.clone(),
                bins: BINS,
            },
            "ages",
        )?;
        md.push_str(&image("Patient ages", &png));
        md.push('\n');
    }
    Ok(())
}

fn section_split(md: &mut String, plots: &mut Plots<'_>, s: &DatasetSummary) -> Result<(), Error> {
    let Some(sides) = s.official_split.as_ref().filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    md.push_str("## Official train/test split\n\n");
    let headers: Vec<String> = std::iter::once(String::new())
        .chain(sides.iter().map(|b| b.split.clone()))
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut rows = vec![
        std::iter::once("recordings".to_string())
            .chain(sides.iter().map(|b| b.n_recordings.to_string()))
            .collect::<Vec<_>>(),
        std::iter::once("patients".to_string())
            .chain(sides.iter().map(|b| b.n_patients.to_string()))
            .collect(),
    ];
    // Classes: events if any side has events, else record labels.
    let use_events = sides
        .iter()
        .flat_map(|b| &b.event_counts)
        .any(|c| c.count > 0);
    let counts_of = |b: &lungsound_datasets::SplitBalance| -> Vec<Count> {
        if use_events {
            b.event_counts.clone()
        } else {
            b.record_label_counts.clone()
        }
    };
    let categories: Vec<String> = sides
        .first()
        .map(|b| counts_of(b).into_iter().map(|c| c.name).collect())
        .unwrap_or_default();
    let series: Vec<BarSeries> = sides
        .iter()
        .map(|b| {
            let counts = counts_of(b);
            BarSeries {
                name: b.split.clone(),
                values: categories
                    .iter()
                    .map(|name| {
                        counts
                            .iter()
                            .find(|c| &c.name == name)
                            .map_or(0, |c| c.count as u64)
                    })
                    .collect(),
            }
        })
        .collect();
    for (i, name) in categories.iter().enumerate() {
        let totals: Vec<u64> = series.iter().map(|s| s.values[i]).collect();
        let sum: u64 = totals.iter().sum();
        rows.push(
            std::iter::once(name.clone())
                .chain(
                    totals
                        .iter()
                        .map(|&v| format!("{v} ({})", percent(v as usize, sum as usize))),
                )
                .collect(),
        );
    }
    md.push_str(&table(&headers, &rows));
    let unit = if use_events { "events" } else { "recordings" };
    let _ = writeln!(
        md,
        "\nPercentages: how each class's {unit} divide between the sides.\n"
    );
    if categories.is_empty() {
        return Ok(());
    }
    let chart = BarChart {
        title: "Official split: class balance".into(),
        x_label: "class".into(),
        y_label: unit.into(),
        categories,
        series,
    };
    let png = plots.bar(&chart, "split_balance")?;
    md.push_str(&image("Official split: class balance", &png));
    md.push('\n');
    Ok(())
}

/// How many issues `report.md` lists (`summary.json` has them all).
const REPORT_ISSUES: usize = 50;

fn section_issues(md: &mut String, s: &DatasetSummary) {
    md.push_str("## Issues\n\n");
    if s.n_issues == 0 {
        md.push_str("None: every file and line was read as expected.\n");
        return;
    }
    let _ = writeln!(
        md,
        "{} issue(s), all listed in `summary.json` (`issues`).\n",
        s.n_issues
    );
    md.push_str(&count_table("severity", &s.issues_by_severity));
    md.push('\n');
    let mut shown: Vec<&Issue> = s.issues.iter().collect();
    // Most serious first, otherwise in the order they were found.
    shown.sort_by_key(|i| std::cmp::Reverse(i.severity));
    shown.truncate(REPORT_ISSUES);
    if shown.len() < s.issues.len() {
        let _ = writeln!(
            md,
            "The first {} of {}, most serious first:\n",
            shown.len(),
            s.issues.len()
        );
    }
    for issue in shown {
        let path = issue.path.strip_prefix(&s.root).unwrap_or(&issue.path);
        let place = match issue.line {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        };
        let _ = writeln!(
            md,
            "- {}: {}: {}",
            issue.severity,
            escape(&place),
            escape(&issue.message)
        );
    }
}

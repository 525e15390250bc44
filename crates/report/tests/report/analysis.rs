//! `write_analysis_report`.

use std::path::PathBuf;

use lungsound_datasets::{
    AudioSummary, CycleLabel, Dataset, DatasetKind, Event, EventLabel, RecordLabel, Recording, Sex,
    Split, SprEventType, Stats, summarize,
};
use lungsound_report::{PlotFiles, write_analysis_report};

use crate::util::{check_plot, out_dir};

fn event(index: usize, start_s: f64, end_s: f64, label: EventLabel) -> Event {
    Event {
        index,
        start_s,
        end_s,
        label,
    }
}

/// A small SPRSound-like dataset: 6 recordings of 3 patients.
fn spr_dataset() -> Dataset {
    let types = [
        SprEventType::Normal,
        SprEventType::Wheeze,
        SprEventType::FineCrackle,
        SprEventType::Normal,
        SprEventType::Rhonchi,
    ];
    let labels = [
        RecordLabel::Normal,
        RecordLabel::Cas,
        RecordLabel::Das,
        RecordLabel::Normal,
        RecordLabel::CasDas,
        RecordLabel::PoorQuality,
    ];
    let recordings = (0..6)
        .map(|i| {
            let mut r = Recording::new(
                format!("rec{i}"),
                DatasetKind::SprSound,
                format!("p{}", i / 2),
            );
            r.device = Some(
                if i % 3 == 0 {
                    "Yunting model II"
                } else {
                    "Littmann 3200"
                }
                .into(),
            );
            r.location = Some(format!("p{}", i % 4 + 1));
            r.age_years = Some(2.5 + i as f64);
            r.sex = Some(if i % 2 == 0 { Sex::Male } else { Sex::Female });
            r.record_label = Some(labels[i]);
            r.audio_path = Some(PathBuf::from(format!("rec{i}.wav")));
            r.events = (0..i)
                .map(|k| {
                    let t = k as f64 * 1.3;
                    event(
                        k,
                        t,
                        t + 0.4 + 0.1 * k as f64,
                        EventLabel::Spr(types[k % types.len()]),
                    )
                })
                .collect();
            r
        })
        .collect();
    Dataset {
        kind: DatasetKind::SprSound,
        root: PathBuf::from("/data/sprsound/train2022"),
        recordings,
        issues: vec![lungsound_datasets::Issue::warning("rec9.json", "no events")],
    }
}

#[test]
fn analysis_report_writes_summary_markdown_and_plots() {
    let (dir, _tmp) = out_dir("analysis_spr");
    let mut summary = summarize(&spr_dataset(), false);
    let durations = vec![9.2, 15.0, 15.1, 12.4, 8.8, 15.0];
    summary.audio = Some(AudioSummary {
        stats: Stats::of(&durations),
        durations_s: durations,
        sample_rates: vec![lungsound_datasets::Count {
            name: "8000".into(),
            count: 6,
        }],
        errors: vec![],
    });
    let files = write_analysis_report(&summary, &dir).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for stem in [
        "event_classes",
        "record_classes",
        "devices",
        "locations",
        "event_durations",
        "recording_durations",
        "ages",
    ] {
        for ext in ["png", "svg"] {
            let name = format!("{stem}.{ext}");
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        check_plot(
            &PlotFiles {
                png: dir.join(format!("{stem}.png")),
                svg: dir.join(format!("{stem}.svg")),
            },
            &[],
        );
    }
    assert!(
        !names.iter().any(|n| n.starts_with("split_balance")),
        "no split for SPRSound"
    );
    assert!(names.contains(&"summary.json".to_string()));
    assert!(names.contains(&"report.md".to_string()));
    for f in &files {
        assert!(f.is_file(), "{}", f.display());
    }

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json, serde_json::to_value(&summary).unwrap());

    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let svg = std::fs::read_to_string(dir.join("devices.svg")).unwrap();
    assert!(svg.contains("Yunting model II") && svg.contains("Littmann 3200"));
    for needle in [
        "# Dataset analysis: /data/sprsound/train2022 (SPRSound)",
        "| recordings | 6 |",
        "| patients | 3 |",
        "| events / cycles | 15 |",
        // Recording i has events k = 0..i of type [N, W, FC, N, R][k]: 0+1+2+3+4+5 = 15
        // events; Normal 1+1+1+2+2 = 7 (46.7 %), Wheeze 4, Fine Crackle 3, Rhonchi 1 (6.7 %).
        "| Normal | 7 | 46.7 % |",
        "| Wheeze | 4 | 26.7 % |",
        "| Rhonchi | 1 | 6.7 % |",
        "| Stridor | 0 | 0.0 % |",
        "| Poor Quality | 1 | 16.7 % |",
        "| Yunting model II | 2 | 33.3 % |",
        "| Littmann 3200 | 4 | 66.7 % |",
        "| 8000 | 6 | 100.0 % |",
        "| Male | 3 |",
        "![Events by class](event_classes.png)",
        "![Recordings by record label](record_classes.png)",
        "![Recordings by device](devices.png)",
        "![Recordings by chest location](locations.png)",
        "![Event durations](event_durations.png)",
        "![Recording durations](recording_durations.png)",
        "![Patient ages](ages.png)",
        "1 issue(s), all listed in `summary.json` (`issues`).",
        "| warning | 1 |",
        "- warning: rec9.json: no events",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle}:\n{md}");
    }
}

#[test]
fn analysis_report_for_icbhi_has_split_balance() {
    let (dir, _tmp) = out_dir("analysis_icbhi");
    let cycles = [
        CycleLabel::Normal,
        CycleLabel::Crackle,
        CycleLabel::Wheeze,
        CycleLabel::Both,
    ];
    let recordings: Vec<Recording> = (0..8)
        .map(|i| {
            let mut r = Recording::new(
                format!("10{i}_1b1_Al_sc_Meditron"),
                DatasetKind::Icbhi,
                format!("10{}", i / 2),
            );
            r.official_split = Some(if i < 5 { Split::Train } else { Split::Test });
            r.device = Some("Meditron".into());
            r.location = Some("Al".into());
            r.mode = Some("sc".into());
            r.diagnosis = Some(if i < 4 { "COPD" } else { "Healthy" }.into());
            r.events = (0..4)
                .map(|k| {
                    event(
                        k,
                        k as f64 * 2.0,
                        k as f64 * 2.0 + 1.8,
                        EventLabel::Cycle(cycles[(i + k) % 4]),
                    )
                })
                .collect();
            r
        })
        .collect();
    let ds = Dataset {
        kind: DatasetKind::Icbhi,
        root: PathBuf::from("/data/icbhi"),
        recordings,
        issues: vec![],
    };
    let summary = summarize(&ds, false);
    let files = write_analysis_report(&summary, &dir).unwrap();
    assert!(files.contains(&dir.join("split_balance.png")));
    assert!(
        !files.contains(&dir.join("record_classes.png")),
        "ICBHI has no record labels"
    );
    let split = PlotFiles {
        png: dir.join("split_balance.png"),
        svg: dir.join("split_balance.svg"),
    };
    check_plot(&split, &["train", "test", "Crackle"]);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for needle in [
        "## Official train/test split",
        "| recordings | 5 | 3 |",
        "| COPD | 2 |",
        "| sc | 8 |",
        "Audio headers were not read",
        "None: every file and line was read as expected.",
        "![Official split: class balance](split_balance.png)",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle}:\n{md}");
    }
}

#[test]
fn analysis_report_of_real_sprsound() {
    let Some(dir) = lungsound_testutil::sprsound_train() else {
        eprintln!(
            "skipping analysis_report_of_real_sprsound: shared/data/sprsound/train2022 not found"
        );
        return;
    };
    let ds = lungsound_datasets::load_dataset(&dir).unwrap();
    let summary = summarize(&ds, false);
    let (out, _tmp) = out_dir("analysis_real_sprsound");
    let files = write_analysis_report(&summary, &out).unwrap();
    assert!(files.len() >= 10);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&format!("| recordings | {} |", summary.n_recordings)));
    if summary.device_counts.iter().all(|c| c.name == "unknown") {
        assert!(md.contains("Not recorded in this dataset (device unknown)."));
        assert!(!out.join("devices.png").exists());
    }
}

#[test]
fn analysis_report_lists_the_first_issues_most_serious_first_and_saves_all() {
    use lungsound_datasets::{Issue, Severity};
    let (dir, _tmp) = out_dir("analysis_issues");
    let mut ds = spr_dataset();
    ds.issues = (0..60)
        .map(|i| {
            Issue::info(
                ds.root.join(format!("rec{i}.json")),
                format!("note number {i}"),
            )
        })
        .collect();
    ds.issues.push(Issue::at_line(
        Severity::Error,
        ds.root.join("sub/a_b.txt"),
        7,
        "start \"x\" is not a number; cycle skipped",
    ));
    ds.issues.push(Issue::warning(
        "/elsewhere/rec3.wav",
        "event 2: 9.000–9.500 s lies past the end of the audio (8.000 s); skipped",
    ));
    let summary = summarize(&ds, false);
    write_analysis_report(&summary, &dir).unwrap();

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let issues = json["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 62);
    assert_eq!(json["n_issues"], 62);
    assert_eq!(issues[60]["severity"], "error");
    assert_eq!(issues[60]["line"], 7);
    assert_eq!(issues[60]["path"], "/data/sprsound/train2022/sub/a_b.txt");
    assert_eq!(
        issues[60]["message"],
        "start \"x\" is not a number; cycle skipped"
    );
    assert_eq!(issues[0]["line"], serde_json::Value::Null);

    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let section = &md[md.find("## Issues").unwrap()..];
    assert!(section.contains("62 issue(s)"), "{section}");
    assert!(section.contains("The first 50 of 62, most serious first:"));
    let items: Vec<&str> = section.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(items.len(), 50);
    // paths under the dataset folder are shown relative to it, with the line
    assert_eq!(
        items[0],
        "- error: sub/a\\_b.txt:7: start \"x\" is not a number; cycle skipped"
    );
    assert_eq!(
        items[1],
        "- warning: /elsewhere/rec3.wav: event 2: 9.000–9.500 s lies past the end of the audio \
         (8.000 s); skipped"
    );
    assert_eq!(items[2], "- info: rec0.json: note number 0");
    assert_eq!(items[49], "- info: rec47.json: note number 47");
    assert!(!section.contains("note number 48"));
}

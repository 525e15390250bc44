//! Property tests of the annotation parsers: any text or bytes give events and issues,
//! never a panic, and every event they return is possible (finite, ordered, within
//! `MAX_EVENT_TIME_S`). `PROPTEST_CASES` raises the case count for long runs.

use std::path::Path;

use lungsound_datasets::{MAX_EVENT_TIME_S, parse_annotation, parse_cycles};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    lungsound_testutil::proptest_config(400)
}

fn possible(start: f64, end: f64) -> bool {
    start.is_finite() && end.is_finite() && 0.0 <= start && start < end && end <= MAX_EVENT_TIME_S
}

/// Numbers as annotation files write them, and the odd ones they should not.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        Just("1e20".to_string()),
        Just("-0.5".to_string()),
        Just("NaN".to_string()),
        Just("\"123\"".to_string()),
        Just("".to_string()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn icbhi_cycles_from_any_text(text in ".{0,300}") {
        let (events, _issues) = parse_cycles(&text, Path::new("x.txt"));
        for e in events {
            prop_assert!(possible(e.start_s, e.end_s), "{e:?}");
        }
    }

    #[test]
    fn icbhi_cycles_from_plausible_lines(
        lines in proptest::collection::vec((number(), number(), 0u8..3, 0u8..3), 0..20)
    ) {
        let text: String = lines
            .iter()
            .map(|(a, b, c, w)| format!("{a}\t{b}\t{c}\t{w}\n"))
            .collect();
        let (events, issues) = parse_cycles(&text, Path::new("x.txt"));
        // Nothing is silently dropped: every line is an event or an issue.
        prop_assert!(events.len() + issues.len() >= lines.len(), "{text:?}: {issues:?}");
        for e in events {
            prop_assert!(possible(e.start_s, e.end_s), "{e:?}");
        }
    }

    #[test]
    fn sprsound_annotations_from_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (annotation, _issues) = parse_annotation(&bytes, Path::new("x.json"));
        if let Some(a) = annotation {
            for e in a.events {
                prop_assert!(possible(e.start_s, e.end_s), "{e:?}");
            }
        }
    }

    #[test]
    fn sprsound_annotations_from_plausible_json(
        key in prop_oneof![Just("record_annotation"), Just("recording_annotation"), Just("Record_Annotation")],
        label in prop_oneof![Just("Normal"), Just("CAS"), Just("DAS"), Just("CAS & DAS"), Just("Poor Quality"), Just("x")],
        events in proptest::collection::vec(
            (number(), number(), prop_oneof![Just("Normal"), Just("Wheeze"), Just("Fine Crackle"), Just("Stridor"), Just("?")]),
            0..12,
        ),
    ) {
        let list: Vec<String> = events
            .iter()
            .map(|(s, e, t)| format!(r#"{{"start": {s}, "end": {e}, "type": "{t}"}}"#))
            .collect();
        let json = format!(r#"{{"{key}": "{label}", "event_annotation": [{}]}}"#, list.join(", "));
        let (annotation, _issues) = parse_annotation(json.as_bytes(), Path::new("x.json"));
        if let Some(a) = annotation {
            for e in a.events {
                prop_assert!(possible(e.start_s, e.end_s), "{e:?}");
            }
        }
    }
}

//! Events (time intervals to classify) sent with an upload.
//!
//! Three JSON forms are accepted, so that a client can send a SPRSound annotation file as it
//! is, or plain intervals:
//!
//! - SPRSound: `{"record_annotation": "...", "event_annotation": [{"start": "118",
//!   "end": "1023", "type": "Normal"}]}`, times in **milliseconds**, numbers or numeric
//!   strings, keys in any case (the record label is ignored);
//! - `[{"start_s": 0.118, "end_s": 1.023}, ...]` in seconds (other keys ignored);
//! - `[[0.118, 1.023], ...]` in seconds.
//!
//! The result keeps the order given (a prediction's `index` refers to it); each interval
//! must satisfy `0 <= start < end`. Events that do not fit the recording are handled by the
//! model's clip pipeline (see [`fit_to_duration`]).

use serde_json::Value;

/// Parses events JSON (see the module docs) into `(start_s, end_s)` pairs, in order.
/// The error message names the offending event by its position in the input.
pub(crate) fn parse_events(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let value: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("events are not valid JSON: {e}"))?;
    let events = match &value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| interval_in_seconds(item).map_err(|e| format!("event {i}: {e}")))
            .collect::<Result<Vec<_>, _>>()?,
        Value::Object(obj) => {
            let Some(list) = get_ci(obj, "event_annotation") else {
                return Err(
                    "an events object must have an \"event_annotation\" list (SPRSound form)"
                        .into(),
                );
            };
            let Value::Array(items) = list else {
                return Err(format!(
                    "\"event_annotation\" must be a list, got {}",
                    kind(list)
                ));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| sprsound_event(item).map_err(|e| format!("event {i}: {e}")))
                .collect::<Result<Vec<_>, _>>()?
        }
        other => {
            return Err(format!(
                "events must be a JSON list or a SPRSound annotation object, got {}",
                kind(other)
            ));
        }
    };
    Ok(events)
}

/// Refuses events that leave nothing to classify in a recording of `duration_s` seconds:
/// every one starts at or after its end (wholly past the end, in the words of the one rule
/// for annotations that do not fit the audio, `lungsound_datasets::fit_spans`). Otherwise
/// the events go to the classifier as given, and the model's clip pipeline applies that rule
/// itself: an event past the end is skipped, one overlapping it is clipped to it (silently
/// within 50 ms), each reported in the prediction's `warnings`, and a prediction's `index`
/// still refers to the order given.
pub(crate) fn fit_to_duration(events: &[(f64, f64)], duration_s: f64) -> Result<(), String> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    if events.iter().all(|&(start_s, _)| start_s >= duration_s) {
        let n = events.len();
        return Err(format!(
            "{} past the end of the recording, which lasts {duration_s:.3} s (event 0: \
             {:.3}–{:.3} s); nothing to classify",
            if n == 1 {
                "the event lies".to_string()
            } else {
                format!("all {n} events lie")
            },
            first.0,
            first.1
        ));
    }
    Ok(())
}

fn interval_in_seconds(item: &Value) -> Result<(f64, f64), String> {
    let (start, end) = match item {
        Value::Object(obj) => (
            number(get_ci(obj, "start_s"), "start_s")?,
            number(get_ci(obj, "end_s"), "end_s")?,
        ),
        Value::Array(pair) if pair.len() == 2 => {
            (number(pair.first(), "start")?, number(pair.get(1), "end")?)
        }
        other => {
            return Err(format!(
                "expected {{\"start_s\": .., \"end_s\": ..}} or [start_s, end_s], got {}",
                kind(other)
            ));
        }
    };
    check(start, end, "s")
}

fn sprsound_event(item: &Value) -> Result<(f64, f64), String> {
    let Value::Object(obj) = item else {
        return Err(format!(
            "expected {{\"start\": .., \"end\": .., \"type\": ..}}, got {}",
            kind(item)
        ));
    };
    let start = number(get_ci(obj, "start"), "start")?;
    let end = number(get_ci(obj, "end"), "end")?;
    check(start, end, "ms")?;
    Ok((start / 1000.0, end / 1000.0))
}

fn check(start: f64, end: f64, unit: &str) -> Result<(f64, f64), String> {
    if start < 0.0 {
        return Err(format!("start must be >= 0, got {start} {unit}"));
    }
    if start >= end {
        return Err(format!(
            "start ({start} {unit}) must be before end ({end} {unit})"
        ));
    }
    Ok((start, end))
}

/// A finite number from a JSON number or a numeric string.
fn number(value: Option<&Value>, name: &str) -> Result<f64, String> {
    let x = match value {
        None | Some(Value::Null) => return Err(format!("missing \"{name}\"")),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match x {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(format!(
            "\"{name}\" must be a finite number, got {}",
            value.map_or(String::new(), Value::to_string)
        )),
    }
}

fn get_ci<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprsound_annotation_in_ms_with_strings_and_mixed_case_keys() {
        let text = r#"{"record_annotation": "DAS", "Event_Annotation": [
            {"start": "5813", "end": "6984", "type": "Fine Crackle"},
            {"start": 236, "END": "1900.5", "type": "Normal"}]}"#;
        assert_eq!(
            parse_events(text).expect("parse"),
            vec![(5.813, 6.984), (0.236, 1.9005)]
        );
    }

    #[test]
    fn plain_intervals_in_seconds() {
        assert_eq!(
            parse_events(r#"[{"start_s": 1.5, "end_s": 2, "label": "x"}, [0, 0.5]]"#)
                .expect("parse"),
            vec![(1.5, 2.0), (0.0, 0.5)]
        );
        assert_eq!(parse_events("[]").expect("empty"), vec![]);
        assert_eq!(
            parse_events(r#"{"record_annotation": "Normal", "event_annotation": []}"#)
                .expect("none"),
            vec![]
        );
    }

    #[test]
    fn bad_events_say_which_and_why() {
        for (text, expected) in [
            ("not json", "not valid JSON"),
            ("42", "got a number"),
            (r#"{"record_annotation": "Normal"}"#, "event_annotation"),
            (
                r#"[{"start_s": 2, "end_s": 1}]"#,
                "event 0: start (2 s) must be before end (1 s)",
            ),
            (
                r#"[[0, 1], {"start_s": -1, "end_s": 1}]"#,
                "event 1: start must be >= 0",
            ),
            (
                r#"[{"start_s": "abc", "end_s": 1}]"#,
                "\"start_s\" must be a finite number, got \"abc\"",
            ),
            (r#"[{"end_s": 1}]"#, "missing \"start_s\""),
            (
                r#"{"event_annotation": [{"start": "1", "end": "1"}]}"#,
                "event 0: start (1 ms)",
            ),
            (r#"[[1, 2, 3]]"#, "expected"),
        ] {
            let err = parse_events(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn events_are_refused_only_when_all_lie_past_the_end() {
        // inside, overlapping the end, past it: the model's pipeline clips or skips them
        fit_to_duration(&[(0.0, 1.0), (9.0, 10.5), (10.5, 11.0)], 10.0).expect("some inside");
        fit_to_duration(&[(9.9, 10.004)], 10.0).expect("within the tolerance");
        fit_to_duration(&[], 10.0).expect("no events");
        let err = fit_to_duration(&[(10.0, 10.5), (12.0, 13.0)], 10.0).expect_err("all past");
        assert!(
            err.contains("all 2 events lie past the end") && err.contains("lasts 10.000 s"),
            "{err}"
        );
        let err = fit_to_duration(&[(10.0, 10.005)], 10.0).expect_err("past");
        assert!(err.contains("the event lies past the end"), "{err}");
    }
}

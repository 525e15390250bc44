//! SPRSound (SJTU Paediatric Respiratory Sound Database) reader.
//!
//! Any release folder works: recordings
//! `PATIENT_AGE_GENDER_LOCATION_RECNUM.{wav,flac}` with a `.json` of the same
//! stem, in the same folder or in sibling folders (some releases keep
//! `*_wav/` and `*_json/` apart), searched a few levels deep and paired by
//! stem. The JSON holds `record_annotation` (older spelling
//! `recording_annotation`) and `event_annotation: [{start, end, type}]` with
//! times in milliseconds, as numbers or strings; events may be unsorted.
//! Times become seconds here, at the parser.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::Error;
use crate::label::{EventLabel, RecordLabel, SprEventType, normalize_label};
use crate::recording::{Dataset, DatasetKind, Event, Issue, Recording, Sex};
use crate::scan::{extension_lower, list_files, stem};

/// How deep below the given folder recordings are searched.
const MAX_DEPTH: usize = crate::SPR_DEPTH;

/// The fields of an SPRSound file name.
#[derive(Debug, Clone, PartialEq)]
pub struct SprName {
    /// Patient number, e.g. `65101170`.
    pub patient: String,
    /// Age in years (`0.4`), when the field is a number.
    pub age_years: Option<f64>,
    /// Gender field: `0` male, `1` female.
    pub sex: Option<Sex>,
    /// Location `p1`..`p4` (left posterior, left lateral, right posterior, right lateral).
    pub location: String,
    /// Recording number.
    pub rec_num: String,
}

impl SprName {
    /// Parses `PATIENT_AGE_GENDER_LOCATION_RECNUM`; `None` unless there are
    /// five non-empty fields and the patient field is all digits.
    pub fn parse(stem: &str) -> Option<Self> {
        let f: Vec<&str> = stem.split('_').collect();
        if f.len() != 5 || f.iter().any(|s| s.is_empty()) {
            return None;
        }
        if !f[0].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(SprName {
            patient: f[0].to_string(),
            age_years: f[1]
                .parse::<f64>()
                .ok()
                .filter(|a| a.is_finite() && *a >= 0.0),
            sex: match f[2] {
                "0" => Some(Sex::Male),
                "1" => Some(Sex::Female),
                _ => None,
            },
            location: f[3].to_string(),
            rec_num: f[4].to_string(),
        })
    }
}

/// What one annotation file says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SprAnnotation {
    /// Record label, when present and known.
    pub record_label: Option<RecordLabel>,
    /// Valid events, in stored order, times in seconds.
    pub events: Vec<Event>,
}

/// Parses one SPRSound annotation JSON. Returns `None` (with an error issue)
/// when the file is not a JSON object at all; otherwise the valid parts plus
/// an issue for each bad part (unknown label, bad number, negative time or
/// one beyond any plausible recording
/// ([`MAX_EVENT_TIME_S`](crate::MAX_EVENT_TIME_S)), `start >= end`),
/// naming `path` and the event's stored index.
pub fn parse_annotation(bytes: &[u8], path: &Path) -> (Option<SprAnnotation>, Vec<Issue>) {
    let mut issues = Vec::new();
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            let mut issue = Issue::error(path, format!("invalid JSON: {e}; recording skipped"));
            if e.line() > 0 {
                issue.line = Some(e.line());
            }
            return (None, vec![issue]);
        }
    };
    let Value::Object(obj) = value else {
        issues.push(Issue::error(
            path,
            "annotation is not a JSON object; recording skipped",
        ));
        return (None, issues);
    };
    let mut ann = SprAnnotation::default();

    match get_ci(&obj, &["record_annotation", "recording_annotation"]) {
        None => issues.push(Issue::warning(
            path,
            "no record_annotation (or recording_annotation); record label unknown",
        )),
        Some(Value::String(s)) => match s.parse::<RecordLabel>() {
            Ok(l) => ann.record_label = Some(l),
            Err(e) => issues.push(Issue::error(path, format!("{e}; record label ignored"))),
        },
        Some(other) => issues.push(Issue::error(
            path,
            format!("record annotation {other} is not a string; record label ignored"),
        )),
    }

    match get_ci(&obj, &["event_annotation", "event_annotations"]) {
        None | Some(Value::Null) => {
            if ann
                .record_label
                .is_some_and(|l| l != RecordLabel::PoorQuality)
            {
                issues.push(Issue::warning(path, "no event_annotation"));
            }
        }
        Some(Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                match parse_event(index, item) {
                    Ok(ev) => ann.events.push(ev),
                    Err(msg) => issues.push(Issue::error(
                        path,
                        format!("event {index}: {msg}; event skipped"),
                    )),
                }
            }
        }
        Some(other) => issues.push(Issue::error(
            path,
            format!("event_annotation is not a list but {}", kind_of(other)),
        )),
    }

    check_consistency(&ann, path, &mut issues);
    (Some(ann), issues)
}

/// Poor Quality records should have no events; other record labels should
/// agree with their events (CAS: rhonchi/wheeze/stridor, DAS: crackles).
/// Disagreement is kept as annotated and reported.
fn check_consistency(ann: &SprAnnotation, path: &Path, issues: &mut Vec<Issue>) {
    let Some(label) = ann.record_label else {
        return;
    };
    if label == RecordLabel::PoorQuality {
        if !ann.events.is_empty() {
            issues.push(Issue::warning(
                path,
                format!("Poor Quality record has {} events; kept", ann.events.len()),
            ));
        }
        return;
    }
    let (mut cas, mut das) = (false, false);
    for e in &ann.events {
        if let EventLabel::Spr(t) = e.label {
            use SprEventType::*;
            cas |= matches!(t, Rhonchi | Wheeze | Stridor | WheezeCrackle);
            das |= matches!(t, CoarseCrackle | FineCrackle | WheezeCrackle);
        }
    }
    let implied = match (cas, das) {
        (false, false) => RecordLabel::Normal,
        (true, false) => RecordLabel::Cas,
        (false, true) => RecordLabel::Das,
        (true, true) => RecordLabel::CasDas,
    };
    if !ann.events.is_empty() && implied != label {
        issues.push(Issue::warning(
            path,
            format!("record label {label} but its events imply {implied}; kept as annotated"),
        ));
    }
}

/// The value under the first of `keys` present, comparing keys leniently.
fn get_ci<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| {
        obj.get(*k).or_else(|| {
            obj.iter()
                .find(|(name, _)| normalize_label(name).replace(' ', "_") == *k)
                .map(|(_, v)| v)
        })
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A millisecond time written as a number or a numeric string.
fn time_ms(v: Option<&Value>, what: &str) -> Result<f64, String> {
    let ms = match v {
        None | Some(Value::Null) => return Err(format!("missing {what}")),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| format!("{what} {n} is not a number"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("{what} {s:?} is not a number"))?,
        Some(other) => return Err(format!("{what} is {}, not a number", kind_of(other))),
    };
    if !ms.is_finite() {
        return Err(format!("{what} {ms} is not finite"));
    }
    if ms < 0.0 {
        return Err(format!("{what} {ms} ms is negative"));
    }
    if let Some(why) = crate::fit::impossible_time(ms / 1000.0) {
        return Err(format!("{what} {ms} ms {why}"));
    }
    Ok(ms)
}

fn parse_event(index: usize, item: &Value) -> Result<Event, String> {
    let Value::Object(obj) = item else {
        return Err(format!("expected an object, found {}", kind_of(item)));
    };
    let start = time_ms(get_ci(obj, &["start"]), "start")?;
    let end = time_ms(get_ci(obj, &["end"]), "end")?;
    if start >= end {
        return Err(format!("start {start} ms is not before end {end} ms"));
    }
    let label = match get_ci(obj, &["type"]) {
        Some(Value::String(s)) => s.parse::<SprEventType>().map_err(|e| e.to_string())?,
        Some(other) => return Err(format!("type is {}, not a string", kind_of(other))),
        None => return Err("missing type".into()),
    };
    Ok(Event {
        index,
        start_s: start / 1000.0,
        end_s: end / 1000.0,
        label: EventLabel::Spr(label),
    })
}

/// Loads an SPRSound release folder (see the module doc).
pub fn load_sprsound(dir: &Path) -> Result<Dataset, Error> {
    let (files, mut issues) = list_files(dir, MAX_DEPTH)?;
    let mut by_stem: BTreeMap<String, (Vec<PathBuf>, Vec<PathBuf>)> = BTreeMap::new();
    for f in files {
        if extension_lower(&f) == "json" {
            by_stem.entry(stem(&f)).or_default().0.push(f);
        } else if lungsound_audio::is_audio_path(&f) {
            by_stem.entry(stem(&f)).or_default().1.push(f);
        }
    }
    if !by_stem.values().any(|(j, _)| !j.is_empty()) {
        return Err(Error::NotADataset {
            path: dir.to_path_buf(),
            reason: "no SPRSound annotation .json files".into(),
        });
    }
    let built: Vec<(Option<Recording>, Vec<Issue>)> = by_stem
        .into_par_iter()
        .map(|(id, (jsons, audio))| build_recording(id, jsons, audio))
        .collect();
    let mut recordings = Vec::with_capacity(built.len());
    for (r, iss) in built {
        recordings.extend(r);
        issues.extend(iss);
    }
    Ok(Dataset {
        kind: DatasetKind::SprSound,
        root: dir.to_path_buf(),
        recordings,
        issues,
    })
}

fn build_recording(
    id: String,
    jsons: Vec<PathBuf>,
    audio: Vec<PathBuf>,
) -> (Option<Recording>, Vec<Issue>) {
    let mut issues = Vec::new();
    for (what, list) in [("annotation", &jsons), ("audio", &audio)] {
        if list.len() > 1 {
            issues.push(Issue::warning(
                &list[1],
                format!(
                    "duplicate {what} for {id} ({} files); using {}",
                    list.len(),
                    list[0].display()
                ),
            ));
        }
    }
    let name = SprName::parse(&id);
    let patient = match &name {
        Some(n) => n.patient.clone(),
        None => id.split('_').next().unwrap_or(&id).to_string(),
    };
    let mut rec = Recording::new(id.clone(), DatasetKind::SprSound, patient);
    rec.audio_path = audio.into_iter().next();
    rec.annotation_path = jsons.into_iter().next();
    let any = rec
        .annotation_path
        .clone()
        .or_else(|| rec.audio_path.clone())
        .unwrap_or_else(|| PathBuf::from(&id));
    match &name {
        Some(n) => {
            rec.age_years = n.age_years;
            rec.sex = n.sex;
            rec.location = Some(n.location.clone());
        }
        None => issues.push(Issue::warning(
            &any,
            "name is not PATIENT_AGE_GENDER_LOCATION_RECNUM; patient = first field",
        )),
    }

    match (&rec.annotation_path, &rec.audio_path) {
        (None, Some(a)) => {
            issues.push(Issue::warning(
                a,
                "audio has no annotation .json; kept unlabelled",
            ));
            return (Some(rec), issues);
        }
        (Some(j), None) => issues.push(Issue::warning(j, "annotation has no audio file")),
        _ => {}
    }
    let Some(json) = rec.annotation_path.clone() else {
        return (Some(rec), issues);
    };
    let bytes = match fs::read(&json) {
        Ok(b) => b,
        Err(e) => {
            issues.push(Issue::error(
                &json,
                format!("cannot read: {e}; recording skipped"),
            ));
            return (None, issues);
        }
    };
    let (ann, iss) = parse_annotation(&bytes, &json);
    issues.extend(iss);
    let Some(ann) = ann else {
        return (None, issues);
    };
    rec.record_label = ann.record_label;
    rec.events = ann.events;
    (Some(rec), issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (Option<SprAnnotation>, Vec<Issue>) {
        parse_annotation(s.as_bytes(), Path::new("x.json"))
    }

    #[test]
    fn parses_names() {
        let n = SprName::parse("40069321_15.3_0_p1_981").unwrap();
        assert_eq!(n.patient, "40069321");
        assert_eq!(n.age_years, Some(15.3));
        assert_eq!(n.sex, Some(Sex::Male));
        assert_eq!(n.location, "p1");
        assert!(SprName::parse("not_a_name").is_none());
    }

    #[test]
    fn accepts_strings_numbers_and_old_key() {
        let (a, iss) = parse(
            r#"{"recording_annotation":" cas ","event_annotation":[
                {"start":"3210","end":4859.5,"type":"wheeze"},
                {"start":236,"end":"1900","type":"Normal"}]}"#,
        );
        let a = a.unwrap();
        assert!(iss.is_empty(), "{iss:?}");
        assert_eq!(a.record_label, Some(RecordLabel::Cas));
        assert_eq!(a.events[0].index, 0);
        assert!((a.events[0].start_s - 3.21).abs() < 1e-12);
        assert!((a.events[0].end_s - 4.8595).abs() < 1e-12);
        assert_eq!(a.events[1].index, 1);
    }

    #[test]
    fn bad_events_are_skipped_with_their_index() {
        let (a, iss) = parse(
            r#"{"record_annotation":"Normal","event_annotation":[
                {"start":"10","end":"5","type":"Normal"},
                {"start":"a","end":"5","type":"Normal"},
                {"start":"1","end":"5","type":"Squeak"},
                {"start":"1","end":"5"},
                {"start":1000,"end":1e23,"type":"Normal"},
                {"start":"6","end":"9","type":"Normal"}]}"#,
        );
        let a = a.unwrap();
        assert_eq!(a.events.len(), 1);
        assert_eq!(a.events[0].index, 5);
        assert_eq!(iss.len(), 5);
        assert!(
            iss[4].message.contains("beyond any plausible recording"),
            "{}",
            iss[4]
        );
        for (i, issue) in iss.iter().enumerate() {
            assert!(issue.message.starts_with(&format!("event {i}:")), "{issue}");
        }
    }

    #[test]
    fn invalid_json_is_one_error_with_line() {
        let (a, iss) = parse("{\n\"record_annotation\": \"Normal\",\n oops }");
        assert!(a.is_none());
        assert_eq!(iss.len(), 1);
        assert_eq!(iss[0].line, Some(3));
    }

    #[test]
    fn inconsistent_record_label_is_reported() {
        let (_, iss) = parse(
            r#"{"record_annotation":"Normal","event_annotation":[
                {"start":1,"end":5,"type":"Fine Crackle"}]}"#,
        );
        assert_eq!(iss.len(), 1);
        assert!(iss[0].message.contains("imply DAS"), "{}", iss[0]);
    }
}

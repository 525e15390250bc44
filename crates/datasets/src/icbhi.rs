//! ICBHI 2017 Respiratory Sound Database reader.
//!
//! Layout: recordings `PATIENT_RECINDEX_LOCATION_MODE_DEVICE.{wav,txt}`, each
//! `.txt` line `start_s end_s crackles wheezes` (tab or space separated). The
//! metadata files (`ICBHI_challenge_train_test.txt`,
//! `ICBHI_Challenge_diagnosis.txt` or `patient_diagnosis.csv`,
//! `demographic_info.txt`) are looked up in the folder itself, then in its
//! parent, so both `icbhi/audio_and_txt/` and `icbhi/` load. Subfolders are
//! searched too and paired by file stem, so loading `icbhi/` merges
//! `all_annotations/` with the audio found in `audio_and_txt/`.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::Error;
use crate::label::{CycleLabel, EventLabel};
use crate::recording::{Dataset, DatasetKind, Event, Issue, Recording, Severity, Sex, Split};
use crate::scan::{extension_lower, find_file_ci, list_files, stem};

/// Official split file name.
pub const SPLIT_FILE: &str = "ICBHI_challenge_train_test.txt";
/// Diagnosis file (`PATIENT<TAB>DIAGNOSIS`).
pub const DIAGNOSIS_FILE: &str = "ICBHI_Challenge_diagnosis.txt";
/// Diagnosis file, CSV variant (`ID,CLASS` header).
pub const DIAGNOSIS_CSV: &str = "patient_diagnosis.csv";
/// Demographics (`patient age sex adult_BMI child_weight child_height`, `NA` unknown).
pub const DEMOGRAPHIC_FILE: &str = "demographic_info.txt";

/// How deep below the given folder recordings are searched.
const MAX_DEPTH: usize = crate::ICBHI_DEPTH;

/// The fields of an ICBHI file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcbhiName {
    /// Patient number, e.g. `101`.
    pub patient: String,
    /// Recording index, e.g. `1b1`.
    pub rec_index: String,
    /// Chest location: `Tc`, `Al`, `Ar`, `Pl`, `Pr`, `Ll`, `Lr`.
    pub location: String,
    /// Acquisition mode: `sc` or `mc`.
    pub mode: String,
    /// Device: `AKGC417L`, `LittC2SE`, `Litt3200`, `Meditron`.
    pub device: String,
}

impl IcbhiName {
    /// Parses `PATIENT_RECINDEX_LOCATION_MODE_DEVICE` (patient all digits, five
    /// non-empty fields); `None` for any other name.
    pub fn parse(stem: &str) -> Option<Self> {
        let f: Vec<&str> = stem.split('_').collect();
        if f.len() != 5 || f.iter().any(|s| s.is_empty()) {
            return None;
        }
        if !f[0].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(IcbhiName {
            patient: f[0].to_string(),
            rec_index: f[1].to_string(),
            location: f[2].to_string(),
            mode: f[3].to_string(),
            device: f[4].to_string(),
        })
    }

    /// Everything but the device: the key used to repair the split file's
    /// `226_1b1_Pl_sc_Meditron` entry (the files say `LittC2SE`).
    fn key_without_device(&self) -> (String, String, String, String) {
        (
            self.patient.clone(),
            self.rec_index.clone(),
            self.location.clone(),
            self.mode.clone(),
        )
    }
}

/// Parses one cycle annotation. Bad lines (wrong field count, non-numbers,
/// negative or non-finite times, times beyond any plausible recording
/// ([`MAX_EVENT_TIME_S`](crate::MAX_EVENT_TIME_S)), `start >= end`, flags
/// other than `0`/`1`)
/// become [`Severity::Error`] issues with `path` and the 1-based line number;
/// the rest of the file is kept. `Event::index` counts non-blank lines, so it
/// stays the cycle's position in the file even when earlier lines are bad.
pub fn parse_cycles(text: &str, path: &Path) -> (Vec<Event>, Vec<Issue>) {
    let mut events = Vec::new();
    let mut issues = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut index = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let this = index;
        index += 1;
        match parse_cycle_line(line) {
            Ok((start_s, end_s, label)) => events.push(Event {
                index: this,
                start_s,
                end_s,
                label: EventLabel::Cycle(label),
            }),
            Err(msg) => issues.push(Issue::at_line(
                Severity::Error,
                path,
                line_no,
                format!("{msg}; cycle skipped (line: {:?})", line.trim()),
            )),
        }
    }
    (events, issues)
}

fn parse_cycle_line(line: &str) -> Result<(f64, f64, CycleLabel), String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() != 4 {
        return Err(format!(
            "expected 4 fields `start end crackles wheezes`, found {}",
            f.len()
        ));
    }
    let time = |s: &str, what: &str| -> Result<f64, String> {
        let v: f64 = s
            .parse()
            .map_err(|_| format!("{what} {s:?} is not a number"))?;
        if !v.is_finite() {
            return Err(format!("{what} {s:?} is not finite"));
        }
        if v < 0.0 {
            return Err(format!("{what} {s:?} is negative"));
        }
        if let Some(why) = crate::fit::impossible_time(v) {
            return Err(format!("{what} {s:?} s {why}"));
        }
        Ok(v)
    };
    let flag = |s: &str, what: &str| -> Result<bool, String> {
        match s {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(format!("{what} flag {s:?} is not 0 or 1")),
        }
    };
    let start = time(f[0], "start")?;
    let end = time(f[1], "end")?;
    if start >= end {
        return Err(format!("start {start} s is not before end {end} s"));
    }
    let crackles = flag(f[2], "crackles")?;
    let wheezes = flag(f[3], "wheezes")?;
    Ok((start, end, CycleLabel::from_flags(crackles, wheezes)))
}

/// Loads an ICBHI 2017 folder (see the module doc for the layout).
pub fn load_icbhi(dir: &Path) -> Result<Dataset, Error> {
    let (files, mut issues) = list_files(dir, MAX_DEPTH)?;

    // stem → (annotation candidates, audio candidates)
    let mut by_stem: BTreeMap<String, (Vec<PathBuf>, Vec<PathBuf>)> = BTreeMap::new();
    for f in files {
        let s = stem(&f);
        let ext = extension_lower(&f);
        if ext == "txt" && IcbhiName::parse(&s).is_some() {
            by_stem.entry(s).or_default().0.push(f);
        } else if lungsound_audio::is_audio_path(&f) {
            by_stem.entry(s).or_default().1.push(f);
        }
    }
    if by_stem.is_empty() {
        return Err(Error::NotADataset {
            path: dir.to_path_buf(),
            reason: "no ICBHI recordings (PATIENT_RECINDEX_LOCATION_MODE_DEVICE.txt/.wav)".into(),
        });
    }

    let built: Vec<(Option<Recording>, Vec<Issue>)> = by_stem
        .into_par_iter()
        .map(|(id, (txts, wavs))| build_recording(id, txts, wavs))
        .collect();
    let mut recs = Vec::with_capacity(built.len());
    for (r, iss) in built {
        recs.extend(r);
        issues.extend(iss);
    }

    let missing_audio = recs.iter().filter(|r| r.audio_path.is_none()).count();
    if missing_audio > 0 {
        issues.push(Issue::info(
            dir,
            format!(
                "{missing_audio} of {} recordings have no audio file (annotation only)",
                recs.len()
            ),
        ));
    }

    apply_metadata(dir, &mut recs, &mut issues);
    Ok(Dataset {
        kind: DatasetKind::Icbhi,
        root: dir.to_path_buf(),
        recordings: recs,
        issues,
    })
}

/// One recording from the files found for its stem.
fn build_recording(
    id: String,
    txts: Vec<PathBuf>,
    wavs: Vec<PathBuf>,
) -> (Option<Recording>, Vec<Issue>) {
    let mut issues = Vec::new();
    let name = IcbhiName::parse(&id);
    let patient = match &name {
        Some(n) => n.patient.clone(),
        None => id.split('_').next().unwrap_or(&id).to_string(),
    };
    let mut rec = Recording::new(id.clone(), DatasetKind::Icbhi, patient);
    if let Some(n) = name {
        rec.location = Some(n.location);
        rec.mode = Some(n.mode);
        rec.device = Some(n.device);
    }

    if wavs.len() > 1 {
        issues.push(Issue::warning(
            &wavs[1],
            format!("duplicate audio for {id}; using {}", wavs[0].display()),
        ));
    }
    rec.audio_path = wavs.into_iter().next();
    // Prefer the annotation beside the audio (identical copies elsewhere are expected).
    let txt = match &rec.audio_path {
        Some(a) => txts
            .iter()
            .find(|t| t.parent() == a.parent())
            .or(txts.first())
            .cloned(),
        None => txts.first().cloned(),
    };

    match &txt {
        None => {
            if let Some(a) = &rec.audio_path {
                let msg = if IcbhiName::parse(&id).is_some() {
                    "audio has no annotation .txt; kept without cycles"
                } else {
                    "name is not PATIENT_RECINDEX_LOCATION_MODE_DEVICE and there is no \
                     annotation; kept without cycles"
                };
                issues.push(Issue::warning(a, msg));
            }
        }
        Some(t) => match fs::read(t) {
            Err(e) => {
                issues.push(Issue::error(
                    t,
                    format!("cannot read annotation: {e}; recording skipped"),
                ));
                return (None, issues);
            }
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let (events, iss) = parse_cycles(&text, t);
                if events.is_empty() && iss.is_empty() {
                    issues.push(Issue::warning(t, "annotation has no respiratory cycles"));
                }
                rec.events = events;
                issues.extend(iss);
            }
        },
    }
    rec.annotation_path = txt;
    (Some(rec), issues)
}

/// Split, diagnosis and demographics from the folder or its parent.
fn apply_metadata(dir: &Path, recs: &mut [Recording], issues: &mut Vec<Issue>) {
    let find = |name: &str| {
        find_file_ci(dir, name).or_else(|| dir.parent().and_then(|p| find_file_ci(p, name)))
    };

    match find(SPLIT_FILE) {
        Some(p) => apply_split(&p, recs, issues),
        None => issues.push(Issue::info(
            dir,
            format!("no {SPLIT_FILE} here or in the parent folder; no official split"),
        )),
    }

    let diagnosis = if let Some(p) = find(DIAGNOSIS_FILE) {
        read_table(&p, issues, 2, false)
    } else if let Some(p) = find(DIAGNOSIS_CSV) {
        read_table(&p, issues, 2, true)
    } else {
        issues.push(Issue::info(dir, "no diagnosis file found"));
        HashMap::new()
    };
    let demographics = match find(DEMOGRAPHIC_FILE) {
        Some(p) => read_table(&p, issues, 6, false),
        None => {
            issues.push(Issue::info(dir, format!("no {DEMOGRAPHIC_FILE} found")));
            HashMap::new()
        }
    };

    for r in recs.iter_mut() {
        if let Some(d) = diagnosis.get(&r.patient) {
            r.diagnosis = d.get(1).cloned();
        }
        if let Some(d) = demographics.get(&r.patient) {
            r.age_years = d.get(1).and_then(|a| a.parse::<f64>().ok());
            r.sex = match d.get(2).map(String::as_str) {
                Some("M") | Some("m") => Some(Sex::Male),
                Some("F") | Some("f") => Some(Sex::Female),
                _ => None,
            };
        }
    }
}

/// Reads a whitespace- (or, for CSV, comma-) separated table keyed by its
/// first field. Lines with fewer than `min_fields` fields are issues; blank
/// lines (the demographics file starts with one) are skipped; `csv_like`
/// splits on commas and skips the first non-blank line (the header).
fn read_table(
    path: &Path,
    issues: &mut Vec<Issue>,
    min_fields: usize,
    csv_like: bool,
) -> HashMap<String, Vec<String>> {
    let mut out = HashMap::new();
    let text = match fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            issues.push(Issue::warning(path, format!("cannot read: {e}")));
            return out;
        }
    };
    let mut seen_header = !csv_like;
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if !seen_header {
            seen_header = true;
            continue;
        }
        let fields: Vec<String> = if csv_like {
            line.split(',').map(|s| s.trim().to_string()).collect()
        } else {
            line.split_whitespace().map(str::to_string).collect()
        };
        if fields.len() < min_fields {
            issues.push(Issue::at_line(
                Severity::Warning,
                path,
                i + 1,
                format!(
                    "expected {min_fields} fields, found {} (line: {:?})",
                    fields.len(),
                    line.trim()
                ),
            ));
            continue;
        }
        out.insert(fields[0].clone(), fields);
    }
    out
}

/// Applies the official split, repairing entries whose device differs from
/// the files' (the `226_1b1_Pl_sc_Meditron` quirk).
fn apply_split(path: &Path, recs: &mut [Recording], issues: &mut Vec<Issue>) {
    let text = match fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            issues.push(Issue::warning(path, format!("cannot read split file: {e}")));
            return;
        }
    };
    let index: HashMap<String, usize> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let mut unmatched: Vec<(usize, String, Split)> = Vec::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let split = match f.get(1).map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("train") if f.len() == 2 => Split::Train,
            Some("test") if f.len() == 2 => Split::Test,
            _ => {
                issues.push(Issue::at_line(
                    Severity::Warning,
                    path,
                    i + 1,
                    format!("expected `RECORDING train|test`, found {:?}", line.trim()),
                ));
                continue;
            }
        };
        match index.get(f[0]) {
            Some(&r) => recs[r].official_split = Some(split),
            None => unmatched.push((i + 1, f[0].to_string(), split)),
        }
    }
    // Repair by patient + recording index + location + mode among recordings
    // the file does not name exactly. Entries naming recordings that are simply
    // not in this folder (a subset such as audio_and_txt) match nothing: fine.
    for (line, name, split) in unmatched {
        let Some(key) = IcbhiName::parse(&name).map(|n| n.key_without_device()) else {
            continue;
        };
        let candidates: Vec<usize> = recs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.official_split.is_none())
            .filter(|(_, r)| {
                IcbhiName::parse(&r.id).map(|n| n.key_without_device()) == Some(key.clone())
            })
            .map(|(i, _)| i)
            .collect();
        if let [only] = candidates[..] {
            recs[only].official_split = Some(split);
            issues.push(Issue::at_line(
                Severity::Info,
                path,
                line,
                format!(
                    "split file lists {name} but the recording is named {}; matched by \
                     patient, recording index, location and mode ({split})",
                    recs[only].id
                ),
            ));
        }
    }
    // The official split is not strictly patient-wise (patients 156 and 218
    // have recordings on both sides): say so, since scores depend on it.
    let mut sides: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for r in recs.iter() {
        let e = sides.entry(r.patient.as_str()).or_default();
        match r.official_split {
            Some(Split::Train) => e.0 = true,
            Some(Split::Test) => e.1 = true,
            None => {}
        }
    }
    let both: Vec<&str> = sides
        .iter()
        .filter(|(_, (train, test))| *train && *test)
        .map(|(p, _)| *p)
        .collect();
    if !both.is_empty() {
        issues.push(Issue::info(
            path,
            format!(
                "the official split puts patient(s) {} in both train and test",
                both.join(", ")
            ),
        ));
    }
    for r in recs.iter().filter(|r| r.official_split.is_none()) {
        let p = r
            .annotation_path
            .clone()
            .or_else(|| r.audio_path.clone())
            .unwrap_or_else(|| PathBuf::from(&r.id));
        issues.push(Issue::warning(
            p,
            format!("{} is not listed in {}", r.id, path.display()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        let n = IcbhiName::parse("226_1b1_Pl_sc_LittC2SE").unwrap();
        assert_eq!(n.patient, "226");
        assert_eq!(n.device, "LittC2SE");
        assert!(IcbhiName::parse("ICBHI_challenge_train_test").is_none());
        assert!(IcbhiName::parse("demographic_info").is_none());
        assert!(IcbhiName::parse("101_1b1__sc_Meditron").is_none());
    }

    #[test]
    fn parses_tabs_and_spaces_and_reports_bad_lines_with_numbers() {
        let text = "0.036\t0.579\t0\t0\n0.579 2.45 1 0\n\n2.45\t3.8\t0\n\
                    x\t4\t0\t0\n5\t4\t0\t0\n5\t6\t2\t0\n-1\t2\t0\t0\n6\t1e20\t0\t0\n\
                    6\t7.5\t1\t1\r\n";
        let (ev, iss) = parse_cycles(text, Path::new("a.txt"));
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[1].label, EventLabel::Cycle(CycleLabel::Crackle));
        assert_eq!(ev[2].label, EventLabel::Cycle(CycleLabel::Both));
        // position among non-blank lines: the last good line is the 9th data line
        assert_eq!(ev[2].index, 8);
        let lines: Vec<usize> = iss.iter().filter_map(|i| i.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7, 8, 9]);
        assert!(iss.iter().all(|i| i.path == Path::new("a.txt")));
        assert!(iss[0].message.contains("expected 4 fields"));
        assert!(iss[1].message.contains("not a number"));
        assert!(iss[2].message.contains("not before"));
        assert!(iss[3].message.contains("not 0 or 1"));
        assert!(iss[4].message.contains("negative"));
        assert!(
            iss[5].message.contains("beyond any plausible recording"),
            "{}",
            iss[5]
        );
    }
}

//! Accounting for every unit an evaluation should score.
//!
//! The annotations of the evaluated recordings define the units (events or records with a
//! class for the task). Some get no prediction: the audio cannot be decoded, an event lies
//! past the end of the audio, an event is longer than the model accepts. Those are counted
//! here with their reasons, and the headline scores count them as wrong predictions, as the
//! challenges count a missing prediction; a Score over the scored units alone would hide
//! them (a test set decoded at half length once scored "fine" on the half it kept).

use std::collections::{BTreeMap, HashSet};

use lungsound_datasets::{Issue, Level, Recording, Severity, Task};
use serde::{Deserialize, Serialize};

use crate::data::Unit;

/// How many skipped units [`SkipReason::examples`] lists.
pub const SKIP_EXAMPLES: usize = 5;

/// One reason units were not scored, with how many and the first few.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkipReason {
    /// What happened, in a few words (`event lies past the end of the audio`, ...).
    pub reason: String,
    /// Units skipped for this reason.
    pub count: usize,
    /// The first [`SKIP_EXAMPLES`] of them: `record` or `record#event_index`, then the
    /// message that explains it.
    pub examples: Vec<String>,
}

/// Units the annotations define against units that were scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitAccount {
    /// Every unit the annotations of the evaluated recordings define for the task.
    pub units_expected: usize,
    /// Units that got a prediction.
    pub units_scored: usize,
    /// `units_expected - units_scored`.
    pub units_skipped: usize,
    /// Why, grouped by reason (most frequent first).
    pub skipped: Vec<SkipReason>,
    /// Skipped units per true class, in class order (what the headline scores add as
    /// wrong predictions).
    pub skipped_per_class: Vec<u64>,
}

impl UnitAccount {
    /// "653 of 1429 events could not be scored; counted as errors", or `None` when every
    /// unit was scored.
    pub fn closing_line(&self, task: Task) -> Option<String> {
        if self.units_skipped == 0 {
            return None;
        }
        let what = match task.level() {
            Level::Event => "events",
            Level::Record => "records",
        };
        Some(format!(
            "{} of {} {what} could not be scored; counted as errors in the Score",
            self.units_skipped, self.units_expected
        ))
    }
}

/// Compares the units `recordings`' annotations define for `task` with the `scored` ones,
/// attributing each skipped unit to the `issues` of its recording.
pub fn account_units(
    recordings: &[&Recording],
    task: Task,
    scored: &[Unit],
    issues: &[Issue],
) -> UnitAccount {
    let scored_keys: HashSet<(&str, Option<usize>)> = scored
        .iter()
        .map(|u| (u.record.as_str(), u.event_index))
        .collect();
    let mut expected = 0;
    let mut skipped_per_class = vec![0u64; task.n_classes()];
    let mut groups: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for rec in recordings {
        for (event_index, class) in defined_units(rec, task) {
            expected += 1;
            if scored_keys.contains(&(rec.id.as_str(), event_index)) {
                continue;
            }
            skipped_per_class[class] += 1;
            let message = skip_message(rec, event_index, issues);
            let entry = groups.entry(reason_of(&message).to_string()).or_default();
            entry.0 += 1;
            if entry.1.len() < SKIP_EXAMPLES {
                let unit = match event_index {
                    Some(i) => format!("{}#{i}", rec.id),
                    None => rec.id.clone(),
                };
                entry.1.push(format!("{unit}: {message}"));
            }
        }
    }
    let mut skipped: Vec<SkipReason> = groups
        .into_iter()
        .map(|(reason, (count, examples))| SkipReason {
            reason,
            count,
            examples,
        })
        .collect();
    skipped.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    let units_skipped: usize = skipped.iter().map(|r| r.count).sum();
    UnitAccount {
        units_expected: expected,
        units_scored: expected - units_skipped,
        units_skipped,
        skipped,
        skipped_per_class,
    }
}

/// The units a recording's annotations define for `task`: (event index or `None` for the
/// record, true class).
fn defined_units(rec: &Recording, task: Task) -> Vec<(Option<usize>, usize)> {
    match task.level() {
        Level::Event => rec
            .events
            .iter()
            .filter_map(|e| task.event_class(&e.label).map(|c| (Some(e.index), c)))
            .collect(),
        Level::Record => rec
            .record_label
            .as_ref()
            .and_then(|l| task.record_class(l))
            .map(|c| vec![(None, c)])
            .unwrap_or_default(),
    }
}

/// The message of the issue that explains why a unit of `rec` was not scored.
fn skip_message(rec: &Recording, event_index: Option<usize>, issues: &[Issue]) -> String {
    let of_recording = |issue: &&Issue| {
        Some(issue.path.as_path()) == rec.audio_path.as_deref()
            || Some(issue.path.as_path()) == rec.annotation_path.as_deref()
    };
    if let Some(i) = event_index {
        let tag = format!("event {i}");
        let names_event = |issue: &&Issue| {
            issue
                .message
                .strip_prefix(&tag)
                .is_some_and(|rest| rest.starts_with([':', ' ']))
                || issue.message.contains(&format!("{tag}:"))
        };
        if let Some(issue) = issues.iter().filter(of_recording).find(names_event) {
            return issue.message.clone();
        }
    }
    if let Some(issue) = issues
        .iter()
        .filter(of_recording)
        .find(|i| i.severity == Severity::Error)
    {
        return issue.message.clone();
    }
    "no clip was computed for it (no issue was reported)".to_string()
}

/// A short reason for grouping, from an issue message.
fn reason_of(message: &str) -> &'static str {
    if message.contains("recording skipped") {
        "the recording could not be decoded"
    } else if message.contains("past the end") || message.contains("beyond the end") {
        "the event lies past the end of the audio"
    } else if message.contains("max_event_seconds") {
        "the event is longer than max_event_seconds"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use lungsound_datasets::{DatasetKind, Event, EventLabel, SprEventType};

    use super::*;

    const NORMAL: EventLabel = EventLabel::Spr(SprEventType::Normal);
    const WHEEZE: EventLabel = EventLabel::Spr(SprEventType::Wheeze);
    const FINE_CRACKLE: EventLabel = EventLabel::Spr(SprEventType::FineCrackle);

    fn recording(id: &str, labels: &[EventLabel]) -> Recording {
        let mut rec = Recording::new(id, DatasetKind::SprSound, "p1");
        rec.audio_path = Some(PathBuf::from(format!("{id}.wav")));
        rec.events = labels
            .iter()
            .enumerate()
            .map(|(index, label)| Event {
                index,
                start_s: index as f64,
                end_s: index as f64 + 0.5,
                label: *label,
            })
            .collect();
        rec
    }

    fn unit(record: &str, event_index: usize, label: usize) -> Unit {
        Unit {
            record: record.into(),
            event_index: Some(event_index),
            label,
            start_s: 0.0,
            end_s: 1.0,
        }
    }

    #[test]
    fn skipped_units_are_counted_per_class_with_their_reasons() {
        let a = recording("a", &[NORMAL, WHEEZE, NORMAL]);
        let b = recording("b", &[FINE_CRACKLE, NORMAL]);
        let recordings = vec![&a, &b];
        // a#0 scored; a#1 past the end; a#2 no issue; b undecodable.
        let scored = vec![unit("a", 0, 0)];
        let issues = vec![
            Issue::warning(
                "a.wav",
                "event 1 (1.000–1.500 s) lies past the end of the audio (0.800 s); skipped",
            ),
            Issue::error("b.wav", "\"b.wav\" is corrupt: bad; recording skipped"),
        ];
        let account = account_units(&recordings, Task::EventBinary, &scored, &issues);
        assert_eq!(account.units_expected, 5);
        assert_eq!(account.units_scored, 1);
        assert_eq!(account.units_skipped, 4);
        // Task 1-1: Normal 0, Adventitious 1. Skipped: a#1 (Adv), a#2 (Normal), b#0 (Adv),
        // b#1 (Normal).
        assert_eq!(account.skipped_per_class, vec![2, 2]);
        let reasons: Vec<(&str, usize)> = account
            .skipped
            .iter()
            .map(|r| (r.reason.as_str(), r.count))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("the recording could not be decoded", 2),
                ("other", 1),
                ("the event lies past the end of the audio", 1),
            ]
        );
        assert!(account.skipped[2].examples[0].starts_with("a#1: event 1"));
        assert_eq!(
            account.closing_line(Task::EventBinary).as_deref(),
            Some("4 of 5 events could not be scored; counted as errors in the Score")
        );
    }

    #[test]
    fn nothing_skipped_has_no_closing_line() {
        let a = recording("a", &[NORMAL]);
        let account = account_units(&[&a], Task::EventBinary, &[unit("a", 0, 0)], &[]);
        assert_eq!(account.units_skipped, 0);
        assert!(account.skipped.is_empty());
        assert_eq!(account.closing_line(Task::EventBinary), None);
    }
}

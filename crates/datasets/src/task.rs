//! Classification tasks: which labels become which class index.
//!
//! BioCAS 2022 tasks on SPRSound (`1-1`, `1-2` event level; `2-1`, `2-2`
//! record level) and the ICBHI 2017 four-class cycle task (`cycles4`).
//! Class 0 is always Normal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::label::{CycleLabel, EventLabel, RecordLabel, SprEventType};

/// Whether a task classifies events (cycles) or whole records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// One prediction per annotated event / respiratory cycle.
    Event,
    /// One prediction per recording.
    Record,
}

/// A classification task. `FromStr`/`Display`/serde use `"1-1"`, `"1-2"`,
/// `"2-1"`, `"2-2"`, `"cycles4"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Task {
    /// BioCAS task 1-1: event Normal vs Adventitious.
    #[serde(rename = "1-1")]
    EventBinary,
    /// BioCAS task 1-2: event 7-class.
    #[serde(rename = "1-2")]
    EventMulti,
    /// BioCAS task 2-1: record Normal / Poor Quality / Adventitious.
    #[serde(rename = "2-1")]
    RecordTernary,
    /// BioCAS task 2-2: record 5-class.
    #[serde(rename = "2-2")]
    RecordMulti,
    /// ICBHI 2017: cycle Normal / Crackle / Wheeze / Both.
    #[serde(rename = "cycles4")]
    Cycles4,
}

const EVENT_BINARY: &[&str] = &["Normal", "Adventitious"];
const EVENT_MULTI: &[&str] = &[
    "Normal",
    "Rhonchi",
    "Wheeze",
    "Stridor",
    "Coarse Crackle",
    "Fine Crackle",
    "Wheeze+Crackle",
];
const RECORD_TERNARY: &[&str] = &["Normal", "Poor Quality", "Adventitious"];
const RECORD_MULTI: &[&str] = &["Normal", "CAS", "DAS", "CAS & DAS", "Poor Quality"];
const CYCLES4: &[&str] = &["Normal", "Crackle", "Wheeze", "Both"];

impl Task {
    /// Every task, in the order of the BioCAS challenge, then ICBHI.
    pub const ALL: [Task; 5] = [
        Task::EventBinary,
        Task::EventMulti,
        Task::RecordTernary,
        Task::RecordMulti,
        Task::Cycles4,
    ];

    /// The task's name: `1-1`, `1-2`, `2-1`, `2-2` or `cycles4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::EventBinary => "1-1",
            Task::EventMulti => "1-2",
            Task::RecordTernary => "2-1",
            Task::RecordMulti => "2-2",
            Task::Cycles4 => "cycles4",
        }
    }

    /// Event or record level.
    pub fn level(&self) -> Level {
        match self {
            Task::EventBinary | Task::EventMulti | Task::Cycles4 => Level::Event,
            Task::RecordTernary | Task::RecordMulti => Level::Record,
        }
    }

    /// Class names as the datasets write them; index = class.
    pub fn class_names(&self) -> &'static [&'static str] {
        match self {
            Task::EventBinary => EVENT_BINARY,
            Task::EventMulti => EVENT_MULTI,
            Task::RecordTernary => RECORD_TERNARY,
            Task::RecordMulti => RECORD_MULTI,
            Task::Cycles4 => CYCLES4,
        }
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.class_names().len()
    }

    /// The Normal class (always 0).
    pub fn normal_class(&self) -> usize {
        0
    }

    /// Class of an event label, `None` when the task does not use it.
    ///
    /// Task 1-1 accepts both SPRSound events and ICBHI cycles (Normal vs any
    /// adventitious sound); 1-2 only SPRSound events; `cycles4` only ICBHI
    /// cycles (SPRSound's types have no agreed mapping onto crackle/wheeze,
    /// so none is guessed). Record-level tasks return `None`.
    pub fn event_class(&self, label: &EventLabel) -> Option<usize> {
        match (self, label) {
            (Task::EventBinary, l) => Some(usize::from(!l.is_normal())),
            (Task::EventMulti, EventLabel::Spr(t)) => SprEventType::ALL.iter().position(|x| x == t),
            (Task::Cycles4, EventLabel::Cycle(c)) => CycleLabel::ALL.iter().position(|x| x == c),
            _ => None,
        }
    }

    /// How this task's classes fold into the coarser task `coarse`: entry
    /// `i` is the `coarse` class of this task's class `i`. `None` when
    /// `coarse` is not this task or a coarsening of it. The coarsenings are
    /// the challenge's own: 1-2 → 1-1 (every adventitious type →
    /// Adventitious), 2-2 → 2-1 (CAS, DAS, CAS & DAS → Adventitious) and
    /// cycles4 → 1-1 (Crackle, Wheeze, Both → Adventitious). A model trained
    /// on the finer task can thus be scored on the coarser one by summing
    /// its class probabilities.
    pub fn class_map_to(&self, coarse: Task) -> Option<Vec<usize>> {
        if *self == coarse {
            return Some((0..self.n_classes()).collect());
        }
        match (self, coarse) {
            (Task::EventMulti, Task::EventBinary) => SprEventType::ALL
                .iter()
                .map(|&t| coarse.event_class(&EventLabel::Spr(t)))
                .collect(),
            (Task::Cycles4, Task::EventBinary) => CycleLabel::ALL
                .iter()
                .map(|&c| coarse.event_class(&EventLabel::Cycle(c)))
                .collect(),
            (Task::RecordMulti, Task::RecordTernary) => RecordLabel::ALL
                .iter()
                .map(|l| coarse.record_class(l))
                .collect(),
            _ => None,
        }
    }

    /// Class of a record label, `None` for event-level tasks.
    pub fn record_class(&self, label: &RecordLabel) -> Option<usize> {
        match self {
            Task::RecordTernary => Some(match label {
                RecordLabel::Normal => 0,
                RecordLabel::PoorQuality => 1,
                RecordLabel::Cas | RecordLabel::Das | RecordLabel::CasDas => 2,
            }),
            Task::RecordMulti => RecordLabel::ALL.iter().position(|x| x == label),
            _ => None,
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Task {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        Task::ALL
            .into_iter()
            .find(|task| task.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| Error::UnknownName {
                what: "task",
                value: s.to_string(),
                expected: Task::ALL.map(Task::as_str).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in Task::ALL {
            assert_eq!(t.to_string().parse::<Task>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{t}\""));
            assert_eq!(serde_json::from_str::<Task>(&json).unwrap(), t);
        }
        assert!("3-1".parse::<Task>().is_err());
    }

    #[test]
    fn normal_is_class_zero_everywhere() {
        for t in Task::ALL {
            assert_eq!(t.class_names()[t.normal_class()], "Normal");
        }
        assert_eq!(
            Task::EventMulti.event_class(&EventLabel::Spr(SprEventType::Normal)),
            Some(0)
        );
        assert_eq!(
            Task::RecordMulti.record_class(&RecordLabel::Normal),
            Some(0)
        );
        assert_eq!(
            Task::RecordTernary.record_class(&RecordLabel::Normal),
            Some(0)
        );
        assert_eq!(
            Task::Cycles4.event_class(&EventLabel::Cycle(CycleLabel::Normal)),
            Some(0)
        );
    }

    #[test]
    fn class_indices_match_class_names() {
        for l in SprEventType::ALL {
            let c = Task::EventMulti.event_class(&EventLabel::Spr(l)).unwrap();
            assert_eq!(Task::EventMulti.class_names()[c], l.as_str());
        }
        for l in RecordLabel::ALL {
            let c = Task::RecordMulti.record_class(&l).unwrap();
            assert_eq!(Task::RecordMulti.class_names()[c], l.as_str());
        }
        for l in CycleLabel::ALL {
            let c = Task::Cycles4.event_class(&EventLabel::Cycle(l)).unwrap();
            assert_eq!(Task::Cycles4.class_names()[c], l.as_str());
        }
        let ternary = |l| Task::RecordTernary.record_class(&l).unwrap();
        assert_eq!(ternary(RecordLabel::PoorQuality), 1);
        assert_eq!(ternary(RecordLabel::CasDas), 2);
        let wheeze = EventLabel::Spr(SprEventType::Wheeze);
        assert_eq!(Task::EventBinary.event_class(&wheeze), Some(1));
        assert_eq!(Task::Cycles4.event_class(&wheeze), None);
        assert_eq!(Task::RecordMulti.event_class(&wheeze), None);
        assert_eq!(Task::EventMulti.record_class(&RecordLabel::Cas), None);
        let crackle = EventLabel::Cycle(CycleLabel::Crackle);
        assert_eq!(Task::EventBinary.event_class(&crackle), Some(1));
        assert_eq!(Task::EventMulti.event_class(&crackle), None);
    }

    #[test]
    fn finer_tasks_fold_into_the_challenge_coarsenings() {
        assert_eq!(
            Task::EventMulti.class_map_to(Task::EventBinary),
            Some(vec![0, 1, 1, 1, 1, 1, 1])
        );
        // 2-2 order: Normal, CAS, DAS, CAS & DAS, Poor Quality;
        // 2-1 order: Normal, Poor Quality, Adventitious.
        assert_eq!(
            Task::RecordMulti.class_map_to(Task::RecordTernary),
            Some(vec![0, 2, 2, 2, 1])
        );
        assert_eq!(
            Task::Cycles4.class_map_to(Task::EventBinary),
            Some(vec![0, 1, 1, 1])
        );
        assert_eq!(
            Task::RecordMulti.class_map_to(Task::RecordMulti),
            Some(vec![0, 1, 2, 3, 4])
        );
        assert_eq!(Task::EventBinary.class_map_to(Task::EventMulti), None);
        assert_eq!(Task::EventMulti.class_map_to(Task::RecordTernary), None);
    }
}

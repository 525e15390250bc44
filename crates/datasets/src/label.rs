//! Annotation labels as the datasets write them.
//!
//! Labels are enums from the parser on, never strings. `Display` writes the
//! dataset's own spelling (`"Coarse Crackle"`, `"CAS & DAS"`); `FromStr` is
//! lenient about case, whitespace, `_`/`-` and spacing around `&`/`+`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// ICBHI 2017 respiratory cycle label, from the (crackles, wheezes) bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CycleLabel {
    /// No crackles, no wheezes (`0 0`).
    Normal,
    /// Crackles only (`1 0`).
    Crackle,
    /// Wheezes only (`0 1`).
    Wheeze,
    /// Crackles and wheezes (`1 1`).
    Both,
}

impl CycleLabel {
    /// All labels in class order (Normal first).
    pub const ALL: [CycleLabel; 4] = [
        CycleLabel::Normal,
        CycleLabel::Crackle,
        CycleLabel::Wheeze,
        CycleLabel::Both,
    ];

    /// The label of a cycle with the given crackles / wheezes flags.
    pub fn from_flags(crackles: bool, wheezes: bool) -> Self {
        match (crackles, wheezes) {
            (false, false) => CycleLabel::Normal,
            (true, false) => CycleLabel::Crackle,
            (false, true) => CycleLabel::Wheeze,
            (true, true) => CycleLabel::Both,
        }
    }

    /// Whether the cycle has crackles.
    pub fn crackles(self) -> bool {
        matches!(self, CycleLabel::Crackle | CycleLabel::Both)
    }

    /// Whether the cycle has wheezes.
    pub fn wheezes(self) -> bool {
        matches!(self, CycleLabel::Wheeze | CycleLabel::Both)
    }

    /// The name as written in reports and manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            CycleLabel::Normal => "Normal",
            CycleLabel::Crackle => "Crackle",
            CycleLabel::Wheeze => "Wheeze",
            CycleLabel::Both => "Both",
        }
    }
}

/// SPRSound event type (BioCAS 2022 task 1-2 classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SprEventType {
    /// `Normal`
    Normal,
    /// `Rhonchi`
    Rhonchi,
    /// `Wheeze`
    Wheeze,
    /// `Stridor`
    Stridor,
    /// `Coarse Crackle`
    #[serde(rename = "Coarse Crackle")]
    CoarseCrackle,
    /// `Fine Crackle`
    #[serde(rename = "Fine Crackle")]
    FineCrackle,
    /// `Wheeze+Crackle`
    #[serde(rename = "Wheeze+Crackle")]
    WheezeCrackle,
}

impl SprEventType {
    /// All event types in class order (Normal first).
    pub const ALL: [SprEventType; 7] = [
        SprEventType::Normal,
        SprEventType::Rhonchi,
        SprEventType::Wheeze,
        SprEventType::Stridor,
        SprEventType::CoarseCrackle,
        SprEventType::FineCrackle,
        SprEventType::WheezeCrackle,
    ];

    /// The name as SPRSound writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SprEventType::Normal => "Normal",
            SprEventType::Rhonchi => "Rhonchi",
            SprEventType::Wheeze => "Wheeze",
            SprEventType::Stridor => "Stridor",
            SprEventType::CoarseCrackle => "Coarse Crackle",
            SprEventType::FineCrackle => "Fine Crackle",
            SprEventType::WheezeCrackle => "Wheeze+Crackle",
        }
    }
}

/// SPRSound record-level label (BioCAS 2022 task 2-2 classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecordLabel {
    /// `Normal`
    Normal,
    /// `CAS`: continuous adventitious sounds.
    #[serde(rename = "CAS")]
    Cas,
    /// `DAS`: discontinuous adventitious sounds.
    #[serde(rename = "DAS")]
    Das,
    /// `CAS & DAS`
    #[serde(rename = "CAS & DAS")]
    CasDas,
    /// `Poor Quality`
    #[serde(rename = "Poor Quality")]
    PoorQuality,
}

impl RecordLabel {
    /// All record labels in class order (Normal first).
    pub const ALL: [RecordLabel; 5] = [
        RecordLabel::Normal,
        RecordLabel::Cas,
        RecordLabel::Das,
        RecordLabel::CasDas,
        RecordLabel::PoorQuality,
    ];

    /// The name as SPRSound writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordLabel::Normal => "Normal",
            RecordLabel::Cas => "CAS",
            RecordLabel::Das => "DAS",
            RecordLabel::CasDas => "CAS & DAS",
            RecordLabel::PoorQuality => "Poor Quality",
        }
    }

    /// Whether the record has adventitious sounds (CAS, DAS or both).
    pub fn is_adventitious(self) -> bool {
        matches!(
            self,
            RecordLabel::Cas | RecordLabel::Das | RecordLabel::CasDas
        )
    }
}

/// The label of one annotated event: an ICBHI cycle or an SPRSound event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventLabel {
    /// ICBHI 2017 respiratory cycle.
    Cycle(CycleLabel),
    /// SPRSound event.
    Spr(SprEventType),
}

impl EventLabel {
    /// The name as the dataset writes it (`"Crackle"`, `"Fine Crackle"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventLabel::Cycle(c) => c.as_str(),
            EventLabel::Spr(s) => s.as_str(),
        }
    }

    /// Whether this is the normal (non-adventitious) label.
    pub fn is_normal(self) -> bool {
        matches!(
            self,
            EventLabel::Cycle(CycleLabel::Normal) | EventLabel::Spr(SprEventType::Normal)
        )
    }
}

/// Canonical form for lenient matching: lowercase, `_`/`-` as spaces, no
/// spaces around `&`/`+`, runs of whitespace collapsed.
pub(crate) fn normalize_label(s: &str) -> String {
    let lowered = s.trim().to_lowercase().replace(['_', '-'], " ");
    let collapsed = lowered.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .replace(" & ", "&")
        .replace(" &", "&")
        .replace("& ", "&")
        .replace(" + ", "+")
        .replace(" +", "+")
        .replace("+ ", "+")
}

fn unknown(what: &'static str, value: &str, expected: &[&str]) -> Error {
    Error::UnknownName {
        what,
        value: value.to_string(),
        expected: expected.join(", "),
    }
}

impl FromStr for CycleLabel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match normalize_label(s).as_str() {
            "normal" => Ok(CycleLabel::Normal),
            "crackle" | "crackles" => Ok(CycleLabel::Crackle),
            "wheeze" | "wheezes" => Ok(CycleLabel::Wheeze),
            "both" => Ok(CycleLabel::Both),
            _ => Err(unknown(
                "cycle label",
                s,
                &CycleLabel::ALL.map(CycleLabel::as_str),
            )),
        }
    }
}

impl FromStr for SprEventType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match normalize_label(s).as_str() {
            "normal" => Ok(SprEventType::Normal),
            "rhonchi" | "rhonchus" => Ok(SprEventType::Rhonchi),
            "wheeze" | "wheezes" => Ok(SprEventType::Wheeze),
            "stridor" => Ok(SprEventType::Stridor),
            "coarse crackle" | "coarse crackles" => Ok(SprEventType::CoarseCrackle),
            "fine crackle" | "fine crackles" => Ok(SprEventType::FineCrackle),
            "wheeze+crackle" | "wheeze&crackle" | "wheeze and crackle" => {
                Ok(SprEventType::WheezeCrackle)
            }
            _ => Err(unknown(
                "SPRSound event type",
                s,
                &SprEventType::ALL.map(SprEventType::as_str),
            )),
        }
    }
}

impl FromStr for RecordLabel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match normalize_label(s).as_str() {
            "normal" => Ok(RecordLabel::Normal),
            "cas" => Ok(RecordLabel::Cas),
            "das" => Ok(RecordLabel::Das),
            "cas&das" | "cas+das" | "cas and das" => Ok(RecordLabel::CasDas),
            "poor quality" => Ok(RecordLabel::PoorQuality),
            _ => Err(unknown(
                "SPRSound record label",
                s,
                &RecordLabel::ALL.map(RecordLabel::as_str),
            )),
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(CycleLabel, SprEventType, RecordLabel, EventLabel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trips_through_from_str() {
        for l in SprEventType::ALL {
            assert_eq!(l.to_string().parse::<SprEventType>().ok(), Some(l));
        }
        for l in RecordLabel::ALL {
            assert_eq!(l.to_string().parse::<RecordLabel>().ok(), Some(l));
        }
        for l in CycleLabel::ALL {
            assert_eq!(l.to_string().parse::<CycleLabel>().ok(), Some(l));
        }
    }

    #[test]
    fn parsing_is_lenient_on_case_and_spacing() {
        let p = |s: &str| s.parse::<SprEventType>().ok();
        assert_eq!(p("  fine   crackle "), Some(SprEventType::FineCrackle));
        assert_eq!(p("COARSE_CRACKLE"), Some(SprEventType::CoarseCrackle));
        assert_eq!(p("Wheeze + Crackle"), Some(SprEventType::WheezeCrackle));
        assert_eq!(p("wheeze & crackle"), Some(SprEventType::WheezeCrackle));
        assert_eq!(p("crackle"), None);
        let r = |s: &str| s.parse::<RecordLabel>().ok();
        assert_eq!(r("cas&das"), Some(RecordLabel::CasDas));
        assert_eq!(r(" CAS  &  DAS"), Some(RecordLabel::CasDas));
        assert_eq!(r("poor quality"), Some(RecordLabel::PoorQuality));
        assert_eq!(r("Poor-Quality"), Some(RecordLabel::PoorQuality));
    }

    #[test]
    fn unknown_label_error_lists_the_choices() {
        let e = "Squawk"
            .parse::<SprEventType>()
            .err()
            .map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(e.contains("\"Squawk\""), "{e}");
        assert!(e.contains("Wheeze+Crackle"), "{e}");
    }

    #[test]
    fn cycle_flags_round_trip() {
        for c in [false, true] {
            for w in [false, true] {
                let l = CycleLabel::from_flags(c, w);
                assert_eq!((l.crackles(), l.wheezes()), (c, w));
            }
        }
    }

    #[test]
    fn serde_uses_dataset_spelling() {
        let s = serde_json::to_string(&RecordLabel::CasDas).unwrap_or_default();
        assert_eq!(s, "\"CAS & DAS\"");
        let s = serde_json::to_string(&SprEventType::WheezeCrackle).unwrap_or_default();
        assert_eq!(s, "\"Wheeze+Crackle\"");
    }
}

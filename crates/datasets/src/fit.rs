//! The one rule for annotations that do not fit the audio, used by every
//! command (`segment`, `analyze`, the feature pipeline of `train` and
//! `evaluate`, `predict` and `serve` with given events).
//!
//! Given a recording's events and the duration of its decoded audio,
//! [`fit_spans`] decides for each event:
//!
//! | event | decision | issue |
//! |---|---|---|
//! | impossible times ([`impossible_span`]: non-finite, negative, `start >= end`, beyond [`MAX_EVENT_TIME_S`]) | skipped | error |
//! | starts at or after the end of the audio | skipped | warning `… lies past the end of the audio (… s); skipped` |
//! | ends more than [`END_TOLERANCE_S`] after the end | clipped to the end | warning `… ends … s after the end of the audio …; clipped …` |
//! | ends after the end, within [`END_TOLERANCE_S`] (annotation rounding) | clipped to the end | none |
//! | inside the audio | kept | none |
//!
//! Every per-event message is written `event {index}: …` by
//! [`FittedSpans::issues`]; only a skip past the end says `past the end of
//! the audio` (tools group skip reasons by that phrase). When more than
//! [`FAR_PAST_FRACTION`] of a recording's (possible) events lie wholly or
//! partly (beyond the tolerance) past the end, one more warning says so
//! loudly: `annotations extend to 15.3 s but the audio decodes to 4.6 s: is
//! the file truncated or mis-decoded?`.
//!
//! The annotation parsers already refuse impossible times (with the file and
//! line); the check here covers events that come from elsewhere (a user's
//! events file, code).

use std::path::Path;

use crate::recording::{Event, Issue, Severity};
use crate::segment::END_TOLERANCE_S;

/// No event time may exceed this (24 hours): a longer recording of a chest
/// is not plausible, and a value like `1e20` is a corrupt annotation.
pub const MAX_EVENT_TIME_S: f64 = 24.0 * 3600.0;

/// More than this fraction of a recording's events past the end of its audio
/// (wholly, or by more than [`END_TOLERANCE_S`]) draws the whole-recording
/// warning of [`FittedSpans::mismatch`].
pub const FAR_PAST_FRACTION: f64 = 0.25;

/// What [`fit_spans`] does with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FitAction {
    /// Used as annotated.
    Keep,
    /// Used with its end moved to the end of the audio.
    Clip,
    /// Not used.
    Skip,
}

/// The decision for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanFit {
    /// The event's index as given (its stored position in the annotation).
    pub index: usize,
    /// Start (s), as given.
    pub start_s: f64,
    /// End (s): the end of the audio when clipped, else as given.
    pub end_s: f64,
    /// Keep, clip or skip.
    pub action: FitAction,
    /// The issue to report, if any: severity and message, without the
    /// `event {index}: ` prefix that [`FittedSpans::issues`] adds.
    pub note: Option<(Severity, String)>,
}

impl SpanFit {
    /// Whether the event is used (kept or clipped).
    pub fn is_used(&self) -> bool {
        self.action != FitAction::Skip
    }

    /// The note as a full message, `event {index}: …`.
    pub fn message(&self) -> Option<String> {
        self.note
            .as_ref()
            .map(|(_, m)| format!("event {}: {m}", self.index))
    }
}

/// What [`fit_spans`] decided for a recording.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FittedSpans {
    /// One decision per event, in the order given.
    pub spans: Vec<SpanFit>,
    /// The whole-recording warning (`annotations extend to X s but the audio
    /// decodes to Y s: is the file truncated or mis-decoded?`), when more
    /// than [`FAR_PAST_FRACTION`] of the events lie past the end.
    pub mismatch: Option<String>,
}

impl FittedSpans {
    /// The used events (kept or clipped), in order.
    pub fn used(&self) -> impl Iterator<Item = &SpanFit> {
        self.spans.iter().filter(|s| s.is_used())
    }

    /// Number of skipped events.
    pub fn n_skipped(&self) -> usize {
        self.spans.iter().filter(|s| !s.is_used()).count()
    }

    /// Every note as an [`Issue`] on `path`: the whole-recording warning
    /// first, then one per event in order (`event {index}: …`).
    pub fn issues(&self, path: &Path) -> Vec<Issue> {
        let mismatch = self
            .mismatch
            .iter()
            .map(|m| Issue::new(Severity::Warning, path, m.clone()));
        let events = self.spans.iter().filter_map(|s| {
            let (severity, _) = s.note.as_ref()?;
            Some(Issue::new(*severity, path, s.message()?))
        });
        mismatch.chain(events).collect()
    }
}

/// Why `(start_s, end_s)` cannot be an event of any recording: a non-finite
/// or negative time, `start_s >= end_s`, or a time beyond
/// [`MAX_EVENT_TIME_S`]. `None` when it is possible.
pub fn impossible_span(start_s: f64, end_s: f64) -> Option<String> {
    for (what, t) in [("start", start_s), ("end", end_s)] {
        if let Some(why) = impossible_time(t) {
            return Some(format!("{what} {t} s {why}"));
        }
    }
    (start_s >= end_s).then(|| format!("start {start_s} s is not before end {end_s} s"))
}

/// Why a single time (s) is impossible (`is not finite`, `is negative`,
/// `is beyond any plausible recording (24 h)`), if it is.
pub fn impossible_time(t: f64) -> Option<&'static str> {
    if !t.is_finite() {
        Some("is not finite")
    } else if t < 0.0 {
        Some("is negative")
    } else if t > MAX_EVENT_TIME_S {
        Some("is beyond any plausible recording (24 h)")
    } else {
        None
    }
}

/// Applies the rule of the module doc to `spans` — `(index, start_s,
/// end_s)` of each event — of a recording whose decoded audio lasts
/// `duration_s` seconds (a non-finite or negative duration counts as 0).
pub fn fit_spans(
    spans: impl IntoIterator<Item = (usize, f64, f64)>,
    duration_s: f64,
) -> FittedSpans {
    let d = if duration_s.is_finite() {
        duration_s.max(0.0)
    } else {
        0.0
    };
    let mut out = FittedSpans::default();
    let (mut n_possible, mut n_past) = (0usize, 0usize);
    let mut last_end = 0f64;
    for (index, start_s, end_s) in spans {
        let (action, fitted_end, note) = if let Some(why) = impossible_span(start_s, end_s) {
            (
                FitAction::Skip,
                end_s,
                Some((Severity::Error, format!("{why}; skipped"))),
            )
        } else {
            n_possible += 1;
            last_end = last_end.max(end_s);
            if start_s >= d {
                n_past += 1;
                (
                    FitAction::Skip,
                    end_s,
                    Some((
                        Severity::Warning,
                        format!(
                            "{start_s:.3}–{end_s:.3} s lies past the end of the audio ({d:.3} s); \
                             skipped"
                        ),
                    )),
                )
            } else if end_s > d + END_TOLERANCE_S {
                n_past += 1;
                (
                    FitAction::Clip,
                    d,
                    Some((
                        Severity::Warning,
                        format!(
                            "{start_s:.3}–{end_s:.3} s ends {:.3} s after the end of the audio \
                             ({d:.3} s); clipped to it",
                            end_s - d
                        ),
                    )),
                )
            } else if end_s > d {
                (FitAction::Clip, d, None)
            } else {
                (FitAction::Keep, end_s, None)
            }
        };
        out.spans.push(SpanFit {
            index,
            start_s,
            end_s: fitted_end,
            action,
            note,
        });
    }
    if n_past > 0 && n_past as f64 > FAR_PAST_FRACTION * n_possible as f64 {
        let (mut x, mut y) = (format!("{last_end:.1}"), format!("{d:.1}"));
        if x == y {
            (x, y) = (format!("{last_end:.3}"), format!("{d:.3}"));
        }
        out.mismatch = Some(format!(
            "annotations extend to {x} s but the audio decodes to {y} s: is the file truncated \
             or mis-decoded? ({n_past} of {n_possible} events lie past its end)"
        ));
    }
    out
}

/// [`fit_spans`] on a recording's events: the events to use (clipped ones
/// with their new end), in order, and the issues, on `path`.
pub fn fit_events(events: &[Event], duration_s: f64, path: &Path) -> (Vec<Event>, Vec<Issue>) {
    let fitted = fit_spans(
        events.iter().map(|e| (e.index, e.start_s, e.end_s)),
        duration_s,
    );
    let used = events
        .iter()
        .zip(&fitted.spans)
        .filter(|(_, f)| f.is_used())
        .map(|(e, f)| Event {
            end_s: f.end_s,
            ..e.clone()
        })
        .collect();
    (used, fitted.issues(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::{EventLabel, SprEventType};

    fn fit(spans: &[(f64, f64)], d: f64) -> FittedSpans {
        fit_spans(spans.iter().enumerate().map(|(i, &(a, b))| (i, a, b)), d)
    }

    fn actions(f: &FittedSpans) -> Vec<FitAction> {
        f.spans.iter().map(|s| s.action).collect()
    }

    #[test]
    fn inside_is_kept_without_issue() {
        let f = fit(&[(0.0, 1.0), (1.0, 2.0)], 2.0);
        assert_eq!(actions(&f), [FitAction::Keep, FitAction::Keep]);
        assert!(f.issues(Path::new("a.wav")).is_empty());
        assert_eq!(f.mismatch, None);
        assert_eq!(f.spans[1].end_s, 2.0);
    }

    #[test]
    fn within_tolerance_is_clipped_silently() {
        let f = fit(&[(1.0, 2.0 + END_TOLERANCE_S)], 2.0);
        assert_eq!(actions(&f), [FitAction::Clip]);
        assert_eq!(f.spans[0].end_s, 2.0);
        assert!(f.issues(Path::new("a.wav")).is_empty());
        assert_eq!(f.mismatch, None);
    }

    #[test]
    fn overlapping_the_end_is_clipped_with_a_warning() {
        let f = fit(&[(0.0, 0.5), (0.5, 1.0), (1.0, 1.5), (1.5, 2.5)], 2.0);
        assert_eq!(f.spans[3].action, FitAction::Clip);
        assert_eq!(f.spans[3].end_s, 2.0);
        let iss = f.issues(Path::new("a.wav"));
        assert_eq!(iss.len(), 1, "{iss:?}");
        assert_eq!(iss[0].severity, Severity::Warning);
        assert_eq!(iss[0].path, Path::new("a.wav"));
        assert!(
            iss[0]
                .message
                .starts_with("event 3: 1.500–2.500 s ends 0.500 s after the end"),
            "{}",
            iss[0].message
        );
        assert!(!iss[0].message.contains("past the end of the audio"));
        // one of four is not more than a quarter
        assert_eq!(f.mismatch, None);
    }

    #[test]
    fn wholly_past_the_end_is_skipped_with_a_warning() {
        let f = fit(&[(0.0, 0.5), (0.5, 1.0), (1.0, 1.5), (2.0, 2.5)], 2.0);
        assert_eq!(f.spans[3].action, FitAction::Skip);
        assert_eq!(f.n_skipped(), 1);
        assert_eq!(f.used().count(), 3);
        let iss = f.issues(Path::new("a.wav"));
        assert_eq!(iss.len(), 1);
        assert_eq!(iss[0].severity, Severity::Warning);
        assert_eq!(
            iss[0].message,
            "event 3: 2.000–2.500 s lies past the end of the audio (2.000 s); skipped"
        );
    }

    #[test]
    fn impossible_times_are_skipped_as_errors() {
        let f = fit(
            &[
                (-1.0, 1.0),
                (1.0, f64::NAN),
                (1.5, 1.0),
                (0.5, 1e20),
                (f64::INFINITY, 1.0),
                (0.0, 1.0),
            ],
            2.0,
        );
        assert_eq!(f.used().count(), 1);
        let iss = f.issues(Path::new("a.wav"));
        assert_eq!(iss.len(), 5);
        assert!(iss.iter().all(|i| i.severity == Severity::Error));
        for (i, needle) in [
            "negative",
            "not finite",
            "not before",
            "beyond any plausible",
            "not finite",
        ]
        .iter()
        .enumerate()
        {
            assert!(iss[i].message.starts_with(&format!("event {i}: ")));
            assert!(iss[i].message.contains(needle), "{}", iss[i].message);
        }
        // impossible events neither count for nor draw the mismatch warning
        assert_eq!(f.mismatch, None);
        assert!(impossible_span(0.0, MAX_EVENT_TIME_S).is_none());
        assert!(impossible_span(0.0, MAX_EVENT_TIME_S + 1.0).is_some());
        assert_eq!(impossible_time(-0.5), Some("is negative"));
    }

    #[test]
    fn annotations_far_past_the_audio_are_reported_loudly() {
        // 2 of 5 (40 %) past the end: loud
        let f = fit(
            &[
                (0.0, 1.0),
                (1.0, 2.0),
                (2.0, 3.0),
                (4.0, 10.0),
                (10.0, 15.3),
            ],
            4.6,
        );
        let m = f.mismatch.clone().unwrap();
        assert!(
            m.starts_with(
                "annotations extend to 15.3 s but the audio decodes to 4.6 s: is the file \
                 truncated or mis-decoded?"
            ),
            "{m}"
        );
        let iss = f.issues(Path::new("a.wav"));
        assert_eq!(iss[0].message, m);
        assert_eq!(iss[0].severity, Severity::Warning);
        assert_eq!(iss.len(), 3);
        // exactly a quarter is not more than a quarter; tolerance clips do not count
        let f = fit(&[(0.0, 1.0), (1.0, 2.0), (3.5, 4.02), (3.0, 5.0)], 4.0);
        assert_eq!(f.mismatch, None);
        // the same rounded numbers get more digits
        let f = fit(&[(0.0, 2.04)], 1.98);
        let m = f.mismatch.unwrap();
        assert!(
            m.starts_with("annotations extend to 2.040 s but the audio decodes to 1.980 s"),
            "{m}"
        );
    }

    #[test]
    fn odd_durations_count_as_zero() {
        let f = fit(&[(0.0, 1.0)], f64::NAN);
        assert_eq!(actions(&f), [FitAction::Skip]);
        let f = fit(&[(0.0, 1.0)], -3.0);
        assert_eq!(actions(&f), [FitAction::Skip]);
    }

    #[test]
    fn events_keep_their_index_and_label() {
        let ev = |index, start_s, end_s| Event {
            index,
            start_s,
            end_s,
            label: EventLabel::Spr(SprEventType::Wheeze),
        };
        let events = [ev(4, 0.0, 1.0), ev(7, 1.5, 2.5), ev(9, 3.0, 3.5)];
        let (used, iss) = fit_events(&events, 2.0, Path::new("r.wav"));
        assert_eq!(used, [ev(4, 0.0, 1.0), ev(7, 1.5, 2.0)]);
        // 2 of 3 past the end: loud warning, then the clip, then the skip
        assert_eq!(iss.len(), 3);
        assert!(iss[0].message.starts_with("annotations extend to 3.5 s"));
        assert!(iss[1].message.starts_with("event 7: "));
        assert!(iss[2].message.starts_with("event 9: "));
        assert!(iss[2].message.contains("past the end of the audio"));
    }
}

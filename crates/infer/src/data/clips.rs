//! Which clips a recording gives for a task: one per annotated event (event
//! tasks) or fixed-length windows (record tasks and the prediction timeline).

use lungsound_datasets::{Level, PadMode, Recording, Task, fit_length};

/// One clip's source span in a recording (seconds) and, for events, the
/// event's stored index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipSpan {
    /// Start in the recording (s).
    pub start_s: f64,
    /// End in the recording (s); the clip is this span fitted to the clip length.
    pub end_s: f64,
    /// The event's position in the annotation as stored (`None` for windows).
    pub event_index: Option<usize>,
}

/// Start samples of the windows covering `n` samples: every `hop`, the last
/// one aligned to the end so that no audio is left out; a single window at 0
/// when the signal is not longer than one window.
pub fn window_starts(n: usize, window: usize, hop: usize) -> Vec<usize> {
    if n <= window {
        return vec![0];
    }
    let hop = hop.max(1);
    let mut starts: Vec<usize> = (0..=n - window).step_by(hop).collect();
    if starts.last().is_some_and(|&s| s + window < n) {
        starts.push(n - window);
    }
    starts
}

/// Windows over a signal of `n_samples` at `sample_rate`, as spans.
pub fn window_spans(
    n_samples: usize,
    sample_rate: u32,
    window: usize,
    hop: usize,
) -> Vec<ClipSpan> {
    let sr = f64::from(sample_rate);
    window_starts(n_samples, window, hop)
        .into_iter()
        .map(|s| ClipSpan {
            start_s: s as f64 / sr,
            end_s: (s + window).min(n_samples) as f64 / sr,
            event_index: None,
        })
        .collect()
}

/// The spans of every annotated event of `rec`, in stored order and as
/// annotated (the cache holds all of them; the task picks the ones it has a
/// class for). [`compute_clips`](super::compute_clips) fits them to the
/// decoded audio with the datasets crate's rule
/// ([`fit_spans`](lungsound_datasets::fit_spans)) before cutting.
pub fn event_spans(rec: &Recording) -> Vec<ClipSpan> {
    rec.events
        .iter()
        .map(|e| ClipSpan {
            start_s: e.start_s,
            end_s: e.end_s,
            event_index: Some(e.index),
        })
        .collect()
}

/// The samples of `span` fitted to `clip` samples with `pad`: the span is cut
/// from `samples` (clamped to the signal) and cropped from its start or
/// padded. A span entirely past the end gives `None`.
pub fn cut_clip(
    samples: &[f32],
    sample_rate: u32,
    span: &ClipSpan,
    clip: usize,
    pad: PadMode,
) -> Option<Vec<f32>> {
    Some(fit_length(
        span_samples(samples, sample_rate, span)?,
        clip,
        pad,
    ))
}

/// The samples of `span` (clamped to the signal), before fitting to a clip
/// length; `None` when the span lies entirely past the end.
pub fn span_samples<'a>(
    samples: &'a [f32],
    sample_rate: u32,
    span: &ClipSpan,
) -> Option<&'a [f32]> {
    let sr = f64::from(sample_rate);
    let start = ((span.start_s * sr).round().max(0.0) as usize).min(samples.len());
    let end = ((span.end_s * sr).round().max(0.0) as usize).min(samples.len());
    if end <= start {
        return None;
    }
    Some(&samples[start..end])
}

/// The class of each clip of `rec` for `task` (`None`: not used by the task).
/// Event tasks: the event's class; record tasks: the record's class for every window.
pub fn clip_labels(rec: &Recording, task: Task, spans: &[ClipSpan]) -> Vec<Option<usize>> {
    match task.level() {
        Level::Event => spans
            .iter()
            .map(|s| {
                let index = s.event_index?;
                let event = rec.events.iter().find(|e| e.index == index)?;
                task.event_class(&event.label)
            })
            .collect(),
        Level::Record => {
            let class = rec.record_label.as_ref().and_then(|l| task.record_class(l));
            vec![class; spans.len()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_signal() {
        assert_eq!(window_starts(5, 10, 5), vec![0]);
        assert_eq!(window_starts(10, 10, 5), vec![0]);
        assert_eq!(window_starts(20, 10, 5), vec![0, 5, 10]);
        assert_eq!(window_starts(22, 10, 5), vec![0, 5, 10, 12]);
        assert_eq!(window_starts(11, 10, 100), vec![0, 1]);
    }

    #[test]
    fn clips_are_cut_clamped_and_padded() {
        let x: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let span = |a, b| ClipSpan {
            start_s: a,
            end_s: b,
            event_index: Some(0),
        };
        let c = cut_clip(&x, 10, &span(1.0, 1.5), 10, PadMode::Repeat).unwrap_or_default();
        assert_eq!(
            c,
            vec![10.0, 11.0, 12.0, 13.0, 14.0, 10.0, 11.0, 12.0, 13.0, 14.0]
        );
        let c = cut_clip(&x, 10, &span(9.5, 12.0), 4, PadMode::Zero).unwrap_or_default();
        assert_eq!(c, vec![95.0, 96.0, 97.0, 98.0]);
        assert!(cut_clip(&x, 10, &span(10.0, 12.0), 4, PadMode::Zero).is_none());
    }
}

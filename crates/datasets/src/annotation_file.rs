//! Event boundaries of one annotation file, given beside a recording to classify
//! (`lungsound predict --events`, the Python `Predictor.predict(events=PATH)`).

use std::path::Path;

use crate::icbhi::parse_cycles;
use crate::recording::Issue;
use crate::sprsound::parse_annotation;

/// The events of an SPRSound `.json` (by extension, case-insensitive) or ICBHI `.txt`
/// annotation (`bytes` read from `path`) as `(index, start_s, end_s)`, listed by start
/// time (SPRSound files are not always sorted; `index` is the event's position in the
/// file). Problems with the file or single events come back as issues; the usable events
/// are still returned.
pub fn annotation_event_spans(bytes: &[u8], path: &Path) -> (Vec<(usize, f64, f64)>, Vec<Issue>) {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let (events, issues) = if is_json {
        let (annotation, issues) = parse_annotation(bytes, path);
        (annotation.map(|a| a.events).unwrap_or_default(), issues)
    } else {
        parse_cycles(&String::from_utf8_lossy(bytes), path)
    };
    let mut spans: Vec<(usize, f64, f64)> = events
        .iter()
        .map(|e| (e.index, e.start_s, e.end_s))
        .collect();
    spans.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    (spans, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprsound_events_come_sorted_by_time_with_their_file_positions() {
        let json = br#"{"record_annotation": "DAS", "event_annotation": [
            {"start": "8270", "end": "9189", "type": "Fine Crackle"},
            {"start": "6044", "end": "7115", "type": "Fine Crackle"}]}"#;
        let (spans, issues) = annotation_event_spans(json, Path::new("r.JSON"));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(spans, vec![(1, 6.044, 7.115), (0, 8.27, 9.189)]);
    }

    #[test]
    fn icbhi_cycles_and_bad_lines_as_issues() {
        let text = "0.5\t2.0\t0\t1\nnot a line\n2.0\t3.5\t1\t0\n";
        let (spans, issues) = annotation_event_spans(text.as_bytes(), Path::new("c.txt"));
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].1, spans[1].2), (0.5, 3.5));
        assert_eq!(issues.len(), 1);
        assert!(issues[0].to_string().contains("c.txt"), "{}", issues[0]);
    }
}

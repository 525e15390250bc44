//! [`StandInClassifier`]: a deterministic fake model for API tests, the load benchmark and
//! work on the web page. It does not classify lung sounds.

use std::f64::consts::PI;
use std::time::Duration;

use lungsound_audio::Audio;
use serde_json::{Value, json};

use crate::classifier::{Classifier, ClassifyError};

/// SPRSound task 2-2 record classes (as the datasets write them).
const CLASSES: [&str; 5] = ["Normal", "CAS", "DAS", "CAS & DAS", "Poor Quality"];
/// Window length and hop when the client sends no events.
const WINDOW_S: f64 = 2.0;

/// A stand-in [`Classifier`]: its "probabilities" are a fixed smooth function of the
/// signal's RMS level and zero-crossing rate, so the same audio always gives the same answer
/// and different audio usually a different one.
///
/// Its JSON has the shape of `lungsound predict --json` for one file (one model, `stand-in`,
/// task 2-2): `{file, sample_rate, duration_s, predictions: [{model, task, classes,
/// duration_s, label, probabilities, events, segments, warnings}]}`. With events, `events`
/// has one entry per event in the order given (`index`, `start_s`, `end_s`, `label`,
/// `probabilities`); without, `segments` tiles the recording with 2-second windows,
/// neighbours with the same label merged (`start_s`, `end_s`, `label`, `confidence`,
/// `windows`).
///
/// [`with_gated_copy`](StandInClassifier::with_gated_copy) adds a second model, as
/// `lungsound serve --gate` lists a gated one: `stand-in-gated`, `gated_by: "stand-in-gate"`,
/// the same numbers (for the page's model chooser).
#[derive(Debug, Clone, Default)]
pub struct StandInClassifier {
    delay: Duration,
    gated_copy: bool,
    min_duration_s: f64,
}

impl StandInClassifier {
    /// A stand-in that answers at once.
    pub fn new() -> Self {
        StandInClassifier::default()
    }

    /// Makes every prediction take at least `delay` (a blocking sleep, like a model's
    /// compute), to exercise queueing and capacity limits.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Answers for two models: `stand-in`, then `stand-in-gated` (with `gated_by`).
    pub fn with_gated_copy(mut self) -> Self {
        self.gated_copy = true;
        self
    }

    /// Declares `seconds` as the shortest recording it answers for without events
    /// ([`Classifier::min_duration_s`]; a real model declares half its window). Default 0.
    pub fn with_min_duration_s(mut self, seconds: f64) -> Self {
        self.min_duration_s = seconds;
        self
    }
}

impl Classifier for StandInClassifier {
    fn predict(
        &self,
        audio: &Audio,
        name: &str,
        events: Option<&[(f64, f64)]>,
    ) -> Result<Value, ClassifyError> {
        if audio.sample_rate == 0 {
            return Err(ClassifyError::Input("the sample rate is 0 Hz".into()));
        }
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let duration_s = audio.duration_s();
        let clip = |(start_s, end_s): (f64, f64)| {
            let sr = f64::from(audio.sample_rate);
            let a = ((start_s * sr) as usize).min(audio.samples.len());
            let b = ((end_s * sr).ceil() as usize).clamp(a, audio.samples.len());
            scores(&audio.samples[a..b], CLASSES.len())
        };
        let spans = events.map_or_else(|| windows(duration_s), <[_]>::to_vec);
        let probs: Vec<Vec<f64>> = spans.iter().map(|&span| clip(span)).collect();
        let mean: Vec<f64> = (0..CLASSES.len())
            .map(|k| round4(probs.iter().map(|p| p[k]).sum::<f64>() / probs.len().max(1) as f64))
            .collect();
        let (event_list, segments) = match events {
            Some(_) => {
                let list: Vec<Value> = spans
                    .iter()
                    .zip(&probs)
                    .enumerate()
                    .map(|(index, (&(start_s, end_s), p))| {
                        json!({"index": index, "start_s": start_s, "end_s": end_s,
                               "label": CLASSES[argmax(p)], "probabilities": p})
                    })
                    .collect();
                (list, Vec::new())
            }
            None => (Vec::new(), merge(&spans, &probs)),
        };
        let prediction = json!({
            "model": "stand-in",
            "task": "2-2",
            "classes": CLASSES,
            "duration_s": duration_s,
            "label": CLASSES[argmax(&mean)],
            "probabilities": mean,
            "events": event_list,
            "segments": segments,
            "warnings": [],
        });
        let mut predictions = vec![prediction];
        if self.gated_copy {
            predictions.push(gated(&predictions[0], "model"));
        }
        Ok(json!({
            "file": name,
            "sample_rate": audio.sample_rate,
            "duration_s": duration_s,
            "predictions": predictions,
        }))
    }

    fn models(&self) -> Vec<Value> {
        let model = json!({
            "name": "stand-in",
            "description": "Deterministic stand-in for tests and demos: scores are a fixed function of RMS level \
                            and zero-crossing rate, not a trained model.",
            "task": "2-2",
            "level": "record",
            "classes": CLASSES,
            "metrics": {},
        });
        let mut models = vec![model];
        if self.gated_copy {
            models.push(gated(&models[0], "name"));
        }
        models
    }

    fn min_duration_s(&self) -> f64 {
        self.min_duration_s
    }
}

/// `entry` renamed `stand-in-gated` (its `key` field) and marked `gated_by: "stand-in-gate"`.
fn gated(entry: &Value, key: &str) -> Value {
    let mut copy = entry.clone();
    copy[key] = json!("stand-in-gated");
    copy["gated_by"] = json!("stand-in-gate");
    copy
}

/// Neighbouring windows with the same label merged into segments.
fn merge(spans: &[(f64, f64)], probs: &[Vec<f64>]) -> Vec<Value> {
    let mut merged: Vec<(f64, f64, usize, f64, usize)> = Vec::new(); // start, end, class, sum, n
    for (&(start_s, end_s), p) in spans.iter().zip(probs) {
        let c = argmax(p);
        match merged.last_mut() {
            Some(last) if last.2 == c => {
                last.1 = end_s;
                last.3 += p[c];
                last.4 += 1;
            }
            _ => merged.push((start_s, end_s, c, p[c], 1)),
        }
    }
    merged
        .into_iter()
        .map(|(start_s, end_s, c, sum, n)| {
            json!({"start_s": start_s, "end_s": end_s, "label": CLASSES[c],
                   "confidence": round4(sum / n as f64), "windows": n})
        })
        .collect()
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Back-to-back windows of [`WINDOW_S`] covering `duration_s` (the last one shorter).
fn windows(duration_s: f64) -> Vec<(f64, f64)> {
    let n = (duration_s / WINDOW_S).ceil().max(1.0) as usize;
    (0..n)
        .map(|i| {
            (
                i as f64 * WINDOW_S,
                ((i + 1) as f64 * WINDOW_S).min(duration_s),
            )
        })
        .filter(|(a, b)| b > a)
        .collect()
}

/// Softmax over `n` logits placed on a circle and turned by the RMS level and the
/// zero-crossing rate of `samples`; probabilities rounded to 4 decimals.
fn scores(samples: &[f32], n: usize) -> Vec<f64> {
    let len = samples.len().max(1) as f64;
    let energy = samples
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / len;
    let rms_db = 10.0 * energy.max(1e-12).log10(); // −120 … 0 dBFS
    let level = ((rms_db + 60.0) / 60.0).clamp(0.0, 1.0);
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count() as f64
        / len;
    let logits: Vec<f64> = (0..n)
        .map(|k| 2.5 * (2.0 * PI * k as f64 / n as f64 + 5.0 * level + 20.0 * crossings).cos())
        .collect();
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.iter().map(|e| round4(e / total)).collect()
}

fn argmax(p: &[f64]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(samples: Vec<f32>) -> Audio {
        Audio {
            samples,
            sample_rate: 8000,
        }
    }

    #[test]
    fn same_audio_same_answer_in_the_predict_json_shape() {
        let a = audio(lungsound_testutil::sine(440.0, 8000, 5.0, 0.3));
        let c = StandInClassifier::new();
        let first = c.predict(&a, "a.wav", None).expect("predict");
        assert_eq!(first, c.predict(&a, "a.wav", None).expect("predict"));
        assert_eq!(
            (first["file"].as_str(), first["sample_rate"].as_u64()),
            (Some("a.wav"), Some(8000))
        );
        let m = &first["predictions"][0];
        let p: Vec<f64> =
            serde_json::from_value(m["probabilities"].clone()).expect("probabilities");
        assert_eq!(p.len(), 5);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-3);
        assert!(CLASSES.contains(&m["label"].as_str().expect("label")));
        assert_eq!(m["events"], json!([]));
        // A steady tone: every window has the same label, merged into one segment.
        assert_eq!(m["segments"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            (
                m["segments"][0]["end_s"].as_f64(),
                m["segments"][0]["windows"].as_u64()
            ),
            (Some(5.0), Some(3))
        );
    }

    #[test]
    fn given_events_are_classified_one_by_one_in_the_order_given() {
        let a = audio(lungsound_testutil::white_noise(8000 * 4, 1));
        let out = StandInClassifier::new()
            .predict(&a, "n.wav", Some(&[(2.0, 3.5), (0.5, 1.0)]))
            .expect("predict");
        let events = out["predictions"][0]["events"].as_array().expect("events");
        assert_eq!(events.len(), 2);
        assert_eq!(
            (events[0]["index"].as_u64(), events[0]["start_s"].as_f64()),
            (Some(0), Some(2.0))
        );
        assert_eq!(events[1]["index"], 1);
        assert!(CLASSES.contains(&events[0]["label"].as_str().expect("label")));
        assert_eq!(out["predictions"][0]["segments"], json!([]));
    }

    #[test]
    fn the_gated_copy_is_a_second_model_with_the_same_numbers() {
        let a = audio((0..8000).map(|i| ((i % 40) as f32 / 40.0) - 0.5).collect());
        let plain = StandInClassifier::new();
        let two = StandInClassifier::new().with_gated_copy();
        let (one, both) = (
            plain.predict(&a, "x.wav", None).expect("ok"),
            two.predict(&a, "x.wav", None).expect("ok"),
        );
        let predictions = both["predictions"].as_array().expect("array");
        assert_eq!(predictions.len(), 2);
        assert_eq!(predictions[0], one["predictions"][0]);
        assert_eq!(predictions[1]["model"], "stand-in-gated");
        assert_eq!(predictions[1]["gated_by"], "stand-in-gate");
        assert_eq!(
            predictions[1]["probabilities"],
            predictions[0]["probabilities"]
        );
        let names: Vec<Value> = two.models().iter().map(|m| m["name"].clone()).collect();
        assert_eq!(names, [json!("stand-in"), json!("stand-in-gated")]);
        assert!(plain.models()[0].get("gated_by").is_none());
    }

    #[test]
    fn windows_cover_the_recording() {
        assert_eq!(windows(5.0), vec![(0.0, 2.0), (2.0, 4.0), (4.0, 5.0)]);
        assert_eq!(windows(0.05), vec![(0.0, 0.05)]);
        assert_eq!(windows(4.0), vec![(0.0, 2.0), (2.0, 4.0)]);
    }
}

//! Two-stage ("gated") scoring for [`evaluate_run`](crate::evaluate_run):
//! a binary Normal-vs-abnormal model (e.g. task 1-1) decides how likely a
//! unit is Normal, and the scored model (e.g. task 1-2) decides which
//! abnormal class it is.
//!
//! With `g` the gate's probability of Normal and `p` the scored model's
//! probabilities, the combined row is `Normal: g` and, for every abnormal
//! class `c`, `(1 − g) · p_c / Σ_abnormal p` (uniform over the abnormal
//! classes when the scored model gives them no mass). Rows still sum to 1,
//! so every metric (argmax, ROC) reads them as usual. The prediction is the
//! row's argmax: a unit the gate calls Normal (`g ≥ 0.5`) stays Normal, and
//! one it calls abnormal becomes Normal only when no abnormal class gets
//! more than `g`. Nothing is fitted: the combination has no parameter to
//! tune on the validation data.

use std::collections::HashMap;
use std::path::Path;

use lungsound_datasets::Recording;

use crate::config::ExperimentConfig;
use crate::data::{FeatureSet, build_feature_set, require_clips};
use crate::ensemble::RunNetworks;
use crate::error::{Error, Result};
use crate::options::{EvalSplit, EvaluateOptions};
use crate::scoring::unit_probabilities;

/// Checks that the run in `gate_dir` can gate a model of `scored`: same
/// dataset, a two-class task whose class 0 is Normal, and one that the
/// scored model's classes fold into (1-1 for 1-2 or cycles4).
pub(crate) fn load_gate_config(
    gate_dir: &Path,
    scored: &ExperimentConfig,
) -> Result<ExperimentConfig> {
    if !gate_dir.is_dir() {
        return Err(Error::run_dir(
            gate_dir,
            "the gate run directory does not exist",
        ));
    }
    let gate = ExperimentConfig::load(gate_dir)?;
    check_gate_fits(gate_dir, &gate, scored)?;
    Ok(gate)
}

/// The task check of [`load_gate_config`] for an already loaded `gate` config.
pub(crate) fn check_gate_fits(
    gate_dir: &Path,
    gate: &ExperimentConfig,
    scored: &ExperimentConfig,
) -> Result<()> {
    let fits = gate.dataset == scored.dataset
        && gate.task.n_classes() == 2
        && gate.task != scored.task
        && scored.task.class_map_to(gate.task).is_some();
    if fits {
        return Ok(());
    }
    Err(Error::InvalidConfig(format!(
        "{} (task {} on {}) cannot gate a task {} model on {}: a gate is a Normal-vs-abnormal model \
         of the same dataset whose task the scored model's classes fold into (a 1-1 model for a 1-2 \
         or cycles4 model)",
        gate_dir.display(),
        gate.task,
        gate.dataset,
        scored.task,
        scored.dataset
    )))
}

/// For an evaluation on the run's own training or validation split: the
/// gate must have held out the same validation patients, or it may have
/// trained on the recordings being scored.
fn check_same_split(
    gate_dir: &Path,
    gate: &ExperimentConfig,
    scored: &ExperimentConfig,
) -> Result<()> {
    if gate.split.val_patients == scored.split.val_patients {
        return Ok(());
    }
    Err(Error::InvalidConfig(format!(
        "{} held out other validation patients than the scored model (split seed {} / val_fraction {} vs \
         seed {} / {}): on the training folder's train or val split it may have trained on the recordings \
         scored; use a gate trained with the same split, or evaluate another folder (--split all)",
        gate_dir.display(),
        gate.split.seed,
        gate.split.val_fraction,
        scored.split.seed,
        scored.split.val_fraction
    )))
}

/// The gate's probability of Normal for every unit of `set` (matched by
/// record and event index), computed on the gate's own features: `set`
/// itself when the gate was trained on the same features as the scored
/// model (`scored`), else a set built for the gate.
pub(crate) fn gate_normal_probabilities(
    gate_dir: &Path,
    gate: &ExperimentConfig,
    scored: &ExperimentConfig,
    recordings: &[&Recording],
    set: &FeatureSet,
    options: &EvaluateOptions,
) -> Result<Vec<f32>> {
    let own_set;
    let gate_set = if gate.features == scored.features {
        set
    } else {
        own_set = build_feature_set(recordings, &gate.features, gate.task, &options.cache, None)?.0;
        require_clips(&own_set, "gate evaluation")?;
        &own_set
    };
    let networks = RunNetworks::load(gate_dir, gate, options.device)?;
    let clip_probs =
        networks.clip_probabilities(gate_set, &gate.features, options.batch_size, |features| {
            Ok(build_feature_set(recordings, features, gate.task, &options.cache, None)?.0)
        })?;
    let probs = unit_probabilities(gate_set, &clip_probs);
    let normal = gate.task.normal_class();
    let by_unit: HashMap<(&str, Option<usize>), f32> = gate_set
        .units
        .iter()
        .zip(&probs)
        .map(|(u, p)| ((u.record.as_str(), u.event_index), p[normal]))
        .collect();
    set.units
        .iter()
        .map(|u| {
            by_unit
                .get(&(u.record.as_str(), u.event_index))
                .copied()
                .ok_or_else(|| {
                    Error::InvalidConfig(format!(
                        "the gate {} has no prediction for {}{} (its features leave that unit out, \
                         e.g. a different max_event_seconds)",
                        gate_dir.display(),
                        u.record,
                        u.event_index
                            .map_or(String::new(), |i| format!(" event {i}"))
                    ))
                })
        })
        .collect()
}

/// Combines the scored model's rows `probs` with the gate's probabilities
/// of Normal (see the module docs).
pub(crate) fn gated(probs: &[Vec<f32>], p_normal: &[f32], normal_class: usize) -> Vec<Vec<f32>> {
    probs
        .iter()
        .zip(p_normal)
        .map(|(row, &g)| {
            let g = f64::from(g).clamp(0.0, 1.0);
            let abnormal: f64 = row
                .iter()
                .enumerate()
                .filter(|&(c, _)| c != normal_class)
                .map(|(_, &p)| f64::from(p))
                .sum();
            let n_abnormal = row.len().saturating_sub(1).max(1) as f64;
            row.iter()
                .enumerate()
                .map(|(c, &p)| {
                    let v = if c == normal_class {
                        g
                    } else if abnormal > 0.0 {
                        (1.0 - g) * f64::from(p) / abnormal
                    } else {
                        (1.0 - g) / n_abnormal
                    };
                    v as f32
                })
                .collect()
        })
        .collect()
}

/// Gates `probs` (rows of the scored model's classes for `set`'s units)
/// with the run in `gate_dir`.
pub(crate) fn apply_gate(
    gate_dir: &Path,
    scored: &ExperimentConfig,
    recordings: &[&Recording],
    set: &FeatureSet,
    probs: &[Vec<f32>],
    options: &EvaluateOptions,
) -> Result<Vec<Vec<f32>>> {
    let gate = load_gate_config(gate_dir, scored)?;
    if matches!(options.split, EvalSplit::Train | EvalSplit::Val) {
        check_same_split(gate_dir, &gate, scored)?;
    }
    let p_normal = gate_normal_probabilities(gate_dir, &gate, scored, recordings, set, options)?;
    Ok(gated(probs, &p_normal, scored.task.normal_class()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_sets_normal_and_keeps_the_abnormal_proportions() {
        let probs = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.1, 0.3, 0.6],
            vec![1.0, 0.0, 0.0],
        ];
        let out = gated(&probs, &[0.2, 0.9, 0.4], 0);
        for row in &out {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{row:?}");
        }
        // Row 0: abnormal mass 0.3 split 2:1 over the 0.8 the gate leaves.
        assert!((out[0][0] - 0.2).abs() < 1e-6);
        assert!((out[0][1] - 0.8 * 2.0 / 3.0).abs() < 1e-6);
        assert!((out[0][2] - 0.8 / 3.0).abs() < 1e-6);
        // The gate overrules the scored model's own Normal probability.
        assert!((out[1][0] - 0.9).abs() < 1e-6);
        assert!((out[1][2] / out[1][1] - 2.0).abs() < 1e-5);
        // No abnormal mass at all: the gate's share is spread evenly.
        assert!((out[2][1] - 0.3).abs() < 1e-6 && (out[2][2] - 0.3).abs() < 1e-6);
    }

    #[test]
    fn the_normal_class_need_not_be_first() {
        let out = gated(&[vec![0.25, 0.5, 0.25]], &[0.6], 1);
        assert!((out[0][1] - 0.6).abs() < 1e-6);
        assert!((out[0][0] - 0.2).abs() < 1e-6 && (out[0][2] - 0.2).abs() < 1e-6);
    }
}

//! A network on a [`FeatureSet`]: loading a run's network, clip and unit
//! probabilities, and the metrics of a set's units.
//!
//! A unit's (event's or record's) probabilities are the mean of its clips'
//! softmax outputs; its prediction is their argmax.

use std::path::Path;

use lungsound_datasets::Task;
use lungsound_eval::Metrics;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use crate::config::ExperimentConfig;
use crate::data::FeatureSet;
use crate::data::batch::InputPipeline;
use crate::error::{Error, Result};
use crate::network::Network;

/// File name of the selected weights inside a run directory.
pub const MODEL_FILE: &str = "model.safetensors";

/// Softmax probabilities `[n_clips][n_classes]` of every clip of `set`.
pub fn clip_probabilities(
    net: &Network,
    pipeline: &InputPipeline,
    set: &FeatureSet,
    batch_size: usize,
) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(0); // unused: no transforms at evaluation
    let indices: Vec<usize> = (0..set.len()).collect();
    let mut out = Vec::with_capacity(set.len());
    tch::no_grad(|| {
        for idx in indices.chunks(batch_size.max(1)) {
            let x = pipeline.inputs(set, idx, &[], &mut rng);
            out.extend(probabilities(net, &x));
        }
    });
    out
}

/// Softmax rows of the network's output for inputs `x` (eval mode, no grad).
pub fn probabilities(net: &Network, x: &Tensor) -> Vec<Vec<f32>> {
    let p = tch::no_grad(|| net.forward(x, false).softmax(-1, Kind::Float))
        .to_device(Device::Cpu)
        .contiguous();
    let n_classes = p.size().get(1).copied().unwrap_or(1).max(1) as usize;
    let flat = Vec::<f32>::try_from(&p.flatten(0, -1)).unwrap_or_default();
    flat.chunks_exact(n_classes).map(<[f32]>::to_vec).collect()
}

/// Mean of clip probabilities per unit (f64 sums, then f32).
pub fn unit_probabilities(set: &FeatureSet, clip_probs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let n_classes = clip_probs.first().map_or(0, Vec::len);
    let mut sums = vec![vec![0f64; n_classes]; set.units.len()];
    let mut counts = vec![0usize; set.units.len()];
    for (clip, p) in set.clips.iter().zip(clip_probs) {
        counts[clip.unit] += 1;
        for (s, &v) in sums[clip.unit].iter_mut().zip(p) {
            *s += f64::from(v);
        }
    }
    sums.into_iter()
        .zip(counts)
        .map(|(s, n)| {
            s.into_iter()
                .map(|v| (v / n.max(1) as f64) as f32)
                .collect()
        })
        .collect()
}

/// Metrics and loss of a network on the units of a set.
#[derive(Debug, Clone)]
pub struct UnitScores {
    /// The units' metrics.
    pub metrics: Metrics,
    /// Class-weighted negative log-likelihood of the unit probabilities.
    pub loss: f64,
}

/// Scores `net` on `set`'s units.
pub fn score_units(
    net: &Network,
    pipeline: &InputPipeline,
    set: &FeatureSet,
    task: Task,
    class_weights: &[f32],
    batch_size: usize,
) -> Result<UnitScores> {
    let probs = unit_probabilities(set, &clip_probabilities(net, pipeline, set, batch_size));
    let labels: Vec<usize> = set.units.iter().map(|u| u.label).collect();
    let (mut num, mut den) = (0f64, 0f64);
    for (p, &y) in probs.iter().zip(&labels) {
        let w = f64::from(class_weights[y]);
        num += w * -(f64::from(p[y]).max(1e-7)).ln();
        den += w;
    }
    let names = class_names(task);
    let metrics = lungsound_eval::evaluate(&labels, &probs, &names, task.normal_class())?;
    Ok(UnitScores {
        metrics,
        loss: if den > 0.0 { num / den } else { 0.0 },
    })
}

/// The class names of `task`, as owned strings.
pub fn class_names(task: Task) -> Vec<String> {
    task.class_names()
        .iter()
        .map(|s| (*s).to_string())
        .collect()
}

/// The network of a run (its `model.safetensors`) and its input pipeline.
pub fn load_network(
    run_dir: &Path,
    config: &ExperimentConfig,
    device: Device,
) -> Result<(Network, InputPipeline)> {
    let norm = config.normalization.as_ref().ok_or_else(|| {
        Error::run_dir(
            run_dir,
            "config.json lacks the input normalization (an unfinished run?)",
        )
    })?;
    let weights = run_dir.join(MODEL_FILE);
    if !weights.is_file() {
        return Err(Error::run_dir(
            run_dir,
            format!("no {MODEL_FILE} (has an epoch finished?)"),
        ));
    }
    let mut net = Network::new(&config.model_config()?, device)?;
    net.load(&weights)?;
    let shape = config.features.spectrogram_shape()?;
    let pipeline = InputPipeline::new(norm, shape, config.features.input_size, device);
    Ok((net, pipeline))
}

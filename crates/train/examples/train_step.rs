//! Training-step time of a lungsound model on random inputs (CPU), to compare
//! with PyTorch (`scripts/bench/train_step_vs_pytorch.py`, same models, sizes
//! and thread count).
//!
//! ```sh
//! cargo run --release -p lungsound-train --example train_step -- \
//!     --arch small-cnn --input 64x188 --batch 64 --threads 2 --steps 10
//! ```
//! One step = forward (train mode) + weighted cross-entropy + backward +
//! AdamW update, exactly as the training loop does. Prints the median and
//! mean milliseconds per step after 2 warm-up steps.

use std::time::Instant;

use lungsound_models::{Arch, ModelConfig};
use lungsound_train::config::{OptimizerConfig, OptimizerKind};
use lungsound_train::data::batch::{soft_targets, weighted_cross_entropy};
use lungsound_train::tch::{self, Device, Kind, Tensor};
use lungsound_train::{Network, Optimizer};

struct Args {
    arch: Arch,
    input: [i64; 2],
    batch: i64,
    threads: i32,
    steps: usize,
    width: f64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        arch: Arch::SmallCnn,
        input: [64, 188],
        batch: 64,
        threads: 2,
        steps: 10,
        width: 1.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--arch" => a.arch = value.parse().map_err(|e| bad(&e))?,
            "--input" => {
                let (h, w) = value.split_once('x').ok_or("--input HxW")?;
                a.input = [
                    h.parse().map_err(|e| bad(&e))?,
                    w.parse().map_err(|e| bad(&e))?,
                ];
            }
            "--batch" => a.batch = value.parse().map_err(|e| bad(&e))?,
            "--threads" => a.threads = value.parse().map_err(|e| bad(&e))?,
            "--steps" => a.steps = value.parse().map_err(|e| bad(&e))?,
            "--width" => a.width = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse()?;
    tch::set_num_threads(a.threads);
    tch::manual_seed(0);
    let config = ModelConfig {
        arch: a.arch,
        in_channels: 1,
        input: a.input,
        num_classes: 7,
        width_multiplier: a.width,
        ..ModelConfig::default()
    };
    let net = Network::new(&config, Device::Cpu)?;
    let mut opt = Optimizer::new(
        net.var_store(),
        &OptimizerConfig {
            kind: OptimizerKind::Adamw,
            ..OptimizerConfig::default()
        },
    );
    let x = Tensor::randn(
        [a.batch, 1, a.input[0], a.input[1]],
        (Kind::Float, Device::Cpu),
    );
    let labels: Vec<usize> = (0..a.batch as usize).map(|i| i % 7).collect();
    let targets = soft_targets(&labels, 7, 0.0, Device::Cpu);
    let weights = Tensor::ones([7], (Kind::Float, Device::Cpu));
    let mut times = Vec::new();
    for step in 0..a.steps + 2 {
        let t = Instant::now();
        opt.zero_grad();
        let loss = weighted_cross_entropy(&net.forward(&x, true), &targets, &weights);
        loss.backward();
        opt.step(1e-3);
        let _ = loss.double_value(&[]);
        if step >= 2 {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    println!(
        "rust/tch {} input {}x{} batch {} threads {} width {}: median {:.1} ms/step, mean {:.1} ms/step ({} params)",
        a.arch,
        a.input[0],
        a.input[1],
        a.batch,
        a.threads,
        a.width,
        times.get(times.len() / 2).copied().unwrap_or(0.0),
        mean,
        net.parameter_count()
    );
    Ok(())
}

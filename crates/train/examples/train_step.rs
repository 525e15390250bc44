//! Training-step time of a lungsound model on random inputs (CPU), to compare
//! with PyTorch (`scripts/bench/train_step_vs_pytorch.py`, same models, sizes
//! and thread count).
//!
//! ```sh
//! cargo run -p lungsound-train --example train_step -- \
//!     --arch small-cnn --input 64x126 --batch 64 --threads 2 --steps 10 \
//!     [--width 0.5] [--mode train|infer|both] [--json]
//! ```
//! One training step = forward (train mode) + weighted cross-entropy +
//! backward + AdamW update, exactly as the training loop does. One inference
//! batch = forward in eval mode under `no_grad`, as `Predictor` does. Prints
//! the median and mean milliseconds per step / batch after 2 warm-up
//! iterations of each; `--json` prints one JSON line with every timing
//! instead (for `scripts/bench/train_step.sh`). The dev profile is enough:
//! the work runs in libtorch. Besides wall time it records the CPU time of
//! every step (all threads of the process, from `/proc/self/task/*/schedstat`),
//! which on a busy machine says more about the work done than the wall time,
//! and the time of the optimizer update alone (`opt_ms` in the JSON).
//!
//! `--export DIR` first writes the fresh weights (`DIR/weights.safetensors`)
//! and one eval-mode forward pass (`DIR/io.safetensors`: `input`, `logits`)
//! so that the PyTorch replica can check it computes the same function
//! (`train_step_vs_pytorch.py --check-against DIR`).

use std::time::Instant;

use lungsound_infer::Network;
use lungsound_infer::config::{OptimizerConfig, OptimizerKind};
use lungsound_infer::data::batch::{soft_targets, weighted_cross_entropy};
use lungsound_infer::tch::{self, Device, Kind, Tensor};
use lungsound_models::{Arch, ModelConfig};
use lungsound_train::Optimizer;

struct Args {
    arch: Arch,
    input: [i64; 2],
    batch: i64,
    threads: i32,
    steps: usize,
    width: f64,
    train: bool,
    infer: bool,
    json: bool,
    export: Option<std::path::PathBuf>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        arch: Arch::SmallCnn,
        input: [64, 188],
        batch: 64,
        threads: 2,
        steps: 10,
        width: 1.0,
        train: true,
        infer: false,
        json: false,
        export: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--json" {
            a.json = true;
            continue;
        }
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
            "--export" => a.export = Some(value.into()),
            "--mode" => {
                (a.train, a.infer) = match value.as_str() {
                    "train" => (true, false),
                    "infer" => (false, true),
                    "both" => (true, true),
                    _ => return Err(format!("--mode {value}: expected train, infer or both")),
                }
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

/// CPU time of all threads of this process in seconds, from
/// `/proc/self/task/*/schedstat` (nanoseconds on the CPU); 0 where unavailable.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let ns: u64 = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 * 1e-9
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
    if let Some(dir) = &a.export {
        std::fs::create_dir_all(dir)?;
        net.save(&dir.join("weights.safetensors"))?;
        let logits = tch::no_grad(|| net.forward(&x, false));
        Tensor::write_safetensors(
            &[("input", &x), ("logits", &logits)],
            dir.join("io.safetensors"),
        )?;
    }
    let (mut train_ms, mut train_cpu_ms, mut opt_ms) = (Vec::new(), Vec::new(), Vec::new());
    if a.train {
        for step in 0..a.steps + 2 {
            let (t, c) = (Instant::now(), cpu_seconds());
            opt.zero_grad();
            let loss = weighted_cross_entropy(&net.forward(&x, true), &targets, &weights);
            loss.backward();
            let t_opt = Instant::now();
            opt.step(1e-3);
            let t_opt = t_opt.elapsed().as_secs_f64() * 1e3;
            let _ = loss.double_value(&[]);
            if step >= 2 {
                opt_ms.push(t_opt);
                train_ms.push(t.elapsed().as_secs_f64() * 1e3);
                train_cpu_ms.push((cpu_seconds() - c) * 1e3);
            }
        }
    }
    let (mut infer_ms, mut infer_cpu_ms) = (Vec::new(), Vec::new());
    if a.infer {
        for step in 0..a.steps + 2 {
            let (t, c) = (Instant::now(), cpu_seconds());
            let logits = tch::no_grad(|| net.forward(&x, false));
            let _ = logits.double_value(&[0, 0]);
            if step >= 2 {
                infer_ms.push(t.elapsed().as_secs_f64() * 1e3);
                infer_cpu_ms.push((cpu_seconds() - c) * 1e3);
            }
        }
    }
    let what = format!(
        "{} input {}x{} batch {} threads {} width {}",
        a.arch, a.input[0], a.input[1], a.batch, a.threads, a.width
    );
    if a.json {
        let list = |v: &[f64]| {
            v.iter()
                .map(|t| format!("{t:.3}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "{{\"impl\":\"lungsound\",\"what\":\"{what}\",\"params\":{},\"threads\":{},\"train_ms\":[{}],\"infer_ms\":[{}],\"train_cpu_ms\":[{}],\"infer_cpu_ms\":[{}],\"opt_ms\":[{}]}}",
            net.parameter_count(),
            tch::get_num_threads(),
            list(&train_ms),
            list(&infer_ms),
            list(&train_cpu_ms),
            list(&infer_cpu_ms),
            list(&opt_ms)
        );
        return Ok(());
    }
    println!("rust/tch {what}: {} params", net.parameter_count());
    for (name, times, cpu) in [
        ("train step", &mut train_ms, &mut train_cpu_ms),
        ("inference batch", &mut infer_ms, &mut infer_cpu_ms),
    ] {
        if times.is_empty() {
            continue;
        }
        times.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!(
            "  {name}: median {:.1} ms, mean {:.1} ms, median CPU {:.1} ms ({} timed)",
            times[times.len() / 2],
            mean,
            cpu[cpu.len() / 2],
            times.len()
        );
    }
    Ok(())
}

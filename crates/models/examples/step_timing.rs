//! Time one training step (forward + backward + Adam) on the CPU.
//!
//! ```text
//! cargo run -p lungsound-models --example step_timing -- [ARCH] [BATCH] [HEIGHT] [WIDTH] [STEPS] [THREADS]
//! ```
//! Defaults: `small-cnn 32 128 128 5`, libtorch's thread count. Prints the parameter count, the median
//! step time and an epoch estimate for 10,000 spectrograms. libtorch uses as
//! many threads as `tch::get_num_threads()` reports (all cores by default).
//! It also prints the process CPU time per step, which on a busy machine says
//! more than the wall time. The dev profile is enough: libtorch does the work.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use lungsound_models::{Arch, ModelConfig, build, parameter_count};
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: i64| args.get(i).map_or(default, |s| s.parse().unwrap());
    let arch: Arch = args
        .first()
        .map_or(Ok(Arch::SmallCnn), |s| s.parse())
        .unwrap();
    let (batch, height, width, steps) = (arg(1, 32), arg(2, 128), arg(3, 128), arg(4, 5) as usize);
    if let Some(threads) = args.get(5) {
        tch::set_num_threads(threads.parse().unwrap());
    }
    let in_channels = if arch == Arch::DualNet { 2 } else { 1 };
    let config = ModelConfig {
        arch,
        in_channels,
        input: [height, width],
        ..Default::default()
    };

    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = build(&vs.root(), &config).unwrap();
    let mut opt = nn::Adam::default().build(&vs, 1e-3).unwrap();
    let xs = Tensor::randn(
        [batch, in_channels, height, width],
        (Kind::Float, Device::Cpu),
    );
    let ys = Tensor::randint(config.num_classes, [batch], (Kind::Int64, Device::Cpu));

    let mut times = Vec::new();
    let mut cpu_start = None;
    for step in 0..=steps {
        if step == 1 {
            cpu_start = cpu_seconds();
        }
        let start = Instant::now();
        let loss = model.forward_t(&xs, true).cross_entropy_for_logits(&ys);
        opt.backward_step(&loss);
        let elapsed = start.elapsed().as_secs_f64();
        if step > 0 {
            times.push(elapsed); // step 0 warms up the allocator and oneDNN
        }
    }
    let cpu_per_step = cpu_start
        .zip(cpu_seconds())
        .map(|(a, b)| (b - a) / steps as f64);
    let forward = {
        let start = Instant::now();
        let _logits = tch::no_grad(|| model.forward_t(&xs, false));
        start.elapsed().as_secs_f64()
    };
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{arch}: {} parameters; batch {batch} of [{in_channels}, {height}, {width}] on {} threads: \
         train step {:.0} ms (median of {steps}; {} ms of CPU time), eval forward {:.0} ms; \
         10,000 spectrograms/epoch ≈ {:.1} min",
        parameter_count(&vs),
        tch::get_num_threads(),
        median * 1e3,
        cpu_per_step.map_or("?".to_string(), |s| format!("{:.0}", s * 1e3)),
        forward * 1e3,
        median * (10_000.0 / batch as f64) / 60.0,
    );
}

/// User + system CPU time of this process (Linux `/proc/self/stat`, at the
/// usual 100 ticks per second), or `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

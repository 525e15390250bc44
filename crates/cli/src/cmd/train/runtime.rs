//! What `train`, `evaluate` and `predict` share: the device and thread
//! choice (made here, in the binary, and passed to the libraries), the
//! recorded command line, and problem counting.

use lungsound_datasets::{Issue, Severity};
use lungsound_infer::tch::{self, Device};

/// `--device` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// The CPU.
    Cpu,
    /// The first CUDA GPU.
    Cuda,
}

/// The device: as asked, or CUDA when available, else the CPU.
pub fn device(arg: Option<DeviceArg>) -> anyhow::Result<Device> {
    match arg {
        Some(DeviceArg::Cpu) => Ok(Device::Cpu),
        Some(DeviceArg::Cuda) if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        Some(DeviceArg::Cuda) => {
            anyhow::bail!("--device cuda: no CUDA device is available (libtorch sees none)")
        }
        None => Ok(Device::cuda_if_available()),
    }
}

/// The feature cache `--cache-dir DIR` / `--no-cache` ask for, `default_dir` when neither
/// is given (train, evaluate and cv share these flags).
pub fn feature_cache(
    cache_dir: Option<&std::path::Path>,
    no_cache: bool,
    default_dir: std::path::PathBuf,
) -> lungsound_infer::FeatureCache {
    match (cache_dir, no_cache) {
        (_, true) => lungsound_infer::FeatureCache::disabled(),
        (Some(dir), false) => lungsound_infer::FeatureCache::new(dir),
        (None, false) => lungsound_infer::FeatureCache::new(default_dir),
    }
}

/// A device as users name it: `CPU`, `CUDA GPU 0`.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "CPU".to_string(),
        Device::Cuda(i) => format!("CUDA GPU {i}"),
        Device::Mps => "Apple GPU (MPS)".to_string(),
        Device::Vulkan => "Vulkan GPU".to_string(),
    }
}

/// `n word` with an English plural `s` when `n != 1`: `1 epoch`, `30 epochs`.
pub fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `--threads N`: libtorch's intra-op threads and rayon's pool (features).
pub fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        tch::set_num_threads(n as i32);
        tch::set_num_interop_threads(n as i32);
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("--threads {n}: {e}"))?;
    }
    Ok(())
}

/// The command line as typed (arguments shell-quoted where needed).
pub fn command_line() -> String {
    let quote = |a: String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
        {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let mut args = std::env::args();
    let program = args
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "lungsound".into());
    std::iter::once(program)
        .chain(args.map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Issues that skipped or degraded an input (warnings and errors).
pub fn count_problems(issues: &[Issue]) -> usize {
    issues
        .iter()
        .filter(|i| i.severity >= Severity::Warning)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_read_cpu_and_plurals() {
        assert_eq!(device_name(Device::Cpu), "CPU");
        assert_eq!(device_name(Device::Cuda(1)), "CUDA GPU 1");
        assert_eq!(count(1, "epoch"), "1 epoch");
        assert_eq!(count(30, "epoch"), "30 epochs");
        assert_eq!(count(0, "patient"), "0 patients");
    }
}

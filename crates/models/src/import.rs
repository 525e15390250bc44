//! Pretrained weights: [`load_pretrained`] copies tensors from a PyTorch
//! `state_dict`, a safetensors file or a tch var-store file into a model's
//! var store, by name, and says what it did in an [`ImportReport`].
//!
//! Formats, chosen by extension:
//! - `.pt`, `.pth`, `.bin`: `torch.save(model.state_dict(), path)`, both the
//!   zip format (torch ≥ 1.6) and the legacy one that torchvision's older
//!   checkpoints use, read by this crate's own reader (libtorch's cannot
//!   rebuild a state_dict's `OrderedDict`), with libtorch's as a fallback.
//!   Training checkpoints that nest the state_dict (`{"epoch": …,
//!   "state_dict": {…}}`) work too. A pickled whole `nn.Module`
//!   (`torch.save(model)`) yields no tensors: save its `state_dict()`.
//! - `.safetensors`: e.g. from `safetensors.torch.save_file` or
//!   `VarStore::save("….safetensors")`.
//! - anything else: libtorch's archive format as `VarStore::save` writes it
//!   for other extensions (e.g. `.ot`, tch-rs' published weights).
//!
//! ONNX files are not read (libtorch has no ONNX importer; convert to a
//! state_dict in Python).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use tch::nn::VarStore;
use tch::{Device, Tensor};

use crate::config::ModelConfig;
use crate::dual::BRANCHES;
use crate::error::Error;
use crate::model::input_conv_names;
use crate::torch_file;

/// How a first convolution's kernel was adapted to a different input-channel count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelAdaptation {
    /// Summed over the checkpoint's input channels (to 1 channel): the model
    /// then answers a one-channel input `x` as the original answered `x`
    /// repeated on every channel (a grey image as RGB).
    Sum,
    /// Repeated cyclically over the model's channels and scaled by
    /// `from / to`, so that the same input on every channel keeps its
    /// activation scale (timm's `adapt_input_conv`).
    RepeatScaled,
}

/// A first-convolution kernel loaded with a different input-channel count.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptedTensor {
    /// Variable name in the model.
    pub name: String,
    /// Input channels in the checkpoint.
    pub from_channels: i64,
    /// Input channels in the model.
    pub to_channels: i64,
    /// How.
    pub method: ChannelAdaptation,
}

/// A checkpoint tensor not loaded because its shape differs from the
/// model's (typically the classifier head, sized for other classes).
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedTensor {
    /// Variable name in the model.
    pub name: String,
    /// Shape in the checkpoint.
    pub checkpoint_shape: Vec<i64>,
    /// Shape in the model (which keeps its fresh initialisation).
    pub model_shape: Vec<i64>,
}

/// What [`load_pretrained`] did, tensor by tensor. Name lists are sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportReport {
    /// The weights file.
    pub path: PathBuf,
    /// Model variables that received checkpoint values (including `adapted`).
    pub loaded: Vec<String>,
    /// Of `loaded`, the first convolutions whose input channels were adapted.
    pub adapted: Vec<AdaptedTensor>,
    /// Model variables whose checkpoint tensor has another shape: left as
    /// initialised (the new classifier head, for instance).
    pub skipped: Vec<SkippedTensor>,
    /// Model variables the checkpoint lacks: left as initialised.
    pub missing: Vec<String>,
    /// Checkpoint tensors no model variable matched (e.g. Inception's
    /// `AuxLogits.*`). BN `num_batches_tracked` counters are left out of
    /// this list: tch does not keep them.
    pub unused: Vec<String>,
}

impl ImportReport {
    /// True when every model variable was loaded except those of the
    /// classifier head (`fc`, `classifier`), which were skipped or missing:
    /// the normal outcome of fine-tuning on new classes.
    pub fn only_head_differs(&self) -> bool {
        let is_head = |name: &str| name.starts_with("fc.") || name.starts_with("classifier.");
        self.skipped.iter().all(|s| is_head(&s.name)) && self.missing.iter().all(|m| is_head(m))
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: loaded {} tensors",
            self.path.display(),
            self.loaded.len()
        )?;
        for a in &self.adapted {
            let how = match a.method {
                ChannelAdaptation::Sum => "summed",
                ChannelAdaptation::RepeatScaled => "repeated and scaled",
            };
            write!(
                f,
                "; {} adapted from {} to {} input channels ({how})",
                a.name, a.from_channels, a.to_channels
            )?;
        }
        if !self.skipped.is_empty() {
            let list: Vec<String> = self
                .skipped
                .iter()
                .map(|s| {
                    format!(
                        "{} {:?} vs model {:?}",
                        s.name, s.checkpoint_shape, s.model_shape
                    )
                })
                .collect();
            write!(f, "; skipped (shape differs): {}", list.join(", "))?;
        }
        if !self.missing.is_empty() {
            write!(
                f,
                "; missing from file (left initialised): {}",
                self.missing.join(", ")
            )?;
        }
        if !self.unused.is_empty() {
            write!(f, "; unused from file: {} tensors", self.unused.len())?;
        }
        Ok(())
    }
}

/// Reads every named tensor of a weights file (see the module docs for formats).
pub fn read_weights(path: &Path) -> Result<Vec<(String, Tensor)>, Error> {
    let read_error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("safetensors") => Tensor::read_safetensors(path).map_err(read_error),
        Some("pt" | "pth" | "bin") => {
            let bytes = std::fs::read(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            // Our reader first (libtorch's rejects state_dicts, see torch_file);
            // libtorch's as a fallback for what ours does not know.
            torch_file::read(&bytes).or_else(|message| {
                Tensor::loadz_multi_with_device(path, Device::Cpu).map_err(|_| Error::Weights {
                    path: path.to_path_buf(),
                    message,
                })
            })
        }
        _ => Tensor::load_multi_with_device(path, Device::Cpu).map_err(read_error),
    }
}

/// Copies pretrained weights from `path` into `vs`, matching names.
///
/// `vs` must hold a model built by [`build`](crate::build) from `config`
/// under `vs.root()`. For each model variable:
/// - the checkpoint tensor of the same name is used (a leading `module.`,
///   left by `DataParallel`, is ignored); for `dualnet`, a variable
///   `branch_a.X` / `branch_b.X` also takes the checkpoint's `X`, so one
///   single-backbone checkpoint initialises both branches;
/// - same shape: copied (converted to the variable's dtype and device);
/// - the first convolution with another input-channel count: adapted (see
///   [`ChannelAdaptation`]) and copied;
/// - another shape (a head for other classes): skipped, the variable keeps
///   its initialisation;
/// - absent: reported missing.
///
/// # Errors
/// [`Error::Read`] if the file cannot be read, [`Error::Weights`] if no
/// tensor at all matched (wrong architecture, say) or a copy fails.
pub fn load_pretrained(
    vs: &mut VarStore,
    path: &Path,
    config: &ModelConfig,
) -> Result<ImportReport, Error> {
    let checkpoint: HashMap<String, Tensor> = read_weights(path)?
        .into_iter()
        .filter(|(name, _)| !name.ends_with("num_batches_tracked"))
        .map(|(name, t)| (name.strip_prefix("module.").unwrap_or(&name).to_string(), t))
        .collect();
    let input_convs: HashSet<String> = input_conv_names(config).into_iter().collect();
    let weights_error = |message: String| Error::Weights {
        path: path.to_path_buf(),
        message,
    };

    let mut report = ImportReport {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let mut used = HashSet::new();
    let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, var) in variables {
        let Some((key, src)) = lookup(&checkpoint, &name) else {
            report.missing.push(name);
            continue;
        };
        used.insert(key.to_string());
        let (src_shape, var_shape) = (src.size(), var.size());
        let src = if src_shape == var_shape {
            src.shallow_clone()
        } else if let Some(adapted) = input_convs
            .contains(&name)
            .then(|| adapt_input_channels(src, &var_shape))
            .flatten()
        {
            report.adapted.push(AdaptedTensor {
                name: name.clone(),
                from_channels: src_shape[1],
                to_channels: var_shape[1],
                method: adapted.1,
            });
            adapted.0
        } else {
            report.skipped.push(SkippedTensor {
                name,
                checkpoint_shape: src_shape,
                model_shape: var_shape,
            });
            continue;
        };
        let mut var = var;
        tch::no_grad(|| {
            let src = src.f_to_kind(var.kind())?.f_to_device(var.device())?;
            var.f_copy_(&src)
        })
        .map_err(|e| weights_error(format!("cannot copy tensor {key:?} into {name:?}: {e}")))?;
        report.loaded.push(name);
    }
    if report.loaded.is_empty() {
        let mut some: Vec<&String> = checkpoint.keys().collect();
        some.sort();
        some.truncate(5);
        return Err(weights_error(format!(
            "no tensor matches a {} model (the file has e.g. {some:?}); is it for another architecture?",
            config.arch
        )));
    }
    report.unused = checkpoint
        .keys()
        .filter(|k| !used.contains(*k))
        .cloned()
        .collect();
    report.unused.sort();
    report.adapted.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(report)
}

/// The checkpoint tensor for model variable `name`: the same name, or for a
/// `dualnet` branch variable the name without the branch.
fn lookup<'a>(
    checkpoint: &'a HashMap<String, Tensor>,
    name: &'a str,
) -> Option<(&'a str, &'a Tensor)> {
    if let Some(t) = checkpoint.get(name) {
        return Some((name, t));
    }
    let rest = BRANCHES
        .iter()
        .find_map(|b| name.strip_prefix(b)?.strip_prefix('.'))?;
    checkpoint.get(rest).map(|t| (rest, t))
}

/// Adapts a `[out, c_src, kh, kw]` kernel to `target = [out, c_dst, kh, kw]`;
/// `None` if the shapes differ in anything but the input channels.
fn adapt_input_channels(src: &Tensor, target: &[i64]) -> Option<(Tensor, ChannelAdaptation)> {
    let shape = src.size();
    let same_but_channels = shape.len() == 4
        && target.len() == 4
        && shape[0] == target[0]
        && shape[2..] == target[2..]
        && shape[1] != target[1];
    if !same_but_channels {
        return None;
    }
    let (from, to) = (shape[1], target[1]);
    if to == 1 {
        return Some((
            src.sum_dim_intlist(1, true, src.kind()),
            ChannelAdaptation::Sum,
        ));
    }
    let repeats = (to + from - 1) / from;
    let tiled = src.repeat([1, repeats, 1, 1]).narrow(1, 0, to) * (from as f64 / to as f64);
    Some((tiled, ChannelAdaptation::RepeatScaled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn summed_kernel_sees_grey_as_rgb() {
        let w = Tensor::randn([4, 3, 3, 3], (Kind::Float, Device::Cpu));
        let (w1, how) = adapt_input_channels(&w, &[4, 1, 3, 3]).unwrap();
        assert_eq!(how, ChannelAdaptation::Sum);
        let x = Tensor::randn([1, 1, 5, 5], (Kind::Float, Device::Cpu));
        let rgb = x
            .repeat([1, 3, 1, 1])
            .conv2d(&w, None::<Tensor>, [1, 1], [0, 0], [1, 1], 1);
        let grey = x.conv2d(&w1, None::<Tensor>, [1, 1], [0, 0], [1, 1], 1);
        assert!(rgb.allclose(&grey, 1e-5, 1e-5, false));
    }

    #[test]
    fn repeated_kernel_keeps_scale_and_rejects_other_mismatches() {
        let w = Tensor::ones([2, 3, 1, 1], (Kind::Float, Device::Cpu));
        let (w4, how) = adapt_input_channels(&w, &[2, 4, 1, 1]).unwrap();
        assert_eq!(how, ChannelAdaptation::RepeatScaled);
        assert_eq!(w4.size(), [2, 4, 1, 1]);
        // Same input on every channel: sum of weights 3 before and after.
        let sum = w4.sum(Kind::Float).double_value(&[]);
        assert!((sum - 6.0).abs() < 1e-6, "{sum}");
        assert!(adapt_input_channels(&w, &[3, 1, 1, 1]).is_none());
        assert!(adapt_input_channels(&w, &[2, 3, 1, 1]).is_none());
    }

    #[test]
    fn dual_branches_fall_back_to_plain_names() {
        let t = Tensor::zeros([1], (Kind::Float, Device::Cpu));
        let ckpt = HashMap::from([("conv1.weight".to_string(), t)]);
        assert_eq!(
            lookup(&ckpt, "branch_b.conv1.weight").map(|x| x.0),
            Some("conv1.weight")
        );
        assert!(lookup(&ckpt, "other.conv1.weight").is_none());
    }
}

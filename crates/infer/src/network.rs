//! [`Network`]: a model from `lungsound-models` with its var store, plus
//! saving and loading of weights as safetensors (sorted names, CPU tensors,
//! written atomically) and the weight EMA.

use std::collections::BTreeMap;
use std::path::Path;

use tch::{Device, Tensor, nn::VarStore};

use crate::error::{Error, Result};

/// A built network: variables and forward pass.
pub struct Network {
    vs: VarStore,
    model: lungsound_models::Model,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("variables", &self.vs.len())
            .finish()
    }
}

impl Network {
    /// Builds `config` on `device` with fresh (seeded by the caller) weights.
    pub fn new(config: &lungsound_models::ModelConfig, device: Device) -> Result<Self> {
        let vs = VarStore::new(device);
        let model = lungsound_models::build(&vs.root(), config)?;
        Ok(Self { vs, model })
    }

    /// The variables.
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// Mutable variables (loading weights, freezing).
    pub fn var_store_mut(&mut self) -> &mut VarStore {
        &mut self.vs
    }

    /// Logits `[batch, n_classes]` of inputs `[batch, channels, height, width]`.
    /// A one-channel input is repeated to the model's `in_channels` (e.g.
    /// both `dualnet` branches see the same spectrogram).
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let channels = self.model.config().in_channels;
        if channels > 1 && x.size().get(1) == Some(&1) {
            let x = x.expand([-1, channels, -1, -1], false);
            return tch::nn::ModuleT::forward_t(&self.model, &x, train);
        }
        tch::nn::ModuleT::forward_t(&self.model, x, train)
    }

    /// Every variable in name order (parameters and buffers).
    pub fn named_variables(&self) -> Vec<(String, Tensor)> {
        let vars: BTreeMap<String, Tensor> = self.vs.variables().into_iter().collect();
        vars.into_iter().collect()
    }

    /// Number of scalar parameters (trainable or not, buffers excluded).
    pub fn parameter_count(&self) -> usize {
        lungsound_models::parameter_count(&self.vs)
    }

    /// Writes every variable to `path` (safetensors) atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_tensors(path, &self.named_variables())
    }

    /// Loads every variable from `path` (safetensors); a missing or
    /// mis-shaped tensor is an error naming the file.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let tensors: BTreeMap<String, Tensor> = Tensor::read_safetensors(path)
            .map_err(|e| Error::torch(format!("reading {}", path.display()), e))?
            .into_iter()
            .collect();
        self.load_from(&tensors, "", path)
    }

    /// Copies the variables from `tensors[prefix + name]`; `source` is named in errors.
    pub fn load_from(
        &mut self,
        tensors: &BTreeMap<String, Tensor>,
        prefix: &str,
        source: &Path,
    ) -> Result<()> {
        for (name, mut var) in self.named_variables() {
            let key = format!("{prefix}{name}");
            let src = tensors
                .get(&key)
                .ok_or_else(|| Error::run_dir(source, format!("weights lack tensor {key:?}")))?;
            if src.size() != var.size() {
                return Err(Error::run_dir(
                    source,
                    format!(
                        "tensor {key:?} has shape {:?}, the model expects {:?}",
                        src.size(),
                        var.size()
                    ),
                ));
            }
            tch::no_grad(|| var.f_copy_(src))
                .map_err(|e| Error::torch(format!("loading {key}"), e))?;
        }
        Ok(())
    }

    /// Loads pretrained weights (matching names; see
    /// `lungsound_models::load_pretrained`) and returns its report.
    pub fn load_pretrained(
        &mut self,
        path: &Path,
        config: &lungsound_models::ModelConfig,
    ) -> Result<lungsound_models::ImportReport> {
        Ok(lungsound_models::load_pretrained(
            &mut self.vs,
            path,
            config,
        )?)
    }

    /// Freezes every parameter before `layer` (see `lungsound_models::freeze_until`).
    pub fn freeze_until(&self, layer: &str) -> Result<Vec<String>> {
        Ok(lungsound_models::freeze_until(&self.vs, layer)?)
    }

    /// Copies every variable of `other` (same architecture) into `self`.
    pub fn copy_from(&mut self, other: &Network) -> Result<()> {
        self.vs
            .copy(&other.vs)
            .map_err(|e| Error::torch("copying weights", e))
    }
}

/// Writes named tensors to a safetensors file atomically (CPU copies, given order).
pub fn save_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let cpu: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.detach().to_device(Device::Cpu).contiguous()))
        .collect();
    let tmp = crate::fsutil::temp_path(path);
    Tensor::write_safetensors(&cpu, &tmp).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::torch(format!("writing {}", path.display()), e)
    })?;
    crate::fsutil::rename(&tmp, path)
}

//! [`build`]: a [`ModelConfig`] → a [`Model`] whose variables live in a var store.

use std::fmt;

use tch::Tensor;
use tch::nn::{self, ModuleT};

use crate::config::{Arch, ModelConfig};
use crate::error::Error;
use crate::{dual, inception, mobilenet_v3, resnet, resnet_v2, small_cnn, vgg};

/// A built network: spectrograms in, logits out.
///
/// It holds handles to its variables, which live in the [`nn::VarStore`]
/// that [`build`] was given; save, load, freeze and optimise through that.
/// `Model` is `Send` (as every [`ModuleT`]); it is not `Sync`.
pub struct Model {
    config: ModelConfig,
    net: nn::FuncT<'static>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ModuleT for Model {
    /// Logits for a batch of spectrograms. `train` switches dropout on and
    /// makes batch norm use (and update) batch statistics.
    ///
    /// # Shapes
    /// `[batch, in_channels, freq, time]` → `[batch, num_classes]`, for any
    /// `freq × time` of at least [`ModelConfig::min_input`]. libtorch panics
    /// on a wrong channel count; check with [`Model::check_input`] first
    /// when the shape comes from outside.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply_t(&self.net, train)
    }
}

impl Model {
    /// The configuration it was built from.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The architecture.
    pub fn arch(&self) -> Arch {
        self.config.arch
    }

    /// See [`ModelConfig::check_input`].
    pub fn check_input(&self, shape: &[i64]) -> Result<(), Error> {
        self.config.check_input(shape)
    }
}

/// Builds the network `config` describes, creating its variables under `vs`.
///
/// Build under `vs.root()` (of a fresh var store) so that variable names are
/// the architecture's own (torchvision's, for the torchvision models), which
/// is what [`load_pretrained`](crate::load_pretrained) matches. Variables are
/// created in forward order; [`freeze_until`](crate::freeze_until) relies on
/// that. The weights are randomly initialised from libtorch's generator
/// (seed it with `tch::manual_seed` for reproducible runs).
///
/// # Errors
/// [`Error::Config`] if `config` fails [`ModelConfig::validate`].
pub fn build(vs: &nn::Path, config: &ModelConfig) -> Result<Model, Error> {
    config.validate()?;
    let net = match config.arch {
        Arch::SmallCnn => small_cnn::build(vs, config),
        Arch::Vgg16 => vgg::build(vs, config, vgg::Depth::D16),
        Arch::Vgg19 => vgg::build(vs, config, vgg::Depth::D19),
        Arch::Resnet18 => resnet::build(vs, config),
        Arch::Resnet152V2 => resnet_v2::build(vs, config),
        Arch::MobilenetV3Large => mobilenet_v3::build(vs, config),
        Arch::InceptionV3 => inception::build(vs, config),
        Arch::DualNet => dual::build(vs, config),
    };
    Ok(Model {
        config: config.clone(),
        net,
    })
}

/// Number of scalar parameters in `vs`: every trainable variable, frozen or
/// not (torch's `sum(p.numel() for p in model.parameters())`). Batch-norm
/// running statistics are buffers and not counted.
pub fn parameter_count(vs: &nn::VarStore) -> usize {
    vs.trainable_variables().iter().map(Tensor::numel).sum()
}

/// Names of the first convolution's weight(s) of a model built from
/// `config` under a var store's root: the tensors whose input-channel
/// dimension [`load_pretrained`](crate::load_pretrained) may adapt.
pub(crate) fn input_conv_names(config: &ModelConfig) -> Vec<String> {
    let single = |arch: Arch| match arch {
        Arch::SmallCnn | Arch::DualNet => small_cnn::INPUT_CONV,
        Arch::Vgg16 | Arch::Vgg19 => vgg::INPUT_CONV,
        Arch::Resnet18 => resnet::INPUT_CONV,
        Arch::Resnet152V2 => resnet_v2::INPUT_CONV,
        Arch::MobilenetV3Large => mobilenet_v3::INPUT_CONV,
        Arch::InceptionV3 => inception::INPUT_CONV,
    };
    match config.arch {
        Arch::DualNet => {
            let name = single(config.dual_backbone());
            dual::BRANCHES
                .iter()
                .map(|branch| format!("{branch}.{name}"))
                .collect()
        }
        arch => vec![single(arch).to_string()],
    }
}

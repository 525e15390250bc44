//! The networks of lungsound, on tch (libtorch).
//!
//! This crate sits beside `features` in the pipeline and before `train`: it
//! knows tensors `[batch, channels, freq, time]` (NCHW, height = frequency)
//! and nothing about audio. [`ModelConfig`] names an [`Arch`] and the sizes;
//! [`build`] creates the variables in a [`tch::nn::VarStore`] and returns a
//! [`Model`] (a [`tch::nn::ModuleT`]) mapping spectrograms to logits
//! `[batch, num_classes]`.
//!
//! | [`Arch`] | module | parameters (1 channel, 2 classes) | min input |
//! |---|---|---|---|
//! | `small-cnn` (default) | [`small_cnn`] | 0.98 M | 16×16 |
//! | `vgg16` / `vgg19` | `vgg` | 134.3 M / 139.6 M | 32×32 |
//! | `resnet18` | `resnet` | 11.2 M | 32×32 |
//! | `resnet152v2` | `resnet_v2` | 58.2 M | 32×32 |
//! | `mobilenetv3-large` | `mobilenet_v3` | 4.2 M | 32×32 |
//! | `inceptionv3` | `inception` | 21.8 M | 75×75 |
//! | `dualnet` | [`dual`] | 2 × backbone + head | backbone's |
//!
//! The torchvision architectures keep torchvision's parameter names, so
//! ImageNet state_dicts load with [`load_pretrained`] (first convolution
//! adapted to the channel count, a head for other classes skipped);
//! [`freeze_until`] then freezes the early layers. Which device the
//! variables live on is the caller's choice (the var store's).
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
pub mod dual;
mod error;
mod freeze;
mod import;
mod inception;
mod layers;
mod mobilenet_v3;
mod model;
mod resnet;
mod resnet_v2;
pub mod small_cnn;
mod torch_file;
mod vgg;

pub use config::{Arch, ModelConfig, TimePooling};
pub use error::Error;
pub use freeze::{freeze_until, layer_names, parameters_in_order};
pub use import::{
    AdaptedTensor, ChannelAdaptation, ImportReport, SkippedTensor, load_pretrained, read_weights,
};
pub use model::{Model, build, parameter_count};

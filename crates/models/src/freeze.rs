//! Transfer learning: [`freeze_until`] stops training the early layers.
//!
//! **Layer order is parameter registration order**: the order in which
//! [`build`](crate::build) created the trainable variables, which every
//! architecture here makes the forward order (stem, stages, head; for
//! `dualnet` branch A, branch B, head). tch's var store keeps that order
//! (its list of trainable variables); names are matched to it by tensor
//! identity.

use std::collections::HashMap;

use tch::Tensor;
use tch::nn::VarStore;

use crate::error::Error;

/// The trainable variables of `vs` with their names, in registration order.
pub fn parameters_in_order(vs: &VarStore) -> Vec<(String, Tensor)> {
    // Named and trainable entries are handles to the same tensors, so the
    // data pointer identifies a variable.
    let by_ptr: HashMap<usize, String> = vs
        .variables()
        .into_iter()
        .map(|(name, t)| (t.data_ptr() as usize, name))
        .collect();
    vs.trainable_variables()
        .into_iter()
        .filter_map(|t| {
            by_ptr
                .get(&(t.data_ptr() as usize))
                .map(|name| (name.clone(), t))
        })
        .collect()
}

/// The layers of `vs` in registration order, as prefixes [`freeze_until`]
/// accepts: a parameter name's first component, with the second as well
/// when it is a number (`conv1`, `layer1.0`, `features.3`, `Mixed_5b`, `fc`).
/// Any dotted prefix of a parameter name also works.
pub fn layer_names(vs: &VarStore) -> Vec<String> {
    let mut layers: Vec<String> = Vec::new();
    for (name, _) in parameters_in_order(vs) {
        let mut parts = name.split('.');
        let first = parts.next().unwrap_or_default();
        let layer = match parts.next() {
            Some(second) if second.chars().all(|c| c.is_ascii_digit()) => {
                format!("{first}.{second}")
            }
            _ => first.to_string(),
        };
        if layers.last() != Some(&layer) {
            layers.push(layer);
        }
    }
    layers
}

/// Does parameter `name` belong to layer `prefix` (whole dotted components)?
fn belongs(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Freezes every parameter registered before the first one of layer
/// `layer_prefix`, and unfreezes that layer and everything after it.
/// Returns the names of the frozen parameters, in order.
///
/// `layer_prefix` is a dotted prefix of parameter names taken by whole
/// components: `"layer3"` (torchvision ResNet), `"features.10"` (VGG,
/// MobileNetV3), `"Mixed_6a"` (Inception), `"blocks.2"` (small-cnn); see
/// [`layer_names`]. If no parameter starts with it, but some start with
/// `S.layer_prefix` for a top-level module `S` (the `dualnet` branches, or a
/// model built under a sub-path), it applies inside each such `S`: `"layer3"`
/// on a dualnet of ResNet-18s freezes both branches' stems, `layer1` and
/// `layer2`, and leaves the head trainable.
///
/// Frozen parameters get no gradient, so optimisers built from the var store
/// leave them alone. Batch-norm running statistics are buffers, not
/// parameters: they still update when the model runs in training mode (as in
/// torch). Calling again re-decides every parameter, so `freeze_until` on a
/// later layer freezes more and on an earlier one unfreezes.
///
/// # Errors
/// [`Error::UnknownLayer`] if no parameter belongs to `layer_prefix`, listing
/// the layers.
pub fn freeze_until(vs: &VarStore, layer_prefix: &str) -> Result<Vec<String>, Error> {
    let params = parameters_in_order(vs);
    let mut frozen = vec![false; params.len()];
    if let Some(first) = params
        .iter()
        .position(|(name, _)| belongs(name, layer_prefix))
    {
        frozen[..first].fill(true);
    } else {
        // Scoped: top-level modules that contain the layer.
        let mut found = false;
        let mut scopes: Vec<&str> = params
            .iter()
            .filter_map(|(name, _)| name.split('.').next())
            .collect();
        scopes.dedup();
        for scope in scopes {
            let scoped = format!("{scope}.{layer_prefix}");
            let in_scope = |name: &str| belongs(name, scope);
            if let Some(first) = params.iter().position(|(name, _)| belongs(name, &scoped)) {
                found = true;
                for (i, (name, _)) in params.iter().enumerate().take(first) {
                    frozen[i] |= in_scope(name);
                }
            }
        }
        if !found {
            return Err(Error::UnknownLayer {
                prefix: layer_prefix.to_string(),
                available: layer_names(vs).join(", "),
            });
        }
    }
    let mut names = Vec::new();
    for ((name, tensor), freeze) in params.into_iter().zip(frozen) {
        let _ = tensor.set_requires_grad(!freeze);
        if freeze {
            names.push(name);
        }
    }
    Ok(names)
}

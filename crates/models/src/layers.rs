//! Building blocks shared by the architectures.
//!
//! Layers are created in the order the forward pass uses them, because
//! [`freeze_until`](crate::freeze_until) takes the var store's registration
//! order as the layer order.

use tch::Tensor;
use tch::nn::{self, ModuleT};

/// A network body that maps `[batch, channels, height, width]` to pooled
/// features `[batch, out_features]`; the heads and `dualnet` sit on top.
pub(crate) struct Backbone {
    /// The body including its global pooling.
    pub net: nn::FuncT<'static>,
    /// Width of the pooled feature vector.
    pub out_features: i64,
}

/// A 2-D convolution with a square kernel.
pub(crate) fn conv2d(
    p: nn::Path,
    c_in: i64,
    c_out: i64,
    kernel: i64,
    stride: i64,
    padding: i64,
    bias: bool,
) -> nn::Conv2D {
    let config = nn::ConvConfig {
        stride,
        padding,
        bias,
        ..Default::default()
    };
    nn::conv2d(p, c_in, c_out, kernel, config)
}

/// A 2-D batch norm initialised as torch does (weight 1, bias 0).
///
/// `eps` and `momentum` follow torch's meaning (momentum 0.1 is torch's
/// default, Keras' 0.99 is torch's 0.01).
pub(crate) fn batch_norm(p: nn::Path, channels: i64, eps: f64, momentum: f64) -> nn::BatchNorm {
    let config = nn::BatchNormConfig {
        eps,
        momentum,
        ws_init: nn::Init::Const(1.0),
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    nn::batch_norm2d(p, channels, config)
}

/// A linear layer with torch's default initialisation.
pub(crate) fn linear(p: nn::Path, c_in: i64, c_out: i64) -> nn::Linear {
    nn::linear(p, c_in, c_out, Default::default())
}

/// Global average pooling.
///
/// # Shapes
/// `[batch, channels, height, width]` → `[batch, channels]`
pub(crate) fn global_avg_pool(xs: &Tensor) -> Tensor {
    xs.adaptive_avg_pool2d([1, 1]).flatten(1, -1)
}

/// The usual classification head: dropout, then a linear layer named `name`.
///
/// # Shapes
/// `[batch, c_in]` → `[batch, num_classes]`
pub(crate) fn dropout_linear(
    p: nn::Path,
    c_in: i64,
    num_classes: i64,
    dropout: f64,
) -> impl ModuleT + 'static {
    let fc = linear(p, c_in, num_classes);
    nn::func_t(move |xs, train| xs.dropout(dropout, train).apply(&fc))
}

/// A backbone followed by `dropout → fc`; the form of every model whose
/// torchvision head is one linear layer.
pub(crate) fn backbone_with_linear_head(
    p: &nn::Path,
    backbone: Backbone,
    head_name: &str,
    num_classes: i64,
    dropout: f64,
) -> nn::FuncT<'static> {
    let head = dropout_linear(p / head_name, backbone.out_features, num_classes, dropout);
    let body = backbone.net;
    nn::func_t(move |xs, train| xs.apply_t(&body, train).apply_t(&head, train))
}

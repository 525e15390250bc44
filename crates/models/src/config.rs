//! [`Arch`] (which network) and [`ModelConfig`] (how to build it).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A network architecture.
///
/// The names (`FromStr`, `Display`, serde) are the ones used in config files
/// and on the command line: `small-cnn`, `vgg16`, `vgg19`, `resnet18`,
/// `resnet152v2`, `mobilenetv3-large`, `inceptionv3`, `dualnet`.
///
/// Every architecture ends in global pooling, so any input at least
/// [`Arch::min_input`] high and wide works; the minimum is where the last
/// stage's feature map shrinks to 1×1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arch {
    /// The fast default: a compact CNN for log-mel / log-STFT spectrograms
    /// (< 2 M parameters), see [`crate::small_cnn`].
    #[serde(rename = "small-cnn")]
    SmallCnn,
    /// VGG-16 with torchvision's layout and names (`features.*`, `classifier.*`).
    #[serde(rename = "vgg16")]
    Vgg16,
    /// VGG-19 with torchvision's layout and names.
    #[serde(rename = "vgg19")]
    Vgg19,
    /// ResNet-18 with torchvision's layout and names (`conv1`, `layer1`…, `fc`).
    #[serde(rename = "resnet18")]
    Resnet18,
    /// Pre-activation ResNet-152 v2 as Keras' `ResNet152V2`, in torch layout.
    #[serde(rename = "resnet152v2")]
    Resnet152V2,
    /// MobileNetV3-Large with torchvision's layout and names.
    #[serde(rename = "mobilenetv3-large")]
    MobilenetV3Large,
    /// Inception v3 with torchvision's layout and names (no auxiliary head).
    #[serde(rename = "inceptionv3")]
    InceptionV3,
    /// Two backbones over the two halves of the input channels, features
    /// concatenated before one head, see [`crate::dual`].
    #[serde(rename = "dualnet")]
    DualNet,
}

impl Arch {
    /// Every architecture, in the order of the documentation.
    pub const ALL: [Arch; 8] = [
        Arch::SmallCnn,
        Arch::Vgg16,
        Arch::Vgg19,
        Arch::Resnet18,
        Arch::Resnet152V2,
        Arch::MobilenetV3Large,
        Arch::InceptionV3,
        Arch::DualNet,
    ];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Arch::SmallCnn => "small-cnn",
            Arch::Vgg16 => "vgg16",
            Arch::Vgg19 => "vgg19",
            Arch::Resnet18 => "resnet18",
            Arch::Resnet152V2 => "resnet152v2",
            Arch::MobilenetV3Large => "mobilenetv3-large",
            Arch::InceptionV3 => "inceptionv3",
            Arch::DualNet => "dualnet",
        }
    }

    /// The smallest `[height, width]` the architecture takes.
    ///
    /// small-cnn pools 4 times by 2 (16×16); VGG, the ResNets and
    /// MobileNetV3 reduce by 32 (32×32); Inception v3 needs 75×75 as in
    /// torchvision. For `dualnet` this is the backbone's minimum, see
    /// [`ModelConfig::min_input`].
    pub fn min_input(self) -> [i64; 2] {
        match self {
            Arch::SmallCnn | Arch::DualNet => [16, 16],
            Arch::Vgg16
            | Arch::Vgg19
            | Arch::Resnet18
            | Arch::Resnet152V2
            | Arch::MobilenetV3Large => [32, 32],
            Arch::InceptionV3 => [75, 75],
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Arch {
    type Err = Error;

    /// Parses one of the names of [`Arch::name`] (exact, lowercase).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Arch::ALL
            .into_iter()
            .find(|arch| arch.name() == s)
            .ok_or_else(|| Error::UnknownArch {
                given: s.to_string(),
                expected: Arch::ALL.map(Arch::name).join(", "),
            })
    }
}

/// How `small-cnn` pools its last feature map over time, after averaging
/// frequency down to [`FREQ_BANDS`](crate::small_cnn::FREQ_BANDS) bands.
///
/// The names (serde) are the ones used in config files: `mean-max`,
/// `attention`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimePooling {
    /// The mean (sustained sounds) and the maximum (short events) over time.
    #[default]
    #[serde(rename = "mean-max")]
    MeanMax,
    /// A learned attention-weighted mean instead of the plain mean, next to
    /// the maximum: each frequency band scores every frame from its channels,
    /// and a softmax over time turns the scores into weights. The scores
    /// start at zero, so an untrained (or freshly imported) head pools exactly
    /// as `mean-max` does; training moves the weight to the frames that
    /// decide the class.
    #[serde(rename = "attention")]
    Attention,
}

impl TimePooling {
    /// Both choices, default first.
    pub const ALL: [TimePooling; 2] = [TimePooling::MeanMax, TimePooling::Attention];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TimePooling::MeanMax => "mean-max",
            TimePooling::Attention => "attention",
        }
    }

    /// Whether this is the default, `mean-max` (left out of saved configs, so
    /// configs written before the option existed stay byte-identical).
    pub fn is_mean_max(&self) -> bool {
        *self == TimePooling::MeanMax
    }
}

impl fmt::Display for TimePooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TimePooling {
    type Err = Error;

    /// Parses `mean-max` or `attention`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimePooling::ALL
            .into_iter()
            .find(|pooling| pooling.name() == s)
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown time pooling {s:?} (expected one of: {})",
                    TimePooling::ALL.map(TimePooling::name).join(", ")
                ))
            })
    }
}

/// How to build a network: architecture, input and output sizes, regularisation.
///
/// Missing fields take their defaults when deserialised; unknown fields are an
/// error (a misspelt option should not be ignored silently).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// The architecture. Default `small-cnn`.
    pub arch: Arch,
    /// Input channels (≥ 1). Default 1 (one spectrogram). torchvision weights
    /// have 3; [`load_pretrained`](crate::load_pretrained) adapts the first
    /// convolution. For `dualnet` it must be even: each backbone takes half.
    pub in_channels: i64,
    /// Input `[height, width]` = `[n_freq, n_frames]` of the spectrogram
    /// (NCHW: height is frequency). Only checked against
    /// [`ModelConfig::min_input`]: the networks end in global pooling, so
    /// other sizes also run. Default `[128, 128]`.
    pub input: [i64; 2],
    /// Output classes (≥ 1): the logits' width. Default 2.
    pub num_classes: i64,
    /// Dropout probability in `[0, 1)` before the classifier (inside
    /// VGG's and MobileNetV3's classifiers, where torchvision has its own:
    /// 0.5 and 0.2). Default 0.3.
    pub dropout: f64,
    /// The backbone of both `dualnet` branches; `None` means `small-cnn`
    /// (fast on CPU). Must not be `dualnet`. Ignored by other architectures.
    pub dual_backbone: Option<Arch>,
    /// Scales every small-cnn width (32-64-128-256 at 1.0), also inside
    /// `dualnet`; > 0, widths round to at least 4 channels. Ignored by the
    /// other architectures. Default 1.0.
    pub width_multiplier: f64,
    /// How small-cnn (also as `dualnet`'s backbone) pools time, see
    /// [`TimePooling`]. Default `mean-max`; other architectures refuse
    /// `attention` rather than ignore it.
    #[serde(skip_serializing_if = "TimePooling::is_mean_max")]
    pub time_pooling: TimePooling,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            arch: Arch::SmallCnn,
            in_channels: 1,
            // log-mel default (librosa n_mels = 128) by ~3 s of frames.
            input: [128, 128],
            num_classes: 2,
            dropout: 0.3,
            dual_backbone: None,
            width_multiplier: 1.0,
            time_pooling: TimePooling::MeanMax,
        }
    }
}

impl ModelConfig {
    /// The backbone `dualnet` uses: `dual_backbone`, or `small-cnn`.
    pub fn dual_backbone(&self) -> Arch {
        self.dual_backbone.unwrap_or(Arch::SmallCnn)
    }

    /// The architecture of the network's body: `arch`, or for `dualnet`
    /// the backbone of its branches.
    pub fn body_arch(&self) -> Arch {
        match self.arch {
            Arch::DualNet => self.dual_backbone(),
            arch => arch,
        }
    }

    /// The smallest `[height, width]` this configuration takes (for
    /// `dualnet`, its backbone's).
    pub fn min_input(&self) -> [i64; 2] {
        self.body_arch().min_input()
    }

    /// Channels each backbone sees: `in_channels`, or half of it for `dualnet`.
    pub fn branch_channels(&self) -> i64 {
        match self.arch {
            Arch::DualNet => self.in_channels / 2,
            _ => self.in_channels,
        }
    }

    /// Checks every field; [`build`](crate::build) calls this first.
    pub fn validate(&self) -> Result<(), Error> {
        let fail = |message: String| Err(Error::Config(message));
        if self.in_channels < 1 {
            return fail(format!(
                "in_channels must be at least 1, got {}",
                self.in_channels
            ));
        }
        if self.num_classes < 1 {
            return fail(format!(
                "num_classes must be at least 1, got {}",
                self.num_classes
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return fail(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(self.width_multiplier.is_finite() && self.width_multiplier > 0.0) {
            return fail(format!(
                "width_multiplier must be a positive number, got {}",
                self.width_multiplier
            ));
        }
        let body = self.body_arch();
        if !self.time_pooling.is_mean_max() && body != Arch::SmallCnn {
            return fail(format!(
                "time_pooling = \"attention\" is a small-cnn option (also as dualnet's backbone); \
                 {body} ends in global average pooling"
            ));
        }
        if self.arch == Arch::DualNet {
            if self.dual_backbone == Some(Arch::DualNet) {
                return fail("dual_backbone cannot itself be dualnet".to_string());
            }
            if self.in_channels % 2 != 0 {
                return fail(format!(
                    "dualnet splits the input channels in half, so in_channels must be even, got {}",
                    self.in_channels
                ));
            }
        }
        let [min_h, min_w] = self.min_input();
        let [h, w] = self.input;
        if h < min_h || w < min_w {
            return fail(format!(
                "{} needs inputs of at least {min_h}x{min_w} (height x width), got input {h}x{w}",
                self.arch
            ));
        }
        Ok(())
    }

    /// Checks that an input of shape `shape` (`[batch, channels, height,
    /// width]`) fits this configuration: 4 dimensions, `in_channels`
    /// channels, at least [`ModelConfig::min_input`]. The forward pass
    /// itself panics on a bad shape (libtorch's behaviour), so callers that
    /// take shapes from users check first.
    pub fn check_input(&self, shape: &[i64]) -> Result<(), Error> {
        let fail = |message: String| {
            Err(Error::Input {
                shape: shape.to_vec(),
                message,
            })
        };
        let [_batch, channels, height, width] = shape else {
            return fail("expected 4 dimensions [batch, channels, height, width]".to_string());
        };
        if *channels != self.in_channels {
            return fail(format!("expected {} channels", self.in_channels));
        }
        let [min_h, min_w] = self.min_input();
        if *height < min_h || *width < min_w {
            return fail(format!(
                "{} needs at least {min_h}x{min_w} (height x width)",
                self.arch
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str_display_and_serde() {
        for arch in Arch::ALL {
            assert_eq!(arch.to_string().parse::<Arch>().unwrap(), arch);
            let json = serde_json::to_string(&arch).unwrap();
            assert_eq!(json, format!("\"{}\"", arch.name()));
            assert_eq!(serde_json::from_str::<Arch>(&json).unwrap(), arch);
        }
        let names: Vec<_> = Arch::ALL.iter().map(|a| a.name()).collect();
        assert_eq!(
            names,
            [
                "small-cnn",
                "vgg16",
                "vgg19",
                "resnet18",
                "resnet152v2",
                "mobilenetv3-large",
                "inceptionv3",
                "dualnet"
            ]
        );
    }

    #[test]
    fn unknown_arch_lists_the_valid_names() {
        let err = "resnet50".parse::<Arch>().unwrap_err().to_string();
        assert!(
            err.contains("\"resnet50\"") && err.contains("small-cnn"),
            "{err}"
        );
    }

    #[test]
    fn config_fills_defaults_and_rejects_unknown_fields() {
        let cfg: ModelConfig = serde_json::from_str(r#"{"arch": "resnet18"}"#).unwrap();
        assert_eq!(
            cfg,
            ModelConfig {
                arch: Arch::Resnet18,
                ..ModelConfig::default()
            }
        );
        assert!(serde_json::from_str::<ModelConfig>(r#"{"dropuot": 0.1}"#).is_err());
        let back: ModelConfig =
            serde_json::from_str(&serde_json::to_string(&ModelConfig::default()).unwrap()).unwrap();
        assert_eq!(back, ModelConfig::default());
    }

    #[test]
    fn validate_states_the_rule_and_value() {
        let bad = |cfg: ModelConfig| cfg.validate().unwrap_err().to_string();
        let base = ModelConfig::default();
        assert!(
            bad(ModelConfig {
                in_channels: 0,
                ..base.clone()
            })
            .contains("got 0")
        );
        assert!(
            bad(ModelConfig {
                dropout: 1.0,
                ..base.clone()
            })
            .contains("[0, 1)")
        );
        assert!(
            bad(ModelConfig {
                width_multiplier: 0.0,
                ..base.clone()
            })
            .contains("positive")
        );
        let dual = ModelConfig {
            arch: Arch::DualNet,
            ..base.clone()
        };
        assert!(bad(dual.clone()).contains("even, got 1"));
        assert!(
            bad(ModelConfig {
                in_channels: 2,
                dual_backbone: Some(Arch::DualNet),
                ..dual
            })
            .contains("cannot itself")
        );
        let small = ModelConfig {
            arch: Arch::InceptionV3,
            input: [64, 300],
            ..base.clone()
        };
        assert!(bad(small).contains("at least 75x75"));
        assert!(base.validate().is_ok());
    }

    #[test]
    fn attention_pooling_is_a_small_cnn_option_left_out_of_configs_by_default() {
        let attention = |arch, dual_backbone| ModelConfig {
            arch,
            in_channels: 2,
            dual_backbone,
            time_pooling: TimePooling::Attention,
            ..ModelConfig::default()
        };
        assert!(attention(Arch::SmallCnn, None).validate().is_ok());
        assert!(attention(Arch::DualNet, None).validate().is_ok());
        for (arch, backbone) in [(Arch::Resnet18, None), (Arch::DualNet, Some(Arch::Vgg16))] {
            let err = attention(arch, backbone)
                .validate()
                .unwrap_err()
                .to_string();
            assert!(err.contains("small-cnn option"), "{err}");
        }
        let json = serde_json::to_string(&attention(Arch::SmallCnn, None)).unwrap();
        assert!(json.contains(r#""time_pooling":"attention""#), "{json}");
        let back: ModelConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.time_pooling, TimePooling::Attention);
        for pooling in TimePooling::ALL {
            let json = serde_json::to_string(&pooling).unwrap();
            assert_eq!(json, format!("\"{pooling}\""));
            assert_eq!(pooling.name().parse::<TimePooling>().unwrap(), pooling);
        }
        let err = "max".parse::<TimePooling>().unwrap_err().to_string();
        assert!(
            err.contains("\"max\"") && err.contains("mean-max, attention"),
            "{err}"
        );
        let default = serde_json::to_string(&ModelConfig::default()).unwrap();
        assert!(!default.contains("time_pooling"), "{default}");
    }

    #[test]
    fn check_input_names_the_problem() {
        let cfg = ModelConfig::default();
        assert!(cfg.check_input(&[2, 1, 64, 64]).is_ok());
        let msg = cfg.check_input(&[2, 3, 64, 64]).unwrap_err().to_string();
        assert!(
            msg.contains("[2, 3, 64, 64]") && msg.contains("1 channels"),
            "{msg}"
        );
        assert!(cfg.check_input(&[1, 64, 64]).is_err());
        assert!(cfg.check_input(&[2, 1, 8, 64]).is_err());
    }
}

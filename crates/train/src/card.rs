//! `model_card.md` of a run.

use lungsound_infer::{ExperimentConfig, Network, Result};
use std::fmt::Write as _;

use crate::report::TrainReport;

/// File name of the model card inside a run directory.
pub const MODEL_CARD_FILE: &str = "model_card.md";

/// Writes `RUN_DIR/model_card.md`: data, task, classes, split, the selected
/// epoch's validation metrics, the history and the exact command.
pub(crate) fn write_model_card(report: &TrainReport, model: &Network) -> Result<()> {
    let c = &report.config;
    let f = &c.features;
    let s = &f.spectrogram;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# lungsound model: {} task {} ({})\n",
        c.dataset,
        c.task,
        arch_name(c)
    );
    let _ = writeln!(md, "## Data\n");
    let _ = writeln!(md, "- Dataset: {} in `{}`", c.dataset, c.data_dir.display());
    let level = match c.level() {
        lungsound_datasets::Level::Event => format!(
            "one clip per annotated event, fitted to {} s ({} padding; longer events cropped from their start)",
            f.clip_seconds, f.pad
        ),
        lungsound_datasets::Level::Record => format!(
            "one prediction per recording: windows of {} s every {} s, window probabilities averaged",
            f.clip_seconds, f.window_hop_seconds
        ),
    };
    let _ = writeln!(md, "- Task {}: {level}", c.task);
    let _ = writeln!(md, "- Classes: {}", c.classes.join(", "));
    let _ = writeln!(
        md,
        "- Split: patient-wise (`patient_split`, val_fraction {}, seed {}): {} training / {} validation recordings, \
         {} training clips, {} validation units; {} validation patient{}{}",
        c.split.val_fraction,
        c.split.seed,
        c.split.n_train_recordings,
        c.split.n_val_recordings,
        report.n_train_clips,
        report.n_val_units,
        c.split.val_patients.len(),
        if c.split.val_patients.len() == 1 {
            ""
        } else {
            "s"
        },
        if c.dataset == lungsound_datasets::DatasetKind::Icbhi {
            " (inside the official train split; the test split is not used)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "- Features: {} at {} Hz, n_fft {}, hop_length {}, n_mels {}, fmin {} Hz, fmax {}, {}; standardised per \
         frequency bin (training-split mean/std in config.json){}",
        s.kind,
        f.sample_rate,
        s.n_fft,
        s.hop_length,
        s.n_mels,
        s.fmin,
        s.fmax.map_or("sr/2".to_string(), |v| format!("{v} Hz")),
        s.pcen.map_or(format!("dB {}", s.db), |p| format!(
            "PCEN of the mel magnitude × 2^31 (gain {}, bias {}, power {}, time constant {} s, eps {})",
            p.gain, p.bias, p.power, p.time_constant, p.eps
        )),
        f.input_size
            .map_or(String::new(), |[h, w]| format!(", resized to {h}x{w}"))
    );
    if let Some(b) = &f.bandpass {
        let _ = writeln!(
            md,
            "- Band-pass: Butterworth order {}, {}–{} Hz ({}), before clipping",
            b.order,
            b.low_hz,
            b.high_hz,
            if b.zero_phase { "zero-phase" } else { "causal" }
        );
    }
    for (i, part) in f.stack.iter().enumerate() {
        let _ = writeln!(
            md,
            "- Stacked below it along frequency (part {}): {} with n_fft {}, hop_length {}{}, {}",
            i + 2,
            part.kind,
            part.n_fft,
            part.hop_length,
            if part.kind == lungsound_features::FeatureKind::Mel {
                format!(", n_mels {}, fmin {} Hz", part.n_mels, part.fmin)
            } else {
                String::new()
            },
            part.pcen
                .map_or(format!("dB {}", part.db), |_| "PCEN".to_string())
        );
    }
    if let Some(max) = f.max_event_seconds {
        let _ = writeln!(md, "- Events longer than {max} s left out");
    }
    if let Some(a) = &c.augment {
        let steps: Vec<&str> = a.transforms.iter().map(|s| s.augmentation.name()).collect();
        let _ = writeln!(
            md,
            "- Augmentation (training split only): {} augmented clips from {} ({} mode, {} per clip) of classes {}; \
             normalisation statistics from the original clips",
            report.n_augmented_clips,
            steps.join(", "),
            a.mode,
            a.clips_per_source(),
            a.classes
                .as_ref()
                .map_or("all".to_string(), |c| c.join(", "))
        );
    }
    if let Some(m) = &c.training.mixup {
        let _ = writeln!(
            md,
            "- MixUp: alpha {}, {} targets, probability {}",
            m.alpha, m.mode, m.probability
        );
    }
    if let Some(m) = &c.training.spec_augment {
        let _ = writeln!(
            md,
            "- SpecAugment: {} frequency mask(s) of up to {} rows, {} time mask(s) of up to {} columns, probability {}",
            m.freq_masks, m.freq_width, m.time_masks, m.time_width, m.probability
        );
    }
    let _ = writeln!(md, "\n## Model and training\n");
    let _ = writeln!(
        md,
        "- Architecture: {} ({} parameters), input {:?}{}",
        arch_name(c),
        model.parameter_count(),
        c.model.input,
        if c.model.time_pooling.is_mean_max() {
            ""
        } else {
            ", attention pooling over time (a learned weighted mean next to the max)"
        }
    );
    let o = &c.optimizer;
    let t = &c.training;
    let _ = writeln!(
        md,
        "- Optimizer {} (lr {}, weight decay {}, momentum {}), schedule {} (warmup {} epochs), batch {}, up to {} \
         epochs, patience {}, class weights {}, label smoothing {}, weight EMA decay {}, seed {}",
        o.kind,
        o.lr,
        o.weight_decay,
        o.momentum,
        c.schedule.kind,
        c.schedule.warmup_epochs,
        t.batch_size,
        t.epochs,
        t.patience.map_or("off".to_string(), |p| p.to_string()),
        t.class_weights,
        t.label_smoothing,
        t.ema_decay,
        t.seed
    );
    if let Some(path) = &t.pretrained {
        let _ = writeln!(
            md,
            "- Initial weights: `{}` (tensors whose shape fits; the rest, e.g. another task's \
             classifier, start at random){}",
            path.display(),
            t.freeze_until
                .as_ref()
                .map_or(String::new(), |layer| format!(", frozen before `{layer}`"))
        );
    }
    let _ = writeln!(
        md,
        "- Selection: the epoch with the highest validation {} (ties: lower validation loss){}.",
        score_name(c),
        if t.ema_decay > 0.0 {
            ", validated on the EMA weights"
        } else {
            ""
        }
    );
    let _ = writeln!(md, "\n## Validation metrics (selected epoch)\n");
    match report.best() {
        Some(b) => {
            let _ = writeln!(md, "| epoch | Score | SE | SP | accuracy | val loss |");
            let _ = writeln!(md, "|---|---|---|---|---|---|");
            let _ = writeln!(
                md,
                "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                b.epoch, b.val_score, b.val_se, b.val_sp, b.val_accuracy, b.val_loss
            );
        }
        None => {
            let _ = writeln!(md, "No epoch has finished yet.");
        }
    }
    let _ = writeln!(
        md,
        "\n{} of {} epochs run{}. Per-epoch numbers: `history.csv`.",
        report.history.len(),
        t.epochs,
        if report.stopped_early {
            " (early stopping)"
        } else {
            ""
        }
    );
    let _ = writeln!(md, "\n## Reproduce\n");
    let command = if c.command.is_empty() {
        "(not recorded)"
    } else {
        c.command.as_str()
    };
    let _ = writeln!(md, "```sh\n{command}\n```");
    let _ = writeln!(
        md,
        "\nlungsound {}; every setting is in `config.json`.",
        c.lungsound_version
    );
    lungsound_infer::fsutil::write_atomic(&report.run_dir.join(MODEL_CARD_FILE), md.as_bytes())
}

fn arch_name(c: &ExperimentConfig) -> String {
    c.model.arch.to_string()
}

fn score_name(c: &ExperimentConfig) -> &'static str {
    if c.task == lungsound_datasets::Task::Cycles4 {
        "ICBHI Score"
    } else {
        "BioCAS Score"
    }
}

//! The training loop: [`train`] starts a run, [`resume`] continues one.
//!
//! Per epoch: reseed (libtorch and the shuffling RNG, from the run's seed and
//! the epoch), shuffle the training clips, one optimizer step per batch (the
//! learning rate from the schedule, the weight EMA updated after each step),
//! then validate the EMA weights (or the trained ones when the EMA is off)
//! on the validation units. The epoch whose validation Score is highest (ties:
//! lower validation loss) is saved as `model.safetensors`; `history.csv` and
//! the checkpoint are rewritten after every epoch, in that order after the
//! model, so a run killed at any point resumes without losing an epoch.
//! Early stopping ends the run after `patience` epochs without a better Score.
//!
//! Training-only augmentation comes from the config (so `resume` and a
//! reproduced run apply it too): `augment` adds augmented clips to the
//! training set when it is built, `training.spec_augment` masks bands and
//! spans of every training spectrogram
//! ([`SpecAugment`](crate::augment::spec_augment::SpecAugment)),
//! `training.mixup` mixes every batch ([`MixUp`](crate::augment::mixup::MixUp));
//! the [`TrainOptions::augmentations`] hooks run in addition (sample
//! transforms, then SpecAugment, then MixUp, then the batch hooks).

use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use lungsound_datasets::{Issue, Task};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Tensor};

use crate::augment::mixup::MixUp;
use crate::augment::plan::AugmentPlan;
use crate::augment::spec_augment::SpecAugment;
use crate::checkpoint::{
    self, CHECKPOINT_FILE, EpochRecord, TrainerState, is_better, load_checkpoint, save_checkpoint,
    write_history,
};
use crate::ema::Ema;
use crate::optim::Optimizer;
use crate::report::TrainReport;
use crate::schedule::LrSchedule;
use lungsound_infer::MODEL_FILE;
use lungsound_infer::Network;
use lungsound_infer::config::{ClassWeights, ExperimentConfig};
use lungsound_infer::data::batch::BatchTransform;
use lungsound_infer::data::batch::{
    Augmentations, InputPipeline, soft_targets, weighted_cross_entropy,
};
use lungsound_infer::data::{
    FeatureCache, FeatureSet, build_augmented_feature_set, build_feature_set, require_clips,
};
use lungsound_infer::scoring::{UnitScores, score_units};
use lungsound_infer::{Error, Result};
use lungsound_infer::{load_data, run_split};

/// Called after every epoch with its record and whether it is the new best
/// (the CLI prints a line; the library prints nothing itself).
pub type EpochCallback = std::sync::Arc<dyn Fn(&EpochRecord, bool) + Send + Sync>;

/// How to run training (everything that is not part of the experiment).
#[derive(Clone)]
pub struct TrainOptions {
    /// Where the network runs (the CLI picks it).
    pub device: Device,
    /// Feature cache (see [`lungsound_infer::default_cache_dir`]).
    pub cache: FeatureCache,
    /// Draw progress bars on stderr.
    pub progress: bool,
    /// Training-only transforms (none by default).
    pub augmentations: Augmentations,
    /// Return after this many epochs in this call, as if the run had been
    /// killed (for tests of `resume`); `None` runs to the end.
    pub stop_after: Option<usize>,
    /// Called after every epoch.
    pub on_epoch: Option<EpochCallback>,
}

impl std::fmt::Debug for TrainOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainOptions")
            .field("device", &self.device)
            .field("cache", &self.cache)
            .field("progress", &self.progress)
            .field("augmentations", &self.augmentations)
            .field("stop_after", &self.stop_after)
            .finish_non_exhaustive()
    }
}

impl TrainOptions {
    /// CPU, no cache, no progress bars, no augmentation.
    pub fn new(device: Device) -> Self {
        Self {
            device,
            cache: FeatureCache::disabled(),
            progress: false,
            augmentations: Augmentations::default(),
            stop_after: None,
            on_epoch: None,
        }
    }
}

/// Fewer validation patients or units than this and the validation Score (which picks the
/// epoch) is mostly noise: training says so.
pub const MIN_VALIDATION_PATIENTS: usize = 5;
/// See [`MIN_VALIDATION_PATIENTS`].
pub const MIN_VALIDATION_UNITS: usize = 30;

/// A warning when the validation split is too small to mean anything.
fn small_validation_warning(
    val: &[&lungsound_datasets::Recording],
    units: usize,
) -> Option<String> {
    let mut patients: Vec<&str> = val.iter().map(|r| r.patient.as_str()).collect();
    patients.sort_unstable();
    patients.dedup();
    (patients.len() < MIN_VALIDATION_PATIENTS || units < MIN_VALIDATION_UNITS).then(|| {
        format!(
            "the validation split has only {} patient{} and {} unit{}: its Score, which selects the \
             epoch, means little; use more data or a larger split.val_fraction",
            patients.len(),
            if patients.len() == 1 { "" } else { "s" },
            units,
            if units == 1 { "" } else { "s" }
        )
    })
}

/// Starts a run in `run_dir` (created; it must not hold a checkpoint already).
pub fn train(
    config: ExperimentConfig,
    run_dir: &Path,
    options: &TrainOptions,
) -> Result<TrainReport> {
    config.validate()?;
    if run_dir.join(CHECKPOINT_FILE).exists() {
        return Err(Error::run_dir(
            run_dir,
            "already holds a run (checkpoint.safetensors); resume it or choose another --out",
        ));
    }
    let created = !run_dir.exists();
    lungsound_infer::fsutil::create_dir_all(run_dir)?;
    let result = run(config, run_dir, options, None);
    if result.is_err() && created && !run_dir.join(CHECKPOINT_FILE).exists() {
        // Nothing to resume: do not leave a half-made run directory behind.
        let _ = std::fs::remove_dir_all(run_dir);
    }
    result
}

/// Continues the run in `run_dir` where its checkpoint left off;
/// `epochs` raises (or lowers) the total number of epochs.
pub fn resume(
    run_dir: &Path,
    epochs: Option<usize>,
    options: &TrainOptions,
) -> Result<TrainReport> {
    if !run_dir.join(CHECKPOINT_FILE).exists() {
        return Err(Error::run_dir(
            run_dir,
            if run_dir.is_dir() {
                "holds no run to resume (no checkpoint.safetensors); start one with --out"
            } else {
                "does not exist, so there is no run to resume; start one with --out"
            },
        ));
    }
    let mut config = ExperimentConfig::load(run_dir)?;
    if let Some(e) = epochs {
        config.training.epochs = e;
        config.validate()?;
    }
    let checkpoint = load_checkpoint(run_dir)?;
    run(config, run_dir, options, Some(checkpoint))
}

fn bar(options: &TrainOptions, len: usize, template: &str) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

type Checkpoint = (TrainerState, std::collections::BTreeMap<String, Tensor>);

fn run(
    mut config: ExperimentConfig,
    run_dir: &Path,
    options: &TrainOptions,
    checkpoint: Option<Checkpoint>,
) -> Result<TrainReport> {
    let device = options.device;
    let dataset = load_data(&config.data_dir, config.dataset)?;
    let mut issues = dataset.issues.clone();
    let split = run_split(&dataset, &config)?;

    let pb = bar(
        options,
        split.train.len() + split.val.len(),
        "features {bar:30} {pos}/{len} recordings {elapsed}",
    );
    let plan = config.augment.as_ref().map(|settings| AugmentPlan {
        settings,
        seed: config.training.seed,
    });
    let (train_set, train_issues) = build_augmented_feature_set(
        &split.train,
        &config.features,
        config.task,
        &options.cache,
        plan.as_ref()
            .map(|p| p as &dyn lungsound_infer::data::ClipAugmenter),
        Some(&pb),
    )?;
    let (val_set, val_issues) = build_feature_set(
        &split.val,
        &config.features,
        config.task,
        &options.cache,
        Some(&pb),
    )?;
    pb.finish_and_clear();
    issues.extend(train_issues);
    issues.extend(val_issues);
    require_clips(&train_set, "training")?;
    require_clips(&val_set, "validation")?;
    if let Some(warning) = small_validation_warning(&split.val, val_set.units.len()) {
        tracing::warn!("{warning}");
        issues.push(Issue::warning(&config.data_dir, warning));
    }

    let resuming = checkpoint.is_some();
    if !resuming {
        config.normalization = Some(train_set.normalization());
        let mut patients: Vec<String> = split.val.iter().map(|r| r.patient.clone()).collect();
        patients.sort();
        patients.dedup();
        config.split.val_patients = patients;
        config.split.n_train_recordings = split.train.len();
        config.split.n_val_recordings = split.val.len();
        config.refresh_derived();
    }
    config.save(run_dir)?;
    let norm = config
        .normalization
        .clone()
        .ok_or_else(|| Error::run_dir(run_dir, "config.json lacks the input normalization"))?;
    let pipeline = InputPipeline::new(&norm, train_set.shape, config.features.input_size, device);

    let seed = config.training.seed;
    tch::manual_seed(seed as i64);
    let model_config = config.model_config()?;
    let mut model = Network::new(&model_config, device)?;
    if !resuming && let Some(path) = &config.training.pretrained {
        let report = model.load_pretrained(path, &model_config)?;
        tracing::info!(
            loaded = report.loaded.len(),
            skipped = report.skipped.len(),
            missing = report.missing.len(),
            "pretrained weights from {}",
            path.display()
        );
    }
    if let Some(layer) = &config.training.freeze_until {
        model.freeze_until(layer)?;
    }
    let use_ema = config.training.ema_decay > 0.0;
    let mut ema_net = if use_ema {
        let mut e = Network::new(&model_config, device)?;
        e.copy_from(&model)?;
        Some(e)
    } else {
        None
    };
    let mut optimizer = Optimizer::new(model.var_store(), &config.optimizer);
    let mut state = TrainerState::fresh();
    if let Some((saved, tensors)) = checkpoint {
        let ckpt = run_dir.join(CHECKPOINT_FILE);
        model.load_from(&tensors, "model/", &ckpt)?;
        if let Some(e) = ema_net.as_mut() {
            e.load_from(&tensors, "ema/", &ckpt)?;
        }
        optimizer.load_state(&checkpoint::group(&tensors, "optim"))?;
        state = saved;
    }
    let mut ema = Ema::new(config.training.ema_decay, state.ema_updates);

    let mut batch_transforms: Vec<std::sync::Arc<dyn BatchTransform>> = Vec::new();
    if let Some(masking) = &config.training.spec_augment {
        batch_transforms.push(std::sync::Arc::new(SpecAugment::new(masking)?));
    }
    if let Some(mixup) = &config.training.mixup {
        batch_transforms.push(std::sync::Arc::new(MixUp::new(
            mixup,
            config.task.normal_class(),
        )?));
    }
    batch_transforms.extend(options.augmentations.batch.iter().cloned());

    let n_classes = config.task.n_classes();
    let class_weights = class_weights(&train_set, n_classes, config.training.class_weights);
    tracing::info!(?class_weights, "class weights");
    let weights_t = Tensor::from_slice(&class_weights).to_device(device);
    let batch_size = config.training.batch_size;
    let steps_per_epoch = steps_per_epoch(train_set.len(), batch_size);
    let schedule = LrSchedule::new(
        &config.schedule,
        config.optimizer.lr,
        config.training.epochs,
        steps_per_epoch,
    );

    let mut epochs_this_call = 0;
    while state.epochs_done < config.training.epochs && !state.stopped_early {
        if options.stop_after.is_some_and(|n| epochs_this_call >= n) {
            break;
        }
        let epoch = state.epochs_done;
        let started = Instant::now();
        let epoch_seed = mix(seed, epoch as u64);
        tch::manual_seed(epoch_seed as i64);
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed);
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        order.shuffle(&mut rng);
        let batches = batches(&order, batch_size);

        let pb = bar(
            options,
            batches.len(),
            "epoch {prefix} {bar:30} {pos}/{len} {msg} [{elapsed_precise}<{eta_precise}]",
        );
        pb.set_prefix(format!("{}/{}", epoch + 1, config.training.epochs));
        let (mut loss_sum, mut loss_n) = (0f64, 0usize);
        let mut lr = schedule.lr(epoch, 0, &state.plateau);
        for (step, idx) in batches.iter().enumerate() {
            lr = schedule.lr(epoch, step, &state.plateau);
            let labels: Vec<usize> = idx.iter().map(|&i| train_set.clips[i].label).collect();
            let inputs = pipeline.inputs(&train_set, idx, &options.augmentations.sample, &mut rng);
            let targets = soft_targets(&labels, n_classes, config.training.label_smoothing, device);
            let mut b = lungsound_infer::data::batch::Batch { inputs, targets };
            for t in &batch_transforms {
                b = t.apply(b, &mut rng);
            }
            optimizer.zero_grad();
            let logits = model.forward(&b.inputs, true);
            let loss = weighted_cross_entropy(&logits, &b.targets, &weights_t);
            loss.backward();
            optimizer.step(lr);
            if let Some(e) = &ema_net {
                ema.update(e, &model);
            }
            let l = loss.double_value(&[]);
            if !l.is_finite() {
                return Err(Error::InvalidConfig(format!(
                    "the training loss became {l} in epoch {} (learning rate {lr:.3e} too high?)",
                    epoch + 1
                )));
            }
            loss_sum += l * idx.len() as f64;
            loss_n += idx.len();
            pb.set_message(format!("loss {:.4}", loss_sum / loss_n as f64));
            pb.inc(1);
        }
        pb.finish_and_clear();

        let eval_net = ema_net.as_ref().unwrap_or(&model);
        let scores = score_units(
            eval_net,
            &pipeline,
            &val_set,
            config.task,
            &class_weights,
            batch_size,
        )?;
        let record = epoch_record(
            epoch + 1,
            loss_sum / loss_n.max(1) as f64,
            &scores,
            config.task,
            lr,
            started,
        );
        state.plateau.observe(record.val_loss, &config.schedule);
        let improved = is_better(&record, state.best());
        if improved {
            eval_net.save(&run_dir.join(MODEL_FILE))?;
            state.best_epoch = Some(record.epoch);
            state.epochs_since_best = 0;
        } else {
            state.epochs_since_best += 1;
        }
        if let Some(callback) = &options.on_epoch {
            callback(&record, improved);
        }
        state.history.push(record);
        state.epochs_done += 1;
        state.ema_updates = ema.updates();
        // Early stopping cuts the schedule short; out of patience on the last
        // epoch, the run simply ended.
        if state.epochs_done < config.training.epochs
            && config
                .training
                .patience
                .is_some_and(|p| state.epochs_since_best >= p)
        {
            state.stopped_early = true;
        }
        write_history(run_dir, &state.history)?;
        let mut groups = vec![("model", model.named_variables())];
        if let Some(e) = &ema_net {
            groups.push(("ema", e.named_variables()));
        }
        groups.push(("optim", optimizer.state_tensors()));
        save_checkpoint(run_dir, &state, &groups)?;
        epochs_this_call += 1;
    }

    let finished = state.stopped_early || state.epochs_done >= config.training.epochs;
    let report = TrainReport {
        run_dir: run_dir.to_path_buf(),
        config,
        history: state.history.clone(),
        best_epoch: state.best_epoch,
        stopped_early: state.stopped_early,
        finished,
        issues,
        n_train_clips: train_set.len(),
        n_augmented_clips: train_set.n_augmented(),
        n_val_units: val_set.units.len(),
    };
    crate::card::write_model_card(&report, &model)?;
    Ok(report)
}

/// Class weights for the loss: all 1, inverse frequency of the training
/// clips normalised so that a balanced set would weigh 1 (`n / (k · n_c)`),
/// or its square root; a class without training clips gets 0.
pub fn class_weights(set: &FeatureSet, n_classes: usize, mode: ClassWeights) -> Vec<f32> {
    match mode {
        ClassWeights::Off => vec![1.0; n_classes],
        ClassWeights::Inverse | ClassWeights::Sqrt => {
            let power = if mode == ClassWeights::Sqrt { 0.5 } else { 1.0 };
            let counts = set.class_counts(n_classes);
            let n: usize = counts.iter().sum();
            counts
                .iter()
                .map(|&c| {
                    if c == 0 {
                        0.0
                    } else {
                        (n as f64 / (n_classes as f64 * c as f64)).powf(power) as f32
                    }
                })
                .collect()
        }
    }
}

/// Batches of `order`; a final batch of a single clip is dropped (batch
/// normalisation cannot train on one sample), so every clip of an epoch but
/// at most one is seen.
fn batches(order: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    order
        .chunks(batch_size)
        .filter(|c| c.len() > 1 || order.len() == 1)
        .map(<[usize]>::to_vec)
        .collect()
}

fn steps_per_epoch(n: usize, batch_size: usize) -> usize {
    let full = n / batch_size;
    let rest = n % batch_size;
    full + usize::from(rest > 1 || n == 1)
}

/// A per-epoch seed from the run's seed (SplitMix64 finaliser).
fn mix(seed: u64, epoch: u64) -> u64 {
    let mut z = seed ^ (epoch.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 1 // libtorch seeds are taken as i64
}

fn epoch_record(
    epoch: usize,
    train_loss: f64,
    s: &UnitScores,
    task: Task,
    lr: f64,
    started: Instant,
) -> EpochRecord {
    let (score, se, sp) = if task == Task::Cycles4 {
        let i = &s.metrics.icbhi;
        (i.score, i.sensitivity, i.specificity)
    } else {
        let b = &s.metrics.biocas;
        (b.score, b.sensitivity, b.specificity)
    };
    EpochRecord {
        epoch,
        train_loss,
        val_loss: s.loss,
        val_accuracy: s.metrics.accuracy,
        val_score: score,
        val_se: se,
        val_sp: sp,
        lr,
        seconds: started.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_validation_split_is_named() {
        let mut a =
            lungsound_datasets::Recording::new("a", lungsound_datasets::DatasetKind::Icbhi, "101");
        a.audio_path = None;
        let one = vec![&a];
        let w = small_validation_warning(&one, 6).unwrap_or_default();
        assert!(w.contains("only 1 patient and 6 units"), "{w}");
        let many: Vec<lungsound_datasets::Recording> = (0..6)
            .map(|i| {
                lungsound_datasets::Recording::new(
                    format!("r{i}"),
                    lungsound_datasets::DatasetKind::Icbhi,
                    format!("{i}"),
                )
            })
            .collect();
        let refs: Vec<&lungsound_datasets::Recording> = many.iter().collect();
        assert_eq!(small_validation_warning(&refs, 100), None);
    }

    #[test]
    fn batches_drop_only_a_single_leftover() {
        let order: Vec<usize> = (0..9).collect();
        assert_eq!(batches(&order, 4).len(), 2);
        assert_eq!(steps_per_epoch(9, 4), 2);
        assert_eq!(batches(&order, 3).len(), 3);
        assert_eq!(steps_per_epoch(10, 4), 3);
        assert_eq!(batches(&order[..1], 4).len(), 1);
    }

    #[test]
    fn epoch_seeds_differ_and_fit_i64() {
        let a = mix(42, 0);
        assert_ne!(a, mix(42, 1));
        assert_ne!(a, mix(43, 0));
        assert!(a <= i64::MAX as u64);
    }
}

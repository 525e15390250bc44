//! Training-split augmentation, MixUp and the band-pass filter, end to end
//! on the synthetic SPRSound fixture of `train.rs`.

use std::path::Path;

use lungsound_datasets::Task;
use lungsound_features::augment::{Augmentation, Gain, Noise, PitchShift, Step};
use lungsound_infer::config::{
    AugmentMode, AugmentSettings, BandpassSettings, MixupMode, MixupSettings,
};
use lungsound_infer::data::{FeatureSet, build_augmented_feature_set, build_feature_set};
use lungsound_infer::tch::{self, Device};
use lungsound_infer::{
    EvalSplit, EvaluateOptions, ExperimentConfig, FeatureCache, Predictor, evaluate_run, load_data,
    run_split,
};
use lungsound_train::augment::plan::AugmentPlan;
use lungsound_train::{read_history, resume, train};

use super::{cpu_options, synthetic_sprsound, tiny_config, torch_rng};

fn wheeze_augment(copies: usize) -> AugmentSettings {
    AugmentSettings {
        copies,
        mode: AugmentMode::Chain,
        classes: Some(vec!["Adventitious".into()]),
        transforms: vec![
            Step::new(Augmentation::PitchShift(PitchShift::default())).with_probability(0.5),
            Step::new(Augmentation::Gain(Gain::default())),
            Step::new(Augmentation::Noise(Noise::default())),
        ],
    }
}

fn clip_values(set: &FeatureSet, i: usize) -> Vec<f32> {
    let mut out = vec![0f32; set.clip_len()];
    set.write_clip(i, &mut out);
    out
}

fn all_values(set: &FeatureSet) -> Vec<Vec<f32>> {
    (0..set.len()).map(|i| clip_values(set, i)).collect()
}

#[test]
fn augmentation_adds_exactly_the_selected_copies_to_the_training_split_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 5);
    let mut config = tiny_config(&data, Task::EventBinary, 1);
    let settings = wheeze_augment(2);
    config.augment = Some(settings.clone());
    config.validate().unwrap();
    let dataset = load_data(&config.data_dir, config.dataset).unwrap();
    let split = run_split(&dataset, &config).unwrap();
    let cache = FeatureCache::new(dir.path().join("cache"));
    let build = |seed: u64, cache: &FeatureCache| {
        let plan = AugmentPlan {
            settings: &settings,
            seed,
        };
        build_augmented_feature_set(
            &split.train,
            &config.features,
            config.task,
            cache,
            Some(&plan),
            None,
        )
        .unwrap()
        .0
    };
    let (plain, _) =
        build_feature_set(&split.train, &config.features, config.task, &cache, None).unwrap();
    let augmented = build(7, &cache);

    let n_adventitious = plain.clips.iter().filter(|c| c.label == 1).count();
    assert!(n_adventitious > 0 && n_adventitious < plain.len());
    assert_eq!(augmented.len(), plain.len() + 2 * n_adventitious);
    assert_eq!(augmented.n_augmented(), 2 * n_adventitious);
    assert_eq!(
        augmented.units, plain.units,
        "augmentation adds clips, not units"
    );
    let aug_clips: Vec<_> = augmented
        .clips
        .iter()
        .enumerate()
        .filter(|(_, c)| c.augmented.is_some())
        .collect();
    assert!(
        aug_clips.iter().all(|(_, c)| c.label == 1),
        "only Adventitious clips are augmented"
    );
    // The original clips are unchanged; the augmented ones differ from their source.
    let originals: Vec<Vec<f32>> = (0..augmented.len())
        .filter(|&i| augmented.clips[i].augmented.is_none())
        .map(|i| clip_values(&augmented, i))
        .collect();
    assert_eq!(originals, all_values(&plain));
    for &(i, clip) in &aug_clips {
        let source = augmented
            .clips
            .iter()
            .position(|c| c.augmented.is_none() && c.unit == clip.unit)
            .unwrap();
        assert_ne!(clip_values(&augmented, i), clip_values(&augmented, source));
    }
    // Normalisation comes from the original clips only.
    assert_eq!(augmented.normalization(), plain.normalization());
    assert_eq!(
        augmented.class_counts(2),
        vec![plain.len() - n_adventitious, 3 * n_adventitious]
    );

    // Same seed, same values: from the cache and computed afresh.
    let again = build(7, &cache);
    let fresh = build(7, &FeatureCache::disabled());
    assert_eq!(all_values(&again), all_values(&augmented));
    assert_eq!(all_values(&fresh), all_values(&augmented));
    // Another seed draws other augmentations (the originals stay).
    let other = build(8, &FeatureCache::disabled());
    assert_eq!(other.len(), augmented.len());
    assert_ne!(all_values(&other), all_values(&augmented));

    // `each` mode: one copy per transform.
    let each = AugmentSettings {
        mode: AugmentMode::Each,
        copies: 1,
        ..settings.clone()
    };
    let plan = AugmentPlan {
        settings: &each,
        seed: 7,
    };
    let (set, _) = build_augmented_feature_set(
        &split.train,
        &config.features,
        config.task,
        &FeatureCache::disabled(),
        Some(&plan),
        None,
    )
    .unwrap();
    assert_eq!(set.n_augmented(), 3 * n_adventitious);
}

#[test]
fn a_run_with_augmentation_spec_augment_and_mixup_trains_validates_on_originals_and_resumes_identically()
 {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 5);
    let mut config = tiny_config(&data, Task::EventBinary, 2);
    config.augment = Some(wheeze_augment(1));
    config.training.mixup = Some(MixupSettings {
        alpha: 0.4,
        mode: MixupMode::HardPair,
        probability: 1.0,
    });
    config.training.spec_augment = Some("2:4:1:6".parse().unwrap());
    let dataset = load_data(&config.data_dir, config.dataset).unwrap();
    let split = run_split(&dataset, &config).unwrap();
    let cache = FeatureCache::disabled();
    let (plain_train, _) =
        build_feature_set(&split.train, &config.features, config.task, &cache, None).unwrap();
    let (val, _) =
        build_feature_set(&split.val, &config.features, config.task, &cache, None).unwrap();
    let n_adventitious = plain_train.clips.iter().filter(|c| c.label == 1).count();

    let options = cpu_options();
    let _rng = torch_rng();
    let straight = dir.path().join("straight");
    let report = train(config.clone(), &straight, &options).unwrap();
    assert_eq!(report.n_train_clips, plain_train.len() + n_adventitious);
    assert_eq!(report.n_augmented_clips, n_adventitious);
    assert_eq!(
        report.n_val_units,
        val.units.len(),
        "validation is never augmented"
    );
    assert_eq!(
        report.config.normalization,
        Some(plain_train.normalization())
    );
    // config.json carries augment and mixup, so resume and evaluate know them.
    let saved = ExperimentConfig::load(&straight).unwrap();
    assert_eq!(saved.augment, config.augment);
    assert_eq!(saved.training.mixup, config.training.mixup);
    assert_eq!(saved.training.spec_augment, config.training.spec_augment);
    let card = std::fs::read_to_string(straight.join("model_card.md")).unwrap();
    assert!(card.contains("MixUp: alpha 0.4, hard-pair"), "{card}");
    assert!(
        card.contains("SpecAugment: 2 frequency mask(s) of up to 4 rows"),
        "{card}"
    );

    let killed = dir.path().join("killed");
    let mut first = options.clone();
    first.stop_after = Some(1);
    train(config, &killed, &first).unwrap();
    let resumed = resume(&killed, None, &options).unwrap();
    assert_eq!(resumed.n_train_clips, report.n_train_clips);
    let strip = |dir: &Path| {
        read_history(dir)
            .unwrap()
            .into_iter()
            .map(|mut r| {
                r.seconds = 0.0;
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&straight), strip(&killed));
    assert_eq!(
        std::fs::read(straight.join("model.safetensors")).unwrap(),
        std::fs::read(killed.join("model.safetensors")).unwrap()
    );
}

#[test]
fn the_bandpass_filter_is_part_of_the_features_in_training_evaluation_and_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 4);
    let mut config = tiny_config(&data, Task::EventBinary, 1);
    let dataset = load_data(&config.data_dir, config.dataset).unwrap();
    let split = run_split(&dataset, &config).unwrap();
    let cache = FeatureCache::new(dir.path().join("cache"));
    let (plain, _) =
        build_feature_set(&split.train, &config.features, config.task, &cache, None).unwrap();
    config.features.bandpass = Some("200-1000:4".parse::<BandpassSettings>().unwrap());
    config.validate().unwrap();
    let (filtered, _) =
        build_feature_set(&split.train, &config.features, config.task, &cache, None).unwrap();
    assert_eq!(filtered.len(), plain.len());
    assert_ne!(
        all_values(&filtered),
        all_values(&plain),
        "the cache key includes the filter"
    );

    let run = dir.path().join("run");
    let _rng = torch_rng();
    train(config, &run, &cpu_options()).unwrap();
    let mut options = EvaluateOptions::new(Device::Cpu);
    options.split = EvalSplit::Val;
    let out = dir.path().join("eval");
    evaluate_run(&run, &data, &out, &options).unwrap();
    let csv = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    // The Predictor, given the same recording and event, filters the same way.
    let record = dataset.get(row[0]).unwrap();
    let event_index: usize = row[1].parse().unwrap();
    let event = record
        .events
        .iter()
        .find(|e| e.index == event_index)
        .unwrap();
    let (audio, _) = lungsound_audio::load(record.audio_path.as_deref().unwrap()).unwrap();
    tch::set_num_threads(1);
    let predictor = Predictor::load(&run, Device::Cpu).unwrap();
    let p = predictor
        .predict(&audio, Some(&[(event.start_s, event.end_s)]))
        .unwrap();
    let from_eval: f32 = row[7].parse().unwrap();
    assert!(
        (p.events[0].probabilities[1] - from_eval).abs() < 1e-5,
        "{} vs {from_eval}",
        p.events[0].probabilities[1]
    );
}

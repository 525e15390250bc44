//! Early stopping: out of patience before the last epoch cuts the schedule
//! short; running out of it on the last epoch is a run that simply ended.

use lungsound_datasets::Task;
use lungsound_train::{read_history, train};

use super::{cpu_options, synthetic_sprsound, tiny_config, torch_rng};

#[test]
fn only_a_run_cut_short_is_reported_as_stopped_early() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 6);
    // Patience 0: every epoch after the best one has used up the patience,
    // and the first epoch is always the best so far.
    let run = |epochs: usize, name: &str| {
        let mut config = tiny_config(&data, Task::EventBinary, epochs);
        config.training.patience = Some(0);
        let run_dir = dir.path().join(name);
        let report = train(config, &run_dir, &cpu_options()).unwrap();
        let card = std::fs::read_to_string(run_dir.join("model_card.md")).unwrap();
        (report, read_history(&run_dir).unwrap().len(), card)
    };
    let (cut, epochs_run, card) = run(3, "cut");
    assert!(cut.stopped_early && cut.finished);
    assert_eq!(epochs_run, 1);
    assert!(
        card.contains("1 of 3 epochs run (early stopping)"),
        "{card}"
    );

    let (ended, epochs_run, card) = run(1, "ended");
    assert!(!ended.stopped_early && ended.finished);
    assert_eq!(epochs_run, 1);
    assert!(card.contains("1 of 1 epochs run."), "{card}");
}

//! A run's own gate (`gate.json`): `load_models` gates the run by it unless told otherwise,
//! as `predict`, `serve` and the Python `Predictor` do with the shipped 1-2 model.

use lungsound_datasets::Task;
use lungsound_infer::gate_file::write_run_gate;
use lungsound_infer::models::load_models;
use lungsound_infer::tch::Device;
use lungsound_infer::{GATE_FILE, GateChoice, Predictor};
use lungsound_train::train;

use super::{cpu_options, tiny_config, tone_then_wheeze, torch_rng, trained};

#[test]
fn a_run_is_gated_by_the_run_its_gate_file_names_unless_told_otherwise() {
    let f = trained(); // the 1-1 run: the gate
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    let (fine, gate) = (models.join("fine"), models.join("gate"));
    train(
        tiny_config(&f.data, Task::EventMulti, 1),
        &fine,
        &cpu_options(),
    )
    .unwrap();
    std::fs::create_dir_all(&gate).unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(f.run.join(file), gate.join(file)).unwrap();
    }
    let gated_by = |choice: &GateChoice| -> Vec<(String, Option<String>)> {
        load_models(&models, choice, Device::Cpu)
            .unwrap()
            .iter()
            .map(|m| (m.name.clone(), m.gate.as_ref().map(|g| g.name.clone())))
            .collect()
    };
    let alone = vec![("fine".to_string(), None), ("gate".to_string(), None)];
    let fine_gated = vec![
        ("fine".to_string(), Some("gate".to_string())),
        ("gate".to_string(), None),
    ];
    // No gate.json: nobody is gated by default.
    assert_eq!(gated_by(&GateChoice::RunDefault), alone);

    write_run_gate(&fine, "../gate".as_ref()).unwrap();
    assert_eq!(gated_by(&GateChoice::RunDefault), fine_gated);
    assert_eq!(gated_by(&GateChoice::Off), alone);
    assert_eq!(gated_by(&GateChoice::Run(gate.clone())), fine_gated);

    // The default gate predicts exactly as the explicit two-stage prediction.
    let loaded = load_models(&fine, &GateChoice::RunDefault, Device::Cpu).unwrap();
    assert_eq!(loaded.len(), 1);
    let audio = tone_then_wheeze();
    let events = [(3.0, 4.0), (0.5, 1.5)];
    let by_default = loaded[0].predict(&audio, Some(&events)).unwrap();
    let (fine_p, gate_p) = (
        Predictor::load(&fine, Device::Cpu).unwrap(),
        Predictor::load(&gate, Device::Cpu).unwrap(),
    );
    let explicit = fine_p
        .predict_gated(&audio, Some(&events), &gate_p)
        .unwrap();
    let alone_p = fine_p.predict(&audio, Some(&events)).unwrap();
    assert_eq!(by_default, explicit);
    assert_ne!(by_default, alone_p);

    // A gate file naming a run that cannot gate, or no run, is an error naming the file.
    write_run_gate(&fine, "../fine".as_ref()).unwrap();
    let err = load_models(&models, &GateChoice::RunDefault, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains(GATE_FILE) && err.contains("named by"), "{err}");
    let source = load_models(&fine, &GateChoice::RunDefault, Device::Cpu).unwrap_err();
    let chain = format!("{:?}", source);
    assert!(chain.contains("cannot gate a task 1-2 model"), "{chain}");
    write_run_gate(&fine, "../no-such-run".as_ref()).unwrap();
    let err = load_models(&models, &GateChoice::RunDefault, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a run directory") && err.contains(GATE_FILE),
        "{err}"
    );
    // --no-gate does not even read it.
    std::fs::write(fine.join(GATE_FILE), "not json").unwrap();
    assert_eq!(gated_by(&GateChoice::Off), alone);
    assert!(load_models(&models, &GateChoice::RunDefault, Device::Cpu).is_err());
}

//! A run's own gate: `RUN/gate.json` names the Normal-vs-abnormal run that gates the run's
//! predictions unless the command says otherwise, so that a two-stage model ships as a run
//! directory like any other (the shipped `models/sprsound-events-1-2` is gated by
//! `models/sprsound-events-1-1` this way).
//!
//! ```json
//! { "gate": "../sprsound-events-1-1" }
//! ```
//!
//! The path is relative to the run directory (or absolute). [`GateChoice`] is what a command
//! was asked for: each run's own gate (the default), one given gate for every model it fits
//! (`--gate RUN_DIR`), or none (`--no-gate`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// File in a run directory naming the run that gates it by default.
pub const GATE_FILE: &str = "gate.json";

/// `gate.json`: the gate run directory, relative to the run directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// The gate run directory, relative to the run directory holding this file.
    pub gate: PathBuf,
}

/// Which gate a command applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GateChoice {
    /// Each run's own [`GATE_FILE`], when it has one; runs without one are not gated.
    #[default]
    RunDefault,
    /// This run gates every model it fits (`--gate RUN_DIR`).
    Run(PathBuf),
    /// No gate at all (`--no-gate`).
    Off,
}

impl GateChoice {
    /// The choice of a command line's `--gate RUN_DIR` / `--no-gate` pair.
    pub fn from_flags(gate: Option<PathBuf>, no_gate: bool) -> Self {
        match (gate, no_gate) {
            (_, true) => GateChoice::Off,
            (Some(dir), false) => GateChoice::Run(dir),
            (None, false) => GateChoice::RunDefault,
        }
    }

    /// The gate of the run in `run_dir` under this choice.
    ///
    /// # Errors
    /// An unreadable or malformed [`GATE_FILE`] ([`Error::RunDir`] naming the file).
    pub fn for_run(&self, run_dir: &Path) -> Result<Option<PathBuf>> {
        match self {
            GateChoice::RunDefault => run_gate(run_dir),
            GateChoice::Run(dir) => Ok(Some(dir.clone())),
            GateChoice::Off => Ok(None),
        }
    }
}

/// The gate that `run_dir`'s [`GATE_FILE`] names, resolved against `run_dir`; `None` when the
/// run has no such file.
///
/// # Errors
/// The file cannot be read or is not `{"gate": PATH}` ([`Error::RunDir`] naming the file).
pub fn run_gate(run_dir: &Path) -> Result<Option<PathBuf>> {
    let path = run_dir.join(GATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::run_dir(&path, format!("cannot read it: {e}"))),
    };
    let spec: GateSpec = serde_json::from_str(&text).map_err(|e| {
        Error::run_dir(
            &path,
            format!("not a gate file ({e}); expected {{\"gate\": \"RUN_DIR\"}}"),
        )
    })?;
    if spec.gate.as_os_str().is_empty() {
        return Err(Error::run_dir(&path, "\"gate\" is empty"));
    }
    Ok(Some(run_dir.join(spec.gate)))
}

/// Writes `run_dir/gate.json` naming `gate` (stored as given: relative paths are relative to
/// `run_dir`).
///
/// # Errors
/// The file cannot be written ([`Error::RunDir`]).
pub fn write_run_gate(run_dir: &Path, gate: &Path) -> Result<()> {
    let path = run_dir.join(GATE_FILE);
    let spec = GateSpec {
        gate: gate.to_path_buf(),
    };
    let text = serde_json::to_string_pretty(&spec)
        .map_err(|e| Error::run_dir(&path, format!("cannot encode: {e}")))?;
    std::fs::write(&path, text + "\n")
        .map_err(|e| Error::run_dir(&path, format!("cannot write it: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_without_the_file_has_no_gate_and_the_flags_choose() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(run_gate(dir.path()).unwrap(), None);
        let choice = GateChoice::from_flags(None, false);
        assert_eq!(choice, GateChoice::RunDefault);
        assert_eq!(choice.for_run(dir.path()).unwrap(), None);
        assert_eq!(
            GateChoice::from_flags(Some("g".into()), false)
                .for_run(dir.path())
                .unwrap(),
            Some(PathBuf::from("g"))
        );
        assert_eq!(
            GateChoice::from_flags(Some("g".into()), true),
            GateChoice::Off
        );
    }

    #[test]
    fn the_gate_is_resolved_against_the_run_and_off_ignores_it() {
        let dir = tempfile::tempdir().unwrap();
        write_run_gate(dir.path(), Path::new("../gate-run")).unwrap();
        let want = dir.path().join("../gate-run");
        assert_eq!(run_gate(dir.path()).unwrap(), Some(want.clone()));
        assert_eq!(
            GateChoice::RunDefault.for_run(dir.path()).unwrap(),
            Some(want)
        );
        assert_eq!(GateChoice::Off.for_run(dir.path()).unwrap(), None);
        let absolute = dir.path().join("elsewhere");
        write_run_gate(dir.path(), &absolute).unwrap();
        assert_eq!(run_gate(dir.path()).unwrap(), Some(absolute));
    }

    #[test]
    fn a_malformed_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "",
            "[]",
            "{\"gate\": 3}",
            "{\"gate\": \"g\", \"extra\": 1}",
            "{\"gate\": \"\"}",
        ] {
            std::fs::write(dir.path().join(GATE_FILE), text).unwrap();
            let message = run_gate(dir.path()).unwrap_err().to_string();
            assert!(message.contains("gate.json"), "{text:?}: {message}");
        }
    }
}

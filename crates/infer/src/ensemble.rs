//! Ensembles: several runs of the same task and features that answer as one model.
//!
//! An ensemble directory holds `config.json` (its first member's, so that every reader of a
//! run directory reads it as one), `ensemble.json` (the member run directories, relative to
//! it) and `members/NAME/` copies of each member's `config.json`, `model.safetensors`,
//! `history.csv` and `model_card.md`, so that it ships as one folder. Its class
//! probabilities for a clip are the mean of its members' softmax outputs; everything after
//! that (events, windows, segments, gating, metrics) is as for one run. A member's own gate
//! (`gate.json`) is not carried over: an ensemble is gated by `--gate`, or by a `gate.json`
//! written into it.
//! [`RunNetworks::load`] reads a run directory either way; [`write_ensemble`] makes one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::Device;

use crate::config::ExperimentConfig;
use crate::data::FeatureSet;
use crate::data::batch::InputPipeline;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::scoring::{MODEL_FILE, clip_probabilities, load_network, probabilities};

/// File name of the member list inside an ensemble directory.
pub const ENSEMBLE_FILE: &str = "ensemble.json";

/// Files copied from each member into `members/NAME/` (those that exist).
const MEMBER_FILES: [&str; 4] = [
    crate::config::CONFIG_FILE,
    MODEL_FILE,
    "history.csv",
    "model_card.md",
];

/// `ensemble.json`: the member run directories, relative to the ensemble directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleSpec {
    /// How the members' probabilities are combined: `"mean"`.
    pub combine: String,
    /// Member run directories, relative to the ensemble directory.
    pub members: Vec<PathBuf>,
}

/// The networks behind a run directory: its own, or each member's of an ensemble, each with
/// the input pipeline (normalisation) of its own run.
#[derive(Debug)]
pub struct RunNetworks {
    members: Vec<(Network, InputPipeline)>,
}

impl RunNetworks {
    /// Loads the network of the run in `run_dir` (described by `config`), or the members'
    /// when it is an ensemble ([`ENSEMBLE_FILE`]).
    ///
    /// # Errors
    /// A missing or unreadable weights file or member, or a member whose task, classes or
    /// features differ from the ensemble's.
    pub fn load(run_dir: &Path, config: &ExperimentConfig, device: Device) -> Result<Self> {
        let Some(spec) = read_spec(run_dir)? else {
            return Ok(Self {
                members: vec![load_network(run_dir, config, device)?],
            });
        };
        let mut members = Vec::with_capacity(spec.members.len());
        for member in &spec.members {
            let dir = run_dir.join(member);
            let member_config = ExperimentConfig::load(&dir)?;
            check_member(&dir, &member_config, config)?;
            members.push(load_network(&dir, &member_config, device)?);
        }
        Ok(Self { members })
    }

    /// Number of networks (1 for a plain run).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: a run has at least one network.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Softmax probabilities of every clip of `set`, averaged over the networks.
    pub fn clip_probabilities(&self, set: &FeatureSet, batch_size: usize) -> Vec<Vec<f32>> {
        mean_rows(
            self.members
                .iter()
                .map(|(net, pipeline)| clip_probabilities(net, pipeline, set, batch_size)),
        )
    }

    /// Softmax probabilities of `n` clips given as consecutive f32 spectrograms `host`
    /// (each network normalising them its own way), averaged over the networks.
    pub fn host_probabilities(&self, host: &[f32], n: usize) -> Vec<Vec<f32>> {
        mean_rows(self.members.iter().map(|(net, pipeline)| {
            let x = pipeline.prepare(host, n);
            probabilities(net, &x)
        }))
    }

    /// Values per clip the networks take (the same for every member).
    pub fn clip_len(&self) -> usize {
        self.members.first().map_or(0, |(_, p)| p.clip_len())
    }
}

/// The mean of row-aligned probability tables (f64 sums, then f32); one table is returned
/// as it is, so a plain run's numbers are untouched.
fn mean_rows(tables: impl Iterator<Item = Vec<Vec<f32>>>) -> Vec<Vec<f32>> {
    let tables: Vec<Vec<Vec<f32>>> = tables.collect();
    if tables.len() == 1 {
        return tables.into_iter().next().unwrap_or_default();
    }
    let n = tables.len() as f64;
    let Some(first) = tables.first() else {
        return Vec::new();
    };
    (0..first.len())
        .map(|i| {
            (0..first[i].len())
                .map(|c| (tables.iter().map(|t| f64::from(t[i][c])).sum::<f64>() / n) as f32)
                .collect()
        })
        .collect()
}

/// `ensemble.json` of `run_dir`, if it is an ensemble.
fn read_spec(run_dir: &Path) -> Result<Option<EnsembleSpec>> {
    let path = run_dir.join(ENSEMBLE_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let spec: EnsembleSpec = serde_json::from_str(&text).map_err(|e| Error::json(&path, e))?;
    if spec.combine != "mean" {
        return Err(Error::run_dir(
            &path,
            format!("unknown combine {:?} (expected \"mean\")", spec.combine),
        ));
    }
    if spec.members.is_empty() {
        return Err(Error::run_dir(
            &path,
            "an ensemble needs at least one member",
        ));
    }
    Ok(Some(spec))
}

/// A member must classify the same units from the same clips: same dataset, task, classes
/// and features (the normalisation statistics aside, which each member applies itself).
fn check_member(dir: &Path, member: &ExperimentConfig, ensemble: &ExperimentConfig) -> Result<()> {
    let mut problems = Vec::new();
    if member.dataset != ensemble.dataset || member.task != ensemble.task {
        problems.push(format!(
            "task {} on {} (the ensemble's: {} on {})",
            member.task, member.dataset, ensemble.task, ensemble.dataset
        ));
    }
    if member.classes != ensemble.classes {
        problems.push("other classes".to_string());
    }
    if member.features != ensemble.features {
        problems
            .push("other feature settings (sample rate, spectrogram, clip or window)".to_string());
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::run_dir(
        dir,
        format!("cannot be an ensemble member here: {}", problems.join("; ")),
    ))
}

/// Makes `out_dir` an ensemble of the runs in `members` (mean of their probabilities):
/// copies each member's files into `out_dir/members/NAME/`, writes `ensemble.json`,
/// `config.json` (the first member's, with `command`) and a `model_card.md` listing the
/// members. Returns the ensemble's config.
///
/// # Errors
/// No member, a member that is not a finished run, members that do not fit together, two
/// members with the same directory name, or an `out_dir` that already holds a run.
pub fn write_ensemble(
    out_dir: &Path,
    members: &[PathBuf],
    command: &str,
) -> Result<ExperimentConfig> {
    let Some(first) = members.first() else {
        return Err(Error::InvalidConfig(
            "an ensemble needs at least one member".into(),
        ));
    };
    if out_dir.join(crate::config::CONFIG_FILE).exists() {
        return Err(Error::run_dir(
            out_dir,
            "already holds a run; choose a new folder for the ensemble",
        ));
    }
    let mut config = ExperimentConfig::load(first)?;
    let mut names = Vec::with_capacity(members.len());
    let mut configs = Vec::with_capacity(members.len());
    for dir in members {
        let member = ExperimentConfig::load(dir)?;
        check_member(dir, &member, &config)?;
        if !dir.join(MODEL_FILE).is_file() {
            return Err(Error::run_dir(
                dir,
                format!("no {MODEL_FILE} (has an epoch finished?)"),
            ));
        }
        if read_spec(dir)?.is_some() {
            return Err(Error::run_dir(
                dir,
                "is an ensemble itself; list its members instead",
            ));
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("member-{}", names.len()));
        if names.contains(&name) {
            return Err(Error::InvalidConfig(format!(
                "two members are called {name}; give the runs distinct directory names"
            )));
        }
        names.push(name);
        configs.push(member);
    }
    for (dir, name) in members.iter().zip(&names) {
        let target = out_dir.join("members").join(name);
        crate::fsutil::create_dir_all(&target)?;
        for file in MEMBER_FILES {
            let from = dir.join(file);
            if from.is_file() {
                std::fs::copy(&from, target.join(file)).map_err(|e| Error::io(&from, e))?;
            }
        }
    }
    let spec = EnsembleSpec {
        combine: "mean".into(),
        members: names.iter().map(|n| Path::new("members").join(n)).collect(),
    };
    let json = serde_json::to_string_pretty(&spec)
        .map_err(|e| Error::json(out_dir.join(ENSEMBLE_FILE), e))?;
    crate::fsutil::write_atomic(&out_dir.join(ENSEMBLE_FILE), format!("{json}\n").as_bytes())?;
    config.command = command.to_string();
    config.save(out_dir)?;
    let mut card = format!(
        "# lungsound model: ensemble of {} runs, {} task {}\n\nClass probabilities are the mean of the members' \
         softmax outputs (each member normalises its inputs with its own statistics); events, windows, \
         gating and scores then work as for one run.\n\n| member | architecture | selected from |\n|---|---|---|\n",
        members.len(),
        config.dataset,
        config.task
    );
    for ((dir, name), member) in members.iter().zip(&names).zip(&configs) {
        let _ = writeln!(
            card,
            "| `members/{name}` | {} | `{}` |",
            member.model.arch,
            dir.display()
        );
    }
    let _ = writeln!(card, "\n## Reproduce\n\n```sh\n{command}\n```");
    crate::fsutil::write_atomic(&out_dir.join("model_card.md"), card.as_bytes())?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_is_returned_unchanged_and_several_are_averaged() {
        let a = vec![vec![0.2f32, 0.8], vec![1.0, 0.0]];
        assert_eq!(mean_rows(std::iter::once(a.clone())), a);
        let b = vec![vec![0.4f32, 0.6], vec![0.0, 1.0]];
        let m = mean_rows([a, b].into_iter());
        assert!((m[0][0] - 0.3).abs() < 1e-7 && (m[0][1] - 0.7).abs() < 1e-7);
        assert_eq!(m[1], vec![0.5, 0.5]);
    }
}

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
//!
//! Members may see different spectrograms of the same clips (e.g. one on log-mel, one on
//! PCEN): `spectrogram`, `stack` and `input_size` may differ, while everything that decides
//! which clips are cut (sample rate, band-pass, clip length, padding, window hop, longest
//! event) must be the ensemble's. The members are grouped by their feature settings
//! ([`FeatureGroup`]); each group classifies its own spectrograms of the clips, and the
//! ensemble's probabilities are the mean over all members.
//! [`RunNetworks::load`] reads a run directory either way; [`write_ensemble`] makes one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::Device;

use crate::config::{ExperimentConfig, FeatureSettings};
use crate::data::FeatureSet;
use crate::data::batch::InputPipeline;
use crate::data::clips::ClipSpan;
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
/// the input pipeline (normalisation) of its own run, grouped by the features they see.
#[derive(Debug)]
pub struct RunNetworks {
    /// The group on the run's own features first, then one per other feature setting.
    groups: Vec<FeatureGroup>,
}

/// The members of an ensemble that see the same features.
pub struct FeatureGroup {
    /// Their feature settings.
    pub features: FeatureSettings,
    /// The extractor of `features`.
    pub extractor: lungsound_features::FeatureExtractor,
    members: Vec<(Network, InputPipeline)>,
}

impl std::fmt::Debug for FeatureGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureGroup")
            .field("features", &self.features)
            .field("members", &self.members.len())
            .finish()
    }
}

impl FeatureGroup {
    /// Number of networks in the group.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: a group has at least one network.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Softmax probabilities of every clip of `set` (computed with this group's features),
    /// averaged over the group's networks.
    pub fn clip_probabilities(&self, set: &FeatureSet, batch_size: usize) -> Vec<Vec<f32>> {
        mean_rows(
            self.members
                .iter()
                .map(|(net, pipeline)| clip_probabilities(net, pipeline, set, batch_size)),
        )
    }

    /// Softmax probabilities of `n` clips given as consecutive f32 spectrograms `host`
    /// (each network normalising them its own way), averaged over the group's networks.
    pub fn host_probabilities(&self, host: &[f32], n: usize) -> Vec<Vec<f32>> {
        mean_rows(self.members.iter().map(|(net, pipeline)| {
            let x = pipeline.prepare(host, n);
            probabilities(net, &x)
        }))
    }

    /// Values per clip the group's networks take.
    pub fn clip_len(&self) -> usize {
        self.members.first().map_or(0, |(_, p)| p.clip_len())
    }
}

impl RunNetworks {
    /// Loads the network of the run in `run_dir` (described by `config`), or the members'
    /// when it is an ensemble ([`ENSEMBLE_FILE`]).
    ///
    /// # Errors
    /// A missing or unreadable weights file or member, or a member whose task, classes or
    /// features differ from the ensemble's.
    pub fn load(run_dir: &Path, config: &ExperimentConfig, device: Device) -> Result<Self> {
        let mut networks = Self { groups: Vec::new() };
        let Some(spec) = read_spec(run_dir)? else {
            networks.add(config, load_network(run_dir, config, device)?)?;
            return Ok(networks);
        };
        for member in &spec.members {
            let dir = run_dir.join(member);
            let member_config = ExperimentConfig::load(&dir)?;
            check_member(&dir, &member_config, config)?;
            networks.add(&member_config, load_network(&dir, &member_config, device)?)?;
        }
        // The run's own features first (a group of none when no member has them).
        networks
            .groups
            .sort_by_key(|g| g.features != config.features);
        Ok(networks)
    }

    /// Adds a member to the group of its features (a new group for new features).
    fn add(&mut self, config: &ExperimentConfig, member: (Network, InputPipeline)) -> Result<()> {
        match self
            .groups
            .iter_mut()
            .find(|g| g.features == config.features)
        {
            Some(group) => group.members.push(member),
            None => self.groups.push(FeatureGroup {
                features: config.features.clone(),
                extractor: config.extractor()?,
                members: vec![member],
            }),
        }
        Ok(())
    }

    /// Number of networks (1 for a plain run).
    pub fn len(&self) -> usize {
        self.groups.iter().map(FeatureGroup::len).sum()
    }

    /// Always false: a run has at least one network.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The member groups, one per feature setting; the run's own features first.
    pub fn groups(&self) -> &[FeatureGroup] {
        &self.groups
    }

    /// Softmax probabilities of every clip of `set` (computed with `set_features`), averaged
    /// over all networks. Every group on other features gets its own spectrograms of the
    /// same clips from `features_of(group's features)`, which must list the same clips in
    /// the same order.
    ///
    /// # Errors
    /// Whatever `features_of` returns, or a group's set that does not have `set`'s clips.
    pub fn clip_probabilities(
        &self,
        set: &FeatureSet,
        set_features: &FeatureSettings,
        batch_size: usize,
        mut features_of: impl FnMut(&FeatureSettings) -> Result<FeatureSet>,
    ) -> Result<Vec<Vec<f32>>> {
        let mut tables = Vec::with_capacity(self.groups.len());
        for group in &self.groups {
            let own;
            let group_set: &FeatureSet = if &group.features == set_features {
                set
            } else {
                own = features_of(&group.features)?;
                // The same clips of the same units (labels may differ: a gate's set can be
                // built for the scored model's finer task).
                let units = |s: &FeatureSet| -> Vec<(String, Option<usize>)> {
                    s.units
                        .iter()
                        .map(|u| (u.record.clone(), u.event_index))
                        .collect()
                };
                let clips = |s: &FeatureSet| -> Vec<(usize, ClipSpan)> {
                    s.clips.iter().map(|c| (c.unit, c.span)).collect()
                };
                if units(&own) != units(set) || clips(&own) != clips(set) {
                    return Err(Error::InvalidConfig(format!(
                        "an ensemble member's features do not give the ensemble's clips ({} clips of {} \
                         units, against {} of {})",
                        own.len(),
                        own.units.len(),
                        set.len(),
                        set.units.len()
                    )));
                }
                &own
            };
            tables.push((group.len(), group.clip_probabilities(group_set, batch_size)));
        }
        Ok(weighted_mean_rows(tables))
    }
}

/// The mean over all networks from each group's mean: row-aligned tables weighted by their
/// group's size (f64 sums, then f32). One table is returned as it is, so a plain run's
/// numbers are untouched.
pub(crate) fn weighted_mean_rows(tables: Vec<(usize, Vec<Vec<f32>>)>) -> Vec<Vec<f32>> {
    if tables.len() == 1 {
        return tables.into_iter().next().map(|t| t.1).unwrap_or_default();
    }
    let total: usize = tables.iter().map(|t| t.0).sum();
    let Some((_, first)) = tables.first() else {
        return Vec::new();
    };
    (0..first.len())
        .map(|i| {
            (0..first[i].len())
                .map(|c| {
                    let sum: f64 = tables
                        .iter()
                        .map(|(n, t)| *n as f64 * f64::from(t[i][c]))
                        .sum();
                    (sum / total as f64) as f32
                })
                .collect()
        })
        .collect()
}

/// The mean of row-aligned probability tables (f64 sums, then f32); one table is returned
/// as it is, so a plain run's numbers are untouched.
fn mean_rows(tables: impl Iterator<Item = Vec<Vec<f32>>>) -> Vec<Vec<f32>> {
    weighted_mean_rows(tables.map(|t| (1, t)).collect())
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

/// A member must classify the same units from the same clips: same dataset, task, classes,
/// and clip settings. Its spectrogram (`spectrogram`, `stack`, `input_size`) may differ:
/// it then classifies its own spectrograms of those clips.
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
    if !same_clips(&member.features, &ensemble.features) {
        problems.push(
            "other clip settings (sample rate, band-pass, clip length, padding, window hop or longest event)"
                .to_string(),
        );
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::run_dir(
        dir,
        format!("cannot be an ensemble member here: {}", problems.join("; ")),
    ))
}

/// A few words on a member's spectrogram for the ensemble's card, e.g. "mel, 64 bands, PCEN".
fn features_summary(features: &FeatureSettings) -> String {
    let s = &features.spectrogram;
    let mut words = vec![s.kind.to_string()];
    if s.kind == lungsound_features::FeatureKind::Mel {
        words.push(format!("{} bands", s.n_mels));
    }
    words.push(if s.pcen.is_some() {
        "PCEN".to_string()
    } else if s.db {
        "dB".to_string()
    } else {
        "linear".to_string()
    });
    if !features.stack.is_empty() {
        words.push(format!("{} stacked below", features.stack.len()));
    }
    words.join(", ")
}

/// Whether two feature settings cut the same clips of a recording (they may still compute
/// different spectrograms of them).
pub(crate) fn same_clips(a: &FeatureSettings, b: &FeatureSettings) -> bool {
    let view = |f: &FeatureSettings| FeatureSettings {
        spectrogram: lungsound_features::FeatureConfig::default(),
        stack: Vec::new(),
        input_size: None,
        ..f.clone()
    };
    view(a) == view(b)
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
         gating and scores then work as for one run. Members on different spectrograms each compute \
         their own of the same clips.\n\n| member | architecture | features | selected from |\n|---|---|---|---|\n",
        members.len(),
        config.dataset,
        config.task
    );
    for ((dir, name), member) in members.iter().zip(&names).zip(&configs) {
        let _ = writeln!(
            card,
            "| `members/{name}` | {} | {} | `{}` |",
            member.model.arch,
            features_summary(&member.features),
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

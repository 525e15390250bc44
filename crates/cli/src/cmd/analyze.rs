//! `lungsound analyze` (being written).

use crate::outcome::Outcome;

/// Arguments of `lungsound analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {}

/// Runs `lungsound analyze`.
pub fn run(_args: AnalyzeArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`lungsound analyze` is not implemented yet")
}

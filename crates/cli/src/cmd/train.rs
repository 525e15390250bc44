//! `lungsound train` (being written).

use crate::outcome::Outcome;

/// Arguments of `lungsound train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {}

/// Runs `lungsound train`.
pub fn run(_args: TrainArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`lungsound train` is not implemented yet")
}

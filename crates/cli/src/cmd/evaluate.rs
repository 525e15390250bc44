//! `lungsound evaluate` (being written).

use crate::outcome::Outcome;

/// Arguments of `lungsound evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {}

/// Runs `lungsound evaluate`.
pub fn run(_args: EvaluateArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`lungsound evaluate` is not implemented yet")
}

//! `lungsound info` (being written).

use crate::outcome::Outcome;

/// Arguments of `lungsound info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {}

/// Runs `lungsound info`.
pub fn run(_args: InfoArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`lungsound info` is not implemented yet")
}

//! `lungsound features` (being written).

use crate::outcome::Outcome;

/// Arguments of `lungsound features`.
#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {}

/// Runs `lungsound features`.
pub fn run(_args: FeaturesArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`lungsound features` is not implemented yet")
}

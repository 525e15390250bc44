//! `lungsound predict` (being written).

use crate::outcome::Outcome;

/// Arguments of `lungsound predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {}

/// Runs `lungsound predict`.
pub fn run(_args: PredictArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`lungsound predict` is not implemented yet")
}

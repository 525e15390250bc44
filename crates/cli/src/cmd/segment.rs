//! `lungsound segment` (being written).

use crate::outcome::Outcome;

/// Arguments of `lungsound segment`.
#[derive(Debug, clap::Args)]
pub struct SegmentArgs {}

/// Runs `lungsound segment`.
pub fn run(_args: SegmentArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`lungsound segment` is not implemented yet")
}

//! One module per subcommand: its clap arguments and its `run` function.

pub mod analyze;
pub mod augment;
pub mod cache;
pub mod cv;
pub mod ensemble;
pub mod evaluate;
pub mod features;
pub mod info;
pub mod models;
pub mod predict;
pub mod segment;
pub mod serve;
pub mod train;

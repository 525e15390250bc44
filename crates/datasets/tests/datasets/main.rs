//! Integration tests for lungsound-datasets: the readers on tiny fixture
//! folders (`tests/fixtures/`) and on the real data in `../shared/data`
//! (skipped with a printed reason when it is absent).
#![allow(clippy::unwrap_used)]

mod fuzz;
mod icbhi_fixtures;
mod real_data;
mod segment_fixtures;
mod sprsound_fixtures;
mod util;

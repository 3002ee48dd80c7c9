//! Everything the tests, the benchmark and the fuzz targets share, in one crate: the cluster
//! double ([`Canned`]), the requesters as the API server names them, daprd's expected command
//! line, the worked example of section 10, the replayed fixtures of `test_data/` with the
//! expectations of every case, and [`evaluate`], which runs each Pod through the text splice
//! and the `Value` path and insists that they agree.

mod canned;
mod daprd_args;
pub mod fixtures;
mod requesters;
mod run;
mod stored;
mod worked_example;

pub use canned::{CANNED_TRUST_ANCHORS, CANNED_TRUST_ANCHORS as PEM, Canned, Recorded};
pub use daprd_args::*;
pub use requesters::{controller, controller_in};
pub use run::{Decision, Outcome, both_paths, control_plane, evaluate, mutated, run};
pub use stored::{TOKEN_VOLUME, stored};
pub use worked_example::*;

//! The ground floor: the words every layer above speaks. Nothing here imports anything else
//! of the crate, and no file here imports another.

pub mod dapr;
pub mod go;
pub mod json;
pub mod k8s;
pub mod problem;

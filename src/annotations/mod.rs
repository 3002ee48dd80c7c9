//! Every `dapr.io/*` Pod annotation that Dapr v1.18.3's injector reads: key, type, default and
//! effect in one table, parsed into one typed struct.
//!
//! Parsing follows Dapr's `SidecarConfig.setFromAnnotations`: presence, not emptiness, decides
//! whether an annotation applies; a value that cannot be parsed is ignored (the default stays)
//! and reported as a [`Problem`], which the policy turns into an admission warning. Each row
//! names its reader (`read.rs`), which does all the checking the value gets; the field it fills
//! is then read where the sidecar is built.

mod read;
mod table;
pub mod unknown;

pub use table::{
    ANNOTATIONS, AnnotationInfo, DaprAnnotations, PREFIX, Quantity, RawAnnotations, keys, known_in,
};

//! Kubernetes' own rules and objects, as the API server applies them: name formats, resource
//! quantities, and the small objects (env vars, ports, mounts, volumes) that injection adds.

pub mod names;
pub mod objects;
pub mod quantity;

//! Kubernetes' own rules and objects, as the API server applies them: name formats, resource
//! quantities, the small objects (env vars, ports, mounts, volumes) that injection adds, and
//! the defaults the API server gives a container it stores.

pub mod defaults;
pub mod names;
pub mod objects;
pub mod quantity;

//! The injection, natively, one topic a file: which Pods are injected (gating), daprd's flags
//! (args), its container (container), env vars (env), volumes and mounts (volumes), pluggable
//! components (components), the Dapr releases (profiles), what the policy adds beyond Dapr
//! (beyond), and the pod templates of workloads (workloads). Every test runs the whole core on a Pod as the API server sends it, with the
//! cluster answered by the shared `Canned` double.

use testing as support;

mod args;
mod beyond;
mod components;
mod container;
mod env;
mod gating;
mod profiles;
mod traps;
mod volumes;
mod workloads;

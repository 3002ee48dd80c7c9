//! The waPC shell: what Kubewarden's host calls, and the wire it speaks. It reads the payload,
//! hands the request to the gate ([`crate::admission`]) and turns the verdict into the
//! response the host expects, with the log lines the operator reads. Nothing here decides.
//!
//! - `wapc.rs`: the guest functions `validate` and `validate_settings`;
//! - `wire.rs`: the payload as the policy reads it, and the `ValidationResponse`;
//! - `log.rs`: log lines in the SDK drain's format.

mod log;
mod wapc;
mod wire;

pub use wapc::{validate, validate_settings, validate_with};
pub use wire::{
    AUDIT_APP_ID, AUDIT_DAPR_VERSION, AUDIT_NAMESPACE_DEFAULTS, AUDIT_SIDECAR_IMAGE,
    ValidationResponse,
};

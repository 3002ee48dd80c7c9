//! The lower bound of any policy that gives the section 10 Pod Dapr's sidecar: it returns the
//! policy's answer (`target/bench/section-10.response.json`, written by `make bench`) without
//! reading the request. What it costs the host to take that answer (parse it, compute and
//! encode the JSON patch, send it) every such policy costs; `benches/load.sh` measures it.

use kubewarden_policy_sdk::protocol_version_guest;
use kubewarden_policy_sdk::wapc_guest::prelude::*;

static RESPONSE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/response.json"));

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

fn validate(_: &[u8]) -> CallResult {
    Ok(RESPONSE.to_vec())
}

fn validate_settings(_: &[u8]) -> CallResult {
    Ok(br#"{"valid":true}"#.to_vec())
}

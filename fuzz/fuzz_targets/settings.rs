//! The settings payload: any bytes get `valid: true` or `valid: false` with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = dapr_sidecar_injector::validate_settings(data)
        .unwrap_or_else(|e| panic!("settings validation errored: {e}"));
    let parsed: serde_json::Value =
        serde_json::from_slice(&response).unwrap_or_else(|e| panic!("response is not JSON: {e}"));
    assert!(parsed["valid"].is_boolean(), "no verdict: {parsed}");
});

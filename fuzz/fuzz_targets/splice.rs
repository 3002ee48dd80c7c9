//! Differential: for any Pod text that is JSON, the policy's path (scan the text, splice the
//! sidecar in) must decide exactly as the `Value` path does, and splice valid JSON.
#![no_main]

use dapr_sidecar_injector::Settings;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use testing::{Canned, both_paths, controller};

/// Settings answer every lookup but the Components'.
fn cluster() -> Canned {
    Canned {
        components: Ok(vec![
            json!({"metadata": {"name": "c", "annotations": {"dapr.io/component-container": "{\"image\":\"i\",\"volumeMounts\":[{\"name\":\"x\",\"mountPath\":\"/x\"}]}"}}}),
        ]),
        ..Canned::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let settings: Settings = serde_json::from_value(json!({
        "mtlsEnabled": true,
        "trustAnchors": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "injectNamespaces": ["default"]
    }))
    .unwrap();
    // Panics when the two paths decide differently or the splice is not JSON.
    both_paths(&controller(), text, value, &settings, &cluster());
});

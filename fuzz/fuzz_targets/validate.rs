//! The raw `validate` payload: whatever bytes the host sends must get a response or an error,
//! never a panic. The cluster answers every lookup, so injection runs to the end.
#![no_main]

use testing::Canned;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let cluster = Canned {
        configuration: Ok(json!({"spec": {"mtls": {"enabled": "false"}}})),
        secret: Ok(json!({"data": {"ca.crt": "Q0E="}})),
        components: Ok(vec![
            json!({"metadata": {"name": "c", "annotations": {"dapr.io/component-container": "{\"image\":\"i\",\"volumeMounts\":[{\"name\":\"x\"}]}"}}}),
        ]),
        ..Canned::default()
    };
    let _ = dapr_sidecar_injector::validate_with(data, &cluster);
});

//! Differential: for any Pod text that is JSON, the policy's path (scan the text, splice the
//! sidecar in) must decide exactly as the `Value` path does, and splice valid JSON.
#![no_main]

use dapr_sidecar_injector::{Admission, Canned, Settings, evaluate, evaluate_json};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

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
    let admission = Admission {
        kind: "Pod",
        operation: "CREATE",
        namespace: "default",
        username: "system:serviceaccount:kube-system:replicaset-controller",
        groups: vec![],
    };
    let by_value = evaluate(&admission, value, &settings, &cluster());
    let by_text = evaluate_json(&admission, text, &settings, &cluster());
    let by_text = by_text.map_pod(|pod| {
        serde_json::from_str::<Value>(&pod)
            .unwrap_or_else(|e| panic!("the splice is not JSON ({e}): {pod}"))
    });
    assert_eq!(by_value.decision, by_text.decision);
    assert_eq!(by_value.warnings, by_text.warnings);
    assert_eq!(by_value.audit_annotations, by_text.audit_annotations);
});

//! The fixtures of `test_data/` through the policy's own code, natively: `validate_with` with
//! the replay sessions as the cluster. `tests/wasm_policy.rs` runs the same cases on policy.wasm.

use testing::fixtures as common;

use common::{Evaluation, Input, Replay, read_json};
use serde_json::Value;

fn evaluate(input: &Input) -> Evaluation {
    common::evaluate_natively(input)
}

testing::fixture_tests!(evaluate);

/// `test_data/` files whose names start with `prefix` and end with `suffix`.
fn test_data_files(prefix: &str, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::test_data(""))
        .expect("test_data/ is readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

fn has_fields(value: &Value, fields: &[&str]) -> bool {
    fields.iter().all(|f| value.get(f).is_some())
}

/// kwctl refuses an AdmissionRequest without `uid`, `kind`, `resource`, `operation` and
/// `userInfo`; the rest is what the API server sends a webhook.
const ADMISSION_REQUEST_FIELDS: &[&str] = &[
    "uid",
    "kind",
    "resource",
    "requestKind",
    "requestResource",
    "namespace",
    "operation",
    "userInfo",
    "object",
    "oldObject",
    "dryRun",
    "options",
];

#[test]
fn every_fixture_is_a_complete_admission_request() {
    let requests: Vec<String> = ["pod_", "deployment_", "workload_"]
        .iter()
        .flat_map(|prefix| test_data_files(prefix, ".json"))
        .collect();
    assert!(requests.len() >= 15, "{requests:?}");
    for name in requests {
        let r = read_json(&name);
        assert!(has_fields(&r, ADMISSION_REQUEST_FIELDS), "{name}");
        for gvk in ["kind", "requestKind"] {
            assert!(
                has_fields(&r[gvk], &["group", "version", "kind"]),
                "{name}: {gvk}"
            );
        }
        for gvr in ["resource", "requestResource"] {
            assert!(
                has_fields(&r[gvr], &["group", "version", "resource"]),
                "{name}: {gvr}"
            );
        }
        assert!(
            has_fields(&r["userInfo"], &["username", "uid", "groups"]),
            "{name}"
        );
    }
}

/// Kubewarden's audit scanner (`newAdmissionRequest`): a CREATE that names no requester,
/// whose `resource.resource` is the kind, and whose object is a Pod as the API server stores it.
#[test]
fn every_audit_fixture_is_shaped_as_the_audit_scanner_sends_it() {
    let requests = test_data_files("audit_", ".json");
    assert!(requests.len() >= 8, "{requests:?}");
    for name in requests {
        let r = read_json(&name);
        let pod = &r["object"];
        assert_eq!(r["operation"], "CREATE", "{name}");
        assert_eq!(r["userInfo"], serde_json::json!({}), "{name}");
        assert_eq!(r["resource"]["resource"], "Pod", "{name}");
        assert_eq!(r["kind"]["kind"], "Pod", "{name}");
        assert_eq!(r["uid"], pod["metadata"]["uid"], "{name}");
        assert_eq!(r["name"], pod["metadata"]["name"], "{name}");
        for stored in [
            "/metadata/resourceVersion",
            "/metadata/creationTimestamp",
            "/spec/nodeName",
            "/status/phase",
        ] {
            assert!(
                pod.pointer(stored).is_some_and(|v| !v.is_null()),
                "{name}: {stored}"
            );
        }
    }
}

#[test]
fn every_session_is_a_kwctl_session_the_harness_can_replay() {
    let sessions = test_data_files("session_", ".yml");
    assert!(sessions.len() >= 5, "{sessions:?}");
    for session in sessions {
        // Loading checks the format and that every request is one this policy makes.
        Replay::load(&session);
    }
}

#[test]
fn every_settings_file_is_valid() {
    for name in test_data_files("settings_", ".json") {
        let payload = serde_json::to_vec(&read_json(&name)).unwrap();
        let answer = dapr_sidecar_injector::validate_settings(&payload).unwrap();
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["valid"], true, "{name}: {answer}");
    }
}

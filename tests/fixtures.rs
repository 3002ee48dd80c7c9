//! The fixtures of `test_data/` through the policy's own code, natively: `validate_with` with
//! the replay sessions as the cluster. `tests/wasm_policy.rs` runs the same cases on policy.wasm.

mod common;

use common::{Evaluation, Input, Replay, read_json};
use serde_json::Value;

fn evaluate(input: &Input) -> Evaluation {
    common::evaluate_natively(input)
}

common::cases::fixture_tests!(evaluate);

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

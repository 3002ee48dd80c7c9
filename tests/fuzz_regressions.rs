//! Inputs kept from fuzzing (fuzz/regressions/<target>/): each must still get an answer, not a
//! panic or an error, through the same entry points the fuzz targets drive.

use std::fs;
use std::path::Path;

use dapr_sidecar_injector::Offline;
use serde_json::Value;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new("fuzz/regressions").join(target);
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .map(|path| (path.display().to_string(), fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_validate_input_gets_a_response() {
    for (name, bytes) in inputs("validate") {
        let response = dapr_sidecar_injector::validate_with(&bytes, &Offline)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let parsed: Value =
            serde_json::from_slice(&response).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(parsed["accepted"].is_boolean(), "{name}: {parsed}");
    }
}

#[test]
fn every_kept_settings_input_gets_a_verdict() {
    let kept = inputs("settings");
    assert!(!kept.is_empty());
    for (name, bytes) in kept {
        let response = dapr_sidecar_injector::validate_settings(&bytes)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let parsed: Value = serde_json::from_slice(&response).unwrap();
        assert_eq!(parsed["valid"], Value::Bool(false), "{name}: {parsed}");
    }
}

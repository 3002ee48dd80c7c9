//! Shared by `tests/wasm_policy.rs` (the built policy.wasm) and `tests/fixtures.rs` (the same
//! code natively): fixtures, replay sessions, evaluation, and the expectations of every case.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod cases;
pub mod replay;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub use replay::{Replay, ReplayCluster};

/// The session of a case that must make no host call at all.
pub const NO_LOOKUPS: &str = "session_no_lookups.yml";
/// The `sidecarImage` default: Dapr's chart for v1.18.3.
pub const DAPRD_IMAGE: &str = "ghcr.io/dapr/daprd:1.18.3";

pub fn repository_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn test_data(name: &str) -> PathBuf {
    repository_path("test_data").join(name)
}

pub fn read_json(name: &str) -> Value {
    let path = test_data(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What one evaluation is given: an AdmissionRequest, the policy settings and the replay
/// session that plays the cluster.
#[derive(Debug, Clone)]
pub struct Input {
    pub request: Value,
    pub settings: Value,
    pub session: &'static str,
}

impl Input {
    /// A fixture of `test_data/`, with settings from `test_data/` or `{}`.
    pub fn new(fixture: &str, session: &'static str, settings: Option<&str>) -> Input {
        Input {
            request: read_json(fixture),
            settings: settings.map_or_else(|| json!({}), read_json),
            session,
        }
    }

    /// The same request carrying another object (the second pass of an injection).
    pub fn with_object(&self, object: Value, session: &'static str) -> Input {
        let mut request = self.request.clone();
        request["object"] = object;
        Input {
            request,
            settings: self.settings.clone(),
            session,
        }
    }

    /// What the host hands the guest's `validate`.
    pub fn payload(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({"settings": self.settings, "request": self.request}))
            .expect("JSON serialises")
    }
}

/// The policy's answer to one [`Input`].
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The `ValidationResponse`, as JSON.
    pub response: Value,
    pub request_object: Value,
    /// Lines the guest sent to `tracing/log` (wasm only).
    pub logs: Vec<Value>,
    /// The `daprVersion` of the settings, for the audit annotation.
    pub dapr_version: String,
}

impl Evaluation {
    pub fn new(input: &Input, raw_response: &[u8], logs: Vec<Value>) -> Evaluation {
        let response = serde_json::from_slice(raw_response).unwrap_or_else(|e| {
            panic!(
                "the response is not JSON ({e}): {}",
                String::from_utf8_lossy(raw_response)
            )
        });
        Evaluation {
            response,
            request_object: input.request["object"].clone(),
            logs,
            dapr_version: input.settings["daprVersion"]
                .as_str()
                .unwrap_or("1.18")
                .to_owned(),
        }
    }

    pub fn mutated_object(&self) -> Option<&Value> {
        Some(&self.response["mutated_object"]).filter(|m| !m.is_null())
    }

    /// The JSON patch the Kubewarden host sends the API server: the same `json_patch::diff`.
    pub fn patch(&self) -> Value {
        let mutated = self
            .mutated_object()
            .unwrap_or_else(|| panic!("no mutated_object in {}", self.response));
        serde_json::to_value(json_patch::diff(&self.request_object, mutated))
            .expect("a patch serialises")
    }

    /// The response without the mutated object, which cases check through the patch.
    fn verdict(&self) -> Value {
        let mut verdict = self.response.clone();
        verdict["mutated_object"] = json!(self.mutated_object().map(|_| "<checked as a patch>"));
        verdict
    }

    pub fn assert_accepted_untouched(&self) {
        assert_json_eq(
            &self.verdict(),
            &response(true, None, None, None),
            "the response",
        );
    }

    pub fn assert_accepted_with_warnings(&self, warnings: &[&str]) {
        let expected = response(true, None, Some(warnings), None);
        assert_json_eq(&self.verdict(), &expected, "the response");
    }

    pub fn assert_rejected(&self, message: &str) {
        let expected = response(false, Some(message), None, None);
        assert_json_eq(&self.verdict(), &expected, "the response");
    }

    pub fn assert_rejected_with_warnings(&self, message: &str, warnings: &[&str]) {
        let expected = response(false, Some(message), Some(warnings), None);
        assert_json_eq(&self.verdict(), &expected, "the response");
    }

    /// Injected: app id, sidecar image and Dapr release audited, these warnings, and exactly
    /// this patch.
    pub fn assert_injected(&self, app_id: &str, warnings: &[&str], patch: Value) {
        let audit = json!({"app-id": app_id, "sidecar-image": DAPRD_IMAGE, "dapr-version": self.dapr_version});
        let mut expected = response(true, None, Some(warnings), Some(audit));
        expected["mutated_object"] = json!("<checked as a patch>");
        assert_json_eq(&self.verdict(), &expected, "the response");
        assert_json_eq(&self.patch(), &patch, "the patch");
    }
}

/// `assert_eq!` for JSON that shows what differs: the patch from the expected value to the
/// actual one, then the actual value.
pub fn assert_json_eq(actual: &Value, expected: &Value, what: &str) {
    if actual != expected {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("JSON serialises");
        let difference =
            serde_json::to_value(json_patch::diff(expected, actual)).expect("a patch serialises");
        panic!(
            "{what} is not as expected.\nFrom expected to actual: {}\nActual: {}",
            pretty(&difference),
            pretty(actual)
        );
    }
}

/// A whole `ValidationResponse` without a mutated object; empty warnings are `null`.
fn response(
    accepted: bool,
    message: Option<&str>,
    warnings: Option<&[&str]>,
    audit_annotations: Option<Value>,
) -> Value {
    json!({
        "accepted": accepted,
        "message": message,
        "code": null,
        "mutated_object": null,
        "audit_annotations": audit_annotations,
        "warnings": warnings.filter(|w| !w.is_empty()),
    })
}

/// `validate_with` on the policy's own code, its lookups answered by the case's session.
pub fn evaluate_natively(input: &Input) -> Evaluation {
    let cluster = ReplayCluster(Replay::load(input.session));
    let raw = dapr_sidecar_injector::validate_with(&input.payload(), &cluster)
        .unwrap_or_else(|e| panic!("validate_with failed: {e}"));
    if let Err(problems) = cluster.0.finish() {
        panic!("{problems}");
    }
    Evaluation::new(input, &raw, Vec::new())
}

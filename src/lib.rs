//! Kubewarden policy that injects Dapr's `daprd` sidecar, as Dapr v1.18.3's injector does.
//!
//! This file is the waPC shell: it registers the guest functions and translates between the
//! AdmissionRequest and [`inject::evaluate`], the pure core.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate kubewarden_policy_sdk as kubewarden;

pub mod annotations;
pub mod authz;
pub mod cluster;
pub mod components;
pub mod dapr_0_11;
pub mod env_vars;
pub mod inject;
pub mod log;
pub mod names;
pub mod owner;
pub mod patcher;
pub mod pod;
pub mod profiles;
pub mod quantity;
pub mod raw_pod;
pub mod settings;
pub mod sidecar;
pub mod unknown_annotations;
pub mod volumes;

use guest::prelude::*;
use kubewarden::settings::SettingsValidationResponse;
use kubewarden::{protocol_version_guest, wapc_guest as guest};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::cluster::{Cluster, HostCluster};
use crate::inject::{Admission, Decision};
use crate::log::{Level, Logger};
use crate::settings::Settings;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

/// Settings errors, including unknown keys and wrong types, come back as `valid: false` with a
/// message instead of a host error, so the PolicyServer reports what to fix.
pub fn validate_settings(payload: &[u8]) -> CallResult {
    let verdict = match parse_settings(payload) {
        Ok(settings) => settings.validate(),
        Err(message) => Err(message),
    };
    let response = match verdict {
        Ok(()) => SettingsValidationResponse {
            valid: true,
            message: None,
        },
        Err(message) => SettingsValidationResponse {
            valid: false,
            message: Some(message),
        },
    };
    Ok(serde_json::to_vec(&response)?)
}

/// Settings must be an object (or absent): serde would also read a list as a struct. Parsed
/// straight from the bytes, as `validate` does, so one deserializer serves both.
fn parse_settings(payload: &[u8]) -> Result<Settings, String> {
    let text = payload.trim_ascii();
    if text == b"null" {
        return Ok(Settings::default());
    }
    if !text.starts_with(b"{") {
        return Err("invalid settings: expected a JSON object".to_owned());
    }
    serde_json::from_slice(payload).map_err(|e| format!("invalid settings: {e}"))
}

/// Kubewarden's `ValidationResponse`, field for field. The SDK's type keeps audit annotations
/// in a `HashMap`, whose hashing costs the module size budget; an ordered map serialises the
/// same JSON object.
struct ValidationResponse<'a> {
    accepted: bool,
    message: Option<String>,
    code: Option<u16>,
    /// JSON text: the Pod with the sidecar spliced in.
    mutated_object: Option<&'a str>,
    audit_annotations: Option<std::collections::BTreeMap<String, String>>,
    warnings: Option<Vec<String>>,
}

impl ValidationResponse<'_> {
    /// Written by hand so that the mutated Pod, JSON text already, is copied in as it is; as a
    /// serde `RawValue` it would be parsed once more, at a tenth of the evaluation's cost.
    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        fn field<T: serde::Serialize>(
            out: &mut Vec<u8>,
            key: &str,
            value: &T,
        ) -> serde_json::Result<()> {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            serde_json::to_writer(out, value)
        }
        let pod = self.mutated_object.unwrap_or("null");
        let mut out = Vec::with_capacity(pod.len().saturating_add(512));
        out.extend_from_slice(b"{\"accepted\":");
        serde_json::to_writer(&mut out, &self.accepted)?;
        field(&mut out, "message", &self.message)?;
        field(&mut out, "code", &self.code)?;
        out.extend_from_slice(b",\"mutated_object\":");
        out.extend_from_slice(pod.as_bytes());
        field(&mut out, "audit_annotations", &self.audit_annotations)?;
        field(&mut out, "warnings", &self.warnings)?;
        out.push(b'}');
        Ok(out)
    }
}

/// The `validate` payload, reduced to what the policy reads. The SDK's `ValidationRequest`
/// reads every AdmissionRequest field; this keeps the module within its size budget.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Payload<'a> {
    settings: Settings,
    #[serde(borrow)]
    request: AdmissionRequest<'a>,
}

/// The Pod stays text: the policy reads a few fields of it and splices the sidecar in.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AdmissionRequest<'a> {
    kind: GroupVersionKind,
    operation: String,
    namespace: String,
    user_info: UserInfo,
    #[serde(borrow)]
    object: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GroupVersionKind {
    kind: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UserInfo {
    username: String,
    groups: Vec<String>,
}

pub fn validate(payload: &[u8]) -> CallResult {
    validate_with(payload, &HostCluster)
}

/// `validate` with the cluster given: native tests pass one that answers from replay files.
pub fn validate_with(payload: &[u8], cluster: &dyn Cluster) -> CallResult {
    let payload: Payload = match serde_json::from_slice(payload) {
        Ok(payload) => payload,
        Err(e) => {
            return Ok(ValidationResponse {
                accepted: false,
                message: Some(format!(
                    "cannot read the admission request or the policy settings: {e}"
                )),
                code: None,
                mutated_object: None,
                audit_annotations: None,
                warnings: None,
            }
            .to_json()?);
        }
    };
    let request = &payload.request;
    let admission = Admission {
        kind: &request.kind.kind,
        operation: &request.operation,
        namespace: &request.namespace,
        username: &request.user_info.username,
        groups: request
            .user_info
            .groups
            .iter()
            .map(String::as_str)
            .collect(),
    };
    let object = request.object.map_or("null", RawValue::get);
    let outcome = inject::evaluate_json(&admission, object, &payload.settings, cluster);

    let log = Logger {
        namespace: admission.namespace,
        generate_name: &outcome.generate_name,
    };
    for note in &outcome.log_notes {
        log.log(Level::Warning, note, &[]);
    }
    let warnings =
        (!outcome.warnings.is_empty()).then(|| annotations::limit_warnings(outcome.warnings));
    let audit_annotations = (!outcome.audit_annotations.is_empty()).then(|| {
        outcome
            .audit_annotations
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
    });
    let (accepted, message, mutated_object) = match &outcome.decision {
        Decision::Accept => (true, None, None),
        // No log line: the audit annotations record every injection, and a host call costs
        // a twentieth of an evaluation.
        Decision::Mutate(pod) => (true, None, Some(pod.as_str())),
        Decision::Reject(message) => {
            log.log(Level::Info, "pod rejected", &[("reason", message)]);
            (false, Some(message.clone()), None)
        }
    };
    let response = ValidationResponse {
        accepted,
        message,
        code: None,
        mutated_object,
        audit_annotations,
        warnings,
    };
    Ok(response.to_json()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn the_response_copies_the_pod_text_in_and_serialises_every_other_field() {
        let response = ValidationResponse {
            accepted: true,
            message: Some("a \"quoted\" message".to_owned()),
            code: Some(400),
            mutated_object: Some(r#"{"kind": "Pod",  "spec":{}}"#),
            audit_annotations: Some([("k".to_owned(), "v".to_owned())].into()),
            warnings: Some(vec!["w".to_owned()]),
        };
        let text = String::from_utf8(response.to_json().unwrap()).unwrap();
        assert!(
            text.contains(r#""mutated_object":{"kind": "Pod",  "spec":{}},"#),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"accepted": true, "message": "a \"quoted\" message", "code": 400,
                   "mutated_object": {"kind": "Pod", "spec": {}},
                   "audit_annotations": {"k": "v"}, "warnings": ["w"]})
        );
        let empty = ValidationResponse {
            accepted: false,
            message: None,
            code: None,
            mutated_object: None,
            audit_annotations: None,
            warnings: None,
        };
        assert_eq!(
            serde_json::from_slice::<Value>(&empty.to_json().unwrap()).unwrap(),
            json!({"accepted": false, "message": null, "code": null, "mutated_object": null,
                   "audit_annotations": null, "warnings": null})
        );
    }
}

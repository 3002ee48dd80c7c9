//! Kubewarden policy that injects Dapr's `daprd` sidecar, as Dapr v1.18.3's injector does.
//!
//! This file is the waPC shell: it registers the guest functions, reads the payload, hands the
//! Pod to the core ([`inject`]) and writes the answer the host expects. It is also the crate's
//! facade: the command line, the benchmark and the tests use what is `pub` here.
//!
//! The layers, each importing only those below it:
//! - `admission/`: the gate: Pods are injected, workloads' pod templates checked;
//! - `sidecar/`: what is added, built from the annotations, the settings and the cluster;
//! - `cluster.rs`: the host lookups, behind one trait; `settings.rs`; `authz.rs`;
//! - `profiles.rs`: what differs between Dapr releases;
//! - `pod/`: the Pod's JSON in and out; `plan.rs`: what is added, and Dapr's add-if-absent rules;
//! - `annotations/`: the table of every `dapr.io/*` annotation and its reader;
//! - `base/`: Dapr's names, Go's rules, Kubernetes' rules, and the problems the policy reports.

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

mod admission;
mod annotations;
mod authz;
mod base;
mod cluster;
mod log;
mod plan;
mod pod;
mod profiles;
mod settings;
mod sidecar;

use guest::prelude::*;
use kubewarden::settings::SettingsValidationResponse;
use kubewarden::{protocol_version_guest, wapc_guest as guest};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

pub use crate::admission::{
    Admission, Injection, Report, Skip, Status, Verdict, Workload, workload_kinds,
};
pub use crate::annotations::{ANNOTATIONS, AnnotationInfo};
pub use crate::base::dapr::DaprVersion;
pub use crate::base::k8s::names::{dns1123_label, is_env_var_name, qualified_name};
pub use crate::base::k8s::objects::annotation;
pub use crate::base::k8s::quantity::nano_value;
pub use crate::base::problem::{Asked, Finding, Problem, Reason, Rejection};
pub use crate::cluster::{
    CANNED_TRUST_ANCHORS, COMPONENT_KIND, CONFIG_MAP_API_VERSION, CONFIG_MAP_KIND,
    CONFIGURATION_KIND, Canned, Cluster, DAPR_API_VERSION, Offline, SECRET_API_VERSION,
    SECRET_KIND,
};
pub use crate::settings::{
    InvalidAnnotations, Mode, Releases, SETTING_KEYS, SETTINGS, SecurityProfile, SettingInfo,
    Settings, settings_error, settings_from_value,
};

use crate::admission::Object;
use crate::base::problem::{limit_warnings, warnings_of};
use crate::cluster::HostCluster;
use crate::log::{Level, Logger};
use crate::pod::Pod;

/// Audit annotations of every injection. The API server records each as `<webhook>/<key>`,
/// which must be a qualified name: one `/`, so the keys have none.
pub const AUDIT_APP_ID: &str = "app-id";
pub const AUDIT_SIDECAR_IMAGE: &str = "sidecar-image";
/// The Dapr release whose layout was injected (setting `daprVersion`).
pub const AUDIT_DAPR_VERSION: &str = "dapr-version";

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

/// Settings errors, including unknown keys and wrong types, come back as `valid: false` with a
/// message instead of a host error, so the PolicyServer reports what to fix.
pub fn validate_settings(payload: &[u8]) -> CallResult {
    let verdict = match settings::parse(payload) {
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

/// Kubewarden's `ValidationResponse`, field for field. The SDK's type keeps audit annotations
/// in a `HashMap`, whose hashing costs the module size budget; an ordered map serialises the
/// same JSON object.
struct ValidationResponse {
    accepted: bool,
    message: Option<String>,
    code: Option<u16>,
    /// JSON text: the Pod with the sidecar spliced in.
    mutated_object: Option<String>,
    audit_annotations: Option<std::collections::BTreeMap<String, String>>,
    warnings: Option<Vec<String>>,
}

impl ValidationResponse {
    fn rejection(message: String) -> Self {
        ValidationResponse {
            accepted: false,
            message: Some(message),
            code: None,
            mutated_object: None,
            audit_annotations: None,
            warnings: None,
        }
    }

    /// The outcome as the host reads it. A plain injection is not logged: the audit
    /// annotations record it, and a host call costs a twentieth of an evaluation.
    fn of(outcome: Outcome<String>) -> Self {
        let (accepted, message, mutated_object) = match outcome.decision {
            Decision::Accept => (true, None, None),
            Decision::Mutate(pod) => (true, None, Some(pod)),
            Decision::Reject(message) => (false, Some(message), None),
        };
        ValidationResponse {
            accepted,
            message,
            code: None,
            mutated_object,
            audit_annotations: (!outcome.audit_annotations.is_empty())
                .then(|| outcome.audit_annotations.into_iter().collect()),
            warnings: (!outcome.warnings.is_empty()).then(|| limit_warnings(outcome.warnings)),
        }
    }

    /// Written by hand around the mutated Pod, JSON text already: as a serde `RawValue` it
    /// would be parsed once more, at a tenth of the evaluation's cost. The host reads the
    /// fields by name, so the Pod comes first and the answer is built in the Pod's own buffer
    /// (the splice leaves room for the rest): no second copy of the Pod, no more pages.
    fn into_json(self) -> serde_json::Result<Vec<u8>> {
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
        let mut pod = self.mutated_object.unwrap_or_else(|| "null".to_owned());
        pod.insert_str(0, "{\"mutated_object\":");
        let mut out = pod.into_bytes();
        field(&mut out, "accepted", &self.accepted)?;
        field(&mut out, "message", &self.message)?;
        field(&mut out, "code", &self.code)?;
        field(&mut out, "audit_annotations", &self.audit_annotations)?;
        field(&mut out, "warnings", &self.warnings)?;
        out.push(b'}');
        Ok(out)
    }
}

/// The `validate` payload, reduced to what the policy reads. The SDK's `ValidationRequest`
/// reads every AdmissionRequest field; this keeps the module within its size budget.
/// Defaults per field: a default for the whole struct would build default settings for
/// every request, and throw them away.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(default)]
    settings: Settings,
    #[serde(borrow, default)]
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

/// The policy's answer to one request, as the admission response carries it: `P` is the
/// mutated Pod, JSON text from [`evaluate_json`] or a `Value` from [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<P = Value> {
    pub decision: Decision<P>,
    /// Admission warnings, shown by `kubectl`.
    pub warnings: Vec<String>,
    pub audit_annotations: Vec<(String, String)>,
    /// Notes for the operator's log (never secrets).
    pub log_notes: Vec<String>,
    /// The Pod's `metadata.generateName`, for the log.
    pub generate_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision<P = Value> {
    /// Allowed as it is.
    Accept,
    /// Allowed with the daprd sidecar.
    Mutate(P),
    /// Rejected, with the reason shown to the user.
    Reject(String),
}

impl Outcome<String> {
    /// The verdict in the words of the admission response.
    fn of(verdict: Verdict, generate_name: &str) -> Outcome<String> {
        let outcome = |decision, problems: &[Problem], log_notes| Outcome {
            decision,
            warnings: warnings_of(problems),
            audit_annotations: Vec::new(),
            log_notes,
            generate_name: generate_name.to_owned(),
        };
        match verdict {
            Verdict::Accept { problems, .. } => Outcome {
                generate_name: String::new(),
                ..outcome(Decision::Accept, &problems, Vec::new())
            },
            Verdict::Reject(r) => outcome(
                Decision::Reject(r.reason.to_string()),
                &r.problems,
                Vec::new(),
            ),
            Verdict::Inject(injection) => Outcome {
                audit_annotations: vec![
                    (AUDIT_APP_ID.to_owned(), injection.app_id),
                    (AUDIT_SIDECAR_IMAGE.to_owned(), injection.image),
                    (
                        AUDIT_DAPR_VERSION.to_owned(),
                        injection.dapr_version.name().to_owned(),
                    ),
                ],
                ..outcome(
                    Decision::Mutate(injection.pod),
                    &injection.problems,
                    injection.log_notes,
                )
            },
        }
    }
}

impl<P> Outcome<P> {
    /// A Pod allowed as it is, with these warnings.
    pub fn accept(warnings: Vec<String>) -> Self {
        Outcome {
            decision: Decision::Accept,
            warnings,
            audit_annotations: Vec::new(),
            log_notes: Vec::new(),
            generate_name: String::new(),
        }
    }

    /// The same outcome, with the mutated Pod (if any) converted.
    pub fn map_pod<Q>(self, convert: impl FnOnce(P) -> Q) -> Outcome<Q> {
        Outcome {
            decision: match self.decision {
                Decision::Accept => Decision::Accept,
                Decision::Mutate(pod) => Decision::Mutate(convert(pod)),
                Decision::Reject(message) => Decision::Reject(message),
            },
            warnings: self.warnings,
            audit_annotations: self.audit_annotations,
            log_notes: self.log_notes,
            generate_name: self.generate_name,
        }
    }
}

/// The policy's path: the request's object as text; a Pod gets the sidecar spliced in. Text
/// in another shape than the API server's goes through a parsed `Value`. `text` must be valid JSON, as
/// serde_json's `RawValue` has checked it in `validate`.
pub fn evaluate_json(
    admission: &Admission<'_>,
    text: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Outcome<String> {
    let answer = admission::evaluate(admission, Object::Text(text), settings, cluster);
    Outcome::of(answer.verdict, &answer.generate_name)
}

/// The `Value` path, for a parsed object: the tests hold it against [`evaluate_json`].
pub fn evaluate(
    admission: &Admission<'_>,
    object: Value,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Outcome {
    let answer = admission::evaluate(admission, Object::Value(object), settings, cluster);
    // Our own serialisation parses back; `null` would only hide a fault the tests would see.
    Outcome::of(answer.verdict, &answer.generate_name)
        .map_pod(|text| serde_json::from_slice(text.as_bytes()).unwrap_or(Value::Null))
}

/// Injects a Pod or pod template of a manifest: no admission, no requester to check.
pub fn inject_manifest_pod(
    object: Value,
    namespace: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    admission::inject_pod(Pod::parsed(object), namespace, None, settings, cluster)
}

/// Injects the pod template of a workload in a manifest, offline: no requester to check.
pub fn inject_manifest_template(
    template: Value,
    workload: Workload<'_>,
    namespace: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    admission::inject_template(template, workload, namespace, settings, cluster)
}

/// A Pod or pod template without what injection added; `None` when it has no daprd.
pub fn uninject_manifest_pod(pod: Value) -> Option<Value> {
    admission::uninject(pod)
}

/// Verifies a Pod of a manifest or a cluster listing: judged on its own, no requester.
pub fn verify_manifest_pod(object: Value, namespace: &str, settings: &Settings) -> Report {
    admission::verify_pod(object, namespace, None, settings)
}

pub fn validate(payload: &[u8]) -> CallResult {
    validate_with(payload, &HostCluster)
}

/// `validate` with the cluster given: native tests pass one that answers from replay files.
pub fn validate_with(payload: &[u8], cluster: &dyn Cluster) -> CallResult {
    let payload: Payload = match serde_json::from_slice(payload) {
        Ok(payload) => payload,
        Err(e) => {
            let message = format!("cannot read the admission request or the policy settings: {e}");
            return Ok(ValidationResponse::rejection(message).into_json()?);
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
    let outcome = evaluate_json(&admission, object, &payload.settings, cluster);
    let log = Logger {
        namespace: admission.namespace,
        generate_name: &outcome.generate_name,
    };
    for note in &outcome.log_notes {
        log.log(Level::Warning, note, &[]);
    }
    if let Decision::Reject(message) = &outcome.decision {
        log.log(Level::Info, "pod rejected", &[("reason", message)]);
    }
    Ok(ValidationResponse::of(outcome).into_json()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The webhook Kubewarden's controller registers for a ClusterAdmissionPolicy: before
    /// 1.37.2 (`clusterwide-<policy>`), and from 1.37.2 on (`kw.cap.<policy>`).
    const WEBHOOKS: [&str; 2] = [
        "clusterwide-dapr-sidecar-injector.kubewarden.admission",
        "kw.cap.dapr-sidecar-injector",
    ];

    #[test]
    fn every_audit_key_makes_a_qualified_name_under_either_webhook_name() {
        for webhook in WEBHOOKS {
            for key in [AUDIT_APP_ID, AUDIT_SIDECAR_IMAGE, AUDIT_DAPR_VERSION] {
                let stored = format!("{webhook}/{key}");
                assert_eq!(qualified_name(&stored), Ok(()), "{stored}");
            }
            // The keys before: the API server refused every one.
            assert!(qualified_name(&format!("{webhook}/dapr.io/app-id")).is_err());
        }
    }

    #[test]
    fn an_injection_answer_is_written_in_the_room_the_splice_leaves_after_the_pod() {
        let pod = r#"{"kind":"Pod","spec":{"containers":[]}}"#;
        let mut spliced = String::with_capacity(pod.len() + crate::pod::ANSWER_ROOM);
        spliced.push_str(pod);
        let buffer = spliced.as_ptr();
        let response = ValidationResponse {
            accepted: true,
            message: None,
            code: None,
            mutated_object: Some(spliced),
            audit_annotations: Some(
                [
                    // The longest app id Kubernetes allows in a label, a mirrored image.
                    (AUDIT_APP_ID, "a".repeat(63).as_str()),
                    (
                        AUDIT_SIDECAR_IMAGE,
                        "registry.internal.example.com:5000/mirrors/ghcr.io/dapr/daprd:1.18.3-mariner",
                    ),
                    (AUDIT_DAPR_VERSION, "1.18"),
                ]
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .into(),
            ),
            warnings: None,
        };
        let answer = response.into_json().unwrap();
        assert_eq!(
            answer.as_ptr(),
            buffer,
            "the Pod was copied to a new buffer"
        );
    }

    #[test]
    fn the_response_copies_the_pod_text_in_and_serialises_every_other_field() {
        let response = ValidationResponse {
            accepted: true,
            message: Some("a \"quoted\" message".to_owned()),
            code: Some(400),
            mutated_object: Some(r#"{"kind": "Pod",  "spec":{}}"#.to_owned()),
            audit_annotations: Some([("k".to_owned(), "v".to_owned())].into()),
            warnings: Some(vec!["w".to_owned()]),
        };
        let text = String::from_utf8(response.into_json().unwrap()).unwrap();
        assert!(
            text.starts_with(r#"{"mutated_object":{"kind": "Pod",  "spec":{}},"#),
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
            serde_json::from_slice::<Value>(&empty.into_json().unwrap()).unwrap(),
            json!({"accepted": false, "message": null, "code": null, "mutated_object": null,
                   "audit_annotations": null, "warnings": null})
        );
    }
}

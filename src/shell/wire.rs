//! Kubewarden's wire: the `validate` payload, reduced to what the policy reads, and the
//! `ValidationResponse` a verdict becomes.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::admission::Verdict;
use crate::base::problem::{Problem, limit_warnings, warnings_of};
use crate::settings::Settings;

/// Audit annotations of every injection. The API server records each as `<webhook>/<key>`,
/// which must be a qualified name: one `/`, so the keys have none.
pub const AUDIT_APP_ID: &str = "app-id";
pub const AUDIT_SIDECAR_IMAGE: &str = "sidecar-image";
/// The Dapr release whose layout was injected (setting `daprVersion`).
pub const AUDIT_DAPR_VERSION: &str = "dapr-version";
/// The annotations taken from the Namespace (`namespaceDefaults`), comma-separated; only
/// when there are some.
pub const AUDIT_NAMESPACE_DEFAULTS: &str = "namespace-defaults";

/// Kubewarden's `ValidationResponse`, field for field. The SDK's type keeps audit annotations
/// in a `HashMap`, whose hashing costs the module size budget; serde_json's ordered map, which
/// the module has anyway, serialises the same JSON object (another map type would cost 5 KB).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationResponse {
    pub accepted: bool,
    pub message: Option<String>,
    pub code: Option<u16>,
    /// JSON text: the Pod with the sidecar spliced in.
    pub mutated_object: Option<String>,
    pub audit_annotations: Option<serde_json::Map<String, serde_json::Value>>,
    pub warnings: Option<Vec<String>>,
}

/// The audit annotations with a value. Inserted one by one: collecting into a map sorts
/// first, and the sort costs 5 KB of the module.
fn audit_annotations<const N: usize>(
    entries: [(&str, String); N],
) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (key, value) in entries.into_iter().filter(|(_, value)| !value.is_empty()) {
        map.insert(key.to_owned(), value.into());
    }
    map
}

/// `None` for an empty list: the host reads an absent field and an empty one alike.
fn warnings(problems: &[Problem]) -> Option<Vec<String>> {
    let warnings = warnings_of(problems);
    (!warnings.is_empty()).then(|| limit_warnings(warnings))
}

impl From<Verdict> for ValidationResponse {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Accept { problems, .. } => ValidationResponse {
                warnings: warnings(&problems),
                ..ValidationResponse::accept()
            },
            Verdict::Reject(rejection) => ValidationResponse {
                warnings: warnings(&rejection.problems),
                ..ValidationResponse::rejection(rejection.reason.to_string())
            },
            Verdict::Inject(injection) => ValidationResponse {
                mutated_object: Some(injection.pod),
                audit_annotations: Some(audit_annotations([
                    (AUDIT_APP_ID, injection.app_id),
                    (AUDIT_SIDECAR_IMAGE, injection.image),
                    (AUDIT_DAPR_VERSION, injection.dapr_version.name().to_owned()),
                    (AUDIT_NAMESPACE_DEFAULTS, injection.inherited),
                ])),
                warnings: warnings(&injection.problems),
                ..ValidationResponse::accept()
            },
        }
    }
}

impl ValidationResponse {
    fn accept() -> Self {
        ValidationResponse {
            accepted: true,
            message: None,
            code: None,
            mutated_object: None,
            audit_annotations: None,
            warnings: None,
        }
    }

    pub fn rejection(message: String) -> Self {
        ValidationResponse {
            accepted: false,
            message: Some(message),
            ..ValidationResponse::accept()
        }
    }

    /// Written by hand around the mutated Pod, JSON text already: as a serde `RawValue` it
    /// would be parsed once more, at a tenth of the evaluation's cost. The host reads the
    /// fields by name, so the Pod comes first and the answer is built in the Pod's own buffer
    /// (the splice leaves room for the rest): no second copy of the Pod, no more pages.
    pub fn into_json(self) -> serde_json::Result<Vec<u8>> {
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
pub(super) struct Payload<'a> {
    #[serde(default)]
    pub settings: Settings,
    #[serde(borrow, default)]
    pub request: AdmissionRequest<'a>,
}

/// The Pod stays text: the policy reads a few fields of it and splices the sidecar in.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct AdmissionRequest<'a> {
    pub kind: GroupVersionKind,
    pub operation: String,
    pub namespace: String,
    pub user_info: UserInfo,
    #[serde(borrow)]
    pub object: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct GroupVersionKind {
    pub kind: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct UserInfo {
    pub username: String,
    pub groups: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::k8s::names::qualified_name;
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
                .map(|(key, value)| (key.to_owned(), value.into()))
                .into_iter()
                .collect(),
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
            audit_annotations: Some([("k".to_owned(), "v".into())].into_iter().collect()),
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

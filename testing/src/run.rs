//! Every evaluation twice: the Pod as text, through the scan and the splice the PolicyServer
//! runs, and as a parsed `Value`. The two must give the same answer; the text path's is the
//! one returned, so every test that evaluates here tests the splice.

use std::collections::BTreeMap;

use dapr_sidecar_injector::{
    Admission, Answer, Object, Settings, ValidationResponse, Verdict, evaluate as policy,
};
use serde_json::Value;

use crate::canned::Canned;
use crate::requesters::controller;

/// The policy's answer as the admission response carries it, the mutated Pod parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub decision: Decision,
    /// Admission warnings, shown by `kubectl`.
    pub warnings: Vec<String>,
    pub audit_annotations: BTreeMap<String, String>,
    /// Notes for the operator's log (never secrets).
    pub log_notes: Vec<String>,
    /// The Pod's `metadata.generateName`, for the log.
    pub generate_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Allowed as it is.
    Accept,
    /// Allowed with the daprd sidecar.
    Mutate(Value),
    /// Rejected, with the reason shown to the user.
    Reject(String),
}

impl Outcome {
    /// A Pod allowed as it is, with these warnings.
    pub fn accept(warnings: Vec<String>) -> Self {
        Outcome {
            decision: Decision::Accept,
            warnings,
            audit_annotations: BTreeMap::new(),
            log_notes: Vec::new(),
            generate_name: String::new(),
        }
    }

    /// The answer as the shell writes it: through the wire's own `ValidationResponse`.
    fn of(answer: Answer) -> Self {
        let log_notes = match &answer.verdict {
            Verdict::Inject(injection) => injection.log_notes.clone(),
            _ => Vec::new(),
        };
        let generate_name = match answer.verdict {
            Verdict::Accept { .. } => String::new(),
            _ => answer.generate_name,
        };
        let response = ValidationResponse::from(answer.verdict);
        let decision = match (response.accepted, response.mutated_object) {
            (false, _) => Decision::Reject(response.message.unwrap_or_default()),
            (true, Some(pod)) => Decision::Mutate(
                serde_json::from_str(&pod)
                    .unwrap_or_else(|e| panic!("the mutated Pod is not JSON ({e}): {pod}")),
            ),
            (true, None) => Decision::Accept,
        };
        Outcome {
            decision,
            warnings: response.warnings.unwrap_or_default(),
            audit_annotations: response
                .audit_annotations
                .unwrap_or_default()
                .into_iter()
                .map(|(key, value)| match value {
                    Value::String(text) => (key, text),
                    other => panic!("audit annotation {key} is not a string: {other}"),
                })
                .collect(),
            log_notes,
            generate_name,
        }
    }
}

/// Both paths on `object` as `text`: panics with both outcomes when they differ, and returns
/// the text path's. The `Value` path asks a copy of `cluster`, so `cluster` records the
/// lookups of the text path alone.
pub fn both_paths(
    admission: &Admission<'_>,
    text: &str,
    object: Value,
    settings: &Settings,
    cluster: &Canned,
) -> Outcome {
    let by_value = Outcome::of(policy(
        admission,
        Object::Value(object),
        settings,
        &cluster.clone(),
    ));
    let by_text = Outcome::of(policy(admission, Object::Text(text), settings, cluster));
    assert_eq!(
        by_text, by_value,
        "the text splice (left) and the Value path (right) disagree"
    );
    by_text
}

/// [`both_paths`] on a Pod as the API server sends it: compact JSON text.
pub fn evaluate(
    admission: &Admission<'_>,
    pod: Value,
    settings: &Settings,
    cluster: &Canned,
) -> Outcome {
    let text = pod.to_string();
    both_paths(admission, &text, pod, settings, cluster)
}

/// A Pod created by the ReplicaSet controller in `default`.
pub fn run(pod: Value, settings: &Settings, cluster: &Canned) -> Outcome {
    evaluate(&controller(), pod, settings, cluster)
}

/// The worked example's cluster: no Configuration, a trust bundle.
pub fn control_plane() -> Canned {
    Canned::default()
}

pub fn mutated(outcome: &Outcome) -> &Value {
    match &outcome.decision {
        Decision::Mutate(pod) => pod,
        other => panic!(
            "expected a mutation, got {other:?} (warnings {:?})",
            outcome.warnings
        ),
    }
}

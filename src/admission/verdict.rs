//! What the gate decides, and from what: the parts of the request it reads, and the verdict
//! with everything the policy says about it. Text is written from these at the edge.

use crate::base::dapr::DaprVersion;
use crate::base::problem::{Problem, Reason, Rejection};
use crate::settings::Settings;

/// The parts of an AdmissionRequest the policy reads.
#[derive(Debug, Clone, Default)]
pub struct Admission<'a> {
    pub kind: &'a str,
    pub operation: &'a str,
    pub namespace: &'a str,
    pub username: &'a str,
    pub groups: Vec<&'a str>,
}

/// The request's object: its JSON text, as the policy receives it, or parsed.
pub enum Object<'a> {
    Text(&'a str),
    Value(serde_json::Value),
}

/// Who sent the request, for the check of who may trigger injection.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub username: &'a str,
    pub groups: &'a [&'a str],
}

/// Why the object was left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Neither a Pod CREATE nor a workload CREATE or UPDATE.
    NotAPodCreate,
    /// A workload: its pod template was checked, and it is never changed.
    Workload,
    NoObject,
    /// Neither `dapr.io/enabled` nor the namespace asks for injection.
    NotRequested,
    AlreadyInjected,
    Unauthorized,
    /// Verify mode: the Pod has the sidecar inject mode gives it.
    Verified,
}

/// A Pod with the sidecar.
#[derive(Debug, Clone, PartialEq)]
pub struct Injection {
    /// The Pod's JSON text.
    pub pod: String,
    pub app_id: String,
    pub image: String,
    /// The release whose layout was injected.
    pub dapr_version: DaprVersion,
    pub problems: Vec<Problem>,
    pub log_notes: Vec<String>,
    /// The annotations taken from the Namespace (`namespaceDefaults`), comma-separated.
    pub inherited: String,
}

/// The policy's decision, with everything it says about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accept { skip: Skip, problems: Vec<Problem> },
    Inject(Box<Injection>),
    Reject(Rejection),
}

impl Verdict {
    pub fn accept(skip: Skip, problems: Vec<Problem>) -> Verdict {
        Verdict::Accept { skip, problems }
    }

    pub fn reject(reason: Reason, problems: &[Problem]) -> Verdict {
        Verdict::Reject(Rejection::new(reason, problems))
    }
}

/// The verdict, and the Pod's `metadata.generateName` for the log lines about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub verdict: Verdict,
    pub generate_name: String,
}

/// How a Pod asked for injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `dapr.io/enabled: "true"`.
    Annotation,
    /// No `dapr.io/enabled` in a namespace of the setting `injectNamespaces`.
    Namespace,
}

impl Request {
    /// Whether a Pod without `dapr.io/app-id` takes its owner's name: with `appIdFromOwner`,
    /// and always when its namespace asked for it (the Pod named no id of its own).
    pub fn id_from_owner(self, settings: &Settings) -> bool {
        settings.app_id_from_owner || self == Request::Namespace
    }
}

/// A StatefulSet names each Pod itself, so no app id fits its pod template.
pub const STATEFUL_SET_KIND: &str = "StatefulSet";

//! The policy's decision on one admission request: the gate (a Pod CREATE that asks for
//! injection, has no daprd yet, and comes from a requester allowed to trigger it), the
//! builder for the configured Dapr release, and the plan applied to the Pod's JSON. Cluster
//! state is read only by the builders, only for Pods that will be injected.

use serde_json::{Map, Value};

use crate::annotations::{PREFIX, keys};
use crate::authz::{ServiceAccountMatcher, unauthorized_reason};
use crate::base::dapr::SIDECAR_CONTAINER_NAME;
use crate::base::go::is_truthy;
use crate::base::problem::{Problem, Reason, Rejection};
use crate::cluster::Cluster;
use crate::plan::Plan;
use crate::pod::{Pod, PodView};
use crate::profiles::{self, Layout};
use crate::settings::Settings;
use crate::sidecar;

pub const POD_KIND: &str = "Pod";
pub const CREATE: &str = "CREATE";

/// The parts of an AdmissionRequest the policy reads.
#[derive(Debug, Clone, Default)]
pub struct Admission<'a> {
    pub kind: &'a str,
    pub operation: &'a str,
    pub namespace: &'a str,
    pub username: &'a str,
    pub groups: Vec<&'a str>,
}

/// Who sent the request, for the check of who may trigger injection.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub username: &'a str,
    pub groups: &'a [&'a str],
}

/// Why a Pod was left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    NotAPodCreate,
    NoObject,
    /// Neither `dapr.io/enabled` nor the namespace asks for injection.
    NotRequested,
    AlreadyInjected,
    Unauthorized,
}

/// A Pod with the sidecar.
#[derive(Debug, Clone, PartialEq)]
pub struct Injection {
    /// The Pod's JSON text.
    pub pod: String,
    pub app_id: String,
    pub image: String,
    pub problems: Vec<Problem>,
    pub log_notes: Vec<String>,
}

/// The policy's decision, with everything it says about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accept { skip: Skip, problems: Vec<Problem> },
    Inject(Injection),
    Reject(Rejection),
}

impl Verdict {
    fn accept(skip: Skip, problems: Vec<Problem>) -> Verdict {
        Verdict::Accept { skip, problems }
    }

    fn reject(reason: Reason, problems: &[Problem]) -> Verdict {
        Verdict::Reject(Rejection::new(reason, problems))
    }
}

/// How a Pod asked for injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `dapr.io/enabled: "true"`.
    Annotation,
    /// No `dapr.io/enabled` in a namespace of the setting `injectNamespaces`.
    Namespace,
}

/// Evaluates one admission request.
pub fn evaluate(
    admission: &Admission<'_>,
    pod: Pod<'_>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    if admission.kind != POD_KIND || admission.operation != CREATE {
        return Verdict::accept(Skip::NotAPodCreate, Vec::new());
    }
    let requester = Requester {
        username: admission.username,
        groups: &admission.groups,
    };
    inject_pod(pod, admission.namespace, Some(requester), settings, cluster)
}

/// Injects into a Pod, or a pod template shaped like one. Without a requester (the command
/// line) nobody's permission is checked.
pub fn inject_pod(
    mut pod: Pod<'_>,
    namespace: &str,
    requester: Option<Requester<'_>>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    if pod.is_null() {
        let problem = Problem::advice(
            keys::enabled,
            "the request has no Pod object; nothing injected",
        );
        return Verdict::accept(Skip::NoObject, vec![problem]);
    }
    let request = match injection_request(pod.annotations(), namespace, settings) {
        Ok(request) => request,
        Err(problems) => return Verdict::accept(Skip::NotRequested, problems),
    };
    let view = match pod.view() {
        Ok(view) => view,
        Err(e) => return Verdict::reject(Reason::UnusablePod(e.to_string()), &[]),
    };
    if has_daprd(view, settings) {
        return Verdict::accept(Skip::AlreadyInjected, Vec::new());
    }
    if let Some(requester) = requester
        && let Some(verdict) = refuse_requester(requester, settings)
    {
        return verdict;
    }
    let plan = match build(view, namespace, request, settings, cluster) {
        Ok(plan) => plan,
        Err(rejection) => return Verdict::Reject(rejection),
    };
    match pod.apply(&plan.additions) {
        Ok(text) => Verdict::Inject(Injection {
            pod: text,
            app_id: plan.app_id,
            image: plan.image,
            problems: plan.problems,
            log_notes: plan.log_notes,
        }),
        Err(e) => Verdict::reject(Reason::UnusablePod(e), &plan.problems),
    }
}

/// The builder of the configured release.
fn build(
    view: &PodView,
    namespace: &str,
    request: Request,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Plan, Rejection> {
    match profiles::layout(settings.dapr_version) {
        Layout::V0_11 => sidecar::v0_11::inject(view, namespace, settings, cluster),
        Layout::Current => {
            let from_owner = settings.app_id_from_owner || request == Request::Namespace;
            sidecar::inject(view, namespace, from_owner, settings, cluster)
        }
    }
}

/// Dapr's idempotency check: init containers count from 1.18 on.
fn has_daprd(view: &PodView, settings: &Settings) -> bool {
    view.has_app_container_named(SIDECAR_CONTAINER_NAME)
        || (profiles::daprd_found_in_init_containers(settings.dapr_version)
            && view.has_init_container_named(SIDECAR_CONTAINER_NAME))
}

/// The Pod accepted without a sidecar when the requester may not trigger injection.
fn refuse_requester(requester: Requester<'_>, settings: &Settings) -> Option<Verdict> {
    match ServiceAccountMatcher::with_built_ins(&settings.allowed_service_accounts) {
        Ok(matcher) => unauthorized_reason(&matcher, requester.username, requester.groups)
            .map(|problem| Verdict::accept(Skip::Unauthorized, vec![problem])),
        Err(error) => Some(Verdict::reject(
            Reason::InvalidSettings {
                setting: "allowedServiceAccounts",
                error,
            },
            &[],
        )),
    }
}

fn enabled_value(annotations: Option<&Map<String, Value>>) -> Option<&str> {
    annotations
        .and_then(|a| a.get(keys::enabled))
        .and_then(Value::as_str)
}

/// Whether the Pod is to be injected, or the warnings explaining why it is not.
pub fn injection_request(
    annotations: Option<&Map<String, Value>>,
    namespace: &str,
    settings: &Settings,
) -> Result<Request, Vec<Problem>> {
    let value = enabled_value(annotations);
    let version = settings.dapr_version;
    match value {
        Some(v) if profiles::enabled_injects(version, v) => return Ok(Request::Annotation),
        None if settings.injects_namespace(namespace) => return Ok(Request::Namespace),
        _ => {}
    }
    if let Some(v) = value.filter(|v| is_truthy(v)) {
        return Err(vec![profiles::truthy_but_not_injected(version, v)]);
    }
    let has_dapr_annotations = annotations.is_some_and(|a| {
        a.keys()
            .any(|k| k.starts_with(PREFIX) && k != keys::enabled)
    });
    if !has_dapr_annotations {
        return Err(Vec::new());
    }
    Err(vec![Problem::advice(
        keys::enabled,
        "not \"true\", so no sidecar; the other dapr.io annotations do nothing",
    )])
}

//! The gate: what the policy does with one admission request. A Pod CREATE goes down the Pod
//! path (`pod.rs`): the sidecar is planned and spliced in. A workload CREATE or UPDATE goes
//! down the workload path (`workload.rs`): its pod template is checked as its Pods will be,
//! and never changed. Anything else is accepted as it is.

mod drift;
mod namespace;
mod pod;
mod uninject;
mod verdict;
mod verify;
mod workload;

use pod::asks_for_nothing;
use pod::inject_pod;
pub use pod::{Workload, inject_template};
pub use uninject::uninject;
pub use verdict::{Admission, Answer, Injection, Object, Requester, Skip, Verdict};
pub use verify::{Report, Status, verify_pod};
pub use workload::{WORKLOADS, WorkloadKind, misplaced_annotations, workload_kinds};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::pod::Pod;
use crate::settings::{Mode, Settings};

pub const POD_KIND: &str = "Pod";
pub const CREATE: &str = "CREATE";
pub const UPDATE: &str = "UPDATE";

/// Injects a Pod or pod template of a manifest: no admission, no requester to check.
pub fn inject_manifest_pod(
    object: Value,
    namespace: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    inject_pod(Pod::parsed(object), namespace, None, settings, cluster)
}

/// Verifies a Pod of a manifest or a cluster listing: judged on its own, no requester;
/// `cluster` answers for its Namespace under `namespaceDefaults`.
pub fn verify_manifest_pod(
    object: Value,
    namespace: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Report {
    verify_pod(object, namespace, None, settings, Some(cluster))
}

/// Evaluates one admission request: the object as text is the policy's path (the sidecar
/// spliced into the text); parsed, it is the `Value` path, which the tests hold against it.
pub fn evaluate(
    admission: &Admission<'_>,
    object: Object<'_>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Answer {
    let kind = admission.kind;
    let pod_create = admission.operation == CREATE && kind == POD_KIND;
    let verdict = match settings.mode {
        Mode::Verify if pod_create => verify(admission, object, settings, cluster),
        Mode::Inject if pod_create => {
            return evaluate_pod(admission, object, settings, cluster);
        }
        Mode::Inject
            if matches!(admission.operation, CREATE | UPDATE) && workload::is_workload(kind) =>
        {
            workload::check(admission, object, settings, cluster)
        }
        _ => Verdict::accept(Skip::NotAPodCreate, Vec::new()),
    };
    Answer {
        verdict,
        generate_name: String::new(),
    }
}

fn evaluate_pod(
    admission: &Admission<'_>,
    object: Object<'_>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Answer {
    let pod = match object {
        Object::Text(text) => match Pod::read(text) {
            Ok(pod) => pod,
            Err(e) => {
                return Answer {
                    verdict: Verdict::reject(crate::base::problem::Reason::NotJson(e), &[]),
                    generate_name: String::new(),
                };
            }
        },
        Object::Value(value) => Pod::parsed(value),
    };
    let generate_name = pod.generate_name().to_owned();
    let requester = Requester {
        username: admission.username,
        groups: &admission.groups,
    };
    let verdict = inject_pod(pod, admission.namespace, Some(requester), settings, cluster);
    Answer {
        verdict,
        generate_name,
    }
}

/// Verify mode's Pod CREATE. Kubewarden's audit scanner names no requester, and a real
/// admission always does: with no username the Pod is judged on its own. The scanner sends
/// every Pod of the cluster, so a Pod that asks for nothing is accepted unparsed.
fn verify(
    admission: &Admission<'_>,
    object: Object<'_>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    // The namespace is the request's; without one, the Pod's own, which needs parsing.
    let namespace_known = !admission.namespace.is_empty() || settings.inject_namespaces.is_empty();
    let is_object = matches!(object, Object::Text(text) if text.trim_start().starts_with('{'));
    if namespace_known && is_object && asks_for_nothing(&object, admission.namespace, settings) {
        return Verdict::accept(Skip::NotRequested, Vec::new());
    }
    let pod = match object {
        Object::Text(text) => match serde_json::from_str(text) {
            Ok(pod) => pod,
            Err(e) => return verify::unreadable(&e.to_string()).verdict(settings),
        },
        Object::Value(value) => value,
    };
    if pod.is_null() {
        return verify::unreadable("the request has no Pod object").verdict(settings);
    }
    let requester = (!admission.username.is_empty()).then_some(Requester {
        username: admission.username,
        groups: &admission.groups,
    });
    let namespace = match admission.namespace {
        "" => pod
            .pointer("/metadata/namespace")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        namespace => namespace.to_owned(),
    };
    verify_pod(pod, &namespace, requester, settings, Some(cluster)).verdict(settings)
}

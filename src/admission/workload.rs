//! Workloads: the pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! CronJob or ReplicationController, checked when it is applied, exactly as its Pods will be.
//! kube-controller-manager drops the admission warnings of the Pods it creates, so the
//! workload's `kubectl apply` is where they can reach a person; and a workload whose every
//! Pod would be rejected is refused there, instead of sitting at 0 ready. A workload is never
//! changed, and nothing is looked up for it but its Namespace under `namespaceDefaults`:
//! judging annotations needs no other cluster state.

use serde_json::{Map, Value, json};

use super::pod::{asks_for_nothing, plan_pod};
use super::verdict::{Admission, Object, STATEFUL_SET_KIND, Skip, Verdict};
use crate::annotations::PREFIX;
use crate::base::problem::{Problem, Reason, Rejection, json_type_name, name as quoted_name};
use crate::cluster::Cluster;
use crate::pod::Pod;
use crate::settings::Settings;

/// A workload kind: its API groups (`extensions` for manifests written before Kubernetes
/// 1.16) and where it keeps its pod template.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadKind {
    pub kind: &'static str,
    pub groups: &'static [&'static str],
    pub template: &'static [&'static str],
}

const APPS: &[&str] = &["apps", "extensions"];
const BATCH: &[&str] = &["batch"];
const CORE: &[&str] = &[""];
const TEMPLATE: &[&str] = &["spec", "template"];

/// Every workload whose pod template the policy checks, and `dapr-inject` injects.
pub const WORKLOADS: &[WorkloadKind] = &[
    WorkloadKind {
        kind: "Deployment",
        groups: APPS,
        template: TEMPLATE,
    },
    WorkloadKind {
        kind: STATEFUL_SET_KIND,
        groups: APPS,
        template: TEMPLATE,
    },
    WorkloadKind {
        kind: "DaemonSet",
        groups: APPS,
        template: TEMPLATE,
    },
    WorkloadKind {
        kind: "ReplicaSet",
        groups: APPS,
        template: TEMPLATE,
    },
    WorkloadKind {
        kind: "Job",
        groups: BATCH,
        template: TEMPLATE,
    },
    WorkloadKind {
        kind: "CronJob",
        groups: BATCH,
        template: &["spec", "jobTemplate", "spec", "template"],
    },
    WorkloadKind {
        kind: "ReplicationController",
        groups: CORE,
        template: TEMPLATE,
    },
];

/// The `pod-template-hash` a Deployment's ReplicaSet gives its Pods: any value will do, as
/// the app id taken from the owner drops it.
const TEMPLATE_HASH: &str = "5d8f7c9b6b";
/// A CronJob names its Jobs `<cronjob>-<scheduled time in minutes>`.
const SCHEDULED_MINUTES: &str = "29412345";
/// Stands for the random end of a name the API server generates.
const GENERATED_SUFFIX: &str = "x7k2p";

/// The kinds whose pod templates are checked; `metadata.yml` must send exactly these.
pub fn workload_kinds() -> impl Iterator<Item = &'static str> {
    WORKLOADS.iter().map(|w| w.kind)
}

pub fn is_workload(kind: &str) -> bool {
    WORKLOADS.iter().any(|w| w.kind == kind)
}

/// The warnings the workload's Pods would get, or the rejection they all would get.
pub fn check(
    admission: &Admission<'_>,
    object: Object<'_>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    let namespace = admission.namespace;
    if asks_for_nothing(&object, namespace, settings) {
        return Verdict::accept(Skip::Workload, Vec::new());
    }
    let workload = match object {
        Object::Text(text) => serde_json::from_slice(text.as_bytes()).unwrap_or(Value::Null),
        Object::Value(value) => value,
    };
    let named = Named::of(admission.kind, &workload, namespace);
    let pod = match pod_of(admission.kind, &workload, &named) {
        Ok(pod) => pod,
        Err(what) => return unreadable(&named, &what),
    };
    let misplaced = misplaced_annotations(admission.kind, &named.shown, &workload);
    let with_misplaced = |problems: Vec<Problem>| {
        let all = misplaced.iter().cloned().chain(problems).collect();
        Verdict::accept(Skip::Workload, all)
    };
    // Only the Namespace may be read (namespaceDefaults): a template's sidecar needs no facts.
    match plan_pod(
        &mut Pod::parsed(pod),
        namespace,
        None,
        settings,
        None,
        Some(cluster),
    ) {
        Ok(plan) => with_misplaced(plan.problems),
        Err(Verdict::Accept { problems, .. }) => with_misplaced(problems),
        Err(Verdict::Reject(Rejection {
            reason: Reason::UnusablePod(what),
            ..
        })) => unreadable(&named, &what),
        Err(Verdict::Reject(rejection)) => Verdict::Reject(Rejection {
            reason: Reason::PodsOf {
                workload: named.shown,
                reason: Box::new(rejection.reason),
            },
            problems: rejection.problems,
        }),
        Err(inject @ Verdict::Inject(_)) => inject,
    }
}

const ANNOTATIONS: &str = "/metadata/annotations";

/// `dapr.io/` keys on a workload's own metadata, where Dapr never looks, while its pod
/// template has none of them (dapr/dapr#4932): one warning per key, naming where it belongs.
/// `shown`: the workload as messages name it. Any other kind has no template: nothing.
pub fn misplaced_annotations(kind: &str, shown: &str, workload: &Value) -> Vec<Problem> {
    let own = workload.pointer(ANNOTATIONS).and_then(Value::as_object);
    let misplaced: Vec<&String> = own
        .into_iter()
        .flat_map(Map::keys)
        .filter(|key| key.starts_with(PREFIX))
        .collect();
    let Some(template_path) = WORKLOADS
        .iter()
        .find(|w| w.kind == kind)
        .map(|w| w.template)
    else {
        return Vec::new();
    };
    let template = object_at(workload, template_path)
        .ok()
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object);
    if template.is_some_and(|t| misplaced.iter().any(|key| t.contains_key(*key))) {
        return Vec::new();
    }
    let path = template_path.join(".");
    let (kind, name) = shown.split_once(' ').unwrap_or((shown, ""));
    misplaced
        .into_iter()
        .map(|key| {
            Problem::advice(
                key,
                format!(
                    "on {kind} {} itself; Dapr reads only {path}.metadata.annotations",
                    quoted_name(name)
                ),
            )
        })
        .collect()
}

/// The workload as messages name it, and as its Pods' owner is named.
struct Named {
    /// `metadata.name`, or a generated name when it has only `generateName`.
    name: String,
    /// `<Kind> <namespace>/<name>`.
    shown: String,
}

impl Named {
    fn of(kind: &str, workload: &Value, namespace: &str) -> Named {
        let field = |key: &str| {
            workload
                .pointer(&format!("/metadata/{key}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let name = match (field("name"), field("generateName")) {
            ("", "") => String::new(),
            ("", prefix) => format!("{prefix}{GENERATED_SUFFIX}"),
            (name, _) => name.to_owned(),
        };
        Named {
            shown: format!("{kind} {namespace}/{name}"),
            name,
        }
    }
}

/// Accepted, with a warning that says what could not be read: the API server rejects truly
/// invalid workloads itself, and the policy never refuses one for its own read errors.
fn unreadable(named: &Named, what: &str) -> Verdict {
    let problem = Problem::advice(
        &format!("{PREFIX}*"),
        format!("pod template of {} not checked: {what}", named.shown),
    );
    Verdict::accept(Skip::Workload, vec![problem])
}

/// The workload's pod template as a Pod its controller creates: the template, in the
/// workload's namespace, owned as the controller owns it, and named as a StatefulSet's
/// Pods are. Those are what the app id is taken from.
fn pod_of(kind: &str, workload: &Value, named: &Named) -> Result<Value, String> {
    let path = WORKLOADS
        .iter()
        .find(|w| w.kind == kind)
        .map_or(&[][..], |w| w.template);
    let template = object_at(workload, path)?;
    let mut metadata = match template.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(metadata)) => metadata.clone(),
        Some(other) => return Err(wrong_type(path, "metadata", other)),
    };
    // An empty name reads as none; inserting spares the module a BTreeMap removal.
    metadata.insert("name".to_owned(), json!(""));
    metadata.insert("generateName".to_owned(), json!(""));
    let (api_version, owner_kind, owner_name) = owner(kind, &named.name);
    metadata.insert(
        "ownerReferences".to_owned(),
        json!([{"apiVersion": api_version, "kind": owner_kind, "name": owner_name,
                "uid": "", "controller": true, "blockOwnerDeletion": true}]),
    );
    if kind == "Deployment"
        && let Some(Value::Object(labels)) = metadata.get_mut("labels")
    {
        labels.insert("pod-template-hash".to_owned(), json!(TEMPLATE_HASH));
    } else if kind == "Deployment" {
        metadata.insert(
            "labels".to_owned(),
            json!({"pod-template-hash": TEMPLATE_HASH}),
        );
    }
    if kind == STATEFUL_SET_KIND {
        metadata.insert("name".to_owned(), json!(longest_pod_name(workload, named)));
    }
    let spec = template.get("spec").cloned().unwrap_or(Value::Null);
    Ok(json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}))
}

/// Who owns the Pods of a workload of `kind` named `name`: (apiVersion, kind, name).
fn owner(kind: &str, name: &str) -> (&'static str, &'static str, String) {
    match kind {
        "Deployment" => ("apps/v1", "ReplicaSet", format!("{name}-{TEMPLATE_HASH}")),
        "CronJob" => ("batch/v1", "Job", format!("{name}-{SCHEDULED_MINUTES}")),
        "Job" => ("batch/v1", "Job", name.to_owned()),
        "ReplicationController" => ("v1", "ReplicationController", name.to_owned()),
        STATEFUL_SET_KIND => ("apps/v1", STATEFUL_SET_KIND, name.to_owned()),
        "DaemonSet" => ("apps/v1", "DaemonSet", name.to_owned()),
        _ => ("apps/v1", "ReplicaSet", name.to_owned()),
    }
}

/// A StatefulSet names its Pods `<name>-<ordinal>`: the longest of them is judged.
fn longest_pod_name(workload: &Value, named: &Named) -> String {
    let replicas = workload
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    format!("{}-{}", named.name, replicas.saturating_sub(1))
}

/// The object at `path`, or what is wrong on the way.
fn object_at<'a>(root: &'a Value, path: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let mut current = root
        .as_object()
        .ok_or_else(|| format!("the object must be an object, got {}", json_type_name(root)))?;
    for (depth, key) in path.iter().enumerate() {
        current = match current.get(*key) {
            None | Some(Value::Null) => {
                return Err(format!(
                    "{} is missing",
                    path.get(..=depth).unwrap_or(path).join(".")
                ));
            }
            Some(Value::Object(next)) => next,
            Some(other) => {
                let at = path.get(..=depth).unwrap_or(path).join(".");
                return Err(format!(
                    "{at} must be an object, got {}",
                    json_type_name(other)
                ));
            }
        };
    }
    Ok(current)
}

fn wrong_type(path: &[&str], key: &str, other: &Value) -> String {
    format!(
        "{}.{key} must be an object, got {}",
        path.join("."),
        json_type_name(other)
    )
}

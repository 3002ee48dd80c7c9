//! The pods of a manifest: a Pod itself, or the pod template of a workload, inside `List`s too.

use dapr_sidecar_injector::{Offline, Reason, Settings, Verdict, inject_manifest_pod};
use serde_json::Value;

use crate::yaml::Node;

pub const DEFAULT_NAMESPACE: &str = "default";
const ENABLED_ANNOTATION: &str = "dapr.io/enabled";

/// Where the pod of an object is, for the kinds that have one, as keys from the object.
///
/// An `apiVersion` of another API group (a custom resource that reuses a name) is not a
/// workload; an object without `apiVersion` is taken by its kind.
pub fn pod_path(kind: &str, api_version: Option<&str>) -> Option<&'static [&'static str]> {
    let (groups, path): (&[&str], &'static [&'static str]) = match kind {
        "Pod" => (&[""], &[]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            (&["apps", "extensions"], &["spec", "template"])
        }
        "Job" => (&["batch"], &["spec", "template"]),
        "CronJob" => (&["batch"], &["spec", "jobTemplate", "spec", "template"]),
        _ => return None,
    };
    let group = api_version.map(|v| v.rsplit_once('/').map_or("", |(group, _)| group));
    match group {
        Some(group) if !groups.contains(&group) => None,
        _ => Some(path),
    }
}

/// What injection needs besides the object.
pub struct Context<'a> {
    pub settings: &'a Settings,
    /// `--namespace`: overrides each object's `metadata.namespace`.
    pub namespace: Option<&'a str>,
}

/// What the documents of a stream gave besides the objects, each line already located.
#[derive(Debug, Default)]
pub struct Report {
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    /// An injection failed because no trust anchors were given.
    pub trust_anchors_missing: bool,
}

/// Where an object is: `<file> document N`, then ` item M` for each `List` it is in.
#[derive(Debug, Clone)]
pub struct Place {
    pub text: String,
}

impl Place {
    pub fn document(file: &str, number: usize) -> Place {
        Place {
            text: format!("{file} document {number}"),
        }
    }

    fn item(&self, number: usize) -> Place {
        Place {
            text: format!("{} item {number}", self.text),
        }
    }

    /// `<place> (<Kind>/<name>)`.
    fn label(&self, object: &Node) -> String {
        let field = |path: &[&str]| object.pointer(path).and_then(Node::as_str);
        let kind = field(&["kind"]).unwrap_or("<no kind>");
        let name = field(&["metadata", "name"])
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| {
                field(&["metadata", "generateName"])
                    .filter(|n| !n.is_empty())
                    .map(|n| format!("{n}*"))
            })
            .unwrap_or_else(|| "<no name>".to_owned());
        format!("{} ({kind}/{name})", self.text)
    }
}

/// The object with the sidecar injected, or `None` when it stays as it is (then an error may
/// have been reported).
pub fn inject_object(
    object: &Node,
    place: &Place,
    context: &Context<'_>,
    report: &mut Report,
) -> Option<Node> {
    let field = |key: &str| object.get(key).and_then(Node::as_str);
    let kind = field("kind").unwrap_or_default();
    if kind == "List" {
        return inject_list(object, place, context, report);
    }
    let path = pod_path(kind, field("apiVersion"))?;
    let pod_node = object.pointer(path)?;
    if !matches!(pod_node, Node::Map(_)) {
        return None;
    }
    let label = place.label(object);
    let json = match pod_node.to_json_at(&path.join(".")) {
        Ok(json) => json,
        Err(e) => {
            if is_enabled(pod_node) {
                report.errors.push(format!(
                    "{label}: cannot inject the Dapr sidecar: {}",
                    e.trim_start_matches('.')
                ));
            }
            return None;
        }
    };
    let namespace = context
        .namespace
        .or_else(|| {
            object
                .pointer(&["metadata", "namespace"])
                .and_then(Node::as_str)
                .filter(|ns| !ns.is_empty())
        })
        .unwrap_or(DEFAULT_NAMESPACE);
    match inject_manifest_pod(json, namespace, context.settings, &Offline) {
        Verdict::Reject(rejection) => {
            if matches!(rejection.reason, Reason::TrustAnchors { .. }) {
                report.trust_anchors_missing = true;
            }
            report.errors.push(format!("{label}: {}", rejection.reason));
            None
        }
        Verdict::Accept { .. } => None,
        Verdict::Inject(injected) => {
            report.warnings.extend(
                injected
                    .problems
                    .iter()
                    .map(|problem| format!("{label}: {}", problem.to_warning())),
            );
            let pod: Value = serde_json::from_str(&injected.pod).ok()?;
            let mut object = object.clone();
            let slot = object.pointer_mut(path)?;
            *slot = Node::from_json(&pod, Some(pod_node));
            Some(object)
        }
    }
}

fn inject_list(
    list: &Node,
    place: &Place,
    context: &Context<'_>,
    report: &mut Report,
) -> Option<Node> {
    let Some(Node::Seq(items)) = list.get("items") else {
        return None;
    };
    let mut changed = false;
    let items: Vec<Node> = items
        .iter()
        .enumerate()
        .map(
            |(i, item)| match inject_object(item, &place.item(i + 1), context, report) {
                Some(injected) => {
                    changed = true;
                    injected
                }
                None => item.clone(),
            },
        )
        .collect();
    if !changed {
        return None;
    }
    let mut list = list.clone();
    *list.get_mut("items")? = Node::Seq(items);
    Some(list)
}

/// The library's pre-filter, read from the node: only used when the pod cannot become JSON.
fn is_enabled(pod: &Node) -> bool {
    pod.pointer(&["metadata", "annotations", ENABLED_ANNOTATION])
        .and_then(Node::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_recognised_by_kind_and_api_group() {
        assert_eq!(pod_path("Pod", Some("v1")), Some(&[][..]));
        assert_eq!(
            pod_path("Deployment", Some("apps/v1")),
            Some(&["spec", "template"][..])
        );
        assert_eq!(
            pod_path("CronJob", Some("batch/v1")),
            Some(&["spec", "jobTemplate", "spec", "template"][..])
        );
        assert_eq!(pod_path("Job", None), Some(&["spec", "template"][..]));
        assert_eq!(pod_path("Job", Some("batch.volcano.sh/v1alpha1")), None);
        assert_eq!(pod_path("Service", Some("v1")), None);
    }
}

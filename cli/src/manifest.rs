//! The pods of a manifest: a Pod itself, or the pod template of a workload, inside `List`s too.

use dapr_sidecar_injector::{
    ENABLED_ANNOTATION, POD_KIND, Problem, Reason, Settings, Skip, Verdict, WORKLOADS, Workload,
    annotation, inject_manifest_pod, inject_manifest_template, misplaced_annotations,
    uninject_manifest_pod,
};
use serde_json::Value;

use crate::yaml::Node;

pub const DEFAULT_NAMESPACE: &str = "default";

/// Where the pod of an object is, for the kinds that have one, as keys from the object.
///
/// An `apiVersion` of another API group (a custom resource that reuses a name) is not a
/// workload; an object without `apiVersion` is taken by its kind.
pub fn pod_path(kind: &str, api_version: Option<&str>) -> Option<&'static [&'static str]> {
    let (groups, path): (&[&str], &'static [&'static str]) = match kind {
        POD_KIND => (&[""], &[]),
        _ => WORKLOADS
            .iter()
            .find(|w| w.kind == kind)
            .map(|w| (w.groups, w.template))?,
    };
    let group = api_version.map(|v| v.rsplit_once('/').map_or("", |(group, _)| group));
    match group {
        Some(group) if !groups.contains(&group) => None,
        _ => Some(path),
    }
}

/// What to do with each pod, and with what.
pub struct Context<'a> {
    pub action: Action,
    pub settings: &'a Settings,
    /// `--namespace`: overrides each object's `metadata.namespace`.
    pub namespace: Option<&'a str>,
    /// The Namespaces known offline, for `namespaceDefaults`.
    pub namespaces: crate::namespaces::Namespaces,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Inject; with `upgrade`, an injected pod is uninjected and injected again.
    Inject {
        upgrade: bool,
    },
    Uninject,
}

/// What the documents of a stream gave besides the objects, each line already located.
#[derive(Debug, Default)]
pub struct Report {
    pub warnings: Vec<String>,
    /// One line per object: what happened to it.
    pub summaries: Vec<String>,
    /// Each failed object's message, with its warnings after it.
    pub errors: Vec<String>,
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

    pub fn item(&self, number: usize) -> Place {
        Place {
            text: format!("{} item {number}", self.text),
        }
    }
}

/// An object's kind and name as messages show them.
struct Named<'a> {
    kind: &'a str,
    name: String,
}

impl<'a> Named<'a> {
    fn of(object: &'a Node) -> Named<'a> {
        let field = |path: &[&str]| object.pointer(path).and_then(Node::as_str);
        let name = field(&["metadata", "name"])
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| {
                field(&["metadata", "generateName"])
                    .filter(|n| !n.is_empty())
                    .map(|n| format!("{n}*"))
            })
            .unwrap_or_else(|| "<no name>".to_owned());
        Named {
            kind: field(&["kind"]).unwrap_or("<no kind>"),
            name,
        }
    }

    /// `<place> (<Kind>/<name>)`, before each warning and error.
    fn label(&self, place: &Place) -> String {
        format!("{} ({}/{})", place.text, self.kind, self.name)
    }

    /// `<kind>/<name> <what>`, as linkerd writes its summary lines.
    fn summary(&self, what: &str) -> String {
        format!("{}/{} {what}", self.kind.to_lowercase(), self.name)
    }
}

/// The object changed, or `None` when it stays as it is (then an error may have been
/// reported).
pub fn transform_object(
    object: &Node,
    place: &Place,
    context: &Context<'_>,
    report: &mut Report,
) -> Option<Node> {
    let field = |key: &str| object.get(key).and_then(Node::as_str);
    let kind = field("kind").unwrap_or_default();
    if kind == "List" {
        return transform_list(object, place, context, report);
    }
    let named = Named::of(object);
    let Some(path) = pod_path(kind, field("apiVersion")) else {
        report
            .summaries
            .push(named.summary("skipped: not a workload"));
        return None;
    };
    let Some(pod_node @ Node::Map(_)) = object.pointer(path) else {
        report
            .summaries
            .push(named.summary("skipped: no pod template"));
        return None;
    };
    let label = named.label(place);
    let json = match pod_node.to_json_at(&path.join(".")) {
        Ok(json) => json,
        Err(e) if is_enabled(pod_node) => {
            let e = e.trim_start_matches('.');
            report.errors.push(format!(
                "error: {label}: cannot inject the Dapr sidecar: {e}"
            ));
            return None;
        }
        Err(_) => {
            report
                .summaries
                .push(named.summary("skipped: not Dapr-enabled"));
            return None;
        }
    };
    if kind != POD_KIND && matches!(context.action, Action::Inject { .. }) {
        warn_misplaced(object, kind, &named, &label, report);
    }
    let pod = match context.action {
        Action::Uninject => uninject(json, &named, report),
        Action::Inject { upgrade } => {
            let namespace = namespace_of(object, context);
            inject(json, &named, &label, namespace, upgrade, context, report)
        }
    }?;
    let mut object = object.clone();
    let slot = object.pointer_mut(path)?;
    *slot = Node::from_json(&pod, Some(pod_node));
    Some(object)
}

/// `dapr.io/` annotations on the workload itself, which Dapr never reads, as the policy warns
/// when the workload is applied.
fn warn_misplaced(object: &Node, kind: &str, named: &Named<'_>, label: &str, report: &mut Report) {
    let workload = object.to_json().unwrap_or(Value::Null);
    let shown = format!("{kind} {}", named.name);
    for problem in misplaced_annotations(kind, &shown, &workload) {
        report
            .warnings
            .push(format!("warning: {label}: {}", problem.to_warning()));
    }
}

fn namespace_of<'a>(object: &'a Node, context: &Context<'a>) -> &'a str {
    context
        .namespace
        .or_else(|| {
            object
                .pointer(&["metadata", "namespace"])
                .and_then(Node::as_str)
                .filter(|ns| !ns.is_empty())
        })
        .unwrap_or(DEFAULT_NAMESPACE)
}

fn uninject(pod: Value, named: &Named<'_>, report: &mut Report) -> Option<Value> {
    let uninjected = uninject_manifest_pod(pod);
    let what = if uninjected.is_some() {
        "uninjected"
    } else {
        "skipped: no daprd sidecar"
    };
    report.summaries.push(named.summary(what));
    uninjected
}

/// The pod injected, or `None` with the summary, warnings and error that say why not.
fn inject(
    mut pod: Value,
    named: &Named<'_>,
    label: &str,
    namespace: &str,
    upgrade: bool,
    context: &Context<'_>,
    report: &mut Report,
) -> Option<Value> {
    let (settings, cluster) = (context.settings, &context.namespaces);
    let mut upgraded = false;
    if upgrade && let Some(uninjected) = uninject_manifest_pod(pod.clone()) {
        pod = uninjected;
        upgraded = true;
    }
    let enabled = annotation(&pod, ENABLED_ANNOTATION).map(str::to_owned);
    let verdict = match named.kind {
        "Pod" => inject_manifest_pod(pod, namespace, settings, cluster),
        kind => {
            let workload = Workload {
                kind,
                name: &named.name,
            };
            inject_manifest_template(pod, workload, namespace, settings, cluster)
        }
    };
    let warn = |problems: &[Problem]| -> Vec<String> {
        problems
            .iter()
            .map(|p| format!("warning: {label}: {}", p.to_warning()))
            .collect()
    };
    match verdict {
        Verdict::Inject(injected) => {
            report.warnings.extend(warn(&injected.problems));
            let verb = if upgraded { "re-injected" } else { "injected" };
            let daprd = injected
                .image
                .rsplit_once(':')
                .map_or(injected.image.as_str(), |(_, tag)| tag);
            report.summaries.push(named.summary(&format!(
                "{verb} (app id {}, daprd {daprd})",
                injected.app_id
            )));
            serde_json::from_str(&injected.pod).ok()
        }
        Verdict::Accept { skip, problems } => {
            report.warnings.extend(warn(&problems));
            report
                .summaries
                .push(named.summary(&format!("skipped: {}", skipped(skip, enabled.as_deref()))));
            None
        }
        Verdict::Reject(rejection) => {
            let message = match rejection.reason {
                Reason::TrustAnchors { .. } => no_trust_anchors(&settings.control_plane_namespace),
                reason => reason.to_string(),
            };
            let mut lines = vec![format!("error: {label}: {message}")];
            lines.extend(warn(&rejection.problems));
            report.errors.push(lines.join("\n"));
            None
        }
    }
}

/// Offline, the trust anchors can only come from the command line or the settings file.
/// What to do without trust anchors: the command reads them from the control plane's
/// namespace (setting `controlPlaneNamespace`).
fn no_trust_anchors(namespace: &str) -> String {
    format!(
        "no Dapr trust anchors to give daprd: pass --trust-anchors FILE with the ca.crt of ConfigMap dapr-trust-bundle (kubectl get configmap dapr-trust-bundle -n {namespace} -o jsonpath='{{.data.ca\\.crt}}'), or set trustAnchors in the --settings file"
    )
}

/// Why a pod was left without a sidecar, for its summary line.
fn skipped(skip: Skip, enabled: Option<&str>) -> String {
    match (skip, enabled) {
        (Skip::AlreadyInjected, _) => {
            "already injected (--upgrade injects it again under these settings)".to_owned()
        }
        (Skip::NoObject, _) => "no pod".to_owned(),
        (_, Some(value)) => format!("{ENABLED_ANNOTATION} is \"{value}\", only \"true\" injects"),
        (_, None) => format!("no {ENABLED_ANNOTATION}: \"true\""),
    }
}

/// The library's pre-filter, read from the node: only used when the pod cannot become JSON.
fn is_enabled(pod: &Node) -> bool {
    pod.pointer(&["metadata", "annotations", ENABLED_ANNOTATION])
        .and_then(Node::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn transform_list(
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
            |(i, item)| match transform_object(item, &place.item(i + 1), context, report) {
                Some(done) => {
                    changed = true;
                    done
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

    #[test]
    fn every_workload_the_policy_checks_is_injected_here_and_no_other() {
        for workload in WORKLOADS {
            let api_version = format!("{}/v1", workload.groups[0]);
            let api_version = api_version.trim_start_matches('/');
            assert_eq!(
                pod_path(workload.kind, Some(api_version)),
                Some(workload.template),
                "{}",
                workload.kind
            );
        }
        assert_eq!(
            pod_path("ReplicationController", Some("v1")),
            Some(&["spec", "template"][..])
        );
    }
}

//! The Pod path: a Pod that asks for injection, has no daprd yet, and comes from a requester
//! allowed to trigger it gets the plan of the builder for the configured Dapr release, applied
//! to its JSON. Cluster state is read only by the builders, only for Pods that will be
//! injected; a pod template is planned the same way with no cluster to ask.

use serde_json::{Map, Value};

use super::namespace;
use super::verdict::{Injection, Object, Request, Requester, STATEFUL_SET_KIND, Skip, Verdict};
use crate::annotations::{PREFIX, keys};
use crate::authz::{ServiceAccountMatcher, unauthorized_reason};
use crate::base::dapr::SIDECAR_CONTAINER_NAME;
use crate::base::go::is_truthy;
use crate::base::json::to_text;
use crate::base::k8s::objects::annotation;
use crate::base::problem::{Problem, Reason, Rejection};
use crate::cluster::Cluster;
use crate::plan::Plan;
use crate::pod::{Pod, PodView};
use crate::profiles::{self, Layout};
use crate::settings::Settings;
use crate::sidecar;

/// Injects into a Pod. Without a requester (the command line) nobody's permission is checked.
pub fn inject_pod(
    mut pod: Pod<'_>,
    namespace: &str,
    requester: Option<Requester<'_>>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    let plan = match plan_pod(
        &mut pod,
        namespace,
        requester,
        settings,
        Some(cluster),
        Some(cluster),
    ) {
        Ok(plan) => plan,
        Err(verdict) => return verdict,
    };
    apply(pod, plan, settings)
}

/// The plan applied to the Pod's JSON.
fn apply(pod: Pod<'_>, plan: Plan, settings: &Settings) -> Verdict {
    match pod.apply(&plan.additions) {
        Ok(text) => Verdict::Inject(Box::new(Injection {
            pod: text,
            app_id: plan.app_id,
            image: plan.image,
            dapr_version: settings.dapr_version,
            problems: plan.problems,
            log_notes: plan.log_notes,
            inherited: plan.inherited,
        })),
        Err(e) => Verdict::reject(Reason::UnusablePod(e), &plan.problems),
    }
}

/// Whether an object can ask for nothing: its text holds no `dapr.io/` and its namespace is
/// not injected. Then there is nothing to judge, and the text is never parsed. A parsed
/// object is judged by its text too, so that both paths answer alike.
pub(super) fn asks_for_nothing(object: &Object<'_>, namespace: &str, settings: &Settings) -> bool {
    let holds_prefix = match object {
        Object::Text(text) => text.contains(PREFIX),
        Object::Value(value) => to_text(value).contains(PREFIX),
    };
    !holds_prefix && !settings.injects_namespace(namespace)
}

/// The workload a pod template belongs to: its kind and name.
#[derive(Debug, Clone, Copy)]
pub struct Workload<'a> {
    pub kind: &'a str,
    pub name: &'a str,
}

/// A pod template of a manifest, injected offline. With `appIdFromOwner`, a template without
/// app id is planned as owned by its workload, so it gets the id its Pods will get in the
/// cluster; so is a Job's or CronJob's under `nativeSidecarForJobs`. That owner is used for
/// planning only and never written. A StatefulSet's Pods are
/// named, so each would take its own name: no id fits its template.
pub fn inject_template(
    template: Value,
    workload: Workload<'_>,
    namespace: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    let mut planning = template.clone();
    let has_app_id = annotation(&planning, keys::app_id).is_some_and(|id| !id.is_empty());
    let id_from_owner = workload.kind != STATEFUL_SET_KIND && settings.app_id_from_owner;
    let job = settings.native_sidecar_for_jobs && sidecar::JOB_KINDS.contains(&workload.kind);
    if (id_from_owner && !has_app_id) || job {
        let owner = serde_json::json!([{"apiVersion": "apps/v1", "kind": workload.kind,
            "name": workload.name, "uid": "", "controller": true}]);
        if let Some(metadata) = planning.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("ownerReferences".to_owned(), owner);
        }
    }
    let plan = match plan_pod(
        &mut Pod::parsed(planning),
        namespace,
        None,
        settings,
        Some(cluster),
        Some(cluster),
    ) {
        Ok(plan) => plan,
        Err(Verdict::Reject(rejection)) => {
            return Verdict::Reject(of_template(rejection, workload, namespace));
        }
        Err(verdict) => return verdict,
    };
    apply(Pod::parsed(template), plan, settings)
}

/// A template's rejection, said of its workload, and for a StatefulSet without app id, why
/// no id can fit.
fn of_template(rejection: Rejection, workload: Workload<'_>, namespace: &str) -> Rejection {
    let reason = match rejection.reason {
        Reason::EmptyAppId { annotation } if workload.kind == STATEFUL_SET_KIND => {
            Reason::StatefulSetTemplate {
                namespace: namespace.to_owned(),
                name: workload.name.to_owned(),
                annotation,
            }
        }
        // The one rejection whose fix differs for a template: say how to give it an app id.
        reason @ Reason::EmptyAppId { .. } => Reason::PodsOf {
            workload: format!("{} {namespace}/{}", workload.kind, workload.name),
            reason: Box::new(reason),
        },
        reason => reason,
    };
    Rejection {
        reason,
        problems: rejection.problems,
    }
}

/// What the Pod would receive, or the verdict that leaves it without a sidecar. `cluster`:
/// `None` for a pod template, which is planned without asking the cluster for the sidecar's
/// facts; `defaults_from`: where the Namespace is read under `namespaceDefaults`.
pub fn plan_pod(
    pod: &mut Pod<'_>,
    namespace: &str,
    requester: Option<Requester<'_>>,
    settings: &Settings,
    cluster: Option<&dyn Cluster>,
    defaults_from: Option<&dyn Cluster>,
) -> Result<Plan, Verdict> {
    if pod.is_null() {
        let problem = Problem::advice(
            keys::enabled,
            "the request has no Pod object; nothing injected",
        );
        return Err(Verdict::accept(Skip::NoObject, vec![problem]));
    }
    let request = injection_request(pod.annotations(), namespace, settings)
        .map_err(|problems| Verdict::accept(Skip::NotRequested, problems))?;
    let view = pod
        .view()
        .map_err(|e| Verdict::reject(Reason::UnusablePod(e.to_string()), &[]))?;
    if has_daprd(view, settings) {
        return Err(Verdict::accept(Skip::AlreadyInjected, Vec::new()));
    }
    if let Some(verdict) = requester.and_then(|r| refuse_requester(r, settings)) {
        return Err(verdict);
    }
    let inherited = namespace::inherited(&view.annotations, namespace, settings, defaults_from);
    pod.read_with(&inherited.values);
    let view = pod
        .view()
        .map_err(|e| Verdict::reject(Reason::UnusablePod(e.to_string()), &[]))?;
    match build(view, namespace, request, settings, cluster) {
        Ok(mut plan) => {
            inherited.said(&mut plan.problems, namespace);
            plan.inherited = inherited.keys();
            Ok(plan)
        }
        Err(mut rejection) => {
            inherited.said(&mut rejection.problems, namespace);
            if let Reason::InvalidAnnotations(invalid) = &mut rejection.reason {
                inherited.mark(invalid, namespace);
            }
            Err(Verdict::Reject(rejection))
        }
    }
}

/// The builder of the configured release.
fn build(
    view: &PodView,
    namespace: &str,
    request: Request,
    settings: &Settings,
    cluster: Option<&dyn Cluster>,
) -> Result<Plan, Rejection> {
    match profiles::layout(settings.dapr_version) {
        Layout::V0_11 => sidecar::v0_11::plan(view, namespace, settings, cluster),
        Layout::Current => sidecar::plan(
            view,
            namespace,
            request.id_from_owner(settings),
            settings,
            cluster,
        ),
    }
}

/// Dapr's idempotency check: init containers count from 1.18 on.
fn has_daprd(view: &PodView, settings: &Settings) -> bool {
    view.has_app_container_named(SIDECAR_CONTAINER_NAME)
        || (profiles::daprd_found_in_init_containers(settings.dapr_version)
            && view.has_init_container_named(SIDECAR_CONTAINER_NAME))
}

/// The Pod accepted without a sidecar when the requester may not trigger injection.
pub(super) fn refuse_requester(requester: Requester<'_>, settings: &Settings) -> Option<Verdict> {
    match ServiceAccountMatcher::with_built_ins(&settings.allowed_service_accounts) {
        Ok(matcher) => {
            let problems = unauthorized_reason(&matcher, requester.username, requester.groups);
            (!problems.is_empty()).then(|| Verdict::accept(Skip::Unauthorized, problems))
        }
        Err(error) => Some(Verdict::reject(
            Reason::InvalidSettings {
                setting: "allowedServiceAccounts",
                error,
            },
            &[],
        )),
    }
}

pub(super) fn enabled_value(annotations: Option<&Map<String, Value>>) -> Option<&str> {
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

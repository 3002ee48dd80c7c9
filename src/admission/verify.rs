//! Verify mode: the same rules that inject, used to judge. A Pod that asks for Dapr must have
//! the daprd sidecar inject mode would give it today: present, with today's image, serving the
//! Pod's app id, put there by the injector, and otherwise as injection would build it now
//! (`drift.rs`). Nothing is changed and nothing is looked up but, under `namespaceDefaults`,
//! the Pod's Namespace, so Kubewarden's audit scanner can send every Pod of the cluster
//! through it cheaply.

use serde_json::{Map, Value};

use super::drift;
use super::namespace;
use super::pod::{enabled_value, injection_request, refuse_requester};
use super::verdict::{Request, Requester, Skip, Verdict};
use crate::annotations::keys;
use crate::base::dapr::{SIDECAR_CONTAINER_NAME, label};
use crate::base::problem::{Asked, Finding, Problem, Reason};
use crate::cluster::Cluster;
use crate::pod::PodView;
use crate::profiles;
use crate::settings::{INJECT_NAMESPACES, InvalidAnnotations, Settings};
use crate::sidecar::{self, Expected, owning_workload};

/// daprd's flag for the app id, in every release.
const APP_ID_FLAG: &str = "--app-id";

/// How a Pod stands, as `dapr-inject check` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Missing,
    Stale,
    /// daprd was injected under other settings: it differs other than by its image.
    Drift,
    Mismatch,
    /// The Pod does not ask for Dapr, or its requester may not trigger injection.
    NotRequested,
    /// The Pod's JSON could not be read; verify never rejects a Pod for that.
    Unreadable,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Stale => "stale",
            Status::Drift => "drift",
            Status::Mismatch => "mismatch",
            Status::NotRequested => "not requested",
            Status::Unreadable => "unreadable",
        }
    }

    /// Whether the Pod lacks the sidecar it should have.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Missing | Status::Stale | Status::Drift | Status::Mismatch
        )
    }
}

/// What verify found on one Pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub status: Status,
    /// The app id inject mode gives the Pod; empty when it does not ask for Dapr.
    pub app_id: String,
    /// The running daprd's image; empty without daprd.
    pub image: String,
    /// `<Kind> <namespace>/<name>` of the workload that runs the Pod.
    pub owner: Option<String>,
    pub finding: Option<Finding>,
    /// What could not be read.
    pub problems: Vec<Problem>,
}

impl Report {
    fn new(status: Status, owner: Option<String>) -> Report {
        Report {
            status,
            app_id: String::new(),
            image: String::new(),
            owner,
            finding: None,
            problems: Vec::new(),
        }
    }

    /// The verdict of a validating policy: rejected with the finding, or with the invalid
    /// values under `invalidAnnotations: reject`, else accepted.
    pub fn verdict(self, settings: &Settings) -> Verdict {
        let invalid: Vec<Problem> = self
            .problems
            .iter()
            .filter(|p| p.invalid_value)
            .cloned()
            .collect();
        let refuse = settings.invalid_annotations == InvalidAnnotations::Reject;
        match self.finding {
            Some(finding) => Verdict::reject(Reason::Sidecar(finding), &self.problems),
            None if refuse && !invalid.is_empty() => {
                Verdict::reject(Reason::InvalidAnnotations(invalid), &self.problems)
            }
            None => {
                let skip = match self.status {
                    Status::NotRequested => Skip::NotRequested,
                    Status::Unreadable => Skip::NoObject,
                    _ => Skip::Verified,
                };
                Verdict::accept(skip, self.problems)
            }
        }
    }
}

/// The daprd container a Pod runs.
struct Daprd {
    image: String,
    app_id: Option<String>,
}

/// Judges one Pod. `requester`: `None` when nobody is named (the audit scanner, the command
/// line): the Pod is then judged on its own.
pub fn verify_pod(
    mut pod: Value,
    namespace: &str,
    requester: Option<Requester<'_>>,
    settings: &Settings,
    cluster: Option<&dyn Cluster>,
) -> Report {
    forget_generated_name(&mut pod);
    let annotations = pod
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    let request = injection_request(annotations, namespace, settings);
    let view = match (PodView::from_json(&pod), &request) {
        (Ok(view), _) => view,
        (Err(_), Err(_)) => return Report::new(Status::NotRequested, None),
        (Err(error), Ok(_)) => return unreadable(&error.to_string()),
    };
    let owner = owning_workload(&view).map(|(kind, name)| format!("{kind} {namespace}/{name}"));
    let mut report = Report::new(Status::NotRequested, owner);
    let Ok(request) = request else {
        return report;
    };
    if requester.is_some_and(|r| refuse_requester(r, settings).is_some()) {
        return report;
    }
    // The Pod was injected with its Namespace's defaults: judged with them too.
    let inherited = namespace::inherited(&view.annotations, namespace, settings, cluster);
    let view = match with_annotations(&mut pod, &inherited.values) {
        Some(Ok(merged)) => merged,
        Some(Err(error)) => return unreadable(&error.to_string()),
        None => view,
    };
    let mut expected = sidecar::expected(&view, request.id_from_owner(settings), settings);
    report.problems = std::mem::take(&mut expected.traps);
    inherited.said(&mut report.problems, namespace);
    report.app_id.clone_from(&expected.app_id);
    let Some((container, daprd)) = daprd_of(&pod, settings) else {
        report.status = Status::Missing;
        report.finding = Some(Finding::Missing {
            asked: asked(request, &view, namespace),
            owner: report.owner.clone(),
        });
        return report;
    };
    // Without its Namespace's defaults the sidecar cannot be judged beyond image and app id.
    let judge_drift = !inherited.unread;
    report.finding = judge(&view, &daprd, expected, settings, &report.owner).or_else(|| {
        if !judge_drift {
            return None;
        }
        let from_owner = request.id_from_owner(settings);
        drift::find(
            &pod,
            container,
            namespace,
            from_owner,
            settings,
            &report.owner,
        )
    });
    report.status = match report.finding {
        None => Status::Ok,
        Some(Finding::Stale { .. }) => Status::Stale,
        Some(Finding::Drift { .. }) => Status::Drift,
        Some(Finding::Missing { .. }) => Status::Missing,
        Some(_) => Status::Mismatch,
    };
    report.image = daprd.image;
    report
}

/// The Pod with `inherited` among its annotations, read again; `None` when there are none.
fn with_annotations(
    pod: &mut Value,
    inherited: &Map<String, Value>,
) -> Option<Result<PodView, crate::pod::PodError>> {
    if inherited.is_empty() {
        return None;
    }
    let metadata = pod.get_mut("metadata")?.as_object_mut()?;
    if !metadata.get("annotations").is_some_and(Value::is_object) {
        metadata.insert("annotations".to_owned(), Value::Object(Map::new()));
    }
    let annotations = metadata.get_mut("annotations")?.as_object_mut()?;
    for (key, value) in inherited {
        annotations.insert(key.clone(), value.clone());
    }
    Some(PodView::from_json(pod))
}

/// A Pod that cannot be read is accepted with a warning: the policy never refuses a Pod for
/// its own read errors.
pub fn unreadable(what: &str) -> Report {
    let mut report = Report::new(Status::Unreadable, None);
    report.problems.push(Problem::advice(
        keys::enabled,
        format!("the Pod's sidecar was not verified: {what}"),
    ));
    report
}

/// A stored Pod carries the name the API server generated after admission; injection saw
/// none, so the app id is judged as it was decided then.
fn forget_generated_name(pod: &mut Value) {
    let Some(metadata) = pod.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let generated = match (metadata.get("name"), metadata.get("generateName")) {
        (Some(Value::String(name)), Some(Value::String(prefix))) => {
            !prefix.is_empty() && name.len() > prefix.len() && name.starts_with(prefix.as_str())
        }
        _ => false,
    };
    if generated {
        // An empty name reads as none; inserting spares the module a BTreeMap removal.
        metadata.insert("name".to_owned(), Value::String(String::new()));
    }
}

/// Identity first, then the image: a sidecar serving another app is the worse fault.
fn judge(
    view: &PodView,
    daprd: &Daprd,
    expected: Expected,
    settings: &Settings,
    owner: &Option<String>,
) -> Option<Finding> {
    let labelled = view.labels.contains_key(label::SIDECAR_INJECTED);
    if profiles::labels_injected_pods(settings.dapr_version) && !labelled {
        return Some(Finding::NotLabelled {
            label: label::SIDECAR_INJECTED,
        });
    }
    let found = daprd.app_id.as_deref().unwrap_or_default();
    if found != expected.app_id {
        return Some(Finding::AppIdDiffers {
            flag: APP_ID_FLAG,
            found: found.to_owned(),
            expected: expected.app_id,
        });
    }
    (daprd.image != expected.image).then(|| Finding::Stale {
        found: daprd.image.clone(),
        expected: expected.image,
        owner: owner.clone(),
    })
}

fn asked(request: Request, view: &PodView, namespace: &str) -> Asked {
    match request {
        Request::Annotation => Asked::Annotation {
            key: keys::enabled,
            value: enabled_value(Some(&view.annotations))
                .unwrap_or_default()
                .to_owned(),
        },
        Request::Namespace => Asked::Namespace {
            namespace: namespace.to_owned(),
            setting: INJECT_NAMESPACES,
        },
    }
}

/// The Pod's daprd: an app container, or an init container where the release puts native
/// sidecars, as Dapr's own idempotency check finds it.
fn daprd_of<'a>(pod: &'a Value, settings: &Settings) -> Option<(&'a Value, Daprd)> {
    let named_daprd = |list: &str| {
        pod.get("spec")?
            .get(list)?
            .as_array()?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(SIDECAR_CONTAINER_NAME))
    };
    let container = named_daprd("containers").or_else(|| {
        profiles::daprd_found_in_init_containers(settings.dapr_version)
            .then(|| named_daprd("initContainers"))
            .flatten()
    })?;
    let args: Vec<&str> = container
        .get("args")
        .and_then(Value::as_array)
        .map(|args| args.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let app_id = args
        .iter()
        .position(|a| *a == APP_ID_FLAG)
        .and_then(|i| args.get(i.saturating_add(1)))
        .map(|id| (*id).to_owned());
    let daprd = Daprd {
        image: container
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        app_id,
    };
    Some((container, daprd))
}

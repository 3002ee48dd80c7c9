//! The daprd sidecar and what comes with it, as Dapr's injector (`pkg/injector/patcher`) adds
//! them. For Dapr 1.16 to 1.18 ([`inject`]): the annotations are read and checked, the app id
//! and the image decided, then the cluster is asked what the sidecar needs ([`lookups`]), and
//! the [`Plan`] is built from those facts without further I/O. Dapr 0.11's layout differs
//! everywhere and is built in [`v0_11`].
//!
//! Where each part is built: `args.rs` (daprd's flags), `env.rs` (daprd's env, the app
//! containers' env, `dapr.io/env`), `container.rs` (ports, resources, probes, securityContext),
//! `volumes.rs` (token, socket, user mounts), `components.rs` (pluggable components) and
//! `app_id.rs` (the app id).

mod app_id;
mod args;
mod components;
mod container;
mod env;
mod inputs;
mod lookups;
pub mod traps;
pub mod v0_11;
mod volumes;

pub use app_id::owning_workload;
pub use env::app_protocol_value;
pub use lookups::Facts;

use crate::annotations::{DaprAnnotations, keys, unknown};
use crate::base::dapr::{DaprVersion, label};
use crate::base::problem::{Problem, Reason, Rejection};
use crate::cluster::Cluster;
use crate::plan::{Additions, Item, Plan};
use crate::pod::PodView;
use crate::profiles::{self, Layout, SchedulerInputs};
use crate::settings::{InvalidAnnotations, Settings};
use inputs::SidecarInputs;

/// Dapr 1.16 to 1.18: checks, lookups, then the plan. `from_owner`: a Pod without app id and
/// name takes its owner's name. Without a cluster (a pod template) nothing is looked up and
/// the plan is made with no cluster facts: it says what the Pods will be told.
pub fn plan(
    view: &PodView,
    namespace: &str,
    from_owner: bool,
    settings: &Settings,
    cluster: Option<&dyn Cluster>,
) -> Result<Plan, Rejection> {
    let mut problems = Vec::new();
    let annotations = read_annotations(view, settings.dapr_version, &mut problems);
    let app_id = app_id::resolve(&annotations, view, from_owner, &mut problems);
    let checked = app_id::validate(&app_id).and_then(|()| check_image(&annotations, settings));
    checked.map_err(|reason| Rejection::new(reason, &problems))?;
    let facts = match cluster {
        Some(cluster) => lookups::facts(&annotations, namespace, settings, cluster)
            .map_err(|reason| Rejection::new(reason, &problems))?,
        None => Facts::default(),
    };
    plan_from_facts(
        view,
        namespace,
        &annotations,
        app_id,
        facts,
        settings,
        problems,
    )
}

/// What inject mode gives a Pod's daprd, decided without the cluster: verify mode holds the
/// running sidecar to it, and repeats the traps of the running Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub app_id: String,
    pub image: String,
    /// The traps of the Pod as it runs: daprd's ports and the Pod's network, mesh and OS,
    /// judged as at injection. Dapr 0.11's layout is not judged.
    pub traps: Vec<Problem>,
}

/// The app id and image inject mode would give the Pod today, and its traps. `from_owner` as
/// for [`inject`].
pub fn expected(view: &PodView, from_owner: bool, settings: &Settings) -> Expected {
    match profiles::layout(settings.dapr_version) {
        Layout::V0_11 => Expected {
            app_id: v0_11::app_id_of(view),
            image: settings.sidecar_image.clone(),
            traps: Vec::new(),
        },
        Layout::Current => {
            // Verify judges the sidecar, not the annotations: their warnings came at injection.
            let mut ignored = Vec::new();
            let (known, _) = profiles::known_annotations(settings.dapr_version, &view.annotations);
            let annotations = DaprAnnotations::parse(&known, &mut ignored);
            let native = view.has_init_container_named(crate::base::dapr::SIDECAR_CONTAINER_NAME);
            Expected {
                app_id: app_id::resolve(&annotations, view, from_owner, &mut ignored),
                traps: traps::check(view, &annotations, native),
                image: annotations
                    .sidecar_image
                    .unwrap_or_else(|| settings.sidecar_image.clone()),
            }
        }
    }
}

/// The annotations this release reads, with its probe defaults, and a warning for each key
/// it does not read.
fn read_annotations(
    view: &PodView,
    version: DaprVersion,
    problems: &mut Vec<Problem>,
) -> DaprAnnotations {
    let (known, newer) = profiles::known_annotations(version, &view.annotations);
    let mut annotations = DaprAnnotations::parse(&known, problems);
    profiles::apply_probe_defaults(version, &mut annotations, &known);
    problems.extend(newer);
    problems.extend(unknown::check(&view.annotations, false));
    annotations
}

/// The daprd image must match `allowedSidecarImages`.
fn check_image(annotations: &DaprAnnotations, settings: &Settings) -> Result<(), Reason> {
    let image = annotations
        .sidecar_image
        .as_deref()
        .unwrap_or(&settings.sidecar_image);
    if settings.image_allowed(image) {
        return Ok(());
    }
    Err(Reason::ImageNotAllowed {
        annotation: keys::sidecar_image,
        image: image.to_owned(),
        allowed: settings.allowed_sidecar_images.clone(),
    })
}

/// The pure part: with the cluster's facts known, what the Pod receives.
pub fn plan_from_facts(
    view: &PodView,
    namespace: &str,
    annotations: &DaprAnnotations,
    app_id: String,
    facts: Facts,
    settings: &Settings,
    mut problems: Vec<Problem>,
) -> Result<Plan, Rejection> {
    let injected = components::injectable(&app_id, &facts.components, &mut problems);
    let (declared, app_containers) = components::declared_and_app_containers(annotations, view);
    let volumes = volumes::daprd_volumes(annotations, view, settings, &mut problems);
    let components = components::additions(
        annotations,
        settings,
        view,
        declared,
        injected,
        &mut problems,
    );
    let native_sidecar = native_layout(annotations, view, settings, &mut problems);
    let inputs = SidecarInputs {
        annotations,
        settings,
        namespace,
        app_id: &app_id,
        mtls_enabled: facts.mtls_enabled,
        trust_anchors: &facts.trust_anchors,
        native_sidecar,
        set_command: tolerates_entrypoint_removal(view, settings),
        volume_mounts: volumes.daprd_mounts,
        components_socket_mount: components.as_ref().map(|(mount, _)| mount.clone()),
        scheduler: scheduler(annotations, settings),
        windows: view.os_name == traps::WINDOWS,
    };
    let container = container::build(&inputs, &mut problems);
    problems.extend(traps::check(view, annotations, native_sidecar));
    reject_invalid_annotations(settings, &problems)?;
    let app_env = env::app_env(annotations, &mut problems);
    let additions = Additions {
        volumes: volumes.volumes,
        sidecar: Item::container(&container),
        native_sidecar,
        labels: labels(annotations, &app_id),
        app_containers,
        app_env,
        app_mounts: volumes.app_mounts.iter().map(Item::mount).collect(),
        components: components.map(|(_, c)| c),
    };
    Ok(Plan {
        additions,
        app_id,
        image: container.image.unwrap_or_default(),
        problems,
        log_notes: facts.log_notes,
        inherited: String::new(),
    })
}

/// Whether daprd is a native sidecar: the annotation, else the settings. Under
/// `nativeSidecarForJobs` a Job's Pod (a CronJob's too) is native, so that the Job completes
/// when its containers exit; a warning says why.
fn native_layout(
    annotations: &DaprAnnotations,
    view: &PodView,
    settings: &Settings,
    problems: &mut Vec<Problem>,
) -> bool {
    if let Some(native) = annotations.enable_native_sidecar {
        return native;
    }
    if settings.native_sidecar || !settings.native_sidecar_for_jobs {
        return settings.native_sidecar;
    }
    let Some((kind, name)) =
        owning_workload(view).filter(|(kind, _)| JOB_KINDS.contains(&kind.as_str()))
    else {
        return false;
    };
    problems.push(Problem::advice(
        keys::enable_native_sidecar,
        format!(
            "daprd is native, so {kind} {} can complete (setting nativeSidecarForJobs)",
            crate::base::problem::name(&name)
        ),
    ));
    true
}

/// What owns a Pod that runs to completion: a Job, or the CronJob a Job belongs to (a
/// CronJob's template, planned offline, is owned by the CronJob itself).
pub const JOB_KINDS: [&str; 2] = ["Job", "CronJob"];

/// A Pod toleration equal to one of `ignoreEntrypointTolerations` (Dapr's `utils.Contains`).
fn tolerates_entrypoint_removal(view: &PodView, settings: &Settings) -> bool {
    let ignored = &settings.ignore_entrypoint_tolerations;
    !ignored.is_empty()
        && view
            .tolerations()
            .iter()
            .any(|t| ignored.iter().any(|i| i.equals_pod_toleration(t)))
}

fn scheduler(annotations: &DaprAnnotations, settings: &Settings) -> profiles::Scheduler {
    profiles::scheduler(
        settings.dapr_version,
        SchedulerInputs {
            annotation: annotations.scheduler_host_address.as_deref(),
            enabled: settings.scheduler_enabled,
            replicas: settings.scheduler_replicas_1_16(),
            control_plane_namespace: &settings.control_plane_namespace,
            cluster_domain: &settings.cluster_domain,
        },
    )
}

/// `invalidAnnotations: reject`: every invalid value found so far rejects the Pod.
fn reject_invalid_annotations(settings: &Settings, problems: &[Problem]) -> Result<(), Rejection> {
    if settings.invalid_annotations != InvalidAnnotations::Reject {
        return Ok(());
    }
    let invalid: Vec<Problem> = problems
        .iter()
        .filter(|p| p.invalid_value)
        .cloned()
        .collect();
    if invalid.is_empty() {
        return Ok(());
    }
    Err(Rejection::new(
        Reason::InvalidAnnotations(invalid),
        problems,
    ))
}

fn labels(annotations: &DaprAnnotations, app_id: &str) -> Vec<(&'static str, String)> {
    vec![
        (label::SIDECAR_INJECTED, "true".to_owned()),
        (label::APP_ID, app_id.to_owned()),
        (
            label::METRICS_ENABLED,
            annotations.enable_metrics.to_string(),
        ),
    ]
}

//! The injection itself: (Pod JSON, settings, cluster) → (mutated Pod, warnings) or a
//! rejection. Cluster state is read through [`Cluster`] only when a Pod will be injected, in
//! the order the replay files record: Configuration, ConfigMap, then Components.

use serde_json::{Map, Value};

use crate::annotations::{DaprAnnotations, Problem, keys, quote};
use crate::authz::{ServiceAccountMatcher, unauthorized_reason};
use crate::cluster::{self, Cluster};
use crate::components;
use crate::names::validate_app_id;
use crate::patcher::{
    self, Additions, ComponentAdditions, Item, LABEL_APP_ID, LABEL_METRICS_ENABLED,
    LABEL_SIDECAR_INJECTED,
};
use crate::pod::PodView;
use crate::raw_pod::{Needs, RawPod};
use crate::settings::{DaprVersion, InvalidAnnotations, Settings};
use crate::sidecar::{self, SIDECAR_CONTAINER_NAME, SIDECAR_HTTP_PORT, SidecarInputs, plain_env};
use crate::volumes;
use crate::{dapr_0_11, profiles};
use crate::{owner, unknown_annotations};

pub const POD_KIND: &str = "Pod";
pub const CREATE: &str = "CREATE";
pub const APP_ENV_HTTP_PORT: &str = "DAPR_HTTP_PORT";
pub const APP_ENV_GRPC_PORT: &str = "DAPR_GRPC_PORT";
pub const APP_ENV_APP_PROTOCOL: &str = "APP_PROTOCOL";
pub const AUDIT_APP_ID: &str = "dapr.io/app-id";
pub const AUDIT_SIDECAR_IMAGE: &str = "dapr.io/sidecar-image";

/// The parts of an AdmissionRequest the policy reads.
#[derive(Debug, Clone, Default)]
pub struct Admission<'a> {
    pub kind: &'a str,
    pub operation: &'a str,
    pub namespace: &'a str,
    pub username: &'a str,
    pub groups: Vec<&'a str>,
}

/// `P` is the mutated Pod: a `Value`, or JSON text from [`evaluate_json`].
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<P = Value> {
    /// Allowed as it is.
    Accept,
    /// Allowed with the daprd sidecar.
    Mutate(P),
    /// Rejected, with the reason shown to the user.
    Reject(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<P = Value> {
    pub decision: Decision<P>,
    /// Admission warnings, shown by `kubectl`.
    pub warnings: Vec<String>,
    pub audit_annotations: Vec<(String, String)>,
    /// Notes for the operator's log (never secrets).
    pub log_notes: Vec<String>,
    /// The Pod's `metadata.generateName`, for the log.
    pub generate_name: String,
}

impl<P> Outcome<P> {
    /// The same outcome, with the mutated Pod (if any) converted.
    pub fn map_pod<Q>(self, convert: impl FnOnce(P) -> Q) -> Outcome<Q> {
        Outcome {
            decision: match self.decision {
                Decision::Accept => Decision::Accept,
                Decision::Mutate(pod) => Decision::Mutate(convert(pod)),
                Decision::Reject(message) => Decision::Reject(message),
            },
            warnings: self.warnings,
            audit_annotations: self.audit_annotations,
            log_notes: self.log_notes,
            generate_name: self.generate_name,
        }
    }

    fn accept(warnings: Vec<String>) -> Self {
        Outcome {
            decision: Decision::Accept,
            warnings,
            audit_annotations: Vec::new(),
            log_notes: Vec::new(),
            generate_name: String::new(),
        }
    }
}

/// A successful injection.
#[derive(Debug, Clone, PartialEq)]
pub struct Injected {
    pub pod: Value,
    pub app_id: String,
    pub image: String,
    pub warnings: Vec<String>,
    pub log_notes: Vec<String>,
}

/// What injection adds to one Pod, before it is applied to the Pod's JSON.
pub(crate) struct Planned {
    pub additions: Additions,
    pub app_id: String,
    pub image: String,
    pub warnings: Vec<String>,
    pub log_notes: Vec<String>,
}

/// The Pod's JSON as the core reads and extends it: a parsed `Value` (the command line, the
/// tests), or the request's text, into which the additions are spliced.
pub trait PodJson: Sized {
    type Mutated;
    fn is_null(&self) -> bool;
    fn annotations(&self) -> Option<&Map<String, Value>>;
    fn generate_name(&self) -> String;
    fn view(&mut self) -> Result<PodView, String>;
    fn apply(self, view: &PodView, additions: Additions) -> Result<Self::Mutated, String>;
}

impl PodJson for Value {
    type Mutated = Value;

    fn is_null(&self) -> bool {
        Value::is_null(self)
    }

    fn annotations(&self) -> Option<&Map<String, Value>> {
        self.pointer("/metadata/annotations")
            .and_then(Value::as_object)
    }

    fn generate_name(&self) -> String {
        self.pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn view(&mut self) -> Result<PodView, String> {
        PodView::from_json(self)
    }

    fn apply(mut self, _: &PodView, additions: Additions) -> Result<Value, String> {
        patcher::apply(&mut self, additions)?;
        Ok(self)
    }
}

impl PodJson for RawPod<'_> {
    type Mutated = String;

    fn is_null(&self) -> bool {
        false
    }

    fn annotations(&self) -> Option<&Map<String, Value>> {
        Some(&self.view.annotations)
    }

    fn generate_name(&self) -> String {
        self.view.generate_name.clone()
    }

    fn view(&mut self) -> Result<PodView, String> {
        Ok(std::mem::take(&mut self.view))
    }

    fn apply(self, view: &PodView, additions: Additions) -> Result<String, String> {
        Ok(patcher::splice(self.text, &self.layout, view, additions))
    }
}

/// Why a Pod was left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    NotEnabled,
    AlreadyInjected,
}

/// Dapr's handler pre-filter: only `true`, in any case, untrimmed.
pub fn is_enabled(pod: &Value) -> bool {
    enabled_value(pod.annotations()).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn enabled_value(annotations: Option<&Map<String, Value>>) -> Option<&str> {
    annotations
        .and_then(|a| a.get(keys::enabled))
        .and_then(Value::as_str)
}

/// How a Pod asked for injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `dapr.io/enabled: "true"`.
    Annotation,
    /// No `dapr.io/enabled` in a namespace of the setting `injectNamespaces`.
    Namespace,
}

/// Whether the Pod is to be injected, or the warnings explaining why it is not.
pub fn injection_request(
    annotations: Option<&Map<String, Value>>,
    namespace: &str,
    settings: &Settings,
) -> Result<Request, Vec<String>> {
    let value = enabled_value(annotations);
    let version = settings.dapr_version;
    match value {
        Some(v) if profiles::enabled_injects(version, v) => return Ok(Request::Annotation),
        None if settings.injects_namespace(namespace) => return Ok(Request::Namespace),
        _ => {}
    }
    let warning = match value {
        Some(v) if crate::annotations::is_truthy(v) && version >= DaprVersion::V1_17 => {
            format!(
                "{}: {} does not inject; only \"true\" does",
                keys::enabled,
                crate::annotations::quote(v)
            )
        }
        Some(v) if crate::annotations::is_truthy(v) => format!(
            "{}: {} does not inject in Dapr {}; use \"true\"",
            keys::enabled,
            crate::annotations::quote(v),
            version.name()
        ),
        _ => {
            let has_dapr_annotations = annotations.is_some_and(|a| {
                a.keys()
                    .any(|k| k.starts_with(crate::annotations::PREFIX) && k != keys::enabled)
            });
            if !has_dapr_annotations {
                return Err(Vec::new());
            }
            format!(
                "{}: not \"true\", so no sidecar; the other dapr.io annotations do nothing",
                keys::enabled
            )
        }
    };
    Err(vec![crate::annotations::cap(warning)])
}

/// Evaluates one admission request.
pub fn evaluate(
    admission: &Admission<'_>,
    object: Value,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Outcome {
    evaluate_pod(admission, object, settings, cluster)
}

/// [`evaluate`] on the Pod's JSON text: the mutated Pod is the text with the additions spliced
/// in. Text the splice does not read goes through a `Value`. `text` must be valid JSON: the
/// scan checks structure, not literals, and the policy passes serde_json's `RawValue`, which
/// has checked it.
pub fn evaluate_json(
    admission: &Admission<'_>,
    text: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Outcome<String> {
    let needs = Needs {
        tolerations: !settings.ignore_entrypoint_tolerations.is_empty(),
        owner_references: settings.app_id_from_owner || !settings.inject_namespaces.is_empty(),
        service_account_mount: settings.dapr_version == DaprVersion::V0_11,
    };
    if let Some(pod) = RawPod::scan(text, needs) {
        return evaluate_pod(admission, pod, settings, cluster);
    }
    match serde_json::from_slice::<Value>(text.as_bytes()) {
        Ok(object) => {
            evaluate_pod(admission, object, settings, cluster).map_pod(|pod| patcher::to_text(&pod))
        }
        Err(e) => reject(format!("cannot read the Pod: {e}"), Vec::new()),
    }
}

fn evaluate_pod<P: PodJson>(
    admission: &Admission<'_>,
    mut pod: P,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Outcome<P::Mutated> {
    if admission.kind != POD_KIND || admission.operation != CREATE {
        return Outcome::accept(Vec::new());
    }
    if pod.is_null() {
        return Outcome::accept(vec![format!(
            "{}: the request has no Pod object; nothing injected",
            keys::enabled
        )]);
    }
    let request = match injection_request(pod.annotations(), admission.namespace, settings) {
        Ok(request) => request,
        Err(warnings) => return Outcome::accept(warnings),
    };
    let generate_name = pod.generate_name();
    let named = |outcome: Outcome<P::Mutated>| Outcome {
        generate_name: generate_name.clone(),
        ..outcome
    };
    let view = match pod.view() {
        Ok(view) => view,
        Err(e) => {
            return named(reject(
                format!("cannot inject the Dapr sidecar: {e}"),
                Vec::new(),
            ));
        }
    };
    if view.has_daprd(settings.dapr_version) {
        return Outcome::accept(Vec::new());
    }
    match ServiceAccountMatcher::with_built_ins(&settings.allowed_service_accounts) {
        Ok(matcher) => {
            if let Some(reason) =
                unauthorized_reason(&matcher, admission.username, &admission.groups)
            {
                return Outcome::accept(vec![reason]);
            }
        }
        Err(e) => {
            return named(reject(
                format!("invalid policy settings: allowedServiceAccounts: {e}"),
                Vec::new(),
            ));
        }
    }
    let planned = match inject_viewed(&view, admission.namespace, request, settings, cluster) {
        Ok(planned) => planned,
        Err((message, warnings)) => return named(reject(message, warnings)),
    };
    match pod.apply(&view, planned.additions) {
        Ok(mutated) => named(Outcome {
            decision: Decision::Mutate(mutated),
            warnings: planned.warnings,
            audit_annotations: vec![
                (AUDIT_APP_ID.to_owned(), planned.app_id),
                (AUDIT_SIDECAR_IMAGE.to_owned(), planned.image),
            ],
            log_notes: planned.log_notes,
            generate_name: String::new(),
        }),
        Err(e) => named(reject(
            format!("cannot inject the Dapr sidecar: {e}"),
            planned.warnings,
        )),
    }
}

fn reject<P>(message: String, warnings: Vec<String>) -> Outcome<P> {
    Outcome {
        decision: Decision::Reject(message),
        warnings,
        audit_annotations: Vec::new(),
        log_notes: Vec::new(),
        generate_name: String::new(),
    }
}

/// Injects into a Pod (or a pod template shaped like one) with no admission context: the
/// command line's entry point.
pub fn inject_pod(
    pod: Value,
    namespace: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Result<Injected, Skip>, String> {
    let Ok(request) = injection_request(pod.annotations(), namespace, settings) else {
        return Ok(Err(Skip::NotEnabled));
    };
    let view = PodView::from_json(&pod)?;
    if view.has_daprd(settings.dapr_version) {
        return Ok(Err(Skip::AlreadyInjected));
    }
    let planned = inject_viewed(&view, namespace, request, settings, cluster)
        .map_err(|(message, _)| message)?;
    let pod = pod
        .apply(&view, planned.additions)
        .map_err(|e| format!("cannot inject the Dapr sidecar: {e}"))?;
    Ok(Ok(Injected {
        pod,
        app_id: planned.app_id,
        image: planned.image,
        warnings: planned.warnings,
        log_notes: planned.log_notes,
    }))
}

pub(crate) fn warnings_of(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(Problem::to_warning).collect()
}

/// The app id: the annotation, else the Pod's name, else (when allowed) the controller's.
fn app_id(
    annotations: &DaprAnnotations,
    view: &PodView,
    from_owner: bool,
    problems: &mut Vec<Problem>,
) -> String {
    if !annotations.app_id.is_empty() {
        return annotations.app_id.clone();
    }
    if !view.name.is_empty() || !from_owner {
        return view.name.clone();
    }
    match owner::app_id_from_owner(view) {
        Some((id, source)) => {
            problems.push(Problem::advice(
                keys::app_id,
                format!("not set; using {} from {source}", quote(&id)),
            ));
            id
        }
        None => String::new(),
    }
}

/// The injection for the configured release: 0.11's layout has a module of its own.
fn inject_viewed(
    view: &PodView,
    namespace: &str,
    request: Request,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Planned, (String, Vec<String>)> {
    if settings.dapr_version == DaprVersion::V0_11 {
        dapr_0_11::inject(view, namespace, settings, cluster)
    } else {
        inject_current(view, namespace, request, settings, cluster)
    }
}

/// Dapr 1.16 to 1.18.
fn inject_current(
    view: &PodView,
    namespace: &str,
    request: Request,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Planned, (String, Vec<String>)> {
    let mut problems = Vec::new();
    let version = settings.dapr_version;
    let (known, newer) = profiles::known_annotations(version, &view.annotations);
    let mut annotations = DaprAnnotations::parse(&known, &mut problems);
    profiles::apply_probe_defaults(version, &mut annotations, &known);
    problems.extend(newer);
    problems.extend(unknown_annotations::check(&view.annotations, false));
    let from_owner = settings.app_id_from_owner || request == Request::Namespace;
    let app_id = app_id(&annotations, view, from_owner, &mut problems);
    validate_app_id(&app_id).map_err(|e| (e, warnings_of(&problems)))?;
    let image = annotations
        .sidecar_image
        .as_deref()
        .unwrap_or(&settings.sidecar_image);
    if !settings.image_allowed(image) {
        return Err((
            format!(
                "{}: {} is not allowed by the policy setting allowedSidecarImages ({}); use an allowed image or remove the annotation",
                keys::sidecar_image,
                quote(image),
                settings.allowed_sidecar_images.join(", ")
            ),
            warnings_of(&problems),
        ));
    }

    let mut log_notes = Vec::new();
    let cp_ns = &settings.control_plane_namespace;
    let mtls_enabled = cluster::resolve_mtls(settings, cluster, &mut log_notes);
    let trust_anchors = match &settings.trust_anchors {
        Some(pem) => pem.clone(),
        None => cluster::trust_anchors(
            cluster.get_resource(&cluster::trust_bundle_request(cp_ns)),
            cp_ns,
        )
        .map_err(|e| (e, warnings_of(&problems)))?,
    };
    let injected_components = if annotations.inject_pluggable_components {
        let list = cluster
            .list_resources_by_namespace(&cluster::components_request(namespace))
            .map_err(|e| {
                (
                    format!("cannot list the Dapr Components of namespace {namespace} for {}: {e}; let the PolicyServer list components.dapr.io (examples/rbac.yaml) or remove the annotation", keys::inject_pluggable_components),
                    warnings_of(&problems),
                )
            })?;
        components::injectable(&app_id, &list, &mut problems)
    } else {
        Vec::new()
    };

    let declared_names: Vec<&str> = if annotations.pluggable_components.is_empty() {
        Vec::new()
    } else {
        annotations.pluggable_components.split(',').collect()
    };
    let (declared, app_containers): (Vec<usize>, Vec<usize>) = (0..view.containers.len())
        .partition(|&i| {
            view.containers
                .get(i)
                .is_some_and(|c| declared_names.contains(&c.name.as_str()))
        });

    let mut volumes = Vec::new();
    let mut daprd_mounts = volumes::user_mounts(&annotations, view, &mut problems);
    let mut app_mounts = Vec::new();
    if !annotations.unix_domain_socket_path.is_empty() {
        volumes.push(volumes::uds_volume());
        daprd_mounts.push(volumes::uds_daprd_mount());
        app_mounts.push(volumes::mount(
            volumes::UDS_VOLUME_NAME,
            &annotations.unix_domain_socket_path,
            false,
        ));
    }
    if settings.token_volume {
        volumes.push(volumes::token_volume(&settings.sentry_spiffe_id()));
        daprd_mounts.push(volumes::token_mount());
    }

    let components = component_additions(
        &annotations,
        settings,
        view,
        declared,
        injected_components,
        &mut problems,
    );
    let native_sidecar = annotations
        .enable_native_sidecar
        .unwrap_or(settings.native_sidecar);
    let set_command = view.tolerations.iter().any(|t| {
        settings
            .ignore_entrypoint_tolerations
            .iter()
            .any(|ignored| ignored.equals_pod_toleration(t))
    });
    let inputs = SidecarInputs {
        annotations: &annotations,
        settings,
        namespace,
        app_id: &app_id,
        mtls_enabled,
        trust_anchors: &trust_anchors,
        native_sidecar,
        set_command,
        volume_mounts: daprd_mounts,
        components_socket_mount: components.as_ref().map(|(mount, _)| mount.clone()),
    };
    let container = sidecar::build(&inputs, &mut problems);
    if settings.invalid_annotations == InvalidAnnotations::Reject {
        let invalid: Vec<String> = problems
            .iter()
            .filter(|p| p.invalid_value)
            .map(Problem::to_warning)
            .collect();
        if !invalid.is_empty() {
            return Err((
                format!(
                    "invalid Dapr annotations (policy setting invalidAnnotations: reject): {}",
                    invalid.join("; ")
                ),
                warnings_of(&problems),
            ));
        }
    }
    let image = container.image.clone().unwrap_or_default();

    let mut app_env = vec![
        plain_env(APP_ENV_HTTP_PORT, &SIDECAR_HTTP_PORT.to_string()),
        plain_env(APP_ENV_GRPC_PORT, &annotations.grpc_port.to_string()),
    ];
    let protocol = sidecar::app_protocol_env_value(&annotations);
    if protocol.is_empty() {
        problems.push(Problem::new(
            keys::app_protocol,
            format!(
                "{} is unknown (http, https, grpc, grpcs, h2c); APP_PROTOCOL not set",
                crate::annotations::quote(&annotations.app_protocol)
            ),
        ));
    } else {
        app_env.push(plain_env(APP_ENV_APP_PROTOCOL, protocol));
    }

    let additions = Additions {
        volumes,
        sidecar: Item::container(&container),
        native_sidecar,
        labels: vec![
            (LABEL_SIDECAR_INJECTED, "true".to_owned()),
            (LABEL_APP_ID, app_id.clone()),
            (
                LABEL_METRICS_ENABLED,
                annotations.enable_metrics.to_string(),
            ),
        ],
        app_containers,
        app_env: app_env.iter().map(Item::env).collect(),
        app_mounts: app_mounts.iter().map(Item::mount).collect(),
        components: components.map(|(_, c)| c),
    };
    Ok(Planned {
        additions,
        app_id,
        image,
        warnings: warnings_of(&problems),
        log_notes,
    })
}

/// The shared socket volume and what declared and injected component containers receive.
fn component_additions(
    annotations: &DaprAnnotations,
    settings: &Settings,
    view: &PodView,
    declared: Vec<usize>,
    injected: Vec<Value>,
    problems: &mut Vec<Problem>,
) -> Option<(k8s_openapi::api::core::v1::VolumeMount, ComponentAdditions)> {
    if declared.is_empty() && injected.is_empty() {
        return None;
    }
    let folder = components::sockets_folder(
        &annotations.pluggable_components_sockets_folder,
        &settings.component_sockets_folder,
    );
    let mount = volumes::mount(volumes::COMPONENTS_VOLUME_NAME, folder, false);
    let mount_item = Item::mount(&mount);
    let env_var = plain_env(sidecar::env::COMPONENT_SOCKETS_FOLDER, folder);
    let env = Item::env(&env_var);
    let mut known_volumes: Vec<String> = view.volume_names.clone();
    known_volumes.push(volumes::COMPONENTS_VOLUME_NAME.to_owned());
    let mut taken_names: Vec<String> = view.containers.iter().map(|c| c.name.clone()).collect();
    taken_names.extend(view.init_container_names.iter().cloned());
    taken_names.push(SIDECAR_CONTAINER_NAME.to_owned());
    let mut injected_volumes = Vec::new();
    let mut containers = Vec::new();
    for mut container in injected {
        let name = container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if taken_names.contains(&name) {
            problems.push(Problem::new(
                keys::inject_pluggable_components,
                format!(
                    "container {} clashes with a Pod container; skipped",
                    crate::annotations::quote(&name)
                ),
            ));
            continue;
        }
        taken_names.push(name);
        let Some(object) = container.as_object_mut() else {
            continue;
        };
        let mounts: Vec<String> = object
            .get("volumeMounts")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(|m| m.get("name").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        for volume in mounts {
            if !known_volumes.contains(&volume) {
                injected_volumes.push(volumes::empty_dir_volume(&volume, None));
                known_volumes.push(volume);
            }
        }
        // Parsing our own serialisation back cannot fail.
        append_to_list(object, "env", env.value().unwrap_or_default());
        append_to_list(
            object,
            "volumeMounts",
            mount_item.value().unwrap_or_default(),
        );
        containers.push(Item::of_value(&container));
    }
    Some((
        mount,
        ComponentAdditions {
            shared_volume: volumes::empty_dir_volume(volumes::COMPONENTS_VOLUME_NAME, None),
            shared_mount: mount_item,
            env,
            declared,
            injected: containers,
            injected_volumes,
        },
    ))
}

fn append_to_list(object: &mut serde_json::Map<String, Value>, key: &str, item: Value) {
    match object.get_mut(key) {
        Some(Value::Array(items)) => items.push(item),
        _ => {
            object.insert(key.to_owned(), Value::Array(vec![item]));
        }
    }
}

#[cfg(test)]
#[path = "inject_tests.rs"]
mod tests;

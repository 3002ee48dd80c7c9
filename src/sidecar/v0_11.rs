//! `daprVersion: "0.11"`: the sidecar of Dapr v0.11.0's injector (`pkg/injector/pod_patch.go`),
//! the system the seed document walks through with its `stateapp` example.
//!
//! It differs from today's layout everywhere, so it is built here rather than with flags in
//! the current builder: `command: ["/daprd"]`, the old argument order with addresses on port
//! 80, probes on port 3500, the app's service-account token mount copied into daprd, no
//! labels, volumes or securityContext, the deprecated aliases, and the Sentry issuer's
//! certificate and key in the environment (which is why the profile needs consent). As for
//! the current layout, the cluster is asked first, and the plan built after.

use k8s_openapi::api::core::v1::{Container, EnvVar, HTTPGetAction, Probe, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value};

use super::app_id;
use super::lookups;
use crate::annotations::unknown;
use crate::annotations::{RawAnnotations, keys};
use crate::base::dapr::{
    DAPRD_BINARY, GRPC_PORT_NAME, HEALTHZ_PATH, HTTP_PORT_NAME, INTERNAL_GRPC_PORT_NAME,
    METRICS_PORT_NAME, MODE_KUBERNETES, SIDECAR_CONTAINER_NAME, env, service,
};
use crate::base::k8s::objects::{field_ref_env, plain_env, port, secret_env};
use crate::base::k8s::quantity;
use crate::base::problem::{Problem, Reason, Rejection, quote};
use crate::cluster::{self, Cluster};
use crate::plan::{Additions, Item, Plan};
use crate::pod::PodView;
use crate::profiles::{self, is_truthy_0_11};
use crate::settings::Settings;

pub const PULL_POLICY: &str = "Always";
pub const HTTP_PORT: i32 = 3500;
pub const GRPC_PORT: i32 = 50001;
pub const INTERNAL_GRPC_PORT: i32 = 50002;
pub const DEFAULT_METRICS_PORT: i32 = 9090;
pub const DEFAULT_MAX_CONCURRENCY: i64 = -1;
pub const PROBE_DELAY: i32 = 3;
pub const PROBE_TIMEOUT: i32 = 3;
pub const PROBE_PERIOD: i32 = 6;
pub const PROBE_THRESHOLD: i32 = 3;

/// The annotation readers of 0.11 (`getStringAnnotationOrDefault` and friends), on the raw
/// values the table finds: a row's key, or the key it replaced in Dapr 1.0, which 0.11 still
/// read as a fallback.
struct Annotations<'a> {
    raw: RawAnnotations<'a>,
}

impl<'a> Annotations<'a> {
    fn of(map: &'a Map<String, Value>) -> Self {
        Annotations {
            raw: RawAnnotations::of(map),
        }
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.raw.value(key)
    }

    /// The key, else the key it replaced, each when non-empty, else the default.
    fn string_with_alias(&self, key: &str, default: &str) -> String {
        let alias = self.raw.removed_alias(key).map(|(_, value)| value);
        [self.raw(key), alias]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty())
            .unwrap_or(default)
            .to_owned()
    }

    fn truthy_with_alias(&self, key: &str) -> bool {
        self.truthy(key)
            || self
                .raw
                .removed_alias(key)
                .is_some_and(|(_, value)| is_truthy_0_11(value))
    }

    /// Present and non-empty, else the default: 0.11 treated empty as absent.
    fn string_or(&self, key: &str, default: &str) -> String {
        self.raw(key)
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
            .to_owned()
    }

    fn truthy(&self, key: &str) -> bool {
        self.raw(key).is_some_and(is_truthy_0_11)
    }

    /// `getInt32Annotation`: `None` when absent; an unparsable value is reported.
    fn int32(&self, key: &'static str, problems: &mut Vec<Problem>) -> Result<Option<i32>, Reason> {
        int32_value(key, self.raw(key), problems)
    }

    /// `getInt32AnnotationOrDefault`, refusing values the API server would reject.
    fn int32_or(
        &self,
        key: &'static str,
        default: i32,
        range: std::ops::RangeInclusive<i32>,
        problems: &mut Vec<Problem>,
    ) -> i32 {
        match self.int32(key, problems) {
            Ok(Some(n)) if range.contains(&n) => n,
            Ok(Some(n)) => {
                problems.push(Problem::invalid(
                    key,
                    format!("\"{n}\" is out of range; ignored"),
                ));
                default
            }
            _ => default,
        }
    }

    /// The key, or the key it replaced when the key is absent, unparsable or -1 (0.11's
    /// `getAppPort` and `getMaxConcurrency`). Only an unparsable alias is an error.
    fn int32_with_alias(
        &self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Result<i32, Reason> {
        match self.int32(key, problems) {
            Ok(Some(n)) if n != -1 => Ok(n),
            _ => match self.raw.removed_alias(key) {
                Some((alias, value)) => {
                    int32_value(alias, Some(value), problems).map(|n| n.unwrap_or(-1))
                }
                None => Ok(-1),
            },
        }
    }
}

/// One value read as `getInt32Annotation` does: `None` when absent; an unparsable value is
/// reported.
fn int32_value(
    key: &'static str,
    value: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Result<Option<i32>, Reason> {
    match value {
        None => Ok(None),
        Some(v) => v.parse::<i32>().map(Some).map_err(|_| {
            problems.push(Problem::invalid(
                key,
                format!("{} is not an integer; ignored", quote(v)),
            ));
            Reason::ParseInt0_11 {
                key,
                value: v.to_owned(),
            }
        }),
    }
}

fn probe(
    annotations: &Annotations<'_>,
    keys: [&'static str; 4],
    problems: &mut Vec<Problem>,
) -> Probe {
    let [delay, timeout, period, threshold] = keys;
    let non_negative = 0..=i32::MAX;
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(HEALTHZ_PATH.to_owned()),
            port: IntOrString::Int(HTTP_PORT),
            ..Default::default()
        }),
        initial_delay_seconds: Some(annotations.int32_or(
            delay,
            PROBE_DELAY,
            non_negative.clone(),
            problems,
        )),
        timeout_seconds: Some(annotations.int32_or(
            timeout,
            PROBE_TIMEOUT,
            non_negative.clone(),
            problems,
        )),
        period_seconds: Some(annotations.int32_or(
            period,
            PROBE_PERIOD,
            non_negative.clone(),
            problems,
        )),
        failure_threshold: Some(annotations.int32_or(
            threshold,
            PROBE_THRESHOLD,
            non_negative,
            problems,
        )),
        ..Default::default()
    }
}

/// 0.11 parsed a resource annotation as soon as it was present; one failure dropped all four.
fn resources(annotations: &Annotations<'_>, problems: &mut Vec<Problem>) -> ResourceRequirements {
    let mut requirements = ResourceRequirements::default();
    let entries = [
        (keys::sidecar_cpu_limit, "cpu", false),
        (keys::sidecar_memory_limit, "memory", false),
        (keys::sidecar_cpu_request, "cpu", true),
        (keys::sidecar_memory_request, "memory", true),
    ];
    for (key, resource, is_request) in entries {
        let Some(value) = annotations.raw(key) else {
            continue;
        };
        if let Err(reason) = quantity::validate(value) {
            problems.push(Problem::invalid(
                key,
                format!(
                    "{} is not a quantity ({}); all 4 ignored",
                    quote(value),
                    reason.reason()
                ),
            ));
            return ResourceRequirements::default();
        }
        let target = if is_request {
            &mut requirements.requests
        } else {
            &mut requirements.limits
        };
        target
            .get_or_insert_with(Default::default)
            .insert(resource.to_owned(), K8sQuantity(value.to_owned()));
    }
    requirements
}

/// The certificates daprd gets when mTLS is on: settings, else Secret `dapr-trust-bundle`
/// (the lookup of this layout).
fn certificates(
    settings: &Settings,
    cluster: &dyn Cluster,
    problems: &mut Vec<Problem>,
    log_notes: &mut Vec<String>,
) -> [String; 3] {
    if let (Some(anchors), Some(chain), Some(key)) = (
        &settings.trust_anchors,
        &settings.cert_chain,
        &settings.cert_key,
    ) {
        return [anchors.clone(), chain.clone(), key.clone()];
    }
    let cp_ns = &settings.control_plane_namespace;
    match cluster::trust_bundle_secret(
        cluster.get_resource(&cluster::trust_bundle_secret_request(cp_ns)),
    ) {
        Ok(certificates) => certificates,
        Err(e) => {
            // Dapr 0.11 went on with empty values, so daprd started without mTLS.
            log_notes.push(format!(
                "Secret {} in {cp_ns} not read, daprd without mTLS: {e}",
                cluster::TRUST_BUNDLE_NAME
            ));
            problems.push(Problem::advice(
                keys::enabled,
                format!(
                    "Secret {} unreadable; daprd gets no mTLS (Dapr 0.11 did the same)",
                    cluster::TRUST_BUNDLE_NAME
                ),
            ));
            Default::default()
        }
    }
}

/// What the 0.11 sidecar is built from, once read and looked up.
struct Inputs<'a> {
    annotations: Annotations<'a>,
    view: &'a PodView,
    namespace: &'a str,
    settings: &'a Settings,
    app_id: String,
    app_port: i32,
    max_concurrency: i64,
    metrics_port: i32,
    mtls_enabled: bool,
    /// Trust anchors, certificate chain and key: empty without mTLS or without the Secret.
    certificates: [String; 3],
}

/// 0.11's app id: `dapr.io/app-id`, else the removed `dapr.io/id`, else the Pod's name.
pub fn app_id_of(view: &PodView) -> String {
    Annotations::of(&view.annotations).string_with_alias(keys::app_id, &view.name)
}

/// The 0.11 sidecar; without a cluster (a pod template) mTLS and the Secret are not looked up.
pub fn plan(
    view: &PodView,
    namespace: &str,
    settings: &Settings,
    cluster: Option<&dyn Cluster>,
) -> Result<Plan, Rejection> {
    // Only keys 0.11 knows are read below; the others get a warning.
    let mut problems = unknown::check(&view.annotations, true);
    problems.extend(profiles::known_annotations(settings.dapr_version, &view.annotations).1);
    let annotations = Annotations::of(&view.annotations);
    let app_id = app_id_of(view);
    app_id::validate(&app_id).map_err(|r| Rejection::new(r, &problems))?;
    let app_port = annotations
        .int32_with_alias(keys::app_port, &mut problems)
        .map_err(|r| Rejection::new(r, &problems))?;
    let max_concurrency = annotations
        .int32_with_alias(keys::app_max_concurrency, &mut problems)
        .map_or(DEFAULT_MAX_CONCURRENCY, i64::from);
    let metrics_port = annotations.int32_or(
        keys::metrics_port,
        DEFAULT_METRICS_PORT,
        1..=65535,
        &mut problems,
    );
    let mut log_notes = Vec::new();
    let mtls_enabled = cluster.is_some_and(|c| lookups::mtls(settings, c, &mut log_notes));
    let certificates = match cluster {
        Some(cluster) if mtls_enabled => {
            certificates(settings, cluster, &mut problems, &mut log_notes)
        }
        _ => Default::default(),
    };
    let inputs = Inputs {
        annotations,
        view,
        namespace,
        settings,
        app_id,
        app_port,
        max_concurrency,
        metrics_port,
        mtls_enabled,
        certificates,
    };
    plan_from_inputs(&inputs, problems, log_notes)
}

/// The pure part: the container and what the app containers receive.
fn plan_from_inputs(
    inputs: &Inputs<'_>,
    mut problems: Vec<Problem>,
    log_notes: Vec<String>,
) -> Result<Plan, Rejection> {
    let container = container(inputs, &mut problems);
    // The app's mount is copied whole, fields unknown to k8s-openapi included.
    let sidecar = match inputs.view.service_account_mount() {
        Some(mount) => {
            let mut sidecar = Item::container(&container)
                .value()
                .map_err(|e| Rejection::new(Reason::UnusablePod(e), &[]))?;
            if let Some(object) = sidecar.as_object_mut() {
                object.insert("volumeMounts".to_owned(), Value::Array(vec![mount]));
            }
            Item::of_value(&sidecar)
        }
        None => Item::container(&container),
    };
    let app_env = vec![
        Item::env(&plain_env(env::APP_HTTP_PORT, &HTTP_PORT.to_string())),
        Item::env(&plain_env(env::APP_GRPC_PORT, &GRPC_PORT.to_string())),
    ];
    let additions = Additions {
        volumes: Vec::new(),
        sidecar,
        native_sidecar: false,
        labels: Vec::new(),
        app_containers: (0..inputs.view.containers.len()).collect(),
        app_env,
        app_mounts: Vec::new(),
        components: None,
    };
    Ok(Plan {
        additions,
        app_id: inputs.app_id.clone(),
        image: inputs.settings.sidecar_image.clone(),
        problems,
        log_notes,
        inherited: String::new(),
    })
}

fn container(inputs: &Inputs<'_>, problems: &mut Vec<Problem>) -> Container {
    let annotations = &inputs.annotations;
    Container {
        name: SIDECAR_CONTAINER_NAME.to_owned(),
        image: Some(inputs.settings.sidecar_image.clone()),
        image_pull_policy: Some(PULL_POLICY.to_owned()),
        command: Some(vec![DAPRD_BINARY.to_owned()]),
        args: Some(args(inputs)),
        env: Some(daprd_env(inputs)),
        ports: Some(vec![
            port(HTTP_PORT_NAME, HTTP_PORT),
            port(GRPC_PORT_NAME, GRPC_PORT),
            port(INTERNAL_GRPC_PORT_NAME, INTERNAL_GRPC_PORT),
            port(METRICS_PORT_NAME, inputs.metrics_port),
        ]),
        resources: Some(resources(annotations, problems)),
        liveness_probe: Some(probe(
            annotations,
            [
                keys::liveness_probe_delay_seconds,
                keys::liveness_probe_timeout_seconds,
                keys::liveness_probe_period_seconds,
                keys::liveness_probe_threshold,
            ],
            problems,
        )),
        readiness_probe: Some(probe(
            annotations,
            [
                keys::readiness_probe_delay_seconds,
                keys::readiness_probe_timeout_seconds,
                keys::readiness_probe_period_seconds,
                keys::readiness_probe_threshold,
            ],
            problems,
        )),
        ..Default::default()
    }
}

/// mTLS only when it is on and trust anchors were found.
fn certificates_present(inputs: &Inputs<'_>) -> bool {
    let [anchors, ..] = &inputs.certificates;
    inputs.mtls_enabled && !anchors.is_empty()
}

/// 0.11's argument order: every flag always there, addresses on port 80.
fn args(inputs: &Inputs<'_>) -> Vec<String> {
    let annotations = &inputs.annotations;
    let (cp_ns, cd) = (
        &inputs.settings.control_plane_namespace,
        &inputs.settings.cluster_domain,
    );
    let mut args: Vec<String> = [
        "--mode",
        MODE_KUBERNETES,
        "--dapr-http-port",
        &HTTP_PORT.to_string(),
        "--dapr-grpc-port",
        &GRPC_PORT.to_string(),
        "--dapr-internal-grpc-port",
        &INTERNAL_GRPC_PORT.to_string(),
        "--app-port",
        &if inputs.app_port > 0 {
            inputs.app_port.to_string()
        } else {
            String::new()
        },
        "--app-id",
        &inputs.app_id,
        "--control-plane-address",
        &format!("{}.{cp_ns}.svc.{cd}:80", service::API),
        "--app-protocol",
        &annotations.string_with_alias(keys::app_protocol, "http"),
        "--placement-host-address",
        &format!("{}.{cp_ns}.svc.{cd}:80", service::PLACEMENT_0_11),
        "--config",
        annotations.raw(keys::config).unwrap_or_default(),
        "--log-level",
        &annotations.string_or(keys::log_level, "info"),
        "--app-max-concurrency",
        &inputs.max_concurrency.to_string(),
        "--sentry-address",
        &format!("{}.{cp_ns}.svc.{cd}:80", service::SENTRY),
        "--metrics-port",
        &inputs.metrics_port.to_string(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if annotations.truthy(keys::log_as_json) {
        args.push("--log-as-json".to_owned());
    }
    if annotations.truthy_with_alias(keys::enable_profiling) {
        args.push("--enable-profiling".to_owned());
    }
    if certificates_present(inputs) {
        args.push("--enable-mtls".to_owned());
    }
    args
}

fn daprd_env(inputs: &Inputs<'_>) -> Vec<EnvVar> {
    let mut vars = vec![
        field_ref_env(env::HOST_IP, "status.podIP"),
        plain_env(env::NAMESPACE, inputs.namespace),
    ];
    if certificates_present(inputs) {
        let [anchors, chain, key] = &inputs.certificates;
        vars.extend([
            plain_env(env::TRUST_ANCHORS, anchors),
            plain_env(env::CERT_CHAIN, chain),
            plain_env(env::CERT_KEY, key),
            plain_env(
                env::SENTRY_LOCAL_IDENTITY,
                &format!("{}:{}", inputs.namespace, inputs.view.service_account_name),
            ),
        ]);
    }
    if let Some(secret) = inputs
        .annotations
        .raw(keys::api_token_secret)
        .filter(|s| !s.is_empty())
    {
        vars.push(secret_env(env::API_TOKEN, secret, env::TOKEN_SECRET_KEY));
    }
    vars
}

//! The daprd container, built as Dapr v1.18.3's `getSidecarContainer` builds it: ports,
//! command and arguments, env, resources, probes and securityContext.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EnvVar, HTTPGetAction, Probe, ResourceRequirements, SeccompProfile,
    SecurityContext, TCPSocketAction, WindowsSecurityContextOptions,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::args::daprd_args;
use super::env::{daprd_env, daprd_env_tail};
use super::inputs::SidecarInputs;
use crate::annotations::{DaprAnnotations, Quantity, keys};
use crate::base::dapr::{
    DAPRD_BINARY, DEBUG_PORT_NAME, DLV_BINARY, GRPC_PORT_NAME, HEALTHZ_PATH, HTTP_PORT_NAME,
    INTERNAL_GRPC_PORT_NAME, METRICS_PORT_NAME, OUTBOUND_HEALTHZ_PATH, SIDECAR_CONTAINER_NAME,
    SIDECAR_HTTP_PORT, SIDECAR_PUBLIC_PORT, env,
};
use crate::base::k8s::objects::port;
use crate::base::k8s::quantity::nano_value;
use crate::base::problem::{Problem, quote};
use crate::settings::{SecurityProfile, SidecarResources};

pub const WINDOWS_ADMIN_USER: &str = "ContainerAdministrator";
pub const NATIVE_SIDECAR_RESTART_POLICY: &str = "Always";
pub const SECCOMP_RUNTIME_DEFAULT: &str = "RuntimeDefault";
pub const DROP_ALL: &str = "ALL";

/// The daprd container, and the problems met on the way.
pub fn build(inputs: &SidecarInputs<'_>, problems: &mut Vec<Problem>) -> Container {
    let annotations = inputs.annotations;
    let (command, args) = command_and_args(inputs);
    let mut env = daprd_env(inputs, problems);
    let security_context = security_context(inputs, &env, problems);
    let mut volume_mounts = inputs.volume_mounts.clone();
    volume_mounts.extend(inputs.components_socket_mount.clone());
    daprd_env_tail(inputs, &mut env);
    Container {
        name: SIDECAR_CONTAINER_NAME.to_owned(),
        image: Some(
            annotations
                .sidecar_image
                .clone()
                .unwrap_or_else(|| inputs.settings.sidecar_image.clone()),
        ),
        image_pull_policy: Some(inputs.settings.sidecar_image_pull_policy.clone()),
        command,
        args: Some(args),
        env: Some(env),
        ports: Some(ports(annotations)),
        resources: Some(resources(
            annotations,
            inputs.settings.sidecar_resources.as_ref(),
            problems,
        )),
        volume_mounts: (!volume_mounts.is_empty()).then_some(volume_mounts),
        readiness_probe: Some(readiness_probe(annotations)),
        startup_probe: (inputs.native_sidecar && inputs.settings.native_sidecar_startup_probe)
            .then(|| startup_probe(annotations)),
        liveness_probe: Some(liveness_probe(annotations)),
        security_context: Some(security_context),
        restart_policy: inputs
            .native_sidecar
            .then(|| NATIVE_SIDECAR_RESTART_POLICY.to_owned()),
        ..Default::default()
    }
}

fn ports(annotations: &DaprAnnotations) -> Vec<k8s_openapi::api::core::v1::ContainerPort> {
    let mut ports = vec![
        port(HTTP_PORT_NAME, SIDECAR_HTTP_PORT),
        port(GRPC_PORT_NAME, annotations.grpc_port),
        port(INTERNAL_GRPC_PORT_NAME, annotations.internal_grpc_port),
        port(METRICS_PORT_NAME, annotations.metrics_port),
    ];
    if annotations.enable_debug {
        ports.push(port(DEBUG_PORT_NAME, annotations.debug_port));
    }
    ports
}

/// The binary goes first in the arguments, or alone in `command` for virtual kubelets that
/// ignore the image's ENTRYPOINT.
fn command_and_args(inputs: &SidecarInputs<'_>) -> (Option<Vec<String>>, Vec<String>) {
    let binary = if inputs.annotations.enable_debug {
        DLV_BINARY
    } else {
        DAPRD_BINARY
    };
    let flags = daprd_args(inputs);
    if inputs.set_command {
        return (Some(vec![binary.to_owned()]), flags);
    }
    let mut args = Vec::with_capacity(flags.len().saturating_add(1));
    args.push(binary.to_owned());
    args.extend(flags);
    (None, args)
}

fn readiness_probe(annotations: &DaprAnnotations) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(HEALTHZ_PATH.to_owned()),
            port: IntOrString::Int(SIDECAR_PUBLIC_PORT),
            ..Default::default()
        }),
        initial_delay_seconds: Some(annotations.readiness_probe_delay_seconds),
        timeout_seconds: Some(annotations.readiness_probe_timeout_seconds),
        period_seconds: Some(annotations.readiness_probe_period_seconds),
        failure_threshold: Some(annotations.readiness_probe_threshold),
        ..Default::default()
    }
}

/// `nativeSidecarStartupProbe`: the kubelet starts the containers after a native sidecar
/// once its startup probe passes (Kubernetes 1.29 and later). daprd's outbound healthz
/// passes once daprd can serve the app's calls and never waits for the app, so the app is
/// not held back by daprd waiting for it. Timed as the readiness probe, and given the time
/// Dapr's liveness probe gives daprd before its first restart (delay, then threshold
/// periods): readiness and liveness wait for the startup probe.
fn startup_probe(annotations: &DaprAnnotations) -> Probe {
    let period = annotations.readiness_probe_period_seconds.max(1);
    let budget = annotations.liveness_probe_delay_seconds.saturating_add(
        annotations
            .liveness_probe_period_seconds
            .saturating_mul(annotations.liveness_probe_threshold),
    );
    let threshold = budget
        .saturating_add(period.saturating_sub(1))
        .checked_div(period)
        .unwrap_or(budget)
        .max(1);
    let mut probe = readiness_probe(annotations);
    if let Some(get) = &mut probe.http_get {
        get.path = Some(OUTBOUND_HEALTHZ_PATH.to_owned());
    }
    probe.period_seconds = Some(period);
    probe.failure_threshold = Some(threshold);
    probe
}

fn liveness_probe(annotations: &DaprAnnotations) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(SIDECAR_PUBLIC_PORT),
            ..Default::default()
        }),
        initial_delay_seconds: Some(annotations.liveness_probe_delay_seconds),
        timeout_seconds: Some(annotations.liveness_probe_timeout_seconds),
        period_seconds: Some(annotations.liveness_probe_period_seconds),
        failure_threshold: Some(annotations.liveness_probe_threshold),
        ..Default::default()
    }
}

/// One resource value: the annotation, read and checked by its reader, over the setting.
struct Resource<'a> {
    key: &'static str,
    annotation: &'a Option<Quantity>,
    default: Option<String>,
    is_request: bool,
    name: &'static str,
}

/// The setting `sidecarResources`, then the four resource annotations over it, field by
/// field; one invalid annotation drops all four annotations, as in Dapr.
fn resources(
    annotations: &DaprAnnotations,
    defaults: Option<&SidecarResources>,
    problems: &mut Vec<Problem>,
) -> ResourceRequirements {
    let defaults = defaults.cloned().unwrap_or_default();
    let entry = |key, annotation, default, is_request, name| Resource {
        key,
        annotation,
        default,
        is_request,
        name,
    };
    let entries = [
        entry(
            keys::sidecar_cpu_request,
            &annotations.sidecar_cpu_request,
            defaults.requests.cpu,
            true,
            "cpu",
        ),
        entry(
            keys::sidecar_cpu_limit,
            &annotations.sidecar_cpu_limit,
            defaults.limits.cpu,
            false,
            "cpu",
        ),
        entry(
            keys::sidecar_memory_request,
            &annotations.sidecar_memory_request,
            defaults.requests.memory,
            true,
            "memory",
        ),
        entry(
            keys::sidecar_memory_limit,
            &annotations.sidecar_memory_limit,
            defaults.limits.memory,
            false,
            "memory",
        ),
    ];
    let invalid = entries
        .iter()
        .any(|e| e.annotation == &Some(Quantity::Invalid))
        || request_above_limit(&entries, problems);
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for e in entries {
        let annotation = e
            .annotation
            .as_ref()
            .and_then(Quantity::valid)
            .filter(|_| !invalid);
        if let Some(value) = annotation.map(str::to_owned).or(e.default) {
            let target = if e.is_request {
                &mut requests
            } else {
                &mut limits
            };
            target.insert(e.name.to_owned(), K8sQuantity(value));
        }
    }
    ResourceRequirements {
        requests: (!requests.is_empty()).then_some(requests),
        limits: (!limits.is_empty()).then_some(limits),
        ..Default::default()
    }
}

/// The API server rejects a request above its limit: then all four annotations are dropped.
fn request_above_limit(entries: &[Resource<'_>; 4], problems: &mut Vec<Problem>) -> bool {
    let chosen = |e: &Resource<'_>| {
        e.annotation
            .as_ref()
            .and_then(Quantity::valid)
            .map(str::to_owned)
            .or_else(|| e.default.clone())
    };
    let [cpu_request, cpu_limit, memory_request, memory_limit] = entries;
    for (resource, request, limit) in [
        ("cpu", cpu_request, cpu_limit),
        ("memory", memory_request, memory_limit),
    ] {
        if let (Some(r), Some(l)) = (chosen(request), chosen(limit))
            && nano_value(&r) > nano_value(&l)
        {
            problems.push(Problem::invalid(
                request.key,
                format!(
                    "{resource} request {} exceeds limit {}; all 4 ignored",
                    quote(&r),
                    quote(&l)
                ),
            ));
            return true;
        }
    }
    false
}

fn security_context(
    inputs: &SidecarInputs<'_>,
    env: &[EnvVar],
    problems: &mut Vec<Problem>,
) -> SecurityContext {
    let settings = inputs.settings;
    let mut sc = SecurityContext {
        allow_privilege_escalation: Some(false),
        run_as_non_root: Some(settings.run_as_non_root),
        run_as_user: settings.run_as_user,
        run_as_group: settings.run_as_group,
        read_only_root_filesystem: Some(settings.read_only_root_filesystem),
        ..Default::default()
    };
    let seccomp = &inputs.annotations.sidecar_seccomp_profile_type;
    if !seccomp.is_empty() {
        sc.seccomp_profile = Some(SeccompProfile {
            type_: seccomp.clone(),
            ..Default::default()
        });
    }
    if settings.drop_all_capabilities {
        sc.capabilities = Some(drop_all());
    }
    if env.iter().any(|e| e.name == env::SSL_CERT_DIR) {
        sc.windows_options = Some(WindowsSecurityContextOptions {
            run_as_user_name: Some(WINDOWS_ADMIN_USER.to_owned()),
            ..Default::default()
        });
        sc.run_as_non_root = Some(false);
        sc.read_only_root_filesystem = Some(false);
        sc.run_as_user = None;
        sc.run_as_group = None;
    }
    if settings.security_profile == SecurityProfile::Restricted {
        restrict(&mut sc, problems);
    }
    if inputs.windows {
        leave_out_linux_only(&mut sc, problems);
    }
    sc
}

/// A Windows Pod: the fields Kubernetes forbids in its containers' securityContext
/// (`validateWindows`, pkg/apis/core/validation/validation.go, v1.36), left out and named.
/// Dapr sets them on every Pod: its injector "has no way to know" the Pod's OS, but since
/// Kubernetes 1.25 `spec.os.name` says it.
fn leave_out_linux_only(sc: &mut SecurityContext, problems: &mut Vec<Problem>) {
    let mut left_out = Vec::new();
    let mut take = |set: bool, name: &'static str| {
        if set {
            left_out.push(name);
        }
    };
    take(sc.app_armor_profile.take().is_some(), "appArmorProfile");
    take(sc.se_linux_options.take().is_some(), "seLinuxOptions");
    take(sc.seccomp_profile.take().is_some(), "seccompProfile");
    take(sc.capabilities.take().is_some(), "capabilities");
    take(
        sc.read_only_root_filesystem.take().is_some(),
        "readOnlyRootFilesystem",
    );
    take(sc.privileged.take().is_some(), "privileged");
    take(
        sc.allow_privilege_escalation.take().is_some(),
        "allowPrivilegeEscalation",
    );
    take(sc.proc_mount.take().is_some(), "procMount");
    take(sc.run_as_user.take().is_some(), "runAsUser");
    take(sc.run_as_group.take().is_some(), "runAsGroup");
    for field in left_out {
        problems.push(Problem::advice(
            keys::enabled,
            format!(
                "Windows Pod: daprd's securityContext.{field} left out, as Kubernetes forbids it"
            ),
        ));
    }
}

fn drop_all() -> Capabilities {
    Capabilities {
        drop: Some(vec![DROP_ALL.to_owned()]),
        ..Default::default()
    }
}

/// Pod Security "restricted" (Dapr issue 5916): these four container fields.
fn restrict(sc: &mut SecurityContext, problems: &mut Vec<Problem>) {
    if sc.run_as_non_root == Some(false) {
        problems.push(Problem::advice(
            keys::env,
            "SSL_CERT_DIR: runAsNonRoot kept true (securityProfile restricted)",
        ));
    }
    sc.run_as_non_root = Some(true);
    sc.allow_privilege_escalation = Some(false);
    sc.capabilities = Some(drop_all());
    if sc.seccomp_profile.is_none() {
        sc.seccomp_profile = Some(SeccompProfile {
            type_: SECCOMP_RUNTIME_DEFAULT.to_owned(),
            ..Default::default()
        });
    }
}

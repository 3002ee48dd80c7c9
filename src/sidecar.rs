//! The daprd container, built as Dapr v1.18.3's `getSidecarContainer` builds it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction,
    ObjectFieldSelector, Probe, ResourceRequirements, SeccompProfile, SecretKeySelector,
    SecurityContext, TCPSocketAction, VolumeMount, WindowsSecurityContextOptions,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::annotations::{DaprAnnotations, Problem, keys, quote};
use crate::env_vars::{self, ParsedEnv};
use crate::quantity;
use crate::settings::{DaprVersion, SecurityProfile, Settings, SidecarResources};

pub const SIDECAR_CONTAINER_NAME: &str = "daprd";
pub const SIDECAR_HTTP_PORT: i32 = 3500;
pub const SIDECAR_PUBLIC_PORT: i32 = 3501;
pub const HTTP_PORT_NAME: &str = "dapr-http";
pub const GRPC_PORT_NAME: &str = "dapr-grpc";
pub const INTERNAL_GRPC_PORT_NAME: &str = "dapr-internal";
pub const METRICS_PORT_NAME: &str = "dapr-metrics";
pub const DEBUG_PORT_NAME: &str = "dapr-debug";
pub const HEALTHZ_PATH: &str = "/v1.0/healthz";
pub const DAPRD_BINARY: &str = "/daprd";
pub const DLV_BINARY: &str = "/dlv";
pub const UDS_DAPRD_PATH: &str = "/var/run/dapr-sockets";
pub const MODE_KUBERNETES: &str = "kubernetes";
pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";
pub const WINDOWS_ADMIN_USER: &str = "ContainerAdministrator";
pub const NATIVE_SIDECAR_RESTART_POLICY: &str = "Always";
pub const SECCOMP_RUNTIME_DEFAULT: &str = "RuntimeDefault";
pub const DROP_ALL: &str = "ALL";

pub mod env {
    pub const NAMESPACE: &str = "NAMESPACE";
    pub const TRUST_ANCHORS: &str = "DAPR_TRUST_ANCHORS";
    pub const POD_NAME: &str = "POD_NAME";
    pub const CONTROL_PLANE_NAMESPACE: &str = "DAPR_CONTROLPLANE_NAMESPACE";
    pub const CONTROL_PLANE_TRUST_DOMAIN: &str = "DAPR_CONTROLPLANE_TRUST_DOMAIN";
    pub const HOST_IP: &str = "DAPR_HOST_IP";
    pub const ENV_KEYS: &str = "DAPR_ENV_KEYS";
    pub const COMPONENT_SOCKETS_FOLDER: &str = "DAPR_COMPONENT_SOCKETS_FOLDER";
    pub const API_TOKEN: &str = "DAPR_API_TOKEN";
    pub const APP_API_TOKEN: &str = "APP_API_TOKEN";
    pub const TOKEN_SECRET_KEY: &str = "token";
    pub const SCHEDULER_HOST_ADDRESS: &str = "DAPR_SCHEDULER_HOST_ADDRESS";
    pub const SCHEDULER_HOST_ADDRESS_DNS_A: &str = "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A";
    pub const SKIP_REMINDER_MIGRATION: &str = "DAPR_SKIP_REMINDER_MIGRATION";
}

/// Everything the container depends on beyond the annotations and settings.
#[derive(Debug, Clone)]
pub struct SidecarInputs<'a> {
    pub annotations: &'a DaprAnnotations,
    pub settings: &'a Settings,
    /// The admission request's namespace.
    pub namespace: &'a str,
    pub app_id: &'a str,
    pub mtls_enabled: bool,
    pub trust_anchors: &'a str,
    pub native_sidecar: bool,
    /// A pod toleration equals one of `ignoreEntrypointTolerations`.
    pub set_command: bool,
    pub volume_mounts: Vec<VolumeMount>,
    pub components_socket_mount: Option<VolumeMount>,
}

pub fn field_ref_env(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        // Go drops an empty value from the JSON.
        value: (!value.is_empty()).then(|| value.to_owned()),
        ..Default::default()
    }
}

pub fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: number,
        ..Default::default()
    }
}

/// The placement, actors and reminders flags Dapr's `getPodPatchOperations` computes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorsFlags {
    pub placement_address: String,
    pub actors_service: String,
    pub reminders_service: String,
}

pub fn actors_flags(settings: &Settings, annotations: &DaprAnnotations) -> ActorsFlags {
    let cp_ns = &settings.control_plane_namespace;
    let cd = &settings.cluster_domain;
    let mut flags = ActorsFlags::default();
    // Settings are validated before any request, so these lookups cannot fail here.
    if settings.actors_enabled
        && let Ok((name, service)) = settings.actors_service()
    {
        let address = service.address(cp_ns, cd);
        if name == crate::settings::PLACEMENT_SERVICE_NAME {
            flags.placement_address = address;
        } else {
            flags.actors_service = format!("{name}:{address}");
        }
    }
    if let Ok(Some((name, service))) = settings.reminders_service() {
        flags.reminders_service = format!("{name}:{}", service.address(cp_ns, cd));
    }
    // The annotation replaces the computed placement address, even with actors disabled.
    if let Some(address) = &annotations.placement_host_address {
        flags.placement_address = address.clone();
    }
    flags
}

/// The setting `sidecarResources`, then the four resource annotations over it, field by
/// field; one invalid annotation drops all four annotations, as in Dapr.
fn resources(
    a: &DaprAnnotations,
    defaults: Option<&SidecarResources>,
    problems: &mut Vec<Problem>,
) -> ResourceRequirements {
    let defaults = defaults.cloned().unwrap_or_default();
    let entries = [
        (
            keys::sidecar_cpu_request,
            &a.sidecar_cpu_request,
            defaults.requests.cpu,
            true,
            "cpu",
        ),
        (
            keys::sidecar_cpu_limit,
            &a.sidecar_cpu_limit,
            defaults.limits.cpu,
            false,
            "cpu",
        ),
        (
            keys::sidecar_memory_request,
            &a.sidecar_memory_request,
            defaults.requests.memory,
            true,
            "memory",
        ),
        (
            keys::sidecar_memory_limit,
            &a.sidecar_memory_limit,
            defaults.limits.memory,
            false,
            "memory",
        ),
    ];
    let mut invalid = false;
    for (key, value, ..) in &entries {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty())
            && let Err(reason) = quantity::validate(value)
        {
            invalid = true;
            problems.push(Problem::new(
                key,
                format!(
                    "{} is not a quantity ({reason}); all 4 ignored",
                    quote(value)
                ),
            ));
        }
    }
    // The API server rejects a request above its limit.
    let chosen = |annotation: &Option<String>, default: &Option<String>| {
        annotation
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| default.clone())
    };
    for (resource, request, limit) in [("cpu", 0, 1), ("memory", 2, 3)] {
        let (Some(req), Some(lim)) = (entries.get(request), entries.get(limit)) else {
            continue;
        };
        let values = (chosen(req.1, &req.2), chosen(lim.1, &lim.2));
        if let (Some(r), Some(l)) = &values
            && !invalid
            && quantity::nano_value(r) > quantity::nano_value(l)
        {
            invalid = true;
            problems.push(Problem::new(
                req.0,
                format!(
                    "{resource} request {} exceeds limit {}; all 4 ignored",
                    quote(r),
                    quote(l)
                ),
            ));
        }
    }
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for (_, annotation, default, is_request, resource) in entries {
        let annotation = annotation.clone().filter(|v| !v.is_empty() && !invalid);
        if let Some(value) = annotation.or(default) {
            let target = if is_request {
                &mut requests
            } else {
                &mut limits
            };
            target.insert(resource.to_owned(), Quantity(value));
        }
    }
    ResourceRequirements {
        requests: (!requests.is_empty()).then_some(requests),
        limits: (!limits.is_empty()).then_some(limits),
        ..Default::default()
    }
}

fn push(args: &mut Vec<String>, items: &[&str]) {
    args.extend(items.iter().map(|s| (*s).to_owned()));
}

/// daprd's command-line flags in Dapr's exact order (without `/daprd` itself).
pub fn daprd_args(i: &SidecarInputs<'_>) -> Vec<String> {
    let a = i.annotations;
    let s = i.settings;
    let cp_ns = &s.control_plane_namespace;
    let cd = &s.cluster_domain;
    let actors = actors_flags(s, a);
    let mut args: Vec<String> = Vec::with_capacity(48);
    push(
        &mut args,
        &[
            "--dapr-http-port",
            &SIDECAR_HTTP_PORT.to_string(),
            "--dapr-grpc-port",
            &a.grpc_port.to_string(),
            "--dapr-internal-grpc-port",
            &a.internal_grpc_port.to_string(),
            "--dapr-listen-addresses",
            &a.sidecar_listen_addresses,
            "--dapr-public-port",
            &SIDECAR_PUBLIC_PORT.to_string(),
            "--app-id",
            i.app_id,
            "--app-protocol",
            &a.app_protocol,
            "--log-level",
            &a.log_level,
            "--dapr-graceful-shutdown-seconds",
            &a.graceful_shutdown_seconds.to_string(),
            "--mode",
            MODE_KUBERNETES,
            "--control-plane-address",
            &format!("dapr-api.{cp_ns}.svc.{cd}:443"),
            "--sentry-address",
            &format!("dapr-sentry.{cp_ns}.svc.{cd}:443"),
        ],
    );
    if a.app_port > 0 {
        push(&mut args, &["--app-port", &a.app_port.to_string()]);
    }
    if a.enable_metrics {
        push(
            &mut args,
            &[
                "--enable-metrics",
                "--metrics-port",
                &a.metrics_port.to_string(),
            ],
        );
    }
    if !a.config.is_empty() {
        push(&mut args, &["--config", &a.config]);
    }
    if !a.app_channel_address.is_empty() {
        push(
            &mut args,
            &["--app-channel-address", &a.app_channel_address],
        );
    }
    if !actors.placement_address.trim().is_empty() {
        push(
            &mut args,
            &["--placement-host-address", &actors.placement_address],
        );
    } else if !actors.actors_service.is_empty() {
        push(&mut args, &["--actors-service", &actors.actors_service]);
    }
    if !actors.reminders_service.is_empty() {
        push(
            &mut args,
            &["--reminders-service", &actors.reminders_service],
        );
    }
    if !a.sentry_request_jwt_audiences.is_empty() {
        push(
            &mut args,
            &[
                "--sentry-request-jwt-audiences",
                &a.sentry_request_jwt_audiences,
            ],
        );
    }
    if let Some(enabled) = a.enable_api_logging {
        args.push(format!("--enable-api-logging={enabled}"));
    }
    if a.disable_builtin_k8s_secret_store {
        push(&mut args, &["--disable-builtin-k8s-secret-store"]);
    }
    if a.enable_app_health_check {
        push(
            &mut args,
            &[
                "--enable-app-health-check",
                "--app-health-check-path",
                &a.app_health_check_path,
                "--app-health-probe-interval",
                &a.app_health_probe_interval.to_string(),
                "--app-health-probe-timeout",
                &a.app_health_probe_timeout.to_string(),
                "--app-health-threshold",
                &a.app_health_threshold.to_string(),
            ],
        );
    }
    if let Some(timeout) = &a.app_binding_options_timeout {
        // 1.17.12's backport skips an empty value; 1.16.18 and 1.18 pass it.
        if !(timeout.is_empty() && s.dapr_version == DaprVersion::V1_17) {
            push(&mut args, &["--app-binding-options-timeout", timeout]);
        }
    }
    if a.log_as_json {
        push(&mut args, &["--log-as-json"]);
    }
    if a.enable_profiling {
        push(&mut args, &["--enable-profiling"]);
    }
    if i.mtls_enabled {
        push(&mut args, &["--enable-mtls"]);
    }
    if a.app_ssl {
        push(&mut args, &["--app-ssl"]);
    }
    if let Some(n) = a.app_max_concurrency {
        push(&mut args, &["--app-max-concurrency", &n.to_string()]);
    }
    if let Some(n) = a.http_max_request_size {
        push(&mut args, &["--dapr-http-max-request-size", &n.to_string()]);
    }
    if !a.max_body_size.is_empty() {
        push(&mut args, &["--max-body-size", &a.max_body_size]);
    }
    if let Some(n) = a.http_read_buffer_size {
        push(&mut args, &["--dapr-http-read-buffer-size", &n.to_string()]);
    }
    if !a.read_buffer_size.is_empty() {
        push(&mut args, &["--read-buffer-size", &a.read_buffer_size]);
    }
    if !a.unix_domain_socket_path.is_empty() {
        push(&mut args, &["--unix-domain-socket", UDS_DAPRD_PATH]);
    }
    if let Some(d) = &a.block_shutdown_duration {
        push(&mut args, &["--dapr-block-shutdown-duration", d]);
    }
    if let Some(t) = &a.actors_disseminate_timeout {
        push(&mut args, &["--actors-disseminate-timeout", t]);
    }
    // 1.16 passes the scheduler as env vars instead (daprd_env).
    if s.dapr_version >= DaprVersion::V1_17 {
        if let Some(address) = &a.scheduler_host_address {
            push(&mut args, &["--scheduler-host-address", address]);
        } else if s.scheduler_enabled {
            push(
                &mut args,
                &[
                    "--scheduler-host-address",
                    &format!("dapr-scheduler-server-a.{cp_ns}.svc.{cd}:443"),
                ],
            );
        }
    }
    if let Some(endpoints) = &a.disable_init_endpoints {
        push(&mut args, &["--disable-init-endpoints", endpoints]);
    }
    if a.enable_debug {
        let mut debug: Vec<String> = Vec::with_capacity(args.len().saturating_add(9));
        push(
            &mut debug,
            &[
                "--listen",
                &format!(":{}", a.debug_port),
                "--accept-multiclient",
                "--headless=true",
                "--log",
                "--api-version=2",
                "exec",
                DAPRD_BINARY,
                "--",
            ],
        );
        debug.append(&mut args);
        args = debug;
    }
    args
}

fn security_context(
    i: &SidecarInputs<'_>,
    env: &[EnvVar],
    problems: &mut Vec<Problem>,
) -> SecurityContext {
    let s = i.settings;
    let mut sc = SecurityContext {
        allow_privilege_escalation: Some(false),
        run_as_non_root: Some(s.run_as_non_root),
        run_as_user: s.run_as_user,
        run_as_group: s.run_as_group,
        read_only_root_filesystem: Some(s.read_only_root_filesystem),
        ..Default::default()
    };
    let seccomp = &i.annotations.sidecar_seccomp_profile_type;
    if !seccomp.is_empty() {
        sc.seccomp_profile = Some(SeccompProfile {
            type_: seccomp.clone(),
            ..Default::default()
        });
    }
    if s.drop_all_capabilities {
        sc.capabilities = Some(Capabilities {
            drop: Some(vec![DROP_ALL.to_owned()]),
            ..Default::default()
        });
    }
    if env.iter().any(|e| e.name == SSL_CERT_DIR) {
        sc.windows_options = Some(WindowsSecurityContextOptions {
            run_as_user_name: Some(WINDOWS_ADMIN_USER.to_owned()),
            ..Default::default()
        });
        sc.run_as_non_root = Some(false);
        sc.read_only_root_filesystem = Some(false);
        sc.run_as_user = None;
        sc.run_as_group = None;
    }
    if s.security_profile == SecurityProfile::Restricted {
        // Pod Security "restricted" (Dapr issue 5916): these four container fields.
        if sc.run_as_non_root == Some(false) {
            problems.push(Problem::advice(
                keys::env,
                "SSL_CERT_DIR: runAsNonRoot kept true (securityProfile restricted)",
            ));
        }
        sc.run_as_non_root = Some(true);
        sc.allow_privilege_escalation = Some(false);
        sc.capabilities = Some(Capabilities {
            drop: Some(vec![DROP_ALL.to_owned()]),
            ..Default::default()
        });
        if sc.seccomp_profile.is_none() {
            sc.seccomp_profile = Some(SeccompProfile {
                type_: SECCOMP_RUNTIME_DEFAULT.to_owned(),
                ..Default::default()
            });
        }
    }
    sc
}

fn daprd_env(i: &SidecarInputs<'_>, problems: &mut Vec<Problem>) -> Vec<EnvVar> {
    let a = i.annotations;
    let s = i.settings;
    let mut env = vec![
        plain_env(env::NAMESPACE, i.namespace),
        plain_env(env::TRUST_ANCHORS, i.trust_anchors),
        field_ref_env(env::POD_NAME, "metadata.name"),
        plain_env(env::CONTROL_PLANE_NAMESPACE, &s.control_plane_namespace),
        plain_env(
            env::CONTROL_PLANE_TRUST_DOMAIN,
            &s.control_plane_trust_domain,
        ),
    ];
    if s.enable_k8s_downward_apis {
        env.push(field_ref_env(env::HOST_IP, "status.podIP"));
    }
    if s.dapr_version == DaprVersion::V1_16 {
        let scheduler = crate::profiles::scheduler_env_1_16(
            a.scheduler_host_address.as_deref(),
            s.scheduler_replicas_1_16(),
            &s.control_plane_namespace,
            &s.cluster_domain,
        );
        if let Some((address, dns_a)) = scheduler {
            env.push(plain_env(env::SCHEDULER_HOST_ADDRESS, &address));
            env.push(plain_env(env::SCHEDULER_HOST_ADDRESS_DNS_A, &dns_a));
        }
        if s.skip_reminder_migration {
            env.push(plain_env(env::SKIP_REMINDER_MIGRATION, "true"));
        }
    }
    let ParsedEnv {
        keys: mut env_keys,
        vars,
    } = env_vars::parse(&a.env, false, keys::env, problems);
    env.extend(vars);
    let ParsedEnv {
        keys: secret_keys,
        vars,
    } = env_vars::parse(&a.env_from_secret, true, keys::env_from_secret, problems);
    env.extend(vars);
    env_keys.extend(secret_keys);
    if !env_keys.is_empty() {
        env.push(plain_env(env::ENV_KEYS, &env_keys.join(" ")));
    }
    env
}

/// The daprd container, and the problems met on the way.
pub fn build(i: &SidecarInputs<'_>, problems: &mut Vec<Problem>) -> Container {
    let a = i.annotations;
    let mut ports = vec![
        port(HTTP_PORT_NAME, SIDECAR_HTTP_PORT),
        port(GRPC_PORT_NAME, a.grpc_port),
        port(INTERNAL_GRPC_PORT_NAME, a.internal_grpc_port),
        port(METRICS_PORT_NAME, a.metrics_port),
    ];
    if a.enable_debug {
        ports.push(port(DEBUG_PORT_NAME, a.debug_port));
    }
    let binary = if a.enable_debug {
        DLV_BINARY
    } else {
        DAPRD_BINARY
    };
    let flags = daprd_args(i);
    let (command, args) = if i.set_command {
        (Some(vec![binary.to_owned()]), flags)
    } else {
        let mut args = Vec::with_capacity(flags.len().saturating_add(1));
        args.push(binary.to_owned());
        args.extend(flags);
        (None, args)
    };

    let mut env = daprd_env(i, problems);
    let security_context = security_context(i, &env, problems);
    let mut volume_mounts = i.volume_mounts.clone();
    if let Some(mount) = &i.components_socket_mount {
        volume_mounts.push(mount.clone());
        env.push(plain_env(env::COMPONENT_SOCKETS_FOLDER, &mount.mount_path));
    }
    if !a.api_token_secret.is_empty() {
        env.push(secret_env(
            env::API_TOKEN,
            &a.api_token_secret,
            env::TOKEN_SECRET_KEY,
        ));
    }
    if !a.app_token_secret.is_empty() {
        env.push(secret_env(
            env::APP_API_TOKEN,
            &a.app_token_secret,
            env::TOKEN_SECRET_KEY,
        ));
    }

    Container {
        name: SIDECAR_CONTAINER_NAME.to_owned(),
        image: Some(
            a.sidecar_image
                .clone()
                .unwrap_or_else(|| i.settings.sidecar_image.clone()),
        ),
        image_pull_policy: Some(i.settings.sidecar_image_pull_policy.clone()),
        command,
        args: Some(args),
        env: Some(env),
        ports: Some(ports),
        resources: Some(resources(
            a,
            i.settings.sidecar_resources.as_ref(),
            problems,
        )),
        volume_mounts: (!volume_mounts.is_empty()).then_some(volume_mounts),
        readiness_probe: Some(Probe {
            http_get: Some(HTTPGetAction {
                path: Some(HEALTHZ_PATH.to_owned()),
                port: IntOrString::Int(SIDECAR_PUBLIC_PORT),
                ..Default::default()
            }),
            initial_delay_seconds: Some(a.readiness_probe_delay_seconds),
            timeout_seconds: Some(a.readiness_probe_timeout_seconds),
            period_seconds: Some(a.readiness_probe_period_seconds),
            failure_threshold: Some(a.readiness_probe_threshold),
            ..Default::default()
        }),
        liveness_probe: Some(Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::Int(SIDECAR_PUBLIC_PORT),
                ..Default::default()
            }),
            initial_delay_seconds: Some(a.liveness_probe_delay_seconds),
            timeout_seconds: Some(a.liveness_probe_timeout_seconds),
            period_seconds: Some(a.liveness_probe_period_seconds),
            failure_threshold: Some(a.liveness_probe_threshold),
            ..Default::default()
        }),
        security_context: Some(security_context),
        restart_policy: i
            .native_sidecar
            .then(|| NATIVE_SIDECAR_RESTART_POLICY.to_owned()),
        ..Default::default()
    }
}

/// `APP_PROTOCOL` for app containers: Dapr's `GetAppProtocol` (empty: not added).
pub fn app_protocol_env_value(a: &DaprAnnotations) -> &'static str {
    match a.app_protocol.to_ascii_lowercase().as_str() {
        "grpcs" => "grpcs",
        "https" => "https",
        "h2c" => "h2c",
        "http" | "" => {
            if a.app_ssl && !a.app_protocol.is_empty() {
                "https"
            } else {
                "http"
            }
        }
        "grpc" => {
            if a.app_ssl {
                "grpcs"
            } else {
                "grpc"
            }
        }
        _ => "",
    }
}

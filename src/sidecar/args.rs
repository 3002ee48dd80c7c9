//! daprd's command line, in the exact order of Dapr v1.18.3's `getSidecarContainer`.

use super::inputs::SidecarInputs;
use crate::annotations::DaprAnnotations;
use crate::base::dapr::{
    DAPRD_BINARY, MODE_KUBERNETES, SIDECAR_HTTP_PORT, SIDECAR_PUBLIC_PORT, UDS_DAPRD_PATH, service,
};
use crate::profiles::{self, Scheduler};
use crate::settings::{PLACEMENT_SERVICE_NAME, Settings};

fn push(args: &mut Vec<String>, items: &[&str]) {
    args.extend(items.iter().map(|s| (*s).to_owned()));
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
        if name == PLACEMENT_SERVICE_NAME {
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

/// daprd's command-line flags in Dapr's exact order (without `/daprd` itself).
pub fn daprd_args(inputs: &SidecarInputs<'_>) -> Vec<String> {
    let mut args: Vec<String> = Vec::with_capacity(48);
    always(inputs, &mut args);
    app(inputs.annotations, &mut args);
    actors(
        &actors_flags(inputs.settings, inputs.annotations),
        &mut args,
    );
    behaviour(inputs, &mut args);
    limits(inputs.annotations, &mut args);
    control_plane(inputs, &mut args);
    if inputs.annotations.enable_debug {
        args = under_debugger(inputs.annotations, args);
    }
    args
}

/// The flags every daprd gets.
fn always(inputs: &SidecarInputs<'_>, args: &mut Vec<String>) {
    let annotations = inputs.annotations;
    let (cp_ns, cd) = (
        &inputs.settings.control_plane_namespace,
        &inputs.settings.cluster_domain,
    );
    push(
        args,
        &[
            "--dapr-http-port",
            &SIDECAR_HTTP_PORT.to_string(),
            "--dapr-grpc-port",
            &annotations.grpc_port.to_string(),
            "--dapr-internal-grpc-port",
            &annotations.internal_grpc_port.to_string(),
            "--dapr-listen-addresses",
            &annotations.sidecar_listen_addresses,
            "--dapr-public-port",
            &SIDECAR_PUBLIC_PORT.to_string(),
            "--app-id",
            inputs.app_id,
            "--app-protocol",
            &annotations.app_protocol,
            "--log-level",
            &annotations.log_level,
            "--dapr-graceful-shutdown-seconds",
            &annotations.graceful_shutdown_seconds.to_string(),
            "--mode",
            MODE_KUBERNETES,
            "--control-plane-address",
            &format!("{}.{cp_ns}.svc.{cd}:443", service::API),
            "--sentry-address",
            &format!("{}.{cp_ns}.svc.{cd}:443", service::SENTRY),
        ],
    );
}

/// The app's port, metrics, configuration and channel address.
fn app(annotations: &DaprAnnotations, args: &mut Vec<String>) {
    if annotations.app_port > 0 {
        push(args, &["--app-port", &annotations.app_port.to_string()]);
    }
    if annotations.enable_metrics {
        push(
            args,
            &[
                "--enable-metrics",
                "--metrics-port",
                &annotations.metrics_port.to_string(),
            ],
        );
    }
    if !annotations.config.is_empty() {
        push(args, &["--config", &annotations.config]);
    }
    if !annotations.app_channel_address.is_empty() {
        push(
            args,
            &["--app-channel-address", &annotations.app_channel_address],
        );
    }
}

fn actors(actors: &ActorsFlags, args: &mut Vec<String>) {
    if !actors.placement_address.trim().is_empty() {
        push(
            args,
            &["--placement-host-address", &actors.placement_address],
        );
    } else if !actors.actors_service.is_empty() {
        push(args, &["--actors-service", &actors.actors_service]);
    }
    if !actors.reminders_service.is_empty() {
        push(args, &["--reminders-service", &actors.reminders_service]);
    }
}

/// Identity, API logging, secrets, health checks, bindings, logging, profiling and TLS.
fn behaviour(inputs: &SidecarInputs<'_>, args: &mut Vec<String>) {
    let annotations = inputs.annotations;
    if !annotations.sentry_request_jwt_audiences.is_empty() {
        push(
            args,
            &[
                "--sentry-request-jwt-audiences",
                &annotations.sentry_request_jwt_audiences,
            ],
        );
    }
    if let Some(enabled) = annotations.enable_api_logging {
        args.push(format!("--enable-api-logging={enabled}"));
    }
    if annotations.disable_builtin_k8s_secret_store {
        push(args, &["--disable-builtin-k8s-secret-store"]);
    }
    if annotations.enable_app_health_check {
        push(
            args,
            &[
                "--enable-app-health-check",
                "--app-health-check-path",
                &annotations.app_health_check_path,
                "--app-health-probe-interval",
                &annotations.app_health_probe_interval.to_string(),
                "--app-health-probe-timeout",
                &annotations.app_health_probe_timeout.to_string(),
                "--app-health-threshold",
                &annotations.app_health_threshold.to_string(),
            ],
        );
    }
    if let Some(timeout) = &annotations.app_binding_options_timeout
        && profiles::binding_timeout_flag(inputs.settings.dapr_version, timeout)
    {
        push(args, &["--app-binding-options-timeout", timeout]);
    }
    for (on, flag) in [
        (annotations.log_as_json, "--log-as-json"),
        (annotations.enable_profiling, "--enable-profiling"),
        (inputs.mtls_enabled, "--enable-mtls"),
        (annotations.app_ssl, "--app-ssl"),
    ] {
        if on {
            push(args, &[flag]);
        }
    }
}

/// Concurrency, request and buffer sizes, the socket, and shutdown and dissemination times.
fn limits(annotations: &DaprAnnotations, args: &mut Vec<String>) {
    if let Some(n) = annotations.app_max_concurrency {
        push(args, &["--app-max-concurrency", &n.to_string()]);
    }
    if let Some(n) = annotations.http_max_request_size {
        push(args, &["--dapr-http-max-request-size", &n.to_string()]);
    }
    if !annotations.max_body_size.is_empty() {
        push(args, &["--max-body-size", &annotations.max_body_size]);
    }
    if let Some(n) = annotations.http_read_buffer_size {
        push(args, &["--dapr-http-read-buffer-size", &n.to_string()]);
    }
    if !annotations.read_buffer_size.is_empty() {
        push(args, &["--read-buffer-size", &annotations.read_buffer_size]);
    }
    if !annotations.unix_domain_socket_path.is_empty() {
        push(args, &["--unix-domain-socket", UDS_DAPRD_PATH]);
    }
    if let Some(d) = &annotations.block_shutdown_duration {
        push(args, &["--dapr-block-shutdown-duration", d]);
    }
    if let Some(t) = &annotations.actors_disseminate_timeout {
        push(args, &["--actors-disseminate-timeout", t]);
    }
}

/// The scheduler (a flag from 1.17; 1.16 passes env vars instead) and the init endpoints.
fn control_plane(inputs: &SidecarInputs<'_>, args: &mut Vec<String>) {
    if let Scheduler::Flag(address) = &inputs.scheduler {
        push(args, &["--scheduler-host-address", address]);
    }
    if let Some(endpoints) = &inputs.annotations.disable_init_endpoints {
        push(args, &["--disable-init-endpoints", endpoints]);
    }
}

/// Debug mode: daprd runs under Delve, which listens on the debug port.
fn under_debugger(annotations: &DaprAnnotations, mut args: Vec<String>) -> Vec<String> {
    let mut debug: Vec<String> = Vec::with_capacity(args.len().saturating_add(9));
    push(
        &mut debug,
        &[
            "--listen",
            &format!(":{}", annotations.debug_port),
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
    debug
}

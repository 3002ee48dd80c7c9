//! The annotation table: one row per `dapr.io/*` key with its field, type, reader, default,
//! first release and effect. The struct, the key constants and the parser are generated from
//! it, so a key, its type and its default can never drift apart.

use serde_json::{Map, Value};

use super::read;
pub use super::read::Quantity;
use crate::base::dapr::DaprVersion;
use crate::base::problem::{Problem, json_type_name};

/// Documentation row of the annotation table (README and "did you mean" suggestions).
#[derive(Debug, Clone, Copy)]
pub struct AnnotationInfo {
    pub key: &'static str,
    /// The first release (of those the policy supports) whose injector reads it.
    pub since: DaprVersion,
    pub type_name: &'static str,
    pub default: &'static str,
    pub effect: &'static str,
}

/// Declares the annotation table, the typed struct and its parser from one list, so that a key,
/// its type and its default can never drift apart.
macro_rules! annotations {
    ($( $field:ident : $ty:ty = $key:literal, $reader:ident, $default:expr, since $since:ident,
        $(alias $alias:literal,)?
        type $type_name:literal, default $default_doc:literal, $effect:literal; )*) => {
        /// Every annotation key, as Dapr spells it: named whether the code reads it by name or
        /// only through the table.
        #[allow(dead_code)]
        pub mod keys {
            $( #[allow(non_upper_case_globals)] pub const $field: &str = $key; )*
        }

        /// The parsed annotations of one Pod.
        #[derive(Debug, Clone, PartialEq)]
        pub struct DaprAnnotations {
            $( pub $field: $ty, )*
        }

        /// Every key with the first release that reads it: what the policy needs at run time.
        pub const KNOWN: &[(&str, DaprVersion)] = &[ $( ($key, DaprVersion::$since), )* ];

        /// The keys Dapr 1.0 removed, each with the key that replaced it; Dapr 0.11 still
        /// reads them as fallbacks.
        pub const REMOVED: &[(&str, &str)] = &[ $( $( ($alias, $key), )? )* ];

        /// Key, type, default and effect of every annotation, in Dapr's order: documentation,
        /// kept apart from [`KNOWN`] so that its text stays out of the wasm module.
        pub const ANNOTATIONS: &[AnnotationInfo] = &[
            $( AnnotationInfo { key: $key, type_name: $type_name, default: $default_doc, effect: $effect, since: DaprVersion::$since }, )*
        ];

        /// The table's rows, numbered in [`KNOWN`]'s order.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum Row { $( $field, )* }

        impl DaprAnnotations {
            /// Parses the Pod's `metadata.annotations`; values that cannot be used go to `problems`.
            pub fn parse(annotations: &Map<String, Value>, problems: &mut Vec<Problem>) -> Self {
                let values = by_row(annotations);
                DaprAnnotations {
                    $( $field: read::$reader(
                        string_value(values.get(Row::$field as usize).copied().flatten(), $key, problems),
                        $key, $default, problems), )*
                }
            }
        }
    };
}

/// The Pod's value of each row, found in one pass over its few annotations: a map lookup per
/// row was a tenth of an evaluation in wasm.
fn by_row(annotations: &Map<String, Value>) -> [Option<&Value>; KNOWN.len()] {
    let mut values = [None; KNOWN.len()];
    for (key, value) in annotations {
        let row = KNOWN.iter().position(|&(known, _)| known == key);
        if let Some(slot) = row.and_then(|row| values.get_mut(row)) {
            *slot = Some(value);
        }
    }
    values
}

/// The raw string values of a Pod's annotations, found through the table: a row's key, or the
/// key it replaced. The 0.11 profile reads these with its own rules.
pub struct RawAnnotations<'a> {
    values: [Option<&'a Value>; KNOWN.len()],
    map: &'a Map<String, Value>,
}

impl<'a> RawAnnotations<'a> {
    pub fn of(annotations: &'a Map<String, Value>) -> Self {
        RawAnnotations {
            values: by_row(annotations),
            map: annotations,
        }
    }

    /// The value of a row's key, when it is a string.
    pub fn value(&self, key: &str) -> Option<&'a str> {
        let row = KNOWN.iter().position(|&(known, _)| known == key)?;
        self.values.get(row).copied().flatten()?.as_str()
    }

    /// The key a row's key replaced in Dapr 1.0, with its value when it is a string.
    pub fn removed_alias(&self, key: &str) -> Option<(&'static str, &'a str)> {
        let &(alias, _) = REMOVED
            .iter()
            .find(|&&(_, replacement)| replacement == key)?;
        Some((alias, self.map.get(alias)?.as_str()?))
    }
}

/// Annotation values are strings in every object the API server admits; anything else is
/// reported and treated as absent.
fn string_value<'a>(
    value: Option<&'a Value>,
    key: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<&'a str> {
    match value? {
        Value::String(s) => Some(s.as_str()),
        other => {
            problems.push(Problem::invalid(
                key,
                format!(
                    "value must be a string, got {}; ignored",
                    json_type_name(other)
                ),
            ));
            None
        }
    }
}

pub const DEFAULT_APP_PROTOCOL: &str = "http";
pub const DEFAULT_LOG_LEVEL: &str = "info";
pub const DEFAULT_LISTEN_ADDRESSES: &str = "[::1],127.0.0.1";
pub const DEFAULT_APP_HEALTH_CHECK_PATH: &str = "/healthz";

annotations! {
    enabled: Option<String> = "dapr.io/enabled", opt_string, None, since V0_11,
        type "bool", default "false",
        "Injects daprd when the value is `true` (any case). Dapr's handler honours nothing else: `yes` and `1` do not inject.";
    app_port: i32 = "dapr.io/app-port", port_or_zero, 0, since V0_11,
        alias "dapr.io/port",
        type "int32 (port)", default "0",
        "`--app-port N` when N > 0.";
    config: String = "dapr.io/config", string, String::new(), since V0_11,
        type "string", default "\"\"",
        "`--config X` when non-empty (name of a Configuration resource).";
    app_protocol: String = "dapr.io/app-protocol", string, DEFAULT_APP_PROTOCOL.to_owned(), since V0_11,
        alias "dapr.io/protocol",
        type "string", default "http",
        "`--app-protocol` with the raw value; app env `APP_PROTOCOL` with the normalised value (none for unknown values).";
    app_ssl: bool = "dapr.io/app-ssl", bool, false, since V1_16,
        type "bool", default "false",
        "`--app-ssl`; `APP_PROTOCOL` http becomes https and grpc becomes grpcs. Deprecated by Dapr.";
    app_id: String = "dapr.io/app-id", string, String::new(), since V0_11,
        alias "dapr.io/id",
        type "string", default "the Pod's name",
        "`--app-id` and label `dapr.io/app-id`. `<id>-dapr` must be a DNS-1123 label, or the Pod is rejected.";
    enable_profiling: bool = "dapr.io/enable-profiling", bool, false, since V0_11,
        alias "dapr.io/profiling",
        type "bool", default "false",
        "`--enable-profiling`.";
    log_level: String = "dapr.io/log-level", string, DEFAULT_LOG_LEVEL.to_owned(), since V0_11,
        type "string", default "info",
        "`--log-level X`.";
    api_token_secret: String = "dapr.io/api-token-secret", string, String::new(), since V0_11,
        type "string", default "\"\"",
        "daprd env `DAPR_API_TOKEN` from key `token` of this Secret.";
    app_token_secret: String = "dapr.io/app-token-secret", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "daprd env `APP_API_TOKEN` from key `token` of this Secret.";
    log_as_json: bool = "dapr.io/log-as-json", bool, false, since V0_11,
        type "bool", default "false",
        "`--log-as-json`.";
    app_max_concurrency: Option<i64> = "dapr.io/app-max-concurrency", opt_int, None, since V0_11,
        alias "dapr.io/max-concurrency",
        type "int (optional)", default "unset",
        "`--app-max-concurrency N` when present (any integer, including -1).";
    enable_metrics: bool = "dapr.io/enable-metrics", bool, true, since V1_16,
        type "bool", default "true",
        "`--enable-metrics --metrics-port N` when true; label `dapr.io/metrics-enabled`.";
    metrics_port: i32 = "dapr.io/metrics-port", port, 9090, since V0_11,
        type "int32 (port)", default "9090",
        "Container port `dapr-metrics` (always declared) and `--metrics-port`.";
    enable_debug: bool = "dapr.io/enable-debug", bool, false, since V1_16,
        type "bool", default "false",
        "Runs daprd under `/dlv` and declares the port `dapr-debug`.";
    debug_port: i32 = "dapr.io/debug-port", port, 40000, since V1_16,
        type "int32 (port)", default "40000",
        "`--listen :N` for dlv and the port `dapr-debug` (debug mode only).";
    env: String = "dapr.io/env", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "daprd env vars `K=V,K2=V2` (a comma splits only before `IDENT=`), plus `DAPR_ENV_KEYS`.";
    env_from_secret: String = "dapr.io/env-from-secret", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "daprd env vars from Secrets: `K=secret` or `K=secret:key`, plus `DAPR_ENV_KEYS`.";
    grpc_port: i32 = "dapr.io/grpc-port", port, 50001, since V1_16,
        type "int32 (port)", default "50001",
        "Port `dapr-grpc`, `--dapr-grpc-port`, app env `DAPR_GRPC_PORT`.";
    internal_grpc_port: i32 = "dapr.io/internal-grpc-port", port, 50002, since V1_16,
        type "int32 (port)", default "50002",
        "Port `dapr-internal`, `--dapr-internal-grpc-port`.";
    sidecar_cpu_request: Option<Quantity> = "dapr.io/sidecar-cpu-request", quantity, None, since V0_11,
        type "quantity", default "unset",
        "`resources.requests.cpu`. One invalid resource annotation drops all four.";
    sidecar_cpu_limit: Option<Quantity> = "dapr.io/sidecar-cpu-limit", quantity, None, since V0_11,
        type "quantity", default "unset",
        "`resources.limits.cpu`. One invalid resource annotation drops all four.";
    sidecar_memory_request: Option<Quantity> = "dapr.io/sidecar-memory-request", quantity, None, since V0_11,
        type "quantity", default "unset",
        "`resources.requests.memory`. One invalid resource annotation drops all four.";
    sidecar_memory_limit: Option<Quantity> = "dapr.io/sidecar-memory-limit", quantity, None, since V0_11,
        type "quantity", default "unset",
        "`resources.limits.memory`. One invalid resource annotation drops all four.";
    sidecar_listen_addresses: String = "dapr.io/sidecar-listen-addresses", string, DEFAULT_LISTEN_ADDRESSES.to_owned(), since V1_16,
        type "string", default "[::1],127.0.0.1",
        "`--dapr-listen-addresses X`.";
    liveness_probe_delay_seconds: i32 = "dapr.io/sidecar-liveness-probe-delay-seconds", seconds, 180, since V0_11,
        type "int32 (>= 0)", default "180",
        "`livenessProbe.initialDelaySeconds`.";
    liveness_probe_timeout_seconds: i32 = "dapr.io/sidecar-liveness-probe-timeout-seconds", seconds, 3, since V0_11,
        type "int32 (>= 0)", default "3",
        "`livenessProbe.timeoutSeconds`.";
    liveness_probe_period_seconds: i32 = "dapr.io/sidecar-liveness-probe-period-seconds", seconds, 10, since V0_11,
        type "int32 (>= 0)", default "10",
        "`livenessProbe.periodSeconds`.";
    liveness_probe_threshold: i32 = "dapr.io/sidecar-liveness-probe-threshold", seconds, 5, since V0_11,
        type "int32 (>= 0)", default "5",
        "`livenessProbe.failureThreshold`.";
    readiness_probe_delay_seconds: i32 = "dapr.io/sidecar-readiness-probe-delay-seconds", seconds, 1, since V0_11,
        type "int32 (>= 0)", default "1",
        "`readinessProbe.initialDelaySeconds`.";
    readiness_probe_timeout_seconds: i32 = "dapr.io/sidecar-readiness-probe-timeout-seconds", seconds, 1, since V0_11,
        type "int32 (>= 0)", default "1",
        "`readinessProbe.timeoutSeconds`.";
    readiness_probe_period_seconds: i32 = "dapr.io/sidecar-readiness-probe-period-seconds", seconds, 1, since V0_11,
        type "int32 (>= 0)", default "1",
        "`readinessProbe.periodSeconds`.";
    readiness_probe_threshold: i32 = "dapr.io/sidecar-readiness-probe-threshold", seconds, 5, since V0_11,
        type "int32 (>= 0)", default "5",
        "`readinessProbe.failureThreshold`.";
    sidecar_image: Option<String> = "dapr.io/sidecar-image", opt_image, None, since V1_16,
        type "string", default "setting `sidecarImage`",
        "daprd `image`; overrides the setting. An empty or space-padded value is ignored.";
    sidecar_seccomp_profile_type: String = "dapr.io/sidecar-seccomp-profile-type", seccomp, String::new(), since V1_16,
        type "string", default "\"\"",
        "`securityContext.seccompProfile.type` when non-empty: `RuntimeDefault` or `Unconfined` (`Localhost` needs a profile no annotation sets).";
    http_max_request_size: Option<i64> = "dapr.io/http-max-request-size", opt_int, None, since V1_16,
        type "int (optional)", default "unset",
        "`--dapr-http-max-request-size N` (MB, legacy).";
    max_body_size: String = "dapr.io/max-body-size", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "`--max-body-size X` when non-empty.";
    http_read_buffer_size: Option<i64> = "dapr.io/http-read-buffer-size", opt_int, None, since V1_16,
        type "int (optional)", default "unset",
        "`--dapr-http-read-buffer-size N` (KB, legacy).";
    read_buffer_size: String = "dapr.io/read-buffer-size", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "`--read-buffer-size X` when non-empty.";
    graceful_shutdown_seconds: i64 = "dapr.io/graceful-shutdown-seconds", int, -1, since V1_16,
        type "int", default "-1",
        "`--dapr-graceful-shutdown-seconds N`, always passed (-1: daprd's own default).";
    block_shutdown_duration: Option<String> = "dapr.io/block-shutdown-duration", opt_string, None, since V1_16,
        type "string (optional)", default "unset",
        "`--dapr-block-shutdown-duration X` when present.";
    enable_api_logging: Option<bool> = "dapr.io/enable-api-logging", opt_bool, None, since V1_16,
        type "bool (optional)", default "unset",
        "`--enable-api-logging=true|false` when present (`\"\"` gives false).";
    unix_domain_socket_path: String = "dapr.io/unix-domain-socket-path", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "Memory emptyDir `dapr-unix-domain-socket`, mounted in daprd at `/var/run/dapr-sockets` and in app containers at this path; `--unix-domain-socket`.";
    volume_mounts: String = "dapr.io/volume-mounts", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "Read-only daprd mounts `vol:path,vol2:path2` of existing Pod volumes.";
    volume_mounts_rw: String = "dapr.io/volume-mounts-rw", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "Read-write daprd mounts `vol:path,vol2:path2` of existing Pod volumes.";
    disable_builtin_k8s_secret_store: bool = "dapr.io/disable-builtin-k8s-secret-store", bool, false, since V1_16,
        type "bool", default "false",
        "`--disable-builtin-k8s-secret-store`.";
    enable_app_health_check: bool = "dapr.io/enable-app-health-check", bool, false, since V1_16,
        type "bool", default "false",
        "`--enable-app-health-check` with path, interval, timeout and threshold flags.";
    app_health_check_path: String = "dapr.io/app-health-check-path", string, DEFAULT_APP_HEALTH_CHECK_PATH.to_owned(), since V1_16,
        type "string", default "/healthz",
        "`--app-health-check-path` (health checks only).";
    app_health_probe_interval: i32 = "dapr.io/app-health-probe-interval", int32, 5, since V1_16,
        type "int32", default "5",
        "`--app-health-probe-interval` in seconds (health checks only).";
    app_health_probe_timeout: i32 = "dapr.io/app-health-probe-timeout", int32, 500, since V1_16,
        type "int32", default "500",
        "`--app-health-probe-timeout` in milliseconds (health checks only).";
    app_health_threshold: i32 = "dapr.io/app-health-threshold", int32, 3, since V1_16,
        type "int32", default "3",
        "`--app-health-threshold` (health checks only).";
    app_binding_options_timeout: Option<String> = "dapr.io/app-binding-options-timeout", opt_string, None, since V1_16,
        type "string (optional)", default "unset",
        "`--app-binding-options-timeout X` when present.";
    placement_host_address: Option<String> = "dapr.io/placement-host-address", opt_address, None, since V1_16,
        type "string (quotes and spaces stripped)", default "computed from the settings",
        "`--placement-host-address X`; an empty value disables placement.";
    actors_disseminate_timeout: Option<String> = "dapr.io/actors-disseminate-timeout", opt_string, None, since V1_18,
        type "string (optional)", default "unset",
        "`--actors-disseminate-timeout X` when present.";
    scheduler_host_address: Option<String> = "dapr.io/scheduler-host-address", opt_address, None, since V1_16,
        type "string (quotes and spaces stripped)", default "computed from the settings",
        "`--scheduler-host-address X`; an empty value passes an empty address, which disables the scheduler.";
    pluggable_components: String = "dapr.io/pluggable-components", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "Comma list of existing container names that are pluggable components.";
    pluggable_components_sockets_folder: String = "dapr.io/pluggable-components-sockets-folder", string, String::new(), since V1_16,
        type "string", default "setting `componentSocketsFolder`",
        "Mount path of the shared components socket volume.";
    component_container: String = "dapr.io/component-container", string, String::new(), since V1_16,
        type "JSON container", default "\"\"",
        "Read from Component resources, not from the Pod: the container to inject for that component.";
    inject_pluggable_components: bool = "dapr.io/inject-pluggable-components", bool, false, since V1_16,
        type "bool", default "false",
        "Lists the namespace's Components and injects their `dapr.io/component-container` containers.";
    app_channel_address: String = "dapr.io/app-channel-address", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "`--app-channel-address X` when non-empty.";
    sentry_request_jwt_audiences: String = "dapr.io/sentry-request-jwt-audiences", string, String::new(), since V1_16,
        type "string", default "\"\"",
        "`--sentry-request-jwt-audiences X` when non-empty.";
    sidecar_svc_annotations: String = "dapr.io/sidecar-svc-annotations", string, String::new(), since V1_17,
        type "string", default "\"\"",
        "Not used by the injector: Dapr's operator copies it onto the `<app-id>-dapr` Service.";
    disable_init_endpoints: Option<String> = "dapr.io/disable-init-endpoints", opt_string, None, since V1_17,
        type "string (optional)", default "unset",
        "`--disable-init-endpoints X` when present.";
    enable_native_sidecar: Option<bool> = "dapr.io/enable-native-sidecar", opt_bool, None, since V1_18,
        type "bool", default "setting `nativeSidecar`",
        "daprd goes last in `initContainers` with `restartPolicy: Always`; overrides the setting both ways.";
}

/// True when the injector of `version` reads `key`.
pub fn known_in(key: &str, version: DaprVersion) -> bool {
    KNOWN
        .iter()
        .any(|&(known, since)| known == key && since <= version)
}

/// The annotation prefix every Dapr key shares.
pub const PREFIX: &str = "dapr.io/";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(annotations: Value) -> (DaprAnnotations, Vec<Problem>) {
        let mut problems = Vec::new();
        let map = annotations.as_object().cloned().unwrap_or_default();
        (DaprAnnotations::parse(&map, &mut problems), problems)
    }

    #[test]
    fn the_table_lists_the_64_keys_of_dapr_1_18_3_once_each() {
        assert_eq!(ANNOTATIONS.len(), 64);
        let mut keys: Vec<&str> = ANNOTATIONS.iter().map(|a| a.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 64);
        assert!(keys.iter().all(|k| k.starts_with(PREFIX)));
    }

    #[test]
    fn absent_annotations_take_dapr_defaults() {
        let (a, problems) = parse(json!({}));
        assert!(problems.is_empty());
        assert_eq!(a.app_protocol, "http");
        assert_eq!(a.log_level, "info");
        assert!(a.enable_metrics);
        assert_eq!(a.metrics_port, 9090);
        assert_eq!(a.grpc_port, 50001);
        assert_eq!(a.internal_grpc_port, 50002);
        assert_eq!(a.graceful_shutdown_seconds, -1);
        assert_eq!(
            (
                a.liveness_probe_delay_seconds,
                a.liveness_probe_timeout_seconds,
                a.liveness_probe_period_seconds,
                a.liveness_probe_threshold
            ),
            (180, 3, 10, 5)
        );
        assert_eq!(
            (
                a.readiness_probe_delay_seconds,
                a.readiness_probe_timeout_seconds,
                a.readiness_probe_period_seconds,
                a.readiness_probe_threshold
            ),
            (1, 1, 1, 5)
        );
        assert_eq!(a.sidecar_listen_addresses, "[::1],127.0.0.1");
        assert_eq!(a.app_max_concurrency, None);
        assert_eq!(a.enable_api_logging, None);
    }

    #[test]
    fn a_present_but_empty_string_annotation_applies_as_empty() {
        let (a, _) = parse(json!({"dapr.io/log-level": "", "dapr.io/app-protocol": ""}));
        assert_eq!(a.log_level, "");
        assert_eq!(a.app_protocol, "");
    }

    #[test]
    fn an_empty_sidecar_image_is_ignored_because_the_api_server_would_reject_it() {
        let (a, problems) = parse(json!({"dapr.io/sidecar-image": ""}));
        assert_eq!(a.sidecar_image, None);
        assert_eq!(
            problems[0].to_warning(),
            "dapr.io/sidecar-image: \"\" is not an image; ignored, using the setting"
        );
        assert_eq!(
            parse(json!({"dapr.io/sidecar-image": " img "}))
                .0
                .sidecar_image,
            None
        );
    }

    #[test]
    fn only_seccomp_types_valid_without_a_profile_are_kept() {
        assert_eq!(
            parse(json!({"dapr.io/sidecar-seccomp-profile-type": "Unconfined"}))
                .0
                .sidecar_seccomp_profile_type,
            "Unconfined"
        );
        let (a, problems) = parse(json!({"dapr.io/sidecar-seccomp-profile-type": "Localhost"}));
        assert_eq!(a.sidecar_seccomp_profile_type, "");
        assert_eq!(
            problems[0].to_warning(),
            "dapr.io/sidecar-seccomp-profile-type: Localhost needs a localhostProfile no annotation sets; ignored"
        );
        assert_eq!(
            parse(json!({"dapr.io/sidecar-seccomp-profile-type": "runtime"}))
                .1
                .len(),
            1
        );
    }

    #[test]
    fn booleans_follow_dapr_is_truthy() {
        for v in ["y", "yes", "true", "t", "on", "1", " TRUE ", "Yes"] {
            let (a, _) = parse(json!({"dapr.io/log-as-json": v}));
            assert!(a.log_as_json, "{v} should be true");
        }
        for v in ["", "false", "no", "0", "off"] {
            let (a, problems) = parse(json!({"dapr.io/enable-metrics": v}));
            assert!(!a.enable_metrics, "{v} should be false");
            assert!(problems.is_empty());
        }
    }

    #[test]
    fn an_unrecognised_boolean_reads_as_false_with_a_warning() {
        let (a, problems) = parse(json!({"dapr.io/enable-metrics": "ture"}));
        assert!(!a.enable_metrics);
        assert_eq!(
            problems[0].to_warning(),
            "dapr.io/enable-metrics: \"ture\" is not a boolean; read as false"
        );
    }

    #[test]
    fn an_invalid_integer_is_ignored_with_a_warning_naming_annotation_and_value() {
        let (a, problems) = parse(
            json!({"dapr.io/app-port": "zorro", "dapr.io/graceful-shutdown-seconds": "invalid", "dapr.io/http-max-request-size": "batman"}),
        );
        assert_eq!(a.app_port, 0);
        assert_eq!(a.graceful_shutdown_seconds, -1);
        assert_eq!(a.http_max_request_size, None);
        let warnings: Vec<String> = problems.iter().map(Problem::to_warning).collect();
        assert_eq!(
            warnings,
            vec![
                "dapr.io/app-port: \"zorro\" is not an integer; ignored",
                "dapr.io/http-max-request-size: \"batman\" is not an integer; ignored",
                "dapr.io/graceful-shutdown-seconds: \"invalid\" is not an integer; ignored",
            ]
        );
    }

    #[test]
    fn a_port_outside_1_to_65535_is_ignored_with_a_warning() {
        let (a, problems) =
            parse(json!({"dapr.io/metrics-port": "-5", "dapr.io/grpc-port": "70000"}));
        assert_eq!((a.metrics_port, a.grpc_port), (9090, 50001));
        assert_eq!(
            problems.iter().map(Problem::to_warning).collect::<Vec<_>>(),
            vec![
                "dapr.io/metrics-port: \"-5\" is not a port (1-65535); ignored",
                "dapr.io/grpc-port: \"70000\" is not a port (1-65535); ignored",
            ]
        );
    }

    #[test]
    fn a_negative_probe_timing_is_ignored_with_a_warning() {
        let (a, problems) = parse(json!({"dapr.io/sidecar-liveness-probe-delay-seconds": "-1"}));
        assert_eq!(a.liveness_probe_delay_seconds, 180);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn nullable_integers_accept_any_integer_including_minus_one() {
        let (a, problems) = parse(
            json!({"dapr.io/app-max-concurrency": "-1", "dapr.io/graceful-shutdown-seconds": "+7"}),
        );
        assert_eq!(a.app_max_concurrency, Some(-1));
        assert_eq!(a.graceful_shutdown_seconds, 7);
        assert!(problems.is_empty());
    }

    #[test]
    fn integers_with_spaces_are_invalid_as_in_go() {
        let (a, problems) = parse(json!({"dapr.io/app-port": " 8080"}));
        assert_eq!(a.app_port, 0);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn placement_and_scheduler_addresses_lose_quotes_then_spaces() {
        let (a, _) = parse(
            json!({"dapr.io/placement-host-address": "\" p:1 \"", "dapr.io/scheduler-host-address": "''"}),
        );
        assert_eq!(a.placement_host_address.as_deref(), Some("p:1"));
        assert_eq!(a.scheduler_host_address.as_deref(), Some(""));
    }

    #[test]
    fn enable_api_logging_is_a_tri_state() {
        assert_eq!(parse(json!({})).0.enable_api_logging, None);
        assert_eq!(
            parse(json!({"dapr.io/enable-api-logging": ""}))
                .0
                .enable_api_logging,
            Some(false)
        );
        assert_eq!(
            parse(json!({"dapr.io/enable-api-logging": "0"}))
                .0
                .enable_api_logging,
            Some(false)
        );
        assert_eq!(
            parse(json!({"dapr.io/enable-api-logging": "true"}))
                .0
                .enable_api_logging,
            Some(true)
        );
    }

    #[test]
    fn a_non_string_annotation_value_is_ignored_with_a_warning() {
        let (a, problems) = parse(json!({"dapr.io/app-port": 8080}));
        assert_eq!(a.app_port, 0);
        assert_eq!(
            problems[0].to_warning(),
            "dapr.io/app-port: value must be a string, got a number; ignored"
        );
    }
}

//! daprd's command line: every flag an annotation or a setting controls, in Dapr's order.

use dapr_sidecar_injector::Settings;
use rstest::rstest;
use serde_json::{Value, json};

use crate::support::*;

#[test]
fn every_flag_annotation_lands_in_dapr_order() {
    let out = run(
        with_annotations(json!({
            "dapr.io/config": "tracing", "dapr.io/log-level": "debug", "dapr.io/log-as-json": "true", "dapr.io/enable-profiling": "true",
            "dapr.io/app-max-concurrency": "-1", "dapr.io/enable-metrics": "false", "dapr.io/metrics-port": "9999",
            "dapr.io/grpc-port": "40001", "dapr.io/internal-grpc-port": "40002", "dapr.io/sidecar-listen-addresses": "0.0.0.0",
            "dapr.io/graceful-shutdown-seconds": "30", "dapr.io/app-ssl": "yes", "dapr.io/placement-host-address": "' my-placement:50005 '",
            "dapr.io/scheduler-host-address": "", "dapr.io/sidecar-image": "docker.io/me/daprd:dev"
        })),
        &Settings {
            mtls_enabled: Some(true),
            ..Settings::default()
        },
        &control_plane(),
    );
    let pod = mutated(&out);
    assert_eq!(
        args_of(pod),
        daprd_args(
            &[
                ("--dapr-grpc-port", "40001"),
                ("--dapr-internal-grpc-port", "40002"),
                ("--dapr-listen-addresses", "0.0.0.0"),
                ("--log-level", "debug"),
                ("--dapr-graceful-shutdown-seconds", "30"),
            ],
            &[
                "--app-port",
                "8080",
                "--config",
                "tracing",
                "--placement-host-address",
                "my-placement:50005",
                "--log-as-json",
                "--enable-profiling",
                "--enable-mtls",
                "--app-ssl",
                "--app-max-concurrency",
                "-1",
                "--scheduler-host-address",
                ""
            ]
        )
    );
    assert_eq!(daprd(pod)["image"], "docker.io/me/daprd:dev");
    assert_eq!(
        daprd(pod)["ports"][3],
        json!({"name": "dapr-metrics", "containerPort": 9999})
    );
    assert_eq!(
        pod["metadata"]["labels"]["dapr.io/metrics-enabled"],
        "false"
    );
    assert_eq!(
        pod["spec"]["containers"][0]["env"][1],
        json!({"name": "DAPR_GRPC_PORT", "value": "40001"})
    );
}

#[test]
fn every_remaining_flag_annotation_lands_in_dapr_order() {
    let out = run(
        with_annotations(json!({
            "dapr.io/app-channel-address": "10.0.0.1", "dapr.io/sentry-request-jwt-audiences": "aud1,aud2",
            "dapr.io/enable-api-logging": "", "dapr.io/disable-builtin-k8s-secret-store": "true",
            "dapr.io/enable-app-health-check": "true", "dapr.io/app-health-check-path": "/ready",
            "dapr.io/app-health-probe-interval": "7", "dapr.io/app-health-probe-timeout": "800", "dapr.io/app-health-threshold": "2",
            "dapr.io/app-binding-options-timeout": "10s", "dapr.io/http-max-request-size": "16", "dapr.io/max-body-size": "16Mi",
            "dapr.io/http-read-buffer-size": "8", "dapr.io/read-buffer-size": "8Ki", "dapr.io/unix-domain-socket-path": "/tmp/socks",
            "dapr.io/block-shutdown-duration": "30s", "dapr.io/actors-disseminate-timeout": "5s",
            "dapr.io/scheduler-host-address": "\"sched-0:50006, sched-1:50006\"", "dapr.io/disable-init-endpoints": "config,subscribe"
        })),
        &Settings {
            mtls_enabled: Some(false),
            ..Settings::default()
        },
        &control_plane(),
    );
    assert_eq!(
        args_of(mutated(&out)),
        daprd_args(
            &[],
            &[
                "--app-port",
                "8080",
                "--enable-metrics",
                "--metrics-port",
                "9090",
                "--app-channel-address",
                "10.0.0.1",
                "--placement-host-address",
                "dapr-placement-server.dapr-system.svc.cluster.local:50005",
                "--sentry-request-jwt-audiences",
                "aud1,aud2",
                "--enable-api-logging=false",
                "--disable-builtin-k8s-secret-store",
                "--enable-app-health-check",
                "--app-health-check-path",
                "/ready",
                "--app-health-probe-interval",
                "7",
                "--app-health-probe-timeout",
                "800",
                "--app-health-threshold",
                "2",
                "--app-binding-options-timeout",
                "10s",
                "--dapr-http-max-request-size",
                "16",
                "--max-body-size",
                "16Mi",
                "--dapr-http-read-buffer-size",
                "8",
                "--read-buffer-size",
                "8Ki",
                "--unix-domain-socket",
                "/var/run/dapr-sockets",
                "--dapr-block-shutdown-duration",
                "30s",
                "--actors-disseminate-timeout",
                "5s",
                "--scheduler-host-address",
                "sched-0:50006, sched-1:50006",
                "--disable-init-endpoints",
                "config,subscribe"
            ]
        )
    );
}

#[test]
fn empty_jwt_audiences_and_channel_address_add_no_flag() {
    let args = args_with(
        json!({"dapr.io/sentry-request-jwt-audiences": "", "dapr.io/app-channel-address": "", "dapr.io/enable-api-logging": "true"}),
    );
    assert!(
        !args
            .iter()
            .any(|a| a == "--sentry-request-jwt-audiences" || a == "--app-channel-address")
    );
    assert!(args.contains(&"--enable-api-logging=true".to_owned()));
}

/// Dapr's `GetAppProtocol`: the flag keeps the annotation's text, `APP_PROTOCOL` is normalised.
#[rstest]
#[case::upper_case_grpc(json!({"dapr.io/app-protocol": "GRPC"}), "GRPC", Some("grpc"))]
#[case::grpc_with_ssl(json!({"dapr.io/app-protocol": "grpc", "dapr.io/app-ssl": "true"}), "grpc", Some("grpcs"))]
#[case::ssl_alone(json!({"dapr.io/app-ssl": "true"}), "http", Some("https"))]
#[case::empty(json!({"dapr.io/app-protocol": ""}), "", Some("http"))]
#[case::h2c(json!({"dapr.io/app-protocol": "h2c"}), "h2c", Some("h2c"))]
#[case::unknown(json!({"dapr.io/app-protocol": "tcp"}), "tcp", None)]
fn app_protocol_is_raw_in_args_and_normalised_in_app_env(
    #[case] annotations: Value,
    #[case] raw: &str,
    #[case] env: Option<&str>,
) {
    let out = run(
        with_annotations(annotations.clone()),
        &Settings::default(),
        &control_plane(),
    );
    let pod = mutated(&out);
    assert!(
        args_of(pod)
            .windows(2)
            .any(|w| w == ["--app-protocol", raw]),
        "{annotations}"
    );
    let app_protocol = pod["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "APP_PROTOCOL")
        .map(|e| e["value"].as_str().unwrap().to_owned());
    assert_eq!(app_protocol.as_deref(), env, "{annotations}");
}

#[test]
fn an_unknown_app_protocol_is_warned_about() {
    let out = run(
        with_annotations(json!({"dapr.io/app-protocol": "tcp"})),
        &Settings::default(),
        &control_plane(),
    );
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/app-protocol: \"tcp\" is unknown (http, https, grpc, grpcs, h2c); APP_PROTOCOL not set"
        ]
    );
}

#[test]
fn control_plane_settings_shape_addresses_and_env() {
    let settings = Settings {
        control_plane_namespace: "dapr".to_owned(),
        cluster_domain: "corp.local".to_owned(),
        control_plane_trust_domain: "example.org".to_owned(),
        sidecar_image_pull_policy: "Always".to_owned(),
        run_as_user: Some(1000),
        run_as_group: Some(3000),
        drop_all_capabilities: true,
        run_as_non_root: false,
        enable_k8s_downward_apis: true,
        ..Settings::default()
    };
    let cluster = control_plane();
    let out = run(worked_example_pod(), &settings, &cluster);
    let pod = mutated(&out);
    let d = daprd(pod);
    let args = args_of(pod);
    for address in [
        "dapr-api.dapr.svc.corp.local:443",
        "dapr-sentry.dapr.svc.corp.local:443",
        "dapr-placement-server.dapr.svc.corp.local:50005",
        "dapr-scheduler-server-a.dapr.svc.corp.local:443",
    ] {
        assert!(args.contains(&address.to_owned()), "{address}");
    }
    assert_eq!(d["imagePullPolicy"], "Always");
    assert_eq!(
        d["securityContext"],
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": false, "runAsUser": 1000, "runAsGroup": 3000, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}})
    );
    assert_eq!(
        d["env"][3],
        json!({"name": "DAPR_CONTROLPLANE_NAMESPACE", "value": "dapr"})
    );
    assert_eq!(
        d["env"][4],
        json!({"name": "DAPR_CONTROLPLANE_TRUST_DOMAIN", "value": "example.org"})
    );
    assert_eq!(
        d["env"][5],
        json!({"name": "DAPR_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    );
    assert_eq!(
        pod["spec"]["volumes"][1]["projected"]["sources"][0]["serviceAccountToken"]["audience"],
        "spiffe://example.org/ns/dapr/dapr-sentry"
    );
    assert_eq!(cluster.requests()[1]["namespace"], "dapr");
}

#[test]
fn actors_and_reminders_settings_choose_the_flags() {
    let custom = Settings {
        actors_service_name: "actors".into(),
        actors_service_address: "dapr-actors:5000".into(),
        reminders_service_name: "reminders".into(),
        reminders_service_address: "dapr-reminders:6000".into(),
        ..Settings::default()
    };
    let args = args_of(mutated(&run(
        worked_example_pod(),
        &custom,
        &control_plane(),
    )));
    assert!(args.windows(2).any(|w| w
        == [
            "--actors-service",
            "actors:dapr-actors.dapr-system.svc.cluster.local:5000"
        ]));
    assert!(args.windows(2).any(|w| w
        == [
            "--reminders-service",
            "reminders:dapr-reminders.dapr-system.svc.cluster.local:6000"
        ]));
    assert!(!args.contains(&"--placement-host-address".to_owned()));

    let no_actors = Settings {
        actors_enabled: false,
        scheduler_enabled: false,
        ..Settings::default()
    };
    let args = args_of(mutated(&run(
        worked_example_pod(),
        &no_actors,
        &control_plane(),
    )));
    assert!(!args.iter().any(|a| a == "--placement-host-address"
        || a == "--actors-service"
        || a == "--scheduler-host-address"));

    let annotated = with_annotations(json!({"dapr.io/placement-host-address": "p:1"}));
    let args = args_of(mutated(&run(annotated, &no_actors, &control_plane())));
    assert!(
        args.windows(2)
            .any(|w| w == ["--placement-host-address", "p:1"]),
        "the annotation applies even with actors disabled"
    );
}

#[test]
fn an_exactly_matching_toleration_sets_the_command_and_drops_daprd_from_args() {
    let settings: Settings = serde_json::from_value(
        json!({"ignoreEntrypointTolerations": [{"key": "azure.com/aci", "effect": "NoSchedule"}]}),
    )
    .unwrap();
    let mut pod = worked_example_pod();
    pod["spec"]["tolerations"] = json!([{"key": "azure.com/aci", "effect": "NoSchedule"}]);
    let out = run(pod, &settings, &control_plane());
    let d = daprd(mutated(&out));
    let mut expected_args = worked_example_args();
    expected_args.remove(0);
    assert_eq!(d["command"], json!(["/daprd"]));
    assert_eq!(d["args"], json!(expected_args));

    let mut pod = worked_example_pod();
    pod["spec"]["tolerations"] =
        json!([{"key": "azure.com/aci", "effect": "NoSchedule", "tolerationSeconds": 60}]);
    let out = run(pod, &settings, &control_plane());
    assert!(
        daprd(mutated(&out)).get("command").is_none(),
        "Go compares the tolerationSeconds pointers"
    );
}

#[test]
fn debug_mode_runs_daprd_under_dlv_with_the_debug_port() {
    let out = run(
        with_annotations(json!({"dapr.io/enable-debug": "true", "dapr.io/debug-port": "40001"})),
        &Settings::default(),
        &control_plane(),
    );
    let d = daprd(mutated(&out));
    let mut expected: Vec<String> = [
        "/dlv",
        "--listen",
        ":40001",
        "--accept-multiclient",
        "--headless=true",
        "--log",
        "--api-version=2",
        "exec",
        "/daprd",
        "--",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.extend(worked_example_args().into_iter().skip(1));
    assert_eq!(d["args"], json!(expected));
    assert_eq!(
        d["ports"][4],
        json!({"name": "dapr-debug", "containerPort": 40001})
    );
}

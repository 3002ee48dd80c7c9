//! The Dapr releases: what 1.16 and 1.17 change from 1.18 (the README's version table), and
//! the 0.11 layout of the seed document.

use dapr_sidecar_injector::Settings;
use rstest::rstest;
use serde_json::{Value, json};
use testing::{Canned, Decision, Outcome};

use crate::support::*;

const OLD_PROBES: (&str, &str) = (
    r#"{"tcpSocket": {"port": 3501}, "initialDelaySeconds": 3, "timeoutSeconds": 3, "periodSeconds": 6, "failureThreshold": 3}"#,
    r#"{"httpGet": {"path": "/v1.0/healthz", "port": 3501}, "initialDelaySeconds": 3, "timeoutSeconds": 3, "periodSeconds": 6, "failureThreshold": 3}"#,
);

#[test]
fn dapr_1_17_differs_from_1_18_only_by_the_old_probe_defaults_here() {
    let out = run(worked_example_pod(), &version("1.17"), &control_plane());
    let mut expected = worked_example_daprd();
    expected["livenessProbe"] = serde_json::from_str(OLD_PROBES.0).unwrap();
    expected["readinessProbe"] = serde_json::from_str(OLD_PROBES.1).unwrap();
    assert_eq!(daprd(mutated(&out)), &expected);
}

#[test]
fn dapr_1_16_passes_every_scheduler_replica_as_env_instead_of_a_flag() {
    let out = run(worked_example_pod(), &version("1.16"), &control_plane());
    let mut expected = worked_example_daprd();
    let args = expected["args"].as_array_mut().unwrap();
    let at = args
        .iter()
        .position(|a| a == "--scheduler-host-address")
        .unwrap();
    args.truncate(at);
    expected["env"].as_array_mut().unwrap().extend([
        json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS", "value": "dapr-scheduler-server-0.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-1.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-2.dapr-scheduler-server.dapr-system.svc.cluster.local:50006"}),
        json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A", "value": "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"}),
    ]);
    expected["livenessProbe"] = serde_json::from_str(OLD_PROBES.0).unwrap();
    expected["readinessProbe"] = serde_json::from_str(OLD_PROBES.1).unwrap();
    assert_eq!(daprd(mutated(&out)), &expected);
}

#[test]
fn dapr_1_16_scheduler_replicas_and_reminder_migration_settings_shape_the_env() {
    let settings: Settings = serde_json::from_value(
        json!({"daprVersion": "1.16", "schedulerReplicas": 1, "skipReminderMigration": true}),
    )
    .unwrap();
    let out = run(worked_example_pod(), &settings, &control_plane());
    let env = daprd(mutated(&out))["env"].as_array().unwrap().clone();
    assert_eq!(
        env[5..].to_vec(),
        vec![
            json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS", "value": "dapr-scheduler-server-0.dapr-scheduler-server.dapr-system.svc.cluster.local:50006"}),
            json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A", "value": "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"}),
            json!({"name": "DAPR_SKIP_REMINDER_MIGRATION", "value": "true"}),
        ]
    );
    let none: Settings =
        serde_json::from_value(json!({"daprVersion": "1.16", "schedulerReplicas": 0})).unwrap();
    let out = run(worked_example_pod(), &none, &control_plane());
    assert_eq!(daprd(mutated(&out))["env"].as_array().unwrap().len(), 5);
}

#[test]
fn before_1_18_an_init_container_named_daprd_does_not_stop_injection() {
    let mut pod = worked_example_pod();
    pod["spec"]["initContainers"] = json!([{"name": "daprd", "image": "x"}]);
    mutated(&run(pod.clone(), &version("1.17"), &control_plane()));
    assert_eq!(
        run(pod, &version("1.18"), &control_plane()).decision,
        Decision::Accept
    );
}

#[test]
fn annotations_a_release_does_not_know_are_ignored_with_a_warning() {
    let pod = with_annotations(
        json!({"dapr.io/actors-disseminate-timeout": "5s", "dapr.io/disable-init-endpoints": "config", "dapr.io/enable-native-sidecar": "true"}),
    );
    let out = run(pod.clone(), &version("1.16"), &control_plane());
    let args = args_of(mutated(&out));
    assert!(
        !args
            .iter()
            .any(|a| a == "--actors-disseminate-timeout" || a == "--disable-init-endpoints")
    );
    assert!(mutated(&out)["spec"].get("initContainers").is_none());
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/actors-disseminate-timeout: not read by Dapr 1.16; ignored",
            "dapr.io/disable-init-endpoints: not read by Dapr 1.16; ignored",
            "dapr.io/enable-native-sidecar: not read by Dapr 1.16; ignored",
        ]
    );
    let out = run(pod, &version("1.17"), &control_plane());
    assert!(
        args_of(mutated(&out))
            .windows(2)
            .any(|w| w == ["--disable-init-endpoints", "config"])
    );
    assert_eq!(out.warnings.len(), 2);
}

#[rstest]
fn dapr_1_16_injects_every_truthy_enabled_value(#[values("yes", "1", "t", " true ")] value: &str) {
    mutated(&run(
        with_annotations(json!({"dapr.io/enabled": value})),
        &version("1.16"),
        &control_plane(),
    ));
    assert_eq!(
        run(
            with_annotations(json!({"dapr.io/enabled": value})),
            &version("1.17"),
            &control_plane()
        )
        .decision,
        Decision::Accept
    );
}

#[rstest]
#[case::v1_16("1.16", true)]
#[case::v1_17("1.17", false)]
#[case::v1_18("1.18", true)]
fn an_empty_binding_timeout_adds_no_flag_in_1_17_only(#[case] v: &str, #[case] flag: bool) {
    let pod = with_annotations(json!({"dapr.io/app-binding-options-timeout": ""}));
    let out = run(pod, &version(v), &control_plane());
    assert_eq!(
        args_of(mutated(&out)).contains(&"--app-binding-options-timeout".to_owned()),
        flag,
        "{v}"
    );
}

fn dapr_0_11() -> Settings {
    serde_json::from_value(json!({"daprVersion": "0.11", "allowIssuerKeyInPods": true})).unwrap()
}

/// A cluster with Dapr 0.11's trust bundle Secret.
fn cluster_0_11(secret: Result<Value, String>) -> Canned {
    Canned {
        secret,
        ..Canned::default()
    }
}

fn secret() -> Value {
    // ca.crt "CA", issuer.crt "CHAIN", issuer.key "KEY", base64-encoded as in a Secret.
    json!({"data": {"ca.crt": "Q0E=", "issuer.crt": "Q0hBSU4=", "issuer.key": "S0VZ"}})
}

fn seed_like_pod(annotations: Value) -> Value {
    let mut pod = worked_example_pod();
    pod["metadata"]["annotations"] = annotations;
    pod["spec"]["serviceAccountName"] = json!("default");
    pod
}

#[test]
fn dapr_0_11_builds_the_old_layout_with_certificates_from_the_secret() {
    let cluster = cluster_0_11(Ok(secret()));
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "true", "dapr.io/app-id": "myapp", "dapr.io/app-port": "8080"}),
        ),
        &dapr_0_11(),
        &cluster,
    );
    let pod = mutated(&out);
    let d = daprd(pod);
    assert_eq!(
        cluster.calls(),
        vec!["Configuration/daprsystem", "Secret/dapr-trust-bundle"]
    );
    assert_eq!(d["command"], json!(["/daprd"]));
    assert_eq!(
        d["args"],
        json!([
            "--mode",
            "kubernetes",
            "--dapr-http-port",
            "3500",
            "--dapr-grpc-port",
            "50001",
            "--dapr-internal-grpc-port",
            "50002",
            "--app-port",
            "8080",
            "--app-id",
            "myapp",
            "--control-plane-address",
            "dapr-api.dapr-system.svc.cluster.local:80",
            "--app-protocol",
            "http",
            "--placement-host-address",
            "dapr-placement.dapr-system.svc.cluster.local:80",
            "--config",
            "",
            "--log-level",
            "info",
            "--app-max-concurrency",
            "-1",
            "--sentry-address",
            "dapr-sentry.dapr-system.svc.cluster.local:80",
            "--metrics-port",
            "9090",
            "--enable-mtls"
        ])
    );
    assert_eq!(
        d["env"],
        json!([{"name": "DAPR_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}, {"name": "NAMESPACE", "value": "default"},
               {"name": "DAPR_TRUST_ANCHORS", "value": "CA"}, {"name": "DAPR_CERT_CHAIN", "value": "CHAIN"}, {"name": "DAPR_CERT_KEY", "value": "KEY"},
               {"name": "SENTRY_LOCAL_IDENTITY", "value": "default:default"}])
    );
    let probe = json!({"httpGet": {"path": "/v1.0/healthz", "port": 3500}, "initialDelaySeconds": 3, "timeoutSeconds": 3, "periodSeconds": 6, "failureThreshold": 3});
    assert_eq!(
        (&d["livenessProbe"], &d["readinessProbe"]),
        (&probe, &probe)
    );
    assert_eq!(d["imagePullPolicy"], "Always");
    assert!(d.get("securityContext").is_none());
    assert_eq!(
        d["volumeMounts"],
        json!([{"name": "kube-api-access-x1y2z", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}])
    );
    // No labels, no volumes, and only the two port variables in the app.
    assert_eq!(pod["metadata"]["labels"], json!({"app": "myapp"}));
    assert_eq!(pod["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(
        pod["spec"]["containers"][0]["env"],
        json!([{"name": "DAPR_HTTP_PORT", "value": "3500"}, {"name": "DAPR_GRPC_PORT", "value": "50001"}])
    );
}

#[test]
fn dapr_0_11_honours_the_deprecated_aliases() {
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "yes", "dapr.io/id": "legacy", "dapr.io/port": "7000", "dapr.io/protocol": "grpc", "dapr.io/profiling": "on", "dapr.io/max-concurrency": "4"}),
        ),
        &dapr_0_11(),
        &cluster_0_11(Ok(secret())),
    );
    let args = args_of(mutated(&out));
    for pair in [
        ["--app-id", "legacy"],
        ["--app-port", "7000"],
        ["--app-protocol", "grpc"],
        ["--app-max-concurrency", "4"],
    ] {
        assert!(args.windows(2).any(|w| w == pair), "{pair:?} in {args:?}");
    }
    assert!(args.contains(&"--enable-profiling".to_owned()));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn dapr_0_11_rejects_only_an_invalid_port_alias() {
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a", "dapr.io/port": "abc"}),
        ),
        &dapr_0_11(),
        &cluster_0_11(Ok(secret())),
    );
    assert_eq!(out.decision, Decision::Reject("error parsing dapr.io/port int value abc : strconv.ParseInt: parsing \"abc\": invalid syntax".to_owned()));
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a", "dapr.io/app-port": "abc"}),
        ),
        &dapr_0_11(),
        &cluster_0_11(Ok(secret())),
    );
    assert!(
        args_of(mutated(&out))
            .windows(2)
            .any(|w| w == ["--app-port", ""])
    );
    assert_eq!(
        out.warnings,
        vec!["dapr.io/app-port: \"abc\" is not an integer; ignored"]
    );
}

#[test]
fn dapr_0_11_without_mtls_or_without_the_secret_passes_no_certificates() {
    let mut off = dapr_0_11();
    off.mtls_enabled = Some(false);
    let cluster = cluster_0_11(Ok(secret()));
    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a"})),
        &off,
        &cluster,
    );
    assert!(cluster.calls().is_empty());
    assert_eq!(daprd(mutated(&out))["env"].as_array().unwrap().len(), 2);
    assert!(!args_of(mutated(&out)).contains(&"--enable-mtls".to_owned()));

    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a"})),
        &dapr_0_11(),
        &cluster_0_11(Err("forbidden".to_owned())),
    );
    assert!(!args_of(mutated(&out)).contains(&"--enable-mtls".to_owned()));
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/enabled: Secret dapr-trust-bundle unreadable; daprd gets no mTLS (Dapr 0.11 did the same)"
        ]
    );
    assert!(out.log_notes[1].starts_with(
        "Secret dapr-trust-bundle in dapr-system not read, daprd without mTLS: forbidden"
    ));
}

#[test]
fn dapr_0_11_takes_certificates_from_settings_without_reading_the_secret() {
    let mut settings = dapr_0_11();
    settings.trust_anchors = Some("A".into());
    settings.cert_chain = Some("C".into());
    settings.cert_key = Some("K".into());
    settings.mtls_enabled = Some(true);
    let cluster = cluster_0_11(Ok(secret()));
    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a"})),
        &settings,
        &cluster,
    );
    assert!(cluster.calls().is_empty());
    assert_eq!(
        daprd(mutated(&out))["env"][4],
        json!({"name": "DAPR_CERT_KEY", "value": "K"})
    );
}

#[test]
fn dapr_0_11_adds_only_daprd_to_a_pod_without_containers_and_ignores_newer_annotations() {
    let mut pod = seed_like_pod(
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a", "dapr.io/env": "A=1", "dapr.io/enabled-typo": "x"}),
    );
    pod["spec"]["containers"] = json!([]);
    let out = run(pod, &dapr_0_11(), &cluster_0_11(Ok(secret())));
    let containers = mutated(&out)["spec"]["containers"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(containers.len(), 1);
    assert!(containers[0].get("volumeMounts").is_none());
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/enabled-typo: unknown annotation, ignored",
            "dapr.io/env: not read by Dapr 0.11; ignored"
        ]
    );
}

#[test]
fn dapr_0_11_does_not_inject_enabled_t() {
    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "t", "dapr.io/app-id": "a"})),
        &dapr_0_11(),
        &control_plane(),
    );
    assert_eq!(
        out,
        Outcome::accept(vec![
            "dapr.io/enabled: \"t\" does not inject in Dapr 0.11; use \"true\"".to_owned()
        ])
    );
}

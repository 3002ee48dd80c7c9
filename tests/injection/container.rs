//! daprd's container beyond its flags: resources, probes, securityContext, and where it goes.

use dapr_sidecar_injector::Settings;
use rstest::rstest;
use serde_json::{Value, json};

use crate::support::*;

/// One annotation set, one part of daprd checked whole: Dapr's per-annotation test tables.
#[rstest]
#[case::resources(
    json!({"dapr.io/sidecar-cpu-request": "0.5", "dapr.io/sidecar-cpu-limit": "4.0", "dapr.io/sidecar-memory-request": "250Mi", "dapr.io/sidecar-memory-limit": "512Mi"}),
    "/resources",
    json!({"requests": {"cpu": "0.5", "memory": "250Mi"}, "limits": {"cpu": "4.0", "memory": "512Mi"}})
)]
#[case::seccomp_profile(
    json!({"dapr.io/sidecar-seccomp-profile-type": "RuntimeDefault"}),
    "/securityContext/seccompProfile",
    json!({"type": "RuntimeDefault"})
)]
#[case::liveness_probe(
    probe_annotations(),
    "/livenessProbe",
    json!({"tcpSocket": {"port": 3501}, "initialDelaySeconds": 10, "timeoutSeconds": 11, "periodSeconds": 12, "failureThreshold": 13})
)]
#[case::readiness_probe(
    probe_annotations(),
    "/readinessProbe",
    json!({"httpGet": {"path": "/v1.0/healthz", "port": 3501}, "initialDelaySeconds": 20, "timeoutSeconds": 21, "periodSeconds": 22, "failureThreshold": 23})
)]
fn an_annotation_sets_its_part_of_daprd(
    #[case] annotations: Value,
    #[case] part: &str,
    #[case] expected: Value,
) {
    let out = run(
        with_annotations(annotations),
        &Settings::default(),
        &control_plane(),
    );
    assert_eq!(daprd(mutated(&out)).pointer(part), Some(&expected));
}

fn probe_annotations() -> Value {
    json!({
        "dapr.io/sidecar-liveness-probe-delay-seconds": "10", "dapr.io/sidecar-liveness-probe-timeout-seconds": "11",
        "dapr.io/sidecar-liveness-probe-period-seconds": "12", "dapr.io/sidecar-liveness-probe-threshold": "13",
        "dapr.io/sidecar-readiness-probe-delay-seconds": "20", "dapr.io/sidecar-readiness-probe-timeout-seconds": "21",
        "dapr.io/sidecar-readiness-probe-period-seconds": "22", "dapr.io/sidecar-readiness-probe-threshold": "23"
    })
}

#[test]
fn ignored_annotation_values_become_warnings_and_keep_defaults() {
    let out = run(
        with_annotations(
            json!({"dapr.io/app-port": "zorro", "dapr.io/sidecar-cpu-limit": "lots", "dapr.io/sidecar-memory-request": "64Mi"}),
        ),
        &Settings::default(),
        &control_plane(),
    );
    let pod = mutated(&out);
    assert_eq!(daprd(pod)["resources"], json!({}));
    assert!(!args_of(pod).contains(&"--app-port".to_owned()));
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/app-port: \"zorro\" is not an integer; ignored",
            "dapr.io/sidecar-cpu-limit: \"lots\" is not a quantity (not a number); all 4 ignored",
        ]
    );
}

#[test]
fn ssl_cert_dir_switches_daprd_to_the_windows_administrator_profile() {
    let settings = Settings {
        run_as_user: Some(1000),
        run_as_group: Some(1000),
        ..Settings::default()
    };
    let out = run(
        with_annotations(json!({"dapr.io/env": "SSL_CERT_DIR=/certs"})),
        &settings,
        &control_plane(),
    );
    assert_eq!(
        daprd(mutated(&out))["securityContext"],
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": false, "readOnlyRootFilesystem": false, "windowsOptions": {"runAsUserName": "ContainerAdministrator"}})
    );
}

#[test]
fn the_native_sidecar_setting_puts_daprd_last_in_init_containers() {
    let mut pod = worked_example_pod();
    pod["spec"]["initContainers"] = json!([{"name": "migrate", "image": "x"}]);
    let out = run(
        pod,
        &Settings {
            native_sidecar: true,
            ..Settings::default()
        },
        &control_plane(),
    );
    let pod = mutated(&out);
    let mut expected = worked_example_daprd();
    expected["restartPolicy"] = json!("Always");
    assert_eq!(
        pod["spec"]["initContainers"],
        json!([{"name": "migrate", "image": "x"}, expected])
    );
    assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 1);
}

#[test]
fn the_native_sidecar_annotation_overrides_the_setting_both_ways() {
    let on = run(
        with_annotations(json!({"dapr.io/enable-native-sidecar": "true"})),
        &Settings::default(),
        &control_plane(),
    );
    assert_eq!(
        mutated(&on)["spec"]["initContainers"][0]["restartPolicy"],
        "Always"
    );
    let off = run(
        with_annotations(json!({"dapr.io/enable-native-sidecar": "false"})),
        &Settings {
            native_sidecar: true,
            ..Settings::default()
        },
        &control_plane(),
    );
    assert!(mutated(&off)["spec"].get("initContainers").is_none());
    assert!(daprd(mutated(&off)).get("restartPolicy").is_none());
}

//! Volumes and mounts: the Sentry token, the Unix domain socket and the user's mounts.

use dapr_sidecar_injector::Settings;
use serde_json::json;

use crate::support::*;

#[test]
fn without_the_token_volume_setting_neither_volume_nor_mount_is_added() {
    let out = run(
        worked_example_pod(),
        &Settings {
            token_volume: false,
            ..Settings::default()
        },
        &control_plane(),
    );
    let pod = mutated(&out);
    assert_eq!(pod["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert!(daprd(pod).get("volumeMounts").is_none());
}

#[test]
fn a_unix_domain_socket_mounts_in_daprd_and_every_app_container_not_already_using_it() {
    let mut pod = with_annotations(json!({"dapr.io/unix-domain-socket-path": "/tmp/dapr-sockets"}));
    pod["spec"]["containers"].as_array_mut().unwrap().extend([
        json!({"name": "same-path", "image": "x", "volumeMounts": [{"name": "mine", "mountPath": "/tmp/dapr-sockets"}]}),
        json!({"name": "no-mounts", "image": "x"}),
    ]);
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": "x"}]);
    let out = run(pod, &Settings::default(), &control_plane());
    let pod = mutated(&out);
    let uds_mount = json!({"name": "dapr-unix-domain-socket", "mountPath": "/tmp/dapr-sockets"});
    assert_eq!(
        pod["spec"]["volumes"][1],
        json!({"name": "dapr-unix-domain-socket", "emptyDir": {"medium": "Memory"}})
    );
    assert_eq!(pod["spec"]["volumes"][2]["name"], "dapr-identity-token");
    assert_eq!(pod["spec"]["containers"][0]["volumeMounts"][1], uds_mount);
    assert_eq!(
        pod["spec"]["containers"][1]["volumeMounts"],
        json!([{"name": "mine", "mountPath": "/tmp/dapr-sockets"}])
    );
    assert_eq!(
        pod["spec"]["containers"][2]["volumeMounts"],
        json!([uds_mount])
    );
    assert_eq!(
        pod["spec"]["initContainers"],
        json!([{"name": "init", "image": "x"}])
    );
    assert_eq!(
        daprd(pod)["volumeMounts"],
        json!([{"name": "dapr-unix-domain-socket", "mountPath": "/var/run/dapr-sockets"}, {"name": "dapr-identity-token", "mountPath": "/var/run/secrets/dapr.io/sentrytoken", "readOnly": true}])
    );
}

#[test]
fn user_volume_mounts_come_first_in_daprd_and_missing_volumes_are_warned_about() {
    let mut pod = with_annotations(
        json!({"dapr.io/volume-mounts": "certs:/certs,ghost:/ghost", "dapr.io/volume-mounts-rw": "scratch:/scratch"}),
    );
    pod["spec"]["volumes"].as_array_mut().unwrap().extend([
        json!({"name": "certs", "secret": {"secretName": "certs"}}),
        json!({"name": "scratch", "emptyDir": {}}),
    ]);
    let out = run(pod, &Settings::default(), &control_plane());
    assert_eq!(
        daprd(mutated(&out))["volumeMounts"],
        json!([{"name": "certs", "mountPath": "/certs", "readOnly": true}, {"name": "scratch", "mountPath": "/scratch"},
               {"name": "dapr-identity-token", "mountPath": "/var/run/secrets/dapr.io/sentrytoken", "readOnly": true}])
    );
    assert_eq!(
        out.warnings,
        vec!["dapr.io/volume-mounts: volume \"ghost\" does not exist in the Pod; mount skipped"]
    );
}

const SOCKET_MOUNT: &str =
    r#"{"name": "dapr-unix-domain-socket", "mountPath": "/var/run/dapr-sockets"}"#;
const TOKEN_MOUNT: &str = r#"{"name": "dapr-identity-token", "mountPath": "/var/run/secrets/dapr.io/sentrytoken", "readOnly": true}"#;

/// A user's mount at one of daprd's own paths is skipped only when injection mounts something
/// there itself (Dapr's `sidecar_volumes.go`); otherwise it stays, and the Pod is valid.
#[rstest::rstest]
#[case::the_socket_path_is_free_without_a_socket(
    json!({"dapr.io/volume-mounts-rw": "config:/var/run/dapr-sockets"}), true,
    json!([{"name": "config", "mountPath": "/var/run/dapr-sockets"}, TOKEN_MOUNT]), None)]
#[case::the_socket_path_is_taken_with_a_socket(
    json!({"dapr.io/volume-mounts-rw": "config:/var/run/dapr-sockets", "dapr.io/unix-domain-socket-path": "/tmp/s"}), true,
    json!([SOCKET_MOUNT, TOKEN_MOUNT]),
    Some("dapr.io/volume-mounts-rw: mount path \"/var/run/dapr-sockets\" is already used in daprd; mount skipped"))]
#[case::the_token_path_is_free_without_the_token_volume(
    json!({"dapr.io/volume-mounts": "config:/var/run/secrets/dapr.io/sentrytoken"}), false,
    json!([{"name": "config", "mountPath": "/var/run/secrets/dapr.io/sentrytoken", "readOnly": true}]), None)]
#[case::the_token_path_is_taken_with_the_token_volume(
    json!({"dapr.io/volume-mounts": "config:/var/run/secrets/dapr.io/sentrytoken"}), true,
    json!([TOKEN_MOUNT]),
    Some("dapr.io/volume-mounts: mount path \"/var/run/secrets/dapr.io/sentrytoken\" is already used in daprd; mount skipped"))]
fn a_user_mount_at_a_daprd_path_is_kept_unless_daprd_mounts_there(
    #[case] annotations: serde_json::Value,
    #[case] token_volume: bool,
    #[case] expected_mounts: serde_json::Value,
    #[case] warning: Option<&str>,
) {
    let mut pod = with_annotations(annotations);
    pod["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "config", "configMap": {"name": "config"}}));
    let settings = Settings {
        token_volume,
        ..Settings::default()
    };
    let out = run(pod, &settings, &control_plane());
    // The constants are JSON text inside the expectation; read them as objects.
    let expected: Vec<serde_json::Value> = expected_mounts
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m.as_str()
                .map_or_else(|| m.clone(), |t| serde_json::from_str(t).unwrap())
        })
        .collect();
    assert_eq!(daprd(mutated(&out))["volumeMounts"], json!(expected));
    assert_eq!(out.warnings, warning.into_iter().collect::<Vec<_>>());
}

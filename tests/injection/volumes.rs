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

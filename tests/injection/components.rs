//! Pluggable components: declared in the Pod, or injected from Component resources.

use dapr_sidecar_injector::Settings;
use serde_json::json;
use testing::Decision;

use crate::support::*;

#[test]
fn declared_component_containers_get_the_socket_and_no_dapr_app_env() {
    let mut pod = with_annotations(
        json!({"dapr.io/pluggable-components": "my-store", "dapr.io/pluggable-components-sockets-folder": "/sockets"}),
    );
    pod["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "my-store", "image": "store:1"}));
    let out = run(pod, &Settings::default(), &control_plane());
    let pod = mutated(&out);
    let mount = json!({"name": "dapr-components-unix-domain-socket", "mountPath": "/sockets"});
    let env = json!({"name": "DAPR_COMPONENT_SOCKETS_FOLDER", "value": "/sockets"});
    assert_eq!(
        pod["spec"]["containers"][1],
        json!({"name": "my-store", "image": "store:1", "env": [env], "volumeMounts": [mount]})
    );
    assert_eq!(
        pod["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        pod["spec"]["volumes"][2],
        json!({"name": "dapr-components-unix-domain-socket", "emptyDir": {}})
    );
    let d = daprd(pod);
    assert_eq!(
        d["volumeMounts"].as_array().unwrap().last().unwrap(),
        &mount
    );
    assert_eq!(d["env"].as_array().unwrap().last().unwrap(), &env);
}

#[test]
fn a_pod_without_volumes_keeps_the_token_volume_beside_the_component_volume() {
    let pod = json!({
        "metadata": {"name": "solo", "annotations": {"dapr.io/enabled": "true", "dapr.io/pluggable-components": "store"}},
        "spec": {"automountServiceAccountToken": false, "containers": [{"name": "app", "image": "a"}, {"name": "store", "image": "s"}]}
    });
    let out = run(pod, &Settings::default(), &control_plane());
    let names: Vec<&str> = mutated(&out)["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["dapr-identity-token", "dapr-components-unix-domain-socket"]
    );
}

#[test]
fn injected_components_come_after_daprd_with_their_volumes() {
    let mut cluster = control_plane();
    cluster.components = Ok(vec![
        json!({"metadata": {"name": "pubsub", "annotations": {"dapr.io/component-container": "{\"image\":\"pubsub:1\",\"volumeMounts\":[{\"name\":\"cache\",\"mountPath\":\"/cache\"}]}"}}}),
        json!({"metadata": {"name": "other", "annotations": {"dapr.io/component-container": "{\"name\":\"other\",\"image\":\"other:1\"}"}}, "scopes": ["someone-else"]}),
    ]);
    let out = run(
        with_annotations(json!({"dapr.io/inject-pluggable-components": "true"})),
        &Settings::default(),
        &cluster,
    );
    let pod = mutated(&out);
    assert_eq!(
        cluster.calls(),
        vec![
            "Configuration/daprsystem",
            "ConfigMap/dapr-trust-bundle",
            "Component/*"
        ]
    );
    assert_eq!(
        cluster.requests()[2],
        json!({"api_version": "dapr.io/v1alpha1", "kind": "Component", "namespace": "default", "label_selector": null, "field_selector": null, "field_masks": ["metadata.annotations", "metadata.name", "scopes"]})
    );
    let containers = pod["spec"]["containers"].as_array().unwrap();
    assert_eq!(
        containers
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["app", "daprd", "pubsub"]
    );
    assert_eq!(
        containers[2],
        json!({"name": "pubsub", "image": "pubsub:1",
               "volumeMounts": [{"name": "cache", "mountPath": "/cache"}, {"name": "dapr-components-unix-domain-socket", "mountPath": "/tmp/dapr-components-sockets"}],
               "env": [{"name": "DAPR_COMPONENT_SOCKETS_FOLDER", "value": "/tmp/dapr-components-sockets"}]})
    );
    let volumes: Vec<&str> = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        volumes,
        vec![
            "kube-api-access-x1y2z",
            "dapr-identity-token",
            "dapr-components-unix-domain-socket",
            "cache"
        ]
    );
}

#[test]
fn a_failed_component_list_rejects_the_pod() {
    let mut cluster = control_plane();
    cluster.components = Err("forbidden".to_owned());
    let out = run(
        with_annotations(json!({"dapr.io/inject-pluggable-components": "true"})),
        &Settings::default(),
        &cluster,
    );
    assert_eq!(
        out.decision,
        Decision::Reject("cannot list the Dapr Components of namespace default for dapr.io/inject-pluggable-components: forbidden; let the PolicyServer list components.dapr.io (examples/rbac.yaml) or remove the annotation".to_owned())
    );
}

/// Dapr appends a second volume named dapr-components-unix-domain-socket when the Pod has one
/// (`patcher/sidecar_components.go`), and the API server rejects that Pod. The policy adds
/// none and mounts the Pod's own; the README lists this among the differences from Dapr.
#[test]
fn a_pod_that_has_the_components_socket_volume_keeps_it_alone() {
    let mut cluster = control_plane();
    cluster.components = Ok(vec![json!({"metadata": {"name": "pubsub", "annotations": {
        "dapr.io/component-container": "{\"image\":\"pubsub:1\"}"}}})]);
    let mut pod = with_annotations(json!({"dapr.io/inject-pluggable-components": "true"}));
    let own =
        json!({"name": "dapr-components-unix-domain-socket", "emptyDir": {"medium": "Memory"}});
    pod["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(own.clone());
    let out = run(pod, &Settings::default(), &cluster);
    let pod = mutated(&out);
    let volumes = pod["spec"]["volumes"].as_array().unwrap();
    let named: Vec<&serde_json::Value> = volumes
        .iter()
        .filter(|v| v["name"] == "dapr-components-unix-domain-socket")
        .collect();
    assert_eq!(named, vec![&own]);
    let socket = json!({"name": "dapr-components-unix-domain-socket", "mountPath": "/tmp/dapr-components-sockets"});
    assert_eq!(
        pod["spec"]["containers"][2],
        json!({"name": "pubsub", "image": "pubsub:1", "volumeMounts": [socket],
               "env": [{"name": "DAPR_COMPONENT_SOCKETS_FOLDER", "value": "/tmp/dapr-components-sockets"}]})
    );
    assert_eq!(
        daprd(pod)["volumeMounts"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        &socket
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

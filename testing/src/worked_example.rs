//! The worked example of section 10 of the specification, and the helpers every topic uses
//! to change it and look into the result.

use dapr_sidecar_injector::Settings;
use serde_json::{Value, json};

use crate::canned::CANNED_TRUST_ANCHORS as PEM;
use crate::daprd_args::worked_example_args;
use crate::run::{control_plane, mutated, run};

/// The Pod of section 10 of the specification, as the API server sends it.
pub fn worked_example_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "myapp-7c9d-",
            "namespace": "default",
            "labels": {"app": "myapp"},
            "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "myapp", "dapr.io/app-port": "8080"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "myapp-7c9d", "uid": "0d5e3c52-8f8e-4f3c-9b7e-3a1f6f2c0a11", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "containers": [{
                "name": "app",
                "image": "example/myapp:1.0",
                "volumeMounts": [{"name": "kube-api-access-x1y2z", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
            }],
            "volumes": [{"name": "kube-api-access-x1y2z", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}]
        }
    })
}

/// The daprd container of section 10, with `<PEM>` as the trust anchors.
pub fn worked_example_daprd() -> Value {
    json!({
        "name": "daprd", "image": "ghcr.io/dapr/daprd:1.18.3",
        "args": worked_example_args(),
        "ports": [{"name": "dapr-http", "containerPort": 3500}, {"name": "dapr-grpc", "containerPort": 50001},
                  {"name": "dapr-internal", "containerPort": 50002}, {"name": "dapr-metrics", "containerPort": 9090}],
        "env": [{"name": "NAMESPACE", "value": "default"}, {"name": "DAPR_TRUST_ANCHORS", "value": PEM},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "DAPR_CONTROLPLANE_NAMESPACE", "value": "dapr-system"},
                {"name": "DAPR_CONTROLPLANE_TRUST_DOMAIN", "value": "cluster.local"}],
        "resources": {},
        "volumeMounts": [{"name": "dapr-identity-token", "readOnly": true, "mountPath": "/var/run/secrets/dapr.io/sentrytoken"}],
        "livenessProbe": {"tcpSocket": {"port": 3501}, "initialDelaySeconds": 180, "timeoutSeconds": 3, "periodSeconds": 10, "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/v1.0/healthz", "port": 3501}, "initialDelaySeconds": 1, "timeoutSeconds": 1, "periodSeconds": 1, "failureThreshold": 5},
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false}
    })
}

/// The worked example's Pod after Dapr's patch of section 10 is applied.
pub fn worked_example_result() -> Value {
    let mut pod = worked_example_pod();
    pod["spec"]["volumes"].as_array_mut().unwrap().push(json!({"name": "dapr-identity-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "spiffe://cluster.local/ns/dapr-system/dapr-sentry", "expirationSeconds": 7200, "path": "token"}}], "defaultMode": 420}}));
    pod["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(worked_example_daprd());
    let labels = pod["metadata"]["labels"].as_object_mut().unwrap();
    labels.insert("dapr.io/sidecar-injected".into(), json!("true"));
    labels.insert("dapr.io/app-id".into(), json!("myapp"));
    labels.insert("dapr.io/metrics-enabled".into(), json!("true"));
    pod["spec"]["containers"][0]["env"] = json!([{"name": "DAPR_HTTP_PORT", "value": "3500"}, {"name": "DAPR_GRPC_PORT", "value": "50001"}, {"name": "APP_PROTOCOL", "value": "http"}]);
    pod
}

pub fn daprd(pod: &Value) -> &Value {
    pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            pod["spec"]["initContainers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .find(|c| c["name"] == "daprd")
        .expect("a daprd container")
}

pub fn with_annotations(extra: Value) -> Value {
    let mut pod = worked_example_pod();
    for (k, v) in extra.as_object().unwrap() {
        pod["metadata"]["annotations"][k] = v.clone();
    }
    pod
}

pub fn args_of(pod: &Value) -> Vec<String> {
    serde_json::from_value(daprd(pod)["args"].clone()).unwrap()
}

/// daprd's args after injecting the worked example with these annotations.
pub fn args_with(annotations: Value) -> Vec<String> {
    args_of(mutated(&run(
        with_annotations(annotations),
        &Settings::default(),
        &control_plane(),
    )))
}

/// The settings of one Dapr release.
pub fn version(v: &str) -> Settings {
    serde_json::from_value(json!({"daprVersion": v})).unwrap()
}

/// A controller's Pod without `dapr.io/app-id`, owned by the ReplicaSet of Deployment
/// `orders-api`.
pub fn controller_pod_without_app_id() -> Value {
    let mut pod = worked_example_pod();
    pod["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dapr.io/app-id");
    pod["metadata"]["generateName"] = json!("orders-api-7c9d8f6b5-");
    pod["metadata"]["labels"]["pod-template-hash"] = json!("7c9d8f6b5");
    pod["metadata"]["ownerReferences"][0]["name"] = json!("orders-api-7c9d8f6b5");
    pod
}

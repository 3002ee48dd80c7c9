//! A Pod as the API server stores it, written here apart from the policy's own defaulting
//! (`src/base/k8s/defaults.rs`) so that each checks the other: the defaults of Kubernetes
//! 1.36's `pkg/apis/core/v1/defaults.go` for a Pod and its containers, and the token volume
//! the ServiceAccount admission plugin mounts into every container.

use serde_json::{Value, json};

/// The volume name the ServiceAccount plugin gives the token it mounts (random in a cluster).
pub const TOKEN_VOLUME: &str = "kube-api-access-7xq2m";
const TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// `pod` as `kubectl get pod -o json` would show it after creation.
pub fn stored(mut pod: Value) -> Value {
    let spec = &mut pod["spec"];
    for (field, default) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("securityContext", json!({})),
        ("terminationGracePeriodSeconds", json!(30)),
        ("enableServiceLinks", json!(true)),
        ("serviceAccountName", json!("default")),
        ("serviceAccount", json!("default")),
    ] {
        if spec.get(field).is_none() {
            spec[field] = default;
        }
    }
    let mut volumes = spec["volumes"].as_array().cloned().unwrap_or_default();
    volumes.push(json!({"name": TOKEN_VOLUME, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}));
    spec["volumes"] = Value::Array(volumes);
    for list in ["initContainers", "containers"] {
        if let Some(containers) = spec[list].as_array_mut() {
            containers.iter_mut().for_each(stored_container);
        }
    }
    pod
}

fn stored_container(container: &mut Value) {
    for (field, default) in [
        ("terminationMessagePath", "/dev/termination-log"),
        ("terminationMessagePolicy", "File"),
        ("imagePullPolicy", "IfNotPresent"),
    ] {
        if container.get(field).is_none() {
            container[field] = json!(default);
        }
    }
    if container.get("resources").is_none() {
        container["resources"] = json!({});
    }
    for port in container["ports"].as_array_mut().into_iter().flatten() {
        if port.get("protocol").is_none() {
            port["protocol"] = json!("TCP");
        }
    }
    for var in container["env"].as_array_mut().into_iter().flatten() {
        let field_ref = var
            .get_mut("valueFrom")
            .and_then(|from| from.get_mut("fieldRef"))
            .and_then(Value::as_object_mut);
        if let Some(field_ref) = field_ref {
            field_ref.entry("apiVersion").or_insert(json!("v1"));
        }
    }
    for name in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(probe) = container.get_mut(name).and_then(Value::as_object_mut) else {
            continue;
        };
        for (field, default) in [
            ("timeoutSeconds", 1),
            ("periodSeconds", 10),
            ("successThreshold", 1),
            ("failureThreshold", 3),
        ] {
            if probe.get(field).and_then(Value::as_i64).unwrap_or(0) == 0 {
                probe.insert(field.to_owned(), json!(default));
            }
        }
        if let Some(get) = probe.get_mut("httpGet").and_then(Value::as_object_mut) {
            get.entry("path").or_insert(json!("/"));
            get.entry("scheme").or_insert(json!("HTTP"));
        }
    }
    let limits = container["resources"]
        .get("limits")
        .and_then(Value::as_object)
        .cloned();
    for (name, value) in limits.into_iter().flatten() {
        let requests = &mut container["resources"]["requests"];
        if requests.get(&name).is_none() {
            requests[name] = value;
        }
    }
    let mut mounts = container["volumeMounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    mounts.push(json!({"name": TOKEN_VOLUME, "readOnly": true, "mountPath": TOKEN_PATH}));
    container["volumeMounts"] = Value::Array(mounts);
}

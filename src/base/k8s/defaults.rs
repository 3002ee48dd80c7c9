//! What the API server adds to a container before it stores the Pod, from Kubernetes 1.36's
//! `pkg/apis/core/v1/defaults.go` (`SetDefaults_Container`, `SetDefaults_Probe`,
//! `SetDefaults_HTTPGetAction`, `SetDefaults_ObjectFieldSelector`, and `SetDefaults_Pod`'s
//! requests from limits and host-network ports) and the generated `SetObjectDefaults_Pod`
//! (a port's protocol). Verify compares a stored daprd with the injected one after these.

use serde_json::{Map, Value};

pub const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
pub const TERMINATION_MESSAGE_POLICY: &str = "File";
const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];
/// `SetDefaults_Probe`: a field that is unset or 0 gets these.
const PROBE_DEFAULTS: [(&str, i64); 4] = [
    ("timeoutSeconds", 1),
    ("periodSeconds", 10),
    ("successThreshold", 1),
    ("failureThreshold", 3),
];

/// The container as the API server stores it, in a Pod with or without `hostNetwork`.
pub fn default_container(container: &mut Value, host_network: bool) {
    let Some(fields) = container.as_object_mut() else {
        return;
    };
    // Injection always sets imagePullPolicy, so the latest-tag rule is not needed here.
    default(fields, "terminationMessagePath", TERMINATION_MESSAGE_PATH);
    default(
        fields,
        "terminationMessagePolicy",
        TERMINATION_MESSAGE_POLICY,
    );
    for port in objects_in(fields, "ports") {
        default(port, "protocol", "TCP");
        if host_network && !port.contains_key("hostPort") {
            let container_port = port.get("containerPort").cloned().unwrap_or(Value::Null);
            port.insert("hostPort".to_owned(), container_port);
        }
    }
    for var in objects_in(fields, "env") {
        if let Some(field_ref) = var
            .get_mut("valueFrom")
            .and_then(|from| from.get_mut("fieldRef"))
            .and_then(Value::as_object_mut)
        {
            default(field_ref, "apiVersion", "v1");
        }
    }
    for probe in PROBES {
        if let Some(probe) = fields.get_mut(probe).and_then(Value::as_object_mut) {
            default_probe(probe);
        }
    }
    requests_from_limits(fields);
}

fn default_probe(probe: &mut Map<String, Value>) {
    for (field, default) in PROBE_DEFAULTS {
        if probe.get(field).and_then(Value::as_i64).unwrap_or(0) == 0 {
            probe.insert(field.to_owned(), default.into());
        }
    }
    if let Some(get) = probe.get_mut("httpGet").and_then(Value::as_object_mut) {
        default(get, "path", "/");
        default(get, "scheme", "HTTP");
    }
}

/// A limit without its request gives the request the limit's value.
fn requests_from_limits(fields: &mut Map<String, Value>) {
    let Some(resources) = fields.get_mut("resources").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    if !resources.contains_key("requests") {
        resources.insert("requests".to_owned(), Value::Object(Map::new()));
    }
    if let Some(requests) = resources.get_mut("requests").and_then(Value::as_object_mut) {
        for (name, value) in limits {
            if !requests.contains_key(&name) {
                requests.insert(name, value);
            }
        }
    }
}

/// A string field the API server fills in when it is unset.
fn default(fields: &mut Map<String, Value>, key: &str, value: &str) {
    if !fields.contains_key(key) {
        fields.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

/// The objects of a list field.
fn objects_in<'a>(
    fields: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    fields
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_container_gets_what_the_api_server_adds() {
        let mut container = json!({
            "name": "daprd", "image": "ghcr.io/dapr/daprd:1.18.3",
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "dapr-http", "containerPort": 3500}],
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "readinessProbe": {"httpGet": {"port": 3501}, "periodSeconds": 0},
            "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "64Mi"}}
        });
        default_container(&mut container, true);
        assert_eq!(
            container,
            json!({
                "name": "daprd", "image": "ghcr.io/dapr/daprd:1.18.3",
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "ports": [{"name": "dapr-http", "containerPort": 3500, "protocol": "TCP", "hostPort": 3500}],
                "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}}}],
                "readinessProbe": {"httpGet": {"port": 3501, "path": "/", "scheme": "HTTP"},
                    "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "64Mi", "cpu": "1"}}
            })
        );
    }
}

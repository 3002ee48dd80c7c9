//! A read-only view of the fields of the Pod JSON that injection looks at. The Pod itself is
//! never deserialised into a typed model, so fields unknown to k8s-openapi survive untouched.

use serde_json::{Map, Value};

use crate::annotations::json_type_name;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ContainerView {
    pub name: String,
    pub env_names: Vec<String>,
    pub mount_names: Vec<String>,
    pub mount_paths: Vec<String>,
}

/// What injection needs to know about the Pod.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PodView {
    pub name: String,
    pub generate_name: String,
    pub annotations: Map<String, Value>,
    pub has_labels: bool,
    pub labels: Map<String, Value>,
    pub containers: Vec<ContainerView>,
    pub init_container_names: Vec<String>,
    pub volume_names: Vec<String>,
    pub tolerations: Vec<Value>,
    pub service_account_name: String,
    pub owner_references: Vec<Value>,
    /// The first container mount at Kubernetes' token path, whole: 0.11 copies it into daprd.
    pub service_account_mount: Option<Value>,
}

/// Where Kubernetes mounts a Pod's service-account token.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn str_field<'a>(object: &'a Map<String, Value>, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// An optional list field: absent or null is empty; any other non-list is an error.
fn list_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "{path} must be a list, got {}",
            json_type_name(other)
        )),
    }
}

fn map_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(format!(
            "{path} must be an object, got {}",
            json_type_name(other)
        )),
    }
}

fn names_of(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| item.get(key).and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

fn is_service_account_mount(mount: &Value) -> bool {
    mount.get("mountPath").and_then(Value::as_str) == Some(SERVICE_ACCOUNT_MOUNT_PATH)
}

fn container_view(item: &Value, path: &str) -> Result<ContainerView, String> {
    let object = item
        .as_object()
        .ok_or_else(|| format!("{path} must be an object, got {}", json_type_name(item)))?;
    let env = list_field(object, "env", &format!("{path}.env"))?;
    let mounts = list_field(object, "volumeMounts", &format!("{path}.volumeMounts"))?;
    Ok(ContainerView {
        name: str_field(object, "name").to_owned(),
        env_names: names_of(env, "name"),
        mount_names: names_of(mounts, "name"),
        mount_paths: names_of(mounts, "mountPath"),
    })
}

impl PodView {
    /// Reads the view, or says which field has the wrong shape.
    pub fn from_json(pod: &Value) -> Result<PodView, String> {
        let root = pod
            .as_object()
            .ok_or_else(|| format!("the Pod must be an object, got {}", json_type_name(pod)))?;
        let metadata = map_field(root, "metadata", "metadata")?;
        let empty = Map::new();
        let metadata = metadata.unwrap_or(&empty);
        let spec = map_field(root, "spec", "spec")?.ok_or("the Pod has no spec")?;
        let container_items = list_field(spec, "containers", "spec.containers")?;
        let containers = container_items
            .iter()
            .enumerate()
            .map(|(i, c)| container_view(c, &format!("spec.containers[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let service_account_mount = container_items
            .iter()
            .filter_map(|c| c.get("volumeMounts").and_then(Value::as_array))
            .flatten()
            .find(|m| is_service_account_mount(m))
            .cloned();
        let init_containers = list_field(spec, "initContainers", "spec.initContainers")?;
        let labels = map_field(metadata, "labels", "metadata.labels")?;
        Ok(PodView {
            name: str_field(metadata, "name").to_owned(),
            generate_name: str_field(metadata, "generateName").to_owned(),
            annotations: map_field(metadata, "annotations", "metadata.annotations")?
                .cloned()
                .unwrap_or_default(),
            has_labels: labels.is_some_and(|l| !l.is_empty()),
            labels: labels.cloned().unwrap_or_default(),
            containers,
            init_container_names: names_of(init_containers, "name"),
            volume_names: names_of(list_field(spec, "volumes", "spec.volumes")?, "name"),
            tolerations: list_field(spec, "tolerations", "spec.tolerations")?.to_vec(),
            service_account_name: str_field(spec, "serviceAccountName").to_owned(),
            owner_references: list_field(metadata, "ownerReferences", "metadata.ownerReferences")?
                .to_vec(),
            service_account_mount,
        })
    }

    /// Dapr's `podContainsSidecarContainer`, containers and initContainers alike.
    pub fn has_container_named(&self, name: &str) -> bool {
        self.containers.iter().any(|c| c.name == name)
            || self.init_container_names.iter().any(|n| n == name)
    }

    /// Dapr's idempotency check for `version`: init containers count from 1.18 on.
    pub fn has_daprd(&self, version: crate::settings::DaprVersion) -> bool {
        let name = crate::sidecar::SIDECAR_CONTAINER_NAME;
        self.containers.iter().any(|c| c.name == name)
            || (crate::profiles::daprd_found_in_init_containers(version)
                && self.init_container_names.iter().any(|n| n == name))
    }

    pub fn has_volume(&self, name: &str) -> bool {
        self.volume_names.iter().any(|v| v == name)
    }

    /// The annotation's string value, if it has one.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_controller_pod_is_read_without_a_name() {
        let view = PodView::from_json(&json!({
            "metadata": {"generateName": "web-7c9d-", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "env": [{"name": "A"}], "volumeMounts": [{"name": "v", "mountPath": "/v"}]}],
                     "volumes": [{"name": "v"}]}
        }))
        .unwrap();
        assert_eq!(view.name, "");
        assert_eq!(view.generate_name, "web-7c9d-");
        assert!(view.has_labels);
        assert_eq!(view.containers[0].env_names, vec!["A"]);
        assert_eq!(view.containers[0].mount_paths, vec!["/v"]);
        assert!(view.has_volume("v"));
    }

    #[test]
    fn a_pod_without_spec_is_refused() {
        assert_eq!(
            PodView::from_json(&json!({"metadata": {}})).unwrap_err(),
            "the Pod has no spec"
        );
    }

    #[test]
    fn wrongly_typed_fields_are_named_in_the_error() {
        assert_eq!(
            PodView::from_json(&json!({"spec": {"containers": {}}})).unwrap_err(),
            "spec.containers must be a list, got an object"
        );
        assert_eq!(
            PodView::from_json(&json!({"spec": {"containers": [{"name": "a", "env": "x"}]}}))
                .unwrap_err(),
            "spec.containers[0].env must be a list, got a string"
        );
        assert_eq!(
            PodView::from_json(&json!({"metadata": {"annotations": []}, "spec": {}})).unwrap_err(),
            "metadata.annotations must be an object, got a list"
        );
        assert_eq!(
            PodView::from_json(&json!("pod")).unwrap_err(),
            "the Pod must be an object, got a string"
        );
    }

    #[test]
    fn daprd_is_found_among_init_containers_too() {
        let view =
            PodView::from_json(&json!({"spec": {"initContainers": [{"name": "daprd"}]}})).unwrap();
        assert!(view.has_container_named("daprd"));
    }
}

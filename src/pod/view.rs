//! A read-only view of the fields of the Pod JSON that injection looks at. The Pod itself is
//! never deserialised into a typed model, so fields unknown to k8s-openapi survive untouched.

use std::fmt;

use serde_json::{Map, Value};

use crate::base::json::to_text;
use crate::base::problem::json_type_name;
use crate::plan::{Held, PodLists};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ContainerView {
    pub name: String,
    pub env_names: Vec<String>,
    pub mount_names: Vec<String>,
    pub mount_paths: Vec<String>,
    /// Its TCP `ports[].containerPort`.
    pub ports: Vec<i64>,
}

/// A part of the Pod that only some settings read, kept as its JSON text until a builder asks
/// for it; empty when the Pod lacks it. Two are equal when they hold the same JSON.
#[derive(Debug, Clone, Default)]
pub struct Unread(String);

impl Unread {
    pub fn of_text(text: &str) -> Unread {
        Unread(text.to_owned())
    }

    pub fn is_absent(&self) -> bool {
        self.0.is_empty()
    }

    fn of_value(value: &Value) -> Unread {
        Unread(to_text(value))
    }

    fn value(&self) -> Option<Value> {
        serde_json::from_slice(self.0.as_bytes()).ok()
    }

    /// The list it holds: the reader checked that it is one.
    fn list(&self) -> Vec<Value> {
        match self.value() {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        }
    }
}

impl PartialEq for Unread {
    fn eq(&self, other: &Unread) -> bool {
        self.value() == other.value()
    }
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
    pub service_account_name: String,
    /// `spec.hostNetwork`, `spec.os.name` and `spec.nodeSelector["kubernetes.io/os"]`: where
    /// daprd's ports open and which OS its securityContext must suit.
    pub host_network: bool,
    pub os_name: String,
    pub node_selector_os: String,
    pub(crate) tolerations: Unread,
    pub(crate) owner_references: Unread,
    /// The first container mount at Kubernetes' token path, whole: 0.11 copies it into daprd.
    pub(crate) service_account_mount: Unread,
}

/// Where Kubernetes mounts a Pod's service-account token.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Why the Pod's JSON cannot be read as a Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodError {
    NotAnObject {
        got: &'static str,
    },
    NoSpec,
    /// A field has another JSON type than Kubernetes gives it.
    WrongType {
        path: String,
        expected: &'static str,
        got: &'static str,
    },
}

impl fmt::Display for PodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PodError::NotAnObject { got } => write!(f, "the Pod must be an object, got {got}"),
            PodError::NoSpec => f.write_str("the Pod has no spec"),
            PodError::WrongType {
                path,
                expected,
                got,
            } => write!(f, "{path} must be {expected}, got {got}"),
        }
    }
}

/// The Pod's OS key in `spec.os` and in `spec.nodeSelector`.
pub const OS_NAME_KEY: &str = "name";
pub const NODE_SELECTOR_OS_KEY: &str = "kubernetes.io/os";

/// `containerPort` of each TCP port (daprd listens on TCP only; `protocol` defaults to TCP):
/// one reader for the text and the `Value` paths.
pub(super) fn port_numbers(ports: &Value) -> Vec<i64> {
    ports
        .as_array()
        .into_iter()
        .flatten()
        .filter(|port| {
            port.get("protocol")
                .and_then(Value::as_str)
                .is_none_or(|p| p == "TCP")
        })
        .filter_map(|port| port.get("containerPort").and_then(Value::as_i64))
        .collect()
}

/// A string member of an optional object, empty when absent.
pub(super) fn member(object: Option<&Value>, key: &str) -> String {
    object
        .and_then(|o| o.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn str_field<'a>(object: &'a Map<String, Value>, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn wrong_type(path: &str, expected: &'static str, other: &Value) -> PodError {
    PodError::WrongType {
        path: path.to_owned(),
        expected,
        got: json_type_name(other),
    }
}

/// An optional list field: absent or null is empty; any other non-list is an error.
fn list_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], PodError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(path, "a list", other)),
    }
}

fn map_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, PodError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(wrong_type(path, "an object", other)),
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

fn container_view(item: &Value, path: &str) -> Result<ContainerView, PodError> {
    let object = item
        .as_object()
        .ok_or_else(|| wrong_type(path, "an object", item))?;
    let env = list_field(object, "env", &format!("{path}.env"))?;
    let mounts = list_field(object, "volumeMounts", &format!("{path}.volumeMounts"))?;
    Ok(ContainerView {
        name: str_field(object, "name").to_owned(),
        env_names: names_of(env, "name"),
        mount_names: names_of(mounts, "name"),
        mount_paths: names_of(mounts, "mountPath"),
        ports: port_numbers(object.get("ports").unwrap_or(&Value::Null)),
    })
}

/// A list read whole, kept unread.
fn unread_list(object: &Map<String, Value>, key: &str, path: &str) -> Result<Unread, PodError> {
    let items = list_field(object, key, path)?;
    Ok(if object.get(key).is_some_and(Value::is_array) {
        Unread::of_value(&Value::Array(items.to_vec()))
    } else {
        Unread::default()
    })
}

impl PodView {
    /// Reads the view from a parsed Pod, or says which field has the wrong shape.
    pub fn from_json(pod: &Value) -> Result<PodView, PodError> {
        let root = pod.as_object().ok_or(PodError::NotAnObject {
            got: json_type_name(pod),
        })?;
        let metadata = map_field(root, "metadata", "metadata")?;
        let empty = Map::new();
        let metadata = metadata.unwrap_or(&empty);
        let spec = map_field(root, "spec", "spec")?.ok_or(PodError::NoSpec)?;
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
            .map_or_else(Unread::default, Unread::of_value);
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
            tolerations: unread_list(spec, "tolerations", "spec.tolerations")?,
            service_account_name: str_field(spec, "serviceAccountName").to_owned(),
            host_network: spec.get("hostNetwork").and_then(Value::as_bool) == Some(true),
            os_name: member(spec.get("os"), OS_NAME_KEY),
            node_selector_os: member(spec.get("nodeSelector"), NODE_SELECTOR_OS_KEY),
            owner_references: unread_list(metadata, "ownerReferences", "metadata.ownerReferences")?,
            service_account_mount,
        })
    }

    pub fn has_app_container_named(&self, name: &str) -> bool {
        self.containers.iter().any(|c| c.name == name)
    }

    pub fn has_init_container_named(&self, name: &str) -> bool {
        self.init_container_names.iter().any(|n| n == name)
    }

    /// A container or init container of that name.
    pub fn has_container_named(&self, name: &str) -> bool {
        self.has_app_container_named(name) || self.has_init_container_named(name)
    }

    pub fn has_volume(&self, name: &str) -> bool {
        self.volume_names.iter().any(|v| v == name)
    }

    pub fn tolerations(&self) -> Vec<Value> {
        self.tolerations.list()
    }

    pub fn owner_references(&self) -> Vec<Value> {
        self.owner_references.list()
    }

    pub fn service_account_mount(&self) -> Option<Value> {
        self.service_account_mount.value()
    }

    /// The names the lists injection extends hold.
    pub fn lists(&self) -> PodLists<'_> {
        PodLists {
            volumes: Held {
                names: &self.volume_names,
                paths: &[],
            },
            env: self
                .containers
                .iter()
                .map(|c| Held {
                    names: &c.env_names,
                    paths: &[],
                })
                .collect(),
            mounts: self
                .containers
                .iter()
                .map(|c| Held {
                    names: &c.mount_names,
                    paths: &c.mount_paths,
                })
                .collect(),
        }
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
            PodView::from_json(&json!({"metadata": {}}))
                .unwrap_err()
                .to_string(),
            "the Pod has no spec"
        );
    }

    #[test]
    fn wrongly_typed_fields_are_named_in_the_error() {
        assert_eq!(
            PodView::from_json(&json!({"spec": {"containers": {}}}))
                .unwrap_err()
                .to_string(),
            "spec.containers must be a list, got an object"
        );
        assert_eq!(
            PodView::from_json(&json!({"spec": {"containers": [{"name": "a", "env": "x"}]}}))
                .unwrap_err()
                .to_string(),
            "spec.containers[0].env must be a list, got a string"
        );
        assert_eq!(
            PodView::from_json(&json!({"metadata": {"annotations": []}, "spec": {}}))
                .unwrap_err()
                .to_string(),
            "metadata.annotations must be an object, got a list"
        );
        assert_eq!(
            PodView::from_json(&json!("pod")).unwrap_err().to_string(),
            "the Pod must be an object, got a string"
        );
    }

    #[test]
    fn daprd_is_found_among_init_containers_too() {
        let view =
            PodView::from_json(&json!({"spec": {"initContainers": [{"name": "daprd"}]}})).unwrap();
        assert!(view.has_init_container_named("daprd"));
    }
}

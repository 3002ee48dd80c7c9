//! Applies the injection to the Pod's raw JSON. Only additions, only where Dapr's `GetPatch`
//! adds; everything else in the object, known to k8s-openapi or not, is left as it came.

use serde_json::{Map, Value};

pub const LABEL_SIDECAR_INJECTED: &str = "dapr.io/sidecar-injected";
pub const LABEL_APP_ID: &str = "dapr.io/app-id";
pub const LABEL_METRICS_ENABLED: &str = "dapr.io/metrics-enabled";

/// A k8s-openapi object as JSON. Their serialisers cannot fail, so an error (never seen) yields
/// `null` rather than a panic.
pub fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// What the pluggable components add.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentAdditions {
    pub shared_volume: Value,
    pub shared_mount: Value,
    pub env: Value,
    /// Indexes of the Pod's containers named in `dapr.io/pluggable-components`.
    pub declared: Vec<usize>,
    /// Containers from Component resources, already carrying the env and the shared mount.
    pub injected: Vec<Value>,
    /// emptyDir volumes for the injected containers' mounts of volumes the Pod lacks.
    pub injected_volumes: Vec<Value>,
}

/// Everything injection adds to one Pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Additions {
    /// Pod volumes, in order; one whose name exists already is skipped.
    pub volumes: Vec<Value>,
    pub sidecar: Value,
    pub native_sidecar: bool,
    pub labels: Vec<(&'static str, String)>,
    /// Indexes of the app containers, and what each receives.
    pub app_containers: Vec<usize>,
    pub app_env: Vec<Value>,
    pub app_mounts: Vec<Value>,
    pub components: Option<ComponentAdditions>,
}

fn object_mut<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
) -> Result<&'a mut Map<String, Value>, String> {
    let slot = parent
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| format!("{key} is not an object"))
}

fn list_mut<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
) -> Result<&'a mut Vec<Value>, String> {
    let slot = parent
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut()
        .ok_or_else(|| format!("{key} is not a list"))
}

fn has_named(items: &[Value], key: &str, value: &Value) -> bool {
    value
        .get(key)
        .is_some_and(|wanted| items.iter().any(|item| item.get(key) == Some(wanted)))
}

/// Appends each item whose `name` is new (Dapr's env and volume rule).
fn append_new_names(list: &mut Vec<Value>, items: &[Value]) {
    for item in items {
        if !has_named(list, "name", item) {
            list.push(item.clone());
        }
    }
}

/// Appends each mount whose name and path are both new (Dapr's `GetVolumeMountPatchOperations`).
fn append_new_mounts(list: &mut Vec<Value>, mounts: &[Value]) {
    for m in mounts {
        if !has_named(list, "name", m) && !has_named(list, "mountPath", m) {
            list.push(m.clone());
        }
    }
}

fn container_mut(
    containers: &mut [Value],
    index: usize,
) -> Result<&mut Map<String, Value>, String> {
    containers
        .get_mut(index)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("spec.containers[{index}] is not an object"))
}

pub fn apply(pod: &mut Value, add: Additions) -> Result<(), String> {
    let root = pod.as_object_mut().ok_or("the Pod is not an object")?;
    if !add.labels.is_empty() {
        let labels = object_mut(object_mut(root, "metadata")?, "labels")?;
        for (key, value) in &add.labels {
            labels.insert((*key).to_owned(), Value::String(value.clone()));
        }
    }
    let spec = object_mut(root, "spec")?;
    if !add.volumes.is_empty() {
        append_new_names(list_mut(spec, "volumes")?, &add.volumes);
    }
    {
        let containers = list_mut(spec, "containers")?;
        for &i in &add.app_containers {
            let container = container_mut(containers, i)?;
            append_new_names(list_mut(container, "env")?, &add.app_env);
            if !add.app_mounts.is_empty() {
                append_new_mounts(list_mut(container, "volumeMounts")?, &add.app_mounts);
            }
        }
    }
    if add.native_sidecar {
        list_mut(spec, "initContainers")?.push(add.sidecar);
    } else {
        list_mut(spec, "containers")?.push(add.sidecar);
    }
    if let Some(components) = add.components {
        // Appended, never replacing the list: Dapr's `add /spec/volumes [...]` here would drop
        // the token volume of a Pod that had no volumes.
        append_new_names(
            list_mut(spec, "volumes")?,
            std::slice::from_ref(&components.shared_volume),
        );
        append_new_names(list_mut(spec, "volumes")?, &components.injected_volumes);
        let containers = list_mut(spec, "containers")?;
        for &i in &components.declared {
            let container = container_mut(containers, i)?;
            append_new_names(
                list_mut(container, "env")?,
                std::slice::from_ref(&components.env),
            );
            append_new_mounts(
                list_mut(container, "volumeMounts")?,
                std::slice::from_ref(&components.shared_mount),
            );
        }
        containers.extend(components.injected);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn additions() -> Additions {
        Additions {
            volumes: vec![json!({"name": "tok"})],
            sidecar: json!({"name": "daprd"}),
            native_sidecar: false,
            labels: vec![(LABEL_SIDECAR_INJECTED, "true".to_owned())],
            app_containers: vec![0],
            app_env: vec![
                json!({"name": "A", "value": "1"}),
                json!({"name": "B", "value": "2"}),
            ],
            app_mounts: vec![],
            components: None,
        }
    }

    #[test]
    fn missing_lists_and_maps_are_created() {
        let mut pod = json!({"spec": {"containers": [{"name": "app"}]}});
        apply(&mut pod, additions()).unwrap();
        assert_eq!(
            pod,
            json!({"metadata": {"labels": {"dapr.io/sidecar-injected": "true"}},
                   "spec": {"volumes": [{"name": "tok"}],
                            "containers": [{"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}, {"name": "daprd"}]}})
        );
    }

    #[test]
    fn an_existing_env_name_is_never_overwritten() {
        let mut pod = json!({"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": "mine"}]}]}});
        apply(&mut pod, additions()).unwrap();
        assert_eq!(
            pod["spec"]["containers"][0]["env"],
            json!([{"name": "A", "value": "mine"}, {"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn an_existing_volume_name_wins() {
        let mut pod =
            json!({"spec": {"volumes": [{"name": "tok", "emptyDir": {}}], "containers": []}});
        let mut add = additions();
        add.app_containers.clear();
        apply(&mut pod, add).unwrap();
        assert_eq!(
            pod["spec"]["volumes"],
            json!([{"name": "tok", "emptyDir": {}}])
        );
    }

    #[test]
    fn a_mount_is_skipped_when_its_name_or_path_exists() {
        let mut list = vec![json!({"name": "x", "mountPath": "/a"})];
        append_new_mounts(
            &mut list,
            &[
                json!({"name": "y", "mountPath": "/a"}),
                json!({"name": "x", "mountPath": "/b"}),
                json!({"name": "z", "mountPath": "/z"}),
            ],
        );
        assert_eq!(
            list,
            vec![
                json!({"name": "x", "mountPath": "/a"}),
                json!({"name": "z", "mountPath": "/z"})
            ]
        );
    }

    #[test]
    fn the_native_sidecar_goes_last_in_init_containers() {
        let mut pod = json!({"spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}});
        let mut add = additions();
        add.native_sidecar = true;
        apply(&mut pod, add).unwrap();
        assert_eq!(
            pod["spec"]["initContainers"],
            json!([{"name": "init"}, {"name": "daprd"}])
        );
        assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 1);
    }
}

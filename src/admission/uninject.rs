//! Uninjection, for the command line: everything injection adds, taken out again, so that a
//! committed manifest can move to other settings or another Dapr release. What injection adds
//! is recognised by the names Dapr gives it; a list or map left empty was made by injection
//! (it adds only to what it finds), so it goes too.

use serde_json::{Map, Value};

use crate::annotations::keys;
use crate::base::dapr::{SIDECAR_CONTAINER_NAME, env, label, volume};
use crate::base::k8s::objects::annotation;

/// The env vars injection gives app containers.
const APP_ENV: &[&str] = &[env::APP_HTTP_PORT, env::APP_GRPC_PORT, env::APP_PROTOCOL];
const LABELS: &[&str] = &[
    label::SIDECAR_INJECTED,
    label::APP_ID,
    label::METRICS_ENABLED,
];
const VOLUMES: &[&str] = &[
    volume::TOKEN_NAME,
    volume::UDS_NAME,
    volume::COMPONENTS_NAME,
];

/// The Pod (or pod template) without what injection added; `None` when it has no daprd.
pub fn uninject(mut pod: Value) -> Option<Value> {
    let declared: Vec<String> = annotation(&pod, keys::pluggable_components)
        .map(|names| names.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let spec = pod.get_mut("spec")?.as_object_mut()?;
    let removed = remove_daprd(spec, "containers") | remove_daprd(spec, "initContainers");
    if !removed {
        return None;
    }
    if let Some(Value::Array(containers)) = spec.get_mut("containers") {
        // Components injected from Component resources mount the sockets; declared ones stay.
        containers.retain(|c| {
            declared.iter().any(|d| Some(d.as_str()) == name_of(c)) || !mounts_components(c)
        });
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let is_component = declared
                .iter()
                .any(|d| Some(d.as_str()) == container.get("name").and_then(Value::as_str));
            if is_component {
                remove_named(container, "env", &[env::COMPONENT_SOCKETS_FOLDER]);
                remove_named(container, "volumeMounts", &[volume::COMPONENTS_NAME]);
            } else {
                remove_named(container, "env", APP_ENV);
                remove_named(container, "volumeMounts", &[volume::UDS_NAME]);
            }
        }
    }
    remove_named(spec, "volumes", VOLUMES);
    if let Some(Value::Object(metadata)) = pod.get_mut("metadata")
        && let Some(Value::Object(labels)) = metadata.get_mut("labels")
    {
        for key in LABELS {
            labels.remove(*key);
        }
        if labels.is_empty() {
            metadata.remove("labels");
        }
    }
    Some(pod)
}

fn name_of(container: &Value) -> Option<&str> {
    container.get("name").and_then(Value::as_str)
}

fn mounts_components(container: &Value) -> bool {
    container
        .get("volumeMounts")
        .and_then(Value::as_array)
        .is_some_and(|mounts| {
            mounts
                .iter()
                .any(|m| name_of(m) == Some(volume::COMPONENTS_NAME))
        })
}

/// Takes daprd out of a container list; the list goes when nothing is left.
fn remove_daprd(spec: &mut Map<String, Value>, list: &str) -> bool {
    let Some(Value::Array(containers)) = spec.get_mut(list) else {
        return false;
    };
    let before = containers.len();
    containers.retain(|c| name_of(c) != Some(SIDECAR_CONTAINER_NAME));
    let removed = containers.len() != before;
    if removed && containers.is_empty() {
        spec.remove(list);
    }
    removed
}

/// Drops the items of `object[list]` with these names; the list goes when nothing is left.
fn remove_named(object: &mut Map<String, Value>, list: &str, names: &[&str]) {
    let Some(Value::Array(items)) = object.get_mut(list) else {
        return;
    };
    let before = items.len();
    items.retain(|item| !name_of(item).is_some_and(|n| names.contains(&n)));
    if items.len() != before && items.is_empty() {
        object.remove(list);
    }
}

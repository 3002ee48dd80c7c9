//! Uninjection, for the command line: everything injection adds, taken out again, so that a
//! committed manifest can move to other settings or another Dapr release. What injection adds
//! is recognised by the names Dapr gives it, and an app container's Dapr env var also by the
//! value injection wrote, read back from daprd's flags: one the manifest set itself to another
//! value stays. A list or map left empty was made by injection (it adds only to what it
//! finds), so it goes too.

use serde_json::{Map, Value};

use crate::annotations::keys;
use crate::base::dapr::{SIDECAR_CONTAINER_NAME, env, label, volume};
use crate::base::k8s::objects::annotation;
use crate::sidecar::app_protocol_value;
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
    let app_env = app_env_written(spec);
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
                remove_written(container, &app_env);
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

/// The app containers' env vars injection wrote, with their values, from daprd's flags (every
/// release passes its ports and app protocol): `DAPR_HTTP_PORT`, `DAPR_GRPC_PORT` and
/// `APP_PROTOCOL`, the last not written for a protocol Dapr does not know.
fn app_env_written(spec: &Map<String, Value>) -> Vec<(&'static str, String)> {
    let daprd = ["containers", "initContainers"]
        .iter()
        .filter_map(|list| spec.get(*list)?.as_array())
        .flatten()
        .find(|c| name_of(c) == Some(SIDECAR_CONTAINER_NAME));
    let args: Vec<&str> = daprd
        .and_then(|d| d.get("args")?.as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let flag = |name: &str| {
        let at = args.iter().position(|a| *a == name)?;
        args.get(at.checked_add(1)?).map(|v| (*v).to_owned())
    };
    let protocol = flag("--app-protocol").unwrap_or_default();
    let ssl = args.contains(&"--app-ssl");
    let mut written = vec![
        (
            env::APP_HTTP_PORT,
            flag("--dapr-http-port").unwrap_or_default(),
        ),
        (
            env::APP_GRPC_PORT,
            flag("--dapr-grpc-port").unwrap_or_default(),
        ),
    ];
    match app_protocol_value(&protocol, ssl) {
        "" => {}
        value => written.push((env::APP_PROTOCOL, value.to_owned())),
    }
    written
}

/// Drops the env vars whose name and value are those injection wrote.
fn remove_written(container: &mut Map<String, Value>, written: &[(&str, String)]) {
    let Some(Value::Array(vars)) = container.get_mut("env") else {
        return;
    };
    let before = vars.len();
    vars.retain(|var| {
        let value = var.get("value").and_then(Value::as_str);
        !written
            .iter()
            .any(|(name, v)| name_of(var) == Some(*name) && value == Some(v.as_str()))
    });
    if vars.len() != before && vars.is_empty() {
        container.remove("env");
    }
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

//! The additions written into a parsed `Value`: the path for Pods in shapes the API server
//! never sends, and for the command line's manifests. The same [`Edits`] as the splice.

use serde_json::{Map, Value};

use crate::plan::{Edits, ListEdit};

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

/// Appends the edit's items, creating the list when the edit touches a list the Pod lacks.
fn extend(parent: &mut Map<String, Value>, key: &str, edit: &ListEdit) -> Result<(), String> {
    if !edit.touched {
        return Ok(());
    }
    let slot = parent
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    let list = slot
        .as_array_mut()
        .ok_or_else(|| format!("{key} is not a list"))?;
    for item in &edit.items {
        list.push(item.value()?);
    }
    Ok(())
}

/// Writes the edits into the Pod. Its shape was checked when its view was read, so the
/// errors here are never met in practice.
pub fn write(pod: &mut Value, edits: &Edits) -> Result<(), String> {
    let root = pod.as_object_mut().ok_or("the Pod is not an object")?;
    if !edits.labels.is_empty() {
        let labels = object_mut(object_mut(root, "metadata")?, "labels")?;
        for (key, value) in edits.labels {
            labels.insert((*key).to_owned(), Value::String(value.clone()));
        }
    }
    let spec = object_mut(root, "spec")?;
    if let Some(Value::Array(containers)) = spec.get_mut("containers") {
        for (i, container) in containers.iter_mut().enumerate() {
            let Some(container) = container.as_object_mut() else {
                continue;
            };
            if let Some(env) = edits.env.get(i) {
                extend(container, "env", env)?;
            }
            if let Some(mounts) = edits.mounts.get(i) {
                extend(container, "volumeMounts", mounts)?;
            }
        }
    }
    extend(spec, "volumes", &edits.volumes)?;
    extend(spec, "containers", &edits.containers)?;
    extend(spec, "initContainers", &edits.init_containers)
}

//! Pluggable components (Dapr's `sidecar_components.go`): the Pod's own component containers
//! named in `dapr.io/pluggable-components`, and those Dapr's `Injectable` takes from Component
//! resources, all sharing one socket volume with daprd.

use k8s_openapi::api::core::v1::VolumeMount;
use serde_json::{Map, Value};

use crate::annotations::{DaprAnnotations, keys};
use crate::base::dapr::{SIDECAR_CONTAINER_NAME, env, volume};
use crate::base::k8s::objects::{mount, plain_env};
use crate::base::problem::{self, Problem};
use crate::plan::{ComponentAdditions, Item};
use crate::pod::PodView;
use crate::settings::Settings;

/// The indexes of the Pod's containers declared as components, and of the app containers.
pub fn declared_and_app_containers(
    a: &DaprAnnotations,
    view: &PodView,
) -> (Vec<usize>, Vec<usize>) {
    let declared_names: Vec<&str> = if a.pluggable_components.is_empty() {
        Vec::new()
    } else {
        a.pluggable_components.split(',').collect()
    };
    (0..view.containers.len()).partition(|&i| {
        view.containers
            .get(i)
            .is_some_and(|c| declared_names.contains(&c.name.as_str()))
    })
}

/// Containers to inject from `components` (Component resources as JSON), in list order:
/// only those scoped to `app_id` (or unscoped), the first per image.
pub fn injectable(app_id: &str, components: &[Value], problems: &mut Vec<Problem>) -> Vec<Value> {
    let mut containers: Vec<Value> = Vec::new();
    let mut images: Vec<String> = Vec::new();
    for component in components {
        let name = component
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let raw = component
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(keys::component_container))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if raw.is_empty() {
            continue;
        }
        let mut container = match serde_json::from_str::<Value>(raw) {
            Ok(c @ Value::Object(_)) => c,
            _ => {
                problems.push(Problem::invalid(
                    keys::component_container,
                    format!(
                        "Component {} has no container JSON; skipped",
                        problem::name(name)
                    ),
                ));
                continue;
            }
        };
        let image = container
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if images.contains(&image) {
            continue;
        }
        let scopes: Vec<&str> = component
            .get("scopes")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !scopes.is_empty() && !scopes.contains(&app_id) {
            continue;
        }
        images.push(image);
        if container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty()
            && let Some(object) = container.as_object_mut()
        {
            object.insert("name".to_owned(), Value::String(name.to_owned()));
        }
        containers.push(container);
    }
    containers
}

/// The sockets folder: the annotation, else the setting.
pub fn sockets_folder<'a>(annotation: &'a str, setting: &'a str) -> &'a str {
    if annotation.is_empty() {
        setting
    } else {
        annotation
    }
}

/// The shared socket volume and what declared and injected component containers receive,
/// with daprd's mount of it; `None` when the Pod has no component.
pub fn additions(
    a: &DaprAnnotations,
    settings: &Settings,
    view: &PodView,
    declared: Vec<usize>,
    injected: Vec<Value>,
    problems: &mut Vec<Problem>,
) -> Option<(VolumeMount, ComponentAdditions)> {
    if declared.is_empty() && injected.is_empty() {
        return None;
    }
    let folder = sockets_folder(
        &a.pluggable_components_sockets_folder,
        &settings.component_sockets_folder,
    );
    let daprd_mount = mount(volume::COMPONENTS_NAME, folder, false);
    let shared_mount = Item::mount(&daprd_mount);
    let env = Item::env(&plain_env(env::COMPONENT_SOCKETS_FOLDER, folder));
    let (injected, injected_volumes) =
        injected_containers(view, injected, &env, &shared_mount, problems);
    let shared_volume = Item::empty_dir(volume::COMPONENTS_NAME, None);
    Some((
        daprd_mount,
        ComponentAdditions {
            shared_volume,
            shared_mount,
            env,
            declared,
            injected,
            injected_volumes,
        },
    ))
}

/// The Components' containers whose names are free, each with the env and the shared mount,
/// and an emptyDir for each volume they mount that the Pod lacks.
fn injected_containers(
    view: &PodView,
    injected: Vec<Value>,
    env: &Item,
    shared_mount: &Item,
    problems: &mut Vec<Problem>,
) -> (Vec<Item>, Vec<Item>) {
    let mut known_volumes: Vec<String> = view.volume_names.clone();
    known_volumes.push(volume::COMPONENTS_NAME.to_owned());
    let mut taken_names: Vec<String> = view.containers.iter().map(|c| c.name.clone()).collect();
    taken_names.extend(view.init_container_names.iter().cloned());
    taken_names.push(SIDECAR_CONTAINER_NAME.to_owned());
    let (mut containers, mut volumes) = (Vec::new(), Vec::new());
    for mut container in injected {
        let name = container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if taken_names.contains(&name) {
            problems.push(Problem::invalid(
                keys::inject_pluggable_components,
                format!(
                    "container {} clashes with a Pod container; skipped",
                    problem::name(&name)
                ),
            ));
            continue;
        }
        taken_names.push(name);
        let Some(object) = container.as_object_mut() else {
            continue;
        };
        for volume in mount_names(object) {
            if !known_volumes.contains(&volume) {
                volumes.push(Item::empty_dir(&volume, None));
                known_volumes.push(volume);
            }
        }
        // Parsing our own serialisation back cannot fail.
        append_to_list(object, "env", env.value().unwrap_or_default());
        append_to_list(
            object,
            "volumeMounts",
            shared_mount.value().unwrap_or_default(),
        );
        containers.push(Item::of_value(&container));
    }
    (containers, volumes)
}

fn mount_names(container: &Map<String, Value>) -> Vec<String> {
    container
        .get("volumeMounts")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(|m| m.get("name").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn append_to_list(object: &mut Map<String, Value>, key: &str, item: Value) {
    match object.get_mut(key) {
        Some(Value::Array(items)) => items.push(item),
        _ => {
            object.insert(key.to_owned(), Value::Array(vec![item]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn component(name: &str, container: Value, scopes: Value) -> Value {
        json!({"metadata": {"name": name, "annotations": {"dapr.io/component-container": container.to_string()}}, "scopes": scopes})
    }

    #[test]
    fn unscoped_and_in_scope_components_are_injected_once_per_image() {
        let list = vec![
            component("a", json!({"name": "c-a", "image": "img:1"}), json!([])),
            component("b", json!({"image": "img:2"}), json!(["myapp"])),
            component("c", json!({"name": "dup", "image": "img:1"}), json!(null)),
            component(
                "d",
                json!({"name": "other", "image": "img:3"}),
                json!(["otherapp"]),
            ),
        ];
        let mut problems = Vec::new();
        assert_eq!(
            injectable("myapp", &list, &mut problems),
            vec![
                json!({"name": "c-a", "image": "img:1"}),
                json!({"name": "b", "image": "img:2"})
            ]
        );
        assert!(problems.is_empty());
    }

    #[test]
    fn an_out_of_scope_image_does_not_block_a_later_in_scope_one() {
        let list = vec![
            component("x", json!({"image": "img"}), json!(["otherapp"])),
            component("y", json!({"image": "img"}), json!(["myapp"])),
        ];
        assert_eq!(
            injectable("myapp", &list, &mut Vec::new()),
            vec![json!({"name": "y", "image": "img"})]
        );
    }

    #[test]
    fn a_component_container_that_is_not_json_is_skipped_with_a_warning() {
        let list = vec![
            json!({"metadata": {"name": "bad", "annotations": {"dapr.io/component-container": "{nope"}}}),
        ];
        let mut problems = Vec::new();
        assert!(injectable("myapp", &list, &mut problems).is_empty());
        assert_eq!(
            problems[0].to_warning(),
            "dapr.io/component-container: Component \"bad\" has no container JSON; skipped"
        );
    }
}

//! Pluggable components: which containers Dapr's `Injectable` takes from Component resources.

use serde_json::Value;

use crate::annotations::{Problem, keys, quote};

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
                problems.push(Problem::new(
                    keys::component_container,
                    format!("Component {} has no container JSON; skipped", quote(name)),
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

//! The Pod's JSON, in and out, behind one small interface: [`Pod::read`] takes the request's
//! text, [`Pod::view`] says what injection needs to know, and [`Pod::apply`] returns the text
//! with a plan's additions. Inside, text in the API server's shape is scanned once and the
//! additions are spliced into it; any other JSON goes through a parsed `Value`, whose reader
//! names the field at fault. Both write the same [`crate::plan::Edits`].

mod scan;
mod splice;
mod value;
mod view;

use serde_json::{Map, Value};

#[cfg(test)]
pub use splice::ANSWER_ROOM; // the tests of the answer's buffer
pub use view::{PodError, PodView};

use crate::base::json::to_text;
use crate::plan::Additions;

/// A Pod to inject, as text or parsed.
pub struct Pod<'a> {
    form: Form<'a>,
    /// Read by the scan, or from the `Value` when first asked for.
    view: Option<PodView>,
}

enum Form<'a> {
    Text { text: &'a str, layout: scan::Layout },
    Value(Value),
}

impl<'a> Pod<'a> {
    /// The request's object. `text` must be valid JSON (serde_json checked it as a raw value):
    /// the scan checks structure, not literals. The error is the parser's.
    pub fn read(text: &'a str) -> Result<Pod<'a>, String> {
        if let Some(raw) = scan::RawPod::scan(text) {
            return Ok(Pod {
                form: Form::Text {
                    text: raw.text,
                    layout: raw.layout,
                },
                view: Some(raw.view),
            });
        }
        serde_json::from_slice::<Value>(text.as_bytes())
            .map(Pod::parsed)
            .map_err(|e| e.to_string())
    }

    /// A parsed Pod: the command line's manifests and the tests of the `Value` path.
    pub fn parsed(value: Value) -> Pod<'a> {
        Pod {
            form: Form::Value(value),
            view: None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.form, Form::Value(Value::Null))
    }

    pub fn annotations(&self) -> Option<&Map<String, Value>> {
        match (&self.form, &self.view) {
            (_, Some(view)) => Some(&view.annotations),
            (Form::Value(value), None) => value
                .pointer("/metadata/annotations")
                .and_then(Value::as_object),
            (Form::Text { .. }, None) => None,
        }
    }

    pub fn generate_name(&self) -> &str {
        match (&self.form, &self.view) {
            (_, Some(view)) => &view.generate_name,
            (Form::Value(value), None) => value
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            (Form::Text { .. }, None) => "",
        }
    }

    /// What injection reads of the Pod, or which field has a shape it cannot work on.
    pub fn view(&mut self) -> Result<&PodView, PodError> {
        if self.view.is_none()
            && let Form::Value(value) = &self.form
        {
            self.view = Some(PodView::from_json(value)?);
        }
        self.view.as_ref().ok_or(PodError::NoSpec)
    }

    /// Annotations planning reads beyond the Pod's own (its Namespace's defaults); they are
    /// never written into the Pod. The view must have been read.
    pub fn read_with(&mut self, defaults: &Map<String, Value>) {
        if let Some(view) = &mut self.view {
            for (key, value) in defaults {
                view.annotations.insert(key.clone(), value.clone());
            }
        }
    }

    /// The Pod's text with the additions. Its view must have been read.
    pub fn apply(mut self, additions: &Additions) -> Result<String, String> {
        self.view().map_err(|e| e.to_string())?;
        let view = self.view.as_ref().ok_or("the Pod was not read")?;
        let edits = additions.edits(&view.lists());
        match &mut self.form {
            Form::Text { text, layout } => Ok(splice::splice(text, layout, view, &edits)),
            Form::Value(value) => {
                value::write(value, &edits)?;
                Ok(to_text(value))
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::dapr::label::SIDECAR_INJECTED as LABEL_SIDECAR_INJECTED;
    use crate::plan::{ComponentAdditions, Item};
    use serde_json::json;

    fn item(object: Value) -> Item {
        Item::of_value(&object)
    }

    fn additions() -> Additions {
        Additions {
            volumes: vec![item(json!({"name": "tok"}))],
            sidecar: item(json!({"name": "daprd"})),
            native_sidecar: false,
            labels: vec![(LABEL_SIDECAR_INJECTED, "true".to_owned())],
            app_containers: vec![0],
            app_env: vec![
                item(json!({"name": "A", "value": "1"})),
                item(json!({"name": "B", "value": "2"})),
            ],
            app_mounts: vec![],
            components: None,
        }
    }

    /// Applies to the `Value` and splices into the text (compact and pretty), which must agree.
    fn patched(pod: Value, add: Additions) -> Value {
        let written = Pod::parsed(pod.clone()).apply(&add).unwrap();
        let value: Value = serde_json::from_str(&written).unwrap();
        for text in [pod.to_string(), serde_json::to_string_pretty(&pod).unwrap()] {
            scan::RawPod::scan(&text).expect("the splice reads this Pod");
            let spliced = Pod::read(&text).unwrap().apply(&add).unwrap();
            let spliced: Value =
                serde_json::from_str(&spliced).unwrap_or_else(|e| panic!("{e}: {spliced}"));
            assert_eq!(spliced, value, "the splice of {text}");
        }
        value
    }

    #[test]
    fn the_spliced_pod_leaves_room_for_the_answer_around_it() {
        let text = json!({"spec": {"containers": [{"name": "app"}], "volumes": []}}).to_string();
        let spliced = Pod::read(&text).unwrap().apply(&additions()).unwrap();
        assert!(
            spliced.capacity() - spliced.len() >= ANSWER_ROOM,
            "{} bytes of room",
            spliced.capacity() - spliced.len()
        );
    }

    #[test]
    fn missing_lists_and_maps_are_created() {
        let pod = patched(
            json!({"spec": {"containers": [{"name": "app"}]}}),
            additions(),
        );
        assert_eq!(
            pod,
            json!({"metadata": {"labels": {"dapr.io/sidecar-injected": "true"}},
                   "spec": {"volumes": [{"name": "tok"}],
                            "containers": [{"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}, {"name": "daprd"}]}})
        );
    }

    #[test]
    fn labels_are_added_to_existing_ones_and_overwrite_their_own_keys() {
        let pod = patched(
            json!({"metadata": {"labels": {"app": "web", "dapr.io/sidecar-injected": "no"}},
                   "spec": {"containers": [{"name": "app"}]}}),
            additions(),
        );
        assert_eq!(
            pod["metadata"]["labels"],
            json!({"app": "web", "dapr.io/sidecar-injected": "true"})
        );
        let pod = patched(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app"}]}}),
            additions(),
        );
        assert_eq!(
            pod["metadata"],
            json!({"name": "p", "labels": {"dapr.io/sidecar-injected": "true"}})
        );
    }

    #[test]
    fn an_existing_env_name_is_never_overwritten() {
        let pod = patched(
            json!({"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": "mine"}]}]}}),
            additions(),
        );
        assert_eq!(
            pod["spec"]["containers"][0]["env"],
            json!([{"name": "A", "value": "mine"}, {"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn an_existing_volume_name_wins() {
        let mut add = additions();
        add.app_containers.clear();
        let pod = patched(
            json!({"spec": {"volumes": [{"name": "tok", "emptyDir": {}}], "containers": []}}),
            add,
        );
        assert_eq!(
            pod["spec"]["volumes"],
            json!([{"name": "tok", "emptyDir": {}}])
        );
    }

    #[test]
    fn a_mount_is_skipped_when_its_name_or_path_exists() {
        let mut add = additions();
        add.app_mounts = vec![
            item(json!({"name": "y", "mountPath": "/a"})),
            item(json!({"name": "z", "mountPath": "/z"})),
            item(json!({"name": "w", "mountPath": "/z"})),
        ];
        let pod = patched(
            json!({"spec": {"containers": [{"name": "app", "volumeMounts": [{"name": "x", "mountPath": "/a"}]}]}}),
            add,
        );
        assert_eq!(
            pod["spec"]["containers"][0]["volumeMounts"],
            json!([{"name": "x", "mountPath": "/a"}, {"name": "z", "mountPath": "/z"}])
        );
    }

    #[test]
    fn the_native_sidecar_goes_last_in_init_containers() {
        let mut add = additions();
        add.native_sidecar = true;
        let pod = patched(
            json!({"spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}}),
            add.clone(),
        );
        assert_eq!(
            pod["spec"]["initContainers"],
            json!([{"name": "init"}, {"name": "daprd"}])
        );
        assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 1);
        let pod = patched(json!({"spec": {"containers": [{"name": "app"}]}}), add);
        assert_eq!(pod["spec"]["initContainers"], json!([{"name": "daprd"}]));
    }

    #[test]
    fn components_share_one_socket_volume_and_come_after_daprd() {
        let mut add = additions();
        add.app_containers = vec![0];
        add.components = Some(ComponentAdditions {
            shared_volume: item(json!({"name": "sock", "emptyDir": {}})),
            shared_mount: item(json!({"name": "sock", "mountPath": "/s"})),
            env: item(json!({"name": "SOCKETS", "value": "/s"})),
            declared: vec![1],
            injected: vec![item(json!({"name": "comp"}))],
            injected_volumes: vec![
                item(json!({"name": "data", "emptyDir": {}})),
                item(json!({"name": "tok", "emptyDir": {}})),
            ],
        });
        let pod = patched(
            json!({"spec": {"containers": [{"name": "app"}, {"name": "declared", "env": [], "volumeMounts": []}]}}),
            add,
        );
        assert_eq!(
            pod["spec"],
            json!({"volumes": [{"name": "tok"}, {"name": "sock", "emptyDir": {}}, {"name": "data", "emptyDir": {}}],
                   "containers": [
                       {"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                       {"name": "declared", "env": [{"name": "SOCKETS", "value": "/s"}], "volumeMounts": [{"name": "sock", "mountPath": "/s"}]},
                       {"name": "daprd"},
                       {"name": "comp"}]})
        );
    }

    #[test]
    fn unread_fields_and_their_formatting_survive_the_splice() {
        let text = r#"{ "kind" : "Pod", "spec":{"containers":[{"name":"app","args":["]","}"]}], "x":{"y":[1,2.50]}}, "status":{} }"#;
        let spliced = Pod::read(text).unwrap().apply(&additions()).unwrap();
        assert_eq!(
            spliced,
            r#"{ "kind" : "Pod", "spec":{"containers":[{"name":"app","args":["]","}"],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"daprd"}], "x":{"y":[1,2.50]},"volumes":[{"name":"tok"}]}, "status":{} ,"metadata":{"labels":{"dapr.io/sidecar-injected":"true"}}}"#
        );
    }
}

//! Applies the injection to the Pod's raw JSON. Only additions, only where Dapr's `GetPatch`
//! adds; everything else in the object, known to k8s-openapi or not, is left as it came.

use k8s_openapi::api::core::v1::{Container, EnvVar, VolumeMount};
use serde_json::{Map, Value};

use crate::pod::PodView;
use crate::raw_pod::{Layout, Span};

pub const LABEL_SIDECAR_INJECTED: &str = "dapr.io/sidecar-injected";
pub const LABEL_APP_ID: &str = "dapr.io/app-id";
pub const LABEL_METRICS_ENABLED: &str = "dapr.io/metrics-enabled";

/// JSON text of a k8s-openapi object or a `Value`. Their serialisers cannot fail, so an error
/// (never seen) yields `null` rather than a panic.
pub fn to_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// One object injection adds to a list of the Pod, serialised once: the splice copies the
/// text, and only the `Value` path parses it. `name` and `mount_path` are the keys Dapr skips
/// duplicates on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    pub mount_path: Option<String>,
    pub json: String,
}

impl Item {
    pub fn new<T: serde::Serialize>(name: &str, object: &T) -> Item {
        Item {
            name: name.to_owned(),
            mount_path: None,
            json: to_text(object),
        }
    }

    pub fn env(var: &EnvVar) -> Item {
        Item::new(&var.name, var)
    }

    pub fn mount(mount: &VolumeMount) -> Item {
        Item {
            mount_path: Some(mount.mount_path.clone()),
            ..Item::new(&mount.name, mount)
        }
    }

    pub fn container(container: &Container) -> Item {
        Item::new(&container.name, container)
    }

    /// An object that is JSON already (a Component's container).
    pub fn of_value(object: &Value) -> Item {
        let text = |key| object.get(key).and_then(Value::as_str).map(str::to_owned);
        Item {
            name: text("name").unwrap_or_default(),
            mount_path: text("mountPath"),
            json: to_text(object),
        }
    }

    pub fn value(&self) -> Result<Value, String> {
        serde_json::from_slice(self.json.as_bytes())
            .map_err(|e| format!("an addition is not valid JSON: {e}"))
    }
}

/// What the pluggable components add.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentAdditions {
    pub shared_volume: Item,
    pub shared_mount: Item,
    pub env: Item,
    /// Indexes of the Pod's containers named in `dapr.io/pluggable-components`.
    pub declared: Vec<usize>,
    /// Containers from Component resources, already carrying the env and the shared mount.
    pub injected: Vec<Item>,
    /// emptyDir volumes for the injected containers' mounts of volumes the Pod lacks.
    pub injected_volumes: Vec<Item>,
}

/// Everything injection adds to one Pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Additions {
    /// Pod volumes, in order; one whose name exists already is skipped.
    pub volumes: Vec<Item>,
    pub sidecar: Item,
    pub native_sidecar: bool,
    pub labels: Vec<(&'static str, String)>,
    /// Indexes of the app containers, and what each receives.
    pub app_containers: Vec<usize>,
    pub app_env: Vec<Item>,
    pub app_mounts: Vec<Item>,
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

fn holds(list: &[Value], key: &str, wanted: Option<&str>) -> bool {
    wanted.is_some_and(|wanted| {
        list.iter()
            .any(|item| item.get(key).and_then(Value::as_str) == Some(wanted))
    })
}

/// Appends each item whose `name` is new (Dapr's env and volume rule).
fn append_new_names(list: &mut Vec<Value>, items: &[Item]) -> Result<(), String> {
    for item in items {
        if !holds(list, "name", Some(&item.name)) {
            list.push(item.value()?);
        }
    }
    Ok(())
}

/// Appends each mount whose name and path are both new (Dapr's `GetVolumeMountPatchOperations`).
fn append_new_mounts(list: &mut Vec<Value>, mounts: &[Item]) -> Result<(), String> {
    for m in mounts {
        if !holds(list, "name", Some(&m.name)) && !holds(list, "mountPath", m.mount_path.as_deref())
        {
            list.push(m.value()?);
        }
    }
    Ok(())
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
        append_new_names(list_mut(spec, "volumes")?, &add.volumes)?;
    }
    {
        let containers = list_mut(spec, "containers")?;
        for &i in &add.app_containers {
            let container = container_mut(containers, i)?;
            append_new_names(list_mut(container, "env")?, &add.app_env)?;
            if !add.app_mounts.is_empty() {
                append_new_mounts(list_mut(container, "volumeMounts")?, &add.app_mounts)?;
            }
        }
    }
    let sidecar = add.sidecar.value()?;
    if add.native_sidecar {
        list_mut(spec, "initContainers")?.push(sidecar);
    } else {
        list_mut(spec, "containers")?.push(sidecar);
    }
    if let Some(components) = add.components {
        // Appended, never replacing the list: Dapr's `add /spec/volumes [...]` here would drop
        // the token volume of a Pod that had no volumes.
        append_new_names(
            list_mut(spec, "volumes")?,
            std::slice::from_ref(&components.shared_volume),
        )?;
        append_new_names(list_mut(spec, "volumes")?, &components.injected_volumes)?;
        let containers = list_mut(spec, "containers")?;
        for &i in &components.declared {
            let container = container_mut(containers, i)?;
            append_new_names(
                list_mut(container, "env")?,
                std::slice::from_ref(&components.env),
            )?;
            append_new_mounts(
                list_mut(container, "volumeMounts")?,
                std::slice::from_ref(&components.shared_mount),
            )?;
        }
        for container in &components.injected {
            containers.push(container.value()?);
        }
    }
    Ok(())
}

/// What one list of the Pod receives. `held` are the names (or mount paths) the Pod's list
/// has; with those added so far, they decide what the splice skips, as [`apply`] does.
struct ListAdditions<'a> {
    touched: bool,
    held_names: &'a [String],
    held_paths: &'a [String],
    items: Vec<&'a Item>,
}

impl<'a> ListAdditions<'a> {
    fn holding(held_names: &'a [String], held_paths: &'a [String]) -> Self {
        ListAdditions {
            touched: false,
            held_names,
            held_paths,
            items: Vec::new(),
        }
    }

    fn has_name(&self, name: &str) -> bool {
        self.held_names.iter().any(|n| n == name) || self.items.iter().any(|i| i.name == name)
    }

    fn has_path(&self, path: &str) -> bool {
        self.held_paths.iter().any(|p| p == path)
            || self
                .items
                .iter()
                .any(|i| i.mount_path.as_deref() == Some(path))
    }

    fn push(&mut self, item: &'a Item) {
        self.touched = true;
        self.items.push(item);
    }

    /// [`append_new_names`].
    fn add_new_names(&mut self, items: &'a [Item]) {
        self.touched = true;
        for item in items {
            if !self.has_name(&item.name) {
                self.items.push(item);
            }
        }
    }

    /// [`append_new_mounts`].
    fn add_new_mounts(&mut self, mounts: &'a [Item]) {
        self.touched = true;
        for m in mounts {
            let path_held = m.mount_path.as_deref().is_some_and(|p| self.has_path(p));
            if !self.has_name(&m.name) && !path_held {
                self.items.push(m);
            }
        }
    }

    fn write_items(&self, out: &mut String) {
        for (n, item) in self.items.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&item.json);
        }
    }
}

/// Text inserted at an offset of the Pod's JSON, or replacing `start..end`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Members for an object of the Pod, written before its closing brace.
struct Members {
    object: Span,
    text: String,
}

impl Members {
    fn of(object: Span) -> Self {
        Members {
            object,
            text: String::new(),
        }
    }

    fn key(&mut self, key: &str) {
        if !self.object.empty || !self.text.is_empty() {
            self.text.push(',');
        }
        self.text.push_str(&to_text(key));
        self.text.push(':');
    }

    fn into_edit(self) -> Option<Edit> {
        (!self.text.is_empty()).then_some(Edit {
            start: self.object.close,
            end: self.object.close,
            text: self.text,
        })
    }
}

/// Appends a list's additions, or makes the list a member of its parent.
fn add_list(
    edits: &mut Vec<Edit>,
    parent: &mut Members,
    key: &str,
    list: Option<Span>,
    additions: &ListAdditions,
) {
    if !additions.touched {
        return;
    }
    match list {
        Some(_) if additions.items.is_empty() => {}
        Some(list) => {
            let mut text = String::new();
            if !list.empty {
                text.push(',');
            }
            additions.write_items(&mut text);
            edits.push(Edit {
                start: list.close,
                end: list.close,
                text,
            });
        }
        None => {
            parent.key(key);
            parent.text.push('[');
            additions.write_items(&mut parent.text);
            parent.text.push(']');
        }
    }
}

/// The labels: appended to the Pod's own, or the whole map rewritten when one of the keys is
/// taken (a second key of the same name would not overwrite it).
fn add_labels(edits: &mut Vec<Edit>, layout: &Layout, view: &PodView, labels: &[(&str, String)]) {
    let taken = labels.iter().any(|(key, _)| view.labels.contains_key(*key));
    match (layout.labels, layout.metadata) {
        (Some(span), _) if taken => {
            let mut merged = view.labels.clone();
            for (key, value) in labels {
                merged.insert((*key).to_owned(), Value::String(value.clone()));
            }
            edits.push(Edit {
                start: span.open,
                end: span.close.saturating_add(1),
                text: to_text(&merged),
            });
        }
        (Some(span), _) => {
            let mut members = Members::of(span);
            for (key, value) in labels {
                members.key(key);
                members.text.push_str(&to_text(value));
            }
            edits.extend(members.into_edit());
        }
        (None, metadata) => {
            let map: Map<String, Value> = labels
                .iter()
                .map(|(key, value)| ((*key).to_owned(), Value::String(value.clone())))
                .collect();
            let (object, text) = match metadata {
                Some(metadata) => (metadata, to_text(&map)),
                None => (layout.root, format!("{{\"labels\":{}}}", to_text(&map))),
            };
            let mut members = Members::of(object);
            members.key(if metadata.is_some() {
                "labels"
            } else {
                "metadata"
            });
            members.text.push_str(&text);
            edits.extend(members.into_edit());
        }
    }
}

/// [`apply`] on the Pod's text: the same additions, spliced in where the layout points. The
/// result parses to the `Value` that [`apply`] makes of the same Pod.
pub fn splice(text: &str, layout: &Layout, view: &PodView, add: Additions) -> String {
    let mut edits = Vec::new();
    if !add.labels.is_empty() {
        add_labels(&mut edits, layout, view, &add.labels);
    }

    let none: &[String] = &[];
    let mut volumes = ListAdditions::holding(&view.volume_names, none);
    if !add.volumes.is_empty() {
        volumes.add_new_names(&add.volumes);
    }
    let mut containers = ListAdditions::holding(none, none);
    let mut init_containers = ListAdditions::holding(none, none);
    containers.touched = true;
    let mut env: Vec<ListAdditions> = view
        .containers
        .iter()
        .map(|c| ListAdditions::holding(&c.env_names, none))
        .collect();
    let mut mounts: Vec<ListAdditions> = view
        .containers
        .iter()
        .map(|c| ListAdditions::holding(&c.mount_names, &c.mount_paths))
        .collect();
    for &i in &add.app_containers {
        if let Some(env) = env.get_mut(i) {
            env.add_new_names(&add.app_env);
        }
        if let Some(mounts) = mounts.get_mut(i).filter(|_| !add.app_mounts.is_empty()) {
            mounts.add_new_mounts(&add.app_mounts);
        }
    }
    if add.native_sidecar {
        init_containers.push(&add.sidecar);
    } else {
        containers.push(&add.sidecar);
    }
    if let Some(components) = &add.components {
        volumes.add_new_names(std::slice::from_ref(&components.shared_volume));
        volumes.add_new_names(&components.injected_volumes);
        for &i in &components.declared {
            if let Some(env) = env.get_mut(i) {
                env.add_new_names(std::slice::from_ref(&components.env));
            }
            if let Some(mounts) = mounts.get_mut(i) {
                mounts.add_new_mounts(std::slice::from_ref(&components.shared_mount));
            }
        }
        for container in &components.injected {
            containers.push(container);
        }
    }

    for ((container, env), mounts) in layout.container.iter().zip(&env).zip(&mounts) {
        let mut members = Members::of(container.object);
        add_list(&mut edits, &mut members, "env", container.env, env);
        let mounts_span = container.volume_mounts;
        add_list(
            &mut edits,
            &mut members,
            "volumeMounts",
            mounts_span,
            mounts,
        );
        edits.extend(members.into_edit());
    }
    let mut members = Members::of(layout.spec);
    add_list(
        &mut edits,
        &mut members,
        "volumes",
        layout.volumes,
        &volumes,
    );
    let containers_span = layout.containers;
    add_list(
        &mut edits,
        &mut members,
        "containers",
        containers_span,
        &containers,
    );
    let init_span = layout.init_containers;
    add_list(
        &mut edits,
        &mut members,
        "initContainers",
        init_span,
        &init_containers,
    );
    edits.extend(members.into_edit());

    // A handful of edits: an insertion sort, as std's sorts add about 4 KB to the module.
    for n in 1..edits.len() {
        let mut k = n;
        while k > 0
            && edits.get(k.saturating_sub(1)).map(|e| e.start) > edits.get(k).map(|e| e.start)
        {
            edits.swap(k.saturating_sub(1), k);
            k = k.saturating_sub(1);
        }
    }
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(text.len().saturating_add(extra));
    let mut from = 0;
    for edit in edits {
        out.push_str(text.get(from..edit.start).unwrap_or_default());
        out.push_str(&edit.text);
        from = edit.end;
    }
    out.push_str(text.get(from..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw_pod::RawPod;
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
        let mut value = pod.clone();
        apply(&mut value, add.clone()).unwrap();
        for text in [pod.to_string(), serde_json::to_string_pretty(&pod).unwrap()] {
            let raw =
                RawPod::scan(&text, crate::raw_pod::Needs::ALL).expect("the splice reads this Pod");
            let spliced = splice(raw.text, &raw.layout, &raw.view, add.clone());
            let spliced: Value =
                serde_json::from_str(&spliced).unwrap_or_else(|e| panic!("{e}: {spliced}"));
            assert_eq!(spliced, value, "the splice of {text}");
        }
        value
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
        let mut list = vec![json!({"name": "x", "mountPath": "/a"})];
        append_new_mounts(
            &mut list,
            &[
                item(json!({"name": "y", "mountPath": "/a"})),
                item(json!({"name": "x", "mountPath": "/b"})),
                item(json!({"name": "z", "mountPath": "/z"})),
            ],
        )
        .unwrap();
        assert_eq!(
            list,
            vec![
                json!({"name": "x", "mountPath": "/a"}),
                json!({"name": "z", "mountPath": "/z"})
            ]
        );
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
        let raw = RawPod::scan(text, crate::raw_pod::Needs::ALL).unwrap();
        let spliced = splice(raw.text, &raw.layout, &raw.view, additions());
        assert_eq!(
            spliced,
            r#"{ "kind" : "Pod", "spec":{"containers":[{"name":"app","args":["]","}"],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"daprd"}], "x":{"y":[1,2.50]},"volumes":[{"name":"tok"}]}, "status":{} ,"metadata":{"labels":{"dapr.io/sidecar-injected":"true"}}}"#
        );
    }
}

//! What injection adds to one Pod, as the builders plan it and the Pod's writers apply it.
//! Dapr's add-if-absent rules are applied here, once, against the names the Pod's lists hold:
//! the two writers (the text splice and the `Value` path) append exactly what [`Edits`] says.

use k8s_openapi::api::core::v1::{Container, EmptyDirVolumeSource, EnvVar, VolumeMount};
use serde_json::Value;

use crate::base::json::to_text;
use crate::base::problem::Problem;

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

    /// A Pod volume: `{name, <source key>: <source>}`. Serialising k8s-openapi's `Volume`
    /// would compile in every volume source, down to `ObjectMeta` and a date library (about
    /// 150 KB of the module's size budget), so the source is built typed and named here.
    pub fn volume<T: serde::Serialize>(name: &str, source_key: &str, source: &T) -> Item {
        Item {
            name: name.to_owned(),
            mount_path: None,
            json: format!(
                "{{\"name\":{},{}:{}}}",
                to_text(name),
                to_text(source_key),
                to_text(source)
            ),
        }
    }

    /// An emptyDir volume, in memory when `medium` says so.
    pub fn empty_dir(name: &str, medium: Option<&str>) -> Item {
        let source = EmptyDirVolumeSource {
            medium: medium.map(str::to_owned),
            ..Default::default()
        };
        Item::volume(name, "emptyDir", &source)
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

    /// The item parsed. Parsing our own serialisation back cannot fail; if it ever did, the
    /// error is reported, not unwrapped.
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

/// A planned injection: the additions, what the audit annotations and the log record, and
/// the problems met on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub additions: Additions,
    pub app_id: String,
    pub image: String,
    pub problems: Vec<Problem>,
    pub log_notes: Vec<String>,
    /// The annotations taken from the Namespace (`namespaceDefaults`), comma-separated.
    pub inherited: String,
}

/// The names (and, for mounts, paths) one list of the Pod holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Held<'a> {
    pub names: &'a [String],
    pub paths: &'a [String],
}

/// What the Pod's lists hold: its volumes, and each container's env and mounts.
#[derive(Debug, Clone, Default)]
pub struct PodLists<'a> {
    pub volumes: Held<'a>,
    pub env: Vec<Held<'a>>,
    pub mounts: Vec<Held<'a>>,
}

/// What one list of the Pod receives. A touched list the Pod lacks is created, even empty.
#[derive(Debug, Clone, Default)]
pub struct ListEdit<'a> {
    pub touched: bool,
    pub items: Vec<&'a Item>,
    held: Held<'a>,
}

impl<'a> ListEdit<'a> {
    fn holding(held: Held<'a>) -> Self {
        ListEdit {
            touched: false,
            items: Vec::new(),
            held,
        }
    }

    fn has_name(&self, name: &str) -> bool {
        self.held.names.iter().any(|n| n == name) || self.items.iter().any(|i| i.name == name)
    }

    fn has_path(&self, path: &str) -> bool {
        self.held.paths.iter().any(|p| p == path)
            || self
                .items
                .iter()
                .any(|i| i.mount_path.as_deref() == Some(path))
    }

    fn push(&mut self, item: &'a Item) {
        self.touched = true;
        self.items.push(item);
    }

    /// Dapr's rule for env vars and volumes: an item whose name is held is skipped.
    fn add_new_names(&mut self, items: &'a [Item]) {
        self.touched = true;
        for item in items {
            if !self.has_name(&item.name) {
                self.items.push(item);
            }
        }
    }

    /// Dapr's rule for mounts (`GetVolumeMountPatchOperations`): skipped when its name or its
    /// path is held.
    fn add_new_mounts(&mut self, mounts: &'a [Item]) {
        self.touched = true;
        for m in mounts {
            let path_held = m.mount_path.as_deref().is_some_and(|p| self.has_path(p));
            if !self.has_name(&m.name) && !path_held {
                self.items.push(m);
            }
        }
    }
}

/// Every list edit of one injection, container lists indexed as the Pod's containers.
#[derive(Debug, Clone)]
pub struct Edits<'a> {
    pub labels: &'a [(&'static str, String)],
    pub volumes: ListEdit<'a>,
    pub containers: ListEdit<'a>,
    pub init_containers: ListEdit<'a>,
    pub env: Vec<ListEdit<'a>>,
    pub mounts: Vec<ListEdit<'a>>,
}

impl Additions {
    /// The additions against what the Pod holds, in Dapr's patch order.
    pub fn edits<'a>(&'a self, pod: &PodLists<'a>) -> Edits<'a> {
        let mut edits = Edits {
            labels: &self.labels,
            volumes: ListEdit::holding(pod.volumes),
            containers: ListEdit::holding(Held::default()),
            init_containers: ListEdit::holding(Held::default()),
            env: pod.env.iter().copied().map(ListEdit::holding).collect(),
            mounts: pod.mounts.iter().copied().map(ListEdit::holding).collect(),
        };
        // The app containers' own list is always read, so always present afterwards.
        edits.containers.touched = true;
        if !self.volumes.is_empty() {
            edits.volumes.add_new_names(&self.volumes);
        }
        for &i in &self.app_containers {
            if let Some(env) = edits.env.get_mut(i) {
                env.add_new_names(&self.app_env);
            }
            if let Some(mounts) = edits
                .mounts
                .get_mut(i)
                .filter(|_| !self.app_mounts.is_empty())
            {
                mounts.add_new_mounts(&self.app_mounts);
            }
        }
        if self.native_sidecar {
            edits.init_containers.push(&self.sidecar);
        } else {
            edits.containers.push(&self.sidecar);
        }
        if let Some(components) = &self.components {
            components.edit(&mut edits);
        }
        edits
    }
}

impl ComponentAdditions {
    /// Appended to the volumes, never replacing the list: Dapr's `add /spec/volumes [...]`
    /// here would drop the token volume of a Pod that had no volumes.
    fn edit<'a>(&'a self, edits: &mut Edits<'a>) {
        edits
            .volumes
            .add_new_names(std::slice::from_ref(&self.shared_volume));
        edits.volumes.add_new_names(&self.injected_volumes);
        for &i in &self.declared {
            if let Some(env) = edits.env.get_mut(i) {
                env.add_new_names(std::slice::from_ref(&self.env));
            }
            if let Some(mounts) = edits.mounts.get_mut(i) {
                mounts.add_new_mounts(std::slice::from_ref(&self.shared_mount));
            }
        }
        for container in &self.injected {
            edits.containers.push(container);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(object: Value) -> Item {
        Item::of_value(&object)
    }

    #[test]
    fn a_mount_is_skipped_when_its_name_or_path_exists() {
        let additions = Additions {
            volumes: vec![],
            sidecar: item(json!({"name": "daprd"})),
            native_sidecar: false,
            labels: vec![],
            app_containers: vec![0],
            app_env: vec![],
            app_mounts: vec![
                item(json!({"name": "y", "mountPath": "/a"})),
                item(json!({"name": "x", "mountPath": "/b"})),
                item(json!({"name": "z", "mountPath": "/z"})),
            ],
            components: None,
        };
        let (names, paths) = (vec!["x".to_owned()], vec!["/a".to_owned()]);
        let held = Held {
            names: &names,
            paths: &paths,
        };
        let lists = PodLists {
            volumes: Held::default(),
            env: vec![Held::default()],
            mounts: vec![held],
        };
        let edits = additions.edits(&lists);
        let added: Vec<Value> = edits.mounts[0]
            .items
            .iter()
            .map(|i| i.value().unwrap())
            .collect();
        assert_eq!(added, vec![json!({"name": "z", "mountPath": "/z"})]);
    }
}

//! The Namespaces `dapr-inject` knows offline: from `--namespace-annotations FILE` and from the
//! Namespace documents of its input (`kubectl get namespaces,pods -A -o json`). They answer the
//! policy's one Namespace lookup under `namespaceDefaults`; every other lookup fails, offline.

use std::collections::BTreeMap;

use dapr_sidecar_injector::{Cluster, NAMESPACE_KIND, Offline};
use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    GetResourceRequest, ListResourcesByNamespaceRequest,
};
use serde_json::Value;

/// `kubectl get -o json` wraps what it lists in a `List`.
const LIST_KIND_SUFFIX: &str = "List";

#[derive(Debug, Default)]
pub struct Namespaces {
    by_name: BTreeMap<String, Value>,
}

impl Namespaces {
    /// Keeps `object` if it is a Namespace, or the Namespaces of a list.
    pub fn add(&mut self, object: &Value) {
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if kind.ends_with(LIST_KIND_SUFFIX) {
            for item in object
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.add(item);
            }
        } else if kind == NAMESPACE_KIND
            && let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str)
        {
            self.by_name.insert(name.to_owned(), object.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl Cluster for Namespaces {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String> {
        if request.kind != NAMESPACE_KIND {
            return Offline.get_resource(request);
        }
        self.by_name.get(&request.name).cloned().ok_or_else(|| {
            format!(
                "no Namespace {} given (--namespace-annotations FILE, or a Namespace document in the input)",
                request.name
            )
        })
    }

    fn list_resources_by_namespace(
        &self,
        request: &ListResourcesByNamespaceRequest,
    ) -> Result<Vec<Value>, String> {
        Offline.list_resources_by_namespace(request)
    }
}

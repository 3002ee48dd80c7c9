//! The one test double of the cluster: every answer given, every lookup recorded.

use std::cell::RefCell;

use dapr_sidecar_injector::{CONFIG_MAP_KIND, CONFIGURATION_KIND, Cluster, SECRET_KIND};
use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    GetResourceRequest, ListResourcesByNamespaceRequest,
};
use serde_json::{Value, json};

/// A cluster whose every answer is given, which records each lookup. By default: no
/// `daprsystem` Configuration (mTLS on), a trust bundle, no Secret, and no Components.
#[derive(Debug, Clone)]
pub struct Canned {
    pub configuration: Result<Value, String>,
    pub trust_bundle: Result<Value, String>,
    /// Dapr 0.11's Secret `dapr-trust-bundle`.
    pub secret: Result<Value, String>,
    pub components: Result<Vec<Value>, String>,
    /// The requests made, in order.
    pub recorded: Recorded,
}

/// The requests a [`Canned`] cluster received.
#[derive(Debug, Clone, Default)]
pub struct Recorded(RefCell<Vec<Value>>);

/// The trust anchors [`Canned`] serves.
pub const CANNED_TRUST_ANCHORS: &str =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

impl Default for Canned {
    fn default() -> Self {
        Canned {
            configuration: Err("configurations.dapr.io \"daprsystem\" not found".to_owned()),
            trust_bundle: Ok(json!({"apiVersion": "v1", "kind": "ConfigMap",
                                    "data": {"ca.crt": CANNED_TRUST_ANCHORS}})),
            secret: Err("secrets \"dapr-trust-bundle\" not found".to_owned()),
            components: Ok(Vec::new()),
            recorded: Recorded::default(),
        }
    }
}

impl Canned {
    /// The lookups made so far, in order, as `Kind/name` (`Kind/*` for a list).
    pub fn calls(&self) -> Vec<String> {
        self.recorded
            .0
            .borrow()
            .iter()
            .map(|r| {
                let field = |key: &str| r.get(key).and_then(Value::as_str).map(str::to_owned);
                format!(
                    "{}/{}",
                    field("kind").unwrap_or_default(),
                    field("name").unwrap_or_else(|| "*".to_owned())
                )
            })
            .collect()
    }

    /// The requests made so far, whole, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.recorded.0.borrow().clone()
    }

    fn record<T: serde::Serialize>(&self, request: &T) {
        let request = serde_json::to_value(request).unwrap_or_default();
        self.recorded.0.borrow_mut().push(request);
    }
}

impl Cluster for Canned {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String> {
        self.record(request);
        match request.kind.as_str() {
            CONFIGURATION_KIND => self.configuration.clone(),
            CONFIG_MAP_KIND => self.trust_bundle.clone(),
            SECRET_KIND => self.secret.clone(),
            other => Err(format!("unexpected kind {other}")),
        }
    }

    fn list_resources_by_namespace(
        &self,
        request: &ListResourcesByNamespaceRequest,
    ) -> Result<Vec<Value>, String> {
        self.record(request);
        self.components.clone()
    }
}

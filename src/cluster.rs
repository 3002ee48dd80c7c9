//! The only place that talks to the cluster: the Kubewarden host capabilities, behind one
//! small trait. Interpreting the answers is pure and lives here too, next to the requests it
//! belongs to. [`Offline`] is the command line's cluster; the test double lives in the
//! `testing` crate.

use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    GetResourceRequest, ListResourcesByNamespaceRequest,
};
use serde_json::Value;

use crate::base::go::{is_falsy_strict, is_truthy};
use crate::base::json::to_text;
use crate::base::problem::Reason;

pub const DAPR_API_VERSION: &str = "dapr.io/v1alpha1";
pub const CONFIGURATION_KIND: &str = "Configuration";
pub const DAPR_SYSTEM_CONFIGURATION: &str = "daprsystem";
pub const CONFIG_MAP_API_VERSION: &str = "v1";
pub const CONFIG_MAP_KIND: &str = "ConfigMap";
pub const TRUST_BUNDLE_NAME: &str = "dapr-trust-bundle";
pub const TRUST_ANCHORS_KEY: &str = "ca.crt";
pub const COMPONENT_KIND: &str = "Component";
pub const SECRET_API_VERSION: &str = "v1";
pub const SECRET_KIND: &str = "Secret";
pub const ISSUER_CERT_KEY: &str = "issuer.crt";
pub const ISSUER_KEY_KEY: &str = "issuer.key";
/// What a Component list keeps: pluggable-component injection reads nothing else.
pub const COMPONENT_FIELD_MASKS: &[&str] = &["metadata.annotations", "metadata.name", "scopes"];

/// Reads cluster state. Every method is one host call.
pub trait Cluster {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String>;
    fn list_resources_by_namespace(
        &self,
        request: &ListResourcesByNamespaceRequest,
    ) -> Result<Vec<Value>, String>;
}

/// The PolicyServer's host capabilities.
pub struct HostCluster;

/// Where a host error's text ends: a host running with `RUST_BACKTRACE` appends its stack
/// backtrace, which must not reach the rejection message `kubectl` shows.
const HOST_BACKTRACE_MARKER: &str = "\n\nStack backtrace:";

/// The host's error text without a backtrace.
pub fn host_error(message: &str) -> String {
    message
        .split(HOST_BACKTRACE_MARKER)
        .next()
        .unwrap_or_default()
        .to_owned()
}

impl Cluster for HostCluster {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String> {
        kubewarden_policy_sdk::host_capabilities::kubernetes::get_resource::<Value>(request)
            .map_err(|e| host_error(&e.to_string()))
    }

    fn list_resources_by_namespace(
        &self,
        request: &ListResourcesByNamespaceRequest,
    ) -> Result<Vec<Value>, String> {
        // The SDK's typed helper needs a k8s-openapi type; Component has none, so the call is
        // made with the SDK's own request type and the list read as JSON.
        let payload = serde_json::to_vec(request).map_err(|e| e.to_string())?;
        let raw = kubewarden_policy_sdk::wapc_guest::host_call(
            "kubewarden",
            "kubernetes",
            "list_resources_by_namespace",
            &payload,
        )
        .map_err(|e| {
            let e = host_error(&e.to_string());
            format!("error invoking host capability kubernetes.list_resources_by_namespace: {e}")
        })?;
        let list: Value = serde_json::from_slice(&raw)
            .map_err(|e| format!("the Component list is not JSON: {e}"))?;
        match list.get("items") {
            Some(Value::Array(items)) => Ok(items.clone()),
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(_) => Err("the Component list has no items list".to_owned()),
        }
    }
}

/// A cluster that cannot be reached (the `dapr-inject` command line).
pub struct Offline;

impl Cluster for Offline {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String> {
        Err(format!(
            "no cluster to read {} {} from (offline)",
            request.kind, request.name
        ))
    }

    fn list_resources_by_namespace(
        &self,
        request: &ListResourcesByNamespaceRequest,
    ) -> Result<Vec<Value>, String> {
        Err(format!(
            "no cluster to list {} resources from (offline)",
            request.kind
        ))
    }
}

pub fn configuration_request(control_plane_namespace: &str) -> GetResourceRequest {
    GetResourceRequest {
        api_version: DAPR_API_VERSION.to_owned(),
        kind: CONFIGURATION_KIND.to_owned(),
        name: DAPR_SYSTEM_CONFIGURATION.to_owned(),
        namespace: Some(control_plane_namespace.to_owned()),
        disable_cache: false,
        field_masks: None,
    }
}

pub fn trust_bundle_request(control_plane_namespace: &str) -> GetResourceRequest {
    GetResourceRequest {
        api_version: CONFIG_MAP_API_VERSION.to_owned(),
        kind: CONFIG_MAP_KIND.to_owned(),
        name: TRUST_BUNDLE_NAME.to_owned(),
        namespace: Some(control_plane_namespace.to_owned()),
        disable_cache: false,
        field_masks: None,
    }
}

pub const NAMESPACE_API_VERSION: &str = "v1";
pub const NAMESPACE_KIND: &str = "Namespace";

/// The Pod's Namespace, for `namespaceDefaults`.
pub fn namespace_request(name: &str) -> GetResourceRequest {
    GetResourceRequest {
        api_version: NAMESPACE_API_VERSION.to_owned(),
        kind: NAMESPACE_KIND.to_owned(),
        name: name.to_owned(),
        namespace: None,
        disable_cache: false,
        field_masks: None,
    }
}

/// Dapr 0.11's certificates: Secret `dapr-trust-bundle` in the control-plane namespace.
pub fn trust_bundle_secret_request(control_plane_namespace: &str) -> GetResourceRequest {
    GetResourceRequest {
        api_version: SECRET_API_VERSION.to_owned(),
        kind: SECRET_KIND.to_owned(),
        name: TRUST_BUNDLE_NAME.to_owned(),
        namespace: Some(control_plane_namespace.to_owned()),
        disable_cache: false,
        field_masks: None,
    }
}

/// The trust anchors, certificate chain and key of Secret `dapr-trust-bundle`, as Dapr 0.11
/// read them: a failed read or a missing key gives an empty value. Never logs the data.
pub fn trust_bundle_secret(lookup: Result<Value, String>) -> Result<[String; 3], String> {
    let secret = lookup?;
    let field = |key: &str| {
        secret
            .pointer("/data")
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .and_then(decode_base64)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
    };
    Ok([
        field(TRUST_ANCHORS_KEY),
        field(ISSUER_CERT_KEY),
        field(ISSUER_KEY_KEY),
    ])
}

/// Standard base64 with padding, as Kubernetes encodes Secret data. Hand-written: the
/// `base64` crate costs more of the module's size budget than these lines.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = text.trim_end_matches('=');
    let padding = text.len().checked_sub(data.len())?;
    if !text.len().is_multiple_of(4) || padding > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len());
    for chunk in data.as_bytes().chunks(4) {
        let mut acc: u32 = 0;
        for &c in chunk {
            let sextet = u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?;
            acc = acc.checked_shl(6)? | sextet;
        }
        let missing = u32::try_from(4usize.checked_sub(chunk.len())?).ok()?;
        acc = acc.checked_shl(missing.checked_mul(6)?)?;
        let [_, x, y, z] = acc.to_be_bytes();
        out.extend_from_slice([x, y, z].get(..chunk.len().checked_sub(1)?)?);
    }
    Some(out)
}

pub fn components_request(namespace: &str) -> ListResourcesByNamespaceRequest {
    ListResourcesByNamespaceRequest {
        api_version: DAPR_API_VERSION.to_owned(),
        kind: COMPONENT_KIND.to_owned(),
        namespace: namespace.to_owned(),
        label_selector: None,
        field_selector: None,
        field_masks: Some(
            // Inserted one by one: collecting into a BTreeSet sorts, and the sort costs 5 KB
            // of the module size budget.
            {
                let mut masks = std::collections::BTreeSet::new();
                for mask in COMPONENT_FIELD_MASKS {
                    masks.insert((*mask).to_owned());
                }
                masks
            },
        ),
    }
}

/// `spec.mtls.enabled` of Configuration `daprsystem`, defaulting to true as Dapr does, plus a
/// note for the log when the answer could not be used. A string is accepted: the seed shows
/// `enabled: "false"` breaking Dapr's own parser.
pub fn mtls_enabled(lookup: Result<Value, String>) -> (bool, Option<String>) {
    let configuration = match lookup {
        Ok(c) => c,
        Err(e) => {
            return (
                true,
                Some(format!(
                    "Configuration {DAPR_SYSTEM_CONFIGURATION} not read, mTLS on: {e}"
                )),
            );
        }
    };
    match configuration.pointer("/spec/mtls") {
        None | Some(Value::Null) => return (true, None),
        Some(Value::Object(_)) => {}
        Some(_) => {
            return (
                true,
                Some(format!(
                    "Configuration {DAPR_SYSTEM_CONFIGURATION}: spec.mtls is not an object, mTLS on"
                )),
            );
        }
    }
    match configuration.pointer("/spec/mtls/enabled") {
        None | Some(Value::Null) => (true, None),
        Some(Value::Bool(b)) => (*b, None),
        Some(Value::String(s)) if is_truthy(s) => (true, None),
        Some(Value::String(s)) if is_falsy_strict(s) => (false, None),
        Some(other) => (
            true,
            Some(format!(
                "Configuration {DAPR_SYSTEM_CONFIGURATION}: spec.mtls.enabled {} is not a boolean, mTLS on",
                // Our writer, not Value's Display: that is a second serializer, 5 KB.
                to_text(other)
            )),
        ),
    }
}

/// The PEM in `ca.crt` of ConfigMap `dapr-trust-bundle`, or why the Pod cannot be injected.
/// The reason never holds the ConfigMap's data.
pub fn trust_anchors(
    lookup: Result<Value, String>,
    control_plane_namespace: &str,
) -> Result<String, Reason> {
    let reason = |lookup_error| Reason::TrustAnchors {
        config_map: TRUST_BUNDLE_NAME,
        key: TRUST_ANCHORS_KEY,
        namespace: control_plane_namespace.to_owned(),
        lookup_error,
    };
    let config_map = lookup.map_err(|e| reason(Some(e)))?;
    match config_map.pointer("/data/ca.crt") {
        Some(Value::String(pem)) if !pem.trim().is_empty() => Ok(pem.clone()),
        _ => Err(reason(None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_host_backtrace_is_cut_from_host_errors() {
        assert_eq!(
            host_error(
                "Callback evaluation failure: Cannot find v1/ConfigMap\n\nStack backtrace:\n   0: anyhow::error"
            ),
            "Callback evaluation failure: Cannot find v1/ConfigMap"
        );
        assert_eq!(host_error("forbidden"), "forbidden");
    }

    #[test]
    fn base64_decodes_as_kubernetes_encodes_secret_data() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("aGVsbG8"), None);
        assert_eq!(decode_base64("a===").map(|_| ()), None);
        assert_eq!(decode_base64("aG!s"), None);
    }

    #[test]
    fn the_trust_bundle_secret_gives_empty_values_for_missing_keys() {
        let secret = json!({"data": {"ca.crt": "Q0E=", "issuer.crt": "Q0VSVA=="}});
        assert_eq!(
            trust_bundle_secret(Ok(secret)).unwrap(),
            ["CA".to_owned(), "CERT".to_owned(), String::new()]
        );
        assert!(trust_bundle_secret(Err("forbidden".to_owned())).is_err());
    }

    #[test]
    fn mtls_defaults_to_on_when_the_configuration_is_missing_or_silent() {
        assert!(mtls_enabled(Err("not found".to_owned())).0);
        assert_eq!(mtls_enabled(Ok(json!({"spec": {}}))), (true, None));
        assert_eq!(
            mtls_enabled(Ok(json!({"spec": {"mtls": {}}}))),
            (true, None)
        );
    }

    #[test]
    fn mtls_enabled_may_be_a_boolean_or_a_string() {
        assert!(!mtls_enabled(Ok(json!({"spec": {"mtls": {"enabled": false}}}))).0);
        assert!(!mtls_enabled(Ok(json!({"spec": {"mtls": {"enabled": "false"}}}))).0);
        assert!(!mtls_enabled(Ok(json!({"spec": {"mtls": {"enabled": " False "}}}))).0);
        assert!(mtls_enabled(Ok(json!({"spec": {"mtls": {"enabled": "true"}}}))).0);
    }

    #[test]
    fn an_unusable_mtls_value_keeps_mtls_on_and_says_why() {
        let (on, note) = mtls_enabled(Ok(json!({"spec": {"mtls": "off"}})));
        assert!(on);
        assert_eq!(
            note.unwrap(),
            "Configuration daprsystem: spec.mtls is not an object, mTLS on"
        );
        let (on, note) = mtls_enabled(Ok(json!({"spec": {"mtls": {"enabled": "maybe"}}})));
        assert!(on);
        assert!(note.unwrap().contains("\"maybe\" is not a boolean"));
    }

    #[test]
    fn trust_anchors_come_from_ca_crt() {
        assert_eq!(
            trust_anchors(Ok(json!({"data": {"ca.crt": "PEM"}})), "dapr-system").unwrap(),
            "PEM"
        );
    }

    #[test]
    fn a_trust_bundle_without_ca_crt_is_an_error_that_says_how_to_fix_it() {
        let err = trust_anchors(Ok(json!({"data": {"issuer.key": "SECRET"}})), "dapr-system")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cannot read the Dapr trust anchors: ConfigMap dapr-trust-bundle in namespace dapr-system has no ca.crt key; install Dapr's control plane there, let the PolicyServer read it (examples/rbac.yaml), or set the trustAnchors setting"
        );
        assert!(!err.contains("SECRET"));
    }

    #[test]
    fn a_failed_trust_bundle_lookup_names_the_host_error() {
        let err = trust_anchors(Err("forbidden".to_owned()), "dapr-system")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read the Dapr trust anchors from ConfigMap dapr-trust-bundle in namespace dapr-system: forbidden;"));
    }

    #[test]
    fn lookups_are_made_with_the_cache_and_without_field_masks() {
        assert_eq!(
            serde_json::to_value(configuration_request("dapr-system")).unwrap(),
            json!({"api_version": "dapr.io/v1alpha1", "kind": "Configuration", "name": "daprsystem", "namespace": "dapr-system", "disable_cache": false, "field_masks": null})
        );
        assert_eq!(
            serde_json::to_value(trust_bundle_request("dapr-system")).unwrap(),
            json!({"api_version": "v1", "kind": "ConfigMap", "name": "dapr-trust-bundle", "namespace": "dapr-system", "disable_cache": false, "field_masks": null})
        );
    }
}

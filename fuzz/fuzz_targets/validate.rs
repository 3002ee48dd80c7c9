//! The raw `validate` payload: whatever bytes the host sends must get a response or an error,
//! never a panic. The cluster answers every lookup, so injection runs to the end.
#![no_main]

use dapr_sidecar_injector::cluster::Cluster;
use kubewarden_policy_sdk::host_capabilities::kubernetes::{GetResourceRequest, ListResourcesByNamespaceRequest};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

struct FuzzCluster;

impl Cluster for FuzzCluster {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String> {
        match request.kind.as_str() {
            "ConfigMap" => Ok(json!({"data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}})),
            _ => Ok(json!({"spec": {"mtls": {"enabled": "false"}}})),
        }
    }

    fn list_resources_by_namespace(&self, _: &ListResourcesByNamespaceRequest) -> Result<Vec<Value>, String> {
        Ok(vec![json!({"metadata": {"name": "c", "annotations": {"dapr.io/component-container": "{\"image\":\"i\",\"volumeMounts\":[{\"name\":\"x\"}]}"}}})])
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = dapr_sidecar_injector::validate_with(data, &FuzzCluster);
});

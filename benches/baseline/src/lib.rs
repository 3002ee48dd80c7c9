//! The cost floor `make bench` compares the policy with: parse the AdmissionRequest as every
//! Rust policy does, add one label, return the object.

use kubewarden_policy_sdk::request::ValidationRequest;
use kubewarden_policy_sdk::wapc_guest::prelude::*;
use kubewarden_policy_sdk::{mutate_request, protocol_version_guest};
use serde_json::{Map, Value};

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> CallResult {
    let request = ValidationRequest::<Value>::new(payload)?;
    let mut object = request.request.object;
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = metadata
            .entry("labels")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert("baseline".to_owned(), Value::String("true".to_owned()));
        }
    }
    mutate_request(object)
}

fn validate_settings(_: &[u8]) -> CallResult {
    Ok(br#"{"valid":true}"#.to_vec())
}

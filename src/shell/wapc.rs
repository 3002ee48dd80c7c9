//! The guest functions Kubewarden's host calls through waPC.

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::prelude::*;
use kubewarden_policy_sdk::{protocol_version_guest, wapc_guest as guest};
use serde_json::value::RawValue;

use super::log::{Level, Logger};
use super::wire::{Payload, ValidationResponse};
use crate::admission::{self, Admission, Object, Verdict};
use crate::cluster::{Cluster, HostCluster};
use crate::settings;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function("protocol_version", protocol_version_guest);
}

/// Settings errors, including unknown keys and wrong types, come back as `valid: false` with a
/// message instead of a host error, so the PolicyServer reports what to fix.
pub fn validate_settings(payload: &[u8]) -> CallResult {
    let verdict = match settings::parse(payload) {
        Ok(settings) => settings.validate(),
        Err(message) => Err(message),
    };
    let response = match verdict {
        Ok(()) => SettingsValidationResponse {
            valid: true,
            message: None,
        },
        Err(message) => SettingsValidationResponse {
            valid: false,
            message: Some(message),
        },
    };
    Ok(serde_json::to_vec(&response)?)
}

pub fn validate(payload: &[u8]) -> CallResult {
    validate_with(payload, &HostCluster)
}

/// `validate` with the cluster given: native tests pass one that answers from replay files.
pub fn validate_with(payload: &[u8], cluster: &dyn Cluster) -> CallResult {
    let payload: Payload = match serde_json::from_slice(payload) {
        Ok(payload) => payload,
        Err(e) => {
            let message = format!("cannot read the admission request or the policy settings: {e}");
            return Ok(ValidationResponse::rejection(message).into_json()?);
        }
    };
    let request = &payload.request;
    let admission = Admission {
        kind: &request.kind.kind,
        operation: &request.operation,
        namespace: &request.namespace,
        username: &request.user_info.username,
        groups: request
            .user_info
            .groups
            .iter()
            .map(String::as_str)
            .collect(),
    };
    let object = request.object.map_or("null", RawValue::get);
    let answer = admission::evaluate(&admission, Object::Text(object), &payload.settings, cluster);
    log(&admission, &answer.verdict, &answer.generate_name);
    Ok(ValidationResponse::from(answer.verdict).into_json()?)
}

/// A plain injection is not logged: the audit annotations record it, and a host call costs
/// a twentieth of an evaluation. Its notes are, and so is a rejection.
fn log(admission: &Admission<'_>, verdict: &Verdict, generate_name: &str) {
    let log = Logger {
        namespace: admission.namespace,
        generate_name,
    };
    match verdict {
        Verdict::Inject(injection) => {
            for note in &injection.log_notes {
                log.log(Level::Warning, note, &[]);
            }
        }
        Verdict::Reject(rejection) => {
            let message = rejection.reason.to_string();
            log.log(Level::Info, "pod rejected", &[("reason", &message)]);
        }
        Verdict::Accept { .. } => {}
    }
}

//! The single way in: settings from the waPC payload or from parsed JSON, with a message that
//! names an unknown key's closest real one.

use serde::Deserialize;

use super::table::{SETTING_KEYS, Settings};
use crate::base::problem::closest;

/// Why settings JSON is not settings: an unknown key with the closest real one, else serde's
/// own message (a wrong type or value, which names the field).
pub fn settings_error(json: &serde_json::Map<String, serde_json::Value>, error: &str) -> String {
    let unknown = json
        .keys()
        .find(|key| !SETTING_KEYS.contains(&key.as_str()));
    match unknown {
        Some(key) => match closest(key, SETTING_KEYS.iter().copied()) {
            Some(close) => format!("unknown setting \"{key}\"; did you mean {close}?"),
            None => format!(
                "unknown setting \"{key}\"; the settings are listed in the README's Settings section"
            ),
        },
        None => error.to_owned(),
    }
}

/// Settings from parsed JSON (the command line's path), with [`settings_error`]'s message.
pub fn settings_from_value(json: serde_json::Value) -> Result<Settings, String> {
    Settings::deserialize(&json).map_err(|e| {
        let keys = json.as_object().cloned().unwrap_or_default();
        settings_error(&keys, &e.to_string())
    })
}

/// Settings must be an object (or absent): serde would also read a list as a struct. Parsed
/// straight from the bytes, as `validate` does, so one deserializer serves both.
pub fn parse(payload: &[u8]) -> Result<Settings, String> {
    let text = payload.trim_ascii();
    if text == b"null" {
        return Ok(Settings::default());
    }
    if !text.starts_with(b"{") {
        return Err("invalid settings: expected a JSON object".to_owned());
    }
    serde_json::from_slice(payload).map_err(|e| {
        let keys = serde_json::from_slice(payload).unwrap_or_default();
        format!(
            "invalid settings: {}",
            settings_error(&keys, &e.to_string())
        )
    })
}

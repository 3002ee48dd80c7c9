//! The single way in: settings from the waPC payload or from parsed JSON, with a message that
//! names the setting, and for an unknown key its closest real one.

use super::table::Settings;

/// Settings from parsed JSON (the command line's path).
pub fn settings_from_value(json: serde_json::Value) -> Result<Settings, String> {
    match json {
        serde_json::Value::Object(map) => Settings::from_map(map),
        serde_json::Value::Null => Ok(Settings::default()),
        _ => Err("expected a JSON object".to_owned()),
    }
}

/// Settings must be an object (or absent). Parsed straight from the bytes, as `validate`
/// does, so one deserializer serves both.
pub fn parse(payload: &[u8]) -> Result<Settings, String> {
    let text = payload.trim_ascii();
    if text == b"null" {
        return Ok(Settings::default());
    }
    if !text.starts_with(b"{") {
        return Err("invalid settings: expected a JSON object".to_owned());
    }
    serde_json::from_slice(payload).map_err(|e| format!("invalid settings: {e}"))
}

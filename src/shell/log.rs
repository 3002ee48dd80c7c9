//! Log lines for the PolicyServer, in the event format of the SDK's slog drain: `level`,
//! `message`, then the fields. Written here rather than through slog, which cost 13 KB of a
//! module with a 450 KB budget for the three lines the policy logs.

pub const POLICY_NAME: &str = "dapr-sidecar-injector";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
        }
    }
}

/// Where a line comes from: every line of one evaluation carries these fields.
pub struct Logger<'a> {
    pub namespace: &'a str,
    pub generate_name: &'a str,
}

impl Logger<'_> {
    /// The event as the host reads it (`PolicyLogEntry` in Kubewarden's policy-evaluator).
    pub fn event(&self, level: Level, message: &str, fields: &[(&str, &str)]) -> Vec<u8> {
        // serde_json's map, which the module has anyway: another map type costs 5 KB.
        let base = [
            ("level", level.name()),
            ("message", message),
            ("policy", POLICY_NAME),
            ("namespace", self.namespace),
            ("generateName", self.generate_name),
        ];
        // Inserted one by one: collecting into a map sorts first, and the sort costs 5 KB.
        let mut event = serde_json::Map::new();
        for (key, value) in base.iter().chain(fields) {
            event.insert((*key).to_owned(), (*value).into());
        }
        serde_json::to_vec(&event).unwrap_or_default()
    }

    pub fn log(&self, level: Level, message: &str, fields: &[(&str, &str)]) {
        let event = self.event(level, message, fields);
        send(&event);
    }
}

/// A failed log call is not worth failing the admission for.
#[cfg(target_arch = "wasm32")]
fn send(event: &[u8]) {
    let _ = wapc_guest::host_call("kubewarden", "tracing", "log", event);
}

/// Natively (tests, fuzzing) the line goes to standard output, as the SDK's drain does.
#[cfg(not(target_arch = "wasm32"))]
fn send(event: &[u8]) {
    println!("{}", String::from_utf8_lossy(event));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_has_the_level_the_message_and_every_field() {
        let logger = Logger {
            namespace: "default",
            generate_name: "web-7c9d-",
        };
        let event: serde_json::Value = serde_json::from_slice(&logger.event(
            Level::Warning,
            "pod rejected",
            &[("reason", "r")],
        ))
        .unwrap();
        assert_eq!(
            event,
            json!({"level": "warning", "message": "pod rejected", "policy": "dapr-sidecar-injector",
                   "namespace": "default", "generateName": "web-7c9d-", "reason": "r"})
        );
    }
}

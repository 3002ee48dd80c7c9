//! `dapr-inject settings --from-injector`: the policy settings that reproduce a running Dapr
//! injector, read from its Deployment (`kubectl -n dapr-system get deployment
//! dapr-sidecar-injector -o json`) as Dapr's `pkg/injector/service/config.go` reads its env at
//! v1.18.3. Which env var or flag feeds which setting is the settings table's "Dapr equivalent"
//! column, so a setting added there is read here too.

use dapr_sidecar_injector::{DaprVersion, SETTINGS, Settings, is_truthy, settings_from_value};
use serde_json::{Map, Value, json};

/// The injector's container in Dapr's chart.
const INJECTOR_CONTAINER: &str = "dapr-sidecar-injector";

/// The settings, and a note for everything of the injector that has no setting.
#[derive(Debug, Default, PartialEq)]
pub struct Translation {
    pub settings: Map<String, Value>,
    pub notes: Vec<String>,
}

/// Env vars of the injector that the policy replaces with something else, and why.
const REPLACED: &[(&str, &str)] = &[
    (
        "DAPR_TRUST_ANCHORS_FILE",
        "the injector's own trust anchors; the policy reads ConfigMap dapr-trust-bundle, or the trustAnchors setting",
    ),
    (
        "DAPR_SENTRY_ADDRESS",
        "where the injector asks Sentry for its own certificate; the policy needs none",
    ),
];

pub fn from_injector(deployment: &Value) -> Result<Translation, String> {
    let container = injector_container(deployment)?;
    let namespace = deployment
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let env = env_values(container, namespace);
    let args: Vec<&str> = container["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let defaults = serde_json::to_value(Settings::default()).map_err(|e| e.to_string())?;
    let mut translation = Translation::default();
    let mut used = Vec::new();
    for row in SETTINGS {
        for source in sources(row.dapr) {
            let raw = match source.strip_prefix("--") {
                Some(_) => flag_value(&args, source),
                None => env
                    .iter()
                    .find(|(name, _)| name == source)
                    .map(|(_, v)| v.clone()),
            };
            let Some(raw) = raw else { continue };
            used.push(source);
            let default = &defaults[row.key];
            match converted(row.key, &raw, default, &translation.settings) {
                Ok(Some(value)) => {
                    translation.settings.insert(row.key.to_owned(), value);
                }
                Ok(None) => {}
                Err(note) => translation.notes.push(format!("{source}: {note}")),
            }
        }
    }
    if let Some(version) = release(container) {
        translation
            .settings
            .insert("daprVersion".to_owned(), json!(version));
    } else {
        let image = container["image"].as_str().unwrap_or_default();
        translation.notes.push(format!(
            "the injector's image {image:?} names no release the policy knows; daprVersion left at its default"
        ));
    }
    for (name, _) in &env {
        if used.contains(&name.as_str()) {
            continue;
        }
        let note = REPLACED
            .iter()
            .find(|(replaced, _)| replaced == name)
            .map_or("no setting matches it; left out", |(_, why)| why);
        translation.notes.push(format!("{name}: {note}"));
    }
    let settings = Value::Object(translation.settings.clone());
    settings_from_value(settings)
        .and_then(|settings| settings.validate())
        .map_err(|e| format!("the injector's settings are not valid policy settings: {e}"))?;
    Ok(translation)
}

/// The injector's container: the chart's name, else the only one.
fn injector_container(deployment: &Value) -> Result<&Value, String> {
    if deployment["kind"] != "Deployment" {
        return Err(format!(
            "expected the injector's Deployment, got {}",
            deployment["kind"].as_str().unwrap_or("no kind")
        ));
    }
    let containers = deployment
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .ok_or("the Deployment has no spec.template.spec.containers")?;
    match containers.iter().find(|c| c["name"] == INJECTOR_CONTAINER) {
        Some(container) => Ok(container),
        None if containers.len() == 1 => containers.first().ok_or_else(String::new),
        None => Err(format!(
            "the Deployment has no container named {INJECTOR_CONTAINER}"
        )),
    }
}

/// The env vars with a value: a plain value, or the namespace the chart gives `NAMESPACE`.
fn env_values(container: &Value, namespace: Option<&str>) -> Vec<(String, String)> {
    let mut values = Vec::new();
    for var in container["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().unwrap_or_default().to_owned();
        let from_namespace =
            var.pointer("/valueFrom/fieldRef/fieldPath") == Some(&json!("metadata.namespace"));
        let value = match (var["value"].as_str(), from_namespace, namespace) {
            (Some(value), _, _) => value.to_owned(),
            (None, true, Some(namespace)) => namespace.to_owned(),
            (None, false, _) if var.get("valueFrom").is_none() => String::new(),
            _ => continue,
        };
        values.push((name, value));
    }
    values
}

/// The env vars (`UPPER_CASE`) and flags (`--name`) a row's "Dapr equivalent" names.
fn sources(dapr: &str) -> impl Iterator<Item = &str> {
    dapr.split('`').skip(1).step_by(2).filter(|token| {
        token.starts_with("--")
            || token
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// `--name=value`, or `--name value`, of the injector's args.
fn flag_value(args: &[&str], flag: &str) -> Option<String> {
    args.iter().enumerate().find_map(
        |(at, arg)| match arg.strip_prefix(flag)?.strip_prefix('=') {
            Some(value) => Some(value.to_owned()),
            None if arg.len() == flag.len() => args.get(at + 1).map(|v| (*v).to_owned()),
            None => None,
        },
    )
}

/// One setting from its env value, read as Dapr reads it; `None` leaves the setting out.
fn converted(
    key: &str,
    raw: &str,
    default: &Value,
    so_far: &Map<String, Value>,
) -> Result<Option<Value>, String> {
    match default {
        // Dapr: empty keeps the default (`isTruthyDefaultTrue`), else `strings.IsTruthy`.
        Value::Bool(default) => Ok(Some(json!(if raw.is_empty() {
            *default
        } else {
            is_truthy(raw)
        }))),
        Value::String(_) => Ok((!raw.is_empty()).then(|| json!(raw))),
        Value::Array(_) if key == "ignoreEntrypointTolerations" => tolerations(raw),
        Value::Array(_) => {
            // Comma lists; a second env var of the same setting adds to the first.
            let mut list = so_far
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            list.extend(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| json!(s)),
            );
            Ok((!list.is_empty()).then_some(Value::Array(list)))
        }
        _ if raw.is_empty() => Ok(None),
        _ => raw
            .parse::<i64>()
            .map(|n| Some(json!(n)))
            .map_err(|_| format!("{raw:?} is not an integer; Dapr's injector would not start")),
    }
}

/// `json.Unmarshal` into tolerations; Dapr logs a failure and uses none.
fn tolerations(raw: &str) -> Result<Option<Value>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(list @ Value::Array(_)) => Ok(Some(list)),
        _ => Err(format!(
            "{} is not a JSON list of tolerations: Dapr's injector logs a warning and keeps none, and so do these settings",
            dapr_sidecar_injector::quote(raw)
        )),
    }
}

/// The release of the injector's image tag (`…/injector:1.18.3` gives `1.18`).
fn release(container: &Value) -> Option<&'static str> {
    let image = container["image"].as_str()?;
    let tag = image.rsplit_once(':')?.1;
    let minor = tag.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
    [DaprVersion::V1_16, DaprVersion::V1_17, DaprVersion::V1_18]
        .into_iter()
        .map(DaprVersion::name)
        .find(|name| *name == minor)
}

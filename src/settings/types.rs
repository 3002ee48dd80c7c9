//! The settings' own types: the modes, daprd's default resources and the tolerations that
//! Dapr compares as Go structs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::problem::json_type_name;

/// A unit enum read from its name. By hand: serde's derive costs the module 1.6 KB of its
/// size budget for each enum.
fn variant<'de, D: serde::Deserializer<'de>, T: Copy>(
    deserializer: D,
    variants: &[(&'static str, T)],
    names: &'static [&'static str],
) -> Result<T, D::Error> {
    let name = String::deserialize(deserializer)?;
    variants
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| serde::de::Error::unknown_variant(&name, names))
}

macro_rules! deserialize_by_name {
    ($type:ty, $($name:literal => $variant:expr),+) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                variant(deserializer, &[$(($name, $variant)),+], &[$($name),+])
            }
        }
    };
}

deserialize_by_name!(Mode, "inject" => Mode::Inject, "verify" => Mode::Verify);
deserialize_by_name!(InvalidAnnotations, "warn" => InvalidAnnotations::Warn, "reject" => InvalidAnnotations::Reject);
deserialize_by_name!(SecurityProfile, "dapr" => SecurityProfile::Dapr, "restricted" => SecurityProfile::Restricted);

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// A mutating policy: Pods that ask for Dapr get the sidecar.
    #[default]
    Inject,
    /// A validating policy: Pods that ask for Dapr and lack the sidecar inject mode would give
    /// them are rejected; nothing is changed.
    Verify,
}

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum InvalidAnnotations {
    /// Dapr's behaviour: the value is ignored, and the policy adds a warning.
    #[default]
    Warn,
    /// The Pod is rejected, with every problem listed.
    Reject,
}

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SecurityProfile {
    /// daprd's securityContext exactly as Dapr builds it.
    #[default]
    Dapr,
    /// daprd satisfies the Pod Security "restricted" profile.
    Restricted,
}

/// `requests` and `limits` for `cpu` and `memory`, as Kubernetes quantities.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct SidecarResources {
    pub requests: ResourceValues,
    pub limits: ResourceValues,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// A toleration as Dapr compares it: Go `==` on every field, where `tolerationSeconds` is a
/// pointer, so a toleration that sets it never equals another.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    pub key: String,
    pub operator: String,
    pub value: String,
    pub effect: String,
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// Dapr's `utils.Contains(podTolerations, t)` for one pod toleration given as JSON.
    pub fn equals_pod_toleration(&self, pod: &serde_json::Value) -> bool {
        let field = |name: &str| {
            pod.get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        };
        let pod_seconds = pod.get("tolerationSeconds").is_some_and(|v| !v.is_null());
        self.toleration_seconds.is_none()
            && !pod_seconds
            && self.key == field("key")
            && self.operator == field("operator")
            && self.value == field("value")
            && self.effect == field("effect")
    }
}

/// The two structured settings are read from their JSON by hand: serde's derive for them cost
/// the module 10 KB of its size budget. Absent fields take their defaults; an unknown field or
/// a value of the wrong type is refused, naming it.
fn members<'a>(
    value: &'a Value,
    known: &[&str],
) -> Result<&'a serde_json::Map<String, Value>, String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("expected an object, got {}", json_type_name(value)))?;
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(format!(
            "unknown field \"{unknown}\"; expected one of {}",
            known.join(", ")
        )),
        None => Ok(object),
    }
}

/// An optional string member; `null` is absent, as Kubernetes reads it.
fn text(object: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "{key}: expected a string, got {}",
            json_type_name(other)
        )),
    }
}

impl Toleration {
    fn from_json(value: &Value) -> Result<Toleration, String> {
        const FIELDS: [&str; 5] = ["key", "operator", "value", "effect", "tolerationSeconds"];
        let object = members(value, &FIELDS)?;
        let seconds = match object.get("tolerationSeconds") {
            None | Some(Value::Null) => None,
            Some(n) => Some(n.as_i64().ok_or_else(|| {
                format!(
                    "tolerationSeconds: expected an integer, got {}",
                    json_type_name(n)
                )
            })?),
        };
        Ok(Toleration {
            key: text(object, "key")?.unwrap_or_default(),
            operator: text(object, "operator")?.unwrap_or_default(),
            value: text(object, "value")?.unwrap_or_default(),
            effect: text(object, "effect")?.unwrap_or_default(),
            toleration_seconds: seconds,
        })
    }
}

impl ResourceValues {
    fn from_json(value: &Value, at: &str) -> Result<ResourceValues, String> {
        let object = members(value, &["cpu", "memory"]).map_err(|e| format!("{at}: {e}"))?;
        let field = |key| text(object, key).map_err(|e| format!("{at}.{e}"));
        Ok(ResourceValues {
            cpu: field("cpu")?,
            memory: field("memory")?,
        })
    }
}

impl SidecarResources {
    fn from_json(value: &Value) -> Result<SidecarResources, String> {
        let object = members(value, &["requests", "limits"])?;
        let part = |key| {
            object.get(key).map_or(Ok(ResourceValues::default()), |v| {
                ResourceValues::from_json(v, key)
            })
        };
        Ok(SidecarResources {
            requests: part("requests")?,
            limits: part("limits")?,
        })
    }
}

macro_rules! deserialize_from_json {
    ($($type:ty),*) => {$(
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                <$type>::from_json(&value).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

deserialize_from_json!(Toleration, SidecarResources);

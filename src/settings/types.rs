//! The settings' own types: the modes, daprd's default resources and the tolerations that
//! Dapr compares as Go structs.

use serde::{Deserialize, Serialize};

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
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SidecarResources {
    pub requests: ResourceValues,
    pub limits: ResourceValues,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// A toleration as Dapr compares it: Go `==` on every field, where `tolerationSeconds` is a
/// pointer, so a toleration that sets it never equals another.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
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

//! The small Kubernetes objects injection adds, built with k8s-openapi's types and turned into
//! JSON text once.

use k8s_openapi::api::core::v1::{
    ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector,
    SecretKeySelector, VolumeMount,
};

/// JSON text of a k8s-openapi object or a `Value`. Their serialisers cannot fail, so an error
/// (never seen) yields `null` rather than a panic.
pub fn to_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// An env var read from a field of the Pod (`fieldRef`).
pub fn field_ref_env(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        // Go drops an empty value from the JSON.
        value: (!value.is_empty()).then(|| value.to_owned()),
        ..Default::default()
    }
}

pub fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: number,
        ..Default::default()
    }
}

pub fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// A Pod volume's JSON: `{name, <source key>: <source>}`. Serialising k8s-openapi's `Volume`
/// would compile in every volume source, down to `ObjectMeta` and a date library (about 150 KB
/// of the module's size budget), so the source is built typed and named here.
pub fn volume_json<T: serde::Serialize>(name: &str, source_key: &str, source: &T) -> String {
    format!(
        "{{\"name\":{},{}:{}}}",
        to_text(name),
        to_text(source_key),
        to_text(source)
    )
}

/// An emptyDir volume's JSON, in memory when `medium` says so.
pub fn empty_dir_volume_json(name: &str, medium: Option<&str>) -> String {
    let source = EmptyDirVolumeSource {
        medium: medium.map(str::to_owned),
        ..Default::default()
    };
    volume_json(name, "emptyDir", &source)
}

/// The string value of annotation `key` of a Kubernetes object (a Pod, a pod template).
pub fn annotation<'a>(object: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    object
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

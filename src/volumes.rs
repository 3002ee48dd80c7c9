//! Volumes and mounts: the Sentry token, the Unix domain socket, and the user's
//! `dapr.io/volume-mounts(-rw)` (Dapr's `sidecar_volumes.go`).

use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, ProjectedVolumeSource, ServiceAccountTokenProjection, VolumeMount,
    VolumeProjection,
};

use crate::annotations::{DaprAnnotations, Problem, keys, quote};
use crate::patcher::{Item, to_text};
use crate::pod::PodView;
use crate::sidecar::UDS_DAPRD_PATH;

pub const TOKEN_VOLUME_NAME: &str = "dapr-identity-token";
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/dapr.io/sentrytoken";
pub const TOKEN_EXPIRATION_SECONDS: i64 = 7200;
pub const TOKEN_PATH: &str = "token";
pub const TOKEN_DEFAULT_MODE: i32 = 420;
pub const UDS_VOLUME_NAME: &str = "dapr-unix-domain-socket";
pub const UDS_MEDIUM: &str = "Memory";
pub const COMPONENTS_VOLUME_NAME: &str = "dapr-components-unix-domain-socket";
pub const COMPONENTS_DEFAULT_FOLDER: &str = "/tmp/dapr-components-sockets";

/// A Pod volume: `{name, <source key>: <source>}`. Serialising k8s-openapi's `Volume` would
/// compile in every volume source, down to `ObjectMeta` and a date library (about 150 KB of
/// the module's size budget), so the source is built typed and named here.
fn volume<T: serde::Serialize>(name: &str, source_key: &str, source: &T) -> Item {
    Item {
        name: name.to_owned(),
        mount_path: None,
        json: format!(
            "{{\"name\":{},{}:{}}}",
            to_text(name),
            to_text(source_key),
            to_text(source)
        ),
    }
}

pub fn token_volume(audience: &str) -> Item {
    let source = ProjectedVolumeSource {
        default_mode: Some(TOKEN_DEFAULT_MODE),
        sources: Some(vec![VolumeProjection {
            service_account_token: Some(ServiceAccountTokenProjection {
                audience: Some(audience.to_owned()),
                expiration_seconds: Some(TOKEN_EXPIRATION_SECONDS),
                path: TOKEN_PATH.to_owned(),
            }),
            ..Default::default()
        }]),
    };
    volume(TOKEN_VOLUME_NAME, "projected", &source)
}

pub fn token_mount() -> VolumeMount {
    mount(TOKEN_VOLUME_NAME, TOKEN_MOUNT_PATH, true)
}

pub fn empty_dir_volume(name: &str, medium: Option<&str>) -> Item {
    let source = EmptyDirVolumeSource {
        medium: medium.map(str::to_owned),
        ..Default::default()
    };
    volume(name, "emptyDir", &source)
}

pub fn uds_volume() -> Item {
    empty_dir_volume(UDS_VOLUME_NAME, Some(UDS_MEDIUM))
}

pub fn uds_daprd_mount() -> VolumeMount {
    mount(UDS_VOLUME_NAME, UDS_DAPRD_PATH, false)
}

pub fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// Dapr's `parseVolumeMountsString`: `vol:path` entries split on `,`; others are dropped.
fn parse_mounts(
    value: &str,
    read_only: bool,
    key: &'static str,
    problems: &mut Vec<Problem>,
) -> Vec<VolumeMount> {
    let mut mounts = Vec::new();
    if value.is_empty() {
        return mounts;
    }
    for entry in value.split(',') {
        let entry = entry.trim();
        let parts: Vec<&str> = entry.split(':').collect();
        match parts.as_slice() {
            [name, path] if !name.is_empty() && !path.is_empty() => {
                mounts.push(mount(name, path, read_only))
            }
            _ => problems.push(Problem::new(
                key,
                format!("entry {} is not volume:path; dropped", quote(entry)),
            )),
        }
    }
    mounts
}

/// daprd's mounts from the two annotations, keeping only volumes the Pod has.
pub fn user_mounts(
    a: &DaprAnnotations,
    pod: &PodView,
    problems: &mut Vec<Problem>,
) -> Vec<VolumeMount> {
    let mut candidates: Vec<(&'static str, VolumeMount)> = Vec::new();
    for m in parse_mounts(&a.volume_mounts, true, keys::volume_mounts, problems) {
        candidates.push((keys::volume_mounts, m));
    }
    for m in parse_mounts(&a.volume_mounts_rw, false, keys::volume_mounts_rw, problems) {
        candidates.push((keys::volume_mounts_rw, m));
    }
    let mut mounts: Vec<VolumeMount> = Vec::with_capacity(candidates.len());
    for (key, m) in candidates {
        if !pod.has_volume(&m.name) {
            problems.push(Problem::new(
                key,
                format!(
                    "volume {} does not exist in the Pod; mount skipped",
                    quote(&m.name)
                ),
            ));
        } else if mounts
            .iter()
            .any(|existing| existing.mount_path == m.mount_path)
            || reserved_path(&m.mount_path)
        {
            // The API server rejects two mounts at one path in a container.
            problems.push(Problem::new(
                key,
                format!(
                    "mount path {} is already used in daprd; mount skipped",
                    quote(&m.mount_path)
                ),
            ));
        } else {
            mounts.push(m);
        }
    }
    mounts
}

fn reserved_path(path: &str) -> bool {
    path == TOKEN_MOUNT_PATH || path == UDS_DAPRD_PATH
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn mounts(annotations: Value) -> (Value, Vec<String>) {
        let pod = PodView::from_json(&json!({"metadata": {"annotations": annotations}, "spec": {"volumes": [{"name": "a"}, {"name": "b"}]}})).unwrap();
        let mut problems = Vec::new();
        let a = DaprAnnotations::parse(&pod.annotations, &mut problems);
        let m = user_mounts(&a, &pod, &mut problems);
        (
            serde_json::to_value(m).unwrap(),
            problems.iter().map(Problem::to_warning).collect(),
        )
    }

    #[test]
    fn read_only_mounts_come_before_read_write_mounts() {
        let (m, w) = mounts(
            json!({"dapr.io/volume-mounts-rw": "b:/rw", "dapr.io/volume-mounts": " a:/ro "}),
        );
        assert_eq!(
            m,
            json!([{"name": "a", "mountPath": "/ro", "readOnly": true}, {"name": "b", "mountPath": "/rw"}])
        );
        assert!(w.is_empty());
    }

    #[test]
    fn a_mount_of_a_missing_volume_is_skipped_with_a_warning() {
        let (m, w) = mounts(json!({"dapr.io/volume-mounts": "missing:/x,a:/a"}));
        assert_eq!(
            m,
            json!([{"name": "a", "mountPath": "/a", "readOnly": true}])
        );
        assert_eq!(
            w,
            vec![
                "dapr.io/volume-mounts: volume \"missing\" does not exist in the Pod; mount skipped"
            ]
        );
    }

    #[test]
    fn malformed_entries_are_dropped_with_a_warning() {
        let (m, w) = mounts(json!({"dapr.io/volume-mounts-rw": "a:/x:rw,b,b:/b"}));
        assert_eq!(m, json!([{"name": "b", "mountPath": "/b"}]));
        assert_eq!(
            w,
            vec![
                "dapr.io/volume-mounts-rw: entry \"a:/x:rw\" is not volume:path; dropped",
                "dapr.io/volume-mounts-rw: entry \"b\" is not volume:path; dropped",
            ]
        );
    }

    #[test]
    fn two_mounts_at_one_path_keep_the_first() {
        let (m, w) =
            mounts(json!({"dapr.io/volume-mounts": "a:/x", "dapr.io/volume-mounts-rw": "b:/x"}));
        assert_eq!(
            m,
            json!([{"name": "a", "mountPath": "/x", "readOnly": true}])
        );
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn the_token_volume_is_dapr_projected_token() {
        assert_eq!(
            token_volume("spiffe://cluster.local/ns/dapr-system/dapr-sentry")
                .value()
                .unwrap(),
            json!({"name": "dapr-identity-token", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
                "audience": "spiffe://cluster.local/ns/dapr-system/dapr-sentry", "expirationSeconds": 7200, "path": "token"}}]}})
        );
    }
}

//! Volumes and mounts (Dapr's `sidecar_volumes.go`): the Sentry token, the Unix domain socket
//! of `dapr.io/unix-domain-socket-path`, and the user's `dapr.io/volume-mounts(-rw)`.

use k8s_openapi::api::core::v1::{
    ProjectedVolumeSource, ServiceAccountTokenProjection, VolumeMount, VolumeProjection,
};

use crate::annotations::{DaprAnnotations, keys};
use crate::base::dapr::{UDS_DAPRD_PATH, volume};
use crate::base::k8s::objects::mount;
use crate::base::problem::{Problem, name, quote};
use crate::plan::Item;
use crate::pod::PodView;
use crate::settings::Settings;

/// The volumes daprd needs, its mounts, and what every app container mounts.
#[derive(Debug, Clone, Default)]
pub struct Volumes {
    pub volumes: Vec<Item>,
    pub daprd_mounts: Vec<VolumeMount>,
    pub app_mounts: Vec<VolumeMount>,
}

/// In Dapr's order: the user's mounts, the socket, then the token.
pub fn daprd_volumes(
    a: &DaprAnnotations,
    pod: &PodView,
    settings: &Settings,
    problems: &mut Vec<Problem>,
) -> Volumes {
    // daprd's own mounts take their paths only when injection really adds them: a user's
    // mount at /var/run/dapr-sockets stays when no socket is asked for, as in Dapr.
    let mut taken: Vec<&str> = Vec::with_capacity(2);
    if !a.unix_domain_socket_path.is_empty() {
        taken.push(UDS_DAPRD_PATH);
    }
    if settings.token_volume {
        taken.push(volume::TOKEN_MOUNT_PATH);
    }
    let mut v = Volumes {
        daprd_mounts: user_mounts(a, pod, &taken, problems),
        ..Volumes::default()
    };
    if !a.unix_domain_socket_path.is_empty() {
        v.volumes
            .push(Item::empty_dir(volume::UDS_NAME, Some(volume::UDS_MEDIUM)));
        v.daprd_mounts
            .push(mount(volume::UDS_NAME, UDS_DAPRD_PATH, false));
        v.app_mounts
            .push(mount(volume::UDS_NAME, &a.unix_domain_socket_path, false));
    }
    if settings.token_volume {
        v.volumes.push(token_volume(&settings.sentry_spiffe_id()));
        v.daprd_mounts
            .push(mount(volume::TOKEN_NAME, volume::TOKEN_MOUNT_PATH, true));
    }
    v
}

/// The projected service-account token daprd shows Sentry, for `audience`.
pub fn token_volume(audience: &str) -> Item {
    let source = ProjectedVolumeSource {
        default_mode: Some(volume::TOKEN_DEFAULT_MODE),
        sources: Some(vec![VolumeProjection {
            service_account_token: Some(ServiceAccountTokenProjection {
                audience: Some(audience.to_owned()),
                expiration_seconds: Some(volume::TOKEN_EXPIRATION_SECONDS),
                path: volume::TOKEN_PATH.to_owned(),
            }),
            ..Default::default()
        }]),
    };
    Item::volume(volume::TOKEN_NAME, "projected", &source)
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
            _ => problems.push(Problem::invalid(
                key,
                format!("entry {} is not volume:path; dropped", quote(entry)),
            )),
        }
    }
    mounts
}

/// daprd's mounts from the two annotations, keeping only volumes the Pod has, and only
/// paths that no other mount of daprd's takes (`taken`: the paths injection mounts itself).
pub fn user_mounts(
    a: &DaprAnnotations,
    pod: &PodView,
    taken: &[&str],
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
            problems.push(Problem::invalid(
                key,
                format!(
                    "volume {} does not exist in the Pod; mount skipped",
                    name(&m.name)
                ),
            ));
        } else if mounts
            .iter()
            .any(|existing| existing.mount_path == m.mount_path)
            || taken.contains(&m.mount_path.as_str())
        {
            // The API server rejects two mounts at one path in a container.
            problems.push(Problem::invalid(
                key,
                format!(
                    "mount path {} is already used in daprd; mount skipped",
                    name(&m.mount_path)
                ),
            ));
        } else {
            mounts.push(m);
        }
    }
    mounts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn mounts(annotations: Value) -> (Value, Vec<String>) {
        let pod = PodView::from_json(&json!({"metadata": {"annotations": annotations}, "spec": {"volumes": [{"name": "a"}, {"name": "b"}]}})).unwrap();
        let mut problems = Vec::new();
        let a = DaprAnnotations::parse(&pod.annotations, &mut problems);
        let m = user_mounts(&a, &pod, &[], &mut problems);
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

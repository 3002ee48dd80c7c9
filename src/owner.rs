//! An app id for Pods that have neither `dapr.io/app-id` nor a name: every controller-created
//! Pod at admission time (Dapr issue 5141). Opt-in with the setting `appIdFromOwner`.

use serde_json::Value;

use crate::pod::PodView;

pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// CronJob names its Jobs `<cronjob>-<scheduled time in minutes since the epoch>`.
const CRONJOB_SUFFIX_MIN_DIGITS: usize = 8;

/// The workload a Pod belongs to: (app id, where it came from, for the warning).
pub fn app_id_from_owner(pod: &PodView) -> Option<(String, String)> {
    let owner = pod
        .owner_references
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))?;
    let kind = owner.get("kind").and_then(Value::as_str)?;
    let name = owner
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())?;
    match kind {
        "ReplicaSet" => {
            let hash = pod
                .labels
                .get(POD_TEMPLATE_HASH_LABEL)
                .and_then(Value::as_str)
                .unwrap_or_default();
            match name
                .strip_suffix(hash)
                .and_then(|n| n.strip_suffix('-'))
                .filter(|n| !hash.is_empty() && !n.is_empty())
            {
                Some(deployment) => {
                    Some((deployment.to_owned(), format!("Deployment {deployment}")))
                }
                None => Some((name.to_owned(), format!("ReplicaSet {name}"))),
            }
        }
        "Job" => match name.rsplit_once('-') {
            Some((cronjob, suffix))
                if !cronjob.is_empty()
                    && suffix.len() >= CRONJOB_SUFFIX_MIN_DIGITS
                    && suffix.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some((cronjob.to_owned(), format!("CronJob {cronjob}")))
            }
            _ => Some((name.to_owned(), format!("Job {name}"))),
        },
        _ => Some((name.to_owned(), format!("{kind} {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn derive(owner: Value, labels: Value) -> Option<(String, String)> {
        let view = PodView::from_json(
            &json!({"metadata": {"labels": labels, "ownerReferences": [owner]}, "spec": {}}),
        )
        .unwrap();
        app_id_from_owner(&view)
    }

    fn owner(kind: &str, name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": "u", "controller": true, "blockOwnerDeletion": true})
    }

    #[test]
    fn a_replicaset_owner_gives_the_deployment_name() {
        assert_eq!(
            derive(
                owner("ReplicaSet", "orders-api-7c9d8f6b5"),
                json!({"pod-template-hash": "7c9d8f6b5"})
            ),
            Some(("orders-api".to_owned(), "Deployment orders-api".to_owned()))
        );
    }

    #[test]
    fn a_bare_replicaset_keeps_its_name() {
        assert_eq!(
            derive(owner("ReplicaSet", "cache"), json!({})),
            Some(("cache".to_owned(), "ReplicaSet cache".to_owned()))
        );
    }

    #[test]
    fn statefulset_daemonset_and_job_owners_are_used_as_they_are() {
        for kind in ["StatefulSet", "DaemonSet", "Job"] {
            assert_eq!(
                derive(owner(kind, "worker"), json!({})),
                Some(("worker".to_owned(), format!("{kind} worker")))
            );
        }
    }

    #[test]
    fn a_cronjob_job_loses_its_schedule_suffix() {
        assert_eq!(
            derive(owner("Job", "nightly-report-29412345"), json!({})),
            Some((
                "nightly-report".to_owned(),
                "CronJob nightly-report".to_owned()
            ))
        );
        assert_eq!(
            derive(owner("Job", "migrate-2"), json!({})),
            Some(("migrate-2".to_owned(), "Job migrate-2".to_owned()))
        );
    }

    #[test]
    fn only_the_controller_owner_counts() {
        let mut not_controller = owner("ReplicaSet", "x");
        not_controller["controller"] = json!(false);
        assert_eq!(derive(not_controller, json!({})), None);
    }
}

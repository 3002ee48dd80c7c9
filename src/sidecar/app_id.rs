//! The app id: `dapr.io/app-id`, else the Pod's name, else (setting `appIdFromOwner`, Dapr
//! issue 5141) the name of the workload that owns the Pod, since controller-created Pods have
//! no name at admission. Then Dapr's `ValidateKubernetesAppID`.

use serde_json::Value;

use crate::annotations::{DaprAnnotations, keys};
use crate::base::k8s::names::dns1123_label;
use crate::base::problem::{Problem, Reason, name};
use crate::pod::PodView;

/// The app id: the annotation, else the Pod's name, else (when allowed) the controller's.
pub fn resolve(
    annotations: &DaprAnnotations,
    view: &PodView,
    from_owner: bool,
    problems: &mut Vec<Problem>,
) -> String {
    if !annotations.app_id.is_empty() {
        return annotations.app_id.clone();
    }
    if !view.name.is_empty() || !from_owner {
        return view.name.clone();
    }
    match app_id_from_owner(view) {
        Some((id, source)) => {
            problems.push(Problem::advice(
                keys::app_id,
                format!("not set; using {} from {source}", name(&id)),
            ));
            id
        }
        None => String::new(),
    }
}

/// Dapr's `ValidateKubernetesAppID`: `<id>-dapr` must be a DNS-1123 label.
pub fn validate(app_id: &str) -> Result<(), Reason> {
    if app_id.is_empty() {
        return Err(Reason::EmptyAppId {
            annotation: keys::app_id,
        });
    }
    let service = format!("{app_id}-dapr");
    dns1123_label(&service).map_err(|error| Reason::InvalidAppId {
        app_id: app_id.to_owned(),
        service,
        error,
    })
}

pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// CronJob names its Jobs `<cronjob>-<scheduled time in minutes since the epoch>`.
const CRONJOB_SUFFIX_MIN_DIGITS: usize = 8;

/// The workload a Pod belongs to: (app id, where it came from, for the warning).
fn app_id_from_owner(pod: &PodView) -> Option<(String, String)> {
    owning_workload(pod).map(|(kind, name)| (name.clone(), format!("{kind} {name}")))
}

/// The workload that runs the Pod, as (kind, name): its controller, except that a
/// Deployment's ReplicaSet gives the Deployment and a CronJob's Job gives the CronJob.
pub fn owning_workload(pod: &PodView) -> Option<(String, String)> {
    let owners = pod.owner_references();
    let owner = owners
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))?;
    let kind = owner.get("kind").and_then(Value::as_str)?;
    let name = owner
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())?;
    let workload = |kind: &str, name: &str| Some((kind.to_owned(), name.to_owned()));
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
                Some(deployment) => workload("Deployment", deployment),
                None => workload(kind, name),
            }
        }
        "Job" => match name.rsplit_once('-') {
            Some((cronjob, suffix))
                if !cronjob.is_empty()
                    && suffix.len() >= CRONJOB_SUFFIX_MIN_DIGITS
                    && suffix.bytes().all(|b| b.is_ascii_digit()) =>
            {
                workload("CronJob", cronjob)
            }
            _ => workload(kind, name),
        },
        _ => workload(kind, name),
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

    #[test]
    fn an_empty_app_id_gets_dapr_message() {
        assert_eq!(
            validate("").unwrap_err().to_string(),
            "value for the dapr.io/app-id annotation is empty"
        );
    }

    #[test]
    fn an_app_id_with_an_underscore_gets_dapr_message() {
        assert_eq!(
            validate("my_app").unwrap_err().to_string(),
            "invalid app id (input: 'my_app', service: 'my_app-dapr'): a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        );
    }

    #[test]
    fn an_app_id_is_at_most_58_characters() {
        assert!(validate(&"a".repeat(58)).is_ok());
        assert_eq!(
            validate(&"a".repeat(59)).unwrap_err().to_string(),
            format!(
                "invalid app id (input: '{0}', service: '{0}-dapr'): must be no more than 63 characters",
                "a".repeat(59)
            )
        );
    }

    #[test]
    fn uppercase_and_dots_are_not_valid_app_ids() {
        assert!(validate("MyApp").is_err());
        assert!(validate("my.app").is_err());
        assert!(validate("-app").is_err());
        assert!(validate("123-abc").is_ok());
    }
}

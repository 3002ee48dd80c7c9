//! `dapr-inject check --restart-commands`: one `kubectl rollout restart` per workload that runs
//! a Pod needing a restart, ready to pipe into `sh`. `kubectl rollout restart` restarts
//! Deployments, DaemonSets and StatefulSets; a Job, a CronJob or a bare Pod is never
//! restarted, and says why.

use std::collections::{BTreeMap, BTreeSet};

use dapr_sidecar_injector::Status;
use serde_json::Value;

use crate::check::{Line, TRUST_STALE};

/// The kinds `kubectl rollout restart` takes, as it names them.
const RESTARTABLE: &[(&str, &str)] = &[
    ("Deployment", "deployment"),
    ("DaemonSet", "daemonset"),
    ("StatefulSet", "statefulset"),
];

/// The ReplicaSets of a listing (`kubectl get pods,replicasets -A -o json`), each with the
/// workload that controls it, by namespace and name.
#[derive(Debug, Default)]
pub struct ReplicaSets(BTreeMap<(String, String), (String, String)>);

impl ReplicaSets {
    /// Records a ReplicaSet and its controller, if it has one.
    pub fn add(&mut self, replica_set: &Value) {
        let text = |pointer: &str| replica_set.pointer(pointer).and_then(Value::as_str);
        let controller = replica_set
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true));
        let owner =
            controller.and_then(|o| Some((o.get("kind")?.as_str()?, o.get("name")?.as_str()?)));
        if let (Some(namespace), Some(name), Some((kind, owner))) =
            (text("/metadata/namespace"), text("/metadata/name"), owner)
        {
            self.0.insert(
                (namespace.to_owned(), name.to_owned()),
                (kind.to_owned(), owner.to_owned()),
            );
        }
    }

    /// A ReplicaSet's controller, `Kind namespace/name`, when the listing holds it.
    fn controller(&self, namespace: &str, name: &str) -> Option<String> {
        let (kind, owner) = self.0.get(&(namespace.to_owned(), name.to_owned()))?;
        Some(format!("{kind} {namespace}/{owner}"))
    }
}

/// The commands, sorted and without repeats, and a note for each Pod that needs more than a
/// command: a Job, a CronJob, a bare Pod, or a controller kubectl cannot restart.
pub fn restart_commands(lines: &[Line], replica_sets: &ReplicaSets) -> (Vec<String>, Vec<String>) {
    let mut commands = BTreeSet::new();
    let mut notes = Vec::new();
    for line in lines.iter().filter(|l| needs_restart(l.status)) {
        let owner = workload(&line.owner, replica_sets);
        let pod = format!("{}/{}", line.namespace, line.pod);
        let Some((kind, rest)) = owner.split_once(' ') else {
            notes.push(format!(
                "{pod} ({}): a Pod without a controller; recreate it by hand",
                line.status
            ));
            continue;
        };
        let Some((namespace, name)) = rest.split_once('/') else {
            continue;
        };
        match RESTARTABLE.iter().find(|(k, _)| *k == kind) {
            Some((_, resource)) => {
                commands.insert(format!(
                    "kubectl rollout restart {resource} {name} -n {namespace}"
                ));
            }
            None if matches!(kind, "Job" | "CronJob") => notes.push(format!(
                "{pod} ({}): run by {owner}, which is not restarted; its next Pod gets the current sidecar",
                line.status
            )),
            None => notes.push(format!(
                "{pod} ({}): run by {owner}, which kubectl rollout restart cannot restart; delete the Pod to recreate it",
                line.status
            )),
        }
    }
    (commands.into_iter().collect(), notes)
}

/// Whether `kubectl rollout restart` restarts this kind of workload.
pub fn restartable(kind: &str) -> bool {
    RESTARTABLE.iter().any(|(k, _)| *k == kind)
}

/// Whether a restart fixes a Pod of this status.
pub fn needs_restart(status: &str) -> bool {
    status == TRUST_STALE
        || [Status::Missing, Status::Stale, Status::Drift]
            .iter()
            .any(|s| s.name() == status)
}

/// The workload to restart, `Kind namespace/name`: a ReplicaSet of the listing gives its
/// controller.
pub fn workload(owner: &str, replica_sets: &ReplicaSets) -> String {
    let replica_set = owner
        .strip_prefix("ReplicaSet ")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(namespace, name)| replica_sets.controller(namespace, name));
    replica_set.unwrap_or_else(|| owner.to_owned())
}

//! `dapr-inject check`: the policy's verify mode over a listing of Pods, such as
//! `kubectl get pods -A -o json`. Like `linkerd check --proxy`, it finds every Pod that asked
//! for Dapr and runs without its sidecar, or with one an upgrade left behind.

use dapr_sidecar_injector::{
    NAMESPACE_KIND, POD_KIND, Report, SIDECAR_CONTAINER_NAME, Settings, Status, TRUST_ANCHORS_ENV,
    misplaced_annotations, verify_manifest_pod, workload_kinds,
};
use serde::Serialize;
use serde_json::Value;

use crate::anchors::{self, Root};
use crate::manifest::{DEFAULT_NAMESPACE, Place};

/// `kubectl get pods,replicasets` lists both; a ReplicaSet names the workload to restart.
const REPLICA_SET_KIND: &str = "ReplicaSet";
/// A Pod without daprd whose creator is not known offline: Dapr injects only for requesters it
/// allows, and a stored Pod does not record who created it.
pub const REQUESTER_UNKNOWN: &str = "requester unknown";
/// The status of a daprd whose trust anchors lack a current root.
pub const TRUST_STALE: &str = "trust-stale";

/// `kubectl get -o json` wraps what it lists in a `List`; typed lists end the same way.
const LIST_KIND_SUFFIX: &str = "List";

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub namespace: String,
    pub pod: String,
    pub owner: String,
    pub app_id: String,
    pub image: String,
    pub status: &'static str,
    pub reason: String,
}

/// The report of a whole input.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub lines: Vec<Line>,
    /// What was not a Pod, by place.
    pub skipped: Vec<String>,
    /// The policy's warnings about the Pods and workloads, by place.
    pub warnings: Vec<String>,
    pub failures: usize,
    /// The control plane's current roots; with none, trust anchors are not judged.
    pub roots: Vec<Root>,
    /// The ReplicaSets of the listing, for the workloads to restart.
    pub replica_sets: crate::restart::ReplicaSets,
    /// The Namespaces known (the listing's, `--namespace-annotations`), for `namespaceDefaults`.
    pub namespaces: crate::namespaces::Namespaces,
}

impl CheckReport {
    /// Verifies every Pod in `object`, descending into lists; `place` names it in messages.
    pub fn add(&mut self, object: &Value, place: &Place, settings: &Settings) {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.ends_with(LIST_KIND_SUFFIX)
            && let Some(items) = object.get("items").and_then(Value::as_array)
        {
            for (i, item) in items.iter().enumerate() {
                self.add(item, &place.item(i + 1), settings);
            }
            return;
        }
        if kind == REPLICA_SET_KIND {
            self.replica_sets.add(object);
            return;
        }
        if kind == NAMESPACE_KIND {
            // Read before any Pod, for namespaceDefaults.
            return;
        }
        if kind != POD_KIND {
            self.warn_misplaced(object, kind, place);
            let kind = if kind.is_empty() { "<no kind>" } else { kind };
            self.skipped
                .push(format!("{}: skipped {kind}: not a Pod", place.text));
            return;
        }
        let metadata = |key: &str| {
            object
                .pointer(&format!("/metadata/{key}"))
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        let namespace = metadata("namespace")
            .unwrap_or(DEFAULT_NAMESPACE)
            .to_owned();
        let pod = metadata("name")
            .or_else(|| metadata("generateName"))
            .unwrap_or("<no name>")
            .to_owned();
        let report = verify_manifest_pod(object.clone(), &namespace, settings, &self.namespaces);
        for problem in &report.problems {
            let warning = problem.to_warning();
            self.warnings
                .push(format!("{} ({namespace}/{pod}): {warning}", place.text));
        }
        let (ok, mut failure) = (report.status == Status::Ok, report.status.is_failure());
        let mut line = line(namespace, pod, report);
        if ok {
            self.judge_trust_anchors(object, &mut line);
        }
        if line.status == Status::Missing.name() && !created_by_a_controller(&line.owner) {
            line.status = REQUESTER_UNKNOWN;
            line.reason = "the Pod asks for Dapr and has no daprd, but offline its creator is unknown: injection is skipped for requesters Dapr does not allow. Check who created it (the API server's audit log), and recreate it through a workload or an allowed service account".to_owned();
            failure = false;
        }
        if failure || line.status == TRUST_STALE {
            self.failures += 1;
        }
        self.lines.push(line);
    }

    /// A workload of the listing with `dapr.io/` annotations on itself instead of its Pods.
    fn warn_misplaced(&mut self, object: &Value, kind: &str, place: &Place) {
        let name = object.pointer("/metadata/name").and_then(Value::as_str);
        let shown = format!("{kind} {}", name.unwrap_or("<no name>"));
        for problem in misplaced_annotations(kind, &shown, object) {
            let warning = problem.to_warning();
            self.warnings.push(format!("{}: {warning}", place.text));
        }
    }

    /// A daprd that trusts fewer roots than the control plane has is `trust-stale`: once the
    /// old root is gone, it fails mTLS.
    fn judge_trust_anchors(&self, pod: &Value, line: &mut Line) {
        if self.roots.is_empty() {
            return;
        }
        let running = daprd_env(pod, TRUST_ANCHORS_ENV).unwrap_or_default();
        let lacking: Vec<String> = anchors::missing(running, &self.roots)
            .iter()
            .map(|root| root.named())
            .collect();
        if lacking.is_empty() {
            return;
        }
        let restart = match line.owner.as_str() {
            "" => "recreate the Pod".to_owned(),
            owner => format!("restart {owner}"),
        };
        line.status = TRUST_STALE;
        line.reason = format!(
            "daprd's {TRUST_ANCHORS_ENV} lacks the current trust anchor {}: {restart}",
            lacking.join(", ")
        );
    }

    /// A table with kubectl's layout: upper-case headers, columns three spaces apart.
    pub fn table(&self) -> String {
        let headers = [
            "NAMESPACE",
            "POD",
            "OWNER",
            "APP ID",
            "IMAGE",
            "STATUS",
            "REASON",
        ];
        let mut rows = vec![headers.map(str::to_owned).to_vec()];
        rows.extend(self.lines.iter().map(|l| {
            [
                l.namespace.as_str(),
                l.pod.as_str(),
                or_dash(&l.owner),
                or_dash(&l.app_id),
                or_dash(&l.image),
                l.status,
                or_dash(&l.reason),
            ]
            .map(str::to_owned)
            .to_vec()
        }));
        aligned(&rows)
    }

    /// The same report as JSON: the lines, and how many Pods lack the right sidecar.
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            pods: &'a [Line],
            failures: usize,
        }
        let report = Json {
            pods: &self.lines,
            failures: self.failures,
        };
        // Strings and numbers only: serialising cannot fail.
        let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Columns as kubectl writes them: three spaces apart, each as wide as its widest cell.
pub fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("   ").trim_end());
        out.push('\n');
    }
    out
}

fn or_dash(value: &str) -> &str {
    if value.is_empty() { "-" } else { value }
}

/// Whether the Pod's workload (its owner, `Kind ns/name`) is one the policy checks: their Pods
/// are created by Kubernetes' own controllers, which Dapr always allows.
fn created_by_a_controller(owner: &str) -> bool {
    owner
        .split_once(' ')
        .is_some_and(|(kind, _)| workload_kinds().any(|k| k == kind))
}

/// The value of a daprd env var: in an app container, or a native sidecar.
fn daprd_env<'a>(pod: &'a Value, name: &str) -> Option<&'a str> {
    ["containers", "initContainers"]
        .iter()
        .filter_map(|list| pod.pointer(&format!("/spec/{list}"))?.as_array())
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(SIDECAR_CONTAINER_NAME))?
        .get("env")?
        .as_array()?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(name))?
        .get("value")?
        .as_str()
}

fn line(namespace: String, pod: String, report: Report) -> Line {
    let reason = match (&report.finding, report.problems.first(), report.status) {
        (Some(finding), _, _) => finding.to_string(),
        (None, Some(problem), _) => problem.to_warning(),
        (None, None, Status::NotRequested) => "does not ask for the Dapr sidecar".to_owned(),
        (None, None, _) => String::new(),
    };
    Line {
        namespace,
        pod,
        owner: report.owner.unwrap_or_default(),
        app_id: report.app_id,
        image: report.image,
        status: report.status.name(),
        reason,
    }
}

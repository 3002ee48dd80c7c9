//! `dapr-inject check --summary`: the fleet at a glance, as `istioctl x injector list` gives
//! Istio's. Per namespace and workload, how many Pods stand in each status and how many need a
//! restart; then the daprd images in use, each with its release (the revision that injected
//! it); totals last.

use std::collections::BTreeMap;

use serde::Serialize;

use dapr_sidecar_injector::{DAPR_VERSIONS, Status};

use crate::check::{Line, REQUESTER_UNKNOWN, TRUST_STALE, aligned};
use crate::restart::{ReplicaSets, needs_restart, restartable, workload};

/// Every status, in the order the columns show them: verify's, and those `check` adds.
fn statuses() -> [&'static str; 9] {
    [
        Status::Ok.name(),
        Status::Missing.name(),
        Status::Stale.name(),
        Status::Drift.name(),
        TRUST_STALE,
        Status::Mismatch.name(),
        REQUESTER_UNKNOWN,
        Status::NotRequested.name(),
        Status::Unreadable.name(),
    ]
}
const NO_WORKLOAD: &str = "(bare Pods)";

/// One row: a workload, or a total.
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub namespace: String,
    pub workload: String,
    /// Pods per status; statuses without a Pod are left out.
    pub pods: BTreeMap<&'static str, usize>,
    pub needs_restart: usize,
}

impl Row {
    /// One more Pod; it needs a restart when a restart of its workload fixes it (Jobs,
    /// CronJobs and bare Pods are never restarted).
    fn count(&mut self, status: &'static str, restarts: bool) {
        *self.pods.entry(status).or_default() += 1;
        if restarts && needs_restart(status) {
            self.needs_restart += 1;
        }
    }
}

/// The summary of a listing.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub workloads: Vec<Row>,
    pub namespaces: Vec<Row>,
    pub total: Row,
    /// Pods per daprd image, with the release it belongs to; Pods without daprd are left out.
    pub images: Vec<ImageRow>,
}

/// The Pods running one daprd image: the revision they were injected by, as the image's
/// release (its tag's major.minor, one of the `daprVersion` profiles) and the image itself.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct ImageRow {
    pub release: &'static str,
    pub image: String,
    pub pods: usize,
}

/// A release shown for an image whose tag names no profile (a digest, `latest`, a fork).
const UNKNOWN_RELEASE: &str = "unknown";

/// The `daprVersion` profile an image's tag belongs to: `1.17.13` and `1.17.13-mariner` to
/// `1.17`.
pub fn release_of(image: &str) -> &'static str {
    let tag = image
        .split('@')
        .next()
        .and_then(|name| name.rsplit_once(':'))
        .map_or("", |(_, tag)| tag);
    DAPR_VERSIONS
        .iter()
        .map(|version| version.name())
        .find(|release| {
            tag.strip_prefix(release)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-']))
        })
        .unwrap_or(UNKNOWN_RELEASE)
}

pub fn summary(lines: &[Line], replica_sets: &ReplicaSets) -> Summary {
    let mut workloads: BTreeMap<(String, String), Row> = BTreeMap::new();
    let mut namespaces: BTreeMap<String, Row> = BTreeMap::new();
    let mut summary = Summary::default();
    let mut images: BTreeMap<&str, usize> = BTreeMap::new();
    summary.total.namespace = "TOTAL".to_owned();
    for line in lines {
        let owner = workload(&line.owner, replica_sets);
        let (workload, restarts) = match owner.split_once(' ') {
            Some((kind, rest)) => (
                format!("{kind} {}", rest.rsplit('/').next().unwrap_or(rest)),
                restartable(kind),
            ),
            None => (NO_WORKLOAD.to_owned(), false),
        };
        let key = (line.namespace.clone(), workload.clone());
        let row = workloads.entry(key).or_insert_with(|| Row {
            namespace: line.namespace.clone(),
            workload,
            ..Row::default()
        });
        row.count(line.status, restarts);
        let namespace = namespaces
            .entry(line.namespace.clone())
            .or_insert_with(|| Row {
                namespace: line.namespace.clone(),
                ..Row::default()
            });
        namespace.count(line.status, restarts);
        summary.total.count(line.status, restarts);
        if !line.image.is_empty() {
            *images.entry(&line.image).or_default() += 1;
        }
    }
    summary.images = images
        .into_iter()
        .map(|(image, pods)| ImageRow {
            release: release_of(image),
            image: image.to_owned(),
            pods,
        })
        .collect();
    summary.workloads = workloads.into_values().collect();
    summary.namespaces = namespaces.into_values().collect();
    summary
}

impl Summary {
    /// Aligned columns, as kubectl writes them: the workloads, each namespace's total, the
    /// grand total last; then the images.
    pub fn table(&self) -> String {
        let mut headers = vec!["NAMESPACE".to_owned(), "WORKLOAD".to_owned()];
        headers.extend(statuses().iter().map(|s| s.to_uppercase()));
        headers.push("NEEDS RESTART".to_owned());
        let row_cells = |row: &Row| {
            let mut cells = vec![row.namespace.clone(), row.workload.clone()];
            cells.extend(
                statuses()
                    .iter()
                    .map(|s| row.pods.get(s).copied().unwrap_or(0).to_string()),
            );
            cells.push(row.needs_restart.to_string());
            cells
        };
        let mut rows = vec![headers];
        rows.extend(self.workloads.iter().map(row_cells));
        rows.extend(self.namespaces.iter().map(|row| {
            let mut cells = row_cells(row);
            cells[1] = "(namespace)".to_owned();
            cells
        }));
        rows.push(row_cells(&self.total));
        let mut out = aligned(&rows);
        let mut images = vec![vec![
            "IMAGE".to_owned(),
            "RELEASE".to_owned(),
            "PODS".to_owned(),
        ]];
        images.extend(self.images.iter().map(|row| {
            vec![
                row.image.clone(),
                row.release.to_owned(),
                row.pods.to_string(),
            ]
        }));
        out.push('\n');
        out.push_str(&aligned(&images));
        out
    }

    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::release_of;

    #[test]
    fn an_images_release_is_its_tags_profile() {
        for (image, release) in [
            ("ghcr.io/dapr/daprd:1.17.13", "1.17"),
            ("registry.internal:5000/dapr/daprd:1.18.3-mariner", "1.18"),
            ("daprio/daprd:0.11.3", "0.11"),
            ("ghcr.io/dapr/daprd:1.180.0", "unknown"),
            ("ghcr.io/dapr/daprd:latest", "unknown"),
            ("ghcr.io/dapr/daprd@sha256:0123", "unknown"),
        ] {
            assert_eq!(release_of(image), release, "{image}");
        }
    }
}

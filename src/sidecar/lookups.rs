//! What the sidecar needs from the cluster, read through [`Cluster`] only for Pods that will
//! be injected, and only where no setting gives it, in the order the replay files record:
//! Configuration, ConfigMap, then Components.

use serde_json::Value;

use crate::annotations::{DaprAnnotations, keys};
use crate::base::problem::Reason;
use crate::cluster::{self, Cluster};
use crate::settings::Settings;

/// The cluster's answers, before the pure plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub mtls_enabled: bool,
    pub trust_anchors: String,
    /// The namespace's Components, for `dapr.io/inject-pluggable-components`.
    pub components: Vec<Value>,
    /// Notes for the operator's log, when an answer could not be used.
    pub log_notes: Vec<String>,
}

pub fn facts(
    a: &DaprAnnotations,
    namespace: &str,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Result<Facts, Reason> {
    let mut log_notes = Vec::new();
    let mtls_enabled = mtls(settings, cluster, &mut log_notes);
    let trust_anchors = match &settings.trust_anchors {
        Some(pem) => pem.clone(),
        None => {
            let cp_ns = &settings.control_plane_namespace;
            cluster::trust_anchors(
                cluster.get_resource(&cluster::trust_bundle_request(cp_ns)),
                cp_ns,
            )?
        }
    };
    let components = if a.inject_pluggable_components {
        cluster
            .list_resources_by_namespace(&cluster::components_request(namespace))
            .map_err(|error| Reason::ComponentList {
                annotation: keys::inject_pluggable_components,
                namespace: namespace.to_owned(),
                error,
            })?
    } else {
        Vec::new()
    };
    Ok(Facts {
        mtls_enabled,
        trust_anchors,
        components,
        log_notes,
    })
}

/// mTLS on or off: the setting `mtlsEnabled`, else Configuration `daprsystem` (one lookup),
/// with a note for the log when the lookup could not be used.
pub fn mtls(settings: &Settings, cluster: &dyn Cluster, log_notes: &mut Vec<String>) -> bool {
    if let Some(enabled) = settings.mtls_enabled {
        return enabled;
    }
    let (enabled, note) = cluster::mtls_enabled(cluster.get_resource(
        &cluster::configuration_request(&settings.control_plane_namespace),
    ));
    log_notes.extend(note);
    enabled
}

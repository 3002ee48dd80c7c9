//! What the daprd container is built from, once the cluster has been asked.

use k8s_openapi::api::core::v1::VolumeMount;

use crate::annotations::DaprAnnotations;
use crate::profiles::Scheduler;
use crate::settings::Settings;

/// Everything the container depends on beyond the annotations and settings.
#[derive(Debug, Clone)]
pub struct SidecarInputs<'a> {
    pub annotations: &'a DaprAnnotations,
    pub settings: &'a Settings,
    /// The admission request's namespace.
    pub namespace: &'a str,
    pub app_id: &'a str,
    pub mtls_enabled: bool,
    pub trust_anchors: &'a str,
    pub native_sidecar: bool,
    /// A pod toleration equals one of `ignoreEntrypointTolerations`.
    pub set_command: bool,
    pub volume_mounts: Vec<VolumeMount>,
    pub components_socket_mount: Option<VolumeMount>,
    /// How this release tells daprd where the scheduler is.
    pub scheduler: Scheduler,
    /// `spec.os.name` is `windows`: Kubernetes forbids daprd's Linux-only fields.
    pub windows: bool,
}

//! Kubewarden policy that injects Dapr's `daprd` sidecar, as Dapr v1.18.3's injector does.
//!
//! This file is the front door: the layers, and the facade that the command line, the
//! benchmark and the tests use. The layers, each importing only those below it:
//! - `shell/`: the waPC guest functions, the wire and the log;
//! - `admission/`: the gate: Pods are injected, workloads' pod templates checked;
//! - `sidecar/`: what is added, built from the annotations, the settings and the cluster;
//! - `settings/`: the settings table and its checks; `cluster.rs`: the host lookups, behind
//!   one trait; `authz.rs`;
//! - `profiles.rs`: what differs between Dapr releases;
//! - `pod/`: the Pod's JSON in and out; `plan.rs`: what is added, and Dapr's add-if-absent rules;
//! - `annotations/`: the table of every `dapr.io/*` annotation and its reader;
//! - `base/`: Dapr's names, Go's rules, Kubernetes' rules, and the problems the policy reports.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate kubewarden_policy_sdk as kubewarden;

mod admission;
mod annotations;
mod authz;
mod base;
mod cluster;
mod plan;
mod pod;
mod profiles;
mod settings;
mod shell;
mod sidecar;

pub use crate::admission::{
    Admission, Answer, Injection, Object, POD_KIND, Report, Skip, Status, Verdict, WORKLOADS,
    Workload, WorkloadKind, evaluate, inject_manifest_pod,
    inject_template as inject_manifest_template, misplaced_annotations,
    uninject as uninject_manifest_pod, verify_manifest_pod, workload_kinds,
};
pub use crate::annotations::keys::enabled as ENABLED_ANNOTATION;
pub use crate::annotations::{ANNOTATIONS, AnnotationInfo};
pub use crate::base::dapr::env::TRUST_ANCHORS as TRUST_ANCHORS_ENV;
pub use crate::base::dapr::{DAPR_VERSIONS, DaprVersion, SIDECAR_CONTAINER_NAME};
pub use crate::base::go::is_truthy;
pub use crate::base::k8s::names::{dns1123_label, is_env_var_name, qualified_name};
pub use crate::base::k8s::objects::annotation;
pub use crate::base::k8s::quantity::nano_value;
pub use crate::base::problem::{Asked, Finding, Problem, Reason, Rejection, quote};
pub use crate::cluster::{
    COMPONENT_KIND, CONFIG_MAP_API_VERSION, CONFIG_MAP_KIND, CONFIGURATION_KIND, Cluster,
    DAPR_API_VERSION, NAMESPACE_API_VERSION, NAMESPACE_KIND, Offline, SECRET_API_VERSION,
    SECRET_KIND,
};
pub use crate::settings::{
    InvalidAnnotations, Mode, PEM_CERTIFICATE, Releases, SETTING_KEYS, SETTINGS, SecurityProfile,
    SettingInfo, Settings, settings_from_value,
};
pub use crate::shell::{
    AUDIT_APP_ID, AUDIT_DAPR_VERSION, AUDIT_NAMESPACE_DEFAULTS, AUDIT_SIDECAR_IMAGE,
    ValidationResponse, validate, validate_settings, validate_with,
};

//! Policy settings: Dapr's injector environment (section 6.1 of the specification) as camelCase
//! keys, with the chart's defaults, validated once so a bad value never crash-loops a PolicyServer.

use serde::{Deserialize, Serialize};

use crate::authz::ServiceAccountMatcher;
pub use crate::base::dapr::DaprVersion;
use crate::base::dapr::{service, volume};
use crate::base::go::glob_match;
use crate::base::k8s::{names, quantity};
use crate::base::problem::closest;
use crate::profiles;

/// What every PEM certificate holds.
pub const PEM_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";

pub const DEFAULT_SIDECAR_IMAGE: &str = "ghcr.io/dapr/daprd:1.18.3";
pub const DEFAULT_CONTROL_PLANE_NAMESPACE: &str = "dapr-system";
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";
pub const DEFAULT_TRUST_DOMAIN: &str = "cluster.local";
pub const PLACEMENT_SERVICE_NAME: &str = "placement";
pub const DEFAULT_ACTORS_SERVICE_ADDRESS: &str = "dapr-placement-server:50005";
/// Dapr skips parsing the reminders address for this name (and then builds `default:.<ns>.svc.<cd>:0`).
pub const DEFAULT_REMINDERS_SERVICE_NAME: &str = "default";

/// Every key the settings accept, as written; an unknown key is answered with the closest.
pub const SETTING_KEYS: &[&str] = &[
    "mode",
    "sidecarImage",
    "sidecarImagePullPolicy",
    "controlPlaneNamespace",
    "clusterDomain",
    "controlPlaneTrustDomain",
    "mtlsEnabled",
    "trustAnchors",
    "tokenVolume",
    "actorsEnabled",
    "actorsServiceName",
    "actorsServiceAddress",
    "remindersServiceName",
    "remindersServiceAddress",
    "schedulerEnabled",
    "runAsNonRoot",
    "readOnlyRootFilesystem",
    "runAsUser",
    "runAsGroup",
    "dropAllCapabilities",
    "enableK8sDownwardApis",
    "allowedServiceAccounts",
    "nativeSidecar",
    "ignoreEntrypointTolerations",
    "componentSocketsFolder",
    "invalidAnnotations",
    "allowedSidecarImages",
    "sidecarResources",
    "securityProfile",
    "appIdFromOwner",
    "injectNamespaces",
    "daprVersion",
    "schedulerReplicas",
    "skipReminderMigration",
    "certChain",
    "certKey",
    "allowIssuerKeyInPods",
];

/// Why settings JSON is not settings: an unknown key with the closest real one, else serde's
/// own message (a wrong type or value, which names the field).
pub fn settings_error(json: &serde_json::Map<String, serde_json::Value>, error: &str) -> String {
    let unknown = json
        .keys()
        .find(|key| !SETTING_KEYS.contains(&key.as_str()));
    match unknown {
        Some(key) => match closest(key, SETTING_KEYS.iter().copied()) {
            Some(close) => format!("unknown setting \"{key}\"; did you mean {close}?"),
            None => format!(
                "unknown setting \"{key}\"; the settings are listed in the README's Settings section"
            ),
        },
        None => error.to_owned(),
    }
}

/// Settings from parsed JSON (the command line's path), with [`settings_error`]'s message.
pub fn settings_from_value(json: serde_json::Value) -> Result<Settings, String> {
    Settings::deserialize(&json).map_err(|e| {
        let keys = json.as_object().cloned().unwrap_or_default();
        settings_error(&keys, &e.to_string())
    })
}

/// A unit enum read from its name. By hand: serde's derive costs the module 1.6 KB of its
/// size budget for each enum.
fn variant<'de, D: serde::Deserializer<'de>, T: Copy>(
    deserializer: D,
    variants: &[(&'static str, T)],
    names: &'static [&'static str],
) -> Result<T, D::Error> {
    let name = String::deserialize(deserializer)?;
    variants
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| serde::de::Error::unknown_variant(&name, names))
}

macro_rules! deserialize_by_name {
    ($type:ty, $($name:literal => $variant:expr),+) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                variant(deserializer, &[$(($name, $variant)),+], &[$($name),+])
            }
        }
    };
}

deserialize_by_name!(Mode, "inject" => Mode::Inject, "verify" => Mode::Verify);
deserialize_by_name!(InvalidAnnotations, "warn" => InvalidAnnotations::Warn, "reject" => InvalidAnnotations::Reject);
deserialize_by_name!(SecurityProfile, "dapr" => SecurityProfile::Dapr, "restricted" => SecurityProfile::Restricted);

/// The setting whose namespaces are injected without the annotation.
pub const INJECT_NAMESPACES: &str = "injectNamespaces";

pub const PULL_POLICIES: &[&str] = &["Always", "Never", "IfNotPresent"];

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Inject the sidecar, or only verify that Pods have the right one.
    pub mode: Mode,
    pub sidecar_image: String,
    pub sidecar_image_pull_policy: String,
    pub control_plane_namespace: String,
    pub cluster_domain: String,
    pub control_plane_trust_domain: String,
    /// `None`: read `spec.mtls.enabled` of Configuration `daprsystem`.
    pub mtls_enabled: Option<bool>,
    /// `None`: read `ca.crt` of ConfigMap `dapr-trust-bundle`.
    pub trust_anchors: Option<String>,
    pub token_volume: bool,
    pub actors_enabled: bool,
    pub actors_service_name: String,
    pub actors_service_address: String,
    pub reminders_service_name: String,
    pub reminders_service_address: String,
    pub scheduler_enabled: bool,
    pub run_as_non_root: bool,
    pub read_only_root_filesystem: bool,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub drop_all_capabilities: bool,
    pub enable_k8s_downward_apis: bool,
    pub allowed_service_accounts: Vec<String>,
    pub native_sidecar: bool,
    /// A Pod tolerating one of these exactly gets `command: ["/daprd"]` (virtual kubelets that
    /// ignore the image's ENTRYPOINT).
    pub ignore_entrypoint_tolerations: Vec<Toleration>,
    pub component_sockets_folder: String,
    /// What an annotation value that cannot be used does to the Pod.
    pub invalid_annotations: InvalidAnnotations,
    /// Globs (Go `path.Match`) the daprd image must match; empty allows any.
    pub allowed_sidecar_images: Vec<String>,
    /// Default daprd resources; the four resource annotations override each field.
    pub sidecar_resources: Option<SidecarResources>,
    pub security_profile: SecurityProfile,
    /// Derive a missing app id from the Pod's controller instead of rejecting the Pod.
    pub app_id_from_owner: bool,
    /// Namespace globs whose Pods are injected without `dapr.io/enabled: "true"`.
    pub inject_namespaces: Vec<String>,
    /// The Dapr control plane the sidecar must match.
    pub dapr_version: DaprVersion,
    /// 1.16: replicas of the `dapr-scheduler-server` StatefulSet (Dapr reads it at start-up).
    pub scheduler_replicas: Option<u32>,
    /// 1.16: `DAPR_SKIP_REMINDER_MIGRATION` for daprd.
    pub skip_reminder_migration: bool,
    /// 0.11: the issuer certificate chain and key, else read from Secret `dapr-trust-bundle`.
    pub cert_chain: Option<String>,
    pub cert_key: Option<String>,
    /// 0.11 puts the issuer's private key into every Pod; this says the operator accepts that.
    pub allow_issuer_key_in_pods: bool,
}

/// The Dapr 1.16 chart's scheduler replica count.
pub const DEFAULT_SCHEDULER_REPLICAS_1_16: u32 = 3;

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// A mutating policy: Pods that ask for Dapr get the sidecar.
    #[default]
    Inject,
    /// A validating policy: Pods that ask for Dapr and lack the sidecar inject mode would give
    /// them are rejected; nothing is changed.
    Verify,
}

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum InvalidAnnotations {
    /// Dapr's behaviour: the value is ignored, and the policy adds a warning.
    #[default]
    Warn,
    /// The Pod is rejected, with every problem listed.
    Reject,
}

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SecurityProfile {
    /// daprd's securityContext exactly as Dapr builds it.
    #[default]
    Dapr,
    /// daprd satisfies the Pod Security "restricted" profile.
    Restricted,
}

/// `requests` and `limits` for `cpu` and `memory`, as Kubernetes quantities.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SidecarResources {
    pub requests: ResourceValues,
    pub limits: ResourceValues,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// A toleration as Dapr compares it: Go `==` on every field, where `tolerationSeconds` is a
/// pointer, so a toleration that sets it never equals another.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    pub key: String,
    pub operator: String,
    pub value: String,
    pub effect: String,
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// Dapr's `utils.Contains(podTolerations, t)` for one pod toleration given as JSON.
    pub fn equals_pod_toleration(&self, pod: &serde_json::Value) -> bool {
        let field = |name: &str| {
            pod.get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        };
        let pod_seconds = pod.get("tolerationSeconds").is_some_and(|v| !v.is_null());
        self.toleration_seconds.is_none()
            && !pod_seconds
            && self.key == field("key")
            && self.operator == field("operator")
            && self.value == field("value")
            && self.effect == field("effect")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Inject,
            sidecar_image: DEFAULT_SIDECAR_IMAGE.to_owned(),
            sidecar_image_pull_policy: "IfNotPresent".to_owned(),
            control_plane_namespace: DEFAULT_CONTROL_PLANE_NAMESPACE.to_owned(),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_owned(),
            control_plane_trust_domain: DEFAULT_TRUST_DOMAIN.to_owned(),
            mtls_enabled: None,
            trust_anchors: None,
            token_volume: true,
            actors_enabled: true,
            actors_service_name: PLACEMENT_SERVICE_NAME.to_owned(),
            actors_service_address: DEFAULT_ACTORS_SERVICE_ADDRESS.to_owned(),
            reminders_service_name: String::new(),
            reminders_service_address: String::new(),
            scheduler_enabled: true,
            run_as_non_root: true,
            read_only_root_filesystem: true,
            run_as_user: None,
            run_as_group: None,
            drop_all_capabilities: false,
            enable_k8s_downward_apis: false,
            allowed_service_accounts: Vec::new(),
            native_sidecar: false,
            ignore_entrypoint_tolerations: Vec::new(),
            component_sockets_folder: volume::COMPONENTS_DEFAULT_FOLDER.to_owned(),
            invalid_annotations: InvalidAnnotations::Warn,
            allowed_sidecar_images: Vec::new(),
            sidecar_resources: None,
            security_profile: SecurityProfile::Dapr,
            app_id_from_owner: false,
            inject_namespaces: Vec::new(),
            dapr_version: DaprVersion::V1_18,
            scheduler_replicas: None,
            skip_reminder_migration: false,
            cert_chain: None,
            cert_key: None,
            allow_issuer_key_in_pods: false,
        }
    }
}

/// A control-plane service as Dapr's `patcher.NewService` parses `<name>:<port>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub port: u32,
}

impl Service {
    pub fn new(name: &str, port: u32) -> Self {
        Service {
            name: name.to_owned(),
            port,
        }
    }

    pub fn parse(value: &str) -> Result<Service, String> {
        let (name, port) = value
            .split_once(':')
            .filter(|(name, port)| !name.is_empty() && !port.is_empty())
            .ok_or_else(|| format!("\"{value}\" is not in the form '<name>:<port>'"))?;
        let port = port
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=65535).contains(p))
            .ok_or_else(|| format!("\"{value}\" has an invalid port; use '<name>:<port>' with a port from 1 to 65535"))?;
        Ok(Service::new(name, port))
    }

    /// `<service>.<namespace>.svc.<clusterDomain>:<port>`.
    pub fn address(&self, namespace: &str, cluster_domain: &str) -> String {
        format!(
            "{}.{namespace}.svc.{cluster_domain}:{}",
            self.name, self.port
        )
    }
}

impl Settings {
    /// The actors service: `(name, service)`, as Dapr's `Config.parse` resolves it.
    pub fn actors_service(&self) -> Result<(String, Service), String> {
        if self.actors_service_name.is_empty() {
            return Ok((
                PLACEMENT_SERVICE_NAME.to_owned(),
                Service::new(service::PLACEMENT, 50005),
            ));
        }
        let service = Service::parse(&self.actors_service_address)
            .map_err(|e| format!("actorsServiceAddress: {e}"))?;
        Ok((self.actors_service_name.clone(), service))
    }

    /// The reminders service, when one is configured.
    pub fn reminders_service(&self) -> Result<Option<(String, Service)>, String> {
        match self.reminders_service_name.as_str() {
            "" => Ok(None),
            // Dapr's quirk: this name skips parsing and keeps an empty service.
            DEFAULT_REMINDERS_SERVICE_NAME => Ok(Some((
                self.reminders_service_name.clone(),
                Service::new("", 0),
            ))),
            name => {
                let service = Service::parse(&self.reminders_service_address)
                    .map_err(|e| format!("remindersServiceAddress: {e}"))?;
                Ok(Some((name.to_owned(), service)))
            }
        }
    }

    /// `spiffe://<trustDomain>/ns/<controlPlaneNamespace>/dapr-sentry`: the token audience.
    pub fn sentry_spiffe_id(&self) -> String {
        format!(
            "spiffe://{}/ns/{}/dapr-sentry",
            self.control_plane_trust_domain, self.control_plane_namespace
        )
    }

    /// Settings that only one release understands are errors for the others, so that nothing
    /// is silently ignored.
    fn validate_version(&self) -> Result<(), String> {
        let v = self.dapr_version;
        for &(setting, release) in profiles::SETTINGS_OF_ONE_RELEASE {
            if v != release && self.sets(setting) {
                return Err(format!(
                    "{setting}: only for daprVersion {}, not {}; remove it",
                    release.name(),
                    v.name()
                ));
            }
        }
        if !profiles::native_sidecar(v) && self.native_sidecar {
            return Err(format!(
                "nativeSidecar needs daprVersion 1.18; Dapr {} has no native sidecar",
                v.name()
            ));
        }
        if !profiles::service_account_globs(v) {
            self.validate_exact_service_accounts()?;
        }
        if profiles::puts_issuer_key_in_pods(v) {
            self.validate_issuer_certificates()?;
        }
        Ok(())
    }

    /// Whether a setting of [`profiles::SETTINGS_OF_ONE_RELEASE`] is set.
    fn sets(&self, setting: &str) -> bool {
        match setting {
            "schedulerReplicas" => self.scheduler_replicas.is_some(),
            "skipReminderMigration" => self.skip_reminder_migration,
            _ => {
                self.cert_chain.is_some()
                    || self.cert_key.is_some()
                    || self.allow_issuer_key_in_pods
            }
        }
    }

    /// Releases that matched service accounts by exact name (UID) or a trailing `*`.
    fn validate_exact_service_accounts(&self) -> Result<(), String> {
        for pattern in &self.allowed_service_accounts {
            let parts = pattern.split(':').map(str::trim);
            if parts
                .into_iter()
                .any(|p| p.trim_end_matches('*').contains(['*', '?', '[', '\\']))
            {
                return Err(format!(
                    "allowedServiceAccounts: \"{pattern}\": Dapr {} matches exact names or a trailing *, not globs",
                    self.dapr_version.name()
                ));
            }
        }
        Ok(())
    }

    /// 0.11's certificates: consent first, then both or neither, each in PEM.
    fn validate_issuer_certificates(&self) -> Result<(), String> {
        if !self.allow_issuer_key_in_pods {
            return Err("daprVersion 0.11 puts the Sentry issuer's private key into every Pod's environment (DAPR_CERT_KEY); set allowIssuerKeyInPods: true to accept that, or use a supported version (1.16, 1.17, 1.18)".to_owned());
        }
        if self.cert_chain.is_some() != self.cert_key.is_some() {
            return Err("certChain and certKey go together; set both, or neither to read Secret dapr-trust-bundle".to_owned());
        }
        if self
            .cert_chain
            .as_deref()
            .is_some_and(|c| !c.contains(PEM_CERTIFICATE))
        {
            return Err("certChain must be a PEM certificate chain".to_owned());
        }
        if self
            .cert_key
            .as_deref()
            .is_some_and(|k| !k.contains("PRIVATE KEY-----"))
        {
            return Err("certKey must be a PEM private key".to_owned());
        }
        Ok(())
    }

    /// The 1.16 scheduler replica count.
    pub fn scheduler_replicas_1_16(&self) -> u32 {
        self.scheduler_replicas
            .unwrap_or(DEFAULT_SCHEDULER_REPLICAS_1_16)
    }

    /// True when `image` may be the daprd image.
    pub fn image_allowed(&self, image: &str) -> bool {
        self.allowed_sidecar_images.is_empty()
            || self
                .allowed_sidecar_images
                .iter()
                .any(|g| glob_match(g, image).unwrap_or(false))
    }

    /// True when Pods of `namespace` are injected without the annotation.
    pub fn injects_namespace(&self, namespace: &str) -> bool {
        self.inject_namespaces
            .iter()
            .any(|g| glob_match(g, namespace).unwrap_or(false))
    }

    /// The first problem found, with the setting's name, its value, and what to do.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_control_plane()?;
        self.validate_sidecar()?;
        self.validate_version()?;
        self.validate_security()
    }

    /// The image, its pull policy, and the names of the control plane daprd talks to.
    fn validate_control_plane(&self) -> Result<(), String> {
        if self.sidecar_image.trim().is_empty() {
            return Err("sidecarImage must not be empty; set it to the daprd image, e.g. ghcr.io/dapr/daprd:1.18.3".to_owned());
        }
        if !PULL_POLICIES.contains(&self.sidecar_image_pull_policy.as_str()) {
            return Err(format!(
                "sidecarImagePullPolicy \"{}\" is invalid; use one of {}",
                self.sidecar_image_pull_policy,
                PULL_POLICIES.join(", ")
            ));
        }
        if let Err(e) = names::dns1123_label(&self.control_plane_namespace) {
            return Err(format!(
                "controlPlaneNamespace \"{}\" is not a namespace name: {e}",
                self.control_plane_namespace
            ));
        }
        if let Err(e) = names::dns1123_subdomain(&self.cluster_domain) {
            return Err(format!(
                "clusterDomain \"{}\" is not a DNS domain: {e}",
                self.cluster_domain
            ));
        }
        if let Err(e) = names::dns1123_subdomain(&self.control_plane_trust_domain) {
            return Err(format!(
                "controlPlaneTrustDomain \"{}\" is not a trust domain: {e}",
                self.control_plane_trust_domain
            ));
        }
        if let Some(anchors) = &self.trust_anchors
            && !anchors.contains(PEM_CERTIFICATE)
        {
            // The value itself is never echoed: it may be a key pasted by mistake.
            return Err("trustAnchors must be a PEM bundle with at least one \"-----BEGIN CERTIFICATE-----\" block; remove the setting to read ConfigMap dapr-trust-bundle instead".to_owned());
        }
        self.actors_service()?;
        self.reminders_service()?;
        Ok(())
    }

    /// daprd's user and group, its sockets, and who and what may be injected.
    fn validate_sidecar(&self) -> Result<(), String> {
        for (name, value) in [
            ("runAsUser", self.run_as_user),
            ("runAsGroup", self.run_as_group),
        ] {
            if let Some(id) = value
                && !(0..=i64::from(i32::MAX)).contains(&id)
            {
                return Err(format!(
                    "{name} {id} is invalid; use an id from 0 to {}",
                    i32::MAX
                ));
            }
        }
        if !self.component_sockets_folder.starts_with('/') {
            return Err(format!(
                "componentSocketsFolder \"{}\" must be an absolute path, e.g. /tmp/dapr-components-sockets",
                self.component_sockets_folder
            ));
        }
        ServiceAccountMatcher::new(&self.allowed_service_accounts)
            .map_err(|e| format!("allowedServiceAccounts: {e}"))?;
        validate_globs("allowedSidecarImages", &self.allowed_sidecar_images)?;
        if !self.image_allowed(&self.sidecar_image) {
            return Err(format!(
                "sidecarImage \"{}\" does not match allowedSidecarImages; add a matching glob or change the image",
                self.sidecar_image
            ));
        }
        validate_globs(INJECT_NAMESPACES, &self.inject_namespaces)?;
        Ok(())
    }

    /// The restricted profile and the default resources.
    fn validate_security(&self) -> Result<(), String> {
        if self.security_profile == SecurityProfile::Restricted
            && (!self.run_as_non_root || self.run_as_user == Some(0))
        {
            return Err(
                "securityProfile restricted needs runAsNonRoot true and a runAsUser other than 0"
                    .to_owned(),
            );
        }
        if let Some(resources) = &self.sidecar_resources {
            for (name, value) in [
                ("requests.cpu", &resources.requests.cpu),
                ("requests.memory", &resources.requests.memory),
                ("limits.cpu", &resources.limits.cpu),
                ("limits.memory", &resources.limits.memory),
            ] {
                if let Some(value) = value {
                    quantity::validate(value).map_err(|e| {
                        format!("sidecarResources.{name} \"{value}\" is not a quantity ({}); use e.g. 100m, 0.5, 128Mi or 1Gi", e.reason())
                    })?;
                }
            }
        }
        Ok(())
    }
}

fn validate_globs(setting: &str, globs: &[String]) -> Result<(), String> {
    for g in globs {
        if g.trim().is_empty() || glob_match(g, "").is_err() {
            return Err(format!(
                "{setting}: \"{g}\" is not a valid glob (use *, ?, [a-z] or [^a])"
            ));
        }
    }
    Ok(())
}

impl kubewarden_policy_sdk::settings::Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        Settings::validate(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(value: serde_json::Value) -> Result<Settings, String> {
        let s: Settings = serde_json::from_value(value).map_err(|e| e.to_string())?;
        s.validate().map(|()| s)
    }

    #[test]
    fn the_key_list_names_exactly_the_fields_serde_reads() {
        let value = serde_json::to_value(Settings::default()).unwrap();
        let mut fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = SETTING_KEYS.to_vec();
        fields.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys, fields);
    }

    #[test]
    fn an_unknown_setting_gets_the_closest_real_one() {
        let error = |json: serde_json::Value| settings_from_value(json).unwrap_err();
        assert_eq!(
            error(json!({"sidecarimage": "x"})),
            "unknown setting \"sidecarimage\"; did you mean sidecarImage?"
        );
        assert_eq!(
            error(json!({"mtlsEnable": true})),
            "unknown setting \"mtlsEnable\"; did you mean mtlsEnabled?"
        );
        assert_eq!(
            error(json!({"frobnicate": 1})),
            "unknown setting \"frobnicate\"; the settings are listed in the README's Settings section"
        );
        assert!(error(json!({"runAsUser": "root"})).contains("invalid type"));
    }

    #[test]
    fn empty_settings_are_the_chart_defaults() {
        let s = settings(json!({})).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.sidecar_image, "ghcr.io/dapr/daprd:1.18.3");
        assert_eq!(s.sidecar_image_pull_policy, "IfNotPresent");
        assert_eq!(
            s.sentry_spiffe_id(),
            "spiffe://cluster.local/ns/dapr-system/dapr-sentry"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let err = settings(json!({"sidecarImag": "x"})).unwrap_err();
        assert!(err.starts_with("unknown field `sidecarImag`"), "{err}");
    }

    #[test]
    fn a_pull_policy_outside_the_three_is_rejected() {
        assert_eq!(
            settings(json!({"sidecarImagePullPolicy": "Sometimes"})).unwrap_err(),
            "sidecarImagePullPolicy \"Sometimes\" is invalid; use one of Always, Never, IfNotPresent"
        );
    }

    #[test]
    fn an_empty_sidecar_image_is_rejected() {
        assert!(
            settings(json!({"sidecarImage": " "}))
                .unwrap_err()
                .starts_with("sidecarImage must not be empty")
        );
    }

    #[test]
    fn a_control_plane_namespace_must_be_a_namespace_name() {
        let err = settings(json!({"controlPlaneNamespace": "Dapr_System"})).unwrap_err();
        assert!(
            err.starts_with("controlPlaneNamespace \"Dapr_System\" is not a namespace name"),
            "{err}"
        );
    }

    #[test]
    fn the_cluster_and_trust_domains_must_be_dns_names() {
        assert!(settings(json!({"clusterDomain": ""})).is_err());
        assert!(settings(json!({"controlPlaneTrustDomain": "a b"})).is_err());
        assert!(settings(json!({"clusterDomain": "corp.example"})).is_ok());
    }

    #[test]
    fn trust_anchors_must_be_pem_and_are_never_echoed() {
        let err = settings(json!({"trustAnchors": "s3cr3t-key-material"})).unwrap_err();
        assert!(err.starts_with("trustAnchors must be a PEM bundle"));
        assert!(!err.contains("s3cr3t"));
    }

    #[test]
    fn an_actors_service_address_must_be_name_colon_port() {
        let err = settings(json!({"actorsServiceName": "actors", "actorsServiceAddress": "svc"}))
            .unwrap_err();
        assert_eq!(
            err,
            "actorsServiceAddress: \"svc\" is not in the form '<name>:<port>'"
        );
        let err = settings(json!({"actorsServiceAddress": "svc:0"})).unwrap_err();
        assert!(err.starts_with("actorsServiceAddress: \"svc:0\" has an invalid port"));
    }

    #[test]
    fn an_empty_actors_service_name_means_the_built_in_placement() {
        let s =
            settings(json!({"actorsServiceName": "", "actorsServiceAddress": "ignored"})).unwrap();
        assert_eq!(
            s.actors_service().unwrap(),
            (
                "placement".to_owned(),
                Service::new("dapr-placement-server", 50005)
            )
        );
    }

    #[test]
    fn the_reminders_service_named_default_keeps_dapr_quirk() {
        let s = settings(json!({"remindersServiceName": "default"})).unwrap();
        let (name, svc) = s.reminders_service().unwrap().unwrap();
        assert_eq!(
            format!("{name}:{}", svc.address("dapr-system", "cluster.local")),
            "default:.dapr-system.svc.cluster.local:0"
        );
    }

    #[test]
    fn run_as_ids_must_not_be_negative() {
        assert_eq!(
            settings(json!({"runAsUser": -1})).unwrap_err(),
            "runAsUser -1 is invalid; use an id from 0 to 2147483647"
        );
        assert!(settings(json!({"runAsGroup": 1000})).is_ok());
    }

    #[test]
    fn a_malformed_service_account_glob_is_rejected() {
        let err = settings(json!({"allowedServiceAccounts": ["argo:[abc"]})).unwrap_err();
        assert_eq!(
            err,
            "allowedServiceAccounts: invalid service account pattern \"[abc\" in \"argo:[abc\": syntax error in pattern"
        );
        let err = settings(json!({"allowedServiceAccounts": ["no-colon"]})).unwrap_err();
        assert_eq!(
            err,
            "allowedServiceAccounts: invalid pattern \"no-colon\": it must contain exactly one ':' between namespace and service account"
        );
    }

    #[test]
    fn entrypoint_tolerations_compare_like_go_structs() {
        let s = settings(json!({"ignoreEntrypointTolerations": [{"key": "azure.com/aci", "effect": "NoSchedule"}]})).unwrap();
        let t = &s.ignore_entrypoint_tolerations[0];
        assert!(t.equals_pod_toleration(&json!({"key": "azure.com/aci", "effect": "NoSchedule"})));
        assert!(!t.equals_pod_toleration(
            &json!({"key": "azure.com/aci", "effect": "NoSchedule", "operator": "Exists"})
        ));
        assert!(!t.equals_pod_toleration(
            &json!({"key": "azure.com/aci", "effect": "NoSchedule", "tolerationSeconds": 5})
        ));
        assert!(settings(json!({"ignoreEntrypointTolerations": [{"keys": "x"}]})).is_err());
    }

    #[test]
    fn the_component_sockets_folder_must_be_absolute() {
        assert!(
            settings(json!({"componentSocketsFolder": "tmp"}))
                .unwrap_err()
                .contains("must be an absolute path")
        );
    }

    #[test]
    fn opt_in_settings_default_to_dapr_behaviour() {
        let s = settings(json!({})).unwrap();
        assert_eq!(s.invalid_annotations, InvalidAnnotations::Warn);
        assert_eq!(s.security_profile, SecurityProfile::Dapr);
        assert!(
            !s.app_id_from_owner && s.inject_namespaces.is_empty() && s.sidecar_resources.is_none()
        );
        assert!(s.image_allowed("anything/at:all"));
    }

    #[test]
    fn an_unknown_mode_lists_the_known_ones() {
        let err = settings(json!({"invalidAnnotations": "rejct"})).unwrap_err();
        assert!(
            err.contains("unknown variant `rejct`, expected `warn` or `reject`"),
            "{err}"
        );
        let err = settings(json!({"securityProfile": "baseline"})).unwrap_err();
        assert!(err.contains("expected `dapr` or `restricted`"), "{err}");
    }

    #[test]
    fn the_sidecar_image_must_match_allowed_sidecar_images() {
        assert!(settings(json!({"allowedSidecarImages": ["ghcr.io/dapr/daprd:*"]})).is_ok());
        assert_eq!(
            settings(json!({"allowedSidecarImages": ["docker.io/dapr/*"]})).unwrap_err(),
            "sidecarImage \"ghcr.io/dapr/daprd:1.18.3\" does not match allowedSidecarImages; add a matching glob or change the image"
        );
        assert!(
            settings(json!({"allowedSidecarImages": ["ghcr.io/["]}))
                .unwrap_err()
                .starts_with("allowedSidecarImages: \"ghcr.io/[\" is not a valid glob")
        );
    }

    #[test]
    fn sidecar_resources_must_be_quantities_of_cpu_and_memory() {
        let s = settings(json!({"sidecarResources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}})).unwrap();
        assert_eq!(
            s.sidecar_resources.unwrap().limits.memory.as_deref(),
            Some("256Mi")
        );
        assert_eq!(
            settings(json!({"sidecarResources": {"limits": {"cpu": "lots"}}})).unwrap_err(),
            "sidecarResources.limits.cpu \"lots\" is not a quantity (not a number); use e.g. 100m, 0.5, 128Mi or 1Gi"
        );
        assert!(
            settings(json!({"sidecarResources": {"requests": {"gpu": "1"}}}))
                .unwrap_err()
                .contains("unknown field `gpu`")
        );
    }

    #[test]
    fn the_restricted_profile_refuses_root_settings() {
        assert!(settings(json!({"securityProfile": "restricted", "runAsNonRoot": false})).is_err());
        assert!(settings(json!({"securityProfile": "restricted", "runAsUser": 0})).is_err());
        assert!(settings(json!({"securityProfile": "restricted", "runAsUser": 1000})).is_ok());
    }

    #[test]
    fn inject_namespaces_are_globs() {
        let s = settings(json!({"injectNamespaces": ["team-*", "shop"]})).unwrap();
        assert!(
            s.injects_namespace("team-a")
                && s.injects_namespace("shop")
                && !s.injects_namespace("kube-system")
        );
        assert!(settings(json!({"injectNamespaces": [""]})).is_err());
    }

    #[test]
    fn an_unsupported_dapr_version_lists_the_supported_ones() {
        let err = settings(json!({"daprVersion": "1.15"})).unwrap_err();
        assert!(
            err.contains("unknown variant `1.15`, expected one of `0.11`, `1.16`, `1.17`, `1.18`"),
            "{err}"
        );
        assert_eq!(
            settings(json!({"daprVersion": "1.17"}))
                .unwrap()
                .dapr_version,
            DaprVersion::V1_17
        );
    }

    #[test]
    fn version_specific_settings_are_refused_for_other_versions() {
        assert_eq!(
            settings(json!({"schedulerReplicas": 1})).unwrap_err(),
            "schedulerReplicas: only for daprVersion 1.16, not 1.18; remove it"
        );
        assert!(settings(json!({"daprVersion": "1.16", "schedulerReplicas": 1, "skipReminderMigration": true})).is_ok());
        assert!(
            settings(json!({"daprVersion": "1.17", "nativeSidecar": true}))
                .unwrap_err()
                .starts_with("nativeSidecar needs daprVersion 1.18")
        );
        assert!(
            settings(json!({"certKey": "x"})).unwrap_err().starts_with(
                "certChain, certKey and allowIssuerKeyInPods: only for daprVersion 0.11"
            )
        );
    }

    #[test]
    fn versions_before_1_18_take_exact_names_or_a_trailing_star() {
        assert!(
            settings(json!({"daprVersion": "1.16", "allowedServiceAccounts": ["argo:argo-*"]}))
                .is_ok()
        );
        assert!(
            settings(json!({"daprVersion": "1.17", "allowedServiceAccounts": ["argo:a?go"]}))
                .unwrap_err()
                .contains("not globs")
        );
    }

    #[test]
    fn version_0_11_needs_consent_to_the_issuer_key_in_pods() {
        let err = settings(json!({"daprVersion": "0.11"})).unwrap_err();
        assert!(err.contains("set allowIssuerKeyInPods: true"), "{err}");
        assert!(settings(json!({"daprVersion": "0.11", "allowIssuerKeyInPods": true})).is_ok());
        assert!(settings(json!({"daprVersion": "0.11", "allowIssuerKeyInPods": true, "certKey": "-----BEGIN EC PRIVATE KEY-----"})).unwrap_err().starts_with("certChain and certKey go together"));
    }

    #[test]
    fn a_wrongly_typed_setting_names_the_type_expected() {
        let err = settings(json!({"tokenVolume": "yes"})).unwrap_err();
        assert!(err.contains("expected a boolean"), "{err}");
    }
}

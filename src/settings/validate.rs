//! Every setting checked once, so a bad value never crash-loops a PolicyServer: the first
//! problem, with the setting's name, its value, and what to do.

use super::table::Settings;
use super::types::SecurityProfile;
use crate::authz::ServiceAccountMatcher;
use crate::base::go::glob_match;
use crate::base::k8s::{names, quantity};
use crate::profiles;

/// What every PEM certificate holds.
pub const PEM_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";
/// The setting whose namespaces are injected without the annotation.
pub const INJECT_NAMESPACES: &str = "injectNamespaces";
const PULL_POLICIES: &[&str] = &["Always", "Never", "IfNotPresent"];
/// The Dapr 1.16 chart's scheduler replica count.
const DEFAULT_SCHEDULER_REPLICAS_1_16: u32 = 3;

impl Settings {
    /// Settings that only one release understands are errors for the others, so that nothing
    /// is silently ignored.
    fn validate_version(&self) -> Result<(), String> {
        let v = self.dapr_version;
        for (setting, release) in self.set_for_one_release() {
            if v != release {
                return Err(format!(
                    "{setting}: only for daprVersion {}, not {}; remove it",
                    release.name(),
                    v.name()
                ));
            }
        }
        let native = [
            ("nativeSidecar", self.native_sidecar),
            ("nativeSidecarForJobs", self.native_sidecar_for_jobs),
            (
                "nativeSidecarStartupProbe",
                self.native_sidecar_startup_probe,
            ),
        ];
        if let Some((setting, _)) = native
            .iter()
            .find(|(_, on)| *on && !profiles::native_sidecar(v))
        {
            return Err(format!(
                "{setting} needs daprVersion 1.18; Dapr {} has no native sidecar",
                v.name()
            ));
        }
        if self.native_sidecar_startup_probe
            && !self.native_sidecar
            && !self.native_sidecar_for_jobs
        {
            return Err("nativeSidecarStartupProbe is for a native daprd; set nativeSidecar or nativeSidecarForJobs to true as well, or remove it".to_owned());
        }
        if !profiles::service_account_globs(v) {
            self.validate_exact_service_accounts()?;
        }
        if profiles::puts_issuer_key_in_pods(v) {
            self.validate_issuer_certificates()?;
        }
        Ok(())
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

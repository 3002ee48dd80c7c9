//! The settings table: one row per key, as the annotations have theirs. The struct, its
//! defaults, the key list, the one-release checks and the README's rows all come from here.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::types::{InvalidAnnotations, Mode, SecurityProfile, SidecarResources, Toleration};
use crate::base::dapr::{DaprVersion, volume};
use crate::base::problem::closest;

pub const DEFAULT_SIDECAR_IMAGE: &str = "ghcr.io/dapr/daprd:1.18.3";
pub const DEFAULT_CONTROL_PLANE_NAMESPACE: &str = "dapr-system";
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";
pub const DEFAULT_TRUST_DOMAIN: &str = "cluster.local";
pub const PLACEMENT_SERVICE_NAME: &str = "placement";
pub const DEFAULT_ACTORS_SERVICE_ADDRESS: &str = "dapr-placement-server:50005";
/// The 0.11 settings, named together when one of them is set for another release.
const ISSUER_SETTINGS: &str = "certChain, certKey and allowIssuerKeyInPods";

/// Which releases read a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Releases {
    /// Every release the policy matches.
    All,
    /// One release alone; any other refuses it, naming it (or its group) in the message.
    Only(DaprVersion, Option<&'static str>),
}

const ALL: Releases = Releases::All;

/// One row of the table, for documents and checks.
#[derive(Debug, Clone, Copy)]
pub struct SettingInfo {
    pub key: &'static str,
    pub releases: Releases,
    /// The README's "default", "Dapr equivalent" and "meaning" columns.
    pub default: &'static str,
    pub dapr: &'static str,
    pub doc: &'static str,
}

/// Declares the settings from one list, so that a key, its type, its default and its
/// releases can never drift apart.
macro_rules! settings {
    ($( $field:ident : $ty:ty = $default:expr;
        $key:literal, $releases:expr,
        default $default_doc:literal, dapr $dapr:literal, doc $doc:literal; )*) => {
        #[derive(Serialize, Debug, Clone, PartialEq)]
        pub struct Settings {
            $( #[doc = $doc] #[serde(rename = $key)] pub $field: $ty, )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Settings { $( $field: $default, )* }
            }
        }

        /// Every key the settings accept, as written; an unknown key is answered with the closest.
        pub const SETTING_KEYS: &[&str] = &[$( $key ),*];

        /// Every row, in the table's order.
        pub const SETTINGS: &[SettingInfo] = &[$( SettingInfo {
            key: $key, releases: $releases, default: $default_doc, dapr: $dapr, doc: $doc,
        } ),*];

        impl Settings {
            /// Settings from a JSON object, each key read by its row. Not serde's derive: its
            /// visitor inlines every field's reader, 14 KB of the module's size budget, and
            /// its messages do not name the setting.
            pub fn from_map(map: Map<String, Value>) -> Result<Settings, String> {
                if let Some(key) = map.keys().find(|k| !SETTING_KEYS.contains(&k.as_str())) {
                    return Err(unknown_setting(key));
                }
                let mut settings = Settings::default();
                for (key, value) in map {
                    match key.as_str() {
                        $( $key => settings.$field = read($key, value)?, )*
                        _ => {}
                    }
                }
                Ok(settings)
            }

            /// The settings of one release alone that differ from their defaults, as
            /// (name in messages, release), in the table's order.
            pub(super) fn set_for_one_release(&self) -> Vec<(&'static str, DaprVersion)> {
                let default = Settings::default();
                let mut set = Vec::new();
                $( if let Releases::Only(release, group) = $releases
                    && self.$field != default.$field
                    && !set.iter().any(|(name, _)| Some(*name) == group) {
                    set.push((group.unwrap_or($key), release));
                } )*
                set
            }
        }
    };
}

/// An unknown key, answered with the closest real one.
pub fn unknown_setting(key: &str) -> String {
    match closest(key, SETTING_KEYS.iter().copied()) {
        Some(close) => format!("unknown setting \"{key}\"; did you mean {close}?"),
        None => format!(
            "unknown setting \"{key}\"; the settings are listed in the README's Settings section"
        ),
    }
}

/// One setting's value, or a message naming it.
fn read<T: DeserializeOwned>(key: &str, value: Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| format!("{key}: {e}"))
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        Settings::from_map(map).map_err(serde::de::Error::custom)
    }
}

settings! {
    mode: Mode = Mode::Inject;
        "mode", ALL,
        default r#"`inject`"#,
        dapr r#"none"#,
        doc r#"`inject`: a mutating policy that adds the sidecar; `verify`: a validating policy that refuses Pods without the sidecar inject mode would give them ([Verify mode](#verify-mode-find-the-pods-that-escaped-injection))"#;
    sidecar_image: String = DEFAULT_SIDECAR_IMAGE.to_owned();
        "sidecarImage", ALL,
        default r#"`ghcr.io/dapr/daprd:1.18.3`"#,
        dapr r#"`SIDECAR_IMAGE`"#,
        doc r#"daprd image, unless `dapr.io/sidecar-image` says otherwise"#;
    sidecar_image_pull_policy: String = "IfNotPresent".to_owned();
        "sidecarImagePullPolicy", ALL,
        default r#"`IfNotPresent`"#,
        dapr r#"`SIDECAR_IMAGE_PULL_POLICY`"#,
        doc r#"`Always`, `Never` or `IfNotPresent`; anything else is a settings error"#;
    control_plane_namespace: String = DEFAULT_CONTROL_PLANE_NAMESPACE.to_owned();
        "controlPlaneNamespace", ALL,
        default r#"`dapr-system`"#,
        dapr r#"`NAMESPACE`"#,
        doc r#"where Dapr's control plane runs: addresses, lookups, `DAPR_CONTROLPLANE_NAMESPACE`"#;
    cluster_domain: String = DEFAULT_CLUSTER_DOMAIN.to_owned();
        "clusterDomain", ALL,
        default r#"`cluster.local`"#,
        dapr r#"`KUBE_CLUSTER_DOMAIN`"#,
        doc r#"suffix of the control-plane addresses"#;
    control_plane_trust_domain: String = DEFAULT_TRUST_DOMAIN.to_owned();
        "controlPlaneTrustDomain", ALL,
        default r#"`cluster.local`"#,
        dapr r#"`DAPR_CONTROL_PLANE_TRUST_DOMAIN`"#,
        doc r#"token audience `spiffe://<td>/ns/<ns>/dapr-sentry` and `DAPR_CONTROLPLANE_TRUST_DOMAIN`"#;
    mtls_enabled: Option<bool> = None;
        "mtlsEnabled", ALL,
        default r#"unset: read Configuration `daprsystem`"#,
        dapr r#"the Configuration"#,
        doc r#"`--enable-mtls`"#;
    trust_anchors: Option<String> = None;
        "trustAnchors", ALL,
        default r#"unset: read ConfigMap `dapr-trust-bundle`"#,
        dapr r#"trust anchors file"#,
        doc r#"PEM passed as `DAPR_TRUST_ANCHORS`"#;
    token_volume: bool = true;
        "tokenVolume", ALL,
        default r#"`true`"#,
        dapr r#"inverse of `DisableTokenVolume`"#,
        doc r#"the `dapr-identity-token` projected volume and its mount"#;
    actors_enabled: bool = true;
        "actorsEnabled", ALL,
        default r#"`true`"#,
        dapr r#"`ACTORS_ENABLED`"#,
        doc r#"computed placement address"#;
    actors_service_name: String = PLACEMENT_SERVICE_NAME.to_owned();
        "actorsServiceName", ALL,
        default r#"`placement`"#,
        dapr r#"`ACTORS_SERVICE_NAME`"#,
        doc r#"`placement` gives `--placement-host-address`, another name `--actors-service`; empty means the built-in placement"#;
    actors_service_address: String = DEFAULT_ACTORS_SERVICE_ADDRESS.to_owned();
        "actorsServiceAddress", ALL,
        default r#"`dapr-placement-server:50005`"#,
        dapr r#"`ACTORS_SERVICE_ADDRESS`"#,
        doc r#"`<service>:<port>` in the control-plane namespace"#;
    reminders_service_name: String = String::new();
        "remindersServiceName", ALL,
        default r#"empty"#,
        dapr r#"`REMINDERS_SERVICE_NAME`"#,
        doc r#"`--reminders-service` when set (`default` keeps Dapr's quirk: `default:.<ns>.svc.<cd>:0`)"#;
    reminders_service_address: String = String::new();
        "remindersServiceAddress", ALL,
        default r#"empty"#,
        dapr r#"`REMINDERS_SERVICE_ADDRESS`"#,
        doc r#"`<service>:<port>`"#;
    scheduler_enabled: bool = true;
        "schedulerEnabled", ALL,
        default r#"`true`"#,
        dapr r#"`--scheduler-enabled`"#,
        doc r#"`--scheduler-host-address dapr-scheduler-server-a.<ns>.svc.<cd>:443`"#;
    run_as_non_root: bool = true;
        "runAsNonRoot", ALL,
        default r#"`true`"#,
        dapr r#"`SIDECAR_RUN_AS_NON_ROOT`"#,
        doc r#"daprd `securityContext.runAsNonRoot`"#;
    read_only_root_filesystem: bool = true;
        "readOnlyRootFilesystem", ALL,
        default r#"`true`"#,
        dapr r#"`SIDECAR_READ_ONLY_ROOT_FILESYSTEM`"#,
        doc r#"daprd `securityContext.readOnlyRootFilesystem`"#;
    run_as_user: Option<i64> = None;
        "runAsUser", ALL,
        default r#"unset"#,
        dapr r#"`SIDECAR_RUN_AS_USER`"#,
        doc r#"daprd `securityContext.runAsUser` (0 to 2147483647)"#;
    run_as_group: Option<i64> = None;
        "runAsGroup", ALL,
        default r#"unset"#,
        dapr r#"`SIDECAR_RUN_AS_GROUP`"#,
        doc r#"daprd `securityContext.runAsGroup` (0 to 2147483647)"#;
    drop_all_capabilities: bool = false;
        "dropAllCapabilities", ALL,
        default r#"`false`"#,
        dapr r#"`SIDECAR_DROP_ALL_CAPABILITIES`"#,
        doc r#"`capabilities.drop: [ALL]`"#;
    enable_k8s_downward_apis: bool = false;
        "enableK8sDownwardApis", ALL,
        default r#"`false`"#,
        dapr r#"`ENABLE_K8S_DOWNWARD_APIS`"#,
        doc r#"daprd env `DAPR_HOST_IP` from `status.podIP`"#;
    allowed_service_accounts: Vec<String> = Vec::new();
        "allowedServiceAccounts", ALL,
        default r#"`[]`"#,
        dapr r#"`ALLOWED_SERVICE_ACCOUNTS` and the deprecated `ALLOWED_SERVICE_ACCOUNTS_PREFIX_NAMES` (same glob semantics in 1.18)"#,
        doc r#"extra `namespace:serviceaccount` globs (Go `path.Match`: `*`, `?`, `[a-z]`, `[^a]`) allowed to trigger injection; a malformed glob is a settings error"#;
    native_sidecar: bool = false;
        "nativeSidecar", ALL,
        default r#"`false`"#,
        dapr r#"`NATIVE_SIDECAR_ENABLED`"#,
        doc r#"daprd as a native sidecar (last init container, `restartPolicy: Always`)"#;
    native_sidecar_startup_probe: bool = false;
        "nativeSidecarStartupProbe", ALL,
        default r#"`false`"#,
        dapr r#"none"#,
        doc r#"adds to a native daprd a `startupProbe` on `/v1.0/healthz/outbound` (port 3501), which passes once daprd can serve the app's calls and never waits for the app; the kubelet starts the next container only after a sidecar's startup probe passes ([Kubernetes: sidecar containers](https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/)), so the app starts with daprd ready. Kubernetes 1.29 or later; needs `nativeSidecar` or `nativeSidecarForJobs` ([docs/startup.md](docs/startup.md))"#;
    native_sidecar_for_jobs: bool = false;
        "nativeSidecarForJobs", ALL,
        default r#"`false`"#,
        dapr r#"none"#,
        doc r#"a Pod owned by a Job (a CronJob's Job too) gets daprd as a native sidecar without the annotation, with a warning; the kubelet stops native sidecars once the main containers exit, so the Job completes ([Kubernetes: sidecar containers](https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#jobs-with-sidecar-containers)). Kubernetes 1.29 or later; `dapr.io/enable-native-sidecar: "false"` still wins ([docs/startup.md](docs/startup.md#jobs-that-finish))"#;
    ignore_entrypoint_tolerations: Vec<Toleration> = Vec::new();
        "ignoreEntrypointTolerations", ALL,
        default r#"`[]`"#,
        dapr r#"`IGNORE_ENTRYPOINT_TOLERATIONS`"#,
        doc r#"Toleration objects; a Pod toleration equal to one of them (Go `==`, so one with `tolerationSeconds` never matches) gets `command: ["/daprd"]`"#;
    component_sockets_folder: String = volume::COMPONENTS_DEFAULT_FOLDER.to_owned();
        "componentSocketsFolder", ALL,
        default r#"`/tmp/dapr-components-sockets`"#,
        dapr r#"`DAPR_COMPONENT_SOCKETS_FOLDER`"#,
        doc r#"pluggable components' socket folder when the annotation is absent"#;
    invalid_annotations: InvalidAnnotations = InvalidAnnotations::Warn;
        "invalidAnnotations", ALL,
        default r#"`warn`"#,
        dapr r#"none (Dapr ignores and logs)"#,
        doc r#"`reject`: a Pod with an invalid annotation value is rejected, with every problem listed at once; so is a workload whose pod template has one, when it is applied"#;
    allowed_sidecar_images: Vec<String> = Vec::new();
        "allowedSidecarImages", ALL,
        default r#"`[]` (any)"#,
        dapr r#"none"#,
        doc r#"image globs; a `dapr.io/sidecar-image` outside them is rejected (that container receives the Sentry identity token), and `sidecarImage` must match them"#;
    sidecar_resources: Option<SidecarResources> = None;
        "sidecarResources", ALL,
        default r#"unset"#,
        dapr r#"none"#,
        doc r#"default `requests`/`limits` (`cpu`, `memory`) for daprd; each resource annotation still overrides its field"#;
    security_profile: SecurityProfile = SecurityProfile::Dapr;
        "securityProfile", ALL,
        default r#"`dapr`"#,
        dapr r#"none"#,
        doc r#"`restricted`: daprd meets Pod Security "restricted" (`runAsNonRoot`, no privilege escalation, capabilities drop ALL, seccomp `RuntimeDefault` unless the annotation sets another type)"#;
    app_id_from_owner: bool = false;
        "appIdFromOwner", ALL,
        default r#"`false`"#,
        dapr r#"none"#,
        doc r#"a Pod with neither `dapr.io/app-id` nor a name (every controller-created Pod) gets its app id from its controller: a ReplicaSet gives its Deployment's name (the `pod-template-hash` suffix stripped), a CronJob's Job gives the CronJob's name, other owners their own name; a warning says where the id came from. A workload applied without `dapr.io/app-id` is judged with the id its Pods will get"#;
    inject_namespaces: Vec<String> = Vec::new();
        "injectNamespaces", ALL,
        default r#"`[]`"#,
        dapr r#"none"#,
        doc r#"namespace globs whose Pods are injected without the annotation, unless they say `dapr.io/enabled: "false"`; their app id comes from the annotation or the owner, as above"#;
    namespace_defaults: bool = false;
        "namespaceDefaults", ALL,
        default r#"`false`"#,
        dapr r#"none"#,
        doc r#"the `dapr.io/*` annotations of a Pod's Namespace are defaults for it, the Pod's own winning, each named in a warning and in the audit annotation `namespace-defaults`; the Namespace is read (one lookup, `contextAwareResources` v1 Namespace) only for Pods that will be injected; its `dapr.io/enabled`, `dapr.io/app-id` and `dapr.io/sidecar-image` are never inherited ([docs/revisions.md](docs/revisions.md#namespace-defaults))"#;
    dapr_version: DaprVersion = DaprVersion::V1_18;
        "daprVersion", ALL,
        default r#"`"1.18"`"#,
        dapr r#"the injector's release"#,
        doc r#"sidecar layout: `"1.18"`, `"1.17"`, `"1.16"` or `"0.11"`; anything else is a settings error listing these"#;
    scheduler_replicas: Option<u32> = None;
        "schedulerReplicas", Releases::Only(DaprVersion::V1_16, None),
        default r#"`3` (1.16's chart)"#,
        dapr r#"replicas of StatefulSet `dapr-scheduler-server`, read by 1.16's injector at start-up"#,
        doc r#"1.16 only: one `DAPR_SCHEDULER_HOST_ADDRESS` entry per replica; `0` means no scheduler"#;
    skip_reminder_migration: bool = false;
        "skipReminderMigration", Releases::Only(DaprVersion::V1_16, None),
        default r#"`false`"#,
        dapr r#"`DAPR_SKIP_REMINDER_MIGRATION`"#,
        doc r#"1.16 only: passes `DAPR_SKIP_REMINDER_MIGRATION=true` to daprd"#;
    cert_chain: Option<String> = None;
        "certChain", Releases::Only(DaprVersion::V0_11, Some(ISSUER_SETTINGS)),
        default r#"unset: Secret `dapr-trust-bundle`"#,
        dapr r#"`issuer.crt`"#,
        doc r#"0.11 only: `DAPR_CERT_CHAIN`"#;
    cert_key: Option<String> = None;
        "certKey", Releases::Only(DaprVersion::V0_11, Some(ISSUER_SETTINGS)),
        default r#"unset: Secret `dapr-trust-bundle`"#,
        dapr r#"`issuer.key`"#,
        doc r#"0.11 only: `DAPR_CERT_KEY`"#;
    allow_issuer_key_in_pods: bool = false;
        "allowIssuerKeyInPods", Releases::Only(DaprVersion::V0_11, Some(ISSUER_SETTINGS)),
        default r#"`false`"#,
        dapr r#"none"#,
        doc r#"0.11 only, and required by it: 0.11 puts the Sentry issuer's private key into every Pod's environment"#;
}

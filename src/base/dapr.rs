//! Dapr's fixed names, like Dapr's `consts` package, and the releases the policy can match.

use serde::{Deserialize, Deserializer, Serialize};

/// The Dapr releases whose sidecar layout the policy can produce.
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum DaprVersion {
    #[serde(rename = "0.11")]
    V0_11,
    #[serde(rename = "1.16")]
    V1_16,
    #[serde(rename = "1.17")]
    V1_17,
    #[default]
    #[serde(rename = "1.18")]
    V1_18,
}

/// Every release, oldest first.
pub const DAPR_VERSIONS: [DaprVersion; 4] = [
    DaprVersion::V0_11,
    DaprVersion::V1_16,
    DaprVersion::V1_17,
    DaprVersion::V1_18,
];
const DAPR_VERSION_NAMES: &[&str] = &["0.11", "1.16", "1.17", "1.18"];

/// By hand: serde's derive for a unit enum costs the module 1.6 KB of its size budget.
impl<'de> Deserialize<'de> for DaprVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        DAPR_VERSIONS
            .into_iter()
            .find(|v| v.name() == name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, DAPR_VERSION_NAMES))
    }
}

impl DaprVersion {
    pub fn name(self) -> &'static str {
        match self {
            DaprVersion::V0_11 => "0.11",
            DaprVersion::V1_16 => "1.16",
            DaprVersion::V1_17 => "1.17",
            DaprVersion::V1_18 => "1.18",
        }
    }
}

pub const SIDECAR_CONTAINER_NAME: &str = "daprd";
pub const SIDECAR_HTTP_PORT: i32 = 3500;
pub const SIDECAR_PUBLIC_PORT: i32 = 3501;
pub const HTTP_PORT_NAME: &str = "dapr-http";
pub const GRPC_PORT_NAME: &str = "dapr-grpc";
pub const INTERNAL_GRPC_PORT_NAME: &str = "dapr-internal";
pub const METRICS_PORT_NAME: &str = "dapr-metrics";
pub const DEBUG_PORT_NAME: &str = "dapr-debug";
pub const HEALTHZ_PATH: &str = "/v1.0/healthz";
/// Healthy once daprd can serve the app's calls, without waiting for the app
/// (`pkg/runtime/runtime.go` v1.18.3: marked ready before `blockUntilAppIsReady`).
pub const OUTBOUND_HEALTHZ_PATH: &str = "/v1.0/healthz/outbound";
pub const DAPRD_BINARY: &str = "/daprd";
pub const DLV_BINARY: &str = "/dlv";
pub const MODE_KUBERNETES: &str = "kubernetes";
/// Where daprd listens for the app's Unix domain socket.
pub const UDS_DAPRD_PATH: &str = "/var/run/dapr-sockets";

/// The control plane's services, `<name>.<namespace>.svc.<clusterDomain>`.
pub mod service {
    pub const API: &str = "dapr-api";
    pub const SENTRY: &str = "dapr-sentry";
    pub const PLACEMENT: &str = "dapr-placement-server";
    /// The placement service's name in 0.11.
    pub const PLACEMENT_0_11: &str = "dapr-placement";
    pub const SCHEDULER: &str = "dapr-scheduler-server";
    /// The scheduler's headless-Service address (`-a`: every replica's A record).
    pub const SCHEDULER_DNS_A: &str = "dapr-scheduler-server-a";
}

/// Env var names: daprd's, and those Dapr gives the app containers.
pub mod env {
    pub const NAMESPACE: &str = "NAMESPACE";
    pub const TRUST_ANCHORS: &str = "DAPR_TRUST_ANCHORS";
    pub const POD_NAME: &str = "POD_NAME";
    pub const CONTROL_PLANE_NAMESPACE: &str = "DAPR_CONTROLPLANE_NAMESPACE";
    pub const CONTROL_PLANE_TRUST_DOMAIN: &str = "DAPR_CONTROLPLANE_TRUST_DOMAIN";
    pub const HOST_IP: &str = "DAPR_HOST_IP";
    pub const ENV_KEYS: &str = "DAPR_ENV_KEYS";
    pub const COMPONENT_SOCKETS_FOLDER: &str = "DAPR_COMPONENT_SOCKETS_FOLDER";
    pub const API_TOKEN: &str = "DAPR_API_TOKEN";
    pub const APP_API_TOKEN: &str = "APP_API_TOKEN";
    /// The key of a token Secret.
    pub const TOKEN_SECRET_KEY: &str = "token";
    pub const SCHEDULER_HOST_ADDRESS: &str = "DAPR_SCHEDULER_HOST_ADDRESS";
    pub const SCHEDULER_HOST_ADDRESS_DNS_A: &str = "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A";
    pub const SKIP_REMINDER_MIGRATION: &str = "DAPR_SKIP_REMINDER_MIGRATION";
    /// A user env var that switches daprd to the Windows administrator profile.
    pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";
    pub const CERT_CHAIN: &str = "DAPR_CERT_CHAIN";
    pub const CERT_KEY: &str = "DAPR_CERT_KEY";
    pub const SENTRY_LOCAL_IDENTITY: &str = "SENTRY_LOCAL_IDENTITY";
    pub const APP_HTTP_PORT: &str = "DAPR_HTTP_PORT";
    pub const APP_GRPC_PORT: &str = "DAPR_GRPC_PORT";
    pub const APP_PROTOCOL: &str = "APP_PROTOCOL";
}

/// The labels an injected Pod carries.
pub mod label {
    pub const SIDECAR_INJECTED: &str = "dapr.io/sidecar-injected";
    pub const APP_ID: &str = "dapr.io/app-id";
    pub const METRICS_ENABLED: &str = "dapr.io/metrics-enabled";
}

/// The volumes Dapr adds, and where daprd mounts them.
pub mod volume {
    pub const TOKEN_NAME: &str = "dapr-identity-token";
    pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/dapr.io/sentrytoken";
    pub const TOKEN_EXPIRATION_SECONDS: i64 = 7200;
    pub const TOKEN_PATH: &str = "token";
    pub const TOKEN_DEFAULT_MODE: i32 = 420;
    pub const UDS_NAME: &str = "dapr-unix-domain-socket";
    pub const UDS_MEDIUM: &str = "Memory";
    pub const COMPONENTS_NAME: &str = "dapr-components-unix-domain-socket";
    pub const COMPONENTS_DEFAULT_FOLDER: &str = "/tmp/dapr-components-sockets";
}

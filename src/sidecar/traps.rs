//! Dapr's known traps, which its injector never mentions (issue 27): ports daprd shares with
//! the app or with itself, host networking, service meshes, and Windows nodes chosen only by
//! `nodeSelector`. Each is a warning on the Pod; a port collision, which keeps the Pod from
//! running, is an invalid value, so `invalidAnnotations: reject` refuses it.

use crate::annotations::{DaprAnnotations, keys};
use crate::base::dapr::{SIDECAR_CONTAINER_NAME, SIDECAR_HTTP_PORT, SIDECAR_PUBLIC_PORT};
use crate::base::problem::{Problem, name};
use crate::pod::PodView;

/// daprd's `--profile-port` default (`cmd/daprd/options`): the injector never sets it.
pub const PROFILE_PORT: i32 = 7777;
/// Linux's default `net.ipv4.ip_local_port_range`: source ports of outbound connections.
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<i32> = 32768..=60999;
/// A service mesh whose proxy shares the Pod's network with daprd.
#[derive(Debug, Clone, Copy)]
pub struct Mesh {
    pub proxy: &'static str,
    /// The annotation or label that asks for the proxy, and the values that do.
    pub inject: (&'static str, &'static [&'static str]),
    /// The annotation that makes the proxy a native sidecar ("true") or not ("false").
    pub native: &'static str,
}

/// Istio (`pkg/kube/inject`, 1.30) and Linkerd (`pkg/k8s/labels.go`, version-2.20). Both put
/// a native proxy ahead of the Pod's own init containers, so ahead of a native daprd.
pub const MESHES: [Mesh; 2] = [
    Mesh {
        proxy: "istio-proxy",
        inject: ("sidecar.istio.io/inject", &["true"]),
        native: "sidecar.istio.io/nativeSidecar",
    },
    Mesh {
        proxy: "linkerd-proxy",
        inject: ("linkerd.io/inject", &["enabled", "ingress"]),
        native: "config.linkerd.io/proxy-enable-native-sidecar",
    },
];
/// Istio's revision label: a Pod labelled with it is injected by that revision.
pub const ISTIO_REVISION_LABEL: &str = "istio.io/rev";
pub const WINDOWS: &str = "windows";

/// A port daprd listens on: what it serves, and the annotation that moves it (`enabled` for
/// the two no annotation moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaprdPort {
    pub serves: &'static str,
    pub port: i32,
    pub key: &'static str,
}

/// Every port daprd listens on for these annotations.
pub fn daprd_ports(annotations: &DaprAnnotations) -> Vec<DaprdPort> {
    let port = |serves, port, key| DaprdPort { serves, port, key };
    let mut ports = vec![
        port("HTTP", SIDECAR_HTTP_PORT, keys::enabled),
        port("public", SIDECAR_PUBLIC_PORT, keys::enabled),
        port("gRPC", annotations.grpc_port, keys::grpc_port),
        port(
            "internal gRPC",
            annotations.internal_grpc_port,
            keys::internal_grpc_port,
        ),
    ];
    if annotations.enable_metrics {
        ports.push(port(
            "metrics",
            annotations.metrics_port,
            keys::metrics_port,
        ));
    }
    if annotations.enable_profiling {
        ports.push(port("profile", PROFILE_PORT, keys::enable_profiling));
    }
    if annotations.enable_debug {
        ports.push(port("debug", annotations.debug_port, keys::debug_port));
    }
    ports
}

/// The warnings for the Pod daprd joins. `native`: daprd is a native sidecar.
pub fn check(view: &PodView, annotations: &DaprAnnotations, native: bool) -> Vec<Problem> {
    let ports = daprd_ports(annotations);
    let mut problems = Vec::new();
    collisions(view, annotations.app_port, &ports, &mut problems);
    if view.host_network {
        problems.push(Problem::advice(
            keys::enabled,
            format!(
                "hostNetwork puts daprd on node ports {}: one such Pod per node",
                port_list(ports.iter().map(|p| p.port))
            ),
        ));
    }
    if let Some(found) = mesh_of(view) {
        mesh(view, found, &ports, native, &mut problems);
    }
    if view.os_name.is_empty() && view.node_selector_os == WINDOWS {
        problems.push(Problem::advice(
            keys::enabled,
            "nodeSelector picks Windows; set spec.os.name: windows too, so daprd's securityContext suits it",
        ));
    }
    problems
}

/// Two listeners on one port of the Pod's network: daprd twice, the app and daprd, or an app
/// container and daprd.
fn collisions(view: &PodView, app_port: i32, ports: &[DaprdPort], problems: &mut Vec<Problem>) {
    for (at, port) in ports.iter().enumerate() {
        if let Some(first) = ports.iter().take(at).find(|p| p.port == port.port) {
            // Blame the annotation the Pod sets, not the default it collides with.
            let sets = |p: &DaprdPort| view.annotations.contains_key(p.key);
            let (blamed, other) = if sets(first) && !sets(port) {
                (first, port)
            } else {
                (port, first)
            };
            problems.push(Problem::invalid(
                blamed.key,
                format!(
                    "{} is also daprd's {} port; daprd cannot listen twice; choose another",
                    blamed.port, other.serves
                ),
            ));
        }
    }
    if let Some(port) = ports.iter().find(|p| p.port == app_port) {
        problems.push(Problem::invalid(
            keys::app_port,
            format!(
                "{app_port} is daprd's {} port; the app cannot listen there too; choose another",
                port.serves
            ),
        ));
    }
    for container in view
        .containers
        .iter()
        .filter(|c| c.name != SIDECAR_CONTAINER_NAME)
    {
        for port in ports
            .iter()
            .filter(|p| container.ports.contains(&p.port.into()))
        {
            problems.push(Problem::invalid(
                port.key,
                format!(
                    "container {} declares {}, daprd's {} port; only one can listen in the Pod",
                    name(&container.name),
                    port.port,
                    port.serves
                ),
            ));
        }
    }
}

/// The mesh whose proxy the Pod has or asks for.
fn mesh_of(view: &PodView) -> Option<Mesh> {
    let says = |key: &str, values: &[&str]| {
        [&view.annotations, &view.labels].into_iter().any(|map| {
            map.get(key)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|v| values.contains(&v))
        })
    };
    let (istio, _) = MESHES.split_first()?;
    // An explicit "false" wins over a revision label, as in Istio's injector.
    if says(istio.inject.0, &["false"]) {
        return None;
    }
    MESHES
        .into_iter()
        .find(|mesh| view.has_container_named(mesh.proxy) || says(mesh.inject.0, mesh.inject.1))
        .or_else(|| {
            view.labels
                .contains_key(ISTIO_REVISION_LABEL)
                .then_some(*istio)
        })
}

/// Where the order of daprd and the proxy matters: ports the proxy's own connections may take
/// first (dapr/dapr#8227), and a native daprd that starts before the proxy, whose traffic
/// redirection is already in place (dapr/dapr#4422).
fn mesh(
    view: &PodView,
    mesh: Mesh,
    ports: &[DaprdPort],
    native: bool,
    problems: &mut Vec<Problem>,
) {
    let proxy = mesh.proxy;
    for port in ports.iter().filter(|p| EPHEMERAL_PORTS.contains(&p.port)) {
        problems.push(Problem::advice(
            port.key,
            format!(
                "{} is in the ephemeral range {proxy} may take from; use one below {}",
                port.port,
                EPHEMERAL_PORTS.start()
            ),
        ));
    }
    let init_ahead = view
        .init_container_names
        .iter()
        .take_while(|name| *name != SIDECAR_CONTAINER_NAME)
        .any(|name| name == proxy);
    let to_come_native = !view.has_container_named(proxy)
        && view
            .annotations
            .get(mesh.native)
            .and_then(serde_json::Value::as_str)
            == Some("true");
    if native && !init_ahead && !to_come_native {
        problems.push(Problem::advice(
            keys::enable_native_sidecar,
            format!("daprd starts before {proxy} unless that is native too: its first calls fail"),
        ));
    }
}

fn port_list(ports: impl Iterator<Item = i32>) -> String {
    ports.map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
}

//! Dapr's known traps (issue 27), one table per check: daprd's ports against the app's and
//! its own, host networking, meshes, and Windows, whose rule is written out from the API
//! server's source.

use dapr_sidecar_injector::{InvalidAnnotations, SecurityProfile, Settings};
use rstest::rstest;
use serde_json::{Value, json};

use crate::support::*;

/// The Pod of section 10 with more annotations, labels and spec fields, and its app
/// container's `ports`.
fn pod(annotations: Value, labels: Value, spec: Value, ports: &[i64]) -> Value {
    let mut pod = with_annotations(annotations);
    for (key, value) in labels.as_object().unwrap() {
        pod["metadata"]["labels"][key] = value.clone();
    }
    for (key, value) in spec.as_object().unwrap() {
        pod["spec"][key] = value.clone();
    }
    if !ports.is_empty() {
        let ports: Vec<Value> = ports
            .iter()
            .map(|p| json!({"containerPort": p, "protocol": "TCP"}))
            .collect();
        pod["spec"]["containers"][0]["ports"] = json!(ports);
    }
    pod
}

fn warnings_of(pod: Value, settings: &Settings) -> Vec<String> {
    let out = run(pod, settings, &control_plane());
    mutated(&out);
    out.warnings
}

#[rstest]
#[case::an_ordinary_pod_gets_no_warning(json!({}), &[], &[])]
#[case::app_ports_beside_daprds_are_fine(json!({"dapr.io/app-port": "8080"}), &[8080, 9091, 3502], &[])]
#[case::the_app_declaring_daprds_http_port(json!({}), &[3500],
    &["dapr.io/enabled: container \"app\" declares 3500, daprd's HTTP port; only one can listen in the Pod"])]
#[case::the_app_declaring_a_moved_grpc_port(json!({"dapr.io/grpc-port": "6000"}), &[6000, 50001],
    &["dapr.io/grpc-port: container \"app\" declares 6000, daprd's gRPC port; only one can listen in the Pod"])]
#[case::metrics_off_frees_its_port(json!({"dapr.io/enable-metrics": "false"}), &[9090], &[])]
#[case::profiling_takes_7777(json!({"dapr.io/enable-profiling": "true"}), &[7777],
    &["dapr.io/enable-profiling: container \"app\" declares 7777, daprd's profile port; only one can listen in the Pod"])]
#[case::debug_takes_its_port(json!({"dapr.io/enable-debug": "true", "dapr.io/debug-port": "3501"}), &[],
    &["dapr.io/debug-port: 3501 is also daprd's public port; daprd cannot listen twice; choose another"])]
#[case::app_port_on_daprds_metrics_port(json!({"dapr.io/app-port": "9090"}), &[],
    &["dapr.io/app-port: 9090 is daprd's metrics port; the app cannot listen there too; choose another"])]
#[case::two_annotations_on_one_port(json!({"dapr.io/grpc-port": "7000", "dapr.io/internal-grpc-port": "7000"}), &[],
    &["dapr.io/internal-grpc-port: 7000 is also daprd's gRPC port; daprd cannot listen twice; choose another"])]
#[case::the_annotation_set_is_blamed_not_the_default(json!({"dapr.io/grpc-port": "9090"}), &[],
    &["dapr.io/grpc-port: 9090 is also daprd's metrics port; daprd cannot listen twice; choose another"])]
fn ports_daprd_shares_are_named_with_the_annotation_that_moves_them(
    #[case] annotations: Value,
    #[case] ports: &[i64],
    #[case] expected: &[&str],
) {
    let warnings = warnings_of(
        pod(annotations, json!({}), json!({}), ports),
        &Settings::default(),
    );
    assert_eq!(warnings, expected);
}

#[test]
fn a_udp_port_is_no_collision_since_daprd_listens_on_tcp() {
    let mut udp = pod(json!({}), json!({}), json!({}), &[]);
    udp["spec"]["containers"][0]["ports"] = json!([{"containerPort": 3500, "protocol": "UDP"}]);
    assert!(warnings_of(udp, &Settings::default()).is_empty());
}

#[test]
fn an_explicit_no_to_istio_wins_over_its_revision_label() {
    let opted_out = pod(
        json!({"sidecar.istio.io/inject": "false", "dapr.io/enable-native-sidecar": "true"}),
        json!({"istio.io/rev": "1-26"}),
        json!({}),
        &[],
    );
    assert!(warnings_of(opted_out, &Settings::default()).is_empty());
}

#[test]
fn a_collision_is_an_invalid_value_that_reject_refuses_and_advice_is_not() {
    let strict = Settings {
        invalid_annotations: InvalidAnnotations::Reject,
        ..Settings::default()
    };
    let collision = pod(json!({}), json!({}), json!({}), &[50002]);
    assert_eq!(
        run(collision, &strict, &control_plane()).decision,
        testing::Decision::Reject("invalid Dapr annotations (policy setting invalidAnnotations: reject): dapr.io/internal-grpc-port: container \"app\" declares 50002, daprd's internal gRPC port; only one can listen in the Pod".to_owned())
    );
    let host_network = pod(json!({}), json!({}), json!({"hostNetwork": true}), &[]);
    assert_eq!(warnings_of(host_network, &strict).len(), 1);
}

const GRPC_EPHEMERAL: &str =
    "dapr.io/grpc-port: 50001 is in the ephemeral range {} may take from; use one below 32768";
const INTERNAL_EPHEMERAL: &str = "dapr.io/internal-grpc-port: 50002 is in the ephemeral range {} may take from; use one below 32768";
const ORDER: &str = "dapr.io/enable-native-sidecar: daprd starts before {} unless that is native too: its first calls fail";

#[rstest]
#[case::istio_by_annotation(json!({"sidecar.istio.io/inject": "true"}), json!({}), json!({}), "istio-proxy", true)]
#[case::istio_by_label(json!({}), json!({"sidecar.istio.io/inject": "true"}), json!({}), "istio-proxy", true)]
#[case::istio_by_revision_label(json!({}), json!({"istio.io/rev": "1-26"}), json!({}), "istio-proxy", true)]
#[case::istio_declared_native(json!({"sidecar.istio.io/inject": "true", "sidecar.istio.io/nativeSidecar": "true"}), json!({}), json!({}), "istio-proxy", false)]
#[case::istio_native_proxy_ahead(json!({}), json!({}),
    json!({"initContainers": [{"name": "istio-init"}, {"name": "istio-proxy", "restartPolicy": "Always"}]}), "istio-proxy", false)]
#[case::linkerd_by_annotation(json!({"linkerd.io/inject": "enabled"}), json!({}), json!({}), "linkerd-proxy", true)]
#[case::linkerd_declared_native(json!({"linkerd.io/inject": "enabled", "config.linkerd.io/proxy-enable-native-sidecar": "true"}), json!({}), json!({}), "linkerd-proxy", false)]
fn a_mesh_is_warned_about_where_order_matters(
    #[case] annotations: Value,
    #[case] labels: Value,
    #[case] spec: Value,
    #[case] proxy: &str,
    #[case] order_warned: bool,
) {
    let mut annotations = annotations;
    annotations["dapr.io/enable-native-sidecar"] = json!("true");
    let warnings = warnings_of(pod(annotations, labels, spec, &[]), &Settings::default());
    let mut expected = vec![
        GRPC_EPHEMERAL.replace("{}", proxy),
        INTERNAL_EPHEMERAL.replace("{}", proxy),
    ];
    if order_warned {
        expected.push(ORDER.replace("{}", proxy));
    }
    assert_eq!(warnings, expected);
}

#[test]
fn a_mesh_is_not_warned_about_once_daprds_ports_leave_the_ephemeral_range() {
    let moved = pod(
        json!({"linkerd.io/inject": "enabled", "dapr.io/grpc-port": "5001", "dapr.io/internal-grpc-port": "5002"}),
        json!({}),
        json!({}),
        &[],
    );
    assert!(warnings_of(moved, &Settings::default()).is_empty());
    let disabled = pod(
        json!({"linkerd.io/inject": "disabled"}),
        json!({}),
        json!({}),
        &[],
    );
    assert!(warnings_of(disabled, &Settings::default()).is_empty());
}

/// Kubernetes v1.36.2, `validateWindows` (pkg/apis/core/validation/validation.go, lines
/// 4865-4957): for a Pod whose `spec.os.name` is `windows`, these fields of every container's
/// `securityContext` are Forbidden, "cannot be set for a windows pod", in this order.
const FORBIDDEN_IN_WINDOWS_CONTAINERS: [&str; 10] = [
    "appArmorProfile",
    "seLinuxOptions",
    "seccompProfile",
    "capabilities",
    "readOnlyRootFilesystem",
    "privileged",
    "allowPrivilegeEscalation",
    "procMount",
    "runAsUser",
    "runAsGroup",
];

/// The API server's errors for a Windows Pod's containers, as field paths.
fn windows_violations(pod: &Value) -> Vec<String> {
    if pod["spec"]["os"]["name"] != "windows" {
        return Vec::new();
    }
    let mut errors = Vec::new();
    // VisitContainersWithPath: init containers, then containers.
    for list in ["initContainers", "containers"] {
        for (i, container) in pod["spec"][list]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for field in FORBIDDEN_IN_WINDOWS_CONTAINERS {
                if container["securityContext"].get(field).is_some() {
                    errors.push(format!("spec.{list}[{i}].securityContext.{field}"));
                }
            }
        }
    }
    errors
}

fn windows_pod() -> Value {
    pod(
        json!({}),
        json!({}),
        json!({"os": {"name": "windows"}, "nodeSelector": {"kubernetes.io/os": "windows"}}),
        &[],
    )
}

#[test]
fn dapr_output_for_a_windows_pod_breaks_the_api_servers_rule_as_measured() {
    // What Dapr's injector gives the Pod: the Linux Pod's daprd, since it cannot tell.
    let mut linux = windows_pod();
    linux["spec"].as_object_mut().unwrap().remove("os");
    let mut injected = mutated(&run(linux, &Settings::default(), &control_plane())).clone();
    injected["spec"]["os"] = json!({"name": "windows"});
    // kube-apiserver 1.36 behind this policy, before issue 27, refused it with these two.
    assert_eq!(
        windows_violations(&injected),
        [
            "spec.containers[1].securityContext.readOnlyRootFilesystem",
            "spec.containers[1].securityContext.allowPrivilegeEscalation"
        ]
    );
}

#[rstest]
#[case::the_defaults(Settings::default())]
#[case::hardened(Settings {
    run_as_user: Some(1000),
    run_as_group: Some(3000),
    drop_all_capabilities: true,
    security_profile: SecurityProfile::Restricted,
    ..Settings::default()
})]
#[case::native(Settings { native_sidecar: true, ..Settings::default() })]
fn a_windows_pod_injected_passes_the_api_servers_windows_rule(#[case] settings: Settings) {
    let out = run(windows_pod(), &settings, &control_plane());
    let injected = mutated(&out);
    assert_eq!(windows_violations(injected), Vec::<String>::new());
    let daprd = daprd(injected);
    assert_eq!(daprd["securityContext"], json!({"runAsNonRoot": true}));
    assert!(
        out.warnings
            .iter()
            .all(|w| w.starts_with("dapr.io/enabled: Windows Pod: daprd's securityContext.")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn a_linux_pod_keeps_daprs_security_context() {
    let linux = pod(json!({}), json!({}), json!({"os": {"name": "linux"}}), &[]);
    let out = run(linux, &Settings::default(), &control_plane());
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(
        daprd(mutated(&out))["securityContext"],
        worked_example_daprd()["securityContext"]
    );
}

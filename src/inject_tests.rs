//! Native tests of the pure core, with the cluster answered in-process.

use std::cell::RefCell;

use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    GetResourceRequest, ListResourcesByNamespaceRequest,
};
use serde_json::{Value, json};

use super::*;
use crate::cluster::Cluster;
use crate::settings::SecurityProfile;

const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/// Answers lookups from canned results and records every request, in order.
struct FakeCluster {
    configuration: Result<Value, String>,
    trust_bundle: Result<Value, String>,
    components: Result<Vec<Value>, String>,
    calls: RefCell<Vec<Value>>,
}

impl FakeCluster {
    fn new() -> Self {
        FakeCluster {
            configuration: Err("configurations.dapr.io \"daprsystem\" not found".to_owned()),
            trust_bundle: Ok(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"ca.crt": PEM}}),
            ),
            components: Ok(Vec::new()),
            calls: RefCell::new(Vec::new()),
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .map(|c| {
                format!(
                    "{}/{}",
                    c["kind"].as_str().unwrap_or_default(),
                    c["name"].as_str().unwrap_or("*")
                )
            })
            .collect()
    }
}

impl Cluster for FakeCluster {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String> {
        self.calls
            .borrow_mut()
            .push(serde_json::to_value(request).unwrap());
        match request.kind.as_str() {
            "Configuration" => self.configuration.clone(),
            "ConfigMap" | "Secret" => self.trust_bundle.clone(),
            other => Err(format!("unexpected kind {other}")),
        }
    }

    fn list_resources_by_namespace(
        &self,
        request: &ListResourcesByNamespaceRequest,
    ) -> Result<Vec<Value>, String> {
        self.calls
            .borrow_mut()
            .push(serde_json::to_value(request).unwrap());
        self.components.clone()
    }
}

fn controller() -> Admission<'static> {
    Admission {
        kind: "Pod",
        operation: "CREATE",
        namespace: "default",
        username: "system:serviceaccount:kube-system:replicaset-controller",
        groups: vec![
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ],
    }
}

/// The Pod of section 10 of the specification, as the API server sends it.
fn worked_example_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "myapp-7c9d-",
            "namespace": "default",
            "labels": {"app": "myapp"},
            "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "myapp", "dapr.io/app-port": "8080"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "myapp-7c9d", "uid": "0d5e3c52-8f8e-4f3c-9b7e-3a1f6f2c0a11", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "containers": [{
                "name": "app",
                "image": "example/myapp:1.0",
                "volumeMounts": [{"name": "kube-api-access-x1y2z", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
            }],
            "volumes": [{"name": "kube-api-access-x1y2z", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}]
        }
    })
}

/// The daprd container of section 10, with `<PEM>` as the trust anchors.
fn worked_example_daprd() -> Value {
    json!({
        "name": "daprd", "image": "ghcr.io/dapr/daprd:1.18.3",
        "args": ["/daprd", "--dapr-http-port", "3500", "--dapr-grpc-port", "50001", "--dapr-internal-grpc-port", "50002",
                 "--dapr-listen-addresses", "[::1],127.0.0.1", "--dapr-public-port", "3501", "--app-id", "myapp",
                 "--app-protocol", "http", "--log-level", "info", "--dapr-graceful-shutdown-seconds", "-1", "--mode", "kubernetes",
                 "--control-plane-address", "dapr-api.dapr-system.svc.cluster.local:443",
                 "--sentry-address", "dapr-sentry.dapr-system.svc.cluster.local:443", "--app-port", "8080",
                 "--enable-metrics", "--metrics-port", "9090",
                 "--placement-host-address", "dapr-placement-server.dapr-system.svc.cluster.local:50005",
                 "--enable-mtls", "--scheduler-host-address", "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"],
        "ports": [{"name": "dapr-http", "containerPort": 3500}, {"name": "dapr-grpc", "containerPort": 50001},
                  {"name": "dapr-internal", "containerPort": 50002}, {"name": "dapr-metrics", "containerPort": 9090}],
        "env": [{"name": "NAMESPACE", "value": "default"}, {"name": "DAPR_TRUST_ANCHORS", "value": PEM},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "DAPR_CONTROLPLANE_NAMESPACE", "value": "dapr-system"},
                {"name": "DAPR_CONTROLPLANE_TRUST_DOMAIN", "value": "cluster.local"}],
        "resources": {},
        "volumeMounts": [{"name": "dapr-identity-token", "readOnly": true, "mountPath": "/var/run/secrets/dapr.io/sentrytoken"}],
        "livenessProbe": {"tcpSocket": {"port": 3501}, "initialDelaySeconds": 180, "timeoutSeconds": 3, "periodSeconds": 10, "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/v1.0/healthz", "port": 3501}, "initialDelaySeconds": 1, "timeoutSeconds": 1, "periodSeconds": 1, "failureThreshold": 5},
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false}
    })
}

/// The worked example's Pod after Dapr's patch of section 10 is applied.
fn worked_example_result() -> Value {
    let mut pod = worked_example_pod();
    pod["spec"]["volumes"].as_array_mut().unwrap().push(json!({"name": "dapr-identity-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "spiffe://cluster.local/ns/dapr-system/dapr-sentry", "expirationSeconds": 7200, "path": "token"}}], "defaultMode": 420}}));
    pod["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(worked_example_daprd());
    let labels = pod["metadata"]["labels"].as_object_mut().unwrap();
    labels.insert("dapr.io/sidecar-injected".into(), json!("true"));
    labels.insert("dapr.io/app-id".into(), json!("myapp"));
    labels.insert("dapr.io/metrics-enabled".into(), json!("true"));
    pod["spec"]["containers"][0]["env"] = json!([{"name": "DAPR_HTTP_PORT", "value": "3500"}, {"name": "DAPR_GRPC_PORT", "value": "50001"}, {"name": "APP_PROTOCOL", "value": "http"}]);
    pod
}

fn run(pod: Value, settings: &Settings, cluster: &FakeCluster) -> Outcome {
    evaluate(&controller(), pod, settings, cluster)
}

fn mutated(outcome: &Outcome) -> &Value {
    match &outcome.decision {
        Decision::Mutate(pod) => pod,
        other => panic!(
            "expected a mutation, got {other:?} (warnings {:?})",
            outcome.warnings
        ),
    }
}

fn daprd(pod: &Value) -> &Value {
    pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            pod["spec"]["initContainers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .find(|c| c["name"] == "daprd")
        .expect("a daprd container")
}

fn with_annotations(extra: Value) -> Value {
    let mut pod = worked_example_pod();
    for (k, v) in extra.as_object().unwrap() {
        pod["metadata"]["annotations"][k] = v.clone();
    }
    pod
}

fn args_of(pod: &Value) -> Vec<String> {
    serde_json::from_value(daprd(pod)["args"].clone()).unwrap()
}

#[test]
fn the_worked_example_comes_out_field_for_field() {
    let cluster = FakeCluster::new();
    let outcome = run(worked_example_pod(), &Settings::default(), &cluster);
    assert_eq!(mutated(&outcome), &worked_example_result());
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert_eq!(
        outcome.audit_annotations,
        vec![
            ("dapr.io/app-id".to_owned(), "myapp".to_owned()),
            (
                "dapr.io/sidecar-image".to_owned(),
                "ghcr.io/dapr/daprd:1.18.3".to_owned()
            )
        ]
    );
}

#[test]
fn the_lookups_are_configuration_then_trust_bundle() {
    let cluster = FakeCluster::new();
    run(worked_example_pod(), &Settings::default(), &cluster);
    assert_eq!(
        cluster.calls(),
        vec!["Configuration/daprsystem", "ConfigMap/dapr-trust-bundle"]
    );
    assert_eq!(cluster.calls.borrow()[0]["namespace"], "dapr-system");
}

#[test]
fn settings_for_mtls_and_trust_anchors_replace_both_lookups() {
    let cluster = FakeCluster::new();
    let settings = Settings {
        mtls_enabled: Some(false),
        trust_anchors: Some(PEM.to_owned()),
        ..Settings::default()
    };
    let outcome = run(worked_example_pod(), &settings, &cluster);
    assert!(cluster.calls().is_empty());
    assert!(!args_of(mutated(&outcome)).contains(&"--enable-mtls".to_owned()));
}

#[test]
fn mtls_disabled_in_the_configuration_drops_enable_mtls_only() {
    let mut cluster = FakeCluster::new();
    cluster.configuration = Ok(json!({"spec": {"mtls": {"enabled": "false"}}}));
    let outcome = run(worked_example_pod(), &Settings::default(), &cluster);
    let mut expected: Vec<String> =
        serde_json::from_value(worked_example_daprd()["args"].clone()).unwrap();
    expected.retain(|a| a != "--enable-mtls");
    assert_eq!(args_of(mutated(&outcome)), expected);
}

#[test]
fn a_missing_trust_bundle_rejects_the_pod_with_how_to_fix_it() {
    let mut cluster = FakeCluster::new();
    cluster.trust_bundle = Err("Cannot find v1/ConfigMap named 'dapr-trust-bundle'".to_owned());
    let outcome = run(worked_example_pod(), &Settings::default(), &cluster);
    assert_eq!(
        outcome.decision,
        Decision::Reject("cannot read the Dapr trust anchors from ConfigMap dapr-trust-bundle in namespace dapr-system: Cannot find v1/ConfigMap named 'dapr-trust-bundle'; install Dapr's control plane there, let the PolicyServer read it (examples/rbac.yaml), or set the trustAnchors setting".to_owned())
    );
}

#[test]
fn non_pods_and_non_creates_are_accepted_untouched_without_lookups() {
    let cluster = FakeCluster::new();
    for (kind, operation) in [
        ("Deployment", "CREATE"),
        ("Pod", "UPDATE"),
        ("Pod", "DELETE"),
    ] {
        let admission = Admission {
            kind,
            operation,
            ..controller()
        };
        let outcome = evaluate(
            &admission,
            worked_example_pod(),
            &Settings::default(),
            &cluster,
        );
        assert_eq!(outcome, Outcome::accept(Vec::new()));
    }
    assert!(cluster.calls().is_empty());
}

#[test]
fn only_enabled_true_in_any_case_injects() {
    for value in ["yes", "1", "on", " true", "false", ""] {
        let cluster = FakeCluster::new();
        let outcome = run(
            with_annotations(json!({"dapr.io/enabled": value})),
            &Settings::default(),
            &cluster,
        );
        assert_eq!(outcome.decision, Decision::Accept, "{value:?}");
        assert!(cluster.calls().is_empty());
    }
    let outcome = run(
        with_annotations(json!({"dapr.io/enabled": "TRUE"})),
        &Settings::default(),
        &FakeCluster::new(),
    );
    mutated(&outcome);
}

#[test]
fn a_pod_with_a_daprd_container_or_init_container_is_left_alone() {
    let mut pod = worked_example_pod();
    pod["spec"]["initContainers"] = json!([{"name": "daprd", "image": "x"}]);
    assert_eq!(
        run(pod, &Settings::default(), &FakeCluster::new()).decision,
        Decision::Accept
    );
    let injected = mutated(&run(
        worked_example_pod(),
        &Settings::default(),
        &FakeCluster::new(),
    ))
    .clone();
    let cluster = FakeCluster::new();
    assert_eq!(
        run(injected, &Settings::default(), &cluster),
        Outcome::accept(Vec::new())
    );
    assert!(cluster.calls().is_empty());
}

#[test]
fn an_unauthorized_requester_gets_the_pod_unchanged_with_a_warning() {
    let cluster = FakeCluster::new();
    let admission = Admission {
        username: "jane",
        groups: vec!["system:authenticated"],
        ..controller()
    };
    let outcome = evaluate(
        &admission,
        worked_example_pod(),
        &Settings::default(),
        &cluster,
    );
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(
        outcome.warnings,
        vec![
            "dapr.io/enabled: not injected: \"jane\" may not inject; add it to setting allowedServiceAccounts"
        ]
    );
    assert!(cluster.calls().is_empty());
}

#[test]
fn allowed_service_account_globs_and_system_masters_authorize() {
    let settings = Settings {
        allowed_service_accounts: vec!["argo*:*".to_owned()],
        ..Settings::default()
    };
    let argo = Admission {
        username: "system:serviceaccount:argo-workflows:argo",
        groups: vec![],
        ..controller()
    };
    mutated(&evaluate(
        &argo,
        worked_example_pod(),
        &settings,
        &FakeCluster::new(),
    ));
    let admin = Admission {
        username: "kubernetes-admin",
        groups: vec!["system:masters"],
        ..controller()
    };
    mutated(&evaluate(
        &admin,
        worked_example_pod(),
        &Settings::default(),
        &FakeCluster::new(),
    ));
}

#[test]
fn an_invalid_app_id_rejects_the_pod_before_any_lookup() {
    let cluster = FakeCluster::new();
    let outcome = run(
        with_annotations(json!({"dapr.io/app-id": "My_App"})),
        &Settings::default(),
        &cluster,
    );
    let Decision::Reject(message) = outcome.decision else {
        panic!("not rejected")
    };
    assert!(
        message.starts_with(
            "invalid app id (input: 'My_App', service: 'My_App-dapr'): a lowercase RFC 1123 label"
        ),
        "{message}"
    );
    assert!(cluster.calls().is_empty());
}

#[test]
fn a_controller_pod_without_app_id_is_rejected_as_dapr_does() {
    let mut pod = worked_example_pod();
    pod["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dapr.io/app-id");
    let outcome = run(pod, &Settings::default(), &FakeCluster::new());
    assert_eq!(
        outcome.decision,
        Decision::Reject("value for the dapr.io/app-id annotation is empty".to_owned())
    );
}

#[test]
fn the_app_id_falls_back_to_the_pod_name() {
    let mut pod = worked_example_pod();
    pod["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dapr.io/app-id");
    pod["metadata"]["name"] = json!("debug-pod");
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    let pod = mutated(&out);
    assert_eq!(pod["metadata"]["labels"]["dapr.io/app-id"], "debug-pod");
    assert!(
        args_of(pod)
            .windows(2)
            .any(|w| w == ["--app-id", "debug-pod"])
    );
}

#[test]
fn ignored_annotation_values_become_warnings_and_keep_defaults() {
    let out = run(
        with_annotations(
            json!({"dapr.io/app-port": "zorro", "dapr.io/sidecar-cpu-limit": "lots", "dapr.io/sidecar-memory-request": "64Mi"}),
        ),
        &Settings::default(),
        &FakeCluster::new(),
    );
    let pod = mutated(&out);
    assert_eq!(daprd(pod)["resources"], json!({}));
    assert!(!args_of(pod).contains(&"--app-port".to_owned()));
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/app-port: \"zorro\" is not an integer; ignored",
            "dapr.io/sidecar-cpu-limit: \"lots\" is not a quantity (not a number); all 4 ignored",
        ]
    );
}

#[test]
fn valid_resource_annotations_set_requests_and_limits() {
    let out = run(
        with_annotations(
            json!({"dapr.io/sidecar-cpu-request": "0.5", "dapr.io/sidecar-cpu-limit": "4.0", "dapr.io/sidecar-memory-request": "250Mi", "dapr.io/sidecar-memory-limit": "512Mi"}),
        ),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(
        daprd(mutated(&out))["resources"],
        json!({"requests": {"cpu": "0.5", "memory": "250Mi"}, "limits": {"cpu": "4.0", "memory": "512Mi"}})
    );
}

#[test]
fn app_containers_keep_their_own_dapr_env_values() {
    let mut pod = worked_example_pod();
    pod["spec"]["containers"][0]["env"] = json!([{"name": "DAPR_HTTP_PORT", "value": "9999"}]);
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}]);
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    let pod = mutated(&out);
    assert_eq!(
        pod["spec"]["containers"][0]["env"],
        json!([{"name": "DAPR_HTTP_PORT", "value": "9999"}, {"name": "DAPR_GRPC_PORT", "value": "50001"}, {"name": "APP_PROTOCOL", "value": "http"}])
    );
    assert_eq!(
        pod["spec"]["initContainers"],
        json!([{"name": "init", "image": "busybox"}])
    );
}

#[test]
fn app_protocol_is_raw_in_args_and_normalised_in_app_env() {
    let cases = [
        (
            json!({"dapr.io/app-protocol": "GRPC"}),
            "GRPC",
            Some("grpc"),
        ),
        (
            json!({"dapr.io/app-protocol": "grpc", "dapr.io/app-ssl": "true"}),
            "grpc",
            Some("grpcs"),
        ),
        (json!({"dapr.io/app-ssl": "true"}), "http", Some("https")),
        (json!({"dapr.io/app-protocol": ""}), "", Some("http")),
        (json!({"dapr.io/app-protocol": "h2c"}), "h2c", Some("h2c")),
        (json!({"dapr.io/app-protocol": "tcp"}), "tcp", None),
    ];
    for (annotations, raw, env) in cases {
        let out = run(
            with_annotations(annotations.clone()),
            &Settings::default(),
            &FakeCluster::new(),
        );
        let pod = mutated(&out);
        assert!(
            args_of(pod)
                .windows(2)
                .any(|w| w == ["--app-protocol", raw]),
            "{annotations}"
        );
        let app_protocol = pod["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "APP_PROTOCOL")
            .map(|e| e["value"].as_str().unwrap().to_owned());
        assert_eq!(app_protocol.as_deref(), env, "{annotations}");
    }
    let out = run(
        with_annotations(json!({"dapr.io/app-protocol": "tcp"})),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/app-protocol: \"tcp\" is unknown (http, https, grpc, grpcs, h2c); APP_PROTOCOL not set"
        ]
    );
}

#[test]
fn every_flag_annotation_lands_in_dapr_order() {
    let out = run(
        with_annotations(json!({
            "dapr.io/config": "tracing", "dapr.io/log-level": "debug", "dapr.io/log-as-json": "true", "dapr.io/enable-profiling": "true",
            "dapr.io/app-max-concurrency": "-1", "dapr.io/enable-metrics": "false", "dapr.io/metrics-port": "9999",
            "dapr.io/grpc-port": "40001", "dapr.io/internal-grpc-port": "40002", "dapr.io/sidecar-listen-addresses": "0.0.0.0",
            "dapr.io/graceful-shutdown-seconds": "30", "dapr.io/app-ssl": "yes", "dapr.io/placement-host-address": "' my-placement:50005 '",
            "dapr.io/scheduler-host-address": "", "dapr.io/sidecar-image": "docker.io/me/daprd:dev"
        })),
        &Settings {
            mtls_enabled: Some(true),
            ..Settings::default()
        },
        &FakeCluster::new(),
    );
    let pod = mutated(&out);
    assert_eq!(
        args_of(pod),
        vec![
            "/daprd",
            "--dapr-http-port",
            "3500",
            "--dapr-grpc-port",
            "40001",
            "--dapr-internal-grpc-port",
            "40002",
            "--dapr-listen-addresses",
            "0.0.0.0",
            "--dapr-public-port",
            "3501",
            "--app-id",
            "myapp",
            "--app-protocol",
            "http",
            "--log-level",
            "debug",
            "--dapr-graceful-shutdown-seconds",
            "30",
            "--mode",
            "kubernetes",
            "--control-plane-address",
            "dapr-api.dapr-system.svc.cluster.local:443",
            "--sentry-address",
            "dapr-sentry.dapr-system.svc.cluster.local:443",
            "--app-port",
            "8080",
            "--config",
            "tracing",
            "--placement-host-address",
            "my-placement:50005",
            "--log-as-json",
            "--enable-profiling",
            "--enable-mtls",
            "--app-ssl",
            "--app-max-concurrency",
            "-1",
            "--scheduler-host-address",
            ""
        ]
    );
    assert_eq!(daprd(pod)["image"], "docker.io/me/daprd:dev");
    assert_eq!(
        daprd(pod)["ports"][3],
        json!({"name": "dapr-metrics", "containerPort": 9999})
    );
    assert_eq!(
        pod["metadata"]["labels"]["dapr.io/metrics-enabled"],
        "false"
    );
    assert_eq!(
        pod["spec"]["containers"][0]["env"][1],
        json!({"name": "DAPR_GRPC_PORT", "value": "40001"})
    );
}

#[test]
fn probe_annotations_set_the_probes() {
    let out = run(
        with_annotations(json!({
            "dapr.io/sidecar-liveness-probe-delay-seconds": "10", "dapr.io/sidecar-liveness-probe-timeout-seconds": "11",
            "dapr.io/sidecar-liveness-probe-period-seconds": "12", "dapr.io/sidecar-liveness-probe-threshold": "13",
            "dapr.io/sidecar-readiness-probe-delay-seconds": "20", "dapr.io/sidecar-readiness-probe-timeout-seconds": "21",
            "dapr.io/sidecar-readiness-probe-period-seconds": "22", "dapr.io/sidecar-readiness-probe-threshold": "23"
        })),
        &Settings::default(),
        &FakeCluster::new(),
    );
    let d = daprd(mutated(&out));
    assert_eq!(
        d["livenessProbe"],
        json!({"tcpSocket": {"port": 3501}, "initialDelaySeconds": 10, "timeoutSeconds": 11, "periodSeconds": 12, "failureThreshold": 13})
    );
    assert_eq!(
        d["readinessProbe"],
        json!({"httpGet": {"path": "/v1.0/healthz", "port": 3501}, "initialDelaySeconds": 20, "timeoutSeconds": 21, "periodSeconds": 22, "failureThreshold": 23})
    );
}

#[test]
fn token_secrets_go_to_daprd_only() {
    let out = run(
        with_annotations(
            json!({"dapr.io/api-token-secret": "api", "dapr.io/app-token-secret": "app"}),
        ),
        &Settings::default(),
        &FakeCluster::new(),
    );
    let pod = mutated(&out);
    let env = daprd(pod)["env"].as_array().unwrap();
    assert_eq!(
        env[env.len() - 2],
        json!({"name": "DAPR_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}})
    );
    assert_eq!(
        env[env.len() - 1],
        json!({"name": "APP_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "app", "key": "token"}}})
    );
    assert_eq!(
        pod["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn control_plane_settings_shape_addresses_and_env() {
    let settings = Settings {
        control_plane_namespace: "dapr".to_owned(),
        cluster_domain: "corp.local".to_owned(),
        control_plane_trust_domain: "example.org".to_owned(),
        sidecar_image_pull_policy: "Always".to_owned(),
        run_as_user: Some(1000),
        run_as_group: Some(3000),
        drop_all_capabilities: true,
        run_as_non_root: false,
        enable_k8s_downward_apis: true,
        ..Settings::default()
    };
    let cluster = FakeCluster::new();
    let out = run(worked_example_pod(), &settings, &cluster);
    let pod = mutated(&out);
    let d = daprd(pod);
    let args = args_of(pod);
    for address in [
        "dapr-api.dapr.svc.corp.local:443",
        "dapr-sentry.dapr.svc.corp.local:443",
        "dapr-placement-server.dapr.svc.corp.local:50005",
        "dapr-scheduler-server-a.dapr.svc.corp.local:443",
    ] {
        assert!(args.contains(&address.to_owned()), "{address}");
    }
    assert_eq!(d["imagePullPolicy"], "Always");
    assert_eq!(
        d["securityContext"],
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": false, "runAsUser": 1000, "runAsGroup": 3000, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}})
    );
    assert_eq!(
        d["env"][3],
        json!({"name": "DAPR_CONTROLPLANE_NAMESPACE", "value": "dapr"})
    );
    assert_eq!(
        d["env"][4],
        json!({"name": "DAPR_CONTROLPLANE_TRUST_DOMAIN", "value": "example.org"})
    );
    assert_eq!(
        d["env"][5],
        json!({"name": "DAPR_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    );
    assert_eq!(
        pod["spec"]["volumes"][1]["projected"]["sources"][0]["serviceAccountToken"]["audience"],
        "spiffe://example.org/ns/dapr/dapr-sentry"
    );
    assert_eq!(cluster.calls.borrow()[1]["namespace"], "dapr");
}

#[test]
fn actors_and_reminders_settings_choose_the_flags() {
    let custom = Settings {
        actors_service_name: "actors".into(),
        actors_service_address: "dapr-actors:5000".into(),
        reminders_service_name: "reminders".into(),
        reminders_service_address: "dapr-reminders:6000".into(),
        ..Settings::default()
    };
    let args = args_of(mutated(&run(
        worked_example_pod(),
        &custom,
        &FakeCluster::new(),
    )));
    assert!(args.windows(2).any(|w| w
        == [
            "--actors-service",
            "actors:dapr-actors.dapr-system.svc.cluster.local:5000"
        ]));
    assert!(args.windows(2).any(|w| w
        == [
            "--reminders-service",
            "reminders:dapr-reminders.dapr-system.svc.cluster.local:6000"
        ]));
    assert!(!args.contains(&"--placement-host-address".to_owned()));

    let no_actors = Settings {
        actors_enabled: false,
        scheduler_enabled: false,
        ..Settings::default()
    };
    let args = args_of(mutated(&run(
        worked_example_pod(),
        &no_actors,
        &FakeCluster::new(),
    )));
    assert!(!args.iter().any(|a| a == "--placement-host-address"
        || a == "--actors-service"
        || a == "--scheduler-host-address"));

    let annotated = with_annotations(json!({"dapr.io/placement-host-address": "p:1"}));
    let args = args_of(mutated(&run(annotated, &no_actors, &FakeCluster::new())));
    assert!(
        args.windows(2)
            .any(|w| w == ["--placement-host-address", "p:1"]),
        "the annotation applies even with actors disabled"
    );
}

#[test]
fn without_the_token_volume_setting_neither_volume_nor_mount_is_added() {
    let out = run(
        worked_example_pod(),
        &Settings {
            token_volume: false,
            ..Settings::default()
        },
        &FakeCluster::new(),
    );
    let pod = mutated(&out);
    assert_eq!(pod["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert!(daprd(pod).get("volumeMounts").is_none());
}

#[test]
fn a_pod_without_labels_gets_the_three_labels() {
    let mut pod = worked_example_pod();
    pod["metadata"].as_object_mut().unwrap().remove("labels");
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    assert_eq!(
        mutated(&out)["metadata"]["labels"],
        json!({"dapr.io/sidecar-injected": "true", "dapr.io/app-id": "myapp", "dapr.io/metrics-enabled": "true"})
    );
}

#[test]
fn a_malformed_pod_is_rejected_with_the_field_named() {
    let mut pod = worked_example_pod();
    pod["spec"]["containers"] = json!("app");
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    assert_eq!(
        out.decision,
        Decision::Reject(
            "cannot inject the Dapr sidecar: spec.containers must be a list, got a string"
                .to_owned()
        )
    );
}

#[test]
fn every_remaining_flag_annotation_lands_in_dapr_order() {
    let out = run(
        with_annotations(json!({
            "dapr.io/app-channel-address": "10.0.0.1", "dapr.io/sentry-request-jwt-audiences": "aud1,aud2",
            "dapr.io/enable-api-logging": "", "dapr.io/disable-builtin-k8s-secret-store": "true",
            "dapr.io/enable-app-health-check": "true", "dapr.io/app-health-check-path": "/ready",
            "dapr.io/app-health-probe-interval": "7", "dapr.io/app-health-probe-timeout": "800", "dapr.io/app-health-threshold": "2",
            "dapr.io/app-binding-options-timeout": "10s", "dapr.io/http-max-request-size": "16", "dapr.io/max-body-size": "16Mi",
            "dapr.io/http-read-buffer-size": "8", "dapr.io/read-buffer-size": "8Ki", "dapr.io/unix-domain-socket-path": "/tmp/socks",
            "dapr.io/block-shutdown-duration": "30s", "dapr.io/actors-disseminate-timeout": "5s",
            "dapr.io/scheduler-host-address": "\"sched-0:50006, sched-1:50006\"", "dapr.io/disable-init-endpoints": "config,subscribe"
        })),
        &Settings {
            mtls_enabled: Some(false),
            ..Settings::default()
        },
        &FakeCluster::new(),
    );
    assert_eq!(
        args_of(mutated(&out)),
        vec![
            "/daprd",
            "--dapr-http-port",
            "3500",
            "--dapr-grpc-port",
            "50001",
            "--dapr-internal-grpc-port",
            "50002",
            "--dapr-listen-addresses",
            "[::1],127.0.0.1",
            "--dapr-public-port",
            "3501",
            "--app-id",
            "myapp",
            "--app-protocol",
            "http",
            "--log-level",
            "info",
            "--dapr-graceful-shutdown-seconds",
            "-1",
            "--mode",
            "kubernetes",
            "--control-plane-address",
            "dapr-api.dapr-system.svc.cluster.local:443",
            "--sentry-address",
            "dapr-sentry.dapr-system.svc.cluster.local:443",
            "--app-port",
            "8080",
            "--enable-metrics",
            "--metrics-port",
            "9090",
            "--app-channel-address",
            "10.0.0.1",
            "--placement-host-address",
            "dapr-placement-server.dapr-system.svc.cluster.local:50005",
            "--sentry-request-jwt-audiences",
            "aud1,aud2",
            "--enable-api-logging=false",
            "--disable-builtin-k8s-secret-store",
            "--enable-app-health-check",
            "--app-health-check-path",
            "/ready",
            "--app-health-probe-interval",
            "7",
            "--app-health-probe-timeout",
            "800",
            "--app-health-threshold",
            "2",
            "--app-binding-options-timeout",
            "10s",
            "--dapr-http-max-request-size",
            "16",
            "--max-body-size",
            "16Mi",
            "--dapr-http-read-buffer-size",
            "8",
            "--read-buffer-size",
            "8Ki",
            "--unix-domain-socket",
            "/var/run/dapr-sockets",
            "--dapr-block-shutdown-duration",
            "30s",
            "--actors-disseminate-timeout",
            "5s",
            "--scheduler-host-address",
            "sched-0:50006, sched-1:50006",
            "--disable-init-endpoints",
            "config,subscribe"
        ]
    );
}

#[test]
fn empty_jwt_audiences_and_channel_address_add_no_flag() {
    let out = run(
        with_annotations(
            json!({"dapr.io/sentry-request-jwt-audiences": "", "dapr.io/app-channel-address": "", "dapr.io/enable-api-logging": "true"}),
        ),
        &Settings::default(),
        &FakeCluster::new(),
    );
    let args = args_of(mutated(&out));
    assert!(
        !args
            .iter()
            .any(|a| a == "--sentry-request-jwt-audiences" || a == "--app-channel-address")
    );
    assert!(args.contains(&"--enable-api-logging=true".to_owned()));
}

#[test]
fn a_unix_domain_socket_mounts_in_daprd_and_every_app_container_not_already_using_it() {
    let mut pod = with_annotations(json!({"dapr.io/unix-domain-socket-path": "/tmp/dapr-sockets"}));
    pod["spec"]["containers"].as_array_mut().unwrap().extend([
        json!({"name": "same-path", "image": "x", "volumeMounts": [{"name": "mine", "mountPath": "/tmp/dapr-sockets"}]}),
        json!({"name": "no-mounts", "image": "x"}),
    ]);
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": "x"}]);
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    let pod = mutated(&out);
    let uds_mount = json!({"name": "dapr-unix-domain-socket", "mountPath": "/tmp/dapr-sockets"});
    assert_eq!(
        pod["spec"]["volumes"][1],
        json!({"name": "dapr-unix-domain-socket", "emptyDir": {"medium": "Memory"}})
    );
    assert_eq!(pod["spec"]["volumes"][2]["name"], "dapr-identity-token");
    assert_eq!(pod["spec"]["containers"][0]["volumeMounts"][1], uds_mount);
    assert_eq!(
        pod["spec"]["containers"][1]["volumeMounts"],
        json!([{"name": "mine", "mountPath": "/tmp/dapr-sockets"}])
    );
    assert_eq!(
        pod["spec"]["containers"][2]["volumeMounts"],
        json!([uds_mount])
    );
    assert_eq!(
        pod["spec"]["initContainers"],
        json!([{"name": "init", "image": "x"}])
    );
    assert_eq!(
        daprd(pod)["volumeMounts"],
        json!([{"name": "dapr-unix-domain-socket", "mountPath": "/var/run/dapr-sockets"}, {"name": "dapr-identity-token", "mountPath": "/var/run/secrets/dapr.io/sentrytoken", "readOnly": true}])
    );
}

#[test]
fn user_volume_mounts_come_first_in_daprd_and_missing_volumes_are_warned_about() {
    let mut pod = with_annotations(
        json!({"dapr.io/volume-mounts": "certs:/certs,ghost:/ghost", "dapr.io/volume-mounts-rw": "scratch:/scratch"}),
    );
    pod["spec"]["volumes"].as_array_mut().unwrap().extend([
        json!({"name": "certs", "secret": {"secretName": "certs"}}),
        json!({"name": "scratch", "emptyDir": {}}),
    ]);
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    assert_eq!(
        daprd(mutated(&out))["volumeMounts"],
        json!([{"name": "certs", "mountPath": "/certs", "readOnly": true}, {"name": "scratch", "mountPath": "/scratch"},
               {"name": "dapr-identity-token", "mountPath": "/var/run/secrets/dapr.io/sentrytoken", "readOnly": true}])
    );
    assert_eq!(
        out.warnings,
        vec!["dapr.io/volume-mounts: volume \"ghost\" does not exist in the Pod; mount skipped"]
    );
}

#[test]
fn env_annotations_add_daprd_env_and_dapr_env_keys_in_order() {
    let out = run(
        with_annotations(
            json!({"dapr.io/env": "A=1, NO_PROXY=\"x,y\"", "dapr.io/env-from-secret": "S=creds:password,T=tok", "dapr.io/api-token-secret": "api"}),
        ),
        &Settings {
            enable_k8s_downward_apis: true,
            ..Settings::default()
        },
        &FakeCluster::new(),
    );
    let env = daprd(mutated(&out))["env"].as_array().unwrap().clone();
    assert_eq!(
        env[5..].to_vec(),
        vec![
            json!({"name": "DAPR_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}),
            json!({"name": "A", "value": "1"}),
            json!({"name": "NO_PROXY", "value": "\"x,y\""}),
            json!({"name": "S", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}),
            json!({"name": "T", "valueFrom": {"secretKeyRef": {"name": "tok", "key": "tok"}}}),
            json!({"name": "DAPR_ENV_KEYS", "value": "A NO_PROXY S T"}),
            json!({"name": "DAPR_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}),
        ]
    );
}

#[test]
fn ssl_cert_dir_switches_daprd_to_the_windows_administrator_profile() {
    let settings = Settings {
        run_as_user: Some(1000),
        run_as_group: Some(1000),
        ..Settings::default()
    };
    let out = run(
        with_annotations(json!({"dapr.io/env": "SSL_CERT_DIR=/certs"})),
        &settings,
        &FakeCluster::new(),
    );
    assert_eq!(
        daprd(mutated(&out))["securityContext"],
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": false, "readOnlyRootFilesystem": false, "windowsOptions": {"runAsUserName": "ContainerAdministrator"}})
    );
}

#[test]
fn the_seccomp_annotation_sets_the_profile_type() {
    let out = run(
        with_annotations(json!({"dapr.io/sidecar-seccomp-profile-type": "RuntimeDefault"})),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(
        daprd(mutated(&out))["securityContext"]["seccompProfile"],
        json!({"type": "RuntimeDefault"})
    );
}

#[test]
fn the_native_sidecar_setting_puts_daprd_last_in_init_containers() {
    let mut pod = worked_example_pod();
    pod["spec"]["initContainers"] = json!([{"name": "migrate", "image": "x"}]);
    let out = run(
        pod,
        &Settings {
            native_sidecar: true,
            ..Settings::default()
        },
        &FakeCluster::new(),
    );
    let pod = mutated(&out);
    let mut expected = worked_example_daprd();
    expected["restartPolicy"] = json!("Always");
    assert_eq!(
        pod["spec"]["initContainers"],
        json!([{"name": "migrate", "image": "x"}, expected])
    );
    assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 1);
}

#[test]
fn the_native_sidecar_annotation_overrides_the_setting_both_ways() {
    let on = run(
        with_annotations(json!({"dapr.io/enable-native-sidecar": "true"})),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(
        mutated(&on)["spec"]["initContainers"][0]["restartPolicy"],
        "Always"
    );
    let off = run(
        with_annotations(json!({"dapr.io/enable-native-sidecar": "false"})),
        &Settings {
            native_sidecar: true,
            ..Settings::default()
        },
        &FakeCluster::new(),
    );
    assert!(mutated(&off)["spec"].get("initContainers").is_none());
    assert!(daprd(mutated(&off)).get("restartPolicy").is_none());
}

#[test]
fn an_exactly_matching_toleration_sets_the_command_and_drops_daprd_from_args() {
    let settings: Settings = serde_json::from_value(
        json!({"ignoreEntrypointTolerations": [{"key": "azure.com/aci", "effect": "NoSchedule"}]}),
    )
    .unwrap();
    let mut pod = worked_example_pod();
    pod["spec"]["tolerations"] = json!([{"key": "azure.com/aci", "effect": "NoSchedule"}]);
    let out = run(pod, &settings, &FakeCluster::new());
    let d = daprd(mutated(&out));
    let mut expected_args = worked_example_daprd()["args"].as_array().unwrap().clone();
    expected_args.remove(0);
    assert_eq!(d["command"], json!(["/daprd"]));
    assert_eq!(d["args"], Value::Array(expected_args));

    let mut pod = worked_example_pod();
    pod["spec"]["tolerations"] =
        json!([{"key": "azure.com/aci", "effect": "NoSchedule", "tolerationSeconds": 60}]);
    let out = run(pod, &settings, &FakeCluster::new());
    assert!(
        daprd(mutated(&out)).get("command").is_none(),
        "Go compares the tolerationSeconds pointers"
    );
}

#[test]
fn debug_mode_runs_daprd_under_dlv_with_the_debug_port() {
    let out = run(
        with_annotations(json!({"dapr.io/enable-debug": "true", "dapr.io/debug-port": "40001"})),
        &Settings::default(),
        &FakeCluster::new(),
    );
    let d = daprd(mutated(&out));
    let mut expected: Vec<Value> = [
        "/dlv",
        "--listen",
        ":40001",
        "--accept-multiclient",
        "--headless=true",
        "--log",
        "--api-version=2",
        "exec",
        "/daprd",
        "--",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    expected.extend(
        worked_example_daprd()["args"].as_array().unwrap()[1..]
            .iter()
            .cloned(),
    );
    assert_eq!(d["args"], Value::Array(expected));
    assert_eq!(
        d["ports"][4],
        json!({"name": "dapr-debug", "containerPort": 40001})
    );
}

#[test]
fn declared_component_containers_get_the_socket_and_no_dapr_app_env() {
    let mut pod = with_annotations(
        json!({"dapr.io/pluggable-components": "my-store", "dapr.io/pluggable-components-sockets-folder": "/sockets"}),
    );
    pod["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "my-store", "image": "store:1"}));
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    let pod = mutated(&out);
    let mount = json!({"name": "dapr-components-unix-domain-socket", "mountPath": "/sockets"});
    let env = json!({"name": "DAPR_COMPONENT_SOCKETS_FOLDER", "value": "/sockets"});
    assert_eq!(
        pod["spec"]["containers"][1],
        json!({"name": "my-store", "image": "store:1", "env": [env], "volumeMounts": [mount]})
    );
    assert_eq!(
        pod["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        pod["spec"]["volumes"][2],
        json!({"name": "dapr-components-unix-domain-socket", "emptyDir": {}})
    );
    let d = daprd(pod);
    assert_eq!(
        d["volumeMounts"].as_array().unwrap().last().unwrap(),
        &mount
    );
    assert_eq!(d["env"].as_array().unwrap().last().unwrap(), &env);
}

#[test]
fn a_pod_without_volumes_keeps_the_token_volume_beside_the_component_volume() {
    let pod = json!({
        "metadata": {"name": "solo", "annotations": {"dapr.io/enabled": "true", "dapr.io/pluggable-components": "store"}},
        "spec": {"automountServiceAccountToken": false, "containers": [{"name": "app", "image": "a"}, {"name": "store", "image": "s"}]}
    });
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    let names: Vec<&str> = mutated(&out)["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["dapr-identity-token", "dapr-components-unix-domain-socket"]
    );
}

#[test]
fn injected_components_come_after_daprd_with_their_volumes() {
    let mut cluster = FakeCluster::new();
    cluster.components = Ok(vec![
        json!({"metadata": {"name": "pubsub", "annotations": {"dapr.io/component-container": "{\"image\":\"pubsub:1\",\"volumeMounts\":[{\"name\":\"cache\",\"mountPath\":\"/cache\"}]}"}}}),
        json!({"metadata": {"name": "other", "annotations": {"dapr.io/component-container": "{\"name\":\"other\",\"image\":\"other:1\"}"}}, "scopes": ["someone-else"]}),
    ]);
    let out = run(
        with_annotations(json!({"dapr.io/inject-pluggable-components": "true"})),
        &Settings::default(),
        &cluster,
    );
    let pod = mutated(&out);
    assert_eq!(
        cluster.calls(),
        vec![
            "Configuration/daprsystem",
            "ConfigMap/dapr-trust-bundle",
            "Component/*"
        ]
    );
    assert_eq!(
        cluster.calls.borrow()[2],
        json!({"api_version": "dapr.io/v1alpha1", "kind": "Component", "namespace": "default", "label_selector": null, "field_selector": null, "field_masks": ["metadata.annotations", "metadata.name", "scopes"]})
    );
    let containers = pod["spec"]["containers"].as_array().unwrap();
    assert_eq!(
        containers
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["app", "daprd", "pubsub"]
    );
    assert_eq!(
        containers[2],
        json!({"name": "pubsub", "image": "pubsub:1",
               "volumeMounts": [{"name": "cache", "mountPath": "/cache"}, {"name": "dapr-components-unix-domain-socket", "mountPath": "/tmp/dapr-components-sockets"}],
               "env": [{"name": "DAPR_COMPONENT_SOCKETS_FOLDER", "value": "/tmp/dapr-components-sockets"}]})
    );
    let volumes: Vec<&str> = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        volumes,
        vec![
            "kube-api-access-x1y2z",
            "dapr-identity-token",
            "dapr-components-unix-domain-socket",
            "cache"
        ]
    );
}

#[test]
fn a_failed_component_list_rejects_the_pod() {
    let mut cluster = FakeCluster::new();
    cluster.components = Err("forbidden".to_owned());
    let out = run(
        with_annotations(json!({"dapr.io/inject-pluggable-components": "true"})),
        &Settings::default(),
        &cluster,
    );
    assert_eq!(
        out.decision,
        Decision::Reject("cannot list the Dapr Components of namespace default for dapr.io/inject-pluggable-components: forbidden; let the PolicyServer list components.dapr.io (examples/rbac.yaml) or remove the annotation".to_owned())
    );
}

fn controller_pod_without_app_id() -> Value {
    let mut pod = worked_example_pod();
    pod["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dapr.io/app-id");
    pod["metadata"]["generateName"] = json!("orders-api-7c9d8f6b5-");
    pod["metadata"]["labels"]["pod-template-hash"] = json!("7c9d8f6b5");
    pod["metadata"]["ownerReferences"][0]["name"] = json!("orders-api-7c9d8f6b5");
    pod
}

#[test]
fn unknown_annotations_get_a_did_you_mean_warning_on_injection() {
    let out = run(
        with_annotations(json!({"dapr.io/app-prot": "9090", "dapr.io/id": "old"})),
        &Settings::default(),
        &FakeCluster::new(),
    );
    mutated(&out);
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/app-prot: unknown annotation, ignored; did you mean dapr.io/app-port?",
            "dapr.io/id: removed in Dapr 1.0 and ignored; use dapr.io/app-id"
        ]
    );
}

#[test]
fn enabled_yes_is_not_injected_and_says_only_true_injects() {
    let out = run(
        with_annotations(json!({"dapr.io/enabled": "yes"})),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(
        out,
        Outcome::accept(vec![
            "dapr.io/enabled: \"yes\" does not inject; only \"true\" does".to_owned()
        ])
    );
}

#[test]
fn dapr_annotations_without_enabled_say_injection_is_off() {
    let mut pod = worked_example_pod();
    pod["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dapr.io/enabled");
    let out = run(pod, &Settings::default(), &FakeCluster::new());
    assert_eq!(out, Outcome::accept(vec!["dapr.io/enabled: not \"true\", so no sidecar; the other dapr.io annotations do nothing".to_owned()]));
    let mut plain = worked_example_pod();
    plain["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    assert_eq!(
        run(plain, &Settings::default(), &FakeCluster::new()),
        Outcome::accept(Vec::new())
    );
}

#[test]
fn strict_mode_rejects_with_every_invalid_value_listed() {
    let settings = Settings {
        invalid_annotations: InvalidAnnotations::Reject,
        ..Settings::default()
    };
    let out = run(
        with_annotations(
            json!({"dapr.io/app-port": "zorro", "dapr.io/metrics-port": "70000", "dapr.io/app-prot": "1"}),
        ),
        &settings,
        &FakeCluster::new(),
    );
    assert_eq!(
        out.decision,
        Decision::Reject("invalid Dapr annotations (policy setting invalidAnnotations: reject): dapr.io/app-port: \"zorro\" is not an integer; ignored; dapr.io/metrics-port: \"70000\" is not a port (1-65535); ignored".to_owned())
    );
    let advice_only = run(
        with_annotations(json!({"dapr.io/app-prot": "1"})),
        &settings,
        &FakeCluster::new(),
    );
    mutated(&advice_only);
}

#[test]
fn a_sidecar_image_outside_the_allowed_globs_is_rejected_before_any_lookup() {
    let settings = Settings {
        allowed_sidecar_images: vec!["ghcr.io/dapr/daprd:*".to_owned()],
        ..Settings::default()
    };
    let cluster = FakeCluster::new();
    let out = run(
        with_annotations(json!({"dapr.io/sidecar-image": "evil.io/daprd:1"})),
        &settings,
        &cluster,
    );
    assert_eq!(
        out.decision,
        Decision::Reject("dapr.io/sidecar-image: \"evil.io/daprd:1\" is not allowed by the policy setting allowedSidecarImages (ghcr.io/dapr/daprd:*); use an allowed image or remove the annotation".to_owned())
    );
    assert!(cluster.calls().is_empty());
    mutated(&run(
        with_annotations(json!({"dapr.io/sidecar-image": "ghcr.io/dapr/daprd:1.18.2"})),
        &settings,
        &FakeCluster::new(),
    ));
}

#[test]
fn a_request_above_its_limit_drops_all_four_as_the_api_server_would_reject_it() {
    let out = run(
        with_annotations(
            json!({"dapr.io/sidecar-cpu-request": "2", "dapr.io/sidecar-cpu-limit": "1500m", "dapr.io/sidecar-memory-limit": "1Gi"}),
        ),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(daprd(mutated(&out))["resources"], json!({}));
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/sidecar-cpu-request: cpu request \"2\" exceeds limit \"1500m\"; all 4 ignored"
        ]
    );
}

#[test]
fn sidecar_resources_are_defaults_that_annotations_override_field_by_field() {
    let settings: Settings = serde_json::from_value(json!({"sidecarResources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}})).unwrap();
    let out = run(worked_example_pod(), &settings, &FakeCluster::new());
    assert_eq!(
        daprd(mutated(&out))["resources"],
        json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}})
    );
    let out = run(
        with_annotations(
            json!({"dapr.io/sidecar-memory-limit": "1Gi", "dapr.io/sidecar-cpu-limit": "2"}),
        ),
        &settings,
        &FakeCluster::new(),
    );
    assert_eq!(
        daprd(mutated(&out))["resources"],
        json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}})
    );
    let out = run(
        with_annotations(
            json!({"dapr.io/sidecar-memory-limit": "1Gi", "dapr.io/sidecar-cpu-limit": "x"}),
        ),
        &settings,
        &FakeCluster::new(),
    );
    assert_eq!(
        daprd(mutated(&out))["resources"],
        json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}})
    );
}

/// The container rules of Pod Security "restricted" (Kubernetes 1.25+), as the API server checks them.
fn restricted_violations(container: &Value) -> Vec<&'static str> {
    let sc = &container["securityContext"];
    let mut violations = Vec::new();
    if sc["privileged"] == json!(true) {
        violations.push("privileged");
    }
    if sc["allowPrivilegeEscalation"] != json!(false) {
        violations.push("allowPrivilegeEscalation != false");
    }
    if !sc["capabilities"]["drop"]
        .as_array()
        .is_some_and(|d| d.contains(&json!("ALL")))
    {
        violations.push("capabilities.drop must include ALL");
    }
    if sc["capabilities"]["add"]
        .as_array()
        .is_some_and(|a| a.iter().any(|c| c != "NET_BIND_SERVICE"))
    {
        violations.push("capabilities.add beyond NET_BIND_SERVICE");
    }
    if sc["runAsNonRoot"] != json!(true) {
        violations.push("runAsNonRoot != true");
    }
    if sc["runAsUser"] == json!(0) {
        violations.push("runAsUser 0");
    }
    if !matches!(
        sc["seccompProfile"]["type"].as_str(),
        Some("RuntimeDefault" | "Localhost")
    ) {
        violations.push("seccompProfile must be RuntimeDefault or Localhost");
    }
    violations
}

#[test]
fn dapr_default_daprd_violates_restricted_and_the_restricted_profile_fixes_it() {
    let out = run(
        worked_example_pod(),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(
        restricted_violations(daprd(mutated(&out))),
        vec![
            "capabilities.drop must include ALL",
            "seccompProfile must be RuntimeDefault or Localhost"
        ]
    );

    let restricted = Settings {
        security_profile: SecurityProfile::Restricted,
        ..Settings::default()
    };
    let out = run(worked_example_pod(), &restricted, &FakeCluster::new());
    let d = daprd(mutated(&out));
    assert!(
        restricted_violations(d).is_empty(),
        "{:?}",
        restricted_violations(d)
    );
    assert_eq!(
        d["securityContext"],
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})
    );
    let out = run(
        with_annotations(json!({"dapr.io/env": "SSL_CERT_DIR=/c"})),
        &restricted,
        &FakeCluster::new(),
    );
    let d = daprd(mutated(&out));
    assert!(
        restricted_violations(d).is_empty(),
        "{:?}",
        restricted_violations(d)
    );
    assert_eq!(
        out.warnings,
        vec!["dapr.io/env: SSL_CERT_DIR: runAsNonRoot kept true (securityProfile restricted)"]
    );
    // The annotation is the Pod author's explicit choice, and wins.
    let out = run(
        with_annotations(json!({"dapr.io/sidecar-seccomp-profile-type": "Unconfined"})),
        &restricted,
        &FakeCluster::new(),
    );
    assert_eq!(
        restricted_violations(daprd(mutated(&out))),
        vec!["seccompProfile must be RuntimeDefault or Localhost"]
    );
}

#[test]
fn app_id_from_owner_names_a_controller_pod_after_its_deployment() {
    let settings = Settings {
        app_id_from_owner: true,
        ..Settings::default()
    };
    let out = run(
        controller_pod_without_app_id(),
        &settings,
        &FakeCluster::new(),
    );
    let pod = mutated(&out);
    assert_eq!(pod["metadata"]["labels"]["dapr.io/app-id"], "orders-api");
    assert!(
        args_of(pod)
            .windows(2)
            .any(|w| w == ["--app-id", "orders-api"])
    );
    assert_eq!(
        out.warnings,
        vec!["dapr.io/app-id: not set; using \"orders-api\" from Deployment orders-api"]
    );
}

#[test]
fn a_derived_app_id_must_still_pass_validation() {
    let settings = Settings {
        app_id_from_owner: true,
        ..Settings::default()
    };
    let mut pod = controller_pod_without_app_id();
    pod["metadata"]["ownerReferences"][0] = json!({"apiVersion": "batch/v1", "kind": "Job", "name": "Import_Job", "uid": "u", "controller": true});
    let out = run(pod, &settings, &FakeCluster::new());
    let Decision::Reject(message) = &out.decision else {
        panic!("not rejected")
    };
    assert!(
        message.starts_with("invalid app id (input: 'Import_Job', service: 'Import_Job-dapr')"),
        "{message}"
    );
}

#[test]
fn inject_namespaces_inject_unannotated_pods_unless_enabled_says_false() {
    let settings = Settings {
        inject_namespaces: vec!["default".to_owned()],
        ..Settings::default()
    };
    let mut pod = controller_pod_without_app_id();
    pod["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dapr.io/enabled");
    let out = run(pod.clone(), &settings, &FakeCluster::new());
    assert_eq!(
        mutated(&out)["metadata"]["labels"]["dapr.io/app-id"],
        "orders-api"
    );
    pod["metadata"]["annotations"]["dapr.io/enabled"] = json!("false");
    assert_eq!(
        run(pod.clone(), &settings, &FakeCluster::new()).decision,
        Decision::Accept
    );
    let other_namespace = Admission {
        namespace: "elsewhere",
        ..controller()
    };
    pod["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("dapr.io/enabled");
    assert_eq!(
        evaluate(&other_namespace, pod, &settings, &FakeCluster::new()).decision,
        Decision::Accept
    );
}

#[test]
fn every_warning_is_short_and_names_a_dapr_annotation() {
    let long = "x".repeat(5000);
    let out = run(
        with_annotations(json!({
            "dapr.io/sidecar-readiness-probe-timeout-seconds": long, "dapr.io/env": format!("{long},1=2"),
            "dapr.io/volume-mounts-rw": format!("{long}:/p"), "dapr.io/app-protocol": long,
            format!("dapr.io/{long}"): "1", "dapr.io/enable-metrics": long
        })),
        &Settings::default(),
        &FakeCluster::new(),
    );
    assert_eq!(out.warnings.len(), 6, "{:?}", out.warnings);
    for w in &out.warnings {
        assert!(w.chars().count() < 120, "{w}");
        assert!(w.starts_with("dapr.io/"), "{w}");
    }
}

fn version(v: &str) -> Settings {
    serde_json::from_value(json!({"daprVersion": v})).unwrap()
}

const OLD_PROBES: (&str, &str) = (
    r#"{"tcpSocket": {"port": 3501}, "initialDelaySeconds": 3, "timeoutSeconds": 3, "periodSeconds": 6, "failureThreshold": 3}"#,
    r#"{"httpGet": {"path": "/v1.0/healthz", "port": 3501}, "initialDelaySeconds": 3, "timeoutSeconds": 3, "periodSeconds": 6, "failureThreshold": 3}"#,
);

#[test]
fn dapr_1_17_differs_from_1_18_only_by_the_old_probe_defaults_here() {
    let out = run(worked_example_pod(), &version("1.17"), &FakeCluster::new());
    let mut expected = worked_example_daprd();
    expected["livenessProbe"] = serde_json::from_str(OLD_PROBES.0).unwrap();
    expected["readinessProbe"] = serde_json::from_str(OLD_PROBES.1).unwrap();
    assert_eq!(daprd(mutated(&out)), &expected);
}

#[test]
fn dapr_1_16_passes_every_scheduler_replica_as_env_instead_of_a_flag() {
    let out = run(worked_example_pod(), &version("1.16"), &FakeCluster::new());
    let mut expected = worked_example_daprd();
    let args = expected["args"].as_array_mut().unwrap();
    let at = args
        .iter()
        .position(|a| a == "--scheduler-host-address")
        .unwrap();
    args.truncate(at);
    expected["env"].as_array_mut().unwrap().extend([
        json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS", "value": "dapr-scheduler-server-0.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-1.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-2.dapr-scheduler-server.dapr-system.svc.cluster.local:50006"}),
        json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A", "value": "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"}),
    ]);
    expected["livenessProbe"] = serde_json::from_str(OLD_PROBES.0).unwrap();
    expected["readinessProbe"] = serde_json::from_str(OLD_PROBES.1).unwrap();
    assert_eq!(daprd(mutated(&out)), &expected);
}

#[test]
fn dapr_1_16_scheduler_replicas_and_reminder_migration_settings_shape_the_env() {
    let settings: Settings = serde_json::from_value(
        json!({"daprVersion": "1.16", "schedulerReplicas": 1, "skipReminderMigration": true}),
    )
    .unwrap();
    let out = run(worked_example_pod(), &settings, &FakeCluster::new());
    let env = daprd(mutated(&out))["env"].as_array().unwrap().clone();
    assert_eq!(
        env[5..].to_vec(),
        vec![
            json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS", "value": "dapr-scheduler-server-0.dapr-scheduler-server.dapr-system.svc.cluster.local:50006"}),
            json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A", "value": "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"}),
            json!({"name": "DAPR_SKIP_REMINDER_MIGRATION", "value": "true"}),
        ]
    );
    let none: Settings =
        serde_json::from_value(json!({"daprVersion": "1.16", "schedulerReplicas": 0})).unwrap();
    let out = run(worked_example_pod(), &none, &FakeCluster::new());
    assert_eq!(daprd(mutated(&out))["env"].as_array().unwrap().len(), 5);
}

#[test]
fn dapr_1_16_injects_every_truthy_enabled_value() {
    for value in ["yes", "1", "t", " true "] {
        mutated(&run(
            with_annotations(json!({"dapr.io/enabled": value})),
            &version("1.16"),
            &FakeCluster::new(),
        ));
        assert_eq!(
            run(
                with_annotations(json!({"dapr.io/enabled": value})),
                &version("1.17"),
                &FakeCluster::new()
            )
            .decision,
            Decision::Accept
        );
    }
}

#[test]
fn before_1_18_an_init_container_named_daprd_does_not_stop_injection() {
    let mut pod = worked_example_pod();
    pod["spec"]["initContainers"] = json!([{"name": "daprd", "image": "x"}]);
    mutated(&run(pod.clone(), &version("1.17"), &FakeCluster::new()));
    assert_eq!(
        run(pod, &version("1.18"), &FakeCluster::new()).decision,
        Decision::Accept
    );
}

#[test]
fn annotations_a_release_does_not_know_are_ignored_with_a_warning() {
    let pod = with_annotations(
        json!({"dapr.io/actors-disseminate-timeout": "5s", "dapr.io/disable-init-endpoints": "config", "dapr.io/enable-native-sidecar": "true"}),
    );
    let out = run(pod.clone(), &version("1.16"), &FakeCluster::new());
    let args = args_of(mutated(&out));
    assert!(
        !args
            .iter()
            .any(|a| a == "--actors-disseminate-timeout" || a == "--disable-init-endpoints")
    );
    assert!(mutated(&out)["spec"].get("initContainers").is_none());
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/actors-disseminate-timeout: not read by Dapr 1.16; ignored",
            "dapr.io/disable-init-endpoints: not read by Dapr 1.16; ignored",
            "dapr.io/enable-native-sidecar: not read by Dapr 1.16; ignored",
        ]
    );
    let out = run(pod, &version("1.17"), &FakeCluster::new());
    assert!(
        args_of(mutated(&out))
            .windows(2)
            .any(|w| w == ["--disable-init-endpoints", "config"])
    );
    assert_eq!(out.warnings.len(), 2);
}

#[test]
fn an_empty_binding_timeout_adds_no_flag_in_1_17_only() {
    let pod = with_annotations(json!({"dapr.io/app-binding-options-timeout": ""}));
    for (v, flag) in [("1.16", true), ("1.17", false), ("1.18", true)] {
        let out = run(pod.clone(), &version(v), &FakeCluster::new());
        assert_eq!(
            args_of(mutated(&out)).contains(&"--app-binding-options-timeout".to_owned()),
            flag,
            "{v}"
        );
    }
}

fn dapr_0_11() -> Settings {
    serde_json::from_value(json!({"daprVersion": "0.11", "allowIssuerKeyInPods": true})).unwrap()
}

/// A cluster with Dapr 0.11's trust bundle Secret.
fn cluster_0_11(secret: Result<Value, String>) -> FakeCluster {
    let mut cluster = FakeCluster::new();
    cluster.trust_bundle = secret;
    cluster
}

fn secret() -> Value {
    // ca.crt "CA", issuer.crt "CHAIN", issuer.key "KEY", base64-encoded as in a Secret.
    json!({"data": {"ca.crt": "Q0E=", "issuer.crt": "Q0hBSU4=", "issuer.key": "S0VZ"}})
}

fn seed_like_pod(annotations: Value) -> Value {
    let mut pod = worked_example_pod();
    pod["metadata"]["annotations"] = annotations;
    pod["spec"]["serviceAccountName"] = json!("default");
    pod
}

#[test]
fn dapr_0_11_builds_the_old_layout_with_certificates_from_the_secret() {
    let cluster = cluster_0_11(Ok(secret()));
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "true", "dapr.io/app-id": "myapp", "dapr.io/app-port": "8080"}),
        ),
        &dapr_0_11(),
        &cluster,
    );
    let pod = mutated(&out);
    let d = daprd(pod);
    assert_eq!(
        cluster.calls(),
        vec!["Configuration/daprsystem", "Secret/dapr-trust-bundle"]
    );
    assert_eq!(d["command"], json!(["/daprd"]));
    assert_eq!(
        d["args"],
        json!([
            "--mode",
            "kubernetes",
            "--dapr-http-port",
            "3500",
            "--dapr-grpc-port",
            "50001",
            "--dapr-internal-grpc-port",
            "50002",
            "--app-port",
            "8080",
            "--app-id",
            "myapp",
            "--control-plane-address",
            "dapr-api.dapr-system.svc.cluster.local:80",
            "--app-protocol",
            "http",
            "--placement-host-address",
            "dapr-placement.dapr-system.svc.cluster.local:80",
            "--config",
            "",
            "--log-level",
            "info",
            "--app-max-concurrency",
            "-1",
            "--sentry-address",
            "dapr-sentry.dapr-system.svc.cluster.local:80",
            "--metrics-port",
            "9090",
            "--enable-mtls"
        ])
    );
    assert_eq!(
        d["env"],
        json!([{"name": "DAPR_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}, {"name": "NAMESPACE", "value": "default"},
               {"name": "DAPR_TRUST_ANCHORS", "value": "CA"}, {"name": "DAPR_CERT_CHAIN", "value": "CHAIN"}, {"name": "DAPR_CERT_KEY", "value": "KEY"},
               {"name": "SENTRY_LOCAL_IDENTITY", "value": "default:default"}])
    );
    let probe = json!({"httpGet": {"path": "/v1.0/healthz", "port": 3500}, "initialDelaySeconds": 3, "timeoutSeconds": 3, "periodSeconds": 6, "failureThreshold": 3});
    assert_eq!(
        (&d["livenessProbe"], &d["readinessProbe"]),
        (&probe, &probe)
    );
    assert_eq!(d["imagePullPolicy"], "Always");
    assert!(d.get("securityContext").is_none());
    assert_eq!(
        d["volumeMounts"],
        json!([{"name": "kube-api-access-x1y2z", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}])
    );
    // No labels, no volumes, and only the two port variables in the app.
    assert_eq!(pod["metadata"]["labels"], json!({"app": "myapp"}));
    assert_eq!(pod["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(
        pod["spec"]["containers"][0]["env"],
        json!([{"name": "DAPR_HTTP_PORT", "value": "3500"}, {"name": "DAPR_GRPC_PORT", "value": "50001"}])
    );
}

#[test]
fn dapr_0_11_honours_the_deprecated_aliases() {
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "yes", "dapr.io/id": "legacy", "dapr.io/port": "7000", "dapr.io/protocol": "grpc", "dapr.io/profiling": "on", "dapr.io/max-concurrency": "4"}),
        ),
        &dapr_0_11(),
        &cluster_0_11(Ok(secret())),
    );
    let args = args_of(mutated(&out));
    for pair in [
        ["--app-id", "legacy"],
        ["--app-port", "7000"],
        ["--app-protocol", "grpc"],
        ["--app-max-concurrency", "4"],
    ] {
        assert!(args.windows(2).any(|w| w == pair), "{pair:?} in {args:?}");
    }
    assert!(args.contains(&"--enable-profiling".to_owned()));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn dapr_0_11_rejects_only_an_invalid_port_alias() {
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a", "dapr.io/port": "abc"}),
        ),
        &dapr_0_11(),
        &cluster_0_11(Ok(secret())),
    );
    assert_eq!(out.decision, Decision::Reject("error parsing dapr.io/port int value abc : strconv.ParseInt: parsing \"abc\": invalid syntax".to_owned()));
    let out = run(
        seed_like_pod(
            json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a", "dapr.io/app-port": "abc"}),
        ),
        &dapr_0_11(),
        &cluster_0_11(Ok(secret())),
    );
    assert!(
        args_of(mutated(&out))
            .windows(2)
            .any(|w| w == ["--app-port", ""])
    );
    assert_eq!(
        out.warnings,
        vec!["dapr.io/app-port: \"abc\" is not an integer; ignored"]
    );
}

#[test]
fn dapr_0_11_without_mtls_or_without_the_secret_passes_no_certificates() {
    let mut off = dapr_0_11();
    off.mtls_enabled = Some(false);
    let cluster = cluster_0_11(Ok(secret()));
    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a"})),
        &off,
        &cluster,
    );
    assert!(cluster.calls().is_empty());
    assert_eq!(daprd(mutated(&out))["env"].as_array().unwrap().len(), 2);
    assert!(!args_of(mutated(&out)).contains(&"--enable-mtls".to_owned()));

    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a"})),
        &dapr_0_11(),
        &cluster_0_11(Err("forbidden".to_owned())),
    );
    assert!(!args_of(mutated(&out)).contains(&"--enable-mtls".to_owned()));
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/enabled: Secret dapr-trust-bundle unreadable; daprd gets no mTLS (Dapr 0.11 did the same)"
        ]
    );
    assert!(out.log_notes[1].starts_with(
        "Secret dapr-trust-bundle in dapr-system not read, daprd without mTLS: forbidden"
    ));
}

#[test]
fn dapr_0_11_takes_certificates_from_settings_without_reading_the_secret() {
    let mut settings = dapr_0_11();
    settings.trust_anchors = Some("A".into());
    settings.cert_chain = Some("C".into());
    settings.cert_key = Some("K".into());
    settings.mtls_enabled = Some(true);
    let cluster = cluster_0_11(Ok(secret()));
    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a"})),
        &settings,
        &cluster,
    );
    assert!(cluster.calls().is_empty());
    assert_eq!(
        daprd(mutated(&out))["env"][4],
        json!({"name": "DAPR_CERT_KEY", "value": "K"})
    );
}

#[test]
fn dapr_0_11_adds_only_daprd_to_a_pod_without_containers_and_ignores_newer_annotations() {
    let mut pod = seed_like_pod(
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "a", "dapr.io/env": "A=1", "dapr.io/enabled-typo": "x"}),
    );
    pod["spec"]["containers"] = json!([]);
    let out = run(pod, &dapr_0_11(), &cluster_0_11(Ok(secret())));
    let containers = mutated(&out)["spec"]["containers"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(containers.len(), 1);
    assert!(containers[0].get("volumeMounts").is_none());
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/enabled-typo: unknown annotation, ignored",
            "dapr.io/env: not read by Dapr 0.11; ignored"
        ]
    );
}

#[test]
fn dapr_0_11_does_not_inject_enabled_t() {
    let out = run(
        seed_like_pod(json!({"dapr.io/enabled": "t", "dapr.io/app-id": "a"})),
        &dapr_0_11(),
        &FakeCluster::new(),
    );
    assert_eq!(
        out,
        Outcome::accept(vec![
            "dapr.io/enabled: \"t\" does not inject in Dapr 0.11; use \"true\"".to_owned()
        ])
    );
}

//! Every fixture with its session and settings, and what the policy must answer, written from
//! the specification (dapr-injector.md) rather than from the policy's output. Both test binaries
//! run this list through [`fixture_tests!`], each with its own way of evaluating.

use serde_json::{Value, json};

use super::{DAPRD_IMAGE, Evaluation, Input, NO_LOOKUPS, assert_json_eq, read_json};

/// How a test binary evaluates an input: the wasm module, or the native code.
pub type Evaluate = dyn Fn(&Input) -> Evaluation;

const MTLS_DEFAULT: &str = "session_mtls_default.yml";
const WORKED_EXAMPLE: &str = "pod_worked_example.json";
const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/dapr.io/sentrytoken";
const COMPONENTS_SOCKETS: &str = "/tmp/dapr-components-sockets";

/// The fixture's Pod plus exactly the additions of section 10: the section's patch applied by
/// hand, never the policy's output.
fn section_10_pod() -> Value {
    read_json("expected/pod_worked_example.mutated.json")
}

/// Section 10's daprd container, for another app in another namespace.
fn daprd(namespace: &str, app_id: &str, app_port: Option<&str>) -> Value {
    let mut daprd = section_10_pod()["spec"]["containers"][1].clone();
    set_arg(&mut daprd, "--app-id", app_id);
    match app_port {
        Some(port) => set_arg(&mut daprd, "--app-port", port),
        None => remove_args(&mut daprd, "--app-port", 2),
    }
    daprd["env"][0] = json!({"name": "NAMESPACE", "value": namespace});
    daprd
}

fn args(daprd: &mut Value) -> &mut Vec<Value> {
    daprd["args"].as_array_mut().expect("daprd has args")
}

fn arg_index(daprd: &mut Value, flag: &str) -> usize {
    args(daprd)
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("daprd has no {flag}"))
}

fn set_arg(daprd: &mut Value, flag: &str, value: &str) {
    let i = arg_index(daprd, flag);
    args(daprd)[i + 1] = json!(value);
}

fn remove_args(daprd: &mut Value, flag: &str, count: usize) {
    let i = arg_index(daprd, flag);
    args(daprd).drain(i..i + count);
}

fn insert_args_before(daprd: &mut Value, flag: &str, new: &[&str]) {
    let i = arg_index(daprd, flag);
    args(daprd).splice(i..i, new.iter().map(|a| json!(a)));
}

fn add(path: &str, value: Value) -> Value {
    json!({"op": "add", "path": path, "value": value})
}

fn mount(name: &str, path: &str) -> Value {
    json!({"name": name, "mountPath": path})
}

fn token_volume() -> Value {
    section_10_pod()["spec"]["volumes"][1].clone()
}

fn token_mount() -> Value {
    json!({"name": "dapr-identity-token", "readOnly": true, "mountPath": TOKEN_MOUNT_PATH})
}

fn app_env() -> Value {
    json!([
        {"name": "DAPR_HTTP_PORT", "value": "3500"},
        {"name": "DAPR_GRPC_PORT", "value": "50001"},
        {"name": "APP_PROTOCOL", "value": "http"}
    ])
}

fn components_env() -> Value {
    json!({"name": "DAPR_COMPONENT_SOCKETS_FOLDER", "value": COMPONENTS_SOCKETS})
}

/// The three labels, in the order `json_patch::diff` visits them (sorted keys).
fn label_ops(app_id: &str) -> Vec<Value> {
    vec![
        add("/metadata/labels/dapr.io~1app-id", json!(app_id)),
        add("/metadata/labels/dapr.io~1metrics-enabled", json!("true")),
        add("/metadata/labels/dapr.io~1sidecar-injected", json!("true")),
    ]
}

/// The patch of a Pod shaped like section 10's: labels, one app container without env, and
/// the service-account token volume.
fn one_container_patch(app_id: &str, daprd: Value) -> Value {
    let mut ops = label_ops(app_id);
    ops.extend([
        add("/spec/containers/0/env", app_env()),
        add("/spec/containers/1", daprd),
        add("/spec/volumes/1", token_volume()),
    ]);
    Value::Array(ops)
}

/// The idempotence and shape checks every injection must pass.
fn assert_well_behaved_injection(evaluate: &Evaluate, input: &Input) {
    let injected = evaluate(input);
    let patch = injected.patch();
    for op in patch.as_array().expect("a patch is a list") {
        assert_eq!(op["op"], "add", "only additions: {op}");
        let path = op["path"].as_str().unwrap_or_default();
        assert!(
            path != "/apiVersion" && path != "/kind",
            "the patch touches {path}"
        );
    }
    let mutated = injected.mutated_object().expect("injected").clone();
    evaluate(&input.with_object(mutated, NO_LOOKUPS)).assert_accepted_untouched();
}

// --- the cases ------------------------------------------------------------------------------

pub fn worked_example(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(WORKED_EXAMPLE, MTLS_DEFAULT, None));
    result.assert_injected(
        "myapp",
        &[],
        one_container_patch("myapp", daprd("default", "myapp", Some("8080"))),
    );
    let mutated = result.mutated_object().expect("injected");
    assert_json_eq(mutated, &section_10_pod(), "the mutated Pod");
}

/// Dapr's defaults before 1.18: 3/3/6/3 for both probes (v1.16.19 and v1.17.13, sidecar.go).
fn with_old_probe_defaults(mut daprd: Value) -> Value {
    for probe in ["livenessProbe", "readinessProbe"] {
        for (field, value) in [
            ("initialDelaySeconds", 3),
            ("timeoutSeconds", 3),
            ("periodSeconds", 6),
            ("failureThreshold", 3),
        ] {
            daprd[probe][field] = json!(value);
        }
    }
    daprd
}

/// Issue 7: v1.17.13 differs here only by its probe defaults.
pub fn worked_example_dapr_1_17(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        WORKED_EXAMPLE,
        MTLS_DEFAULT,
        Some("settings_dapr_1_17.json"),
    ));
    let daprd = with_old_probe_defaults(daprd("default", "myapp", Some("8080")));
    result.assert_injected("myapp", &[], one_container_patch("myapp", daprd));
}

/// Issue 7: v1.16.19 passes the scheduler as env vars, one address per replica, and has the
/// old probe defaults.
pub fn worked_example_dapr_1_16(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        WORKED_EXAMPLE,
        MTLS_DEFAULT,
        Some("settings_dapr_1_16.json"),
    ));
    let mut daprd = with_old_probe_defaults(daprd("default", "myapp", Some("8080")));
    remove_args(&mut daprd, "--scheduler-host-address", 2);
    let replicas: Vec<String> = (0..3)
        .map(|i| format!("dapr-scheduler-server-{i}.dapr-scheduler-server.dapr-system.svc.cluster.local:50006"))
        .collect();
    daprd["env"].as_array_mut().expect("env").extend([
        json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS", "value": replicas.join(",")}),
        json!({"name": "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A", "value": "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"}),
    ]);
    result.assert_injected("myapp", &[], one_container_patch("myapp", daprd));
}

pub fn mtls_disabled_as_string(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        WORKED_EXAMPLE,
        "session_mtls_disabled_as_string.yml",
        None,
    ));
    let mut daprd = daprd("default", "myapp", Some("8080"));
    remove_args(&mut daprd, "--enable-mtls", 1);
    result.assert_injected("myapp", &[], one_container_patch("myapp", daprd));
}

pub fn trust_bundle_missing(evaluate: &Evaluate) {
    evaluate(&Input::new(WORKED_EXAMPLE, "session_trust_bundle_missing.yml", None)).assert_rejected(
        "cannot read the Dapr trust anchors from ConfigMap dapr-trust-bundle in namespace dapr-system: \
         error invoking host capability kubernetes.get_resource: Host error: Callback evaluation failure: \
         Cannot find v1/ConfigMap named 'dapr-trust-bundle' inside of namespace 'dapr-system'; \
         install Dapr's control plane there, let the PolicyServer read it (examples/rbac.yaml), \
         or set the trustAnchors setting",
    );
}

pub fn native_sidecar_setting(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        WORKED_EXAMPLE,
        MTLS_DEFAULT,
        Some("settings_native_sidecar.json"),
    ));
    let mut daprd = daprd("default", "myapp", Some("8080"));
    daprd["restartPolicy"] = json!("Always");
    let mut ops = label_ops("myapp");
    ops.extend([
        add("/spec/containers/0/env", app_env()),
        add("/spec/initContainers", json!([daprd])),
        add("/spec/volumes/1", token_volume()),
    ]);
    result.assert_injected("myapp", &[], Value::Array(ops));
}

pub fn static_trust_settings(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        WORKED_EXAMPLE,
        NO_LOOKUPS,
        Some("settings_static_mtls_and_trust_anchors.json"),
    ));
    let mut daprd = daprd("default", "myapp", Some("8080"));
    remove_args(&mut daprd, "--enable-mtls", 1);
    result.assert_injected("myapp", &[], one_container_patch("myapp", daprd));
}

pub fn not_dapr_enabled(evaluate: &Evaluate) {
    evaluate(&Input::new("pod_not_dapr_enabled.json", NO_LOOKUPS, None))
        .assert_accepted_untouched();
}

pub fn enabled_yes(evaluate: &Evaluate) {
    // Dapr's handler drops it silently; the policy says why nothing happened.
    evaluate(&Input::new("pod_enabled_yes.json", NO_LOOKUPS, None)).assert_accepted_with_warnings(
        &["dapr.io/enabled: \"yes\" does not inject; only \"true\" does"],
    );
}

pub fn already_injected(evaluate: &Evaluate) {
    evaluate(&Input::new("pod_already_injected.json", NO_LOOKUPS, None))
        .assert_accepted_untouched();
}

pub fn unauthorized_user(evaluate: &Evaluate) {
    evaluate(&Input::new(
        "pod_by_unauthorized_user.json",
        NO_LOOKUPS,
        None,
    ))
    .assert_accepted_with_warnings(&[
        "dapr.io/enabled: not injected: user \"jane\" is not an allowed service account nor in system:masters",
    ]);
}

pub fn system_masters(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        "pod_by_system_masters.json",
        MTLS_DEFAULT,
        None,
    ));
    result.assert_injected(
        "toolbox",
        &[],
        one_container_patch("toolbox", daprd("default", "toolbox", None)),
    );
}

pub fn invalid_app_id(evaluate: &Evaluate) {
    evaluate(&Input::new("pod_invalid_app_id.json", NO_LOOKUPS, None)).assert_rejected(
        "invalid app id (input: 'My_App', service: 'My_App-dapr'): a lowercase RFC 1123 label must \
         consist of lower case alphanumeric characters or '-', and must start and end with an \
         alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is \
         '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
}

pub fn controller_without_app_id(evaluate: &Evaluate) {
    evaluate(&Input::new(
        "pod_controller_without_app_id.json",
        NO_LOOKUPS,
        None,
    ))
    .assert_rejected("value for the dapr.io/app-id annotation is empty");
}

pub fn invalid_annotation_values(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        "pod_invalid_annotation_values.json",
        MTLS_DEFAULT,
        None,
    ));
    // Dapr ignores the app port and drops all four resources; the out-of-range metrics port,
    // which the API server would refuse, keeps its default here.
    result.assert_injected(
        "checkout",
        &[
            "dapr.io/app-port: \"zorro\" is not an integer; ignored",
            "dapr.io/metrics-port: \"70000\" is not a port (1-65535); ignored",
            "dapr.io/sidecar-cpu-limit: \"lots\" is not a quantity (not a number); all 4 ignored",
        ],
        one_container_patch("checkout", daprd("default", "checkout", None)),
    );
}

/// Issue: Dapr ignores bad values silently; in strict mode the Pod is refused, every problem
/// listed, and the warnings still reach kubectl.
pub fn strict_mode_rejection(evaluate: &Evaluate) {
    let problems = [
        "dapr.io/app-port: \"zorro\" is not an integer; ignored",
        "dapr.io/metrics-port: \"70000\" is not a port (1-65535); ignored",
        "dapr.io/sidecar-cpu-limit: \"lots\" is not a quantity (not a number); all 4 ignored",
    ];
    evaluate(&Input::new(
        "pod_invalid_annotation_values.json",
        MTLS_DEFAULT,
        Some("settings_strict_annotations.json"),
    ))
    .assert_rejected_with_warnings(
        &format!(
            "invalid Dapr annotations (policy setting invalidAnnotations: reject): {}",
            problems.join("; ")
        ),
        &problems,
    );
}

/// What the API server and the kubelet add to a container after admission, so the seed's
/// running Pod has them and the admission response does not.
const ADDED_AFTER_ADMISSION: &[&str] = &[
    "/terminationMessagePath",
    "/terminationMessagePolicy",
    "/ports/*/protocol",
    "/livenessProbe/httpGet/scheme",
    "/livenessProbe/successThreshold",
    "/readinessProbe/httpGet/scheme",
    "/readinessProbe/successThreshold",
    "/env/0/valueFrom/fieldRef/apiVersion",
];

fn remove_path(value: &mut Value, path: &str) {
    let (parent, last) = path.rsplit_once('/').expect("a path");
    let parents: Vec<&mut Value> = if let Some((list, rest)) = parent.split_once("/*") {
        value
            .pointer_mut(list)
            .and_then(Value::as_array_mut)
            .expect("a list")
            .iter_mut()
            .filter_map(|item| item.pointer_mut(rest))
            .collect()
    } else {
        value.pointer_mut(parent).into_iter().collect()
    };
    for p in parents {
        p.as_object_mut()
            .expect("an object")
            .remove(last)
            .unwrap_or_else(|| panic!("{path} is not in the seed"));
    }
}

/// Issue 7's golden test: the seed's stateapp Pod under `daprVersion: "0.11"` gets the seed's
/// daprd container and app env, field for field, except:
/// - the fields in [`ADDED_AFTER_ADMISSION`];
/// - quantities, which the API server canonicalises (`"4.0"` → `"4"`, `"0.5"` → `"500m"`):
///   compared by value;
/// - `SENTRY_LOCAL_IDENTITY`: the seed's Pod came from a development build with Dapr v0.10's
///   `<serviceAccount>:<namespace>` (`default:dapr-tests`); v0.11.0, whose Sentry expects it,
///   builds `<namespace>:<serviceAccount>`, so the policy gives `dapr-tests:default`.
pub fn seed_stateapp_0_11(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        "pod_stateapp_seed.json",
        "session_seed_trust_bundle_secret.yml",
        Some("settings_seed_0_11.json"),
    ));
    let pod = result
        .mutated_object()
        .expect("the seed's Pod is injected")
        .clone();
    let expected = read_json("expected/seed_stateapp.json");
    let mut seed_daprd = expected["daprd"].clone();
    for path in ADDED_AFTER_ADMISSION {
        remove_path(&mut seed_daprd, path);
    }
    let mut daprd = pod["spec"]["containers"][1].clone();

    let quantity = |v: &Value| dapr_sidecar_injector::nano_value(v.as_str().expect("a quantity"));
    for (kind, resource) in [
        ("limits", "cpu"),
        ("limits", "memory"),
        ("requests", "cpu"),
        ("requests", "memory"),
    ] {
        let ours = &daprd["resources"][kind][resource];
        assert_eq!(
            quantity(ours),
            quantity(&seed_daprd["resources"][kind][resource]),
            "resources.{kind}.{resource}: {ours}"
        );
    }
    daprd["resources"] = seed_daprd["resources"].clone();

    let identity = |c: &Value| c["env"][5].clone();
    assert_eq!(
        identity(&seed_daprd),
        json!({"name": "SENTRY_LOCAL_IDENTITY", "value": "default:dapr-tests"})
    );
    assert_eq!(
        identity(&daprd),
        json!({"name": "SENTRY_LOCAL_IDENTITY", "value": "dapr-tests:default"})
    );
    seed_daprd["env"][5] = identity(&daprd);

    assert_json_eq(
        &daprd,
        &seed_daprd,
        "the daprd container (against the seed)",
    );
    assert_json_eq(
        &pod["spec"]["containers"][0]["env"],
        &expected["stateapp_env"],
        "the stateapp env",
    );
    // 0.11 added nothing else: no labels, no volumes.
    let paths: Vec<String> = result
        .patch()
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths, ["/spec/containers/0/env", "/spec/containers/1"]);
}

pub fn unix_domain_socket(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        "pod_unix_domain_socket.json",
        MTLS_DEFAULT,
        None,
    ));
    let mut daprd = daprd("default", "cart", Some("8080"));
    insert_args_before(
        &mut daprd,
        "--scheduler-host-address",
        &["--unix-domain-socket", "/var/run/dapr-sockets"],
    );
    daprd["volumeMounts"] = json!([
        mount("dapr-unix-domain-socket", "/var/run/dapr-sockets"),
        token_mount()
    ]);
    let mut ops = label_ops("cart");
    ops.extend([
        add("/spec/containers/0/env", app_env()),
        add(
            "/spec/containers/0/volumeMounts/1",
            mount("dapr-unix-domain-socket", "/tmp/dapr-sockets"),
        ),
        add("/spec/containers/1", daprd),
        add(
            "/spec/volumes/1",
            json!({"name": "dapr-unix-domain-socket", "emptyDir": {"medium": "Memory"}}),
        ),
        add("/spec/volumes/2", token_volume()),
    ]);
    result.assert_injected("cart", &[], Value::Array(ops));
}

pub fn native_sidecar_annotation(evaluate: &Evaluate) {
    let result = evaluate(&Input::new("pod_native_sidecar.json", MTLS_DEFAULT, None));
    let mut daprd = daprd("default", "reports", Some("8080"));
    daprd["restartPolicy"] = json!("Always");
    let mut ops = label_ops("reports");
    ops.extend([
        add("/spec/containers/0/env", app_env()),
        add("/spec/initContainers/1", daprd),
        add("/spec/volumes/1", token_volume()),
    ]);
    result.assert_injected("reports", &[], Value::Array(ops));
}

pub fn inject_pluggable_components(evaluate: &Evaluate) {
    let result = evaluate(&Input::new(
        "pod_inject_pluggable_components.json",
        "session_components.yml",
        None,
    ));
    let shared_mount = mount("dapr-components-unix-domain-socket", COMPONENTS_SOCKETS);
    let mut daprd = daprd("shop", "orders", Some("8080"));
    daprd["env"].as_array_mut().unwrap().push(components_env());
    daprd["volumeMounts"] = json!([token_mount(), shared_mount]);
    let mut ops = label_ops("orders");
    ops.extend([
        add("/spec/containers/0/env", app_env()),
        add("/spec/containers/1", daprd),
        // my-queue is unscoped, orders-store is scoped to orders; billing-ledger is not.
        add(
            "/spec/containers/2",
            json!({
                "name": "my-queue",
                "image": "ghcr.io/example/my-queue-component:1.2.0",
                "volumeMounts": [mount("queue-config", "/etc/my-queue"), shared_mount],
                "env": [components_env()]
            }),
        ),
        add(
            "/spec/containers/3",
            json!({
                "name": "orders-store",
                "image": "ghcr.io/example/orders-store-component:0.4.1",
                "env": [{"name": "STORE_LOG_LEVEL", "value": "debug"}, components_env()],
                "volumeMounts": [shared_mount]
            }),
        ),
        add("/spec/volumes/1", token_volume()),
        add(
            "/spec/volumes/2",
            json!({"name": "dapr-components-unix-domain-socket", "emptyDir": {}}),
        ),
        add(
            "/spec/volumes/3",
            json!({"name": "queue-config", "emptyDir": {}}),
        ),
    ]);
    result.assert_injected("orders", &[], Value::Array(ops));
}

pub fn without_volumes(evaluate: &Evaluate) {
    let result = evaluate(&Input::new("pod_without_volumes.json", MTLS_DEFAULT, None));
    let shared_mount = mount("dapr-components-unix-domain-socket", COMPONENTS_SOCKETS);
    let mut daprd = daprd("default", "inventory", Some("8080"));
    daprd["env"].as_array_mut().unwrap().push(components_env());
    daprd["volumeMounts"] = json!([token_mount(), shared_mount]);
    let mut ops = label_ops("inventory");
    ops.extend([
        add("/spec/containers/0/env", app_env()),
        // The declared component container gets the socket folder, not the app env.
        add("/spec/containers/1/env", json!([components_env()])),
        add("/spec/containers/1/volumeMounts", json!([shared_mount])),
        add("/spec/containers/2", daprd),
        // One list with both volumes: Dapr's second `add /spec/volumes` would drop the token.
        add(
            "/spec/volumes",
            json!([
                token_volume(),
                {"name": "dapr-components-unix-domain-socket", "emptyDir": {}}
            ]),
        ),
    ]);
    result.assert_injected("inventory", &[], Value::Array(ops));
}

pub fn deployment(evaluate: &Evaluate) {
    evaluate(&Input::new("deployment_creation.json", NO_LOOKUPS, None)).assert_accepted_untouched();
}

pub fn update(evaluate: &Evaluate) {
    evaluate(&Input::new("pod_update.json", NO_LOOKUPS, None)).assert_accepted_untouched();
}

/// A workload's pod template is checked as its Pods will be: what they would be warned about
/// comes back on the workload, which is never changed, and nothing is looked up (the session
/// has no exchange).
pub fn workload_kinds_warn_as_their_pods_would_be(evaluate: &Evaluate) {
    for (fixture, warning) in [
        (
            "workload_deployment_create.json",
            "dapr.io/app-port: \"abc\" is not an integer; ignored",
        ),
        (
            "workload_statefulset_create.json",
            "dapr.io/log-as-json: \"yes please\" is not a boolean; read as false",
        ),
        (
            "workload_daemonset_create.json",
            "dapr.io/app-prot: unknown annotation, ignored; did you mean dapr.io/app-port?",
        ),
        (
            "workload_replicaset_create.json",
            "dapr.io/sidecar-cpu-limit: \"lots\" is not a quantity (not a number); all 4 ignored",
        ),
        (
            "workload_job_create.json",
            "dapr.io/metrics-port: \"70000\" is not a port (1-65535); ignored",
        ),
        (
            "workload_cronjob_update.json",
            "dapr.io/app-protocol: \"tcp\" is unknown (http, https, grpc, grpcs, h2c); APP_PROTOCOL not set",
        ),
        (
            "workload_replicationcontroller_create.json",
            "dapr.io/id: removed in Dapr 1.0 and ignored; use dapr.io/app-id",
        ),
    ] {
        evaluate(&Input::new(fixture, NO_LOOKUPS, None)).assert_accepted_with_warnings(&[warning]);
    }
}

pub fn a_workload_whose_pods_would_get_an_invalid_app_id_is_rejected(evaluate: &Evaluate) {
    evaluate(&Input::new("workload_deployment_invalid_app_id.json", NO_LOOKUPS, None))
        .assert_rejected("Deployment shop/cart: its Pods would be rejected: invalid app id (input: 'Bad_ID', service: 'Bad_ID-dapr'): a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
}

pub fn a_workload_without_app_id_is_rejected_with_how_to_fix_it(evaluate: &Evaluate) {
    evaluate(&Input::new("workload_deployment_without_app_id.json", NO_LOOKUPS, None))
        .assert_rejected("Deployment shop/cart: its Pods would be rejected: value for the dapr.io/app-id annotation is empty; set dapr.io/app-id in the pod template, or turn on the policy setting appIdFromOwner");
}

pub fn app_id_from_owner_names_a_deployment_template_after_the_deployment(evaluate: &Evaluate) {
    evaluate(&Input::new(
        "workload_deployment_without_app_id.json",
        NO_LOOKUPS,
        Some("settings_app_id_from_owner.json"),
    ))
    .assert_accepted_with_warnings(&[
        "dapr.io/app-id: not set; using \"cart\" from Deployment cart",
    ]);
}

pub fn strict_mode_rejects_a_workload_whose_pods_it_would_reject(evaluate: &Evaluate) {
    let warning = "dapr.io/app-port: \"abc\" is not an integer; ignored";
    evaluate(&Input::new(
        "workload_deployment_create.json",
        NO_LOOKUPS,
        Some("settings_strict_annotations.json"),
    ))
    .assert_rejected_with_warnings(
        &format!("Deployment shop/cart: its Pods would be rejected: invalid Dapr annotations (policy setting invalidAnnotations: reject): {warning}"),
        &[warning],
    );
}

const VERIFY: Option<&str> = Some("settings_verify.json");
/// The workload that runs the worked example's Pod: its ReplicaSet's Deployment.
const WORKED_EXAMPLE_OWNER: &str = "Deployment default/myapp";

/// Verify mode: a stored Pod with the sidecar inject mode gives it today passes, and nothing is
/// looked up; the same holds for the native-sidecar layout, 1.16's image and 0.11's layout.
pub fn verify_passes_stored_pods_with_todays_sidecar(evaluate: &Evaluate) {
    for (fixture, settings) in [
        ("audit_pod_sidecar_ok.json", "settings_verify.json"),
        (
            "audit_pod_native_sidecar.json",
            "settings_verify_native_sidecar.json",
        ),
        ("audit_pod_native_sidecar.json", "settings_verify.json"),
        ("audit_pod_dapr_1_16.json", "settings_verify_dapr_1_16.json"),
        ("audit_pod_seed_0_11.json", "settings_verify_seed_0_11.json"),
    ] {
        evaluate(&Input::new(fixture, NO_LOOKUPS, Some(settings))).assert_accepted_untouched();
    }
}

pub fn verify_rejects_a_stored_pod_without_daprd_naming_its_owner(evaluate: &Evaluate) {
    evaluate(&Input::new("audit_pod_missing_sidecar.json", NO_LOOKUPS, VERIFY)).assert_rejected(
        &format!("dapr.io/enabled is \"true\" but the Pod has no daprd sidecar: injection was skipped or failed; recreate it (owner: {WORKED_EXAMPLE_OWNER})"),
    );
}

/// After a control-plane upgrade, running Pods keep the old daprd until their workload restarts.
pub fn verify_rejects_a_stale_sidecar_with_both_images(evaluate: &Evaluate) {
    for (fixture, found) in [
        ("audit_pod_stale_sidecar.json", "ghcr.io/dapr/daprd:1.17.6"),
        ("audit_pod_dapr_1_16.json", "ghcr.io/dapr/daprd:1.16.9"),
    ] {
        evaluate(&Input::new(fixture, NO_LOOKUPS, VERIFY)).assert_rejected(&format!(
            "daprd runs \"{found}\", but the policy now injects \"{DAPRD_IMAGE}\": restart {WORKED_EXAMPLE_OWNER}"
        ));
    }
}

pub fn verify_rejects_a_sidecar_serving_another_app_id(evaluate: &Evaluate) {
    evaluate(&Input::new("audit_pod_app_id_mismatch.json", NO_LOOKUPS, VERIFY)).assert_rejected(
        "daprd's --app-id is \"orders\" but the Pod's app id is \"myapp\": the sidecar serves another app; recreate the Pod",
    );
}

pub fn verify_rejects_a_daprd_added_by_hand(evaluate: &Evaluate) {
    evaluate(&Input::new("audit_pod_daprd_by_hand.json", NO_LOOKUPS, VERIFY)).assert_rejected(
        "the Pod has a daprd container but no dapr.io/sidecar-injected label: it was not added by the injector; remove it and let the policy inject daprd",
    );
}

/// At admission, validating webhooks run after the mutating ones: verify sees the injected
/// Pod, and refuses one that slipped past injection.
pub fn verify_at_admission_refuses_a_pod_that_slipped_past_injection(evaluate: &Evaluate) {
    let slipped = Input::new(WORKED_EXAMPLE, NO_LOOKUPS, VERIFY);
    evaluate(&slipped).assert_rejected(&format!(
        "dapr.io/enabled is \"true\" but the Pod has no daprd sidecar: injection was skipped or failed; recreate it (owner: {WORKED_EXAMPLE_OWNER})"
    ));
    evaluate(&slipped.with_object(section_10_pod(), NO_LOOKUPS)).assert_accepted_untouched();
}

/// Pods that do not ask for Dapr, Pods whose requester may not trigger injection, and
/// workloads all pass verify untouched and without a word.
pub fn verify_passes_what_inject_mode_leaves_alone(evaluate: &Evaluate) {
    for fixture in [
        "pod_not_dapr_enabled.json",
        "pod_by_unauthorized_user.json",
        "workload_deployment_create.json",
        "workload_cronjob_update.json",
    ] {
        evaluate(&Input::new(fixture, NO_LOOKUPS, VERIFY)).assert_accepted_untouched();
    }
}

/// Every input above that injects.
fn injections() -> Vec<Input> {
    vec![
        Input::new(WORKED_EXAMPLE, MTLS_DEFAULT, None),
        Input::new(WORKED_EXAMPLE, "session_mtls_disabled_as_string.yml", None),
        Input::new(
            WORKED_EXAMPLE,
            MTLS_DEFAULT,
            Some("settings_native_sidecar.json"),
        ),
        Input::new(
            WORKED_EXAMPLE,
            NO_LOOKUPS,
            Some("settings_static_mtls_and_trust_anchors.json"),
        ),
        Input::new("pod_by_system_masters.json", MTLS_DEFAULT, None),
        Input::new("pod_invalid_annotation_values.json", MTLS_DEFAULT, None),
        Input::new("pod_unix_domain_socket.json", MTLS_DEFAULT, None),
        Input::new("pod_native_sidecar.json", MTLS_DEFAULT, None),
        Input::new(
            "pod_inject_pluggable_components.json",
            "session_components.yml",
            None,
        ),
        Input::new("pod_without_volumes.json", MTLS_DEFAULT, None),
    ]
}

pub fn every_injection_is_additive_and_idempotent(evaluate: &Evaluate) {
    for input in injections() {
        assert_well_behaved_injection(evaluate, &input);
    }
}

/// One `#[test]` per case, evaluated by `$evaluate` (a `fn(&Input) -> Evaluation`).
macro_rules! fixture_tests {
    ($evaluate:path) => {
        $crate::common::cases::fixture_tests!(@each $evaluate,
            the_worked_example_becomes_exactly_the_pod_of_section_10 => worked_example,
            mtls_disabled_by_the_string_false_drops_only_the_enable_mtls_flag => mtls_disabled_as_string,
            a_missing_trust_bundle_rejects_the_pod_with_the_lookup_error => trust_bundle_missing,
            the_native_sidecar_setting_puts_daprd_in_new_init_containers => native_sidecar_setting,
            static_mtls_and_trust_anchor_settings_replace_both_lookups => static_trust_settings,
            a_pod_without_dapr_annotations_is_accepted_untouched => not_dapr_enabled,
            enabled_yes_does_not_inject_since_dapr_1_18 => enabled_yes,
            a_pod_that_already_has_daprd_is_accepted_untouched => already_injected,
            an_unauthorized_requester_gets_a_warning_and_no_sidecar => unauthorized_user,
            a_system_masters_user_gets_a_sidecar_named_after_the_pod => system_masters,
            an_invalid_app_id_rejects_the_pod_with_dapr_message => invalid_app_id,
            a_controller_pod_without_app_id_is_rejected => controller_without_app_id,
            unusable_annotation_values_are_ignored_with_warnings => invalid_annotation_values,
            strict_mode_rejects_unusable_values_listing_every_problem => strict_mode_rejection,
            the_seed_stateapp_pod_gets_the_seed_daprd_under_dapr_0_11 => seed_stateapp_0_11,
            dapr_1_17_gives_the_worked_example_the_old_probe_defaults => worked_example_dapr_1_17,
            dapr_1_16_gives_the_worked_example_scheduler_env_per_replica => worked_example_dapr_1_16,
            a_unix_domain_socket_is_shared_by_daprd_and_the_app => unix_domain_socket,
            the_native_sidecar_annotation_appends_daprd_after_existing_init_containers => native_sidecar_annotation,
            injected_pluggable_components_follow_scopes_and_get_missing_volumes => inject_pluggable_components,
            a_pod_without_volumes_keeps_the_token_volume_beside_the_components_socket => without_volumes,
            a_deployment_is_accepted_untouched => deployment,
            an_update_is_accepted_untouched => update,
            every_workload_kind_warns_as_its_pods_would_be_without_a_patch => workload_kinds_warn_as_their_pods_would_be,
            a_workload_whose_pods_would_get_an_invalid_app_id_is_rejected => a_workload_whose_pods_would_get_an_invalid_app_id_is_rejected,
            a_workload_without_app_id_is_rejected_with_how_to_fix_it => a_workload_without_app_id_is_rejected_with_how_to_fix_it,
            app_id_from_owner_names_a_deployment_template_after_the_deployment => app_id_from_owner_names_a_deployment_template_after_the_deployment,
            strict_mode_rejects_a_workload_whose_pods_it_would_reject => strict_mode_rejects_a_workload_whose_pods_it_would_reject,
            every_injection_only_adds_and_a_second_pass_changes_nothing => every_injection_is_additive_and_idempotent,
            verify_passes_stored_pods_with_todays_sidecar => verify_passes_stored_pods_with_todays_sidecar,
            verify_rejects_a_stored_pod_without_daprd_naming_its_owner => verify_rejects_a_stored_pod_without_daprd_naming_its_owner,
            verify_rejects_a_stale_sidecar_with_both_images => verify_rejects_a_stale_sidecar_with_both_images,
            verify_rejects_a_sidecar_serving_another_app_id => verify_rejects_a_sidecar_serving_another_app_id,
            verify_rejects_a_daprd_added_by_hand => verify_rejects_a_daprd_added_by_hand,
            verify_at_admission_refuses_a_pod_that_slipped_past_injection => verify_at_admission_refuses_a_pod_that_slipped_past_injection,
            verify_passes_what_inject_mode_leaves_alone => verify_passes_what_inject_mode_leaves_alone,
        );
    };
    (@each $evaluate:path, $($test:ident => $case:ident,)*) => {
        $(
            #[test]
            fn $test() {
                $crate::common::cases::$case(&$evaluate);
            }
        )*
    };
}
pub(crate) use fixture_tests;

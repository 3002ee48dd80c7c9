//! The shipped policies as the API server applies them: each ClusterAdmissionPolicy of
//! `examples/` becomes a webhook whose rules, namespaceSelector and CEL matchConditions decide
//! whether a request reaches the PolicyServer at all. The policy's own answer is the oracle:
//! every fixture request it injects, warns on or refuses must reach exactly one policy of its
//! mode, and a request without Dapr must reach none, so that a PolicyServer outage never
//! blocks it.

use std::fs;

use dapr_sidecar_injector::validate_with;
use serde_json::{Value, json};
use testing::Canned;

const EXAMPLES: [&str; 3] = [
    "examples/cluster-admission-policy.yaml",
    "examples/verify-policy.yaml",
    "examples/namespace-injection.yaml",
];
/// The namespace label that moves a namespace to namespace-injection.yaml.
const INJECTION_LABEL: (&str, &str) = ("dapr-injection", "enabled");
const DAPR_PREFIX: &str = "dapr.io/";

/// One ClusterAdmissionPolicy, as kubewarden-controller turns it into a webhook.
struct Webhook {
    name: String,
    settings: Value,
    expressions: Vec<String>,
    grants: Value,
    mutating: bool,
    rules: Vec<Value>,
    namespace_selector: Vec<Value>,
    conditions: Vec<(String, cel::Program)>,
}

fn repository_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn webhooks() -> Vec<Webhook> {
    webhooks_of(&EXAMPLES)
}

fn webhooks_of(files: &[&str]) -> Vec<Webhook> {
    files
        .iter()
        .flat_map(|path| {
            let text = repository_file(path);
            serde_yaml::Deserializer::from_str(&text)
                .map(|document| serde::Deserialize::deserialize(document).expect(path))
                .filter(|d: &Value| d["kind"] == "ClusterAdmissionPolicy")
                .map(|d| webhook(&d))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn webhook(policy: &Value) -> Webhook {
    let spec = &policy["spec"];
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let name = policy["metadata"]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    let conditions = list(&spec["matchConditions"])
        .iter()
        .map(|c| {
            let expression = c["expression"].as_str().expect("an expression");
            let program = cel::Program::compile(expression)
                .unwrap_or_else(|e| panic!("{name}: {expression}: {e}"));
            (c["name"].as_str().expect("a name").to_owned(), program)
        })
        .collect();
    Webhook {
        settings: spec["settings"].clone(),
        expressions: list(&spec["matchConditions"])
            .iter()
            .map(|c| c["expression"].as_str().unwrap_or_default().to_owned())
            .collect(),
        grants: spec["contextAwareResources"].clone(),
        mutating: spec["mutating"] == true,
        rules: list(&spec["rules"]),
        namespace_selector: list(&spec["namespaceSelector"]["matchExpressions"]),
        conditions,
        name,
    }
}

fn holds(list: &Value, wanted: &str) -> bool {
    list.as_array()
        .is_some_and(|l| l.iter().any(|v| v == wanted || v == "*"))
}

impl Webhook {
    /// Whether the API server calls this webhook for the request, in a namespace with these
    /// labels. A condition that fails to evaluate is a failure of the test: the API server
    /// would count it as a webhook error and, under `Fail`, refuse the request.
    fn is_called(&self, request: &Value, namespace_labels: &Value) -> bool {
        self.rules_match(request)
            && self.selects(namespace_labels)
            && self.conditions.iter().all(|(name, program)| {
                let mut context = cel::Context::default();
                let variable = |v: &Value| cel::to_value(v).expect("JSON is a CEL value");
                context.add_variable_from_value("object", variable(&request["object"]));
                context.add_variable_from_value("oldObject", variable(&request["oldObject"]));
                context.add_variable_from_value("request", variable(request));
                match program.execute(&context) {
                    Ok(cel::Value::Bool(b)) => b,
                    other => panic!("{}: condition {name} gave {other:?}", self.name),
                }
            })
    }

    fn rules_match(&self, request: &Value) -> bool {
        let resource = &request["resource"];
        self.rules.iter().any(|rule| {
            holds(&rule["apiGroups"], resource["group"].as_str().unwrap_or(""))
                && holds(
                    &rule["resources"],
                    resource["resource"].as_str().unwrap_or(""),
                )
                && holds(
                    &rule["operations"],
                    request["operation"].as_str().unwrap_or(""),
                )
        })
    }

    /// `matchExpressions` with `In` and `NotIn`, as the examples use them.
    fn selects(&self, labels: &Value) -> bool {
        self.namespace_selector.iter().all(|requirement| {
            let value = &labels[requirement["key"].as_str().expect("a key")];
            let listed = requirement["values"]
                .as_array()
                .is_some_and(|values| values.contains(value));
            match requirement["operator"].as_str() {
                Some("In") => listed,
                Some("NotIn") => !listed,
                other => panic!("{}: operator {other:?} is not modelled", self.name),
            }
        })
    }
}

fn namespace_labels(namespace: &str, injected: bool) -> Value {
    let mut labels = json!({"kubernetes.io/metadata.name": namespace});
    if injected {
        labels[INJECTION_LABEL.0] = json!(INJECTION_LABEL.1);
    }
    labels
}

fn fixtures(prefixes: &[&str]) -> Vec<(String, Value)> {
    let mut names: Vec<String> =
        fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data"))
            .expect("test_data")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n.ends_with(".json") && prefixes.iter().any(|p| n.starts_with(p)))
            .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let request = serde_json::from_str(&repository_file(&format!("test_data/{n}")))
                .unwrap_or_else(|e| panic!("{n}: {e}"));
            (n, request)
        })
        .collect()
}

/// Every settings file of one mode (`{}` too, for inject).
fn settings_of(verify: bool) -> Vec<(String, Value)> {
    let mut all = fixtures(&["settings_"]);
    if !verify {
        all.push(("{}".to_owned(), json!({})));
    }
    all.retain(|(_, s)| (s["mode"] == "verify") == verify);
    all
}

/// Whether the policy does anything with the request: mutates, warns or refuses. Every
/// lookup is answered, so that injection runs to the end.
fn policy_acts(settings: &Value, request: &Value) -> bool {
    let payload = serde_json::to_vec(&json!({"settings": settings, "request": request}))
        .expect("JSON serialises");
    let raw = validate_with(&payload, &Canned::default()).expect("the policy answers");
    let response: Value = serde_json::from_slice(&raw).expect("the answer is JSON");
    response["accepted"] != true
        || !response["mutated_object"].is_null()
        || response["warnings"]
            .as_array()
            .is_some_and(|w| !w.is_empty())
}

/// The annotations the policy reads: the Pod's, or the pod template's.
fn annotations_mut(request: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let object = &mut request["object"];
    let meta = match object["kind"].as_str() {
        Some("Pod") => "/metadata",
        Some("CronJob") => "/spec/jobTemplate/spec/template/metadata",
        _ => "/spec/template/metadata",
    };
    object
        .pointer_mut(&format!("{meta}/annotations"))
        .and_then(Value::as_object_mut)
}

/// Without a `dapr.io/` annotation at either level: the Pod's or template's, and a
/// workload's own.
fn without_dapr_annotations(mut request: Value) -> Value {
    if let Some(annotations) = annotations_mut(&mut request) {
        annotations.retain(|k, _| !k.starts_with(DAPR_PREFIX));
    }
    if let Some(own) = request
        .pointer_mut("/object/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        own.retain(|k, _| !k.starts_with(DAPR_PREFIX));
    }
    request
}

fn called<'a>(
    hooks: &'a [Webhook],
    mutating: bool,
    request: &Value,
    labels: &Value,
) -> Vec<&'a str> {
    hooks
        .iter()
        .filter(|h| h.mutating == mutating && h.is_called(request, labels))
        .map(|h| h.name.as_str())
        .collect()
}

/// The audit scanner names the resource by its kind and calls the PolicyServer directly; at
/// admission the same Pod comes as a `pods` request through the webhook.
fn as_admission(mut request: Value) -> Value {
    request["resource"]["resource"] = json!("pods");
    request
}

fn as_admission_if_audit(fixture: &str, request: Value) -> Value {
    if fixture.starts_with("audit_") {
        as_admission(request)
    } else {
        request
    }
}

fn namespace_of(request: &Value) -> &str {
    request["namespace"].as_str().expect("a namespace")
}

/// Every fixture and settings pair the policy acts on, in a namespace without the label,
/// reaches exactly `expected` among the policies of its kind; at least `at_least` pairs act.
fn each_pair_acted_on_reaches(prefixes: &[&str], verify: bool, expected: &str, at_least: usize) {
    let hooks = webhooks();
    let mut acted = 0;
    for (fixture, request) in fixtures(prefixes) {
        let request = as_admission_if_audit(&fixture, request);
        for (file, settings) in settings_of(verify) {
            if !policy_acts(&settings, &request) {
                continue;
            }
            acted += 1;
            let labels = namespace_labels(namespace_of(&request), false);
            let reached = called(&hooks, !verify, &request, &labels);
            assert_eq!(reached, [expected], "{fixture} with {file}");
        }
    }
    assert!(
        acted >= at_least,
        "only {acted} fixture and settings pairs made the policy act"
    );
}

#[test]
fn every_request_the_injector_acts_on_reaches_exactly_one_injecting_policy() {
    each_pair_acted_on_reaches(
        &["pod_", "workload_", "deployment_"],
        false,
        "dapr-sidecar-injector",
        101,
    );
}

#[test]
fn every_request_acted_on_in_a_labelled_namespace_reaches_only_the_namespace_injector() {
    let hooks = webhooks();
    let mut acted = 0;
    for (fixture, request) in fixtures(&["pod_", "workload_", "deployment_"]) {
        for request in [request.clone(), without_dapr_annotations(request)] {
            for (file, mut settings) in settings_of(false) {
                settings["injectNamespaces"] = json!(["*"]);
                let labels = namespace_labels(namespace_of(&request), true);
                let reached = called(&hooks, true, &request, &labels);
                if policy_acts(&settings, &request) {
                    acted += 1;
                    assert_eq!(
                        reached,
                        ["dapr-namespace-injector"],
                        "{fixture} with {file}"
                    );
                } else {
                    assert!(!reached.contains(&"dapr-sidecar-injector"), "{fixture}");
                }
            }
        }
    }
    assert!(
        acted > 100,
        "only {acted} fixture and settings pairs made the policy act"
    );
}

#[test]
fn a_request_without_dapr_annotations_reaches_no_policy_outside_labelled_namespaces() {
    let hooks = webhooks();
    for (fixture, request) in fixtures(&["pod_", "workload_", "deployment_", "audit_"]) {
        let request = without_dapr_annotations(as_admission_if_audit(&fixture, request));
        let labels = namespace_labels(namespace_of(&request), false);
        for mutating in [true, false] {
            let reached = called(&hooks, mutating, &request, &labels);
            assert!(reached.is_empty(), "{fixture} reached {reached:?}");
        }
        // And the policy, had it been called, would have done nothing with it.
        for (file, settings) in settings_of(false).into_iter().chain(settings_of(true)) {
            if settings["injectNamespaces"].is_null() {
                assert!(!policy_acts(&settings, &request), "{fixture} with {file}");
            }
        }
    }
}

#[test]
fn every_pod_verify_acts_on_reaches_exactly_one_verifying_policy() {
    each_pair_acted_on_reaches(&["pod_", "audit_"], true, "dapr-sidecar-verifier", 11);
}

#[test]
fn kube_system_reaches_no_policy_even_when_labelled() {
    let hooks = webhooks();
    for (fixture, mut request) in fixtures(&["pod_", "workload_"]) {
        request["namespace"] = json!("kube-system");
        for labelled in [false, true] {
            let labels = namespace_labels("kube-system", labelled);
            for mutating in [true, false] {
                let reached = called(&hooks, mutating, &request, &labels);
                assert!(reached.is_empty(), "{fixture} reached {reached:?}");
            }
        }
    }
}

/// Shapes the fixtures do not hold: no annotations at any level, a ReplicationController
/// without a template, a CronJob with an empty job template. The conditions must answer
/// `false` without an evaluation error.
#[test]
fn the_conditions_evaluate_without_error_on_objects_with_missing_levels() {
    let hooks = webhooks();
    let injector = hooks
        .iter()
        .find(|h| h.name == "dapr-sidecar-injector")
        .expect("the injecting policy");
    let request = |resource: &str, group: &str, kind: &str, object: Value| {
        json!({"uid": "7d0c3c4e-1f0a-4d7e-9a53-0b8f5d6c2e11", "operation": "CREATE",
               "kind": {"group": group, "version": "v1", "kind": kind},
               "resource": {"group": group, "version": "v1", "resource": resource},
               "namespace": "shop", "userInfo": {"username": "admin", "groups": ["system:masters"]},
               "object": object, "oldObject": null})
    };
    let labels = namespace_labels("shop", false);
    for object in [
        request(
            "pods",
            "",
            "Pod",
            json!({"kind": "Pod", "metadata": {"name": "p"}}),
        ),
        request(
            "replicationcontrollers",
            "",
            "ReplicationController",
            json!({"kind": "ReplicationController", "metadata": {"name": "rc"}, "spec": {}}),
        ),
        request(
            "cronjobs",
            "batch",
            "CronJob",
            json!({"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {}}}),
        ),
    ] {
        assert!(!injector.is_called(&object, &labels), "{object}");
    }
    // Annotations on the workload itself reach the policy, which warns that they are misplaced.
    let misplaced = request(
        "deployments",
        "apps",
        "Deployment",
        json!({"kind": "Deployment", "metadata": {"name": "d",
                   "annotations": {"dapr.io/enabled": "true"}}, "spec": {"template": {"metadata": {}}}}),
    );
    assert!(injector.is_called(&misplaced, &labels));
}

#[test]
fn the_injecting_examples_route_the_rules_of_metadata_yml() {
    let metadata: Value =
        serde_yaml::from_str(&repository_file("metadata.yml")).expect("metadata.yml");
    for hook in webhooks().iter().filter(|h| h.mutating) {
        assert_eq!(
            serde_json::to_value(&hook.rules).expect("rules"),
            metadata["rules"],
            "{}",
            hook.name
        );
    }
}

// --- Revisions: examples/revisions/, one injecting and one verify policy per Dapr release -----

/// The revision layout, with the namespace-wide injector for labelled namespaces.
const REVISIONS: [&str; 3] = [
    "examples/revisions/1-18.yaml",
    "examples/revisions/1-17.yaml",
    "examples/namespace-injection.yaml",
];
const REVISION_LABEL: &str = "dapr.io/rev";

/// A namespace's labels: `rev` its `dapr.io/rev`, if any.
fn revision_labels(rev: Option<&str>) -> Value {
    let mut labels = namespace_labels("shop", false);
    if let Some(rev) = rev {
        labels[REVISION_LABEL] = json!(rev);
    }
    labels
}

/// The worked example's Pod in namespace `shop`.
fn shop_pod() -> Value {
    let mut request = fixtures(&["pod_worked_example"]).remove(0).1;
    request["namespace"] = json!("shop");
    request["object"]["metadata"]["namespace"] = json!("shop");
    request
}

/// The policy's answer under `settings`, every lookup answered.
fn answer(settings: &Value, request: &Value) -> Value {
    let payload = serde_json::to_vec(&json!({"settings": settings, "request": request}))
        .expect("JSON serialises");
    let raw = validate_with(&payload, &Canned::default()).expect("the policy answers");
    serde_json::from_slice(&raw).expect("the answer is JSON")
}

fn daprd_image(pod: &Value) -> &str {
    pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "daprd")
        .and_then(|c| c["image"].as_str())
        .unwrap_or_default()
}

/// The webhooks of one mode called for the request, in the API server's order (by name).
fn called_hooks<'a>(
    hooks: &'a [Webhook],
    mutating: bool,
    request: &Value,
    labels: &Value,
) -> Vec<&'a Webhook> {
    let mut called: Vec<&Webhook> = hooks
        .iter()
        .filter(|h| h.mutating == mutating && h.is_called(request, labels))
        .collect();
    called.sort_by(|a, b| a.name.cmp(&b.name));
    called
}

#[test]
fn every_namespace_is_injected_by_one_revision_and_verified_by_the_same() {
    let hooks = webhooks_of(&REVISIONS);
    let request = shop_pod();
    for (rev, expected) in [
        (None, "1-18"),
        (Some("1-18"), "1-18"),
        (Some("1-17"), "1-17"),
        // A label naming no revision falls to the default, never to none.
        (Some("1-19"), "1-18"),
    ] {
        let labels = revision_labels(rev);
        let inject: Vec<&str> = called_hooks(&hooks, true, &request, &labels)
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        let verify: Vec<&str> = called_hooks(&hooks, false, &request, &labels)
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(inject, [format!("dapr-inject-{expected}")], "{rev:?}");
        assert_eq!(verify, [format!("dapr-verify-{expected}")], "{rev:?}");
    }
    let mut labelled = namespace_labels("shop", true);
    labelled[REVISION_LABEL] = json!("1-17");
    let inject: Vec<&str> = called_hooks(&hooks, true, &request, &labelled)
        .iter()
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(inject, ["dapr-namespace-injector"]);
}

#[test]
fn each_namespace_gets_the_sidecar_of_its_revision_and_verify_calls_the_other_stale() {
    let hooks = webhooks_of(&REVISIONS);
    let request = shop_pod();
    for (rev, image, other) in [
        (None, "ghcr.io/dapr/daprd:1.18.3", "1-17"),
        (Some("1-17"), "ghcr.io/dapr/daprd:1.17.13", "1-18"),
    ] {
        let labels = revision_labels(rev);
        let injector = called_hooks(&hooks, true, &request, &labels)[0];
        let injected = answer(&injector.settings, &request);
        let pod = injected["mutated_object"].clone();
        assert_eq!(daprd_image(&pod), image, "{rev:?}");
        let mut admitted = request.clone();
        admitted["object"] = pod;
        let own = called_hooks(&hooks, false, &admitted, &labels)[0];
        assert_eq!(
            answer(&own.settings, &admitted)["accepted"],
            true,
            "{rev:?}"
        );
        let stranger = hooks
            .iter()
            .find(|h| h.name == format!("dapr-verify-{other}"))
            .unwrap();
        let judged = answer(&stranger.settings, &admitted);
        assert_eq!(judged["accepted"], false);
        assert!(
            judged["message"].as_str().unwrap().starts_with(&format!(
                "daprd runs \"{image}\", but the policy now injects"
            )),
            "{judged}"
        );
    }
}

/// If a revision's selector were widened to overlap another's, the API server would call both
/// injecting webhooks in the order of their names: the first injects, and the second finds
/// daprd and leaves the Pod alone. So the policy whose name sorts first wins.
#[test]
fn overlapping_revisions_would_leave_the_pod_to_the_first_by_name() {
    let hooks = webhooks_of(&REVISIONS);
    let mut request = shop_pod();
    let mut overlapping: Vec<&Webhook> = hooks
        .iter()
        .filter(|h| h.mutating && h.name.starts_with("dapr-inject-"))
        .collect();
    overlapping.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        overlapping
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>(),
        ["dapr-inject-1-17", "dapr-inject-1-18"]
    );
    let first = answer(&overlapping[0].settings, &request);
    request["object"] = first["mutated_object"].clone();
    let second = answer(&overlapping[1].settings, &request);
    assert_eq!(second["accepted"], true);
    assert!(second["mutated_object"].is_null(), "{second}");
    assert_eq!(
        daprd_image(&request["object"]),
        "ghcr.io/dapr/daprd:1.17.13"
    );
}

/// The revisions are the shipped policies with another selector and release: the same rules,
/// conditions and grants, so that everything tested of those holds for each revision.
#[test]
fn the_revisions_keep_the_shipped_rules_conditions_and_grants() {
    let shipped = webhooks();
    for hook in webhooks_of(&REVISIONS[..2]) {
        let model = shipped
            .iter()
            .find(|h| h.mutating == hook.mutating)
            .unwrap();
        assert_eq!(hook.rules, model.rules, "{}", hook.name);
        assert_eq!(hook.expressions, model.expressions, "{}", hook.name);
        assert_eq!(hook.grants, model.grants, "{}", hook.name);
        let mut settings = hook.settings.clone();
        let revision = settings.as_object_mut().unwrap();
        revision.remove("daprVersion");
        revision.remove("sidecarImage");
        let mut model_settings = model.settings.clone();
        model_settings
            .as_object_mut()
            .unwrap()
            .remove("sidecarImage");
        assert_eq!(settings, model_settings, "{}", hook.name);
    }
}

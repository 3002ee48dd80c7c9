//! `dapr-inject check`: the policy's verify mode over Pods as `kubectl get pods -o json` lists
//! them. The Pods are the audit fixtures of `test_data/`, stored as the API server keeps them.

use serde_json::{Value, json};

mod support;
use support::run as dapr_inject;

const OWNER: &str = "Deployment default/myapp";
const TODAY: &str = "ghcr.io/dapr/daprd:1.18.3";

fn test_data(name: &str) -> String {
    support::cli_path(&format!("../test_data/{name}"))
}

/// The stored Pod of an audit fixture.
fn stored_pod(fixture: &str) -> Value {
    let text = std::fs::read_to_string(test_data(fixture)).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["object"].clone()
}

/// What `kubectl get pods -A -o json` prints for these Pods.
fn listing(fixtures: &[&str]) -> String {
    let items: Vec<Value> = fixtures.iter().map(|f| stored_pod(f)).collect();
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
        .to_string()
}

fn line(pod: &str, image: &str, status: &str, reason: &str) -> Value {
    json!({"namespace": "default", "pod": pod, "owner": OWNER, "appId": "myapp",
           "image": image, "status": status, "reason": reason})
}

#[test]
fn a_cluster_listing_reports_every_pod_and_exits_1_when_any_lacks_its_sidecar() {
    let pods = listing(&[
        "audit_pod_sidecar_ok.json",
        "audit_pod_missing_sidecar.json",
        "audit_pod_stale_sidecar.json",
        "audit_pod_app_id_mismatch.json",
        "audit_pod_native_sidecar.json",
    ]);
    let output = dapr_inject(&["check", "--output-format", "json", "-"], &pods);
    assert_eq!(output.code, 1);
    assert_eq!(
        output.stderr,
        "error: 4 of 5 Pods lack the daprd sidecar the policy would give them\n"
    );
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(
        report,
        json!({"pods": [
            line("myapp-7c9d-x7k2p", TODAY, "ok", ""),
            line("myapp-7c9d-q9w4z", "", "missing", &format!("dapr.io/enabled is \"true\" but the Pod has no daprd sidecar: injection was skipped or failed; recreate it (owner: {OWNER})")),
            line("myapp-7c9d-m3n8b", "ghcr.io/dapr/daprd:1.17.6", "stale", &format!("daprd runs \"ghcr.io/dapr/daprd:1.17.6\", but the policy now injects \"{TODAY}\": restart {OWNER}")),
            line("myapp-7c9d-r5t6y", TODAY, "mismatch", "daprd's --app-id is \"orders\" but the Pod's app id is \"myapp\": the sidecar serves another app; recreate the Pod"),
            // Injected under nativeSidecar; the settings here are the defaults.
            line("myapp-7c9d-n4s7c", TODAY, "drift", &format!("daprd was injected under other settings: daprd's list: initContainers, now containers; restart {OWNER}")),
        ], "failures": 4})
    );
}

#[test]
fn healthy_pods_give_a_table_and_exit_0() {
    let pods = listing(&["audit_pod_sidecar_ok.json"]);
    let plain = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "shop"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]}});
    let input = format!("{pods}\n---\n{plain}\n");
    let output = dapr_inject(&["check", "-"], &input);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(output.stderr, "");
    let expected = [
        "NAMESPACE   POD                OWNER                      APP ID   IMAGE                       STATUS          REASON",
        "default     myapp-7c9d-x7k2p   Deployment default/myapp   myapp    ghcr.io/dapr/daprd:1.18.3   ok              -",
        "shop        web-0              -                          -        -                           not requested   does not ask for the Dapr sidecar",
    ];
    assert_eq!(output.stdout, expected.join("\n") + "\n");
}

#[test]
fn the_settings_of_the_inject_policy_set_the_image_expected() {
    let pods = listing(&["audit_pod_dapr_1_16.json"]);
    let settings = test_data("settings_verify_dapr_1_16.json");
    let output = dapr_inject(&["check", "--settings", &settings, "-f", "-"], &pods);
    assert_eq!(output.code, 0, "{}", output.stdout);
    let output = dapr_inject(&["check", "-f", "-"], &pods);
    assert_eq!(output.code, 1, "{}", output.stdout);
    assert!(output.stdout.lines().nth(1).unwrap().contains(" stale "));
}

#[test]
fn documents_that_are_not_pods_are_skipped_and_said_so() {
    let input = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: cart\n";
    let output = dapr_inject(&["check", "-"], input);
    assert_eq!(output.code, 0);
    assert_eq!(
        output.stderr,
        "note: <stdin> document 1: skipped Deployment: not a Pod\nnote: <stdin> document 2: skipped Service: not a Pod\n"
    );
    assert_eq!(
        output.stdout,
        "NAMESPACE   POD   OWNER   APP ID   IMAGE   STATUS   REASON\n"
    );
}

#[test]
fn check_without_input_says_how_to_give_it() {
    let output = dapr_inject(&["check"], "");
    assert_eq!(output.code, 2);
    assert_eq!(
        output.stderr,
        "error: no Pods given: pass a file, or `-` for standard input, e.g. `kubectl get pods -A -o json | dapr-inject check -`\n"
    );
    assert!(output.stdout.is_empty());
}

/// The stored cart Pod of `test_data/` with these trust anchors in its daprd.
fn cart_trusting(anchors: &str) -> Value {
    let mut pod = stored_pod("audit_pod_stored_cart.json");
    for var in pod["spec"]["containers"][1]["env"].as_array_mut().unwrap() {
        if var["name"] == "DAPR_TRUST_ANCHORS" {
            var["value"] = json!(anchors);
        }
    }
    pod
}

/// A trust bundle written where the program can read it.
fn bundle_file(name: &str, pem: &str) -> String {
    let path =
        std::env::temp_dir().join(format!("dapr-inject-check-{}-{name}", std::process::id()));
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

fn cart_anchors() -> String {
    let pod = stored_pod("audit_pod_stored_cart.json");
    let env = pod["spec"]["containers"][1]["env"]
        .as_array()
        .unwrap()
        .clone();
    let var = env
        .iter()
        .find(|v| v["name"] == "DAPR_TRUST_ANCHORS")
        .unwrap();
    var["value"].as_str().unwrap().to_owned()
}

#[test]
fn a_rotated_trust_bundle_makes_the_older_pods_trust_stale_naming_the_new_root() {
    let example = std::fs::read_to_string(support::trust_anchors()).unwrap();
    let rotated = bundle_file("rotated.pem", &format!("{}{example}", cart_anchors()));
    let pods = json!({"kind": "List", "items": [
        stored_pod("audit_pod_stored_cart.json"),
        cart_trusting(&format!("{}{example}", cart_anchors())),
    ]});
    let output = dapr_inject(
        &[
            "check",
            "--trust-anchors",
            &rotated,
            "--output-format",
            "json",
            "-",
        ],
        &pods.to_string(),
    );
    assert_eq!(output.code, 1, "{}", output.stderr);
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = report["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["status"].as_str().unwrap(), p["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "trust-stale",
                "daprd's DAPR_TRUST_ANCHORS lacks the current trust anchor O=dapr.io/sentry, CN=cluster.local (expires 2036-12-03): restart Deployment shop/cart"
            ),
            ("ok", ""),
        ]
    );
    assert_eq!(report["failures"], 1);
}

#[test]
fn a_pod_that_trusts_every_current_root_is_ok_and_a_distant_expiry_says_nothing() {
    let example = std::fs::read_to_string(support::trust_anchors()).unwrap();
    let pods = json!({"kind": "List", "items": [cart_trusting(&example)]});
    let output = dapr_inject(
        &["check", "--trust-anchors", &support::trust_anchors(), "-"],
        &pods.to_string(),
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(output.stderr, "");
    assert!(output.stdout.lines().nth(1).unwrap().contains(" ok "));
}

/// A copy of a stored Pod of `test_data/` under another name.
fn renamed(fixture: &str, name: &str) -> Value {
    let mut pod = stored_pod(fixture);
    pod["metadata"]["name"] = json!(name);
    pod
}

/// A ReplicaSet as `kubectl get replicasets -o json` lists it, controlled by a Deployment.
fn replica_set(name: &str, deployment: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
           "metadata": {"name": name, "namespace": "shop",
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment,
                                             "uid": "7b1d3c9e-0a4f-4e2b-8c6d-5f9a1e2b3c4d", "controller": true, "blockOwnerDeletion": true}]},
           "spec": {"replicas": 3}})
}

/// `kubectl get pods,replicasets -A -o json` for two Deployments of three Pods each (one Pod
/// without its pod-template-hash label, so only the listing's ReplicaSet names its
/// Deployment) and one Job's Pod.
fn two_deployments_and_a_job() -> String {
    let mut cart = renamed("audit_pod_stored_cart.json", "cart-b664fb686-aaaaa");
    cart["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    let mut job = renamed("audit_pod_stored_cart.json", "migrate-x7k2p");
    job["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job",
        "name": "migrate", "uid": "2c4e6a8b-1d3f-4a5c-9e7b-0f2d4c6e8a1b", "controller": true, "blockOwnerDeletion": true}]);
    json!({"apiVersion": "v1", "kind": "List", "items": [
        cart,
        renamed("audit_pod_stored_cart.json", "cart-b664fb686-bbbbb"),
        renamed("audit_pod_stored_cart.json", "cart-b664fb686-ccccc"),
        renamed("audit_pod_stored_orders.json", "orders-5fbddd85cb-aaaaa"),
        renamed("audit_pod_stored_orders.json", "orders-5fbddd85cb-bbbbb"),
        renamed("audit_pod_stored_orders.json", "orders-5fbddd85cb-ccccc"),
        job,
        replica_set("cart-b664fb686", "cart"),
        replica_set("orders-5fbddd85cb", "orders"),
    ]})
    .to_string()
}

/// `check` with `flag` on the listing, under settings that now inject daprd 1.18.4.
fn check_after_an_upgrade(flag: &str) -> support::Run {
    let newer = bundle_file(
        &format!("newer{flag}.json"),
        r#"{"sidecarImage": "ghcr.io/dapr/daprd:1.18.4"}"#,
    );
    dapr_inject(
        &["check", "--settings", &newer, flag, "-"],
        &two_deployments_and_a_job(),
    )
}

#[test]
fn two_stale_deployments_give_exactly_two_restart_commands_and_a_stale_job_none() {
    let output = check_after_an_upgrade("--restart-commands");
    assert_eq!(output.code, 1);
    assert_eq!(
        output.stdout,
        "kubectl rollout restart deployment cart -n shop\nkubectl rollout restart deployment orders -n shop\n"
    );
    assert_eq!(
        output.stderr,
        "note: shop/migrate-x7k2p (stale): run by Job shop/migrate, which is not restarted; its next Pod gets the current sidecar\n"
    );
}

#[test]
fn after_the_restart_there_is_nothing_to_restart_and_the_exit_code_is_0() {
    // The same Pods, injected under today's settings: what the restart leaves.
    let output = dapr_inject(
        &["check", "--restart-commands", "-"],
        &two_deployments_and_a_job(),
    );
    assert_eq!(
        (output.code, output.stdout.as_str(), output.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn a_bare_pod_without_daprd_is_not_called_missing_since_its_creator_is_unknown_offline() {
    let mut bare = stored_pod("audit_pod_missing_sidecar.json");
    bare["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("ownerReferences");
    let pods =
        json!({"kind": "List", "items": [bare, stored_pod("audit_pod_missing_sidecar.json")]});
    let output = dapr_inject(
        &["check", "--output-format", "json", "-"],
        &pods.to_string(),
    );
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    let statuses: Vec<&str> = report["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["requester unknown", "missing"]);
    assert_eq!(
        report["pods"][0]["reason"],
        "the Pod asks for Dapr and has no daprd, but offline its creator is unknown: injection is skipped for requesters Dapr does not allow. Check who created it (the API server's audit log), and recreate it through a workload or an allowed service account"
    );
    // Only the Deployment's Pod is certainly missing.
    assert_eq!((output.code, report["failures"].as_u64()), (1, Some(1)));
}

#[test]
fn input_that_cannot_be_read_exits_2_and_a_needed_restart_1() {
    let output = dapr_inject(&["check", "-"], "items: [unclosed\n");
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(output.stderr.starts_with("error: "), "{}", output.stderr);
    let stale = listing(&["audit_pod_stale_sidecar.json"]);
    assert_eq!(dapr_inject(&["check", "-"], &stale).code, 1);
    let ok = listing(&["audit_pod_sidecar_ok.json"]);
    assert_eq!(dapr_inject(&["check", "-"], &ok).code, 0);
}

#[test]
fn the_summary_counts_pods_per_workload_and_namespace_with_totals_last() {
    let output = check_after_an_upgrade("--summary");
    assert_eq!(output.code, 1);
    assert_eq!(
        output.stdout,
        "NAMESPACE   WORKLOAD            OK   MISSING   STALE   DRIFT   TRUST-STALE   MISMATCH   REQUESTER UNKNOWN   NOT REQUESTED   UNREADABLE   NEEDS RESTART
shop        Deployment cart     0    0         3       0       0             0          0                   0               0            3
shop        Deployment orders   0    0         3       0       0             0          0                   0               0            3
shop        Job migrate         0    0         1       0       0             0          0                   0               0            0
shop        (namespace)         0    0         7       0       0             0          0                   0               0            6
TOTAL                           0    0         7       0       0             0          0                   0               0            6

IMAGE                       RELEASE   PODS
ghcr.io/dapr/daprd:1.18.3   1.18      7
"
    );
}

#[test]
fn the_summarys_counts_are_the_per_pod_statuses() {
    let input = two_deployments_and_a_job();
    let per_pod = dapr_inject(&["check", "--output-format", "json", "-"], &input);
    let per_pod: Value = serde_json::from_str(&per_pod.stdout).unwrap();
    let summary = dapr_inject(
        &["check", "--summary", "--output-format", "json", "-"],
        &input,
    );
    let summary: Value = serde_json::from_str(&summary.stdout).unwrap();
    let mut counted = std::collections::BTreeMap::new();
    for pod in per_pod["pods"].as_array().unwrap() {
        *counted
            .entry(pod["status"].as_str().unwrap().to_owned())
            .or_insert(0u64) += 1;
    }
    let total: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(summary["total"]["pods"].clone()).unwrap();
    assert_eq!(total, counted);
    let by_workload: u64 = summary["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["pods"].as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        by_workload,
        per_pod["pods"].as_array().unwrap().len() as u64
    );
    assert_eq!(
        summary["images"],
        json!([{"release": "1.18", "image": "ghcr.io/dapr/daprd:1.18.3", "pods": 7}])
    );
}

/// Issue 27 in `check`: a running Pod's traps and a listed workload's misplaced annotations
/// are warnings on standard error; the Pod's status is still its sidecar's.
#[test]
fn a_listing_names_the_traps_of_its_pods_and_workloads() {
    let injected = dapr_inject(
        &["--trust-anchors", &support::trust_anchors(), "--output-format", "json", "-"],
        &json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "billing", "namespace": "shop",
                             "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "billing",
                                             "dapr.io/app-port": "50001"}},
                "spec": {"containers": [{"name": "billing", "image": "ghcr.io/example/billing:2.0.0",
                                         "ports": [{"containerPort": 3500, "protocol": "TCP"}]}]}})
        .to_string(),
    );
    assert_eq!(injected.code, 0, "{}", injected.stderr);
    let pod: Value = serde_json::from_str(&injected.stdout).unwrap();
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "cart", "namespace": "shop", "annotations": {"dapr.io/enabled": "true"}},
        "spec": {"template": {"metadata": {"labels": {"app": "cart"}}, "spec": {"containers": []}}}});
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [pod, deployment]});
    let output = dapr_inject(&["check", "-"], &list.to_string());
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(
        output.stderr,
        "warning: <stdin> document 1 item 1 (shop/billing): dapr.io/app-port: 50001 is daprd's gRPC port; the app cannot listen there too; choose another\n\
         warning: <stdin> document 1 item 1 (shop/billing): dapr.io/enabled: container \"billing\" declares 3500, daprd's HTTP port; only one can listen in the Pod\n\
         warning: <stdin> document 1 item 2: dapr.io/enabled: on Deployment \"cart\" itself; Dapr reads only spec.template.metadata.annotations\n\
         note: <stdin> document 1 item 2: skipped Deployment: not a Pod\n"
    );
}

/// Issue 29 in `check`: the listing's Namespaces give their defaults, so a Pod injected with
/// them is ok; without its Namespace it is judged by image and app id, with a warning saying
/// why; without the setting its sidecar looks injected under other settings.
#[test]
fn a_listing_with_its_namespaces_judges_pods_with_their_defaults() {
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "annotations": {"dapr.io/log-level": "debug"}}});
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "orders", "namespace": "shop",
                     "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "orders"}},
        "spec": {"containers": [{"name": "orders", "image": "ghcr.io/example/orders:3.0.1"}]}});
    let settings = std::env::temp_dir().join("dapr-inject-check-namespace-defaults.json");
    std::fs::write(&settings, r#"{"namespaceDefaults": true}"#).unwrap();
    let settings = settings.to_str().unwrap();
    let list =
        |items: Vec<Value>| json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string();
    let injected = dapr_inject(
        &[
            "--trust-anchors",
            &support::trust_anchors(),
            "--settings",
            settings,
            "--output-format",
            "json",
            "-",
        ],
        &list(vec![namespace.clone(), pod]),
    );
    assert_eq!(injected.code, 0, "{}", injected.stderr);
    let injected: Value = serde_json::from_str(&injected.stdout).unwrap();
    let pod = injected["items"][1].clone();
    let with = dapr_inject(
        &["check", "--settings", settings, "-"],
        &list(vec![namespace, pod.clone()]),
    );
    assert_eq!(with.code, 0, "{}", with.stderr);
    assert_eq!(
        with.stderr,
        "warning: <stdin> document 1 item 2 (shop/orders): dapr.io/log-level: \"debug\" from Namespace shop (namespaceDefaults)\n"
    );
    // Without its Namespace the Pod is judged by image and app id only, and told why.
    let without = dapr_inject(
        &["check", "--settings", settings, "-"],
        &list(vec![pod.clone()]),
    );
    assert_eq!(without.code, 0, "{}", without.stderr);
    assert!(
        without.stderr.starts_with("warning: <stdin> document 1 item 1 (shop/orders): dapr.io/*: defaults of Namespace \"shop\" not applied: no Namespace shop given"),
        "{}",
        without.stderr
    );
    // Without namespaceDefaults the same Pod looks injected under other settings.
    let plain = dapr_inject(&["check", "-"], &list(vec![pod]));
    assert_eq!(plain.code, 1);
    assert!(
        plain
            .stdout
            .contains("--log-level: \"debug\", now \"info\""),
        "{}",
        plain.stdout
    );
}

/// Issue 29: in a cluster with two revisions, the summary shows which release each image
/// belongs to, so a canary namespace's Pods are told apart from the default's.
#[test]
fn the_summary_names_the_release_of_each_revisions_image() {
    let inject = |settings: &str, name: &str| {
        let file = std::env::temp_dir().join(format!("dapr-inject-revision-{name}.json"));
        std::fs::write(&file, settings).unwrap();
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": name, "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": name}},
            "spec": {"containers": [{"name": name, "image": "ghcr.io/example/app:1.0.0"}]}});
        let run = dapr_inject(
            &[
                "--trust-anchors",
                &support::trust_anchors(),
                "--settings",
                file.to_str().unwrap(),
                "--output-format",
                "json",
                "-",
            ],
            &pod.to_string(),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str::<Value>(&run.stdout).unwrap()
    };
    let canary = inject(
        r#"{"daprVersion": "1.17", "sidecarImage": "ghcr.io/dapr/daprd:1.17.13"}"#,
        "canary",
    );
    let stable = inject("{}", "stable");
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [canary, stable]});
    let output = dapr_inject(&["check", "--summary", "-"], &list.to_string());
    assert!(
        output.stdout.ends_with(
            "IMAGE                        RELEASE   PODS\n\
             ghcr.io/dapr/daprd:1.17.13   1.17      1\n\
             ghcr.io/dapr/daprd:1.18.3    1.18      1\n"
        ),
        "{}",
        output.stdout
    );
}

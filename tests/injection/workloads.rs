//! Workloads: their pod templates are judged as their Pods will be, never changed, and
//! nothing is looked up for them.

use dapr_sidecar_injector::{Admission, Settings};
use rstest::rstest;
use serde_json::{Value, json};
use testing::{Canned, Decision, Outcome, evaluate};

use crate::support::*;

fn admission(kind: &'static str, operation: &'static str) -> Admission<'static> {
    Admission {
        kind,
        operation,
        namespace: "shop",
        username: "kubernetes-admin",
        groups: vec!["system:masters", "system:authenticated"],
    }
}

/// A workload of `kind` named `name` whose pod template carries these annotations.
fn workload(kind: &str, name: &str, annotations: Value) -> Value {
    let template = json!({
        "metadata": {"labels": {"app": name}, "annotations": annotations},
        "spec": {"containers": [{"name": "app", "image": "ghcr.io/example/app:1", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                 "volumes": [{"name": "data", "emptyDir": {}}]}
    });
    let spec = if kind == "CronJob" {
        json!({"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}})
    } else {
        json!({"replicas": 2, "template": template})
    };
    json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "shop"}, "spec": spec})
}

fn check(kind: &'static str, object: Value, settings: &Settings) -> (Outcome, Canned) {
    let cluster = control_plane();
    let outcome = evaluate(&admission(kind, "CREATE"), object, settings, &cluster);
    (outcome, cluster)
}

#[rstest]
#[case::deployment("Deployment")]
#[case::stateful_set("StatefulSet")]
#[case::daemon_set("DaemonSet")]
#[case::replica_set("ReplicaSet")]
#[case::job("Job")]
#[case::cron_job("CronJob")]
#[case::replication_controller("ReplicationController")]
fn every_kind_gets_its_pods_warnings_without_a_change_or_a_lookup(#[case] kind: &'static str) {
    let object = workload(
        kind,
        "cart",
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "cart", "dapr.io/volume-mounts": "ghost:/g"}),
    );
    let (outcome, cluster) = check(kind, object, &Settings::default());
    assert_eq!(
        outcome,
        Outcome::accept(vec![
            "dapr.io/volume-mounts: volume \"ghost\" does not exist in the Pod; mount skipped"
                .to_owned()
        ])
    );
    assert!(cluster.calls().is_empty(), "{:?}", cluster.calls());
}

#[rstest]
#[case::deployment("Deployment", "Deployment cart")]
#[case::replica_set("ReplicaSet", "ReplicaSet cart")]
#[case::daemon_set("DaemonSet", "DaemonSet cart")]
#[case::job("Job", "Job cart")]
#[case::cron_job("CronJob", "CronJob cart")]
#[case::replication_controller("ReplicationController", "ReplicationController cart")]
fn app_id_from_owner_gives_a_template_the_id_its_pods_will_get(
    #[case] kind: &'static str,
    #[case] source: &str,
) {
    let settings = Settings {
        app_id_from_owner: true,
        ..Settings::default()
    };
    let object = workload(kind, "cart", json!({"dapr.io/enabled": "true"}));
    let (outcome, _) = check(kind, object, &settings);
    assert_eq!(
        outcome,
        Outcome::accept(vec![format!(
            "dapr.io/app-id: not set; using \"cart\" from {source}"
        )])
    );
}

#[test]
fn a_stateful_set_is_judged_by_its_longest_pod_name() {
    let name = "a".repeat(56);
    let mut object = workload("StatefulSet", &name, json!({"dapr.io/enabled": "true"}));
    object["spec"]["replicas"] = json!(10);
    let (outcome, _) = check("StatefulSet", object.clone(), &Settings::default());
    assert_eq!(outcome, Outcome::accept(Vec::new()), "{name}-9 is 58 long");
    object["spec"]["replicas"] = json!(11);
    let (outcome, _) = check("StatefulSet", object, &Settings::default());
    let Decision::Reject(message) = outcome.decision else {
        panic!("{name}-10 is 59 long: {outcome:?}")
    };
    assert!(
        message.starts_with(&format!(
            "StatefulSet shop/{name}: its Pods would be rejected: invalid app id (input: '{name}-10'"
        )),
        "{message}"
    );
}

#[rstest]
#[case::no_template(json!({"replicas": 1}), "Deployment", "spec.template is missing")]
#[case::template_is_a_list(json!({"template": []}), "Deployment", "spec.template must be an object, got a list")]
#[case::cron_job_without_job_template(json!({"schedule": "@daily"}), "CronJob", "spec.jobTemplate is missing")]
#[case::template_without_spec(
    json!({"template": {"metadata": {"annotations": {"dapr.io/enabled": "true"}}}}),
    "Deployment",
    "the Pod has no spec"
)]
fn a_malformed_template_is_accepted_with_what_could_not_be_read(
    #[case] spec: Value,
    #[case] kind: &'static str,
    #[case] what: &str,
) {
    let object = json!({"kind": kind, "metadata": {"name": "cart", "annotations": {"dapr.io/enabled": "true"}}, "spec": spec});
    let (outcome, _) = check(kind, object, &Settings::default());
    assert_eq!(
        outcome,
        Outcome::accept(vec![format!(
            "dapr.io/*: pod template of {kind} shop/cart not checked: {what}"
        )])
    );
}

#[test]
fn an_update_gets_the_same_warnings_as_a_create() {
    let object = workload(
        "Deployment",
        "cart",
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "cart", "dapr.io/app-port": "http"}),
    );
    let cluster = control_plane();
    let create = evaluate(
        &admission("Deployment", "CREATE"),
        object.clone(),
        &Settings::default(),
        &cluster,
    );
    let update = evaluate(
        &admission("Deployment", "UPDATE"),
        object,
        &Settings::default(),
        &cluster,
    );
    assert_eq!(
        create.warnings,
        vec!["dapr.io/app-port: \"http\" is not an integer; ignored"]
    );
    assert_eq!(update, create);
}

#[test]
fn a_template_without_dapr_annotations_is_accepted_at_once() {
    let object = workload(
        "Deployment",
        "cart",
        json!({"prometheus.io/scrape": "true"}),
    );
    let outcome = evaluate(
        &admission("Deployment", "CREATE"),
        object,
        &Settings::default(),
        &control_plane(),
    );
    assert_eq!(outcome, Outcome::accept(Vec::new()));
}

#[test]
fn a_template_in_an_injected_namespace_is_judged_without_annotations() {
    let settings = Settings {
        inject_namespaces: vec!["shop".to_owned()],
        ..Settings::default()
    };
    let object = workload("Deployment", "cart", json!({}));
    let outcome = evaluate(
        &admission("Deployment", "CREATE"),
        object,
        &settings,
        &control_plane(),
    );
    assert_eq!(
        outcome,
        Outcome::accept(vec![
            "dapr.io/app-id: not set; using \"cart\" from Deployment cart".to_owned()
        ])
    );
}

#[test]
fn a_template_that_has_daprd_already_is_accepted_without_warnings() {
    let mut object = workload(
        "Deployment",
        "cart",
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "cart", "dapr.io/app-port": "x"}),
    );
    object["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "daprd", "image": "ghcr.io/dapr/daprd:1.18.3"}));
    let (outcome, _) = check("Deployment", object, &Settings::default());
    assert_eq!(outcome, Outcome::accept(Vec::new()));
}

#[test]
fn the_0_11_profile_judges_templates_by_its_own_rules_without_its_secret() {
    let settings: Settings =
        serde_json::from_value(json!({"daprVersion": "0.11", "allowIssuerKeyInPods": true}))
            .unwrap();
    let object = workload(
        "Deployment",
        "cart",
        json!({"dapr.io/enabled": "true", "dapr.io/id": "cart", "dapr.io/port": "abc"}),
    );
    let (outcome, cluster) = check("Deployment", object, &settings);
    assert_eq!(
        outcome.decision,
        Decision::Reject("Deployment shop/cart: its Pods would be rejected: error parsing dapr.io/port int value abc : strconv.ParseInt: parsing \"abc\": invalid syntax".to_owned())
    );
    assert!(cluster.calls().is_empty());
}

//! Which Pods are injected: the worked example end to end, the lookups, the gate on kind,
//! operation and `dapr.io/enabled`, the requester, the app id, and malformed Pods.

use dapr_sidecar_injector::{Admission, Settings};
use rstest::rstest;
use serde_json::json;
use testing::{Decision, Outcome, evaluate};

use crate::support::*;

#[test]
fn the_worked_example_comes_out_field_for_field() {
    let outcome = run(worked_example_pod(), &Settings::default(), &control_plane());
    assert_eq!(mutated(&outcome), &worked_example_result());
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert_eq!(
        outcome.audit_annotations,
        [
            ("app-id".to_owned(), "myapp".to_owned()),
            (
                "sidecar-image".to_owned(),
                "ghcr.io/dapr/daprd:1.18.3".to_owned()
            ),
            ("dapr-version".to_owned(), "1.18".to_owned()),
        ]
        .into()
    );
}

#[test]
fn the_lookups_are_configuration_then_trust_bundle() {
    let cluster = control_plane();
    run(worked_example_pod(), &Settings::default(), &cluster);
    assert_eq!(
        cluster.calls(),
        vec!["Configuration/daprsystem", "ConfigMap/dapr-trust-bundle"]
    );
    assert_eq!(cluster.requests()[0]["namespace"], "dapr-system");
}

#[test]
fn settings_for_mtls_and_trust_anchors_replace_both_lookups() {
    let cluster = control_plane();
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
    let mut cluster = control_plane();
    cluster.configuration = Ok(json!({"spec": {"mtls": {"enabled": "false"}}}));
    let outcome = run(worked_example_pod(), &Settings::default(), &cluster);
    let mut expected = worked_example_args();
    expected.retain(|a| a != "--enable-mtls");
    assert_eq!(args_of(mutated(&outcome)), expected);
}

#[test]
fn a_missing_trust_bundle_rejects_the_pod_with_how_to_fix_it() {
    let mut cluster = control_plane();
    cluster.trust_bundle = Err("Cannot find v1/ConfigMap named 'dapr-trust-bundle'".to_owned());
    let outcome = run(worked_example_pod(), &Settings::default(), &cluster);
    assert_eq!(
        outcome.decision,
        Decision::Reject("cannot read the Dapr trust anchors from ConfigMap dapr-trust-bundle in namespace dapr-system: Cannot find v1/ConfigMap named 'dapr-trust-bundle'; install Dapr's control plane there, let the PolicyServer read it (examples/rbac.yaml), or set the trustAnchors setting".to_owned())
    );
}

#[rstest]
#[case::a_service("Service", "CREATE")]
#[case::a_pod_update("Pod", "UPDATE")]
#[case::a_pod_deletion("Pod", "DELETE")]
fn non_pods_and_non_creates_are_accepted_untouched_without_lookups(
    #[case] kind: &str,
    #[case] operation: &str,
) {
    let cluster = control_plane();
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
    assert!(cluster.calls().is_empty());
}

#[rstest]
fn only_enabled_true_in_any_case_injects(
    #[values("yes", "1", "on", " true", "false", "")] value: &str,
) {
    let cluster = control_plane();
    let outcome = run(
        with_annotations(json!({"dapr.io/enabled": value})),
        &Settings::default(),
        &cluster,
    );
    assert_eq!(outcome.decision, Decision::Accept, "{value:?}");
    assert!(cluster.calls().is_empty());
}

#[test]
fn enabled_true_in_capitals_injects() {
    let outcome = run(
        with_annotations(json!({"dapr.io/enabled": "TRUE"})),
        &Settings::default(),
        &control_plane(),
    );
    mutated(&outcome);
}

#[test]
fn a_pod_with_a_daprd_container_or_init_container_is_left_alone() {
    let mut pod = worked_example_pod();
    pod["spec"]["initContainers"] = json!([{"name": "daprd", "image": "x"}]);
    assert_eq!(
        run(pod, &Settings::default(), &control_plane()).decision,
        Decision::Accept
    );
    let injected = mutated(&run(
        worked_example_pod(),
        &Settings::default(),
        &control_plane(),
    ))
    .clone();
    let cluster = control_plane();
    assert_eq!(
        run(injected, &Settings::default(), &cluster),
        Outcome::accept(Vec::new())
    );
    assert!(cluster.calls().is_empty());
}

#[test]
fn an_unauthorized_requester_gets_the_pod_unchanged_with_a_warning() {
    let cluster = control_plane();
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
            "dapr.io/enabled: not injected: user \"jane\" is not an allowed service account nor in system:masters"
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
        &control_plane(),
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
        &control_plane(),
    ));
}

#[test]
fn an_invalid_app_id_rejects_the_pod_before_any_lookup() {
    let cluster = control_plane();
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
    let outcome = run(pod, &Settings::default(), &control_plane());
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
    let out = run(pod, &Settings::default(), &control_plane());
    let pod = mutated(&out);
    assert_eq!(pod["metadata"]["labels"]["dapr.io/app-id"], "debug-pod");
    assert!(
        args_of(pod)
            .windows(2)
            .any(|w| w == ["--app-id", "debug-pod"])
    );
}

#[test]
fn a_pod_without_labels_gets_the_three_labels() {
    let mut pod = worked_example_pod();
    pod["metadata"].as_object_mut().unwrap().remove("labels");
    let out = run(pod, &Settings::default(), &control_plane());
    assert_eq!(
        mutated(&out)["metadata"]["labels"],
        json!({"dapr.io/sidecar-injected": "true", "dapr.io/app-id": "myapp", "dapr.io/metrics-enabled": "true"})
    );
}

#[test]
fn a_malformed_pod_is_rejected_with_the_field_named() {
    let mut pod = worked_example_pod();
    pod["spec"]["containers"] = json!("app");
    let out = run(pod, &Settings::default(), &control_plane());
    assert_eq!(
        out.decision,
        Decision::Reject(
            "cannot inject the Dapr sidecar: spec.containers must be a list, got a string"
                .to_owned()
        )
    );
}

#[test]
fn enabled_yes_is_not_injected_and_says_only_true_injects() {
    let out = run(
        with_annotations(json!({"dapr.io/enabled": "yes"})),
        &Settings::default(),
        &control_plane(),
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
    let out = run(pod, &Settings::default(), &control_plane());
    assert_eq!(out, Outcome::accept(vec!["dapr.io/enabled: not \"true\", so no sidecar; the other dapr.io annotations do nothing".to_owned()]));
    let mut plain = worked_example_pod();
    plain["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    assert_eq!(
        run(plain, &Settings::default(), &control_plane()),
        Outcome::accept(Vec::new())
    );
}

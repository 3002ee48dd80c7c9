//! What the policy does beyond Dapr's injector: warnings for unknown keys, strict mode, the
//! image allow-list, default resources, the restricted profile, app ids from owners,
//! namespace-wide injection, and short warnings.

use dapr_sidecar_injector::{Admission, InvalidAnnotations, SecurityProfile, Settings};
use rstest::rstest;
use serde_json::{Value, json};
use testing::{Decision, evaluate};

use crate::support::*;

#[test]
fn unknown_annotations_get_a_did_you_mean_warning_on_injection() {
    let out = run(
        with_annotations(json!({"dapr.io/app-prot": "9090", "dapr.io/id": "old"})),
        &Settings::default(),
        &control_plane(),
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
        &control_plane(),
    );
    assert_eq!(
        out.decision,
        Decision::Reject("invalid Dapr annotations (policy setting invalidAnnotations: reject): dapr.io/app-port: \"zorro\" is not an integer; ignored; dapr.io/metrics-port: \"70000\" is not a port (1-65535); ignored".to_owned())
    );
    let advice_only = run(
        with_annotations(json!({"dapr.io/app-prot": "1"})),
        &settings,
        &control_plane(),
    );
    mutated(&advice_only);
}

#[test]
fn a_sidecar_image_outside_the_allowed_globs_is_rejected_before_any_lookup() {
    let settings = Settings {
        allowed_sidecar_images: vec!["ghcr.io/dapr/daprd:*".to_owned()],
        ..Settings::default()
    };
    let cluster = control_plane();
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
        &control_plane(),
    ));
}

#[test]
fn a_request_above_its_limit_drops_all_four_as_the_api_server_would_reject_it() {
    let out = run(
        with_annotations(
            json!({"dapr.io/sidecar-cpu-request": "2", "dapr.io/sidecar-cpu-limit": "1500m", "dapr.io/sidecar-memory-limit": "1Gi"}),
        ),
        &Settings::default(),
        &control_plane(),
    );
    assert_eq!(daprd(mutated(&out))["resources"], json!({}));
    assert_eq!(
        out.warnings,
        vec![
            "dapr.io/sidecar-cpu-request: cpu request \"2\" exceeds limit \"1500m\"; all 4 ignored"
        ]
    );
}

/// The setting `sidecarResources` under the four annotations, field by field.
#[rstest]
#[case::no_annotation(json!({}), json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}))]
#[case::two_limits_overridden(
    json!({"dapr.io/sidecar-memory-limit": "1Gi", "dapr.io/sidecar-cpu-limit": "2"}),
    json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}})
)]
#[case::one_invalid_drops_all_four(
    json!({"dapr.io/sidecar-memory-limit": "1Gi", "dapr.io/sidecar-cpu-limit": "x"}),
    json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}})
)]
fn sidecar_resources_are_defaults_that_annotations_override_field_by_field(
    #[case] annotations: Value,
    #[case] resources: Value,
) {
    let settings: Settings = serde_json::from_value(json!({"sidecarResources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}})).unwrap();
    let out = run(with_annotations(annotations), &settings, &control_plane());
    assert_eq!(daprd(mutated(&out))["resources"], resources);
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
    let out = run(worked_example_pod(), &Settings::default(), &control_plane());
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
    let out = run(worked_example_pod(), &restricted, &control_plane());
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
        &control_plane(),
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
        &control_plane(),
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
    let out = run(controller_pod_without_app_id(), &settings, &control_plane());
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
    let out = run(pod, &settings, &control_plane());
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
    let out = run(pod.clone(), &settings, &control_plane());
    assert_eq!(
        mutated(&out)["metadata"]["labels"]["dapr.io/app-id"],
        "orders-api"
    );
    pod["metadata"]["annotations"]["dapr.io/enabled"] = json!("false");
    assert_eq!(
        run(pod.clone(), &settings, &control_plane()).decision,
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
        evaluate(&other_namespace, pod, &settings, &control_plane()).decision,
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
        &control_plane(),
    );
    assert_eq!(out.warnings.len(), 6, "{:?}", out.warnings);
    for w in &out.warnings {
        assert!(w.chars().count() < 120, "{w}");
        assert!(w.starts_with("dapr.io/"), "{w}");
    }
}

//! Every row of the bad-input table in docs/reliability.md: the input, and the response it
//! gets through the same `validate` / `validate_settings` the host calls. None may panic.

use dapr_sidecar_injector::{validate_settings, validate_with};
use kubewarden_policy_sdk::response::ValidationResponse;
use serde_json::{Value, json};
use testing::Canned;

const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBsecretmaterial\n-----END CERTIFICATE-----\n";

/// A healthy control plane: mTLS on, and a trust bundle.
fn healthy() -> Canned {
    Canned {
        configuration: Ok(json!({"spec": {"mtls": {"enabled": true}}})),
        trust_bundle: Ok(json!({"data": {"ca.crt": PEM}})),
        ..Canned::default()
    }
}

fn pod(annotations: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "web-5d8f7-", "namespace": "default", "annotations": annotations},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]}
    })
}

fn enabled_pod() -> Value {
    pod(json!({"dapr.io/enabled": "true", "dapr.io/app-id": "web"}))
}

fn request(object: Value) -> Value {
    json!({
        "uid": "6f1a5d2e-0b0c-4a43-9d7e-2a1c1e7b9f01",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "default",
        "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller", "groups": ["system:serviceaccounts"]},
        "object": object
    })
}

fn respond_raw(payload: &[u8], cluster: &Canned) -> ValidationResponse {
    let bytes = validate_with(payload, cluster)
        .unwrap_or_else(|e| panic!("validate errored instead of answering: {e}"));
    serde_json::from_slice(&bytes).unwrap()
}

fn respond(request: Value, cluster: &Canned) -> ValidationResponse {
    respond_raw(
        json!({"settings": {}, "request": request})
            .to_string()
            .as_bytes(),
        cluster,
    )
}

fn settings_verdict(settings: &str) -> (bool, String) {
    let bytes = validate_settings(settings.as_bytes()).unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    (
        v["valid"].as_bool().unwrap(),
        v["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_payload_that_is_not_json_is_rejected_with_a_message() {
    let r = respond_raw(b"\x00not json{", &healthy());
    assert!(!r.accepted);
    assert!(
        r.message
            .unwrap()
            .starts_with("cannot read the admission request or the policy settings:")
    );
}

#[test]
fn a_request_without_object_is_accepted_with_a_warning() {
    let mut req = request(Value::Null);
    req.as_object_mut().unwrap().remove("object");
    let r = respond(req, &healthy());
    assert!(r.accepted && r.mutated_object.is_none());
    assert_eq!(
        r.warnings.unwrap(),
        vec!["dapr.io/enabled: the request has no Pod object; nothing injected"]
    );
}

#[test]
fn a_delete_with_a_null_object_is_accepted_untouched() {
    let mut req = request(Value::Null);
    req["operation"] = json!("DELETE");
    let r = respond(req, &healthy());
    assert!(r.accepted && r.mutated_object.is_none() && r.warnings.is_none());
}

#[test]
fn a_non_pod_kind_is_accepted_untouched() {
    let mut req = request(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"annotations": {"dapr.io/enabled": "true"}}}),
    );
    req["kind"]["kind"] = json!("Service");
    let cluster = healthy();
    let r = respond(req, &cluster);
    assert!(r.accepted && r.mutated_object.is_none());
    assert_eq!(cluster.calls().len(), 0);
}

#[test]
fn a_pod_without_spec_is_rejected_naming_it() {
    let mut object = enabled_pod();
    object.as_object_mut().unwrap().remove("spec");
    let r = respond(request(object), &healthy());
    assert!(!r.accepted);
    assert_eq!(
        r.message.unwrap(),
        "cannot inject the Dapr sidecar: the Pod has no spec"
    );
}

/// Verify mode never refuses a Pod for its own read errors: it says what it could not read.
#[test]
fn verify_mode_accepts_a_malformed_pod_with_a_warning_naming_the_fault() {
    for (fault, what) in [
        (json!({"spec": null}), "the Pod has no spec"),
        (
            json!({"spec": {"containers": {"web": {}}}}),
            "spec.containers must be a list, got an object",
        ),
    ] {
        let mut object = enabled_pod();
        object["spec"] = fault["spec"].clone();
        let payload = json!({"settings": {"mode": "verify"}, "request": request(object)});
        let cluster = healthy();
        let r = respond_raw(payload.to_string().as_bytes(), &cluster);
        assert!(r.accepted && r.mutated_object.is_none(), "{what}");
        assert_eq!(
            r.warnings.unwrap(),
            vec![format!(
                "dapr.io/enabled: the Pod's sidecar was not verified: {what}"
            )]
        );
        assert_eq!(cluster.calls().len(), 0);
    }
}

#[test]
fn a_pod_whose_containers_is_not_a_list_is_rejected_naming_it() {
    let mut object = enabled_pod();
    object["spec"]["containers"] = json!({"web": {}});
    let r = respond(request(object), &healthy());
    assert_eq!(
        r.message.unwrap(),
        "cannot inject the Dapr sidecar: spec.containers must be a list, got an object"
    );
}

#[test]
fn a_pod_whose_spec_is_not_an_object_is_rejected_naming_it() {
    let mut object = enabled_pod();
    object["spec"] = json!("nope");
    let r = respond(request(object), &healthy());
    assert_eq!(
        r.message.unwrap(),
        "cannot inject the Dapr sidecar: spec must be an object, got a string"
    );
}

#[test]
fn non_string_annotation_values_are_ignored_with_warnings() {
    let object = pod(
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "web", "dapr.io/app-port": 8080, "dapr.io/log-as-json": true}),
    );
    let r = respond(request(object), &healthy());
    assert!(r.accepted && r.mutated_object.is_some());
    assert_eq!(
        r.warnings.unwrap(),
        vec![
            "dapr.io/app-port: value must be a string, got a number; ignored",
            "dapr.io/log-as-json: value must be a string, got a boolean; ignored"
        ]
    );
}

#[test]
fn a_one_mebibyte_annotation_value_is_handled_and_not_echoed() {
    let huge = "9".repeat(1 << 20);
    let object = pod(
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "web", "dapr.io/app-port": huge.clone(), "dapr.io/config": huge}),
    );
    let r = respond(request(object), &healthy());
    assert!(r.accepted);
    let warnings = r.warnings.unwrap();
    assert_eq!(
        warnings,
        vec!["dapr.io/app-port: \"999999999999999999999999…\" is not an integer; ignored"]
    );
}

#[test]
fn ten_thousand_annotations_give_at_most_twenty_warnings() {
    let mut annotations = serde_json::Map::new();
    for i in 0..10_000 {
        annotations.insert(format!("dapr.io/unknown-{i}"), json!("x"));
    }
    annotations.insert("dapr.io/enabled".into(), json!("true"));
    annotations.insert("dapr.io/app-id".into(), json!("web"));
    let r = respond(request(pod(Value::Object(annotations))), &healthy());
    assert!(r.accepted && r.mutated_object.is_some());
    let warnings = r.warnings.unwrap();
    assert_eq!(warnings.len(), 20);
    assert_eq!(warnings[19], "dapr.io/*: 9981 more warnings not shown");
}

#[test]
fn invalid_settings_of_every_kind_get_valid_false_with_a_message() {
    let cases = [
        ("not json", "invalid settings: expected a JSON object"),
        ("[]", "invalid settings: expected a JSON object"),
        (
            "{\"sidecarImag\": \"x\"}",
            "invalid settings: unknown setting \"sidecarImag\"; did you mean sidecarImage?",
        ),
        (
            "{\"tokenVolume\": \"yes\"}",
            "invalid settings: tokenVolume: invalid type: string \"yes\", expected a boolean",
        ),
        ("{\"sidecarImage\": \"\"}", "sidecarImage must not be empty"),
        (
            "{\"sidecarImagePullPolicy\": \"Sometimes\"}",
            "sidecarImagePullPolicy \"Sometimes\" is invalid",
        ),
        (
            "{\"controlPlaneNamespace\": \"Dapr\"}",
            "controlPlaneNamespace \"Dapr\" is not a namespace name",
        ),
        (
            "{\"clusterDomain\": \"a..b\"}",
            "clusterDomain \"a..b\" is not a DNS domain",
        ),
        (
            "{\"controlPlaneTrustDomain\": \"\"}",
            "controlPlaneTrustDomain \"\" is not a trust domain",
        ),
        (
            "{\"trustAnchors\": \"key\"}",
            "trustAnchors must be a PEM bundle",
        ),
        (
            "{\"actorsServiceName\": \"a\", \"actorsServiceAddress\": \"b\"}",
            "actorsServiceAddress: \"b\" is not in the form",
        ),
        (
            "{\"remindersServiceName\": \"r\", \"remindersServiceAddress\": \"r:x\"}",
            "remindersServiceAddress: \"r:x\" has an invalid port",
        ),
        ("{\"runAsUser\": -1}", "runAsUser -1 is invalid"),
        (
            "{\"allowedServiceAccounts\": [\"a:b:c\"]}",
            "allowedServiceAccounts: invalid pattern \"a:b:c\"",
        ),
        (
            "{\"ignoreEntrypointTolerations\": [{\"effect\": 1}]}",
            "invalid settings: ignoreEntrypointTolerations: effect: expected a string, got a number",
        ),
        (
            "{\"componentSocketsFolder\": \"rel\"}",
            "componentSocketsFolder \"rel\" must be an absolute path",
        ),
        (
            "{\"invalidAnnotations\": \"panic\"}",
            "invalid settings: invalidAnnotations: unknown variant `panic`",
        ),
        (
            "{\"allowedSidecarImages\": [\"x/*\"]}",
            "sidecarImage \"ghcr.io/dapr/daprd:1.18.3\" does not match allowedSidecarImages",
        ),
        (
            "{\"sidecarResources\": {\"limits\": {\"cpu\": \"-1\"}}}",
            "sidecarResources.limits.cpu \"-1\" is not a quantity",
        ),
        (
            "{\"securityProfile\": \"restricted\", \"runAsUser\": 0}",
            "securityProfile restricted needs runAsNonRoot true",
        ),
        (
            "{\"injectNamespaces\": [\"[\"]}",
            "injectNamespaces: \"[\" is not a valid glob",
        ),
        (
            "{\"nativeSidecarStartupProbe\": true}",
            "nativeSidecarStartupProbe is for a native daprd; set nativeSidecar or nativeSidecarForJobs to true as well, or remove it",
        ),
        (
            "{\"daprVersion\": \"1.17\", \"nativeSidecarForJobs\": true}",
            "nativeSidecarForJobs needs daprVersion 1.18; Dapr 1.17 has no native sidecar",
        ),
        (
            "{\"daprVersion\": \"0.11\", \"allowIssuerKeyInPods\": true, \"nativeSidecarForJobs\": true, \"nativeSidecarStartupProbe\": true}",
            "nativeSidecarForJobs needs daprVersion 1.18; Dapr 0.11 has no native sidecar",
        ),
    ];
    for (settings, expected) in cases {
        let (valid, message) = settings_verdict(settings);
        assert!(!valid, "{settings} was accepted");
        assert!(message.starts_with(expected), "{settings}: {message}");
    }
}

#[test]
fn a_configuration_that_is_not_found_forbidden_or_malformed_leaves_mtls_on() {
    for failure in [
        "configurations.dapr.io \"daprsystem\" not found",
        "forbidden: User cannot get configurations",
        "Deserialization error: expected value at line 1",
    ] {
        let cluster = Canned {
            configuration: Err(failure.to_owned()),
            ..healthy()
        };
        let r = respond(request(enabled_pod()), &cluster);
        let daprd = &r.mutated_object.unwrap()["spec"]["containers"][1];
        assert!(
            daprd["args"]
                .as_array()
                .unwrap()
                .contains(&json!("--enable-mtls")),
            "{failure}"
        );
    }
}

#[test]
fn a_configuration_whose_mtls_is_not_an_object_leaves_mtls_on() {
    let cluster = Canned {
        configuration: Ok(json!({"spec": {"mtls": "disabled"}})),
        ..healthy()
    };
    let r = respond(request(enabled_pod()), &cluster);
    assert!(
        r.mutated_object.unwrap()["spec"]["containers"][1]["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--enable-mtls"))
    );
}

#[test]
fn a_trust_bundle_that_is_not_found_forbidden_or_malformed_rejects_the_pod() {
    for failure in [
        "Cannot find v1/ConfigMap named 'dapr-trust-bundle'",
        "forbidden",
        "Deserialization error: EOF while parsing",
    ] {
        let cluster = Canned {
            trust_bundle: Err(failure.to_owned()),
            ..healthy()
        };
        let r = respond(request(enabled_pod()), &cluster);
        assert!(!r.accepted);
        assert_eq!(
            r.message.unwrap(),
            format!(
                "cannot read the Dapr trust anchors from ConfigMap dapr-trust-bundle in namespace dapr-system: {failure}; install Dapr's control plane there, let the PolicyServer read it (examples/rbac.yaml), or set the trustAnchors setting"
            )
        );
    }
}

#[test]
fn a_trust_bundle_without_ca_crt_rejects_the_pod() {
    let cluster = Canned {
        trust_bundle: Ok(json!({"data": {"issuer.crt": PEM}})),
        ..healthy()
    };
    let r = respond(request(enabled_pod()), &cluster);
    assert!(!r.accepted);
    let message = r.message.unwrap();
    assert!(message.contains("has no ca.crt key"), "{message}");
    assert!(!message.contains("secretmaterial"));
}

#[test]
fn a_failed_component_list_rejects_the_pod() {
    let cluster = Canned {
        components: Err("forbidden".to_owned()),
        ..healthy()
    };
    let object = pod(
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "web", "dapr.io/inject-pluggable-components": "true"}),
    );
    let r = respond(request(object), &cluster);
    assert!(!r.accepted);
    assert!(
        r.message
            .unwrap()
            .starts_with("cannot list the Dapr Components of namespace default")
    );
}

#[test]
fn a_requester_without_user_info_is_not_authorized_and_gets_a_warning() {
    let mut req = request(enabled_pod());
    req.as_object_mut().unwrap().remove("userInfo");
    let cluster = healthy();
    let r = respond(req, &cluster);
    assert!(r.accepted && r.mutated_object.is_none());
    assert_eq!(
        r.warnings.unwrap(),
        vec!["dapr.io/enabled: not injected: an anonymous requester may not trigger injection"]
    );
    assert_eq!(cluster.calls().len(), 0);
}

#[test]
fn no_response_ever_carries_trust_material_outside_daprd_env() {
    let r = respond(request(enabled_pod()), &healthy());
    let mut mutated = r.mutated_object.clone().unwrap();
    mutated["spec"]["containers"][1]["env"] = json!(null);
    let elsewhere =
        serde_json::to_string(&(r.message, r.warnings, r.audit_annotations, mutated)).unwrap();
    assert!(!elsewhere.contains("secretmaterial"));
}

#[test]
fn absent_settings_mean_the_defaults() {
    assert_eq!(settings_verdict("null"), (true, String::new()));
    assert_eq!(settings_verdict("{}"), (true, String::new()));
}

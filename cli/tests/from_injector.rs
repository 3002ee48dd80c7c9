//! `dapr-inject settings --from-injector`: the policy settings that reproduce Dapr's injector,
//! from its Deployment as Dapr v1.18.3's Helm chart renders it (fixtures in
//! `test_data/injector/`, written by hand from the chart's templates and values, cited in each).

mod support;
use support::run as dapr_inject;

fn fixture(name: &str) -> String {
    support::cli_path(&format!("../test_data/injector/{name}"))
}

const TRUST_ANCHORS_FILE_NOTE: &str = "note: DAPR_TRUST_ANCHORS_FILE: the injector's own trust anchors; the policy reads ConfigMap dapr-trust-bundle, or the trustAnchors setting\n";
const SENTRY_ADDRESS_NOTE: &str = "note: DAPR_SENTRY_ADDRESS: where the injector asks Sentry for its own certificate; the policy needs none\n";

#[test]
fn the_charts_default_injector_gives_the_policys_defaults_and_notes_what_has_no_setting() {
    let output = dapr_inject(
        &[
            "settings",
            "--from-injector",
            &fixture("dapr-1.18.3-chart-defaults.yaml"),
        ],
        "",
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(
        output.stdout,
        "actorsEnabled: true
actorsServiceAddress: dapr-placement-server:50005
actorsServiceName: placement
clusterDomain: cluster.local
controlPlaneNamespace: dapr-system
controlPlaneTrustDomain: cluster.local
daprVersion: \"1.18\"
dropAllCapabilities: false
enableK8sDownwardApis: false
nativeSidecar: false
readOnlyRootFilesystem: true
runAsNonRoot: true
schedulerEnabled: true
sidecarImage: ghcr.io/dapr/daprd:1.18.3
sidecarImagePullPolicy: IfNotPresent
"
    );
    assert_eq!(
        output.stderr,
        format!(
            "note: IGNORE_ENTRYPOINT_TOLERATIONS: \"[{{\\\\\\\"effect\\\\\\\":\\\\\\\"NoSchedul…\" is not a JSON list of tolerations: Dapr's injector logs a warning and keeps none, and so do these settings\n{TRUST_ANCHORS_FILE_NOTE}{SENTRY_ADDRESS_NOTE}"
        )
    );
    // Every value equals the policy's own default: the chart and the policy agree.
    let settings: serde_json::Value = serde_yaml::from_str(&output.stdout).unwrap();
    let defaults = serde_json::to_value(dapr_sidecar_injector::Settings::default()).unwrap();
    for (key, value) in settings.as_object().unwrap() {
        assert_eq!(&defaults[key], value, "{key}");
    }
}

#[test]
fn every_non_default_value_of_the_chart_becomes_its_setting() {
    let output = dapr_inject(
        &[
            "settings",
            "--from-injector",
            &fixture("dapr-1.18.3-chart-custom.yaml"),
            "--output-format",
            "json",
        ],
        "",
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    let settings: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(
        settings,
        serde_json::json!({
            "actorsEnabled": true,
            "actorsServiceAddress": "dapr-placement-server:50005",
            "actorsServiceName": "placement",
            "allowedServiceAccounts": ["argo:argo-workflow", "tekton-*:*"],
            "clusterDomain": "corp.local",
            "controlPlaneNamespace": "dapr",
            "controlPlaneTrustDomain": "corp.example",
            "daprVersion": "1.18",
            "dropAllCapabilities": true,
            "enableK8sDownwardApis": true,
            "ignoreEntrypointTolerations": [{"effect": "NoSchedule", "key": "azure.com/aci"}],
            "nativeSidecar": true,
            "readOnlyRootFilesystem": true,
            "runAsGroup": 3000,
            "runAsNonRoot": true,
            "runAsUser": 1000,
            "schedulerEnabled": false,
            "sidecarImage": "registry.corp.example/mirror/daprd:1.18.3",
            "sidecarImagePullPolicy": "Always"
        })
    );
    assert_eq!(
        output.stderr,
        format!(
            "{TRUST_ANCHORS_FILE_NOTE}{SENTRY_ADDRESS_NOTE}note: GOMAXPROCS: no setting matches it; left out\n"
        )
    );
}

#[test]
fn another_kind_of_object_is_an_error_that_says_what_was_expected() {
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: dapr-sidecar-injector}\n";
    let output = dapr_inject(&["settings", "--from-injector", "-"], service);
    assert_eq!(output.code, 1);
    assert_eq!(output.stdout, "");
    assert_eq!(
        output.stderr,
        "error: expected the injector's Deployment, got Service\n"
    );
}

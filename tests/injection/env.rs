//! Env vars: daprd's, from `dapr.io/env` and `dapr.io/env-from-secret` and the token Secrets,
//! and the three Dapr gives the app containers.

use dapr_sidecar_injector::Settings;
use serde_json::json;

use crate::support::*;

#[test]
fn app_containers_keep_their_own_dapr_env_values() {
    let mut pod = worked_example_pod();
    pod["spec"]["containers"][0]["env"] = json!([{"name": "DAPR_HTTP_PORT", "value": "9999"}]);
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}]);
    let out = run(pod, &Settings::default(), &control_plane());
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
fn token_secrets_go_to_daprd_only() {
    let out = run(
        with_annotations(
            json!({"dapr.io/api-token-secret": "api", "dapr.io/app-token-secret": "app"}),
        ),
        &Settings::default(),
        &control_plane(),
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
fn env_annotations_add_daprd_env_and_dapr_env_keys_in_order() {
    let out = run(
        with_annotations(
            json!({"dapr.io/env": "A=1, NO_PROXY=\"x,y\"", "dapr.io/env-from-secret": "S=creds:password,T=tok", "dapr.io/api-token-secret": "api"}),
        ),
        &Settings {
            enable_k8s_downward_apis: true,
            ..Settings::default()
        },
        &control_plane(),
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

//! Random manifests through the whole command line: injection is idempotent (a second run
//! writes the same bytes), and `uninject` gives back exactly the manifest injected. The app
//! containers may set `DAPR_HTTP_PORT`, `DAPR_GRPC_PORT` and `APP_PROTOCOL` themselves, to
//! values injection never writes: uninjection keeps them. The manifests hold no volume of
//! Dapr's own names (`dapr-identity-token`), which uninjection cannot tell from its own, as
//! docs/dapr-inject.md says.

use proptest::prelude::*;
use serde_json::{Value, json};

mod support;
use support::{documents, trust_anchors};

fn run(args: &[&str], stdin: &str) -> (u8, String) {
    let run = support::run(args, stdin);
    (run.code, run.stdout)
}

fn container(name: String, volumes: usize) -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(
            prop_oneof![
                Just("HOME"),
                Just("LOG_LEVEL"),
                Just("PORT"),
                Just("DAPR_HTTP_PORT"),
                Just("DAPR_GRPC_PORT"),
                Just("APP_PROTOCOL"),
            ],
            0..3,
        ),
        proptest::collection::vec(0..volumes.max(1), 0..3),
    )
        .prop_map(move |(mut env, mounts)| {
            env.sort_unstable();
            env.dedup();
            let mut c = json!({"name": name, "image": "ghcr.io/example/app:1"});
            if !env.is_empty() {
                c["env"] = env
                    .iter()
                    .map(|n| json!({"name": n, "value": "1"}))
                    .collect();
            }
            if volumes > 0 && !mounts.is_empty() {
                c["volumeMounts"] = mounts
                    .iter()
                    .enumerate()
                    .map(
                        |(i, v)| json!({"name": format!("v{v}"), "mountPath": format!("/mnt/{i}")}),
                    )
                    .collect();
            }
            c
        })
}

fn annotations() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        proptest::option::of(prop_oneof![Just("8080"), Just("abc")]),
        proptest::option::of(prop_oneof![Just("/tmp/dapr"), Just("")]),
        proptest::option::of(prop_oneof![Just("v0:/data"), Just("v9:/x")]),
        proptest::option::of(prop_oneof![Just("grpc"), Just("tcp")]),
    )
        .prop_map(|(enabled, port, socket, mounts, protocol)| {
            let mut a = json!({"dapr.io/enabled": if enabled { "true" } else { "false" }, "dapr.io/app-id": "shop-api"});
            for (key, value) in [
                ("dapr.io/app-port", port),
                ("dapr.io/unix-domain-socket-path", socket),
                ("dapr.io/volume-mounts", mounts),
                ("dapr.io/app-protocol", protocol),
            ] {
                if let Some(value) = value {
                    a[key] = json!(value);
                }
            }
            a
        })
}

/// A Pod, Deployment or CronJob whose pod has 1 to 3 containers and 0 to 3 volumes.
fn manifest() -> impl Strategy<Value = Value> {
    (1usize..4, 0usize..4, annotations(), any::<bool>(), 0usize..3)
        .prop_flat_map(|(containers, volumes, annotations, labels, kind)| {
            let cs: Vec<_> = (0..containers).map(|i| container(format!("c{i}"), volumes)).collect();
            (cs, Just(volumes), Just(annotations), Just(labels), Just(kind))
        })
        .prop_map(|(containers, volumes, annotations, labels, kind)| {
            let mut metadata = json!({"annotations": annotations});
            if labels {
                metadata["labels"] = json!({"app": "shop-api"});
            }
            let mut spec = json!({"containers": containers});
            if volumes > 0 {
                spec["volumes"] = (0..volumes).map(|v| json!({"name": format!("v{v}"), "emptyDir": {}})).collect();
            }
            let pod = json!({"metadata": metadata, "spec": spec});
            match kind {
                0 => json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shop-api", "annotations": pod["metadata"]["annotations"], "labels": pod["metadata"]["labels"]}, "spec": pod["spec"]}),
                1 => json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop-api"}, "spec": {"template": pod}}),
                _ => json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "shop-api"}, "spec": {"jobTemplate": {"spec": {"template": pod}}}}),
            }
        })
        .prop_map(|mut manifest| {
            // A Pod without labels has none, rather than `labels: null`.
            if manifest["metadata"].get("labels") == Some(&Value::Null) {
                manifest["metadata"].as_object_mut().unwrap().remove("labels");
            }
            manifest
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn injection_is_idempotent_and_uninject_gives_the_manifest_back(manifest in manifest(), as_json in any::<bool>()) {
        let text = if as_json { serde_json::to_string_pretty(&manifest).unwrap() } else { serde_yaml::to_string(&manifest).unwrap() };
        let ta = trust_anchors();
        let (code, injected) = run(&["--trust-anchors", &ta, "-"], &text);
        if code != 0 {
            return Ok(());
        }
        let (again_code, again) = run(&["--trust-anchors", &ta, "-"], &injected);
        prop_assert_eq!(again_code, 0);
        prop_assert_eq!(&again, &injected);
        let (back_code, back) = run(&["uninject", "-"], &injected);
        prop_assert_eq!(back_code, 0);
        prop_assert_eq!(documents(&back), vec![manifest]);
    }
}

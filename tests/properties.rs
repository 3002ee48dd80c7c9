//! Property tests: for random annotation maps and random Pod shapes, the policy never panics,
//! its patch (computed as Kubewarden's host computes it) only adds, and only where injection
//! owns the path; a second evaluation changes nothing; unknown fields survive; and the Pod it
//! returns passes the API server's structural checks. The policy's path, which splices the
//! sidecar into the Pod's text, gives what the `Value` path gives, also for Pods written in
//! shapes the API server never sends (nulls, repeated or escaped keys, wrong types).

use std::collections::HashSet;

use dapr_sidecar_injector::{
    ANNOTATIONS, Admission, DaprVersion, Mode, Settings, dns1123_label, is_env_var_name,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use testing::{Canned, Decision, both_paths, evaluate};

/// A control plane with mTLS on, a trust bundle, and two pluggable components.
fn cluster() -> Canned {
    Canned {
        components: Ok(vec![
            json!({"metadata": {"name": "store", "annotations": {"dapr.io/component-container": "{\"image\":\"store:1\",\"volumeMounts\":[{\"name\":\"cache\",\"mountPath\":\"/cache\"}]}"}}}),
            json!({"metadata": {"name": "c0", "annotations": {"dapr.io/component-container": "{\"image\":\"clash:1\"}"}}}),
        ]),
        ..Canned::default()
    }
}

/// Values that exercise every parser: valid, invalid, empty, huge, unicode, control characters.
fn annotation_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("yes".to_owned()),
        Just("8080".to_owned()),
        Just("-5".to_owned()),
        Just("70000".to_owned()),
        Just("0".to_owned()),
        Just("100m".to_owned()),
        Just("2".to_owned()),
        Just("1Gi".to_owned()),
        Just("v:/p,w:/q".to_owned()),
        Just("A=1,B=x,y=2".to_owned()),
        Just("S=sec:key,T=a:b:c".to_owned()),
        Just("RuntimeDefault".to_owned()),
        Just("Localhost".to_owned()),
        Just("/tmp/socks".to_owned()),
        Just("c0,c1".to_owned()),
        Just("grpc".to_owned()),
        Just("x".repeat(70_000)),
        "\\PC{0,40}",
        ".{0,20}",
        "[\\x00-\\x1f]{1,5}",
    ]
}

fn annotation_key() -> impl Strategy<Value = String> {
    let keys: Vec<String> = ANNOTATIONS.iter().map(|a| a.key.to_owned()).collect();
    prop_oneof![
        8 => proptest::sample::select(keys),
        1 => Just("dapr.io/app-prot".to_owned()),
        1 => Just("dapr.io/id".to_owned()),
        1 => "dapr\\.io/[a-z-]{1,12}",
    ]
}

fn annotations() -> impl Strategy<Value = Map<String, Value>> {
    (
        proptest::collection::btree_map(annotation_key(), annotation_value(), 0..24),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(map, enabled, valid_id)| {
            let mut out: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            if enabled {
                out.insert("dapr.io/enabled".into(), json!("true"));
            }
            if valid_id {
                out.insert("dapr.io/app-id".into(), json!("orders"));
            }
            out
        })
}

/// A container as the API server sends it, mounting some of the Pod's volumes.
fn container(name: String, volumes: usize) -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(prop_oneof![Just("DAPR_HTTP_PORT"), Just("APP_PROTOCOL"), Just("HOME"), Just("PATH")], 0..4),
        proptest::collection::vec(0..volumes.max(1), 0..3),
        any::<bool>(),
    )
        .prop_map(move |(env, mounts, with_port)| {
            let mut env_names: Vec<&str> = env;
            env_names.dedup();
            let env: Vec<Value> = env_names.iter().collect::<HashSet<_>>().into_iter().map(|n| json!({"name": n, "value": "1"})).collect();
            let mut mount_list: Vec<Value> = Vec::new();
            if volumes > 0 {
                for (i, v) in mounts.iter().enumerate() {
                    mount_list.push(json!({"name": format!("v{v}"), "mountPath": format!("/mnt/{i}")}));
                }
            }
            let mut c = json!({"name": name, "image": "example/app:1", "imagePullPolicy": "IfNotPresent", "resources": {},
                               "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                               "futureField": {"nested": [1, 2]}});
            if !env.is_empty() {
                c["env"] = Value::Array(env);
            }
            if !mount_list.is_empty() {
                c["volumeMounts"] = Value::Array(mount_list);
            }
            if with_port {
                c["ports"] = json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}]);
            }
            c
        })
}

fn pod() -> impl Strategy<Value = Value> {
    (0usize..21, 0usize..4, 0usize..5, annotations(), any::<bool>(), proptest::collection::vec(any::<bool>(), 0..3))
        .prop_flat_map(|(containers, inits, volumes, annotations, labels, tolerations)| {
            let cs: Vec<_> = (0..containers).map(|i| container(format!("c{i}"), volumes)).collect();
            let is: Vec<_> = (0..inits).map(|i| container(format!("init{i}"), volumes)).collect();
            (cs, is, Just(volumes), Just(annotations), Just(labels), Just(tolerations))
        })
        .prop_map(|(containers, inits, volumes, annotations, labels, tolerations)| {
            let mut volume_list: Vec<Value> = (0..volumes).map(|v| json!({"name": format!("v{v}"), "emptyDir": {}})).collect();
            if volumes == 4 {
                volume_list.push(json!({"name": "dapr-identity-token", "emptyDir": {}}));
            }
            let tolerations: Vec<Value> = tolerations
                .iter()
                .map(|with_seconds| {
                    if *with_seconds {
                        json!({"key": "azure.com/aci", "effect": "NoSchedule", "tolerationSeconds": 5})
                    } else {
                        json!({"key": "azure.com/aci", "effect": "NoSchedule"})
                    }
                })
                .collect();
            let mut pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"generateName": "orders-7c9d-", "namespace": "shop", "annotations": annotations,
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "orders-7c9d", "uid": "u", "controller": true}]},
                "spec": {"containers": containers, "serviceAccountName": "default", "futureField": "kept"}
            });
            if labels {
                pod["metadata"]["labels"] = json!({"app": "orders", "pod-template-hash": "7c9d"});
            }
            if !inits.is_empty() {
                pod["spec"]["initContainers"] = Value::Array(inits);
            }
            if !volume_list.is_empty() {
                pod["spec"]["volumes"] = Value::Array(volume_list);
            }
            if !tolerations.is_empty() {
                pod["spec"]["tolerations"] = Value::Array(tolerations);
            }
            pod
        })
}

fn settings() -> impl Strategy<Value = Settings> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<(bool, bool)>()).prop_map(|(native, tolerations, from_owner, (for_jobs, probe))| {
        let mut s: Settings = serde_json::from_value(json!({
            "ignoreEntrypointTolerations": if tolerations { json!([{"key": "azure.com/aci", "effect": "NoSchedule"}]) } else { json!([]) }
        }))
        .unwrap();
        s.native_sidecar = native;
        s.native_sidecar_for_jobs = for_jobs;
        s.native_sidecar_startup_probe = probe && (native || for_jobs);
        s.app_id_from_owner = from_owner;
        s
    })
}

fn controller() -> Admission<'static> {
    testing::controller_in("shop")
}

/// The paths a patch may touch: what injection owns, and the parents it may have to create.
fn path_is_owned(path: &str, original: &Value) -> bool {
    let containers = original["spec"]["containers"]
        .as_array()
        .map_or(0, Vec::len);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["metadata", "labels"] => original["metadata"].get("labels").is_none(),
        ["metadata", "labels", key] => key.starts_with("dapr.io~1"),
        ["spec", "volumes"] | ["spec", "initContainers"] | ["spec", "containers"] => true,
        ["spec", "volumes", _] | ["spec", "initContainers", _] => true,
        ["spec", "containers", i] => i.parse::<usize>().is_ok_and(|i| i >= containers),
        ["spec", "containers", _, "env" | "volumeMounts"] => true,
        ["spec", "containers", _, "env" | "volumeMounts", _] => true,
        _ => false,
    }
}

/// What the API server checks that injection could break.
fn structural_errors(pod: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let spec = &pod["spec"];
    let all: Vec<&Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["initContainers"].as_array().into_iter().flatten())
        .collect();
    let mut names = HashSet::new();
    for c in &all {
        let name = c["name"].as_str().unwrap_or_default();
        if dns1123_label(name).is_err() {
            errors.push(format!("container name {name:?} is not DNS-1123"));
        }
        if !names.insert(name) {
            errors.push(format!("container name {name:?} is not unique"));
        }
        let mut port_names = HashSet::new();
        for p in c["ports"].as_array().into_iter().flatten() {
            let port_name = p["name"].as_str().unwrap_or_default();
            if port_name.len() > 15 || !port_names.insert(port_name) {
                errors.push(format!(
                    "{name}: port name {port_name:?} too long or repeated"
                ));
            }
            if !p["containerPort"]
                .as_i64()
                .is_some_and(|n| (1..=65535).contains(&n))
            {
                errors.push(format!(
                    "{name}: containerPort {} out of range",
                    p["containerPort"]
                ));
            }
        }
        for e in c["env"].as_array().into_iter().flatten() {
            if !is_env_var_name(e["name"].as_str().unwrap_or_default()) {
                errors.push(format!("{name}: env name {} invalid", e["name"]));
            }
        }
        if c["image"]
            .as_str()
            .is_none_or(|i| i.is_empty() || i.trim() != i)
        {
            errors.push(format!("{name}: image {} invalid", c["image"]));
        }
        let mut paths = HashSet::new();
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            let volume = m["name"].as_str().unwrap_or_default();
            if !spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v["name"] == volume)
            {
                errors.push(format!("{name}: mount of missing volume {volume:?}"));
            }
            if !paths.insert(m["mountPath"].as_str().unwrap_or_default()) {
                errors.push(format!("{name}: mount path {} repeated", m["mountPath"]));
            }
        }
        for probe in ["livenessProbe", "readinessProbe"] {
            for field in [
                "initialDelaySeconds",
                "timeoutSeconds",
                "periodSeconds",
                "failureThreshold",
            ] {
                if c[probe][field].as_i64().is_some_and(|n| n < 0) {
                    errors.push(format!("{name}: {probe}.{field} negative"));
                }
            }
        }
        if let Some(t) = c["securityContext"]["seccompProfile"]["type"].as_str()
            && !["RuntimeDefault", "Unconfined"].contains(&t)
        {
            errors.push(format!("{name}: seccomp type {t:?} needs more"));
        }
    }
    let mut volumes = HashSet::new();
    for v in spec["volumes"].as_array().into_iter().flatten() {
        if !volumes.insert(v["name"].as_str().unwrap_or_default()) {
            errors.push(format!("volume {} repeated", v["name"]));
        }
    }
    errors
}

/// The Pod's text, rewritten in a shape that means the same JSON (or that the `Value` path
/// reads in its own way): each kind of text the splice must either handle or hand over.
fn rewritten(pod: &Value, how: usize) -> String {
    let text = pod.to_string();
    match how {
        0 => text,
        1 => serde_json::to_string_pretty(pod).unwrap(),
        // Repeated keys: the last one counts.
        2 => text.replacen("{", r#"{"spec":{"containers":[]},"metadata":null,"#, 1),
        3 => text.replacen(
            r#""spec":{"#,
            r#""spec":{"volumes":[{"name":"gone"}],"containers":7,"#,
            1,
        ),
        // An escaped key.
        4 => text.replacen(r#""containers""#, r#""c\u006fntainers""#, 1),
        // Nulls where lists and maps are read.
        5 => text.replacen(r#""metadata":{"#, r#""metadata":{"labels":null,"#, 1),
        6 => text.replacen(
            r#""image":"#,
            r#""env":null,"volumeMounts":null,"image":"#,
            1,
        ),
        7 => text.replacen(
            r#""spec":{"#,
            r#""spec":{"volumes":null,"initContainers":null,"#,
            1,
        ),
        // Wrong types.
        8 => text.replacen(r#""image":"#, r#""env":{"a":1},"image":"#, 1),
        9 => text.replacen(r#""spec":{"#, r#""spec":{"tolerations":"x","#, 1),
        _ => text.replacen(r#""name":"c0""#, r#""name":0"#, 1),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_spliced_pod_equals_the_pod_the_value_path_builds(
        mut pod in pod(),
        mut settings in settings(),
        how in 0usize..11,
        version in prop_oneof![Just(DaprVersion::V0_11), Just(DaprVersion::V1_16), Just(DaprVersion::V1_17), Just(DaprVersion::V1_18)],
        token_mount in any::<bool>(),
    ) {
        // 0.11 copies the app's service-account token mount, unknown fields and all.
        if let (true, Some(app)) = (token_mount, pod["spec"]["containers"].get_mut(0)) {
            let mount = json!({"name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true, "futureField": 1});
            match app["volumeMounts"].as_array_mut() {
                Some(mounts) => mounts.push(mount),
                None => app["volumeMounts"] = json!([mount]),
            }
        }
        settings.dapr_version = version;
        if version == DaprVersion::V0_11 {
            settings.allow_issuer_key_in_pods = true;
            settings.trust_anchors = Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_owned());
            settings.cert_chain = settings.trust_anchors.clone();
            settings.cert_key = Some("-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n".to_owned());
        }
        let text = rewritten(&pod, how);
        let parsed: Value = serde_json::from_str(&text).unwrap();
        // Panics, which proptest reports and shrinks, when the two paths disagree.
        both_paths(&controller(), &text, parsed, &settings, &cluster());
    }

    #[test]
    fn injection_only_adds_owned_paths_is_idempotent_and_yields_a_valid_pod(pod in pod(), settings in settings()) {
        let cluster = cluster();
        let outcome = evaluate(&controller(), pod.clone(), &settings, &cluster);
        for w in &outcome.warnings {
            prop_assert!(w.chars().count() < 120, "warning too long: {w}");
            prop_assert!(w.starts_with("dapr.io/"), "warning not about an annotation: {w}");
        }
        if let Decision::Mutate(mutated) = &outcome.decision {
            let patch = serde_json::to_value(json_patch::diff(&pod, mutated)).unwrap();
            for op in patch.as_array().unwrap() {
                prop_assert_eq!(op["op"].as_str(), Some("add"), "not an add: {}", op);
                let path = op["path"].as_str().unwrap();
                prop_assert!(path_is_owned(path, &pod), "patch touches {path}: {op}");
            }
            prop_assert_eq!(&mutated["spec"]["futureField"], &json!("kept"));
            for (i, c) in pod["spec"]["containers"].as_array().unwrap().iter().enumerate() {
                prop_assert_eq!(&mutated["spec"]["containers"][i]["futureField"], &c["futureField"]);
            }
            let errors = structural_errors(mutated);
            prop_assert!(errors.is_empty(), "invalid Pod: {:?}", errors);
            let again = evaluate(&controller(), mutated.clone(), &settings, &cluster);
            prop_assert_eq!(again.decision, Decision::Accept);
        }
    }

    #[test]
    fn a_workload_is_never_mutated_nor_looked_up_and_its_warnings_stay_short(
        pod in pod(),
        settings in settings(),
        kind in proptest::sample::select(vec!["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"]),
        operation in prop_oneof![Just("CREATE"), Just("UPDATE")],
        shape in 0usize..4,
    ) {
        let template = json!({"metadata": pod["metadata"].clone(), "spec": pod["spec"].clone()});
        let spec = match (kind, shape) {
            (_, 1) => json!({"template": []}),
            (_, 2) => json!({}),
            ("CronJob", _) => json!({"jobTemplate": {"spec": {"template": template}}}),
            _ => json!({"replicas": 3, "template": template}),
        };
        let workload = json!({"kind": kind, "metadata": {"name": "shop-api", "namespace": "shop"}, "spec": spec});
        let admission = Admission { kind, operation, ..controller() };
        let cluster = Canned::default();
        let text = if shape == 3 { serde_json::to_string_pretty(&workload).unwrap() } else { workload.to_string() };
        let outcome = both_paths(&admission, &text, workload, &settings, &cluster);
        prop_assert!(!matches!(outcome.decision, Decision::Mutate(_)), "mutated: {:?}", outcome);
        prop_assert!(cluster.calls().is_empty(), "looked up {:?}", cluster.calls());
        prop_assert!(outcome.audit_annotations.is_empty());
        for w in &outcome.warnings {
            prop_assert!(w.chars().count() < 120, "warning too long: {w}");
            prop_assert!(w.starts_with("dapr.io/"), "warning not about an annotation: {w}");
        }
        if let Decision::Reject(message) = &outcome.decision {
            let prefix = format!("{kind} shop/shop-api: its Pods would be rejected: ");
            prop_assert!(message.starts_with(&prefix), "{message}");
        }
    }

    #[test]
    fn what_inject_mode_injects_verify_passes_and_without_daprd_finds_missing(pod in pod(), settings in settings()) {
        let outcome = evaluate(&controller(), pod, &settings, &cluster());
        let Decision::Mutate(injected) = outcome.decision else { return Ok(()) };
        let verify = Settings { mode: Mode::Verify, ..settings };
        let canned = Canned::default();
        let passed = evaluate(&controller(), injected.clone(), &verify, &canned);
        prop_assert_eq!(&passed.decision, &Decision::Accept, "{:?}", passed);
        // Verify repeats injection's warnings about the Pod's ports, network, mesh and OS, and
        // says nothing new.
        // (Past 20 warnings the response counts the rest instead of showing them.)
        let cut = |warnings: &[String]| warnings.last().is_some_and(|w| w.ends_with("more warnings not shown"));
        for warning in &passed.warnings {
            let shown = outcome.warnings.contains(warning);
            prop_assert!(shown || cut(&outcome.warnings), "{warning} not given at injection: {:?}", outcome.warnings);
        }
        let mut stripped = injected;
        for list in ["containers", "initContainers"] {
            if let Some(containers) = stripped["spec"][list].as_array_mut() {
                containers.retain(|c| c["name"] != "daprd");
            }
        }
        let missing = evaluate(&controller(), stripped, &verify, &canned);
        let Decision::Reject(message) = &missing.decision else {
            return Err(TestCaseError::fail(format!("not rejected: {missing:?}")));
        };
        prop_assert!(message.contains(" but the Pod has no daprd sidecar: "), "{message}");
        prop_assert!(canned.calls().is_empty(), "verify looked up {:?}", canned.calls());
    }
}

/// One settings change that alters daprd, and the field a drift finding must name.
fn change_one_setting(settings: &mut Settings, which: usize) -> &'static str {
    match which {
        0 => {
            settings.run_as_user = Some(settings.run_as_user.map_or(4321, |id| id + 1));
            "securityContext.runAsUser"
        }
        1 => {
            settings.read_only_root_filesystem = !settings.read_only_root_filesystem;
            "securityContext.readOnlyRootFilesystem"
        }
        _ => {
            settings.sidecar_image_pull_policy = match settings.sidecar_image_pull_policy.as_str() {
                "Always" => "Never".to_owned(),
                _ => "Always".to_owned(),
            };
            "imagePullPolicy"
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A Pod injected today and stored by the API server (its defaults, the token mount of the
    /// ServiceAccount plugin) passes verify; after one settings change, verify names the change.
    #[test]
    fn a_stored_injected_pod_passes_verify_until_one_setting_changes_and_is_named(
        pod in pod(),
        settings in settings(),
        which in 0usize..3,
    ) {
        let outcome = evaluate(&controller(), pod, &settings, &cluster());
        let Decision::Mutate(injected) = outcome.decision else { return Ok(()) };
        // Verify cannot list Components: such a Pod's sidecar is not judged for drift.
        if !injected["metadata"]["annotations"]["dapr.io/inject-pluggable-components"].is_null() {
            return Ok(());
        }
        let stored = testing::stored(injected);
        let verify = Settings { mode: Mode::Verify, ..settings };
        let passed = evaluate(&controller(), stored.clone(), &verify, &Canned::default());
        prop_assert_eq!(&passed.decision, &Decision::Accept, "{:?}", passed);
        let mut changed = verify.clone();
        let field = change_one_setting(&mut changed, which);
        let drifted = evaluate(&controller(), stored, &changed, &Canned::default());
        let Decision::Reject(message) = &drifted.decision else {
            return Err(TestCaseError::fail(format!("no drift after changing {field}: {drifted:?}")));
        };
        let named = format!("daprd was injected under other settings: {field}: ");
        prop_assert!(message.starts_with(&named), "{message}");
    }
}

//! `dapr-inject` on realistic manifests (`tests/manifests/`): a directory of samples with
//! comments and Helm output, Knative Services, Lists, Dapr 0.x annotations, templates without
//! app id. Every object gets a summary line, every failure its warnings, comments survive, and
//! `uninject` gives the manifests back.

use serde_json::{Value, json};

mod support;
use support::{Run, documents, run as dapr_inject, trust_anchors};

fn manifests(name: &str) -> String {
    support::cli_path(&format!("tests/manifests/{name}"))
}

fn inject(args: &[&str]) -> Run {
    let ta = trust_anchors();
    let all: Vec<&str> = ["--trust-anchors", ta.as_str()]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    dapr_inject(&all, "")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(manifests(name)).unwrap()
}

/// Whether every line of `input` is in `output`, in order: nothing was lost or rewritten.
fn keeps_every_line(input: &str, output: &str) -> bool {
    let mut out = output.lines();
    input.lines().all(|line| out.any(|o| o == line))
}

#[test]
fn every_object_of_a_directory_tree_gets_a_summary_line_after_its_warnings() {
    let run = inject(&["-R", "-f", &manifests("samples")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "deployment/cart injected (app id cart, daprd 1.18.3)\n\
             service/cart skipped: not a workload\n\
             cronjob/nightly-report injected (app id nightly-report, daprd 1.18.3)\n\
             warning: {} document 2 (Deployment/worker): dapr.io/enabled: \"yes\" does not inject; only \"true\" does\n\
             deployment/worker skipped: dapr.io/enabled is \"yes\", only \"true\" injects\n\
             service/hello skipped: not a workload\n",
            manifests("samples/jobs/nightly.yaml")
        )
    );
    assert_eq!(documents(&run.stdout).len(), 5);
}

#[test]
fn comments_quoting_and_flow_style_survive_in_injected_documents() {
    let run = inject(&[
        "-f",
        &manifests("samples/cart.yaml"),
        "-f",
        &manifests("samples/jobs/nightly.yaml"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for sample in ["samples/cart.yaml", "samples/jobs/nightly.yaml"] {
        assert!(
            keeps_every_line(&read(sample), &run.stdout),
            "{sample} lost a line:\n{}",
            run.stdout
        );
    }
    // The additions are what the policy gives the same objects as JSON, with no comments.
    let spliced = documents(&run.stdout);
    let json_run = inject(&[
        "--output-format",
        "json",
        "-f",
        &manifests("samples/cart.yaml"),
    ]);
    let whole: Value = serde_json::Deserializer::from_str(&json_run.stdout)
        .into_iter::<Value>()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(spliced[0], whole);
    assert_eq!(
        spliced[0]["spec"]["template"]["spec"]["containers"][1]["name"],
        "daprd"
    );
}

#[test]
fn a_directory_without_recursion_reads_only_its_own_files() {
    let run = inject(&["-f", &manifests("samples")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "deployment/cart injected (app id cart, daprd 1.18.3)\nservice/cart skipped: not a workload\nservice/hello skipped: not a workload\n"
    );
}

#[test]
fn a_directory_without_manifests_is_an_error_that_says_so() {
    let empty = std::env::temp_dir().join(format!("dapr-inject-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let run = inject(&["-f", empty.to_str().unwrap()]);
    std::fs::remove_dir_all(&empty).unwrap();
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr,
        format!(
            "error: {} is a directory without manifests (.yaml, .yml or .json files) (add -R for its subdirectories)\n",
            empty.display()
        )
    );
}

#[test]
fn dapr_0_annotations_explain_the_failure_they_cause() {
    let run = inject(&[&manifests("legacy.yaml")]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    let at = format!(
        "{} document 1 (Deployment/pythonapp)",
        manifests("legacy.yaml")
    );
    assert_eq!(
        run.stderr,
        format!(
            "error: {at}: Deployment default/pythonapp: its Pods would be rejected: value for the dapr.io/app-id annotation is empty; set dapr.io/app-id in the pod template, or turn on the policy setting appIdFromOwner\n\
             warning: {at}: dapr.io/id: removed in Dapr 1.0 and ignored; use dapr.io/app-id\n\
             warning: {at}: dapr.io/port: removed in Dapr 1.0 and ignored; use dapr.io/app-port\n"
        )
    );
}

#[test]
fn json_input_gives_json_output_and_untouched_items_stay_as_they_were() {
    let run = inject(&[&manifests("list.json")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "configmap/settings skipped: not a workload\ndeployment/orders injected (app id orders, daprd 1.18.3)\n"
    );
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    let input: Value = serde_json::from_str(&read("list.json")).unwrap();
    assert_eq!(list["items"][0], input["items"][0]);
    assert_eq!(
        list["items"][1]["spec"]["template"]["spec"]["containers"][1]["name"],
        "daprd"
    );
    let yaml = inject(&["--output-format", "yaml", &manifests("list.json")]);
    assert_eq!(documents(&yaml.stdout), vec![list]);
}

#[test]
fn output_goes_to_the_file_only_when_every_object_worked() {
    let out = std::env::temp_dir().join(format!("dapr-inject-out-{}.yaml", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let path = out.to_str().unwrap();
    let failed = inject(&[
        "-f",
        &manifests("samples/cart.yaml"),
        "-f",
        &manifests("legacy.yaml"),
        "-o",
        path,
    ]);
    assert_eq!(failed.code, 1);
    assert!(!out.exists(), "a partial result was written");
    assert!(
        failed
            .stderr
            .contains(&format!("error: {} document 1", manifests("legacy.yaml")))
    );
    let worked = inject(&["-f", &manifests("samples/cart.yaml"), "-o", path]);
    assert_eq!(worked.code, 0, "{}", worked.stderr);
    assert!(worked.stdout.is_empty());
    let written = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_eq!(documents(&written).len(), 2);
}

#[test]
fn uninject_gives_back_every_injected_manifest() {
    for sample in [
        "samples/cart.yaml",
        "samples/jobs/nightly.yaml",
        "list.json",
    ] {
        let injected = inject(&["--output-format", "yaml", &manifests(sample)]);
        assert_eq!(injected.code, 0, "{}", injected.stderr);
        let back = dapr_inject(
            &["uninject", "--output-format", "yaml", "-"],
            &injected.stdout,
        );
        assert_eq!(back.code, 0, "{}", back.stderr);
        assert_eq!(
            documents(&back.stdout),
            documents(&read(sample)),
            "{sample}"
        );
    }
    let back = dapr_inject(
        &["uninject", "-"],
        &inject(&[&manifests("samples/cart.yaml")]).stdout,
    );
    assert_eq!(
        back.stderr,
        "deployment/cart uninjected\nservice/cart skipped: not a workload\n"
    );
}

#[test]
fn upgrade_injects_an_injected_manifest_again_under_the_new_settings() {
    let old = inject(&[
        "--settings",
        &manifests("old-settings.yaml"),
        &manifests("samples/cart.yaml"),
    ]);
    assert!(
        old.stderr
            .starts_with("deployment/cart injected (app id cart, daprd 1.17.6)\n"),
        "{}",
        old.stderr
    );
    let ta = trust_anchors();
    let kept = dapr_inject(&["--trust-anchors", &ta, "-"], &old.stdout);
    assert_eq!(kept.stdout, old.stdout);
    assert!(kept.stderr.starts_with("deployment/cart skipped: already injected (--upgrade injects it again under these settings)\n"), "{}", kept.stderr);
    let upgraded = dapr_inject(&["--trust-anchors", &ta, "--upgrade", "-"], &old.stdout);
    assert!(
        upgraded
            .stderr
            .starts_with("deployment/cart re-injected (app id cart, daprd 1.18.3)\n"),
        "{}",
        upgraded.stderr
    );
    let fresh = inject(&[&manifests("samples/cart.yaml")]);
    assert_eq!(documents(&upgraded.stdout), documents(&fresh.stdout));
}

#[test]
fn with_app_id_from_owner_a_template_takes_its_workloads_name() {
    let run = inject(&[
        "--settings",
        &manifests("owner-settings.yaml"),
        &manifests("owner.yaml"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let at =
        |n: usize, object: &str| format!("{} document {n} ({object})", manifests("owner.yaml"));
    assert_eq!(
        run.stderr,
        format!(
            "warning: {}: dapr.io/app-id: not set; using \"checkout\" from Deployment checkout\n\
             deployment/checkout injected (app id checkout, daprd 1.18.3)\n\
             warning: {}: dapr.io/app-id: not set; using \"cleanup\" from CronJob cleanup\n\
             cronjob/cleanup injected (app id cleanup, daprd 1.18.3)\n",
            at(1, "Deployment/checkout"),
            at(2, "CronJob/cleanup")
        )
    );
    let docs = documents(&run.stdout);
    assert_eq!(
        docs[0]["spec"]["template"]["metadata"]["labels"]["dapr.io/app-id"],
        "checkout"
    );
    assert!(
        docs[0]["spec"]["template"]["metadata"]
            .get("ownerReferences")
            .is_none()
    );
    assert_eq!(
        docs[1]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"],
        json!({"dapr.io/app-id": "cleanup", "dapr.io/metrics-enabled": "true", "dapr.io/sidecar-injected": "true"})
    );
}

#[test]
fn a_stateful_set_without_app_id_is_refused_saying_why_no_id_fits() {
    let run = inject(&[
        "--settings",
        &manifests("owner-settings.yaml"),
        &manifests("statefulset.yaml"),
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: {} document 1 (StatefulSet/ledger): StatefulSet default/ledger: its Pods are named ledger-0, ledger-1, … and in the cluster each takes its own name as app id, so no single app id fits the template; set dapr.io/app-id in the pod template\n",
            manifests("statefulset.yaml")
        )
    );
}

#[test]
fn quiet_drops_the_summaries_but_keeps_the_warnings() {
    let run = inject(&["--quiet", &manifests("samples/jobs/nightly.yaml")]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stderr,
        format!(
            "warning: {} document 2 (Deployment/worker): dapr.io/enabled: \"yes\" does not inject; only \"true\" does\n",
            manifests("samples/jobs/nightly.yaml")
        )
    );
}

#[test]
fn the_readme_example_gets_no_warning_at_all() {
    let run = inject(&[&support::cli_path("../examples/stateapp.yaml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "service/stateapp skipped: not a workload\n\
         deployment/stateapp injected (app id stateapp, daprd 1.18.3)\n"
    );
}

/// Issue 27 in the command line: the same warnings as at `kubectl apply`, each with its place.
#[test]
fn dapr_traps_in_manifests_are_named_before_apply() {
    let file = manifests("traps/workloads.yaml");
    let run = inject(&[&file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let at =
        |document: usize, object: &str| format!("warning: {file} document {document} ({object})");
    let misplaced = "itself; Dapr reads only spec.template.metadata.annotations";
    let windows = |field: &str| {
        format!(
            "dapr.io/enabled: Windows Pod: daprd's securityContext.{field} left out, as Kubernetes forbids it"
        )
    };
    assert_eq!(
        run.stderr,
        [
            format!("{}: dapr.io/app-id: on Deployment \"cart\" {misplaced}", at(1, "Deployment/cart")),
            format!("{}: dapr.io/enabled: on Deployment \"cart\" {misplaced}", at(1, "Deployment/cart")),
            "deployment/cart skipped: no dapr.io/enabled: \"true\"".to_owned(),
            format!("{}: dapr.io/app-port: 50001 is daprd's gRPC port; the app cannot listen there too; choose another", at(2, "Deployment/billing")),
            format!("{}: dapr.io/enabled: container \"billing\" declares 3500, daprd's HTTP port; only one can listen in the Pod", at(2, "Deployment/billing")),
            "deployment/billing injected (app id billing, daprd 1.18.3)".to_owned(),
            format!("{}: {}", at(3, "Deployment/invoice"), windows("readOnlyRootFilesystem")),
            format!("{}: {}", at(3, "Deployment/invoice"), windows("allowPrivilegeEscalation")),
            "deployment/invoice injected (app id invoice, daprd 1.18.3)".to_owned(),
        ]
        .map(|line| line + "\n")
        .concat()
    );
    let invoice = &documents(&run.stdout)[2];
    let daprd = invoice["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "daprd")
        .unwrap();
    assert_eq!(daprd["securityContext"], json!({"runAsNonRoot": true}));
}

#[test]
fn a_port_collision_fails_the_manifest_under_reject() {
    let settings = std::env::temp_dir().join("dapr-inject-traps-reject.json");
    std::fs::write(&settings, r#"{"invalidAnnotations": "reject"}"#).unwrap();
    let file = manifests("traps/workloads.yaml");
    let run = inject(&["--settings", settings.to_str().unwrap(), &file]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "error: {file} document 2 (Deployment/billing): invalid Dapr annotations (policy setting invalidAnnotations: reject): dapr.io/app-port: 50001 is daprd's gRPC port; the app cannot listen there too; choose another; dapr.io/enabled: container \"billing\" declares 3500, daprd's HTTP port; only one can listen in the Pod\n"
        )),
        "{}",
        run.stderr
    );
}

/// Issue 28 offline: a CronJob's template gets the native daprd and its startup probe, as its
/// Pods would in the cluster; the Deployment beside it does not.
#[test]
fn native_sidecar_for_jobs_makes_a_cronjobs_daprd_native_and_leaves_deployments_alone() {
    let settings = std::env::temp_dir().join("dapr-inject-jobs.json");
    std::fs::write(
        &settings,
        r#"{"nativeSidecarForJobs": true, "nativeSidecarStartupProbe": true}"#,
    )
    .unwrap();
    let run = inject(&[
        "--settings",
        settings.to_str().unwrap(),
        "-f",
        &manifests("samples/jobs/nightly.yaml"),
        "-f",
        &manifests("samples/cart.yaml"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.starts_with(&format!(
        "warning: {} document 1 (CronJob/nightly-report): dapr.io/enable-native-sidecar: daprd is native, so CronJob \"nightly-report\" can complete (setting nativeSidecarForJobs)\n",
        manifests("samples/jobs/nightly.yaml")
    )), "{}", run.stderr);
    let docs = documents(&run.stdout);
    let cronjob = docs.iter().find(|d| d["kind"] == "CronJob").unwrap();
    let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let daprd = &pod["initContainers"][0];
    assert_eq!(daprd["name"], "daprd");
    assert_eq!(daprd["restartPolicy"], "Always");
    assert_eq!(
        daprd["startupProbe"],
        json!({"httpGet": {"path": "/v1.0/healthz/outbound", "port": 3501},
               "initialDelaySeconds": 1, "timeoutSeconds": 1, "periodSeconds": 1, "failureThreshold": 230})
    );
    assert!(
        pod["containers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "daprd")
    );
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "cart")
        .unwrap();
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert!(
        containers
            .iter()
            .any(|c| c["name"] == "daprd" && c.get("startupProbe").is_none())
    );
}

/// Issue 29 offline: a Namespace document of the input gives its dapr.io/ annotations to its
/// Pods under namespaceDefaults, the Pod's own winning; its dapr.io/enabled enables nothing.
#[test]
fn a_namespace_document_gives_its_defaults_to_the_pods_in_it() {
    let settings = std::env::temp_dir().join("dapr-inject-namespace-defaults.json");
    std::fs::write(&settings, r#"{"namespaceDefaults": true}"#).unwrap();
    let file = manifests("namespaces/shop.yaml");
    let run = inject(&["--settings", settings.to_str().unwrap(), &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "namespace/shop skipped: not a workload\n\
             warning: {file} document 2 (Deployment/orders): dapr.io/enable-api-logging: \"true\" from Namespace shop (namespaceDefaults)\n\
             deployment/orders injected (app id orders, daprd 1.18.3)\n\
             deployment/billing skipped: no dapr.io/enabled: \"true\"\n"
        )
    );
    let orders = &documents(&run.stdout)[1];
    let args = daprd_args(orders);
    assert_eq!(flag_value(&args, "--log-level"), "warn");
    assert!(args.iter().any(|a| a == "--enable-api-logging=true"));
    // The Namespace's annotations are defaults for the sidecar, never written into the Pod.
    assert_eq!(
        orders["spec"]["template"]["metadata"]["annotations"],
        json!({"dapr.io/enabled": "true", "dapr.io/app-id": "orders", "dapr.io/log-level": "warn"})
    );
}

#[test]
fn namespace_annotations_from_a_file_turn_namespace_defaults_on() {
    let run = inject(&[
        "--namespace-annotations",
        &manifests("namespaces/shop.yaml"),
        "-n",
        "shop",
        &manifests("samples/cart.yaml"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("dapr.io/log-level: \"debug\" from Namespace shop (namespaceDefaults)"),
        "{}",
        run.stderr
    );
    let cart = &documents(&run.stdout)[0];
    assert_eq!(flag_value(&daprd_args(cart), "--log-level"), "debug");
}

/// The args of a Deployment's daprd, the template's second container.
fn daprd_args(deployment: &Value) -> Vec<String> {
    let daprd = &deployment["spec"]["template"]["spec"]["containers"][1];
    assert_eq!(daprd["name"], "daprd");
    serde_json::from_value(daprd["args"].clone()).unwrap()
}

/// The value after `flag` in daprd's args.
fn flag_value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag}"));
    &args[at + 1]
}

#[test]
fn namespace_annotations_from_standard_input_is_refused_saying_why() {
    let run = inject(&[
        "--namespace-annotations",
        "-",
        &manifests("samples/cart.yaml"),
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: --namespace-annotations needs a file; standard input is for the manifests\n"
    );
}

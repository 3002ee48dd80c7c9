//! The `dapr-inject` binary, run as a user would.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde::Deserialize;
use serde_json::{Value, json};

use testing::{with_values, worked_example_args};

const BIN: &str = env!("CARGO_BIN_EXE_dapr-inject");

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
        .display()
        .to_string()
}

fn trust_anchors() -> String {
    example("trust-anchors.pem")
}

fn pem() -> String {
    std::fs::read_to_string(trust_anchors()).unwrap()
}

/// Runs the binary with `stdin` as standard input.
fn dapr_inject(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The program may exit (on a settings error) before it reads its input: a broken pipe
    // here is not the test's failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

/// A file in a fresh temporary directory, kept for the test's life.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "dapr-inject-test-{}-{}",
            std::process::id(),
            name.replace(['/', '.'], "-")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        TempFile { dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Succeeds, and returns the documents written, read by another YAML parser.
fn documents(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{}",
        output.status.code(),
        stderr(output)
    );
    serde_yaml::Deserializer::from_str(&stdout(output))
        .map(|document| Value::deserialize(document).unwrap())
        .collect()
}

/// The same documents read from the input, for "unchanged" comparisons.
fn input_documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).unwrap())
        .collect()
}

fn containers(pod: &Value) -> &Vec<Value> {
    pod.pointer("/spec/containers").unwrap().as_array().unwrap()
}

fn daprd(pod: &Value) -> &Value {
    let containers = containers(pod);
    let last = containers.last().unwrap();
    assert_eq!(last["name"], "daprd", "{pod:#}");
    last
}

/// The value after `flag` in daprd's args.
fn flag<'a>(daprd: &'a Value, flag: &str) -> Option<&'a str> {
    let args = daprd["args"].as_array()?;
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1)?.as_str()
}

fn enabled_pod(name: &str, app_id: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
  annotations:
    dapr.io/enabled: "true"
    dapr.io/app-id: "{app_id}"
spec:
  containers:
  - name: app
    image: example/app:1
"#
    )
}

const PLAIN_DEPLOYMENT: &str = r#"# not a dapr app
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations:
        dapr.io/enabled: "false"   # off
    spec:
      containers:
      - name: web
        image: nginx
        env:
        - {name: DEBUG, value: "on"}
      volumes:
      - name: config
        configMap: {name: web, defaultMode: 0644}
"#;

#[test]
fn the_stateapp_example_gets_a_daprd_container_with_dapr_args_in_order() {
    let output = dapr_inject(
        &[
            "--trust-anchors",
            &trust_anchors(),
            &example("stateapp.yaml"),
        ],
        "",
    );
    let documents = documents(&output);
    assert_eq!(documents.len(), 2);
    let deployment = &documents[1];
    assert_eq!(deployment["kind"], "Deployment");
    let template = &deployment["spec"]["template"];
    let daprd = daprd(template);
    // Section 3.3 of the specification for app id stateapp, app port 3000, namespace
    // default, mTLS on, and the chart's defaults.
    assert_eq!(
        daprd["args"],
        json!(with_values(
            worked_example_args(),
            &[("--app-id", "stateapp"), ("--app-port", "3000")]
        ))
    );
    assert_eq!(daprd["image"], "ghcr.io/dapr/daprd:1.18.3");
    assert!(daprd.get("command").is_none());
    assert_eq!(
        daprd["env"][0],
        json!({"name": "NAMESPACE", "value": "default"})
    );
    assert_eq!(
        daprd["env"][1],
        json!({"name": "DAPR_TRUST_ANCHORS", "value": pem()})
    );
    assert_eq!(
        template["metadata"]["labels"],
        json!({"testapp": "stateapp", "dapr.io/sidecar-injected": "true", "dapr.io/app-id": "stateapp", "dapr.io/metrics-enabled": "true"})
    );
    let app = &containers(template)[0];
    assert_eq!(app["name"], "stateapp");
    assert_eq!(app["ports"], json!([{"containerPort": 3000}]));
    assert_eq!(
        app["env"],
        json!([{"name": "DAPR_HTTP_PORT", "value": "3500"}, {"name": "DAPR_GRPC_PORT", "value": "50001"}, {"name": "APP_PROTOCOL", "value": "http"}])
    );
    assert_eq!(
        stderr(&output),
        "service/stateapp skipped: not a workload\ndeployment/stateapp injected (app id stateapp, daprd 1.18.3)\n"
    );
}

#[test]
fn the_stateapp_service_is_written_back_unchanged() {
    let input = std::fs::read_to_string(example("stateapp.yaml")).unwrap();
    let output = dapr_inject(
        &[
            "--trust-anchors",
            &trust_anchors(),
            &example("stateapp.yaml"),
        ],
        "",
    );
    let documents = documents(&output);
    assert_eq!(documents[0], input_documents(&input)[0]);
    // Not only the same values: the same text, comments included.
    let service_text = input.split("---\n").next().unwrap();
    assert!(stdout(&output).starts_with(service_text));
}

#[test]
fn manifests_are_read_from_standard_input_with_a_dash() {
    let output = dapr_inject(
        &["--trust-anchors", &trust_anchors(), "-"],
        &enabled_pod("calc", "calculator"),
    );
    let documents = documents(&output);
    assert_eq!(documents.len(), 1);
    let daprd = daprd(&documents[0]);
    assert_eq!(flag(daprd, "--app-id"), Some("calculator"));
}

#[test]
fn every_document_of_a_multi_document_file_is_written_back_in_order() {
    let input = format!(
        "# a stream\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{flag: yes}}\n---\n{}---\n{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{port: 80}}]}}\n",
        enabled_pod("calc", "calculator"),
        PLAIN_DEPLOYMENT
    );
    let file = TempFile::new("stream.yaml", &input);
    let output = dapr_inject(&["--trust-anchors", &trust_anchors(), file.path()], "");
    let documents = documents(&output);
    let kinds: Vec<&str> = documents
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ConfigMap", "Pod", "Deployment", "Service"]);
    let before = input_documents(&input);
    assert_eq!(documents[0], before[0]);
    assert_eq!(daprd(&documents[1])["name"], "daprd");
    assert_eq!(documents[2], before[2]);
    assert_eq!(documents[3], before[3]);
}

#[test]
fn a_cron_job_gets_the_sidecar_in_its_job_template() {
    let input = r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: batch-jobs
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            dapr.io/enabled: "true"
            dapr.io/app-id: nightly
        spec:
          restartPolicy: OnFailure
          containers:
          - name: job
            image: example/job:1
"#;
    let output = dapr_inject(&["--trust-anchors", &trust_anchors(), "-"], input);
    let documents = documents(&output);
    let template = &documents[0]["spec"]["jobTemplate"]["spec"]["template"];
    let daprd = daprd(template);
    assert_eq!(flag(daprd, "--app-id"), Some("nightly"));
    // The CronJob's namespace is the pods' namespace.
    assert_eq!(
        daprd["env"][0],
        json!({"name": "NAMESPACE", "value": "batch-jobs"})
    );
    assert_eq!(documents[0]["spec"]["schedule"], "0 3 * * *");
}

#[test]
fn the_items_of_a_list_are_injected_and_the_others_kept() {
    let input = json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "calc"}, "spec": {"ports": [{"port": 80}]}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "calc"}, "spec": {"template": {
                "metadata": {"annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "calc"}},
                "spec": {"containers": [{"name": "calc", "image": "example/calc:1"}]}}}}
        ]
    });
    let output = dapr_inject(
        &["--trust-anchors", &trust_anchors(), "-"],
        &serde_json::to_string_pretty(&input).unwrap(),
    );
    let documents = documents(&output);
    assert_eq!(documents.len(), 1);
    let items = documents[0]["items"].as_array().unwrap();
    assert_eq!(items[0], input["items"][0]);
    assert_eq!(
        flag(daprd(&items[1]["spec"]["template"]), "--app-id"),
        Some("calc")
    );
}

#[test]
fn a_deployment_that_is_not_dapr_enabled_is_written_back_unchanged() {
    let output = dapr_inject(&["-"], PLAIN_DEPLOYMENT);
    assert!(output.status.success(), "{}", stderr(&output));
    // No trust anchors are needed, and the text is the same: comments, `0644` and "on" too.
    assert_eq!(stdout(&output), PLAIN_DEPLOYMENT);
}

#[test]
fn yaml_1_1_values_of_an_injected_template_keep_the_meaning_kubectl_gives_them() {
    let input = PLAIN_DEPLOYMENT.replace(
        "dapr.io/enabled: \"false\"   # off",
        "dapr.io/enabled: \"true\"\n        dapr.io/app-id: web",
    );
    let output = dapr_inject(&["--trust-anchors", &trust_anchors(), "-"], &input);
    let text = stdout(&output);
    let documents = documents(&output);
    let spec = &documents[0]["spec"]["template"]["spec"];
    // kubectl reads a plain 0644 as the octal 420, and the quoted "on" as a string.
    assert_eq!(spec["volumes"][0]["configMap"]["defaultMode"], 420);
    assert_eq!(
        spec["containers"][0]["env"][0],
        json!({"name": "DEBUG", "value": "on"})
    );
    assert!(text.contains("value: \"on\""), "{text}");
}

#[test]
fn the_namespace_flag_overrides_the_namespace_of_the_manifest() {
    let pod = enabled_pod("calc", "calculator")
        .replace("  name: calc\n", "  name: calc\n  namespace: shop\n");
    let env0 = |args: &[&str]| {
        let output = dapr_inject(args, &pod);
        daprd(&documents(&output)[0])["env"][0]["value"].clone()
    };
    let anchors = trust_anchors();
    assert_eq!(env0(&["--trust-anchors", &anchors, "-"]), "shop");
    assert_eq!(
        env0(&["--trust-anchors", &anchors, "--namespace", "payments", "-"]),
        "payments"
    );
}

#[test]
fn a_settings_file_is_read_and_trust_anchors_may_come_from_it() {
    let settings = format!(
        "mtlsEnabled: false\nsidecarImage: registry.example/daprd:1.18.3\ntrustAnchors: |\n{}",
        pem()
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let file = TempFile::new("settings.yaml", &settings);
    let output = dapr_inject(
        &["--settings", file.path(), "-"],
        &enabled_pod("calc", "calc"),
    );
    let documents = documents(&output);
    let daprd = daprd(&documents[0]);
    assert_eq!(daprd["image"], "registry.example/daprd:1.18.3");
    let args: Vec<&str> = daprd["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(!args.contains(&"--enable-mtls"), "{args:?}");
    assert_eq!(daprd["env"][1]["value"], pem());
}

#[test]
fn the_settings_may_be_the_cluster_admission_policy_of_the_examples() {
    let output = dapr_inject(
        &[
            "--settings",
            &example("cluster-admission-policy.yaml"),
            "--trust-anchors",
            &trust_anchors(),
            "-",
        ],
        &enabled_pod("calc", "calc"),
    );
    assert_eq!(
        daprd(&documents(&output)[0])["image"],
        "ghcr.io/dapr/daprd:1.18.3"
    );
}

#[test]
fn injection_warnings_name_the_file_document_and_object() {
    let input = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: calc}}\n---\n{}",
        enabled_pod("calc", "calc").replace(
            "    dapr.io/app-id: \"calc\"\n",
            "    dapr.io/app-id: \"calc\"\n    dapr.io/app-port: \"http\"\n"
        )
    );
    let file = TempFile::new("warned.yaml", &input);
    let output = dapr_inject(&["--trust-anchors", &trust_anchors(), file.path()], "");
    assert_eq!(documents(&output).len(), 2);
    assert_eq!(
        stderr(&output),
        format!(
            "service/calc skipped: not a workload\nwarning: {} document 2 (Pod/calc): dapr.io/app-port: \"http\" is not an integer; ignored\npod/calc injected (app id calc, daprd 1.18.3)\n",
            file.path()
        )
    );
}

#[test]
fn an_already_injected_pod_is_written_back_unchanged() {
    let first = dapr_inject(
        &["--trust-anchors", &trust_anchors(), "-"],
        &enabled_pod("calc", "calc"),
    );
    let injected = stdout(&first);
    let again = dapr_inject(&["--trust-anchors", &trust_anchors(), "-"], &injected);
    assert!(again.status.success());
    assert_eq!(stdout(&again), injected);
}

#[test]
fn invalid_yaml_fails_naming_the_file_and_the_document() {
    let input = format!(
        "{}---\nkind: Pod\nspec: [unclosed\n",
        enabled_pod("calc", "calc")
    );
    let file = TempFile::new("broken.yaml", &input);
    let output = dapr_inject(&["--trust-anchors", &trust_anchors(), file.path()], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = stderr(&output);
    assert!(
        stderr.starts_with(&format!(
            "error: {} document 2: cannot parse the manifest: ",
            file.path()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("line 15"), "{stderr}");
}

#[test]
fn an_invalid_app_id_fails_with_the_injector_message_and_no_output() {
    let input = format!(
        "{}---\n{}",
        enabled_pod("good", "good"),
        enabled_pod("bad", "my_app")
    );
    let output = dapr_inject(&["--trust-anchors", &trust_anchors(), "-"], &input);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stdout.is_empty(),
        "nothing is written when a document fails"
    );
    assert_eq!(
        stderr(&output),
        "pod/good injected (app id good, daprd 1.18.3)\nerror: <stdin> document 2 (Pod/bad): invalid app id (input: 'my_app', service: 'my_app-dapr'): a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\n"
    );
}

#[test]
fn missing_trust_anchors_fail_naming_the_flag_that_gives_them() {
    let output = dapr_inject(&[&example("stateapp.yaml")], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output),
        format!(
            "service/stateapp skipped: not a workload\nerror: {} document 2 (Deployment/stateapp): no Dapr trust anchors to give daprd: pass --trust-anchors FILE with the ca.crt of ConfigMap dapr-trust-bundle (kubectl get configmap dapr-trust-bundle -n dapr-system -o jsonpath='{{.data.ca\\.crt}}'), or set trustAnchors in the --settings file\n",
            example("stateapp.yaml")
        )
    );
}

#[test]
fn missing_trust_anchors_point_at_the_control_plane_namespace_of_the_settings() {
    let file = TempFile::new("control-plane.yaml", "controlPlaneNamespace: dapr\n");
    let output = dapr_inject(
        &["--settings", file.path(), "-"],
        &enabled_pod("calc", "calc"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: <stdin> document 1 (Pod/calc): no Dapr trust anchors to give daprd: pass --trust-anchors FILE with the ca.crt of ConfigMap dapr-trust-bundle (kubectl get configmap dapr-trust-bundle -n dapr -o jsonpath='{.data.ca\\.crt}'), or set trustAnchors in the --settings file\n"
    );
}

#[test]
fn an_invalid_settings_file_fails_with_the_settings_message() {
    let file = TempFile::new("bad-settings.yaml", "sidecarImagePullPolicy: Sometimes\n");
    let output = dapr_inject(
        &[
            "--settings",
            file.path(),
            "--trust-anchors",
            &trust_anchors(),
            "-",
        ],
        &enabled_pod("calc", "calc"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: invalid settings in {}: sidecarImagePullPolicy \"Sometimes\" is invalid; use one of Always, Never, IfNotPresent\n",
            file.path()
        )
    );
}

#[test]
fn an_unknown_setting_is_named_with_the_closest_real_one() {
    let file = TempFile::new("typo-settings.yaml", "sidecarImag: x\n");
    let output = dapr_inject(&["--settings", file.path(), "-"], "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "error: invalid settings in {}: unknown setting \"sidecarImag\"; did you mean sidecarImage?\n",
            file.path()
        )
    );
}

#[test]
fn trust_anchors_that_are_not_pem_are_refused() {
    let file = TempFile::new("not-pem.txt", "hello\n");
    let output = dapr_inject(&["--trust-anchors", file.path(), "-"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("holds no PEM certificate"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_file_argument_is_a_usage_error() {
    let output = dapr_inject(&[], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("Usage: dapr-inject"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_run_function_can_be_called_without_a_process() {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = dapr_inject::run(
        ["dapr-inject", "--trust-anchors", &trust_anchors(), "-"],
        &mut enabled_pod("calc", "calc").as_bytes(),
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("- name: daprd\n"), "{text}");
}

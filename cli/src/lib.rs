//! `dapr-inject`: injects Dapr's `daprd` sidecar into Kubernetes manifests, as the
//! `dapr-sidecar-injector` policy (and Dapr v1.18.3's injector) would at admission, without a
//! cluster. Like `istioctl kube-inject` and `linkerd inject`, it reads manifests and writes them
//! back with the sidecar in every dapr-enabled Pod and pod template.
//!
//! [`run`] is the whole program, with its streams given, so tests can call it.

pub mod check;
pub mod manifest;
pub mod yaml;

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use dapr_sidecar_injector::{Settings, dns1123_label};

use crate::manifest::{Context, Place, Report};

const PEM_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";
/// How standard input is named in messages.
pub const STDIN_NAME: &str = "<stdin>";

#[derive(Parser, Debug)]
#[command(
    name = "dapr-inject",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    version,
    about = "Inject the Dapr sidecar (daprd) into Kubernetes manifests, as Dapr v1.18.3's injector does",
    long_about = "Inject the Dapr sidecar (daprd) into Kubernetes manifests, as Dapr v1.18.3's \
injector does.\n\nReads YAML or JSON manifests (several YAML documents, or a List) and writes \
them back as YAML. Pods and the pod templates of Deployments, StatefulSets, DaemonSets, \
ReplicaSets, Jobs and CronJobs annotated dapr.io/enabled: \"true\" get the daprd sidecar; \
every other document is written back as it came. There is no cluster to ask: mTLS is on unless \
the settings say otherwise, and the trust anchors must be given.",
    after_help = "Example:\n  dapr-inject --trust-anchors ca.crt deployment.yaml | kubectl apply -f -\n\n\
The trust anchors are the ca.crt of ConfigMap dapr-trust-bundle:\n  \
kubectl get configmap dapr-trust-bundle -n dapr-system -o jsonpath='{.data.ca\\.crt}' > ca.crt"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    inject: Args,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find the Pods that run without the daprd sidecar they asked for, or with one that is
    /// stale: the policy's verify mode, offline
    #[command(
        long_about = "Find the Pods that run without the daprd sidecar they asked for, or with \
one that is stale or serves another app id: the policy's verify mode, offline.\n\nReads Pods \
(YAML or JSON, a List such as `kubectl get pods -A -o json` gives, or several documents) and \
prints one line per Pod: namespace, pod, owner, app id, sidecar image, status (ok, missing, \
stale, mismatch, not requested) and the reason. Exits 1 when any Pod is missing, stale or \
mismatch. Give the inject policy's settings, so that the expected image is the one it injects.",
        after_help = "Example:\n  kubectl get pods -A -o json | dapr-inject check -"
    )]
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The policy's settings (YAML or JSON), or its ClusterAdmissionPolicy manifest
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,

    /// `table` for people, `json` for programs
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    output_format: CheckFormat,

    /// The Pods, or `-` for standard input; repeatable
    #[arg(long, short = 'f', value_name = "FILE|-")]
    filename: Vec<PathBuf>,

    /// The Pods, or `-` for standard input
    #[arg(value_name = "FILE|-")]
    files: Vec<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum CheckFormat {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
struct Args {
    /// The policy's settings (YAML or JSON, the same keys as the policy's settings), or a
    /// ClusterAdmissionPolicy manifest to take its spec.settings
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,

    /// The namespace the pods run in (daprd's NAMESPACE); default: each object's
    /// metadata.namespace, else `default`
    #[arg(long, short = 'n', value_name = "NS")]
    namespace: Option<String>,

    /// PEM file with Dapr's trust anchors (ca.crt of ConfigMap dapr-trust-bundle); overrides
    /// the trustAnchors setting
    #[arg(long, value_name = "FILE")]
    trust_anchors: Option<PathBuf>,

    /// The manifests, or `-` for standard input
    #[arg(value_name = "FILE|-", required = true)]
    file: Option<PathBuf>,
}

/// Runs the program and returns its exit code: 0; 1 when a file cannot be read or parsed, the
/// settings or `--namespace` are invalid, or a Pod would be rejected; 2 for a command line clap
/// rejects. Nothing is written to `stdout` unless every document worked.
pub fn run<I, T>(
    args: I,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => {
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            let text = e.render().to_string();
            // Nothing better to do when the usage cannot be written.
            let _ = if e.use_stderr() {
                stderr.write_all(text.as_bytes())
            } else {
                stdout.write_all(text.as_bytes())
            };
            return code;
        }
    };
    let result = match &cli.command {
        Some(Command::Check(check)) => check_all(check, stdin, stderr),
        None => inject_all(&cli.inject, stdin, stderr).map(|output| (output, 0)),
    };
    match result {
        Ok((output, code)) => match stdout
            .write_all(output.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => code,
            Err(e) => {
                let _ = writeln!(stderr, "error: cannot write the manifests: {e}");
                1
            }
        },
        Err(messages) => {
            for message in messages {
                let _ = writeln!(stderr, "{message}");
            }
            1
        }
    }
}

/// The output, or the lines to print on standard error. Warnings are printed as they come.
fn inject_all(
    args: &Args,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
) -> Result<String, Vec<String>> {
    let error = |message: String| vec![format!("error: {message}")];
    let settings =
        load_settings(args.settings.as_deref(), args.trust_anchors.as_deref()).map_err(error)?;
    if let Some(namespace) = &args.namespace {
        dns1123_label(namespace).map_err(|e| {
            error(format!(
                "--namespace \"{namespace}\" is not a namespace name: {e}"
            ))
        })?;
    }
    let file = args.file.as_deref().unwrap_or(Path::new("-"));
    let (name, text) = read_input(file, stdin).map_err(error)?;
    let documents = yaml::load_stream(&text).map_err(|e| {
        error(format!(
            "{name} document {}: cannot parse the manifest: {}",
            e.document, e.message
        ))
    })?;

    let context = Context {
        settings: &settings,
        namespace: args.namespace.as_deref(),
    };
    let mut report = Report::default();
    let mut output = String::new();
    for document in &documents {
        let place = Place::document(&name, document.number);
        let injected = manifest::inject_object(&document.node, &place, &context, &mut report);
        for warning in report.warnings.drain(..) {
            let _ = writeln!(stderr, "warning: {warning}");
        }
        let piece: Cow<'_, str> = match (&injected, &document.text) {
            (Some(node), _) => Cow::Owned(yaml::emit(node)),
            (None, Some(text)) => Cow::Borrowed(text),
            (None, None) => Cow::Owned(yaml::emit(&document.node)),
        };
        append_document(&mut output, &piece);
    }
    if report.errors.is_empty() {
        return Ok(output);
    }
    let mut messages: Vec<String> = report
        .errors
        .iter()
        .map(|e| format!("error: {e}"))
        .collect();
    if report.trust_anchors_missing {
        messages.push(format!(
            "hint: dapr-inject has no cluster to read Dapr's trust anchors from: pass \
--trust-anchors FILE with the ca.crt of ConfigMap dapr-trust-bundle, e.g. from \
`kubectl get configmap dapr-trust-bundle -n {ns} -o jsonpath='{{.data.ca\\.crt}}'`",
            ns = settings.control_plane_namespace
        ));
    }
    Err(messages)
}

/// `check`: the report, or the lines to print on standard error. A Pod without the right
/// sidecar makes the run fail after its report is written.
fn check_all(
    args: &CheckArgs,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
) -> Result<(String, u8), Vec<String>> {
    let error = |message: String| vec![format!("error: {message}")];
    let settings = load_settings(args.settings.as_deref(), None).map_err(error)?;
    let mut files: Vec<&Path> = args.filename.iter().map(PathBuf::as_path).collect();
    files.extend(args.files.iter().map(PathBuf::as_path));
    if files.is_empty() {
        return Err(error(
            "no Pods given: pass a file, or `-` for standard input, e.g. `kubectl get pods -A -o json | dapr-inject check -`".to_owned(),
        ));
    }
    let mut report = check::CheckReport::default();
    for file in files {
        let (name, text) = read_input(file, stdin).map_err(error)?;
        let documents = yaml::load_stream(&text).map_err(|e| {
            error(format!(
                "{name} document {}: cannot parse: {}",
                e.document, e.message
            ))
        })?;
        for document in &documents {
            let place = format!("{name} document {}", document.number);
            let json = document
                .node
                .to_json()
                .map_err(|e| error(format!("{place}: {e}")))?;
            report.add(&json, &place, &settings);
        }
    }
    for skipped in &report.skipped {
        let _ = writeln!(stderr, "note: {skipped}");
    }
    let output = match args.output_format {
        CheckFormat::Table => report.table(),
        CheckFormat::Json => report.json(),
    };
    if report.failures == 0 {
        return Ok((output, 0));
    }
    let _ = writeln!(
        stderr,
        "error: {} of {} Pods lack the daprd sidecar the policy would give them",
        report.failures,
        report.lines.len()
    );
    Ok((output, 1))
}

/// Adds a document to the stream, with a `---` line unless it starts with its own.
fn append_document(output: &mut String, piece: &str) {
    if !output.is_empty() && !yaml::is_marker(piece, "---") {
        output.push_str("---\n");
    }
    output.push_str(piece);
    if !piece.ends_with('\n') {
        output.push('\n');
    }
}

/// The name to show for the input, and its text.
fn read_input(file: &Path, stdin: &mut dyn Read) -> Result<(String, String), String> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        stdin
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read {STDIN_NAME}: {e}"))?;
        Ok((STDIN_NAME.to_owned(), text))
    } else {
        let name = file.display().to_string();
        text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {name}: {e}"))?;
        Ok((name, text))
    }
}

/// The settings: the document itself, or the `spec.settings` of a Kubewarden
/// (Cluster)AdmissionPolicy, so that the policy's own manifest can be given.
fn policy_settings(document: &yaml::Node) -> &yaml::Node {
    let field = |key: &str| document.get(key).and_then(yaml::Node::as_str);
    let is_policy = matches!(
        field("kind"),
        Some("ClusterAdmissionPolicy" | "AdmissionPolicy")
    ) && field("apiVersion")
        .is_some_and(|v| v.starts_with("policies.kubewarden.io/"));
    if is_policy {
        document
            .pointer(&["spec", "settings"])
            .unwrap_or(&yaml::Node::Null)
    } else {
        document
    }
}

/// The settings file (or the defaults), with `--trust-anchors` over it, validated.
fn load_settings(path: Option<&Path>, trust_anchors: Option<&Path>) -> Result<Settings, String> {
    let mut settings = match path {
        None => Settings::default(),
        Some(path) => {
            let name = path.display();
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the settings file {name}: {e}"))?;
            let documents = yaml::load_stream(&text)
                .map_err(|e| format!("cannot parse the settings file {name}: {}", e.message))?;
            match documents.as_slice() {
                [] => Settings::default(),
                [document] => {
                    let json = policy_settings(&document.node)
                        .to_json()
                        .map_err(|e| format!("invalid settings in {name}: {e}"))?;
                    if json.is_null() {
                        Settings::default()
                    } else {
                        serde_json::from_value(json)
                            .map_err(|e| format!("invalid settings in {name}: {e}"))?
                    }
                }
                more => {
                    return Err(format!(
                        "the settings file {name} holds {} documents; put the settings in one",
                        more.len()
                    ));
                }
            }
        }
    };
    if let Some(file) = trust_anchors {
        let name = file.display();
        let pem = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the trust anchors file {name}: {e}"))?;
        if !pem.contains(PEM_CERTIFICATE) {
            return Err(format!(
                "the trust anchors file {name} holds no PEM certificate (no \"{PEM_CERTIFICATE}\" line)"
            ));
        }
        settings.trust_anchors = Some(pem);
    }
    settings.validate().map_err(|e| match path {
        Some(path) => format!("invalid settings in {}: {e}", path.display()),
        None => format!("invalid settings: {e}"),
    })?;
    Ok(settings)
}

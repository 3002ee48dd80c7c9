//! `dapr-inject`: injects Dapr's `daprd` sidecar into Kubernetes manifests, as the
//! `dapr-sidecar-injector` policy (and Dapr v1.18.3's injector) would at admission, without a
//! cluster. Like `istioctl kube-inject` and `linkerd inject`, it reads manifests and writes them
//! back with the sidecar in every dapr-enabled Pod and pod template, and says what it did with
//! each object. `uninject` takes the sidecar out again; `check` finds the Pods that lack it.
//!
//! [`run`] is the whole program, with its streams given, so tests can call it.

pub mod anchors;
pub mod check;
pub mod from_injector;
pub mod input;
pub mod manifest;
pub mod namespaces;
pub mod output;
pub mod restart;
pub mod summary;

pub mod yaml;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use dapr_sidecar_injector::{PEM_CERTIFICATE, Settings, dns1123_label, settings_from_value};

pub use crate::input::STDIN_NAME;
use crate::input::read_all;
use crate::manifest::{Action, Context};
use crate::namespaces::Namespaces;
pub use crate::output::Format;

#[derive(Parser, Debug)]
#[command(
    name = "dapr-inject",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    version,
    about = "Inject the Dapr sidecar (daprd) into Kubernetes manifests, as Dapr v1.18.3's injector does",
    long_about = "Inject the Dapr sidecar (daprd) into Kubernetes manifests, as Dapr v1.18.3's \
injector does.\n\nReads YAML or JSON manifests (files, directories, or - for standard input; \
several documents, or Lists) and writes them back. Pods and the pod templates of Deployments, \
StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and ReplicationControllers annotated \
dapr.io/enabled: \"true\" \
get the daprd sidecar; every other document is written back as it came, and the lines of an \
injected document that injection does not touch keep their comments and layout. Each object \
gets a summary line on standard error, after the warnings the policy would give it. There is \
no cluster to ask: mTLS is on unless the settings say otherwise, and the trust anchors must be \
given.",
    after_help = "Examples:\n  dapr-inject --trust-anchors ca.crt -f deployment.yaml | kubectl apply -f -\n  \
dapr-inject --trust-anchors ca.crt -R -f manifests/ -o injected.yaml\n  \
dapr-inject --upgrade --settings policy.yaml --trust-anchors ca.crt -f app.yaml -o app.yaml\n  \
dapr-inject uninject -f injected.yaml\n  kubectl get pods -A -o json | dapr-inject check -\n\n\
The trust anchors are the ca.crt of ConfigMap dapr-trust-bundle:\n  \
kubectl get configmap dapr-trust-bundle -n dapr-system -o jsonpath='{.data.ca\\.crt}' > ca.crt"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    inject: InjectArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Take out everything injection added: daprd, its volumes, the app containers' Dapr env
    /// and socket mounts, the injected labels and component containers
    Uninject(Io),
    /// Find the Pods that run without the daprd sidecar they asked for, or with one that is
    /// stale: the policy's verify mode, offline
    #[command(
        long_about = "Find the Pods that run without the daprd sidecar they asked for, or with \
one that is stale, injected under other settings, or serves another app id: the policy's \
verify mode, offline.\n\nReads Pods (YAML or JSON, a List such as `kubectl get pods -A -o json` \
gives, or several documents) and prints one line per Pod: namespace, pod, owner, app id, \
sidecar image, status (ok, missing, stale, drift, mismatch, not requested) and the reason. \
Exits 1 when any Pod is missing, stale, drift or mismatch. Give the inject policy's settings, \
so that the expected sidecar is the one it injects.",
        after_help = "Example:\n  kubectl get pods -A -o json | dapr-inject check -"
    )]
    Check(CheckArgs),
    /// Print the policy settings that reproduce a running Dapr injector
    #[command(
        long_about = "Print the policy settings that reproduce a running Dapr injector, read from \
its Deployment's env and args as Dapr's injector reads them, for the switch from Dapr's \
injector to the policy. Everything of the injector that has no setting gets a note on \
standard error.",
        after_help = "Example:\n  kubectl -n dapr-system get deployment dapr-sidecar-injector -o json \\\n    | dapr-inject settings --from-injector -"
    )]
    Settings(SettingsArgs),
}

#[derive(clap::Args, Debug)]
struct SettingsArgs {
    /// The injector's Deployment (YAML or JSON), or `-` for standard input
    #[arg(long, value_name = "FILE|-")]
    from_injector: PathBuf,

    /// `yaml` or `json`
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    output_format: Format,
}

/// Where manifests come from and where they go, as kubectl takes them.
#[derive(clap::Args, Debug)]
struct Io {
    /// A manifest file, a directory of them, or `-` for standard input; repeatable
    #[arg(long, short = 'f', value_name = "FILE|DIR|-")]
    filename: Vec<PathBuf>,

    /// Also read the subdirectories of directories given
    #[arg(long, short = 'R')]
    recursive: bool,

    /// Write the result to FILE instead of standard output (only when every object worked)
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// `yaml` or `json`; default: json when every input document is JSON, else yaml
    #[arg(long, value_enum)]
    output_format: Option<Format>,

    /// No summary line per object (warnings and errors are still written)
    #[arg(long, short = 'q')]
    quiet: bool,

    /// The manifests, as with -f
    #[arg(value_name = "FILE|DIR|-", required_unless_present = "filename")]
    files: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct InjectArgs {
    #[command(flatten)]
    io: Io,

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

    /// Inject an already injected object again under these settings: how a committed
    /// manifest moves to new settings or a new Dapr release
    #[arg(long)]
    upgrade: bool,

    /// Namespace manifests (`kubectl get namespaces -o yaml`) whose dapr.io/ annotations are
    /// defaults for their Pods; turns on namespaceDefaults. Namespace documents of the input
    /// count too
    #[arg(long, value_name = "FILE")]
    namespace_annotations: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The policy's settings (YAML or JSON), or its ClusterAdmissionPolicy manifest
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,

    /// The control plane's trust anchors (ca.crt of ConfigMap dapr-trust-bundle); default: the
    /// trustAnchors setting. A daprd that lacks one of them is trust-stale
    #[arg(long, value_name = "FILE")]
    trust_anchors: Option<PathBuf>,

    /// Namespace manifests whose dapr.io/ annotations are defaults for their Pods; turns on
    /// namespaceDefaults. Namespace documents of the listing count too
    #[arg(long, value_name = "FILE")]
    namespace_annotations: Option<PathBuf>,

    /// Warn about trust anchors that expire within this many days
    #[arg(long, value_name = "DAYS", default_value_t = 60)]
    expiry_warning_days: u32,

    /// `table` for people, `json` for programs
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    output_format: CheckFormat,

    /// Print only the `kubectl rollout restart` commands that fix the Pods found, one per
    /// workload, ready for `sh`; why other Pods get none goes to standard error
    #[arg(long, conflicts_with = "summary")]
    restart_commands: bool,

    /// Print Pods per status for each workload and namespace, what needs a restart, and the
    /// daprd images in use, instead of one line per Pod
    #[arg(long)]
    summary: bool,

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

/// What a command gives: the output and the exit code, or the lines for standard error.
type Done = Result<(String, u8), Vec<String>>;

/// Runs the program and returns its exit code: 0; 1 when an input cannot be read or parsed,
/// the settings or `--namespace` are invalid, an object fails, or `check` finds a Pod that
/// needs a restart; 2 for a command line clap rejects, and for `check`, an input or settings
/// it cannot read. Nothing is written unless every object worked.
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
        Ok(cli) => cli,
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
    let (result, output_file) = match &cli.command {
        Some(Command::Check(check)) => (check_all(check, stdin, stderr), None),
        Some(Command::Settings(args)) => (settings_from_injector(args, stdin, stderr), None),
        Some(Command::Uninject(io)) => {
            let context = Context {
                action: Action::Uninject,
                settings: &Settings::default(),
                namespace: None,
                namespaces: Namespaces::default(),
            };
            (transform(io, context, stdin, stderr), io.output.as_deref())
        }
        None => (
            inject_all(&cli.inject, stdin, stderr),
            cli.inject.io.output.as_deref(),
        ),
    };
    match result {
        Ok((output, code)) => match write_output(&output, output_file, stdout) {
            Ok(()) => code,
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                1
            }
        },
        Err(messages) => {
            for message in messages {
                let _ = writeln!(stderr, "{message}");
            }
            // check's exit codes: 0 all ok, 1 something needs a restart, 2 unreadable input.
            if matches!(cli.command, Some(Command::Check(_))) {
                2
            } else {
                1
            }
        }
    }
}

/// The settings of `--from-injector`, with a note on stderr for what has none.
fn settings_from_injector(
    args: &SettingsArgs,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
) -> Done {
    let error = |message: String| vec![format!("error: {message}")];
    let inputs = read_inputs(std::slice::from_ref(&args.from_injector), false, stdin)?;
    let mut documents = Vec::new();
    for input in &inputs {
        let stream = yaml::load_stream(&input.text)
            .map_err(|e| error(format!("cannot parse {}: {}", input.name, e.message)))?;
        for document in stream {
            documents.push(document.node.to_json().map_err(error)?);
        }
    }
    let [deployment] = documents.as_slice() else {
        return Err(error(format!(
            "expected one Deployment, got {} documents",
            documents.len()
        )));
    };
    let translation = from_injector::from_injector(deployment).map_err(error)?;
    for note in &translation.notes {
        let _ = writeln!(stderr, "note: {note}");
    }
    let settings = serde_json::Value::Object(translation.settings);
    let text = match args.output_format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&settings).unwrap_or_default()
        ),
        Format::Yaml => yaml::emit(&yaml::Node::from_json(&settings, None)),
    };
    Ok((text, 0))
}

fn write_output(output: &str, file: Option<&Path>, stdout: &mut dyn Write) -> Result<(), String> {
    match file {
        Some(path) => std::fs::write(path, output)
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => stdout
            .write_all(output.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot write the manifests: {e}")),
    }
}

fn inject_all(args: &InjectArgs, stdin: &mut dyn Read, stderr: &mut dyn Write) -> Done {
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
    let (settings, namespaces) = with_namespaces(settings, args.namespace_annotations.as_deref())?;
    let context = Context {
        action: Action::Inject {
            upgrade: args.upgrade,
        },
        settings: &settings,
        namespace: args.namespace.as_deref(),
        namespaces,
    };
    transform(&args.io, context, stdin, stderr)
}

/// `--namespace-annotations FILE`: its Namespaces, and namespaceDefaults on.
fn with_namespaces(
    mut settings: Settings,
    file: Option<&Path>,
) -> Result<(Settings, Namespaces), Vec<String>> {
    let mut namespaces = Namespaces::default();
    if let Some(file) = file {
        if file == Path::new("-") {
            return Err(vec![
                "error: --namespace-annotations needs a file; standard input is for the manifests"
                    .to_owned(),
            ]);
        }
        add_namespaces(
            &mut namespaces,
            &read_inputs(&[file.to_path_buf()], false, &mut std::io::empty())?,
        )?;
        settings.namespace_defaults = true;
    }
    Ok((settings, namespaces))
}

/// The Namespace documents of `inputs`.
fn add_namespaces(namespaces: &mut Namespaces, inputs: &[input::Input]) -> Result<(), Vec<String>> {
    for input in inputs {
        for document in input.documents()? {
            if let Ok(json) = document.node.to_json() {
                namespaces.add(&json);
            }
        }
    }
    Ok(())
}

/// Injects or uninjects every object of every input. Warnings and summaries are written as
/// they come; the output only when every object worked.
fn transform(
    io: &Io,
    mut context: Context<'_>,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
) -> Done {
    let paths: Vec<PathBuf> = io.filename.iter().chain(&io.files).cloned().collect();
    let inputs = read_inputs(&paths, io.recursive, stdin)?;
    // The input's Namespaces, read only when their defaults are used.
    if context.settings.namespace_defaults {
        add_namespaces(&mut context.namespaces, &inputs)?;
    }
    let context = &context;
    let mut report = manifest::Report::default();
    let stream = output::transform_inputs(&inputs, context, &mut report, &mut |report| {
        for line in report.warnings.drain(..) {
            let _ = writeln!(stderr, "{line}");
        }
        for line in report.summaries.drain(..) {
            if !io.quiet {
                let _ = writeln!(stderr, "{line}");
            }
        }
    })?;
    if !report.errors.is_empty() {
        return Err(report.errors);
    }
    Ok((stream.render(io.output_format)?, 0))
}

/// Every input, or an error line for each one that cannot be read.
fn read_inputs(
    paths: &[PathBuf],
    recursive: bool,
    stdin: &mut dyn Read,
) -> Result<Vec<input::Input>, Vec<String>> {
    read_all(paths, recursive, stdin)
        .map_err(|errors| errors.into_iter().map(|e| format!("error: {e}")).collect())
}

/// Every document of `inputs` as JSON, with its place; read once.
fn objects_of(
    inputs: &[input::Input],
) -> Result<Vec<(manifest::Place, serde_json::Value)>, Vec<String>> {
    let mut objects = Vec::new();
    for input in inputs {
        for document in input.documents()? {
            let place = manifest::Place::document(&input.name, document.number);
            let json = document
                .node
                .to_json()
                .map_err(|e| vec![format!("error: {}: {e}", place.text)])?;
            objects.push((place, json));
        }
    }
    Ok(objects)
}

/// `check`: the report, or the lines to print on standard error. A Pod without the right
/// sidecar makes the run fail after its report is written.
fn check_all(
    args: &CheckArgs,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
) -> Result<(String, u8), Vec<String>> {
    let error = |message: String| vec![format!("error: {message}")];
    let settings =
        load_settings(args.settings.as_deref(), args.trust_anchors.as_deref()).map_err(error)?;
    let roots = settings
        .trust_anchors
        .as_deref()
        .map(anchors::roots)
        .transpose()
        .map_err(|e| error(format!("the trust anchors: {e}")))?
        .unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    for warning in anchors::expiry_warnings(&roots, now, args.expiry_warning_days) {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    let files: Vec<PathBuf> = args.filename.iter().chain(&args.files).cloned().collect();
    if files.is_empty() {
        return Err(error(
            "no Pods given: pass a file, or `-` for standard input, e.g. `kubectl get pods -A -o json | dapr-inject check -`".to_owned(),
        ));
    }
    let (settings, mut namespaces) =
        with_namespaces(settings, args.namespace_annotations.as_deref())?;
    let objects = objects_of(&read_inputs(&files, false, stdin)?)?;
    // The listing's Namespaces first: a Pod may come before its Namespace.
    if settings.namespace_defaults {
        for (_, object) in &objects {
            namespaces.add(object);
        }
    }
    let mut report = check::CheckReport {
        roots,
        namespaces,
        ..check::CheckReport::default()
    };
    for (place, object) in &objects {
        report.add(object, place, &settings);
    }
    for warning in &report.warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    for skipped in &report.skipped {
        let _ = writeln!(stderr, "note: {skipped}");
    }
    if args.restart_commands {
        let (commands, notes) = restart::restart_commands(&report.lines, &report.replica_sets);
        for note in notes {
            let _ = writeln!(stderr, "note: {note}");
        }
        let code = u8::from(report.failures > 0);
        return Ok((commands.iter().map(|c| format!("{c}\n")).collect(), code));
    }
    let output = match (args.summary, args.output_format) {
        (true, CheckFormat::Table) => summary::summary(&report.lines, &report.replica_sets).table(),
        (true, CheckFormat::Json) => summary::summary(&report.lines, &report.replica_sets).json(),
        (false, CheckFormat::Table) => report.table(),
        (false, CheckFormat::Json) => report.json(),
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
                        settings_from_value(json)
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

//! The built policy.wasm, run the way a PolicyServer runs it: one precompiled module, a fresh
//! instance per evaluation, host capabilities answered from kwctl replay sessions. Every case
//! must also give exactly the answer of the native `validate_with` (tests/fixtures.rs).

use testing::fixtures as common;

use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use common::{Evaluation, Input, Replay, assert_json_eq};
use serde_json::Value;
use wasmtime_provider::{WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

const POLICY: &str = "policy.wasm";
const BUILD_HINT: &str = "run `make policy.wasm` first";

/// The newest modification time among the files the module is built from (the Makefile's
/// prerequisites of policy.wasm).
fn newest_source() -> Option<(SystemTime, PathBuf)> {
    let mut files = vec![
        common::repository_path("Cargo.toml"),
        common::repository_path("Cargo.lock"),
        common::repository_path("build.rs"),
    ];
    let mut directories = vec![common::repository_path("src")];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(directory).ok()?.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                directories.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
        .into_iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
}

/// Compiled once per test binary (compiling is the slow part), as the PolicyServer does.
fn precompiled() -> &'static WasmtimeEngineProviderPre {
    static MODULE: OnceLock<WasmtimeEngineProviderPre> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = common::repository_path(POLICY);
        let metadata = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{} is missing ({e}): {BUILD_HINT}", path.display()));
        // A stale module would test yesterday's policy.
        if let (Ok(built), Some((changed, source))) = (metadata.modified(), newest_source()) {
            assert!(
                built >= changed,
                "{} is older than {}: {BUILD_HINT}",
                path.display(),
                source.display()
            );
        }
        let bytes = std::fs::read(&path).expect("policy.wasm is readable");
        WasmtimeEngineProviderBuilder::new()
            .module_bytes(&bytes)
            .wasi_params(wapc::WasiParams::default())
            .build_pre()
            .unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display()))
    })
}

type HostResult = Result<Vec<u8>, Box<dyn Error + Send + Sync>>;

/// The host side: Kubernetes lookups from the replay, logs kept, anything else refused.
fn host_callback(
    replay: Arc<Replay>,
    logs: Arc<Mutex<Vec<Value>>>,
) -> impl Fn(u64, &str, &str, &str, &[u8]) -> HostResult + Send + Sync + 'static {
    move |_id, binding, namespace, operation, payload| match (binding, namespace, operation) {
        ("kubewarden", "kubernetes", _) => Ok(replay.answer(operation, payload)?),
        ("kubewarden", "tracing", "log") => {
            let line = serde_json::from_slice(payload)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into()));
            logs.lock().unwrap().push(line);
            Ok(Vec::new())
        }
        _ => Err(format!("unknown host capability {binding}/{namespace}/{operation}").into()),
    }
}

/// One evaluation on a fresh instance, and whether the replay went exactly as recorded.
fn run_wasm(input: &Input) -> (Evaluation, Result<(), String>) {
    let replay = Arc::new(Replay::load(input.session));
    let logs = Arc::new(Mutex::new(Vec::new()));
    let provider = precompiled()
        .rehydrate(None)
        .expect("a fresh instance of the module");
    let host = wapc::WapcHost::new(
        Box::new(provider),
        Some(Box::new(host_callback(replay.clone(), logs.clone()))),
    )
    .expect("the waPC host starts");
    let raw = host
        .call("validate", &input.payload())
        .unwrap_or_else(|e| panic!("validate failed: {e}"));
    let logs = logs.lock().unwrap().clone();
    (Evaluation::new(input, &raw, logs), replay.finish())
}

/// The wasm answer, which must follow the replay exactly and equal the native one.
fn evaluate(input: &Input) -> Evaluation {
    let (wasm, replay) = run_wasm(input);
    if let Err(problems) = replay {
        panic!("{problems}");
    }
    let native = common::evaluate_natively(input);
    assert_json_eq(
        &wasm.response,
        &native.response,
        "the wasm response (compared with the native one)",
    );
    wasm
}

testing::fixture_tests!(evaluate);

#[test]
fn the_policy_logs_why_mtls_defaulted_to_on() {
    let result = evaluate(&Input::new(
        "pod_worked_example.json",
        "session_mtls_default.yml",
        None,
    ));
    let messages: Vec<&str> = result
        .logs
        .iter()
        .filter_map(|line| line["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with(
            "Configuration daprsystem not read, mTLS on: error invoking host capability \
             kubernetes.get_resource: Host error: Callback evaluation failure: Cannot find \
             dapr.io/v1alpha1/Configuration named 'daprsystem'"
        )),
        "{:#?}",
        result.logs
    );
    assert_eq!(messages.len(), 1, "only the mTLS note: {messages:?}");
}

/// The harness itself: a session the policy does not follow to the letter is a failure.
#[test]
fn a_replay_session_the_policy_does_not_follow_exactly_fails() {
    let replay_problems = |input: &Input| run_wasm(input).1.expect_err("the replay must fail");
    let extra = replay_problems(&Input::new(
        "pod_inject_pluggable_components.json",
        "session_mtls_default.yml",
        None,
    ));
    assert!(
        extra.contains("unexpected extra call list_resources_by_namespace"),
        "{extra}"
    );
    let leftover = replay_problems(&Input::new(
        "pod_worked_example.json",
        "session_components.yml",
        None,
    ));
    assert!(
        leftover.contains("1 recorded exchange(s) not replayed, next: list_resources_by_namespace"),
        "{leftover}"
    );
    let mut other_namespace =
        Input::new("pod_worked_example.json", "session_mtls_default.yml", None);
    other_namespace.settings = serde_json::json!({"controlPlaneNamespace": "dapr"});
    let mismatch = replay_problems(&other_namespace);
    assert!(
        mismatch.contains("call 1 was expected to be get_resource"),
        "{mismatch}"
    );
}

/// No log line carries the trust anchors (nor any other PEM), whatever the outcome. A plain
/// injection logs nothing: its audit annotations record it.
#[test]
fn no_log_line_carries_trust_material() {
    let cases = [
        (
            "pod_worked_example.json",
            "session_mtls_default.yml",
            None,
            true,
        ),
        (
            "pod_worked_example.json",
            "session_trust_bundle_missing.yml",
            None,
            true,
        ),
        (
            "pod_invalid_annotation_values.json",
            "session_mtls_default.yml",
            Some("settings_strict_annotations.json"),
            true,
        ),
        (
            "pod_worked_example.json",
            common::NO_LOOKUPS,
            Some("settings_static_mtls_and_trust_anchors.json"),
            false,
        ),
    ];
    for (fixture, session, settings, logs_something) in cases {
        let result = evaluate(&Input::new(fixture, session, settings));
        assert_eq!(
            !result.logs.is_empty(),
            logs_something,
            "{fixture}: {:?}",
            result.logs
        );
        let logs = serde_json::to_string(&result.logs).unwrap();
        assert!(
            !logs.contains("-----BEGIN"),
            "{fixture}: a PEM block was logged: {logs}"
        );
        assert!(
            !logs.contains("MIIB"),
            "{fixture}: certificate material was logged: {logs}"
        );
    }
}

/// Issue budget: the module stays at most 450 KB (start-up and pull time). See `make bench`.
#[test]
fn the_module_stays_within_the_size_budget() {
    const BUDGET_BYTES: u64 = 450_000;
    let size = std::fs::metadata(common::repository_path(POLICY))
        .unwrap_or_else(|e| panic!("{POLICY}: {e}: {BUILD_HINT}"))
        .len();
    assert!(
        size <= BUDGET_BYTES,
        "{POLICY} is {size} bytes, over the {BUDGET_BYTES}-byte budget"
    );
}

/// build.rs starts the module with 2 MiB of linear memory: every evaluation runs on a fresh
/// instance, and growing the memory on each one cost 6 µs of system time (docs/performance.md).
#[test]
fn the_module_starts_with_enough_memory_for_an_evaluation_not_to_grow_it() {
    const INITIAL_MEMORY_PAGES: u64 = 32; // 2 MiB of 64 KiB pages
    let engine = wasmtime_provider::wasmtime::Engine::default();
    let bytes = std::fs::read(common::repository_path(POLICY)).expect("policy.wasm is readable");
    let module = wasmtime_provider::wasmtime::Module::new(&engine, &bytes).expect("it compiles");
    let memory = module
        .exports()
        .find_map(|e| e.ty().memory().cloned())
        .expect("the module exports its memory");
    assert_eq!(memory.minimum(), INITIAL_MEMORY_PAGES);
}

//! `make bench`: policy.wasm against a floor guest that only parses the request and adds one
//! label, in the engine configuration and instance life cycle of Kubewarden's policy-evaluator
//! 1.35 (`wasmtime::Config::default()` with function references and epoch interruption; a fresh
//! store and instance from an `InstancePre` for every evaluation, with epoch deadlines). Prints
//! sizes, median and p99 per request, the ratios, the peak linear memory and the pages touched
//! (minor page faults) per evaluation, and the native injection time. It writes each request
//! and its settings to `target/bench/`, for `benches/kwctl-bench.sh` to give kwctl the same.
//! It reports; it never fails on time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dapr_sidecar_injector::{ANNOTATIONS, Object, Settings, evaluate, validate_with};
use serde_json::{Value, json};
use testing::Canned;
use wasmtime_provider::{
    EpochDeadlines, ResourceLimits, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre,
    wasmtime,
};

/// Counts the allocations of the native runs: what the guest's allocator would serve.
struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations and bytes allocated while `run` runs.
fn allocations(run: impl FnOnce()) -> (usize, usize) {
    let (count, bytes) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        ALLOCATED.load(Ordering::Relaxed),
    );
    run();
    (
        ALLOCATIONS.load(Ordering::Relaxed) - count,
        ALLOCATED.load(Ordering::Relaxed) - bytes,
    )
}

/// The floor's work, natively: the SDK's request parsing, one label, the SDK's response.
fn floor_natively(payload: &[u8]) {
    let request = kubewarden_policy_sdk::request::ValidationRequest::<Value>::new(payload).unwrap();
    let mut object = request.request.object;
    object["metadata"]["labels"]["baseline"] = json!("true");
    std::hint::black_box(kubewarden_policy_sdk::mutate_request(object).unwrap());
}

const POLICY: &str = "policy.wasm";
const BASELINE: &str = "target/wasm32-wasip1/release/baseline_policy.opt.wasm";
const WARMUP: usize = 20;
const SAMPLES: usize = 300;
const PAGE: usize = 64 * 1024;

struct Request {
    name: &'static str,
    /// The file name stem under `target/bench/`.
    slug: &'static str,
    payload: Vec<u8>,
    /// Recorded host replies, in call order (empty: the settings make every lookup unneeded).
    replies: Vec<Result<Vec<u8>, String>>,
    /// The AdmissionRequest and the settings, as the host holds them before each call.
    parsed: (Value, Value),
}

impl Request {
    fn new(
        name: &'static str,
        slug: &'static str,
        settings: Value,
        request: &Value,
        replies: Vec<Result<Vec<u8>, String>>,
    ) -> Request {
        Request {
            name,
            slug,
            payload: payload(settings.clone(), request),
            replies,
            parsed: (request.clone(), settings),
        }
    }
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run `make bench`, which builds it)"))
}

fn json_file(path: &str) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The replies of a kwctl replay session, in order.
fn replies(session: &str) -> Vec<Result<Vec<u8>, String>> {
    let entries: Vec<Value> =
        serde_yaml::from_slice(&read(session)).unwrap_or_else(|e| panic!("{session}: {e}"));
    entries
        .iter()
        .map(|e| match e["response"]["type"].as_str() {
            Some("Success") => Ok(e["response"]["payload"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
                .to_vec()),
            _ => Err(e["response"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()),
        })
        .collect()
}

fn payload(settings: Value, request: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap()
}

/// 10 containers with 50 env vars each, and every Dapr annotation set to a valid value.
fn large_pod_request() -> Value {
    let mut request = json_file("test_data/pod_worked_example.json");
    let mut annotations = serde_json::Map::new();
    for a in ANNOTATIONS {
        let value = match a.type_name {
            t if t.starts_with("bool") => "true",
            t if t.starts_with("int32 (port)") => "8081",
            t if t.starts_with("int") => "7",
            "quantity" => "128Mi",
            _ => "value",
        };
        annotations.insert(a.key.to_owned(), json!(value));
    }
    for (key, value) in [
        ("dapr.io/app-id", "myapp"),
        ("dapr.io/sidecar-cpu-request", "100m"),
        ("dapr.io/sidecar-cpu-limit", "1"),
        ("dapr.io/env", "A=1,B=2,OTEL_RESOURCE_ATTRIBUTES=a=b,c=d"),
        ("dapr.io/env-from-secret", "S=sec:key"),
        ("dapr.io/volume-mounts", "kube-api-access-x1y2z:/sa"),
        ("dapr.io/volume-mounts-rw", ""),
        ("dapr.io/unix-domain-socket-path", "/tmp/socks"),
        ("dapr.io/pluggable-components", "c9"),
        ("dapr.io/inject-pluggable-components", "false"),
        ("dapr.io/enable-debug", "false"),
        ("dapr.io/enable-native-sidecar", "false"),
        ("dapr.io/sidecar-seccomp-profile-type", "RuntimeDefault"),
        ("dapr.io/sidecar-image", "ghcr.io/dapr/daprd:1.18.3"),
        ("dapr.io/app-protocol", "grpc"),
    ] {
        annotations.insert(key.to_owned(), json!(value));
    }
    let object = &mut request["object"];
    object["metadata"]["annotations"] = Value::Object(annotations);
    let template = object["spec"]["containers"][0].clone();
    object["spec"]["containers"] = Value::Array(
        (0..10)
            .map(|i| {
                let mut c = template.clone();
                c["name"] = json!(format!("c{i}"));
                c["env"] = Value::Array((0..50).map(|j| json!({"name": format!("VAR_{j}"), "value": format!("value-{i}-{j}")})).collect());
                c
            })
            .collect(),
    );
    request
}

fn requests() -> Vec<Request> {
    let static_settings = json_file("test_data/settings_static_mtls_and_trust_anchors.json");
    let worked = json_file("test_data/pod_worked_example.json");
    vec![
        Request::new(
            "section 10 example",
            "section-10",
            static_settings.clone(),
            &worked,
            Vec::new(),
        ),
        Request::new(
            "large Pod",
            "large-pod",
            static_settings,
            &large_pod_request(),
            Vec::new(),
        ),
        Request::new(
            "two host lookups",
            "two-lookups",
            json!({}),
            &worked,
            replies("test_data/session_mtls_default.yml"),
        ),
    ]
}

/// policy-server 1.35's engine (`crates/policy-server/src/lib.rs`): the default configuration,
/// function references for Go policies, and epoch interruption for its evaluation timeout.
fn engine() -> wasmtime::Engine {
    let mut config = wasmtime::Config::default();
    config.wasm_function_references(true);
    config.epoch_interruption(true);
    wasmtime::Engine::new(&config).expect("the engine configuration is valid")
}

/// The module compiled once, as policy-evaluator's `StackPre` does.
fn precompile(module: &[u8], limits: Option<ResourceLimits>) -> WasmtimeEngineProviderPre {
    let engine = engine();
    let module = wasmtime::Module::new(&engine, module)
        .unwrap_or_else(|e| panic!("the module does not compile: {e}"));
    let mut builder = WasmtimeEngineProviderBuilder::new()
        .engine(engine)
        .module(module);
    if let Some(limits) = limits {
        builder = builder.enable_resource_limits(limits);
    }
    builder
        .build_pre()
        .unwrap_or_else(|e| panic!("the module does not instantiate: {e}"))
}

/// policy-server's default evaluation timeout, 2 s, is 2 epochs of 1 s; no epoch passes here.
const DEADLINES: EpochDeadlines = EpochDeadlines {
    wapc_init: 2,
    wapc_func: 2,
};

type HostResult = Result<Vec<u8>, Box<dyn Error + Send + Sync>>;

/// One evaluation on a fresh instance: instantiate, initialise, call `validate`.
fn evaluate_once(pre: &WasmtimeEngineProviderPre, request: &Request) -> Result<Vec<u8>, String> {
    let replies = Arc::new(Mutex::new(request.replies.clone().into_iter()));
    let callback = move |_: u64, _: &str, namespace: &str, _: &str, _: &[u8]| -> HostResult {
        if namespace == "tracing" {
            return Ok(Vec::new());
        }
        match replies.lock().unwrap().next() {
            Some(Ok(reply)) => Ok(reply),
            Some(Err(message)) => Err(message.into()),
            None => Err("no recorded reply left".into()),
        }
    };
    let provider = pre.rehydrate(Some(DEADLINES)).map_err(|e| e.to_string())?;
    let host = wapc::WapcHost::new(Box::new(provider), Some(Box::new(callback)))
        .map_err(|e| e.to_string())?;
    call_as_kubewarden(&host, request)
}

/// One `validate` call with the host's work around it, as policy-evaluator's waPC runtime
/// does it (`runtimes/wapc/runtime.rs`): the payload serialised from the parsed request and
/// settings, the response parsed, and the JSON patch from the object to the mutated object
/// computed and serialised. That work grows with the Pod and with what the policy changes.
fn call_as_kubewarden(host: &wapc::WapcHost, request: &Request) -> Result<Vec<u8>, String> {
    let (admission, settings) = &request.parsed;
    let payload = serde_json::to_string(&json!({"request": admission, "settings": settings}))
        .map_err(|e| e.to_string())?;
    let response = host
        .call("validate", payload.as_bytes())
        .map_err(|e| e.to_string())?;
    let parsed: Value = serde_json::from_slice(&response).map_err(|e| e.to_string())?;
    if let Some(mutated) = parsed.get("mutated_object").filter(|m| !m.is_null()) {
        let patch = json_patch::diff(&admission["object"], mutated);
        std::hint::black_box(serde_json::to_string(&patch).map_err(|e| e.to_string())?);
    }
    Ok(response)
}

struct Timing {
    median: Duration,
    p99: Duration,
}

fn measure(mut run: impl FnMut()) -> Timing {
    for _ in 0..WARMUP {
        run();
    }
    let mut samples: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    samples.sort();
    Timing {
        median: samples[SAMPLES / 2],
        p99: samples[SAMPLES * 99 / 100],
    }
}

fn time_wasm(pre: &WasmtimeEngineProviderPre, request: &Request) -> Timing {
    let response: Value = serde_json::from_slice(&evaluate_once(pre, request).unwrap()).unwrap();
    assert_eq!(
        response["accepted"],
        json!(true),
        "{}: {response}",
        request.name
    );
    measure(|| {
        evaluate_once(pre, request).unwrap();
    })
}

/// The smallest memory cap, in 64 KiB pages, under which the evaluation still succeeds.
fn peak_linear_memory(module: &[u8], request: &Request) -> usize {
    let (mut low, mut high) = (1usize, 2048usize);
    while low < high {
        let mid = (low + high) / 2;
        let limits = ResourceLimits {
            max_memory_size: Some(mid * PAGE),
            max_table_elements: None,
        };
        if evaluate_once(&precompile(module, Some(limits)), request).is_ok() {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    low * PAGE
}

/// One table row; returns the median ratio.
fn row(name: &str, policy: &Timing, floor: &Timing) -> f64 {
    let ratio = policy.median.as_secs_f64() / floor.median.as_secs_f64();
    println!(
        "| {name} | {} | {} | {} | {} | {ratio:.2} |",
        ms(policy.median),
        ms(policy.p99),
        ms(floor.median),
        ms(floor.p99),
    );
    ratio
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The process's minor page faults so far (`/proc/self/stat`, field 10): each first touch of a
/// fresh instance's linear memory page is one.
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name
        .split_whitespace()
        .nth(7)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

/// Minor page faults per evaluation, over 200 evaluations.
fn faults_per_evaluation(pre: &WasmtimeEngineProviderPre, request: &Request) -> f64 {
    const RUNS: u64 = 200;
    let before = minor_faults();
    for _ in 0..RUNS {
        evaluate_once(pre, request).unwrap();
    }
    (minor_faults() - before) as f64 / RUNS as f64
}

/// The request without host replies, for the floor, which makes no host call.
fn for_floor(request: &Request) -> Request {
    Request {
        replies: Vec::new(),
        parsed: request.parsed.clone(),
        payload: request.payload.clone(),
        ..*request
    }
}

/// `target/bench/<slug>.request.json` and `.settings.json`: what kwctl bench is given.
fn write_for_kwctl(request: &Request, policy: &WasmtimeEngineProviderPre) {
    std::fs::create_dir_all("target/bench").unwrap();
    // The policy's answer, which benches/ideal returns without computing it.
    let response = evaluate_once(policy, request).unwrap();
    std::fs::write(
        format!("target/bench/{}.response.json", request.slug),
        response,
    )
    .unwrap();
    let (admission_request, settings) = &request.parsed;
    for (suffix, part) in [("request", admission_request), ("settings", settings)] {
        let path = format!("target/bench/{}.{suffix}.json", request.slug);
        std::fs::write(&path, serde_json::to_vec_pretty(part).unwrap()).unwrap();
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let policy = read(POLICY);
    let baseline = read(BASELINE);
    let (policy_pre, baseline_pre) = (precompile(&policy, None), precompile(&baseline, None));
    let requests = requests();

    println!("policy.wasm   {:>9} bytes", policy.len());
    println!("floor.wasm    {:>9} bytes", baseline.len());
    println!();
    println!("| request | policy median | policy p99 | floor median | floor p99 | median ratio |");
    println!("|---|---|---|---|---|---|");
    for request in &requests {
        let p = time_wasm(&policy_pre, request);
        let b = time_wasm(&baseline_pre, &for_floor(request));
        row(
            &format!("{}, fresh instance (policy-server)", request.name),
            &p,
            &b,
        );
    }
    // kwctl bench evaluates on one instance: these rows are what it measures.
    let mut tsv = String::new();
    for request in requests.iter().filter(|r| r.replies.is_empty()) {
        let (p, b) = (
            time_warm(&policy_pre, request),
            time_warm(&baseline_pre, request),
        );
        let ratio = row(
            &format!("{}, instance reused (kwctl bench)", request.name),
            &p,
            &b,
        );
        write_for_kwctl(request, &policy_pre);
        tsv.push_str(&format!("{}\t{}\t{ratio:.2}\n", request.slug, request.name));
    }
    std::fs::write("target/bench/harness.tsv", tsv).unwrap();
    report_instantiation(&policy_pre, &baseline_pre);
    report_memory(&policy, &baseline, &policy_pre, &baseline_pre, &requests);
    report_native(&requests);
}

/// `validate` again on one instance already used: what an evaluation costs once its memory
/// pages are touched, which a fresh instance never has. The difference to a fresh instance's
/// time is the cost of first touches.
fn time_warm(pre: &WasmtimeEngineProviderPre, request: &Request) -> Timing {
    let callback = |_: u64, _: &str, _: &str, _: &str, _: &[u8]| -> HostResult { Ok(Vec::new()) };
    let provider = pre.rehydrate(Some(DEADLINES)).unwrap();
    let host = wapc::WapcHost::new(Box::new(provider), Some(Box::new(callback))).unwrap();
    measure(|| {
        std::hint::black_box(call_as_kubewarden(&host, request).unwrap());
    })
}

/// What every evaluation pays before `validate` runs: a fresh instance and `wapc_init`.
fn report_instantiation(policy: &WasmtimeEngineProviderPre, floor: &WasmtimeEngineProviderPre) {
    let instantiate = |pre: &WasmtimeEngineProviderPre| {
        measure(|| {
            let provider = pre.rehydrate(Some(DEADLINES)).unwrap();
            let callback =
                |_: u64, _: &str, _: &str, _: &str, _: &[u8]| -> HostResult { Ok(Vec::new()) };
            drop(std::hint::black_box(
                wapc::WapcHost::new(Box::new(provider), Some(Box::new(callback))).unwrap(),
            ));
        })
    };
    row(
        "instantiation only",
        &instantiate(policy),
        &instantiate(floor),
    );
}

/// Peak linear memory and pages touched per evaluation, for each request, against the floor.
fn report_memory(
    policy: &[u8],
    floor: &[u8],
    policy_pre: &WasmtimeEngineProviderPre,
    floor_pre: &WasmtimeEngineProviderPre,
    requests: &[Request],
) {
    println!();
    // Probing for the smallest memory cap makes the guest fail allocations; it reports them on
    // stderr, so they are expected there.
    eprintln!("(probing memory caps: the allocation failures below are expected)");
    println!(
        "| request | policy memory needed | floor memory needed | policy page faults | floor page faults |"
    );
    println!("|---|---|---|---|---|");
    for request in requests {
        let floor_request = for_floor(request);
        println!(
            "| {} | {} KiB | {} KiB | {:.0} | {:.0} |",
            request.name,
            peak_linear_memory(policy, request) / 1024,
            peak_linear_memory(floor, &floor_request) / 1024,
            faults_per_evaluation(policy_pre, request),
            faults_per_evaluation(floor_pre, &floor_request),
        );
    }
}

/// The injection alone, natively: the policy's text path and the `Value` path of dapr-inject.
fn report_native(requests: &[Request]) {
    println!();
    let settings: Settings = serde_json::from_value(json_file(
        "test_data/settings_static_mtls_and_trust_anchors.json",
    ))
    .unwrap();
    let admission = testing::controller();
    let cluster = Canned::default();
    for request in &requests[..2] {
        let object = request.parsed.0["object"].clone();
        let text = object.to_string();
        let spliced = measure(|| {
            std::hint::black_box(evaluate(
                &admission,
                Object::Text(&text),
                &settings,
                &cluster,
            ));
        });
        let parsed = measure(|| {
            let object = Object::Value(object.clone());
            std::hint::black_box(evaluate(&admission, object, &settings, &cluster));
        });
        println!(
            "native, {}: evaluate on text (the policy's path) median {}, p99 {}; \
             evaluate on a Value (as dapr-inject) median {}, p99 {}",
            request.name,
            ms(spliced.median),
            ms(spliced.p99),
            ms(parsed.median),
            ms(parsed.p99)
        );
        let (count, bytes) = allocations(|| {
            std::hint::black_box(validate_with(&request.payload, &cluster).unwrap());
        });
        let (floor_count, floor_bytes) = allocations(|| floor_natively(&request.payload));
        println!(
            "native, {}: validate allocates {count} times, {bytes} bytes; the floor {floor_count} times, {floor_bytes} bytes",
            request.name
        );
    }
}

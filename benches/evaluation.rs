//! `make bench`: policy.wasm against a baseline guest that only parses the request and adds one
//! label, through the waPC runtime the wasm tests use, with a fresh instance per evaluation as
//! the PolicyServer does. Prints sizes, median and p99 per request, the ratios, the peak linear
//! memory for the large Pod, and the native injection time. It reports; it never fails on time.

use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dapr_sidecar_injector::{ANNOTATIONS, Admission, Canned, Settings, evaluate, evaluate_json};
use serde_json::{Value, json};
use wasmtime_provider::{ResourceLimits, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

const POLICY: &str = "policy.wasm";
const BASELINE: &str = "target/wasm32-wasip1/release/baseline_policy.opt.wasm";
const WARMUP: usize = 20;
const SAMPLES: usize = 300;
const PAGE: usize = 64 * 1024;

struct Request {
    name: &'static str,
    payload: Vec<u8>,
    /// Recorded host replies, in call order (empty: the settings make every lookup unneeded).
    replies: Vec<Result<Vec<u8>, String>>,
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
        Request {
            name: "section 10 example",
            payload: payload(static_settings.clone(), &worked),
            replies: Vec::new(),
        },
        Request {
            name: "large Pod",
            payload: payload(static_settings, &large_pod_request()),
            replies: Vec::new(),
        },
        Request {
            name: "two host lookups",
            payload: payload(json!({}), &worked),
            replies: replies("test_data/session_mtls_default.yml"),
        },
    ]
}

fn precompile(module: &[u8], limits: Option<ResourceLimits>) -> WasmtimeEngineProviderPre {
    let mut builder = WasmtimeEngineProviderBuilder::new()
        .module_bytes(module)
        .wasi_params(wapc::WasiParams::default());
    if let Some(limits) = limits {
        builder = builder.enable_resource_limits(limits);
    }
    builder
        .build_pre()
        .unwrap_or_else(|e| panic!("the module does not compile: {e}"))
}

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
    let provider = pre.rehydrate(None).map_err(|e| e.to_string())?;
    let host = wapc::WapcHost::new(Box::new(provider), Some(Box::new(callback)))
        .map_err(|e| e.to_string())?;
    host.call("validate", &request.payload)
        .map_err(|e| e.to_string())
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

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let policy = read(POLICY);
    let baseline = read(BASELINE);
    let (policy_pre, baseline_pre) = (precompile(&policy, None), precompile(&baseline, None));
    let requests = requests();

    println!("policy.wasm   {:>9} bytes", policy.len());
    println!("baseline.wasm {:>9} bytes", baseline.len());
    println!();
    println!(
        "| request | policy median | policy p99 | baseline median | baseline p99 | median ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for request in &requests {
        let p = time_wasm(&policy_pre, request);
        // The baseline makes no host calls.
        let b = time_wasm(
            &baseline_pre,
            &Request {
                name: request.name,
                payload: request.payload.clone(),
                replies: Vec::new(),
            },
        );
        println!(
            "| {} | {} | {} | {} | {} | {:.2} |",
            request.name,
            ms(p.median),
            ms(p.p99),
            ms(b.median),
            ms(b.p99),
            p.median.as_secs_f64() / b.median.as_secs_f64()
        );
    }
    // What every evaluation pays before `validate` runs: a fresh instance and `wapc_init`.
    let instantiate = |pre: &WasmtimeEngineProviderPre| {
        measure(|| {
            let provider = pre.rehydrate(None).unwrap();
            let callback =
                |_: u64, _: &str, _: &str, _: &str, _: &[u8]| -> HostResult { Ok(Vec::new()) };
            drop(std::hint::black_box(
                wapc::WapcHost::new(Box::new(provider), Some(Box::new(callback))).unwrap(),
            ));
        })
    };
    let (p, b) = (instantiate(&policy_pre), instantiate(&baseline_pre));
    println!(
        "| instantiation only | {} | {} | {} | {} | {:.2} |",
        ms(p.median),
        ms(p.p99),
        ms(b.median),
        ms(b.p99),
        p.median.as_secs_f64() / b.median.as_secs_f64()
    );
    let large = &requests[1];
    println!();
    // Probing for the smallest memory cap makes the guest fail allocations; it reports them on
    // stderr, so they are expected there.
    eprintln!("(probing memory caps: the allocation failures below are expected)");
    println!(
        "peak linear memory, large Pod: policy {} KiB, baseline {} KiB",
        peak_linear_memory(&policy, large) / 1024,
        peak_linear_memory(&baseline, large) / 1024
    );

    let settings: Settings = serde_json::from_value(json_file(
        "test_data/settings_static_mtls_and_trust_anchors.json",
    ))
    .unwrap();
    let admission = Admission {
        kind: "Pod",
        operation: "CREATE",
        namespace: "default",
        username: "system:serviceaccount:kube-system:replicaset-controller",
        groups: vec![],
    };
    let cluster = Canned::default();
    for request in &requests[..2] {
        let object: Value =
            serde_json::from_slice::<Value>(&request.payload).unwrap()["request"]["object"].clone();
        let text = object.to_string();
        let spliced = measure(|| {
            std::hint::black_box(evaluate_json(&admission, &text, &settings, &cluster));
        });
        let parsed = measure(|| {
            std::hint::black_box(evaluate(&admission, object.clone(), &settings, &cluster));
        });
        println!(
            "native, {}: evaluate_json (the policy's path) median {}, p99 {}; \
             evaluate (on a Value, as dapr-inject) median {}, p99 {}",
            request.name,
            ms(spliced.median),
            ms(spliced.p99),
            ms(parsed.median),
            ms(parsed.p99)
        );
    }
}

//! kwctl replay sessions (`--replay-host-capabilities-interactions`), answered in order, and
//! stricter than kwctl: a request that differs from the recording, an extra call, or a recorded
//! exchange left over is a test failure, so the files also prove the order of the lookups.

use std::collections::VecDeque;
use std::sync::Mutex;

use dapr_sidecar_injector::Cluster;
use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    GetResourceRequest, ListResourcesByNamespaceRequest,
};
use serde::Deserialize;
use serde_json::Value;

pub const GET_RESOURCE: &str = "get_resource";
pub const LIST_RESOURCES_BY_NAMESPACE: &str = "list_resources_by_namespace";

/// kwctl's `Exchange` (callback_handler/proxy.rs).
#[derive(Deserialize)]
#[serde(tag = "type")]
enum Entry {
    Exchange { request: String, response: Response },
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum Response {
    Success { payload: String },
    Error { message: String },
}

/// One recorded host call.
#[derive(Debug)]
struct Exchange {
    operation: &'static str,
    request: Value,
    reply: Result<Vec<u8>, String>,
}

/// The waPC operation a `CallbackRequestType` tag stands for.
fn operation_of(tag: &str) -> Option<&'static str> {
    match tag {
        "!KubernetesGetResource" => Some(GET_RESOURCE),
        "!KubernetesListResourceNamespace" => Some(LIST_RESOURCES_BY_NAMESPACE),
        _ => None,
    }
}

/// kwctl deserialises an omitted `field_masks` as `None`, which the guest sends as `null`.
fn normalised(mut request: Value) -> Value {
    if let Value::Object(fields) = &mut request {
        fields.entry("field_masks").or_insert(Value::Null);
    }
    request
}

fn parse_exchange(session: &str, index: usize, entry: Entry) -> Exchange {
    let Entry::Exchange { request, response } = entry;
    let (tag, body) = request.split_once('\n').unwrap_or((request.as_str(), ""));
    let operation = operation_of(tag.trim()).unwrap_or_else(|| {
        panic!("{session}: exchange {index} has the tag {tag:?}, which this policy never sends")
    });
    let request: Value = serde_yaml::from_str(body)
        .unwrap_or_else(|e| panic!("{session}: exchange {index}: the request is not YAML: {e}"));
    let reply = match response {
        Response::Success { payload } => Ok(payload.into_bytes()),
        // What policy-evaluator's callback hands the guest for a failed lookup.
        Response::Error { message } => Err(format!("Callback evaluation failure: {message}")),
    };
    Exchange {
        operation,
        request: normalised(request),
        reply,
    }
}

/// A session file of `test_data/`, consumed one call at a time.
#[derive(Debug)]
pub struct Replay {
    session: String,
    pending: Mutex<VecDeque<Exchange>>,
    replayed: Mutex<usize>,
    failures: Mutex<Vec<String>>,
}

impl Replay {
    pub fn load(session: &str) -> Replay {
        let text = std::fs::read_to_string(super::test_data(session))
            .unwrap_or_else(|e| panic!("test_data/{session}: {e}"));
        let entries: Vec<Entry> = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("test_data/{session} is not a kwctl session: {e}"));
        Replay {
            session: session.to_owned(),
            pending: Mutex::new(
                entries
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| parse_exchange(session, i, e))
                    .collect(),
            ),
            replayed: Mutex::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// The recorded reply to the guest's call, or, when the call is not the one recorded next,
    /// kwctl's replay error (and a failure for [`Replay::finish`]).
    pub fn answer(&self, operation: &str, request: &[u8]) -> Result<Vec<u8>, String> {
        let request = match serde_json::from_slice(request) {
            Ok(r) => normalised(r),
            Err(e) => return self.fail(format!("{operation}: the request is not JSON: {e}")),
        };
        let mut replayed = self.replayed.lock().unwrap();
        let Some(next) = self.pending.lock().unwrap().pop_front() else {
            return self.fail(format!(
                "unexpected extra call {operation} {request} after {replayed} replayed exchange(s)"
            ));
        };
        if next.operation != operation || next.request != request {
            return self.fail(format!(
                "call {} was expected to be {} {}, the policy made {operation} {request}",
                *replayed + 1,
                next.operation,
                next.request
            ));
        }
        *replayed += 1;
        next.reply
    }

    fn fail(&self, problem: String) -> Result<Vec<u8>, String> {
        let message = format!("Replay error ({}): {problem}", self.session);
        self.failures.lock().unwrap().push(message.clone());
        Err(message)
    }

    /// Every recorded exchange replayed, in order, and nothing else asked.
    pub fn finish(&self) -> Result<(), String> {
        let mut problems = self.failures.lock().unwrap().clone();
        let pending = self.pending.lock().unwrap();
        if !pending.is_empty() {
            problems.push(format!(
                "Replay error ({}): {} recorded exchange(s) not replayed, next: {} {}",
                self.session,
                pending.len(),
                pending[0].operation,
                pending[0].request
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// The guest's view of a failed host call: the SDK's `Error::HostCall` around wapc-guest's
/// `Host error: …`, so native results read exactly like the wasm ones.
fn host_call_error(operation: &str, host_message: String) -> String {
    format!("error invoking host capability kubernetes.{operation}: Host error: {host_message}")
}

/// The policy's [`Cluster`] answered from a replay session, for `validate_with`.
pub struct ReplayCluster(pub Replay);

impl ReplayCluster {
    fn call<T: serde::Serialize>(&self, operation: &str, request: &T) -> Result<Value, String> {
        let request = serde_json::to_vec(request).expect("host capability requests serialise");
        let reply = self
            .0
            .answer(operation, &request)
            .map_err(|e| host_call_error(operation, e))?;
        Ok(serde_json::from_slice(&reply).expect("recorded payloads are JSON"))
    }
}

impl Cluster for ReplayCluster {
    fn get_resource(&self, request: &GetResourceRequest) -> Result<Value, String> {
        self.call(GET_RESOURCE, request)
    }

    fn list_resources_by_namespace(
        &self,
        request: &ListResourcesByNamespaceRequest,
    ) -> Result<Vec<Value>, String> {
        let list = self.call(LIST_RESOURCES_BY_NAMESPACE, request)?;
        Ok(list["items"].as_array().cloned().unwrap_or_default())
    }
}

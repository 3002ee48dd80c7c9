//! Drift: a Pod's daprd against the one injection would give the same Pod today, under the
//! current settings and the Pod's own annotations, as the API server would store it. Nothing
//! is looked up: what the control plane decides (mTLS on or off, the trust anchors) is left
//! out of the comparison, and whether the trust anchors are current is another check.

use serde_json::{Map, Value};

use crate::annotations::keys;
use crate::base::dapr::{SIDECAR_CONTAINER_NAME, env};
use crate::base::go::is_truthy;
use crate::base::json::to_text;
use crate::base::k8s::defaults::default_container;
use crate::base::k8s::quantity::nano_value;
use crate::base::problem::{Finding, quote};
use crate::pod::PodView;
use crate::profiles::{self, Layout};
use crate::settings::Settings;
use crate::sidecar;

/// The flag whose presence turns mTLS on: the control plane's Configuration decides it.
const MTLS_FLAG: &str = "--enable-mtls";
/// What the ServiceAccount admission plugin mounts into every container, daprd included.
const SERVICE_ACCOUNT_VOLUME_PREFIX: &str = "kube-api-access-";
/// How an absent value is written in a finding.
const UNSET: &str = "unset";
const CONTAINER_LISTS: [&str; 2] = ["containers", "initContainers"];
/// Which list daprd is in, as a finding names it: an init container is a native sidecar.
const PLACEMENT: &str = "daprd's list";

/// The first way the Pod's `daprd` container differs from today's, or `None` when it does not, or when
/// today's cannot be planned without a lookup (pluggable components) or for release 0.11.
pub(super) fn find(
    pod: &Value,
    daprd: &Value,
    namespace: &str,
    from_owner: bool,
    settings: &Settings,
    owner: &Option<String>,
) -> Option<Finding> {
    let pluggable = pod
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(keys::inject_pluggable_components))
        .and_then(Value::as_str);
    if profiles::layout(settings.dapr_version) == Layout::V0_11 || pluggable.is_some_and(is_truthy)
    {
        return None;
    }
    let mut found = daprd.clone();
    let mut without = pod.clone();
    for list in CONTAINER_LISTS {
        remove_from(without.get_mut("spec")?, list, is_daprd);
    }
    // No cluster: nothing is looked up.
    let view = PodView::from_json(&without).ok()?;
    let plan = sidecar::plan(&view, namespace, from_owner, settings, None).ok()?;
    let running_native = !pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(is_daprd));
    if running_native != plan.additions.native_sidecar {
        let list = |native| {
            if native {
                "initContainers"
            } else {
                "containers"
            }
            .to_owned()
        };
        return Some(Finding::Drift {
            field: PLACEMENT.to_owned(),
            found: list(running_native),
            expected: list(plan.additions.native_sidecar),
            owner: owner.clone(),
        });
    }
    let mut expected = plan.additions.sidecar.value().ok()?;
    // Both as the API server stores them: a stored daprd has its defaults already, and a
    // Pod of a manifest gets them when it is applied.
    let host_network = pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true);
    for container in [&mut found, &mut expected] {
        default_container(container, host_network);
        remove_from(container, "args", |arg| arg == MTLS_FLAG);
        remove_from(container, "volumeMounts", is_service_account_mount);
        remove_from(container, "env", |var| var["name"] == env::TRUST_ANCHORS);
    }
    let (field, found, expected) = difference(&found, &expected)?;
    Some(Finding::Drift {
        field,
        found,
        expected,
        owner: owner.clone(),
    })
}

fn is_daprd(container: &Value) -> bool {
    container["name"] == SIDECAR_CONTAINER_NAME
}

fn is_service_account_mount(mount: &Value) -> bool {
    let name = mount["name"].as_str().unwrap_or_default();
    name.starts_with(SERVICE_ACCOUNT_VOLUME_PREFIX)
}

/// Removes the items of a list field that `unwanted` picks. What the settings do not decide
/// is left out of the comparison this way: mTLS, the service-account token mount the API
/// server adds, and the trust anchors, which have a check of their own.
fn remove_from(object: &mut Value, list: &str, unwanted: fn(&Value) -> bool) {
    if let Some(items) = object.get_mut(list).and_then(Value::as_array_mut) {
        items.retain(|item| !unwanted(item));
    }
}

/// (what differs, the running value, today's value), flags first.
type Difference = (String, String, String);

fn difference(found: &Value, expected: &Value) -> Option<Difference> {
    if let (Some(found), Some(expected)) = (flags(&found["args"]), flags(&expected["args"]))
        && let Some(difference) = flag_difference(&found, &expected)
    {
        return Some(difference);
    }
    value_difference("", Some(found), Some(expected))
}

type Flags<'a> = Vec<(&'a str, &'a Value)>;

/// A bare flag's value, as findings show it.
static SET: Value = Value::Bool(true);

/// `--flag value` and bare `--flag` pairs, in order; a word that is no flag's value (the
/// binary, `/daprd`) stands alone. `None` when an arg is not a string.
fn flags(args: &Value) -> Option<Flags<'_>> {
    let mut rest = args.as_array()?.as_slice();
    let mut flags = Vec::new();
    while let [flag, tail @ ..] = rest {
        let flag = flag.as_str()?;
        let value = tail
            .first()
            .filter(|v| flag.starts_with("--") && v.as_str().is_some_and(|v| !v.starts_with("--")));
        flags.push((flag, value.unwrap_or(&SET)));
        rest = match value {
            Some(_) => tail.get(1..).unwrap_or_default(),
            None => tail,
        };
    }
    Some(flags)
}

/// A flag's value in a list, `None` when the list lacks it.
fn value_in<'a>(list: &Flags<'a>, flag: &str) -> Option<&'a Value> {
    list.iter().find(|(f, _)| *f == flag).map(|(_, v)| *v)
}

fn flag_difference(found: &Flags<'_>, expected: &Flags<'_>) -> Option<Difference> {
    expected.iter().chain(found).find_map(|(flag, _)| {
        value_difference(flag, value_in(found, flag), value_in(expected, flag))
    })
}

/// An absent value, `null`, `{}` and `[]` all mean "unset".
fn is_unset(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(list)) => list.is_empty(),
        Some(_) => false,
    }
}

fn value_difference(
    path: &str,
    found: Option<&Value>,
    expected: Option<&Value>,
) -> Option<Difference> {
    if is_unset(found) && is_unset(expected) {
        return None;
    }
    match (found, expected) {
        (Some(Value::Object(found)), Some(Value::Object(expected))) => {
            object_difference(path, found, expected)
        }
        (Some(Value::Array(found)), Some(Value::Array(expected))) => {
            list_difference(path, found, expected)
        }
        _ if same_scalar(path, found, expected) => None,
        _ => Some((path.to_owned(), shown(found), shown(expected))),
    }
}

/// Today's fields in their order, then the running daprd's other fields.
fn object_difference(
    path: &str,
    found: &Map<String, Value>,
    expected: &Map<String, Value>,
) -> Option<Difference> {
    let keys = expected
        .keys()
        .chain(found.keys().filter(|k| !expected.contains_key(*k)));
    for key in keys {
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if let Some(difference) = value_difference(&child, found.get(key), expected.get(key)) {
            return Some(difference);
        }
    }
    None
}

/// Lists of named objects (env, ports, mounts) are matched by name, others by position.
fn list_difference(path: &str, found: &[Value], expected: &[Value]) -> Option<Difference> {
    let named = found
        .iter()
        .chain(expected)
        .all(|item| item["name"].is_string());
    let longest = found.len().max(expected.len());
    let items = expected.iter().chain(found).enumerate();
    for (at, item) in items.take(if named { usize::MAX } else { longest }) {
        let (child, was, now) = if named {
            let name = item["name"].as_str().unwrap_or_default();
            let by_name = |list: &'_ [Value]| list.iter().find(|i| i["name"] == name).cloned();
            (format!("{path}[{name}]"), by_name(found), by_name(expected))
        } else {
            (
                format!("{path}[{at}]"),
                found.get(at).cloned(),
                expected.get(at).cloned(),
            )
        };
        if let Some(difference) = value_difference(&child, was.as_ref(), now.as_ref()) {
            return Some(difference);
        }
    }
    None
}

/// Equal scalars, or equal quantities: the API server writes `0.5` as `500m`, rounded up to
/// milli. Objects and lists never reach here but beside another type.
fn same_scalar(path: &str, found: Option<&Value>, expected: Option<&Value>) -> bool {
    let milli = |value: &str| Some(nano_value(value)?.div_ceil(1_000_000));
    match (found, expected) {
        (Some(Value::String(was)), Some(Value::String(now))) => {
            was == now
                || (path.starts_with("resources.")
                    && milli(was).is_some_and(|m| milli(now) == Some(m)))
        }
        (Some(Value::Number(was)), Some(Value::Number(now))) => was == now,
        (Some(Value::Bool(was)), Some(Value::Bool(now))) => was == now,
        _ => false,
    }
}

fn shown(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => quote(text),
        Some(other) if !is_unset(Some(other)) => to_text(other),
        _ => UNSET.to_owned(),
    }
}

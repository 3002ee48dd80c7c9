//! `namespaceDefaults`: the `dapr.io/*` annotations of a Pod's Namespace, as defaults under
//! the Pod's own, as Linkerd copies `config.linkerd.io/*` from a Namespace. The Namespace is
//! read once, only for a Pod that will be injected (or judged); its `dapr.io/enabled`,
//! `dapr.io/app-id` and `dapr.io/sidecar-image` are never inherited ([`NOT_INHERITED`]).

use serde_json::{Map, Value};

use crate::annotations::{PREFIX, keys};
use crate::base::json::to_text;
use crate::base::problem::{Problem, name, quote};
use crate::cluster::{Cluster, namespace_request};
use crate::settings::Settings;

/// What a Namespace never gives its Pods. A namespace owner must not be able to turn
/// injection on for another team's Pods, hand them a daprd image of their own (it receives
/// the Pod's Sentry identity token), or give every Pod one app id.
pub const NOT_INHERITED: [&str; 3] = [keys::enabled, keys::app_id, keys::sidecar_image];

/// What the SDK puts before the host's own words, and what the host puts before a failed
/// lookup's (policy-evaluator 1.35, `runtimes/callback.rs`).
const HOST_ERROR_PREFIX: &str = "Host error: ";
const CALLBACK_FAILURE_PREFIX: &str = "Callback evaluation failure: ";

/// The host's own words, without the prefixes, so that they fit the warning: a lookup the
/// policy may not make ("Policy has not been granted access to Kubernetes v1/Namespace
/// resources…") or one the API server refused ("namespaces \"shop\" is forbidden…").
fn host_cause(error: &str) -> &str {
    let words = error.rsplit(HOST_ERROR_PREFIX).next().unwrap_or_default();
    words.strip_prefix(CALLBACK_FAILURE_PREFIX).unwrap_or(words)
}

/// What a Pod inherits: the values, and a warning for each (or for a failed lookup).
#[derive(Debug, Clone, Default)]
pub struct Inherited {
    pub values: Map<String, Value>,
    pub problems: Vec<Problem>,
    /// The Namespace could not be read: the Pod is judged without its defaults.
    pub unread: bool,
}

impl Inherited {
    /// The keys inherited, comma-separated, for the audit annotation.
    pub fn keys(&self) -> String {
        let mut keys = String::new();
        for key in self.values.keys() {
            if !keys.is_empty() {
                keys.push(',');
            }
            keys.push_str(key);
        }
        keys
    }

    /// A problem about an inherited value says where the value came from.
    pub fn mark(&self, problems: &mut [Problem], namespace: &str) {
        for problem in problems
            .iter_mut()
            .filter(|p| self.values.contains_key(&p.key))
        {
            problem
                .message
                .push_str(&format!(" (from Namespace {namespace})"));
        }
    }

    /// `problems`, marked, after the warnings of what was inherited.
    pub fn said(&self, problems: &mut Vec<Problem>, namespace: &str) {
        self.mark(problems, namespace);
        let mut all = self.problems.clone();
        all.append(problems);
        *problems = all;
    }
}

/// The Namespace's `dapr.io/` annotations the Pod (`own`) does not set. A failed lookup
/// leaves the Pod to its own annotations, with a warning: the Pod is still injected.
pub fn inherited(
    own: &Map<String, Value>,
    namespace: &str,
    settings: &Settings,
    cluster: Option<&dyn Cluster>,
) -> Inherited {
    let mut inherited = Inherited::default();
    let Some(cluster) = cluster.filter(|_| settings.namespace_defaults) else {
        return inherited;
    };
    let found = match cluster.get_resource(&namespace_request(namespace)) {
        Ok(found) => found,
        Err(error) => {
            let cause = host_cause(&error);
            inherited.problems.push(Problem::advice(
                &format!("{PREFIX}*"),
                format!(
                    "defaults of Namespace {} not applied: {cause}",
                    name(namespace)
                ),
            ));
            inherited.unread = true;
            return inherited;
        }
    };
    let annotations = found
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    for (key, value) in annotations.into_iter().flatten() {
        if key.starts_with(PREFIX)
            && !NOT_INHERITED.contains(&key.as_str())
            && !own.contains_key(key)
        {
            let shown = value.as_str().map_or_else(|| to_text(value), quote);
            inherited.problems.push(Problem::advice(
                key,
                format!("{shown} from Namespace {namespace} (namespaceDefaults)"),
            ));
            inherited.values.insert(key.clone(), value.clone());
        }
    }
    inherited
}

#[cfg(test)]
mod tests {
    use super::host_cause;

    #[test]
    fn a_host_error_is_shown_in_the_hosts_own_words() {
        let sdk = "error invoking host capability kubernetes.get_resource: Host error: ";
        assert_eq!(
            host_cause(&format!(
                "{sdk}Policy has not been granted access to Kubernetes v1/Namespace resources. The violation has been reported."
            )),
            "Policy has not been granted access to Kubernetes v1/Namespace resources. The violation has been reported."
        );
        assert_eq!(
            host_cause(&format!(
                "{sdk}Callback evaluation failure: namespaces \"shop\" is forbidden"
            )),
            "namespaces \"shop\" is forbidden"
        );
        assert_eq!(
            host_cause("no Namespace shop given"),
            "no Namespace shop given"
        );
    }
}

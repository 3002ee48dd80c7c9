//! What the policy tells people: a [`Problem`] is one warning, a [`Rejection`] is why a Pod is
//! refused. Both hold data; their text is written by `to_warning` and `Display`, where the
//! policy's answer is put together. Every warning is `dapr.io/<name>: <what>`, one line.

use std::fmt;

use serde_json::Value;

/// One thing the policy could not use as written, reported as an admission warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
    /// An invalid value in the Pod's annotations: with `invalidAnnotations: reject` it rejects
    /// the Pod. Advice (unknown keys, cluster-side problems) never does.
    pub invalid_value: bool,
}

impl Problem {
    /// An annotation value that was ignored or dropped.
    pub fn invalid(key: &str, message: impl Into<String>) -> Self {
        Problem {
            key: key.to_owned(),
            message: message.into(),
            invalid_value: true,
        }
    }

    /// Advice that does not concern an invalid value.
    pub fn advice(key: &str, message: impl Into<String>) -> Self {
        Problem {
            key: key.to_owned(),
            message: message.into(),
            invalid_value: false,
        }
    }

    /// `dapr.io/<name>: <what>`, the form every warning takes, under 120 characters.
    pub fn to_warning(&self) -> String {
        fit(self.text())
    }

    /// `key: message`, before it is fitted into a warning.
    pub fn text(&self) -> String {
        format!("{}: {}", self.key, self.message)
    }
}

/// The warnings of `problems`, in order.
pub fn warnings_of(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(Problem::to_warning).collect()
}

/// Why a Pod is refused, and the problems met before.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub reason: Reason,
    pub problems: Vec<Problem>,
}

impl Rejection {
    pub fn new(reason: Reason, problems: &[Problem]) -> Self {
        Rejection {
            reason,
            problems: problems.to_vec(),
        }
    }
}

/// Each way a Pod can be refused, with what its message names. Keys and resource names come
/// from the layer that found the fault, so this file stays a leaf.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Dapr's message for a Pod with neither app id nor name.
    EmptyAppId { annotation: &'static str },
    /// Dapr's message for an app id whose `<id>-dapr` is not a DNS-1123 label.
    InvalidAppId {
        app_id: String,
        service: String,
        error: String,
    },
    ImageNotAllowed {
        annotation: &'static str,
        image: String,
        allowed: Vec<String>,
    },
    /// The trust bundle could not be read (`lookup_error`), or has no key.
    TrustAnchors {
        config_map: &'static str,
        key: &'static str,
        namespace: String,
        lookup_error: Option<String>,
    },
    ComponentList {
        annotation: &'static str,
        namespace: String,
        error: String,
    },
    /// `invalidAnnotations: reject`, with every invalid value.
    InvalidAnnotations(Vec<Problem>),
    InvalidSettings {
        setting: &'static str,
        error: String,
    },
    /// The Pod's JSON has a shape injection cannot work on.
    UnusablePod(String),
    /// The object is not JSON.
    NotJson(String),
    /// Dapr 0.11's error for an integer annotation it could not parse.
    ParseInt0_11 { key: &'static str, value: String },
    /// A workload whose every Pod would be refused for `reason`.
    PodsOf {
        workload: String,
        reason: Box<Reason>,
    },
    /// Verify mode: the Pod's sidecar is missing or not what inject mode gives it.
    Sidecar(Finding),
    /// A StatefulSet's template without app id, injected offline: each of its Pods takes its
    /// own name (`<name>-<ordinal>`) as app id, so no one id fits the template.
    StatefulSetTemplate {
        namespace: String,
        name: String,
        annotation: &'static str,
    },
}

/// Why a Pod should have the sidecar.
#[derive(Debug, Clone, PartialEq)]
pub enum Asked {
    /// The annotation `key` holds `value`.
    Annotation { key: &'static str, value: String },
    /// The namespace matches `setting`.
    Namespace {
        namespace: String,
        setting: &'static str,
    },
}

/// What verify mode finds wrong with a Pod that asks for the sidecar. `owner`: the workload
/// to restart, as `<Kind> <namespace>/<name>`, when the Pod has one.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// No daprd: injection was skipped or failed.
    Missing { asked: Asked, owner: Option<String> },
    /// daprd runs another image than inject mode gives the Pod today.
    Stale {
        found: String,
        expected: String,
        owner: Option<String>,
    },
    /// daprd's `--app-id` is not the Pod's app id.
    AppIdDiffers {
        flag: &'static str,
        found: String,
        expected: String,
    },
    /// daprd without the label injection adds: it was added by hand.
    NotLabelled { label: &'static str },
    /// daprd differs from the one injection gives the Pod today, other than by its image:
    /// `field` (a flag, or a path in the container) was `found` and is now `expected`, each
    /// already written for the message (`unset` when absent).
    Drift {
        field: String,
        found: String,
        expected: String,
        owner: Option<String>,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let restart = |f: &mut fmt::Formatter<'_>, owner: &Option<String>| match owner {
            Some(owner) => write!(f, "restart {owner}"),
            None => write!(f, "recreate the Pod"),
        };
        match self {
            Finding::Missing { asked, owner } => {
                match asked {
                    Asked::Annotation { key, value } => write!(f, "{key} is {}", name(value))?,
                    Asked::Namespace { namespace, setting } => {
                        write!(f, "namespace {} is in {setting}", name(namespace))?;
                    }
                }
                write!(
                    f,
                    " but the Pod has no daprd sidecar: injection was skipped or failed; recreate it"
                )?;
                match owner {
                    Some(owner) => write!(f, " (owner: {owner})"),
                    None => Ok(()),
                }
            }
            Finding::Stale {
                found,
                expected,
                owner,
            } => {
                write!(
                    f,
                    "daprd runs {}, but the policy now injects {}: ",
                    name(found),
                    name(expected)
                )?;
                restart(f, owner)
            }
            Finding::AppIdDiffers {
                flag,
                found,
                expected,
            } => write!(
                f,
                "daprd's {flag} is {} but the Pod's app id is {}: the sidecar serves another app; recreate the Pod",
                name(found),
                name(expected)
            ),
            Finding::NotLabelled { label } => write!(
                f,
                "the Pod has a daprd container but no {label} label: it was not added by the injector; remove it and let the policy inject daprd"
            ),
            Finding::Drift {
                field,
                found,
                expected,
                owner,
            } => {
                write!(
                    f,
                    "daprd was injected under other settings: {field}: {found}, now {expected}; "
                )?;
                restart(f, owner)
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::EmptyAppId { annotation } => {
                write!(f, "value for the {annotation} annotation is empty")
            }
            Reason::InvalidAppId {
                app_id,
                service,
                error,
            } => write!(
                f,
                "invalid app id (input: '{app_id}', service: '{service}'): {error}"
            ),
            Reason::ImageNotAllowed {
                annotation,
                image,
                allowed,
            } => write!(
                f,
                "{annotation}: {} is not allowed by the policy setting allowedSidecarImages ({}); use an allowed image or remove the annotation",
                name(image),
                allowed.join(", ")
            ),
            Reason::TrustAnchors { .. } => self.write_trust_anchors(f),
            Reason::ComponentList {
                annotation,
                namespace,
                error,
            } => write!(
                f,
                "cannot list the Dapr Components of namespace {namespace} for {annotation}: {error}; let the PolicyServer list components.dapr.io (examples/rbac.yaml) or remove the annotation"
            ),
            Reason::InvalidAnnotations(problems) => write!(
                f,
                "invalid Dapr annotations (policy setting invalidAnnotations: reject): {}",
                warnings_of(problems).join("; ")
            ),
            Reason::InvalidSettings { setting, error } => {
                write!(f, "invalid policy settings: {setting}: {error}")
            }
            Reason::UnusablePod(error) => write!(f, "cannot inject the Dapr sidecar: {error}"),
            Reason::NotJson(error) => write!(f, "cannot read the Pod: {error}"),
            Reason::ParseInt0_11 { key, value } => write!(
                f,
                "error parsing {key} int value {value} : strconv.ParseInt: parsing \"{value}\": invalid syntax"
            ),
            Reason::Sidecar(finding) => finding.fmt(f),
            Reason::StatefulSetTemplate {
                namespace,
                name,
                annotation,
            } => write!(
                f,
                "StatefulSet {namespace}/{name}: its Pods are named {name}-0, {name}-1, … and in the cluster each takes its own name as app id, so no single app id fits the template; set {annotation} in the pod template"
            ),
            Reason::PodsOf { workload, reason } => {
                write!(f, "{workload}: its Pods would be rejected: {reason}")?;
                if let Reason::EmptyAppId { annotation } = **reason {
                    write!(
                        f,
                        "; set {annotation} in the pod template, or turn on the policy setting appIdFromOwner"
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl Reason {
    /// Never the ConfigMap's data: only where it was looked for and how to fix it.
    fn write_trust_anchors(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Reason::TrustAnchors {
            config_map,
            key,
            namespace,
            lookup_error,
        } = self
        else {
            return Ok(());
        };
        let place = format!("ConfigMap {config_map} in namespace {namespace}");
        let fix = "install Dapr's control plane there, let the PolicyServer read it (examples/rbac.yaml), or set the trustAnchors setting";
        match lookup_error {
            Some(error) => write!(
                f,
                "cannot read the Dapr trust anchors from {place}: {error}; {fix}"
            ),
            None => write!(
                f,
                "cannot read the Dapr trust anchors: {place} has no {key} key; {fix}"
            ),
        }
    }
}

/// Longest part of a user value quoted back in a message, so that warnings stay short.
const QUOTED_VALUE_MAX_CHARS: usize = 24;

/// Longest warning, in characters: `kubectl` shows each on one line.
pub const WARNING_MAX_CHARS: usize = 119;

/// The shortest a quoted name is cut to, so that both of its ends still say something.
const NAME_MIN_CHARS: usize = 12;

/// The message within [`WARNING_MAX_CHARS`], spending the budget on the names and the advice:
/// the longest quoted name is cut in the middle (keeping its start, such as a namespace, and
/// its end) until the message fits. Only a message whose names are cut as far as they go is
/// cut at its end.
pub fn fit(message: String) -> String {
    if message.chars().count() <= WARNING_MAX_CHARS {
        return message;
    }
    let mut chars: Vec<char> = message.chars().collect();
    while chars.len() > WARNING_MAX_CHARS {
        // A cut must shorten the text: it takes out two characters at least and puts one `…`.
        let Some((start, end)) = quoted_runs(&chars)
            .into_iter()
            .filter(|(start, end)| end.saturating_sub(*start) > NAME_MIN_CHARS.saturating_add(1))
            .max_by_key(|(start, end)| end.saturating_sub(*start))
        else {
            break;
        };
        let excess = chars.len().saturating_sub(WARNING_MAX_CHARS);
        let (head, tail) = middle_cut(end.saturating_sub(start), excess, NAME_MIN_CHARS);
        let cut_from = start.saturating_add(head);
        let cut_to = end.saturating_sub(tail);
        chars.splice(cut_from..cut_to, ['…']);
    }
    cap(chars.into_iter().collect())
}

/// How many characters of a name of `length` to keep before and after the `…` that replaces
/// its middle, so that the text loses `excess` characters; at least `min` are kept.
pub fn middle_cut(length: usize, excess: usize, min: usize) -> (usize, usize) {
    let kept = length.saturating_sub(excess.saturating_add(1)).max(min);
    let head = kept.div_ceil(2);
    (head, kept.saturating_sub(head))
}

/// The contents of each `"…"` run, as written by [`quote`] and [`name`] (escaped quotes stay
/// inside), as character ranges.
fn quoted_runs(chars: &[char]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut open: Option<usize> = None;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        match (open, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(start), '"') => {
                runs.push((start, i));
                open = None;
            }
            (None, '"') => open = Some(i.saturating_add(1)),
            _ => {}
        }
    }
    runs
}

/// Cuts a message to [`WARNING_MAX_CHARS`] at its end.
pub fn cap(message: String) -> String {
    match message
        .char_indices()
        .nth(WARNING_MAX_CHARS.saturating_sub(1))
    {
        Some((end, _)) if message.chars().count() > WARNING_MAX_CHARS => {
            let mut cut = message.get(..end).unwrap_or_default().to_owned();
            cut.push('…');
            cut
        }
        _ => message,
    }
}

/// Most warnings in one response: the API server keeps only a few kilobytes of them.
pub const MAX_WARNINGS: usize = 20;

/// The first [`MAX_WARNINGS`] warnings, the last replaced by a count of those left out.
pub fn limit_warnings(mut warnings: Vec<String>) -> Vec<String> {
    if warnings.len() > MAX_WARNINGS {
        let hidden = warnings
            .len()
            .saturating_sub(MAX_WARNINGS.saturating_sub(1));
        warnings.truncate(MAX_WARNINGS.saturating_sub(1));
        warnings.push(format!("dapr.io/*: {hidden} more warnings not shown"));
    }
    warnings
}

/// A name (an app id, a volume, a path, a container, a requester) in double quotes, whole and
/// escaped: [`fit`] cuts it in the middle only when the warning would not fit otherwise.
pub fn name(identifier: &str) -> String {
    let mut quoted = String::with_capacity(identifier.len().saturating_add(2));
    quoted.push('"');
    quoted.extend(identifier.chars().flat_map(char::escape_debug));
    quoted.push('"');
    quoted
}

/// A user value in double quotes, cut to a readable length, with control characters escaped.
pub fn quote(value: &str) -> String {
    let mut quoted = String::from("\"");
    for (count, c) in value.chars().enumerate() {
        if count >= QUOTED_VALUE_MAX_CHARS {
            quoted.push('…');
            break;
        }
        quoted.extend(c.escape_debug());
    }
    quoted.push('"');
    quoted
}

/// How a message names the type of a JSON value it did not expect.
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Largest edit distance still offered as "did you mean".
const MAX_SUGGESTION_DISTANCE: usize = 3;

/// The candidate closest to `word`, if it is close enough to be a typo of it: the one
/// suggestion rule for annotation keys and setting names.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .filter_map(|candidate| {
            let distance = strsim::osa_distance(word, candidate).min(strsim::osa_distance(
                &word.to_ascii_lowercase(),
                &candidate.to_ascii_lowercase(),
            ));
            (distance <= MAX_SUGGESTION_DISTANCE && distance < candidate.len() / 2)
                .then_some((distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_twenty_warnings_are_returned_with_a_count_of_the_rest() {
        let many: Vec<String> = (0..25).map(|i| format!("dapr.io/k{i}: w")).collect();
        let limited = limit_warnings(many);
        assert_eq!(limited.len(), 20);
        assert_eq!(limited[18], "dapr.io/k18: w");
        assert_eq!(limited[19], "dapr.io/*: 6 more warnings not shown");
        assert_eq!(limit_warnings(vec!["a".into()]), vec!["a"]);
    }

    #[test]
    fn a_warning_that_is_too_long_cuts_its_longest_name_in_the_middle() {
        let long = format!("team-{}-end", "x".repeat(150));
        let warning = Problem::invalid(
            "dapr.io/volume-mounts",
            format!(
                "volume {} does not exist in the Pod; mount skipped",
                name(&long)
            ),
        )
        .to_warning();
        assert_eq!(warning.chars().count(), WARNING_MAX_CHARS);
        assert!(
            warning.starts_with("dapr.io/volume-mounts: volume \"team-xxx"),
            "{warning}"
        );
        assert!(
            warning.ends_with("xxx-end\" does not exist in the Pod; mount skipped"),
            "{warning}"
        );
        assert_eq!(warning.matches('…').count(), 1);
    }

    #[test]
    fn a_warning_that_fits_keeps_its_names_whole() {
        let warning =
            Problem::invalid("dapr.io/app-id", format!("using {}", name("a\"b"))).to_warning();
        assert_eq!(warning, "dapr.io/app-id: using \"a\\\"b\"");
        assert_eq!(
            quoted_runs(&"x \"a\\\"b\" and \"c\"".chars().collect::<Vec<_>>()),
            vec![(3, 7), (14, 15)]
        );
    }

    #[test]
    fn quoted_values_are_cut_and_escaped() {
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
        let long = "x".repeat(1000);
        assert_eq!(quote(&long).chars().count(), 27);
        assert_eq!(cap("y".repeat(500)).chars().count(), 119);
        assert_eq!(cap("short".to_owned()), "short");
    }
}

//! Who may trigger injection: Dapr's built-in controller service accounts, the
//! `allowedServiceAccounts` globs, and the `system:masters` group (`service/handler.go`).

use crate::annotations::keys;
use crate::base::go::glob_match;
use crate::base::problem::{Problem, WARNING_MAX_CHARS, middle_cut, name};

/// Dapr's `AllowedServiceAccountInfos`.
pub const BUILT_IN_SERVICE_ACCOUNTS: &[&str] = &[
    "kube-system:replicaset-controller",
    "kube-system:replication-controller",
    "kube-system:deployment-controller",
    "kube-system:cronjob-controller",
    "kube-system:job-controller",
    "kube-system:statefulset-controller",
    "kube-system:daemon-set-controller",
    "openshift-operator-lifecycle-manager:olm-operator-serviceaccount",
    "tekton-pipelines:tekton-pipelines-controller",
    "mirrord:mirrord-operator",
];

pub const SYSTEM_MASTERS_GROUP: &str = "system:masters";
const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// `ns:sa` glob pairs, matched with Go's `path.Match` on each side. Borrowed from the
/// settings: the matcher is built on every evaluation.
#[derive(Debug, Clone)]
pub struct ServiceAccountMatcher<'a> {
    patterns: Vec<(&'a str, &'a str)>,
}

impl<'a> ServiceAccountMatcher<'a> {
    /// Dapr's `NewServiceAccountMatcher`: each pattern is trimmed, needs exactly one `:`, and
    /// both globs must be well formed.
    pub fn new<S: AsRef<str>>(patterns: &'a [S]) -> Result<Self, String> {
        let mut parsed = Vec::with_capacity(patterns.len());
        for raw in patterns {
            let pattern = raw.as_ref().trim();
            if pattern.is_empty() {
                continue;
            }
            let (ns, sa) = match pattern.split_once(':') {
                Some((ns, sa)) if !sa.contains(':') => (ns.trim(), sa.trim()),
                _ => {
                    return Err(format!(
                        "invalid pattern \"{pattern}\": it must contain exactly one ':' between namespace and service account"
                    ));
                }
            };
            if ns.is_empty() && sa.is_empty() {
                return Err(format!(
                    "invalid pattern \"{pattern}\": namespace and name patterns cannot both be empty"
                ));
            }
            if glob_match(ns, "").is_err() {
                return Err(format!(
                    "invalid namespace pattern \"{ns}\" in \"{pattern}\": syntax error in pattern"
                ));
            }
            if glob_match(sa, "").is_err() {
                return Err(format!(
                    "invalid service account pattern \"{sa}\" in \"{pattern}\": syntax error in pattern"
                ));
            }
            parsed.push((ns, sa));
        }
        Ok(ServiceAccountMatcher { patterns: parsed })
    }

    /// The built-in list plus `extra`.
    pub fn with_built_ins<S: AsRef<str>>(extra: &'a [S]) -> Result<Self, String> {
        let mut matcher = Self::new(extra)?;
        matcher.patterns.extend(
            BUILT_IN_SERVICE_ACCOUNTS
                .iter()
                .filter_map(|pattern| pattern.split_once(':')),
        );
        Ok(matcher)
    }

    pub fn matches(&self, namespace: &str, name: &str) -> bool {
        self.patterns.iter().any(|(ns, sa)| {
            glob_match(ns, namespace).unwrap_or(false) && glob_match(sa, name).unwrap_or(false)
        })
    }

    /// Dapr's `allowServiceAccountUser`: `system:serviceaccount:<ns>:<sa>[:…]`.
    pub fn matches_username(&self, username: &str) -> bool {
        let Some(rest) = username.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX) else {
            return false;
        };
        let mut parts = rest.split(':');
        match (parts.next(), parts.next()) {
            (Some(ns), Some(sa)) => self.matches(ns, sa),
            _ => false,
        }
    }
}

/// Why a requester may not trigger injection (nothing when it may). For a service account, a
/// second warning gives the exact `allowedServiceAccounts` entry that would let it: both
/// names whole do not fit in one warning.
pub fn unauthorized_reason<G: AsRef<str>>(
    matcher: &ServiceAccountMatcher,
    username: &str,
    groups: &[G],
) -> Vec<Problem> {
    if matcher.matches_username(username)
        || groups.iter().any(|g| g.as_ref() == SYSTEM_MASTERS_GROUP)
    {
        return Vec::new();
    }
    let warn = |message: String| Problem::advice(keys::enabled, message);
    match service_account(username) {
        Some((namespace, account)) => vec![
            warn(not_allowed(&requester(namespace, account))),
            warn(format!(
                "to let it, add {} to the setting allowedServiceAccounts",
                name(&format!("{namespace}:{account}"))
            )),
        ],
        None if username.is_empty() => vec![warn(
            "not injected: an anonymous requester may not trigger injection".to_owned(),
        )],
        None => vec![warn(format!(
            "not injected: user {} is not an allowed service account nor in system:masters",
            name(username)
        ))],
    }
}

/// `system:serviceaccount:<namespace>:<name>` as its two parts.
fn service_account(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)?;
    let (namespace, account) = rest.split_once(':')?;
    (!namespace.is_empty() && !account.is_empty()).then_some((namespace, account))
}

fn not_allowed(requester: &str) -> String {
    format!("not injected: {requester} may not trigger injection")
}

/// The requester's username. One too long for its warning has its account name cut in the
/// middle, keeping the namespace and the name's end.
fn requester(namespace: &str, account: &str) -> String {
    let whole = format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{account}");
    let warning = Problem::advice(keys::enabled, not_allowed(&whole)).text();
    let excess = warning.chars().count().saturating_sub(WARNING_MAX_CHARS);
    if excess == 0 {
        return whole;
    }
    let chars: Vec<char> = account.chars().collect();
    let (head, tail) = middle_cut(chars.len(), excess, ACCOUNT_MIN_CHARS);
    let head: String = chars.iter().take(head).collect();
    let tail: String = chars
        .iter()
        .skip(chars.len().saturating_sub(tail))
        .collect();
    format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{head}…{tail}")
}

/// The shortest an account name is cut to in a requester.
const ACCOUNT_MIN_CHARS: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_patterns_pass_the_validation_they_skip() {
        let validated = ServiceAccountMatcher::new(BUILT_IN_SERVICE_ACCOUNTS).unwrap();
        let built_in = ServiceAccountMatcher::with_built_ins::<&str>(&[]).unwrap();
        assert_eq!(validated.patterns, built_in.patterns);
        assert_eq!(built_in.patterns.len(), BUILT_IN_SERVICE_ACCOUNTS.len());
    }

    #[test]
    fn the_built_in_controllers_are_authorized() {
        let m = ServiceAccountMatcher::with_built_ins::<&str>(&[]).unwrap();
        assert!(m.matches_username("system:serviceaccount:kube-system:replicaset-controller"));
        assert!(m.matches_username("system:serviceaccount:mirrord:mirrord-operator"));
        assert!(!m.matches_username("system:serviceaccount:kube-system:default"));
        assert!(!m.matches_username("kubernetes-admin"));
    }

    #[test]
    fn globs_match_whole_namespace_and_name() {
        let m = ServiceAccountMatcher::new(&["argo-*:workflow-?", " ci : runner "]).unwrap();
        assert!(m.matches("argo-events", "workflow-a"));
        assert!(!m.matches("argo-events", "workflow-ab"));
        assert!(!m.matches("xargo-events", "workflow-a"));
        assert!(m.matches("ci", "runner"));
        assert!(!m.matches_username("system:serviceaccount:ci"));
    }

    #[test]
    fn patterns_need_exactly_one_colon_and_one_non_empty_side() {
        assert!(ServiceAccountMatcher::new(&["a:b:c"]).is_err());
        assert!(ServiceAccountMatcher::new(&[":"]).is_err());
        assert!(
            ServiceAccountMatcher::new(&[":sa"])
                .unwrap()
                .matches("", "sa")
        );
        assert!(ServiceAccountMatcher::new(&["", "  "]).is_ok());
    }

    #[test]
    fn system_masters_is_authorized_whoever_it_is() {
        let m = ServiceAccountMatcher::with_built_ins::<&str>(&[]).unwrap();
        assert!(unauthorized_reason(&m, "admin", &["system:masters"]).is_empty());
        assert_eq!(
            warnings("jane"),
            vec![
                "dapr.io/enabled: not injected: user \"jane\" is not an allowed service account nor in system:masters"
            ]
        );
    }

    fn warnings(username: &str) -> Vec<String> {
        let m = ServiceAccountMatcher::with_built_ins::<&str>(&[]).unwrap();
        unauthorized_reason(&m, username, &["system:authenticated"])
            .iter()
            .map(Problem::to_warning)
            .collect()
    }

    #[test]
    fn a_service_account_is_named_whole_then_the_entry_to_add() {
        assert_eq!(
            warnings("system:serviceaccount:smoke-tests:ci-deployer"),
            vec![
                "dapr.io/enabled: not injected: system:serviceaccount:smoke-tests:ci-deployer may not trigger injection",
                "dapr.io/enabled: to let it, add \"smoke-tests:ci-deployer\" to the setting allowedServiceAccounts",
            ]
        );
        assert_eq!(
            warnings(""),
            vec!["dapr.io/enabled: not injected: an anonymous requester may not trigger injection"]
        );
    }

    #[test]
    fn a_service_account_too_long_for_a_warning_keeps_its_namespace_and_end_and_an_exact_entry() {
        let account = format!("release-{}-bot", "x".repeat(25));
        let w = warnings(&format!("system:serviceaccount:payments:{account}"));
        assert!(w.iter().all(|w| w.chars().count() <= 119), "{w:?}");
        assert!(
            w[0].starts_with(
                "dapr.io/enabled: not injected: system:serviceaccount:payments:release-"
            ),
            "{w:?}"
        );
        assert!(w[0].ends_with("xx-bot may not trigger injection"), "{w:?}");
        assert_eq!(w[0].chars().count(), 119);
        assert_eq!(
            w[1],
            format!(
                "dapr.io/enabled: to let it, add \"payments:{account}\" to the setting allowedServiceAccounts"
            )
        );
    }
}

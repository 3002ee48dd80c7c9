//! Who may trigger injection: Dapr's built-in controller service accounts, the
//! `allowedServiceAccounts` globs, and the `system:masters` group (`service/handler.go`).

use crate::annotations::keys;
use crate::base::go::glob_match;
use crate::base::problem::{Problem, quote};

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

/// Why a requester may not trigger injection, or `None` when it may.
pub fn unauthorized_reason<G: AsRef<str>>(
    matcher: &ServiceAccountMatcher,
    username: &str,
    groups: &[G],
) -> Option<Problem> {
    if matcher.matches_username(username)
        || groups.iter().any(|g| g.as_ref() == SYSTEM_MASTERS_GROUP)
    {
        return None;
    }
    let who = if username.is_empty() {
        "an anonymous requester".to_owned()
    } else {
        quote(username)
    };
    Some(Problem::advice(
        keys::enabled,
        format!("not injected: {who} may not inject; add it to setting allowedServiceAccounts"),
    ))
}

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
        assert_eq!(unauthorized_reason(&m, "admin", &["system:masters"]), None);
        assert_eq!(
            unauthorized_reason(&m, "jane", &["system:authenticated"])
                .unwrap()
                .to_warning(),
            "dapr.io/enabled: not injected: \"jane\" may not inject; add it to setting allowedServiceAccounts"
        );
    }
}

//! Who may trigger injection: Dapr's built-in controller service accounts, the
//! `allowedServiceAccounts` globs, and the `system:masters` group (`service/handler.go`).

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
) -> Option<String> {
    if matcher.matches_username(username)
        || groups.iter().any(|g| g.as_ref() == SYSTEM_MASTERS_GROUP)
    {
        return None;
    }
    let who = if username.is_empty() {
        "an anonymous requester".to_owned()
    } else {
        crate::annotations::quote(username)
    };
    Some(crate::annotations::cap(format!(
        "dapr.io/enabled: not injected: {who} may not inject; add it to setting allowedServiceAccounts"
    )))
}

/// A glob that Go's `path.Match` reports as `ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `path.Match`. Hand-written: the glob crates differ from Go on `[^…]`, escapes and
/// malformed patterns, and Dapr's semantics must hold exactly.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    // Most patterns (all the built-ins) are literal: those match only themselves.
    if !pattern.contains(['*', '?', '[', '\\']) {
        return Ok(pattern == name);
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let matched = match_from(&p, &n)?;
    if !matched {
        // Go reports a malformed pattern even when an earlier part already failed to match.
        validate_pattern(&p)?;
    }
    Ok(matched)
}

fn validate_pattern(mut p: &[char]) -> Result<(), BadPattern> {
    while let Some((&c, rest)) = p.split_first() {
        p = match c {
            '\\' => rest.split_first().ok_or(BadPattern)?.1,
            '[' => parse_class(rest)?.2,
            _ => rest,
        };
    }
    Ok(())
}

/// Go's `getEsc`: one class character, possibly escaped; something must follow it.
fn class_char(p: &[char]) -> Result<(char, &[char]), BadPattern> {
    let p = match p.split_first() {
        None | Some(('-' | ']', _)) => return Err(BadPattern),
        Some(('\\', rest)) => rest,
        Some(_) => p,
    };
    let (&c, rest) = p.split_first().ok_or(BadPattern)?;
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

/// A parsed `[...]`: its ranges, whether it is negated, and the pattern after `]`.
type Class<'a> = (Vec<(char, char)>, bool, &'a [char]);

fn parse_class(p: &[char]) -> Result<Class<'_>, BadPattern> {
    let (negated, mut p) = match p.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, p),
    };
    let mut ranges = Vec::new();
    loop {
        if let Some((']', rest)) = p.split_first()
            && !ranges.is_empty()
        {
            return Ok((ranges, negated, rest));
        }
        let (lo, rest) = class_char(p)?;
        let (hi, rest) = match rest.split_first() {
            Some(('-', after)) => class_char(after)?,
            _ => (lo, rest),
        };
        ranges.push((lo, hi));
        p = rest;
    }
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, BadPattern> {
    let Some((&first, rest)) = p.split_first() else {
        return Ok(n.is_empty());
    };
    let no_match = |rest: &[char]| validate_pattern(rest).map(|()| false);
    match first {
        '*' => {
            // `*` matches any run of non-'/' characters, shortest first.
            let mut tail = n;
            loop {
                if match_from(rest, tail)? {
                    return Ok(true);
                }
                match tail.split_first() {
                    Some((&c, t)) if c != '/' => tail = t,
                    _ => return no_match(rest),
                }
            }
        }
        '?' => match n.split_first() {
            Some((&c, n_rest)) if c != '/' => match_from(rest, n_rest),
            _ => no_match(rest),
        },
        '[' => {
            let (ranges, negated, after) = parse_class(rest)?;
            match n.split_first() {
                Some((&c, n_rest))
                    if c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != negated =>
                {
                    match_from(after, n_rest)
                }
                _ => no_match(after),
            }
        }
        _ => {
            let (literal, after) = if first == '\\' {
                rest.split_first().map(|(&c, r)| (c, r)).ok_or(BadPattern)?
            } else {
                (first, rest)
            };
            match n.split_first() {
                Some((&c, n_rest)) if c == literal => match_from(after, n_rest),
                _ => no_match(after),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_match_semantics_hold() {
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a?c", "abc", Ok(true)),
            ("a?", "a/", Ok(false)),
            ("[abc]", "b", Ok(true)),
            ("[^abc]", "b", Ok(false)),
            ("[^abc]", "d", Ok(true)),
            ("[a-z]x", "qx", Ok(true)),
            ("[a-z]x", "Qx", Ok(false)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("a[", "x", Err(BadPattern)),
            ("*x[", "abc", Err(BadPattern)),
            ("\\", "a", Err(BadPattern)),
            ("", "", Ok(true)),
            ("", "a", Ok(false)),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                glob_match(pattern, name),
                *expected,
                "path.Match({pattern:?}, {name:?})"
            );
        }
    }

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
            unauthorized_reason(&m, "jane", &["system:authenticated"]).unwrap(),
            "dapr.io/enabled: not injected: \"jane\" may not inject; add it to setting allowedServiceAccounts"
        );
    }
}

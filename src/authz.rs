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

/// `ns:sa` glob pairs, matched with Go's `path.Match` on each side.
#[derive(Debug, Clone)]
pub struct ServiceAccountMatcher {
    patterns: Vec<(String, String)>,
}

impl ServiceAccountMatcher {
    /// Dapr's `NewServiceAccountMatcher`: each pattern is trimmed, needs exactly one `:`, and
    /// both globs must be well formed.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, String> {
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
            parsed.push((ns.to_owned(), sa.to_owned()));
        }
        Ok(ServiceAccountMatcher { patterns: parsed })
    }

    /// The built-in list plus `extra`.
    pub fn with_built_ins<S: AsRef<str>>(extra: &[S]) -> Result<Self, String> {
        let mut all: Vec<&str> = BUILT_IN_SERVICE_ACCOUNTS.to_vec();
        all.extend(extra.iter().map(AsRef::as_ref));
        Self::new(&all)
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
        format!("\"{username}\"")
    };
    Some(format!(
        "dapr.io/enabled: sidecar not injected: {who} is not an allowed service account; add it to the policy setting allowedServiceAccounts"
    ))
}

/// Go's `path.Match`. Hand-written: the glob crates differ from Go on `[^…]`, escapes and
/// malformed patterns, and Dapr's semantics must hold exactly.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let matched = match_from(&p, &n)?;
    if !matched {
        // Go reports a malformed pattern even when an earlier part already failed to match.
        validate_pattern(&p)?;
    }
    Ok(matched)
}

fn validate_pattern(p: &[char]) -> Result<(), ()> {
    let mut i = 0;
    while let Some(&c) = p.get(i) {
        match c {
            '\\' => {
                p.get(i + 1).ok_or(())?;
                i += 2;
            }
            '[' => {
                let (_, next) = match_class(p, i + 1, 'a')?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, ()> {
    match p.first() {
        None => Ok(n.is_empty()),
        Some('*') => {
            let rest = p.get(1..).unwrap_or_default();
            // `*` matches any run of non-'/' characters, shortest first.
            for skip in 0..=n.len() {
                if skip > 0 && n.get(skip - 1) == Some(&'/') {
                    break;
                }
                if match_from(rest, n.get(skip..).unwrap_or_default())? {
                    return Ok(true);
                }
            }
            validate_pattern(rest)?;
            Ok(false)
        }
        Some('?') => match n.first() {
            Some(&c) if c != '/' => match_from(
                p.get(1..).unwrap_or_default(),
                n.get(1..).unwrap_or_default(),
            ),
            _ => validate_pattern(p.get(1..).unwrap_or_default()).map(|()| false),
        },
        Some('[') => {
            let Some(&c) = n.first() else {
                validate_pattern(p)?;
                return Ok(false);
            };
            let (ok, next) = match_class(p, 1, c)?;
            if ok && c != '/' {
                match_from(
                    p.get(next..).unwrap_or_default(),
                    n.get(1..).unwrap_or_default(),
                )
            } else {
                validate_pattern(p.get(next..).unwrap_or_default()).map(|()| false)
            }
        }
        Some('\\') => {
            let &lit = p.get(1).ok_or(())?;
            if n.first() == Some(&lit) {
                match_from(
                    p.get(2..).unwrap_or_default(),
                    n.get(1..).unwrap_or_default(),
                )
            } else {
                validate_pattern(p.get(2..).unwrap_or_default()).map(|()| false)
            }
        }
        Some(&lit) => {
            if n.first() == Some(&lit) {
                match_from(
                    p.get(1..).unwrap_or_default(),
                    n.get(1..).unwrap_or_default(),
                )
            } else {
                validate_pattern(p.get(1..).unwrap_or_default()).map(|()| false)
            }
        }
    }
}

/// Matches `c` against the class starting after `[` at `start`; returns (matched, index after `]`).
fn match_class(p: &[char], start: usize, c: char) -> Result<(bool, usize), ()> {
    let mut i = start;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = match p.get(i) {
            None => return Err(()),
            Some(']') if !first => return Ok((matched != negated, i + 1)),
            Some('-') | Some(']') if first && p.get(i) == Some(&'-') => return Err(()),
            Some('\\') => {
                i += 1;
                *p.get(i).ok_or(())?
            }
            Some(&ch) => ch,
        };
        first = false;
        i += 1;
        let hi = if p.get(i) == Some(&'-') {
            i += 1;
            let hi = match p.get(i) {
                None | Some(']') | Some('-') => return Err(()),
                Some('\\') => {
                    i += 1;
                    *p.get(i).ok_or(())?
                }
                Some(&ch) => ch,
            };
            i += 1;
            hi
        } else {
            lo
        };
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_match_semantics_hold() {
        let cases: &[(&str, &str, Result<bool, ()>)] = &[
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
            ("[", "a", Err(())),
            ("[^", "a", Err(())),
            ("[-]", "-", Err(())),
            ("[x-]", "x", Err(())),
            ("a[", "x", Err(())),
            ("*x[", "abc", Err(())),
            ("\\", "a", Err(())),
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
            "dapr.io/enabled: sidecar not injected: \"jane\" is not an allowed service account; add it to the policy setting allowedServiceAccounts"
        );
    }
}

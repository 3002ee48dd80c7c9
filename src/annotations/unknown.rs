//! `dapr.io/*` keys Dapr does not read: removed aliases, common inventions and typos.

use serde_json::{Map, Value};

use super::table::{KNOWN, PREFIX, REMOVED};
use crate::base::problem::{Problem, closest};

/// Keys users write that never existed, with what to do instead.
const INVENTED: &[(&str, &str)] = &[
    (
        "dapr.io/sidecar-http-port",
        "not a Dapr annotation; daprd's HTTP port is always 3500",
    ),
    (
        "dapr.io/sidecar-grpc-port",
        "not a Dapr annotation; did you mean dapr.io/grpc-port?",
    ),
    (
        "dapr.io/resources",
        "not a Dapr annotation; use dapr.io/sidecar-cpu-request and its 3 siblings",
    ),
];

fn is_known(key: &str) -> bool {
    KNOWN.iter().any(|&(known, _)| known == key)
}

/// The closest real annotation, if one is close enough to be a typo.
pub fn suggestion(key: &str) -> Option<&'static str> {
    let name = key.strip_prefix(PREFIX)?;
    let close = closest(
        name,
        KNOWN
            .iter()
            .filter_map(|&(known, _)| known.strip_prefix(PREFIX)),
    )?;
    KNOWN
        .iter()
        .map(|&(known, _)| known)
        .find(|known| known.strip_prefix(PREFIX) == Some(close))
}

/// Advice for each `dapr.io/*` key of the Pod that Dapr does not read.
pub fn check(annotations: &Map<String, Value>, removed_still_honoured: bool) -> Vec<Problem> {
    let mut advice = Vec::new();
    for key in annotations
        .keys()
        .filter(|k| k.starts_with(PREFIX) && !is_known(k))
    {
        let message = if let Some((_, replacement)) = REMOVED.iter().find(|(old, _)| old == key) {
            if removed_still_honoured {
                continue;
            }
            format!("removed in Dapr 1.0 and ignored; use {replacement}")
        } else if let Some((_, hint)) = INVENTED.iter().find(|(invented, _)| invented == key) {
            (*hint).to_owned()
        } else if let Some(close) = suggestion(key) {
            format!("unknown annotation, ignored; did you mean {close}?")
        } else {
            "unknown annotation, ignored".to_owned()
        };
        advice.push(Problem::advice(key, message));
    }
    advice
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn warnings(annotations: Value) -> Vec<String> {
        check(annotations.as_object().unwrap(), false)
            .iter()
            .map(Problem::to_warning)
            .collect()
    }

    #[test]
    fn a_typo_gets_a_did_you_mean() {
        assert_eq!(
            warnings(json!({"dapr.io/app-prot": "8080"})),
            vec!["dapr.io/app-prot: unknown annotation, ignored; did you mean dapr.io/app-port?"]
        );
        assert_eq!(
            warnings(json!({"dapr.io/log-levle": "debug"})),
            vec!["dapr.io/log-levle: unknown annotation, ignored; did you mean dapr.io/log-level?"]
        );
        assert_eq!(
            warnings(json!({"dapr.io/enable-metric": "true"})),
            vec![
                "dapr.io/enable-metric: unknown annotation, ignored; did you mean dapr.io/enable-metrics?"
            ]
        );
    }

    #[test]
    fn invented_keys_say_what_to_do_instead() {
        assert_eq!(
            warnings(json!({"dapr.io/sidecar-http-port": "3500"})),
            vec![
                "dapr.io/sidecar-http-port: not a Dapr annotation; daprd's HTTP port is always 3500"
            ]
        );
        assert_eq!(
            warnings(json!({"dapr.io/resources": "x"})),
            vec![
                "dapr.io/resources: not a Dapr annotation; use dapr.io/sidecar-cpu-request and its 3 siblings"
            ]
        );
    }

    #[test]
    fn removed_aliases_name_their_replacement() {
        assert_eq!(
            warnings(json!({"dapr.io/id": "a", "dapr.io/port": "1", "dapr.io/protocol": "grpc"})),
            vec![
                "dapr.io/id: removed in Dapr 1.0 and ignored; use dapr.io/app-id",
                "dapr.io/port: removed in Dapr 1.0 and ignored; use dapr.io/app-port",
                "dapr.io/protocol: removed in Dapr 1.0 and ignored; use dapr.io/app-protocol",
            ]
        );
        assert!(check(json!({"dapr.io/id": "a"}).as_object().unwrap(), true).is_empty());
    }

    #[test]
    fn far_away_keys_get_no_suggestion_and_other_prefixes_are_not_ours() {
        assert_eq!(
            warnings(json!({"dapr.io/totally-different-thing": "x"})),
            vec!["dapr.io/totally-different-thing: unknown annotation, ignored"]
        );
        assert!(
            warnings(
                json!({"dapr.io/app-id": "x", "prometheus.io/scrape": "true", "mydapr.io/x": "1"})
            )
            .is_empty()
        );
    }
}

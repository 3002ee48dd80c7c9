//! What differs between the Dapr releases the policy can match (setting `daprVersion`): one
//! function per row of the README's "Dapr versions" table, in the table's order, and the
//! choice of the 0.11 layout. No other file asks which release it is.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::annotations::{DaprAnnotations, PREFIX, keys, known_in};
use crate::base::dapr::{DaprVersion, service};
use crate::base::go::is_truthy;
use crate::base::problem::{Problem, quote};

/// Which builder makes the sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Dapr 1.16 to 1.18.
    Current,
    /// The seed's release, which differs everywhere.
    V0_11,
}

pub fn layout(version: DaprVersion) -> Layout {
    if version == DaprVersion::V0_11 {
        Layout::V0_11
    } else {
        Layout::Current
    }
}

/// Row "`dapr.io/enabled` values that inject".
pub fn enabled_injects(version: DaprVersion, value: &str) -> bool {
    match version {
        // 1.17.3 added the handler's `EqualFold(v, "true")` pre-filter.
        DaprVersion::V1_17 | DaprVersion::V1_18 => value.eq_ignore_ascii_case("true"),
        DaprVersion::V1_16 => is_truthy(value),
        DaprVersion::V0_11 => is_truthy_0_11(value),
    }
}

/// The same row: what a value that reads as true, but does not inject, is told.
pub fn truthy_but_not_injected(version: DaprVersion, value: &str) -> Problem {
    let message = if version >= DaprVersion::V1_17 {
        format!("{} does not inject; only \"true\" does", quote(value))
    } else {
        format!(
            "{} does not inject in Dapr {}; use \"true\"",
            quote(value),
            version.name()
        )
    };
    Problem::advice(keys::enabled, message)
}

/// 0.11's truthy set (`getBoolAnnotationOrDefault`): lower-cased, untrimmed, without "t".
pub fn is_truthy_0_11(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "y" | "yes" | "true" | "on" | "1"
    )
}

/// Row "probe defaults": before 1.18, 3/3/6/3 for both probes.
const OLD_PROBE_DEFAULTS: [i32; 4] = [3, 3, 6, 3];

/// Puts back the old probe defaults where the Pod does not set a value.
pub fn apply_probe_defaults(
    version: DaprVersion,
    a: &mut DaprAnnotations,
    annotations: &Map<String, Value>,
) {
    if version >= DaprVersion::V1_18 {
        return;
    }
    let unset = |key: &str| !annotations.get(key).is_some_and(Value::is_string);
    let [delay, timeout, period, threshold] = OLD_PROBE_DEFAULTS;
    let fields: [(&str, &mut i32, i32); 8] = [
        (
            keys::liveness_probe_delay_seconds,
            &mut a.liveness_probe_delay_seconds,
            delay,
        ),
        (
            keys::liveness_probe_timeout_seconds,
            &mut a.liveness_probe_timeout_seconds,
            timeout,
        ),
        (
            keys::liveness_probe_period_seconds,
            &mut a.liveness_probe_period_seconds,
            period,
        ),
        (
            keys::liveness_probe_threshold,
            &mut a.liveness_probe_threshold,
            threshold,
        ),
        (
            keys::readiness_probe_delay_seconds,
            &mut a.readiness_probe_delay_seconds,
            delay,
        ),
        (
            keys::readiness_probe_timeout_seconds,
            &mut a.readiness_probe_timeout_seconds,
            timeout,
        ),
        (
            keys::readiness_probe_period_seconds,
            &mut a.readiness_probe_period_seconds,
            period,
        ),
        (
            keys::readiness_probe_threshold,
            &mut a.readiness_probe_threshold,
            threshold,
        ),
    ];
    for (key, field, default) in fields {
        if unset(key) {
            *field = default;
        }
    }
}

/// How daprd learns the scheduler's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheduler {
    None,
    /// `--scheduler-host-address`.
    Flag(String),
    /// `DAPR_SCHEDULER_HOST_ADDRESS` and `DAPR_SCHEDULER_HOST_ADDRESS_DNS_A`.
    Env {
        address: String,
        dns_a: String,
    },
}

/// What the scheduler row depends on.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerInputs<'a> {
    /// `dapr.io/scheduler-host-address`.
    pub annotation: Option<&'a str>,
    pub enabled: bool,
    /// 1.16: the replicas of the `dapr-scheduler-server` StatefulSet.
    pub replicas: u32,
    pub control_plane_namespace: &'a str,
    pub cluster_domain: &'a str,
}

/// Rows "scheduler" and "`dapr.io/scheduler-host-address`".
pub fn scheduler(version: DaprVersion, i: SchedulerInputs<'_>) -> Scheduler {
    let (ns, cd) = (i.control_plane_namespace, i.cluster_domain);
    match version {
        DaprVersion::V0_11 => Scheduler::None,
        DaprVersion::V1_16 => match scheduler_env_1_16(i.annotation, i.replicas, ns, cd) {
            Some((address, dns_a)) => Scheduler::Env { address, dns_a },
            None => Scheduler::None,
        },
        DaprVersion::V1_17 | DaprVersion::V1_18 => match i.annotation {
            Some(address) => Scheduler::Flag(address.to_owned()),
            None if i.enabled => {
                Scheduler::Flag(format!("{}.{ns}.svc.{cd}:443", service::SCHEDULER_DNS_A))
            }
            None => Scheduler::None,
        },
    }
}

/// 1.16 passes the scheduler as env vars (one address per replica of the
/// `dapr-scheduler-server` StatefulSet), not as a flag.
fn scheduler_env_1_16(
    annotation: Option<&str>,
    replicas: u32,
    control_plane_namespace: &str,
    cluster_domain: &str,
) -> Option<(String, String)> {
    let scheduler = service::SCHEDULER;
    let computed: Vec<String> = (0..replicas)
        .map(|i| {
            format!(
                "{scheduler}-{i}.{scheduler}.{control_plane_namespace}.svc.{cluster_domain}:50006"
            )
        })
        .collect();
    let dns_a = if computed.is_empty() {
        String::new()
    } else {
        format!(
            "{}.{control_plane_namespace}.svc.{cluster_domain}:443",
            service::SCHEDULER_DNS_A
        )
    };
    let address = annotation.map_or_else(|| computed.join(","), str::to_owned);
    (!address.trim().is_empty()).then_some((address, dns_a))
}

/// Row "`DAPR_SKIP_REMINDER_MIGRATION`": only 1.16 has it.
pub fn skip_reminder_migration(version: DaprVersion, setting: bool) -> bool {
    version == DaprVersion::V1_16 && setting
}

/// Row "`dapr.io/app-binding-options-timeout: \"\"`": 1.17.12's backport skips an empty
/// value; 1.16.18 and 1.18 pass it.
pub fn binding_timeout_flag(version: DaprVersion, value: &str) -> bool {
    !(value.is_empty() && version == DaprVersion::V1_17)
}

/// Rows of the annotations a release does not read: the Pod's annotations without those
/// `dapr.io/*` keys, and a warning for each key dropped.
pub fn known_annotations(
    version: DaprVersion,
    annotations: &Map<String, Value>,
) -> (Cow<'_, Map<String, Value>>, Vec<Problem>) {
    // The newest release reads every key: nothing to drop, nothing to copy.
    if version == DaprVersion::V1_18 {
        return (Cow::Borrowed(annotations), Vec::new());
    }
    let mut kept = Map::new();
    let mut dropped = Vec::new();
    for (key, value) in annotations {
        let later =
            key.starts_with(PREFIX) && !known_in(key, version) && known_in(key, DaprVersion::V1_18);
        if later {
            dropped.push(Problem::advice(
                key,
                format!("not read by Dapr {}; ignored", version.name()),
            ));
        } else {
            kept.insert(key.clone(), value.clone());
        }
    }
    (Cow::Owned(kept), dropped)
}

/// Whether injection labels the Pod `dapr.io/sidecar-injected` (0.11 added no labels).
pub fn labels_injected_pods(version: DaprVersion) -> bool {
    version != DaprVersion::V0_11
}

/// Row "native sidecar (`nativeSidecar`)".
pub fn native_sidecar(version: DaprVersion) -> bool {
    version >= DaprVersion::V1_18
}

/// Row "an init container named `daprd` stops injection".
pub fn daprd_found_in_init_containers(version: DaprVersion) -> bool {
    version >= DaprVersion::V1_18
}

/// Row "`allowedServiceAccounts`": before 1.18 Dapr matched exact names (by UID) or a trailing
/// `*`, not globs.
pub fn service_account_globs(version: DaprVersion) -> bool {
    version >= DaprVersion::V1_18
}

/// 0.11 puts the Sentry issuer's key into every Pod, so its profile needs consent.
pub fn puts_issuer_key_in_pods(version: DaprVersion) -> bool {
    version == DaprVersion::V0_11
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn which_enabled_values_inject_depends_on_the_release() {
        for (value, v018, v017, v016, v011) in [
            ("true", true, true, true, true),
            ("TRUE", true, true, true, true),
            ("yes", false, false, true, true),
            ("1", false, false, true, true),
            ("t", false, false, true, false),
            (" true", false, false, true, false),
            ("false", false, false, false, false),
        ] {
            assert_eq!(
                enabled_injects(DaprVersion::V1_18, value),
                v018,
                "1.18 {value:?}"
            );
            assert_eq!(
                enabled_injects(DaprVersion::V1_17, value),
                v017,
                "1.17 {value:?}"
            );
            assert_eq!(
                enabled_injects(DaprVersion::V1_16, value),
                v016,
                "1.16 {value:?}"
            );
            assert_eq!(
                enabled_injects(DaprVersion::V0_11, value),
                v011,
                "0.11 {value:?}"
            );
        }
    }

    #[test]
    fn annotations_newer_than_the_release_are_dropped_with_a_warning() {
        let annotations = json!({"dapr.io/enable-native-sidecar": "true", "dapr.io/disable-init-endpoints": "config", "dapr.io/app-id": "a", "other/x": "1"});
        let (kept, dropped) =
            known_annotations(DaprVersion::V1_16, annotations.as_object().unwrap());
        assert_eq!(
            kept.into_owned(),
            json!({"dapr.io/app-id": "a", "other/x": "1"})
                .as_object()
                .unwrap()
                .clone()
        );
        assert_eq!(
            dropped.iter().map(Problem::to_warning).collect::<Vec<_>>(),
            vec![
                "dapr.io/disable-init-endpoints: not read by Dapr 1.16; ignored",
                "dapr.io/enable-native-sidecar: not read by Dapr 1.16; ignored"
            ]
        );
        let (kept, dropped) =
            known_annotations(DaprVersion::V1_17, annotations.as_object().unwrap());
        assert!(kept.contains_key("dapr.io/disable-init-endpoints") && dropped.len() == 1);
        assert!(
            known_annotations(DaprVersion::V1_18, annotations.as_object().unwrap())
                .1
                .is_empty()
        );
    }

    #[test]
    fn releases_before_1_18_default_probes_to_3_3_6_3() {
        let annotations = json!({"dapr.io/sidecar-liveness-probe-delay-seconds": "60"});
        let map = annotations.as_object().unwrap();
        let mut a = DaprAnnotations::parse(map, &mut Vec::new());
        apply_probe_defaults(DaprVersion::V1_17, &mut a, map);
        assert_eq!(
            (
                a.liveness_probe_delay_seconds,
                a.liveness_probe_timeout_seconds,
                a.liveness_probe_period_seconds,
                a.liveness_probe_threshold
            ),
            (60, 3, 6, 3)
        );
        assert_eq!(
            (
                a.readiness_probe_delay_seconds,
                a.readiness_probe_timeout_seconds,
                a.readiness_probe_period_seconds,
                a.readiness_probe_threshold
            ),
            (3, 3, 6, 3)
        );
    }

    #[test]
    fn the_1_16_scheduler_lists_every_replica() {
        assert_eq!(
            scheduler_env_1_16(None, 3, "dapr-system", "cluster.local"),
            Some((
                "dapr-scheduler-server-0.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-1.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-2.dapr-scheduler-server.dapr-system.svc.cluster.local:50006".to_owned(),
                "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443".to_owned()
            ))
        );
        assert_eq!(
            scheduler_env_1_16(None, 0, "dapr-system", "cluster.local"),
            None
        );
        assert_eq!(
            scheduler_env_1_16(Some(""), 3, "dapr-system", "cluster.local"),
            None
        );
        assert_eq!(
            scheduler_env_1_16(Some("s:1"), 0, "dapr-system", "cluster.local"),
            Some(("s:1".to_owned(), String::new()))
        );
    }
}

//! Annotation values drawn at random from the classes that separate Go's parsers from naive
//! ones, through the whole policy, held against a model of the Go function each annotation
//! goes through, written here from the Go source (named on each model) and not from the
//! policy's code. Where the policy deliberately differs from Dapr (a port outside 1-65535, a
//! negative quantity: docs/differences.md), the model says so.

use dapr_sidecar_injector::{Admission, Settings};
use proptest::prelude::*;
use serde_json::{Value, json};
use testing::{Canned, Decision, evaluate};

fn controller() -> Admission<'static> {
    testing::controller_in("shop")
}

/// The policy's daprd for a Pod with these annotations (and `dapr.io/enabled`, an app id).
fn daprd_with(annotations: &[(&str, &str)]) -> (Value, Vec<String>) {
    let mut map = serde_json::Map::new();
    map.insert("dapr.io/enabled".into(), json!("true"));
    map.insert("dapr.io/app-id".into(), json!("shop-api"));
    for (k, v) in annotations {
        map.insert((*k).into(), json!(v));
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "shop-api-0", "namespace": "shop", "annotations": map},
        "spec": {"containers": [{"name": "app", "image": "app:1"}],
                 "volumes": [{"name": "certs", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]}});
    let settings = Settings {
        mtls_enabled: Some(true),
        trust_anchors: Some("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".into()),
        ..Settings::default()
    };
    let outcome = evaluate(&controller(), pod, &settings, &Canned::default());
    let Decision::Mutate(pod) = outcome.decision else {
        panic!("not injected: {outcome:?}")
    };
    let daprd = pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "daprd")
        .unwrap()
        .clone();
    (daprd, outcome.warnings)
}

fn arg_after<'a>(daprd: &'a Value, flag: &str) -> Option<&'a str> {
    let args = daprd["args"].as_array()?;
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1)?.as_str()
}

/// Go's `unicode.IsSpace` (the White_Space property), which `strings.TrimSpace` trims.
/// U+001C to U+001F are not in it, though some languages trim them.
const GO_WHITE_SPACE: &[char] = &[
    '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
    '\u{2009}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// Dapr's `kit/strings.IsTruthy`: `strings.ToLower(strings.TrimSpace(v))` in a fixed set.
fn go_is_truthy(value: &str) -> bool {
    let trimmed = value.trim_matches(|c| GO_WHITE_SPACE.contains(&c));
    matches!(
        trimmed.to_lowercase().as_str(),
        "y" | "yes" | "true" | "t" | "on" | "1"
    )
}

/// Go's `strconv.Atoi` (`ParseInt(s, 10, 0)` on 64 bits): an optional sign, then ASCII
/// digits only, within int64.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i128 = digits.parse().ok()?;
    let value = if s.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    i64::try_from(value).ok()
}

/// Dapr's `parseVolumeMountsString`: split on `,`, `strings.TrimSpace` each entry, split it
/// on `:`, keep only entries of exactly two parts. The policy also drops the mounts of
/// volumes the Pod lacks and a second mount at one path (docs/differences.md).
fn dapr_mounts(value: &str, pod_volumes: &[&str]) -> Vec<(String, String)> {
    let mut mounts: Vec<(String, String)> = Vec::new();
    if value.is_empty() {
        return mounts;
    }
    for entry in value.split(',') {
        let parts: Vec<&str> = entry
            .trim_matches(|c| GO_WHITE_SPACE.contains(&c))
            .split(':')
            .collect();
        if let [name, path] = parts.as_slice()
            && !name.is_empty()
            && !path.is_empty()
            && pod_volumes.contains(name)
            && !mounts.iter().any(|(_, p)| p == path)
        {
            mounts.push(((*name).to_owned(), (*path).to_owned()));
        }
    }
    mounts
}

/// Dapr's `dapr.io/env` parser (`patcher/sidecar_env.go`): a comma splits only where the regex
/// `(,)\s*[a-zA-Z_][a-zA-Z0-9_]*=` matches (RE2's `\s` is `[\t\n\f\r ]`), each part is
/// `strings.TrimSpace`d and cut at its first `=`, and parts without `=` are dropped.
fn dapr_env(value: &str) -> Vec<(String, String)> {
    let bytes = value.as_bytes();
    let splits_at = |i: usize| {
        let rest = &bytes[i + 1..];
        let spaces = rest
            .iter()
            .take_while(|b| b"\t\n\x0c\r ".contains(b))
            .count();
        let ident = &rest[spaces..];
        let first_ok = ident
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
        let len = ident
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        first_ok && ident.get(len) == Some(&b'=')
    };
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b',' && splits_at(i) {
            parts.push(&value[start..i]);
            start = i + 1;
        }
    }
    parts.push(&value[start..]);
    parts
        .into_iter()
        .filter_map(|p| {
            p.trim_matches(|c| GO_WHITE_SPACE.contains(&c))
                .split_once('=')
        })
        // The policy's difference: a name Kubernetes' `IsEnvVarName` refuses
        // (`[-._a-zA-Z][-._a-zA-Z0-9]*`) is dropped; Dapr passes it on and the Pod is rejected.
        .filter(|(k, _)| {
            let ok = |b: u8, first: bool| {
                b.is_ascii_alphabetic() || b"-._".contains(&b) || (!first && b.is_ascii_digit())
            };
            k.bytes().enumerate().all(|(i, b)| ok(b, i == 0)) && !k.is_empty()
        })
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The env daprd gets whatever the annotations say, and the list of the annotation's keys.
const DAPRD_OWN_ENV: &[&str] = &[
    "NAMESPACE",
    "DAPR_TRUST_ANCHORS",
    "POD_NAME",
    "DAPR_CONTROLPLANE_NAMESPACE",
    "DAPR_CONTROLPLANE_TRUST_DOMAIN",
    "DAPR_ENV_KEYS",
];

fn env_list() -> impl Strategy<Value = String> {
    let entry = proptest::sample::select(vec![
        "U_A=1",
        " U_B=two words",
        "U_C=a=b,c=d",
        "U_D=\"x,y\"",
        "NOEQ",
        "U_E= lead",
        "U_F=",
        "U_G=1,2",
        "U_H=v ",
    ]);
    let sep = proptest::sample::select(vec![",", ", ", ",\t", ",\u{a0}"]);
    proptest::collection::vec((entry, sep), 0..4).prop_map(|parts| {
        let mut s = String::new();
        for (i, (e, sep)) in parts.into_iter().enumerate() {
            if i > 0 {
                s.push_str(sep);
            }
            s.push_str(e);
        }
        s
    })
}

fn spaces() -> impl Strategy<Value = String> {
    let space = prop_oneof![
        proptest::sample::select(GO_WHITE_SPACE.to_vec()),
        proptest::sample::select(vec!['\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}', '\u{200b}']),
    ];
    proptest::collection::vec(space, 0..3).prop_map(|s| s.into_iter().collect())
}

fn boolean_value() -> impl Strategy<Value = String> {
    let word = proptest::sample::select(vec![
        "y", "Yes", "TRUE", "t", "On", "1", "n", "no", "false", "off", "0", "", "yes!", "tru",
    ]);
    (spaces(), word, spaces()).prop_map(|(a, w, b)| format!("{a}{w}{b}"))
}

fn integer_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..70_000).prop_map(|n| n.to_string()),
        (0i64..70_000).prop_map(|n| format!("+{n}")),
        (1i64..70_000).prop_map(|n| format!("-{n}")),
        (0i64..9999).prop_map(|n| format!("0{n}")),
        proptest::sample::select(vec![
            "2147483647",
            "2147483648",
            "4294967296",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
            "",
            "+",
            "-",
            " 80",
            "80 ",
            "8_0",
            "٨٠",
            "８０",
            "0x50",
            "80.0",
            "1e2",
        ])
        .prop_map(str::to_owned),
    ]
}

fn mount_list() -> impl Strategy<Value = String> {
    let name = proptest::sample::select(vec!["certs", "data", "ghost", ""]);
    let path = proptest::sample::select(vec!["/certs", "/data", "/x", "", "/a:b"]);
    let entry = (spaces(), name, path, any::<bool>()).prop_map(|(s, n, p, extra)| {
        if extra {
            format!("{s}{n}:{p}:rw")
        } else {
            format!("{s}{n}:{p}{s}")
        }
    });
    proptest::collection::vec(entry, 0..4).prop_map(|e| e.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_boolean_annotation_means_what_is_truthy_means_in_go(value in boolean_value()) {
        let (daprd, _) = daprd_with(&[("dapr.io/log-as-json", &value)]);
        let flagged = daprd["args"].as_array().unwrap().iter().any(|a| a == "--log-as-json");
        prop_assert_eq!(flagged, go_is_truthy(&value), "{:?}", value);
    }

    #[test]
    fn an_integer_annotation_is_what_atoi_reads_within_the_port_range(value in integer_value()) {
        let (daprd, warnings) = daprd_with(&[("dapr.io/app-port", &value)]);
        // Go's Atoi; then the policy keeps only what the API server accepts as a port.
        let expected = go_atoi(&value).filter(|n| (1..=65535).contains(n));
        prop_assert_eq!(arg_after(&daprd, "--app-port").map(str::to_owned), expected.map(|n| n.to_string()), "{:?}", value);
        let zero = go_atoi(&value) == Some(0);
        prop_assert_eq!(warnings.is_empty(), expected.is_some() || zero, "{:?}: {:?}", value, warnings);
    }

    #[test]
    fn a_mount_list_mounts_what_dapr_parses(value in mount_list(), read_write in any::<bool>()) {
        let key = if read_write { "dapr.io/volume-mounts-rw" } else { "dapr.io/volume-mounts" };
        let (daprd, _) = daprd_with(&[(key, &value)]);
        let mounted: Vec<(String, String)> = daprd["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["name"] != "dapr-identity-token")
            .map(|m| (m["name"].as_str().unwrap().to_owned(), m["mountPath"].as_str().unwrap().to_owned()))
            .collect();
        prop_assert_eq!(mounted, dapr_mounts(&value, &["certs", "data"]), "{:?}", value);
    }

    #[test]
    fn a_quantity_is_kept_as_written_when_go_parses_it_and_all_four_go_when_one_fails(
        memory in proptest::sample::select(vec![
            "Gi", "Mi", "m", ".", ".5", "1.", "+1", "128Mi", "0.5Gi", "1e3", "1E-3", "3.001n",
            "1e", "1Ki3", "1.1.M", "-1", "-Gi", " 1", "1 ", "lots", "1e4294967296",
        ]),
    ) {
        let (daprd, _) = daprd_with(&[
            ("dapr.io/sidecar-memory-limit", memory),
            ("dapr.io/sidecar-cpu-limit", "1"),
        ]);
        // Go's ParseQuantity, by apimachinery's grammar; the policy also refuses negatives.
        let go_accepts = !matches!(memory, "1e" | "1Ki3" | "1.1.M" | " 1" | "1 " | "lots");
        let kept = go_accepts && !memory.starts_with('-') || memory == "-Gi";
        let expected = if kept {
            json!({"limits": {"cpu": "1", "memory": memory}})
        } else {
            json!({})
        };
        prop_assert_eq!(&daprd["resources"], &expected, "{:?}", memory);
    }

    #[test]
    fn the_env_annotation_splits_as_dapr_s_regex_does(value in env_list()) {
        let (daprd, _) = daprd_with(&[("dapr.io/env", &value)]);
        let user: Vec<(String, String)> = daprd["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| !DAPRD_OWN_ENV.contains(&e["name"].as_str().unwrap()))
            .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].as_str().unwrap_or_default().to_owned()))
            .collect();
        prop_assert_eq!(user, dapr_env(&value), "{:?}", value);
    }
}

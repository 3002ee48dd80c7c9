//! The readers: one per annotation type. Each takes the raw value (`None` when absent), the
//! key and the default, checks the value as Dapr parses it plus what the API server would
//! refuse, and returns the value to use. A value that cannot be used keeps the default and
//! becomes a [`Problem`].

use crate::base::go::{is_falsy, is_truthy};
use crate::base::k8s::quantity as k8s_quantity;
use crate::base::problem::{Problem, quote};

/// A resource annotation that is present and not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quantity {
    Valid(String),
    /// Not a quantity: Dapr then drops all four resource annotations.
    Invalid,
}

impl Quantity {
    pub fn valid(&self) -> Option<&str> {
        match self {
            Quantity::Valid(value) => Some(value),
            Quantity::Invalid => None,
        }
    }
}

/// `resource.ParseQuantity`; an empty value counts as absent, as in Dapr.
pub fn quantity(
    raw: Option<&str>,
    key: &'static str,
    default: Option<Quantity>,
    problems: &mut Vec<Problem>,
) -> Option<Quantity> {
    match raw {
        None | Some("") => default,
        Some(v) => match k8s_quantity::validate(v) {
            Ok(()) => Some(Quantity::Valid(v.to_owned())),
            Err(reason) => {
                problems.push(Problem::invalid(
                    key,
                    format!(
                        "{} is not a quantity ({}); all 4 ignored",
                        quote(v),
                        reason.reason()
                    ),
                ));
                Some(Quantity::Invalid)
            }
        },
    }
}

pub fn bool(
    raw: Option<&str>,
    key: &'static str,
    default: bool,
    problems: &mut Vec<Problem>,
) -> bool {
    match raw {
        None => default,
        Some(v) => {
            if !is_truthy(v) && !is_falsy(v) {
                problems.push(Problem::invalid(
                    key,
                    format!("{} is not a boolean; read as false", quote(v)),
                ));
            }
            is_truthy(v)
        }
    }
}

pub fn opt_bool(
    raw: Option<&str>,
    key: &'static str,
    default: Option<bool>,
    problems: &mut Vec<Problem>,
) -> Option<bool> {
    raw.map(|v| bool(Some(v), key, false, problems)).or(default)
}

/// An image the API server accepts: not empty, no surrounding spaces.
pub fn opt_image(
    raw: Option<&str>,
    key: &str,
    default: Option<String>,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match raw {
        Some(v) if v.is_empty() || v.trim() != v => {
            problems.push(Problem::invalid(
                key,
                format!("{} is not an image; ignored, using the setting", quote(v)),
            ));
            default
        }
        _ => raw.map(str::to_owned).or(default),
    }
}

/// A seccomp profile type Kubernetes accepts without a `localhostProfile`.
pub fn seccomp(
    raw: Option<&str>,
    key: &str,
    default: String,
    problems: &mut Vec<Problem>,
) -> String {
    match raw {
        None | Some("") => default,
        Some(v @ ("RuntimeDefault" | "Unconfined")) => v.to_owned(),
        Some("Localhost") => {
            problems.push(Problem::invalid(
                key,
                "Localhost needs a localhostProfile no annotation sets; ignored",
            ));
            default
        }
        Some(v) => {
            problems.push(Problem::invalid(
                key,
                format!("{} is not RuntimeDefault or Unconfined; ignored", quote(v)),
            ));
            default
        }
    }
}

pub fn string(raw: Option<&str>, _: &'static str, default: String, _: &mut Vec<Problem>) -> String {
    raw.map_or(default, str::to_owned)
}

pub fn opt_string(
    raw: Option<&str>,
    _: &'static str,
    default: Option<String>,
    _: &mut Vec<Problem>,
) -> Option<String> {
    raw.map(str::to_owned).or(default)
}

/// Placement and scheduler addresses: surrounding quotes, then spaces, are stripped.
pub fn opt_address(
    raw: Option<&str>,
    _: &'static str,
    default: Option<String>,
    _: &mut Vec<Problem>,
) -> Option<String> {
    raw.map(|v| v.trim_matches(|c| c == '"' || c == '\'').trim().to_owned())
        .or(default)
}

fn integer(v: &str, key: &'static str, problems: &mut Vec<Problem>) -> Option<i64> {
    // Go's strconv.ParseInt(v, 10, 64) accepts the same strings as i64's FromStr.
    match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(Problem::invalid(
                key,
                format!("{} is not an integer; ignored", quote(v)),
            ));
            None
        }
    }
}

fn ranged(
    raw: Option<&str>,
    key: &'static str,
    range: std::ops::RangeInclusive<i64>,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<i64> {
    let v = raw?;
    let n = integer(v, key, problems)?;
    if range.contains(&n) {
        Some(n)
    } else {
        problems.push(Problem::invalid(
            key,
            format!("{} is not {what}; ignored", quote(v)),
        ));
        None
    }
}

/// A container port: the API server rejects anything outside 1-65535.
pub fn port(
    raw: Option<&str>,
    key: &'static str,
    default: i32,
    problems: &mut Vec<Problem>,
) -> i32 {
    ranged(raw, key, 1..=65535, "a port (1-65535)", problems)
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(default)
}

/// A port, or 0 for none (`app-port`).
pub fn port_or_zero(
    raw: Option<&str>,
    key: &'static str,
    default: i32,
    problems: &mut Vec<Problem>,
) -> i32 {
    ranged(raw, key, 0..=65535, "a port (0-65535)", problems)
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(default)
}

/// Probe timings: the API server rejects negative values.
pub fn seconds(
    raw: Option<&str>,
    key: &'static str,
    default: i32,
    problems: &mut Vec<Problem>,
) -> i32 {
    ranged(
        raw,
        key,
        0..=i64::from(i32::MAX),
        "in 0-2147483647",
        problems,
    )
    .and_then(|n| i32::try_from(n).ok())
    .unwrap_or(default)
}

pub fn int32(
    raw: Option<&str>,
    key: &'static str,
    default: i32,
    problems: &mut Vec<Problem>,
) -> i32 {
    ranged(
        raw,
        key,
        i64::from(i32::MIN)..=i64::from(i32::MAX),
        "a 32-bit integer",
        problems,
    )
    .and_then(|n| i32::try_from(n).ok())
    .unwrap_or(default)
}

pub fn int(raw: Option<&str>, key: &'static str, default: i64, problems: &mut Vec<Problem>) -> i64 {
    raw.and_then(|v| integer(v, key, problems))
        .unwrap_or(default)
}

pub fn opt_int(
    raw: Option<&str>,
    key: &'static str,
    default: Option<i64>,
    problems: &mut Vec<Problem>,
) -> Option<i64> {
    raw.and_then(|v| integer(v, key, problems)).or(default)
}

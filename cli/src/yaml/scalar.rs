//! go-yaml v2's rules for scalars: what a plain scalar, a tagged one and a map key become.

use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;

use super::emitter::{double_quoted, float_text};
use super::node::Node;

const CORE_TAG: &str = "tag:yaml.org,2002:";

/// A map key as `sigs.k8s.io/yaml` turns it into a JSON key.
pub(crate) fn key_string(node: Node) -> Result<String, String> {
    match node {
        Node::Str(s) => Ok(s),
        Node::Null => Ok("null".to_owned()),
        Node::Bool(b) => Ok(b.to_string()),
        Node::Int(i) => Ok(i.to_string()),
        Node::UInt(u) => Ok(u.to_string()),
        Node::Float(f) => Ok(float_text(f)),
        Node::Seq(_) | Node::Map(_) => {
            Err("a map key must be a scalar, not a list or a map".to_owned())
        }
    }
}

pub(crate) fn resolve_scalar(
    value: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
) -> Result<Node, String> {
    let core = tag
        .filter(|t| t.handle == CORE_TAG)
        .map(|t| t.suffix.as_str());
    match (core, tag) {
        // A custom or non-specific tag: go-yaml v2 keeps the text.
        (None, Some(_)) => Ok(Node::Str(value)),
        (None, None) if style == TScalarStyle::Plain => Ok(resolve_plain(&value)),
        (None, None) => Ok(Node::Str(value)),
        (Some("str" | "binary" | "timestamp"), _) => Ok(Node::Str(value)),
        (Some(wanted), _) => {
            let node = resolve_plain(&value);
            match (wanted, node) {
                ("null", node @ Node::Null)
                | ("bool", node @ Node::Bool(_))
                | ("int", node @ (Node::Int(_) | Node::UInt(_)))
                | ("float", node @ Node::Float(_)) => Ok(node),
                ("float", Node::Int(i)) => Ok(Node::Float(i as f64)),
                ("float", Node::UInt(u)) => Ok(Node::Float(u as f64)),
                ("int" | "float" | "bool" | "null", _) => Err(format!(
                    "cannot read {} as a !!{wanted}",
                    double_quoted(&value)
                )),
                // !!map, !!seq, !!set and unknown core tags on a scalar: the text.
                _ => Ok(Node::Str(value)),
            }
        }
    }
}

/// What go-yaml v2 makes of a plain (unquoted) scalar.
pub fn resolve_plain(s: &str) -> Node {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => Node::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Node::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Node::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Node::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Node::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Node::Float(f64::NAN),
        _ => match s.as_bytes().first() {
            Some(b'0'..=b'9' | b'+' | b'-') => resolve_number(s),
            Some(b'.') => match s.parse::<f64>() {
                Ok(f) if is_yaml_float(s) => Node::Float(f),
                _ => Node::Str(s.to_owned()),
            },
            _ => Node::Str(s.to_owned()),
        },
    }
}

/// go-yaml v2: `strconv.ParseInt(s without "_", 0, 64)`, then `ParseUint`, then a float.
fn resolve_number(s: &str) -> Node {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let signed = plain.starts_with(['-', '+']);
    if let Some(magnitude) = parse_go_int(body) {
        if negative {
            if let Some(i) = i128::try_from(magnitude)
                .ok()
                .and_then(|m| i64::try_from(-m).ok())
            {
                return Node::Int(i);
            }
        } else if let Ok(i) = i64::try_from(magnitude) {
            return Node::Int(i);
        } else if let (false, Ok(u)) = (signed, u64::try_from(magnitude)) {
            return Node::UInt(u);
        }
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Node::Float(f);
    }
    Node::Str(s.to_owned())
}

/// An unsigned integer in Go's base-0 syntax: `0x`, `0o`, `0b`, a leading `0` for octal.
fn parse_go_int(body: &str) -> Option<u128> {
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u128::from_str_radix(digits, radix).ok()
}

/// go-yaml v2's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub(super) fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

//! Block-style YAML that YAML 1.1 and 1.2 readers read back as the same values.

use std::fmt::Write as _;

use indexmap::IndexMap;

use super::node::Node;
use super::scalar::resolve_plain;

/// A document as block-style YAML, ending with a newline.
pub fn emit(node: &Node) -> String {
    let mut out = String::new();
    match node {
        Node::Map(map) if !map.is_empty() => emit_map(&mut out, map, 0, false),
        Node::Seq(items) if !items.is_empty() => emit_seq(&mut out, items, 0, false),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

/// One entry to append to a block collection whose entries start at `column`: `key: value`
/// for a map, `- value` for a list.
pub fn emit_entry(key: Option<&str>, value: &Node, column: usize) -> String {
    let mut out = String::new();
    match key {
        Some(key) => {
            let mut map = IndexMap::new();
            map.insert(key.to_owned(), value.clone());
            emit_map(&mut out, &map, column, false);
        }
        None => emit_seq(&mut out, std::slice::from_ref(value), column, false),
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A map at `level`; with `inline`, its first key goes on the current line (after `- `).
fn emit_map(out: &mut String, map: &IndexMap<String, Node>, level: usize, inline: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, level);
        }
        out.push_str(&key_text(key));
        out.push(':');
        match value {
            Node::Map(m) if !m.is_empty() => {
                out.push('\n');
                emit_map(out, m, level + 2, false);
            }
            // Sequences in maps are not indented, as kubectl writes them.
            Node::Seq(items) if !items.is_empty() => {
                out.push('\n');
                emit_seq(out, items, level, false);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar, level + 2));
                out.push('\n');
            }
        }
    }
}

fn emit_seq(out: &mut String, items: &[Node], level: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, level);
        }
        out.push_str("- ");
        match item {
            Node::Map(m) if !m.is_empty() => emit_map(out, m, level + 2, true),
            Node::Seq(s) if !s.is_empty() => emit_seq(out, s, level + 2, true),
            scalar => {
                out.push_str(&scalar_text(scalar, level + 2));
                out.push('\n');
            }
        }
    }
}

/// A scalar (or an empty collection); a literal block's lines are indented by `block_indent`.
fn scalar_text(node: &Node, block_indent: usize) -> String {
    match node {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::UInt(u) => u.to_string(),
        Node::Float(f) => float_text(*f),
        Node::Str(s) if is_plain_safe(s) => s.clone(),
        Node::Str(s) => literal_block(s, block_indent).unwrap_or_else(|| double_quoted(s)),
        Node::Seq(_) => "[]".to_owned(),
        Node::Map(_) => "{}".to_owned(),
    }
}

fn key_text(key: &str) -> String {
    if is_plain_safe(key) {
        key.to_owned()
    } else {
        double_quoted(key)
    }
}

/// A float that go-yaml v2 reads back as the same float.
pub(super) fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_owned()
    } else if f == f64::INFINITY {
        ".inf".to_owned()
    } else if f == f64::NEG_INFINITY {
        "-.inf".to_owned()
    } else {
        // `{:?}` always has a `.` or an exponent: "1000.0", "1e-7".
        format!("{f:?}")
    }
}

/// YAML's printable characters, less the ones YAML 1.1 treats as line breaks and the BOM.
fn is_safe_char(c: char) -> bool {
    matches!(c, ' '..='~')
        || (c >= '\u{a0}'
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ))
}

/// Whether a string can be written without quotes and read back, by YAML 1.1 and 1.2 readers
/// alike, as the same string.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let first_ok = first.is_ascii_alphanumeric()
        || matches!(first, '/' | '.' | '_' | '$' | '(')
        || (first == '-' && s.len() > 1 && !s.starts_with("---") && !s[1..].starts_with(' '))
        || (!first.is_ascii() && first.is_alphanumeric());
    // Times, dates and sexagesimal numbers (`1:30`) are numbers or dates to some YAML 1.1 readers.
    let number_like = first.is_ascii_digit() && s.contains([':', '-', ' ', '_']);
    first_ok
        && !number_like
        && s.chars().all(is_safe_char)
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s != "<<"
        && matches!(resolve_plain(s), Node::Str(_))
}

/// `|`, `|-` or `None` when a literal block could not hold the string exactly.
fn literal_block(s: &str, block_indent: usize) -> Option<String> {
    if !s.contains('\n') || s.ends_with("\n\n") || !s.chars().all(|c| c == '\n' || is_safe_char(c))
    {
        return None;
    }
    let body = s.strip_suffix('\n');
    let chomp = if body.is_some() { "|" } else { "|-" };
    let body = body.unwrap_or(s);
    let lines: Vec<&str> = body.split('\n').collect();
    // The indentation is taken from the first non-empty line, and a line of spaces only would
    // be read as an empty one.
    let first_text = lines.iter().find(|l| !l.is_empty())?;
    if first_text.starts_with(' ') || lines.iter().any(|l| !l.is_empty() && l.trim().is_empty()) {
        return None;
    }
    let mut out = String::from(chomp);
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            indent(&mut out, block_indent);
            out.push_str(line);
        }
    }
    Some(out)
}

/// A double-quoted scalar with escapes every YAML 1.1 reader knows.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_safe_char(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

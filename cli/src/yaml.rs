//! YAML as Kubernetes reads it, and YAML that Kubernetes reads back unchanged.
//!
//! `kubectl` turns YAML into JSON with `sigs.k8s.io/yaml`, that is go-yaml v2: YAML 1.1 rules, so
//! the plain scalars `on`, `yes` and `y` are booleans and `0644` is the octal 420. A YAML 1.2
//! parser (serde_yaml) reads them as strings and would change the manifest. This module loads
//! plain scalars with go-yaml v2's rules, keeps the order of keys, and emits strings so that a
//! YAML 1.1 or 1.2 reader gets them back as strings.
//!
//! A stream is cut into documents at its `---` and `...` lines (markers can only stand at the
//! start of a line, so no scalar can hold one). Each document keeps its text, so that a document
//! that is not injected is written back exactly as it came, comments included.

use std::collections::HashMap;
use std::fmt::Write as _;

use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// More nesting than this is refused (serde_json's own limit is 128).
const MAX_DEPTH: usize = 512;
/// Aliases are expanded by copying; this bounds the copies ("billion laughs").
const MAX_NODES: usize = 2_000_000;
const CORE_TAG: &str = "tag:yaml.org,2002:";

/// A YAML value as go-yaml v2 resolves it, with map keys as the JSON strings they become.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(IndexMap<String, Node>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(map) => map.get(key),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(map) => map.get_mut(key),
            _ => None,
        }
    }

    /// The node at a path of map keys.
    pub fn pointer(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn pointer_mut(&mut self, path: &[&str]) -> Option<&mut Node> {
        path.iter().try_fold(self, |node, key| node.get_mut(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON the API server would receive, or where a number JSON cannot hold is.
    pub fn to_json(&self) -> Result<Value, String> {
        self.to_json_at("")
    }

    /// [`Node::to_json`], with the path of this node for the message.
    pub fn to_json_at(&self, path: &str) -> Result<Value, String> {
        match self {
            Node::Null => Ok(Value::Null),
            Node::Bool(b) => Ok(Value::Bool(*b)),
            Node::Int(i) => Ok(Value::from(*i)),
            Node::UInt(u) => Ok(Value::from(*u)),
            Node::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(|| format!("{path} is {}, which JSON cannot hold", float_text(*f))),
            Node::Str(s) => Ok(Value::String(s.clone())),
            Node::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| item.to_json_at(&format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Node::Map(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.to_json_at(&format!("{path}.{k}"))?)))
                .collect::<Result<serde_json::Map<_, _>, String>>()
                .map(Value::Object),
        }
    }

    /// A node from JSON, with the keys of objects in the order they have in `guide` (the node
    /// the JSON was made from), then the new keys in the JSON's order (`name` first).
    pub fn from_json(value: &Value, guide: Option<&Node>) -> Node {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Node::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Node::UInt(u)
                } else {
                    Node::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Node::Str(s.clone()),
            Value::Array(items) => {
                let guides = match guide {
                    Some(Node::Seq(g)) => g.as_slice(),
                    _ => &[],
                };
                Node::Seq(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| Node::from_json(item, guides.get(i)))
                        .collect(),
                )
            }
            Value::Object(object) => {
                let mut map = IndexMap::with_capacity(object.len());
                if let Some(Node::Map(g)) = guide {
                    for (key, old) in g {
                        if let Some(new) = object.get(key) {
                            map.insert(key.clone(), Node::from_json(new, Some(old)));
                        }
                    }
                } else if let Some(name) = object.get("name") {
                    // A new container, port or volume reads best with its name first.
                    map.insert("name".to_owned(), Node::from_json(name, None));
                }
                for (key, new) in object {
                    if !map.contains_key(key) {
                        map.insert(key.clone(), Node::from_json(new, None));
                    }
                }
                Node::Map(map)
            }
        }
    }
}

/// One document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 1-based, counting every document of the stream, empty ones included.
    pub number: usize,
    pub node: Node,
    /// The document's text when it was YAML, from its `---` line if it has one.
    pub text: Option<String>,
    /// The document's text when it was JSON.
    pub json: Option<String>,
}

/// Why a stream could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based number of the document that failed.
    pub document: usize,
    pub message: String,
}

/// The documents of a YAML or JSON stream, empty documents left out (but counted).
pub fn load_stream(text: &str) -> Result<Vec<Document>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut documents: Vec<Document> = Vec::new();
    let mut number = 0;
    // Comments outside any document stay with the document after them (or before, at the end).
    let mut pending = String::new();
    for chunk in split(text) {
        if !chunk.explicit && !has_content(chunk.text) {
            pending.push_str(chunk.text);
            continue;
        }
        // kubectl's rule: a stream that starts with `{` is a stream of JSON values.
        if chunk.first_line == 1 && looks_like_json(chunk.text) {
            let nodes = load_json(chunk.text).map_err(|(before, error)| ParseError {
                document: number + before + 1,
                message: format!(
                    "{} at line {}, column {}",
                    json_problem(&error),
                    error.line(),
                    error.column()
                ),
            })?;
            for (node, json) in nodes {
                number += 1;
                push_document(&mut documents, number, node, None, Some(json));
            }
            continue;
        }
        let nodes = load_yaml(chunk.text).map_err(|(index, message, mark)| ParseError {
            document: number + index + 1,
            message: match mark {
                Some(mark) => format!(
                    "{message} at line {}, column {}",
                    chunk.first_line + mark.line().max(1) - 1,
                    mark.col() + 1
                ),
                None => message,
            },
        })?;
        // A chunk holds one document, unless the parser finds more; each one counts.
        let single = nodes.len() == 1;
        for node in nodes {
            number += 1;
            let text = single.then(|| std::mem::take(&mut pending) + chunk.text);
            push_document(&mut documents, number, node, text, None);
        }
    }
    if let Some(Document {
        text: Some(last), ..
    }) = documents.last_mut()
    {
        last.push_str(&pending);
    }
    Ok(documents)
}

/// Adds a document unless it is empty (`null`), as kubectl skips it.
fn push_document(
    documents: &mut Vec<Document>,
    number: usize,
    node: Node,
    text: Option<String>,
    json: Option<String>,
) {
    if node != Node::Null {
        documents.push(Document {
            number,
            node,
            text,
            json,
        });
    }
}

struct Chunk<'a> {
    text: &'a str,
    /// The 1-based line of the file the chunk starts on.
    first_line: usize,
    /// Whether the chunk starts with a `---` line (then it is a document even when empty).
    explicit: bool,
}

pub(crate) fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

fn split(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut explicit = false;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_number = index + 1;
        if is_marker(line, "---") {
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line: start_line,
                explicit,
            });
            start = offset;
            start_line = line_number;
            explicit = true;
        } else if is_marker(line, "...") {
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line: start_line,
                explicit,
            });
            start = offset + line.len();
            start_line = line_number + 1;
            explicit = false;
        }
        offset += line.len();
    }
    chunks.push(Chunk {
        text: &text[start..],
        first_line: start_line,
        explicit,
    });
    chunks
}

/// Whether a chunk without `---` holds more than blank lines, comments and directives.
fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && !line.starts_with('%')
    })
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Every JSON value of the chunk (a JSON stream may hold several), or how many were read
/// before the error.
fn load_json(text: &str) -> Result<Vec<(Node, String)>, (usize, serde_json::Error)> {
    let mut nodes = Vec::new();
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Node>();
    let mut start = 0;
    while let Some(node) = values.next() {
        let node = node.map_err(|e| (nodes.len(), e))?;
        let end = values.byte_offset();
        let json = text.get(start..end).unwrap_or_default().trim().to_owned();
        nodes.push((node, json));
        start = end;
    }
    Ok(nodes)
}

/// serde_json's message without its " at line L column C" (the line is given for the file).
fn json_problem(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::UInt(v), Node::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut map = IndexMap::new();
        while let Some((key, value)) = access.next_entry::<String, Node>()? {
            map.insert(key, value);
        }
        Ok(Node::Map(map))
    }
}

/// A parse failure: the index of the document in the chunk, the message, and where.
type YamlError = (usize, String, Option<Marker>);

enum Key {
    /// The plain key `<<`.
    Merge,
    Name(String),
}

enum Frame {
    Seq {
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        map: IndexMap<String, Node>,
        key: Option<Key>,
        merges: Vec<(Node, Marker)>,
    },
}

/// Builds nodes from parser events.
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    documents: Vec<Node>,
}

fn load_yaml(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        documents: Vec::new(),
    };
    loop {
        let index = builder.documents.len();
        let (event, mark) = parser
            .next_token()
            .map_err(|e| (index, e.info().to_owned(), Some(*e.marker())))?;
        if let Event::StreamEnd = event {
            return Ok(builder.documents);
        }
        builder.event(event, mark, index)?;
    }
}

impl Builder {
    /// One parser event: a value completes the collection it is in, or a document.
    fn event(&mut self, event: Event, mark: Marker, index: usize) -> Result<(), YamlError> {
        let at = |e: String| (index, e, Some(mark));
        match event {
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at("unknown alias".to_owned()))?;
                self.nodes += count(&node);
                if self.nodes > MAX_NODES {
                    return Err(at(format!(
                        "more than {MAX_NODES} values once aliases are expanded"
                    )));
                }
                self.complete(node, mark).map_err(at)
            }
            Event::Scalar(value, style, anchor, tag) => {
                let plain_merge = style == TScalarStyle::Plain && tag.is_none() && value == "<<";
                let node = resolve_scalar(value, style, tag.as_ref()).map_err(at)?;
                self.nodes += 1;
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                if plain_merge && self.expects_key() {
                    self.set_key(Key::Merge);
                    Ok(())
                } else {
                    self.complete(node, mark).map_err(at)
                }
            }
            Event::SequenceStart(anchor, _) => self
                .push(Frame::Seq {
                    anchor,
                    items: Vec::new(),
                })
                .map_err(at),
            Event::MappingStart(anchor, _) => self
                .push(Frame::Map {
                    anchor,
                    map: IndexMap::new(),
                    key: None,
                    merges: Vec::new(),
                })
                .map_err(at),
            Event::SequenceEnd | Event::MappingEnd => self.end_collection(mark, index),
            _ => Ok(()),
        }
    }

    /// The collection on top of the stack is complete: its merges are applied.
    fn end_collection(&mut self, mark: Marker, index: usize) -> Result<(), YamlError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq { anchor, items }) => (Node::Seq(items), anchor),
            Some(Frame::Map {
                anchor,
                mut map,
                merges,
                ..
            }) => {
                for (source, at) in merges {
                    merge(&mut map, source).map_err(|e| (index, e, Some(at)))?;
                }
                (Node::Map(map), anchor)
            }
            None => return Err((index, "unbalanced collection".to_owned(), Some(mark))),
        };
        self.nodes += 1;
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.complete(node, mark)
            .map_err(|e| (index, e, Some(mark)))
    }

    fn push(&mut self, frame: Frame) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("more than {MAX_DEPTH} nested lists and maps"));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn set_key(&mut self, new: Key) {
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            *key = Some(new);
        }
    }

    /// Places a finished node: the document, an item, a key or a value.
    fn complete(&mut self, node: Node, mark: Marker) -> Result<(), String> {
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                None => *key = Some(Key::Name(key_string(node)?)),
                Some(Key::Merge) => merges.push((node, mark)),
                Some(Key::Name(name)) => {
                    // go-yaml v2 keeps the last value of a repeated key.
                    map.insert(name, node);
                }
            },
        }
        Ok(())
    }
}

/// `<<`: the keys of a map, or of each map of a list (the first one wins), that the map does
/// not set itself.
fn merge(map: &mut IndexMap<String, Node>, source: Node) -> Result<(), String> {
    let sources = match source {
        Node::Map(m) => vec![m],
        Node::Seq(items) => items
            .into_iter()
            .map(|item| match item {
                Node::Map(m) => Ok(m),
                _ => Err(()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|()| "a << merge list must hold only maps".to_owned())?,
        _ => return Err("the value of a << merge key must be a map or a list of maps".to_owned()),
    };
    for source in sources {
        for (k, v) in source {
            map.entry(k).or_insert(v);
        }
    }
    Ok(())
}

fn count(node: &Node) -> usize {
    match node {
        Node::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Node::Map(map) => 1 + map.values().map(count).sum::<usize>(),
        _ => 1,
    }
}

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
fn is_yaml_float(s: &str) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Emitting

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
fn float_text(f: f64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Node {
        let documents = load_stream(text).unwrap();
        assert_eq!(documents.len(), 1, "{documents:?}");
        documents.into_iter().next().unwrap().node
    }

    fn json_of(text: &str) -> Value {
        one(text).to_json().unwrap()
    }

    #[test]
    fn plain_scalars_resolve_as_kubectl_reads_them() {
        assert_eq!(
            json_of(
                "a: 0644\nb: on\nc: y\nd: No\ne: ~\nf: 0x1F\ng: 0o17\nh: 1_000\ni: 08\nj: 1e3\nk: .5\nl: +12\nm: -0b11\nday: 2001-12-14\no: 1.18.3\n"
            ),
            json!({"a": 420, "b": true, "c": true, "d": false, "e": null, "f": 31, "g": 15, "h": 1000,
                   "i": 8.0, "j": 1000.0, "k": 0.5, "l": 12, "m": -3, "day": "2001-12-14", "o": "1.18.3"})
        );
    }

    #[test]
    fn quoted_and_block_scalars_stay_strings() {
        assert_eq!(
            json_of("a: \"0644\"\nb: 'on'\nc: |\n  yes\nd: !!str 3000\n"),
            json!({"a": "0644", "b": "on", "c": "yes\n", "d": "3000"})
        );
    }

    #[test]
    fn keys_become_the_strings_kubectl_makes_of_them() {
        assert_eq!(
            json_of("on: 1\nn: 0\n3: x\n\"y\": 2\n"),
            json!({"true": 1, "false": 0, "3": "x", "y": 2})
        );
    }

    #[test]
    fn integers_beyond_64_bits_become_floats_like_in_go_yaml() {
        assert_eq!(
            one("a: 18446744073709551615\nb: 18446744073709551616\n"),
            Node::Map(IndexMap::from([
                ("a".to_owned(), Node::UInt(u64::MAX)),
                ("b".to_owned(), Node::Float(18446744073709551616.0)),
            ]))
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys_are_expanded() {
        assert_eq!(
            json_of("base: &b {p: 1, q: 2}\nuse: {<<: *b, q: 3}\nlist: [*b]\n"),
            json!({"base": {"p": 1, "q": 2}, "use": {"q": 3, "p": 1}, "list": [{"p": 1, "q": 2}]})
        );
    }

    #[test]
    fn an_explicit_int_tag_on_text_is_an_error() {
        let err = load_stream("a: !!int abc\n").unwrap_err();
        assert_eq!(err.document, 1);
        assert!(
            err.message.starts_with("cannot read \"abc\" as a !!int"),
            "{}",
            err.message
        );
    }

    #[test]
    fn aliases_that_expand_without_bound_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = load_stream(&text).unwrap_err();
        assert!(
            err.message.contains("aliases are expanded"),
            "{}",
            err.message
        );
    }

    #[test]
    fn deep_nesting_is_refused_instead_of_overflowing_the_stack() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(load_stream(&text).is_err());
    }

    #[test]
    fn documents_are_numbered_from_one_counting_empty_ones() {
        let documents =
            load_stream("# header\n---\na: 1\n---\n---\n# only a comment\n...\nb: 2\n").unwrap();
        let numbers: Vec<usize> = documents.iter().map(|d| d.number).collect();
        assert_eq!(numbers, [1, 4]);
        // The header comment, outside any document, stays with the one after it.
        assert_eq!(documents[0].text.as_deref(), Some("# header\n---\na: 1\n"));
        assert_eq!(documents[1].text.as_deref(), Some("b: 2\n"));
    }

    #[test]
    fn a_parse_error_names_the_document_and_the_line_of_the_file() {
        let err = load_stream("a: 1\n---\nb: [1,\n---\nc: 3\n").unwrap_err();
        assert_eq!(err.document, 2);
        assert!(
            err.message.ends_with("at line 4, column 1"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_json_stream_is_read_as_documents_in_key_order() {
        let documents = load_stream("{\n\t\"z\": 1, \"a\": [true]\n}\n{\"b\": null}\n").unwrap();
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0].text, None);
        assert_eq!(emit(&documents[0].node), "z: 1\na:\n- true\n");
        assert_eq!(documents[1].number, 2);
    }

    #[test]
    fn a_stream_that_starts_with_a_brace_is_json_as_kubectl_decides() {
        let err = load_stream("{\"kind\": \"Pod\", \"spec\": }").unwrap_err();
        assert_eq!(err.document, 1);
        assert!(err.message.starts_with("expected value"), "{}", err.message);
        // Later flow-style documents of a YAML stream are YAML.
        assert_eq!(load_stream("a: 1\n---\n{b: c}\n").unwrap().len(), 2);
    }

    #[test]
    fn a_json_error_names_the_json_value() {
        let err = load_stream("{\"a\": 1}\n{\"b\": }\n").unwrap_err();
        assert_eq!(err.document, 2);
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn strings_that_would_read_as_other_types_are_quoted() {
        for s in [
            "on",
            "y",
            "NO",
            "0644",
            "3000",
            "-1",
            "1e3",
            ".5",
            "~",
            "null",
            "",
            "10:30",
            "2001-12-14",
        ] {
            let text = emit(&Node::Str(s.to_owned()));
            assert!(text.starts_with('"'), "{s:?} → {text}");
        }
        for s in [
            "--dapr-http-port",
            "stateapp",
            "dapr-api.dapr-system.svc.cluster.local:443",
            "/daprd",
            "1.18.3",
        ] {
            assert_eq!(emit(&Node::Str(s.to_owned())), format!("{s}\n"));
        }
    }

    #[test]
    fn emitted_strings_read_back_the_same_in_both_yaml_versions() {
        let strings = [
            "on",
            "0644",
            "a: b",
            "a #b",
            "#x",
            "- x",
            "-",
            "---",
            "...",
            "[::1],127.0.0.1",
            "{x}",
            "*a",
            "&a",
            "!t",
            "|",
            ">",
            "'q'",
            "\"q\"",
            "%p",
            "@x",
            "`x`",
            "?",
            ":",
            "x:",
            " lead",
            "trail ",
            "tab\tin",
            "line\nbreak\n",
            "no newline\nat end",
            "two\n\n",
            "\n\nleading",
            "  indented\nx\n",
            "spaces\n   \nline\n",
            "nel\u{85}x",
            "ls\u{2028}x",
            "bom\u{feff}",
            "bell\u{7}",
            "é",
            "日本",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "<<",
            "=",
            "1:30",
            "0x1F",
            "+.inf",
            ".NaN",
            "Yes",
            "True",
            "1_0",
            "0o7",
            "0b1",
            "1.",
            "+1",
        ];
        for s in strings {
            let node = Node::Map(IndexMap::from([
                (s.to_owned(), Node::Seq(vec![Node::Str(s.to_owned())])),
                ("k".to_owned(), Node::Str(s.to_owned())),
            ]));
            let text = emit(&node);
            assert_eq!(one(&text), node, "ours: {s:?}\n{text}");
            let theirs: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            assert_eq!(
                theirs.get("k").and_then(serde_yaml::Value::as_str),
                Some(s),
                "serde_yaml: {s:?}\n{text}"
            );
        }
    }

    #[test]
    fn numbers_and_nested_collections_round_trip() {
        let value = json!({"i": -5, "u": u64::MAX, "f": 0.1, "g": 1e-7, "h": 1e21, "t": true, "n": null,
                           "empty": {}, "none": [], "nested": [[1, [2]], {"a": {"b": [{}]}}]});
        let node = Node::from_json(&value, None);
        assert_eq!(one(&emit(&node)).to_json().unwrap(), value);
    }

    #[test]
    fn json_keeps_the_key_order_of_the_node_it_came_from() {
        let guide = one("z: 1\nspec:\n  w: 2\n  b: 3\n");
        let node = Node::from_json(
            &json!({"b": 0, "spec": {"b": 3, "new": 4, "w": 2}, "z": 1}),
            Some(&guide),
        );
        assert_eq!(emit(&node), "z: 1\nspec:\n  w: 2\n  b: 3\n  new: 4\nb: 0\n");
    }

    #[test]
    fn new_objects_put_their_name_first() {
        let node = Node::from_json(&json!({"args": ["x"], "name": "daprd"}), None);
        assert_eq!(emit(&node), "name: daprd\nargs:\n- x\n");
    }

    #[test]
    fn numbers_json_cannot_hold_are_reported_with_their_path() {
        let err = one("spec:\n  x: [1, .inf]\n").to_json().unwrap_err();
        assert_eq!(err, ".spec.x[1] is .inf, which JSON cannot hold");
    }
}

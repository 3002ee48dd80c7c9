//! Streams cut into documents, and documents read as go-yaml v2 reads them.

use std::collections::HashMap;

use indexmap::IndexMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::node::Node;
use super::scalar::{key_string, resolve_scalar};

/// More nesting than this is refused (serde_json's own limit is 128).
const MAX_DEPTH: usize = 512;
/// Aliases are expanded by copying; this bounds the copies ("billion laughs").
const MAX_NODES: usize = 2_000_000;

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

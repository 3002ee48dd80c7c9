//! Injected documents written back with every line injection did not touch: comments, quoting,
//! flow style and blank lines survive. Injection only adds, so each addition is an entry
//! appended to a block map or list of the original text, at the column of that collection's
//! entries. The lossless YAML editors on crates.io (yaml-edit 0.2, nondestructive) indent
//! nested block inserts wrongly; appending, the one edit injection needs, is small to do here.
//! The result is read back and must equal the injected object, else the caller emits the
//! whole document instead.

use std::collections::HashMap;

use serde_json::Value;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

use crate::yaml::{self, Node};

/// A block collection of the text: where its entries start, and where an entry appended to
/// it goes (a byte offset at the start of a line).
#[derive(Debug, Clone, Copy)]
struct Collection {
    is_map: bool,
    column: usize,
    end: usize,
}

/// Where the walk is: each open collection, its path, and its next key or index.
enum Frame {
    /// `column`: of its first key; `None` in a flow map or before the first key.
    Map {
        path: Vec<String>,
        key: Option<String>,
        column: Option<usize>,
        flow: bool,
    },
    /// `column`: of its first `-`; `None` in a flow list.
    Seq {
        path: Vec<String>,
        index: usize,
        column: Option<usize>,
    },
}

/// `text` (one document) with `injected`'s additions to `original` appended in place, or
/// `None` when that cannot be done exactly.
pub fn splice(text: &str, original: &Value, injected: &Value) -> Option<String> {
    let collections = collections(text)?;
    let patch = json_patch::diff(original, injected);

    let mut inserts: Vec<(usize, usize, String)> = Vec::new();
    for operation in &patch.0 {
        let json_patch::PatchOperation::Add(add) = operation else {
            return None;
        };
        let tokens: Vec<String> = add
            .path
            .tokens()
            .map(|t| t.decoded().into_owned())
            .collect();
        let (last, parent) = tokens.split_last()?;
        let collection = collections.get(parent)?;
        let value = Node::from_json(&add.value, None);
        let entry = if collection.is_map {
            yaml::emit_entry(Some(last), &value, collection.column)
        } else {
            let length = pointer(original, parent)?.as_array()?.len();
            (last.parse::<usize>().ok()? >= length).then_some(())?;
            yaml::emit_entry(None, &value, collection.column)
        };
        inserts.push((collection.end, usize::MAX - parent.len(), entry));
    }
    // At one place, deeper collections first: their entries belong above the outer ones'.
    inserts.sort_by_key(|(end, depth, _)| (*end, *depth));
    let spliced = apply(text, &inserts);

    let reread = yaml::load_stream(&spliced).ok()?;
    match reread.as_slice() {
        [document] if document.node.to_json().ok().as_ref() == Some(injected) => Some(spliced),
        _ => None,
    }
}

fn pointer<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

fn apply(text: &str, inserts: &[(usize, usize, String)]) -> String {
    let mut out =
        String::with_capacity(text.len() + inserts.iter().map(|i| i.2.len()).sum::<usize>() + 1);
    let mut at = 0;
    for (offset, _, entry) in inserts {
        out.push_str(text.get(at..*offset).unwrap_or_default());
        at = *offset;
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(entry);
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// The block collections of one document by path, or `None` for what this does not handle:
/// anchors, aliases and merge keys.
fn collections(text: &str) -> Option<HashMap<Vec<String>, Collection>> {
    let bytes: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut found = HashMap::new();
    loop {
        let (event, mark) = parser.next_token().ok()?;
        match event {
            Event::StreamEnd => return Some(found),
            Event::Alias(_) => return None,
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 {
                    return None;
                }
                if let Some(Frame::Map {
                    key: key @ None,
                    column,
                    flow,
                    ..
                }) = stack.last_mut()
                {
                    let node = yaml::resolve_scalar(value, style, tag.as_ref()).ok()?;
                    let name = yaml::key_string(node).ok()?;
                    if name == "<<" {
                        return None;
                    }
                    *key = Some(name);
                    if column.is_none() && !*flow {
                        *column = Some(mark.col());
                    }
                } else {
                    advance(&mut stack);
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if anchor != 0 {
                    return None;
                }
                let path = child_path(&stack)?;
                stack.push(match event {
                    Event::MappingStart(..) => Frame::Map {
                        path,
                        key: None,
                        column: None,
                        flow: starts_flow(text, &bytes, mark, '{'),
                    },
                    _ => Frame::Seq {
                        path,
                        index: 0,
                        column: dash_column(text, &bytes, mark),
                    },
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let (path, column, is_map) = match stack.pop()? {
                    Frame::Map { path, column, .. } => (path, column, true),
                    Frame::Seq { path, column, .. } => (path, column, false),
                };
                if let Some(column) = column {
                    let end = insertion_point(text, *bytes.get(mark.index())?, column);
                    found.insert(
                        path,
                        Collection {
                            is_map,
                            column,
                            end,
                        },
                    );
                }
                advance(&mut stack);
            }
            _ => {}
        }
    }
}

fn starts_flow(text: &str, bytes: &[usize], mark: Marker, bracket: char) -> bool {
    bytes
        .get(mark.index())
        .and_then(|&b| text.get(b..))
        .is_some_and(|rest| rest.starts_with(bracket))
}

/// The column of the `-` that opens a block list's first item, on the line where the parser
/// marks the list; `None` for a flow list. (The mark may stand past the `-`, at the item's
/// first key or after it.)
fn dash_column(text: &str, bytes: &[usize], mark: Marker) -> Option<usize> {
    let at = *bytes.get(mark.index())?;
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text.get(at..)?.find('\n').map_or(text.len(), |i| at + i);
    let line = text.get(line_start..line_end)?;
    let content = line.trim_start_matches(' ');
    let dash = content.starts_with("- ") || content == "-";
    dash.then(|| line.len() - content.len())
}

/// The path of a collection that starts here.
fn child_path(stack: &[Frame]) -> Option<Vec<String>> {
    Some(match stack.last() {
        None => Vec::new(),
        Some(Frame::Map { path, key, .. }) => [path.clone(), vec![key.clone()?]].concat(),
        Some(Frame::Seq { path, index, .. }) => [path.clone(), vec![index.to_string()]].concat(),
    })
}

/// A value is complete: its map waits for the next key, its list counts it.
fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

/// The start of the line where the collection's next token stands, moved up past the blank
/// lines and the comments at or left of `column` that lead to that token.
fn insertion_point(text: &str, end: usize, column: usize) -> usize {
    let mut at = text
        .get(..end)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    if end == text.len()
        && !text.ends_with('\n')
        && text.get(at..).is_some_and(|l| !l.trim().is_empty())
    {
        return text.len();
    }
    while at > 0 {
        let before = text.get(..at - 1).unwrap_or_default();
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = text.get(start..at).unwrap_or_default();
        let trimmed = line.trim_start();
        let leads = trimmed.trim_end().is_empty()
            || (trimmed.starts_with('#') && line.len() - trimmed.len() <= column);
        if !leads {
            break;
        }
        at = start;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_of(text: &str) -> Value {
        yaml::load_stream(text).unwrap()[0].node.to_json().unwrap()
    }

    #[test]
    fn entries_are_appended_at_the_column_of_their_collection_and_comments_stay() {
        let text = "# the app\nspec:\n  containers:\n  - name: app # main\n    image: 'app:1'\n    env:\n      - name: A\n        value: \"1\"\n  # volumes next\n  volumes: []\n";
        let original = json_of(text);
        let mut injected = original.clone();
        injected["spec"]["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "DAPR_HTTP_PORT", "value": "3500"}));
        injected["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "daprd", "args": ["--app-id", "x"]}));
        injected["metadata"] = json!({"labels": {"dapr.io/sidecar-injected": "true"}});
        let spliced = splice(text, &original, &injected).unwrap();
        assert_eq!(
            spliced,
            "# the app\nspec:\n  containers:\n  - name: app # main\n    image: 'app:1'\n    env:\n      - name: A\n        value: \"1\"\n      - name: DAPR_HTTP_PORT\n        value: \"3500\"\n  - name: daprd\n    args:\n    - --app-id\n    - x\n  # volumes next\n  volumes: []\nmetadata:\n  labels:\n    dapr.io/sidecar-injected: \"true\"\n"
        );
    }

    #[test]
    fn an_addition_to_a_flow_collection_is_refused() {
        let text = "spec:\n  volumes: []\n";
        let original = json_of(text);
        let mut injected = original.clone();
        injected["spec"]["volumes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "v"}));
        assert_eq!(splice(text, &original, &injected), None);
    }

    #[test]
    fn a_document_without_a_final_newline_gets_one_before_the_addition() {
        let text = "metadata:\n  labels:\n    app: a";
        let original = json_of(text);
        let mut injected = original.clone();
        injected["metadata"]["labels"]["dapr.io/app-id"] = json!("a");
        assert_eq!(
            splice(text, &original, &injected).unwrap(),
            "metadata:\n  labels:\n    app: a\n    dapr.io/app-id: a\n"
        );
    }
}

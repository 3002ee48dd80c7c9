//! The output stream: every document of every input, in order. An untouched document is
//! written back byte for byte in its own format; an injected one keeps the lines injection did
//! not touch (`splice`), or is written whole when that cannot be done exactly.

use clap::ValueEnum;

use crate::input::Input;
use crate::manifest::{self, Context, Place, Report};
use crate::yaml::splice::splice;
use crate::yaml::{self, Document, Node};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// One document of the output.
enum Piece {
    /// As it came.
    Same(Document),
    /// Changed: the document as it came, and the object injection made of it.
    Changed { document: Document, node: Node },
}

/// Every document, ready to be written in either format.
pub struct Stream {
    /// Each piece with its place, for messages.
    pieces: Vec<(String, Piece)>,
}

/// Transforms every object of every input; `flush` is called after each document, so that
/// warnings and summaries appear as they come. Unparsable inputs are errors.
pub fn transform_inputs(
    inputs: &[Input],
    context: &Context<'_>,
    report: &mut Report,
    flush: &mut dyn FnMut(&mut Report),
) -> Result<Stream, Vec<String>> {
    let mut pieces = Vec::new();
    for input in inputs {
        let documents = input.documents()?;
        for document in documents {
            let place = Place::document(&input.name, document.number);
            let changed = manifest::transform_object(&document.node, &place, context, report);
            flush(report);
            let piece = match changed {
                None => Piece::Same(document),
                Some(node) => Piece::Changed { document, node },
            };
            pieces.push((place.text, piece));
        }
    }
    Ok(Stream { pieces })
}

/// The YAML text with the changes appended in place, when that can be done exactly: made
/// only for YAML output.
fn spliced(document: &Document, node: &Node) -> Option<String> {
    let text = document.text.as_deref()?;
    splice(text, &document.node.to_json().ok()?, &node.to_json().ok()?)
}

impl Stream {
    /// The stream in `format`; by default JSON when every document came as JSON.
    pub fn render(&self, format: Option<Format>) -> Result<String, Vec<String>> {
        let all_json = !self.pieces.is_empty()
            && self.pieces.iter().all(|(_, p)| match p {
                Piece::Same(document) | Piece::Changed { document, .. } => document.json.is_some(),
            });
        let format = format.unwrap_or(if all_json { Format::Json } else { Format::Yaml });
        let mut out = String::new();
        for (place, piece) in &self.pieces {
            match format {
                Format::Yaml => append_yaml(&mut out, &yaml_of(piece)),
                Format::Json => {
                    let json = json_of(piece).map_err(|e| vec![format!("error: {place}: {e}")])?;
                    out.push_str(&json);
                    out.push('\n');
                }
            }
        }
        Ok(out)
    }
}

fn yaml_of(piece: &Piece) -> String {
    match piece {
        Piece::Same(Document {
            text: Some(text), ..
        }) => text.clone(),
        Piece::Same(document) => yaml::emit(&document.node),
        Piece::Changed { document, node } => {
            spliced(document, node).unwrap_or_else(|| yaml::emit(node))
        }
    }
}

fn json_of(piece: &Piece) -> Result<String, String> {
    let node = match piece {
        Piece::Same(Document {
            json: Some(json), ..
        }) => return Ok(json.clone()),
        Piece::Same(document) => &document.node,
        Piece::Changed { node, .. } => node,
    };
    let json = node
        .to_json()
        .map_err(|e| format!("cannot be written as JSON: {}", e.trim_start_matches('.')))?;
    serde_json::to_string_pretty(&json).map_err(|e| format!("cannot be written as JSON: {e}"))
}

/// Adds a document to the stream, with a `---` line unless it starts with its own.
fn append_yaml(output: &mut String, piece: &str) {
    if !output.is_empty() && !yaml::is_marker(piece, "---") {
        output.push_str("---\n");
    }
    output.push_str(piece);
    if !piece.ends_with('\n') {
        output.push('\n');
    }
}

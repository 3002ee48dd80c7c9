//! Where manifests come from, with kubectl's habits: files, `-` for standard input, and
//! directories (their `.yaml`, `.yml` and `.json` files, in name order; subdirectories with
//! `--recursive`).

use std::io::Read;
use std::path::{Path, PathBuf};

/// How standard input is named in messages.
pub const STDIN_NAME: &str = "<stdin>";
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// One input: its name for messages, and its text.
pub struct Input {
    pub name: String,
    pub text: String,
}

impl Input {
    /// The input's documents, or the error line naming the input and the document that fails.
    pub fn documents(&self) -> Result<Vec<crate::yaml::Document>, Vec<String>> {
        crate::yaml::load_stream(&self.text).map_err(|e| {
            vec![format!(
                "error: {} document {}: cannot parse the manifest: {}",
                self.name, e.document, e.message
            )]
        })
    }
}

/// Every input, in the order given; errors for all that cannot be read.
pub fn read_all(
    paths: &[PathBuf],
    recursive: bool,
    stdin: &mut dyn Read,
) -> Result<Vec<Input>, Vec<String>> {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match read_path(path, recursive, stdin) {
            Ok(mut read) => inputs.append(&mut read),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(inputs)
    } else {
        Err(errors)
    }
}

fn read_path(path: &Path, recursive: bool, stdin: &mut dyn Read) -> Result<Vec<Input>, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read {STDIN_NAME}: {e}"))?;
        return Ok(vec![Input {
            name: STDIN_NAME.to_owned(),
            text,
        }]);
    }
    let name = path.display().to_string();
    if path.is_dir() {
        let mut files = Vec::new();
        manifests_in(path, recursive, &mut files)?;
        if files.is_empty() {
            let deeper = if recursive {
                ""
            } else {
                " (add -R for its subdirectories)"
            };
            return Err(format!(
                "{name} is a directory without manifests (.yaml, .yml or .json files){deeper}"
            ));
        }
        return files.iter().map(|f| read_file(f)).collect();
    }
    read_file(path).map(|input| vec![input])
}

fn read_file(path: &Path) -> Result<Input, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    Ok(Input { name, text })
}

/// The manifest files of a directory in name order, and of its subdirectories if `recursive`.
fn manifests_in(dir: &Path, recursive: bool, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if recursive {
                manifests_in(&path, recursive, files)?;
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e))
        {
            files.push(path);
        }
    }
    Ok(())
}

//! What the command-line tests share: the example trust anchors, the program run in-process,
//! and manifests read as kubectl reads them.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// A path relative to the command line's crate, as the program takes it.
pub fn cli_path(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(relative)
        .display()
        .to_string()
}

pub fn trust_anchors() -> String {
    cli_path("../examples/trust-anchors.pem")
}

/// One run of the program, in-process.
pub struct Run {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str], stdin: &str) -> Run {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let all = std::iter::once("dapr-inject").chain(args.iter().copied());
    let code = dapr_inject::run(all, &mut stdin.as_bytes(), &mut stdout, &mut stderr);
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// The documents of a YAML or JSON stream, as kubectl reads them (YAML 1.1: `0644` is 420).
pub fn documents(text: &str) -> Vec<Value> {
    dapr_inject::yaml::load_stream(text)
        .unwrap()
        .iter()
        .map(|d| d.node.to_json().unwrap())
        .collect()
}

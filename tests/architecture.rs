//! The building's rules, held against the code: `src/` shows the layers as folders, every
//! `crate::` or `super::` reference goes down the layers, no folder's files import each other
//! in a loop, the ground floor imports nothing, and no function outside tests runs past 80
//! lines. Read from the sources as text, as a reviewer would.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules from the ground up: each may use only those of a lower rank.
const LAYERS: &[(&str, u8)] = &[
    ("base", 0),
    ("annotations", 1),
    ("plan", 1),
    ("cluster", 1),
    ("authz", 2),
    ("pod", 2),
    ("profiles", 2),
    ("settings", 3),
    ("sidecar", 4),
    ("admission", 5),
    ("shell", 6),
    ("lib", 7),
];

/// Most entries at the top of `src/`.
const MAX_TOP_ENTRIES: usize = 12;
/// Longest function outside tests, in lines.
const MAX_FUNCTION_LINES: usize = 80;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without its test module, comments and string literals' contents.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `src/sidecar/args.rs` -> `["sidecar", "args"]`; a `mod.rs` is its folder.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(root().join("src")).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The modules a file refers to: `crate::a::b` and `super::b`, resolved to the longest path
/// that is a module of the crate.
fn references(path: &Path, modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let here = module_of(path);
    let code = code(path);
    let mut found = BTreeSet::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", here[..here.len().saturating_sub(1)].to_vec()),
    ] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let mut target = base.clone();
            let mut best = None;
            for segment in rest.split("::") {
                let name: String = segment
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if name.is_empty() {
                    break;
                }
                target.push(name);
                if modules.contains(&target) {
                    best = Some(target.clone());
                }
            }
            let best = best.unwrap_or_else(|| base.clone());
            if best != here {
                found.insert(best);
            }
        }
    }
    found
}

fn rank(module: &[String]) -> u8 {
    let top = module.first().map_or("lib", String::as_str);
    LAYERS
        .iter()
        .find(|(name, _)| *name == top)
        .unwrap_or_else(|| panic!("{top} is not in LAYERS: give it its place"))
        .1
}

fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    files
        .iter()
        .map(|f| (module_of(f), references(f, &modules)))
        .collect()
}

#[test]
fn every_reference_between_top_level_modules_goes_down_the_layers() {
    let mut upward = Vec::new();
    for (from, targets) in graph() {
        for to in targets {
            if from.first() != to.first() && rank(&to) >= rank(&from) {
                upward.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(upward.is_empty(), "upward or sideways: {upward:#?}");
}

#[test]
fn inside_a_folder_no_file_uses_its_face_and_no_files_import_each_other_in_a_loop() {
    let graph = graph();
    let mut faults = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            if from.len() > to.len() && from.starts_with(to) && !to.is_empty() {
                faults.push(format!("{} uses its folder's mod.rs", from.join("::")));
            }
        }
    }
    // Depth-first search for a loop.
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
        faults: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|n| n == node) {
            let cycle: Vec<String> = path[at..].iter().map(|m| m.join("::")).collect();
            faults.push(format!("loop: {}", cycle.join(" -> ")));
            return;
        }
        if !done.insert(node.clone()) {
            return;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, faults);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut faults);
    }
    assert!(faults.is_empty(), "{faults:#?}");
}

#[test]
fn the_ground_floor_imports_nothing_of_the_crate() {
    let mut faults = Vec::new();
    for (from, targets) in graph() {
        let leaf = from.first().is_some_and(|m| m == "base") && from.len() > 1;
        if leaf && !(from.len() == 2 && from[1] == "k8s") {
            for to in targets.iter().filter(|t| !t.is_empty()) {
                faults.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(faults.is_empty(), "{faults:#?}");
}

#[test]
fn src_shows_at_most_a_dozen_entries() {
    let entries: Vec<String> = fs::read_dir(root().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(entries.len() <= MAX_TOP_ENTRIES, "{entries:?}");
    for entry in &entries {
        let module = entry.trim_end_matches(".rs");
        assert!(
            LAYERS.iter().any(|(name, _)| *name == module),
            "{entry} has no place in LAYERS"
        );
    }
}

/// The functions of a file outside its tests, as (name, first line, length).
fn functions(path: &Path) -> Vec<(String, usize, usize)> {
    let text = fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let trimmed = line.trim_start();
        let Some(at) = trimmed.find("fn ") else {
            continue;
        };
        let head = &trimmed[..at];
        let words = [
            "pub ",
            "pub(crate) ",
            "const ",
            "unsafe ",
            "extern \"C\" ",
            "async ",
        ];
        let mut rest = head;
        while let Some(word) = words.iter().find(|w| rest.starts_with(**w)) {
            rest = &rest[word.len()..];
        }
        if !rest.is_empty() {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let name: String = trimmed[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let body_end = lines[i..].iter().position(|l| {
            l.len() > indent && l[..indent].trim().is_empty() && l[indent..].starts_with('}')
        });
        if let Some(end) = body_end {
            found.push((name, i + 1, end + 1));
        }
    }
    found
}

#[test]
fn no_function_outside_tests_runs_past_80_lines() {
    let mut files = Vec::new();
    for dir in ["src", "cli/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    let mut long = Vec::new();
    for file in files {
        for (name, line, length) in functions(&file) {
            if length > MAX_FUNCTION_LINES {
                long.push(format!("{}:{line} {name}: {length} lines", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "{long:#?}");
}

#[test]
fn the_function_measure_counts_a_whole_body() {
    let dir = std::env::temp_dir().join("architecture-measure");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sample.rs");
    fs::write(
        &file,
        "pub fn three() {\n    a();\n}\n\nfn nested() -> u8 {\n    if x {\n    }\n    1\n}\n",
    )
    .unwrap();
    assert_eq!(
        functions(&file),
        vec![("three".to_owned(), 1, 3), ("nested".to_owned(), 5, 5)]
    );
}

/// The files that name one annotation's field specifically, its row's file included, for one
/// layout: the current builders, or 0.11's. A reader written for one type of value does not
/// count, as Dapr's own generic annotation parser does not.
fn files_naming(field: &str, layout_0_11: bool) -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let needles = [
        format!("keys::{field}"),
        format!("annotations.{field}"),
        format!("fn {field}("),
    ];
    let mut found = BTreeSet::from(["src/annotations/table.rs".to_owned()]);
    for file in files {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let builder = name.starts_with("src/sidecar/");
        let other_layout = if layout_0_11 {
            builder && name != "src/sidecar/v0_11.rs"
        } else {
            name == "src/sidecar/v0_11.rs"
        };
        let code = code(&file);
        let names_it = needles.iter().any(|needle| {
            code.match_indices(needle.as_str()).any(|(at, _)| {
                !code[at + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            })
        });
        if names_it && !other_layout {
            found.insert(name);
        }
    }
    found
}

/// From an annotation's row to its whole behaviour in at most as many files as Dapr's injector
/// needs for it (issue 24's table), in each layout.
#[test]
fn every_annotation_is_as_few_files_from_its_row_as_in_dapr() {
    for (field, dapr_files) in [
        // Dapr's two, and the port-collision check Dapr lacks (sidecar/traps.rs).
        ("app_port", 3),
        ("sidecar_cpu_limit", 2),
        ("inject_pluggable_components", 5),
        ("app_id", 4),
    ] {
        for layout_0_11 in [false, true] {
            let files = files_naming(field, layout_0_11);
            assert!(
                files.len() <= dapr_files,
                "{field} (0.11 layout: {layout_0_11}) is in {} files, Dapr's in {dapr_files}: {files:?}",
                files.len()
            );
        }
    }
}

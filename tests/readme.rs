//! The README documents what the code does: every annotation row comes from the table in
//! `src/annotations/table.rs`, every setting row from `src/settings/table.rs`.

use dapr_sidecar_injector::{ANNOTATIONS, SETTINGS};

fn readme() -> String {
    std::fs::read_to_string("README.md").expect("README.md")
}

/// The README row of one annotation.
pub fn annotation_row(
    key: &str,
    type_name: &str,
    default: &str,
    since: &str,
    effect: &str,
) -> String {
    format!("| `{key}` | {type_name} | {default} | {since} | {effect} |")
}

#[test]
fn the_readme_lists_every_annotation_with_its_type_default_and_effect() {
    let readme = readme();
    let missing: Vec<String> = ANNOTATIONS
        .iter()
        .map(|a| annotation_row(a.key, a.type_name, a.default, a.since.name(), a.effect))
        .filter(|row| !readme.contains(row.as_str()))
        .collect();
    let table: Vec<String> = ANNOTATIONS
        .iter()
        .map(|a| annotation_row(a.key, a.type_name, a.default, a.since.name(), a.effect))
        .collect();
    assert!(
        missing.is_empty(),
        "README rows missing or outdated:\n{}\n\nThe whole table:\n{}\n",
        missing.join("\n"),
        table.join("\n")
    );
}

/// Each setting's README row is its row in `src/settings/table.rs`, word for word, in the
/// Settings section (other tables name settings too).
#[test]
fn the_readme_rows_of_the_settings_are_the_settings_table() {
    let text = readme();
    let start = text.find("\n## Settings\n").expect("a Settings section");
    let end = text[start..]
        .find("\n## Annotations\n")
        .expect("then Annotations")
        + start;
    let readme = &text[start..end];
    let missing: Vec<String> = SETTINGS
        .iter()
        .map(|s| format!("| `{}` | {} | {} | {} |", s.key, s.default, s.dapr, s.doc))
        .filter(|row| !readme.contains(row.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "README rows missing or outdated:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_ci_script_runs_the_readme_commands() {
    let readme = readme();
    let ci = std::fs::read_to_string(".ci/run").expect(".ci/run");
    for command in ["make example", "make test e2e-tests"] {
        assert!(
            readme.contains(&format!("\n{command}\n")),
            "README lacks `{command}`"
        );
        assert!(
            ci.contains(&format!("\n{command}\n")),
            ".ci/run lacks `{command}`"
        );
    }
}

/// The README is the five-minute usage doc: at most 1,500 words outside its tables. Details go
/// to `docs/`, linked from a short summary.
#[test]
fn the_readme_stays_a_five_minute_read() {
    let words: usize = readme()
        .lines()
        .filter(|line| !line.starts_with('|'))
        .map(|line| line.split_whitespace().count())
        .sum();
    assert!(
        words <= 1500,
        "the README has {words} words outside its tables"
    );
}

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
//!
//! - `node.rs`: the value and its JSON;
//! - `reader.rs`: streams, documents and the go-yaml v2 loader;
//! - `scalar.rs`: go-yaml v2's rules for scalars and keys;
//! - `emitter.rs`: YAML written back;
//! - `splice.rs`: injected documents written back with their untouched lines.

mod emitter;
mod node;
mod reader;
mod scalar;
pub mod splice;

pub use emitter::{double_quoted, emit, emit_entry};
pub use node::Node;
pub(crate) use reader::is_marker;
pub use reader::{Document, ParseError, load_stream};
pub use scalar::resolve_plain;
pub(crate) use scalar::{key_string, resolve_scalar};

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;
    use serde_json::Value;

    use super::emitter::*;
    use super::reader::*;
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

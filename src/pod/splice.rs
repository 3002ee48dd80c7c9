//! The Pod's text with the additions spliced in where the scan's [`Layout`] points: only
//! additions, only where Dapr's `GetPatch` adds; every other byte is copied as it came.

use serde_json::{Map, Value};

use super::scan::{Layout, Span};
use super::view::PodView;
use crate::base::json::to_text;
use crate::plan::{Edits, Item, ListEdit};

fn write_items(items: &[&Item], out: &mut String) {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&item.json);
    }
}

/// Text inserted at an offset of the Pod's JSON, or replacing `start..end`: `text`, then the
/// items, comma-separated, written straight from the plan (daprd's container is most of it).
struct Edit<'a> {
    start: usize,
    end: usize,
    text: String,
    items: &'a [&'a Item],
}

/// Members for an object of the Pod, written before its closing brace.
struct Members {
    object: Span,
    text: String,
}

impl Members {
    fn of(object: Span) -> Self {
        Members {
            object,
            text: String::new(),
        }
    }

    fn key(&mut self, key: &str) {
        if !self.object.empty || !self.text.is_empty() {
            self.text.push(',');
        }
        self.text.push_str(&to_text(key));
        self.text.push(':');
    }

    fn into_edit<'a>(self) -> Option<Edit<'a>> {
        (!self.text.is_empty()).then_some(Edit {
            start: self.object.close,
            end: self.object.close,
            text: self.text,
            items: &[],
        })
    }
}

/// Appends a list's additions, or makes the list a member of its parent.
fn add_list<'a>(
    edits: &mut Vec<Edit<'a>>,
    parent: &mut Members,
    key: &str,
    list: Option<Span>,
    additions: &'a ListEdit<'a>,
) {
    if !additions.touched {
        return;
    }
    match list {
        Some(_) if additions.items.is_empty() => {}
        Some(list) => edits.push(Edit {
            start: list.close,
            end: list.close,
            text: if list.empty { "" } else { "," }.to_owned(),
            items: &additions.items,
        }),
        None => {
            parent.key(key);
            parent.text.push('[');
            write_items(&additions.items, &mut parent.text);
            parent.text.push(']');
        }
    }
}

/// The labels: appended to the Pod's own, or the whole map rewritten when one of the keys is
/// taken (a second key of the same name would not overwrite it).
fn add_labels(
    edits: &mut Vec<Edit<'_>>,
    layout: &Layout,
    view: &PodView,
    labels: &[(&str, String)],
) {
    let taken = labels.iter().any(|(key, _)| view.labels.contains_key(*key));
    match (layout.labels, layout.metadata) {
        (Some(span), _) if taken => {
            let mut merged = view.labels.clone();
            for (key, value) in labels {
                merged.insert((*key).to_owned(), Value::String(value.clone()));
            }
            edits.push(Edit {
                start: span.open,
                end: span.close.saturating_add(1),
                text: to_text(&merged),
                items: &[],
            });
        }
        (Some(span), _) => {
            let mut members = Members::of(span);
            for (key, value) in labels {
                members.key(key);
                members.text.push_str(&to_text(value));
            }
            edits.extend(members.into_edit());
        }
        (None, metadata) => {
            let map: Map<String, Value> = labels
                .iter()
                .map(|(key, value)| ((*key).to_owned(), Value::String(value.clone())))
                .collect();
            let (object, text) = match metadata {
                Some(metadata) => (metadata, to_text(&map)),
                None => (layout.root, format!("{{\"labels\":{}}}", to_text(&map))),
            };
            let mut members = Members::of(object);
            members.key(if metadata.is_some() {
                "labels"
            } else {
                "metadata"
            });
            members.text.push_str(&text);
            edits.extend(members.into_edit());
        }
    }
}

/// The edits on the Pod's text. The result parses to the `Value` that the `Value` writer
/// makes of the same Pod.
pub fn splice(text: &str, layout: &Layout, view: &PodView, edits: &Edits<'_>) -> String {
    let mut changes = Vec::new();
    if !edits.labels.is_empty() {
        add_labels(&mut changes, layout, view, edits.labels);
    }
    for ((container, env), mounts) in layout.container.iter().zip(&edits.env).zip(&edits.mounts) {
        let mut members = Members::of(container.object);
        add_list(&mut changes, &mut members, "env", container.env, env);
        let mounts_span = container.volume_mounts;
        add_list(
            &mut changes,
            &mut members,
            "volumeMounts",
            mounts_span,
            mounts,
        );
        changes.extend(members.into_edit());
    }
    let mut members = Members::of(layout.spec);
    let lists = [
        ("volumes", layout.volumes, &edits.volumes),
        ("containers", layout.containers, &edits.containers),
        (
            "initContainers",
            layout.init_containers,
            &edits.init_containers,
        ),
    ];
    for (key, span, list) in lists {
        add_list(&mut changes, &mut members, key, span, list);
    }
    changes.extend(members.into_edit());
    apply_in_order(text, changes)
}

/// Room left after the Pod for what the policy's answer writes around it (150 bytes plus the
/// app id and the image, without warnings), so that the answer is built in this buffer, not
/// in a copy.
pub const ANSWER_ROOM: usize = 512;

/// Writes the text with each change at its offset.
fn apply_in_order(text: &str, mut changes: Vec<Edit<'_>>) -> String {
    // A handful of edits: an insertion sort, as std's sorts add about 4 KB to the module.
    for n in 1..changes.len() {
        let mut k = n;
        while k > 0
            && changes.get(k.saturating_sub(1)).map(|e| e.start) > changes.get(k).map(|e| e.start)
        {
            changes.swap(k.saturating_sub(1), k);
            k = k.saturating_sub(1);
        }
    }
    let items = |edit: &Edit| -> usize {
        edit.items
            .iter()
            .map(|i| i.json.len().saturating_add(1))
            .sum()
    };
    let extra: usize = changes
        .iter()
        .map(|e| e.text.len().saturating_add(items(e)))
        .sum();
    let capacity = text.len().saturating_add(extra).saturating_add(ANSWER_ROOM);
    let mut out = String::with_capacity(capacity);
    let mut from = 0;
    for change in changes {
        out.push_str(text.get(from..change.start).unwrap_or_default());
        out.push_str(&change.text);
        write_items(change.items, &mut out);
        from = change.end;
    }
    out.push_str(text.get(from..).unwrap_or_default());
    out
}

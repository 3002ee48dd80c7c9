//! The Pod's JSON text as the API server sends it, read in one pass: the [`PodView`] and the
//! places where the splice inserts each addition. Building a `Value` tree of the whole Pod and
//! serialising it again is most of an evaluation's cost, and the policy needs only these few
//! fields. Text of any other shape (nulls or wrong types where the view reads, escaped or
//! repeated keys) gives `None`, and the caller parses a `Value` instead, which names the fault.

use serde_json::{Map, Value};

use crate::base::json::quote_or_backslash;

use super::view::{
    ContainerView, NODE_SELECTOR_OS_KEY, OS_NAME_KEY, PodView, SERVICE_ACCOUNT_MOUNT_PATH, Unread,
    member, port_numbers,
};

/// An object or a list in the text: the offsets of its brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub open: usize,
    pub close: usize,
    pub empty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLayout {
    pub object: Span,
    pub env: Option<Span>,
    pub volume_mounts: Option<Span>,
}

/// Where the additions go. A list or map the Pod lacks is `None`: it is added to its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub root: Span,
    pub metadata: Option<Span>,
    pub labels: Option<Span>,
    pub spec: Span,
    pub volumes: Option<Span>,
    pub containers: Option<Span>,
    pub container: Vec<ContainerLayout>,
    pub init_containers: Option<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawPod<'a> {
    pub text: &'a str,
    pub view: PodView,
    pub layout: Layout,
}

impl<'a> RawPod<'a> {
    /// Reads `text`, which must be valid JSON (serde_json checked it as a raw value).
    pub fn scan(text: &'a str) -> Option<RawPod<'a>> {
        let mut scanner = Scanner { text, pos: 0 };
        let (view, layout) = scanner.pod()?;
        scanner.ws();
        (scanner.pos == text.len()).then_some(RawPod { text, view, layout })
    }
}

/// Parses a piece of the text. From bytes, as the payload is: serde_json's reader for `&str`
/// would be a second copy of the whole deserializer in the module.
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_slice(text.as_bytes()).ok()
}

/// Marks a key as read, refusing a second one: `Value` keeps the last, the splice the first.
fn once(seen: &mut u16, bit: u16) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// The bytes not yet read. The loops below run over slices: indexing one byte at a time
    /// would cost a bounds check per byte. The small helpers are inlined even at `opt-level`
    /// "z", where calls would dominate the scan.
    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    #[inline(always)]
    fn advance(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    #[inline(always)]
    fn skip(&mut self, count: usize) {
        self.pos = self.pos.saturating_add(count);
    }

    #[inline(always)]
    fn ws(&mut self) {
        let blanks = self
            .rest()
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
            .count();
        self.skip(blanks);
    }

    #[inline(always)]
    fn byte(&mut self, wanted: u8) -> Option<()> {
        self.ws();
        (self.peek()? == wanted).then(|| self.advance())
    }

    /// A string's raw contents, between the quotes, and whether it holds escapes.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        self.byte(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let stop = quote_or_backslash(self.rest())?;
            self.skip(stop);
            if self.peek()? == b'"' {
                break;
            }
            escaped = true;
            self.skip(2);
        }
        let raw = self.text.get(start..self.pos)?;
        self.advance();
        Some((raw, escaped))
    }

    fn string_value(&mut self) -> Option<String> {
        self.ws();
        let start = self.pos;
        let (raw, escaped) = self.string()?;
        if !escaped {
            return Some(raw.to_owned());
        }
        parse(self.text.get(start..self.pos)?)
    }

    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    let stop = self
                        .rest()
                        .iter()
                        .position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
                    self.skip(stop);
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth = depth.saturating_add(1),
                        _ => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                self.advance();
                                return Some(());
                            }
                        }
                    }
                    self.advance();
                }
            }
            _ => {
                let scalar = self
                    .rest()
                    .iter()
                    .take_while(|b| !matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                    .count();
                self.skip(scalar);
                Some(())
            }
        }
    }

    /// A list the view keeps unread: its text, checked to be a list as the `Value` path
    /// checks it.
    fn unread_list(&mut self) -> Option<Unread> {
        self.ws();
        (self.peek()? == b'[').then_some(())?;
        let start = self.pos;
        self.skip_value()?;
        Some(Unread::of_text(self.text.get(start..self.pos)?))
    }

    /// The value's text, parsed on its own (small maps and lists the view keeps whole).
    fn parsed<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        self.ws();
        let start = self.pos;
        self.skip_value()?;
        parse(self.text.get(start..self.pos)?)
    }

    /// A map of (mostly) strings, such as annotations, read without a serde pass of its own.
    fn string_map(&mut self, map: &mut Map<String, Value>) -> Option<Span> {
        self.object(|s, key| {
            s.ws();
            let value = if s.peek()? == b'"' {
                Value::String(s.string_value()?)
            } else {
                s.parsed()?
            };
            map.insert(key.to_owned(), value);
            Some(())
        })
    }

    /// Walks an object or a list between its brackets; `entry` reads or skips one member or
    /// item.
    fn bracketed(
        &mut self,
        open_byte: u8,
        close_byte: u8,
        mut entry: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<Span> {
        self.ws();
        let open = self.pos;
        self.byte(open_byte)?;
        self.ws();
        let empty = self.peek()? == close_byte;
        if !empty {
            loop {
                entry(self)?;
                self.ws();
                match self.peek()? {
                    b',' => self.advance(),
                    b if b == close_byte => break,
                    _ => return None,
                }
            }
        }
        let close = self.pos;
        self.advance();
        Some(Span { open, close, empty })
    }

    /// Walks an object; `member` reads or skips each value. Escaped keys are left to the
    /// `Value` path.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<Span> {
        self.bracketed(b'{', b'}', |s| {
            let (key, escaped) = s.string()?;
            if escaped {
                return None;
            }
            s.byte(b':')?;
            member(s, key)
        })
    }

    fn list(&mut self, item: impl FnMut(&mut Self) -> Option<()>) -> Option<Span> {
        self.bracketed(b'[', b']', item)
    }

    /// A list of objects whose `name` (when it is there) is kept.
    fn names(&mut self, names: &mut Vec<String>) -> Option<Span> {
        self.list(|s| {
            let mut seen = 0;
            s.object(|s, key| match key {
                "name" => {
                    once(&mut seen, 1)?;
                    names.push(s.string_value()?);
                    Some(())
                }
                _ => s.skip_value(),
            })
            .map(drop)
        })
    }

    fn volume_mounts(
        &mut self,
        container: &mut ContainerView,
        service_account_mount: &mut Unread,
    ) -> Option<Span> {
        self.list(|s| {
            let (mut seen, mut path) = (0, String::new());
            let span = s.object(|s, key| match key {
                "name" => {
                    once(&mut seen, 1)?;
                    container.mount_names.push(s.string_value()?);
                    Some(())
                }
                "mountPath" => {
                    once(&mut seen, 2)?;
                    path = s.string_value()?;
                    Some(())
                }
                _ => s.skip_value(),
            })?;
            if seen & 2 != 0 {
                if path == SERVICE_ACCOUNT_MOUNT_PATH && service_account_mount.is_absent() {
                    *service_account_mount = Unread::of_text(s.text.get(span.open..=span.close)?);
                }
                container.mount_paths.push(path);
            }
            Some(())
        })
    }

    fn container(&mut self, view: &mut PodView, layouts: &mut Vec<ContainerLayout>) -> Option<()> {
        let mut container = ContainerView::default();
        let (mut env, mut volume_mounts, mut seen) = (None, None, 0);
        let object = self.object(|s, key| match key {
            "name" => {
                once(&mut seen, 1)?;
                container.name = s.string_value()?;
                Some(())
            }
            "env" => {
                once(&mut seen, 2)?;
                env = Some(s.names(&mut container.env_names)?);
                Some(())
            }
            "volumeMounts" => {
                once(&mut seen, 4)?;
                volume_mounts =
                    Some(s.volume_mounts(&mut container, &mut view.service_account_mount)?);
                Some(())
            }
            "ports" => {
                once(&mut seen, 8)?;
                container.ports = port_numbers(&s.parsed()?);
                Some(())
            }
            _ => s.skip_value(),
        })?;
        view.containers.push(container);
        layouts.push(ContainerLayout {
            object,
            env,
            volume_mounts,
        });
        Some(())
    }

    fn metadata(&mut self, view: &mut PodView, labels: &mut Option<Span>) -> Option<Span> {
        let mut seen = 0;
        self.object(|s, key| match key {
            "name" => {
                once(&mut seen, 1)?;
                view.name = s.string_value()?;
                Some(())
            }
            "generateName" => {
                once(&mut seen, 2)?;
                view.generate_name = s.string_value()?;
                Some(())
            }
            "annotations" => {
                once(&mut seen, 4)?;
                s.string_map(&mut view.annotations)?;
                Some(())
            }
            "labels" => {
                once(&mut seen, 8)?;
                let span = s.string_map(&mut view.labels)?;
                view.has_labels = !span.empty;
                *labels = Some(span);
                Some(())
            }
            "ownerReferences" => {
                once(&mut seen, 16)?;
                view.owner_references = s.unread_list()?;
                Some(())
            }
            _ => s.skip_value(),
        })
    }

    fn spec(&mut self, view: &mut PodView, layout: &mut Layout) -> Option<Span> {
        let mut seen = 0;
        self.object(|s, key| match key {
            "containers" => {
                once(&mut seen, 1)?;
                let mut containers = Vec::new();
                layout.containers = Some(s.list(|s| s.container(view, &mut containers))?);
                layout.container = containers;
                Some(())
            }
            "initContainers" => {
                once(&mut seen, 2)?;
                layout.init_containers = Some(s.names(&mut view.init_container_names)?);
                Some(())
            }
            "volumes" => {
                once(&mut seen, 4)?;
                layout.volumes = Some(s.names(&mut view.volume_names)?);
                Some(())
            }
            "tolerations" => {
                once(&mut seen, 8)?;
                view.tolerations = s.unread_list()?;
                Some(())
            }
            "serviceAccountName" => {
                once(&mut seen, 16)?;
                view.service_account_name = s.string_value()?;
                Some(())
            }
            "hostNetwork" => {
                once(&mut seen, 32)?;
                view.host_network = s.parsed::<Value>()?.as_bool() == Some(true);
                Some(())
            }
            "os" => {
                once(&mut seen, 64)?;
                view.os_name = member(Some(&s.parsed()?), OS_NAME_KEY);
                Some(())
            }
            "nodeSelector" => {
                once(&mut seen, 128)?;
                view.node_selector_os = member(Some(&s.parsed()?), NODE_SELECTOR_OS_KEY);
                Some(())
            }
            _ => s.skip_value(),
        })
    }

    fn pod(&mut self) -> Option<(PodView, Layout)> {
        let mut view = PodView::default();
        let empty = Span {
            open: 0,
            close: 0,
            empty: true,
        };
        let mut layout = Layout {
            root: empty,
            metadata: None,
            labels: None,
            spec: empty,
            volumes: None,
            containers: None,
            container: Vec::new(),
            init_containers: None,
        };
        let (mut seen, mut labels) = (0, None);
        let root = self.object(|s, key| match key {
            "metadata" => {
                once(&mut seen, 1)?;
                layout.metadata = Some(s.metadata(&mut view, &mut labels)?);
                Some(())
            }
            "spec" => {
                once(&mut seen, 2)?;
                layout.spec = s.spec(&mut view, &mut layout)?;
                Some(())
            }
            _ => s.skip_value(),
        })?;
        // A Pod without a spec is refused with a message from the `Value` path.
        if seen & 2 == 0 {
            return None;
        }
        layout.root = root;
        layout.labels = labels;
        Some((view, layout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same_view_as_value(text: &str) -> PodView {
        let raw = RawPod::scan(text).expect("the raw path reads it");
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(raw.view, PodView::from_json(&value).unwrap());
        raw.view
    }

    #[test]
    fn the_view_read_from_text_equals_the_view_read_from_a_value() {
        let view = same_view_as_value(
            r#"{"apiVersion":"v1","kind":"Pod",
               "metadata":{"generateName":"web-7c9d-","namespace":"default",
                  "labels":{"app":"web","pod-template-hash":"7c9d"},
                  "annotations":{"dapr.io/enabled":"true","dapr.io/env":"A=\"1\""},
                  "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7c9d","uid":"u","controller":true}]},
               "spec":{"serviceAccountName":"web",
                  "tolerations":[{"key":"k","operator":"Exists"}],
                  "initContainers":[{"name":"init","image":"busybox"}],
                  "hostNetwork":true,"os":{"name":"windows"},"nodeSelector":{"kubernetes.io/os":"linux"},
                  "containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80},{"containerPort":3500,"protocol":"TCP"}],
                      "env":[{"name":"A","value":"[x]"},{"name":"B\u00e9","valueFrom":{"fieldRef":{"fieldPath":"x"}}}],
                      "volumeMounts":[{"name":"kube-api-access-abcde","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}]},
                    {"name":"side"}],
                  "volumes":[{"name":"kube-api-access-abcde","projected":{"sources":[]}}]}}"#,
        );
        assert_eq!(view.containers[0].ports, vec![80, 3500]);
        assert!(view.host_network);
        assert_eq!(
            (view.os_name.as_str(), view.node_selector_os.as_str()),
            ("windows", "linux")
        );
        same_view_as_value(r#" { "spec" : { } , "metadata" : { "labels" : { } } } "#);
    }

    #[test]
    fn the_layout_points_at_the_brackets() {
        let text = r#"{"metadata":{},"spec":{"containers":[{"name":"a","env":[]}]}}"#;
        let layout = RawPod::scan(text).unwrap().layout;
        let at = |i: usize| text.as_bytes()[i] as char;
        assert_eq!((at(layout.root.open), at(layout.root.close)), ('{', '}'));
        assert_eq!(layout.root.close, text.len() - 1);
        let metadata = layout.metadata.unwrap();
        assert!(metadata.empty);
        assert_eq!(&text[metadata.open..=metadata.close], "{}");
        let containers = layout.containers.unwrap();
        assert_eq!(at(containers.close), ']');
        let env = layout.container[0].env.unwrap();
        assert_eq!(&text[env.open..=env.close], "[]");
        assert_eq!(layout.container[0].volume_mounts, None);
        assert_eq!(layout.labels, None);
    }

    #[test]
    fn unusual_shapes_are_left_to_the_value_path() {
        for text in [
            r#"{"metadata":{}}"#,
            r#"{"spec":null}"#,
            r#"{"metadata":null,"spec":{}}"#,
            r#"{"metadata":{"labels":null},"spec":{}}"#,
            r#"{"spec":{"containers":[{"name":"a","env":null}]}}"#,
            r#"{"spec":{"containers":[{"name":1}]}}"#,
            r#"{"spec":{"containers":["a"]}}"#,
            r#"{"spec":{},"spec":{}}"#,
            r#"{"spec":{"volumes":[],"volumes":[]}}"#,
            r#"{"metadata":{"labels":{},"labels":{}},"spec":{}}"#,
            r#"{"spe\u0063":{}}"#,
            r#"{"metadata":{"annotations":[]},"spec":{}}"#,
            r#"[]"#,
            r#"null"#,
        ] {
            assert_eq!(RawPod::scan(text), None, "{text}");
        }
    }

    #[test]
    fn fields_the_view_does_not_read_may_take_any_shape() {
        let pod = json!({"spec": {"containers": [{"name": "a", "args": ["}", "]", "\"{"], "x": null}],
                                  "other": [[{}], {"a": [1, 2.5e3, true, null]}]},
                         "status": {"phase": "Pending"}});
        same_view_as_value(&pod.to_string());
        same_view_as_value(&serde_json::to_string_pretty(&pod).unwrap());
    }
}

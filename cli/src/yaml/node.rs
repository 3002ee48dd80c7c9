//! The YAML value as go-yaml v2 resolves it, and its JSON.

use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::emitter::float_text;

/// A YAML value as go-yaml v2 resolves it, with map keys as the JSON strings they become.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(IndexMap<String, Node>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(map) => map.get(key),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(map) => map.get_mut(key),
            _ => None,
        }
    }

    /// The node at a path of map keys.
    pub fn pointer(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn pointer_mut(&mut self, path: &[&str]) -> Option<&mut Node> {
        path.iter().try_fold(self, |node, key| node.get_mut(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON the API server would receive, or where a number JSON cannot hold is.
    pub fn to_json(&self) -> Result<Value, String> {
        self.to_json_at("")
    }

    /// [`Node::to_json`], with the path of this node for the message.
    pub fn to_json_at(&self, path: &str) -> Result<Value, String> {
        match self {
            Node::Null => Ok(Value::Null),
            Node::Bool(b) => Ok(Value::Bool(*b)),
            Node::Int(i) => Ok(Value::from(*i)),
            Node::UInt(u) => Ok(Value::from(*u)),
            Node::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(|| format!("{path} is {}, which JSON cannot hold", float_text(*f))),
            Node::Str(s) => Ok(Value::String(s.clone())),
            Node::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| item.to_json_at(&format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Node::Map(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.to_json_at(&format!("{path}.{k}"))?)))
                .collect::<Result<serde_json::Map<_, _>, String>>()
                .map(Value::Object),
        }
    }

    /// A node from JSON, with the keys of objects in the order they have in `guide` (the node
    /// the JSON was made from), then the new keys in the JSON's order (`name` first).
    pub fn from_json(value: &Value, guide: Option<&Node>) -> Node {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Node::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Node::UInt(u)
                } else {
                    Node::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Node::Str(s.clone()),
            Value::Array(items) => {
                let guides = match guide {
                    Some(Node::Seq(g)) => g.as_slice(),
                    _ => &[],
                };
                Node::Seq(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| Node::from_json(item, guides.get(i)))
                        .collect(),
                )
            }
            Value::Object(object) => {
                let mut map = IndexMap::with_capacity(object.len());
                if let Some(Node::Map(g)) = guide {
                    for (key, old) in g {
                        if let Some(new) = object.get(key) {
                            map.insert(key.clone(), Node::from_json(new, Some(old)));
                        }
                    }
                } else if let Some(name) = object.get("name") {
                    // A new container, port or volume reads best with its name first.
                    map.insert("name".to_owned(), Node::from_json(name, None));
                }
                for (key, new) in object {
                    if !map.contains_key(key) {
                        map.insert(key.clone(), Node::from_json(new, None));
                    }
                }
                Node::Map(map)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::UInt(v), Node::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut map = IndexMap::new();
        while let Some((key, value)) = access.next_entry::<String, Node>()? {
            map.insert(key, value);
        }
        Ok(Node::Map(map))
    }
}

//! The two sides of a comparison and how `$ref`s are followed: through the schema's own
//! pointers and anchors, and to the documents its references name.

use serde_json::Value;

use super::MAX_DEPTH;

/// A schema document and the documents its `$ref`s may name.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub root: &'a Value,
    pub refs: &'a [(String, Value)],
}

#[derive(Clone, Copy)]
pub(super) struct Node<'a> {
    pub(super) v: &'a Value,
    /// The document `v` belongs to, for `#` pointers.
    pub(super) doc: &'a Value,
}

pub(super) static EMPTY: Value = Value::Bool(true);

impl<'a> Side<'a> {
    pub(super) fn node(&self) -> Node<'a> {
        Node { v: self.root, doc: self.root }
    }

    /// Follows `$ref` chains; an unresolvable reference reads as the empty schema.
    pub(super) fn resolve(&self, mut n: Node<'a>) -> Node<'a> {
        for _ in 0..MAX_DEPTH {
            let Some(r) = n.v.get("$ref").and_then(Value::as_str) else { return n };
            let (base, fragment) = r.split_once('#').unwrap_or((r, ""));
            let doc = if base.is_empty() {
                n.doc
            } else {
                match self.refs.iter().find(|(name, _)| name == base) {
                    Some((_, d)) => d,
                    None => return Node { v: &EMPTY, doc: n.doc },
                }
            };
            let fragment = unescape(fragment);
            let target = if fragment.is_empty() {
                Some(doc)
            } else if fragment.starts_with('/') {
                doc.pointer(&fragment)
            } else {
                find_anchor(doc, &fragment, 0)
            };
            match target {
                Some(v) => n = Node { v, doc },
                None => return Node { v: &EMPTY, doc: n.doc },
            }
        }
        n
    }
}

/// The subschema a plain-name fragment names: `$id: "#name"` (drafts 6-7) or
/// `$anchor: "name"` (2019-09 on).
fn find_anchor<'v>(v: &'v Value, name: &str, depth: usize) -> Option<&'v Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    match v {
        Value::Object(m) => {
            let id = m.get("$id").or_else(|| m.get("id")).and_then(Value::as_str);
            if id.and_then(|i| i.strip_prefix('#')) == Some(name)
                || m.get("$anchor").and_then(Value::as_str) == Some(name)
            {
                return Some(v);
            }
            m.values().find_map(|c| find_anchor(c, name, depth + 1))
        }
        Value::Array(a) => a.iter().find_map(|c| find_anchor(c, name, depth + 1)),
        _ => None,
    }
}

/// A `$ref` fragment is URI-encoded; `%25` and friends become the pointer's characters.
fn unescape(fragment: &str) -> String {
    percent_encoding::percent_decode_str(fragment).decode_utf8_lossy().into_owned()
}

pub(super) fn contains_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k == "$ref" || contains_ref(v)),
        Value::Array(a) => a.iter().any(contains_ref),
        _ => false,
    }
}

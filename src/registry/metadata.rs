//! Data-contract metadata bookkeeping: the canonical (sorted) form that identity hashes see,
//! the config's default ⊕ request ⊕ override merge, and the reserved `confluent:version`
//! property that tracks a version number when a client registers with an explicit version.

use serde_json::{Map, Value};

pub use crate::types::{has_confluent_version, CONFLUENT_VERSION};

/// Maps sorted by key and sets sorted, so that equal metadata hashes equally.
pub fn normalize(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, normalize(v))).collect())
        }
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut items = items;
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            items.dedup();
            Value::Array(items)
        }
        other => other,
    }
}

/// `default ⊕ specific ⊕ override`: properties and tags merged key by key (later wins),
/// sensitive sets united. `None` when all three are absent.
pub fn merge(default: Option<&Value>, specific: Option<&Value>, overrides: Option<&Value>) -> Option<Value> {
    let layers: Vec<&Map<String, Value>> =
        [default, specific, overrides].into_iter().flatten().filter_map(Value::as_object).collect();
    if layers.is_empty() {
        return specific.cloned();
    }
    let mut out = Map::new();
    for layer in layers {
        for (key, value) in layer {
            match (out.get_mut(key), value) {
                (Some(Value::Object(into)), Value::Object(from)) => {
                    into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                (Some(Value::Array(into)), Value::Array(from)) => into.extend(from.iter().cloned()),
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
    }
    Some(normalize(Value::Object(out)))
}

/// Sets `confluent:version`, creating the metadata and its properties as needed.
pub fn set_confluent_version(metadata: &mut Option<Box<Value>>, version: u32) {
    let md = &mut **metadata.get_or_insert_with(|| Box::new(Value::Object(Map::new())));
    if let Value::Object(m) = md {
        let props = m.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(p) = props {
            p.insert(CONFLUENT_VERSION.into(), Value::String(version.to_string()));
        }
    }
    *md = normalize(md.take());
}

/// Metadata as a lookup without `confluent:version` sees it: the property removed, and
/// emptied containers dropped, so that no metadata and `{}` compare equal.
pub fn without_confluent_version(metadata: Option<&Value>) -> Option<Value> {
    let mut md = metadata?.clone();
    if let Some(Value::Object(p)) = md.get_mut("properties") {
        p.remove(CONFLUENT_VERSION);
    }
    if let Value::Object(m) = &mut md {
        m.retain(|_, v| {
            !matches!(v, Value::Object(o) if o.is_empty()) && !matches!(v, Value::Array(a) if a.is_empty())
        });
        if m.is_empty() {
            return None;
        }
    }
    Some(md)
}

//! Schema tags (Confluent's `POST /subjects/{s}/versions/{v}/tags`): tags are kept in the
//! schema itself, as a `confluent:tags` array on a record (`sr_record`, path = the record's
//! name) or on a field (`sr_field`, path = record name + `.` + field name). Names match by
//! full name or by the record's short name.

use serde_json::{Map, Value};

use crate::schema::{apply_tags, no_matching_path, Entity, TagEdit};

/// Applies the additions, then the removals, to the schema text; the result is Avro JSON to
/// be parsed (and canonicalized) again. A path that names nothing is an error, as in Confluent.
pub fn edit(text: &str, add: &[TagEdit], remove: &[TagEdit]) -> Result<String, String> {
    let mut root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let edits = add.iter().map(|e| (e, true)).chain(remove.iter().map(|e| (e, false)));
    for (e, adding) in edits {
        let mut found = false;
        visit(&mut root, None, &mut |record, full, short| {
            if let Some(target) = target(record, full, short, e) {
                found = true;
                apply_tags(target, &e.tags, adding);
            }
        });
        if !found {
            return Err(no_matching_path(&e.path));
        }
    }
    Ok(root.to_string())
}

/// The object that carries the tags of `e` within `record`, if `e` addresses it.
fn target<'a>(
    record: &'a mut Map<String, Value>,
    full: &str,
    short: &str,
    e: &TagEdit,
) -> Option<&'a mut Map<String, Value>> {
    // A leading dot is the fully qualified form of a name in the null namespace.
    let names = |p: &str| {
        let p = p.strip_prefix('.').unwrap_or(p);
        p == full || p == short
    };
    match e.entity {
        Entity::Record => names(&e.path).then_some(record),
        Entity::Field => {
            let (owner, field) = e.path.rsplit_once('.')?;
            if !names(owner) {
                return None;
            }
            record
                .get_mut("fields")?
                .as_array_mut()?
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .find(|f| f.get("name").and_then(Value::as_str) == Some(field))
        }
    }
}

/// Calls `f` on every record definition with its full and short name, tracking namespaces
/// as Avro does (a dotted name is full; otherwise the nearest enclosing namespace applies).
/// Called with a record definition, its full name and its short name.
type RecordVisitor<'a> = dyn FnMut(&mut Map<String, Value>, &str, &str) + 'a;

fn visit(v: &mut Value, namespace: Option<&str>, f: &mut RecordVisitor) {
    match v {
        Value::Array(branches) => branches.iter_mut().for_each(|b| visit(b, namespace, f)),
        Value::Object(obj) => {
            let name = obj.get("name").and_then(Value::as_str).map(str::to_string);
            let is_named =
                matches!(obj.get("type").and_then(Value::as_str), Some("record" | "error" | "enum" | "fixed"));
            let mut inner_ns = namespace.map(str::to_string);
            if let (true, Some(name)) = (is_named, name) {
                let declared = obj.get("namespace").and_then(Value::as_str).map(str::to_string);
                let space = match name.rsplit_once('.') {
                    Some((space, _)) => Some(space.to_string()),
                    None => declared.or(inner_ns.clone()).filter(|n| !n.is_empty()),
                };
                let short = name.rsplit('.').next().unwrap_or(&name).to_string();
                let full = space.as_ref().map_or(short.clone(), |n| format!("{n}.{short}"));
                inner_ns = space;
                if matches!(obj.get("type").and_then(Value::as_str), Some("record" | "error")) {
                    f(obj, &full, &short);
                }
            }
            for key in ["type", "items", "values"] {
                if let Some(child) = obj.get_mut(key) {
                    visit(child, inner_ns.as_deref(), f);
                }
            }
            if let Some(Value::Array(fields)) = obj.get_mut("fields") {
                for field in fields {
                    if let Some(t) = field.get_mut("type") {
                        visit(t, inner_ns.as_deref(), f);
                    }
                }
            }
        }
        _ => {}
    }
}

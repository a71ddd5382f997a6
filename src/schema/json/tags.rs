//! Schema tags on JSON Schema subjects: as for Avro, a `confluent:tags` array on the tagged
//! node. A path starts at the root, named `object`, and goes down through `properties` one
//! name a segment (`object.address.city`); `sr_record` tags the node the path names,
//! `sr_field` a property. These are the forms the recorded Confluent answers show.

use serde_json::{Map, Value};

use crate::schema::{apply_tags, no_matching_path, Entity, TagEdit};

/// The name a tag path gives the root schema.
const ROOT: &str = "object";

/// Applies the additions, then the removals; the result is to be parsed again.
pub fn edit(text: &str, add: &[TagEdit], remove: &[TagEdit]) -> Result<String, String> {
    let mut root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let edits = add.iter().map(|e| (e, true)).chain(remove.iter().map(|e| (e, false)));
    for (e, adding) in edits {
        let target = node(&mut root, e).ok_or_else(|| no_matching_path(&e.path))?;
        apply_tags(target, &e.tags, adding);
    }
    Ok(root.to_string())
}

/// The schema object `e.path` names, if it names one of the kind `e` tags.
fn node<'a>(root: &'a mut Value, e: &TagEdit) -> Option<&'a mut Map<String, Value>> {
    let mut segments = e.path.split('.');
    if segments.next() != Some(ROOT) {
        return None;
    }
    let mut at = root;
    let mut depth = 0;
    for name in segments {
        at = at.get_mut("properties")?.get_mut(name)?;
        depth += 1;
    }
    match e.entity {
        Entity::Field if depth == 0 => None,
        _ => at.as_object_mut(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(entity: Entity, path: &str, tags: &[&str]) -> TagEdit {
        TagEdit { entity, path: path.into(), tags: tags.iter().map(|t| t.to_string()).collect() }
    }

    const DOC: &str = r#"{"type":"object","properties":{"a":{"type":"string"},"o":{"type":"object","properties":{"b":{"type":"integer"}}}}}"#;

    #[test]
    fn tags_go_on_the_named_node_and_come_off_again() {
        let added =
            edit(DOC, &[tag(Entity::Field, "object.a", &["PII"]), tag(Entity::Record, "object", &["R"])], &[]).unwrap();
        assert_eq!(
            added,
            r#"{"type":"object","properties":{"a":{"type":"string","confluent:tags":["PII"]},"o":{"type":"object","properties":{"b":{"type":"integer"}}}},"confluent:tags":["R"]}"#
        );
        let nested = edit(DOC, &[tag(Entity::Field, "object.o.b", &["T"])], &[]).unwrap();
        assert!(nested.contains(r#""b":{"type":"integer","confluent:tags":["T"]}"#), "{nested}");
        assert_eq!(
            edit(&added, &[], &[tag(Entity::Field, "object.a", &["PII"]), tag(Entity::Record, "object", &["R"])])
                .unwrap(),
            DOC
        );
    }

    #[test]
    fn paths_that_name_nothing_are_confluents_error() {
        for (entity, path) in [(Entity::Field, "object.nope"), (Entity::Field, "a"), (Entity::Field, "object")] {
            assert_eq!(
                edit(DOC, &[tag(entity, path, &["X"])], &[]),
                Err(format!("java.lang.IllegalArgumentException: No matching path '{path}' found in the schema"))
            );
        }
    }
}

//! Validation of a JSON Schema document when it is read: the document must satisfy its
//! draft's meta-schema and compile, with every `$ref` resolvable (local pointers, valid
//! patterns, referenced schemas known by their reference `name`). Confluent answers every
//! such failure with the one detail "Invalid JSON Schema".

use jsonschema::{Draft, Registry};
use serde_json::Value;

/// The draft named by `$schema`; `None` for an absent or unknown meta-schema, which
/// Confluent reads as its default draft (7) rather than rejecting.
fn declared_draft(schema: &Value) -> Option<Draft> {
    let uri = schema.get("$schema")?.as_str()?;
    let uri = uri.trim_end_matches('#');
    let path = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://"))?;
    match path {
        "json-schema.org/draft-04/schema" => Some(Draft::Draft4),
        "json-schema.org/draft-06/schema" => Some(Draft::Draft6),
        "json-schema.org/draft-07/schema" => Some(Draft::Draft7),
        "json-schema.org/draft/2019-09/schema" => Some(Draft::Draft201909),
        "json-schema.org/draft/2020-12/schema" => Some(Draft::Draft202012),
        _ => None,
    }
}

/// The draft a schema is read with and a copy safe to hand to the validator: an unknown
/// `$schema` is dropped so that nothing tries to fetch it.
fn prepared(schema: &Value) -> (Draft, Value) {
    match declared_draft(schema) {
        Some(d) => (d, schema.clone()),
        None => {
            let mut copy = schema.clone();
            if let Value::Object(m) = &mut copy {
                m.shift_remove("$schema");
            }
            (Draft::Draft7, copy)
        }
    }
}

fn meta_valid(draft: Draft, schema: &Value) -> bool {
    match draft {
        Draft::Draft4 => jsonschema::draft4::meta::is_valid(schema),
        Draft::Draft6 => jsonschema::draft6::meta::is_valid(schema),
        Draft::Draft201909 => jsonschema::draft201909::meta::is_valid(schema),
        Draft::Draft202012 => jsonschema::draft202012::meta::is_valid(schema),
        _ => jsonschema::draft7::meta::is_valid(schema),
    }
}

/// Checks `schema` with `references` (name, document) available to its `$ref`s.
/// Top-level values other than objects and booleans are accepted unchecked, as Confluent
/// accepts them (`[]`, `12`, `"x"`).
pub fn check(schema: &Value, references: &[(String, Value)]) -> Result<(), ()> {
    if !schema.is_object() {
        return Ok(());
    }
    let (draft, schema) = prepared(schema);
    if !meta_valid(draft, &schema) {
        return Err(());
    }
    let mut builder = Registry::new().draft(draft);
    for (name, doc) in references {
        let (_, doc) = prepared(doc);
        builder = builder.add(name, doc).map_err(|_| ())?;
    }
    let registry = builder.prepare().map_err(|_| ())?;
    jsonschema::options().with_draft(draft).with_registry(&registry).build(&schema).map(|_| ()).map_err(|_| ())
}

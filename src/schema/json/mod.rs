//! JSON Schema subjects: reading and validating a schema (drafts 4, 6, 7, 2019-09 and
//! 2020-12, with references to other subjects by `name`), Confluent's stored text, and
//! Confluent's compatibility rules as a diff of the two documents.

mod compat;
mod difference;
pub mod tags;
mod validate;

pub use difference::{Difference, Kind};

use serde_json::Value;

use super::json_text;
use super::{ParseError, ParseOptions, SchemaRef};

/// A parsed JSON Schema with the referenced documents its `$ref`s may name.
#[derive(Debug)]
pub struct JsonSchema {
    root: Value,
    refs: Vec<(String, Value)>,
    canonical: String,
}

/// Confluent's detail for a document that is JSON but not a valid schema; it is reported
/// without the "with refs" part of the usual 42201 message.
const INVALID_SCHEMA: &str = "Invalid JSON Schema";

impl JsonSchema {
    /// Reads `text` as Confluent does: the stored text is the compact re-serialization
    /// (key order kept, numbers as Jackson writes them), or with keys sorted recursively
    /// when normalizing. `references` are the schemas its `$ref`s may name. Validation does
    /// not depend on `opts.validate`: Confluent rejects an invalid JSON Schema in
    /// compatibility checks too (corpus reg-json#25), and a stored one passed it already.
    pub fn parse(text: &str, references: &[SchemaRef], opts: ParseOptions) -> Result<JsonSchema, ParseError> {
        let (root, canonical) = read(text, opts.normalize)
            .ok_or_else(|| ParseError { message: format!("Invalid JSON {text}"), short: false })?;
        let mut refs = Vec::with_capacity(references.len());
        for r in references {
            let (doc, _) = read(r.text, false)
                .ok_or_else(|| ParseError { message: format!("Invalid JSON {}", r.text), short: false })?;
            refs.push((r.name.to_string(), doc));
        }
        validate::check(&root, &refs).map_err(|_| ParseError { message: INVALID_SCHEMA.into(), short: true })?;
        Ok(JsonSchema { root, refs, canonical })
    }

    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Confluent's differences from `original` (the writer's schema) to `self`.
    pub fn differences_from(&self, original: &JsonSchema) -> Vec<Difference> {
        let original_side = compat::Side { root: &original.root, refs: &original.refs };
        let update_side = compat::Side { root: &self.root, refs: &self.refs };
        compat::Diff::new(original_side, update_side).run()
    }
}

/// The document and its stored text; `None` when `text` is not one JSON value. The value
/// form is read by serde_json, whose nesting limit (128) bounds every recursive walk of
/// validation and of the compatibility diff; deeper documents are refused.
fn read(text: &str, normalize: bool) -> Option<(Value, String)> {
    let (mut doc, root, rest) = json_text::parse(text).ok()?;
    if !rest.trim().is_empty() {
        return None;
    }
    if normalize {
        doc.sort_keys();
    }
    let canonical = doc.to_json(root);
    let value = serde_json::from_str(&canonical).ok()?;
    Some((value, canonical))
}

/// Confluent verbose messages for `reader` reading data written with `writer`; empty when
/// compatible.
pub fn compatibility_messages(
    reader: &JsonSchema,
    writer: &JsonSchema,
    reader_role: &str,
    writer_role: &str,
) -> Vec<String> {
    reader
        .differences_from(writer)
        .iter()
        .filter(|d| !d.kind.compatible())
        .map(|d| d.message(reader_role, writer_role))
        .collect()
}

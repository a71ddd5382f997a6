//! Avro schemas: parsing with Avro-Java's validation, Confluent's canonical string, and the
//! compatibility checker that follows Avro-Java's `SchemaCompatibility`.
//!
//! Own model over our own JSON reader rather than the `apache-avro` crate: Confluent's stored
//! text and error messages are Avro-Java's and Jackson's, down to key order, number kinds and
//! check order, which apache-avro neither keeps nor reports.

mod canonical;
mod compat;

mod model;
mod parse;
pub mod tags;

pub use crate::schema::json_text::MAX_JSON_DEPTH;
pub use compat::{Incompatibility, IncompatibilityKind};
pub use parse::MAX_SCHEMA_DEPTH;

use super::ParseOptions;
use model::{Graph, NodeId};

/// A parsed Avro schema: its node graph (with the referenced schemas' nodes) and its text.
#[derive(Debug)]
pub struct AvroSchema {
    graph: Graph,
    root: NodeId,
    canonical: String,
}

impl AvroSchema {
    /// Parses `text` after `references` (canonical texts, dependencies first) into one
    /// namespace of named types, as Confluent feeds one Avro-Java `Schema.Parser`.
    /// `opts.validate` checks default values (`setValidateDefaults(true)`); names are always
    /// validated, as Avro-Java's parser does by default. The error is Avro-Java's message.
    pub fn parse(text: &str, references: &[&str], opts: ParseOptions) -> Result<AvroSchema, String> {
        let mut p = parse::Parser::new();
        let mut known = Vec::new();
        for r in references {
            let id = p.parse_text(r)?;
            if p.graph.node(id).name.is_some() {
                known.push(id);
            }
        }
        let ref_defaults = p.defaulted_fields.len();
        let first_own = p.graph.nodes.len();
        let root = p.parse_text(text)?;
        // Confluent normalizes before it validates defaults, so a default its normalizer
        // cannot convert fails with the normalizer's error first.
        let mut normalized = None;
        if opts.normalize {
            let mut g = p.graph.clone();
            let own = first_own..g.nodes.len();
            canonical::normalize(&mut g, own)?;
            normalized = Some(g);
        }
        if opts.validate {
            let own: Vec<_> = p.defaulted_fields[ref_defaults..].to_vec();
            p.validate_defaults(&own)?;
        }
        let graph = normalized.unwrap_or(p.graph);
        let canonical = canonical::to_string(&graph, root, &known);
        Ok(AvroSchema { graph, root, canonical })
    }

    /// The stored/returned text: Avro-Java `Schema.toString()` with referenced types by name
    /// (Confluent's normalized form when parsed with `normalize`).
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// `format=resolved`: one standalone schema, the referenced named types written inline
    /// where first used (Avro-Java `Schema.toString()` of the resolved schema).
    pub fn resolved(&self) -> String {
        canonical::standalone(&self.graph, self.root)
    }

    /// Avro-Java's incompatibilities when `self` reads data written with `writer`.
    /// `Err` carries the exception text Avro-Java throws (a reader field matching several
    /// writer fields), which Confluent reports as an incompatibility.
    pub fn incompatibilities(&self, writer: &AvroSchema) -> Result<Vec<Incompatibility>, String> {
        compat::check(&self.graph, self.root, &writer.graph, writer.root)
    }
}

/// Confluent verbose messages for reader reading writer-written data; empty = compatible.
pub fn compatibility_messages(
    reader: &AvroSchema,
    writer: &AvroSchema,
    reader_role: &str,
    writer_role: &str,
) -> Vec<String> {
    match reader.incompatibilities(writer) {
        Ok(found) => found.iter().map(|i| i.confluent_message(reader_role, writer_role)).collect(),
        Err(e) => vec![format!("Unexpected exception during compatibility check: {e}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a record with one field `f` of `ty` defaulting to `default`, validating as
    /// Confluent does for a new schema registered with `normalize=true`.
    fn field_default(ty: &str, default: &str) -> Result<AvroSchema, String> {
        let text =
            format!(r#"{{"type":"record","name":"R","fields":[{{"name":"f","type":{ty},"default":{default}}}]}}"#);
        AvroSchema::parse(&text, &[], ParseOptions { normalize: true, validate: true })
    }

    /// Avro-Java's `Schema.isValidDefault`, which Confluent 7.9 applies: the JSON kind of the
    /// default must fit the type (ints in range, any number for float/double, any string for
    /// bytes, fixed and enum: neither the fixed size nor the enum symbols are checked, as the
    /// recorded corpus shows for an enum), containers element by element, records field by
    /// field (a missing field falls back to its own default), unions by their first branch,
    /// logical types by their underlying type. Some refusals come from the normalizer,
    /// which converts defaults first (its Java exception text, as in the corpus).
    #[test]
    fn defaults_are_checked_against_their_type() {
        let enum_e = r#"{"type":"enum","name":"E","symbols":["A"]}"#;
        let fixed_f = r#"{"type":"fixed","name":"F","size":2}"#;
        let inner = r#"{"type":"record","name":"In","fields":[{"name":"x","type":"int"},{"name":"y","type":"string","default":"s"}]}"#;
        let nested = r#"{"type":"record","name":"Out","fields":[{"name":"i","type":{"type":"record","name":"In2","fields":[{"name":"x","type":"int","default":1}]},"default":{}}]}"#;
        let table: &[(&str, &str, bool)] = &[
            (r#""null""#, "null", true),
            (r#""null""#, "0", false),
            (r#""boolean""#, "true", true),
            (r#""boolean""#, "0", false),
            (r#""int""#, "2147483647", true),
            (r#""int""#, "2147483648", false),
            (r#""int""#, "-2147483649", false),
            (r#""int""#, "1.0", false),
            (r#""int""#, r#""1""#, false),
            (r#""long""#, "9223372036854775807", true),
            (r#""long""#, "9223372036854775808", false),
            (r#""float""#, "1", true),
            (r#""double""#, "1e400", true),
            (r#""double""#, "true", false),
            (r#""string""#, r#""x""#, true),
            (r#""string""#, "1", false),
            (r#""bytes""#, r#""\u00ff""#, true),
            (r#""bytes""#, "[1]", false),
            (fixed_f, r#""ab""#, true),
            (fixed_f, r#""abc""#, true),
            (fixed_f, "1", false),
            (enum_e, r#""A""#, true),
            (enum_e, r#""Z""#, true),
            (enum_e, "0", false),
            (r#"{"type":"array","items":"int"}"#, "[1,2]", true),
            (r#"{"type":"array","items":"int"}"#, "[]", true),
            (r#"{"type":"array","items":"long"}"#, "[1,true]", false),
            (r#"{"type":"array","items":"int"}"#, "{}", false),
            (r#"{"type":"map","values":"int"}"#, r#"{"a":1}"#, true),
            (r#"{"type":"map","values":"string"}"#, r#"{"a":1}"#, false),
            (r#"{"type":"map","values":"int"}"#, "[]", false),
            (inner, r#"{"x":1}"#, true),
            (inner, r#"{"x":1,"y":"t"}"#, true),
            (inner, r#"{"x":1,"y":2}"#, false),
            (inner, r#"{"y":"t"}"#, false),
            (inner, "1", false),
            (nested, r#"{"i":{}}"#, true),
            (nested, "{}", true),
            (r#"["null","int"]"#, "null", true),
            (r#"["null","int"]"#, "1", false),
            (r#"["int","null"]"#, "1", true),
            (r#"["int","null"]"#, "null", false),
            (r#"[{"type":"array","items":"int"},"null"]"#, "[1]", true),
            (r#"{"type":"int","logicalType":"date"}"#, "0", true),
            (r#"{"type":"int","logicalType":"date"}"#, r#""2020-01-01""#, false),
            (r#"{"type":"long","logicalType":"timestamp-millis"}"#, "1700000000000", true),
            (r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#, r#""\u0001""#, true),
            (r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#, "1.5", false),
            (r#"{"type":"string","logicalType":"uuid"}"#, r#""not-a-uuid""#, true),
            (r#"{"type":"string","logicalType":"uuid"}"#, "1", false),
        ];
        for (ty, default, valid) in table {
            let got = field_default(ty, default);
            assert_eq!(got.is_ok(), *valid, "{ty} default {default}: {:?}", got.err());
        }
    }

    /// The message names the default and the field's type as Avro-Java prints them.
    #[test]
    fn invalid_default_message_is_avro_javas() {
        let err = field_default(r#"["null","int"]"#, "1").err();
        assert_eq!(err.as_deref(), Some(r#"Invalid default for field f: 1 not a ["null","int"]"#));
        let err = field_default(r#""boolean""#, "0").err();
        assert_eq!(err.as_deref(), Some(r#"Invalid default for field f: 0 not a "boolean""#));
    }

    /// Stored schemas and registrations without `normalize` are not checked (Confluent 7.9
    /// accepted every such default in the recorded corpus).
    #[test]
    fn defaults_are_not_checked_without_validation() {
        let text = r#"{"type":"record","name":"R","fields":[{"name":"f","type":"int","default":"x"}]}"#;
        assert!(AvroSchema::parse(text, &[], ParseOptions::default()).is_ok());
    }
}

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

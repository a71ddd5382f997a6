//! Confluent's response entities built from registry values. Empty and absent fields are
//! omitted (Jackson NON_EMPTY), and `schemaType` is omitted for AVRO as 7.x servers do.
//! Entities carry the schema's `guid`, as 8.x servers do, for clients that frame records
//! with it (7.x clients ignore the field).
//!
//! An entity borrows the stored schema and is serialized straight into the answer's bytes:
//! the hottest reads (a schema by id, a subject version) copy no schema text and build no
//! JSON tree on the way.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::registry::StoredSchema;
use crate::registry::SubjectVersion;
use crate::schema::SchemaType;

/// A schema entity, ready to serialize.
pub struct Entity<'a> {
    shape: Shape<'a>,
    stored: &'a StoredSchema,
    /// A formatted text (e.g. `format=serialized`) in place of the stored one.
    text: Option<String>,
    /// The subjects aliased to this one (`GET /schemas?aliases=true`).
    aliases: Option<&'a [String]>,
}

/// Which of Confluent's entities, with the fields only it has.
enum Shape<'a> {
    /// `SchemaString`: a schema by id or GUID, with the registry's largest id when asked.
    SchemaString { max_id: Option<u32> },
    /// `Schema`: one subject version.
    SubjectVersion { subject: &'a str, version: u32 },
    /// The register answer when Confluent sends more than the id.
    Registered { version: u32 },
}

/// The `SchemaString` entity: a schema by id.
pub fn schema_string(stored: &StoredSchema, max_id: Option<u32>) -> Entity<'_> {
    Entity { shape: Shape::SchemaString { max_id }, stored, text: None, aliases: None }
}

/// The `Schema` entity: one subject version.
pub fn subject_version(sv: &SubjectVersion) -> Entity<'_> {
    let shape = Shape::SubjectVersion { subject: &sv.subject, version: sv.version };
    Entity { shape, stored: &sv.schema, text: None, aliases: None }
}

/// The register answer when Confluent sends more than the id.
pub fn registered(sv: &SubjectVersion) -> Entity<'_> {
    Entity { shape: Shape::Registered { version: sv.version }, stored: &sv.schema, text: None, aliases: None }
}

impl<'a> Entity<'a> {
    /// Puts a formatted text (e.g. `format=serialized`) in place of the entity's `schema`.
    pub fn with_text(mut self, text: Option<String>) -> Entity<'a> {
        self.text = text;
        self
    }

    /// Adds the subjects aliased to this entity's subject, when there are any.
    pub fn with_aliases(mut self, aliases: Option<&'a [String]>) -> Entity<'a> {
        self.aliases = aliases;
        self
    }
}

impl Serialize for Entity<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stored = self.stored;
        let mut m = serializer.serialize_map(None)?;
        match self.shape {
            Shape::SubjectVersion { subject, version } => {
                m.serialize_entry("subject", subject)?;
                m.serialize_entry("version", &version)?;
                m.serialize_entry("id", &stored.id)?;
                m.serialize_entry("guid", &stored.guid())?;
            }
            Shape::Registered { version } => {
                m.serialize_entry("id", &stored.id)?;
                m.serialize_entry("guid", &stored.guid())?;
                m.serialize_entry("version", &version)?;
            }
            Shape::SchemaString { .. } => {}
        }
        let r = &stored.record;
        if r.schema_type != SchemaType::Avro {
            m.serialize_entry("schemaType", r.schema_type.as_str())?;
        }
        m.serialize_entry("schema", self.text.as_deref().unwrap_or(&r.schema))?;
        if !r.references.is_empty() {
            m.serialize_entry("references", &r.references)?;
        }
        if let Some(metadata) = &r.metadata {
            m.serialize_entry("metadata", metadata)?;
        }
        if let Some(rule_set) = &r.rule_set {
            m.serialize_entry("ruleSet", rule_set)?;
        }
        if let Shape::SchemaString { max_id } = self.shape {
            m.serialize_entry("guid", &stored.guid())?;
            if let Some(max) = max_id {
                m.serialize_entry("maxId", &max)?;
            }
        }
        if let Some(aliases) = self.aliases {
            m.serialize_entry("aliases", aliases)?;
        }
        m.end()
    }
}

/// The raw schema text as a response body: JSON formats as-is, others as a JSON string.
pub fn raw_schema(stored: &StoredSchema) -> String {
    match stored.record.schema_type {
        SchemaType::Avro | SchemaType::Json => stored.record.schema.clone(),
        SchemaType::Protobuf => stored.record.schema.clone(),
    }
}

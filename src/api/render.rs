//! Confluent's response entities built from registry values. Empty and absent fields are
//! omitted (Jackson NON_EMPTY), and `schemaType` is omitted for AVRO as 7.x servers do.
//! Entities carry the schema's `guid`, as 8.x servers do, for clients that frame records
//! with it (7.x clients ignore the field).

use serde_json::{json, Map, Value};

use crate::registry::StoredSchema;
use crate::registry::SubjectVersion;
use crate::schema::SchemaType;

/// The fields every schema entity carries: schemaType, schema, references, metadata, ruleSet.
fn schema_fields(stored: &StoredSchema, out: &mut Map<String, Value>) {
    let r = &stored.record;
    if r.schema_type != SchemaType::Avro {
        out.insert("schemaType".into(), json!(r.schema_type.as_str()));
    }
    out.insert("schema".into(), json!(r.schema));
    if !r.references.is_empty() {
        out.insert("references".into(), json!(r.references));
    }
    if let Some(m) = &r.metadata {
        out.insert("metadata".into(), (**m).clone());
    }
    if let Some(rs) = &r.rule_set {
        out.insert("ruleSet".into(), (**rs).clone());
    }
}

/// The `Schema` entity: one subject version.
pub fn subject_version(sv: &SubjectVersion) -> Value {
    let mut m = Map::new();
    m.insert("subject".into(), json!(sv.subject));
    m.insert("version".into(), json!(sv.version));
    m.insert("id".into(), json!(sv.schema.id));
    m.insert("guid".into(), json!(sv.schema.guid()));
    schema_fields(&sv.schema, &mut m);
    Value::Object(m)
}

/// The register answer when Confluent sends more than the id.
pub fn registered(sv: &SubjectVersion) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(sv.schema.id));
    m.insert("guid".into(), json!(sv.schema.guid()));
    m.insert("version".into(), json!(sv.version));
    schema_fields(&sv.schema, &mut m);
    Value::Object(m)
}

/// The `SchemaString` entity: a schema by id.
pub fn schema_string(stored: &StoredSchema, max_id: Option<u32>) -> Value {
    let mut m = Map::new();
    schema_fields(stored, &mut m);
    m.insert("guid".into(), json!(stored.guid()));
    if let Some(max) = max_id {
        m.insert("maxId".into(), json!(max));
    }
    Value::Object(m)
}

/// The raw schema text as a response body: JSON formats as-is, others as a JSON string.
pub fn raw_schema(stored: &StoredSchema) -> String {
    match stored.record.schema_type {
        SchemaType::Avro | SchemaType::Json => stored.record.schema.clone(),
        SchemaType::Protobuf => stored.record.schema.clone(),
    }
}

/// Puts a formatted text (e.g. `format=serialized`) in place of an entity's `schema`.
pub fn with_schema_text(mut entity: Value, text: Option<String>) -> Value {
    if let (Some(text), Value::Object(m)) = (text, &mut entity) {
        m.insert("schema".into(), json!(text));
    }
    entity
}

//! Avro schemas: parsing with Avro-Java's validation, Confluent's canonical string, and the
//! compatibility checker that follows Avro-Java's `SchemaCompatibility`.
//! (Placeholder interface; the implementation lands with the Avro work.)

use super::ParseOptions;

#[derive(Debug)]
pub struct AvroSchema {
    canonical: String,
}

impl AvroSchema {
    pub fn parse(text: &str, _references: &[&str], _opts: ParseOptions) -> Result<AvroSchema, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(AvroSchema { canonical: v.to_string() })
    }

    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

pub fn compatibility_messages(_reader: &AvroSchema, _writer: &AvroSchema, _reader_role: &str, _writer_role: &str) -> Vec<String> {
    Vec::new()
}

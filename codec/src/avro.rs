//! Avro records in the Confluent framing: the binary encoding (no container header) after
//! the schema id. [`AvroCodec`] keeps each writer schema parsed once, by id, and remembers
//! per (writer, reader) pair whether Avro schema resolution can succeed, so no message
//! re-parses a schema or re-checks a pair. The encoding is apache-avro's.
//!
//! ```
//! use schemata_codec::avro::{AvroCodec, AvroSchema};
//! use schemata_codec::SchemaRef;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct User { name: String }
//! #[derive(Deserialize, Debug, PartialEq)]
//! struct UserV2 { name: String, age: i32 }
//!
//! let v1 = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#;
//! let v2 = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},
//!             {"name":"age","type":"int","default":-1}]}"#;
//! let codec = AvroCodec::new();
//! codec.add_schema(SchemaRef::Id(1), v1, &[])?;
//! let bytes = codec.encode(SchemaRef::Id(1), &User { name: "ada".into() })?;
//! assert_eq!(bytes, [0, 0, 0, 0, 1, 6, b'a', b'd', b'a']);
//!
//! // A consumer on the newer schema reads the older record: `age` takes its default.
//! let reader = AvroSchema::parse(v2, &[])?;
//! let user: UserV2 = codec.decode_with(&bytes, &reader)?;
//! assert_eq!(user, UserV2 { name: "ada".into(), age: -1 });
//! # Ok::<(), schemata_codec::Error>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::rabin::Rabin;
use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::types::Value;
use apache_avro::Schema;
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::wire::{self, SchemaRef};
use crate::Error;

/// A parsed Avro schema with the named schemas it references (Confluent schema references).
#[derive(Debug)]
pub struct AvroSchema {
    schema: Schema,
    references: Vec<Schema>,
    /// Rabin fingerprint of the canonical form: identifies a reader schema in the cache.
    fingerprint: Vec<u8>,
}

impl AvroSchema {
    /// Parses `text`; `references` are the texts of the named schemas it uses, in any order.
    pub fn parse(text: &str, references: &[&str]) -> Result<AvroSchema, Error> {
        let (schema, references) = if references.is_empty() {
            (Schema::parse_str(text), Vec::new())
        } else {
            match Schema::parse_str_with_list(text, references) {
                Ok((s, refs)) => (Ok(s), refs),
                Err(e) => (Err(e), Vec::new()),
            }
        };
        let schema = schema.map_err(|e| Error::Schema(e.to_string()))?;
        let fingerprint = schema.fingerprint::<Rabin>().bytes;
        Ok(AvroSchema { schema, references, fingerprint })
    }

    /// The apache-avro schema, for callers that want to work with `Value`s directly.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The full name of a named schema (record, enum, fixed): the record name strategies use it.
    pub fn full_name(&self) -> Option<String> {
        self.schema.name().map(|n| n.fullname(None))
    }

    /// Encodes `value` (anything serde can serialize, a `serde_json::Value` included) as the
    /// payload, without framing.
    pub fn encode_payload<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, Error> {
        let value = apache_avro::to_value(value)?;
        if self.references.is_empty() {
            let value = value.resolve(&self.schema)?;
            Ok(apache_avro::to_avro_datum(&self.schema, value)?)
        } else {
            let refs: Vec<&Schema> = self.references.iter().collect();
            let value = value.resolve_schemata(&self.schema, refs.clone())?;
            Ok(apache_avro::to_avro_datum_schemata(&self.schema, refs, value)?)
        }
    }

    /// Decodes a payload written with this schema, resolved to `reader` when given.
    pub fn decode_payload(&self, mut payload: &[u8], reader: Option<&AvroSchema>) -> Result<Value, Error> {
        let value = if self.references.is_empty() {
            apache_avro::from_avro_datum(&self.schema, &mut payload, None)?
        } else {
            let refs: Vec<&Schema> = self.references.iter().collect();
            apache_avro::from_avro_datum_schemata(&self.schema, refs, &mut payload, None)?
        };
        match reader {
            None => Ok(value),
            Some(r) if r.references.is_empty() => Ok(value.resolve(&r.schema)?),
            Some(r) => Ok(value.resolve_schemata(&r.schema, r.references.iter().collect())?),
        }
    }
}

/// A writer schema and a reader schema's fingerprint.
type ResolutionKey = (SchemaRef, Vec<u8>);

/// Writer schemas by id or GUID, parsed once; shareable across threads.
#[derive(Default)]
pub struct AvroCodec {
    schemas: RwLock<HashMap<SchemaRef, Arc<AvroSchema>>>,
    /// Whether data of a writer can be read with a reader (keyed by its fingerprint): the
    /// check runs once per pair, and an impossible pair fails fast on every later record.
    resolutions: RwLock<HashMap<ResolutionKey, Result<(), String>>>,
}

impl AvroCodec {
    pub fn new() -> AvroCodec {
        AvroCodec::default()
    }

    /// Parses and caches the schema registered as `schema`; a schema already cached is kept
    /// as is (a registered id never changes its schema).
    pub fn add_schema(&self, schema: SchemaRef, text: &str, references: &[&str]) -> Result<Arc<AvroSchema>, Error> {
        if let Some(s) = self.get(schema) {
            return Ok(s);
        }
        let parsed = Arc::new(AvroSchema::parse(text, references)?);
        Ok(self.schemas.write().entry(schema).or_insert(parsed).clone())
    }

    /// The cached schema for `schema`, if added.
    pub fn get(&self, schema: SchemaRef) -> Option<Arc<AvroSchema>> {
        self.schemas.read().get(&schema).cloned()
    }

    fn writer(&self, schema: SchemaRef) -> Result<Arc<AvroSchema>, Error> {
        self.get(schema).ok_or(Error::UnknownSchema(schema))
    }

    /// Frames and encodes `value` with the schema cached for `schema`.
    pub fn encode<T: Serialize + ?Sized>(&self, schema: SchemaRef, value: &T) -> Result<Vec<u8>, Error> {
        let writer = self.writer(schema)?;
        let payload = writer.encode_payload(value)?;
        let mut out = Vec::with_capacity(17 + payload.len());
        wire::write_header(&mut out, schema);
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Decodes a framed record into `T` with its writer schema.
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, Error> {
        let value = self.decode_value(bytes, None)?;
        Ok(apache_avro::from_value(&value)?)
    }

    /// Decodes a framed record into `T`, resolving the writer schema to `reader`.
    pub fn decode_with<T: DeserializeOwned>(&self, bytes: &[u8], reader: &AvroSchema) -> Result<T, Error> {
        let value = self.decode_value(bytes, Some(reader))?;
        Ok(apache_avro::from_value(&value)?)
    }

    /// Decodes a framed record into an Avro `Value` (resolved to `reader` when given).
    pub fn decode_value(&self, bytes: &[u8], reader: Option<&AvroSchema>) -> Result<Value, Error> {
        let frame = wire::parse(bytes)?;
        let writer = self.writer(frame.schema)?;
        if let Some(r) = reader {
            self.check_resolution(frame.schema, &writer, r)?;
        }
        writer.decode_payload(frame.payload, reader)
    }

    /// Decodes a framed record as JSON (see [`to_json`]).
    pub fn decode_json(&self, bytes: &[u8]) -> Result<serde_json::Value, Error> {
        Ok(to_json(&self.decode_value(bytes, None)?))
    }

    fn check_resolution(&self, id: SchemaRef, writer: &AvroSchema, reader: &AvroSchema) -> Result<(), Error> {
        // Schemas with references hold unresolved `Ref`s the checker cannot follow; their
        // resolution errors surface per record instead.
        if !writer.references.is_empty() || !reader.references.is_empty() {
            return Ok(());
        }
        let key = (id, reader.fingerprint.clone());
        let known = self.resolutions.read().get(&key).cloned();
        let verdict = match known {
            Some(v) => v,
            None => {
                let v = SchemaCompatibility::can_read(&writer.schema, &reader.schema).map_err(|e| e.to_string());
                self.resolutions.write().insert(key, v.clone());
                v
            }
        };
        verdict.map_err(|e| Error::Avro(format!("writer schema {id} cannot be read with the reader schema: {e}")))
    }
}

/// An Avro value as plain JSON, the way Confluent's Python deserializer hands it over:
/// records as objects, unions as the branch's value, enums as their symbol, bytes and fixed
/// as strings of code points 0–255 (Avro's JSON encoding), logical types as their underlying
/// numbers (decimals as their digits).
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    let bytes = |b: &[u8]| J::String(b.iter().map(|&c| char::from(c)).collect());
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int(i) | Value::Date(i) | Value::TimeMillis(i) => J::from(*i),
        Value::Long(i)
        | Value::TimeMicros(i)
        | Value::TimestampMillis(i)
        | Value::TimestampMicros(i)
        | Value::TimestampNanos(i)
        | Value::LocalTimestampMillis(i)
        | Value::LocalTimestampMicros(i)
        | Value::LocalTimestampNanos(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(f64::from(*f)).map_or(J::Null, J::Number),
        Value::Double(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Bytes(b) | Value::Fixed(_, b) => bytes(b),
        Value::String(s) => J::String(s.clone()),
        Value::Enum(_, s) => J::String(s.clone()),
        Value::Union(_, inner) => to_json(inner),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Record(fields) => J::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Decimal(d) => Vec::<u8>::try_from(d).map_or(J::Null, |b| bytes(&b)),
        Value::BigDecimal(d) => J::String(d.to_string()),
        Value::Duration(d) => bytes(&<[u8; 12]>::from(*d)),
        Value::Uuid(u) => J::String(u.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    const USER: &str = r#"{"type":"record","name":"User","namespace":"t","fields":[
        {"name":"name","type":"string"},{"name":"email","type":["null","string"],"default":null},
        {"name":"tags","type":{"type":"array","items":"string"}},{"name":"kind","type":{"type":"enum","name":"K","symbols":["A","B"]}}]}"#;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct User {
        name: String,
        email: Option<String>,
        tags: Vec<String>,
        kind: String,
    }

    #[test]
    fn struct_and_json_values_encode_to_the_same_bytes() {
        let codec = AvroCodec::new();
        codec.add_schema(SchemaRef::Id(3), USER, &[]).unwrap();
        let user = User { name: "a".into(), email: Some("e".into()), tags: vec!["x".into()], kind: "B".into() };
        let from_struct = codec.encode(SchemaRef::Id(3), &user).unwrap();
        let from_json =
            codec.encode(SchemaRef::Id(3), &json!({"name":"a","email":"e","tags":["x"],"kind":"B"})).unwrap();
        assert_eq!(from_struct, from_json);
        // name "a", union branch 1 "e", one block of one item "x" then 0, enum index 1.
        assert_eq!(from_struct, [0, 0, 0, 0, 3, 2, b'a', 2, 2, b'e', 2, 2, b'x', 0, 2]);
        assert_eq!(codec.decode::<User>(&from_struct).unwrap(), user);
        assert_eq!(codec.decode_json(&from_struct).unwrap(), json!({"name":"a","email":"e","tags":["x"],"kind":"B"}));
    }

    #[test]
    fn errors_are_typed() {
        let codec = AvroCodec::new();
        codec.add_schema(SchemaRef::Id(3), USER, &[]).unwrap();
        assert!(matches!(codec.decode::<User>(&[0, 0, 0, 0, 9, 0]), Err(Error::UnknownSchema(SchemaRef::Id(9)))));
        assert!(matches!(codec.decode::<User>(&[5, 0]), Err(Error::Wire(_))));
        // A string length beyond the payload.
        assert!(matches!(codec.decode::<User>(&[0, 0, 0, 0, 3, 40, b'a']), Err(Error::Avro(_))));
        assert!(matches!(codec.encode(SchemaRef::Id(3), &json!({"name": 1})), Err(Error::Avro(_))));
        assert!(matches!(codec.add_schema(SchemaRef::Id(4), "{", &[]), Err(Error::Schema(_))));
    }

    #[test]
    fn impossible_resolution_fails_fast_and_stays_cached() {
        let codec = AvroCodec::new();
        codec.add_schema(SchemaRef::Id(1), USER, &[]).unwrap();
        let bytes = codec.encode(SchemaRef::Id(1), &json!({"name":"a","email":null,"tags":[],"kind":"A"})).unwrap();
        let reader = AvroSchema::parse(
            r#"{"type":"record","name":"User","namespace":"t","fields":[{"name":"n2","type":"int"}]}"#,
            &[],
        )
        .unwrap();
        for _ in 0..2 {
            let err = codec.decode_with::<serde_json::Value>(&bytes, &reader).unwrap_err();
            assert!(err.to_string().contains("cannot be read"), "{err}");
        }
        assert_eq!(codec.resolutions.read().len(), 1);
    }

    proptest::proptest! {
        /// Arbitrary payload bytes after a valid header decode or fail; they never panic.
        #[test]
        fn random_payloads_never_panic(payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48)) {
            let codec = AvroCodec::new();
            codec.add_schema(SchemaRef::Id(3), USER, &[]).unwrap();
            let mut bytes = vec![0, 0, 0, 0, 3];
            bytes.extend_from_slice(&payload);
            let _ = codec.decode_json(&bytes);
            let _ = codec.decode::<User>(&bytes);
        }
    }

    #[test]
    fn references_resolve() {
        let address =
            r#"{"type":"record","name":"Address","namespace":"t","fields":[{"name":"city","type":"string"}]}"#;
        let person =
            r#"{"type":"record","name":"Person","namespace":"t","fields":[{"name":"home","type":"t.Address"}]}"#;
        let codec = AvroCodec::new();
        let schema = codec.add_schema(SchemaRef::Id(2), person, &[address]).unwrap();
        assert_eq!(schema.full_name().as_deref(), Some("t.Person"));
        let bytes = codec.encode(SchemaRef::Id(2), &json!({"home": {"city": "Oslo"}})).unwrap();
        assert_eq!(&bytes[5..], [8, b'O', b's', b'l', b'o']);
        assert_eq!(codec.decode_json(&bytes).unwrap(), json!({"home": {"city": "Oslo"}}));
    }
}

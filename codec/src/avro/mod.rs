//! Avro records in the Confluent framing: the binary encoding (no container header) after
//! the schema id. [`AvroCodec`] keeps each writer schema parsed once, by id, with what
//! apache-avro needs to read it, and a resolution plan per (writer, reader) pair, so no
//! message re-parses a schema or re-plans a pair. Records are written by our own
//! serializer straight from serde (apache-avro's schema resolution for the shapes it
//! refuses) and read by apache-avro's schema-aware deserializer.
//!
//! ```
//! use std::sync::Arc;
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
//! let reader = Arc::new(AvroSchema::parse(v2, &[])?);
//! let user: UserV2 = codec.decode_with(&bytes, &reader)?;
//! assert_eq!(user, UserV2 { name: "ada".into(), age: -1 });
//! # Ok::<(), schemata_codec::Error>(())
//! ```

mod ser;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use apache_avro::rabin::Rabin;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::ResolvedSchema;
use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use parking_lot::RwLock;
use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::wire::{self, SchemaRef};
use crate::Error;

/// The schemas one [`AvroSchema`] owns: the root and the named schemas it references.
struct Parsed {
    root: Schema,
    /// Ordered so each comes after the named types it uses, as apache-avro resolves them.
    references: Vec<Schema>,
}

impl Parsed {
    /// The references, then the root: the list apache-avro builds its name table from.
    fn schemata(&self) -> Vec<&Schema> {
        self.references.iter().chain([&self.root]).collect()
    }

    fn resolved(&self) -> Result<ResolvedSchema<'_>, Error> {
        Ok(ResolvedSchema::new_with_schemata(self.schemata())?)
    }
}

/// What encoding and decoding one schema needs, built once: the table that resolves named
/// types, and apache-avro's datum writer and reader (which hold one each). Building these
/// per record was most of the cost of a small record.
struct Io<'s> {
    names: ResolvedSchema<'s>,
    writer: GenericDatumWriter<'s>,
    reader: GenericDatumReader<'s>,
}

#[ouroboros::self_referencing]
struct Compiled {
    parsed: Parsed,
    #[borrows(parsed)]
    #[covariant]
    io: Io<'this>,
}

/// A parsed Avro schema with the named schemas it references (Confluent schema references).
pub struct AvroSchema {
    compiled: Compiled,
    /// Rabin fingerprint of the canonical form: identifies a reader schema in the cache.
    fingerprint: Vec<u8>,
    /// Length of the last record framed with this schema: the next one's buffer is allocated
    /// at that size, as records of one schema tend to be alike.
    last_len: AtomicUsize,
}

impl fmt::Debug for AvroSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AvroSchema").field("schema", self.schema()).finish_non_exhaustive()
    }
}

impl AvroSchema {
    /// Parses `text`; `references` are the texts of the named schemas it uses, in any order.
    pub fn parse(text: &str, references: &[&str]) -> Result<AvroSchema, Error> {
        let (root, refs) = if references.is_empty() {
            (Schema::parse_str(text), Vec::new())
        } else {
            match Schema::parse_str_with_list(text, references) {
                Ok((s, refs)) => (Ok(s), refs),
                Err(e) => (Err(e), Vec::new()),
            }
        };
        let root = root.map_err(|e| Error::Schema(e.to_string()))?;
        let fingerprint = root.fingerprint::<Rabin>().bytes;
        let references = dependency_order(refs)?;
        let compiled = Compiled::try_new(Parsed { root, references }, |parsed| -> Result<Io<'_>, Error> {
            Ok(Io {
                names: parsed.resolved()?,
                writer: GenericDatumWriter::builder(&parsed.root).resolved_schemata(parsed.resolved()?).build()?,
                reader: GenericDatumReader::builder(&parsed.root)
                    .resolved_writer_schemata(parsed.resolved()?)
                    .build()?,
            })
        })?;
        Ok(AvroSchema { compiled, fingerprint, last_len: AtomicUsize::new(64) })
    }

    /// The apache-avro schema, for callers that want to work with `Value`s directly.
    pub fn schema(&self) -> &Schema {
        &self.compiled.borrow_parsed().root
    }

    /// The full name of a named schema (record, enum, fixed): the record name strategies use it.
    pub fn full_name(&self) -> Option<String> {
        self.schema().name().map(|n| n.fullname(None))
    }

    /// Encodes `value` (anything serde can serialize, a `serde_json::Value` included) as the
    /// payload, without framing.
    pub fn encode_payload<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.write_payload(&mut out, value)?;
        Ok(out)
    }

    /// Appends the payload of `value` to `out`: straight from serde for the shapes records
    /// usually have, else through schema resolution.
    fn write_payload<T: Serialize + ?Sized>(&self, out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
        let start = out.len();
        if self.write_direct(out, value).is_ok() {
            return Ok(());
        }
        out.truncate(start);
        self.write_resolved(out, value)
    }

    /// The fast path ([`ser`]); refuses what needs resolution, leaving part of a payload.
    fn write_direct<T: Serialize + ?Sized>(&self, out: &mut Vec<u8>, value: &T) -> Result<(), ser::Unsupported> {
        ser::write(out, &self.compiled.borrow_parsed().root, self.compiled.borrow_io().names.get_names(), value)
    }

    /// The value read as JSON and resolved against the schema, as apache-avro does: fields
    /// in any order, defaults for missing ones, strings for bytes.
    fn write_resolved<T: Serialize + ?Sized>(&self, out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
        let parsed = self.compiled.borrow_parsed();
        let value = Value::try_from(serde_json::to_value(value)?)?.resolve_schemata(&parsed.root, parsed.schemata())?;
        self.compiled.borrow_io().writer.write_value_ref(out, &value)?;
        Ok(())
    }

    /// Decodes a payload written with this schema into an Avro `Value`. Reading it as a
    /// newer reader schema goes through [`AvroCodec::decode_value`], which keeps the
    /// resolution plan per pair.
    pub fn decode_payload(&self, mut payload: &[u8]) -> Result<Value, Error> {
        Ok(self.compiled.borrow_io().reader.read_value(&mut payload)?)
    }

    /// Frames and encodes `value` as the schema registered as `schema` (its id or GUID).
    pub fn encode_framed<T: Serialize + ?Sized>(&self, schema: SchemaRef, value: &T) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.last_len.load(Ordering::Relaxed));
        wire::write_header(&mut out, schema);
        self.write_payload(&mut out, value)?;
        self.last_len.store(out.len(), Ordering::Relaxed);
        Ok(out)
    }

    /// Decodes a payload (the bytes after the framing) into `T`: straight from the bytes with
    /// apache-avro's schema-aware deserializer, or, for shapes it refuses (an enum symbol into
    /// a `String`), through a `Value`.
    #[inline]
    pub fn decode_into<T: DeserializeOwned>(&self, payload: &[u8]) -> Result<T, Error> {
        let mut direct = payload;
        match self.compiled.borrow_io().reader.read_deser(&mut direct) {
            Ok(v) => Ok(v),
            Err(_) => Ok(apache_avro::from_value(&self.decode_payload(payload)?)?),
        }
    }

    fn has_references(&self) -> bool {
        !self.compiled.borrow_parsed().references.is_empty()
    }
}

/// The full name of the named type (record, enum, fixed) a schema text defines, read from
/// its JSON alone, so a schema whose references are not at hand still has one.
pub fn full_name_of(text: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    let name = json.get("name")?.as_str()?;
    match json.get("namespace").and_then(serde_json::Value::as_str) {
        Some(ns) if !ns.is_empty() && !name.contains('.') => Some(format!("{ns}.{name}")),
        _ => Some(name.to_string()),
    }
}

/// Orders referenced schemas so each comes after the named types it uses: apache-avro
/// resolves a list front to back and refuses a name it has not met yet.
fn dependency_order(mut pending: Vec<Schema>) -> Result<Vec<Schema>, Error> {
    let mut ordered: Vec<Schema> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let resolves =
            |next: &Schema| ResolvedSchema::new_with_schemata(ordered.iter().chain([next]).collect()).is_ok();
        match pending.iter().position(resolves) {
            Some(i) => ordered.push(pending.remove(i)),
            // Nothing resolves next: let apache-avro name the missing type.
            None => {
                ResolvedSchema::new_with_schemata(ordered.iter().chain(&pending).collect())?;
                return Err(Error::Schema("schema references cannot be resolved".into()));
            }
        }
    }
    Ok(ordered)
}

/// A writer schema and a reader schema's fingerprint.
type ResolutionKey = (SchemaRef, Vec<u8>);

/// A resolution plan: apache-avro's datum reader for one (writer, reader) pair, holding both
/// name tables, built once per pair rather than per record.
#[ouroboros::self_referencing]
struct Resolver {
    writer: Arc<AvroSchema>,
    reader: Arc<AvroSchema>,
    #[borrows(writer, reader)]
    #[covariant]
    datum: GenericDatumReader<'this>,
}

impl Resolver {
    fn build(writer: Arc<AvroSchema>, reader: Arc<AvroSchema>) -> Result<Resolver, Error> {
        Resolver::try_new(writer, reader, |w, r| {
            let (w, r) = (w.compiled.borrow_parsed(), r.compiled.borrow_parsed());
            Ok(GenericDatumReader::builder(&w.root)
                .resolved_writer_schemata(w.resolved()?)
                .reader_schema(&r.root)
                .resolved_reader_schemata(r.resolved()?)
                .build()?)
        })
    }
}

/// Writer schemas by id or GUID, parsed once; shareable across threads.
#[derive(Default)]
pub struct AvroCodec {
    /// FxHash: an id hashes in a few instructions rather than SipHash's dozens. (Keys are
    /// ids the registry gave out: no crafted collisions.)
    schemas: RwLock<FxHashMap<SchemaRef, Arc<AvroSchema>>>,
    /// Per writer and reader (keyed by its fingerprint): the resolution plan, or why data of
    /// the writer cannot be read with the reader. Made once per pair; an impossible pair
    /// fails fast on every later record.
    resolutions: RwLock<HashMap<ResolutionKey, Result<Arc<Resolver>, String>>>,
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

    /// Runs `f` with the schema cached for `schema`, under the read lock rather than with a
    /// clone of its `Arc`: two atomic operations fewer per record.
    #[inline]
    fn with_writer<R>(&self, schema: SchemaRef, f: impl FnOnce(&AvroSchema) -> Result<R, Error>) -> Result<R, Error> {
        f(self.schemas.read().get(&schema).ok_or(Error::UnknownSchema(schema))?)
    }

    /// Frames and encodes `value` with the schema cached for `schema`.
    pub fn encode<T: Serialize + ?Sized>(&self, schema: SchemaRef, value: &T) -> Result<Vec<u8>, Error> {
        self.with_writer(schema, |w| w.encode_framed(schema, value))
    }

    /// Decodes a framed record into `T` with its writer schema.
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, Error> {
        let frame = wire::parse(bytes)?;
        self.with_writer(frame.schema, |w| w.decode_into(frame.payload))
    }

    /// Decodes a framed record into `T`, resolving the writer schema to `reader` (Avro
    /// schema resolution: a consumer on a newer schema reads older records).
    pub fn decode_with<T: DeserializeOwned>(&self, bytes: &[u8], reader: &Arc<AvroSchema>) -> Result<T, Error> {
        let value = self.decode_value(bytes, Some(reader))?;
        Ok(apache_avro::from_value(&value)?)
    }

    /// Decodes a framed record into an Avro `Value` (resolved to `reader` when given).
    pub fn decode_value(&self, bytes: &[u8], reader: Option<&Arc<AvroSchema>>) -> Result<Value, Error> {
        let frame = wire::parse(bytes)?;
        let writer = self.writer(frame.schema)?;
        let Some(reader) = reader else {
            return writer.decode_payload(frame.payload);
        };
        let resolver = self.resolver(frame.schema, writer, reader)?;
        let mut payload = frame.payload;
        Ok(resolver.borrow_datum().read_value(&mut payload)?)
    }

    /// Decodes a framed record as JSON (see [`to_json`]).
    pub fn decode_json(&self, bytes: &[u8]) -> Result<serde_json::Value, Error> {
        Ok(to_json(&self.decode_value(bytes, None)?))
    }

    /// The resolution plan for records of `writer` read as `reader`, made on first use.
    fn resolver(
        &self,
        id: SchemaRef,
        writer: Arc<AvroSchema>,
        reader: &Arc<AvroSchema>,
    ) -> Result<Arc<Resolver>, Error> {
        let key = (id, reader.fingerprint.clone());
        let known = self.resolutions.read().get(&key).cloned();
        let plan = match known {
            Some(plan) => plan,
            None => {
                // Schemas with references hold `Ref`s the checker cannot follow; their
                // resolution errors surface per record instead.
                let check = if writer.has_references() || reader.has_references() {
                    Ok(())
                } else {
                    SchemaCompatibility::can_read(writer.schema(), reader.schema())
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                };
                let plan = check
                    .and_then(|()| Resolver::build(writer, reader.clone()).map(Arc::new).map_err(|e| e.to_string()));
                self.resolutions.write().entry(key).or_insert(plan).clone()
            }
        };
        plan.map_err(|e| Error::Avro(format!("writer schema {id} cannot be read with the reader schema: {e}")))
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
        let reader = Arc::new(
            AvroSchema::parse(
                r#"{"type":"record","name":"User","namespace":"t","fields":[{"name":"n2","type":"int"}]}"#,
                &[],
            )
            .unwrap(),
        );
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
    fn full_names_come_from_the_text_alone() {
        assert_eq!(full_name_of(r#"{"type":"record","name":"P","namespace":"a.b","fields":[]}"#).unwrap(), "a.b.P");
        assert_eq!(full_name_of(r#"{"type":"record","name":"x.P","namespace":"a","fields":[]}"#).unwrap(), "x.P");
        assert_eq!(full_name_of(r#"{"type":"enum","name":"E","symbols":["A"]}"#).unwrap(), "E");
        // A type it cannot resolve without its references still has a name.
        assert_eq!(
            full_name_of(r#"{"type":"record","name":"P","namespace":"t","fields":[{"name":"a","type":"t.Missing"}]}"#)
                .unwrap(),
            "t.P"
        );
        assert_eq!(full_name_of(r#""string""#), None);
    }

    /// Every Avro type the direct path writes, in one record.
    const ALL: &str = r#"{"type":"record","name":"All","namespace":"t","fields":[
        {"name":"b","type":"boolean"},{"name":"i","type":"int"},{"name":"l","type":"long"},
        {"name":"f","type":"float"},{"name":"d","type":"double"},{"name":"s","type":"string"},
        {"name":"by","type":"bytes"},
        {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
        {"name":"arr","type":{"type":"array","items":"int"}},{"name":"m","type":{"type":"map","values":"long"}},
        {"name":"opt","type":["null","string"]},{"name":"num","type":["null","long","int"]},
        {"name":"day","type":{"type":"int","logicalType":"date"}},
        {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"inner","type":{"type":"record","name":"In","fields":[{"name":"x","type":"double"}]}},
        {"name":"again","type":"t.In"},{"name":"es","type":{"type":"array","items":"E"}}]}"#;

    /// Serializes as bytes (serde's default for `Vec<u8>` is a sequence).
    #[derive(Debug, Clone)]
    struct Bytes(Vec<u8>);

    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    #[derive(Serialize, Debug, Clone, Copy)]
    enum E {
        A,
        B,
        C,
    }

    #[derive(Serialize, Debug, Clone)]
    struct In {
        x: f64,
    }

    #[derive(Serialize, Debug, Clone)]
    struct All {
        b: bool,
        i: i32,
        l: i64,
        f: f32,
        d: f64,
        s: String,
        by: Bytes,
        e: E,
        arr: Vec<i32>,
        m: std::collections::BTreeMap<String, i64>,
        opt: Option<String>,
        num: Option<i64>,
        day: i32,
        ts: i64,
        inner: In,
        again: In,
        es: Vec<E>,
    }

    fn direct_and_resolved(schema: &AvroSchema, value: &impl Serialize) -> (Vec<u8>, Vec<u8>) {
        let mut direct = Vec::new();
        schema.write_direct(&mut direct, value).expect("the direct path takes the value");
        let mut resolved = Vec::new();
        schema.write_resolved(&mut resolved, value).expect("resolution takes the value");
        (direct, resolved)
    }

    #[test]
    fn direct_and_resolved_paths_write_the_same_bytes() {
        let schema = AvroSchema::parse(ALL, &[]).unwrap();
        let value = All {
            b: true,
            i: -3,
            l: 1 << 40,
            f: 1.5,
            d: -0.25,
            s: "héllo".into(),
            by: Bytes(vec![0, 255, 7]),
            e: E::C,
            arr: vec![1, -1, 300],
            m: [("k".to_string(), 9)].into(),
            opt: Some("o".into()),
            num: Some(5),
            day: 19_000,
            ts: 1_700_000_000_000,
            inner: In { x: 2.0 },
            again: In { x: 3.0 },
            es: vec![E::A, E::B],
        };
        let (direct, resolved) = direct_and_resolved(&schema, &value);
        assert_eq!(direct, resolved, "one map entry, so one order");
        // The JSON form (objects, u64 numbers, bytes as arrays of numbers) writes them too.
        assert_eq!(schema.encode_payload(&serde_json::to_value(&value).unwrap()).unwrap(), direct);
        let back = to_json(&schema.decode_payload(&direct).unwrap());
        assert_eq!(back["s"], "héllo");
        assert_eq!(back["again"]["x"], 3.0);
    }

    /// Resolution cannot take a fixed from serde bytes (it wants a string), so the direct
    /// path is checked against the encoding itself: the bytes as they are.
    #[test]
    fn fixed_takes_bytes_of_its_size() {
        #[derive(Serialize)]
        struct Fx {
            fx: Bytes,
        }
        let text =
            r#"{"type":"record","name":"R","fields":[{"name":"fx","type":{"type":"fixed","name":"F","size":4}}]}"#;
        let schema = AvroSchema::parse(text, &[]).unwrap();
        assert_eq!(schema.encode_payload(&Fx { fx: Bytes(vec![1, 2, 3, 4]) }).unwrap(), [1, 2, 3, 4]);
        assert!(schema.write_direct(&mut Vec::new(), &Fx { fx: Bytes(vec![1, 2, 3]) }).is_err());
        assert!(schema.encode_payload(&Fx { fx: Bytes(vec![1, 2, 3]) }).is_err());
    }

    /// In a union with a map and a record, a struct is the record and a map the map.
    #[test]
    fn structs_and_maps_pick_their_own_union_branch() {
        #[derive(Serialize)]
        struct R {
            a: String,
        }
        let text = r#"{"type":"record","name":"W","fields":[{"name":"u","type":["null",
            {"type":"map","values":"string"},{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}]}]}"#;
        let schema = AvroSchema::parse(text, &[]).unwrap();
        #[derive(Serialize)]
        struct W {
            u: Option<R>,
        }
        let mut direct = Vec::new();
        schema.write_direct(&mut direct, &W { u: Some(R { a: "x".into() }) }).unwrap();
        // Branch 2, then the field "x".
        assert_eq!(direct, [4, 2, b'x']);
        // A JSON object has no record name: it is the map.
        assert_eq!(schema.encode_payload(&json!({"u": {"a": "x"}})).unwrap(), [2, 2, 2, b'a', 2, b'x', 0]);
        let map: std::collections::BTreeMap<&str, &str> = [("a", "x")].into();
        #[derive(Serialize)]
        struct M<'a> {
            u: std::collections::BTreeMap<&'a str, &'a str>,
        }
        let mut direct = Vec::new();
        schema.write_direct(&mut direct, &M { u: map }).unwrap();
        // Branch 1, one entry "a" -> "x", end of map.
        assert_eq!(direct, [2, 2, 2, b'a', 2, b'x', 0]);
    }

    #[test]
    fn shapes_the_direct_path_refuses_still_encode() {
        let schema = AvroSchema::parse(USER, &[]).unwrap();
        #[derive(Serialize)]
        struct InOrder {
            name: &'static str,
            email: Option<&'static str>,
            tags: Vec<&'static str>,
            kind: &'static str,
        }
        #[derive(Serialize)]
        struct Shuffled {
            kind: &'static str,
            tags: Vec<&'static str>,
            email: Option<&'static str>,
            name: &'static str,
        }
        #[derive(Serialize)]
        struct DefaultLeftOut {
            name: &'static str,
            tags: Vec<&'static str>,
            kind: &'static str,
        }
        let mut direct = Vec::new();
        schema.write_direct(&mut direct, &InOrder { name: "a", email: None, tags: vec![], kind: "A" }).unwrap();
        let shuffled = Shuffled { kind: "A", tags: vec![], email: None, name: "a" };
        let left_out = DefaultLeftOut { name: "a", tags: vec![], kind: "A" };
        assert!(schema.write_direct(&mut Vec::new(), &shuffled).is_err());
        assert!(schema.write_direct(&mut Vec::new(), &left_out).is_err());
        assert_eq!(schema.encode_payload(&shuffled).unwrap(), direct);
        assert_eq!(schema.encode_payload(&left_out).unwrap(), direct);
    }

    fn arb_all() -> impl proptest::strategy::Strategy<Value = All> {
        use proptest::prelude::*;
        let e = prop_oneof![Just(E::A), Just(E::B), Just(E::C)];
        (
            (any::<bool>(), any::<i32>(), any::<i64>(), -1e6f32..1e6, -1e12f64..1e12, ".{0,12}"),
            (proptest::collection::vec(any::<u8>(), 0..8), e.clone()),
            (
                proptest::collection::vec(any::<i32>(), 0..5),
                proptest::collection::btree_map(".{0,4}", any::<i64>(), 0..4),
            ),
            (proptest::option::of(".{0,6}"), proptest::option::of(any::<i64>()), any::<i32>(), any::<i64>()),
            (-1e9f64..1e9, proptest::collection::vec(e, 0..4)),
        )
            .prop_map(|((b, i, l, f, d, s), (by, e), (arr, m), (opt, num, day, ts), (x, es))| All {
                b,
                i,
                l,
                f,
                d,
                s,
                by: Bytes(by),
                e,
                arr,
                m,
                opt,
                num,
                day,
                ts,
                inner: In { x },
                again: In { x: -x },
                es,
            })
    }

    proptest::proptest! {
        /// Any value of the all-types record: both paths write the same bytes, from the
        /// struct and from its JSON form. Resolution writes map entries in hash order, so
        /// with several entries only the decoded values are compared.
        #[test]
        fn direct_path_matches_resolution(value in arb_all()) {
            let schema = AvroSchema::parse(ALL, &[]).unwrap();
            let (direct, resolved) = direct_and_resolved(&schema, &value);
            let from_json = schema.encode_payload(&serde_json::to_value(&value).unwrap()).unwrap();
            if value.m.len() <= 1 {
                proptest::prop_assert_eq!(&direct, &resolved);
                proptest::prop_assert_eq!(&from_json, &direct);
            }
            let decoded = to_json(&schema.decode_payload(&direct).unwrap());
            proptest::prop_assert_eq!(&decoded, &to_json(&schema.decode_payload(&resolved).unwrap()));
            proptest::prop_assert_eq!(&decoded, &to_json(&schema.decode_payload(&from_json).unwrap()));
        }
    }

    #[test]
    fn newer_readers_read_older_records_through_one_cached_plan() {
        let address =
            r#"{"type":"record","name":"Address","namespace":"t","fields":[{"name":"city","type":"string"}]}"#;
        let v1 = r#"{"type":"record","name":"P","namespace":"t","fields":[{"name":"home","type":"t.Address"}]}"#;
        let v2 = r#"{"type":"record","name":"P","namespace":"t","fields":[{"name":"home","type":"t.Address"},
            {"name":"n","type":"long","default":7}]}"#;
        let codec = AvroCodec::new();
        codec.add_schema(SchemaRef::Id(1), v1, &[address]).unwrap();
        let reader = Arc::new(AvroSchema::parse(v2, &[address]).unwrap());
        for city in ["Oslo", "Rome"] {
            let bytes = codec.encode(SchemaRef::Id(1), &json!({"home": {"city": city}})).unwrap();
            let read: serde_json::Value = codec.decode_with(&bytes, &reader).unwrap();
            assert_eq!(read, json!({"home": {"city": city}, "n": 7}));
        }
        assert_eq!(codec.resolutions.read().len(), 1);
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

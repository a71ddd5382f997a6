//! JSON Schema records in the Confluent framing: the schema id, then the UTF-8 JSON
//! document. [`encode`] and [`decode`] take any serde value and do not validate it; with the
//! `json-schema` feature (default), [`JsonCodec`] validates each value against the
//! registered JSON Schema before encoding and after decoding, when asked to.
//!
//! ```
//! use schemata_codec::{json, SchemaRef};
//!
//! let bytes = json::encode(SchemaRef::Id(3), &serde_json::json!({"n": 1}))?;
//! assert_eq!(bytes, b"\0\0\0\0\x03{\"n\":1}");
//! let (schema, value): (_, serde_json::Value) = json::decode(&bytes)?;
//! assert_eq!((schema, value), (SchemaRef::Id(3), serde_json::json!({"n": 1})));
//! # Ok::<(), schemata_codec::Error>(())
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::wire::{self, SchemaRef};
use crate::Error;

#[cfg(feature = "json-schema")]
pub use validating::{JsonCodec, JsonSchema};

/// Frames `value` as compact JSON.
pub fn encode<T: Serialize + ?Sized>(schema: SchemaRef, value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(64);
    wire::write_header(&mut out, schema);
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

/// Reads a framed JSON document into `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<(SchemaRef, T), Error> {
    let frame = wire::parse(bytes)?;
    Ok((frame.schema, serde_json::from_slice(frame.payload)?))
}

#[cfg(feature = "json-schema")]
mod validating {
    use std::collections::HashMap;
    use std::sync::Arc;

    use jsonschema::{Draft, Registry, Validator};
    use parking_lot::RwLock;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::Value;

    use crate::wire::{self, SchemaRef};
    use crate::Error;

    /// The draft named by `$schema`; an absent or unknown one is read as draft 7, as
    /// Confluent does, and dropped from the copy handed to the validator so that nothing
    /// tries to fetch it (the validator has no network access either way).
    fn prepared(mut schema: Value) -> (Draft, Value) {
        let declared = schema.get("$schema").and_then(Value::as_str).map(|u| u.trim_end_matches('#').to_string());
        let path = declared.as_deref().and_then(|u| u.strip_prefix("https://").or_else(|| u.strip_prefix("http://")));
        let draft = match path {
            Some("json-schema.org/draft-04/schema") => Some(Draft::Draft4),
            Some("json-schema.org/draft-06/schema") => Some(Draft::Draft6),
            Some("json-schema.org/draft-07/schema") => Some(Draft::Draft7),
            Some("json-schema.org/draft/2019-09/schema") => Some(Draft::Draft201909),
            Some("json-schema.org/draft/2020-12/schema") => Some(Draft::Draft202012),
            _ => None,
        };
        if draft.is_none() {
            if let Value::Object(m) = &mut schema {
                m.remove("$schema");
            }
        }
        (draft.unwrap_or(Draft::Draft7), schema)
    }

    /// A registered JSON Schema compiled once into a validator.
    pub struct JsonSchema {
        validator: Validator,
    }

    impl JsonSchema {
        /// Compiles `text`; `references` are the (reference name, schema text) pairs its
        /// `$ref`s name, as the registry lists them. A schema that does not compile is
        /// [`Error::Schema`].
        pub fn parse(text: &str, references: &[(&str, &str)]) -> Result<JsonSchema, Error> {
            let parse = |t: &str| serde_json::from_str::<Value>(t).map_err(|e| Error::Schema(e.to_string()));
            let (draft, schema) = prepared(parse(text)?);
            let mut registry = Registry::new().draft(draft);
            for (name, t) in references {
                let (_, doc) = prepared(parse(t)?);
                registry = registry.add(*name, doc).map_err(|e| Error::Schema(e.to_string()))?;
            }
            let registry = registry.prepare().map_err(|e| Error::Schema(e.to_string()))?;
            let validator = jsonschema::options()
                .with_draft(draft)
                .with_registry(&registry)
                .build(&schema)
                .map_err(|e| Error::Schema(e.to_string()))?;
            Ok(JsonSchema { validator })
        }

        /// `Ok` when `value` satisfies the schema, else [`Error::JsonSchemaViolation`] with
        /// every failure, each as "instance path: message".
        pub fn validate(&self, value: &Value) -> Result<(), Error> {
            let errors: Vec<String> = self
                .validator
                .iter_errors(value)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    format!("{}: {e}", if at.is_empty() { "/" } else { at.as_str() })
                })
                .collect();
            if errors.is_empty() {
                Ok(())
            } else {
                Err(Error::JsonSchemaViolation(errors))
            }
        }
    }

    /// JSON Schema records validated against their registered schema: schemas are added
    /// once per id (or GUID) and compiled once; [`JsonCodec::encode`] and
    /// [`JsonCodec::decode`] check the value when `validate` is true, and otherwise do what
    /// [`super::encode`] and [`super::decode`] do.
    ///
    /// ```
    /// use schemata_codec::{json::JsonCodec, Error, SchemaRef};
    ///
    /// let codec = JsonCodec::new();
    /// codec.add_schema(SchemaRef::Id(3), r#"{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}"#, &[])?;
    /// let bytes = codec.encode(SchemaRef::Id(3), &serde_json::json!({"n": 1}), true)?;
    /// let (_, value): (_, serde_json::Value) = codec.decode(&bytes, true)?;
    /// assert_eq!(value, serde_json::json!({"n": 1}));
    /// let refused = codec.encode(SchemaRef::Id(3), &serde_json::json!({"n": "one"}), true);
    /// assert!(matches!(refused, Err(Error::JsonSchemaViolation(_))));
    /// # Ok::<(), Error>(())
    /// ```
    #[derive(Default)]
    pub struct JsonCodec {
        schemas: RwLock<HashMap<SchemaRef, Arc<JsonSchema>>>,
    }

    impl JsonCodec {
        pub fn new() -> JsonCodec {
            JsonCodec::default()
        }

        /// Compiles and keeps the schema registered as `schema`; see [`JsonSchema::parse`].
        pub fn add_schema(
            &self,
            schema: SchemaRef,
            text: &str,
            references: &[(&str, &str)],
        ) -> Result<Arc<JsonSchema>, Error> {
            let parsed = Arc::new(JsonSchema::parse(text, references)?);
            Ok(self.schemas.write().entry(schema).or_insert(parsed).clone())
        }

        /// The schema added as `schema`, if any.
        pub fn get(&self, schema: SchemaRef) -> Option<Arc<JsonSchema>> {
            self.schemas.read().get(&schema).cloned()
        }

        fn validate(&self, schema: SchemaRef, value: &Value) -> Result<(), Error> {
            self.get(schema).ok_or(Error::UnknownSchema(schema))?.validate(value)
        }

        /// Frames `value` as compact JSON, after checking it against the schema when
        /// `validate` (an unknown schema is then [`Error::UnknownSchema`]).
        pub fn encode<T: Serialize + ?Sized>(
            &self,
            schema: SchemaRef,
            value: &T,
            validate: bool,
        ) -> Result<Vec<u8>, Error> {
            if !validate {
                return super::encode(schema, value);
            }
            let value = serde_json::to_value(value)?;
            self.validate(schema, &value)?;
            super::encode(schema, &value)
        }

        /// Reads a framed JSON document into `T`, after checking the document against the
        /// schema it names when `validate`.
        pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8], validate: bool) -> Result<(SchemaRef, T), Error> {
            if !validate {
                return super::decode(bytes);
            }
            let frame = wire::parse(bytes)?;
            let value: Value = serde_json::from_slice(frame.payload)?;
            self.validate(frame.schema, &value)?;
            Ok((frame.schema, serde_json::from_value(value)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_style_spacing_decodes_and_garbage_is_an_error() {
        let bytes = b"\0\0\0\0\x07{\"a\": [1, 2], \"b\": null}";
        let (schema, value): (_, serde_json::Value) = decode(bytes).unwrap();
        assert_eq!((schema, value), (SchemaRef::Id(7), serde_json::json!({"a": [1, 2], "b": null})));
        assert!(matches!(decode::<serde_json::Value>(b"\0\0\0\0\x07{\"a\""), Err(Error::Json(_))));
        assert!(matches!(decode::<serde_json::Value>(b"\0\0"), Err(Error::Wire(_))));
    }

    #[cfg(feature = "json-schema")]
    mod validation {
        use super::super::{JsonCodec, JsonSchema};
        use crate::{Error, SchemaRef};
        use serde_json::json;

        const PERSON: &str = r#"{
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
            "required": ["name"],
            "additionalProperties": false
        }"#;

        #[test]
        fn a_valid_value_encodes_and_decodes_with_validation() {
            let codec = JsonCodec::new();
            codec.add_schema(SchemaRef::Id(5), PERSON, &[]).unwrap();
            let value = json!({"name": "ada", "age": 36});
            let bytes = codec.encode(SchemaRef::Id(5), &value, true).unwrap();
            assert_eq!(bytes, super::encode(SchemaRef::Id(5), &value).unwrap());
            let (schema, back): (_, serde_json::Value) = codec.decode(&bytes, true).unwrap();
            assert_eq!((schema, back), (SchemaRef::Id(5), value));
        }

        #[test]
        fn an_invalid_value_is_a_typed_error_both_ways_and_passes_when_not_asked() {
            let codec = JsonCodec::new();
            codec.add_schema(SchemaRef::Id(5), PERSON, &[]).unwrap();
            let bad = json!({"age": -1, "extra": true});
            match codec.encode(SchemaRef::Id(5), &bad, true) {
                Err(Error::JsonSchemaViolation(errors)) => {
                    assert_eq!(errors.len(), 3, "{errors:?}");
                    assert!(errors.iter().any(|e| e.starts_with("/age:")), "{errors:?}");
                }
                other => panic!("expected a violation, got {other:?}"),
            }
            // A producer that did not validate wrote it; the consumer that asks refuses it.
            let bytes = codec.encode(SchemaRef::Id(5), &bad, false).unwrap();
            assert!(matches!(codec.decode::<serde_json::Value>(&bytes, true), Err(Error::JsonSchemaViolation(_))));
            assert_eq!(codec.decode::<serde_json::Value>(&bytes, false).unwrap().1, bad);
        }

        #[test]
        fn unknown_schemas_bad_schemas_and_references() {
            let codec = JsonCodec::new();
            let v = json!({"name": "x"});
            assert!(matches!(codec.encode(SchemaRef::Id(9), &v, true), Err(Error::UnknownSchema(SchemaRef::Id(9)))));
            assert!(codec.encode(SchemaRef::Id(9), &v, false).is_ok());
            assert!(matches!(JsonSchema::parse("{not json", &[]), Err(Error::Schema(_))));
            assert!(matches!(JsonSchema::parse(r#"{"type": 12}"#, &[]), Err(Error::Schema(_))));
            // An unknown $schema is read as draft 7, never fetched.
            let s = JsonSchema::parse(r#"{"$schema": "http://example.invalid/s", "type": "string"}"#, &[]).unwrap();
            assert!(s.validate(&json!("ok")).is_ok());
            assert!(s.validate(&json!(1)).is_err());
            let order = r#"{"type":"object","properties":{"who":{"$ref":"person.json"}},"required":["who"]}"#;
            let s = JsonSchema::parse(order, &[("person.json", PERSON)]).unwrap();
            assert!(s.validate(&json!({"who": {"name": "ada"}})).is_ok());
            assert!(matches!(s.validate(&json!({"who": {"age": 3}})), Err(Error::JsonSchemaViolation(_))));
        }
    }
}

//! The one error type of the crate, so callers match on what went wrong (bad framing, an
//! unknown schema, a value the schema refuses, a registry refusal with its `error_code`).

use crate::wire::{SchemaRef, WireError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The schema a record names has not been added to the codec (or the registry has none).
    #[error("unknown schema {0}")]
    UnknownSchema(SchemaRef),
    #[error("invalid schema: {0}")]
    Schema(String),
    /// The value does not fit the schema, or the payload does not decode with it.
    #[error("avro: {0}")]
    Avro(String),
    #[error("protobuf: {0}")]
    Protobuf(String),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The value does not satisfy its JSON Schema: each failure as "instance path: message".
    #[error("json schema: {}", .0.join("; "))]
    JsonSchemaViolation(Vec<String>),
    /// The registry answered with an error body; `error_code` is Confluent's (e.g. 40403).
    #[error("registry: HTTP {status}, error {error_code}: {message}")]
    Registry { status: u16, error_code: i64, message: String },
    /// The registry could not be reached or answered with something other than JSON.
    #[error("registry transport: {0}")]
    Transport(String),
    /// No schema id can be chosen for a record (subject name strategy, auto-register off).
    #[error("{0}")]
    Config(String),
}

impl From<apache_avro::Error> for Error {
    fn from(e: apache_avro::Error) -> Error {
        Error::Avro(e.to_string())
    }
}

//! schemata-codec: the bytes a Kafka record carries, in the framing Confluent's serializers
//! write, so Java, Python, Go and Rust services can share topics.
//!
//! - [`wire`]: the framing itself (schema id or GUID, Protobuf message indexes).
//! - [`avro`], [`protobuf`], [`json`]: encode and decode values, with parsed schemas cached.
//! - [`client`] (feature `client`, on by default): an async schema registry client with
//!   caches and Confluent's subject name strategies.
//!
//! The format modules take schema text, not a registry, so they work with any source of
//! schemas (a registry client, files, a test).
//!
//! ```
//! use schemata_codec::{avro::AvroCodec, wire::SchemaRef};
//!
//! let codec = AvroCodec::new();
//! codec.add_schema(SchemaRef::Id(7), r#"{"type":"record","name":"T","fields":[{"name":"n","type":"long"}]}"#, &[])?;
//! let bytes = codec.encode(SchemaRef::Id(7), &serde_json::json!({"n": 3}))?;
//! assert_eq!(bytes, [0, 0, 0, 0, 7, 6]);
//! let value: serde_json::Value = codec.decode(&bytes)?;
//! assert_eq!(value, serde_json::json!({"n": 3}));
//! # Ok::<(), schemata_codec::Error>(())
//! ```

pub mod avro;
#[cfg(feature = "client")]
pub mod client;
mod error;
pub mod json;
pub mod protobuf;
mod schema_type;
pub mod wire;

pub use error::Error;
pub use schema_type::SchemaType;
pub use wire::SchemaRef;

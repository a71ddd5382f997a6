//! Protobuf messages in the Confluent framing: schema reference, the message index path of
//! the message's type within its file, then the message bytes. prost messages are encoded
//! with indexes the caller gives or, for prost-reflect messages (`ReflectMessage`, which
//! `DynamicMessage` and derived types implement), with indexes computed from the descriptor.
//! [`ProtobufCodec`] compiles each registered `.proto` text once (protox) to decode any
//! record into a `DynamicMessage` or JSON (the proto3 JSON mapping).
//!
//! ```
//! use prost_reflect::DynamicMessage;
//! use schemata_codec::protobuf::{self, ProtobufCodec};
//! use schemata_codec::SchemaRef;
//!
//! let text = r#"syntax = "proto3"; package shop;
//!     message Order { string id = 1; message Item { string sku = 1; } }"#;
//! let codec = ProtobufCodec::new();
//! let file = codec.add_schema(SchemaRef::Id(5), text, &[])?;
//!
//! let item_type = file.parent_pool().get_message_by_name("shop.Order.Item").unwrap();
//! let mut item = DynamicMessage::new(item_type);
//! item.set_field_by_name("sku", prost_reflect::Value::String("A-1".into()));
//! let bytes = protobuf::encode_reflect(SchemaRef::Id(5), &item)?;
//! assert_eq!(&bytes[..8], &[0, 0, 0, 0, 5, 4, 0, 0]); // indexes [0, 0]
//!
//! let (schema, indexes, decoded) = codec.decode_dynamic(&bytes)?;
//! assert_eq!((schema, indexes), (SchemaRef::Id(5), vec![0, 0]));
//! assert_eq!(decoded, item);
//! # Ok::<(), schemata_codec::Error>(())
//! ```

pub mod indexes;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use parking_lot::RwLock;
use prost::Message;
use prost_reflect::{DynamicMessage, FileDescriptor, MessageDescriptor, ReflectMessage};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

use crate::wire::{self, SchemaRef};
use crate::Error;

/// The file name a registered schema compiles under (Confluent's serialized form uses it too).
pub const ROOT_NAME: &str = "default";

/// Deeper `{` nesting is refused before parsing: protox recurses per level.
const MAX_NESTING: usize = 64;

/// Compiles a `.proto` text; `references` are (import path, text) pairs for its imports.
/// `google/protobuf/*` imports need no reference.
pub fn compile(text: &str, references: &[(&str, &str)]) -> Result<FileDescriptor, Error> {
    for source in std::iter::once(text).chain(references.iter().map(|r| r.1)) {
        let mut depth = 0usize;
        for c in source.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Err(Error::Schema(format!("nesting deeper than {MAX_NESTING} levels")));
            }
        }
    }
    let mut files: HashMap<String, String> = references.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    files.insert(ROOT_NAME.to_string(), text.to_string());
    let mut resolver = ChainFileResolver::new();
    resolver.add(Sources(files));
    resolver.add(GoogleFileResolver::new());
    // protox is a third-party parser: a panic on some odd input becomes an error.
    let compiled = catch_unwind(AssertUnwindSafe(|| {
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_source_info(false);
        compiler.open_file(ROOT_NAME).map(|c| c.descriptor_pool())
    }));
    let pool = match compiled {
        Ok(Ok(pool)) => pool,
        Ok(Err(e)) => return Err(Error::Schema(e.to_string())),
        Err(_) => return Err(Error::Schema("the Protobuf parser failed on this schema".into())),
    };
    pool.get_file_by_name(ROOT_NAME).ok_or_else(|| Error::Schema("compiled schema has no root file".into()))
}

/// In-memory `.proto` sources by import path.
struct Sources(HashMap<String, String>);

impl FileResolver for Sources {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(text) => File::from_source(name, text),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// Frames a prost message with the index path of its type (see [`indexes::index_of`]).
pub fn encode_prost<M: Message>(schema: SchemaRef, indexes: &[i32], message: &M) -> Vec<u8> {
    let mut out = Vec::with_capacity(17 + 1 + indexes.len() + message.encoded_len());
    wire::write_header(&mut out, schema);
    wire::write_indexes(&mut out, indexes);
    // Writing into a Vec cannot run out of space.
    message.encode_raw(&mut out);
    out
}

/// Frames a prost-reflect message, its index path computed from its descriptor.
pub fn encode_reflect<M: ReflectMessage>(schema: SchemaRef, message: &M) -> Result<Vec<u8>, Error> {
    let descriptor = message.descriptor();
    let path = indexes::index_of(&descriptor.parent_file(), descriptor.full_name())
        .ok_or_else(|| Error::Protobuf(format!("{} has no index path in its file", descriptor.full_name())))?;
    Ok(encode_prost(schema, &path, message))
}

/// Decodes a framed record into a prost message type the caller knows it holds.
pub fn decode_prost<M: Message + Default>(bytes: &[u8]) -> Result<(SchemaRef, Vec<i32>, M), Error> {
    let (schema, path, payload) = wire::parse_protobuf(bytes)?;
    let message = M::decode(payload).map_err(|e| Error::Protobuf(e.to_string()))?;
    Ok((schema, path, message))
}

/// Registered `.proto` schemas by id or GUID, compiled once; shareable across threads.
#[derive(Default)]
pub struct ProtobufCodec {
    files: RwLock<HashMap<SchemaRef, FileDescriptor>>,
}

impl ProtobufCodec {
    pub fn new() -> ProtobufCodec {
        ProtobufCodec::default()
    }

    /// Compiles and caches the schema registered as `schema` (kept if already cached).
    pub fn add_schema(
        &self,
        schema: SchemaRef,
        text: &str,
        references: &[(&str, &str)],
    ) -> Result<FileDescriptor, Error> {
        if let Some(file) = self.get(schema) {
            return Ok(file);
        }
        let file = compile(text, references)?;
        Ok(self.files.write().entry(schema).or_insert(file).clone())
    }

    pub fn get(&self, schema: SchemaRef) -> Option<FileDescriptor> {
        self.files.read().get(&schema).cloned()
    }

    /// The message type of `schema` named `full_name`, or its first message.
    pub fn message(&self, schema: SchemaRef, full_name: Option<&str>) -> Result<MessageDescriptor, Error> {
        let file = self.get(schema).ok_or(Error::UnknownSchema(schema))?;
        let found = match full_name {
            Some(name) => {
                file.parent_pool().get_message_by_name(name.trim_start_matches('.')).filter(|m| m.parent_file() == file)
            }
            None => file.messages().next(),
        };
        found.ok_or_else(|| {
            Error::Protobuf(format!("schema {schema} has no message {}", full_name.unwrap_or("(none declared)")))
        })
    }

    /// Decodes a framed record into a `DynamicMessage` of the type its indexes name.
    pub fn decode_dynamic(&self, bytes: &[u8]) -> Result<(SchemaRef, Vec<i32>, DynamicMessage), Error> {
        let (schema, path, payload) = wire::parse_protobuf(bytes)?;
        let file = self.get(schema).ok_or(Error::UnknownSchema(schema))?;
        let descriptor = indexes::message_at(&file, &path)
            .ok_or_else(|| Error::Protobuf(format!("message indexes {path:?} name no message of schema {schema}")))?;
        let message = DynamicMessage::decode(descriptor, payload).map_err(|e| Error::Protobuf(e.to_string()))?;
        Ok((schema, path, message))
    }

    /// Decodes a framed record to its proto3 JSON mapping (camelCase names, 64-bit integers
    /// as strings, default values left out), as `json_format.MessageToDict` writes it.
    pub fn decode_json(&self, bytes: &[u8]) -> Result<(SchemaRef, Vec<i32>, serde_json::Value), Error> {
        let (schema, path, message) = self.decode_dynamic(bytes)?;
        Ok((schema, path, serde_json::to_value(&message)?))
    }

    /// Encodes a proto3 JSON value as the message `full_name` (default: the first) of `schema`.
    pub fn encode_json(
        &self,
        schema: SchemaRef,
        full_name: Option<&str>,
        value: &serde_json::Value,
    ) -> Result<Vec<u8>, Error> {
        let descriptor = self.message(schema, full_name)?;
        let message = DynamicMessage::deserialize(descriptor, value).map_err(|e| Error::Protobuf(e.to_string()))?;
        encode_reflect(schema, &message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ORDERS: &str = r#"syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "common/money.proto";
message Order {
  string id = 1;
  int64 amount = 2;
  repeated Item items = 3;
  google.protobuf.Timestamp created = 4;
  common.Money total = 5;
  message Item { string sku = 1; int32 qty = 2; }
}
message Shipment { string carrier = 1; }
"#;
    const MONEY: &str = "syntax = \"proto3\";\npackage common;\nmessage Money { int64 cents = 1; }\n";

    /// A hand-written prost message matching `shop.Shipment`.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Shipment {
        #[prost(string, tag = "1")]
        carrier: String,
    }

    fn codec() -> ProtobufCodec {
        let codec = ProtobufCodec::new();
        codec.add_schema(SchemaRef::Id(9), ORDERS, &[("common/money.proto", MONEY)]).unwrap();
        codec
    }

    #[test]
    fn json_round_trip_with_references_and_well_known_types() {
        let codec = codec();
        let value = json!({"id":"o-1","amount":"12","items":[{"sku":"A","qty":2}],
                           "created":"2023-11-14T22:13:20Z","total":{"cents":"5"}});
        let bytes = codec.encode_json(SchemaRef::Id(9), None, &value).unwrap();
        assert_eq!(&bytes[..6], &[0, 0, 0, 0, 9, 0]);
        let (schema, path, back) = codec.decode_json(&bytes).unwrap();
        assert_eq!((schema, path), (SchemaRef::Id(9), vec![0]));
        assert_eq!(back, value);

        let item = codec.encode_json(SchemaRef::Id(9), Some("shop.Order.Item"), &json!({"sku":"Z"})).unwrap();
        assert_eq!(&item[5..8], &[4, 0, 0]);
        assert_eq!(codec.decode_json(&item).unwrap().2, json!({"sku":"Z"}));
    }

    #[test]
    fn prost_messages_frame_with_given_indexes() {
        let codec = codec();
        let message = Shipment { carrier: "post".into() };
        let bytes = encode_prost(SchemaRef::Id(9), &[1], &message);
        assert_eq!(&bytes[5..7], &[2, 2]);
        assert_eq!(decode_prost::<Shipment>(&bytes).unwrap(), (SchemaRef::Id(9), vec![1], message));
        assert_eq!(codec.decode_json(&bytes).unwrap().2, json!({"carrier":"post"}));
    }

    #[test]
    fn bad_input_is_an_error() {
        let codec = codec();
        assert!(matches!(codec.decode_dynamic(&[0, 0, 0, 0, 8, 0]), Err(Error::UnknownSchema(_))));
        assert!(matches!(codec.decode_dynamic(&[0, 0, 0, 0, 9, 2, 8]), Err(Error::Protobuf(_))));
        assert!(matches!(codec.decode_dynamic(&[0, 0, 0, 0, 9, 0, 0xff]), Err(Error::Protobuf(_))));
        assert!(matches!(codec.decode_dynamic(&[0, 0, 0, 0, 9, 0x04]), Err(Error::Wire(_))));
        assert!(matches!(codec.encode_json(SchemaRef::Id(9), Some("shop.Nope"), &json!({})), Err(Error::Protobuf(_))));
        assert!(matches!(codec.encode_json(SchemaRef::Id(9), None, &json!({"id": 5})), Err(Error::Protobuf(_))));
        assert!(matches!(compile("message {", &[]), Err(Error::Schema(_))));
        assert!(matches!(compile(&"message A {".repeat(100), &[]), Err(Error::Schema(_))));
        assert!(matches!(compile("syntax = \"proto3\"; import \"x.proto\";", &[]), Err(Error::Schema(_))));
    }
}

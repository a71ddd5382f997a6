//! Protobuf parsing from a descriptor: the input bytes are a binary `FileDescriptorProto`,
//! sent base64-encoded as Confluent clients send one in the `schema` field. The fuzzer mutates
//! the binary (so the seeds are decoded descriptors); the schema is read leniently and strictly
//! (normalized), printed in every format and checked for compatibility with itself. No input
//! may panic or hang.
#![no_main]

#[path = "shared/schema.rs"]
mod shared;

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use schemata::schema::SchemaType;

fuzz_target!(|data: &[u8]| {
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    shared::exercise(SchemaType::Protobuf, &text, &["serialized", "ignore_extensions"]);
});

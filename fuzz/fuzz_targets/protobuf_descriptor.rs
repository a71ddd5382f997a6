//! Protobuf parsing from a descriptor: the input bytes are a binary `FileDescriptorProto`,
//! sent base64-encoded as Confluent clients send one in the `schema` field. The fuzzer mutates
//! the binary (so the seeds are decoded descriptors); the schema is read leniently and strictly
//! (normalized), printed in every format and checked for compatibility with itself. No input
//! may panic or hang.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use schemata::schema::{ParseOptions, ParsedSchema, SchemaType};

fuzz_target!(|data: &[u8]| {
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    let parse = |validate, normalize| {
        ParsedSchema::parse(SchemaType::Protobuf, &text, &[], ParseOptions { normalize, validate })
    };
    let lenient = parse(false, false);
    let Ok(strict) = parse(true, true) else { return };
    for format in ["serialized", "ignore_extensions"] {
        let _ = strict.formatted(format);
    }
    if let Ok(lenient) = lenient {
        let _ = ParsedSchema::incompatibilities(&strict, &lenient, "new", "old");
        let _ = ParsedSchema::incompatibilities(&lenient, &strict, "new", "old");
    }
});

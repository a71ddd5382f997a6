//! Protobuf parsing from text: any UTF-8 text is read as a .proto file (or a base64 descriptor, if it is one), leniently and strictly (normalized), then printed in every format and checked for compatibility with itself. No input may panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemata::schema::{ParseOptions, ParsedSchema, SchemaType};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parse = |validate, normalize| {
        ParsedSchema::parse(SchemaType::Protobuf, text, &[], ParseOptions { normalize, validate })
    };
    // Leniently (a stored schema re-read), then strictly and normalized (a new registration).
    let lenient = parse(false, false);
    let Ok(strict) = parse(true, true) else { return };
    for format in ["serialized", "ignore_extensions", "resolved"] {
        let _ = strict.formatted(format);
    }
    // Each way round, as a compatibility check compares a new version with an old one.
    if let Ok(lenient) = lenient {
        let _ = ParsedSchema::incompatibilities(&strict, &lenient, "new", "old");
        let _ = ParsedSchema::incompatibilities(&lenient, &strict, "new", "old");
    }
});

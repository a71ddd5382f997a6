//! JSON Schema parsing: any UTF-8 text is read as a JSON Schema, leniently and strictly (normalized), then printed in every format and checked for compatibility with itself. No input may panic or hang.
#![no_main]

#[path = "shared/schema.rs"]
mod shared;

use libfuzzer_sys::fuzz_target;
use schemata::schema::SchemaType;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    shared::exercise(SchemaType::Json, text, &["serialized", "ignore_extensions", "resolved"]);
});

//! What every schema-parsing target does with its text: parse it leniently (a stored schema
//! re-read) and strictly, normalized (a new registration), print the strict result in each
//! `format`, and check the two against each other both ways, as a compatibility check compares
//! a new version with an old one. No input may panic or hang.

use schemata::schema::{ParseOptions, ParsedSchema, SchemaType};

pub fn exercise(schema_type: SchemaType, text: &str, formats: &[&str]) {
    let parse = |validate, normalize| ParsedSchema::parse(schema_type, text, &[], ParseOptions { normalize, validate });
    let lenient = parse(false, false);
    let Ok(strict) = parse(true, true) else { return };
    for format in formats {
        let _ = strict.formatted(format);
    }
    if let Ok(lenient) = lenient {
        let _ = ParsedSchema::incompatibilities(&strict, &lenient, "new", "old");
        let _ = ParsedSchema::incompatibilities(&lenient, &strict, "new", "old");
    }
}

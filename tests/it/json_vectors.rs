//! Oracle tests for the JSON Schema module: every case of Apicurio's JSON Schema
//! compatibility vectors (judged by Confluent's rules; the few cases where Confluent's
//! documented rule differs are listed, with reasons, in `tests/data/jsonschema/README.md`
//! and in `EXCEPTIONS` below), plus parsing, canonical text and references.

use schemata::schema::json::{compatibility_messages, JsonSchema};
use schemata::schema::{ParseOptions, SchemaRef};
use serde_json::Value;

/// Cases where Confluent's rule differs from the Apicurio label, with the Confluent answer
/// applied instead; each is explained in the data README.
/// All share one reason: Confluent's diff does not compare these keywords at all
/// (format, content*, propertyNames, patternProperties beyond the content model, contains,
/// if/then/else), so both directions pass where Apicurio judges the change.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("String: format 1", "both"),
    ("String: format 2", "both"),
    ("String: contentEncoding 2", "both"),
    ("String: contentEncoding 3", "both"),
    ("String: contentMediaType 2", "both"),
    ("String: contentMediaType 3", "both"),
    ("Object: propertyNames", "both"),
    ("Object: patternProperties 1", "both"),
    ("Object: patternProperties 2", "both"),
    ("Array: contains", "both"),
    ("Conditional: if", "both"),
    ("Conditional: then", "both"),
    ("Conditional: else", "both"),
];

fn parse(value: &Value) -> JsonSchema {
    let text = value.to_string();
    JsonSchema::parse(&text, &[], ParseOptions::default()).unwrap_or_else(|e| panic!("parse {text}: {e}"))
}

fn compatible(reader: &JsonSchema, writer: &JsonSchema) -> bool {
    compatibility_messages(reader, writer, "new", "old").is_empty()
}

#[test]
fn apicurio_json_schema_cases() {
    let path = format!("{}/tests/data/jsonschema/compatibility-test-data.json", env!("CARGO_MANIFEST_DIR"));
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read vectors")).expect("json");
    let cases = data["tests"].as_array().expect("tests");
    let (mut passed, mut failures) = (0, Vec::new());
    for c in cases.iter().filter(|c| c["enabled"].as_bool().unwrap_or(true)) {
        let id = c["id"].as_str().unwrap_or("?");
        let original = parse(&c["original"]);
        let updated = parse(&c["updated"]);
        let backward = compatible(&updated, &original);
        let forward = compatible(&original, &updated);
        let got = match (backward, forward) {
            (true, true) => "both",
            (true, false) => "backward",
            (false, true) => "forward",
            (false, false) => "none",
        };
        let expected = EXCEPTIONS
            .iter()
            .find(|(e, _)| *e == id)
            .map(|(_, answer)| *answer)
            .unwrap_or_else(|| c["compatibility"].as_str().unwrap_or("?"));
        if got == expected {
            passed += 1;
        } else {
            let b = compatibility_messages(&updated, &original, "new", "old");
            let f = compatibility_messages(&original, &updated, "old", "new");
            failures.push(format!("{id}: expected {expected}, got {got}\n  backward {b:?}\n  forward {f:?}"));
        }
    }
    assert!(failures.is_empty(), "{passed} passed, {} failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn canonical_text_keeps_key_order_and_normalize_sorts() {
    let text = r#"{ "type": "object", "properties": { "b": {"type":"number","maximum":1.5e3}, "a": {} } }"#;
    let plain = JsonSchema::parse(text, &[], ParseOptions::default()).expect("valid");
    assert_eq!(plain.canonical(), r#"{"type":"object","properties":{"b":{"type":"number","maximum":1500.0},"a":{}}}"#);
    let normalized = JsonSchema::parse(text, &[], ParseOptions { normalize: true, validate: true }).expect("valid");
    assert_eq!(
        normalized.canonical(),
        r#"{"properties":{"a":{},"b":{"maximum":1500.0,"type":"number"}},"type":"object"}"#
    );
}

#[test]
fn invalid_documents_are_rejected() {
    for text in [
        r#"{"type":12}"#,
        r##"{"$ref":"#/definitions/missing"}"##,
        r#"{"type":"string","pattern":"("}"#,
        r#"{"required":"a"}"#,
    ] {
        let err = JsonSchema::parse(text, &[], ParseOptions::default()).expect_err(text);
        assert_eq!(err.message, "Invalid JSON Schema", "{text}");
        assert!(err.short);
    }
    let err = JsonSchema::parse(r#"{"type":"#, &[], ParseOptions::default()).expect_err("truncated");
    assert_eq!(err.message, r#"Invalid JSON {"type":"#);
    for text in ["[]", "12", "true", "{}", r#"{"$schema":"http://example.com/unknown"}"#] {
        JsonSchema::parse(text, &[], ParseOptions::default()).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn references_resolve_by_name_and_take_part_in_checks() {
    let dep_v1 = r#"{"type":"object","properties":{"v":{"type":"integer"}}}"#;
    let dep_v2 = r#"{"type":"object","properties":{"v":{"type":"string"}}}"#;
    let holder = r#"{"type":"object","properties":{"d":{"$ref":"dep.json"}}}"#;
    assert!(JsonSchema::parse(holder, &[], ParseOptions::default()).is_err(), "unresolved $ref");
    let old = JsonSchema::parse(holder, &[SchemaRef { name: "dep.json", text: dep_v1 }], ParseOptions::default())
        .expect("resolves");
    let new = JsonSchema::parse(holder, &[SchemaRef { name: "dep.json", text: dep_v2 }], ParseOptions::default())
        .expect("resolves");
    let messages = compatibility_messages(&new, &old, "new", "old");
    assert_eq!(
        messages,
        vec![
            "{errorType:\"TYPE_CHANGED\", description:\"A type at path '#/properties/d/properties/v' is different between the new schema and the old schema'}"
        ]
    );
}

#[test]
fn recursive_schemas_terminate() {
    let a = serde_json::json!({"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"string"}}});
    let b = serde_json::json!({"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"integer"}}});
    let (a, b) = (parse(&a), parse(&b));
    assert!(!compatible(&b, &a));
    assert!(compatible(&a, &a));
}

/// Deeply nested and branch-heavy schemas finish quickly on a small worker stack: the walk
/// is memoized and budgeted, never exponential.
#[test]
fn nested_combinations_and_deep_schemas_stay_bounded() {
    let run = || {
        let mut nested_not = String::from("{\"type\":\"string\"}");
        let mut nested_any = String::from("{\"type\":\"string\"}");
        let mut nested_props = String::from("{\"type\":\"string\"}");
        for i in 0..60 {
            nested_not = format!("{{\"not\":{nested_not}}}");
            nested_any = format!("{{\"anyOf\":[{nested_any},{nested_any},{{\"type\":\"integer\",\"minimum\":{i}}}]}}");
            nested_props = format!("{{\"type\":\"object\",\"properties\":{{\"p\":{nested_props}}}}}");
            if nested_any.len() > 200_000 {
                nested_any =
                    format!("{{\"anyOf\":[{{\"type\":\"string\"}},{{\"type\":\"integer\",\"minimum\":{i}}}]}}");
            }
        }
        for text in [&nested_not, &nested_any, &nested_props] {
            let a = JsonSchema::parse(text, &[], ParseOptions::default()).expect("valid");
            let b = JsonSchema::parse(&text.replace("string", "number"), &[], ParseOptions::default()).expect("valid");
            let started = std::time::Instant::now();
            let _ = compatibility_messages(&a, &b, "new", "old");
            let _ = compatibility_messages(&b, &a, "old", "new");
            assert!(started.elapsed().as_secs() < 10, "took {:?}", started.elapsed());
        }
        // Past serde_json's nesting limit (128) a document is refused, not overflowed.
        let too_deep = format!("{}{{}}{}", "{\"not\":".repeat(300), "}".repeat(300));
        assert!(JsonSchema::parse(&too_deep, &[], ParseOptions::default()).is_err());
    };
    std::thread::Builder::new().stack_size(2 << 20).spawn(run).expect("thread").join().expect("no panic");
}

/// Odd but valid schemas, every pair checked both ways: no panic, and a schema is always
/// compatible with itself.
#[test]
fn odd_schema_pairs_never_panic() {
    let texts = [
        "true",
        "false",
        "{}",
        "[]",
        "12",
        r#""x""#,
        r#"{"type":["integer"]}"#,
        r#"{"type":["string","null","integer"]}"#,
        r##"{"$ref":"#"}"##,
        r##"{"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"}"##,
        r##"{"definitions":{"a b":{"type":"string"}},"$ref":"#/definitions/a%20b"}"##,
        r#"{"allOf":[{"type":"object"},{"anyOf":[{"required":["a"]},{"required":["b"]}]}],"oneOf":[{},{}]}"#,
        r#"{"type":"object","properties":{"a":false},"additionalProperties":false}"#,
        r#"{"type":"object","patternProperties":{"^x":{"type":"string"}},"additionalProperties":false,"properties":{"y":{}}}"#,
        r#"{"type":"array","items":[{"type":"string"},true,false],"additionalItems":{"type":"integer"}}"#,
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"type":"string"}],"items":false}"#,
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","minimum":0,"exclusiveMinimum":true,"multipleOf":0.5}"#,
        r#"{"type":"number","exclusiveMaximum":0,"maximum":-1,"multipleOf":3}"#,
        r#"{"enum":[1,"a",null,{"k":[1]}]}"#,
        r#"{"const":{"a":1}}"#,
        r#"{"not":{"not":{"type":"string"}}}"#,
        r#"{"type":"object","dependencies":{"a":["b"],"c":{"required":["d"]}},"dependentRequired":{"x":["y"]}}"#,
        r##"{"$id":"http://example.com/root.json","definitions":{"A":{"$id":"#A","type":"string"}},"properties":{"p":{"$ref":"#A"}}}"##,
        r##"{"$schema":"https://json-schema.org/draft/2019-09/schema","$defs":{"n":{"$anchor":"n","type":"null"}},"$ref":"#n"}"##,
    ];
    let parsed: Vec<JsonSchema> = texts
        .iter()
        .map(|t| JsonSchema::parse(t, &[], ParseOptions::default()).unwrap_or_else(|e| panic!("{t}: {e}")))
        .collect();
    for (i, a) in parsed.iter().enumerate() {
        assert!(compatible(a, a), "{} not compatible with itself", texts[i]);
        for b in &parsed {
            let _ = compatibility_messages(a, b, "new", "old");
        }
    }
}

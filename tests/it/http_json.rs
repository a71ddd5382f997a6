//! HTTP tests of JSON Schema subjects beyond the recorded corpus: the stored text after a
//! restart, checks that read a stored schema with references, transitive levels over
//! JSON versions, closed and open content models, and the raw `/schema` endpoints.

use crate::common::*;
use serde_json::{json, Value};

fn json_schema(text: &str) -> Value {
    json!({ "schema": text, "schemaType": "JSON" })
}

fn register(s: &Server, subject: &str, body: Value) -> (u16, Value) {
    s.post(&format!("/subjects/{subject}/versions"), body)
}

fn check(s: &Server, subject: &str, body: Value) -> Value {
    let (status, verdict) = s.post(&format!("/compatibility/subjects/{subject}/versions?verbose=true"), body);
    assert_eq!(status, 200, "{verdict}");
    verdict
}

#[test]
fn types_endpoint_lists_every_type_in_confluents_order() {
    let s = Server::start();
    assert_eq!(s.get("/schemas/types"), (200, json!(["JSON", "PROTOBUF", "AVRO"])));
}

#[test]
fn stored_text_and_raw_schema_survive_a_restart() {
    let mut s = Server::start();
    let text = r#"{ "type": "object", "properties": { "n": { "type": "number", "maximum": 1e3 } } }"#;
    let (status, body) = register(&s, "j", json_schema(text));
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_u64().expect("id");
    s.restart();
    let stored = r#"{"type":"object","properties":{"n":{"type":"number","maximum":1000.0}}}"#;
    assert_eq!(s.get(&format!("/schemas/ids/{id}")), (200, json!({ "schemaType": "JSON", "schema": stored })));
    let raw = s.raw("GET", "/subjects/j/versions/1/schema", None, None, &[]);
    assert_eq!(raw.text, stored);
    // The same text, differently spaced, is the same version.
    let (_, again) = register(&s, "j", json_schema(stored));
    assert_eq!(again, json!({ "id": id }));
}

#[test]
fn closed_and_open_content_models_follow_confluent() {
    let s = Server::start();
    let closed = r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#;
    assert_eq!(register(&s, "closed", json_schema(closed)).0, 200);
    // An optional property added to a closed model: old data never carries it.
    let added =
        r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false}"#;
    assert_eq!(check(&s, "closed", json_schema(added)), json!({ "is_compatible": true, "messages": [] }));

    let open = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
    assert_eq!(register(&s, "open", json_schema(open)).0, 200);
    // The same addition to an open model: old data may carry "b" with any value.
    let added_open = r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}"#;
    let verdict = check(&s, "open", json_schema(added_open));
    assert_eq!(verdict["is_compatible"], json!(false));
    let first = verdict["messages"][0].as_str().expect("message");
    assert!(first.starts_with("{errorType:\"PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL\""), "{first}");
    assert!(first.contains("'#/properties/b'"), "{first}");
    // Removing a property from an open model is compatible.
    let removed = r#"{"type":"object","properties":{}}"#;
    assert_eq!(check(&s, "open", json_schema(removed))["is_compatible"], json!(true));
}

#[test]
fn transitive_levels_read_every_json_version() {
    let s = Server::start();
    s.set_level("t", "BACKWARD_TRANSITIVE");
    let v1 = r#"{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false}"#;
    let v2 = r#"{"type":"object","properties":{"a":{"type":"number"}},"additionalProperties":false}"#;
    let v3 = r#"{"type":"object","properties":{"a":{"type":"number","minimum":0}},"additionalProperties":false}"#;
    assert_eq!(register(&s, "t", json_schema(v1)).0, 200);
    assert_eq!(register(&s, "t", json_schema(v2)).0, 200, "integer -> number widens");
    let (status, body) = register(&s, "t", json_schema(v3));
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains("MINIMUM_ADDED"), "{body}");
}

#[test]
fn references_are_resolved_for_stored_schemas_too() {
    let mut s = Server::start();
    let dep = r#"{"type":"object","properties":{"v":{"type":"integer"}}}"#;
    assert_eq!(register(&s, "dep", json_schema(dep)).0, 200);
    let holder = r#"{"type":"object","properties":{"d":{"$ref":"dep.json"}}}"#;
    let with_ref = |version: u32| {
        json!({ "schema": holder, "schemaType": "JSON",
                "references": [{ "name": "dep.json", "subject": "dep", "version": version }] })
    };
    assert_eq!(register(&s, "holder", with_ref(1)).0, 200);
    s.set_level("dep", "NONE");
    let dep_v2 = r#"{"type":"object","properties":{"v":{"type":"string"}}}"#;
    assert_eq!(register(&s, "dep", json_schema(dep_v2)).0, 200);
    s.restart();
    // The stored holder is re-read with its reference; pointing it at dep v2 changes a type.
    let verdict = check(&s, "holder", with_ref(2));
    assert_eq!(verdict["is_compatible"], json!(false), "{verdict}");
    assert_eq!(
        verdict["messages"][0],
        json!("{errorType:\"TYPE_CHANGED\", description:\"A type at path '#/properties/d/properties/v' is different between the new schema and the old schema'}")
    );
}

/// Confluent counts pattern properties only when deciding whether an added or removed
/// property is covered: replacing `properties: {a}` by a pattern that covers `a` is
/// BACKWARD compatible; a pattern that does not cover it leaves `a` removed from a closed
/// model. Documents everit refuses are 42201, those it accepts register.
#[test]
fn pattern_properties_cover_properties_and_everit_decides_validity() {
    let s = Server::start();
    let (status, body) = register(&s, "pp", json_schema(r#"{"type":"object","properties":{"a":{}}}"#));
    assert_eq!(status, 200, "{body}");
    let covered = json_schema(r#"{"type":"object","patternProperties":{"^a*":{}}}"#);
    assert_eq!(check(&s, "pp", covered.clone())["is_compatible"], json!(true));
    let uncovered = json_schema(r#"{"type":"object","patternProperties":{"^b":{}}}"#);
    let verdict = check(&s, "pp", uncovered);
    assert_eq!(verdict["is_compatible"], json!(false), "{verdict}");
    assert!(verdict.to_string().contains("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"), "{verdict}");
    assert_eq!(register(&s, "pp", covered).0, 200);

    for (i, (text, status)) in [
        (r#"{"type":"foo"}"#, 422),
        (r#"{"minimum":"x"}"#, 422),
        (r#"{"x-unknown":true,"type":"string","format":"no-such-format"}"#, 200),
        (r#"{"type":"string","minLength":-1}"#, 200),
        (r#"{"type":"object","required":["a","a"]}"#, 200),
    ]
    .into_iter()
    .enumerate()
    {
        let (got, body) = register(&s, &format!("valid{i}"), json_schema(text));
        assert_eq!(got, status, "{text}: {body}");
        if status == 422 {
            assert_eq!(body["error_code"], json!(42201), "{text}");
        }
    }
}

/// The last corners of everit's reading, over HTTP: a count must be a 32-bit integer literal
/// (`1.0` is a decimal to everit's `requireInteger`: 42201 "Invalid JSON Schema"), while an
/// empty `type` list and a `multipleOf` of zero or below register. And
/// `additionalProperties: {}` is a schema, not `true`: adding it to an open model narrows
/// the additional properties (incompatible), removing it extends them (compatible).
#[test]
fn everit_counts_type_lists_and_empty_additional_properties() {
    let s = Server::start();
    for (i, (text, status)) in [
        (r#"{"type":"string","minLength":1.0}"#, 422),
        (r#"{"type":"array","maxItems":2.0}"#, 422),
        (r#"{"type":"object","minProperties":1.5}"#, 422),
        (r#"{"type":"string","maxLength":2147483648}"#, 422),
        (r#"{"type":[]}"#, 200),
        (r#"{"type":["string","string"]}"#, 200),
        (r#"{"type":"number","multipleOf":0}"#, 200),
        (r#"{"type":"number","multipleOf":-1}"#, 200),
    ]
    .into_iter()
    .enumerate()
    {
        let (got, body) = register(&s, &format!("corner{i}"), json_schema(text));
        assert_eq!(got, status, "{text}: {body}");
        if status == 422 {
            assert_eq!(body["error_code"], json!(42201), "{text}");
            let message = body["message"].as_str().unwrap_or("");
            assert!(message.ends_with("details: Invalid JSON Schema"), "{message}");
        }
    }

    let open = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
    let empty = r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{}}"#;
    assert_eq!(register(&s, "ap", json_schema(open)).0, 200);
    let verdict = check(&s, "ap", json_schema(empty));
    assert_eq!(verdict["is_compatible"], json!(false), "{verdict}");
    assert_eq!(
        verdict["messages"][0],
        json!("{errorType:\"ADDITIONAL_PROPERTIES_NARROWED\", description:\"The new schema has a difference (additional properties narrowed) at path '#' compared with the old schema'}")
    );
    assert_eq!(verdict["messages"].as_array().map(Vec::len), Some(4), "{verdict}");
    s.set_level("ap", "NONE");
    assert_eq!(register(&s, "ap", json_schema(empty)).0, 200);
    s.set_level("ap", "BACKWARD");
    assert_eq!(check(&s, "ap", json_schema(open)), json!({ "is_compatible": true, "messages": [] }));
}

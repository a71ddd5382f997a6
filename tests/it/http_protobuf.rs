//! HTTP tests of Protobuf schemas: registration with an import of another registered schema
//! and of a well-known type, lookups, by id with and without `format=serialized`, the base64
//! descriptor form of the same schema, invalid input, and verbose compatibility. Expected
//! texts and descriptors are Confluent 7.9.0's, as recorded in the conformance corpus
//! (`reg-proto`, `reg-proto-valid`, `refs-proto`, `proto-descriptors`).

use crate::common::*;
use serde_json::{json, Value};

fn proto(text: &str) -> Value {
    json!({ "schema": text, "schemaType": "PROTOBUF" })
}

fn register(s: &Server, subject: &str, body: Value) -> u64 {
    let (status, resp) = s.post(&format!("/subjects/{subject}/versions"), body);
    assert_eq!(status, 200, "{resp}");
    resp["id"].as_u64().expect("id")
}

const DEP: &str = "syntax = \"proto3\";\npackage dep;\nmessage D {\n  int32 v = 1;\n}\n";
const HOLDER: &str = "syntax = \"proto3\";\nimport \"dep.proto\";\nmessage H {\n  dep.D d = 1;\n}\n";

#[test]
fn import_of_a_registered_schema() {
    let s = Server::start();
    let dep = register(&s, "dep", proto(DEP));
    let mut body = proto(HOLDER);
    body["references"] = json!([{ "name": "dep.proto", "subject": "dep", "version": 1 }]);
    let holder = register(&s, "holder", body.clone());
    assert_ne!(dep, holder);
    assert_eq!(register(&s, "holder", body.clone()), holder, "same schema, same id");

    let canonical = "syntax = \"proto3\";\n\nimport \"dep.proto\";\n\nmessage H {\n  dep.D d = 1;\n}\n";
    let (status, got) = s.get("/subjects/holder/versions/1");
    assert_eq!(status, 200);
    assert_eq!(got["schema"], canonical);
    assert_eq!(got["schemaType"], "PROTOBUF");
    assert_eq!(got["references"], json!([{ "name": "dep.proto", "subject": "dep", "version": 1 }]));

    let (status, found) = s.post("/subjects/holder", body);
    assert_eq!((status, found["id"].as_u64()), (200, Some(holder)), "{found}");

    let serialized = "CgdkZWZhdWx0GglkZXAucHJvdG8iEwoBSBIOCgFkGAEoCzIFZGVwLkRiBnByb3RvMw==";
    let (_, by_id) = s.get(&format!("/schemas/ids/{holder}"));
    assert_eq!(by_id["schema"], canonical);
    let (_, by_id) = s.get(&format!("/schemas/ids/{holder}?format=serialized"));
    assert_eq!(by_id["schema"], serialized);
    assert_eq!(by_id["references"][0]["name"], "dep.proto");
    let raw = s.raw("GET", "/subjects/holder/versions/1/schema?format=serialized", None, None, &[]);
    assert_eq!(raw.text, serialized);
    let raw = s.raw("GET", &format!("/schemas/ids/{holder}/schema"), None, None, &[]);
    assert_eq!(raw.text, canonical);

    // Without the reference the type cannot be resolved: Confluent's validation message.
    let (status, err) = s.post("/subjects/noref/versions", proto(HOLDER));
    assert_eq!(status, 422);
    assert_eq!(err["error_code"], 42201);
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.ends_with("schemaTags=null}, details: Could not resolve type: dep.D"), "{message}");

    // A referenced schema cannot be deleted.
    let (status, err) = s.delete("/subjects/dep");
    assert_eq!((status, err["error_code"].as_u64()), (422, Some(42206)));
}

#[test]
fn well_known_imports_resolve_without_references() {
    let s = Server::start();
    let text = "syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\nimport \"google/type/money.proto\";\n\
                import \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\n\
                message T {\n  google.protobuf.Timestamp ts = 1;\n  google.type.Money price = 2;\n  confluent.type.Decimal amount = 3 [(confluent.field_meta).doc = \"x\"];\n}\n";
    let id = register(&s, "wk", proto(text));
    let (_, got) = s.get(&format!("/schemas/ids/{id}"));
    let want = "syntax = \"proto3\";\n\nimport \"google/protobuf/timestamp.proto\";\nimport \"google/type/money.proto\";\n\
                import \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\n\n\
                message T {\n  google.protobuf.Timestamp ts = 1;\n  google.type.Money price = 2;\n  confluent.type.Decimal amount = 3 [(confluent.field_meta).doc = \"x\"];\n}\n";
    assert_eq!(got["schema"], want);

    // Exactly the recorded Confluent descriptor of the Timestamp example.
    let ts = "syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\nmessage T {\n  google.protobuf.Timestamp ts = 1;\n}\n";
    let id = register(&s, "ts", proto(ts));
    let (_, got) = s.get(&format!("/schemas/ids/{id}?format=serialized"));
    assert_eq!(
        got["schema"],
        "CgdkZWZhdWx0Gh9nb29nbGUvcHJvdG9idWYvdGltZXN0YW1wLnByb3RvIigKAVQSIwoCdHMYASgLMhlnb29nbGUucHJvdG9idWYuVGltZXN0YW1wYgZwcm90bzM="
    );
}

#[test]
fn text_and_base64_descriptor_get_the_same_id() {
    let s = Server::start();
    let id = register(&s, "m", proto("syntax = \"proto3\";\nmessage M {\n  string a = 1;\n}\n"));
    let descriptor = "CgdkZWZhdWx0IgwKAU0SBwoBYRgBKAliBnByb3RvMw==";
    assert_eq!(register(&s, "m", proto(descriptor)), id);
    let (_, got) = s.get("/subjects/m/versions");
    assert_eq!(got, json!([1]));
    let (status, found) = s.post("/subjects/m?format=serialized", proto(descriptor));
    assert_eq!(status, 200);
    assert_eq!(found["schema"], descriptor);
}

#[test]
fn layout_normalize_and_invalid_input() {
    let s = Server::start();
    let id = register(&s, "sp", proto("syntax = \"proto3\";\n\n\nmessage   M { string a = 1; }\n"));
    let (_, got) = s.get(&format!("/schemas/ids/{id}"));
    assert_eq!(got["schema"], "syntax = \"proto3\";\n\nmessage M {\n  string a = 1;\n}\n");

    let text = "syntax = \"proto3\";\nimport \"b.proto\";\nimport \"a.proto\";\nmessage M {\n  int32 b = 2;\n  E e = 1;\n}\nenum E {\n  Z = 0;\n  B = 2;\n  A = 1;\n}\n";
    let (status, got) = s.post("/subjects/n/versions?normalize=true", proto(text));
    assert_eq!(status, 200, "{got}");
    let (_, got) = s.get("/subjects/n/versions/1");
    assert_eq!(
        got["schema"],
        "syntax = \"proto3\";\n\nimport \"a.proto\";\nimport \"b.proto\";\n\nmessage M {\n  .E e = 1;\n  int32 b = 2;\n}\nenum E {\n  Z = 0;\n  A = 1;\n  B = 2;\n}\n"
    );

    for bad in [
        "message {",
        "syntax = \"proto4\";",
        "syntax = \"proto3\";\nmessage M { string a = 1; }\nmessage M { string b = 1; }\n",
    ] {
        let (status, err) = s.post("/subjects/bad/versions", proto(bad));
        assert_eq!((status, err["error_code"].as_u64()), (422, Some(42201)), "{bad}: {err}");
        assert!(err["message"].as_str().unwrap_or_default().contains("details: Could not parse Protobuf - "), "{err}");
    }
}

#[test]
fn verbose_compatibility() {
    let s = Server::start();
    register(&s, "c", proto("syntax = \"proto3\";\nmessage M {\n  string a = 1;\n  int32 b = 2;\n}\n"));
    let changed = proto("syntax = \"proto3\";\nmessage M {\n  int32 a = 1;\n}\n");
    let (status, got) = s.post("/compatibility/subjects/c/versions/latest?verbose=true", changed.clone());
    assert_eq!(status, 200);
    assert_eq!(
        got,
        json!({"is_compatible": false, "messages": [
            "{errorType:\"FIELD_SCALAR_KIND_CHANGED\", description:\"The kind of a SCALAR field at path '#/M/1' in the new schema does not match its kind in the old schema\"}",
            "{oldSchemaVersion: 1}",
            "{oldSchema: 'syntax = \"proto3\";\n\nmessage M {\n  string a = 1;\n  int32 b = 2;\n}\n'}",
            "{validateFields: 'false', compatibility: 'BACKWARD'}"
        ]})
    );
    let (status, err) = s.post("/subjects/c/versions", changed);
    assert_eq!((status, err["error_code"].as_u64()), (409, Some(409)));

    // A renamed field and a new message are backward compatible; the new message is not
    // forward compatible.
    let evolved = proto(
        "syntax = \"proto3\";\nmessage M {\n  string name = 1;\n  int32 b = 2;\n}\nmessage N {\n  int32 x = 1;\n}\n",
    );
    let (_, got) = s.post("/compatibility/subjects/c/versions/latest?verbose=true", evolved.clone());
    assert_eq!(got, json!({"is_compatible": true, "messages": []}));
    s.put("/config/c", json!({"compatibility": "FORWARD"}));
    let (_, got) = s.post("/compatibility/subjects/c/versions/latest?verbose=true", evolved);
    assert_eq!(got["is_compatible"], false);
    assert!(got["messages"][0].as_str().unwrap_or_default().starts_with("{errorType:\"MESSAGE_REMOVED\""), "{got}");

    let (_, types) = s.get("/schemas/types");
    assert!(types.as_array().expect("array").contains(&json!("PROTOBUF")));
}

#[test]
fn schema_tags_on_fields_and_messages() {
    let s = Server::start();
    s.put("/config/t", json!({"compatibility": "NONE"}));
    register(&s, "t", proto("syntax = \"proto3\";\npackage p;\nmessage M {\n  message Inner {\n    string x = 1;\n  }\n  Inner i = 1;\n}\n"));
    let tag = |v: u32, body: Value| s.post(&format!("/subjects/t/versions/{v}/tags"), body);
    let (status, got) = tag(
        1,
        json!({"tagsToAdd": [{"schemaEntity": {"entityPath": "M.Inner.x", "entityType": "sr_field"}, "tags": ["T"]}]}),
    );
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["schema"],
        "syntax = \"proto3\";\npackage p;\n\nmessage M {\n  Inner i = 1;\n\n  message Inner {\n    string x = 1 [(confluent.field_meta) = {\n      tags: [\n        \"T\"\n      ]\n    }];\n  }\n}\n"
    );
    let (status, got) =
        tag(2, json!({"tagsToAdd": [{"schemaEntity": {"entityPath": "M", "entityType": "sr_record"}, "tags": ["R"]}]}));
    assert_eq!(status, 200, "{got}");
    assert!(got["schema"].as_str().unwrap_or_default().contains(
        "message M {\n  option (confluent.message_meta) = {\n    tags: [\n      \"R\"\n    ]\n  };\n\n  Inner i = 1;"
    ));
    let (status, got) = tag(
        3,
        json!({"tagsToRemove": [{"schemaEntity": {"entityPath": "M.Inner.x", "entityType": "sr_field"}, "tags": ["T"]}]}),
    );
    assert_eq!(status, 200, "{got}");
    assert!(got["schema"].as_str().unwrap_or_default().contains("    string x = 1;\n"), "{got}");
    let (status, err) = tag(
        1,
        json!({"tagsToAdd": [{"schemaEntity": {"entityPath": "M.nope", "entityType": "sr_field"}, "tags": ["X"]}]}),
    );
    assert_eq!(status, 422);
    assert_eq!(
        err["message"],
        "java.lang.IllegalArgumentException: No matching Field with name 'nope' found in the schema"
    );
}

/// A schema Confluent accepted with custom options nobody defines (Wire keeps them
/// unresolved) registers here with the options in the stored text, and the options take
/// no part in compatibility.
#[test]
fn unknown_custom_options_register_and_are_kept() {
    let s = Server::start();
    let text = "syntax = \"proto3\";\n\noption (x.file) = 1;\n\nmessage M {\n  option (x.msg) = true;\n\n  string a = 1 [(x.field) = \"f\"];\n}\n";
    let id = register(&s, "opts", proto(text));
    let (status, got) = s.get(&format!("/schemas/ids/{id}"));
    assert_eq!(status, 200);
    let stored = got["schema"].as_str().expect("schema");
    for option in ["option (x.file) = 1;", "option (x.msg) = true;", "[(x.field) = \"f\"]"] {
        assert!(stored.contains(option), "{option} missing from {stored}");
    }
    // Without the options, and with a new field: compatible under BACKWARD.
    let plain = "syntax = \"proto3\";\n\nmessage M {\n  string a = 1;\n  int32 b = 2;\n}\n";
    let (status, verdict) = s.post("/compatibility/subjects/opts/versions/latest?verbose=true", proto(plain));
    assert_eq!((status, &verdict["is_compatible"]), (200, &json!(true)), "{verdict}");
    // A real change is still seen.
    let changed = text.replace("string a = 1", "int64 a = 1");
    let (status, verdict) = s.post("/compatibility/subjects/opts/versions/latest", proto(&changed));
    assert_eq!((status, &verdict["is_compatible"]), (200, &json!(false)), "{verdict}");
}

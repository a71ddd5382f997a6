//! `schemata export`, `import` and `migrate` between real servers: a registry filled through
//! the API with Avro, Protobuf and JSON Schema subjects, references, soft deletes, configs,
//! modes and a context is exported, imported into a fresh server, and every GET answer is
//! compared; a second import changes nothing; a target holding another schema at the same
//! place refuses the import and is left untouched; migrate checks what it wrote.

use std::process::{Command, Stdio};

use crate::common::*;
use serde_json::{json, Value};

/// `schemata ARGS`: exit code and stderr.
fn schemata(args: &[&str]) -> (i32, String) {
    let out = Command::new(binary()).args(args).stdin(Stdio::null()).output().expect("run schemata");
    (out.status.code().expect("exit code"), String::from_utf8_lossy(&out.stderr).into())
}

fn ok(s: &Server, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = match (method, body) {
        ("POST", Some(b)) => s.post(path, b),
        ("PUT", Some(b)) => s.put(path, b),
        ("DELETE", None) => s.delete(path),
        _ => unreachable!("no such call in this test"),
    };
    assert_eq!(status, 200, "{method} {path}: {answer}");
    answer
}

const ADDRESS: &str =
    r#"{"type":"record","name":"Address","namespace":"t","fields":[{"name":"city","type":"string"}]}"#;
const USER: &str = r#"{"type":"record","name":"User","namespace":"t","fields":[{"name":"home","type":"t.Address"}]}"#;
const USER2: &str = r#"{"type":"record","name":"User","namespace":"t","fields":[{"name":"home","type":"t.Address"},{"name":"age","type":"int","default":0}]}"#;

/// The source registry's data, made through its API.
fn fill(s: &Server) {
    s.register("addr-value", ADDRESS);
    let refs = json!([{"name": "t.Address", "subject": "addr-value", "version": 1}]);
    ok(s, "POST", "/subjects/user-value/versions", Some(json!({"schema": USER, "references": refs})));
    ok(
        s,
        "POST",
        "/subjects/user-value/versions",
        Some(json!({"schema": USER2, "references": refs, "metadata": {"properties": {"owner": "ada"}}})),
    );
    let proto = "syntax = \"proto3\";\npackage t;\nmessage Order {\n  string id = 1;\n}\n";
    ok(s, "POST", "/subjects/order-value/versions", Some(json!({"schemaType": "PROTOBUF", "schema": proto})));
    ok(s, "PUT", "/config/json-value", Some(json!({"compatibility": "NONE"})));
    for n in 1..=2 {
        let schema = json!({"type": "object", "properties": {format!("f{n}"): {"type": "string"}}}).to_string();
        ok(s, "POST", "/subjects/json-value/versions", Some(json!({"schemaType": "JSON", "schema": schema})));
    }
    ok(s, "DELETE", "/subjects/json-value/versions/2", None);
    s.register("gone-value", "\"string\"");
    ok(s, "DELETE", "/subjects/gone-value", None);
    s.register(":.ctx:ctx-value", "\"long\"");
    ok(s, "PUT", "/config", Some(json!({"compatibility": "FULL"})));
    ok(s, "PUT", "/config/user-value", Some(json!({"compatibility": "BACKWARD_TRANSITIVE", "normalize": true})));
    ok(s, "PUT", "/mode/order-value", Some(json!({"mode": "READONLY"})));
}

/// Every answer a client could compare, by path.
fn snapshot(s: &Server) -> Vec<(String, u16, Value)> {
    let mut paths = vec![
        "/subjects?deleted=true".to_string(),
        "/subjects".to_string(),
        "/subjects?subjectPrefix=:.ctx:&deleted=true".to_string(),
        "/contexts".to_string(),
        "/config".to_string(),
        "/mode".to_string(),
        "/schemas?deleted=true".to_string(),
    ];
    let mut subjects: Vec<String> = serde_json::from_value(s.get("/subjects?deleted=true").1).unwrap();
    subjects.push(":.ctx:ctx-value".into());
    for subject in &subjects {
        let e = enc(subject);
        paths.extend([
            format!("/subjects/{e}/versions?deleted=true"),
            format!("/subjects/{e}/versions"),
            format!("/config/{e}"),
            format!("/mode/{e}"),
        ]);
        let (_, versions) = s.get(&format!("/subjects/{e}/versions?deleted=true"));
        for v in versions.as_array().into_iter().flatten() {
            paths.push(format!("/subjects/{e}/versions/{v}?deleted=true"));
            paths.push(format!("/subjects/{e}/versions/{v}/referencedby?deleted=true"));
        }
    }
    for id in 1..=s.get("/schemas?deleted=true").1.as_array().map_or(0, Vec::len) + 1 {
        paths.push(format!("/schemas/ids/{id}"));
        paths.push(format!("/schemas/ids/{id}/versions?deleted=true"));
    }
    paths
        .into_iter()
        .map(|p| {
            let (status, body) = s.get(&p);
            (p, status, body)
        })
        .collect()
}

#[test]
fn an_export_imports_into_a_fresh_registry_with_every_answer_equal_and_again_changes_nothing() {
    let source = Server::start();
    fill(&source);
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("export.jsonl");
    let file_arg = file.to_str().unwrap();
    let (code, err) = schemata(&["export", "--registry", &source.url(""), "--out", file_arg]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    // The `_schemas` record format: a key with its keytype and a value.
    let first: Value = serde_json::from_str(text.lines().find(|l| l.contains("\"SCHEMA\"")).unwrap()).unwrap();
    assert_eq!(first["key"], json!({"keytype": "SCHEMA", "subject": "addr-value", "version": 1, "magic": 1}));
    assert_eq!(first["value"]["id"], 1);

    let target = Server::start();
    let (code, err) = schemata(&["import", "--registry", &target.url(""), "--in", file_arg]);
    assert_eq!(code, 0, "{err}");
    let expected = snapshot(&source);
    assert_eq!(snapshot(&target), expected);
    // Again: everything is there already; nothing changes.
    let (code, err) = schemata(&["import", "--registry", &target.url(""), "--in", file_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(snapshot(&target), expected);
    // The target's own global mode was put back.
    assert_eq!(target.get("/mode").1, json!({"mode": "READWRITE"}));
}

#[test]
fn a_conflicting_target_refuses_the_import_and_is_left_as_it_was() {
    let source = Server::start();
    fill(&source);
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("export.jsonl");
    let (code, err) = schemata(&["export", "--registry", &source.url(""), "--out", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    let target = Server::start();
    target.register("addr-value", "\"bytes\"");
    let before = snapshot(&target);
    let (code, err) = schemata(&["import", "--registry", &target.url(""), "--in", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("conflict") && err.contains("nothing was written"), "{err}");
    assert!(err.contains("version 1 of addr-value"), "{err}");
    assert_eq!(snapshot(&target), before);
}

#[test]
fn migrate_copies_and_verifies() {
    let source = Server::start();
    fill(&source);
    let target = Server::start();
    let (code, err) = schemata(&["migrate", "--from", &source.url(""), "--to", &target.url("")]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("verified"), "{err}");
    assert_eq!(snapshot(&target), snapshot(&source));
}

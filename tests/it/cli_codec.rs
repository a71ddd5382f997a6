//! `schemata encode` and `schemata decode` against a real server: Avro (with a reference),
//! Protobuf (a nested message, indexes [0,0]) and JSON Schema round trips, the exact bytes,
//! and the one-line errors for bad bytes, an unknown id and a value the schema refuses.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{binary, Server};
use serde_json::{json, Value};

/// Runs `schemata ARGS` with `input` on stdin; returns exit code, stdout, stderr.
fn run(args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run schemata");
    child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (out.status.code().expect("exit code"), out.stdout, String::from_utf8_lossy(&out.stderr).into())
}

fn encode(server: &Server, args: &[&str], value: &Value) -> Vec<u8> {
    let registry = server.url("");
    let mut all = vec!["encode", "--registry", registry.as_str()];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all, value.to_string().as_bytes());
    assert_eq!(code, 0, "encode failed: {err}");
    out
}

fn decode(server: &Server, bytes: &[u8], show_id: bool) -> Value {
    let registry = server.url("");
    let mut all = vec!["decode", "--registry", registry.as_str()];
    if show_id {
        all.push("--show-id");
    }
    let (code, out, err) = run(&all, bytes);
    assert_eq!(code, 0, "decode failed: {err}");
    serde_json::from_slice(&out).expect("decode prints JSON")
}

fn register(server: &Server, subject: &str, body: Value) -> i32 {
    let (status, v) = server.post(&format!("/subjects/{subject}/versions"), body);
    assert_eq!(status, 200, "{v}");
    v["id"].as_i64().expect("id") as i32
}

#[test]
fn avro_with_a_reference_round_trips() {
    let server = Server::start();
    let address = r#"{"type":"record","name":"Address","namespace":"t","fields":[{"name":"city","type":"string"}]}"#;
    register(&server, "address", json!({ "schema": address }));
    let person = r#"{"type":"record","name":"Person","namespace":"t","fields":[
        {"name":"name","type":"string"},{"name":"nick","type":["null","string"],"default":null},
        {"name":"home","type":"t.Address"}]}"#;
    let id = register(
        &server,
        "people-value",
        json!({ "schema": person, "references": [{"name": "t.Address", "subject": "address", "version": 1}] }),
    );
    let value = json!({"name": "ada", "nick": "a", "home": {"city": "Oslo"}});
    let bytes = encode(&server, &["--subject", "people-value"], &value);
    let mut expected = vec![0, 0, 0, 0, id as u8, 6, b'a', b'd', b'a', 2, 2, b'a', 8];
    expected.extend_from_slice(b"Oslo");
    assert_eq!(bytes, expected);
    assert_eq!(decode(&server, &bytes, false), value);
    assert_eq!(decode(&server, &bytes, true), json!({"schemaId": id, "value": value}));
    let by_id = encode(&server, &["--schema-id", &id.to_string()], &value);
    assert_eq!(by_id, bytes);
}

#[test]
fn protobuf_nested_message_and_json_schema_round_trip() {
    let server = Server::start();
    let proto = "syntax = \"proto3\";\npackage shop;\nmessage Order {\n  string id = 1;\n  int64 amount = 2;\n  \
                 message Item {\n    string sku = 1;\n  }\n}\n";
    let id = register(&server, "orders-value", json!({ "schemaType": "PROTOBUF", "schema": proto }));
    let item = json!({"sku": "A-1"});
    let bytes = encode(&server, &["--subject", "orders-value", "--message", "shop.Order.Item"], &item);
    assert_eq!(bytes, [&[0, 0, 0, 0, id as u8, 4, 0, 0, 10, 3][..], b"A-1"].concat());
    assert_eq!(decode(&server, &bytes, true), json!({"schemaId": id, "messageIndexes": [0, 0], "value": item}));
    let order = json!({"id": "o-1", "amount": "12"});
    let bytes = encode(&server, &["--subject", "orders-value"], &order);
    assert_eq!(bytes[5], 0);
    assert_eq!(decode(&server, &bytes, false), order);

    let schema = r#"{"type":"object","properties":{"n":{"type":"integer"}}}"#;
    let id = register(&server, "j-value", json!({ "schemaType": "JSON", "schema": schema }));
    let bytes = encode(&server, &["--subject", "j-value"], &json!({"n": 5}));
    assert_eq!(bytes, [&[0, 0, 0, 0, id as u8][..], br#"{"n":5}"#].concat());
    assert_eq!(decode(&server, &bytes, false), json!({"n": 5}));
}

#[test]
fn bad_bytes_unknown_ids_and_refused_values_exit_non_zero_with_one_line() {
    let server = Server::start();
    let registry = server.url("");
    let decode_args = ["decode", "--registry", registry.as_str()];
    for (input, expected) in [
        (&b"\x05abc"[..], "unknown magic byte 0x05"),
        (&b"\x00\x00"[..], "too short"),
        (&b"\x00\x00\x00\x03\xe7\x02"[..], "schema id 999"),
    ] {
        let (code, out, err) = run(&decode_args, input);
        assert_eq!(code, 1, "{err}");
        assert!(out.is_empty());
        assert!(err.contains(expected), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    register(&server, "u-value", json!({ "schema": crate::common::USER_V1 }));
    let (code, _, err) = run(&["encode", "--registry", &registry, "--subject", "u-value"], br#"{"name": 5}"#);
    assert_eq!(code, 1);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let (code, _, err) = run(&["encode", "--registry", &registry, "--subject", "nope"], br#"{}"#);
    assert_eq!(code, 1);
    assert!(err.contains("40401"), "{err}");
}

#[test]
fn json_schema_values_are_validated_unless_told_not_to() {
    let server = Server::start();
    let registry = server.url("");
    let schema = r#"{"type":"object","properties":{"n":{"type":"integer","minimum":0}},"required":["n"]}"#;
    let id = register(&server, "v-value", json!({ "schemaType": "JSON", "schema": schema }));
    let encode_args = ["encode", "--registry", registry.as_str(), "--subject", "v-value"];
    let (code, out, err) = run(&encode_args, br#"{"n": -1}"#);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("json schema: /n:"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    // Written without validation (as a producer that does not check would), it is refused
    // on decode unless that is told not to check either.
    let (code, bad, err) = run(&[&encode_args[..], &["--no-validate"]].concat(), br#"{"m": 1}"#);
    assert_eq!(code, 0, "{err}");
    assert_eq!(bad, [&[0, 0, 0, 0, id as u8][..], br#"{"m":1}"#].concat());
    let (code, _, err) = run(&["decode", "--registry", &registry], &bad);
    assert_eq!(code, 1);
    assert!(err.contains("required"), "{err}");
    let (code, out, err) = run(&["decode", "--registry", &registry, "--no-validate"], &bad);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), json!({"m": 1}));
}

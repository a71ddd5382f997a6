//! Oracle tests for the Protobuf module: the shared compatibility vectors (Confluent's
//! difference rules), checked for the verdict and for the difference types they list.

use std::collections::BTreeSet;

use schemata::schema::protobuf::{compatibility_messages, ProtobufSchema};
use schemata::schema::ParseOptions;
use serde_json::Value;

fn parse(text: &str) -> ProtobufSchema {
    ProtobufSchema::parse(text, &[], ParseOptions::default()).unwrap_or_else(|e| panic!("parse {text}: {e}"))
}

/// The difference types of the diff from `original` to `update`.
fn kinds(original: &ProtobufSchema, update: &ProtobufSchema) -> BTreeSet<String> {
    update.differences(original).iter().map(|d| d.kind.as_str().to_string()).collect()
}

#[test]
fn protobuf_compatibility_cases() {
    let path = format!("{}/tests/data/protobuf/protobuf-compatibility-cases.json", env!("CARGO_MANIFEST_DIR"));
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file")).expect("json");
    let cases = cases.as_array().expect("array");
    let mut failures = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap_or("?");
        let old = parse(c["old"].as_str().expect("old"));
        let new = parse(c["new"].as_str().expect("new"));
        let backward = compatibility_messages(&new, &old, "new", "old");
        let forward = compatibility_messages(&old, &new, "old", "new");
        let level = c["level"].as_str().unwrap_or("FULL");
        let verdict = match level {
            "BACKWARD" => backward.is_empty(),
            "FORWARD" => forward.is_empty(),
            _ => backward.is_empty() && forward.is_empty(),
        };
        if verdict != c["compatible"].as_bool().unwrap_or(false) {
            failures.push(format!("{name} ({level}): verdict {verdict}, got {backward:?} / {forward:?}"));
            continue;
        }
        let want: BTreeSet<String> = c["expected_differences"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default();
        // The file lists the BACKWARD-direction diff for FULL cases.
        let got = if level == "FORWARD" { kinds(&new, &old) } else { kinds(&old, &new) };
        if want != got {
            failures.push(format!("{name} ({level}): differences want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_eq!(cases.len(), 179);
}

#[test]
fn verbose_message_matches_confluent() {
    let old = parse("syntax = \"proto3\";\nmessage M {\n  string a = 1;\n  int32 b = 2;\n}\n");
    let new = parse("syntax = \"proto3\";\nmessage M {\n  int32 a = 1;\n}\n");
    assert_eq!(
        compatibility_messages(&new, &old, "new", "old"),
        vec!["{errorType:\"FIELD_SCALAR_KIND_CHANGED\", description:\"The kind of a SCALAR field at path '#/M/1' in the new schema does not match its kind in the old schema\"}"]
    );
}

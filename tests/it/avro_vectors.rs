//! Oracle tests for the Avro module: the apache/avro and Apicurio compatibility vectors, the
//! canonical texts and parser messages recorded from Confluent 7.9.0, and the depth limits
//! (checked on 2 MiB threads, the stack size of a small server worker).

use schemata::schema::avro::{compatibility_messages, AvroSchema};
use schemata::schema::ParseOptions;
use serde_json::Value;

fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/avro/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(text: &str) -> AvroSchema {
    AvroSchema::parse(text, &[], ParseOptions::default()).unwrap_or_else(|e| panic!("parse {text}: {e}"))
}

fn compatible(reader: &AvroSchema, writer: &AvroSchema) -> bool {
    compatibility_messages(reader, writer, "new", "old").is_empty()
}

#[test]
fn apache_avro_compatibility_cases() {
    let cases = data("avro-compatibility-cases.json");
    let cases = cases.as_array().expect("array");
    let mut failures = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap_or("?");
        let old = parse(c["old"].as_str().expect("old"));
        let new = parse(c["new"].as_str().expect("new"));
        let backward = new.incompatibilities(&old).expect("no checker exception");
        let forward = old.incompatibilities(&new).expect("no checker exception");
        let verdict = match c["level"].as_str() {
            Some("BACKWARD") => backward.is_empty(),
            Some("FORWARD") => forward.is_empty(),
            _ => backward.is_empty() && forward.is_empty(),
        };
        if verdict != c["compatible"].as_bool().unwrap_or(false) {
            failures.push(format!("{name}: verdict {verdict}, got {backward:?}"));
            continue;
        }
        if let Some(expected) = c.get("expected_errors").and_then(Value::as_array) {
            let want: Vec<(String, String, String)> = expected
                .iter()
                .map(|e| {
                    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                    (s("errorType"), s("location"), s("additionalInfo"))
                })
                .collect();
            let got: Vec<(String, String, String)> =
                backward.iter().map(|i| (i.kind.as_str().to_string(), i.location.clone(), i.message.clone())).collect();
            if want != got {
                failures.push(format!("{name}: want {want:?}, got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_eq!(cases.len(), 203);
}

#[test]
fn apicurio_compatibility_cases() {
    let file = data("compatibility-test-data.json");
    let tests = file["tests"].as_array().expect("tests");
    let mut failures = Vec::new();
    for t in tests {
        if t["enabled"] == Value::Bool(false) {
            continue;
        }
        let old = parse(&t["original"].to_string());
        let new = parse(&t["updated"].to_string());
        let backward = compatible(&new, &old);
        let forward = compatible(&old, &new);
        let want = match t["compatibility"].as_str() {
            Some("backward") => (true, false),
            Some("forward") => (false, true),
            Some("both") => (true, true),
            _ => (false, false),
        };
        if (backward, forward) != want {
            failures.push(format!("{}: (backward, forward) = {:?}, want {want:?}", t["id"], (backward, forward)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(tests.len(), 4);
}

/// Corpus cases where Schemata deliberately differs, with the reason (none at present).
const KNOWN_DIVERGENCES: &[(&str, u64, &str)] = &[];

#[test]
fn confluent_corpus_canonical_texts_and_messages() {
    let cases = data("confluent-7.9.0-avro-cases.json");
    let cases = cases.as_array().expect("array");
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut by_id: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for c in cases {
        let scenario = c["scenario"].as_str().unwrap_or_default();
        let step = c["step"].as_u64().unwrap_or_default();
        let text = c["schema"].as_str().unwrap_or_default();
        let refs: Vec<&str> =
            c["references"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let normalize = c["normalize"].as_bool().unwrap_or(false);
        // Confluent 7.9.0 validates defaults of a new schema only when it normalizes it.
        let opts = ParseOptions { normalize, validate: normalize };
        let got = AvroSchema::parse(text, &refs, opts);
        let known = KNOWN_DIVERGENCES.iter().find(|(s, i, _)| *s == scenario && *i == step);
        let ok = if let Some(want) = c.get("expect_canonical").and_then(Value::as_str) {
            matches!(&got, Ok(s) if s.canonical() == want)
        } else if let Some(want) = c.get("expect_error").and_then(Value::as_str) {
            matches!(&got, Err(e) if e == want)
        } else if c.get("expect_json_error").is_some() {
            got.is_err()
        } else {
            got.is_ok()
        };
        if let (Ok(s), Some(id)) = (&got, c.get("id").and_then(Value::as_str)) {
            if refs.is_empty() {
                by_id.entry((scenario.to_string(), id.to_string())).or_default().push(s.canonical().to_string());
            }
        }
        checked += 1;
        match (ok, known) {
            (true, Some(_)) => failures.push(format!("{scenario}#{step}: listed as divergent but matches now")),
            (false, None) => failures.push(format!(
                "{scenario}#{step}: {text}\n  want {}\n  got  {got:?}",
                c.get("expect_canonical").or(c.get("expect_error")).unwrap_or(&Value::Null)
            )),
            _ => {}
        }
    }
    // Confluent dedups by canonical text: one id per text within a scenario, and vice versa.
    let mut text_to_id: std::collections::BTreeMap<(String, String), String> = Default::default();
    for ((scenario, id), texts) in &by_id {
        if texts.windows(2).any(|w| w[0] != w[1]) {
            failures.push(format!("{scenario} {id}: one id, several texts {texts:?}"));
        }
        if let Some(other) = text_to_id.insert((scenario.clone(), texts[0].clone()), id.clone()) {
            failures.push(format!("{scenario}: ids {other} and {id} share the text {}", texts[0]));
        }
    }
    assert!(failures.is_empty(), "{} of {checked} corpus cases failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, cases.len());
}

#[test]
fn confluent_corpus_compatibility_messages() {
    let old = parse(
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":0}]}"#,
    );
    let new = parse(r#"{"type":"record","name":"User","fields":[{"name":"name","type":"int"}]}"#);
    assert_eq!(
        compatibility_messages(&new, &old, "new", "old"),
        vec!["{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: INT not compatible with writer type: STRING'}"]
    );
    let v1 = parse(r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#);
    let v4 = parse(
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]}"#,
    );
    assert_eq!(
        compatibility_messages(&v4, &v1, "new", "old"),
        vec!["{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'age' at path '/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'age'}"]
    );
    assert_eq!(
        compatibility_messages(&v4, &v1, "old", "new"),
        vec!["{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'age' at path '/fields/1' in the old schema has no default value and is missing in the new schema', additionalInfo:'age'}"]
    );
}

#[test]
fn crossed_field_aliases_are_a_checker_exception() {
    let writer =
        parse(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}"#);
    let reader = parse(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","aliases":["b"]}]}"#);
    let msgs = compatibility_messages(&reader, &writer, "new", "old");
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].starts_with("Unexpected exception during compatibility check: Reader record field a type:INT pos:0 matches multiple fields"), "{msgs:?}");
}

#[test]
fn canonical_details() {
    let cases = [
        // Redundant namespaces dropped, a namespace-less type inside a namespace gets "".
        (
            r#"{"type":"record","name":"a.R","fields":[{"name":"x","type":{"type":"enum","name":"a.E","symbols":["A"]}},{"name":"y","type":{"type":"fixed","name":"F","namespace":"","size":1}},{"name":"z","type":"a.E"}]}"#,
            r#"{"type":"record","name":"R","namespace":"a","fields":[{"name":"x","type":{"type":"enum","name":"E","symbols":["A"]}},{"name":"y","type":{"type":"fixed","name":"F","namespace":"","size":1}},{"name":"z","type":"E"}]}"#,
        ),
        // Textual double defaults become doubles; doc on primitives is dropped.
        (
            r#"{"type":"record","name":"R","fields":[{"name":"d","type":"double","default":"1"},{"name":"f","type":{"type":"float","doc":"x"},"default":1e10}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"d","type":"double","default":1.0},{"name":"f","type":"float","default":1.0E10}]}"#,
        ),
        // Enum default and record-level "default" (a plain property there).
        (
            r#"{"type":"enum","name":"E","symbols":["A","B"],"default":"B","doc":"d","x":[1,{"k":null}]}"#,
            r#"{"type":"enum","name":"E","doc":"d","symbols":["A","B"],"default":"B","x":[1,{"k":null}]}"#,
        ),
        // Recursive type printed by name after its definition; escaping as Jackson does it.
        (
            "{\"type\":\"record\",\"name\":\"L\",\"doc\":\"a\\u0001\\\"\u{e9}\",\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}",
            "{\"type\":\"record\",\"name\":\"L\",\"doc\":\"a\\u0001\\\"\u{e9}\",\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input).canonical(), want, "input {input}");
    }
    let norm = ParseOptions { normalize: true, validate: true };
    let n = AvroSchema::parse(
        r#"{"type":"record","name":"R","fields":[{"name":"d","type":"double","default":1,"z":1,"a":2,"aliases":["y","x"]},{"name":"b","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":0,"b":1,"a":0}}],"aliases":["Z","A"]}"#,
        &[],
        norm,
    )
    .expect("normalize");
    assert_eq!(
        n.canonical(),
        r#"{"type":"record","name":"R","fields":[{"name":"d","type":"double","default":1.0,"aliases":["x","y"],"a":2,"z":1},{"name":"b","type":{"type":"bytes","logicalType":"decimal","precision":4,"a":0,"b":1}}],"aliases":["A","Z"]}"#
    );
}

/// Runs `f` on a thread with a 2 MiB stack, the size of a small server worker's stack.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).expect("spawn").join().expect("no stack overflow");
}

fn nested_records(depth: usize) -> String {
    let mut s = String::new();
    for i in 0..depth {
        s.push_str(&format!(r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":"#));
    }
    s.push_str("\"int\"");
    for _ in 0..depth {
        s.push_str("}]}");
    }
    s
}

fn nested_arrays(depth: usize) -> String {
    format!("{}\"int\"{}", r#"{"type":"array","items":"#.repeat(depth), "}".repeat(depth))
}

#[test]
fn too_deep_schemas_are_refused_cleanly() {
    on_small_stack(|| {
        let err = AvroSchema::parse(&nested_records(10_000), &[], ParseOptions::default()).expect_err("too deep");
        assert!(err.contains("nesting depth exceeds the maximum allowed"), "{err}");
        let err = AvroSchema::parse(&"[".repeat(100_000), &[], ParseOptions::default()).expect_err("too deep");
        assert!(err.contains("nesting depth"), "{err}");
    });
}

#[test]
fn deepest_accepted_schemas_parse_print_and_check_on_a_small_stack() {
    on_small_stack(|| {
        let max = schemata::schema::avro::MAX_SCHEMA_DEPTH;
        for text in [nested_records(max - 1), nested_arrays(max - 1)] {
            let opts = ParseOptions { normalize: true, validate: true };
            let a = AvroSchema::parse(&text, &[], opts).expect("accepted");
            let b = AvroSchema::parse(&text, &[], ParseOptions::default()).expect("accepted");
            assert_eq!(a.canonical(), b.canonical());
            assert!(compatible(&a, &b) && compatible(&b, &a));
            let c = AvroSchema::parse(&text.replace("\"int\"", "\"string\""), &[], ParseOptions::default())
                .expect("accepted");
            assert_eq!(compatibility_messages(&c, &a, "new", "old").len(), 1);
        }
        let err = AvroSchema::parse(&nested_arrays(max), &[], ParseOptions::default()).expect_err("too deep");
        assert_eq!(err, format!("Schema nesting depth exceeds the maximum allowed ({max})"));
    });
}

#[test]
fn recursive_schemas_parse_and_check() {
    on_small_stack(|| {
        let list = parse(
            r#"{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}"#,
        );
        assert!(compatible(&list, &list));
        let list2 = parse(
            r#"{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","Node"],"default":null}]}"#,
        );
        assert!(compatible(&list2, &list));
        let msgs = compatibility_messages(&list, &list2, "new", "old");
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        let mutual = r#"{"type":"record","name":"A","namespace":"n","fields":[{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"a","type":["null","A"]},{"name":"m","type":{"type":"map","values":"n.B"}}]}]}]}"#;
        let m = parse(mutual);
        assert!(compatible(&m, &m));
        assert_eq!(m.canonical(), mutual.replace("\"n.B\"", "\"B\""));
    });
}

#[test]
fn references_are_named_types_printed_by_name() {
    let dep = r#"{"type":"record","name":"Dep","namespace":"com.x","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}]}"#;
    let main = r#"{"type":"record","name":"H","namespace":"org","fields":[{"name":"d","type":"com.x.Dep"},{"name":"e","type":"com.x.E"}]}"#;
    let s = AvroSchema::parse(main, &[dep], ParseOptions::default()).expect("parse");
    // Only the references' top-level types are known to Avro-Java's writer; nested ones are inlined.
    assert_eq!(
        s.canonical(),
        r#"{"type":"record","name":"H","namespace":"org","fields":[{"name":"d","type":"com.x.Dep"},{"name":"e","type":{"type":"enum","name":"E","namespace":"com.x","symbols":["A"]}}]}"#
    );
    let err = AvroSchema::parse(r#"{"type":"record","name":"com.x.Dep","fields":[]}"#, &[dep], ParseOptions::default())
        .expect_err("redefined");
    assert_eq!(err, "Can't redefine: com.x.Dep");
}

//! Property tests of the Avro checker on generated schemas: a schema reads itself, an added
//! optional field is compatible both ways, and removing a field without default breaks FORWARD.

use proptest::prelude::*;
use schemata::schema::avro::AvroSchema;
use schemata::schema::ParseOptions;

/// A random type as JSON text; named types get unique names from `counter`.
fn gen_type(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("\"int\"".to_string()),
        Just("\"long\"".to_string()),
        Just("\"string\"".to_string()),
        Just("\"bytes\"".to_string()),
        Just("\"double\"".to_string()),
        Just("\"boolean\"".to_string()),
        (1u32..20).prop_map(|n| format!(r#"{{"type":"fixed","name":"F@","size":{n}}}"#)),
        prop::collection::vec("[A-Z][A-Z0-9_]{0,3}", 1..5).prop_map(|mut s| {
            s.sort();
            s.dedup();
            let syms: Vec<String> = s.iter().map(|x| format!("\"{x}\"")).collect();
            format!(r#"{{"type":"enum","name":"E@","symbols":[{}]}}"#, syms.join(","))
        }),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let inner = gen_type(depth - 1);
    prop_oneof![
        3 => leaf,
        1 => inner.clone().prop_map(|t| format!(r#"{{"type":"array","items":{t}}}"#)),
        1 => inner.clone().prop_map(|t| format!(r#"{{"type":"map","values":{t}}}"#)),
        1 => inner.clone().prop_map(|t| if t.starts_with('[') { t } else { format!(r#"["null",{t}]"#) }),
        1 => prop::collection::vec(inner, 1..4).prop_map(|ts| record("R@", &ts)),
    ]
    .boxed()
}

fn record(name: &str, types: &[String]) -> String {
    let fields: Vec<String> =
        types.iter().enumerate().map(|(i, t)| format!(r#"{{"name":"f{i}","type":{t}}}"#)).collect();
    format!(r#"{{"type":"record","name":"{name}","fields":[{}]}}"#, fields.join(","))
}

/// Gives every `@` placeholder a distinct number so named types are unique.
fn number_names(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('@').enumerate() {
        if i > 0 {
            out.push_str(&i.to_string());
        }
        out.push_str(part);
    }
    out
}

fn parse(text: &str) -> AvroSchema {
    AvroSchema::parse(text, &[], ParseOptions { normalize: false, validate: true })
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn ok(reader: &AvroSchema, writer: &AvroSchema) -> bool {
    matches!(reader.incompatibilities(writer), Ok(v) if v.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn schema_reads_itself(types in prop::collection::vec(gen_type(3), 1..6)) {
        let s = parse(&number_names(&record("Top", &types)));
        let again = parse(s.canonical());
        prop_assert_eq!(s.canonical(), again.canonical());
        prop_assert!(ok(&s, &s));
        prop_assert!(ok(&s, &again) && ok(&again, &s));
    }

    #[test]
    fn optional_field_is_fully_compatible(types in prop::collection::vec(gen_type(2), 1..6)) {
        let old = number_names(&record("Top", &types));
        let new = format!(r#"{},{{"name":"added","type":["null","string"],"default":null}}]}}"#, old.strip_suffix("]}").unwrap_or(&old));
        let (old, new) = (parse(&old), parse(&new));
        prop_assert!(ok(&new, &old), "backward");
        prop_assert!(ok(&old, &new), "forward");
    }

    #[test]
    fn removing_a_field_without_default_breaks_forward(types in prop::collection::vec(gen_type(2), 2..6), pick in any::<prop::sample::Index>()) {
        let removed = pick.index(types.len());
        // Number the named types once, so both versions share them.
        let joined = number_names(&types.join("\u{1}"));
        let types: Vec<&str> = joined.split('\u{1}').collect();
        let field = |(i, t): (usize, &&str)| format!(r#"{{"name":"f{i}","type":{t}}}"#);
        let old_fields: Vec<String> = types.iter().enumerate().map(field).collect();
        let old = parse(&format!(r#"{{"type":"record","name":"Top","fields":[{}]}}"#, old_fields.join(",")));
        let new_fields: Vec<String> = types.iter().enumerate().filter(|(i, _)| *i != removed).map(field).collect();
        let new_text = format!(r#"{{"type":"record","name":"Top","fields":[{}]}}"#, new_fields.join(","));
        let new = parse(&new_text);
        prop_assert!(ok(&new, &old), "removal is backward compatible");
        let forward = old.incompatibilities(&new).expect("no exception");
        prop_assert!(forward.iter().any(|i| i.kind.as_str() == "READER_FIELD_MISSING_DEFAULT_VALUE"
            && i.location == format!("/fields/{removed}")), "{:?}", forward);
    }
}

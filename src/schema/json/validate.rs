//! Validation of a JSON Schema document when it is read: the document must satisfy its
//! draft's meta-schema and compile, with every `$ref` resolvable (local pointers, valid
//! patterns, referenced schemas known by their reference `name`). Confluent answers every
//! such failure with the one detail "Invalid JSON Schema".

use jsonschema::{Draft, Registry};
use serde_json::Value;

/// The draft named by `$schema`; `None` for an absent or unknown meta-schema, which
/// Confluent reads as its default draft (7) rather than rejecting.
fn declared_draft(schema: &Value) -> Option<Draft> {
    let uri = schema.get("$schema")?.as_str()?;
    let uri = uri.trim_end_matches('#');
    let path = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://"))?;
    match path {
        "json-schema.org/draft-04/schema" => Some(Draft::Draft4),
        "json-schema.org/draft-06/schema" => Some(Draft::Draft6),
        "json-schema.org/draft-07/schema" => Some(Draft::Draft7),
        "json-schema.org/draft/2019-09/schema" => Some(Draft::Draft201909),
        "json-schema.org/draft/2020-12/schema" => Some(Draft::Draft202012),
        _ => None,
    }
}

/// The draft a schema is read with and a copy safe to hand to the validator: an unknown
/// `$schema` is dropped so that nothing tries to fetch it.
fn prepared(schema: &Value) -> (Draft, Value) {
    match declared_draft(schema) {
        Some(d) => (d, schema.clone()),
        None => {
            let mut copy = schema.clone();
            if let Value::Object(m) = &mut copy {
                m.shift_remove("$schema");
            }
            (Draft::Draft7, copy)
        }
    }
}

fn meta_valid(draft: Draft, schema: &Value) -> bool {
    match draft {
        Draft::Draft4 => jsonschema::draft4::meta::is_valid(schema),
        Draft::Draft6 => jsonschema::draft6::meta::is_valid(schema),
        Draft::Draft201909 => jsonschema::draft201909::meta::is_valid(schema),
        Draft::Draft202012 => jsonschema::draft202012::meta::is_valid(schema),
        _ => jsonschema::draft7::meta::is_valid(schema),
    }
}

/// The count keywords everit reads with `requireInteger`: the value must be a Java
/// `Integer` as Jackson reads it (an integer literal within 32 bits; `1.0`, `1e2` or
/// 3000000000 are a `Double`, `BigDecimal` or `Long` and refused), and may be negative, though
/// the meta-schemas want it non-negative.
const COUNTS: &[&str] = &["minLength", "maxLength", "minProperties", "maxProperties", "minItems", "maxItems"];

/// What a keyword's value that the meta-schema would let through, or refuse, is to everit
/// (Confluent loads JSON schemas of drafts 4, 6 and 7 with everit's `SchemaLoader`, and that
/// loading is the whole of its validation). Rewrites, in the copy that is checked, each value
/// into one the meta-schema judges the way everit does:
/// * a count everit takes (negative) becomes 0; one it refuses (not a 32-bit integer literal)
///   becomes a string, which the meta-schema refuses;
/// * `required`, read into a set, may be empty or repeat a name: kept once each, or dropped;
/// * `type` as a list is read item by item into an `anyOf` of one schema per type, with no
///   minimum and no uniqueness: an empty list is dropped, a repeated type kept once;
/// * `multipleOf` is read with `requireNumber` alone (`NumberSchema` checks nothing at load):
///   zero or negative becomes 1.
///
/// Only lists of strings and numbers are touched, values that are wrong in any position;
/// wherever the meta-schema allows any value (`enum`, `const`, `default`, ...) the rewrite
/// changes nothing it checks. `everit` is false for drafts 2019-09 and 2020-12, which Confluent
/// loads with another library: there only negative counts and `required` are relaxed.
fn relax(v: &mut Value, everit: bool) {
    match v {
        Value::Object(m) => {
            for key in COUNTS {
                if let Some(n) = m.get_mut(*key) {
                    if n.as_i64().is_some_and(|i| i < 0 && (!everit || i32::try_from(i).is_ok())) {
                        *n = Value::from(0);
                    } else if everit && n.is_number() && n.as_i64().and_then(|i| i32::try_from(i).ok()).is_none() {
                        *n = Value::from("not an Integer");
                    }
                }
            }
            dedupe_strings(m, "required");
            if everit {
                dedupe_strings(m, "type");
                if let Some(n) = m.get_mut("multipleOf") {
                    if n.as_f64().is_some_and(|x| x <= 0.0) {
                        *n = Value::from(1);
                    }
                }
            }
            m.values_mut().for_each(|c| relax(c, everit));
        }
        Value::Array(items) => items.iter_mut().for_each(|c| relax(c, everit)),
        _ => {}
    }
}

/// The strings of `list` in order, each once; `None` when an item is not a string.
/// A list of strings under `key` without its repeats, and without the key when it is empty
/// (what the meta-schema refuses and everit reads as if it were so).
fn dedupe_strings(m: &mut serde_json::Map<String, Value>, key: &str) {
    let Some(unique) = m.get(key).and_then(Value::as_array).and_then(|list| unique_strings(list)) else {
        return;
    };
    if unique.is_empty() {
        m.shift_remove(key);
    } else {
        m.insert(key.into(), Value::Array(unique));
    }
}

fn unique_strings(list: &[Value]) -> Option<Vec<Value>> {
    if !list.iter().all(Value::is_string) {
        return None;
    }
    let mut unique: Vec<Value> = Vec::with_capacity(list.len());
    for item in list {
        if !unique.contains(item) {
            unique.push(item.clone());
        }
    }
    Some(unique)
}

/// Checks `schema` with `references` (name, document) available to its `$ref`s.
/// Top-level values other than objects and booleans are accepted unchecked, as Confluent
/// accepts them (`[]`, `12`, `"x"`).
pub fn check(schema: &Value, references: &[(String, Value)]) -> Result<(), ()> {
    if !schema.is_object() {
        return Ok(());
    }
    let (draft, mut schema) = prepared(schema);
    relax(&mut schema, !matches!(draft, Draft::Draft201909 | Draft::Draft202012));
    if !meta_valid(draft, &schema) {
        return Err(());
    }
    let mut builder = Registry::new().draft(draft);
    for (name, doc) in references {
        let (_, doc) = prepared(doc);
        builder = builder.add(name, doc).map_err(|_| ())?;
    }
    let registry = builder.prepare().map_err(|_| ())?;
    jsonschema::options().with_draft(draft).with_registry(&registry).build(&schema).map(|_| ()).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which documents are schemas, as Confluent 7.9 (everit) decides: keyword values of the
    /// wrong JSON type, unknown types, bad patterns, unresolvable `$ref`s and counts that are
    /// not 32-bit integer literals are refused; unknown keywords, unknown formats, unknown
    /// `$schema` URIs, contradictory bounds, negative counts, duplicate `required` names,
    /// empty or repeating `type` lists and a `multipleOf` of zero or below are accepted. Non-object documents
    /// are accepted unchecked. The first rows are the recorded corpus (reg-json-invalid,
    /// json-shapes).
    #[test]
    fn which_documents_are_schemas() {
        let table: &[(&str, bool)] = &[
            (r#"{"type":12}"#, false),
            (r##"{"$ref":"#/definitions/missing"}"##, false),
            ("[]", true),
            ("12", true),
            (r#""x""#, true),
            (r#"{"type":"object","properties":{"a":{"type":"nope"}}}"#, false),
            (r#"{"type":"object","required":"a"}"#, false),
            (r#"{"minimum":"x"}"#, false),
            (r#"{"$schema":"http://example.com/unknown","type":"object"}"#, true),
            (r#"{"type":"string","format":"date-time"}"#, true),
            (r#"{"$schema":"http://json-schema.org/draft-06/schema#","type":"object"}"#, true),
            (r#"{"$schema":"https://json-schema.org/draft/2019-09/schema","type":"object"}"#, true),
            (r##"{"type":"object","properties":{"a":{"$ref":"#"}}}"##, true),
            (r#"{"type":"integer","minimum":1,"maximum":0}"#, true),
            (r#"{"type":"string","pattern":"("}"#, false),
            (r#"{"type":"object","properties":[]}"#, false),
            (r#"{"items":{"type":"nope"}}"#, false),
            (r#"{"type":"foo"}"#, false),
            (r#"{"type":["string","foo"]}"#, false),
            (r#"{"x-unknown":1,"foo":{"bar":[]}}"#, true),
            (r#"{"type":"string","format":"no-such-format"}"#, true),
            (r#"{"maxLength":"1"}"#, false),
            (r#"{"maxLength":1.5}"#, false),
            (r#"{"minLength":-1}"#, true),
            (r#"{"properties":{"a":{"maxItems":-2}}}"#, true),
            (r#"{"required":["a","a"]}"#, true),
            (r#"{"$schema":"http://json-schema.org/draft-04/schema#","required":[]}"#, true),
            (r#"{"required":[1]}"#, false),
            (r#"{"enum":"a"}"#, false),
            (r#"{"additionalProperties":5}"#, false),
            (r#"{"$ref":5}"#, false),
            (r#"{"$schema":"http://json-schema.org/draft-04/schema#","exclusiveMinimum":true,"minimum":1}"#, true),
            (r#"{"$schema":"http://json-schema.org/draft-07/schema#","exclusiveMinimum":true}"#, false),
            (r#"{"enum":[{"minLength":-1}],"default":{"required":[]}}"#, true),
            ("true", true),
            ("{}", true),
            // Counts are read with everit's requireInteger: a Java Integer, so an integer
            // literal within 32 bits; a decimal (even a whole one) or a wider integer is not.
            (r#"{"type":"string","minLength":1.0}"#, false),
            (r#"{"maxItems":2.0}"#, false),
            (r#"{"minProperties":1.5}"#, false),
            (r#"{"type":"object","maxProperties":1e1}"#, false),
            (r#"{"properties":{"a":{"type":"integer","minLength":1.0}}}"#, false),
            (r#"{"maxLength":2147483647}"#, true),
            (r#"{"maxLength":2147483648}"#, false),
            (r#"{"minItems":-2147483649}"#, false),
            (r#"{"default":{"minLength":1.0},"enum":[{"maxItems":2.5}]}"#, true),
            // `type` as a list: read item by item into an anyOf, none required, repeats kept.
            (r#"{"type":[]}"#, true),
            (r#"{"type":["string","string"]}"#, true),
            (r#"{"properties":{"a":{"type":[]}}}"#, true),
            (r#"{"type":[1]}"#, false),
            (r#"{"type":["string",null]}"#, false),
            // multipleOf: any number (requireNumber), checked by nothing at load.
            (r#"{"multipleOf":0}"#, true),
            (r#"{"type":"number","multipleOf":-2.5}"#, true),
            (r#"{"$schema":"http://json-schema.org/draft-04/schema#","multipleOf":0}"#, true),
            (r#"{"multipleOf":"2"}"#, false),
        ];
        for (text, valid) in table {
            let v: Value = serde_json::from_str(text).expect(text);
            assert_eq!(check(&v, &[]).is_ok(), *valid, "{text}");
        }
    }
}

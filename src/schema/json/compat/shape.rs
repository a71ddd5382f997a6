//! What kind of schema a node is, as Confluent's schema model classifies it: its `type`,
//! else the keywords it carries, and the combinations (`allOf`, `anyOf`, `oneOf`, a list
//! of types) that make a combined schema.

use serde_json::{Map, Value};

/// The shape of a schema for comparison, as Confluent's schema model sees it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Shape<'a> {
    /// `true`, `{}` or only annotations: accepts everything.
    Any,
    /// `false`: accepts nothing.
    Never,
    Str,
    Num {
        integer: bool,
    },
    Bool,
    Null,
    Obj,
    Arr,
    Enum,
    Not,
    Combined(Criterion, Vec<Part<'a>>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Criterion {
    All,
    Any,
    One,
}

/// A branch of a combined schema: a subschema, or the same schema restricted to one of
/// several listed `type`s.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Part<'a> {
    Schema(&'a Value),
    Typed(&'a Value, &'a str),
}

const STRING_KEYS: &[&str] = &["minLength", "maxLength", "pattern", "format"];
const NUMBER_KEYS: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
const OBJECT_KEYS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
];
const ARRAY_KEYS: &[&str] =
    &["items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains"];

fn has_any(m: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().any(|k| m.contains_key(*k))
}

fn type_shape(t: &str) -> Shape<'static> {
    match t {
        "string" => Shape::Str,
        "integer" => Shape::Num { integer: true },
        "number" => Shape::Num { integer: false },
        "boolean" => Shape::Bool,
        "null" => Shape::Null,
        "object" => Shape::Obj,
        "array" => Shape::Arr,
        _ => Shape::Any,
    }
}

/// The shape of a resolved schema, or of it restricted to `only` among its listed types.
pub(super) fn shape<'a>(v: &'a Value, only: Option<&str>) -> Shape<'a> {
    let m = match v {
        Value::Bool(true) => return Shape::Any,
        Value::Bool(false) => return Shape::Never,
        Value::Object(m) => m,
        _ => return Shape::Any,
    };
    if let Some(t) = only {
        return type_shape(t);
    }
    let combiners: Vec<(Criterion, &Vec<Value>)> =
        [("allOf", Criterion::All), ("anyOf", Criterion::Any), ("oneOf", Criterion::One)]
            .iter()
            .filter_map(|(k, c)| m.get(*k).and_then(Value::as_array).map(|a| (*c, a)))
            .collect();
    let own = own_shape(v, m);
    match (combiners.as_slice(), &own) {
        ([], _) => own,
        ([(c, subs)], Shape::Any) => Shape::Combined(*c, subs.iter().map(Part::Schema).collect()),
        _ => {
            // Several combiners, or a combiner beside type keywords: all of them must hold.
            let mut parts: Vec<Part> = Vec::new();
            if own != Shape::Any {
                parts.push(Part::Typed(v, "")); // the schema itself without its combiners
            }
            for (c, subs) in &combiners {
                match c {
                    Criterion::All => parts.extend(subs.iter().map(Part::Schema)),
                    _ => parts.push(Part::Typed(v, if *c == Criterion::Any { "anyOf" } else { "oneOf" })),
                }
            }
            Shape::Combined(Criterion::All, parts)
        }
    }
}

/// The shape of an object schema's own keywords, combiners aside.
fn own_shape<'a>(_v: &'a Value, m: &'a Map<String, Value>) -> Shape<'a> {
    match m.get("type") {
        Some(Value::String(t)) => return type_shape(t),
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            return match names.as_slice() {
                [] => Shape::Any,
                [one] => type_shape(one),
                _ => Shape::Combined(Criterion::Any, names.iter().map(|t| Part::Typed(_v, t)).collect()),
            };
        }
        _ => {}
    }
    if m.contains_key("enum") || m.contains_key("const") {
        Shape::Enum
    } else if has_any(m, OBJECT_KEYS) {
        Shape::Obj
    } else if has_any(m, ARRAY_KEYS) {
        Shape::Arr
    } else if has_any(m, STRING_KEYS) {
        Shape::Str
    } else if has_any(m, NUMBER_KEYS) {
        Shape::Num { integer: false }
    } else if m.contains_key("not") {
        Shape::Not
    } else {
        Shape::Any
    }
}

/// A restriction of a combined branch: `Typed(v, "")` is `v` without its combiners,
/// `Typed(v, "anyOf")` is `v`'s any-of alone.
pub(super) fn restrict<'a>(s: Shape<'a>, v: &'a Value, t: Option<&str>) -> Shape<'a> {
    match t {
        Some("") => match v.as_object() {
            Some(m) => own_shape(v, m),
            None => s,
        },
        Some("anyOf") | Some("oneOf") => {
            let c = if t == Some("anyOf") { Criterion::Any } else { Criterion::One };
            let subs = v.get(t.unwrap_or_default()).and_then(Value::as_array);
            Shape::Combined(c, subs.map(|a| a.iter().map(Part::Schema).collect()).unwrap_or_default())
        }
        _ => s,
    }
}

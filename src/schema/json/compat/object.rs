//! Object keywords: `properties`, `required`, `additionalProperties`, `patternProperties`
//! and the dependencies, with the open, closed or partially open content model that decides
//! whether an added or removed property is covered.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::reference::Node;
use super::shape::{shape, Shape};
use super::{child, Diff, Kind};

impl<'a> Diff<'a> {
    pub(super) fn object(&mut self, path: &str, o: Node<'a>, u: Node<'a>, depth: usize) {
        static NO_PROPERTIES: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        let props = |n: Node<'a>| n.v.get("properties").and_then(Value::as_object);
        let (op, up) = (props(o).unwrap_or(&NO_PROPERTIES), props(u).unwrap_or(&NO_PROPERTIES));
        let (om, um) = (
            Model::of(o.v, "additionalProperties", "patternProperties"),
            Model::of(u.v, "additionalProperties", "patternProperties"),
        );
        // Pattern properties do not count in the additionalProperties comparison (Confluent
        // compares only whether extra members are permitted and their schema); they only
        // decide whether an added or removed property is covered.
        let additional = ("additionalProperties", "additionalProperties");
        self.additional(path, additional, o, u, depth, ADDITIONAL_PROPERTIES);
        self.bound(path, o.v, u.v, "maxProperties", true);
        self.bound(path, o.v, u.v, "minProperties", false);
        let (oreq, ureq) = (required(o.v), required(u.v));
        for r in &ureq {
            if !oreq.contains(r) {
                let has_default = up.get(*r).is_some_and(|p| {
                    self.update.resolve(Node { v: p, doc: u.doc }).v.get("default").is_some()
                        || p.get("default").is_some()
                });
                self.add(
                    if has_default {
                        Kind::REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                    } else {
                        Kind::REQUIRED_ATTRIBUTE_ADDED
                    },
                    path,
                );
            }
        }
        for r in &oreq {
            if !ureq.contains(r) {
                self.add(Kind::REQUIRED_ATTRIBUTE_REMOVED, path);
            }
        }
        self.dependencies(path, o, u, depth);
        for (name, ov) in op {
            let p = format!("{path}/properties/{name}");
            let on = Node { v: ov, doc: o.doc };
            match up.get(name) {
                Some(uv) => self.compare(&p, on, Node { v: uv, doc: u.doc }, depth + 1),
                None => {
                    let kind = match (um, covering(u, name)) {
                        (Model::Open, _) => Kind::PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL,
                        (_, None) if on.v == &Value::Bool(false) => {
                            Kind::PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                        }
                        (_, None) => Kind::PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL,
                        (_, Some(cover)) => {
                            if self.covered(&p, on, cover, depth) {
                                Kind::PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                            } else {
                                Kind::PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                            }
                        }
                    };
                    self.add(kind, &p);
                }
            }
        }
        for (name, uv) in up {
            if op.contains_key(name) {
                continue;
            }
            let p = format!("{path}/properties/{name}");
            let un = Node { v: uv, doc: u.doc };
            if om == Model::Open {
                let kind = if shape(self.update.resolve(un).v, None) == Shape::Any {
                    Kind::PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                } else {
                    Kind::PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
                };
                self.add(kind, &p);
                continue;
            }
            // A schema covering the name (pattern or additional properties) is checked
            // first, its differences recorded; the addition to a model that is not open is
            // recorded either way.
            if let Some(cover) = covering(o, name) {
                let kind = if self.covered(&p, cover, un, depth) {
                    Kind::PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                } else {
                    Kind::PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                };
                self.add(kind, &p);
            }
            let kind = if !ureq.contains(&name.as_str()) {
                Kind::OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
            } else if self.update.resolve(un).v.get("default").is_some() {
                Kind::REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
            } else {
                Kind::REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
            };
            self.add(kind, &p);
        }
    }

    fn dependencies(&mut self, path: &str, o: Node<'a>, u: Node<'a>, depth: usize) {
        let deps = |n: Node<'a>| -> Vec<(&'a String, &'a Value)> {
            ["dependencies", "dependentRequired", "dependentSchemas"]
                .iter()
                .filter_map(|k| n.v.get(*k).and_then(Value::as_object))
                .flat_map(|m| m.iter())
                .collect()
        };
        let (od, ud) = (deps(o), deps(u));
        for (name, ov) in &od {
            let p = format!("{path}/dependencies/{name}");
            let uv = ud.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
            match (ov, uv) {
                (Value::Array(a), None) => {
                    let _ = a;
                    self.add(Kind::DEPENDENCY_ARRAY_REMOVED, &p)
                }
                (_, None) => self.add(Kind::DEPENDENCY_SCHEMA_REMOVED, &p),
                (Value::Array(a), Some(Value::Array(b))) => {
                    let (a_in_b, b_in_a) = (a.iter().all(|x| b.contains(x)), b.iter().all(|x| a.contains(x)));
                    match (a_in_b, b_in_a) {
                        (true, true) => {}
                        (true, false) => self.add(Kind::DEPENDENCY_ARRAY_EXTENDED, &p),
                        (false, true) => self.add(Kind::DEPENDENCY_ARRAY_NARROWED, &p),
                        (false, false) => self.add(Kind::DEPENDENCY_ARRAY_CHANGED, &p),
                    }
                }
                (Value::Array(_), Some(_)) | (_, Some(Value::Array(_))) => self.add(Kind::TYPE_CHANGED, &p),
                (ov, Some(uv)) => self.compare(&p, Node { v: ov, doc: o.doc }, Node { v: uv, doc: u.doc }, depth + 1),
            }
        }
        for (name, uv) in &ud {
            if !od.iter().any(|(n, _)| n == name) {
                let p = format!("{path}/dependencies/{name}");
                self.add(if uv.is_array() { Kind::DEPENDENCY_ARRAY_ADDED } else { Kind::DEPENDENCY_SCHEMA_ADDED }, &p);
            }
        }
    }

    /// Whether the schema `cover` that governs an added or removed member (`o` the
    /// original's schema for it, `u` the update's) accepts what was accepted, recording the
    /// differences of the comparison at the member's `path`: Confluent compares the two in a
    /// sub-context and adds its differences before the covered / not covered verdict.
    pub(super) fn covered(&mut self, path: &str, o: Node<'a>, u: Node<'a>, depth: usize) -> bool {
        let start = self.found.len();
        self.compare(path, o, u, depth + 1);
        self.found[start..].iter().all(|d| d.kind.compatible())
    }

    /// `additionalProperties` (or `additionalItems`, by the original's and the update's
    /// `keys`) as Confluent's `ObjectSchemaDiff`/`ArraySchemaDiff` compare them on everit's
    /// reading: whether extra members are permitted (anything but `false`) first, then
    /// whether they have a schema (any object, `{}` included: everit loads it as an
    /// `EmptySchema`, not as `true`); two schemas are compared.
    pub(super) fn additional(
        &mut self,
        path: &str,
        keys: (&str, &str),
        o: Node<'a>,
        u: Node<'a>,
        depth: usize,
        kinds: [Kind; 4],
    ) {
        let [added, removed, extended, narrowed] = kinds;
        let permits = |n: Node<'a>, key: &str| n.v.get(key) != Some(&Value::Bool(false));
        let schema = |n: Node<'a>, key: &str| child(n, key).filter(|a| a.v.is_object());
        let (okey, ukey) = keys;
        if permits(o, okey) != permits(u, ukey) {
            self.add(if permits(u, ukey) { added } else { removed }, path);
            return;
        }
        match (schema(o, okey), schema(u, ukey)) {
            (None, None) => {}
            (None, Some(_)) => self.add(narrowed, path),
            (Some(_), None) => self.add(extended, path),
            (Some(a), Some(b)) => {
                let p = format!("{path}/{okey}");
                self.compare(&p, a, b, depth + 1);
            }
        }
    }
}

const ADDITIONAL_PROPERTIES: [Kind; 4] = [
    Kind::ADDITIONAL_PROPERTIES_ADDED,
    Kind::ADDITIONAL_PROPERTIES_REMOVED,
    Kind::ADDITIONAL_PROPERTIES_EXTENDED,
    Kind::ADDITIONAL_PROPERTIES_NARROWED,
];
pub(super) const ADDITIONAL_ITEMS: [Kind; 4] = [
    Kind::ADDITIONAL_ITEMS_ADDED,
    Kind::ADDITIONAL_ITEMS_REMOVED,
    Kind::ADDITIONAL_ITEMS_EXTENDED,
    Kind::ADDITIONAL_ITEMS_NARROWED,
];

fn required(v: &Value) -> Vec<&str> {
    v.get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The schema that governs a property not listed in `properties` of a model that is not
/// open: the first pattern property whose pattern is found in the name, else the schema of
/// `additionalProperties`. `None` (no pattern matches and `additionalProperties` is absent,
/// `true` or `false`) means the property is not covered: the model is closed for it.
fn covering<'a>(n: Node<'a>, name: &str) -> Option<Node<'a>> {
    if let Some(pp) = n.v.get("patternProperties").and_then(Value::as_object) {
        for (pattern, schema) in pp {
            if regex_lite_match(pattern, name) {
                return Some(Node { v: schema, doc: n.doc });
            }
        }
    }
    child(n, "additionalProperties").filter(|a| a.v.is_object())
}

/// Pattern properties are ECMA regexes; matching them uses the validator crate's engine.
/// A pattern that does not compile matches nothing.
fn regex_lite_match(pattern: &str, name: &str) -> bool {
    pattern_validator(pattern).is_some_and(|v| v.is_valid(&Value::String(name.to_string())))
}

/// How many compiled patterns `PATTERNS` keeps.
const MAX_PATTERNS: usize = 256;

/// Compiled pattern validators by pattern text (`None`: the pattern does not compile).
/// Building a validator parses the pattern and checks the schema around it, far more work
/// than a match, and a check meets the same few patterns once per property name and again
/// for every version it is compared with. Bounded: when full it starts again empty.
static PATTERNS: std::sync::LazyLock<PatternCache> = std::sync::LazyLock::new(Default::default);

type PatternCache = parking_lot::Mutex<HashMap<String, Option<Arc<jsonschema::Validator>>>>;

/// The validator of `{"pattern": pattern}`, compiled on first use.
fn pattern_validator(pattern: &str) -> Option<Arc<jsonschema::Validator>> {
    if let Some(known) = PATTERNS.lock().get(pattern) {
        return known.clone();
    }
    // Compiled without the lock held: other checks' lookups need not wait for it.
    let compiled = jsonschema::validator_for(&serde_json::json!({ "pattern": pattern })).ok().map(Arc::new);
    let mut cache = PATTERNS.lock();
    if cache.len() >= MAX_PATTERNS {
        cache.clear();
    }
    cache.insert(pattern.to_string(), compiled.clone());
    compiled
}

/// How an object (or tuple) treats members it does not list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Model {
    Open,
    Closed,
    Partial,
}

impl Model {
    pub(super) fn of(v: &Value, additional: &str, patterns: &str) -> Model {
        let has_patterns = v.get(patterns).and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        match v.get(additional) {
            Some(Value::Bool(false)) if !has_patterns => Model::Closed,
            // A schema, even `{}` (everit's EmptySchema), makes the model partially open.
            Some(Value::Object(_)) => Model::Partial,
            Some(Value::Bool(false)) => Model::Partial,
            _ if has_patterns => Model::Partial,
            _ => Model::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::json::{compatibility_messages, JsonSchema, Kind};
    use crate::schema::ParseOptions;

    fn parse(text: &str) -> JsonSchema {
        JsonSchema::parse(text, &[], ParseOptions::default()).expect(text)
    }

    /// `additionalProperties: {}` is a schema (everit's EmptySchema), not `true`: Confluent's
    /// `compareAdditionalProperties` asks whether extra members are permitted first (only
    /// `false` forbids them), then whether they have a schema; and a model with a schema of
    /// additional properties is not open, so an added or removed property is compared with
    /// it. (TYPE_EXTENDED, compatible and Schemata's own, is left out of the comparison.)
    #[test]
    fn an_empty_additional_properties_schema_is_a_schema() {
        use Kind::*;
        let obj = |body: &str| format!(r#"{{"type":"object"{}{body}}}"#, if body.is_empty() { "" } else { "," });
        let cases: &[(&str, &str, &[Kind])] = &[
            ("", r#""additionalProperties":{}"#, &[ADDITIONAL_PROPERTIES_NARROWED]),
            (r#""additionalProperties":true"#, r#""additionalProperties":{}"#, &[ADDITIONAL_PROPERTIES_NARROWED]),
            (r#""additionalProperties":{}"#, "", &[ADDITIONAL_PROPERTIES_EXTENDED]),
            (r#""additionalProperties":{}"#, r#""additionalProperties":true"#, &[ADDITIONAL_PROPERTIES_EXTENDED]),
            (r#""additionalProperties":{}"#, r#""additionalProperties":{}"#, &[]),
            (r#""additionalProperties":false"#, r#""additionalProperties":{}"#, &[ADDITIONAL_PROPERTIES_ADDED]),
            (r#""additionalProperties":{}"#, r#""additionalProperties":false"#, &[ADDITIONAL_PROPERTIES_REMOVED]),
            (r#""additionalProperties":{}"#, r#""additionalProperties":{"type":"string"}"#, &[TYPE_CHANGED]),
            (r#""additionalProperties":{"type":"string"}"#, r#""additionalProperties":{}"#, &[]),
            // Permitted or not is asked before the schema: a typed schema to `false` is removed.
            (
                r#""additionalProperties":{"type":"string"}"#,
                r#""additionalProperties":false"#,
                &[ADDITIONAL_PROPERTIES_REMOVED],
            ),
            (
                r#""additionalProperties":false"#,
                r#""additionalProperties":{"type":"string"}"#,
                &[ADDITIONAL_PROPERTIES_ADDED],
            ),
            // Removed properties: covered by `{}`, which accepts anything.
            (
                r#""properties":{"a":{"type":"string"}},"additionalProperties":{}"#,
                r#""additionalProperties":{}"#,
                &[PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL],
            ),
            // Added properties: the model is not open; `{}` covers only a property that
            // accepts anything.
            (
                r#""additionalProperties":{}"#,
                r#""properties":{"b":{"type":"string"}},"additionalProperties":{}"#,
                &[
                    TYPE_CHANGED,
                    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
                ],
            ),
            (
                r#""additionalProperties":{}"#,
                r#""properties":{"b":{}},"additionalProperties":{}"#,
                &[
                    PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
                ],
            ),
            // A property declared `false` removed from a model open to it is just removed.
            (r#""properties":{"a":false}"#, "", &[PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL]),
            (
                r#""properties":{"a":false},"additionalProperties":false"#,
                r#""additionalProperties":false"#,
                &[PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL],
            ),
        ];
        for (original, update, want) in cases {
            let (o, u) = (obj(original), obj(update));
            let mut got: Vec<Kind> = parse(&u).differences_from(&parse(&o)).iter().map(|d| d.kind).collect();
            got.retain(|k| *k != TYPE_EXTENDED);
            assert_eq!(&got, want, "{o} -> {u}");
        }
    }

    /// What a BACKWARD check answers for those changes: the incompatible differences, with
    /// the nested one from the covering comparison at the property's path.
    #[test]
    fn empty_additional_properties_messages() {
        let check =
            |original: &str, update: &str| compatibility_messages(&parse(update), &parse(original), "new", "old");
        let open = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
        let empty = r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{}}"#;
        assert_eq!(
            check(open, empty),
            ["{errorType:\"ADDITIONAL_PROPERTIES_NARROWED\", description:\"The new schema has a difference (additional properties narrowed) at path '#' compared with the old schema'}"]
        );
        assert!(check(empty, open).is_empty());
        let added = r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":{}}"#;
        assert_eq!(
            check(empty, added),
            [
                "{errorType:\"TYPE_CHANGED\", description:\"A type at path '#/properties/b' is different between the new schema and the old schema'}",
                "{errorType:\"PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL\", description:\"The new schema has a difference (property added not covered by partially open content model) at path '#/properties/b' compared with the old schema'}",
            ]
        );
    }

    /// A pattern is compiled once and its validator reused; one that does not compile
    /// matches nothing, and is remembered as such; the cache stays within its bound.
    #[test]
    fn patterns_are_compiled_once_and_kept() {
        let first = super::pattern_validator("^cached-[0-9]+$").expect("compiles");
        let again = super::pattern_validator("^cached-[0-9]+$").expect("compiles");
        assert!(std::sync::Arc::ptr_eq(&first, &again));
        assert!(super::regex_lite_match("^cached-[0-9]+$", "cached-12"));
        assert!(!super::regex_lite_match("^cached-[0-9]+$", "cached-x"));
        // Found anywhere in the name, as ECMA `pattern` is.
        assert!(super::regex_lite_match("b", "abc"));
        assert!(super::pattern_validator("(unclosed").is_none());
        assert!(!super::regex_lite_match("(unclosed", "(unclosed"));
        for i in 0..super::MAX_PATTERNS + 10 {
            super::pattern_validator(&format!("^bound{i}$"));
        }
        assert!(super::PATTERNS.lock().len() <= super::MAX_PATTERNS);
    }
}

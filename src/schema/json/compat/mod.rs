//! Confluent's JSON Schema compatibility as a diff of two schema documents: the original
//! (the writer's) and the update (the reader's). The update is compatible when it accepts
//! every document the original accepted; each difference kind says which way it goes
//! (see `difference.rs`). Works on the documents directly, resolving `$ref` through the
//! schema's own pointers and its references' names as it walks.
//!
//! This module is the walker: `Diff`, the dispatch on the two nodes' shapes (`compare_part`)
//! and the rules every type shares (`enum`/`const`, the length and count limits). The
//! keyword families are in their own files: `reference` (the sides and `$ref` resolution),
//! `shape` (what kind of schema a node is), `combine` (`allOf`/`anyOf`/`oneOf`), `object`,
//! `array`, `number` and `string`.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::Value;

use super::difference::{Difference, Kind};
use combine::part_node;
pub use reference::Side;
use reference::{contains_ref, Node};
use shape::{restrict, shape, Criterion, Shape};

mod array;
mod combine;
mod number;
mod object;
mod reference;
mod shape;
mod string;

/// Walks deeper than this (through recursive `$ref`s) stop being compared: the answer for
/// the structure above is already decided.
const MAX_DEPTH: usize = 64;

/// Comparisons one check may make. Branch matching compares every pair of branches, so
/// nested combinations multiply; past this budget the walk stops adding differences
/// rather than letting a crafted schema occupy a worker.
const MAX_STEPS: usize = 200_000;

/// Identity of one comparison: the two (resolved) schema nodes and their restrictions.
type PairKey = (usize, usize, Option<String>, Option<String>);

/// What every nested comparison of one check shares: the verdicts of node pairs already
/// judged (so each pair is judged once) and the step budget.
#[derive(Default)]
struct Shared {
    verdicts: HashMap<PairKey, bool>,
    steps: usize,
}

/// The diff of one original/update pair.
pub struct Diff<'a> {
    original: Side<'a>,
    update: Side<'a>,
    pub found: Vec<Difference>,
    /// Pairs on the current walk, so a recursive `$ref` is compared once.
    seen: HashSet<PairKey>,
    shared: Rc<RefCell<Shared>>,
}

impl<'a> Diff<'a> {
    pub fn new(original: Side<'a>, update: Side<'a>) -> Diff<'a> {
        Diff { original, update, found: Vec::new(), seen: HashSet::new(), shared: Rc::default() }
    }

    /// Whether `u` (restricted by `ut`) accepts everything `o` (restricted by `ot`)
    /// accepts, recording nothing. A pair met again while it is still being judged (a
    /// recursive schema) counts as compatible; its other differences decide.
    fn part_compatible(&mut self, o: Node<'a>, ot: Option<&str>, u: Node<'a>, ut: Option<&str>, depth: usize) -> bool {
        let (ro, ru) = (self.original.resolve(o), self.update.resolve(u));
        let key = pair_key(ro, ot, ru, ut);
        if let Some(known) = self.shared.borrow().verdicts.get(&key) {
            return *known;
        }
        self.shared.borrow_mut().verdicts.insert(key.clone(), true);
        let mut sub = Diff {
            original: self.original,
            update: self.update,
            found: Vec::new(),
            seen: HashSet::new(),
            shared: self.shared.clone(),
        };
        sub.compare_part("#", o, ot, u, ut, depth);
        let verdict = sub.found.iter().all(|d| d.kind.compatible());
        self.shared.borrow_mut().verdicts.insert(key, verdict);
        verdict
    }

    pub fn run(mut self) -> Vec<Difference> {
        let (o, u) = (self.original.node(), self.update.node());
        self.compare("#", o, u, 0);
        self.found
    }

    fn add(&mut self, kind: Kind, path: &str) {
        self.found.push(Difference { kind, path: path.to_string() });
    }

    /// Whether `u` accepts everything `o` accepts, without recording anything.
    fn compatible(&mut self, o: Node<'a>, u: Node<'a>, depth: usize) -> bool {
        self.part_compatible(o, None, u, None, depth)
    }

    fn compare(&mut self, path: &str, o: Node<'a>, u: Node<'a>, depth: usize) {
        self.compare_part(path, o, None, u, None, depth)
    }

    fn compare_part(&mut self, path: &str, o: Node<'a>, ot: Option<&str>, u: Node<'a>, ut: Option<&str>, depth: usize) {
        {
            let mut shared = self.shared.borrow_mut();
            shared.steps += 1;
            if depth > MAX_DEPTH || shared.steps > MAX_STEPS {
                return;
            }
        }
        let o = self.original.resolve(o);
        let u = self.update.resolve(u);
        if !self.seen.insert(pair_key(o, ot, u, ut)) {
            return; // a recursive structure already being compared
        }
        if ot.is_none() && ut.is_none() && o.v == u.v && o.v.get("$ref").is_none() && !contains_ref(o.v) {
            return;
        }
        let so = shape(o.v, ot.filter(|t| !t.is_empty() && !t.ends_with("Of")));
        let su = shape(u.v, ut.filter(|t| !t.is_empty() && !t.ends_with("Of")));
        let so = restrict(so, o.v, ot);
        let su = restrict(su, u.v, ut);
        match (&so, &su) {
            (Shape::Never, Shape::Never) | (Shape::Any, Shape::Any) => {}
            (Shape::Never, _) | (_, Shape::Any) => self.add(Kind::TYPE_EXTENDED, path),
            (_, Shape::Never) => self.add(Kind::TYPE_NARROWED, path),
            (Shape::Combined(co, po), Shape::Combined(cu, pu)) => {
                self.combined(path, (*co, po.clone(), o), (*cu, pu.clone(), u), depth)
            }
            (_, Shape::Combined(cu, pu)) if *cu != Criterion::All => {
                let matched = pu.clone().into_iter().any(|p| {
                    let (un, ut2) = part_node(u, &p);
                    self.part_compatible(o, ot, un, ut2, depth + 1)
                });
                self.add(if matched { Kind::SUM_TYPE_EXTENDED } else { Kind::TYPE_CHANGED }, path);
            }
            (Shape::Combined(co, po), _) if po.len() == 1 || *co == Criterion::All => {
                // A one-branch combination is its branch; all-of narrows to any one branch.
                let po = po.clone();
                if po.len() == 1 {
                    let (on, ot2) = part_node(o, &po[0]);
                    self.compare_part(path, on, ot2, u, ut, depth + 1);
                } else {
                    let ok = po.iter().any(|p| {
                        let (on, ot2) = part_node(o, p);
                        self.part_compatible(on, ot2, u, ut, depth + 1)
                    });
                    if !ok {
                        self.add(Kind::TYPE_CHANGED, path);
                    }
                }
            }
            (_, Shape::Combined(_, pu)) if pu.len() == 1 => {
                let (un, ut2) = part_node(u, &pu[0]);
                self.compare_part(path, o, ot, un, ut2, depth + 1);
            }
            (Shape::Num { integer: a }, Shape::Num { integer: b }) => {
                if a != b {
                    self.add(if *a { Kind::TYPE_EXTENDED } else { Kind::TYPE_NARROWED }, path);
                }
                self.numbers(path, o.v, u.v);
                self.enums(path, o.v, u.v);
            }
            (a, b) if a != b => self.add(Kind::TYPE_CHANGED, path),
            (Shape::Str, _) => {
                self.bound(path, o.v, u.v, "maxLength", true);
                self.bound(path, o.v, u.v, "minLength", false);
                self.pattern(path, o.v, u.v);
                self.enums(path, o.v, u.v);
            }
            (Shape::Obj, _) => {
                self.object(path, o, u, depth);
                self.enums(path, o.v, u.v);
            }
            (Shape::Arr, _) => {
                self.array(path, o, u, depth);
                self.enums(path, o.v, u.v);
            }
            (Shape::Not, _) => {
                let (on, un) = (child(o, "not"), child(u, "not"));
                if let (Some(on), Some(un)) = (on, un) {
                    // not(A) -> not(B) accepts more when B is narrower than A: A must
                    // accept all B accepts, a check with the two sides' roles swapped.
                    let mut swapped = Diff {
                        original: self.update,
                        update: self.original,
                        found: Vec::new(),
                        seen: HashSet::new(),
                        shared: self.shared.clone(),
                    };
                    let narrowed = swapped.compatible(un, on, depth + 1);
                    if !narrowed {
                        self.add(Kind::NOT_TYPE_EXTENDED, path);
                    } else if !self.compatible(on, un, depth + 1) {
                        self.add(Kind::NOT_TYPE_NARROWED, path);
                    }
                }
            }
            _ => self.enums(path, o.v, u.v),
        }
    }

    fn enums(&mut self, path: &str, o: &Value, u: &Value) {
        fn values(v: &Value) -> Option<Vec<&Value>> {
            if let Some(a) = v.get("enum").and_then(Value::as_array) {
                return Some(a.iter().collect());
            }
            v.get("const").map(|c| vec![c])
        }
        match (values(o), values(u)) {
            (None, None) => {}
            (None, Some(_)) => self.add(Kind::ENUM_ARRAY_NARROWED, path),
            (Some(_), None) => self.add(Kind::ENUM_ARRAY_EXTENDED, path),
            (Some(a), Some(b)) => {
                let a_in_b = a.iter().all(|x| b.contains(x));
                let b_in_a = b.iter().all(|x| a.contains(x));
                match (a_in_b, b_in_a) {
                    (true, true) => {}
                    (true, false) => self.add(Kind::ENUM_ARRAY_EXTENDED, path),
                    (false, true) => self.add(Kind::ENUM_ARRAY_NARROWED, path),
                    (false, false) => self.add(Kind::ENUM_ARRAY_CHANGED, path),
                }
            }
        }
    }

    /// A numeric limit: `upper` limits (max*) may grow, lower ones (min*) may shrink.
    fn bound(&mut self, path: &str, o: &Value, u: &Value, key: &str, upper: bool) -> Option<()> {
        let kinds = bound_kinds(key)?;
        let (a, b) = (o.get(key).and_then(Value::as_f64), u.get(key).and_then(Value::as_f64));
        let kind = match (a, b) {
            (None, None) => return Some(()),
            (None, Some(_)) => kinds[0],
            (Some(_), None) => kinds[1],
            (Some(x), Some(y)) if y > x => kinds[2],
            (Some(x), Some(y)) if y < x => kinds[3],
            _ => return Some(()),
        };
        let _ = upper;
        self.add(kind, path);
        Some(())
    }
}

/// The added/removed/increased/decreased kinds of a limit keyword.
fn bound_kinds(key: &str) -> Option<[Kind; 4]> {
    use Kind::*;
    Some(match key {
        "maxLength" => [MAX_LENGTH_ADDED, MAX_LENGTH_REMOVED, MAX_LENGTH_INCREASED, MAX_LENGTH_DECREASED],
        "minLength" => [MIN_LENGTH_ADDED, MIN_LENGTH_REMOVED, MIN_LENGTH_INCREASED, MIN_LENGTH_DECREASED],
        "maximum" => [MAXIMUM_ADDED, MAXIMUM_REMOVED, MAXIMUM_INCREASED, MAXIMUM_DECREASED],
        "minimum" => [MINIMUM_ADDED, MINIMUM_REMOVED, MINIMUM_INCREASED, MINIMUM_DECREASED],
        "exclusiveMaximum" => [
            EXCLUSIVE_MAXIMUM_ADDED,
            EXCLUSIVE_MAXIMUM_REMOVED,
            EXCLUSIVE_MAXIMUM_INCREASED,
            EXCLUSIVE_MAXIMUM_DECREASED,
        ],
        "exclusiveMinimum" => [
            EXCLUSIVE_MINIMUM_ADDED,
            EXCLUSIVE_MINIMUM_REMOVED,
            EXCLUSIVE_MINIMUM_INCREASED,
            EXCLUSIVE_MINIMUM_DECREASED,
        ],
        "maxProperties" => {
            [MAX_PROPERTIES_ADDED, MAX_PROPERTIES_REMOVED, MAX_PROPERTIES_INCREASED, MAX_PROPERTIES_DECREASED]
        }
        "minProperties" => {
            [MIN_PROPERTIES_ADDED, MIN_PROPERTIES_REMOVED, MIN_PROPERTIES_INCREASED, MIN_PROPERTIES_DECREASED]
        }
        "maxItems" => [MAX_ITEMS_ADDED, MAX_ITEMS_REMOVED, MAX_ITEMS_INCREASED, MAX_ITEMS_DECREASED],
        "minItems" => [MIN_ITEMS_ADDED, MIN_ITEMS_REMOVED, MIN_ITEMS_INCREASED, MIN_ITEMS_DECREASED],
        _ => return None,
    })
}

fn pair_key(o: Node, ot: Option<&str>, u: Node, ut: Option<&str>) -> PairKey {
    (o.v as *const Value as usize, u.v as *const Value as usize, ot.map(str::to_string), ut.map(str::to_string))
}

fn child<'a>(n: Node<'a>, key: &str) -> Option<Node<'a>> {
    n.v.get(key).map(|v| Node { v, doc: n.doc })
}

#[cfg(test)]
mod tests {
    use crate::schema::json::{JsonSchema, Kind};
    use crate::schema::ParseOptions;

    fn kinds(original: &str, update: &str) -> Vec<Kind> {
        let parse = |t: &str| JsonSchema::parse(t, &[], ParseOptions::default()).expect(t);
        parse(update).differences_from(&parse(original)).iter().map(|d| d.kind).collect()
    }

    /// Pattern properties never narrow the content model (only `additionalProperties` is
    /// compared as such); they decide whether an added or removed property is covered. A
    /// property no pattern covers, in a model with no `additionalProperties` schema, meets
    /// a closed model. An addition to a model that is not open also records whether it is
    /// optional or required, as Confluent does; the comparison with the covering schema
    /// records its own differences first (Confluent adds the sub-context's differences).
    #[test]
    fn pattern_properties_only_cover_properties() {
        use Kind::*;
        let obj = |body: &str| format!(r#"{{"type":"object",{body}}}"#);
        let cases: &[(&str, &str, &[Kind])] = &[
            (
                r#""properties":{"a":{}}"#,
                r#""patternProperties":{"^a*":{}}"#,
                &[PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL],
            ),
            (
                r#""properties":{"a":{"type":"string"}}"#,
                r#""patternProperties":{"^a":{"type":"integer"}}"#,
                &[TYPE_CHANGED, PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL],
            ),
            (
                r#""properties":{"a":{}}"#,
                r#""patternProperties":{"^b":{}}"#,
                &[PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL],
            ),
            (
                r#""properties":{"a":{}}"#,
                r#""patternProperties":{"^b":{}},"additionalProperties":{"type":"string"}"#,
                &[
                    ADDITIONAL_PROPERTIES_NARROWED,
                    TYPE_CHANGED,
                    PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                ],
            ),
            (
                r#""patternProperties":{"^a":{}}"#,
                r#""properties":{"a":{}}"#,
                &[
                    PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
                ],
            ),
            (
                r#""patternProperties":{"^a":{"type":"string"}}"#,
                r#""properties":{"ab":{"type":"integer"}}"#,
                &[
                    TYPE_CHANGED,
                    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
                ],
            ),
            (
                r#""patternProperties":{"^a":{}}"#,
                r#""properties":{"b":{}},"required":["b"]"#,
                &[REQUIRED_ATTRIBUTE_ADDED, REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL],
            ),
            (
                r#""patternProperties":{"^a":{}}"#,
                r#""additionalProperties":false,"patternProperties":{"^a":{}}"#,
                &[ADDITIONAL_PROPERTIES_REMOVED],
            ),
            (r#""patternProperties":{"^a":{}}"#, "\"additionalProperties\":true", &[]),
        ];
        for (original, update, want) in cases {
            let mut got = kinds(&obj(original), &obj(update));
            got.retain(|k| *k != Kind::TYPE_EXTENDED);
            assert_eq!(&got, want, "{original} -> {update}");
        }
        let compatible = |o: &str, u: &str| kinds(&obj(o), &obj(u)).iter().all(|k| k.compatible());
        assert!(compatible(r#""properties":{"a":{}}"#, r#""patternProperties":{"^a*":{}}"#));
        assert!(!compatible(r#""properties":{"a":{}}"#, r#""patternProperties":{"^b":{}}"#));
    }
}

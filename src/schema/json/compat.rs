//! Confluent's JSON Schema compatibility as a diff of two schema documents: the original
//! (the writer's) and the update (the reader's). The update is compatible when it accepts
//! every document the original accepted; each difference kind says which way it goes
//! (see `difference.rs`). Works on the documents directly, resolving `$ref` through the
//! schema's own pointers and its references' names as it walks.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::difference::{Difference, Kind};

/// Walks deeper than this (through recursive `$ref`s) stop being compared: the answer for
/// the structure above is already decided.
const MAX_DEPTH: usize = 64;

/// A schema document and the documents its `$ref`s may name.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub root: &'a Value,
    pub refs: &'a [(String, Value)],
}

#[derive(Clone, Copy)]
struct Node<'a> {
    v: &'a Value,
    /// The document `v` belongs to, for `#` pointers.
    doc: &'a Value,
}

static EMPTY: Value = Value::Bool(true);

impl<'a> Side<'a> {
    fn node(&self) -> Node<'a> {
        Node { v: self.root, doc: self.root }
    }

    /// Follows `$ref` chains; an unresolvable reference reads as the empty schema.
    fn resolve(&self, mut n: Node<'a>) -> Node<'a> {
        for _ in 0..MAX_DEPTH {
            let Some(r) = n.v.get("$ref").and_then(Value::as_str) else { return n };
            let (base, fragment) = r.split_once('#').unwrap_or((r, ""));
            let doc = if base.is_empty() {
                n.doc
            } else {
                match self.refs.iter().find(|(name, _)| name == base) {
                    Some((_, d)) => d,
                    None => return Node { v: &EMPTY, doc: n.doc },
                }
            };
            let fragment = unescape(fragment);
            let target = if fragment.is_empty() {
                Some(doc)
            } else if fragment.starts_with('/') {
                doc.pointer(&fragment)
            } else {
                find_anchor(doc, &fragment, 0)
            };
            match target {
                Some(v) => n = Node { v, doc },
                None => return Node { v: &EMPTY, doc: n.doc },
            }
        }
        n
    }
}

/// The subschema a plain-name fragment names: `$id: "#name"` (drafts 6-7) or
/// `$anchor: "name"` (2019-09 on).
fn find_anchor<'v>(v: &'v Value, name: &str, depth: usize) -> Option<&'v Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    match v {
        Value::Object(m) => {
            let id = m.get("$id").or_else(|| m.get("id")).and_then(Value::as_str);
            if id.and_then(|i| i.strip_prefix('#')) == Some(name)
                || m.get("$anchor").and_then(Value::as_str) == Some(name)
            {
                return Some(v);
            }
            m.values().find_map(|c| find_anchor(c, name, depth + 1))
        }
        Value::Array(a) => a.iter().find_map(|c| find_anchor(c, name, depth + 1)),
        _ => None,
    }
}

/// A `$ref` fragment is URI-encoded; `%25` and friends become the pointer's characters.
fn unescape(fragment: &str) -> String {
    percent_encoding::percent_decode_str(fragment).decode_utf8_lossy().into_owned()
}

/// The shape of a schema for comparison, as Confluent's schema model sees it.
#[derive(Clone, Debug, PartialEq)]
enum Shape<'a> {
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
enum Criterion {
    All,
    Any,
    One,
}

/// A branch of a combined schema: a subschema, or the same schema restricted to one of
/// several listed `type`s.
#[derive(Clone, Debug, PartialEq)]
enum Part<'a> {
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
fn shape<'a>(v: &'a Value, only: Option<&str>) -> Shape<'a> {
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

    fn combined(
        &mut self,
        path: &str,
        (co, po, o): (Criterion, Vec<Part<'a>>, Node<'a>),
        (cu, pu, u): (Criterion, Vec<Part<'a>>, Node<'a>),
        depth: usize,
    ) {
        if co != cu {
            let extended = cu == Criterion::Any || po.len() == 1;
            self.add(if extended { Kind::COMBINED_TYPE_EXTENDED } else { Kind::COMBINED_TYPE_CHANGED }, path);
        }
        let all = co == Criterion::All && cu == Criterion::All;
        if po.len() < pu.len() {
            self.add(if all { Kind::PRODUCT_TYPE_EXTENDED } else { Kind::SUM_TYPE_EXTENDED }, path);
        } else if po.len() > pu.len() {
            self.add(if all { Kind::PRODUCT_TYPE_NARROWED } else { Kind::SUM_TYPE_NARROWED }, path);
        }
        // Pair branches: each original branch (any/one) must be read by an update branch;
        // with all-of, each update branch must cover an original one.
        let mut ok = vec![vec![false; pu.len()]; po.len()];
        for (i, p) in po.iter().enumerate() {
            for (j, q) in pu.iter().enumerate() {
                let (on, ot) = part_node(o, p);
                let (un, ut) = part_node(u, q);
                ok[i][j] = self.part_compatible(on, ot, un, ut, depth + 1);
            }
        }
        let matched = max_matching(&ok, po.len(), pu.len());
        if matched < po.len().min(pu.len()) {
            self.add(Kind::COMBINED_TYPE_SUBSCHEMAS_CHANGED, path);
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

    fn pattern(&mut self, path: &str, o: &Value, u: &Value) {
        match (o.get("pattern"), u.get("pattern")) {
            (None, Some(_)) => self.add(Kind::PATTERN_ADDED, path),
            (Some(_), None) => self.add(Kind::PATTERN_REMOVED, path),
            (Some(a), Some(b)) if a != b => self.add(Kind::PATTERN_CHANGED, path),
            _ => {}
        }
    }

    /// Lower and upper limits, each taken as (value, exclusive) whichever way it is
    /// written: `minimum` + boolean `exclusiveMinimum` (draft 4) or numeric `exclusiveMinimum`.
    fn numbers(&mut self, path: &str, o: &Value, u: &Value) {
        use Kind::*;
        for upper in [false, true] {
            let (a, b) = (limit(o, upper), limit(u, upper));
            let plain = if upper {
                [MAXIMUM_ADDED, MAXIMUM_REMOVED, MAXIMUM_INCREASED, MAXIMUM_DECREASED]
            } else {
                [MINIMUM_ADDED, MINIMUM_REMOVED, MINIMUM_INCREASED, MINIMUM_DECREASED]
            };
            let exclusive = if upper {
                [
                    EXCLUSIVE_MAXIMUM_ADDED,
                    EXCLUSIVE_MAXIMUM_REMOVED,
                    EXCLUSIVE_MAXIMUM_INCREASED,
                    EXCLUSIVE_MAXIMUM_DECREASED,
                ]
            } else {
                [
                    EXCLUSIVE_MINIMUM_ADDED,
                    EXCLUSIVE_MINIMUM_REMOVED,
                    EXCLUSIVE_MINIMUM_INCREASED,
                    EXCLUSIVE_MINIMUM_DECREASED,
                ]
            };
            let kinds = |ex: bool| if ex { exclusive } else { plain };
            let kind = match (a, b) {
                (None, None) => continue,
                (None, Some((_, ex))) => kinds(ex)[0],
                (Some((_, ex)), None) => kinds(ex)[1],
                (Some((x, ex)), Some((y, ey))) => {
                    if x == y && ex == ey {
                        continue;
                    }
                    // Relaxed: the limit moves outwards, or stays and stops being exclusive.
                    let outwards = if upper { y > x } else { y < x };
                    let relaxed = outwards || (x == y && ex && !ey);
                    let grew = if relaxed == upper { 2 } else { 3 };
                    kinds(ey)[grew]
                }
            };
            self.add(kind, path);
        }
        let (a, b) = (o.get("multipleOf").and_then(Value::as_f64), u.get("multipleOf").and_then(Value::as_f64));
        let kind = match (a, b) {
            (None, Some(_)) => Kind::MULTIPLE_OF_ADDED,
            (Some(_), None) => Kind::MULTIPLE_OF_REMOVED,
            (Some(x), Some(y)) if x != y => {
                if y != 0.0 && (x / y).fract() == 0.0 {
                    Kind::MULTIPLE_OF_REDUCED
                } else if x != 0.0 && (y / x).fract() == 0.0 {
                    Kind::MULTIPLE_OF_EXPANDED
                } else {
                    Kind::MULTIPLE_OF_CHANGED
                }
            }
            _ => return,
        };
        self.add(kind, path);
    }

    fn object(&mut self, path: &str, o: Node<'a>, u: Node<'a>, depth: usize) {
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
        let (oa, ua) = (Model::of(o.v, "additionalProperties", ""), Model::of(u.v, "additionalProperties", ""));
        self.additional(path, "additionalProperties", o, u, oa, ua, depth, ADDITIONAL_PROPERTIES);
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
                    if on.v == &Value::Bool(false) {
                        self.add(Kind::PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, &p);
                        continue;
                    }
                    let kind = match (um, covering(u, name)) {
                        (Model::Open, _) => Kind::PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL,
                        (_, None) => Kind::PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL,
                        (_, Some(cover)) => {
                            if self.compatible(on, cover, depth + 1) {
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
            // first; the addition to a model that is not open is recorded either way.
            if let Some(cover) = covering(o, name) {
                let kind = if self.compatible(cover, un, depth + 1) {
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

    #[allow(clippy::too_many_arguments)]
    fn additional(
        &mut self,
        path: &str,
        key: &str,
        o: Node<'a>,
        u: Node<'a>,
        om: Model,
        um: Model,
        depth: usize,
        kinds: [Kind; 4],
    ) {
        let [added, removed, extended, narrowed] = kinds;
        match (om, um) {
            (Model::Open, Model::Open) | (Model::Closed, Model::Closed) => {}
            (Model::Open, Model::Closed) => self.add(removed, path),
            (Model::Closed, Model::Open) => self.add(added, path),
            (Model::Open, Model::Partial) | (Model::Partial, Model::Closed) => self.add(narrowed, path),
            (Model::Partial, Model::Open) | (Model::Closed, Model::Partial) => self.add(extended, path),
            (Model::Partial, Model::Partial) => {
                if let (Some(a), Some(b)) = (child(o, key), child(u, key)) {
                    if a.v.is_object() && b.v.is_object() {
                        let p = format!("{path}/{key}");
                        self.compare(&p, a, b, depth + 1);
                    }
                }
            }
        }
    }

    fn array(&mut self, path: &str, o: Node<'a>, u: Node<'a>, depth: usize) {
        self.bound(path, o.v, u.v, "maxItems", true);
        self.bound(path, o.v, u.v, "minItems", false);
        let unique = |v: &Value| v.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false);
        match (unique(o.v), unique(u.v)) {
            (false, true) => self.add(Kind::UNIQUE_ITEMS_ADDED, path),
            (true, false) => self.add(Kind::UNIQUE_ITEMS_REMOVED, path),
            _ => {}
        }
        let (ot, ut) = (tuple(o.v), tuple(u.v));
        match (ot, ut) {
            (None, None) => {
                let (a, b) = (child(o, "items"), child(u, "items"));
                let a = a.unwrap_or(Node { v: &EMPTY, doc: o.doc });
                let b = b.unwrap_or(Node { v: &EMPTY, doc: u.doc });
                self.compare(&format!("{path}/items"), a, b, depth + 1);
            }
            (Some((oi, okey)), Some((ui, ukey))) => {
                let om = Model::of(o.v, okey, "");
                let um = Model::of(u.v, ukey, "");
                self.additional(path, okey, o, u, om, um, depth, ADDITIONAL_ITEMS);
                for i in 0..oi.len().max(ui.len()) {
                    let p = format!("{path}/items/{i}");
                    match (oi.get(i), ui.get(i)) {
                        (Some(a), Some(b)) => {
                            self.compare(&p, Node { v: a, doc: o.doc }, Node { v: b, doc: u.doc }, depth + 1)
                        }
                        (Some(a), None) => {
                            let kind = match um {
                                Model::Open => Kind::ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL,
                                Model::Closed => Kind::ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL,
                                Model::Partial => {
                                    let cover = child(u, ukey).unwrap_or(Node { v: &EMPTY, doc: u.doc });
                                    if self.compatible(Node { v: a, doc: o.doc }, cover, depth + 1) {
                                        Kind::ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                    } else {
                                        Kind::ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                    }
                                }
                            };
                            self.add(kind, &p);
                        }
                        (None, Some(b)) => {
                            let un = Node { v: b, doc: u.doc };
                            let kind = match om {
                                Model::Open => {
                                    if shape(self.update.resolve(un).v, None) == Shape::Any {
                                        Kind::ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                                    } else {
                                        Kind::ITEM_ADDED_TO_OPEN_CONTENT_MODEL
                                    }
                                }
                                Model::Closed => Kind::ITEM_ADDED_TO_CLOSED_CONTENT_MODEL,
                                Model::Partial => {
                                    let cover = child(o, okey).unwrap_or(Node { v: &EMPTY, doc: o.doc });
                                    if self.compatible(cover, un, depth + 1) {
                                        Kind::ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                    } else {
                                        Kind::ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                    }
                                }
                            };
                            self.add(kind, &p);
                        }
                        (None, None) => {}
                    }
                }
            }
            (Some(_), None) if u.v.get("items").is_none() => self.add(Kind::TYPE_EXTENDED, &format!("{path}/items")),
            (None, Some(_)) if o.v.get("items").is_none() => self.add(Kind::TYPE_NARROWED, &format!("{path}/items")),
            _ => self.add(Kind::TYPE_CHANGED, &format!("{path}/items")),
        }
    }
}

const ADDITIONAL_PROPERTIES: [Kind; 4] = [
    Kind::ADDITIONAL_PROPERTIES_ADDED,
    Kind::ADDITIONAL_PROPERTIES_REMOVED,
    Kind::ADDITIONAL_PROPERTIES_EXTENDED,
    Kind::ADDITIONAL_PROPERTIES_NARROWED,
];
const ADDITIONAL_ITEMS: [Kind; 4] = [
    Kind::ADDITIONAL_ITEMS_ADDED,
    Kind::ADDITIONAL_ITEMS_REMOVED,
    Kind::ADDITIONAL_ITEMS_EXTENDED,
    Kind::ADDITIONAL_ITEMS_NARROWED,
];

/// A numeric schema's lower (or upper) limit as (value, exclusive), the stricter one when
/// both `minimum` and a numeric `exclusiveMinimum` are given.
fn limit(v: &Value, upper: bool) -> Option<(f64, bool)> {
    let (inclusive, exclusive) = if upper { ("maximum", "exclusiveMaximum") } else { ("minimum", "exclusiveMinimum") };
    let plain = v.get(inclusive).and_then(Value::as_f64);
    match v.get(exclusive) {
        Some(Value::Bool(true)) => plain.map(|x| (x, true)),
        Some(e) => match (plain, e.as_f64()) {
            (Some(p), Some(x)) => {
                let stricter = if upper { x <= p } else { x >= p };
                Some(if stricter { (x, true) } else { (p, false) })
            }
            (None, Some(x)) => Some((x, true)),
            (p, None) => p.map(|x| (x, false)),
        },
        None => plain.map(|x| (x, false)),
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

/// A restriction of a combined branch: `Typed(v, "")` is `v` without its combiners,
/// `Typed(v, "anyOf")` is `v`'s any-of alone.
fn restrict<'a>(s: Shape<'a>, v: &'a Value, t: Option<&str>) -> Shape<'a> {
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

fn pair_key(o: Node, ot: Option<&str>, u: Node, ut: Option<&str>) -> PairKey {
    (o.v as *const Value as usize, u.v as *const Value as usize, ot.map(str::to_string), ut.map(str::to_string))
}

fn part_node<'a>(n: Node<'a>, p: &Part<'a>) -> (Node<'a>, Option<&'a str>) {
    match p {
        Part::Schema(v) => (Node { v, doc: n.doc }, None),
        Part::Typed(v, t) => (Node { v, doc: n.doc }, Some(t)),
    }
}

fn child<'a>(n: Node<'a>, key: &str) -> Option<Node<'a>> {
    n.v.get(key).map(|v| Node { v, doc: n.doc })
}

fn contains_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k == "$ref" || contains_ref(v)),
        Value::Array(a) => a.iter().any(contains_ref),
        _ => false,
    }
}

fn required(v: &Value) -> Vec<&str> {
    v.get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The tuple form of `items`: the positional schemas and the keyword holding the schema
/// for the positions after them.
fn tuple(v: &Value) -> Option<(&Vec<Value>, &'static str)> {
    if let Some(a) = v.get("prefixItems").and_then(Value::as_array) {
        return Some((a, "items"));
    }
    v.get("items").and_then(Value::as_array).map(|a| (a, "additionalItems"))
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
enum Model {
    Open,
    Closed,
    Partial,
}

impl Model {
    fn of(v: &Value, additional: &str, patterns: &str) -> Model {
        let has_patterns = v.get(patterns).and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        match v.get(additional) {
            Some(Value::Bool(false)) if !has_patterns => Model::Closed,
            Some(Value::Object(m)) if !m.is_empty() => Model::Partial,
            Some(Value::Bool(false)) => Model::Partial,
            _ if has_patterns => Model::Partial,
            _ => Model::Open,
        }
    }
}

/// Size of a maximum bipartite matching over `ok[i][j]` (Kuhn's algorithm).
fn max_matching(ok: &[Vec<bool>], n: usize, m: usize) -> usize {
    fn augment(i: usize, ok: &[Vec<bool>], seen: &mut [bool], owner: &mut [Option<usize>]) -> bool {
        for j in 0..owner.len() {
            if ok[i][j] && !seen[j] {
                seen[j] = true;
                if owner[j].is_none_or(|k| augment(k, ok, seen, owner)) {
                    owner[j] = Some(i);
                    return true;
                }
            }
        }
        false
    }
    let mut owner = vec![None; m];
    (0..n).filter(|&i| augment(i, ok, &mut vec![false; m], &mut owner)).count()
}

#[cfg(test)]
mod tests {
    use crate::schema::json::{JsonSchema, Kind};
    use crate::schema::ParseOptions;

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

    fn kinds(original: &str, update: &str) -> Vec<Kind> {
        let parse = |t: &str| JsonSchema::parse(t, &[], ParseOptions::default()).expect(t);
        parse(update).differences_from(&parse(original)).iter().map(|d| d.kind).collect()
    }

    /// Pattern properties never narrow the content model (only `additionalProperties` is
    /// compared as such); they decide whether an added or removed property is covered. A
    /// property no pattern covers, in a model with no `additionalProperties` schema, meets
    /// a closed model. An addition to a model that is not open also records whether it is
    /// optional or required, as Confluent does.
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
                &[PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL],
            ),
            (
                r#""properties":{"a":{}}"#,
                r#""patternProperties":{"^b":{}}"#,
                &[PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL],
            ),
            (
                r#""properties":{"a":{}}"#,
                r#""patternProperties":{"^b":{}},"additionalProperties":{"type":"string"}"#,
                &[ADDITIONAL_PROPERTIES_NARROWED, PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL],
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

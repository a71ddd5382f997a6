//! Avro-Java's `Schema.Parser`, rule for rule and message for message: Confluent returns the
//! Java parser's text as the `details:` of a 42201, so the order of checks matters as much as
//! the checks themselves.

use std::collections::{HashMap, HashSet};

use super::canonical;
use super::model::{Field, Graph, Name, Node, NodeId, Order, Type};
use crate::schema::json_text::{self as json, JId, JNode, JsonDoc};

const SCHEMA_RESERVED: &[&str] =
    &["doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases"];
const ENUM_RESERVED: &[&str] =
    &["doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases", "default"];
const FIELD_RESERVED: &[&str] = &["default", "doc", "name", "order", "type", "aliases"];

/// Deepest schema nesting accepted (a type inside a record field, array, map or union is one
/// level down). Parsing, printing and checking recurse once per level; this bound keeps all
/// of them inside 1 MiB of stack in debug builds (measured: ~7 KiB per nested record), half
/// of a 2 MiB worker stack.
pub const MAX_SCHEMA_DEPTH: usize = 128;

#[cold]
#[inline(never)]
fn too_deep() -> String {
    format!("Schema nesting depth exceeds the maximum allowed ({MAX_SCHEMA_DEPTH})")
}

/// Largest fixed size Avro-Java accepts (`SystemLimitException`'s array limit).
const MAX_FIXED_SIZE: i64 = i32::MAX as i64 - 8;

/// Parses schema texts into one graph, sharing named types the way one Java `Schema.Parser`
/// shares them across `parse` calls (references first, then the schema itself).
pub struct Parser {
    pub graph: Graph,
    names: HashMap<String, NodeId>,
    space: Option<String>,
    /// Fields with a default, in the order Java constructs them (inner records first);
    /// default validation walks this list so its first error is Java's first error.
    pub defaulted_fields: Vec<(NodeId, usize)>,
    /// Records whose field list is not complete yet (Java's "fields not set yet").
    pending: HashSet<NodeId>,
}

impl Parser {
    pub fn new() -> Parser {
        Parser {
            graph: Graph::default(),
            names: HashMap::new(),
            space: None,
            defaulted_fields: Vec::new(),
            pending: HashSet::new(),
        }
    }

    /// Parses one complete schema text.
    pub fn parse_text(&mut self, text: &str) -> Result<NodeId, String> {
        let (doc, root, rest) = json::parse(text)?;
        let id = self.parse(&doc, root, 0)?;
        // Java trims everything <= ' ' from the unread rest before complaining about it.
        let dangling = rest.trim_matches(|c: char| c <= ' ');
        if !dangling.is_empty() {
            return Err(format!("dangling content after end of schema: {dangling}"));
        }
        Ok(id)
    }

    fn parse(&mut self, doc: &JsonDoc, id: JId, depth: usize) -> Result<NodeId, String> {
        // Checked before recursing: every later pass (printing, checking) recurses as deep.
        if depth >= MAX_SCHEMA_DEPTH {
            return Err(too_deep());
        }
        match doc.node(id) {
            JNode::Str(s) => match self.lookup(s)? {
                Some(n) => Ok(n),
                None => Err(format!("Undefined name: {}", doc.to_json(id))),
            },
            JNode::Obj(_) => self.parse_object(doc, id, depth),
            JNode::Arr(items) => {
                let mut branches = Vec::with_capacity(items.len());
                for item in items {
                    branches.push(self.parse(doc, *item, depth + 1)?);
                }
                let mut union = Node::new(Type::Union);
                union.children = branches.clone();
                let uid = self.graph.add(union);
                let mut seen = HashSet::new();
                for b in branches {
                    let node = self.graph.node(b);
                    if node.ty == Type::Union {
                        return Err(format!("Nested union: {}", canonical::standalone(&self.graph, uid)));
                    }
                    let name = node.full_name();
                    if !seen.insert(name.clone()) {
                        return Err(format!("Duplicate in union:{name}"));
                    }
                }
                Ok(uid)
            }
            _ => Err(format!("Schema not yet supported: {}", doc.to_json(id))),
        }
    }

    /// Avro-Java `Names.get`: a primitive (a fresh node each time, as `Schema.create`), or a
    /// defined name resolved in the current namespace, then as written.
    fn lookup(&mut self, o: &str) -> Result<Option<NodeId>, String> {
        if let Some(t) = Type::primitive(o) {
            return Ok(Some(self.graph.add(Node::new(t))));
        }
        self.resolve(o)
    }

    fn resolve(&self, o: &str) -> Result<Option<NodeId>, String> {
        let name = make_name(o, self.space.as_deref())?;
        if let Some(n) = self.names.get(&name.full()) {
            return Ok(Some(*n));
        }
        let name = make_name(o, None)?;
        Ok(self.names.get(&name.full()).copied())
    }

    fn define(&mut self, name: &Name, id: NodeId) -> Result<(), String> {
        let full = name.full();
        if self.names.contains_key(&full) {
            return Err(format!("Can't redefine: {full}"));
        }
        self.names.insert(full, id);
        Ok(())
    }

    fn parse_object(&mut self, doc: &JsonDoc, id: JId, depth: usize) -> Result<NodeId, String> {
        let head = self.header(doc, id)?;
        let ty = head.ty.as_str();
        let result = if let Some(t) = Type::primitive(ty) {
            self.graph.add(Node::new(t))
        } else if ty == "record" || ty == "error" {
            self.parse_record(doc, id, &head, depth)?
        } else if ty == "array" || ty == "map" {
            self.parse_container(doc, id, ty == "array", depth)?
        } else if ty == "enum" {
            self.parse_enum(doc, id, &head)?
        } else if ty == "fixed" {
            self.parse_fixed(doc, id, &head)?
        } else {
            // A `{"type": "SomeName"}` reference to a defined type: returned as is, no props.
            return self.type_reference(ty);
        };
        self.finish(doc, id, result, head)?;
        Ok(result)
    }

    /// The `type`, and for named types the name (which sets the namespace for what follows).
    /// Kept out of the recursive path so the recursion's stack frames stay small.
    #[inline(never)]
    fn header(&mut self, doc: &JsonDoc, id: JId) -> Result<Header, String> {
        let Some(ty) = doc.get_text(id, "type") else {
            return Err(format!("No type: {}", doc.to_json(id)));
        };
        let saved_space = self.space.clone();
        let is_named = matches!(ty, "record" | "error" | "enum" | "fixed");
        let mut name = None;
        let mut schema_doc = None;
        if is_named {
            let space = match doc.get_text(id, "namespace") {
                Some(s) => Some(s.to_string()),
                None => self.space.clone(),
            };
            schema_doc = doc.get_text(id, "doc").map(str::to_string);
            let Some(raw) = doc.get_text(id, "name") else {
                return Err(format!("No name in schema: {}", doc.to_json(id)));
            };
            let n = make_name(raw, space.as_deref())?;
            self.space = n.space.clone();
            name = Some(n);
        }
        Ok(Header { ty: ty.to_string(), name, doc: schema_doc, saved_space })
    }

    #[inline(never)]
    fn type_reference(&self, ty: &str) -> Result<NodeId, String> {
        let n = make_name(ty, self.space.as_deref())?;
        match self.names.get(&n.full()) {
            Some(found) => Ok(*found),
            None => Err(format!("Type not supported: {ty}")),
        }
    }

    fn parse_record(&mut self, doc: &JsonDoc, id: JId, head: &Header, depth: usize) -> Result<NodeId, String> {
        let rid = self.start_record(doc, id, head)?;
        let fields = match doc.get(id, "fields").map(|f| doc.node(f)) {
            Some(JNode::Arr(items)) => items,
            _ => return Err(record_has_no_fields(doc, id)),
        };
        let mut parsed = Vec::with_capacity(fields.len());
        for (pos, f) in fields.iter().enumerate() {
            parsed.push(self.parse_field(doc, *f, pos, rid, depth)?);
        }
        self.end_record(rid, parsed)?;
        Ok(rid)
    }

    #[inline(never)]
    fn start_record(&mut self, _doc: &JsonDoc, _id: JId, head: &Header) -> Result<NodeId, String> {
        not_a_primitive(head)?;
        let mut node = Node::new(Type::Record);
        node.name = head.name.clone();
        node.doc = head.doc.clone();
        node.is_error = head.ty == "error";
        let rid = self.graph.add(node);
        if let Some(n) = &head.name {
            self.define(n, rid)?;
        }
        self.pending.insert(rid);
        Ok(rid)
    }

    /// Java's `setFields`: the later duplicate is reported first.
    #[inline(never)]
    fn end_record(&mut self, rid: NodeId, parsed: Vec<Field>) -> Result<(), String> {
        let mut by_name: HashMap<&str, &Field> = HashMap::new();
        for f in &parsed {
            if let Some(existing) = by_name.insert(&f.name, f) {
                let full = self.graph.node(rid).full_name();
                return Err(format!(
                    "Duplicate field {} in record {}: {} and {}.",
                    f.name,
                    full,
                    self.field_str(f),
                    self.field_str(existing)
                ));
            }
        }
        self.graph.nodes[rid].fields = parsed;
        self.pending.remove(&rid);
        Ok(())
    }

    fn parse_container(&mut self, doc: &JsonDoc, id: JId, array: bool, depth: usize) -> Result<NodeId, String> {
        let Some(child) = doc.get(id, if array { "items" } else { "values" }) else {
            return Err(container_without_child(doc, id, array));
        };
        let c = self.parse(doc, child, depth + 1)?;
        let mut node = Node::new(if array { Type::Array } else { Type::Map });
        node.children = vec![c];
        Ok(self.graph.add(node))
    }

    #[inline(never)]
    fn parse_enum(&mut self, doc: &JsonDoc, id: JId, head: &Header) -> Result<NodeId, String> {
        let symbols: Vec<Option<String>> = match doc.get(id, "symbols").map(|s| doc.node(s)) {
            Some(JNode::Arr(items)) => items.iter().map(|s| doc.text(*s).map(str::to_string)).collect(),
            _ => return Err(format!("Enum has no symbols: {}", doc.to_json(id))),
        };
        let default = doc.get_text(id, "default").map(str::to_string);
        not_a_primitive(head)?;
        let mut seen = HashSet::new();
        let mut checked = Vec::with_capacity(symbols.len());
        for s in symbols {
            let s = s.ok_or_else(|| "Null name".to_string())?;
            validate_name(&s)?;
            if !seen.insert(s.clone()) {
                return Err(format!("Duplicate enum symbol: {s}"));
            }
            checked.push(s);
        }
        if let Some(d) = &default {
            if !checked.contains(d) {
                return Err(format!("The Enum Default: {d} is not in the enum symbol set: [{}]", checked.join(", ")));
            }
        }
        let mut node = Node::new(Type::Enum);
        node.name = head.name.clone();
        node.doc = head.doc.clone();
        node.symbols = checked;
        node.enum_default = default;
        let eid = self.graph.add(node);
        if let Some(n) = &head.name {
            self.define(n, eid)?;
        }
        Ok(eid)
    }

    #[inline(never)]
    fn parse_fixed(&mut self, doc: &JsonDoc, id: JId, head: &Header) -> Result<NodeId, String> {
        // Jackson's `isInt()`: an integral node within the int range.
        let size = match doc.get(id, "size").map(|s| doc.node(s)) {
            Some(JNode::Int(n)) if i32::try_from(*n).is_ok() => *n,
            _ => return Err(format!("Invalid or no size: {}", doc.to_json(id))),
        };
        not_a_primitive(head)?;
        if size < 0 {
            return Err(format!("Malformed data. Length is negative: {size}"));
        }
        if size > MAX_FIXED_SIZE {
            return Err(format!("Bytes length {size} exceeds maximum allowed"));
        }
        let mut node = Node::new(Type::Fixed);
        node.name = head.name.clone();
        node.doc = head.doc.clone();
        node.size = size;
        let fid = self.graph.add(node);
        if let Some(n) = &head.name {
            self.define(n, fid)?;
        }
        Ok(fid)
    }

    /// Properties, the namespace restored, then aliases (in Java's order).
    #[inline(never)]
    fn finish(&mut self, doc: &JsonDoc, id: JId, result: NodeId, head: Header) -> Result<(), String> {
        let reserved = if head.ty == "enum" { ENUM_RESERVED } else { SCHEMA_RESERVED };
        if let JNode::Obj(members) = doc.node(id) {
            let mut props = Vec::new();
            for (k, v) in members {
                if !reserved.contains(&k.as_str()) {
                    props.push((k.clone(), self.graph.json.import(doc, *v)));
                }
            }
            self.graph.nodes[result].props = props;
        }
        self.space = head.saved_space;
        if let Some(n) = &head.name {
            if let Some(aliases) = parse_aliases(doc, id)? {
                let mut parsed: Vec<Name> = Vec::new();
                for a in aliases {
                    let alias = make_name(&a, n.space.as_deref())?;
                    if !parsed.contains(&alias) {
                        parsed.push(alias);
                    }
                }
                self.graph.nodes[result].aliases = parsed;
            }
        }
        Ok(())
    }

    fn parse_field(
        &mut self,
        doc: &JsonDoc,
        f: JId,
        pos: usize,
        record: NodeId,
        depth: usize,
    ) -> Result<Field, String> {
        let Some(name) = doc.get_text(f, "name").map(str::to_string) else {
            return Err(format!("No field name: {}", doc.to_json(f)));
        };
        let field_doc = doc.get_text(f, "doc").map(str::to_string);
        let Some(type_node) = doc.get(f, "type") else {
            return Err(format!("No field type: {}", doc.to_json(f)));
        };
        if let Some(t) = doc.text(type_node) {
            if Type::primitive(t).is_none() && self.resolve(t)?.is_none() {
                return Err(format!(
                    "{} is not a defined name. The type of the \"{name}\" field must be a defined name or a {{\"type\": ...}} expression.",
                    doc.to_json(type_node)
                ));
            }
        }
        let ty = self.parse(doc, type_node, depth + 1)?;
        let order = match doc.get(f, "order") {
            None => Order::Ascending,
            Some(o) => match doc.text(o).map(str::to_uppercase) {
                None => return Err("Cannot invoke \"String.toUpperCase(java.util.Locale)\" because the return value of \"com.fasterxml.jackson.databind.JsonNode.textValue()\" is null".to_string()),
                Some(u) if u == "ASCENDING" => Order::Ascending,
                Some(u) if u == "DESCENDING" => Order::Descending,
                Some(u) if u == "IGNORE" => Order::Ignore,
                Some(u) => return Err(format!("No enum constant org.apache.avro.Schema.Field.Order.{u}")),
            },
        };
        let mut default = doc.get(f, "default").map(|d| self.graph.json.import(doc, d));
        // Java turns a textual default of a float/double field into a double node.
        if let Some(d) = default {
            if matches!(self.graph.node(ty).ty, Type::Float | Type::Double) {
                if let JNode::Str(s) = self.graph.json.node(d) {
                    let v = java_double_value_of(s)?;
                    default = Some(self.graph.json.push(JNode::Double(v)));
                }
            }
        }
        validate_name(&name)?;
        let mut props = Vec::new();
        if let JNode::Obj(members) = doc.node(f) {
            for (k, v) in members {
                if !FIELD_RESERVED.contains(&k.as_str()) {
                    props.push((k.clone(), self.graph.json.import(doc, *v)));
                }
            }
        }
        let mut aliases: Vec<String> = Vec::new();
        for a in parse_aliases(doc, f)?.unwrap_or_default() {
            if !aliases.contains(&a) {
                aliases.push(a);
            }
        }
        if default.is_some() {
            self.defaulted_fields.push((record, pos));
        }
        Ok(Field { name, ty, doc: field_doc, default, order, aliases, props, pos })
    }

    /// Avro-Java `Field.toString()`.
    fn field_str(&self, f: &Field) -> String {
        format!("{} type:{} pos:{}", f.name, self.graph.node(f.ty).ty.upper(), f.pos)
    }

    /// `Schema.Parser.setValidateDefaults(true)`: each default must match its field's type
    /// (`Invalid default for field f: <value> not a <schema>`).
    pub fn validate_defaults(&self, fields: &[(NodeId, usize)]) -> Result<(), String> {
        for (rid, pos) in fields {
            let Some(field) = self.graph.node(*rid).fields.get(*pos) else { continue };
            let Some(d) = field.default else { continue };
            if !self.valid_default(field.ty, Some(d), 0)? {
                return Err(format!(
                    "Invalid default for field {}: {} not a {}",
                    field.name,
                    self.graph.json.to_json(d),
                    canonical::standalone(&self.graph, field.ty)
                ));
            }
        }
        Ok(())
    }

    /// Avro-Java `Schema.isValidDefault` (a union's default must match its first branch).
    fn valid_default(&self, ty: NodeId, value: Option<JId>, depth: usize) -> Result<bool, String> {
        if depth > 2 * MAX_SCHEMA_DEPTH {
            return Err(too_deep());
        }
        let Some(v) = value else { return Ok(false) };
        let json = &self.graph.json;
        let node = self.graph.node(ty);
        let jv = json.node(v);
        Ok(match node.ty {
            Type::String | Type::Bytes | Type::Enum | Type::Fixed => matches!(jv, JNode::Str(_)),
            Type::Int => matches!(jv, JNode::Int(n) if i32::try_from(*n).is_ok()),
            Type::Long => matches!(jv, JNode::Int(_)),
            Type::Float | Type::Double => matches!(jv, JNode::Int(_) | JNode::BigInt(_) | JNode::Double(_)),
            Type::Boolean => matches!(jv, JNode::Bool(_)),
            Type::Null => matches!(jv, JNode::Null),
            Type::Array => match jv {
                JNode::Arr(items) => {
                    for i in items {
                        if !self.valid_default(node.children[0], Some(*i), depth + 1)? {
                            return Ok(false);
                        }
                    }
                    true
                }
                _ => false,
            },
            Type::Map => match jv {
                JNode::Obj(members) => {
                    for (_, i) in members {
                        if !self.valid_default(node.children[0], Some(*i), depth + 1)? {
                            return Ok(false);
                        }
                    }
                    true
                }
                _ => false,
            },
            Type::Union => match node.children.first() {
                Some(first) => self.valid_default(*first, Some(v), depth + 1)?,
                None => false,
            },
            Type::Record => {
                if self.pending.contains(&ty) {
                    return Err("Schema fields not set yet".to_string());
                }
                if !matches!(jv, JNode::Obj(_)) {
                    return Ok(false);
                }
                for f in &node.fields {
                    let sub = json.get(v, &f.name).or(f.default);
                    if !self.valid_default(f.ty, sub, depth + 1)? {
                        return Ok(false);
                    }
                }
                true
            }
        })
    }
}

/// What the start of a schema object says, carried to the steps that follow.
struct Header {
    ty: String,
    name: Option<Name>,
    doc: Option<String>,
    saved_space: Option<String>,
}

/// Avro-Java's `NamedSchema` constructor check.
fn not_a_primitive(head: &Header) -> Result<(), String> {
    match &head.name {
        Some(n) if n.space.is_none() && Type::primitive(&n.name).is_some() => {
            Err(format!("Schemas may not be named after primitives: {}", n.name))
        }
        _ => Ok(()),
    }
}

#[cold]
#[inline(never)]
fn record_has_no_fields(doc: &JsonDoc, id: JId) -> String {
    format!("Record has no fields: {}", doc.to_json(id))
}

#[cold]
#[inline(never)]
fn container_without_child(doc: &JsonDoc, id: JId, array: bool) -> String {
    let what = if array { "Array has no items type" } else { "Map has no values type" };
    format!("{what}: {}", doc.to_json(id))
}

/// Avro-Java `new Name(name, space)`: a dotted name carries its own namespace; only the
/// simple name is validated (namespaces are not, as in Avro 1.11).
pub fn make_name(name: &str, space: Option<&str>) -> Result<Name, String> {
    let (space, simple) = match name.rfind('.') {
        Some(dot) => (Some(&name[..dot]), &name[dot + 1..]),
        None => (space, name),
    };
    validate_name(simple)?;
    Ok(Name { name: simple.to_string(), space: space.filter(|s| !s.is_empty()).map(str::to_string) })
}

/// Avro-Java `Schema.validateName`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else { return Err("Empty name".to_string()) };
    if !(first.is_alphabetic() || first == '_') {
        return Err(format!("Illegal initial character: {name}"));
    }
    if chars.any(|c| !(c.is_alphanumeric() || c == '_')) {
        return Err(format!("Illegal character in: {name}"));
    }
    Ok(())
}

/// Avro-Java `parseAliases`.
fn parse_aliases(doc: &JsonDoc, id: JId) -> Result<Option<Vec<String>>, String> {
    let Some(a) = doc.get(id, "aliases") else { return Ok(None) };
    let JNode::Arr(items) = doc.node(a) else {
        return Err(format!("aliases not an array: {}", doc.to_json(id)));
    };
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        match doc.text(*i) {
            Some(s) => out.push(s.to_string()),
            None => return Err(format!("alias not a string: {}", doc.to_json(*i))),
        }
    }
    Ok(Some(out))
}

/// Java `Double.valueOf(String)` for the spellings it accepts (surrounding whitespace,
/// `NaN`, `Infinity`, a trailing `d`/`f`); anything else fails with Java's message.
fn java_double_value_of(s: &str) -> Result<f64, String> {
    let t = s.trim_matches(|c: char| c <= ' ');
    if t.is_empty() {
        return Err("empty String".to_string());
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'-' => (-1.0, &t[1..]),
        b'+' => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    match body {
        "NaN" => return Ok(f64::NAN),
        "Infinity" => return Ok(sign * f64::INFINITY),
        _ => {}
    }
    let core = body.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(body);
    let plain = !core.is_empty()
        && core.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && core.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '.');
    match core.parse::<f64>() {
        Ok(v) if plain => Ok(sign * v),
        _ => Err(format!("For input string: \"{s}\"")),
    }
}

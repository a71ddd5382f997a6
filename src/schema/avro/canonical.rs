//! Confluent's stored text for an Avro schema: Avro-Java `Schema.toString()` (key order,
//! namespace elision, named types printed once), and the `normalize=true` variant, which
//! Confluent produces by writing a normalized form and parsing and printing it again.

use std::collections::HashMap;

use super::model::{Graph, Name, NodeId, Order, Type};
use crate::schema::json_text::{self as json, JId, JNode};

/// `Schema.toString()` of one node on its own (used inside parser messages).
pub fn standalone(g: &Graph, id: NodeId) -> String {
    to_string(g, id, &[])
}

/// `Schema.toString(referencedSchemas, false)`: named types in `known` are printed by name.
pub fn to_string(g: &Graph, id: NodeId, known: &[NodeId]) -> String {
    let mut w = Writer { g, known: HashMap::new(), space: None, out: String::new() };
    for k in known {
        if let Some(n) = &g.node(*k).name {
            w.known.insert(n.full(), *k);
        }
    }
    w.schema(id);
    w.out
}

struct Writer<'a> {
    g: &'a Graph,
    known: HashMap<String, NodeId>,
    space: Option<String>,
    out: String,
}

impl Writer<'_> {
    fn key(&mut self, k: &str) {
        json::write_str(k, &mut self.out);
        self.out.push(':');
    }

    fn str_field(&mut self, k: &str, v: &str) {
        self.key(k);
        json::write_str(v, &mut self.out);
        self.out.push(',');
    }

    /// Java's `writeNameRef`: a named type seen before is written as its (qualified) name.
    fn name_ref(&mut self, id: NodeId, name: &Name) -> bool {
        let full = name.full();
        if self.known.get(&full) == Some(&id) {
            let q = name.qualified(self.space.as_deref());
            json::write_str(&q, &mut self.out);
            return true;
        }
        self.known.insert(full, id);
        false
    }

    fn write_name(&mut self, name: &Name) {
        self.str_field("name", &name.name);
        match &name.space {
            Some(s) if Some(s) != self.space.as_ref() => {
                let s = s.clone();
                self.str_field("namespace", &s);
            }
            None if self.space.is_some() => self.str_field("namespace", ""),
            _ => {}
        }
    }

    fn props(&mut self, props: &[(String, JId)]) {
        for (k, v) in props {
            self.key(k);
            self.g.json.write(*v, &mut self.out);
            self.out.push(',');
        }
    }

    fn aliases(&mut self, aliases: &[Name], own_space: Option<&str>) {
        if aliases.is_empty() {
            return;
        }
        self.key("aliases");
        self.out.push('[');
        for (i, a) in aliases.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            json::write_str(&a.qualified(own_space), &mut self.out);
        }
        self.out.push_str("],");
    }

    /// Replaces the trailing comma of an object body with its closing brace.
    fn close(&mut self) {
        if self.out.ends_with(',') {
            self.out.pop();
        }
        self.out.push('}');
    }

    fn schema(&mut self, id: NodeId) {
        let g = self.g;
        let n = g.node(id);
        match n.ty {
            Type::Record | Type::Enum | Type::Fixed => {
                let Some(name) = &n.name else { return };
                if self.name_ref(id, name) {
                    return;
                }
                let saved = self.space.clone();
                self.out.push('{');
                let tag = match n.ty {
                    Type::Record if n.is_error => "error",
                    t => t.name(),
                };
                self.str_field("type", tag);
                self.write_name(name);
                if n.ty == Type::Record {
                    self.space = name.space.clone();
                }
                if let Some(d) = &n.doc {
                    self.str_field("doc", d);
                }
                match n.ty {
                    Type::Record => {
                        self.key("fields");
                        self.out.push('[');
                        for (i, f) in n.fields.iter().enumerate() {
                            if i > 0 {
                                self.out.push(',');
                            }
                            self.out.push('{');
                            self.str_field("name", &f.name);
                            self.key("type");
                            self.schema(f.ty);
                            self.out.push(',');
                            if let Some(d) = &f.doc {
                                self.str_field("doc", d);
                            }
                            if let Some(d) = f.default {
                                self.key("default");
                                g.json.write(d, &mut self.out);
                                self.out.push(',');
                            }
                            match f.order {
                                Order::Ascending => {}
                                Order::Descending => self.str_field("order", "descending"),
                                Order::Ignore => self.str_field("order", "ignore"),
                            }
                            if !f.aliases.is_empty() {
                                self.key("aliases");
                                self.out.push('[');
                                for (j, a) in f.aliases.iter().enumerate() {
                                    if j > 0 {
                                        self.out.push(',');
                                    }
                                    json::write_str(a, &mut self.out);
                                }
                                self.out.push_str("],");
                            }
                            self.props(&f.props);
                            self.close();
                        }
                        self.out.push_str("],");
                    }
                    Type::Enum => {
                        self.key("symbols");
                        self.out.push('[');
                        for (i, s) in n.symbols.iter().enumerate() {
                            if i > 0 {
                                self.out.push(',');
                            }
                            json::write_str(s, &mut self.out);
                        }
                        self.out.push_str("],");
                        if let Some(d) = &n.enum_default {
                            self.str_field("default", d);
                        }
                    }
                    _ => {
                        self.key("size");
                        self.out.push_str(&n.size.to_string());
                        self.out.push(',');
                    }
                }
                self.props(&n.props);
                self.aliases(&n.aliases, name.space.as_deref());
                self.close();
                self.space = saved;
            }
            Type::Array | Type::Map => {
                self.out.push('{');
                self.str_field("type", n.ty.name());
                self.key(if n.ty == Type::Array { "items" } else { "values" });
                if let Some(c) = n.children.first() {
                    self.schema(*c);
                }
                self.out.push(',');
                self.props(&n.props);
                self.close();
            }
            Type::Union => {
                self.out.push('[');
                for (i, c) in n.children.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.schema(*c);
                }
                self.out.push(']');
            }
            _ => {
                if n.props.is_empty() {
                    json::write_str(n.ty.name(), &mut self.out);
                } else {
                    self.out.push('{');
                    self.str_field("type", n.ty.name());
                    self.props(&n.props);
                    self.close();
                }
            }
        }
    }
}

/// Applies what Confluent's normalization changes once its output is parsed again: logical
/// type attributes first and other properties sorted, aliases sorted, and defaults re-encoded
/// through Avro's Java objects (`1` for a double becomes `1.0`). `nodes` are the schema's own
/// nodes (not those of its references).
pub fn normalize(g: &mut Graph, nodes: std::ops::Range<NodeId>) -> Result<(), String> {
    for id in nodes {
        let props = std::mem::take(&mut g.nodes[id].props);
        g.nodes[id].props = order_props(g, id, props);
        g.nodes[id].aliases.sort_by_key(|a| a.full());
        for fi in 0..g.nodes[id].fields.len() {
            let (ty, default) = {
                let f = &mut g.nodes[id].fields[fi];
                f.aliases.sort();
                f.props.sort_by(|a, b| a.0.cmp(&b.0));
                (f.ty, f.default)
            };
            if let Some(d) = default {
                let obj = to_object(g, Some(ty), d)?;
                let new = match obj {
                    None => None,
                    Some(o) => Some(from_object(g, o)?),
                };
                g.nodes[id].fields[fi].default = new;
            }
        }
    }
    Ok(())
}

/// Logical-type attributes first (decimal `scale` dropped when 0), then the rest sorted;
/// an invalid logical type is just another property.
fn order_props(g: &Graph, id: NodeId, mut props: Vec<(String, JId)>) -> Vec<(String, JId)> {
    let get = |props: &[(String, JId)], k: &str| props.iter().find(|(pk, _)| pk == k).map(|(_, v)| *v);
    let logical = get(&props, "logicalType").and_then(|v| g.json.text(v).map(str::to_string));
    let mut head = Vec::new();
    if let Some(lt) = logical.filter(|lt| valid_logical(g, id, lt, &props)) {
        let take = |props: &mut Vec<(String, JId)>, k: &str| -> Option<(String, JId)> {
            let i = props.iter().position(|(pk, _)| pk == k)?;
            Some(props.remove(i))
        };
        head.extend(take(&mut props, "logicalType"));
        if lt == "decimal" {
            head.extend(take(&mut props, "precision"));
            if let Some(s) = take(&mut props, "scale") {
                if g.json.node(s.1) != &JNode::Int(0) {
                    head.push(s);
                }
            }
        }
    }
    props.sort_by(|a, b| a.0.cmp(&b.0));
    head.extend(props);
    head
}

/// Whether Avro-Java would attach this logical type (`LogicalTypes.fromSchemaIgnoreInvalid`).
fn valid_logical(g: &Graph, id: NodeId, lt: &str, props: &[(String, JId)]) -> bool {
    let n = g.node(id);
    let int_prop = |k: &str| {
        props.iter().find(|(pk, _)| pk == k).map(|(_, v)| match g.json.node(*v) {
            JNode::Int(i) => Some(*i),
            _ => None,
        })
    };
    match lt {
        "decimal" => {
            let Some(Some(precision)) = int_prop("precision") else { return false };
            let scale = match int_prop("scale") {
                None => 0,
                Some(Some(s)) => s,
                Some(None) => return false,
            };
            let fits = match n.ty {
                Type::Bytes => true,
                Type::Fixed => {
                    let max = ((8.0 * n.size as f64 - 1.0) * 2f64.log10()).floor() as i64;
                    precision <= max
                }
                _ => false,
            };
            precision > 0 && scale >= 0 && scale <= precision && fits
        }
        "date" | "time-millis" => n.ty == Type::Int,
        "time-micros"
        | "timestamp-millis"
        | "timestamp-micros"
        | "timestamp-nanos"
        | "local-timestamp-millis"
        | "local-timestamp-micros"
        | "local-timestamp-nanos" => n.ty == Type::Long,
        "uuid" => n.ty == Type::String || (n.ty == Type::Fixed && n.size == 16),
        "duration" => n.ty == Type::Fixed && n.size == 12,
        _ => false,
    }
}

/// The Java object Avro's `JacksonUtils.toObject` makes of a default.
enum Obj {
    Null,
    Bool(bool),
    Long(i64),
    Float(f32),
    Double(f64),
    Str(String),
    List(Vec<Option<Obj>>),
    Map(Vec<(String, Option<Obj>)>),
}

fn to_object(g: &Graph, ty: Option<NodeId>, v: JId) -> Result<Option<Obj>, String> {
    let mut ty = ty;
    // A union default is read with the first branch.
    while let Some(t) = ty {
        let n = g.node(t);
        if n.ty != Type::Union {
            break;
        }
        ty = n.children.first().copied();
    }
    let t = ty.map(|t| g.node(t).ty);
    Ok(match g.json.node(v) {
        JNode::Null => Some(Obj::Null),
        JNode::Bool(b) => Some(Obj::Bool(*b)),
        JNode::Int(i) => match t {
            None | Some(Type::Int) | Some(Type::Long) => Some(Obj::Long(*i)),
            Some(Type::Float) => Some(Obj::Float(*i as f64 as f32)),
            Some(Type::Double) => Some(Obj::Double(*i as f64)),
            _ => None,
        },
        JNode::Double(d) => match t {
            None | Some(Type::Double) => Some(Obj::Double(*d)),
            Some(Type::Float) => Some(Obj::Float(*d as f32)),
            _ => None,
        },
        JNode::BigInt(_) => None,
        JNode::Str(s) => match t {
            None | Some(Type::String) | Some(Type::Enum) => Some(Obj::Str(s.clone())),
            // Bytes go through ISO-8859-1 and back: characters above U+00FF become '?'.
            Some(Type::Bytes) | Some(Type::Fixed) => {
                Some(Obj::Str(s.chars().map(|c| if (c as u32) > 0xFF { '?' } else { c }).collect()))
            }
            _ => None,
        },
        JNode::Arr(items) => {
            let elem = match ty {
                None => None,
                Some(t) if g.node(t).ty == Type::Array => g.node(t).children.first().copied(),
                Some(t) => return Err(format!("Not an array: {}", standalone(g, t))),
            };
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(to_object(g, elem, *i)?);
            }
            Some(Obj::List(out))
        }
        JNode::Obj(members) => {
            let mut out = Vec::with_capacity(members.len());
            for (k, i) in members {
                let sub = match ty.map(|t| g.node(t)) {
                    Some(n) if n.ty == Type::Map => n.children.first().copied(),
                    Some(n) if n.ty == Type::Record => match n.fields.iter().find(|f| &f.name == k) {
                        Some(f) => Some(f.ty),
                        None => return Err("Cannot invoke \"org.apache.avro.Schema$Field.schema()\" because the return value of \"org.apache.avro.Schema.getField(String)\" is null".to_string()),
                    },
                    _ => None,
                };
                out.push((k.clone(), to_object(g, sub, *i)?));
            }
            Some(Obj::Map(out))
        }
    })
}

/// `JacksonUtils.toJsonNode` of that object, as the re-parsed normalized text holds it.
fn from_object(g: &mut Graph, o: Obj) -> Result<JId, String> {
    const NPE: &str = "Cannot invoke \"Object.getClass()\" because \"datum\" is null";
    let node = match o {
        Obj::Null => JNode::Null,
        Obj::Bool(b) => JNode::Bool(b),
        Obj::Long(i) => JNode::Int(i),
        Obj::Float(f) => {
            let mut s = String::new();
            json::write_float(f, &mut s);
            match s.trim_matches('"').parse::<f64>() {
                Ok(d) => JNode::Double(d),
                Err(_) => JNode::Double(f as f64),
            }
        }
        Obj::Double(d) => JNode::Double(d),
        Obj::Str(s) => JNode::Str(s),
        Obj::List(items) => {
            let mut ids = Vec::with_capacity(items.len());
            for i in items {
                ids.push(from_object(g, i.ok_or(NPE)?)?);
            }
            JNode::Arr(ids)
        }
        Obj::Map(members) => {
            let mut ids = Vec::with_capacity(members.len());
            for (k, i) in members {
                ids.push((k, from_object(g, i.ok_or(NPE)?)?));
            }
            JNode::Obj(ids)
        }
    };
    Ok(g.json.push(node))
}

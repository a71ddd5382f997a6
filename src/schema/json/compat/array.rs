//! Array keywords: `items` as one schema or as a tuple (`prefixItems`, `additionalItems`),
//! `uniqueItems` and the length limits.

use serde_json::Value;

use super::object::{Model, ADDITIONAL_ITEMS};
use super::reference::{Node, EMPTY};
use super::shape::{shape, Shape};
use super::{child, Diff, Kind};

impl<'a> Diff<'a> {
    pub(super) fn array(&mut self, path: &str, o: Node<'a>, u: Node<'a>, depth: usize) {
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
                self.additional(path, (okey, ukey), o, u, depth, ADDITIONAL_ITEMS);
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
                                    if self.covered(&p, Node { v: a, doc: o.doc }, cover, depth) {
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
                                    if self.covered(&p, cover, un, depth) {
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

/// The tuple form of `items`: the positional schemas and the keyword holding the schema
/// for the positions after them.
fn tuple(v: &Value) -> Option<(&Vec<Value>, &'static str)> {
    if let Some(a) = v.get("prefixItems").and_then(Value::as_array) {
        return Some((a, "items"));
    }
    v.get("items").and_then(Value::as_array).map(|a| (a, "additionalItems"))
}

//! Avro-Java's `SchemaCompatibility` checker, which Confluent wraps for Avro: memoised
//! recursion over (reader, writer) node pairs where a pair in progress counts as compatible,
//! every incompatibility collected with its JSON-pointer location.

use std::collections::HashMap;

use super::canonical;
use super::model::{Field, Graph, NodeId, Type};

/// Avro-Java `SchemaIncompatibilityType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncompatibilityKind {
    NameMismatch,
    FixedSizeMismatch,
    MissingEnumSymbols,
    ReaderFieldMissingDefaultValue,
    TypeMismatch,
    MissingUnionBranch,
}

impl IncompatibilityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncompatibilityKind::NameMismatch => "NAME_MISMATCH",
            IncompatibilityKind::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            IncompatibilityKind::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            IncompatibilityKind::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            IncompatibilityKind::TypeMismatch => "TYPE_MISMATCH",
            IncompatibilityKind::MissingUnionBranch => "MISSING_UNION_BRANCH",
        }
    }
}

/// One finding of the checker: its type, JSON-pointer location and Avro's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    pub kind: IncompatibilityKind,
    pub location: String,
    pub message: String,
}

impl Incompatibility {
    /// Confluent's verbose text; `reader`/`writer` are the role names ("new"/"old").
    pub fn confluent_message(&self, reader: &str, writer: &str) -> String {
        let path = &self.location;
        let description = match self.kind {
            IncompatibilityKind::FixedSizeMismatch => format!(
                "The size of FIXED type field at path '{path}' in the {reader} schema does not match with the {writer} schema"
            ),
            IncompatibilityKind::TypeMismatch => {
                format!("The type (path '{path}') of a field in the {reader} schema does not match with the {writer} schema")
            }
            IncompatibilityKind::NameMismatch => format!("The name of the schema has changed (path '{path}')"),
            IncompatibilityKind::MissingEnumSymbols => format!(
                "The {reader} schema is missing enum symbols '{}' at path '{path}' in the {writer} schema",
                self.message
            ),
            IncompatibilityKind::MissingUnionBranch => format!(
                "The {reader} schema is missing a type inside a union field at path '{path}' in the {writer} schema"
            ),
            IncompatibilityKind::ReaderFieldMissingDefaultValue => format!(
                "The field '{}' at path '{path}' in the {reader} schema has no default value and is missing in the {writer} schema",
                self.message
            ),
        };
        format!(
            "{{errorType:'{}', description:'{description}', additionalInfo:'{}'}}",
            self.kind.as_str(),
            self.message
        )
    }
}

enum Memo {
    InProgress,
    Done(Vec<Incompatibility>),
}

/// Runs the check. `Err` is the exception Avro-Java throws when a reader field matches
/// several writer fields (name plus aliases).
pub fn check(r: &Graph, rroot: NodeId, w: &Graph, wroot: NodeId) -> Result<Vec<Incompatibility>, String> {
    let mut c = Checker { r, w, memo: HashMap::new(), path: Vec::new() };
    c.compat(rroot, wroot)
}

struct Checker<'a> {
    r: &'a Graph,
    w: &'a Graph,
    memo: HashMap<(NodeId, NodeId), Memo>,
    path: Vec<String>,
}

impl Checker<'_> {
    fn location(&self) -> String {
        if self.path.is_empty() {
            return "/".to_string();
        }
        let mut s = String::new();
        for t in &self.path {
            s.push('/');
            s.push_str(t);
        }
        s
    }

    fn found(&self, kind: IncompatibilityKind, message: String) -> Incompatibility {
        Incompatibility { kind, location: self.location(), message }
    }

    fn compat_at(&mut self, token: &str, r: NodeId, w: NodeId) -> Result<Vec<Incompatibility>, String> {
        self.path.push(token.to_string());
        let res = self.compat(r, w);
        self.path.pop();
        res
    }

    /// `getCompatibility`: memoised by node identity; a pair still being computed is compatible.
    fn compat(&mut self, r: NodeId, w: NodeId) -> Result<Vec<Incompatibility>, String> {
        match self.memo.get(&(r, w)) {
            Some(Memo::InProgress) => return Ok(Vec::new()),
            Some(Memo::Done(found)) => return Ok(found.clone()),
            None => {}
        }
        self.memo.insert((r, w), Memo::InProgress);
        let found = self.calculate(r, w)?;
        self.memo.insert((r, w), Memo::Done(found.clone()));
        Ok(found)
    }

    fn calculate(&mut self, r: NodeId, w: NodeId) -> Result<Vec<Incompatibility>, String> {
        let (rn, wn) = (self.r.node(r), self.w.node(w));
        let mut out = Vec::new();
        if rn.ty == wn.ty {
            match rn.ty {
                Type::Array => return self.compat_at("items", rn.children[0], wn.children[0]),
                Type::Map => return self.compat_at("values", rn.children[0], wn.children[0]),
                Type::Fixed => {
                    out.extend(self.names(r, w));
                    if rn.size != wn.size {
                        self.path.push("size".to_string());
                        let msg = format!("expected: {}, found: {}", wn.size, rn.size);
                        out.push(self.found(IncompatibilityKind::FixedSizeMismatch, msg));
                        self.path.pop();
                    }
                }
                Type::Enum => {
                    out.extend(self.names(r, w));
                    self.path.push("symbols".to_string());
                    let mut missing: Vec<&String> = wn.symbols.iter().filter(|s| !rn.symbols.contains(s)).collect();
                    missing.sort();
                    missing.dedup();
                    let reader_default_ok = rn.enum_default.as_ref().is_some_and(|d| rn.symbols.contains(d));
                    if !missing.is_empty() && !reader_default_ok {
                        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                        let msg = format!("[{}]", list.join(", "));
                        out.push(self.found(IncompatibilityKind::MissingEnumSymbols, msg));
                    }
                    self.path.pop();
                }
                Type::Record => {
                    out.extend(self.names(r, w));
                    out.extend(self.record_fields(r, w)?);
                }
                Type::Union => {
                    for (i, wb) in wn.children.iter().enumerate() {
                        self.path.push(i.to_string());
                        if !self.compat(r, *wb)?.is_empty() {
                            let msg = format!("reader union lacking writer type: {}", self.w.node(*wb).ty.upper());
                            out.push(self.found(IncompatibilityKind::MissingUnionBranch, msg));
                        }
                        self.path.pop();
                    }
                }
                _ => {}
            }
            return Ok(out);
        }
        if wn.ty == Type::Union {
            // Every writer branch must be readable.
            for (i, wb) in wn.children.iter().enumerate() {
                out.extend(self.compat_at(&i.to_string(), r, *wb)?);
            }
            return Ok(out);
        }
        let promotable = matches!(
            (rn.ty, wn.ty),
            (Type::Long, Type::Int)
                | (Type::Float, Type::Int | Type::Long)
                | (Type::Double, Type::Int | Type::Long | Type::Float)
                | (Type::Bytes, Type::String)
                | (Type::String, Type::Bytes)
        );
        if promotable {
            return Ok(out);
        }
        if rn.ty == Type::Union {
            for rb in &rn.children {
                if self.compat(*rb, w)?.is_empty() {
                    return Ok(out);
                }
            }
            let msg = format!("reader union lacking writer type: {}", wn.ty.upper());
            out.push(self.found(IncompatibilityKind::MissingUnionBranch, msg));
            return Ok(out);
        }
        let msg = format!("reader type: {} not compatible with writer type: {}", rn.ty.upper(), wn.ty.upper());
        out.push(self.found(IncompatibilityKind::TypeMismatch, msg));
        Ok(out)
    }

    /// Unqualified names equal, or a reader alias names the writer's full name.
    fn names(&mut self, r: NodeId, w: NodeId) -> Option<Incompatibility> {
        let (rn, wn) = (self.r.node(r), self.w.node(w));
        let rname = rn.name.as_ref().map(|n| n.name.as_str());
        let wname = wn.name.as_ref().map(|n| n.name.as_str());
        let wfull = wn.full_name();
        if rname == wname || rn.aliases.iter().any(|a| a.full() == wfull) {
            return None;
        }
        self.path.push("name".to_string());
        let res = self.found(IncompatibilityKind::NameMismatch, format!("expected: {wfull}"));
        self.path.pop();
        Some(res)
    }

    fn record_fields(&mut self, r: NodeId, w: NodeId) -> Result<Vec<Incompatibility>, String> {
        let (rg, wg) = (self.r, self.w);
        let rn = rg.node(r);
        let mut out = Vec::new();
        self.path.push("fields".to_string());
        for rf in &rn.fields {
            self.path.push(rf.pos.to_string());
            match lookup_writer_field(rg, rf, wg, w)? {
                Some(wf) => out.extend(self.compat_at("type", rf.ty, wf.ty)?),
                None if rf.default.is_some() => {}
                None => {
                    let ft = rg.node(rf.ty);
                    if ft.ty == Type::Enum && ft.enum_default.is_some() {
                        // Avro-Java's quirk: the enum is checked against the writer record itself.
                        out.extend(self.compat_at("type", rf.ty, w)?);
                    } else {
                        out.push(self.found(IncompatibilityKind::ReaderFieldMissingDefaultValue, rf.name.clone()));
                    }
                }
            }
            self.path.pop();
        }
        self.path.pop();
        Ok(out)
    }
}

/// Writer fields matching the reader field's name or one of its aliases; more than one is
/// an error in Avro-Java.
fn lookup_writer_field<'g>(rg: &Graph, rf: &Field, wg: &'g Graph, w: NodeId) -> Result<Option<&'g Field>, String> {
    let wfields = &wg.node(w).fields;
    let mut hits: Vec<&Field> = Vec::new();
    if let Some(f) = wfields.iter().find(|f| f.name == rf.name) {
        hits.push(f);
    }
    for a in &rf.aliases {
        if let Some(f) = wfields.iter().find(|f| &f.name == a) {
            hits.push(f);
        }
    }
    match hits.len() {
        0 => Ok(None),
        1 => Ok(Some(hits[0])),
        _ => Err(format!(
            "Reader record field {} type:{} pos:{} matches multiple fields in writer record schema {}",
            rf.name,
            rg.node(rf.ty).ty.upper(),
            rf.pos,
            canonical::standalone(wg, w)
        )),
    }
}

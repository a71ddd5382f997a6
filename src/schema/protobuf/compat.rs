//! Confluent's Protobuf compatibility: a structural diff from the original schema to the
//! update (`protobuf-provider` `diff` package) listing typed differences with a path; a
//! check fails when any difference is of an incompatible type. Runs on linked descriptors
//! so that type references compare by resolved name whatever their spelling.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use prost_reflect::{Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, Syntax};

use super::ProtobufSchema;

/// Confluent's `Difference.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DifferenceKind {
    PackageChanged,
    MessageAdded,
    MessageRemoved,
    MessageMoved,
    EnumAdded,
    EnumRemoved,
    EnumConstAdded,
    EnumConstRemoved,
    EnumConstChanged,
    FieldAdded,
    FieldRemoved,
    RequiredFieldAdded,
    RequiredFieldRemoved,
    FieldNameChanged,
    FieldKindChanged,
    FieldScalarKindChanged,
    FieldNamedTypeChanged,
    FieldNumericLabelChanged,
    FieldStringOrBytesLabelChanged,
    OneofAdded,
    OneofRemoved,
    OneofFieldAdded,
    OneofFieldRemoved,
    OneofFieldMovedToTopLevel,
    MultipleFieldsMovedToOneof,
    FieldMovedToExistingOneof,
}

impl DifferenceKind {
    /// Confluent's `Difference.Type` name.
    pub fn as_str(self) -> &'static str {
        use DifferenceKind::*;
        match self {
            PackageChanged => "PACKAGE_CHANGED",
            MessageAdded => "MESSAGE_ADDED",
            MessageRemoved => "MESSAGE_REMOVED",
            MessageMoved => "MESSAGE_MOVED",
            EnumAdded => "ENUM_ADDED",
            EnumRemoved => "ENUM_REMOVED",
            EnumConstAdded => "ENUM_CONST_ADDED",
            EnumConstRemoved => "ENUM_CONST_REMOVED",
            EnumConstChanged => "ENUM_CONST_CHANGED",
            FieldAdded => "FIELD_ADDED",
            FieldRemoved => "FIELD_REMOVED",
            RequiredFieldAdded => "REQUIRED_FIELD_ADDED",
            RequiredFieldRemoved => "REQUIRED_FIELD_REMOVED",
            FieldNameChanged => "FIELD_NAME_CHANGED",
            FieldKindChanged => "FIELD_KIND_CHANGED",
            FieldScalarKindChanged => "FIELD_SCALAR_KIND_CHANGED",
            FieldNamedTypeChanged => "FIELD_NAMED_TYPE_CHANGED",
            FieldNumericLabelChanged => "FIELD_NUMERIC_LABEL_CHANGED",
            FieldStringOrBytesLabelChanged => "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
            OneofAdded => "ONEOF_ADDED",
            OneofRemoved => "ONEOF_REMOVED",
            OneofFieldAdded => "ONEOF_FIELD_ADDED",
            OneofFieldRemoved => "ONEOF_FIELD_REMOVED",
            OneofFieldMovedToTopLevel => "ONEOF_FIELD_MOVED_TO_TOP_LEVEL",
            MultipleFieldsMovedToOneof => "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
            FieldMovedToExistingOneof => "FIELD_MOVED_TO_EXISTING_ONEOF",
        }
    }

    /// Whether Confluent lets this difference pass.
    pub fn compatible(self) -> bool {
        use DifferenceKind::*;
        !matches!(
            self,
            PackageChanged
                | MessageRemoved
                | RequiredFieldAdded
                | RequiredFieldRemoved
                | FieldKindChanged
                | FieldScalarKindChanged
                | FieldNamedTypeChanged
                | FieldNumericLabelChanged
                | OneofFieldRemoved
                | MultipleFieldsMovedToOneof
                | FieldMovedToExistingOneof
        )
    }
}

/// One difference and the path it was found at (`#/Message/Nested/tag`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub kind: DifferenceKind,
    pub path: String,
}

impl Difference {
    /// Confluent's verbose message; `update`/`original` are the roles ("new"/"old").
    pub fn confluent_message(&self, update: &str, original: &str) -> String {
        use DifferenceKind::*;
        let p = &self.path;
        let description = match self.kind {
            PackageChanged => format!("The package at '{p}' in the {update} schema does not match the package in the {original} schema"),
            MessageRemoved => format!("The {update} schema is missing a message at path '{p}' in the {original} schema"),
            RequiredFieldAdded => format!("A required field at path '{p}' in the {update} schema is missing in the {original} schema"),
            RequiredFieldRemoved => format!("The {update} schema is missing a required field at path '{p}' in the {original} schema"),
            FieldKindChanged => format!("The kind of a field at path '{p}' in the {update} schema does not match its kind in the {original} schema"),
            FieldScalarKindChanged => format!("The kind of a SCALAR field at path '{p}' in the {update} schema does not match its kind in the {original} schema"),
            FieldNamedTypeChanged => format!("The type of a MESSAGE field at path '{p}' in the {update} schema does not match its type in the {original} schema"),
            FieldNumericLabelChanged => format!("The label for a NUMERIC field at path '{p}' in the {update} schema does not match its label in the {original} schema"),
            OneofFieldRemoved => format!("The {update} schema is missing a field in a oneof at path '{p}' in the {original} schema"),
            MultipleFieldsMovedToOneof => format!("Multiple fields in the {original} schema were moved to a single oneof at path '{p}' in the {update} schema"),
            FieldMovedToExistingOneof => format!("A field in the {original} schema was moved to an existing oneof at path '{p}' in the {update} schema"),
            _ => String::new(),
        };
        format!("{{errorType:\"{}\", description:\"{description}\"}}", self.kind.as_str())
    }
}

/// The differences from `original` to `update`.
pub fn diff(original: &ProtobufSchema, update: &ProtobufSchema) -> Vec<Difference> {
    let (Some(of), Some(uf)) = (original.file_descriptor(), update.file_descriptor()) else {
        return Vec::new();
    };
    let mut d = Differ { out: Vec::new(), seen: HashSet::new() };
    if of.package_name() != uf.package_name() {
        d.push(DifferenceKind::PackageChanged, "#/".to_string());
    }
    let old = index_messages(of.messages(), of.package_name());
    let new = index_messages(uf.messages(), uf.package_name());
    for (name, (pos, m)) in &old {
        match new.get(name) {
            Some((new_pos, n)) => {
                if pos != new_pos {
                    d.push(DifferenceKind::MessageMoved, path_of(name));
                }
                d.message(m, n, &path_of(name));
            }
            None => d.push(DifferenceKind::MessageRemoved, path_of(name)),
        }
    }
    for name in new.keys().filter(|n| !old.contains_key(*n)) {
        d.push(DifferenceKind::MessageAdded, path_of(name));
    }
    let old_enums = index_enums(of.enums(), of.messages(), of.package_name());
    let new_enums = index_enums(uf.enums(), uf.messages(), uf.package_name());
    for (name, e) in &old_enums {
        match new_enums.get(name) {
            Some(n) => d.enumeration(e, n, &path_of(name)),
            None => d.push(DifferenceKind::EnumRemoved, path_of(name)),
        }
    }
    for name in new_enums.keys().filter(|n| !old_enums.contains_key(*n)) {
        d.push(DifferenceKind::EnumAdded, path_of(name));
    }
    d.out
}

fn path_of(relative_name: &str) -> String {
    format!("#/{}", relative_name.replace('.', "/"))
}

/// A full name without the package: what Confluent compares named types by.
fn relative(full: &str, package: &str) -> String {
    if package.is_empty() {
        return full.to_string();
    }
    full.strip_prefix(package).and_then(|r| r.strip_prefix('.')).unwrap_or(full).to_string()
}

/// Every message (nested too, map entries excluded) by relative name, with its position
/// among its sibling messages.
fn index_messages(
    top: impl Iterator<Item = MessageDescriptor>,
    package: &str,
) -> BTreeMap<String, (usize, MessageDescriptor)> {
    fn visit(m: MessageDescriptor, pos: usize, package: &str, out: &mut BTreeMap<String, (usize, MessageDescriptor)>) {
        for (i, c) in m.child_messages().filter(|c| !c.is_map_entry()).enumerate() {
            visit(c, i, package, out);
        }
        out.insert(relative(m.full_name(), package), (pos, m));
    }
    let mut out = BTreeMap::new();
    for (i, m) in top.filter(|m| !m.is_map_entry()).enumerate() {
        visit(m, i, package, &mut out);
    }
    out
}

fn index_enums(
    top: impl Iterator<Item = EnumDescriptor>,
    messages: impl Iterator<Item = MessageDescriptor>,
    package: &str,
) -> BTreeMap<String, EnumDescriptor> {
    fn visit(m: MessageDescriptor, package: &str, out: &mut BTreeMap<String, EnumDescriptor>) {
        for e in m.child_enums() {
            out.insert(relative(e.full_name(), package), e);
        }
        for c in m.child_messages() {
            visit(c, package, out);
        }
    }
    let mut out: BTreeMap<String, EnumDescriptor> = top.map(|e| (relative(e.full_name(), package), e)).collect();
    for m in messages {
        visit(m, package, &mut out);
    }
    out
}

/// The field kinds Confluent distinguishes.
#[derive(PartialEq, Eq)]
enum FieldKind {
    Scalar,
    Message,
    Map,
}

fn field_kind(f: &FieldDescriptor) -> FieldKind {
    if f.is_map() {
        FieldKind::Map
    } else if matches!(f.kind(), Kind::Message(_)) {
        FieldKind::Message
    } else {
        FieldKind::Scalar
    }
}

/// Scalar wire groups: a change inside one is compatible and not reported.
fn scalar_group(k: &Kind) -> u8 {
    match k {
        Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Bool | Kind::Enum(_) => 0,
        Kind::Sint32 | Kind::Sint64 => 1,
        Kind::String | Kind::Bytes => 2,
        Kind::Fixed32 | Kind::Sfixed32 => 3,
        Kind::Fixed64 | Kind::Sfixed64 => 4,
        Kind::Float => 5,
        Kind::Double => 6,
        Kind::Message(_) => 7,
    }
}

/// The oneof a field really belongs to (proto3 `optional`'s synthetic oneof is none).
fn real_oneof(f: &FieldDescriptor) -> Option<String> {
    f.containing_oneof().filter(|o| !o.is_synthetic()).map(|o| o.name().to_string())
}

/// The label as written, if any: proto3 plain fields, map fields and oneof members have none.
fn written_label(f: &FieldDescriptor) -> Option<Cardinality> {
    if f.is_map() || real_oneof(f).is_some() {
        return None;
    }
    match f.cardinality() {
        Cardinality::Optional
            if f.parent_file().syntax() == Syntax::Proto3 && !f.field_descriptor_proto().proto3_optional() =>
        {
            None
        }
        c => Some(c),
    }
}

struct Differ {
    out: Vec<Difference>,
    /// Imported message pairs already diffed, so recursive types end.
    seen: HashSet<(String, String)>,
}

impl Differ {
    fn push(&mut self, kind: DifferenceKind, path: String) {
        self.out.push(Difference { kind, path });
    }

    fn message(&mut self, old: &MessageDescriptor, new: &MessageDescriptor, path: &str) {
        use DifferenceKind::*;
        let old_fields: BTreeMap<u32, FieldDescriptor> = old.fields().map(|f| (f.number(), f)).collect();
        let new_fields: BTreeMap<u32, FieldDescriptor> = new.fields().map(|f| (f.number(), f)).collect();
        let new_oneofs: BTreeSet<String> =
            new.oneofs().filter(|o| !o.is_synthetic()).map(|o| o.name().to_string()).collect();
        let old_oneofs: BTreeSet<String> =
            old.oneofs().filter(|o| !o.is_synthetic()).map(|o| o.name().to_string()).collect();
        for (num, f) in &old_fields {
            let fpath = format!("{path}/{num}");
            match new_fields.get(num) {
                None => {
                    if f.cardinality() == Cardinality::Required {
                        self.push(RequiredFieldRemoved, fpath);
                    } else if let Some(o) = real_oneof(f) {
                        let survives = new_oneofs.contains(&o)
                            || old_fields.values().any(|g| {
                                g.number() != *num
                                    && real_oneof(g).as_ref() == Some(&o)
                                    && new_fields.contains_key(&g.number())
                            });
                        // A oneof removed with all its members reports only ONEOF_REMOVED.
                        if survives {
                            self.push(OneofFieldRemoved, fpath);
                        }
                    } else {
                        self.push(FieldRemoved, fpath);
                    }
                }
                Some(n) => {
                    if real_oneof(f).is_some() && real_oneof(n).is_none() {
                        self.push(OneofFieldMovedToTopLevel, fpath.clone());
                    }
                    self.field(f, n, &fpath);
                }
            }
        }
        for (num, f) in &new_fields {
            if old_fields.contains_key(num) {
                continue;
            }
            let fpath = format!("{path}/{num}");
            if f.cardinality() == Cardinality::Required {
                self.push(RequiredFieldAdded, fpath);
            } else if real_oneof(f).is_some() {
                self.push(OneofFieldAdded, fpath);
            } else {
                self.push(FieldAdded, fpath);
            }
        }
        for o in old_oneofs.difference(&new_oneofs) {
            self.push(OneofRemoved, format!("{path}/{o}"));
        }
        for o in new_oneofs.difference(&old_oneofs) {
            self.push(OneofAdded, format!("{path}/{o}"));
        }
        // Where the members of each new oneof came from: top-level fields or old oneofs.
        for o in &new_oneofs {
            let mut top_level = 0;
            let mut groups = BTreeSet::new();
            for f in new_fields.values().filter(|f| real_oneof(f).as_ref() == Some(o)) {
                if let Some(prev) = old_fields.get(&f.number()) {
                    match real_oneof(prev) {
                        Some(prev_oneof) => groups.insert(Some(prev_oneof)),
                        None => {
                            top_level += 1;
                            groups.insert(None)
                        }
                    };
                }
            }
            let opath = format!("{path}/{o}");
            if top_level > 1 {
                self.push(MultipleFieldsMovedToOneof, opath);
            } else if groups.len() > 1 {
                self.push(FieldMovedToExistingOneof, opath);
            }
        }
    }

    fn field(&mut self, old: &FieldDescriptor, new: &FieldDescriptor, path: &str) {
        use DifferenceKind::*;
        if old.name() != new.name() {
            self.push(FieldNameChanged, path.to_string());
        }
        let (ok, nk) = (field_kind(old), field_kind(new));
        if ok != nk {
            self.push(FieldKindChanged, path.to_string());
            return;
        }
        match ok {
            FieldKind::Scalar => {
                if scalar_group(&old.kind()) != scalar_group(&new.kind()) {
                    self.push(FieldScalarKindChanged, path.to_string());
                }
                if let (Some(a), Some(b)) = (written_label(old), written_label(new)) {
                    if a != b {
                        let kind = if matches!(old.kind(), Kind::String | Kind::Bytes) {
                            FieldStringOrBytesLabelChanged
                        } else {
                            FieldNumericLabelChanged
                        };
                        self.push(kind, path.to_string());
                    }
                }
            }
            FieldKind::Message => self.named_type(&old.kind(), &new.kind(), path),
            FieldKind::Map => {
                let (Kind::Message(om), Kind::Message(nm)) = (old.kind(), new.kind()) else { return };
                // Not `map_entry_key_field()`: that panics when a map entry lacks its key
                // (1) or value (2) field, which a hand-made descriptor may do.
                let entry = |m: &MessageDescriptor| Some((m.get_field(1)?, m.get_field(2)?));
                let (Some((okf, ov)), Some((nkf, nv))) = (entry(&om), entry(&nm)) else { return };
                if scalar_group(&okf.kind()) != scalar_group(&nkf.kind()) {
                    self.push(FieldScalarKindChanged, path.to_string());
                }
                let (ovk, nvk) = (field_kind(&ov), field_kind(&nv));
                if ovk != nvk {
                    self.push(FieldKindChanged, path.to_string());
                } else if ovk == FieldKind::Message {
                    self.named_type(&ov.kind(), &nv.kind(), path);
                } else if scalar_group(&ov.kind()) != scalar_group(&nv.kind()) {
                    self.push(FieldScalarKindChanged, path.to_string());
                }
            }
        }
    }

    /// Message-typed fields: a different type name is a change; the same name declared in an
    /// imported file is diffed too (the file-level walk covers the schema's own messages).
    fn named_type(&mut self, old: &Kind, new: &Kind, path: &str) {
        let (Kind::Message(om), Kind::Message(nm)) = (old, new) else { return };
        let on = relative(om.full_name(), om.package_name());
        let nn = relative(nm.full_name(), nm.package_name());
        if on != nn {
            self.push(DifferenceKind::FieldNamedTypeChanged, path.to_string());
            return;
        }
        let imported = om.parent_file().name() != super::resolve::ROOT_NAME;
        if imported && self.seen.insert((om.full_name().to_string(), nm.full_name().to_string())) {
            let before = self.out.len();
            self.message(om, nm, &path_of(&on));
            if self.out[before..].iter().any(|d| !d.kind.compatible()) {
                self.push(DifferenceKind::FieldNamedTypeChanged, path.to_string());
            }
        }
    }

    fn enumeration(&mut self, old: &EnumDescriptor, new: &EnumDescriptor, path: &str) {
        use DifferenceKind::*;
        let old_values: BTreeMap<i32, String> = old.values().map(|v| (v.number(), v.name().to_string())).collect();
        let new_values: BTreeMap<i32, String> = new.values().map(|v| (v.number(), v.name().to_string())).collect();
        for (n, name) in &old_values {
            match new_values.get(n) {
                None => self.push(EnumConstRemoved, format!("{path}/{n}")),
                Some(other) if other != name => self.push(EnumConstChanged, format!("{path}/{n}")),
                Some(_) => {}
            }
        }
        for n in new_values.keys().filter(|n| !old_values.contains_key(n)) {
            self.push(EnumConstAdded, format!("{path}/{n}"));
        }
    }
}

//! `.proto` text from a file descriptor, in the layout Confluent stores (Square Wire's
//! `toSchema`): header, imports, options, messages then enums, extends, services; fields
//! before oneofs before nested types; map entries folded back into `map<K, V>` fields.
//! Works on the descriptor as parsed (type names as written), so the text keeps the user's
//! spelling; options come either uninterpreted (parsed text) or interpreted (a descriptor).

use std::fmt::Write;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Value};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto, ServiceDescriptorProto,
};

/// Prints `file` in Confluent's layout; `sorted` sorts options by name (normalized form).
pub fn print(file: &FileDescriptorProto, sorted: bool) -> String {
    SORT_OPTIONS.with(|s| s.set(sorted));
    let out = print_file(file);
    SORT_OPTIONS.with(|s| s.set(false));
    out
}

thread_local! {
    /// Whether option lists come out sorted; set for the duration of one `print`.
    static SORT_OPTIONS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn print_file(file: &FileDescriptorProto) -> String {
    let mut out = String::new();
    let syntax = file.syntax.as_deref().unwrap_or("");
    if !syntax.is_empty() {
        let _ = writeln!(out, "syntax = \"{syntax}\";");
    }
    if let Some(p) = file.package.as_deref().filter(|p| !p.is_empty()) {
        let _ = writeln!(out, "package {p};");
    }
    if !file.dependency.is_empty() {
        out.push('\n');
        // Wire keeps plain and public imports in two lists and prints the plain ones first.
        let is_public = |i: usize| file.public_dependency.contains(&(i as i32));
        for public in [false, true] {
            for (_, d) in file.dependency.iter().enumerate().filter(|(i, _)| is_public(*i) == public) {
                let _ = writeln!(out, "import {}\"{d}\";", if public { "public " } else { "" });
            }
        }
    }
    let opts = options(&file.options, "google.protobuf.FileOptions");
    if !opts.is_empty() {
        out.push('\n');
        for o in &opts {
            let _ = writeln!(out, "option {o};");
        }
    }
    let proto3 = syntax == "proto3";
    let types = types(&file.message_type, &file.enum_type, proto3);
    if !types.is_empty() {
        out.push('\n');
        out.push_str(&types);
    }
    if !file.extension.is_empty() {
        out.push('\n');
        out.push_str(&extends(&file.extension, proto3));
    }
    if !file.service.is_empty() {
        out.push('\n');
        for s in &file.service {
            out.push_str(&service(s));
        }
    }
    out
}

/// Messages first, then enums, as Confluent re-prints every scope.
fn types(messages: &[DescriptorProto], enums: &[EnumDescriptorProto], proto3: bool) -> String {
    let mut out = String::new();
    for m in messages.iter().filter(|m| !is_map_entry(m)) {
        out.push_str(&message(m, proto3));
    }
    for e in enums {
        out.push_str(&enumeration(e));
    }
    out
}

pub(super) fn is_map_entry(m: &DescriptorProto) -> bool {
    m.options.as_ref().and_then(|o| o.map_entry).unwrap_or(false)
}

/// Indents every non-empty line of `text` by two spaces.
fn indented(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        if line != "\n" {
            out.push_str("  ");
        }
        out.push_str(line);
    }
    out
}

fn message(m: &DescriptorProto, proto3: bool) -> String {
    let mut out = format!("message {} {{", m.name());
    let reserved =
        reserved_lines(m.reserved_range.iter().map(|r| (r.start(), r.end().saturating_sub(1))), &m.reserved_name);
    if !reserved.is_empty() {
        out.push('\n');
        out.push_str(&indented(&reserved));
    }
    let opts = options(&m.options, "google.protobuf.MessageOptions");
    if !opts.is_empty() {
        out.push('\n');
        for o in &opts {
            out.push_str(&indented(&format!("option {o};\n")));
        }
    }
    let real_oneof = |f: &FieldDescriptorProto| f.oneof_index.is_some() && !f.proto3_optional();
    let plain: Vec<_> = m.field.iter().filter(|f| !real_oneof(f)).collect();
    if !plain.is_empty() {
        out.push('\n');
        for f in plain {
            out.push_str(&indented(&field(f, m, proto3, false)));
        }
    }
    let mut oneofs = String::new();
    for (i, o) in m.oneof_decl.iter().enumerate() {
        let members: Vec<_> = m.field.iter().filter(|f| real_oneof(f) && f.oneof_index == Some(i as i32)).collect();
        if members.is_empty() {
            continue;
        }
        let mut body = String::new();
        for opt in options(&o.options, "google.protobuf.OneofOptions") {
            body.push_str(&format!("option {opt};\n"));
        }
        for f in members {
            body.push_str(&field(f, m, proto3, true));
        }
        oneofs.push_str(&format!("oneof {} {{\n{}}}\n", o.name(), indented(&body)));
    }
    if !oneofs.is_empty() {
        out.push('\n');
        out.push_str(&indented(&oneofs));
    }
    if !m.extension_range.is_empty() {
        out.push('\n');
        let ranges: Vec<String> =
            m.extension_range.iter().map(|r| range(r.start(), r.end().saturating_sub(1))).collect();
        out.push_str(&indented(&format!("extensions {};\n", ranges.join(", "))));
    }
    let nested = types(&m.nested_type, &m.enum_type, proto3);
    if !nested.is_empty() {
        out.push('\n');
        out.push_str(&indented(&nested));
    }
    if !m.extension.is_empty() {
        out.push('\n');
        out.push_str(&indented(&extends(&m.extension, proto3)));
    }
    out.push_str("}\n");
    out
}

/// `reserved` statements: numbers (inclusive ranges) on one line, names on another.
fn reserved_lines(ranges: impl Iterator<Item = (i32, i32)>, names: &[String]) -> String {
    let mut out = String::new();
    let ranges: Vec<String> = ranges.map(|(s, e)| range(s, e)).collect();
    if !ranges.is_empty() {
        let _ = writeln!(out, "reserved {};", ranges.join(", "));
    }
    if !names.is_empty() {
        let names: Vec<String> = names.iter().map(|n| quote(n)).collect();
        let _ = writeln!(out, "reserved {};", names.join(", "));
    }
    out
}

/// An inclusive range as `.proto` writes it.
fn range(start: i32, end: i32) -> String {
    if start == end {
        start.to_string()
    } else if end >= 536_870_911 {
        format!("{start} to max")
    } else {
        format!("{start} to {end}")
    }
}

/// The explicit label of a field, if the source has one: proto2 fields always (except map
/// fields and oneof members), proto3 fields only `repeated` and `optional`.
pub(super) fn written_label(f: &FieldDescriptorProto, proto3: bool, in_oneof: bool) -> Option<&'static str> {
    if in_oneof {
        return None;
    }
    match f.label() {
        Label::Repeated => Some("repeated"),
        Label::Required => Some("required"),
        Label::Optional if f.proto3_optional() || !proto3 => Some("optional"),
        Label::Optional => None,
    }
}

/// The map entry a repeated field stands for, if it is a map field.
pub(super) fn map_entry<'a>(f: &FieldDescriptorProto, scope: &'a DescriptorProto) -> Option<&'a DescriptorProto> {
    if f.label() != Label::Repeated {
        return None;
    }
    let short = f.type_name.as_deref()?.rsplit('.').next()?;
    scope.nested_type.iter().find(|n| n.name() == short && is_map_entry(n))
}

fn field(f: &FieldDescriptorProto, scope: &DescriptorProto, proto3: bool, in_oneof: bool) -> String {
    let mut out = String::new();
    if let Some(entry) = map_entry(f, scope) {
        let kv: Vec<String> = entry.field.iter().map(type_name).collect();
        let _ = write!(out, "map<{}> {} = {}", kv.join(", "), f.name(), f.number());
    } else {
        if let Some(l) = written_label(f, proto3, in_oneof) {
            out.push_str(l);
            out.push(' ');
        }
        let _ = write!(out, "{} {} = {}", type_name(f), f.name(), f.number());
    }
    let mut opts = options(&f.options, "google.protobuf.FieldOptions");
    if let Some(d) = &f.default_value {
        let value = match f.r#type() {
            Type::String | Type::Bytes => quote(d),
            _ => d.to_string(),
        };
        opts.push(format!("default = {value}"));
    }
    if let Some(j) = &f.json_name {
        opts.push(format!("json_name = {}", quote(j)));
    }
    out.push_str(&option_list(&opts));
    out.push_str(";\n");
    out
}

/// Wire's rendering of a field's or constant's options: inline when one, else one a line.
fn option_list(opts: &[String]) -> String {
    match opts {
        [] => String::new(),
        [one] => format!(" [{one}]"),
        many => {
            let body: Vec<String> = many.iter().map(|o| format!("  {o}")).collect();
            format!(" [\n{}\n]", body.join(",\n"))
        }
    }
}

/// The type as written: a named type keeps the source's spelling.
pub(super) fn type_name(f: &FieldDescriptorProto) -> String {
    if let Some(t) = f.type_name.as_deref().filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    scalar_name(f.r#type()).to_string()
}

pub(super) fn scalar_name(t: Type) -> &'static str {
    match t {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Group => "group",
        Type::Message => "message",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Enum => "enum",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
    }
}

fn enumeration(e: &EnumDescriptorProto) -> String {
    let mut body = reserved_lines(e.reserved_range.iter().map(|r| (r.start(), r.end())), &e.reserved_name);
    for o in options(&e.options, "google.protobuf.EnumOptions") {
        let _ = writeln!(body, "option {o};");
    }
    for v in &e.value {
        let opts = options(&v.options, "google.protobuf.EnumValueOptions");
        let _ = writeln!(body, "{} = {}{};", v.name(), v.number(), option_list(&opts));
    }
    if body.is_empty() {
        format!("enum {} {{}}\n", e.name())
    } else {
        format!("enum {} {{\n{}}}\n", e.name(), indented(&body))
    }
}

/// `extend` blocks, one per extendee in first-appearance order.
fn extends(fields: &[FieldDescriptorProto], proto3: bool) -> String {
    let mut order: Vec<&str> = Vec::new();
    for f in fields {
        if !order.contains(&f.extendee()) {
            order.push(f.extendee());
        }
    }
    let scope = DescriptorProto::default();
    let mut out = String::new();
    for extendee in order {
        let mut body = String::new();
        for f in fields.iter().filter(|f| f.extendee() == extendee) {
            body.push_str(&field(f, &scope, proto3, false));
        }
        let _ = write!(out, "extend {extendee} {{\n{}}}\n", indented(&body));
    }
    out
}

fn service(s: &ServiceDescriptorProto) -> String {
    let mut out = format!("service {} {{", s.name());
    let opts = options(&s.options, "google.protobuf.ServiceOptions");
    if !opts.is_empty() {
        out.push('\n');
        for o in &opts {
            out.push_str(&indented(&format!("option {o};\n")));
        }
    }
    if !s.method.is_empty() {
        out.push('\n');
        for m in &s.method {
            let stream = |b: bool| if b { "stream " } else { "" };
            let mut rpc = format!(
                "rpc {} ({}{}) returns ({}{})",
                m.name(),
                stream(m.client_streaming()),
                m.input_type(),
                stream(m.server_streaming()),
                m.output_type()
            );
            let opts = options(&m.options, "google.protobuf.MethodOptions");
            if !opts.is_empty() {
                rpc.push_str(" {\n");
                for o in &opts {
                    rpc.push_str(&format!("  option {o};\n"));
                }
                rpc.push('}');
            }
            rpc.push_str(";\n");
            out.push_str(&indented(&rpc));
        }
    }
    out.push_str("}\n");
    out
}

/// A string literal in `.proto` syntax.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `name = value` for every option set on an options message: interpreted fields (a
/// descriptor's form) by field number, then uninterpreted ones (parsed text) as written.
/// `map_entry` is structural, never printed.
pub(super) fn options<M: Message>(opts: &Option<M>, full_name: &str) -> Vec<String> {
    let Some(opts) = opts else { return Vec::new() };
    let pool = DescriptorPool::global();
    let Some(desc) = pool.get_message_by_name(full_name) else { return Vec::new() };
    let Ok(dynamic) = DynamicMessage::decode(desc, opts.encode_to_vec().as_slice()) else { return Vec::new() };
    let mut out = Vec::new();
    let mut uninterpreted = Vec::new();
    for (field, value) in dynamic.fields() {
        match field.name() {
            "uninterpreted_option" => {
                if let Value::List(items) = value {
                    uninterpreted.extend(items.iter().filter_map(|v| v.as_message().and_then(uninterpreted_option)));
                }
            }
            "map_entry" => {}
            name => {
                if let Some(v) = render_value(value, &field) {
                    out.push(format!("{name} = {v}"));
                }
            }
        }
    }
    out.extend(uninterpreted);
    if SORT_OPTIONS.with(|s| s.get()) {
        out.sort();
    }
    out
}

fn render_value(value: &Value, field: &prost_reflect::FieldDescriptor) -> Option<String> {
    Some(match value {
        Value::Bool(b) => b.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(n) => n.to_string(),
        Value::F64(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::EnumNumber(n) => match field.kind().as_enum().and_then(|e| e.get_value(*n)) {
            Some(v) => v.name().to_string(),
            None => n.to_string(),
        },
        _ => return None,
    })
}

/// An `UninterpretedOption` as `name = value`, extension parts in parentheses.
fn uninterpreted_option(m: &DynamicMessage) -> Option<String> {
    let decoded = prost_types::UninterpretedOption::decode(m.encode_to_vec().as_slice()).ok()?;
    let name: Vec<String> = decoded
        .name
        .iter()
        .map(|p| if p.is_extension { format!("({})", p.name_part) } else { p.name_part.clone() })
        .collect();
    let value = if let Some(v) = &decoded.identifier_value {
        v.clone()
    } else if let Some(v) = decoded.positive_int_value {
        v.to_string()
    } else if let Some(v) = decoded.negative_int_value {
        v.to_string()
    } else if let Some(v) = decoded.double_value {
        v.to_string()
    } else if let Some(v) = &decoded.string_value {
        quote(&String::from_utf8_lossy(v))
    } else if let Some(v) = &decoded.aggregate_value {
        match super::aggregate::Aggregate::parse(v) {
            Some(a) => a.to_wire(),
            None => format!("{{ {v} }}"),
        }
    } else {
        return None;
    };
    Some(format!("{} = {value}", name.join(".")))
}

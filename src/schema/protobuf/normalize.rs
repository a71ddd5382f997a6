//! Confluent's normalized Protobuf form: imports sorted and deduplicated, fields by tag,
//! oneofs by their first tag, enum constants by number, reserved ranges sorted, type names
//! fully qualified with a leading dot, `syntax = "proto2"` dropped. Messages, enums and
//! services keep their order: message indexes on the wire depend on it. Options are sorted
//! by the printer.

use prost_reflect::{DescriptorPool, Kind};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto, UninterpretedOption};

pub fn apply(file: &mut FileDescriptorProto, pool: &DescriptorPool) {
    let public: Vec<String> =
        file.public_dependency.iter().filter_map(|i| file.dependency.get(*i as usize).cloned()).collect();
    file.dependency.sort();
    file.dependency.dedup();
    file.public_dependency =
        file.dependency.iter().enumerate().filter(|(_, d)| public.contains(d)).map(|(i, _)| i as i32).collect();
    if file.syntax.as_deref() == Some("proto2") {
        file.syntax = None;
    }
    let prefix = file.package.clone().unwrap_or_default();
    for m in &mut file.message_type {
        message(m, &prefix, pool);
    }
    for e in &mut file.enum_type {
        enumeration(e);
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn message(m: &mut DescriptorProto, scope: &str, pool: &DescriptorPool) {
    let full = join(scope, m.name());
    if let Some(desc) = pool.get_message_by_name(&full) {
        for f in &mut m.field {
            let resolved = desc.get_field(f.number() as u32).and_then(|d| match d.kind() {
                Kind::Message(t) => Some(t.full_name().to_string()),
                Kind::Enum(t) => Some(t.full_name().to_string()),
                _ => None,
            });
            if let Some(name) = resolved {
                f.type_name = Some(format!(".{name}"));
            }
        }
    }
    m.field.sort_by_key(|f| f.number());
    // Oneofs ordered by their first field's tag; members point at the new positions.
    let mut order: Vec<(i32, usize)> = (0..m.oneof_decl.len())
        .map(|i| {
            let first = m.field.iter().filter(|f| f.oneof_index == Some(i as i32)).map(|f| f.number()).min();
            (first.unwrap_or(i32::MAX), i)
        })
        .collect();
    order.sort();
    let decls = m.oneof_decl.clone();
    m.oneof_decl = order.iter().map(|(_, i)| decls[*i].clone()).collect();
    for f in &mut m.field {
        if let Some(old) = f.oneof_index {
            f.oneof_index = order.iter().position(|(_, i)| *i as i32 == old).map(|p| p as i32);
        }
    }
    m.reserved_range.sort_by_key(|r| (r.start(), r.end()));
    m.extension_range.sort_by_key(|r| (r.start(), r.end()));
    for n in &mut m.nested_type {
        message(n, &full, pool);
    }
    for e in &mut m.enum_type {
        enumeration(e);
    }
}

fn enumeration(e: &mut EnumDescriptorProto) {
    e.value.sort_by_key(|v| v.number());
    e.reserved_range.sort_by_key(|r| (r.start(), r.end()));
}

/// Removes extension ranges, `extend` blocks and uninterpreted custom options everywhere.
pub fn strip_extensions(file: &mut FileDescriptorProto) {
    fn message(m: &mut DescriptorProto) {
        m.extension.clear();
        m.extension_range.clear();
        m.nested_type.iter_mut().for_each(message);
    }
    file.extension.clear();
    file.message_type.iter_mut().for_each(message);
    strip_custom_options(file, |_| true);
}

/// A custom option: its name has a part in parentheses, an extension (`(foo.bar)`,
/// `(foo).baz`).
pub fn is_custom(o: &UninterpretedOption) -> bool {
    o.name.iter().any(|p| p.is_extension)
}

/// Removes the uninterpreted custom options for which `drop` holds, at every level: file,
/// message, field, oneof, enum, enum value, service and method.
pub fn strip_custom_options(file: &mut FileDescriptorProto, drop: fn(&UninterpretedOption) -> bool) {
    let keep = |list: &mut Vec<UninterpretedOption>| list.retain(|o| !(is_custom(o) && drop(o)));
    fn enumeration(e: &mut EnumDescriptorProto, keep: &dyn Fn(&mut Vec<UninterpretedOption>)) {
        e.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
        for v in &mut e.value {
            v.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
        }
    }
    fn message(m: &mut DescriptorProto, keep: &dyn Fn(&mut Vec<UninterpretedOption>)) {
        m.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
        for f in m.field.iter_mut().chain(m.extension.iter_mut()) {
            f.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
        }
        for o in &mut m.oneof_decl {
            o.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
        }
        m.enum_type.iter_mut().for_each(|e| enumeration(e, keep));
        m.nested_type.iter_mut().for_each(|n| message(n, keep));
    }
    file.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
    for f in &mut file.extension {
        f.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
    }
    file.message_type.iter_mut().for_each(|m| message(m, &keep));
    file.enum_type.iter_mut().for_each(|e| enumeration(e, &keep));
    for s in &mut file.service {
        s.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
        for m in &mut s.method {
            m.options.iter_mut().for_each(|o| keep(&mut o.uninterpreted_option));
        }
    }
}

//! Confluent's normalized Protobuf form: imports sorted and deduplicated, fields by tag,
//! oneofs by their first tag, enum constants by number, reserved ranges sorted, type names
//! fully qualified with a leading dot, `syntax = "proto2"` dropped. Messages, enums and
//! services keep their order: message indexes on the wire depend on it. Options are sorted
//! by the printer.

use prost_reflect::{DescriptorPool, Kind};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto};

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
    fn custom(o: &prost_types::UninterpretedOption) -> bool {
        o.name.iter().any(|p| p.is_extension)
    }
    fn message(m: &mut DescriptorProto) {
        m.extension.clear();
        m.extension_range.clear();
        if let Some(o) = m.options.as_mut() {
            o.uninterpreted_option.retain(|o| !custom(o));
        }
        for f in &mut m.field {
            if let Some(o) = f.options.as_mut() {
                o.uninterpreted_option.retain(|o| !custom(o));
            }
        }
        for n in &mut m.nested_type {
            message(n);
        }
    }
    file.extension.clear();
    if let Some(o) = file.options.as_mut() {
        o.uninterpreted_option.retain(|o| !custom(o));
    }
    for m in &mut file.message_type {
        message(m);
    }
}

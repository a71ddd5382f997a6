//! The `FileDescriptorProto` Confluent returns for `format=serialized`: the linked file
//! (options interpreted, named types typed) with Confluent's conventions, which come from
//! its converter rather than protoc: file name `default`, type names as written, labels only
//! where written (oneof members `optional`, map fields `repeated`), oneof members first,
//! map entries named after the field (`mEntry`), empty oneof options, no source info.

use prost_reflect::DescriptorPool;
use prost_types::field_descriptor_proto::Label;
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto, OneofOptions};

use super::print::{map_entry, written_label};
use super::resolve::ROOT_NAME;

pub fn descriptor(file: &FileDescriptorProto, pool: &DescriptorPool) -> FileDescriptorProto {
    let mut out = match pool.get_file_by_name(ROOT_NAME) {
        Some(f) => f.file_descriptor_proto().clone(),
        None => file.clone(),
    };
    out.source_code_info = None;
    // Linking adds every reference as an import; the descriptor lists the written ones.
    out.dependency = file.dependency.clone();
    out.public_dependency = file.public_dependency.clone();
    out.weak_dependency = file.weak_dependency.clone();
    let proto3 = file.syntax() == "proto3";
    for (m, written) in out.message_type.iter_mut().zip(&file.message_type) {
        message(m, written, proto3);
    }
    for (f, written) in out.extension.iter_mut().zip(&file.extension) {
        field(f, written, proto3, false);
        f.extendee = written.extendee.clone();
    }
    for (s, written) in out.service.iter_mut().zip(&file.service) {
        for (m, w) in s.method.iter_mut().zip(&written.method) {
            m.input_type = w.input_type.clone();
            m.output_type = w.output_type.clone();
            m.client_streaming = Some(m.client_streaming());
            m.server_streaming = Some(m.server_streaming());
        }
    }
    out
}

fn field(f: &mut FieldDescriptorProto, written: &FieldDescriptorProto, proto3: bool, in_oneof: bool) {
    f.type_name = written.type_name.clone();
    f.json_name = written.json_name.clone();
    f.label =
        if in_oneof { Some(Label::Optional as i32) } else { written_label(written, proto3, false).and(written.label) };
}

fn message(m: &mut DescriptorProto, written: &DescriptorProto, proto3: bool) {
    let mut renames = Vec::new();
    for (f, w) in m.field.iter_mut().zip(&written.field) {
        let in_oneof = w.oneof_index.is_some();
        field(f, w, proto3, in_oneof);
        if let Some(entry) = map_entry(w, written) {
            let name = format!("{}Entry", lower_camel(w.name()));
            renames.push((entry.name().to_string(), name.clone()));
            f.r#type = None;
            f.label = Some(Label::Repeated as i32);
            f.type_name = Some(name);
        }
    }
    for (n, w) in m.nested_type.iter_mut().zip(&written.nested_type) {
        if super::print::is_map_entry(w) {
            if let Some((_, to)) = renames.iter().find(|(from, _)| from == w.name()) {
                n.name = Some(to.clone());
            }
            for (f, wf) in n.field.iter_mut().zip(&w.field) {
                f.label = None;
                f.json_name = None;
                f.type_name = wf.type_name.clone();
            }
        } else {
            message(n, w, proto3);
        }
    }
    for r in &mut m.extension_range {
        r.options.get_or_insert_with(Default::default);
    }
    for o in &mut m.oneof_decl {
        o.options.get_or_insert_with(OneofOptions::default);
    }
    // Oneof members first, each group in declaration order.
    let (mut first, rest): (Vec<_>, Vec<_>) = m.field.drain(..).partition(|f| f.oneof_index.is_some());
    first.extend(rest);
    m.field = first;
}

/// `my_map` → `myMap`: the entry name Confluent derives from a map field's name.
fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

//! Schema tags on Protobuf schemas (Confluent's `POST /subjects/{s}/versions/{v}/tags`): kept
//! in the schema as `(confluent.message_meta)` / `(confluent.field_meta)` options with a
//! `tags` list. Paths are message names relative to the package (`Outer.Inner`), plus
//! `.field` for `sr_field`.

use prost_types::uninterpreted_option::NamePart;
use prost_types::{DescriptorProto, FieldOptions, MessageOptions, UninterpretedOption};

use super::aggregate::Aggregate;
use crate::schema::{Entity, TagEdit};

const FIELD_META: &str = "confluent.field_meta";
const MESSAGE_META: &str = "confluent.message_meta";

/// Applies the additions, then the removals, and prints the result (to be parsed again).
pub fn edit(text: &str, add: &[TagEdit], remove: &[TagEdit]) -> Result<String, String> {
    let mut file = super::parse_root(super::resolve::ROOT_NAME, text)?;
    let package = file.package.clone().unwrap_or_default();
    for (e, adding) in add.iter().map(|e| (e, true)).chain(remove.iter().map(|e| (e, false))) {
        let path = e.path.strip_prefix(&format!("{package}.")).filter(|_| !package.is_empty()).unwrap_or(&e.path);
        let (message_path, field) = match e.entity {
            Entity::Record => (path, None),
            Entity::Field => match path.rsplit_once('.') {
                Some((m, f)) => (m, Some(f)),
                None => ("", Some(path)),
            },
        };
        let not_found = |kind: &str, name: &str| {
            format!("java.lang.IllegalArgumentException: No matching {kind} with name '{name}' found in the schema")
        };
        let message = find(&mut file.message_type, message_path);
        match (message, field) {
            (Some(m), Some(name)) => {
                let f = m.field.iter_mut().find(|f| f.name() == name).ok_or_else(|| not_found("Field", name))?;
                let opts = f.options.get_or_insert_with(FieldOptions::default);
                apply(&mut opts.uninterpreted_option, FIELD_META, &e.tags, adding);
                if *opts == FieldOptions::default() {
                    f.options = None;
                }
            }
            (None, Some(name)) => return Err(not_found("Field", name)),
            (Some(m), None) => {
                let opts = m.options.get_or_insert_with(MessageOptions::default);
                apply(&mut opts.uninterpreted_option, MESSAGE_META, &e.tags, adding);
                if *opts == MessageOptions::default() {
                    m.options = None;
                }
            }
            (None, None) => return Err(not_found("Message", message_path)),
        }
    }
    Ok(super::print::print(&file, false))
}

fn find<'a>(messages: &'a mut [DescriptorProto], path: &str) -> Option<&'a mut DescriptorProto> {
    let (first, rest) = match path.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (path, None),
    };
    let m = messages.iter_mut().find(|m| m.name() == first)?;
    match rest {
        Some(rest) => find(&mut m.nested_type, rest),
        None => Some(m),
    }
}

/// Adds or removes `tags` in the `tags` list of the `meta` option, creating or dropping the
/// option as needed.
fn apply(options: &mut Vec<UninterpretedOption>, meta: &str, tags: &[String], adding: bool) {
    let is_meta = |o: &UninterpretedOption| o.name.len() == 1 && o.name[0].is_extension && o.name[0].name_part == meta;
    let position = options.iter().position(is_meta);
    let mut fields = match position.and_then(|i| options[i].aggregate_value.as_deref()).and_then(Aggregate::parse) {
        Some(Aggregate::Message(fields)) => fields,
        _ => Vec::new(),
    };
    let mut list = match fields.iter().position(|(k, _)| k == "tags") {
        Some(i) => match fields.remove(i) {
            (_, Aggregate::List(items)) => items,
            (_, other) => vec![other],
        },
        None => Vec::new(),
    };
    for t in tags {
        let tag = Aggregate::Str(t.clone());
        if adding {
            if !list.contains(&tag) {
                list.push(tag);
            }
        } else {
            list.retain(|x| *x != tag);
        }
    }
    if !list.is_empty() {
        fields.insert(0, ("tags".to_string(), Aggregate::List(list)));
    }
    let option = (!fields.is_empty()).then(|| UninterpretedOption {
        name: vec![NamePart { name_part: meta.to_string(), is_extension: true }],
        aggregate_value: Some(Aggregate::Message(fields).to_text()),
        ..Default::default()
    });
    match (position, option) {
        (Some(i), Some(o)) => options[i] = o,
        (Some(i), None) => {
            options.remove(i);
        }
        (None, Some(o)) => options.push(o),
        (None, None) => {}
    }
}

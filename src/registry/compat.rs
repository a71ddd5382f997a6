//! Which versions a compatibility check reads and how its verdict is reported. The format
//! modules decide whether one schema can read another; this file applies the level
//! (direction, latest or transitive) and builds Confluent's verbose messages.

use std::sync::Arc;

use serde_json::Value;

use super::error::{RegistryError, Result};
use super::subjects::latest_live;
use super::{Registry, SchemaInput};
use crate::schema::ParsedSchema;
use crate::store::{Index, StoredSchema};
use crate::types::Level;

const DIFFERENT_TYPE: &str = "Incompatible because of different schema type";

/// Confluent truncates the old schema in messages past 10 KiB.
const OLD_SCHEMA_LIMIT: usize = 10 * 1024;

/// The answer of the compatibility endpoints.
#[derive(Debug, PartialEq)]
pub struct Verdict {
    pub is_compatible: bool,
    pub messages: Vec<String>,
}

/// Messages for one new-vs-old comparison at `level`; empty when compatible. As in
/// Confluent, the old version is named after the last direction checked (BACKWARD in FULL)
/// only when that direction failed.
fn compare(new: &ParsedSchema, old: &ParsedSchema, version: u32, old_text: &str, level: Level) -> Vec<String> {
    if new.schema_type() != old.schema_type() {
        // Confluent reports a type change alone, once, without naming the old version.
        return vec![DIFFERENT_TYPE.to_string()];
    }
    let mut messages = Vec::new();
    let name_old = |mut found: Vec<String>, messages: &mut Vec<String>| {
        if !found.is_empty() {
            found.push(format!("{{oldSchemaVersion: {version}}}"));
            found.push(old_schema_message(old_text));
        }
        messages.extend(found);
    };
    if level.forward() {
        let found = ParsedSchema::incompatibilities(old, new, "old", "new");
        if level.backward() {
            messages.extend(found);
        } else {
            name_old(found, &mut messages);
        }
    }
    if level.backward() {
        name_old(ParsedSchema::incompatibilities(new, old, "new", "old"), &mut messages);
    }
    messages
}

fn old_schema_message(text: &str) -> String {
    if text.len() > OLD_SCHEMA_LIMIT {
        let mut end = OLD_SCHEMA_LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{{oldSchema: '{}<truncated>'}}", &text[..end])
    } else {
        format!("{{oldSchema: '{text}'}}")
    }
}

/// The versions a check at `level` reads from `newest_first`: all of them for a transitive
/// level, else the latest only. Shared with `schemata check`, which fetches versions itself.
pub fn read_at_level<T>(newest_first: impl IntoIterator<Item = T>, level: Level) -> Vec<T> {
    let all = newest_first.into_iter();
    if level.transitive() {
        all.collect()
    } else {
        all.take(1).collect()
    }
}

/// Confluent's verdict for `new` against `previous` (version, parsed schema, its text; newest
/// first, as `read_at_level` picked them): stops at the first version that fails and ends
/// the messages with the level. Empty = compatible. The registry and `schemata check` both
/// judge with this, so offline and online answers agree. `previous` may fail lazily (a
/// stored schema that cannot be parsed); the first error is returned.
pub fn judge<'a, E>(
    new: &ParsedSchema,
    level: Level,
    previous: impl IntoIterator<Item = std::result::Result<(u32, Arc<ParsedSchema>, &'a str), E>>,
) -> std::result::Result<Vec<String>, E> {
    if level == Level::None {
        return Ok(vec![]);
    }
    for old in previous {
        let (version, old, text) = old?;
        let mut messages = compare(new, &old, version, text, level);
        if !messages.is_empty() {
            messages.push(format!("{{validateFields: 'false', compatibility: '{}'}}", level.as_str()));
            return Ok(messages);
        }
    }
    Ok(vec![])
}

impl Registry {
    /// Checks `new` against `previous` (newest first) at `level`, parsing each stored
    /// version only when the check reaches it.
    fn check_versions(
        &self,
        idx: &Index,
        new: &ParsedSchema,
        previous: &[(u32, Arc<StoredSchema>)],
        level: Level,
    ) -> Result<Vec<String>> {
        let old = previous.iter().map(|(v, s)| Ok((*v, self.parsed(idx, s)?, s.record.schema.as_str())));
        judge(new, level, old)
    }

    /// The live versions a check at `level` reads: the latest, or all of them newest first.
    /// With a `compatibilityGroup`, only versions in the new schema's group count.
    fn versions_to_check(
        &self,
        idx: &Index,
        subject: &str,
        new_metadata: Option<&Value>,
        level: Level,
    ) -> Result<Vec<(u32, Arc<StoredSchema>)>> {
        let group = self.effective_config(idx, subject).compatibility_group;
        let group_of = |metadata: Option<&Value>| -> Option<Value> {
            metadata?.get("properties")?.get(group.as_deref()?).cloned()
        };
        let new_group = group_of(new_metadata);
        let live = idx
            .subjects
            .get(subject)
            .into_iter()
            .flat_map(|vs| vs.iter().rev())
            .filter(|(_, s)| !s.deleted)
            .map(|(v, s)| idx.schema(s.id).map(|schema| (*v, schema.clone())))
            .filter(|found| match (found, &group) {
                (Ok((_, s)), Some(_)) => group_of(s.record.metadata.as_deref()) == new_group,
                _ => true,
            });
        Ok(read_at_level(live, level).into_iter().collect::<std::result::Result<_, _>>()?)
    }

    /// The check a registration runs, at the subject's effective level.
    pub(super) fn check_against_subject(
        &self,
        idx: &Index,
        subject: &str,
        new: &ParsedSchema,
        new_metadata: Option<&Value>,
        level: Option<Level>,
    ) -> Result<Vec<String>> {
        let level = level.unwrap_or_else(|| self.effective_level(idx, subject));
        let previous = self.versions_to_check(idx, subject, new_metadata, level)?;
        self.check_versions(idx, new, &previous, level)
    }

    /// POST /compatibility/subjects/{subject}/versions[/{version}]. `version` is `None` for
    /// the collection form (what a registration would check), `Some(None)` for `latest`.
    /// `level` overrides the subject's level (Schemata's `level` query parameter: the web
    /// UI's "try a change" at another level); `None` judges at the subject's, as Confluent.
    pub fn test_compatibility(
        &self,
        subject: &str,
        version: Option<Option<u32>>,
        input: &SchemaInput,
        normalize: bool,
        verbose: bool,
        level: Option<Level>,
    ) -> Result<Verdict> {
        let idx = self.store.read();
        let previous = match version {
            None => None,
            Some(None) => match latest_live(&idx, subject) {
                Some((v, s)) => Some(vec![(v, idx.schema(s.id)?.clone())]),
                None => Some(vec![]),
            },
            Some(Some(v)) => {
                let state = idx.subjects.get(subject).and_then(|vs| vs.get(&v)).filter(|s| !s.deleted);
                let state = state.ok_or(RegistryError::VersionNotFound(v as i64))?;
                Some(vec![(v, idx.schema(state.id)?.clone())])
            }
        };
        let text = match input.schema.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => input.schema.clone().unwrap_or_default(),
            _ => return Err(RegistryError::InvalidSchema("Empty schema".into())),
        };
        let normalize = normalize || self.effective_config(&idx, subject).normalize.unwrap_or(false);
        let prepared = match self.prepare(&idx, subject, input, &text, normalize, normalize) {
            Ok(p) => p,
            Err(RegistryError::InvalidSchema(msg)) if verbose => {
                return Ok(Verdict { is_compatible: false, messages: vec![msg] });
            }
            Err(e) => return Err(e),
        };
        let metadata = prepared.record.metadata.as_deref();
        let messages = match previous {
            None => self.check_against_subject(&idx, subject, &prepared.parsed, metadata, level)?,
            Some(previous) => {
                let level = level.unwrap_or_else(|| self.effective_level(&idx, subject));
                self.check_versions(&idx, &prepared.parsed, &previous, level)?
            }
        };
        Ok(Verdict { is_compatible: messages.is_empty(), messages: if verbose { messages } else { vec![] } })
    }
}

//! Confluent's `_schemas` record format, both ways: the registry's `Change`s as the keys and
//! values Confluent Schema Registry writes (JSON, its field order, empty fields left out,
//! tombstones for deletes), and any record found in the topic (written by Schemata, Confluent
//! or Karapace) as the `Change`s that apply it to the index.
//!
//! Schemata keeps a schema once by id and a subject's versions as (version → id); the topic
//! keeps one record per (subject, version) carrying the whole schema. So a version write
//! becomes a SCHEMA record with its schema's text, and reading one back yields the schema
//! (unless the index has it already) and the version.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::index::{Change, Index};
use crate::store::StoreError;
use crate::types::{
    context_of, Config, Level, Mode, Reference, SchemaRecord, SchemaType, Scope, VersionState, DEFAULT_CONTEXT,
};

/// Confluent's tenant for a single-tenant registry.
const TENANT: &str = "default";

/// One record of the topic: a JSON key and a JSON value, or no value (a tombstone).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// The key of a record, as Confluent writes them (`magic` 1 for schemas, 0 for the rest).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "keytype", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Key {
    Schema {
        subject: String,
        version: i64,
        #[serde(default = "schema_magic")]
        magic: i32,
    },
    Config {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        #[serde(default)]
        magic: i32,
    },
    Mode {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        #[serde(default)]
        magic: i32,
    },
    Noop {
        #[serde(default)]
        magic: i32,
    },
    DeleteSubject {
        subject: String,
        #[serde(default)]
        magic: i32,
    },
    ClearSubject {
        subject: String,
        #[serde(default)]
        magic: i32,
    },
    Context {
        #[serde(default = "default_tenant")]
        tenant: String,
        context: String,
        #[serde(default)]
        magic: i32,
    },
}

fn schema_magic() -> i32 {
    1
}

fn default_tenant() -> String {
    TENANT.to_string()
}

/// The value of a SCHEMA record (Confluent's `SchemaValue`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaValue {
    pub subject: String,
    pub version: i64,
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<Value>,
    pub schema: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub deleted: bool,
}

/// The value of a CONFIG record (Confluent's `ConfigValue`), in its field order. Older
/// writers (and Karapace) leave `subject` out: the key says it.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_fields: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_rules: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_rule_set: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_rule_set: Option<Value>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct ModeValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub mode: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct DeleteSubjectValue {
    pub subject: String,
    pub version: i64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct ContextValue {
    pub tenant: String,
    pub context: String,
}

/// `null` read as the type's default (Karapace and older writers put nulls where Confluent
/// leaves a field out).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(value)?)
}

fn subject_of(scope: &Scope) -> Option<String> {
    match scope {
        Scope::Global => None,
        Scope::Subject(s) => Some(s.clone()),
    }
}

/// The records that make a batch of writes in the topic, in order. A version's schema is
/// taken from the same batch (a new schema) or from `idx` (an existing one).
pub fn for_writes<'a>(
    writes: impl Iterator<Item = &'a [Change]> + Clone,
    idx: &Index,
) -> Result<Vec<Record>, StoreError> {
    let new_schemas: HashMap<u32, &SchemaRecord> = writes
        .clone()
        .flatten()
        .filter_map(|c| match c {
            Change::PutSchema(id, record) => Some((*id, record)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for changes in writes {
        match subject_soft_delete(changes, idx) {
            Some(record) => out.push(record?),
            None => for_changes(changes, idx, &new_schemas, &mut out)?,
        }
    }
    Ok(out)
}

/// A write that soft deletes every live version of one subject is one DELETE_SUBJECT record,
/// as Confluent writes it (readers mark the versions up to `version` deleted).
fn subject_soft_delete(changes: &[Change], idx: &Index) -> Option<Result<Record, StoreError>> {
    let mut subject = None;
    let mut versions = Vec::new();
    for change in changes {
        match change {
            Change::PutVersion(s, v, state) if state.deleted && subject.is_none_or(|x: &String| x == s) => {
                subject = Some(s);
                versions.push(*v);
            }
            _ => return None,
        }
    }
    let subject = subject?;
    let live = idx.subjects.get(subject).into_iter().flat_map(|vs| vs.iter()).filter(|(_, s)| !s.deleted);
    if live.clone().any(|(v, _)| !versions.contains(v)) {
        return None;
    }
    let version = i64::from(*versions.iter().max()?);
    let record = || -> Result<Record, StoreError> {
        Ok(Record {
            key: json(&Key::DeleteSubject { subject: subject.clone(), magic: 0 })?,
            value: Some(json(&DeleteSubjectValue { subject: subject.clone(), version })?),
        })
    };
    Some(record())
}

fn for_changes(
    changes: &[Change],
    idx: &Index,
    new_schemas: &HashMap<u32, &SchemaRecord>,
    out: &mut Vec<Record>,
) -> Result<(), StoreError> {
    for change in changes {
        let record = match change {
            // A schema lives in the topic only inside the versions that use it; the next id
            // is the largest id read plus one.
            Change::PutSchema(..) | Change::DeleteSchema(_) | Change::SetNextId(_) => continue,
            Change::PutVersion(subject, version, state) => {
                let schema = match new_schemas.get(&state.id) {
                    Some(record) => *record,
                    None => {
                        &idx.schemas
                            .get(&state.id)
                            .ok_or_else(|| {
                                StoreError::Encode(format!("schema {} of {subject} is not known", state.id))
                            })?
                            .record
                    }
                };
                Record {
                    key: json(&Key::Schema { subject: subject.clone(), version: i64::from(*version), magic: 1 })?,
                    value: Some(json(&schema_value(subject, *version, *state, schema))?),
                }
            }
            Change::DeleteVersion(subject, version) => Record {
                key: json(&Key::Schema { subject: subject.clone(), version: i64::from(*version), magic: 1 })?,
                value: None,
            },
            Change::PutConfig(scope, config) => Record {
                key: json(&Key::Config { subject: subject_of(scope), magic: 0 })?,
                value: Some(json(&config_value(subject_of(scope), config))?),
            },
            Change::DeleteConfig(scope) => {
                Record { key: json(&Key::Config { subject: subject_of(scope), magic: 0 })?, value: None }
            }
            Change::PutMode(scope, mode) => Record {
                key: json(&Key::Mode { subject: subject_of(scope), magic: 0 })?,
                value: Some(json(&ModeValue { subject: subject_of(scope), mode: mode.as_str().to_string() })?),
            },
            Change::DeleteMode(scope) => {
                Record { key: json(&Key::Mode { subject: subject_of(scope), magic: 0 })?, value: None }
            }
            // Confluent records non-default contexts only.
            Change::PutContext(context) if context == DEFAULT_CONTEXT => continue,
            Change::PutContext(context) => Record {
                key: json(&Key::Context { tenant: TENANT.into(), context: context.clone(), magic: 0 })?,
                value: Some(json(&ContextValue { tenant: TENANT.into(), context: context.clone() })?),
            },
        };
        out.push(record);
    }
    Ok(())
}

/// The key of a NOOP record (written with no value to learn the log end).
pub fn noop_key() -> Result<Vec<u8>, StoreError> {
    json(&Key::Noop { magic: 0 })
}

fn schema_value(subject: &str, version: u32, state: VersionState, schema: &SchemaRecord) -> SchemaValue {
    SchemaValue {
        subject: subject.to_string(),
        version: i64::from(version),
        id: i64::from(state.id),
        // Confluent 7.x writes `md5` only beside encrypted metadata properties, which
        // Schemata does not make; readers derive the digest from the fields.
        md5: None,
        schema_type: (schema.schema_type != SchemaType::Avro).then(|| schema.schema_type.as_str().to_string()),
        references: schema.references.clone(),
        metadata: schema.metadata.as_deref().cloned(),
        rule_set: schema.rule_set.as_deref().cloned(),
        schema: schema.schema.clone(),
        deleted: state.deleted,
    }
}

fn config_value(subject: Option<String>, config: &Config) -> ConfigValue {
    ConfigValue {
        subject,
        compatibility_level: config.compatibility_level.map(|l| l.as_str().to_string()),
        alias: config.alias.clone(),
        normalize: config.normalize,
        validate_fields: config.validate_fields,
        validate_rules: config.validate_rules,
        compatibility_group: config.compatibility_group.clone(),
        default_metadata: config.default_metadata.clone(),
        override_metadata: config.override_metadata.clone(),
        default_rule_set: config.default_rule_set.clone(),
        override_rule_set: config.override_rule_set.clone(),
    }
}

/// What one record read from the topic means.
#[derive(Debug)]
pub enum Read {
    /// Changes to apply (possibly none: a NOOP, or a record the index already reflects).
    Apply(Vec<Change>),
    /// A key type this build does not know (a newer writer's): skipped, as Confluent skips.
    Unknown(String),
    /// A SCHEMA record that would give a taken id to another schema, or a written version
    /// another schema: only a deposed leader that went on writing produces one. Skipped, so
    /// that the first write in log order wins on every node alike, and its writer is told.
    Conflict(String),
}

/// The changes a record read from the topic makes to `idx`; an error names what is wrong
/// with the record (it is then logged with its offset and skipped).
pub fn read(key: Option<&[u8]>, value: Option<&[u8]>, idx: &Index) -> Result<Read, String> {
    let key = key.ok_or("a record without a key")?;
    let raw: Value = serde_json::from_slice(key).map_err(|e| format!("the key is not JSON: {e}"))?;
    let keytype = raw.get("keytype").and_then(Value::as_str).ok_or("the key has no keytype")?.to_string();
    const KNOWN: [&str; 7] = ["SCHEMA", "CONFIG", "MODE", "NOOP", "DELETE_SUBJECT", "CLEAR_SUBJECT", "CONTEXT"];
    if !KNOWN.contains(&keytype.as_str()) {
        return Ok(Read::Unknown(keytype));
    }
    let key: Key = serde_json::from_value(raw).map_err(|e| format!("bad {keytype} key: {e}"))?;
    let value = value.filter(|v| !v.is_empty() && *v != b"null");
    let parse = |what: &str| -> Result<Value, String> {
        serde_json::from_slice(value.unwrap_or_default()).map_err(|e| format!("bad {what} value: {e}"))
    };
    let changes = match (key, value) {
        (Key::Schema { subject, version, .. }, Some(_)) => {
            let v: SchemaValue =
                serde_json::from_value(parse("SCHEMA")?).map_err(|e| format!("bad SCHEMA value: {e}"))?;
            if v.subject != subject || v.version != version {
                return Err(format!("SCHEMA value for {}/{} under the key {subject}/{version}", v.subject, v.version));
            }
            match read_schema(v, idx)? {
                Ok(changes) => changes,
                Err(conflict) => return Ok(Read::Conflict(conflict)),
            }
        }
        (Key::Schema { subject, version, .. }, None) => {
            let version = u32::try_from(version).map_err(|_| format!("bad version {version}"))?;
            delete_version(idx, &subject, version)
        }
        (Key::Config { subject, .. }, Some(_)) => {
            let v: ConfigValue =
                serde_json::from_value(parse("CONFIG")?).map_err(|e| format!("bad CONFIG value: {e}"))?;
            vec![Change::PutConfig(scope(subject), read_config(v)?)]
        }
        (Key::Config { subject, .. }, None) => {
            let scope = scope(subject);
            if idx.configs.contains_key(&scope) {
                vec![Change::DeleteConfig(scope)]
            } else {
                vec![]
            }
        }
        (Key::Mode { subject, .. }, Some(_)) => {
            let v: ModeValue = serde_json::from_value(parse("MODE")?).map_err(|e| format!("bad MODE value: {e}"))?;
            let mode = Mode::parse(&v.mode).ok_or_else(|| format!("unknown mode {}", v.mode))?;
            vec![Change::PutMode(scope(subject), mode)]
        }
        (Key::Mode { subject, .. }, None) => {
            let scope = scope(subject);
            if idx.modes.contains_key(&scope) {
                vec![Change::DeleteMode(scope)]
            } else {
                vec![]
            }
        }
        (Key::DeleteSubject { subject, .. }, Some(_)) => {
            let v: DeleteSubjectValue = serde_json::from_value(parse("DELETE_SUBJECT")?)
                .map_err(|e| format!("bad DELETE_SUBJECT value: {e}"))?;
            soft_delete_up_to(idx, &subject, v.version)
        }
        (Key::ClearSubject { subject, .. }, Some(_)) => clear_subject(idx, &subject),
        (Key::Context { context, .. }, Some(_)) => {
            if idx.contexts.contains(&context) {
                vec![]
            } else {
                vec![Change::PutContext(context)]
            }
        }
        // NOOPs, and tombstones of keys that carry no state of their own.
        (Key::Noop { .. }, _) | (Key::DeleteSubject { .. }, None) | (Key::ClearSubject { .. }, None) => vec![],
        (Key::Context { .. }, None) => vec![],
    };
    Ok(Read::Apply(changes))
}

fn scope(subject: Option<String>) -> Scope {
    match subject {
        None => Scope::Global,
        Some(s) => Scope::Subject(s),
    }
}

fn read_config(v: ConfigValue) -> Result<Config, String> {
    let level = match v.compatibility_level {
        None => None,
        Some(l) => Some(Level::parse(&l).ok_or_else(|| format!("unknown compatibility level {l}"))?),
    };
    Ok(Config {
        compatibility_level: level,
        normalize: v.normalize,
        validate_fields: v.validate_fields,
        validate_rules: v.validate_rules,
        alias: v.alias,
        compatibility_group: v.compatibility_group,
        default_metadata: v.default_metadata,
        override_metadata: v.override_metadata,
        default_rule_set: v.default_rule_set,
        override_rule_set: v.override_rule_set,
    })
}

/// The changes a SCHEMA value makes; the inner error is a conflict with what is applied.
fn read_schema(v: SchemaValue, idx: &Index) -> Result<Result<Vec<Change>, String>, String> {
    let id = u32::try_from(v.id).map_err(|_| format!("bad schema id {}", v.id))?;
    let version =
        u32::try_from(v.version).ok().filter(|&v| v > 0).ok_or_else(|| format!("bad version {}", v.version))?;
    let schema_type = match v.schema_type.as_deref() {
        None => SchemaType::Avro,
        Some(t) => SchemaType::parse(t).ok_or_else(|| format!("unknown schemaType {t}"))?,
    };
    // Confluent writes empty metadata and rule sets as absent; `{}` means the same.
    let present = |v: Option<Value>| v.filter(|v| !v.is_null() && v.as_object().is_none_or(|m| !m.is_empty()));
    let record = SchemaRecord {
        schema_type,
        schema: v.schema,
        references: v.references,
        metadata: present(v.metadata).map(Box::new),
        rule_set: present(v.rule_set).map(Box::new),
    };
    let mut changes = Vec::new();
    match idx.schemas.get(&id) {
        Some(stored) if stored.record == record => {}
        Some(_) => {
            return Ok(Err(format!(
                "schema id {id} of {}/{version} is already another schema (ids are global across contexts in \
                 Schemata)",
                v.subject
            )))
        }
        None => changes.push(Change::PutSchema(id, record)),
    }
    let context = context_of(&v.subject);
    if !idx.contexts.contains(context) {
        changes.push(Change::PutContext(context.to_string()));
    }
    let state = VersionState { id, deleted: v.deleted };
    let old = idx.subjects.get(&v.subject).and_then(|vs| vs.get(&version)).copied();
    if let Some(old) = old.filter(|o| o.id != id) {
        return Ok(Err(format!("version {version} of {} is already schema id {}, not {id}", v.subject, old.id)));
    }
    if old == Some(state) && changes.is_empty() {
        return Ok(Ok(vec![]));
    }
    changes.push(Change::PutVersion(v.subject.clone(), version, state));
    Ok(Ok(changes))
}

/// A hard delete of one version: the version, and its schema once nothing else uses it.
fn delete_version(idx: &Index, subject: &str, version: u32) -> Vec<Change> {
    let Some(state) = idx.subjects.get(subject).and_then(|vs| vs.get(&version)) else {
        return vec![];
    };
    let mut changes = vec![Change::DeleteVersion(subject.to_string(), version)];
    changes.extend(drop_if_unused(idx, state.id, &[(subject, version)]));
    changes
}

/// `DeleteSchema(id)` when no version but `removed` uses the schema.
fn drop_if_unused(idx: &Index, id: u32, removed: &[(&str, u32)]) -> Option<Change> {
    let uses = idx.usages.get(&id)?;
    let used = uses.iter().any(|(s, v)| !removed.iter().any(|(rs, rv)| rs == s && rv == v));
    (!used).then_some(Change::DeleteSchema(id))
}

/// DELETE_SUBJECT: every live version up to `version` becomes soft deleted.
fn soft_delete_up_to(idx: &Index, subject: &str, version: i64) -> Vec<Change> {
    let Some(versions) = idx.subjects.get(subject) else {
        return vec![];
    };
    versions
        .iter()
        .filter(|(v, s)| i64::from(**v) <= version && !s.deleted)
        .map(|(v, s)| Change::PutVersion(subject.to_string(), *v, VersionState { id: s.id, deleted: true }))
        .collect()
}

/// CLEAR_SUBJECT: the soft-deleted versions of the subject (of every subject of the context,
/// for a bare context `:.ctx:`) are gone for good.
fn clear_subject(idx: &Index, subject: &str) -> Vec<Change> {
    let whole_context = subject.starts_with(":.") && subject.ends_with(':');
    let matches = |s: &str| s == subject || (whole_context && context_of(s) == context_of(subject));
    let mut removed: Vec<(&str, u32)> = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    for (s, versions) in idx.subjects.iter().filter(|(s, _)| matches(s)) {
        for (v, state) in versions.iter().filter(|(_, state)| state.deleted) {
            removed.push((s, *v));
            ids.push(state.id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let mut changes: Vec<Change> = removed.iter().map(|(s, v)| Change::DeleteVersion(s.to_string(), *v)).collect();
    changes.extend(ids.into_iter().filter_map(|id| drop_if_unused(idx, id, &removed)));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    fn avro(schema: &str) -> SchemaRecord {
        SchemaRecord {
            schema_type: SchemaType::Avro,
            schema: schema.into(),
            references: vec![],
            metadata: None,
            rule_set: None,
        }
    }

    /// Applies records in order, as the reader does.
    fn replay(records: &[(&str, Option<&str>)]) -> Index {
        let mut idx = Index { next_id: 1, ..Index::default() };
        for (key, value) in records {
            match read(Some(key.as_bytes()), value.map(str::as_bytes), &idx).unwrap() {
                Read::Apply(changes) => changes.into_iter().for_each(|c| idx.apply(c)),
                Read::Unknown(k) => panic!("unknown {k}"),
                Read::Conflict(c) => panic!("conflict {c}"),
            }
        }
        idx
    }

    #[test]
    fn writes_are_confluents_bytes() {
        let idx = Index::default();
        let protobuf = SchemaRecord {
            schema_type: SchemaType::Protobuf,
            references: vec![Reference { name: "a.proto".into(), subject: "a".into(), version: 1 }],
            ..avro("syntax = \"proto3\";")
        };
        let register = [
            Change::PutSchema(7, protobuf),
            Change::SetNextId(8),
            Change::PutContext(".".into()),
            Change::PutVersion("p".into(), 2, VersionState { id: 7, deleted: false }),
        ];
        let config = [Change::PutConfig(
            Scope::Subject("p".into()),
            Config { compatibility_level: Some(Level::Full), normalize: Some(false), ..Config::default() },
        )];
        let global_mode = [Change::PutMode(Scope::Global, Mode::Readonly)];
        let hard_delete = [Change::DeleteVersion("p".into(), 1)];
        let writes: [&[Change]; 4] = [&register, &config, &global_mode, &hard_delete];
        let records = for_writes(writes.into_iter(), &idx).unwrap();
        let shown: Vec<(&str, Option<&str>)> =
            records.iter().map(|r| (text(&r.key), r.value.as_deref().map(text))).collect();
        assert_eq!(
            shown,
            [
                (
                    r#"{"keytype":"SCHEMA","subject":"p","version":2,"magic":1}"#,
                    Some(
                        r#"{"subject":"p","version":2,"id":7,"schemaType":"PROTOBUF","references":[{"name":"a.proto","subject":"a","version":1}],"schema":"syntax = \"proto3\";","deleted":false}"#
                    )
                ),
                (
                    r#"{"keytype":"CONFIG","subject":"p","magic":0}"#,
                    Some(r#"{"subject":"p","normalize":false,"compatibilityLevel":"FULL"}"#)
                ),
                (r#"{"keytype":"MODE","magic":0}"#, Some(r#"{"mode":"READONLY"}"#)),
                (r#"{"keytype":"SCHEMA","subject":"p","version":1,"magic":1}"#, None),
            ]
        );
    }

    #[test]
    fn a_whole_subject_soft_delete_is_one_delete_subject_record() {
        let mut idx = Index::default();
        idx.apply(Change::PutSchema(1, avro("\"int\"")));
        for v in [1, 2] {
            idx.apply(Change::PutVersion("s".into(), v, VersionState { id: 1, deleted: false }));
        }
        let all: Vec<Change> =
            [1, 2].map(|v| Change::PutVersion("s".into(), v, VersionState { id: 1, deleted: true })).to_vec();
        let records = for_writes(std::iter::once(all.as_slice()), &idx).unwrap();
        assert_eq!(text(&records[0].key), r#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#);
        assert_eq!(records[0].value.as_deref().map(text), Some(r#"{"subject":"s","version":2}"#));
        // One of two live versions stays a SCHEMA record.
        let one = &all[..1];
        let records = for_writes(std::iter::once(one), &idx).unwrap();
        assert!(text(records[0].value.as_ref().unwrap()).ends_with(r#""deleted":true}"#));
    }

    #[test]
    fn reads_confluent_and_karapace_records() {
        let idx = replay(&[
            (
                r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
                Some(r#"{"subject":"s","version":1,"id":1,"schema":"\"int\"","deleted":false}"#),
            ),
            // Karapace: keytype last, schemaType after deleted, escaped slash.
            (
                r#"{"subject":"s","version":2,"magic":1,"keytype":"SCHEMA"}"#,
                Some(r#"{"subject":"s","version":2,"id":2,"schema":"\"a\/b\"","deleted":false,"schemaType":"JSON"}"#),
            ),
            (
                r#"{"keytype":"SCHEMA","subject":"t","version":1,"magic":1}"#,
                Some(r#"{"subject":"t","version":1,"id":1,"schema":"\"int\"","deleted":false}"#),
            ),
            (r#"{"keytype":"CONFIG","subject":null,"magic":0}"#, Some(r#"{"compatibilityLevel":"FULL"}"#)),
            (r#"{"keytype":"MODE","subject":"t","magic":0}"#, Some(r#"{"subject":"t","mode":"READONLY"}"#)),
            (r#"{"keytype":"DELETE_SUBJECT","subject":"t","magic":0}"#, Some(r#"{"subject":"t","version":1}"#)),
            // Karapace's hard delete is an empty value, not a tombstone.
            (r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#, Some("")),
            (r#"{"keytype":"NOOP","magic":0}"#, None),
        ]);
        assert_eq!(idx.subjects["s"].keys().copied().collect::<Vec<_>>(), [2]);
        assert_eq!(idx.schemas[&2].record.schema, "\"a/b\"");
        assert_eq!(idx.schemas[&2].record.schema_type, SchemaType::Json);
        assert!(idx.subjects["t"][&1].deleted);
        // Schema 1 is still used by t (soft deleted), so it stays.
        assert!(idx.schemas.contains_key(&1));
        assert_eq!(idx.configs[&Scope::Global].compatibility_level, Some(Level::Full));
        assert_eq!(idx.modes[&Scope::Subject("t".into())], Mode::Readonly);
        assert_eq!(idx.next_id, 3);
    }

    #[test]
    fn unknown_and_malformed_records_are_told_apart() {
        let idx = Index::default();
        let unknown = read(Some(br#"{"keytype":"ASSOC","magic":0}"#), Some(b"{}"), &idx).unwrap();
        assert!(matches!(unknown, Read::Unknown(k) if k == "ASSOC"));
        for (key, value) in [
            (&b"not json"[..], Some(&b"{}"[..])),
            (br#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#, Some(b"{")),
            (
                br#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
                Some(br#"{"subject":"x","version":1,"id":1,"schema":"1"}"#),
            ),
            (br#"{"keytype":"MODE","magic":0}"#, Some(br#"{"mode":"SIDEWAYS"}"#)),
        ] {
            assert!(read(Some(key), value, &idx).is_err(), "{}", text(key));
        }
        assert!(read(None, None, &idx).is_err());
    }

    #[test]
    fn a_second_writer_of_a_taken_version_or_id_loses_to_the_first() {
        let first = (
            r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#,
            r#"{"subject":"s","version":1,"id":1,"schema":"\"int\"","deleted":false}"#,
        );
        let idx = replay(&[(first.0, Some(first.1))]);
        let conflicts = [
            // The same version as another id (a deposed leader planned on an older state).
            (first.0, r#"{"subject":"s","version":1,"id":2,"schema":"\"long\"","deleted":false}"#),
            // The same id for another schema, under another subject.
            (
                r#"{"keytype":"SCHEMA","subject":"t","version":1,"magic":1}"#,
                r#"{"subject":"t","version":1,"id":1,"schema":"\"long\"","deleted":false}"#,
            ),
        ];
        for (key, value) in conflicts {
            let read = read(Some(key.as_bytes()), Some(value.as_bytes()), &idx).unwrap();
            assert!(matches!(read, Read::Conflict(_)), "{value}: {read:?}");
        }
        // The same record again, or its soft delete, is no conflict.
        let soft = r#"{"subject":"s","version":1,"id":1,"schema":"\"int\"","deleted":true}"#;
        for value in [first.1, soft] {
            assert!(matches!(read(Some(first.0.as_bytes()), Some(value.as_bytes()), &idx), Ok(Read::Apply(_))));
        }
    }
}

//! Writes an export into a registry with its ids and versions, through Confluent's REST API in
//! IMPORT mode. It first compares the whole file with the target and stops, having written
//! nothing, if any version or id is already there with another schema; what is there with the
//! same schema is skipped, so an import can be run again and resumes where it stopped.
//! Referenced versions are registered before their users, soft-deleted versions are deleted
//! after all are in, then configs and subject modes are set. Only the file's subjects are put
//! in IMPORT mode, and only for the import: a live target goes on taking other writes.

use std::collections::{HashMap, HashSet};

use schemata_codec::client::blocking::RegistryClient;
use schemata_codec::client::path_segment as seg;
use schemata_codec::Error;
use serde_json::{json, Map, Value};

use super::progress::Progress;
use super::Dump;
use crate::store::kafka::records::{ConfigValue, SchemaValue};

/// How many conflicts a refused import lists.
const REPORTED: usize = 20;

/// A subject version as (subject, version).
type Version = (String, i64);

pub fn import(client: &RegistryClient, dump: &Dump) -> Result<(), String> {
    let target = Target::read(client, dump)?;
    let conflicts = target.conflicts(dump);
    if !conflicts.is_empty() {
        let shown: Vec<&str> = conflicts.iter().take(REPORTED).map(String::as_str).collect();
        return Err(format!(
            "{} conflict(s) with what the target holds; nothing was written:\n  {}",
            conflicts.len(),
            shown.join("\n  ")
        ));
    }
    // IMPORT mode on the file's subjects only (each context has a global mode of its own, and
    // other subjects of a live target keep taking writes).
    let subjects: Vec<&str> = {
        let mut s: Vec<&str> = dump.schemas.iter().map(|s| s.subject.as_str()).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut previous = Vec::with_capacity(subjects.len());
    for subject in &subjects {
        let path = format!("/mode/{}", seg(subject));
        let mode = match client.get(&path) {
            Ok(b) => b.get("mode").and_then(Value::as_str).map(str::to_string),
            Err(Error::Registry { error_code: 40409 | 40401, .. }) => None,
            Err(e) => return Err(format!("GET {path}: {e}")),
        };
        put(client, &format!("{path}?force=true"), json!({ "mode": "IMPORT" }))?;
        previous.push((*subject, mode));
    }
    let outcome = write_all(client, dump, &target);
    // The modes go back whatever happened (a failed import can be run again): the file's
    // subject mode where it has one, else what the target had.
    let mut restored = Ok(());
    for (subject, mode) in previous {
        let path = format!("/mode/{}", seg(subject));
        let wanted = dump.modes.iter().find(|(s, _)| s.as_deref() == Some(subject)).map(|(_, m)| m.clone()).or(mode);
        let done = match wanted {
            Some(mode) => put(client, &format!("{path}?force=true"), json!({ "mode": mode })),
            None => client.delete(&path).map(|_| ()).map_err(|e| format!("DELETE {path}: {e}")),
        };
        restored = restored.and(done);
    }
    outcome?;
    restored
}

fn write_all(client: &RegistryClient, dump: &Dump, target: &Target) -> Result<(), String> {
    // Registrations, each once its references are in.
    let mut pending: Vec<&SchemaValue> =
        dump.schemas.iter().filter(|s| !target.versions.contains_key(&(s.subject.clone(), s.version))).collect();
    pending.sort_by(|a, b| (&a.subject, a.version).cmp(&(&b.subject, b.version)));
    let mut present: HashSet<Version> = target.versions.keys().cloned().collect();
    let mut progress = Progress::new("importing", pending.len());
    while !pending.is_empty() {
        let before = pending.len();
        let mut waiting = Vec::new();
        for s in pending {
            let ready = s.references.iter().all(|r| present.contains(&(r.subject.clone(), i64::from(r.version))));
            if !ready {
                waiting.push(s);
                continue;
            }
            register(client, s)?;
            present.insert((s.subject.clone(), s.version));
            progress.tick();
        }
        if waiting.len() == before {
            let missing: Vec<String> =
                waiting.iter().take(REPORTED).map(|s| format!("version {} of {}", s.version, s.subject)).collect();
            return Err(format!("references that neither the file nor the target holds, for: {}", missing.join(", ")));
        }
        pending = waiting;
    }
    progress.done();

    // Soft deletes: the users of a schema before the schema they reference.
    let mut deleted: Vec<&SchemaValue> = dump
        .schemas
        .iter()
        .filter(|s| s.deleted && !target.deleted.contains(&(s.subject.clone(), s.version)))
        .collect();
    deleted.sort_by_key(|s| std::cmp::Reverse(s.id));
    for s in deleted {
        let path = format!("/subjects/{}/versions/{}", seg(&s.subject), s.version);
        client.delete(&path).map_err(|e| format!("soft-deleting version {} of {}: {e}", s.version, s.subject))?;
    }

    for (subject, config) in &dump.configs {
        let path = subject.as_ref().map_or("/config".to_string(), |s| format!("/config/{}", seg(s)));
        put(client, &path, config_body(config))?;
    }
    // Modes of subjects without versions in the file; the others are set by the caller once
    // the import is over. The global mode stays the target's own.
    for (subject, mode) in &dump.modes {
        if let Some(subject) = subject.as_deref().filter(|s| !dump.schemas.iter().any(|v| v.subject == *s)) {
            put(client, &format!("/mode/{}?force=true", seg(subject)), json!({ "mode": mode }))?;
        }
    }
    Ok(())
}

fn register(client: &RegistryClient, s: &SchemaValue) -> Result<(), String> {
    let mut body = json!({
        "schema": s.schema,
        "references": s.references,
        "id": s.id,
        "version": s.version,
    });
    if let Some(t) = &s.schema_type {
        body["schemaType"] = json!(t);
    }
    if let Some(m) = &s.metadata {
        body["metadata"] = m.clone();
    }
    if let Some(r) = &s.rule_set {
        body["ruleSet"] = r.clone();
    }
    let path = format!("/subjects/{}/versions", seg(&s.subject));
    let answer = client.post(&path, &body).map_err(|e| format!("version {} of {}: {e}", s.version, s.subject))?;
    match answer.get("id").and_then(Value::as_i64) {
        Some(id) if id == s.id => Ok(()),
        other => Err(format!("version {} of {} was given id {other:?}, not {}", s.version, s.subject, s.id)),
    }
}

/// A config as `PUT /config` takes it.
fn config_body(c: &ConfigValue) -> Value {
    let mut body = Map::new();
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            body.insert(k.to_string(), v);
        }
    };
    set("compatibility", c.compatibility_level.clone().map(Value::from));
    set("alias", c.alias.clone().map(Value::from));
    set("normalize", c.normalize.map(Value::from));
    set("validateFields", c.validate_fields.map(Value::from));
    set("validateRules", c.validate_rules.map(Value::from));
    set("compatibilityGroup", c.compatibility_group.clone().map(Value::from));
    set("defaultMetadata", c.default_metadata.clone());
    set("overrideMetadata", c.override_metadata.clone());
    set("defaultRuleSet", c.default_rule_set.clone());
    set("overrideRuleSet", c.override_rule_set.clone());
    Value::Object(body)
}

fn put(client: &RegistryClient, path: &str, body: Value) -> Result<(), String> {
    client.put(path, &body).map(|_| ()).map_err(|e| format!("PUT {path}: {e}"))
}

/// What the target holds of the subjects and ids the file names.
struct Target {
    /// (subject, version) → (id, schema text).
    versions: HashMap<Version, (i64, String)>,
    /// Versions the target holds soft-deleted.
    deleted: HashSet<Version>,
    /// Ids the file uses that the target holds, with their schema text.
    ids: HashMap<i64, String>,
}

impl Target {
    fn read(client: &RegistryClient, dump: &Dump) -> Result<Target, String> {
        let mut target = Target { versions: HashMap::new(), deleted: HashSet::new(), ids: HashMap::new() };
        let subjects: HashSet<&str> = dump.schemas.iter().map(|s| s.subject.as_str()).collect();
        let mut progress = Progress::new("comparing", subjects.len());
        for subject in subjects {
            let versions = |path: String| match client.get(&path) {
                Ok(v) => Ok(v.as_array().into_iter().flatten().filter_map(Value::as_i64).collect::<Vec<_>>()),
                Err(Error::Registry { error_code: 40401, .. }) => Ok(vec![]),
                Err(e) => Err(format!("subject {subject} in the target: {e}")),
            };
            let all = versions(format!("/subjects/{}/versions?deleted=true", seg(subject)))?;
            let live = versions(format!("/subjects/{}/versions", seg(subject)))?;
            for v in all {
                let body = client
                    .get(&format!("/subjects/{}/versions/{v}?deleted=true", seg(subject)))
                    .map_err(|e| format!("version {v} of {subject} in the target: {e}"))?;
                let id = body.get("id").and_then(Value::as_i64).unwrap_or(-1);
                let text = body.get("schema").and_then(Value::as_str).unwrap_or_default().to_string();
                target.versions.insert((subject.to_string(), v), (id, text));
                if !live.contains(&v) {
                    target.deleted.insert((subject.to_string(), v));
                }
            }
            progress.tick();
        }
        progress.done();
        let known: HashSet<i64> = target.versions.values().map(|(id, _)| *id).collect();
        let ids: HashSet<i64> = dump.schemas.iter().map(|s| s.id).filter(|id| !known.contains(id)).collect();
        for id in ids {
            match client.get(&format!("/schemas/ids/{id}")) {
                Ok(body) => {
                    let text = body.get("schema").and_then(Value::as_str).unwrap_or_default().to_string();
                    target.ids.insert(id, text);
                }
                Err(Error::Registry { error_code: 40403, .. }) => {}
                Err(e) => return Err(format!("schema id {id} in the target: {e}")),
            }
        }
        Ok(target)
    }

    /// Every version or id of the file the target holds with another schema.
    fn conflicts(&self, dump: &Dump) -> Vec<String> {
        let mut out = Vec::new();
        let by_id: HashMap<i64, &str> = self
            .versions
            .values()
            .map(|(id, t)| (*id, t.as_str()))
            .chain(self.ids.iter().map(|(i, t)| (*i, t.as_str())))
            .collect();
        for s in &dump.schemas {
            if let Some((id, text)) = self.versions.get(&(s.subject.clone(), s.version)) {
                if *id != s.id || *text != s.schema {
                    out.push(format!(
                        "version {} of {} is schema id {id} in the target, id {} in the file{}",
                        s.version,
                        s.subject,
                        s.id,
                        if *id == s.id { " (with another text)" } else { "" }
                    ));
                }
            } else if by_id.get(&s.id).is_some_and(|text| *text != s.schema) {
                out.push(format!(
                    "schema id {} holds another schema in the target (version {} of {})",
                    s.id, s.version, s.subject
                ));
            }
        }
        out
    }
}

/// Checks that the target holds every version of the file with its id, schema and deletion.
pub fn verify(client: &RegistryClient, dump: &Dump) -> Result<(), String> {
    let target = Target::read(client, dump)?;
    let mut wrong = target.conflicts(dump);
    for s in &dump.schemas {
        let key = (s.subject.clone(), s.version);
        if !target.versions.contains_key(&key) {
            wrong.push(format!("version {} of {} is missing", s.version, s.subject));
        } else if s.deleted != target.deleted.contains(&key) {
            wrong.push(format!(
                "version {} of {} is {}deleted in the target",
                s.version,
                s.subject,
                if s.deleted { "not " } else { "" }
            ));
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = wrong.iter().take(REPORTED).map(String::as_str).collect();
    Err(format!("{} difference(s) after the import:\n  {}", wrong.len(), shown.join("\n  ")))
}

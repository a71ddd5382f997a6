//! The in-memory index that serves every read. It is derived entirely from the stored
//! records: on start it is rebuilt by replaying the stored state as `Change`s, and each
//! committed write applies the same `Change`s, so there is one code path for both.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use super::error::StoreError;
use crate::schema::{ParsedSchema, SchemaType};
use crate::types::context_of;
use crate::types::has_confluent_version;
use crate::types::{format_guid, Config, Mode, SchemaRecord, Scope, VersionState};

/// One mutation of the registry's state. A write is a list of these, committed atomically.
// Changes live only for the length of one write, a handful at a time: their size is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Change {
    PutSchema(u32, SchemaRecord),
    DeleteSchema(u32),
    PutVersion(String, u32, VersionState),
    DeleteVersion(String, u32),
    PutConfig(Scope, Config),
    DeleteConfig(Scope),
    PutMode(Scope, Mode),
    DeleteMode(Scope),
    /// The next id to hand out; only ever grows, so ids are never reused.
    SetNextId(u32),
    /// A context that held a subject. Confluent never forgets a context, so neither do we.
    PutContext(String),
}

/// A stored schema with its identity and (lazily) its parsed form.
#[derive(Debug)]
pub struct StoredSchema {
    pub id: u32,
    pub record: SchemaRecord,
    pub identity: Identity,
    /// Parsed once, on first use by a compatibility check, then kept.
    pub parsed: OnceLock<Result<Arc<ParsedSchema>, String>>,
}

impl StoredSchema {
    /// The schema's GUID: its MD5, the first 16 bytes of its identity.
    pub fn guid(&self) -> String {
        let mut md5 = [0; 16];
        md5.copy_from_slice(&self.identity[..16]);
        format_guid(&md5)
    }
}

/// A schema record's Confluent MD5 (see `SchemaRecord::md5`) followed by its type: the same
/// text under two types is two schemas here. Raw bytes, a third of a hex string's memory.
pub type Identity = [u8; 17];

/// Two records with the same identity are the same schema and share one id. MD5 admits
/// crafted collisions, so a match is confirmed by comparing the records (`Index::same`).
pub fn identity(record: &SchemaRecord) -> Identity {
    identity_of(&record.md5(), record.schema_type)
}

fn identity_of(md5: &[u8; 16], schema_type: SchemaType) -> Identity {
    let mut out = [0; 17];
    out[..16].copy_from_slice(md5);
    out[16] = schema_type as u8;
    out
}

/// Cloned only to start the writer's head state (see `Store::write`): the schemas are shared.
#[derive(Clone, Debug, Default)]
pub struct Index {
    pub schemas: HashMap<u32, Arc<StoredSchema>>,
    pub identities: HashMap<Identity, u32>,
    /// Subject → version → state; both ordered, as listings are. A subject's versions sit
    /// behind an `Arc` so that the writer's head state (a clone of the index) shares them
    /// until a write touches that subject.
    pub subjects: BTreeMap<String, Arc<BTreeMap<u32, VersionState>>>,
    pub configs: HashMap<Scope, Config>,
    pub modes: HashMap<Scope, Mode>,
    pub next_id: u32,
    /// Schema id → the (subject, version) pairs that use it, sorted. A Vec, not a set: most
    /// ids have one use, and an empty BTreeSet node alone costs hundreds of bytes.
    /// Behind an `Arc` as a subject's versions are, so the head state shares them.
    pub usages: HashMap<u32, Arc<Vec<(String, u32)>>>,
    /// (subject, version) → ids of schemas whose references point at it.
    pub referrers: HashMap<(String, u32), BTreeSet<u32>>,
    /// Every context that ever held a subject, sorted (the default context included once used).
    pub contexts: BTreeSet<String>,
    /// How many stored schemas carry a `confluent:version` property: while none does, a
    /// registration need not scan the subject for a version differing only by it.
    pub with_confluent_version: usize,
}

impl Index {
    /// The schema of id `id`. Every version names a schema that exists (checked at start by
    /// `check`, kept by every write), so a miss means a damaged store.
    pub fn schema(&self, id: u32) -> Result<&Arc<StoredSchema>, StoreError> {
        self.schemas.get(&id).ok_or_else(|| StoreError::Inconsistent(format!("schema id {id} is missing")))
    }

    /// The first broken link of the state, if any: a version whose schema id is missing, a
    /// reference to a version that does not exist, or an id's use by a version that does not
    /// name it. Run at start so that a damaged store refuses to serve rather than fail later.
    pub fn check(&self) -> Result<(), String> {
        for (subject, versions) in &self.subjects {
            for (version, state) in versions.iter() {
                if !self.schemas.contains_key(&state.id) {
                    return Err(format!(
                        "version {version} of subject {subject:?} names schema id {}, which does not exist",
                        state.id
                    ));
                }
            }
        }
        let mut schemas: Vec<(&u32, &Arc<StoredSchema>)> = self.schemas.iter().collect();
        schemas.sort_unstable_by_key(|(id, _)| **id);
        for (id, schema) in schemas {
            for r in &schema.record.references {
                let target = u32::try_from(r.version).ok().and_then(|v| self.subjects.get(&r.subject)?.get(&v));
                if target.is_none() {
                    return Err(format!(
                        "schema id {id} references version {} of subject {:?}, which does not exist",
                        r.version, r.subject
                    ));
                }
            }
        }
        for (id, uses) in &self.usages {
            for (subject, version) in uses.iter() {
                let named = self.subjects.get(subject).and_then(|vs| vs.get(version)).map(|s| s.id);
                if named != Some(*id) {
                    return Err(format!(
                        "schema id {id} is listed as used by version {version} of subject {subject:?}, which does not name it"
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn apply(&mut self, change: Change) {
        self.apply_sharing(change, None)
    }

    /// Applies `change`, taking a schema from `shared` (same id, same record) rather than
    /// building a second copy: the published index and the writer's head share their schemas
    /// and so their parsed forms.
    pub fn apply_sharing(&mut self, change: Change, shared: Option<&Index>) {
        match change {
            Change::PutSchema(id, record) => {
                let stored = match shared.and_then(|s| s.schemas.get(&id)).filter(|s| s.record == record) {
                    Some(s) => s.clone(),
                    None => {
                        let identity = identity(&record);
                        Arc::new(StoredSchema { id, record, identity, parsed: OnceLock::new() })
                    }
                };
                self.remove_schema(id);
                for r in &stored.record.references {
                    if let Ok(v) = u32::try_from(r.version) {
                        self.referrers.entry((r.subject.clone(), v)).or_default().insert(id);
                    }
                }
                self.identities.insert(stored.identity, id);
                if has_confluent_version(stored.record.metadata.as_deref()) {
                    self.with_confluent_version += 1;
                }
                self.schemas.insert(id, stored);
                self.next_id = self.next_id.max(id + 1);
            }
            Change::DeleteSchema(id) => self.remove_schema(id),
            Change::PutVersion(subject, version, state) => {
                // Also learns contexts of data written before contexts were persisted.
                let context = context_of(&subject);
                if !self.contexts.contains(context) {
                    self.contexts.insert(context.to_string());
                }
                let versions = Arc::make_mut(self.subjects.entry(subject.clone()).or_default());
                if let Some(old) = versions.insert(version, state) {
                    Self::remove_usage(&mut self.usages, old.id, &subject, version);
                }
                let uses =
                    Arc::make_mut(self.usages.entry(state.id).or_insert_with(|| Arc::new(Vec::with_capacity(1))));
                let entry = (subject, version);
                if let Err(at) = uses.binary_search(&entry) {
                    uses.insert(at, entry);
                }
            }
            Change::DeleteVersion(subject, version) => {
                if let Some(versions) = self.subjects.get_mut(&subject).map(Arc::make_mut) {
                    if let Some(old) = versions.remove(&version) {
                        Self::remove_usage(&mut self.usages, old.id, &subject, version);
                    }
                    if versions.is_empty() {
                        self.subjects.remove(&subject);
                    }
                }
            }
            Change::PutConfig(scope, config) => {
                self.configs.insert(scope, config);
            }
            Change::DeleteConfig(scope) => {
                self.configs.remove(&scope);
            }
            Change::PutMode(scope, mode) => {
                self.modes.insert(scope, mode);
            }
            Change::DeleteMode(scope) => {
                self.modes.remove(&scope);
            }
            Change::SetNextId(next) => self.next_id = self.next_id.max(next),
            Change::PutContext(context) => {
                self.contexts.insert(context);
            }
        }
    }

    /// The id of the schema stored with exactly this record, if any.
    pub fn same(&self, record: &SchemaRecord) -> Option<u32> {
        let id = *self.identities.get(&identity(record))?;
        (self.schemas.get(&id)?.record == *record).then_some(id)
    }

    /// The schema whose GUID (its MD5) this is; the type is not part of a GUID, so each
    /// supported type is tried.
    pub fn by_guid(&self, guid: &[u8; 16]) -> Option<&Arc<StoredSchema>> {
        crate::types::SUPPORTED_TYPES
            .iter()
            .filter_map(|&t| self.identities.get(&identity_of(guid, t)))
            .filter_map(|id| self.schemas.get(id))
            .min_by_key(|s| s.id)
    }

    fn remove_schema(&mut self, id: u32) {
        if let Some(old) = self.schemas.remove(&id) {
            if has_confluent_version(old.record.metadata.as_deref()) {
                self.with_confluent_version -= 1;
            }
            if self.identities.get(&old.identity) == Some(&id) {
                self.identities.remove(&old.identity);
            }
            for r in &old.record.references {
                if let Ok(v) = u32::try_from(r.version) {
                    let key = (r.subject.clone(), v);
                    if let Some(set) = self.referrers.get_mut(&key) {
                        set.remove(&id);
                        if set.is_empty() {
                            self.referrers.remove(&key);
                        }
                    }
                }
            }
        }
    }

    fn remove_usage(usages: &mut HashMap<u32, Arc<Vec<(String, u32)>>>, id: u32, subject: &str, version: u32) {
        if let Some(set) = usages.get_mut(&id).map(Arc::make_mut) {
            set.retain(|(s, v)| !(s == subject && *v == version));
            if set.is_empty() {
                usages.remove(&id);
            }
        }
    }
}

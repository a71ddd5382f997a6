//! Subjects and their versions: register, lookup, read, list and delete, with Confluent's
//! numbering and soft/hard delete rules (reference §4.1, §4.3, §4.4).

use std::sync::Arc;

use serde_json::Value;

use super::contexts::{context_of, is_context_scope};
use super::error::{RegistryError, Result};
use super::{
    input_type, metadata, reference_texts, valid_subject, Page, Readable, Registry, SchemaInput, SubjectVersion,
};
use crate::schema::{ParseError, ParseOptions, ParsedSchema, SchemaRef};
use crate::store::{index::identity, Change, Index, Pending, Planned};
use crate::types::{Mode, Reference, SchemaRecord, Scope, VersionState};

/// What a registration answered.
#[derive(Debug)]
pub struct Registered {
    pub id: u32,
    /// The schema's GUID (8.x servers answer it with the id).
    pub guid: String,
    /// Set when Confluent answers with the whole schema rather than only `{"id"}`.
    pub full: Option<SubjectVersion>,
}

/// A registration planned against the published state (`Registry::register_planned`).
pub enum Registration {
    /// Nothing to write (the schema is already there, or it was refused): the answer.
    Answered(Result<Registered>),
    /// A write to finish with `Registry::register_writing`, off the HTTP workers.
    Write(PendingRegistration),
}

/// A planned registration that writes; reused as is when no other write came between.
pub struct PendingRegistration(Pending<Registered>);

/// Which versions a listing includes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Visibility {
    pub deleted: bool,
    pub deleted_only: bool,
}

impl Visibility {
    fn shows(self, state: &VersionState) -> bool {
        if self.deleted_only {
            state.deleted
        } else {
            self.deleted || !state.deleted
        }
    }
}

/// A submitted schema after references are resolved and the text is parsed.
pub(super) struct Prepared {
    pub record: SchemaRecord,
    pub parsed: Arc<ParsedSchema>,
}

impl Registry {
    /// Resolves, parses and canonicalizes a submitted schema.
    pub(super) fn prepare(
        &self,
        idx: &Index,
        subject: &str,
        input: &SchemaInput,
        text: &str,
        normalize: bool,
        validate: bool,
    ) -> Result<Prepared> {
        let schema_type = input_type(&input.schema_type)?;
        let invalid = |detail: ParseError| {
            RegistryError::InvalidSchema(invalid_message(subject, input, text, schema_type.as_str(), &detail))
        };
        let mut references = Vec::with_capacity(input.references.len());
        for r in &input.references {
            let (Some(name), Some(ref_subject), Some(version)) = (&r.name, &r.subject, r.version) else {
                return Err(invalid(format!("Invalid reference: {}", render_reference(r)).into()));
            };
            let version = match version {
                -1 => latest_live(idx, ref_subject).map(|(v, _)| v as i64).unwrap_or(-1),
                v if v <= 0 => {
                    return Err(invalid(
                        format!("io.confluent.kafka.schemaregistry.exceptions.InvalidVersionException: {v}").into(),
                    ))
                }
                v => v,
            };
            let version = i32::try_from(version)
                .map_err(|_| invalid(format!("Invalid reference: {}", render_reference(r)).into()))?;
            references.push(Reference { name: name.clone(), subject: ref_subject.clone(), version });
        }
        let texts = reference_texts(idx, &references).map_err(|e| invalid(e.into()))?;
        let refs: Vec<SchemaRef> = texts.iter().map(|(name, text)| SchemaRef { name, text }).collect();
        let parsed =
            ParsedSchema::parse(schema_type, text, &refs, ParseOptions { normalize, validate }).map_err(invalid)?;
        let record = SchemaRecord {
            schema_type,
            schema: parsed.canonical().to_string(),
            references,
            metadata: input.metadata.clone().map(|m| Box::new(metadata::normalize(m))),
            rule_set: input.rule_set.clone().map(Box::new),
        };
        Ok(Prepared { record, parsed: Arc::new(parsed) })
    }

    /// POST /subjects/{subject}/versions.
    pub fn register(&self, subject: &str, input: &SchemaInput, normalize: bool) -> Result<Registered> {
        self.check_register(subject, input)?;
        self.store.write(|idx| self.plan_register(idx, subject, input, normalize))
    }

    /// A registration planned against the published state: answered when it writes nothing
    /// (the schema is already there, or it is refused), else to be finished by
    /// `register_writing`. The split lets the HTTP layer answer re-registrations without a hop
    /// to a blocking thread, and the plan is reused when no other write came between.
    pub fn register_planned(&self, subject: &str, input: &SchemaInput, normalize: bool) -> Registration {
        if let Err(e) = self.check_register(subject, input) {
            return Registration::Answered(Err(e));
        }
        match self.store.plan_published(|idx| self.plan_register(idx, subject, input, normalize)) {
            Planned::Answered(answer) => Registration::Answered(answer),
            Planned::Write(pending) => Registration::Write(PendingRegistration(pending)),
        }
    }

    /// `register` after `register_planned` found a write to make.
    pub fn register_writing(
        &self,
        subject: &str,
        input: &SchemaInput,
        normalize: bool,
        pending: PendingRegistration,
    ) -> Result<Registered> {
        self.store.write_queued(|idx| self.plan_register(idx, subject, input, normalize), Some(pending.0))
    }

    fn check_register(&self, subject: &str, input: &SchemaInput) -> Result<()> {
        if !valid_subject(subject) {
            return Err(RegistryError::InvalidSubject(subject.to_string()));
        }
        if input.schema.as_ref().is_some_and(|s| s.len() > self.settings.max_schema_bytes) {
            return Err(RegistryError::SchemaTooLarge);
        }
        Ok(())
    }

    /// Plans a registration against `idx`: the changes to commit and the answer, or the
    /// refusal. The steps run in Confluent's order, which decides the answer to a request
    /// that meets several rules (an existing schema is answered before the mode is checked,
    /// the mode before the version, and so on).
    pub(super) fn plan_register(
        &self,
        idx: &Index,
        subject: &str,
        input: &SchemaInput,
        normalize: bool,
    ) -> Result<(Vec<Change>, Registered)> {
        let config = self.effective_config(idx, subject);
        let normalize = normalize || config.normalize.unwrap_or(false);
        let mode = Self::effective_mode(idx, subject);
        let latest = latest_live(idx, subject);
        let (input, text) = with_schema_text(idx, input, latest)?;
        let explicit_id = input.id.filter(|&id| id >= 0);
        let explicit_version = input.version.filter(|&v| v > 0);
        let max_version = idx.subjects.get(subject).and_then(|v| v.keys().next_back().copied()).unwrap_or(0);
        let next_version = max_version + 1;

        // Confluent 7.9 validates defaults only on the normalize path (and never in IMPORT).
        let prepared = self.prepare(idx, subject, &input, &text, normalize, normalize && mode != Mode::Import)?;
        let mut record = prepared.record;
        if mode != Mode::Import {
            pin_requested_version(&mut record, input.version, latest, next_version);
        }
        if explicit_version.is_none() {
            if let Some(registered) = already_live(idx, subject, &record, explicit_id) {
                return Ok((vec![], registered));
            }
        }
        check_writable(subject, mode, explicit_id.is_some())?;
        let version = version_to_write(explicit_version, mode, next_version)?;
        if mode != Mode::Import {
            settle_metadata(idx, &config, latest, &mut record)?;
        }
        if explicit_id.is_none() {
            if let Some(registered) = self.live_with_settled_metadata(idx, subject, &record, explicit_version)? {
                return Ok((vec![], registered));
            }
        }
        if mode != Mode::Import {
            // A pinned `confluent:version` names the version actually written.
            if metadata::has_confluent_version(record.metadata.as_deref()) {
                metadata::set_confluent_version(&mut record.metadata, version);
            }
            self.check_compatible(idx, subject, &prepared.parsed, &record)?;
        }
        let (id, new_schema) = match self.schema_id(idx, subject, &record, explicit_id, explicit_version)? {
            SchemaId::Present(registered) => return Ok((vec![], registered)),
            SchemaId::Use(id, new_schema) => (id, new_schema),
        };
        let mut changes: Vec<Change> = new_schema.into_iter().collect();
        changes.extend(version_changes(idx, subject, version, id));
        let full = record.metadata.is_some().then(|| SubjectVersion {
            subject: subject.to_string(),
            version,
            schema: Arc::new(crate::store::StoredSchema {
                id,
                identity: identity(&record),
                record: record.clone(),
                parsed: Default::default(),
            }),
            deleted: false,
        });
        Ok((changes, Registered { id, guid: record.guid(), full }))
    }

    /// The same schema may already be a live version once metadata is settled (the
    /// request's own, or the previous version's): that version is the answer, unless another
    /// version was asked for.
    fn live_with_settled_metadata(
        &self,
        idx: &Index,
        subject: &str,
        record: &SchemaRecord,
        explicit_version: Option<i64>,
    ) -> Result<Option<Registered>> {
        let Some((v, state)) = find_in_subject(idx, subject, record, false) else { return Ok(None) };
        if explicit_version.is_some() && explicit_version != Some(v as i64) {
            return Ok(None);
        }
        let full = self.subject_version(idx, subject, v, state)?;
        let guid = full.schema.guid();
        Ok(Some(Registered { id: state.id, guid, full: Some(full) }))
    }

    /// The subject's compatibility rules against its earlier versions: an incompatible
    /// schema is Confluent's 409 with every message.
    fn check_compatible(&self, idx: &Index, subject: &str, parsed: &ParsedSchema, record: &SchemaRecord) -> Result<()> {
        let messages = self.check_against_subject(idx, subject, parsed, record.metadata.as_deref(), None)?;
        if messages.is_empty() {
            Ok(())
        } else {
            Err(RegistryError::Incompatible { subject: subject.to_string(), messages })
        }
    }

    /// The id the schema is stored under. In IMPORT the request names it: a new id stores
    /// the schema, an id holding another schema is refused, and a requested version that
    /// already holds this id means there is nothing to write. Otherwise the id of the same
    /// schema stored before (in any subject), else the next free id.
    fn schema_id(
        &self,
        idx: &Index,
        subject: &str,
        record: &SchemaRecord,
        explicit_id: Option<i64>,
        explicit_version: Option<i64>,
    ) -> Result<SchemaId> {
        let Some(id) = explicit_id else {
            return Ok(match idx.same(record) {
                Some(id) => SchemaId::Use(id, None),
                None => SchemaId::Use(idx.next_id, Some(Change::PutSchema(idx.next_id, record.clone()))),
            });
        };
        let overwrite =
            || RegistryError::OperationNotPermitted(format!("Overwrite new schema with id {id} is not permitted."));
        let id = u32::try_from(id).map_err(|_| overwrite())?;
        let new_schema = match idx.schemas.get(&id) {
            Some(s) if s.record != *record => return Err(overwrite()),
            Some(_) => None,
            None => Some(Change::PutSchema(id, record.clone())),
        };
        let requested = explicit_version.and_then(|v| u32::try_from(v).ok());
        if let Some((v, state)) = requested.and_then(|v| Some((v, *idx.subjects.get(subject)?.get(&v)?))) {
            if state.id == id {
                let full = self.subject_version(idx, subject, v, state)?;
                let guid = full.schema.guid();
                return Ok(SchemaId::Present(Registered { id, guid, full: Some(full) }));
            }
        }
        Ok(SchemaId::Use(id, new_schema))
    }

    /// POST /subjects/{subject}: the version of the subject that holds this schema. An
    /// unqualified subject that lacks it is looked up in every other context too.
    pub fn lookup(&self, subject: &str, input: &SchemaInput, normalize: bool, deleted: bool) -> Result<SubjectVersion> {
        let idx = self.store.read();
        let text = match input.schema.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => input.schema.clone().unwrap_or_default(),
            _ => return Err(RegistryError::InvalidSchema("Empty schema".into())),
        };
        let normalize = normalize || self.effective_config(&idx, subject).normalize.unwrap_or(false);
        let prepared = self.prepare(&idx, subject, input, &text, normalize, false)?;
        let visible = Visibility { deleted, deleted_only: false };
        let exists = |s: &str| idx.subjects.get(s).is_some_and(|vs| vs.values().any(|st| visible.shows(st)));
        let candidates = std::iter::once(subject.to_string()).chain(Self::fallback_subjects(&idx, subject));
        for s in candidates.filter(|s| exists(s)) {
            if let Some((v, state)) = match_in_subject(&idx, &s, &prepared.record, deleted) {
                return self.subject_version(&idx, &s, v, state);
            }
        }
        if !exists(subject) {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        }
        Err(RegistryError::SchemaNotFound)
    }

    pub(super) fn subject_version(
        &self,
        idx: &Index,
        subject: &str,
        version: u32,
        state: VersionState,
    ) -> Result<SubjectVersion> {
        Ok(SubjectVersion {
            subject: subject.to_string(),
            version,
            schema: idx.schema(state.id)?.clone(),
            deleted: state.deleted,
        })
    }

    /// GET /subjects.
    pub fn list_subjects(
        &self,
        prefix: Option<&str>,
        visible: Visibility,
        page: Page,
        readable: Readable<'_>,
    ) -> Vec<String> {
        let idx = self.store.read();
        let prefix = prefix.filter(|p| *p != ":*:").unwrap_or("");
        idx.subjects
            .range(prefix.to_string()..)
            .take_while(|(s, _)| s.starts_with(prefix))
            .filter(|(s, vs)| vs.values().any(|s| visible.shows(s)) && readable(s))
            .skip(page.offset)
            .take(page.limit)
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// GET /subjects/{subject}/versions.
    pub fn list_versions(&self, subject: &str, visible: Visibility) -> Result<Vec<(u32, bool)>> {
        let idx = self.store.read_brief();
        let versions: Vec<(u32, bool)> = idx
            .subjects
            .get(subject)
            .map(|vs| vs.iter().filter(|(_, s)| visible.shows(s)).map(|(v, s)| (*v, s.deleted)).collect())
            .unwrap_or_default();
        let any_visible = idx.subjects.get(subject).is_some_and(|vs| {
            vs.values()
                .any(|s| Visibility { deleted: visible.deleted || visible.deleted_only, deleted_only: false }.shows(s))
        });
        // A context's own name (`:.ctx:`) matches every subject of the context (Confluent's
        // `hasSubjects`): no versions of its own, but found while the context has subjects.
        let context_found = || {
            is_context_scope(subject)
                && idx
                    .subjects
                    .iter()
                    .any(|(s, vs)| context_of(s) == context_of(subject) && vs.values().any(|st| !st.deleted))
        };
        if any_visible || context_found() {
            Ok(versions)
        } else {
            Err(RegistryError::SubjectNotFound(subject.to_string()))
        }
    }

    /// GET /subjects/{subject}/versions/{version}; `None` is `latest`. An unqualified
    /// subject missing the version is read from another context.
    pub fn get_version(&self, subject: &str, version: Option<u32>, deleted: bool) -> Result<SubjectVersion> {
        let idx = self.store.read_brief();
        self.find_version_using_contexts(&idx, subject, version, deleted)
    }

    pub(super) fn find_version(
        &self,
        idx: &Index,
        subject: &str,
        version: Option<u32>,
        deleted: bool,
    ) -> Result<SubjectVersion> {
        let versions = idx.subjects.get(subject).filter(|vs| vs.values().any(|s| deleted || !s.deleted));
        let Some(versions) = versions else {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        };
        let found = match version {
            None => latest_live(idx, subject),
            Some(v) => versions.get(&v).filter(|s| deleted || !s.deleted).map(|s| (v, *s)),
        };
        match found {
            Some((v, state)) => self.subject_version(idx, subject, v, state),
            None => Err(RegistryError::VersionNotFound(version.map_or(-1, i64::from))),
        }
    }

    /// GET /subjects/{subject}/metadata: the newest version whose metadata properties hold
    /// every given key/value pair.
    pub fn latest_with_metadata(&self, subject: &str, pairs: &[(&str, &str)], deleted: bool) -> Result<SubjectVersion> {
        let idx = self.store.read();
        let versions = idx.subjects.get(subject).filter(|vs| vs.values().any(|s| deleted || !s.deleted));
        let versions = versions.ok_or_else(|| RegistryError::SubjectNotFound(subject.to_string()))?;
        for (v, state) in versions.iter().rev().filter(|(_, s)| deleted || !s.deleted) {
            let schema = idx.schema(state.id)?;
            let props = schema.record.metadata.as_ref().and_then(|m| m.get("properties"));
            if pairs.iter().all(|(k, v)| props.and_then(|p| p.get(*k)).and_then(Value::as_str) == Some(*v)) {
                return self.subject_version(&idx, subject, *v, *state);
            }
        }
        Err(RegistryError::SchemaNotFound)
    }

    /// GET /subjects/{subject}/versions/{version}/referencedby.
    pub fn referenced_by(&self, subject: &str, version: Option<u32>, deleted: bool) -> Result<Vec<u32>> {
        let idx = self.store.read();
        // The version itself may be soft deleted: Confluent still answers (with no referrers).
        let sv = self.find_version_using_contexts(&idx, subject, version, true)?;
        Ok(live_referrers(&idx, &sv.subject, sv.version, deleted))
    }

    /// DELETE /subjects/{subject}/versions/{version}.
    pub fn delete_version(&self, subject: &str, version: Option<u32>, permanent: bool) -> Result<u32> {
        self.store.write(|idx| {
            Self::ensure_writable(idx, subject)?;
            let sv = self.find_version(idx, subject, version, true)?;
            let v = sv.version;
            if permanent {
                if !sv.deleted {
                    return Err(RegistryError::VersionNotSoftDeleted(subject.to_string(), v));
                }
                if is_referenced(idx, subject, v) {
                    return Err(RegistryError::ReferenceExists(subject.to_string(), v));
                }
                let mut changes = vec![Change::DeleteVersion(subject.to_string(), v)];
                changes.extend(drop_unused_schema(idx, sv.schema.id, &[(subject, v)]));
                if idx.subjects.get(subject).is_some_and(|vs| vs.len() == 1) {
                    changes.extend(drop_subject_settings(idx, subject));
                }
                Ok((changes, v))
            } else {
                if sv.deleted {
                    return Err(RegistryError::VersionSoftDeleted(subject.to_string(), v));
                }
                if is_referenced(idx, subject, v) {
                    return Err(RegistryError::ReferenceExists(subject.to_string(), v));
                }
                Ok((
                    vec![Change::PutVersion(subject.to_string(), v, VersionState { id: sv.schema.id, deleted: true })],
                    v,
                ))
            }
        })
    }

    /// DELETE /subjects/{subject}: soft deletes the live versions, or (permanent) removes
    /// every remaining version once all are soft deleted.
    pub fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<u32>> {
        self.store.write(|idx| {
            Self::ensure_writable(idx, subject)?;
            let versions =
                idx.subjects.get(subject).ok_or_else(|| RegistryError::SubjectNotFound(subject.to_string()))?;
            let live: Vec<u32> = versions.iter().filter(|(_, s)| !s.deleted).map(|(v, _)| *v).collect();
            if permanent {
                // Confluent refuses a referenced subject before it asks for a soft delete.
                let all: Vec<u32> = versions.keys().copied().collect();
                if let Some(&v) = all.iter().find(|&&v| is_referenced(idx, subject, v)) {
                    return Err(RegistryError::ReferenceExists(subject.to_string(), v));
                }
                if !live.is_empty() {
                    return Err(RegistryError::SubjectNotSoftDeleted(subject.to_string()));
                }
                let mut changes: Vec<Change> =
                    all.iter().map(|&v| Change::DeleteVersion(subject.to_string(), v)).collect();
                let mut ids: Vec<u32> = versions.values().map(|s| s.id).collect();
                ids.sort_unstable();
                ids.dedup();
                let removed: Vec<(&str, u32)> = all.iter().map(|&v| (subject, v)).collect();
                for id in ids {
                    changes.extend(drop_unused_schema(idx, id, &removed));
                }
                changes.extend(drop_subject_settings(idx, subject));
                Ok((changes, all))
            } else {
                if live.is_empty() {
                    return Err(RegistryError::SubjectSoftDeleted(subject.to_string()));
                }
                if let Some(&v) = live.iter().find(|&&v| is_referenced(idx, subject, v)) {
                    return Err(RegistryError::ReferenceExists(subject.to_string(), v));
                }
                let changes = versions
                    .iter()
                    .filter(|(_, state)| !state.deleted)
                    .map(|(&v, state)| {
                        Change::PutVersion(subject.to_string(), v, VersionState { deleted: true, ..*state })
                    })
                    .collect();
                Ok((changes, live))
            }
        })
    }
}

/// Where a registration's schema id comes from (`Registry::schema_id`).
// One per registration, taken apart at once: the size of its variants is moot.
#[allow(clippy::large_enum_variant)]
enum SchemaId {
    /// The id, and the change storing the schema under it when the id is new.
    Use(u32, Option<Change>),
    /// The requested version already holds the requested id: the answer, nothing to write.
    Present(Registered),
}

/// The request with its schema text. An empty schema re-uses the latest version's schema,
/// type and references, so that a registration can change only metadata.
fn with_schema_text(
    idx: &Index,
    input: &SchemaInput,
    latest: Option<(u32, VersionState)>,
) -> Result<(SchemaInput, String)> {
    let mut input = input.clone();
    if let Some(t) = input.schema.as_deref().filter(|t| !t.trim().is_empty()) {
        let text = t.to_string();
        return Ok((input, text));
    }
    let (_, state) = latest.ok_or_else(|| RegistryError::InvalidSchema("Empty schema".into()))?;
    let prev = &idx.schema(state.id)?.record;
    input.schema_type = Some(prev.schema_type.as_str().to_string());
    input.references = prev
        .references
        .iter()
        .map(|r| super::InputReference {
            name: Some(r.name.clone()),
            subject: Some(r.subject.clone()),
            version: Some(r.version as i64),
        })
        .collect();
    Ok((input, prev.schema.clone()))
}

/// A requested version (-1 = the latest, else the version itself) is recorded in the
/// schema's metadata as `confluent:version`, as Confluent does outside IMPORT.
fn pin_requested_version(
    record: &mut SchemaRecord,
    requested: Option<i64>,
    latest: Option<(u32, VersionState)>,
    next_version: u32,
) {
    match requested {
        Some(-1) => metadata::set_confluent_version(&mut record.metadata, latest.map_or(next_version, |(v, _)| v)),
        Some(v) if v > 0 => metadata::set_confluent_version(&mut record.metadata, v as u32),
        _ => {}
    }
}

/// Fast path: the same schema (metadata as sent) is already a live version of the subject,
/// under the requested id if one was named. Its id is the answer, in any mode.
fn already_live(idx: &Index, subject: &str, record: &SchemaRecord, explicit_id: Option<i64>) -> Option<Registered> {
    let (_, state) = match_in_subject(idx, subject, record, false)?;
    if explicit_id.is_some() && explicit_id != Some(state.id as i64) {
        return None;
    }
    let guid = idx.schemas.get(&state.id).map(|s| s.guid()).unwrap_or_else(|| record.guid());
    Some(Registered { id: state.id, guid, full: None })
}

/// The mode decides whether this registration may write: never in a read-only mode, with
/// an explicit id only in IMPORT, without one only in READWRITE.
fn check_writable(subject: &str, mode: Mode, explicit_id: bool) -> Result<()> {
    if mode.read_only() {
        return Err(RegistryError::read_only(subject));
    }
    match (explicit_id, mode) {
        (true, m) if m != Mode::Import => {
            Err(RegistryError::OperationNotPermitted(format!("Subject {subject} is not in import mode")))
        }
        (false, m) if m != Mode::Readwrite => {
            Err(RegistryError::OperationNotPermitted(format!("Subject {subject} is not in read-write mode")))
        }
        _ => Ok(()),
    }
}

/// The version number to write: any requested one in IMPORT; otherwise the next one, and a
/// requested version must be exactly that.
fn version_to_write(explicit_version: Option<i64>, mode: Mode, next_version: u32) -> Result<u32> {
    match explicit_version {
        Some(v) if mode == Mode::Import => u32::try_from(v).map_err(|_| RegistryError::InvalidVersion(v.to_string())),
        Some(v) if v != next_version as i64 => {
            Err(RegistryError::InvalidSchema("Version is not one more than previous version".into()))
        }
        _ => Ok(next_version),
    }
}

/// Metadata outside IMPORT: the request's, else the previous version's, between the
/// config's defaults and overrides.
fn settle_metadata(
    idx: &Index,
    config: &crate::types::Config,
    latest: Option<(u32, VersionState)>,
    record: &mut SchemaRecord,
) -> Result<()> {
    if record.metadata.is_none() {
        if let Some((_, state)) = latest {
            record.metadata = idx.schema(state.id)?.record.metadata.clone();
        }
    }
    record.metadata = metadata::merge(
        config.default_metadata.as_ref(),
        record.metadata.as_deref(),
        config.override_metadata.as_ref(),
    )
    .map(Box::new);
    Ok(())
}

/// The changes that make `id` version `version` of the subject: the next id moved past it,
/// older soft-deleted versions with the same id purged (Confluent's housekeeping), the
/// subject's context remembered, and the version itself.
fn version_changes(idx: &Index, subject: &str, version: u32, id: u32) -> Vec<Change> {
    let mut changes = Vec::new();
    if id >= idx.next_id {
        changes.push(Change::SetNextId(id + 1));
    }
    if let Some(vs) = idx.subjects.get(subject) {
        for (&v, state) in vs.iter() {
            if state.deleted && state.id == id && !is_referenced(idx, subject, v) {
                changes.push(Change::DeleteVersion(subject.to_string(), v));
            }
        }
    }
    let context = context_of(subject);
    if !idx.contexts.contains(context) {
        changes.push(Change::PutContext(context.to_string()));
    }
    changes.push(Change::PutVersion(subject.to_string(), version, VersionState { id, deleted: false }));
    changes
}

/// The newest live version of a subject.
pub(super) fn latest_live(idx: &Index, subject: &str) -> Option<(u32, VersionState)> {
    idx.subjects.get(subject)?.iter().rev().find(|(_, s)| !s.deleted).map(|(v, s)| (*v, *s))
}

/// The newest version of the subject holding exactly this schema. Found through the id's
/// uses (sorted, usually one) rather than a scan of the subject's versions.
fn find_in_subject(idx: &Index, subject: &str, record: &SchemaRecord, deleted: bool) -> Option<(u32, VersionState)> {
    let id = idx.same(record)?;
    let versions = idx.subjects.get(subject)?;
    idx.usages.get(&id)?.iter().rev().filter(|(s, _)| s == subject).find_map(|(_, v)| {
        versions.get(v).filter(|state| state.id == id && (deleted || !state.deleted)).map(|state| (*v, *state))
    })
}

/// The version holding this schema exactly, else (Confluent's `canLookup`) one that differs
/// only by `confluent:version` when the request does not name that property.
fn match_in_subject(idx: &Index, subject: &str, record: &SchemaRecord, deleted: bool) -> Option<(u32, VersionState)> {
    if let Some(found) = find_in_subject(idx, subject, record, deleted) {
        return Some(found);
    }
    if metadata::has_confluent_version(record.metadata.as_deref()) || idx.with_confluent_version == 0 {
        return None;
    }
    let wanted = metadata::without_confluent_version(record.metadata.as_deref());
    idx.subjects.get(subject)?.iter().rev().filter(|(_, s)| deleted || !s.deleted).find_map(|(v, s)| {
        // A missing schema (a damaged store) matches nothing; reads of it report it.
        let stored = &idx.schemas.get(&s.id)?.record;
        let same = metadata::has_confluent_version(stored.metadata.as_deref())
            && stored.schema_type == record.schema_type
            && stored.schema == record.schema
            && stored.references == record.references
            && stored.rule_set == record.rule_set
            && metadata::without_confluent_version(stored.metadata.as_deref()) == wanted;
        same.then_some((*v, *s))
    })
}

/// Ids of schemas referencing (subject, version) that are still used by a version
/// (a live one unless `deleted`).
fn live_referrers(idx: &Index, subject: &str, version: u32, deleted: bool) -> Vec<u32> {
    let Some(ids) = idx.referrers.get(&(subject.to_string(), version)) else {
        return vec![];
    };
    ids.iter()
        .copied()
        .filter(|id| {
            idx.usages.get(id).is_some_and(|uses| {
                uses.iter()
                    .any(|(s, v)| deleted || idx.subjects.get(s).and_then(|vs| vs.get(v)).is_some_and(|st| !st.deleted))
            })
        })
        .collect()
}

/// Confluent blocks a delete only while a live version references the target; a referrer
/// that is itself soft deleted does not hold it.
fn is_referenced(idx: &Index, subject: &str, version: u32) -> bool {
    !live_referrers(idx, subject, version, false).is_empty()
}

/// Removes a schema once no version other than `removed` uses it.
fn drop_unused_schema(idx: &Index, id: u32, removed: &[(&str, u32)]) -> Option<Change> {
    let uses = idx.usages.get(&id)?;
    let still_used = uses.iter().any(|(s, v)| !removed.iter().any(|(rs, rv)| rs == s && rv == v));
    (!still_used).then_some(Change::DeleteSchema(id))
}

/// A subject's config and mode go with its last version.
fn drop_subject_settings(idx: &Index, subject: &str) -> Vec<Change> {
    let scope = Scope::Subject(subject.to_string());
    let mut changes = Vec::new();
    if idx.configs.contains_key(&scope) {
        changes.push(Change::DeleteConfig(scope.clone()));
    }
    if idx.modes.contains_key(&scope) {
        changes.push(Change::DeleteMode(scope));
    }
    changes
}

fn render_reference(r: &super::InputReference) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
    let version = r.version.map(|v| v.to_string()).unwrap_or_else(|| "null".into());
    format!("{{name='{}', subject='{}', version={}}}", opt(&r.name), opt(&r.subject), version)
}

/// Confluent's 42201 text: the request as Java prints it, then the parser's detail.
/// Confluent's 42201 text. Some details (an invalid JSON Schema) come without the
/// "with refs [..] of type T" part, as Confluent words them.
fn invalid_message(subject: &str, input: &SchemaInput, text: &str, schema_type: &str, detail: &ParseError) -> String {
    let refs: Vec<String> = input.references.iter().map(render_reference).collect();
    let refs = format!("[{}]", refs.join(", "));
    let json_or_null = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "null".into());
    let with_refs = if detail.short { String::new() } else { format!(" with refs {refs} of type {schema_type}") };
    format!(
        "Invalid schema {{subject={subject},version=0,id=-1,schemaType={schema_type},references={refs},metadata={},ruleSet={},schema={text},schemaTags=null}}{with_refs}, details: {}",
        json_or_null(&input.metadata),
        json_or_null(&input.rule_set),
        detail.message,
    )
}

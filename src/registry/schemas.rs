//! Schemas by global id and the global schema listing. Soft-deleted versions keep their
//! schema readable by id (consumers need it); only a hard delete of its last use removes it.

use std::sync::Arc;

use super::contexts::{context_of, DEFAULT_CONTEXT};
use super::error::{RegistryError, Result};
use super::{Page, Readable, Registry, SubjectVersion};
use crate::store::StoredSchema;
use crate::types::parse_guid;

/// Filters of `GET /schemas`.
#[derive(Clone, Debug, Default)]
pub struct SchemaFilter {
    pub subject_prefix: Option<String>,
    pub deleted: bool,
    pub latest_only: bool,
    /// Only schemas whose rule set has a rule of this type.
    pub rule_type: Option<String>,
}

impl Registry {
    /// GET /schemas/ids/{id}[?subject=]: the id as read in the subject's context (see
    /// `id_context`).
    pub fn schema_by_id(&self, id: i64, subject: Option<&str>) -> Result<Arc<StoredSchema>> {
        let idx = self.store.read_brief();
        // Without a subject and with no context but the default one, every id is in it: the
        // usage lookup (a few cache misses on the hottest read) can be skipped.
        let only_default = subject.is_none() && idx.contexts.iter().all(|c| c == DEFAULT_CONTEXT);
        u32::try_from(id)
            .ok()
            .filter(|&id| only_default || Self::id_context(&idx, id, subject).is_some())
            .and_then(|id| idx.schemas.get(&id).cloned())
            .ok_or(RegistryError::SchemaIdNotFound(id))
    }

    /// GET /schemas/guids/{guid}: the schema with this GUID (Confluent 8's schema identity,
    /// the MD5 of the schema), in whatever context it is used.
    pub fn schema_by_guid(&self, guid: &str) -> Result<Arc<StoredSchema>> {
        let idx = self.store.read_brief();
        parse_guid(guid)
            .and_then(|g| idx.by_guid(&g).cloned())
            .ok_or_else(|| RegistryError::SchemaGuidNotFound(guid.to_string()))
    }

    /// GET /schemas/guids/{guid}/ids: the (context, id) under which the schema is used. Ids
    /// are global here, so it is one id in each context holding a subject that uses it (the
    /// default context when no live subject does).
    pub fn guid_ids(&self, guid: &str) -> Result<Vec<(String, u32)>> {
        let id = self.schema_by_guid(guid)?.id;
        let idx = self.store.read_brief();
        let mut contexts: Vec<&str> =
            idx.usages.get(&id).into_iter().flat_map(|u| u.iter()).map(|(s, _)| context_of(s)).collect();
        contexts.sort_unstable();
        contexts.dedup();
        if contexts.is_empty() {
            contexts.push(DEFAULT_CONTEXT);
        }
        Ok(contexts.into_iter().map(|c| (c.to_string(), id)).collect())
    }

    /// The largest id handed out so far (`fetchMaxId`).
    pub fn max_id(&self) -> u32 {
        self.store.read_brief().next_id.saturating_sub(1)
    }

    /// GET /schemas/ids/{id}/versions: the (subject, version) pairs using the id in the
    /// context it is read in.
    pub fn id_versions(&self, id: i64, subject: Option<&str>, deleted: bool) -> Result<Vec<(String, u32)>> {
        let idx = self.store.read_brief();
        let id = u32::try_from(id).map_err(|_| RegistryError::SchemaNotFound)?;
        let context = Self::id_context(&idx, id, subject).ok_or(RegistryError::SchemaNotFound)?;
        let uses = idx.usages.get(&id).ok_or(RegistryError::SchemaNotFound)?;
        let mut found: Vec<(String, u32)> = uses
            .iter()
            .filter(|(s, _)| context_of(s) == context)
            .filter(|(s, v)| deleted || idx.subjects.get(s).and_then(|vs| vs.get(v)).is_some_and(|st| !st.deleted))
            .cloned()
            .collect();
        let capacity = java_hash_map_capacity(uses.len());
        found.sort_by_key(|(s, _)| java_hash_map_bucket(s, capacity));
        Ok(found)
    }

    /// GET /schemas/ids/{id}/subjects.
    pub fn id_subjects(&self, id: i64, subject: Option<&str>, deleted: bool) -> Result<Vec<String>> {
        let mut subjects: Vec<String> = self.id_versions(id, subject, deleted)?.into_iter().map(|(s, _)| s).collect();
        subjects.dedup();
        Ok(subjects)
    }

    /// GET /schemas: versions ordered by subject then version.
    pub fn list_schemas(
        &self,
        filter: &SchemaFilter,
        page: Page,
        readable: Readable<'_>,
    ) -> Result<Vec<SubjectVersion>> {
        let idx = self.store.read();
        let prefix = filter.subject_prefix.as_deref().unwrap_or("");
        idx.subjects
            .range(prefix.to_string()..)
            .take_while(|(s, _)| s.starts_with(prefix))
            .filter(|(s, _)| readable(s))
            .flat_map(|(subject, versions)| {
                let mut visible = versions.iter().filter(|(_, s)| filter.deleted || !s.deleted);
                let chosen: Vec<_> =
                    if filter.latest_only { visible.next_back().into_iter().collect() } else { visible.collect() };
                chosen.into_iter().map(move |(&v, &state)| (subject, v, state))
            })
            .filter(|(_, _, state)| {
                // A missing schema passes, to be reported by `subject_version`.
                filter.rule_type.as_ref().is_none_or(|rule_type| {
                    idx.schema(state.id).map_or(true, |s| has_rule_type(s.record.rule_set.as_deref(), rule_type))
                })
            })
            .skip(page.offset)
            .take(page.limit)
            .map(|(subject, v, state)| self.subject_version(&idx, subject, v, state))
            .collect()
    }
}

fn has_rule_type(rule_set: Option<&serde_json::Value>, rule_type: &str) -> bool {
    let Some(rs) = rule_set else { return false };
    ["migrationRules", "domainRules", "encodingRules"].iter().any(|kind| {
        rs.get(kind)
            .and_then(|r| r.as_array())
            .is_some_and(|rules| rules.iter().any(|r| r.get("type").and_then(|t| t.as_str()) == Some(rule_type)))
    })
}

/// Confluent keeps the subjects of a schema id in a Java `HashMap` and lists them in its
/// iteration order: by bucket, the bucket being the spread `String.hashCode` masked by the
/// table size. The recorded answers bear it out ([a, b] for `reg-avro.*` but [b, a] for
/// `reg-json.*` and `reg-proto.*`). Within a bucket Java keeps insertion order; we keep
/// subject order there (the sort is stable), which differs only on a collision.
fn java_hash_map_bucket(subject: &str, capacity: u32) -> u32 {
    let h = subject.encode_utf16().fold(0u32, |h, unit| h.wrapping_mul(31).wrapping_add(u32::from(unit)));
    (h ^ (h >> 16)) & (capacity - 1)
}

/// The table size of a Java `HashMap` holding `entries` (16, doubled past each 3/4 load).
fn java_hash_map_capacity(entries: usize) -> u32 {
    let mut capacity = 16u32;
    while entries as u64 * 4 > u64::from(capacity) * 3 && capacity < 1 << 30 {
        capacity *= 2;
    }
    capacity
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_map_order_is_confluents_listing_order() {
        // The buckets behind the recorded orders, and Java's own hashCode of "reg-json.a".
        assert_eq!(java_hash_map_bucket("reg-avro.a", 16), 14);
        assert_eq!(java_hash_map_bucket("reg-avro.b", 16), 15);
        assert_eq!(java_hash_map_bucket("reg-json.a", 16), 11);
        assert_eq!(java_hash_map_bucket("reg-json.b", 16), 10);
        assert_eq!(java_hash_map_bucket("reg-proto.b", 16), 0);
        assert_eq!(
            "reg-json.a".encode_utf16().fold(0u32, |h, u| h.wrapping_mul(31).wrapping_add(u32::from(u))),
            456129588
        );
        assert_eq!((java_hash_map_capacity(12), java_hash_map_capacity(13), java_hash_map_capacity(25)), (16, 32, 64));
    }
}

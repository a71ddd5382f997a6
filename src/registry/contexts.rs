//! Schema contexts (reference §4.10): a subject `:.ctx:name` lives in context `.ctx`, every
//! other subject in the default context `.`. This file holds the parsing of qualified names,
//! the scopes a context's config and mode inherit from, the context listing, and the
//! cross-context fallback Confluent applies to unqualified reads.
//!
//! Ids stay global across contexts in Schemata (one counter, one dedup table); Confluent keeps
//! one counter per context. Reads by id are nevertheless answered per context: an id is found
//! in a context only when a subject of that context uses it.

use super::error::{RegistryError, Result};
use super::{Readable, Registry, SubjectVersion};
use crate::store::Index;
use crate::types::Scope;
pub use crate::types::{context_of, DEFAULT_CONTEXT};

/// The context whose config and mode apply to every context (after the context's own).
const GLOBAL_CONTEXT_SCOPE: &str = ":.__GLOBAL:";

/// The subject name without its context qualifier.
pub fn name_of(subject: &str) -> &str {
    match subject.strip_prefix(":.") {
        Some(rest) => rest.split_once(':').map_or("", |(_, name)| name),
        None => subject,
    }
}

/// `name` placed in `context`; the default context needs no qualifier.
pub fn qualify(context: &str, name: &str) -> String {
    if context == DEFAULT_CONTEXT {
        name.to_string()
    } else {
        format!(":{context}:{name}")
    }
}

/// The `{context}` of a `/contexts/{context}/...` URL: a leading dot is added if missing; a
/// colon is refused as Confluent refuses it (400).
pub fn url_context(raw: &str) -> Result<String> {
    if raw.contains(':') {
        return Err(RegistryError::BadRequest("Context name cannot contain a colon".into()));
    }
    Ok(if raw.starts_with('.') { raw.to_string() } else { format!(".{raw}") })
}

/// The scopes whose config or mode a subject falls back to when it has none of its own, in
/// order: its context's setting (the global one for the default context), then the
/// `:.__GLOBAL:` context's. A non-default context does not inherit the default context's
/// (global) setting: Confluent 7.9 answers so (corpus `config-scopes`, `mode-scopes`).
pub(super) fn inherited_scopes(subject: &str) -> [Scope; 2] {
    let own = match context_of(subject) {
        DEFAULT_CONTEXT => Scope::Global,
        ctx => Scope::Subject(qualify(ctx, "")),
    };
    [own, Scope::Subject(GLOBAL_CONTEXT_SCOPE.to_string())]
}

/// True when `subject` names a context itself (`:.ctx:`), the key of its context-level settings.
pub fn is_context_scope(subject: &str) -> bool {
    context_of(subject) != DEFAULT_CONTEXT && name_of(subject).is_empty()
}

/// Is the id used by a version (live or soft deleted) of a subject in `context`? A schema
/// no version uses belongs to the default context.
fn id_in_context(idx: &Index, id: u32, context: &str) -> bool {
    match idx.usages.get(&id) {
        Some(uses) => uses.iter().any(|(s, _)| context_of(s) == context),
        None => context == DEFAULT_CONTEXT && idx.schemas.contains_key(&id),
    }
}

impl Registry {
    /// GET /contexts: the default context first, then every context that ever held a
    /// subject, sorted, filtered by `prefix`.
    /// The contexts, all of them, or (`readable` given) those holding a subject the caller
    /// may read.
    pub fn list_contexts(&self, prefix: Option<&str>, readable: Option<Readable<'_>>) -> Vec<String> {
        let idx = self.store.read();
        let prefix = prefix.unwrap_or("");
        let shown = |c: &String| match readable {
            None => true,
            Some(readable) => idx.subjects.keys().any(|s| context_of(s) == c && readable(s)),
        };
        std::iter::once(DEFAULT_CONTEXT.to_string())
            .chain(idx.contexts.iter().filter(|c| c.as_str() != DEFAULT_CONTEXT).cloned())
            .filter(|c| c.starts_with(prefix) && shown(c))
            .collect()
    }

    /// The context in which `id` is read for a request naming `subject` (the `?subject=`
    /// parameter; none is the default context). An unqualified subject whose context lacks
    /// the id is retried in every other context, as Confluent does.
    pub(super) fn id_context(idx: &Index, id: u32, subject: Option<&str>) -> Option<String> {
        let context = subject.map_or(DEFAULT_CONTEXT, context_of);
        if id_in_context(idx, id, context) {
            return Some(context.to_string());
        }
        if subject.is_none() || context != DEFAULT_CONTEXT {
            return None;
        }
        idx.contexts.iter().find(|c| c.as_str() != DEFAULT_CONTEXT && id_in_context(idx, id, c)).cloned()
    }

    /// The other spellings an unqualified subject is read under when it misses in the
    /// default context: the same name in every other context, in context order.
    pub(super) fn fallback_subjects(idx: &Index, subject: &str) -> Vec<String> {
        if context_of(subject) != DEFAULT_CONTEXT {
            return vec![];
        }
        idx.contexts.iter().filter(|c| c.as_str() != DEFAULT_CONTEXT).map(|c| qualify(c, subject)).collect()
    }

    /// A version read by subject and version, falling back to other contexts for an
    /// unqualified subject (Confluent's `getUsingContexts`). The default context's error is
    /// the one reported when no context has it.
    pub(super) fn find_version_using_contexts(
        &self,
        idx: &Index,
        subject: &str,
        version: Option<u32>,
        deleted: bool,
    ) -> Result<SubjectVersion> {
        let err = match self.find_version(idx, subject, version, deleted) {
            Ok(sv) => return Ok(sv),
            Err(e) => e,
        };
        Self::fallback_subjects(idx, subject)
            .iter()
            .find_map(|s| self.find_version(idx, s, version, deleted).ok())
            .ok_or(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qualified_names() {
        assert_eq!(context_of(":.ctx:name"), ".ctx");
        assert_eq!(context_of(":.ctx:"), ".ctx");
        assert_eq!(context_of(":.ctx"), ".ctx");
        assert_eq!(context_of("name"), ".");
        assert_eq!(context_of("a:b"), ".");
        assert_eq!(name_of(":.ctx:a:b"), "a:b");
        assert_eq!(name_of("plain"), "plain");
        assert_eq!(qualify(".ctx", "x"), ":.ctx:x");
        assert_eq!(qualify(".", "x"), "x");
        assert!(is_context_scope(":.ctx:"));
        assert!(!is_context_scope(":.ctx:x"));
        assert_eq!(url_context("c").unwrap(), ".c");
        assert!(url_context(".a:b").is_err());
    }
}

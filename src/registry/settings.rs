//! Global and subject-level config (compatibility level and friends) and modes.

use super::contexts::{self, context_of};
use super::error::{RegistryError, Result};
use super::{valid_subject, Registry};
use crate::store::Change;
use crate::types::{Config, Mode, Scope};

/// A partial config update: `None` keeps a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct ConfigUpdate {
    pub config: Config,
    /// Fields sent as JSON null, to clear.
    pub cleared: Vec<&'static str>,
}

impl Registry {
    fn scope_of(subject: Option<&str>) -> Scope {
        subject.map_or(Scope::Global, |s| Scope::Subject(s.to_string()))
    }

    /// GET /config[/{subject}]. A subject without its own config is 40408 unless
    /// `default_to_global`, which answers the config it inherits (its context's, see
    /// `contexts::inherited_scopes`). A config lacking a level shows the server default.
    pub fn get_config(&self, subject: Option<&str>, default_to_global: bool) -> Result<Config> {
        let idx = self.store.read_brief();
        let base = self.base_config();
        match subject {
            None => Ok(idx.configs.get(&Scope::Global).cloned().unwrap_or_default().over(&base)),
            Some(s) => match idx.configs.get(&Scope::Subject(s.to_string())) {
                Some(c) => Ok(c.over(&base)),
                None if default_to_global => Ok(self.effective_config(&idx, s)),
                None => Err(RegistryError::SubjectConfigNotFound(s.to_string())),
            },
        }
    }

    /// The subject that requests on `subject` are served from: its config's `alias`, if set
    /// (one step, no chains, as Confluent's AliasFilter).
    pub fn dealias(&self, subject: &str) -> String {
        let idx = self.store.read_brief();
        idx.configs
            .get(&Scope::Subject(subject.to_string()))
            .and_then(|c| c.alias.clone())
            .unwrap_or_else(|| subject.to_string())
    }

    /// Subject → the subjects whose config names it as their alias, sorted.
    pub fn aliases(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let idx = self.store.read();
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (scope, config) in &idx.configs {
            if let (Scope::Subject(s), Some(target)) = (scope, &config.alias) {
                out.entry(target.clone()).or_default().push(s.clone());
            }
        }
        out.values_mut().for_each(|v| v.sort());
        out
    }

    /// PUT /config[/{subject}]: merges the update into the stored config.
    pub fn put_config(&self, subject: Option<&str>, update: &ConfigUpdate) -> Result<()> {
        if let Some(s) = subject {
            if !valid_subject(s) {
                return Err(RegistryError::InvalidSubject(s.to_string()));
            }
        }
        self.store.write(|idx| {
            if let Some(s) = subject {
                Self::ensure_writable(idx, s)?;
            }
            let scope = Self::scope_of(subject);
            let current = idx.configs.get(&scope).cloned().unwrap_or_default();
            let mut merged = update.config.over(&current);
            for field in &update.cleared {
                clear_field(&mut merged, field);
            }
            Ok((vec![Change::PutConfig(scope, merged)], ()))
        })
    }

    /// DELETE /config[/{subject}]: returns the config that was in force.
    pub fn delete_config(&self, subject: Option<&str>) -> Result<Config> {
        self.store.write(|idx| {
            let scope = Self::scope_of(subject);
            let base = self.base_config();
            match (idx.configs.get(&scope), subject) {
                (Some(c), _) => Ok((vec![Change::DeleteConfig(scope.clone())], c.over(&base))),
                (None, None) => Ok((vec![], base)),
                (None, Some(s)) => Err(RegistryError::SubjectNotFound(s.to_string())),
            }
        })
    }

    /// GET /mode[/{subject}]. A global READONLY_OVERRIDE is the answer for every subject.
    pub fn get_mode(&self, subject: Option<&str>, default_to_global: bool) -> Result<Mode> {
        let idx = self.store.read_brief();
        let global = idx.modes.get(&Scope::Global).copied().unwrap_or(Mode::Readwrite);
        match subject {
            None => Ok(global),
            Some(_) if global == Mode::ReadonlyOverride => Ok(global),
            Some(s) => match idx.modes.get(&Scope::Subject(s.to_string())) {
                Some(m) => Ok(*m),
                None if default_to_global => Ok(Self::effective_mode(&idx, s)),
                None => Err(RegistryError::SubjectModeNotFound(s.to_string())),
            },
        }
    }

    /// PUT /mode[/{subject}]. Entering IMPORT needs no live versions in scope unless
    /// `force`; leftover soft-deleted versions are purged first.
    pub fn put_mode(&self, subject: Option<&str>, mode: Mode, force: bool) -> Result<()> {
        if let Some(s) = subject {
            if !valid_subject(s) {
                return Err(RegistryError::InvalidSubject(s.to_string()));
            }
        }
        self.store.write(|idx| {
            let mut changes = Vec::new();
            if mode == Mode::Import {
                let in_scope = idx.subjects.iter().filter(|(s, _)| match subject {
                    None => true,
                    Some(want) if contexts::is_context_scope(want) => contexts::context_of(s) == context_of(want),
                    Some(want) => want == s.as_str(),
                });
                let mut purge = Vec::new();
                for (s, versions) in in_scope {
                    for (&v, state) in versions.iter() {
                        if !state.deleted && !force {
                            return Err(RegistryError::OperationNotPermitted(
                                "Cannot import since found existing subjects".into(),
                            ));
                        }
                        if state.deleted && !force {
                            purge.push((s.clone(), v, state.id));
                        }
                    }
                }
                for (s, v, id) in &purge {
                    changes.push(Change::DeleteVersion(s.clone(), *v));
                    let still_used = idx.usages.get(id).is_some_and(|u| {
                        u.iter().any(|(us, uv)| !purge.iter().any(|(ps, pv, _)| ps == us && pv == uv))
                    });
                    if !still_used {
                        changes.push(Change::DeleteSchema(*id));
                    }
                }
            }
            changes.push(Change::PutMode(Self::scope_of(subject), mode));
            Ok((changes, ()))
        })
    }

    /// DELETE /mode[/{subject}]: returns the mode that was set; under a global
    /// READONLY_OVERRIDE, that mode (Confluent answers the mode in force).
    pub fn delete_mode(&self, subject: Option<&str>) -> Result<Mode> {
        self.store.write(|idx| {
            let scope = Self::scope_of(subject);
            let global = idx.modes.get(&Scope::Global).copied();
            if subject.is_some() && global == Some(Mode::ReadonlyOverride) {
                let changes = idx.modes.contains_key(&scope).then(|| Change::DeleteMode(scope.clone()));
                return Ok((changes.into_iter().collect(), Mode::ReadonlyOverride));
            }
            match (idx.modes.get(&scope), subject) {
                (Some(m), _) => Ok((vec![Change::DeleteMode(scope.clone())], *m)),
                (None, None) => Ok((vec![], Mode::Readwrite)),
                (None, Some(s)) => Err(RegistryError::SubjectNotFound(s.to_string())),
            }
        })
    }
}

fn clear_field(c: &mut Config, field: &str) {
    match field {
        "normalize" => c.normalize = None,
        "validateFields" => c.validate_fields = None,
        "validateRules" => c.validate_rules = None,
        "alias" => c.alias = None,
        "compatibilityGroup" => c.compatibility_group = None,
        "defaultMetadata" => c.default_metadata = None,
        "overrideMetadata" => c.override_metadata = None,
        "defaultRuleSet" => c.default_rule_set = None,
        "overrideRuleSet" => c.override_rule_set = None,
        _ => {}
    }
}

//! The rules of a schema registry, as Confluent applies them: modes, ids, versions, deletes,
//! references, which versions a compatibility check reads. Handlers call in here with plain
//! values; every Confluent behaviour lives in this module and its children.

pub mod cluster;
pub mod compat;
pub mod contexts;
pub mod error;
pub mod metadata;
pub mod schemas;
pub mod settings;
pub mod subjects;
pub mod tags;

use std::collections::HashSet;
use std::sync::Arc;

use crate::schema::{ParseOptions, ParsedSchema, SchemaRef, SchemaType};
/// A stored schema as reads return it (the HTTP layer renders these).
pub use crate::store::StoredSchema;
use crate::store::{Index, Store};
use crate::types::{Config, Level, Mode, Reference, Scope};
use error::{RegistryError, Result};

/// Settings the registry is started with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The level used when neither the subject nor the global config sets one.
    pub default_level: Level,
    /// Largest accepted schema text, in bytes (42209 above it).
    pub max_schema_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { default_level: Level::Backward, max_schema_bytes: 8 * 1024 * 1024 }
    }
}

pub struct Registry {
    store: Arc<Store>,
    settings: Settings,
}

/// Which subjects a listing may show (the caller's read permission; `&|_| true` without
/// authentication). Listings filter before they page, so a page is full of visible entries.
pub type Readable<'a> = &'a dyn Fn(&str) -> bool;

/// Which slice of a listing to return: `offset` items skipped, at most `limit` kept.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
}

/// A schema as a client submits it, for register, lookup and compatibility checks.
#[derive(Clone, Debug, Default)]
pub struct SchemaInput {
    pub schema: Option<String>,
    /// The raw `schemaType` value, kept raw so that an unknown type can be named in the error.
    pub schema_type: Option<String>,
    pub references: Vec<InputReference>,
    pub metadata: Option<serde_json::Value>,
    pub rule_set: Option<serde_json::Value>,
    pub id: Option<i64>,
    pub version: Option<i64>,
}

/// A reference as submitted: fields may be missing, which Confluent reports in its message.
#[derive(Clone, Debug, Default)]
pub struct InputReference {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub version: Option<i64>,
}

/// One version of a subject with its schema, as reads return it.
#[derive(Clone, Debug)]
pub struct SubjectVersion {
    pub subject: String,
    pub version: u32,
    pub schema: Arc<StoredSchema>,
    pub deleted: bool,
}

impl Registry {
    pub fn new(store: Arc<Store>, settings: Settings) -> Registry {
        Registry { store, settings }
    }

    /// `Ok` when this node can serve (state loaded and, on Kafka, caught up), else why not.
    pub fn ready(&self) -> std::result::Result<(), String> {
        self.store.ready()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The config with every unset level filled with the server default.
    fn base_config(&self) -> Config {
        Config { compatibility_level: Some(self.settings.default_level), ..Config::default() }
    }

    /// The first config set among the subject's own, its context's (the global one in the
    /// default context) and the `:.__GLOBAL:` context's, over the server default. Confluent
    /// does not merge these levels: a subject config without a level gets the server
    /// default, not its context's (corpus `config-scopes`).
    fn effective_config(&self, idx: &Index, subject: &str) -> Config {
        std::iter::once(Scope::Subject(subject.to_string()))
            .chain(contexts::inherited_scopes(subject))
            .find_map(|scope| idx.configs.get(&scope))
            .map_or_else(|| self.base_config(), |c| c.over(&self.base_config()))
    }

    fn effective_level(&self, idx: &Index, subject: &str) -> Level {
        self.effective_config(idx, subject).compatibility_level.unwrap_or(self.settings.default_level)
    }

    /// A global READONLY_OVERRIDE beats every other mode; otherwise the subject's mode, then
    /// the modes it inherits (see `contexts::inherited_scopes`), then READWRITE.
    fn effective_mode(idx: &Index, subject: &str) -> Mode {
        let global = idx.modes.get(&Scope::Global).copied();
        if global == Some(Mode::ReadonlyOverride) {
            return Mode::ReadonlyOverride;
        }
        std::iter::once(Scope::Subject(subject.to_string()))
            .chain(contexts::inherited_scopes(subject))
            .find_map(|scope| idx.modes.get(&scope).copied())
            .unwrap_or(Mode::Readwrite)
    }

    fn ensure_writable(idx: &Index, subject: &str) -> Result<()> {
        if Self::effective_mode(idx, subject).read_only() {
            return Err(RegistryError::read_only(subject));
        }
        Ok(())
    }

    /// The schema text in a requested `format` (Protobuf `serialized`: base64 descriptor);
    /// `None` when the format does not apply to the type, so the stored text stands.
    pub fn formatted_text(&self, stored: &StoredSchema, format: Option<&str>) -> Option<String> {
        let format = format?;
        let idx = self.store.read();
        self.parsed(&idx, stored).ok()?.formatted(format)
    }

    /// The parsed form of a stored schema, parsed once and cached.
    fn parsed(&self, idx: &Index, stored: &StoredSchema) -> Result<Arc<ParsedSchema>> {
        stored
            .parsed
            .get_or_init(|| {
                let texts = reference_texts(idx, &stored.record.references)?;
                let refs: Vec<SchemaRef> = texts.iter().map(|(name, text)| SchemaRef { name, text }).collect();
                let opts = ParseOptions { normalize: false, validate: false };
                ParsedSchema::parse(stored.record.schema_type, &stored.record.schema, &refs, opts)
                    .map(Arc::new)
                    .map_err(|e| e.message)
            })
            .clone()
            .map_err(|e| RegistryError::InvalidSchema(format!("Stored schema {} cannot be parsed: {e}", stored.id)))
    }
}

/// The one spelling of a subject in the default context: `:.:name` is `name`, and a
/// context with no name part (`:.ctx`) is `:.ctx:`.
pub fn normalize_subject(subject: &str) -> String {
    if let Some(name) = subject.strip_prefix(":.:") {
        return name.to_string();
    }
    match subject.strip_prefix(":.") {
        Some(rest) if !rest.contains(':') => format!("{subject}:"),
        _ => subject.to_string(),
    }
}

/// True when the subject name is one Confluent accepts (42208 otherwise).
pub fn valid_subject(subject: &str) -> bool {
    let unqualified = match subject.strip_prefix(":.") {
        Some(rest) => rest.split_once(':').map(|(_, name)| name).unwrap_or(""),
        None => subject,
    };
    !subject.chars().any(|c| c.is_control()) && unqualified != "__GLOBAL" && unqualified != "__EMPTY"
}

/// The texts of every schema `references` reaches, dependencies first, each once.
/// Every schema `references` lead to, directly or transitively, dependencies first, as
/// (reference name, stored text): Avro needs the texts, JSON Schema the names its `$ref`s use.
fn reference_texts(idx: &Index, references: &[Reference]) -> std::result::Result<Vec<(String, String)>, String> {
    fn visit(
        idx: &Index,
        r: &Reference,
        seen: &mut HashSet<u32>,
        out: &mut Vec<(String, String)>,
        depth: usize,
    ) -> std::result::Result<(), String> {
        if depth > 64 {
            return Err("references nest too deeply".into());
        }
        let state =
            u32::try_from(r.version).ok().and_then(|v| idx.subjects.get(&r.subject)?.get(&v).copied()).ok_or_else(
                || format!("No schema reference found for subject \"{}\" and version {}", r.subject, r.version),
            )?;
        if !seen.insert(state.id) {
            return Ok(());
        }
        let stored = idx.schemas.get(&state.id).ok_or_else(|| format!("Schema {} not found", state.id))?;
        for inner in &stored.record.references {
            visit(idx, inner, seen, out, depth + 1)?;
        }
        out.push((r.name.clone(), stored.record.schema.clone()));
        Ok(())
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in references {
        visit(idx, r, &mut seen, &mut out, 0)?;
    }
    Ok(out)
}

/// Parses a `{version}` path parameter: `latest` (any case) and -1 mean the latest version.
pub fn parse_version(raw: &str) -> Result<Option<u32>> {
    if raw.eq_ignore_ascii_case("latest") {
        return Ok(None);
    }
    match raw.trim().parse::<i32>() {
        Ok(-1) => Ok(None),
        Ok(v) if v >= 1 => Ok(Some(v as u32)),
        _ => Err(RegistryError::InvalidVersion(raw.to_string())),
    }
}

/// The schema type named in a request; absent means AVRO.
fn input_type(raw: &Option<String>) -> Result<SchemaType> {
    match raw {
        None => Ok(SchemaType::Avro),
        Some(s) => SchemaType::parse(s).ok_or_else(|| RegistryError::InvalidSchema(format!("Invalid schema type {s}"))),
    }
}

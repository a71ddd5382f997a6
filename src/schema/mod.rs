//! Schema formats. Each format lives in its own module (parse, canonical text, compatibility);
//! this file is the one place that dispatches on the schema type, so the registry never
//! needs to know which format it is handling.

pub mod avro;
pub mod json;
pub mod json_text;
pub mod protobuf;

pub use crate::types::SchemaType;

/// How a schema is read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOptions {
    /// Store Confluent's normalized form instead of the canonical string.
    pub normalize: bool,
    /// A schema being newly registered is validated strictly (defaults, names); stored
    /// schemas are re-read leniently, as Confluent does, so an old schema never fails a check.
    pub validate: bool,
}

/// What a schema tag edit addresses: a record (named type) or a field of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    Record,
    Field,
}

/// One tag addition or removal on the entity at `path` (e.g. `User` or `User.name`).
#[derive(Clone, Debug)]
pub struct TagEdit {
    pub entity: Entity,
    pub path: String,
    pub tags: Vec<String>,
}

/// Applies tag additions then removals to a schema text; the result is to be parsed again.
pub fn edit_tags(schema_type: SchemaType, text: &str, add: &[TagEdit], remove: &[TagEdit]) -> Result<String, String> {
    match schema_type {
        SchemaType::Avro => avro::tags::edit(text, add, remove),
        SchemaType::Protobuf => protobuf::tags::edit(text, add, remove),
        SchemaType::Json => json::tags::edit(text, add, remove),
    }
}

/// Where the JSON formats (Avro, JSON Schema) keep an entity's tags.
const TAGS: &str = "confluent:tags";

/// Adds `tags` to (or removes them from) the `confluent:tags` array of a JSON object; an
/// emptied array is dropped.
fn apply_tags(target: &mut serde_json::Map<String, serde_json::Value>, tags: &[String], adding: bool) {
    let mut current: Vec<String> = target
        .get(TAGS)
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if adding {
        for t in tags {
            if !current.contains(t) {
                current.push(t.clone());
            }
        }
    } else {
        current.retain(|t| !tags.contains(t));
    }
    if current.is_empty() {
        target.remove(TAGS);
    } else {
        target.insert(TAGS.into(), serde_json::Value::from(current));
    }
}

/// Confluent's refusal of a tag path that names nothing in an Avro or JSON schema.
fn no_matching_path(path: &str) -> String {
    format!("java.lang.IllegalArgumentException: No matching path '{path}' found in the schema")
}

/// A schema another one references: the reference's `name` (what a JSON Schema `$ref`
/// says) and the referenced version's stored text.
#[derive(Clone, Copy, Debug)]
pub struct SchemaRef<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Why a schema cannot be read: the parser's detail message. `short` marks the details
/// Confluent reports without the "with refs [..] of type T" part of its 42201 message.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub short: bool,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for ParseError {
    fn from(message: String) -> ParseError {
        ParseError { message, short: false }
    }
}

/// A parsed schema of any format, ready for compatibility checks. Cached per id by the
/// store so that a check never re-parses the registered versions.
#[derive(Debug)]
pub enum ParsedSchema {
    Avro(avro::AvroSchema),
    Json(json::JsonSchema),
    Protobuf(protobuf::ProtobufSchema),
}

impl ParsedSchema {
    /// Parses `text`. `references` are every schema it references, directly or
    /// transitively, dependencies first.
    pub fn parse(
        schema_type: SchemaType,
        text: &str,
        references: &[SchemaRef],
        opts: ParseOptions,
    ) -> Result<ParsedSchema, ParseError> {
        match schema_type {
            SchemaType::Avro => {
                let texts: Vec<&str> = references.iter().map(|r| r.text).collect();
                Ok(ParsedSchema::Avro(avro::AvroSchema::parse(text, &texts, opts)?))
            }
            SchemaType::Json => json::JsonSchema::parse(text, references, opts).map(ParsedSchema::Json),
            SchemaType::Protobuf => {
                let refs: Vec<(&str, &str)> = references.iter().map(|r| (r.name, r.text)).collect();
                protobuf::ProtobufSchema::parse(text, &refs, opts).map(ParsedSchema::Protobuf)
            }
        }
    }

    pub fn schema_type(&self) -> SchemaType {
        match self {
            ParsedSchema::Avro(_) => SchemaType::Avro,
            ParsedSchema::Json(_) => SchemaType::Json,
            ParsedSchema::Protobuf(_) => SchemaType::Protobuf,
        }
    }

    /// The text that is stored and returned: Confluent's canonical string (or the
    /// normalized form when parsed with `normalize`).
    pub fn canonical(&self) -> &str {
        match self {
            ParsedSchema::Avro(s) => s.canonical(),
            ParsedSchema::Json(s) => s.canonical(),
            ParsedSchema::Protobuf(s) => s.canonical(),
        }
    }

    /// The schema in a requested `format` (Protobuf: `serialized`, the base64 descriptor, and
    /// `ignore_extensions`);
    /// `None` when the format does not apply, and the canonical text is returned instead.
    pub fn formatted(&self, format: &str) -> Option<String> {
        match (self, format) {
            (ParsedSchema::Protobuf(s), "serialized") => Some(s.serialized()),
            (ParsedSchema::Protobuf(s), "ignore_extensions") => Some(s.without_extensions()),
            (ParsedSchema::Avro(s), "resolved") => Some(s.resolved()),
            _ => None,
        }
    }

    /// Confluent's verbose messages for the incompatibilities found when `reader` reads data
    /// written with `writer`; empty when compatible. `reader_role`/`writer_role` are "new"/"old".
    pub fn incompatibilities(
        reader: &ParsedSchema,
        writer: &ParsedSchema,
        reader_role: &str,
        writer_role: &str,
    ) -> Vec<String> {
        match (reader, writer) {
            (ParsedSchema::Avro(r), ParsedSchema::Avro(w)) => {
                avro::compatibility_messages(r, w, reader_role, writer_role)
            }
            (ParsedSchema::Json(r), ParsedSchema::Json(w)) => {
                json::compatibility_messages(r, w, reader_role, writer_role)
            }
            (ParsedSchema::Protobuf(r), ParsedSchema::Protobuf(w)) => {
                protobuf::compatibility_messages(r, w, reader_role, writer_role)
            }
            // The registry checks the types first (see registry/compat.rs); kept for callers
            // comparing two parsed schemas directly.
            _ => vec!["Incompatible because of different schema type".to_string()],
        }
    }
}

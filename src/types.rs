//! The domain types every layer shares: what is stored per schema, per subject version, and
//! in the config and mode settings. A leaf: it imports nothing of the server, so the store,
//! the formats, the registry and the HTTP layer all speak these words without depending on
//! each other. These types are persisted (as JSON) and served, so their field names follow
//! Confluent's entities.

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use schemata_codec::SchemaType;

/// The types this build can parse and check; `/schemas/types` lists these, in Confluent's
/// order (JSON, PROTOBUF, AVRO).
pub const SUPPORTED_TYPES: &[SchemaType] = &[SchemaType::Json, SchemaType::Protobuf, SchemaType::Avro];

/// The default context.
pub const DEFAULT_CONTEXT: &str = ".";

/// The context of a subject: `.ctx` for `:.ctx:name` and for `:.ctx` (no name part),
/// the default context otherwise.
pub fn context_of(subject: &str) -> &str {
    match subject.strip_prefix(':') {
        Some(rest) if rest.starts_with('.') => rest.split_once(':').map_or(rest, |(ctx, _)| ctx),
        _ => DEFAULT_CONTEXT,
    }
}

/// The reserved metadata property Confluent keeps equal to the version that holds the schema.
pub const CONFLUENT_VERSION: &str = "confluent:version";

/// True when the metadata's properties hold `confluent:version`.
pub fn has_confluent_version(metadata: Option<&Value>) -> bool {
    metadata.and_then(|m| m.get("properties")?.as_object()).is_some_and(|p| p.contains_key(CONFLUENT_VERSION))
}

/// A reference from one schema to a version of another subject.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// One distinct schema. Its id is the key under which it is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRecord {
    pub schema_type: SchemaType,
    /// The canonical (or normalized) text, as returned by every read.
    pub schema: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// Boxed, as `rule_set`: most schemas have neither, and an inline `Value` is 72 bytes
    /// in every schema the index holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Box<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<Box<Value>>,
}

impl SchemaRecord {
    /// Confluent's `MD5.ofSchema`: the schema's identity there (two registrations with the
    /// same digest are one schema) and, since 8.0, its GUID. It covers the text, the
    /// references, the metadata and the rule set, not the schema type.
    pub fn md5(&self) -> [u8; 16] {
        let mut md = Md5::new();
        md.update(self.schema.as_bytes());
        for r in &self.references {
            md.update(r.name.as_bytes());
            md.update(r.subject.as_bytes());
            md.update(r.version.to_be_bytes());
        }
        if let Some(metadata) = &self.metadata {
            md.update([1]);
            hash_metadata(&mut md, metadata);
        }
        if let Some(rule_set) = &self.rule_set {
            md.update([1]);
            for kind in ["migrationRules", "domainRules", "encodingRules"] {
                for rule in rule_set.get(kind).and_then(Value::as_array).into_iter().flatten() {
                    hash_rule(&mut md, rule);
                }
            }
        }
        md.finalize().into()
    }

    /// The GUID Confluent 8 gives the schema: its MD5 read as a UUID.
    pub fn guid(&self) -> String {
        format_guid(&self.md5())
    }
}

/// GUIDs are formatted and parsed in one place, the codec's wire module, for the server and
/// for producers and consumers alike.
pub use schemata_codec::wire::{guid_string as format_guid, parse_guid};

/// The strings of a JSON array (or one string), sorted: Confluent keeps these as sorted sets.
fn sorted_strings(v: Option<&Value>) -> Vec<&str> {
    let mut out: Vec<&str> = match v {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => vec![],
    };
    out.sort_unstable();
    out
}

/// The entries of a JSON object, sorted by key (Confluent keeps sorted maps).
fn sorted_entries(v: Option<&Value>) -> Vec<(&String, &Value)> {
    let mut out: Vec<(&String, &Value)> = v.and_then(Value::as_object).into_iter().flatten().collect();
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out
}

/// `Metadata.updateHash`: tags (path, then its tags), properties, sensitive names.
fn hash_metadata(md: &mut Md5, metadata: &Value) {
    for (path, tags) in sorted_entries(metadata.get("tags")) {
        md.update(path.as_bytes());
        for tag in sorted_strings(Some(tags)) {
            md.update(tag.as_bytes());
        }
    }
    for (key, value) in sorted_entries(metadata.get("properties")) {
        md.update(key.as_bytes());
        md.update(scalar_text(value).as_bytes());
    }
    for name in sorted_strings(metadata.get("sensitive")) {
        md.update(name.as_bytes());
    }
}

/// `Rule.updateHash`: each field that is present, in Confluent's order.
fn hash_rule(md: &mut Md5, rule: &Value) {
    let text = |k: &str| rule.get(k).and_then(Value::as_str);
    for key in ["name", "doc", "kind", "mode", "type"] {
        if let Some(v) = text(key) {
            md.update(v.as_bytes());
        }
    }
    for tag in sorted_strings(rule.get("tags")) {
        md.update(tag.as_bytes());
    }
    for (key, value) in sorted_entries(rule.get("params")) {
        md.update(key.as_bytes());
        md.update(scalar_text(value).as_bytes());
    }
    for key in ["expr", "onSuccess", "onFailure"] {
        if let Some(v) = text(key) {
            md.update(v.as_bytes());
        }
    }
    // Whether Confluent hashes `disabled` is not known (a false one adds nothing there);
    // a true one is hashed so that two rule sets differing by it stay two schemas here.
    if rule.get("disabled") == Some(&Value::Bool(true)) {
        md.update(b"disabled");
    }
}

/// A map value as the Java `String` Jackson would have made of it.
fn scalar_text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => s.as_str().into(),
        Value::Null => "".into(),
        other => other.to_string().into(),
    }
}

/// The state of one version of a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionState {
    pub id: u32,
    pub deleted: bool,
}

/// Compatibility levels, as Confluent names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Level {
    pub const ALL: [Level; 7] = [
        Level::None,
        Level::Backward,
        Level::BackwardTransitive,
        Level::Forward,
        Level::ForwardTransitive,
        Level::Full,
        Level::FullTransitive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "NONE",
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Case-insensitive, as Confluent accepts levels.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(s))
    }

    /// Does the new schema have to read data written with the old one?
    pub fn backward(self) -> bool {
        matches!(self, Level::Backward | Level::BackwardTransitive | Level::Full | Level::FullTransitive)
    }

    /// Does the old schema have to read data written with the new one?
    pub fn forward(self) -> bool {
        matches!(self, Level::Forward | Level::ForwardTransitive | Level::Full | Level::FullTransitive)
    }

    pub fn transitive(self) -> bool {
        matches!(self, Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive)
    }
}

/// Registry modes. READONLY_OVERRIDE set globally overrides subject modes (classic semantics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    Readwrite,
    Readonly,
    ReadonlyOverride,
    Import,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Readwrite => "READWRITE",
            Mode::Readonly => "READONLY",
            Mode::ReadonlyOverride => "READONLY_OVERRIDE",
            Mode::Import => "IMPORT",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Readwrite, Mode::Readonly, Mode::ReadonlyOverride, Mode::Import]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }

    pub fn read_only(self) -> bool {
        matches!(self, Mode::Readonly | Mode::ReadonlyOverride)
    }
}

/// Global or subject-level configuration. Every field is optional: a subject's setting
/// overrides the global one field by field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility_level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_fields: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_rules: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
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

impl Config {
    /// `self` with every unset field taken from `base`.
    pub fn over(&self, base: &Config) -> Config {
        Config {
            compatibility_level: self.compatibility_level.or(base.compatibility_level),
            normalize: self.normalize.or(base.normalize),
            validate_fields: self.validate_fields.or(base.validate_fields),
            validate_rules: self.validate_rules.or(base.validate_rules),
            alias: self.alias.clone().or_else(|| base.alias.clone()),
            compatibility_group: self.compatibility_group.clone().or_else(|| base.compatibility_group.clone()),
            default_metadata: self.default_metadata.clone().or_else(|| base.default_metadata.clone()),
            override_metadata: self.override_metadata.clone().or_else(|| base.override_metadata.clone()),
            default_rule_set: self.default_rule_set.clone().or_else(|| base.default_rule_set.clone()),
            override_rule_set: self.override_rule_set.clone().or_else(|| base.override_rule_set.clone()),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Config::default()
    }
}

/// Where a config or mode applies: the whole registry or one subject.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Subject(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(metadata: Option<Value>, rule_set: Option<Value>) -> SchemaRecord {
        SchemaRecord {
            schema_type: SchemaType::Avro,
            schema: r#"{"type":"record","name":"myrecord","fields":[{"type":"string","default":null,"name":"f"}]}"#
                .into(),
            references: vec![],
            metadata: metadata.map(Box::new),
            rule_set: rule_set.map(Box::new),
        }
    }

    /// The digests Confluent's own tests pin for these records (signed Java bytes there).
    #[test]
    fn md5_matches_confluents_pinned_digests() {
        assert_eq!(record(None, None).md5(), [29, 32, 203, 185, 229, 227, 94, 151, 84, 231, 218, 23, 11, 110, 93, 219]);
        // Empty metadata and one domain rule with only its kind and mode.
        let rules = serde_json::json!({"domainRules": [{"kind": "TRANSFORM", "mode": "WRITEREAD", "disabled": false}]});
        assert_eq!(
            record(Some(serde_json::json!({})), Some(rules)).md5(),
            [22, 241, 236, 165, 235, 249, 34, 179, 218, 128, 33, 47, 143, 167, 52, 46]
        );
        // The type is not part of it.
        let protobuf = SchemaRecord { schema_type: SchemaType::Protobuf, ..record(None, None) };
        assert_eq!(protobuf.md5(), record(None, None).md5());
    }

    #[test]
    fn guids_print_and_parse_as_java_uuids() {
        let guid = record(None, None).guid();
        assert_eq!(guid, "1d20cbb9-e5e3-5e97-54e7-da170b6e5ddb");
        assert_eq!(parse_guid(&guid.to_uppercase()), Some(record(None, None).md5()));
        for bad in ["", "1d20cbb9e5e35e9754e7da170b6e5ddb", "1d20cbb9-e5e3-5e97-54e7-da170b6e5ddx", "1-2-3-4-5"] {
            assert_eq!(parse_guid(bad), None, "{bad}");
        }
    }
}

//! The registry's data model: what is stored per schema, per subject version, and in the
//! config and mode settings. These types are persisted (as JSON) and served, so their field
//! names follow Confluent's entities.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schema::SchemaType;

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

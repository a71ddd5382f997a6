//! Moving a registry's data in and out: `schemata export` reads any Confluent-API registry
//! (Confluent, Karapace, Redpanda, Schemata) through its REST API into one file of JSON lines
//! in the `_schemas` topic's record format (`{"key": {...}, "value": {...}}`), so the same
//! file can also seed a Kafka topic; `schemata import` writes such a file into a registry in
//! IMPORT mode, keeping ids and versions; `schemata migrate` does both and checks the result.
//! Records are those of `store::kafka::records`, the one definition of the format.

mod export;
mod import;
mod progress;

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{ExportArgs, ImportArgs, MigrateArgs};
use crate::store::kafka::records::{ConfigValue, Key, ModeValue, SchemaValue};

pub use export::export;
pub use import::{import, verify};

/// One line of an export file: a record's key and value (`null` for a tombstone).
#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    pub key: Key,
    #[serde(default)]
    pub value: Option<Value>,
}

/// The registry's state as an export file holds it, with later lines overriding earlier
/// ones for the same key, as a compacted topic does.
#[derive(Debug, Default)]
pub struct Dump {
    /// By (subject, version), in the order first seen.
    pub schemas: Vec<SchemaValue>,
    /// `None` subject: the global config.
    pub configs: Vec<(Option<String>, ConfigValue)>,
    pub modes: Vec<(Option<String>, String)>,
}

impl Dump {
    /// Reads an export file (or a dump of a `_schemas` topic in the same shape).
    pub fn read(input: impl BufRead) -> Result<Dump, String> {
        let mut dump = Dump::default();
        for (n, line) in input.lines().enumerate() {
            let line = line.map_err(|e| format!("reading line {}: {e}", n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", n + 1))?;
            dump.apply(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(dump)
    }

    fn apply(&mut self, line: Line) -> Result<(), String> {
        match line.key {
            Key::Schema { subject, version, .. } => {
                self.schemas.retain(|s| !(s.subject == subject && s.version == version));
                if let Some(schema) = value(line.value)? {
                    self.schemas.push(schema);
                }
            }
            Key::Config { subject, .. } => {
                self.configs.retain(|(s, _)| *s != subject);
                if let Some(config) = value(line.value)? {
                    self.configs.push((subject, config));
                }
            }
            Key::Mode { subject, .. } => {
                self.modes.retain(|(s, _)| *s != subject);
                if let Some(ModeValue { mode, .. }) = value(line.value)? {
                    self.modes.push((subject, mode));
                }
            }
            Key::DeleteSubject { subject, .. } => {
                let upto = line.value.as_ref().and_then(|v| v.get("version")).and_then(Value::as_i64);
                for s in self.schemas.iter_mut().filter(|s| s.subject == subject) {
                    s.deleted |= upto.is_none_or(|upto| s.version <= upto);
                }
            }
            Key::ClearSubject { subject, .. } => self.schemas.retain(|s| s.subject != subject),
            // Contexts come into being with their subjects.
            Key::Noop { .. } | Key::Context { .. } => {}
        }
        Ok(())
    }
}

/// A record's value as `T`; `None` for a tombstone.
fn value<T: serde::de::DeserializeOwned>(v: Option<Value>) -> Result<Option<T>, String> {
    v.map(serde_json::from_value).transpose().map_err(|e| e.to_string())
}

/// Writes `lines` as JSON lines.
fn write_lines(out: &mut impl Write, lines: &[Line]) -> Result<(), String> {
    for line in lines {
        serde_json::to_writer(&mut *out, line).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn finish(command: &str, outcome: Result<(), String>) -> i32 {
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("schemata {command}: {e}");
            1
        }
    }
}

/// `schemata export`; returns the exit code.
pub fn run_export(args: &ExportArgs) -> i32 {
    finish(
        "export",
        (|| {
            let client = args.connection.connect(&args.registry)?;
            let lines = export(&client)?;
            let file = std::fs::File::create(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
            write_lines(&mut std::io::BufWriter::new(file), &lines)?;
            let schemas = lines.iter().filter(|l| matches!(l.key, Key::Schema { .. })).count();
            eprintln!("exported {} records ({schemas} subject versions) to {}", lines.len(), args.out.display());
            Ok(())
        })(),
    )
}

/// `schemata import`; returns the exit code.
pub fn run_import(args: &ImportArgs) -> i32 {
    finish(
        "import",
        (|| {
            let file = std::fs::File::open(&args.input).map_err(|e| format!("{}: {e}", args.input.display()))?;
            let dump = Dump::read(std::io::BufReader::new(file))?;
            let client = args.connection.connect(&args.registry)?;
            import(&client, &dump)
        })(),
    )
}

/// `schemata migrate`: export, import, then check every version on the target.
pub fn run_migrate(args: &MigrateArgs) -> i32 {
    finish(
        "migrate",
        (|| {
            let from = args.connection.connect(&args.from)?;
            let to = args.connection.connect(&args.to)?;
            let lines = export(&from)?;
            let mut text = Vec::new();
            write_lines(&mut text, &lines)?;
            let dump = Dump::read(text.as_slice())?;
            import(&to, &dump)?;
            verify(&to, &dump)?;
            eprintln!("verified: every id and version of {} matches on {}", args.from, args.to);
            Ok(())
        })(),
    )
}

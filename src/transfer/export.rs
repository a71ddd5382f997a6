//! Reads a registry through Confluent's REST API into `_schemas` records: every context, every
//! subject (deleted ones too), every version with its id, references, metadata and rule set
//! (soft-deleted ones marked deleted), and the global and per-subject configs and modes. Only
//! documented endpoints are used, so any Confluent-API registry can be read.

use schemata_codec::client::blocking::RegistryClient;
use schemata_codec::client::path_segment as seg;
use schemata_codec::Error;
use serde_json::Value;

use super::progress::Progress;
use super::Line;
use crate::store::kafka::records::{ConfigValue, ContextValue, Key, ModeValue, SchemaValue};

/// Confluent's tenant for a single-tenant registry.
const TENANT: &str = "default";

/// The registry's state as records, in an order a reader can apply: contexts, the global
/// config, versions by id (a referenced schema is usually older than its users; import does
/// not rely on it), each subject's config and mode, and last the global mode.
pub fn export(client: &RegistryClient) -> Result<Vec<Line>, String> {
    let contexts = match client.get("/contexts") {
        Ok(v) => strings(&v),
        // Registries from before contexts: just the default one.
        Err(Error::Registry { status: 404, .. }) => vec![".".to_string()],
        Err(e) => return Err(format!("listing contexts: {e}")),
    };
    let mut subjects = Vec::new();
    for context in &contexts {
        let path = if context == "." {
            "/subjects?deleted=true".to_string()
        } else {
            format!("/subjects?deleted=true&subjectPrefix={}", seg(&format!(":{context}:")))
        };
        let listed = client.get(&path).map_err(|e| format!("listing the subjects of context {context}: {e}"))?;
        for s in strings(&listed) {
            if !subjects.contains(&s) {
                subjects.push(s);
            }
        }
    }

    let mut lines: Vec<Line> = contexts
        .iter()
        .filter(|c| *c != ".")
        .map(|c| {
            line(
                Key::Context { tenant: TENANT.into(), context: c.clone(), magic: 0 },
                ContextValue { tenant: TENANT.into(), context: c.clone() },
            )
        })
        .collect::<Result<_, _>>()?;
    if let Some(config) = config(client, None)? {
        lines.push(line(Key::Config { subject: None, magic: 0 }, config)?);
    }
    let mut versions = Vec::new();
    let mut settings = Vec::new();
    let mut progress = Progress::new("exporting", subjects.len());
    for subject in &subjects {
        versions.extend(subject_versions(client, subject)?);
        if let Some(config) = config(client, Some(subject))? {
            settings.push(line(Key::Config { subject: Some(subject.clone()), magic: 0 }, config)?);
        }
        if let Some(mode) = mode(client, Some(subject))? {
            let value = ModeValue { subject: Some(subject.clone()), mode };
            settings.push(line(Key::Mode { subject: Some(subject.clone()), magic: 0 }, value)?);
        }
        progress.tick();
    }
    progress.done();
    versions.sort_by_key(|v| (v.id, v.subject.clone(), v.version));
    for v in versions {
        let key = Key::Schema { subject: v.subject.clone(), version: v.version, magic: 1 };
        lines.push(line(key, v)?);
    }
    lines.extend(settings);
    if let Some(mode) = mode(client, None)? {
        lines.push(line(Key::Mode { subject: None, magic: 0 }, ModeValue { subject: None, mode })?);
    }
    Ok(lines)
}

fn line(key: Key, value: impl serde::Serialize) -> Result<Line, String> {
    Ok(Line { key, value: Some(serde_json::to_value(value).map_err(|e| e.to_string())?) })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

fn numbers(v: &Value) -> Vec<i64> {
    v.as_array().into_iter().flatten().filter_map(Value::as_i64).collect()
}

/// Every version of `subject`, soft-deleted ones marked.
fn subject_versions(client: &RegistryClient, subject: &str) -> Result<Vec<SchemaValue>, String> {
    let what = |e: Error| format!("subject {subject}: {e}");
    let all = numbers(&client.get(&format!("/subjects/{}/versions?deleted=true", seg(subject))).map_err(what)?);
    let live = match client.get(&format!("/subjects/{}/versions", seg(subject))) {
        Ok(v) => numbers(&v),
        // Every version soft-deleted.
        Err(Error::Registry { error_code: 40401, .. }) => vec![],
        Err(e) => return Err(what(e)),
    };
    let mut out = Vec::with_capacity(all.len());
    for version in all {
        let path = format!("/subjects/{}/versions/{version}?deleted=true", seg(subject));
        let body = client.get(&path).map_err(|e| format!("version {version} of {subject}: {e}"))?;
        let field = |name: &str| body.get(name).filter(|v| !v.is_null()).cloned();
        let schema_type = body.get("schemaType").and_then(Value::as_str).filter(|t| *t != "AVRO");
        let references = match field("references") {
            Some(r) => serde_json::from_value(r).map_err(|e| format!("version {version} of {subject}: {e}"))?,
            None => vec![],
        };
        out.push(SchemaValue {
            subject: subject.to_string(),
            version,
            id: body
                .get("id")
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("version {version} of {subject}: no id"))?,
            md5: None,
            schema_type: schema_type.map(str::to_string),
            references,
            metadata: field("metadata"),
            rule_set: field("ruleSet"),
            schema: body.get("schema").and_then(Value::as_str).unwrap_or_default().to_string(),
            deleted: !live.contains(&version),
        });
    }
    Ok(out)
}

/// The config set on `subject` (or the global one), if any.
fn config(client: &RegistryClient, subject: Option<&str>) -> Result<Option<ConfigValue>, String> {
    let path = subject.map_or("/config".to_string(), |s| format!("/config/{}", seg(s)));
    let body = match client.get(&path) {
        Ok(b) => b,
        Err(Error::Registry { error_code: 40408 | 40401, .. }) => return Ok(None),
        Err(e) => return Err(format!("{path}: {e}")),
    };
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let flag = |k: &str| body.get(k).and_then(Value::as_bool);
    let object = |k: &str| body.get(k).filter(|v| !v.is_null()).cloned();
    Ok(Some(ConfigValue {
        subject: subject.map(str::to_string),
        alias: text("alias"),
        normalize: flag("normalize"),
        validate_fields: flag("validateFields"),
        validate_rules: flag("validateRules"),
        compatibility_level: text("compatibilityLevel"),
        compatibility_group: text("compatibilityGroup"),
        default_metadata: object("defaultMetadata"),
        override_metadata: object("overrideMetadata"),
        default_rule_set: object("defaultRuleSet"),
        override_rule_set: object("overrideRuleSet"),
    }))
}

/// The mode set on `subject` (or the global one), if any.
fn mode(client: &RegistryClient, subject: Option<&str>) -> Result<Option<String>, String> {
    let path = subject.map_or("/mode".to_string(), |s| format!("/mode/{}", seg(s)));
    match client.get(&path) {
        Ok(body) => Ok(body.get("mode").and_then(Value::as_str).map(str::to_string)),
        Err(Error::Registry { error_code: 40409 | 40401, .. }) => Ok(None),
        Err(e) => Err(format!("{path}: {e}")),
    }
}

//! Schema tags: `POST /subjects/{s}/versions/{v}/tags` rewrites the tags kept inside a
//! version's schema and registers the result as the subject's next version, through the same
//! path as any registration (mode, version number, `confluent:version`, compatibility).

use serde_json::Value;

use super::error::{RegistryError, Result};
use super::subjects::Registered;
use super::{InputReference, Registry, SchemaInput};
use crate::schema::{edit_tags, TagEdit};

/// A TagSchemaRequest.
#[derive(Clone, Debug, Default)]
pub struct TagRequest {
    /// Must be the subject's next version when given.
    pub new_version: Option<i64>,
    pub add: Vec<TagEdit>,
    pub remove: Vec<TagEdit>,
    pub metadata: Option<Value>,
    pub rule_set: Option<Value>,
}

impl Registry {
    pub fn modify_tags(&self, subject: &str, version: Option<u32>, req: &TagRequest) -> Result<Registered> {
        self.store.write(|idx| {
            let old = self.find_version(idx, subject, version, false)?;
            let record = &old.schema.record;
            let text = edit_tags(record.schema_type, &record.schema, &req.add, &req.remove)
                .map_err(RegistryError::InvalidSchema)?;
            let next = idx.subjects.get(subject).and_then(|vs| vs.keys().next_back()).map_or(1, |v| *v as i64 + 1);
            let input = SchemaInput {
                schema: Some(text),
                schema_type: Some(record.schema_type.as_str().to_string()),
                references: record
                    .references
                    .iter()
                    .map(|r| InputReference {
                        name: Some(r.name.clone()),
                        subject: Some(r.subject.clone()),
                        version: Some(r.version.into()),
                    })
                    .collect(),
                metadata: req.metadata.clone().or_else(|| record.metadata.as_deref().cloned()),
                rule_set: req.rule_set.clone().or_else(|| record.rule_set.as_deref().cloned()),
                id: None,
                version: Some(req.new_version.unwrap_or(next)),
            };
            self.plan_register(idx, subject, &input, false)
        })
    }
}

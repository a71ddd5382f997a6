//! The registry client for code that does not run async: command line tools and scripts.
//! It drives the one async [`super::RegistryClient`] on a private current-thread runtime,
//! so the blocking and async users share the same requests, errors, caches, credentials
//! and TLS settings rather than a second implementation of each.

use std::sync::Arc;

use serde_json::Value;

use super::{ClientSettings, Compatibility, RegisteredSchema, Schema};
use crate::{Error, SchemaRef};

/// A blocking registry client. Must not be called from inside an async runtime (it would
/// block that runtime's thread); async code uses [`super::RegistryClient`] directly.
pub struct RegistryClient {
    runtime: tokio::runtime::Runtime,
    inner: super::RegistryClient,
}

impl RegistryClient {
    pub fn new(settings: &ClientSettings) -> Result<RegistryClient, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Transport(format!("starting the client's runtime: {e}")))?;
        // reqwest's client registers with the runtime it is built in.
        let inner = runtime.block_on(async { super::RegistryClient::with_settings(settings) })?;
        Ok(RegistryClient { runtime, inner })
    }

    pub fn get(&self, path: &str) -> Result<Value, Error> {
        self.runtime.block_on(self.inner.get(path))
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.runtime.block_on(self.inner.post(path, body))
    }

    pub fn put(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.runtime.block_on(self.inner.put(path, body))
    }

    pub fn delete(&self, path: &str) -> Result<Value, Error> {
        self.runtime.block_on(self.inner.delete(path))
    }

    pub fn schema(&self, schema: SchemaRef) -> Result<Arc<Schema>, Error> {
        self.runtime.block_on(self.inner.schema(schema))
    }

    pub fn latest(&self, subject: &str) -> Result<Arc<RegisteredSchema>, Error> {
        self.runtime.block_on(self.inner.latest(subject))
    }

    pub fn versions(&self, subject: &str) -> Result<Vec<i32>, Error> {
        self.runtime.block_on(self.inner.versions(subject))
    }

    pub fn version(&self, subject: &str, version: i32) -> Result<Arc<Schema>, Error> {
        self.runtime.block_on(self.inner.version(subject, version))
    }

    pub fn register(&self, subject: &str, schema: &Schema) -> Result<i32, Error> {
        self.runtime.block_on(self.inner.register(subject, schema))
    }

    pub fn compatibility(
        &self,
        subject: &str,
        version: Option<i32>,
        schema: &Schema,
        verbose: bool,
    ) -> Result<Compatibility, Error> {
        self.runtime.block_on(self.inner.compatibility(subject, version, schema, verbose))
    }

    /// The (name, text) of everything `schema` references, dependencies first, each once.
    pub fn reference_texts(&self, schema: &Schema) -> Result<Vec<(String, String)>, Error> {
        self.runtime.block_on(self.inner.reference_texts(schema))
    }
}

//! An async schema registry client for producers and consumers (Confluent's REST API), with
//! the caches that keep the registry off the per-record path: schema by id or GUID and
//! referenced versions (immutable, kept forever), (subject, schema) → id, and the latest
//! version per subject (kept for a TTL, since it changes). Confluent's subject name
//! strategies, auto-registration and use-latest-version decide the writer schema of a
//! producer. A registry refusal keeps its `error_code` ([`Error::Registry`]).
//!
//! Header framing (Confluent 8): with [`SerializerConfig::header_framing`] the encode calls
//! frame with the schema's GUID, and [`wire::split_header`] cuts the frame into the value of
//! the `__value_schema_id` (or `__key_schema_id`) header and the payload; a consumer hands
//! the decode calls [`wire::join_header`] of the two.
//!
//! ```no_run
//! use schemata_codec::avro::AvroCodec;
//! use schemata_codec::client::{RegistryClient, Schema, SerializerConfig};
//!
//! # async fn run() -> Result<(), schemata_codec::Error> {
//! let client = RegistryClient::new("http://localhost:8081")?;
//! let codec = AvroCodec::new();
//! let schema = Schema::avro(r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#);
//! let value = serde_json::json!({"name": "ada"});
//! // Registers the schema under "users-value" (TopicNameStrategy) on first use.
//! let bytes = client.avro_encode(&codec, &SerializerConfig::default(), "users", &schema, &value).await?;
//! let back: serde_json::Value = client.avro_decode(&codec, &bytes).await?;
//! assert_eq!(back, value);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use prost_reflect::ReflectMessage;
use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::avro::{AvroCodec, AvroSchema};
#[cfg(feature = "json-schema")]
use crate::json::JsonCodec;
use crate::protobuf::{self, indexes, ProtobufCodec};
use crate::wire::{self, guid_string, SchemaRef};
use crate::Error;
pub use crate::SchemaType;

pub mod blocking;
mod settings;

pub use settings::{ClientSettings, Credentials};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// Depth bound on reference chains (cycles, runaway data).
const MAX_REFERENCE_DEPTH: usize = 32;

/// A schema reference: the name the schema uses for it, and the version it names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// A schema as registered: its type, text and references.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schema {
    pub schema_type: SchemaType,
    pub text: String,
    pub references: Vec<Reference>,
}

impl Schema {
    pub fn avro(text: &str) -> Schema {
        Schema { schema_type: SchemaType::Avro, text: text.to_string(), references: Vec::new() }
    }

    pub fn protobuf(text: &str) -> Schema {
        Schema { schema_type: SchemaType::Protobuf, text: text.to_string(), references: Vec::new() }
    }

    pub fn json(text: &str) -> Schema {
        Schema { schema_type: SchemaType::Json, text: text.to_string(), references: Vec::new() }
    }

    fn to_body(&self) -> Value {
        let refs: Vec<Value> = self
            .references
            .iter()
            .map(|r| json!({"name": r.name, "subject": r.subject, "version": r.version}))
            .collect();
        let mut body = json!({ "schema": self.text, "references": refs });
        if self.schema_type != SchemaType::Avro {
            body["schemaType"] = json!(self.schema_type.as_str());
        }
        body
    }

    fn from_body(body: &Value) -> Result<Schema, Error> {
        let bad = |what: &str| Error::Transport(format!("registry answer without {what}: {body}"));
        let text = body.get("schema").and_then(Value::as_str).ok_or_else(|| bad("a schema"))?;
        let schema_type = match body.get("schemaType").and_then(Value::as_str) {
            None => SchemaType::Avro,
            Some(name) => SchemaType::parse(name).ok_or_else(|| bad("a known schemaType"))?,
        };
        let mut references = Vec::new();
        for r in body.get("references").and_then(Value::as_array).into_iter().flatten() {
            let name = r.get("name").and_then(Value::as_str);
            let subject = r.get("subject").and_then(Value::as_str);
            let version = r.get("version").and_then(Value::as_i64).and_then(|v| i32::try_from(v).ok());
            match (name, subject, version) {
                (Some(n), Some(s), Some(v)) => {
                    references.push(Reference { name: n.into(), subject: s.into(), version: v })
                }
                _ => return Err(bad("well-formed references")),
            }
        }
        Ok(Schema { schema_type, text: text.to_string(), references })
    }
}

/// A subject's version with its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredSchema {
    pub id: i32,
    /// The schema's GUID, when the registry gives it (Confluent 8 and Schemata do).
    pub guid: Option<[u8; 16]>,
    pub subject: String,
    pub version: i32,
    pub schema: Schema,
}

/// The registry's compatibility verdict, with its reasons when asked for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compatibility {
    pub is_compatible: bool,
    pub messages: Vec<String>,
}

/// How a producer names the subject of a record (Confluent's `*NameStrategy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` / `<topic>-value`.
    #[default]
    Topic,
    /// The record's full name.
    Record,
    /// `<topic>-<record full name>`.
    TopicRecord,
}

impl SubjectNameStrategy {
    /// The subject for a record of `record_name` (the full name; needed by the record
    /// strategies) written to `topic` as key or value.
    pub fn subject(self, topic: &str, is_key: bool, record_name: Option<&str>) -> Result<String, Error> {
        let record =
            || record_name.ok_or_else(|| Error::Config(format!("{self:?} strategy needs a named record type")));
        Ok(match self {
            SubjectNameStrategy::Topic => format!("{topic}-{}", if is_key { "key" } else { "value" }),
            SubjectNameStrategy::Record => record()?.to_string(),
            SubjectNameStrategy::TopicRecord => format!("{topic}-{}", record()?),
        })
    }
}

/// A producer's choice of writer schema, as Confluent's serializer configs set it.
#[derive(Clone, Copy, Debug)]
pub struct SerializerConfig {
    pub strategy: SubjectNameStrategy,
    pub is_key: bool,
    /// Register the schema if the subject does not have it (`auto.register.schemas`).
    pub auto_register: bool,
    /// Write with the subject's latest version instead (`use.latest.version`).
    pub use_latest_version: bool,
    /// Frame with the schema's GUID, for the schema id header rather than the payload prefix
    /// (Confluent 8's `header_schema_id_serializer`): the encode calls return the whole frame,
    /// which [`wire::split_header`] cuts into the header value and the payload.
    pub header_framing: bool,
}

impl Default for SerializerConfig {
    /// Confluent's defaults: topic strategy, value, auto-register on, latest off, the id in
    /// the payload prefix.
    fn default() -> Self {
        SerializerConfig {
            strategy: SubjectNameStrategy::Topic,
            is_key: false,
            auto_register: true,
            use_latest_version: false,
            header_framing: false,
        }
    }
}

/// A registered schema's id, and its GUID when the registry gives one.
type SchemaIds = (i32, Option<[u8; 16]>);

/// A writer schema a producer asked for on a topic, and the id and GUID it has.
struct WriterEntry {
    strategy: SubjectNameStrategy,
    is_key: bool,
    record_name: Option<String>,
    schema: Schema,
    ids: SchemaIds,
}

/// The registry client; cheap to share (`Arc`) between tasks.
pub struct RegistryClient {
    http: reqwest::Client,
    base: String,
    latest_ttl: Duration,
    by_ref: RwLock<HashMap<SchemaRef, Arc<Schema>>>,
    /// Subject → schema → id and GUID: nested so that a lookup borrows the subject and the
    /// schema.
    ids: RwLock<HashMap<String, HashMap<Schema, SchemaIds>>>,
    /// A producer's writer schemas by topic: a record finds its id by hashing the topic name
    /// and comparing the rest, without building its subject or hashing its schema text.
    /// FxHash: the keys are the application's own topic names.
    writers: RwLock<FxHashMap<String, Vec<WriterEntry>>>,
    /// Full name of an Avro schema's named type by its text (the record strategies' input),
    /// so it is parsed once rather than per record.
    record_names: RwLock<FxHashMap<String, Option<String>>>,
    latest: RwLock<HashMap<String, (Instant, Arc<RegisteredSchema>)>>,
    versions: RwLock<HashMap<(String, i32), Arc<Schema>>>,
}

impl RegistryClient {
    /// A client of the registry at `base_url`, without credentials; the latest version per
    /// subject is kept 5 minutes.
    pub fn new(base_url: &str) -> Result<RegistryClient, Error> {
        RegistryClient::with_settings(&ClientSettings::new(base_url))
    }

    /// A client as `settings` describe: credentials, TLS trust, client certificate, timeout.
    pub fn with_settings(settings: &ClientSettings) -> Result<RegistryClient, Error> {
        let (http, base) = settings.connect()?;
        Ok(RegistryClient {
            http,
            base,
            latest_ttl: settings.latest_ttl,
            by_ref: RwLock::default(),
            ids: RwLock::default(),
            writers: RwLock::default(),
            record_names: RwLock::default(),
            latest: RwLock::default(),
            versions: RwLock::default(),
        })
    }

    /// How long a subject's latest version is trusted before it is asked again.
    pub fn with_latest_ttl(mut self, ttl: Duration) -> RegistryClient {
        self.latest_ttl = ttl;
        self
    }

    /// GET a path of the registry's API (e.g. `/subjects`): the 200 answer's body, or the
    /// registry's refusal as [`Error::Registry`]. For what the typed calls do not cover.
    pub async fn get(&self, path: &str) -> Result<Value, Error> {
        self.call(None, path).await
    }

    /// POST `body` to a path of the registry's API, answered as [`RegistryClient::get`] is.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.call(Some(body), path).await
    }

    /// PUT `body` to a path of the registry's API (configs, modes).
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.send(reqwest::Method::PUT, Some(body), path).await
    }

    /// DELETE a path of the registry's API (subjects, versions, configs, modes).
    pub async fn delete(&self, path: &str) -> Result<Value, Error> {
        self.send(reqwest::Method::DELETE, None, path).await
    }

    /// GET without a body, POST with one.
    async fn call(&self, post: Option<&Value>, path: &str) -> Result<Value, Error> {
        let method = if post.is_some() { reqwest::Method::POST } else { reqwest::Method::GET };
        self.send(method, post, path).await
    }

    async fn send(&self, method: reqwest::Method, body: Option<&Value>, path: &str) -> Result<Value, Error> {
        let url = format!("{}{path}", self.base);
        let request = match body {
            Some(body) => self.http.request(method, &url).header("Content-Type", CONTENT_TYPE).body(body.to_string()),
            None => self.http.request(method, &url),
        };
        // reqwest's message names the URL.
        let transport = |e: reqwest::Error| Error::Transport(error_chain(&e));
        let response = request.header("Accept", CONTENT_TYPE).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(transport)?;
        let body: Value = serde_json::from_str(&text)
            .map_err(|_| Error::Transport(format!("{path}: HTTP {status}, not JSON: {text:.200}")))?;
        if status == 200 {
            return Ok(body);
        }
        match body.get("error_code").and_then(Value::as_i64) {
            Some(error_code) => Err(Error::Registry {
                status,
                error_code,
                message: body.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
            }),
            None => Err(Error::Transport(format!("{path}: HTTP {status}: {text:.200}"))),
        }
    }

    /// The live version numbers of `subject`, oldest first; 40401 when it has none.
    pub async fn versions(&self, subject: &str) -> Result<Vec<i32>, Error> {
        let body = self.call(None, &format!("/subjects/{}/versions", path_segment(subject))).await?;
        let numbers: Option<Vec<i32>> = body
            .as_array()
            .map(|a| a.iter().map(|v| v.as_i64().and_then(|n| i32::try_from(n).ok())).collect())
            .unwrap_or_default();
        numbers.ok_or_else(|| Error::Transport(format!("registry answer not a list of versions: {body}")))
    }

    /// Whether `schema` may be registered under `subject` at the subject's level (against
    /// `version`, or all versions the level reads when `None`), with the registry's reasons
    /// when `verbose`.
    pub async fn compatibility(
        &self,
        subject: &str,
        version: Option<i32>,
        schema: &Schema,
        verbose: bool,
    ) -> Result<Compatibility, Error> {
        let mut path = format!("/compatibility/subjects/{}/versions", path_segment(subject));
        if let Some(v) = version {
            path.push_str(&format!("/{v}"));
        }
        if verbose {
            path.push_str("?verbose=true");
        }
        let body = self.call(Some(&schema.to_body()), &path).await?;
        let is_compatible = body
            .get("is_compatible")
            .and_then(Value::as_bool)
            .ok_or_else(|| Error::Transport(format!("registry answer without is_compatible: {body}")))?;
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .map(|m| m.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect())
            .unwrap_or_default();
        Ok(Compatibility { is_compatible, messages })
    }

    /// The schema registered as `schema` (id or GUID); asked once, then cached.
    pub async fn schema(&self, schema: SchemaRef) -> Result<Arc<Schema>, Error> {
        if let Some(s) = self.by_ref.read().get(&schema) {
            return Ok(s.clone());
        }
        let path = match schema {
            SchemaRef::Id(id) => format!("/schemas/ids/{id}"),
            SchemaRef::Guid(g) => format!("/schemas/guids/{}", guid_string(&g)),
        };
        let fetched = Arc::new(Schema::from_body(&self.call(None, &path).await?)?);
        Ok(self.by_ref.write().entry(schema).or_insert(fetched).clone())
    }

    /// Registers `schema` under `subject` (or finds it registered); returns its id.
    pub async fn register(&self, subject: &str, schema: &Schema) -> Result<i32, Error> {
        Ok(self.id_for(subject, schema, true).await?.0)
    }

    /// The id of `schema` under `subject`, without registering; 40403 when absent.
    pub async fn lookup(&self, subject: &str, schema: &Schema) -> Result<i32, Error> {
        Ok(self.id_for(subject, schema, false).await?.0)
    }

    /// The id and (when the registry gives it) GUID of `schema` under `subject`.
    async fn id_for(&self, subject: &str, schema: &Schema, register: bool) -> Result<SchemaIds, Error> {
        if let Some(ids) = self.ids.read().get(subject).and_then(|m| m.get(schema)) {
            return Ok(*ids);
        }
        let path = if register {
            format!("/subjects/{}/versions", path_segment(subject))
        } else {
            format!("/subjects/{}", path_segment(subject))
        };
        let body = self.call(Some(&schema.to_body()), &path).await?;
        let id = body
            .get("id")
            .and_then(Value::as_i64)
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| Error::Transport(format!("registry answer without an id: {body}")))?;
        let ids = (id, guid_of(&body));
        self.ids.write().entry(subject.to_string()).or_default().insert(schema.clone(), ids);
        Ok(ids)
    }

    /// The latest version of `subject`, asked again once older than the TTL.
    pub async fn latest(&self, subject: &str) -> Result<Arc<RegisteredSchema>, Error> {
        if let Some((at, s)) = self.latest.read().get(subject) {
            if at.elapsed() < self.latest_ttl {
                return Ok(s.clone());
            }
        }
        let body = self.call(None, &format!("/subjects/{}/versions/latest", path_segment(subject))).await?;
        let number = |k: &str| body.get(k).and_then(Value::as_i64).and_then(|i| i32::try_from(i).ok());
        let (Some(id), Some(version)) = (number("id"), number("version")) else {
            return Err(Error::Transport(format!("registry answer without id and version: {body}")));
        };
        let registered = Arc::new(RegisteredSchema {
            id,
            guid: guid_of(&body),
            subject: subject.to_string(),
            version,
            schema: Schema::from_body(&body)?,
        });
        self.latest.write().insert(subject.to_string(), (Instant::now(), registered.clone()));
        Ok(registered)
    }

    /// The (name, text) of everything `schema` references, dependencies first, each once.
    pub async fn reference_texts(&self, schema: &Schema) -> Result<Vec<(String, String)>, Error> {
        let mut out = Vec::new();
        // Iterative depth-first walk (async recursion would need boxing): a stack of
        // reference lists with the position reached in each.
        let mut stack: Vec<(Vec<Reference>, usize)> = vec![(schema.references.clone(), 0)];
        let mut pending: Vec<(String, Arc<Schema>)> = Vec::new();
        while let Some((refs, i)) = stack.pop() {
            if i == refs.len() {
                if let Some((name, s)) = pending.pop() {
                    if !out.iter().any(|(n, _)| *n == name) {
                        out.push((name, s.text.clone()));
                    }
                }
                continue;
            }
            let r = refs[i].clone();
            stack.push((refs, i + 1));
            if out.iter().any(|(n, _)| *n == r.name) {
                continue;
            }
            if stack.len() > MAX_REFERENCE_DEPTH {
                return Err(Error::Config(format!("schema references nest deeper than {MAX_REFERENCE_DEPTH}")));
            }
            let inner = self.version(&r.subject, r.version).await?;
            stack.push((inner.references.clone(), 0));
            pending.push((r.name, inner));
        }
        Ok(out)
    }

    /// Version `version` of `subject`; versions never change, so each is asked once.
    pub async fn version(&self, subject: &str, version: i32) -> Result<Arc<Schema>, Error> {
        let key = (subject.to_string(), version);
        if let Some(s) = self.versions.read().get(&key) {
            return Ok(s.clone());
        }
        let body = self.call(None, &format!("/subjects/{}/versions/{version}", path_segment(subject))).await?;
        let schema = Arc::new(Schema::from_body(&body)?);
        Ok(self.versions.write().entry(key).or_insert(schema).clone())
    }

    /// The id a producer writes `schema` with, per `config`: the subject's latest version
    /// (use-latest-version), the schema registered on first use (auto-register), or the id
    /// the subject already has for it. With use-latest-version the latest version's schema
    /// is returned too, since records must then be written with it.
    pub async fn writer_schema(
        &self,
        config: &SerializerConfig,
        topic: &str,
        record_name: Option<&str>,
        schema: &Schema,
    ) -> Result<(i32, Option<Arc<RegisteredSchema>>), Error> {
        let (ids, latest) = self.writer_ids(config, topic, record_name, schema).await?;
        Ok((ids.0, latest))
    }

    /// [`RegistryClient::writer_schema`] with the GUID too, when the registry gives it.
    ///
    /// Here and in the other per-record paths, what asks the registry (first sight only) is
    /// boxed: its futures (reqwest's) are large, and a record's future would otherwise carry
    /// and move them on every call, for nothing once the caches hold the answer.
    async fn writer_ids(
        &self,
        config: &SerializerConfig,
        topic: &str,
        record_name: Option<&str>,
        schema: &Schema,
    ) -> Result<(SchemaIds, Option<Arc<RegisteredSchema>>), Error> {
        if config.use_latest_version {
            let latest = Box::pin(self.latest(&config.strategy.subject(topic, config.is_key, record_name)?)).await?;
            return Ok(((latest.id, latest.guid), Some(latest)));
        }
        let matches = |w: &WriterEntry| {
            w.strategy == config.strategy
                && w.is_key == config.is_key
                && w.record_name.as_deref() == record_name
                && w.schema == *schema
        };
        if let Some(w) = self.writers.read().get(topic).and_then(|entries| entries.iter().find(|w| matches(w))) {
            return Ok((w.ids, None));
        }
        let subject = config.strategy.subject(topic, config.is_key, record_name)?;
        let ids = Box::pin(self.id_for(&subject, schema, config.auto_register)).await?;
        let mut writers = self.writers.write();
        let entries = writers.entry(topic.to_string()).or_default();
        if !entries.iter().any(matches) {
            entries.push(WriterEntry {
                strategy: config.strategy,
                is_key: config.is_key,
                record_name: record_name.map(str::to_string),
                schema: schema.clone(),
                ids,
            });
        }
        Ok((ids, None))
    }

    /// The reference a producer frames records with per `config`: the writer schema's id, or
    /// with header framing its GUID.
    async fn writer_ref(
        &self,
        config: &SerializerConfig,
        topic: &str,
        record_name: Option<&str>,
        schema: &Schema,
    ) -> Result<(SchemaRef, Option<Arc<RegisteredSchema>>), Error> {
        let ((id, guid), latest) = self.writer_ids(config, topic, record_name, schema).await?;
        let key = match (config.header_framing, guid) {
            (false, _) => SchemaRef::Id(id),
            (true, Some(guid)) => SchemaRef::Guid(guid),
            (true, None) => {
                return Err(Error::Config(format!(
                    "header framing needs the schema's GUID, and the registry gave none for id {id}"
                )))
            }
        };
        Ok((key, latest))
    }

    async fn avro_writer(&self, codec: &AvroCodec, schema: SchemaRef, text: &Schema) -> Result<Arc<AvroSchema>, Error> {
        if let Some(s) = codec.get(schema) {
            return Ok(s);
        }
        let refs = Box::pin(self.reference_texts(text)).await?;
        let refs: Vec<&str> = refs.iter().map(|(_, t)| t.as_str()).collect();
        codec.add_schema(schema, &text.text, &refs)
    }

    /// Encodes `value` as a producer would: the writer schema per `config` (registered or
    /// looked up once, then cached), framed with its id.
    pub async fn avro_encode<T: Serialize + ?Sized>(
        &self,
        codec: &AvroCodec,
        config: &SerializerConfig,
        topic: &str,
        schema: &Schema,
        value: &T,
    ) -> Result<Vec<u8>, Error> {
        let (key, latest) = self.named_writer_ref(config, topic, schema).await?;
        let writer = self.avro_writer(codec, key, latest.as_ref().map_or(schema, |l| &l.schema)).await?;
        writer.encode_framed(key, value)
    }

    /// [`RegistryClient::writer_ref`] with the record name the record strategies need read
    /// from `schema` (Avro, JSON Schema).
    async fn named_writer_ref(
        &self,
        config: &SerializerConfig,
        topic: &str,
        schema: &Schema,
    ) -> Result<(SchemaRef, Option<Arc<RegisteredSchema>>), Error> {
        let record_name = match config.strategy {
            SubjectNameStrategy::Topic => None,
            _ => self.record_name(schema),
        };
        self.writer_ref(config, topic, record_name.as_deref(), schema).await
    }

    /// The record name the record strategies use, read once per schema text: an Avro
    /// schema's full name, a JSON Schema's `title` (as Confluent's JSON serializer takes it).
    fn record_name(&self, schema: &Schema) -> Option<String> {
        if let Some(name) = self.record_names.read().get(&schema.text) {
            return name.clone();
        }
        let name = match schema.schema_type {
            SchemaType::Avro => crate::avro::full_name_of(&schema.text),
            SchemaType::Json => serde_json::from_str::<Value>(&schema.text)
                .ok()
                .and_then(|v| v.get("title").and_then(Value::as_str).map(str::to_string)),
            SchemaType::Protobuf => None,
        };
        self.record_names.write().insert(schema.text.clone(), name.clone());
        name
    }

    /// Decodes a framed Avro record, fetching its writer schema on first sight of its id.
    pub async fn avro_decode<T: DeserializeOwned>(&self, codec: &AvroCodec, bytes: &[u8]) -> Result<T, Error> {
        let frame = wire::parse(bytes)?;
        self.avro_fetched(codec, frame.schema).await?.decode_into(frame.payload)
    }

    /// Decodes a framed Avro record into an Avro value (see [`crate::avro::to_json`]),
    /// fetching its writer schema on first sight; resolved to `reader` when given (a consumer
    /// on another version of the schema, as [`AvroCodec::decode_value`]).
    pub async fn avro_decode_value(
        &self,
        codec: &AvroCodec,
        bytes: &[u8],
        reader: Option<&Arc<AvroSchema>>,
    ) -> Result<apache_avro::types::Value, Error> {
        self.avro_fetched(codec, wire::parse(bytes)?.schema).await?;
        codec.decode_value(bytes, reader)
    }

    /// The writer schema registered as `schema`, from `codec` or fetched into it.
    async fn avro_fetched(&self, codec: &AvroCodec, schema: SchemaRef) -> Result<Arc<AvroSchema>, Error> {
        match codec.get(schema) {
            Some(writer) => Ok(writer),
            None => self.avro_writer(codec, schema, &*Box::pin(self.schema(schema)).await?).await,
        }
    }

    /// Encodes a Protobuf message as a producer would: the writer schema per `config` (the
    /// record strategies name the subject after the message's full name), framed with its id
    /// and the message's index path in the registered schema, which with use-latest-version
    /// may lay its messages out differently from the caller's own descriptor.
    pub async fn protobuf_encode<M: ReflectMessage>(
        &self,
        codec: &ProtobufCodec,
        config: &SerializerConfig,
        topic: &str,
        schema: &Schema,
        message: &M,
    ) -> Result<Vec<u8>, Error> {
        let descriptor = message.descriptor();
        self.protobuf_encode_prost(codec, config, topic, schema, descriptor.full_name(), message).await
    }

    /// [`RegistryClient::protobuf_encode`] for any prost message (a `#[derive(Message)]`
    /// struct, which carries no descriptor), named by its full name in `schema`
    /// (`package.Message`, `package.Outer.Inner`).
    pub async fn protobuf_encode_prost<M: prost::Message>(
        &self,
        codec: &ProtobufCodec,
        config: &SerializerConfig,
        topic: &str,
        schema: &Schema,
        full_name: &str,
        message: &M,
    ) -> Result<Vec<u8>, Error> {
        let name = full_name.trim_start_matches('.');
        let (key, latest) = self.writer_ref(config, topic, Some(name), schema).await?;
        let file = match codec.get(key) {
            Some(file) => file,
            None => {
                let text = latest.as_ref().map_or(schema, |l| &l.schema);
                let refs = Box::pin(self.reference_texts(text)).await?;
                let refs: Vec<(&str, &str)> = refs.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
                codec.add_schema(key, &text.text, &refs)?
            }
        };
        let path = indexes::index_of(&file, name)
            .ok_or_else(|| Error::Protobuf(format!("schema {key} has no message {name}")))?;
        Ok(protobuf::encode_prost(key, &path, message))
    }

    /// Decodes a framed Protobuf record to proto3 JSON, fetching its schema on first sight.
    pub async fn protobuf_decode_json(
        &self,
        codec: &ProtobufCodec,
        bytes: &[u8],
    ) -> Result<(SchemaRef, Vec<i32>, Value), Error> {
        let frame = wire::parse(bytes)?;
        if codec.get(frame.schema).is_none() {
            let schema = Box::pin(self.schema(frame.schema)).await?;
            let refs = Box::pin(self.reference_texts(&schema)).await?;
            let refs: Vec<(&str, &str)> = refs.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            codec.add_schema(frame.schema, &schema.text, &refs)?;
        }
        codec.decode_json(bytes)
    }

    /// The JSON Schema registered as `schema`, compiled into `codec` on first sight.
    #[cfg(feature = "json-schema")]
    async fn json_schema(&self, codec: &JsonCodec, schema: SchemaRef, text: &Schema) -> Result<(), Error> {
        if codec.get(schema).is_none() {
            let refs = Box::pin(self.reference_texts(text)).await?;
            let refs: Vec<(&str, &str)> = refs.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            codec.add_schema(schema, &text.text, &refs)?;
        }
        Ok(())
    }

    /// Encodes `value` as a JSON Schema producer would (writer schema per `config`, as
    /// [`RegistryClient::avro_encode`]), checking it against that schema first when
    /// `validate` (Confluent's JSON serializer does by default).
    #[cfg(feature = "json-schema")]
    pub async fn json_encode<T: Serialize + ?Sized>(
        &self,
        codec: &JsonCodec,
        config: &SerializerConfig,
        topic: &str,
        schema: &Schema,
        value: &T,
        validate: bool,
    ) -> Result<Vec<u8>, Error> {
        let (key, latest) = self.named_writer_ref(config, topic, schema).await?;
        if validate {
            self.json_schema(codec, key, latest.as_ref().map_or(schema, |l| &l.schema)).await?;
        }
        codec.encode(key, value, validate)
    }

    /// Decodes a framed JSON Schema record, checking it against the schema it names (fetched
    /// on first sight) when `validate`.
    #[cfg(feature = "json-schema")]
    pub async fn json_decode<T: DeserializeOwned>(
        &self,
        codec: &JsonCodec,
        bytes: &[u8],
        validate: bool,
    ) -> Result<(SchemaRef, T), Error> {
        if validate {
            let frame = wire::parse(bytes)?;
            if codec.get(frame.schema).is_none() {
                let schema = Box::pin(self.schema(frame.schema)).await?;
                Box::pin(self.json_schema(codec, frame.schema, &schema)).await?;
            }
        }
        codec.decode(bytes, validate)
    }
}

/// The error and its sources in one line: reqwest's own message alone ("error sending
/// request") hides whether DNS, TCP or the TLS handshake failed.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The `guid` of a registry answer (a schema entity, a registration), when it has one.
fn guid_of(body: &Value) -> Option<[u8; 16]> {
    body.get("guid").and_then(Value::as_str).and_then(wire::parse_guid)
}

/// `s` as one segment of a registry URL path (a subject name may hold `/`, `:` or spaces).
pub fn path_segment(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_name_strategies() {
        let s = |strategy: SubjectNameStrategy, key, name| strategy.subject("orders", key, name);
        assert_eq!(s(SubjectNameStrategy::Topic, false, None).unwrap(), "orders-value");
        assert_eq!(s(SubjectNameStrategy::Topic, true, Some("a.B")).unwrap(), "orders-key");
        assert_eq!(s(SubjectNameStrategy::Record, false, Some("a.B")).unwrap(), "a.B");
        assert_eq!(s(SubjectNameStrategy::TopicRecord, true, Some("a.B")).unwrap(), "orders-a.B");
        assert!(matches!(s(SubjectNameStrategy::Record, false, None), Err(Error::Config(_))));
    }

    #[test]
    fn schema_bodies_round_trip() {
        let schema = Schema {
            schema_type: SchemaType::Protobuf,
            text: "syntax = \"proto3\";".into(),
            references: vec![Reference { name: "a.proto".into(), subject: "a".into(), version: 2 }],
        };
        assert_eq!(Schema::from_body(&schema.to_body()).unwrap(), schema);
        assert_eq!(Schema::avro("\"int\"").to_body().get("schemaType"), None);
        assert!(Schema::from_body(&json!({"schema": "x", "schemaType": "XML"})).is_err());
    }
}

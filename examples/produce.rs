//! Produces typed records to a Kafka topic in the Confluent wire format, with the schema
//! registered in (or looked up from) a Schemata registry: how a Rust service writes records
//! that Java, Python and Go consumers read with Confluent's deserializers. The framing is
//! `schemata-codec`'s, the Kafka client rdkafka (librdkafka).
//!
//! Two ways to get values:
//! - without `--schema-file`, `--count` typed users built in code: a serde struct (Avro), a
//!   `#[derive(prost::Message)]` struct (Protobuf), a serde JSON value (JSON Schema), with
//!   the schemas of `examples/schemas/`;
//! - with `--schema-file FILE`, one JSON value per line of stdin, written with that schema
//!   (Avro values as Confluent's Python serializer takes them, Protobuf values in the proto3
//!   JSON mapping of `--message`, default the file's first message). Schemas with references
//!   are not taken here.
//!
//! ```sh
//! cargo run --example produce -- --bootstrap localhost:9092 --registry http://localhost:8081 \
//!     --topic users --format avro --schema-file examples/schemas/user.avsc < users.jsonl
//! ```
//!
//! `--header-framing` puts the schema GUID in the `__value_schema_id` record header instead of
//! the payload prefix (Confluent 8). Exit codes: 0 every record delivered, 1 failed (one line
//! on stderr).

#[path = "common/mod.rs"]
mod common;

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use prost_reflect::DynamicMessage;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use schemata_codec::avro::AvroCodec;
use schemata_codec::client::{RegistryClient, Schema, SerializerConfig, SubjectNameStrategy};
use schemata_codec::json::JsonCodec;
use schemata_codec::protobuf::{self, ProtobufCodec};
use schemata_codec::wire;
use serde::Serialize;
use serde_json::Value;

use common::{fail, partitions, read_file, Common, Format};

/// The typed example record for Avro (`examples/schemas/user.avsc`).
#[derive(Serialize)]
struct User {
    id: i64,
    name: String,
}

/// The typed example record for Protobuf (`examples/schemas/user.proto`).
#[derive(Clone, PartialEq, prost::Message)]
struct UserMessage {
    #[prost(int64, tag = "1")]
    id: i64,
    #[prost(string, tag = "2")]
    name: String,
}

const USER_AVSC: &str = include_str!("schemas/user.avsc");
const USER_PROTO: &str = include_str!("schemas/user.proto");
const USER_JSON_SCHEMA: &str = include_str!("schemas/user.schema.json");
/// The full name of [`UserMessage`] in `user.proto`.
const USER_MESSAGE: &str = "example.User";

/// Delivery reports awaited at most this far behind the records sent.
const IN_FLIGHT: usize = 10_000;

#[derive(Debug, Parser)]
#[command(name = "produce", about = "Produce records framed by schemata-codec to a Kafka topic")]
struct Cli {
    #[command(flatten)]
    common: Common,

    /// The record format.
    #[arg(long, value_enum)]
    format: Format,

    /// Write the JSON values of stdin (one per line) with this schema file instead of the
    /// typed example users.
    #[arg(long, value_name = "FILE")]
    schema_file: Option<PathBuf>,

    /// Protobuf with --schema-file: the full name of the lines' message type (default: the
    /// file's first message).
    #[arg(long, value_name = "FULL.NAME", requires = "schema_file")]
    message: Option<String>,

    /// Without --schema-file: how many typed example users to produce.
    #[arg(long, default_value_t = 10, conflicts_with = "schema_file")]
    count: u64,

    /// How the subject is named: topic (`<topic>-value`), record (the record's full name) or
    /// topic-record (`<topic>-<full name>`), as Confluent's `*NameStrategy`.
    #[arg(long, value_enum, default_value = "topic")]
    subject_strategy: Strategy,

    /// Look the schema up instead of registering it (`auto.register.schemas=false`).
    #[arg(long)]
    no_auto_register: bool,

    /// Write with the subject's latest version (`use.latest.version=true`).
    #[arg(long)]
    use_latest_version: bool,

    /// Put the schema GUID in the `__value_schema_id` header instead of the payload prefix.
    #[arg(long)]
    header_framing: bool,

    /// JSON Schema: write values without checking them against the schema first.
    #[arg(long)]
    no_validate: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Strategy {
    Topic,
    Record,
    TopicRecord,
}

impl From<Strategy> for SubjectNameStrategy {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Topic => SubjectNameStrategy::Topic,
            Strategy::Record => SubjectNameStrategy::Record,
            Strategy::TopicRecord => SubjectNameStrategy::TopicRecord,
        }
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(sent) => eprintln!("produce: {sent} records delivered to {}", cli.common.topic),
        Err(e) => fail("produce", e),
    }
}

/// The codecs, one per format, each caching the schemas it has seen.
#[derive(Default)]
struct Codecs {
    avro: AvroCodec,
    protobuf: ProtobufCodec,
    json: JsonCodec,
}

async fn run(cli: &Cli) -> Result<u64, String> {
    let client = cli.common.registry()?;
    let producer: FutureProducer = cli.common.kafka().create().map_err(|e| format!("kafka producer: {e}"))?;
    partitions(producer.client(), &cli.common.topic)?;
    let config = SerializerConfig {
        strategy: cli.subject_strategy.into(),
        auto_register: !cli.no_auto_register,
        use_latest_version: cli.use_latest_version,
        header_framing: cli.header_framing,
        ..SerializerConfig::default()
    };
    let mut sink = Sink::new(&producer, &cli.common.topic, cli.header_framing, cli.format == Format::Protobuf);
    let codecs = Codecs::default();
    let topic = cli.common.topic.as_str();
    let validate = !cli.no_validate;
    match &cli.schema_file {
        None => {
            let schema = match cli.format {
                Format::Avro => Schema::avro(USER_AVSC),
                Format::Protobuf => Schema::protobuf(USER_PROTO),
                Format::Json => Schema::json(USER_JSON_SCHEMA),
            };
            for id in 0..cli.count as i64 {
                let name = format!("user-{id}");
                let framed = match cli.format {
                    Format::Avro => {
                        let user = User { id, name };
                        client.avro_encode(&codecs.avro, &config, topic, &schema, &user).await
                    }
                    Format::Protobuf => {
                        let user = UserMessage { id, name };
                        client
                            .protobuf_encode_prost(&codecs.protobuf, &config, topic, &schema, USER_MESSAGE, &user)
                            .await
                    }
                    Format::Json => {
                        let user = serde_json::json!({ "id": id, "name": name });
                        client.json_encode(&codecs.json, &config, topic, &schema, &user, validate).await
                    }
                };
                sink.send(framed.map_err(|e| e.to_string())?).await?;
            }
        }
        Some(path) => {
            let text = read_file(path)?;
            let lines = JsonLines { client: &client, codecs: &codecs, config: &config, topic, validate };
            let writer = lines.writer(cli.format, &text, cli.message.as_deref())?;
            for (n, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line.map_err(|e| format!("reading stdin: {e}"))?;
                if line.trim().is_empty() {
                    continue;
                }
                let value: Value =
                    serde_json::from_str(&line).map_err(|e| format!("stdin line {}: not JSON: {e}", n + 1))?;
                let framed = lines.encode(&writer, &value).await.map_err(|e| format!("stdin line {}: {e}", n + 1))?;
                sink.send(framed).await?;
            }
        }
    }
    sink.finish().await
}

/// The writer schema of `--schema-file`, as its format needs it.
enum Writer {
    Avro(Schema),
    /// The schema, and the message type the lines hold (compiled locally to read the JSON).
    Protobuf(Schema, prost_reflect::MessageDescriptor),
    Json(Schema),
}

/// Encodes JSON values read from stdin with the schema of `--schema-file`.
struct JsonLines<'a> {
    client: &'a RegistryClient,
    codecs: &'a Codecs,
    config: &'a SerializerConfig,
    topic: &'a str,
    validate: bool,
}

impl JsonLines<'_> {
    fn writer(&self, format: Format, text: &str, message: Option<&str>) -> Result<Writer, String> {
        Ok(match format {
            Format::Avro => Writer::Avro(Schema::avro(text)),
            Format::Json => Writer::Json(Schema::json(text)),
            Format::Protobuf => {
                let file = protobuf::compile(text, &[]).map_err(|e| e.to_string())?;
                let descriptor = match message {
                    Some(name) => file.parent_pool().get_message_by_name(name.trim_start_matches('.')),
                    None => file.messages().next(),
                };
                let descriptor = descriptor
                    .ok_or_else(|| format!("the schema has no message {}", message.unwrap_or("(none declared)")))?;
                Writer::Protobuf(Schema::protobuf(text), descriptor)
            }
        })
    }

    async fn encode(&self, writer: &Writer, value: &Value) -> Result<Vec<u8>, String> {
        let (client, codecs, config, topic) = (self.client, self.codecs, self.config, self.topic);
        match writer {
            Writer::Avro(schema) => client.avro_encode(&codecs.avro, config, topic, schema, value).await,
            Writer::Json(schema) => client.json_encode(&codecs.json, config, topic, schema, value, self.validate).await,
            Writer::Protobuf(schema, descriptor) => {
                let message = DynamicMessage::deserialize(descriptor.clone(), value).map_err(|e| e.to_string())?;
                client.protobuf_encode(&codecs.protobuf, config, topic, schema, &message).await
            }
        }
        .map_err(|e| e.to_string())
    }
}

/// Sends framed records to the topic, with the schema reference cut off into the header
/// under header framing, and awaits their delivery reports a window behind.
struct Sink<'a> {
    producer: &'a FutureProducer,
    topic: &'a str,
    header_framing: bool,
    protobuf: bool,
    pending: VecDeque<DeliveryFuture>,
    delivered: u64,
}

impl<'a> Sink<'a> {
    fn new(producer: &'a FutureProducer, topic: &'a str, header_framing: bool, protobuf: bool) -> Sink<'a> {
        Sink { producer, topic, header_framing, protobuf, pending: VecDeque::new(), delivered: 0 }
    }

    async fn send(&mut self, framed: Vec<u8>) -> Result<(), String> {
        let mut record = FutureRecord::<(), [u8]>::to(self.topic);
        if self.header_framing {
            let (header, payload) = wire::split_header(&framed, self.protobuf).map_err(|e| e.to_string())?;
            let header = Header { key: wire::schema_id_header(false), value: Some(header) };
            record = record.payload(payload).headers(OwnedHeaders::new().insert(header));
        } else {
            record = record.payload(&framed);
        }
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.pending.push_back(delivery);
                    break;
                }
                // librdkafka's queue is full: wait for the oldest record, then try again.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) if !self.pending.is_empty() => {
                    record = back;
                    self.await_oldest().await?;
                }
                Err((e, _)) => return Err(format!("producing to {}: {e}", self.topic)),
            }
        }
        if self.pending.len() >= IN_FLIGHT {
            self.await_oldest().await?;
        }
        Ok(())
    }

    /// Waits for the oldest delivery report; false when none is pending.
    async fn await_oldest(&mut self) -> Result<bool, String> {
        let Some(delivery) = self.pending.pop_front() else { return Ok(false) };
        match delivery.await {
            Ok(Ok(_)) => {
                self.delivered += 1;
                Ok(true)
            }
            Ok(Err((e, _))) => Err(format!("delivery to {} failed: {e}", self.topic)),
            Err(_) => Err("the producer went away before reporting delivery".to_string()),
        }
    }

    /// Waits for every delivery report; returns how many records were delivered.
    async fn finish(mut self) -> Result<u64, String> {
        while self.await_oldest().await? {}
        Ok(self.delivered)
    }
}

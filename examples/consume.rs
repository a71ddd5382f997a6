//! Consumes records framed in the Confluent wire format from a Kafka topic and prints each as
//! one JSON line with its schema id, as `schemata decode --show-id` does:
//! `{"schemaId":1,"value":{..}}` (`"schemaGuid"` for a record framed by GUID, and
//! `"messageIndexes"` for Protobuf). How a Rust service reads what Java, Python, Go or Rust
//! producers wrote with Confluent's serializers: schemas are fetched from the registry by id
//! or GUID once and cached, the schema reference is read from the `__value_schema_id` header
//! when a record has one (Confluent 8's header framing), else from the payload prefix.
//!
//! ```sh
//! cargo run --example consume -- --bootstrap localhost:9092 --registry http://localhost:8081 \
//!     --topic users --max-records 10
//! ```
//!
//! `--reader-schema FILE` reads Avro records as that schema (Avro schema resolution: a
//! consumer on version 2 reads records written with version 1, and the other way). Without
//! `--group` every partition is read from the beginning and no offset is committed; with it,
//! the consumer joins that group and commits. `--format` is only a check: each record's
//! format is its schema's type. Exit codes: 0 done (`--max-records` reached), 1 failed (one
//! line on stderr).

#[path = "common/mod.rs"]
mod common;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use schemata::codec_cli::show_id;
use schemata_codec::avro::{self, AvroCodec, AvroSchema};
use schemata_codec::client::RegistryClient;
use schemata_codec::json::JsonCodec;
use schemata_codec::protobuf::ProtobufCodec;
use schemata_codec::wire;
use schemata_codec::SchemaType;
use serde_json::Value;

use common::{fail, partitions, read_file, Common, Format};

#[derive(Debug, Parser)]
#[command(name = "consume", about = "Consume records framed by schemata-codec and print them as JSON lines")]
struct Cli {
    #[command(flatten)]
    common: Common,

    /// The format the topic's records must have (default: whatever their schemas are).
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Avro: read every record as this schema (resolved from its writer schema).
    #[arg(long, value_name = "FILE")]
    reader_schema: Option<PathBuf>,

    /// Stop after this many records (default: run until interrupted).
    #[arg(long, value_name = "N")]
    max_records: Option<u64>,

    /// Join this consumer group and commit offsets, instead of reading every partition from
    /// the beginning.
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,

    /// JSON Schema: print values without checking them against their schema.
    #[arg(long)]
    no_validate: bool,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(&cli).await {
        fail("consume", e);
    }
}

async fn run(cli: &Cli) -> Result<(), String> {
    if cli.reader_schema.is_some() && matches!(cli.format, Some(Format::Protobuf | Format::Json)) {
        return Err("--reader-schema is for Avro records".into());
    }
    let reader = match &cli.reader_schema {
        Some(path) => {
            Some(Arc::new(AvroSchema::parse(&read_file(path)?, &[]).map_err(|e| format!("{}: {e}", path.display()))?))
        }
        None => None,
    };
    let decoder = Decoder {
        client: cli.common.registry()?,
        avro: AvroCodec::new(),
        protobuf: ProtobufCodec::new(),
        json: JsonCodec::new(),
        format: cli.format,
        reader,
        validate: !cli.no_validate,
    };
    let consumer = subscribe(cli)?;
    let topic = &cli.common.topic;
    let mut out = std::io::stdout().lock();
    let mut seen = 0;
    while cli.max_records.is_none_or(|max| seen < max) {
        let message = consumer.recv().await.map_err(|e| format!("consuming {topic}: {e}"))?;
        let at = || format!("{topic}/{} offset {}", message.partition(), message.offset());
        let Some(payload) = message.payload() else {
            return Err(format!("{}: a null value (tombstone) has no schema", at()));
        };
        let header = message
            .headers()
            .and_then(|headers| headers.iter().find(|h| h.key == wire::schema_id_header(false)).and_then(|h| h.value));
        let shown = decoder.decode(&wire::join_header(header, payload)).await.map_err(|e| format!("{}: {e}", at()))?;
        writeln!(out, "{shown}").and_then(|()| out.flush()).map_err(|e| format!("writing stdout: {e}"))?;
        seen += 1;
    }
    Ok(())
}

/// A consumer of the topic: in `--group`, or assigned every partition from the beginning.
fn subscribe(cli: &Cli) -> Result<StreamConsumer, String> {
    let topic = cli.common.topic.as_str();
    let mut config = cli.common.kafka();
    config
        .set("group.id", cli.group.as_deref().unwrap_or("schemata-consume-example"))
        .set("enable.auto.commit", if cli.group.is_some() { "true" } else { "false" })
        .set("auto.offset.reset", "earliest");
    let consumer: StreamConsumer = config.create().map_err(|e| format!("kafka consumer: {e}"))?;
    let partitions = partitions(consumer.client(), topic)?;
    if cli.group.is_some() {
        consumer.subscribe(&[topic]).map_err(|e| format!("subscribing to {topic}: {e}"))?;
        return Ok(consumer);
    }
    let mut assignment = TopicPartitionList::new();
    for partition in partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning).map_err(|e| e.to_string())?;
    }
    consumer.assign(&assignment).map_err(|e| format!("assigning {topic}: {e}"))?;
    Ok(consumer)
}

/// Decodes framed records of any format, with the schemas fetched once per id or GUID.
struct Decoder {
    client: RegistryClient,
    avro: AvroCodec,
    protobuf: ProtobufCodec,
    json: JsonCodec,
    format: Option<Format>,
    reader: Option<Arc<AvroSchema>>,
    validate: bool,
}

impl Decoder {
    /// The record as `schemata decode --show-id` prints it.
    async fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        let schema = wire::parse(bytes).map_err(|e| e.to_string())?.schema;
        let registered = self.client.schema(schema).await.map_err(|e| format!("schema {schema}: {e}"))?;
        let format = match registered.schema_type {
            SchemaType::Avro => Format::Avro,
            SchemaType::Protobuf => Format::Protobuf,
            SchemaType::Json => Format::Json,
        };
        if self.format.is_some_and(|f| f != format) {
            let wanted = format!("{:?}", self.format.unwrap_or(format)).to_lowercase();
            return Err(format!("schema {schema} is {}, not {wanted}", registered.schema_type.as_str()));
        }
        let (indexes, value) = match format {
            Format::Avro => {
                let value = self.client.avro_decode_value(&self.avro, bytes, self.reader.as_ref()).await;
                (None, avro::to_json(&value.map_err(|e| e.to_string())?))
            }
            Format::Protobuf => {
                let (_, indexes, value) =
                    self.client.protobuf_decode_json(&self.protobuf, bytes).await.map_err(|e| e.to_string())?;
                (Some(indexes), value)
            }
            Format::Json => {
                let decoded = self.client.json_decode::<Value>(&self.json, bytes, self.validate).await;
                (None, decoded.map_err(|e| e.to_string())?.1)
            }
        };
        Ok(show_id(schema, indexes, value))
    }
}

//! `schemata encode` and `schemata decode`: one record between JSON and the Confluent wire
//! format, with the schema fetched from a registry, for scripts and for checking what a
//! topic holds. The framing and encodings are the `schemata-codec` crate's; this file only
//! fetches schemas (blocking, as `schemata check` does) and moves bytes. Exit codes: 0 done,
//! 1 failed (one line on stderr).

use std::io::{Read, Write};
use std::sync::Arc;

use schemata_codec::avro::AvroCodec;
use schemata_codec::json::JsonCodec;
use schemata_codec::protobuf::ProtobufCodec;
use schemata_codec::wire::{self, guid_string, SchemaRef};
use serde_json::{json, Value};

use schemata_codec::client::blocking::RegistryClient;
use schemata_codec::client::Schema;

use crate::config::{DecodeArgs, EncodeArgs};
use crate::schema::SchemaType;

/// Runs `schemata encode`; returns the exit code.
pub fn encode(args: &EncodeArgs) -> i32 {
    finish("encode", run_encode(args))
}

/// Runs `schemata decode`; returns the exit code.
pub fn decode(args: &DecodeArgs) -> i32 {
    finish("decode", run_decode(args))
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

/// A registered schema with the (name, text) of everything it references, dependencies first.
struct Fetched {
    schema_type: SchemaType,
    text: String,
    references: Vec<(String, String)>,
}

fn run_encode(args: &EncodeArgs) -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| format!("reading stdin: {e}"))?;
    let value: Value = serde_json::from_str(&input).map_err(|e| format!("stdin is not one JSON value: {e}"))?;
    let client = args.connection.connect(&args.registry)?;
    let (id, schema) = match (args.schema_id, &args.subject) {
        (Some(id), _) => (id, client.schema(SchemaRef::Id(id)).map_err(|e| format!("schema id {id}: {e}"))?),
        (None, Some(subject)) => {
            let latest = client.latest(subject).map_err(|e| format!("subject {subject}: {e}"))?;
            (latest.id, Arc::new(latest.schema.clone()))
        }
        (None, None) => return Err("give --subject S or --schema-id N".into()),
    };
    let schema = fetched(&client, &schema)?;
    let key = SchemaRef::Id(id);
    let bytes = match schema.schema_type {
        SchemaType::Avro => {
            let codec = AvroCodec::new();
            let refs: Vec<&str> = schema.references.iter().map(|(_, t)| t.as_str()).collect();
            codec.add_schema(key, &schema.text, &refs).map_err(|e| e.to_string())?;
            codec.encode(key, &value)
        }
        SchemaType::Protobuf => {
            let codec = ProtobufCodec::new();
            let refs: Vec<(&str, &str)> = schema.references.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            codec.add_schema(key, &schema.text, &refs).map_err(|e| e.to_string())?;
            codec.encode_json(key, args.message.as_deref(), &value)
        }
        SchemaType::Json => json_codec(key, &schema)?.encode(key, &value, !args.no_validate),
    }
    .map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes).and_then(|()| out.flush()).map_err(|e| format!("writing stdout: {e}"))
}

fn run_decode(args: &DecodeArgs) -> Result<(), String> {
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).map_err(|e| format!("reading stdin: {e}"))?;
    // Bad framing is reported before any registry call.
    let frame = wire::parse(&bytes).map_err(|e| e.to_string())?;
    let client = args.connection.connect(&args.registry)?;
    let schema = client.schema(frame.schema).map_err(|e| match frame.schema {
        SchemaRef::Id(id) => format!("schema id {id}: {e}"),
        SchemaRef::Guid(g) => format!("schema guid {}: {e}", guid_string(&g)),
    })?;
    let schema = fetched(&client, &schema)?;
    let key = frame.schema;
    let (indexes, value) = match schema.schema_type {
        SchemaType::Avro => {
            let codec = AvroCodec::new();
            let refs: Vec<&str> = schema.references.iter().map(|(_, t)| t.as_str()).collect();
            codec.add_schema(key, &schema.text, &refs).map_err(|e| e.to_string())?;
            (None, codec.decode_json(&bytes).map_err(|e| e.to_string())?)
        }
        SchemaType::Protobuf => {
            let codec = ProtobufCodec::new();
            let refs: Vec<(&str, &str)> = schema.references.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            codec.add_schema(key, &schema.text, &refs).map_err(|e| e.to_string())?;
            let (_, indexes, value) = codec.decode_json(&bytes).map_err(|e| e.to_string())?;
            (Some(indexes), value)
        }
        SchemaType::Json => {
            (None, json_codec(key, &schema)?.decode::<Value>(&bytes, !args.no_validate).map_err(|e| e.to_string())?.1)
        }
    };
    let printed = if args.show_id { show_id(key, indexes, value) } else { value };
    println!("{printed}");
    Ok(())
}

/// A decoded record as `schemata decode --show-id` prints it (and the `consume` example):
/// `{"schemaId": N, "value": ..}`, `"schemaGuid"` for a record framed by GUID, and the
/// message indexes of a Protobuf record (`"messageIndexes": [..]`) before the value.
pub fn show_id(schema: SchemaRef, indexes: Option<Vec<i32>>, value: Value) -> Value {
    let mut shown = match schema {
        SchemaRef::Id(id) => json!({ "schemaId": id }),
        SchemaRef::Guid(g) => json!({ "schemaGuid": guid_string(&g) }),
    };
    if let Some(indexes) = indexes {
        shown["messageIndexes"] = json!(indexes);
    }
    shown["value"] = value;
    shown
}

/// A JSON Schema codec holding the fetched schema, compiled, as `key`.
fn json_codec(key: SchemaRef, schema: &Fetched) -> Result<JsonCodec, String> {
    let codec = JsonCodec::new();
    let refs: Vec<(&str, &str)> = schema.references.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    codec.add_schema(key, &schema.text, &refs).map_err(|e| e.to_string())?;
    Ok(codec)
}

/// `schema` with the texts of its references, in the server's terms.
fn fetched(client: &RegistryClient, schema: &Schema) -> Result<Fetched, String> {
    let references = client.reference_texts(schema).map_err(|e| format!("references: {e}"))?;
    Ok(Fetched { schema_type: schema.schema_type, text: schema.text.clone(), references })
}

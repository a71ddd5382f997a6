//! `schemata encode` and `schemata decode`: one record between JSON and the Confluent wire
//! format, with the schema fetched from a registry, for scripts and for checking what a
//! topic holds. The framing and encodings are the `schemata-codec` crate's; this file only
//! fetches schemas (blocking, as `schemata check` does) and moves bytes. Exit codes: 0 done,
//! 1 failed (one line on stderr).

use std::io::{Read, Write};
use std::time::Duration;

use schemata_codec::avro::AvroCodec;
use schemata_codec::json::JsonCodec;
use schemata_codec::protobuf::ProtobufCodec;
use schemata_codec::wire::{self, guid_string, SchemaRef};
use serde_json::{json, Value};

use crate::check::{enc, Client};
use crate::config::{DecodeArgs, EncodeArgs};
use crate::schema::SchemaType;

/// Depth bound on reference chains fetched from a registry (cycles, runaway data).
const MAX_REFERENCE_DEPTH: usize = 32;

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

/// A registered schema as the registry returns it, references fetched.
struct Fetched {
    schema_type: SchemaType,
    text: String,
    /// (reference name, text) of everything it references, dependencies first.
    references: Vec<(String, String)>,
}

fn run_encode(args: &EncodeArgs) -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| format!("reading stdin: {e}"))?;
    let value: Value = serde_json::from_str(&input).map_err(|e| format!("stdin is not one JSON value: {e}"))?;
    let client = Client::new(&args.registry, Duration::from_secs(args.timeout_secs));
    let (id, body) = match (args.schema_id, &args.subject) {
        (Some(id), _) => (id, registry_get(&client, &format!("/schemas/ids/{id}"), &format!("schema id {id}"))?),
        (None, Some(subject)) => {
            let body = registry_get(
                &client,
                &format!("/subjects/{}/versions/latest", enc(subject)),
                &format!("subject {subject}"),
            )?;
            let id = body.get("id").and_then(Value::as_i64).and_then(|i| i32::try_from(i).ok());
            (id.ok_or("the registry answered without a schema id")?, body)
        }
        (None, None) => return Err("give --subject S or --schema-id N".into()),
    };
    let schema = fetched(&client, &body)?;
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
    let client = Client::new(&args.registry, Duration::from_secs(args.timeout_secs));
    let body = match frame.schema {
        SchemaRef::Id(id) => registry_get(&client, &format!("/schemas/ids/{id}"), &format!("schema id {id}"))?,
        SchemaRef::Guid(g) => {
            let guid = guid_string(&g);
            registry_get(&client, &format!("/schemas/guids/{guid}"), &format!("schema guid {guid}"))?
        }
    };
    let schema = fetched(&client, &body)?;
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
    let printed = if args.show_id {
        let mut shown = match key {
            SchemaRef::Id(id) => json!({ "schemaId": id }),
            SchemaRef::Guid(g) => json!({ "schemaGuid": guid_string(&g) }),
        };
        if let Some(indexes) = indexes {
            shown["messageIndexes"] = json!(indexes);
        }
        shown["value"] = value;
        shown
    } else {
        value
    };
    println!("{printed}");
    Ok(())
}

/// A JSON Schema codec holding the fetched schema, compiled, as `key`.
fn json_codec(key: SchemaRef, schema: &Fetched) -> Result<JsonCodec, String> {
    let codec = JsonCodec::new();
    let refs: Vec<(&str, &str)> = schema.references.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    codec.add_schema(key, &schema.text, &refs).map_err(|e| e.to_string())?;
    Ok(codec)
}

/// GET `path`; a registry error becomes "`what`: message (error_code N)".
fn registry_get(client: &Client, path: &str, what: &str) -> Result<Value, String> {
    match client.call("GET", path, None)? {
        (200, v) => Ok(v),
        (status, v) => {
            let message = v.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| v.to_string());
            match v.get("error_code").and_then(Value::as_i64) {
                Some(code) => Err(format!("{what}: {message} (error_code {code})")),
                None => Err(format!("{what}: HTTP {status}: {message}")),
            }
        }
    }
}

/// The schema of a registry answer, with the texts of its references.
fn fetched(client: &Client, body: &Value) -> Result<Fetched, String> {
    let text = body.get("schema").and_then(Value::as_str).ok_or("the registry answered without a schema")?;
    let schema_type = match body.get("schemaType").and_then(Value::as_str) {
        None => SchemaType::Avro,
        Some(t) => SchemaType::parse(t).ok_or_else(|| format!("unknown schema type {t}"))?,
    };
    let mut references = Vec::new();
    add_references(client, body, 0, &mut references)?;
    Ok(Fetched { schema_type, text: text.to_string(), references })
}

/// Appends what `body` references, dependencies first, each once.
fn add_references(client: &Client, body: &Value, depth: usize, out: &mut Vec<(String, String)>) -> Result<(), String> {
    if depth > MAX_REFERENCE_DEPTH {
        return Err(format!("schema references nest deeper than {MAX_REFERENCE_DEPTH}"));
    }
    for r in body.get("references").and_then(Value::as_array).into_iter().flatten() {
        let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
        let (Some(subject), Some(version)) =
            (r.get("subject").and_then(Value::as_str), r.get("version").and_then(Value::as_i64))
        else {
            return Err(format!("malformed reference {r}"));
        };
        if out.iter().any(|(n, _)| n == name) {
            continue;
        }
        let what = format!("reference {name} ({subject} version {version})");
        let inner = registry_get(client, &format!("/subjects/{}/versions/{version}", enc(subject)), &what)?;
        add_references(client, &inner, depth + 1, out)?;
        let text = inner.get("schema").and_then(Value::as_str).ok_or("the registry answered without a schema")?;
        out.push((name.to_string(), text.to_string()));
    }
    Ok(())
}

//! Against `schema_registry_converter` (its blocking Avro encoder and decoder): encoding and
//! decoding the same framed 20-field Avro record as `avro_decode`, each side asking a local
//! stub registry once and then serving every measured iteration from its own cache. Both
//! sides encode from and decode into the same serde struct.
//!
//! - ours: `RegistryClient::avro_encode` (topic strategy, use-latest-version, so the subject's
//!   latest version comes from the cache as theirs does) and `RegistryClient::avro_decode`;
//!   plus `AvroCodec` alone (id known). Once the caches are warm the client's futures finish
//!   on their first poll, so they are polled once, as a task of a running async producer
//!   would be, rather than paying for entering a runtime per call.
//! - theirs: `AvroEncoder::encode_struct` (topic strategy, latest version of the subject) and
//!   `AvroDecoder::decode`, then `apache_avro::from_value` into the struct.
//!
//! Both encode the same value, built once (building it would add the same cost to both).
//! After the measurements it prints throughput ratios ours/theirs from criterion's estimates
//! of this same run (goal: at least 2).

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{black_box, Criterion};
use schema_registry_converter::blocking::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::blocking::schema_registry::SrSettings;
use schema_registry_converter::schema_registry_common::SubjectNameStrategy as TheirStrategy;
use schemata_codec::avro::AvroCodec;
use schemata_codec::client::{RegistryClient, Schema, SerializerConfig};
use schemata_codec::SchemaRef;

mod report;
mod wide;
use wide::{schema, value, Wide};

const ID: u32 = 42;
const GROUP: &str = "converter_avro_20_fields";

/// A registry that knows one subject, `bench-value`, whose only version is the bench schema
/// with id 42. Serves each connection on the accepting thread and closes it; it lives as long
/// as the bench process and only listens on 127.0.0.1.
fn start_stub(schema_text: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("stub binds");
    let addr = listener.local_addr().expect("stub address");
    let escaped = serde_json::to_string(schema_text).expect("schema as JSON string");
    let by_id = format!(r#"{{"schema":{escaped}}}"#);
    let latest = format!(r#"{{"subject":"bench-value","version":1,"id":{ID},"schema":{escaped}}}"#);
    let registered = format!(r#"{{"id":{ID}}}"#);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer(stream, &by_id, &latest, &registered);
        }
    });
    format!("http://{addr}")
}

fn answer(stream: TcpStream, by_id: &str, latest: &str, registered: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, v)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // Our client percent-encodes every non-alphanumeric byte of a subject ("bench%2Dvalue").
    let path = target.split('?').next().unwrap_or("").replace("%2D", "-");
    let (status, reply) = match (method, path.as_str()) {
        ("GET", p) if p == format!("/schemas/ids/{ID}") => ("200 OK", by_id),
        ("GET", "/subjects/bench-value/versions/latest") => ("200 OK", latest),
        ("POST", "/subjects/bench-value") | ("POST", "/subjects/bench-value/versions") => ("200 OK", registered),
        _ => ("404 Not Found", r#"{"error_code":40401,"message":"Subject not found"}"#),
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    )?;
    out.flush()
}

/// Drives `f` to completion: one poll when it is ready at once (all caches hit), else on `rt`.
fn run<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    // In the runtime's context, so a cache miss can start its request.
    let _context = rt.enter();
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => rt.block_on(f),
    }
}

fn bench(c: &mut Criterion) {
    let text = schema();
    let url = start_stub(&text);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");

    // Ours, through the registry client: the first calls ask the stub, the rest hit the caches.
    let client = RegistryClient::new(&url).expect("client");
    let codec = AvroCodec::new();
    let config = SerializerConfig { use_latest_version: true, ..SerializerConfig::default() };
    let ours_schema = Schema::avro(&text);
    let record = value();
    let ours_encode = || run(&rt, client.avro_encode(&codec, &config, "bench", &ours_schema, &record));
    let framed = ours_encode().expect("ours encodes");
    let ours_decode = |bytes: &[u8]| run(&rt, client.avro_decode::<Wide>(&codec, bytes));
    assert_eq!(ours_decode(&framed).expect("ours decodes"), value());

    // Theirs, with its own caches filled the same way.
    let settings = SrSettings::new_builder(url.clone()).no_proxy().build().expect("their settings");
    let encoder = AvroEncoder::new(settings.clone());
    let decoder = AvroDecoder::new(settings);
    let strategy = TheirStrategy::TopicNameStrategy("bench".to_string(), false);
    let their_decode = |bytes: &[u8]| {
        let decoded = decoder.decode(Some(bytes)).expect("theirs decodes");
        apache_avro::from_value::<Wide>(&decoded.value).expect("theirs deserializes")
    };
    let theirs_framed = encoder.encode_struct(&record, &strategy).expect("theirs encodes");
    assert_eq!(theirs_framed, framed, "both write the same bytes");
    assert_eq!(their_decode(&framed), value());

    let mut group = c.benchmark_group(GROUP);
    group.bench_function("encode/ours_client", |b| b.iter(|| ours_encode().expect("encodes")));
    group.bench_function("encode/ours_codec", |b| {
        b.iter(|| codec.encode(SchemaRef::Id(ID as i32), black_box(&record)).expect("encodes"))
    });
    group.bench_function("encode/theirs", |b| {
        b.iter(|| encoder.encode_struct(black_box(&record), &strategy).expect("encodes"))
    });
    group.bench_function("decode/ours_client", |b| b.iter(|| ours_decode(black_box(&framed)).expect("decodes")));
    group
        .bench_function("decode/ours_codec", |b| b.iter(|| codec.decode::<Wide>(black_box(&framed)).expect("decodes")));
    group.bench_function("decode/theirs", |b| b.iter(|| their_decode(black_box(&framed))));
    group.finish();
}

fn report() {
    let Some(dir) = report::criterion_dir() else { return };
    println!("\nthroughput ratios, ours/theirs (goal >= 2):");
    for op in ["encode", "decode"] {
        let Some(theirs) = report::mean_ns(&dir, GROUP, &format!("{op}/theirs")) else {
            println!("  {op}: no estimate for theirs in {}", dir.display());
            continue;
        };
        for ours in ["ours_client", "ours_codec"] {
            if let Some(t) = report::mean_ns(&dir, GROUP, &format!("{op}/{ours}")) {
                println!(
                    "  {op}: {ours} {:.0} ns ({:.0}/s), theirs {:.0} ns ({:.0}/s): {:.2}x",
                    t,
                    1e9 / t,
                    theirs,
                    1e9 / theirs,
                    theirs / t
                );
            }
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    if report::measured() {
        report();
    }
}

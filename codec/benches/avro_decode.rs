//! Cost of the framing and the schema cache: decoding a framed 20-field Avro record with
//! `AvroCodec` against decoding the same payload with apache-avro directly (schema parsed and
//! its datum reader built once, serde straight from the bytes), both into the same struct.
//! The target is a ratio of at least 0.95. A third function decodes the payload with the
//! schema already in hand, to show the framing and lookup apart from the decoding.

use apache_avro::reader::datum::GenericDatumReader;
use criterion::{black_box, Criterion};
use schemata_codec::avro::AvroCodec;
use schemata_codec::SchemaRef;

mod report;
mod wide;
use wide::{schema, value, Wide};

fn decode(c: &mut Criterion) {
    let text = schema();
    let codec = AvroCodec::new();
    // A cache holding other schemas too, as a consumer of several topics has.
    for id in 1..100 {
        codec.add_schema(SchemaRef::Id(id), &text, &[]).expect("bench schema parses");
    }
    let framed = codec.encode(SchemaRef::Id(42), &value()).expect("bench value encodes");
    let payload = framed[5..].to_vec();
    let direct_schema = apache_avro::Schema::parse_str(&text).expect("bench schema parses");
    let direct = GenericDatumReader::builder(&direct_schema).build().expect("reader builds");
    assert_eq!(codec.decode::<Wide>(&framed).expect("decodes"), value());

    let mut group = c.benchmark_group(GROUP);
    group.bench_function("apache_avro_direct", |b| {
        b.iter(|| {
            let mut reader = black_box(&payload[..]);
            direct.read_deser::<Wide>(&mut reader).expect("decodes")
        })
    });
    group.bench_function("schemata_codec_framed", |b| {
        b.iter(|| codec.decode::<Wide>(black_box(&framed)).expect("decodes"))
    });
    // The codec with its schema in hand: what is left between the two above is the framing
    // and the lookup.
    let writer = codec.get(SchemaRef::Id(42)).expect("cached");
    group.bench_function("schemata_codec_payload", |b| {
        b.iter(|| writer.decode_into::<Wide>(black_box(&framed[5..])).expect("decodes"))
    });
    group.finish();
}

const GROUP: &str = "avro_decode_20_fields";

fn main() {
    let mut c = Criterion::default().configure_from_args();
    decode(&mut c);
    c.final_summary();
    if report::measured() {
        let dir = report::criterion_dir();
        let mean = |name| dir.as_deref().and_then(|d| report::mean_ns(d, GROUP, name));
        if let (Some(direct), Some(ours), Some(payload)) =
            (mean("apache_avro_direct"), mean("schemata_codec_framed"), mean("schemata_codec_payload"))
        {
            println!("\nthroughput ratio, framed codec / apache-avro direct (target >= 0.95): {:.3}", direct / ours);
            println!("framing and schema lookup: {:.1} ns per record", ours - payload);
        }
    }
}

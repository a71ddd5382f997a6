//! Cost of the framing and the schema cache: decoding a framed 20-field Avro record with
//! `AvroCodec` against decoding the same payload with apache-avro directly (schema parsed and
//! its datum reader built once, serde straight from the bytes), both into the same struct.
//! The target is a ratio of at least 0.95.

use apache_avro::reader::datum::GenericDatumReader;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use schemata_codec::avro::AvroCodec;
use schemata_codec::SchemaRef;

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

    let mut group = c.benchmark_group("avro_decode_20_fields");
    group.bench_function("apache_avro_direct", |b| {
        b.iter(|| {
            let mut reader = black_box(&payload[..]);
            direct.read_deser::<Wide>(&mut reader).expect("decodes")
        })
    });
    group.bench_function("schemata_codec_framed", |b| {
        b.iter(|| codec.decode::<Wide>(black_box(&framed)).expect("decodes"))
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

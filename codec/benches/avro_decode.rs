//! Cost of the framing and the schema cache: decoding a framed 20-field Avro record with
//! `AvroCodec` against decoding the same payload with apache-avro directly (schema already
//! parsed), both into the same serde struct. The target is a ratio of at least 0.95.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use schemata_codec::avro::AvroCodec;
use schemata_codec::SchemaRef;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Wide {
    f0: i32,
    f1: i64,
    f2: String,
    f3: Option<String>,
    f4: f64,
    f5: i32,
    f6: i64,
    f7: String,
    f8: Option<String>,
    f9: f64,
    f10: i32,
    f11: i64,
    f12: String,
    f13: Option<String>,
    f14: f64,
    f15: i32,
    f16: i64,
    f17: String,
    f18: Option<String>,
    f19: f64,
}

fn schema() -> String {
    let types = ["\"int\"", "\"long\"", "\"string\"", r#"["null","string"]"#, "\"double\""];
    let fields: Vec<String> =
        (0..20).map(|i| format!(r#"{{"name":"f{i}","type":{}}}"#, types[i % types.len()])).collect();
    format!(r#"{{"type":"record","name":"Wide","namespace":"bench","fields":[{}]}}"#, fields.join(","))
}

fn value() -> Wide {
    let s = |i: i32| format!("value number {i}");
    Wide {
        f0: 1,
        f1: 1_700_000_000_000,
        f2: s(2),
        f3: Some(s(3)),
        f4: 0.5,
        f5: -7,
        f6: 42,
        f7: s(7),
        f8: None,
        f9: 1e10,
        f10: 100_000,
        f11: -1,
        f12: s(12),
        f13: Some(s(13)),
        f14: -2.25,
        f15: 0,
        f16: i64::MAX,
        f17: s(17),
        f18: None,
        f19: 3.0,
    }
}

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
    assert_eq!(codec.decode::<Wide>(&framed).expect("decodes"), value());

    let mut group = c.benchmark_group("avro_decode_20_fields");
    group.bench_function("apache_avro_direct", |b| {
        b.iter(|| {
            let mut reader = black_box(&payload[..]);
            let v = apache_avro::from_avro_datum(&direct_schema, &mut reader, None).expect("decodes");
            apache_avro::from_value::<Wide>(&v).expect("deserializes")
        })
    });
    group.bench_function("schemata_codec_framed", |b| {
        b.iter(|| codec.decode::<Wide>(black_box(&framed)).expect("decodes"))
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

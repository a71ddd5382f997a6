//! Cost of a FULL_TRANSITIVE-style Avro check (both directions against every registered
//! version) for a 50-field record, against 1, 10, 100 and 1,000 pre-parsed versions.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use schemata::schema::avro::{compatibility_messages, AvroSchema};
use schemata::schema::ParseOptions;

/// Version `v` of a 50-field record: fields of mixed types, the last `v % 5` optional extras.
fn version(v: usize) -> String {
    let types = ["\"int\"", "\"long\"", "\"string\"", r#"["null","string"]"#, r#"{"type":"array","items":"double"}"#];
    let mut fields: Vec<String> =
        (0..50).map(|i| format!(r#"{{"name":"f{i}","type":{}}}"#, types[i % types.len()])).collect();
    for e in 0..(v % 5) {
        fields.push(format!(r#"{{"name":"extra{e}","type":["null","long"],"default":null}}"#));
    }
    format!(r#"{{"type":"record","name":"Wide","namespace":"bench","fields":[{}]}}"#, fields.join(","))
}

fn parse(text: &str) -> AvroSchema {
    match AvroSchema::parse(text, &[], ParseOptions::default()) {
        Ok(s) => s,
        Err(e) => panic!("bench schema must parse: {e}"),
    }
}

fn full_transitive(c: &mut Criterion) {
    let candidate = parse(&version(7));
    let mut group = c.benchmark_group("avro_full_transitive_50_fields");
    for n in [1usize, 10, 100, 1000] {
        let history: Vec<AvroSchema> = (0..n).map(|v| parse(&version(v))).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &history, |b, history| {
            b.iter(|| {
                let mut found = 0;
                for old in history.iter().rev() {
                    found += compatibility_messages(old, &candidate, "old", "new").len();
                    found += compatibility_messages(&candidate, old, "new", "old").len();
                }
                assert_eq!(found, 0);
                found
            })
        });
    }
    group.finish();
}

criterion_group!(benches, full_transitive);
criterion_main!(benches);

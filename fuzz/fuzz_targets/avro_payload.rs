//! Avro payload decoding in the codec: the input is a whole framed record (magic byte, schema
//! id, Avro binary). Schema id 1 is a record using every Avro type; id 2 is a record with one
//! field, so most inputs framed for it reach the payload decoder. Each is decoded as JSON, and
//! id 1 also resolved to an evolved reader schema. No input may panic, hang or exhaust memory.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use schemata_codec::avro::{AvroCodec, AvroSchema};
use schemata_codec::SchemaRef;

const WRITER: &str = r#"{"type":"record","name":"R","namespace":"fuzz","fields":[
 {"name":"b","type":"boolean"},
 {"name":"i","type":"int"},
 {"name":"l","type":"long"},
 {"name":"f","type":"float"},
 {"name":"d","type":"double"},
 {"name":"s","type":"string"},
 {"name":"y","type":"bytes"},
 {"name":"x","type":{"type":"fixed","name":"F","size":4}},
 {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
 {"name":"a","type":{"type":"array","items":"int"}},
 {"name":"m","type":{"type":"map","values":["null","string"]}},
 {"name":"u","type":["null","int","string","R"]},
 {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"date","type":{"type":"int","logicalType":"date"}},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"uuid","type":{"type":"string","logicalType":"uuid"}}
]}"#;

const READER: &str = r#"{"type":"record","name":"R","namespace":"fuzz","fields":[
 {"name":"i","type":"long"},
 {"name":"s","type":["null","string"]},
 {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C","D"],"default":"D"}},
 {"name":"a","type":{"type":"array","items":"double"}},
 {"name":"u","type":["null","long","string","R"]},
 {"name":"added","type":"string","default":"none"}
]}"#;

const SMALL: &str = r#"{"type":"record","name":"S","fields":[{"name":"s","type":"string"}]}"#;

fn setup() -> &'static (AvroCodec, Arc<AvroSchema>) {
    static CODEC: OnceLock<(AvroCodec, Arc<AvroSchema>)> = OnceLock::new();
    CODEC.get_or_init(|| {
        let codec = AvroCodec::new();
        codec.add_schema(SchemaRef::Id(1), WRITER, &[]).expect("the writer schema parses");
        codec.add_schema(SchemaRef::Id(2), SMALL, &[]).expect("the small schema parses");
        let reader = Arc::new(AvroSchema::parse(READER, &[]).expect("the reader schema parses"));
        (codec, reader)
    })
}

fuzz_target!(|data: &[u8]| {
    let (codec, reader) = setup();
    let _ = codec.decode_json(data);
    let _ = codec.decode_value(data, Some(reader));
});

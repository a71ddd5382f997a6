//! The codec's Confluent wire-frame parser: magic byte, schema id or GUID, and for Protobuf the
//! message-index path. Any bytes; a frame that parses re-encodes to a frame that parses the
//! same. No input may panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemata_codec::wire;
use schemata_codec::SchemaRef;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = wire::parse(data) {
        let mut header = Vec::new();
        wire::write_header(&mut header, frame.schema);
        assert_eq!(&data[..header.len()], header.as_slice(), "header does not round-trip");
        if let SchemaRef::Guid(g) = frame.schema {
            let _ = wire::guid_string(&g);
        }
    }
    if let Ok((schema, indexes, payload)) = wire::parse_protobuf(data) {
        let mut out = Vec::new();
        wire::write_header(&mut out, schema);
        wire::write_indexes(&mut out, &indexes);
        out.extend_from_slice(payload);
        // The index path may be written in a shorter form than it was read, never a longer one.
        assert!(out.len() <= data.len(), "re-encoded frame is longer");
        let again = wire::parse_protobuf(&out).expect("a re-encoded frame parses");
        assert_eq!(again, (schema, indexes, payload), "frame does not round-trip");
    }
    let _ = wire::split_indexes(data);
});

//! JSON Schema records in the Confluent framing: the schema id, then the UTF-8 JSON
//! document. Any serde value works; this crate does not validate against the schema (the
//! registry checks schemas, producers that need per-record validation run a validator).
//!
//! ```
//! use schemata_codec::{json, SchemaRef};
//!
//! let bytes = json::encode(SchemaRef::Id(3), &serde_json::json!({"n": 1}))?;
//! assert_eq!(bytes, b"\0\0\0\0\x03{\"n\":1}");
//! let (schema, value): (_, serde_json::Value) = json::decode(&bytes)?;
//! assert_eq!((schema, value), (SchemaRef::Id(3), serde_json::json!({"n": 1})));
//! # Ok::<(), schemata_codec::Error>(())
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::wire::{self, SchemaRef};
use crate::Error;

/// Frames `value` as compact JSON.
pub fn encode<T: Serialize + ?Sized>(schema: SchemaRef, value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(64);
    wire::write_header(&mut out, schema);
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

/// Reads a framed JSON document into `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<(SchemaRef, T), Error> {
    let frame = wire::parse(bytes)?;
    Ok((frame.schema, serde_json::from_slice(frame.payload)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_style_spacing_decodes_and_garbage_is_an_error() {
        let bytes = b"\0\0\0\0\x07{\"a\": [1, 2], \"b\": null}";
        let (schema, value): (_, serde_json::Value) = decode(bytes).unwrap();
        assert_eq!((schema, value), (SchemaRef::Id(7), serde_json::json!({"a": [1, 2], "b": null})));
        assert!(matches!(decode::<serde_json::Value>(b"\0\0\0\0\x07{\"a\""), Err(Error::Json(_))));
        assert!(matches!(decode::<serde_json::Value>(b"\0\0"), Err(Error::Wire(_))));
    }
}

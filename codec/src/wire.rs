//! The Confluent framing of a Kafka record value or key: magic byte 0 and a 4-byte
//! big-endian schema id, or magic byte 1 and a 16-byte schema GUID; for Protobuf the message
//! index path follows (zig-zag varints: count, then each index; `[0]` alone is the single
//! byte 0). Parsing borrows the payload and never panics: malformed input is a [`WireError`].
//!
//! Confluent 8 can also carry the schema reference in a record header instead
//! ([`split_header`], [`join_header`]): the header value is the frame's prefix cut off, so
//! the same encoders and decoders serve both framings.
//!
//! ```
//! use schemata_codec::wire::{self, SchemaRef};
//!
//! let mut bytes = Vec::new();
//! wire::write_header(&mut bytes, SchemaRef::Id(42));
//! wire::write_indexes(&mut bytes, &[1]);
//! bytes.extend_from_slice(b"payload");
//! assert_eq!(&bytes[..7], &[0, 0, 0, 0, 42, 2, 2]);
//!
//! let frame = wire::parse(&bytes).unwrap();
//! assert_eq!(frame.schema, SchemaRef::Id(42));
//! let (indexes, payload) = wire::split_indexes(frame.payload).unwrap();
//! assert_eq!((indexes, payload), (vec![1], &b"payload"[..]));
//! ```

use std::borrow::Cow;
use std::fmt;

/// Magic byte of the id framing.
pub const MAGIC_ID: u8 = 0;
/// Magic byte of the GUID framing (Confluent 8.0+).
pub const MAGIC_GUID: u8 = 1;

/// Which registered schema a record was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaRef {
    /// The registry's integer id (signed, as Java writes it).
    Id(i32),
    /// The schema's GUID, most significant byte first.
    Guid([u8; 16]),
}

impl fmt::Display for SchemaRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaRef::Id(id) => write!(f, "id {id}"),
            SchemaRef::Guid(g) => write!(f, "guid {}", guid_string(g)),
        }
    }
}

/// 16 bytes as a UUID string (lower-case hex, 8-4-4-4-12), as Java's `UUID.toString`: the form
/// the registry's `/schemas/guids/{guid}` takes and renders. One allocation: the server renders
/// it into every schema entity a response carries.
pub fn guid_string(g: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in g.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// A UUID string (any case, hyphens where Java puts them) as its 16 bytes.
pub fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return None;
    }
    let hex = groups.concat();
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Why bytes are not a Confluent frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("record too short for the wire format: {needed} bytes needed, {got} present")]
    Short { needed: usize, got: usize },
    #[error("unknown magic byte {0:#04x} (expected 0 or 1)")]
    UnknownMagic(u8),
    #[error("malformed varint in the message indexes at byte {offset}")]
    BadVarint { offset: usize },
    #[error("message index count {count} does not fit the {remaining} bytes left")]
    IndexCount { count: i32, remaining: usize },
}

/// A parsed frame: the schema reference and the bytes after it (borrowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub schema: SchemaRef,
    /// Everything after the schema reference; for Protobuf this starts with the indexes.
    pub payload: &'a [u8],
}

/// Reads the magic byte and schema reference.
#[inline]
pub fn parse(bytes: &[u8]) -> Result<Frame<'_>, WireError> {
    let short = |needed| WireError::Short { needed, got: bytes.len() };
    match bytes.first() {
        None => Err(short(5)),
        Some(&MAGIC_ID) => {
            let id: [u8; 4] = bytes.get(1..5).and_then(|s| s.try_into().ok()).ok_or_else(|| short(5))?;
            Ok(Frame { schema: SchemaRef::Id(i32::from_be_bytes(id)), payload: &bytes[5..] })
        }
        Some(&MAGIC_GUID) => {
            let guid: [u8; 16] = bytes.get(1..17).and_then(|s| s.try_into().ok()).ok_or_else(|| short(17))?;
            Ok(Frame { schema: SchemaRef::Guid(guid), payload: &bytes[17..] })
        }
        Some(&other) => Err(WireError::UnknownMagic(other)),
    }
}

/// Parses a Protobuf frame: schema reference, message index path, and the message bytes.
pub fn parse_protobuf(bytes: &[u8]) -> Result<(SchemaRef, Vec<i32>, &[u8]), WireError> {
    let frame = parse(bytes)?;
    let (indexes, payload) = split_indexes(frame.payload)?;
    Ok((frame.schema, indexes, payload))
}

/// Appends the magic byte and schema reference.
pub fn write_header(out: &mut Vec<u8>, schema: SchemaRef) {
    match schema {
        SchemaRef::Id(id) => {
            out.push(MAGIC_ID);
            out.extend_from_slice(&id.to_be_bytes());
        }
        SchemaRef::Guid(g) => {
            out.push(MAGIC_GUID);
            out.extend_from_slice(&g);
        }
    }
}

/// The record header that carries a key's schema reference in header framing (Confluent 8's
/// `header_schema_id_serializer`).
pub const KEY_SCHEMA_ID_HEADER: &str = "__key_schema_id";
/// The record header that carries a value's schema reference in header framing.
pub const VALUE_SCHEMA_ID_HEADER: &str = "__value_schema_id";

/// The header name for a record's key (`is_key`) or value.
pub fn schema_id_header(is_key: bool) -> &'static str {
    if is_key {
        KEY_SCHEMA_ID_HEADER
    } else {
        VALUE_SCHEMA_ID_HEADER
    }
}

/// Cuts a framed record in two for header framing: the header value and the payload, both
/// borrowed from `framed`. The header value is the frame's prefix: the magic byte and schema
/// reference and, for Protobuf (`protobuf`), the message index path, as Confluent's
/// serializers write it (`SchemaId.guid_to_bytes`); the payload is the encoded value alone.
/// Confluent puts the GUID there (frame with [`SchemaRef::Guid`]); an id is read back too.
///
/// ```
/// use schemata_codec::wire::{self, SchemaRef};
///
/// let mut framed = Vec::new();
/// wire::write_header(&mut framed, SchemaRef::Guid([7; 16]));
/// wire::write_indexes(&mut framed, &[1]);
/// framed.extend_from_slice(b"message");
/// let (header, payload) = wire::split_header(&framed, true).unwrap();
/// assert_eq!((header.len(), payload), (1 + 16 + 2, &b"message"[..]));
/// // A consumer puts the two back together before decoding.
/// assert_eq!(wire::join_header(Some(header), payload), framed);
/// ```
pub fn split_header(framed: &[u8], protobuf: bool) -> Result<(&[u8], &[u8]), WireError> {
    let mut rest = parse(framed)?.payload;
    if protobuf {
        rest = split_indexes(rest)?.1;
    }
    Ok(framed.split_at(framed.len() - rest.len()))
}

/// A record as the decoders take it: the value of its schema id header followed by the
/// payload when it has that header, else the payload as is (which then starts with the
/// frame). Confluent's `dual_schema_id_deserializer` reads records the same way: the header
/// first, else the prefix. Borrows the payload when there is no header.
pub fn join_header<'a>(header: Option<&[u8]>, payload: &'a [u8]) -> Cow<'a, [u8]> {
    match header {
        None => Cow::Borrowed(payload),
        Some(header) => {
            let mut joined = Vec::with_capacity(header.len() + payload.len());
            joined.extend_from_slice(header);
            joined.extend_from_slice(payload);
            Cow::Owned(joined)
        }
    }
}

/// Appends a message index path: `[0]` → `00`, otherwise zig-zag count then indexes.
/// An empty path is written as `[0]` too, which is what a reader makes of it.
pub fn write_indexes(out: &mut Vec<u8>, path: &[i32]) {
    if path.is_empty() || path == [0] {
        out.push(0);
        return;
    }
    write_varint(out, path.len() as i32);
    for i in path {
        write_varint(out, *i);
    }
}

/// Reads a message index path from the start of `bytes`; returns it and the rest.
/// A count of 0 means `[0]`.
pub fn split_indexes(bytes: &[u8]) -> Result<(Vec<i32>, &[u8]), WireError> {
    let (count, mut used) = read_varint(bytes, 0)?;
    if count == 0 {
        return Ok((vec![0], &bytes[used..]));
    }
    // Each index takes at least one byte: a count beyond what remains is corrupt, and
    // refusing it early bounds the allocation.
    let remaining = bytes.len() - used;
    if count < 0 || count as usize > remaining {
        return Err(WireError::IndexCount { count, remaining });
    }
    let mut path = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (v, n) = read_varint(&bytes[used..], used)?;
        path.push(v);
        used += n;
    }
    Ok((path, &bytes[used..]))
}

/// Kafka `ByteUtils.writeVarint`: zig-zag, then LEB128.
fn write_varint(out: &mut Vec<u8>, value: i32) {
    let mut v = ((value << 1) ^ (value >> 31)) as u32;
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Kafka `ByteUtils.readVarint`: at most 5 bytes; `offset` only serves the error.
fn read_varint(bytes: &[u8], offset: usize) -> Result<(i32, usize), WireError> {
    let mut v: u32 = 0;
    for (i, b) in bytes.iter().enumerate().take(5) {
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let decoded = ((v >> 1) as i32) ^ -((v & 1) as i32);
            return Ok((decoded, i + 1));
        }
    }
    Err(WireError::BadVarint { offset })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn indexes(path: &[i32]) -> Vec<u8> {
        let mut out = Vec::new();
        write_indexes(&mut out, path);
        out
    }

    /// The examples of the format description: `[0]` = `00`, `[1]` = `02 02`, `[0,0]` = `04 00 00`.
    #[test]
    fn confluent_index_examples() {
        assert_eq!(indexes(&[0]), [0x00]);
        assert_eq!(indexes(&[1]), [0x02, 0x02]);
        assert_eq!(indexes(&[0, 0]), [0x04, 0x00, 0x00]);
        assert_eq!(split_indexes(&[0x00, 0xaa]), Ok((vec![0], &[0xaa][..])));
        assert_eq!(split_indexes(&[0x02, 0x02, 0xff]), Ok((vec![1], &[0xff][..])));
        assert_eq!(split_indexes(&[0x04, 0x00, 0x00]), Ok((vec![0, 0], &[][..])));
    }

    #[test]
    fn id_framing_is_big_endian() {
        let mut out = Vec::new();
        write_header(&mut out, SchemaRef::Id(0x01020304));
        assert_eq!(out, [0, 1, 2, 3, 4]);
        out.extend_from_slice(b"abc");
        assert_eq!(parse(&out), Ok(Frame { schema: SchemaRef::Id(0x01020304), payload: b"abc" }));
        // Java writes a signed int: the top bit set reads back negative, not as an error.
        assert_eq!(parse(&[0, 0xff, 0xff, 0xff, 0xff]).map(|f| f.schema), Ok(SchemaRef::Id(-1)));
    }

    #[test]
    fn guid_framing() {
        let guid: [u8; 16] = core::array::from_fn(|i| i as u8 + 0xa0);
        let mut out = Vec::new();
        write_header(&mut out, SchemaRef::Guid(guid));
        write_indexes(&mut out, &[1, 0]);
        out.push(7);
        assert_eq!(out.len(), 1 + 16 + 3 + 1);
        assert_eq!(out[0], 1);
        assert_eq!(parse_protobuf(&out), Ok((SchemaRef::Guid(guid), vec![1, 0], &[7][..])));
        assert_eq!(guid_string(&guid), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
    }

    /// Header framing as Confluent's Python serializers write it: `__value_schema_id` holds
    /// magic 1, the GUID and (Protobuf) the indexes; the payload holds the message alone.
    #[test]
    fn header_framing_splits_and_joins() {
        assert_eq!((schema_id_header(false), schema_id_header(true)), ("__value_schema_id", "__key_schema_id"));
        let guid: [u8; 16] = core::array::from_fn(|i| i as u8);
        let mut framed = Vec::new();
        write_header(&mut framed, SchemaRef::Guid(guid));
        write_indexes(&mut framed, &[0, 0]);
        framed.extend_from_slice(&[8, 1]);
        let (header, payload) = split_header(&framed, true).unwrap();
        assert_eq!(header, [&[1][..], &guid, &[4, 0, 0]].concat());
        assert_eq!(payload, [8, 1]);
        assert_eq!(
            parse_protobuf(&join_header(Some(header), payload)),
            Ok((SchemaRef::Guid(guid), vec![0, 0], &[8, 1][..]))
        );
        // Avro and JSON: the header ends with the reference; an id is accepted too.
        let (header, payload) = split_header(&[0, 0, 0, 0, 9, 2, 3], false).unwrap();
        assert_eq!((header, payload), (&[0, 0, 0, 0, 9][..], &[2, 3][..]));
        // Without a header the payload must hold the prefix, and is borrowed as is.
        assert!(matches!(join_header(None, &framed), Cow::Borrowed(b) if b == framed));
        assert_eq!(split_header(&[1, 2], false), Err(WireError::Short { needed: 17, got: 2 }));
        assert_eq!(split_header(&[0, 0, 0, 0, 1, 0x80], true), Err(WireError::BadVarint { offset: 0 }));
    }

    #[test]
    fn malformed_input_is_typed() {
        assert_eq!(parse(&[]), Err(WireError::Short { needed: 5, got: 0 }));
        assert_eq!(parse(&[0, 0, 0, 1]), Err(WireError::Short { needed: 5, got: 4 }));
        assert_eq!(parse(&[1; 16]), Err(WireError::Short { needed: 17, got: 16 }));
        assert_eq!(parse(&[2, 0, 0, 0, 1]), Err(WireError::UnknownMagic(2)));
        assert_eq!(split_indexes(&[]), Err(WireError::BadVarint { offset: 0 }));
        assert_eq!(split_indexes(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), Err(WireError::BadVarint { offset: 0 }));
        assert_eq!(split_indexes(&[0x04, 0x00]), Err(WireError::IndexCount { count: 2, remaining: 1 }));
        assert_eq!(split_indexes(&[0x01]), Err(WireError::IndexCount { count: -1, remaining: 0 }));
        assert_eq!(split_indexes(&[0x04, 0x00, 0x80]), Err(WireError::BadVarint { offset: 2 }));
    }

    #[test]
    fn large_and_negative_indexes_round_trip() {
        for path in [vec![300, 0, 70000], vec![i32::MAX, i32::MIN], vec![-1]] {
            let bytes = indexes(&path);
            assert_eq!(split_indexes(&bytes), Ok((path, &[][..])));
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(frame) = parse(&bytes) {
                prop_assert!(frame.payload.len() <= bytes.len());
            }
            if let Ok((_, payload)) = split_indexes(&bytes) {
                prop_assert!(payload.len() < bytes.len());
            }
            let _ = parse_protobuf(&bytes);
        }

        #[test]
        fn frames_round_trip(
            id in any::<i32>(),
            guid in any::<[u8; 16]>(),
            use_guid in any::<bool>(),
            path in proptest::collection::vec(any::<i32>(), 1..8),
            payload in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let schema = if use_guid { SchemaRef::Guid(guid) } else { SchemaRef::Id(id) };
            let mut bytes = Vec::new();
            write_header(&mut bytes, schema);
            write_indexes(&mut bytes, &path);
            bytes.extend_from_slice(&payload);
            prop_assert_eq!(parse_protobuf(&bytes), Ok((schema, path, &payload[..])));
        }
    }
}

//! Confluent message indexes: the path from a file's top level to a message (position among
//! sibling *messages*, enums and services not counted), and their wire encoding (zig-zag
//! varints: count, then each index; the path `[0]` alone is written as the single byte 0).
//! Pure functions over prost-reflect descriptors with no server dependency, so a codec can
//! use this module as is. Nested positions follow the descriptor's nested types (map-entry
//! messages included), as Confluent's serializers compute them.

use prost_reflect::{FileDescriptor, MessageDescriptor};

/// The index path of the message `full_name` (no leading dot) declared in `file`.
pub fn index_of(file: &FileDescriptor, full_name: &str) -> Option<Vec<i32>> {
    let target = file.parent_pool().get_message_by_name(full_name.trim_start_matches('.'))?;
    if target.parent_file() != *file {
        return None;
    }
    let mut path = Vec::new();
    let mut current = target;
    loop {
        match current.parent_message() {
            Some(parent) => {
                let i = parent.child_messages().position(|m| m == current)?;
                path.push(i32::try_from(i).ok()?);
                current = parent;
            }
            None => {
                let i = file.messages().position(|m| m == current)?;
                path.push(i32::try_from(i).ok()?);
                break;
            }
        }
    }
    path.reverse();
    Some(path)
}

/// The message at `path` in `file`; an empty path means `[0]`, as on the wire.
pub fn message_at(file: &FileDescriptor, path: &[i32]) -> Option<MessageDescriptor> {
    let (first, rest) = match path.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, &[][..]),
    };
    let mut current = file.messages().nth(usize::try_from(first).ok()?)?;
    for i in rest {
        let next = current.child_messages().nth(usize::try_from(*i).ok()?)?;
        current = next;
    }
    Some(current)
}

/// Wire bytes of an index path: `[0]` → `00`, otherwise zig-zag count then indexes.
pub fn encode(path: &[i32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + path.len());
    if path == [0] {
        out.push(0);
        return out;
    }
    write_varint(&mut out, path.len() as i32);
    for i in path {
        write_varint(&mut out, *i);
    }
    out
}

/// Reads an index path from the start of `bytes`; returns it with the bytes consumed.
/// A count of 0 means `[0]`.
pub fn decode(bytes: &[u8]) -> Option<(Vec<i32>, usize)> {
    let (count, mut used) = read_varint(bytes)?;
    if count == 0 {
        return Some((vec![0], used));
    }
    // Each index takes at least one byte: a count beyond what remains is corrupt.
    if count < 0 || count as usize > bytes.len() - used {
        return None;
    }
    let mut path = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (v, n) = read_varint(&bytes[used..])?;
        path.push(v);
        used += n;
    }
    Some((path, used))
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

fn read_varint(bytes: &[u8]) -> Option<(i32, usize)> {
    let mut v: u32 = 0;
    for (i, b) in bytes.iter().enumerate().take(5) {
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let decoded = ((v >> 1) as i32) ^ -((v & 1) as i32);
            return Some((decoded, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::protobuf::ProtobufSchema;
    use crate::schema::ParseOptions;

    #[test]
    fn confluent_encoding_examples() {
        assert_eq!(encode(&[0]), vec![0x00]);
        assert_eq!(encode(&[1]), vec![0x02, 0x02]);
        assert_eq!(encode(&[0, 0]), vec![0x04, 0x00, 0x00]);
        assert_eq!(decode(&[0x00]), Some((vec![0], 1)));
        assert_eq!(decode(&[0x02, 0x02, 0xff]), Some((vec![1], 2)));
        assert_eq!(decode(&[0x04, 0x00, 0x00]), Some((vec![0, 0], 3)));
        assert_eq!(decode(&[0x04, 0x00]), None);
        assert_eq!(decode(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), None);
        assert_eq!(decode(&[0x01]), None);
    }

    #[test]
    fn round_trips_large_indexes() {
        let path = vec![300, 0, 70000];
        let bytes = encode(&path);
        assert_eq!(decode(&bytes), Some((path, bytes.len())));
    }

    #[test]
    fn paths_follow_message_declarations() {
        let text = "syntax = \"proto3\";\npackage p;\nenum E { E0 = 0; }\nmessage A { string a = 1; }\n\
                    message B {\n  message C { int32 c = 1; }\n  enum K { K0 = 0; }\n  message D { C c = 1; }\n  D d = 1;\n}\n";
        let schema = ProtobufSchema::parse(text, &[], ParseOptions::default()).unwrap();
        let file = schema.file_descriptor().unwrap();
        assert_eq!(index_of(&file, "p.A"), Some(vec![0]));
        assert_eq!(index_of(&file, "p.B"), Some(vec![1]));
        assert_eq!(index_of(&file, "p.B.C"), Some(vec![1, 0]));
        assert_eq!(index_of(&file, ".p.B.D"), Some(vec![1, 1]));
        assert_eq!(index_of(&file, "p.Missing"), None);
        assert_eq!(index_of(&file, "google.protobuf.Timestamp"), None);
        assert_eq!(message_at(&file, &[1, 1]).map(|m| m.full_name().to_string()), Some("p.B.D".into()));
        assert_eq!(message_at(&file, &[]).map(|m| m.full_name().to_string()), Some("p.A".into()));
        assert!(message_at(&file, &[2]).is_none());
        assert!(message_at(&file, &[-1]).is_none());
    }
}

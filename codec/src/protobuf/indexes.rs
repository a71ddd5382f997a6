//! Confluent message indexes: the path from a file's top level to a message (position among
//! sibling *messages*, enums and services not counted), and their wire encoding (zig-zag
//! varints: count, then each index; the path `[0]` alone is written as the single byte 0).
//! Pure functions over prost-reflect descriptors, shared by the registry server and the
//! codec so both compute the same paths. Nested positions follow the descriptor's nested types (map-entry
//! messages included), as Confluent's serializers compute them.

use prost_reflect::{FileDescriptor, MessageDescriptor};

use crate::wire::{self, WireError};

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
    wire::write_indexes(&mut out, path);
    out
}

/// Reads an index path from the start of `bytes`; returns it with the bytes consumed.
/// A count of 0 means `[0]`.
pub fn decode(bytes: &[u8]) -> Result<(Vec<i32>, usize), WireError> {
    let (path, rest) = wire::split_indexes(bytes)?;
    Ok((path, bytes.len() - rest.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protobuf::compile;

    #[test]
    fn confluent_encoding_examples() {
        assert_eq!(encode(&[0]), vec![0x00]);
        assert_eq!(encode(&[1]), vec![0x02, 0x02]);
        assert_eq!(encode(&[0, 0]), vec![0x04, 0x00, 0x00]);
        assert_eq!(decode(&[0x00]), Ok((vec![0], 1)));
        assert_eq!(decode(&[0x02, 0x02, 0xff]), Ok((vec![1], 2)));
        assert_eq!(decode(&[0x04, 0x00, 0x00]), Ok((vec![0, 0], 3)));
        assert!(decode(&[0x04, 0x00]).is_err());
        assert!(decode(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80]).is_err());
        assert!(decode(&[0x01]).is_err());
    }

    #[test]
    fn paths_follow_message_declarations() {
        let text = "syntax = \"proto3\";\npackage p;\nimport \"google/protobuf/timestamp.proto\";\n\
                    enum E { E0 = 0; }\nmessage A { google.protobuf.Timestamp t = 1; }\n\
                    message B {\n  message C { int32 c = 1; }\n  enum K { K0 = 0; }\n  message D { C c = 1; }\n  D d = 1;\n}\n";
        let file = compile(text, &[]).unwrap();
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

//! The server's parsed Protobuf schemas give the message index paths the codec crate
//! computes (one implementation, `schemata_codec::protobuf::indexes`, re-exported by the
//! server): positions among messages only, nested types in declaration order.

use schemata::schema::protobuf::{indexes, ProtobufSchema};
use schemata::schema::ParseOptions;

#[test]
fn paths_follow_message_declarations_of_server_descriptors() {
    let text = "syntax = \"proto3\";\npackage p;\nenum E { E0 = 0; }\nmessage A { string a = 1; }\n\
                message B {\n  message C { int32 c = 1; }\n  enum K { K0 = 0; }\n  message D { C c = 1; }\n  D d = 1;\n}\n";
    let schema = ProtobufSchema::parse(text, &[], ParseOptions::default()).unwrap();
    let file = schema.file_descriptor().unwrap();
    assert_eq!(indexes::index_of(&file, "p.A"), Some(vec![0]));
    assert_eq!(indexes::index_of(&file, "p.B"), Some(vec![1]));
    assert_eq!(indexes::index_of(&file, "p.B.C"), Some(vec![1, 0]));
    assert_eq!(indexes::index_of(&file, ".p.B.D"), Some(vec![1, 1]));
    assert_eq!(indexes::index_of(&file, "p.Missing"), None);
    assert_eq!(indexes::message_at(&file, &[1, 1]).map(|m| m.full_name().to_string()), Some("p.B.D".into()));
    assert!(indexes::message_at(&file, &[2]).is_none());
    assert_eq!(indexes::encode(&[1, 1]), vec![0x04, 0x02, 0x02]);
}

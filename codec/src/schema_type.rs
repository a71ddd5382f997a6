//! The three schema formats, named as the registry's REST API names them (`schemaType`).
//! One definition for the server, its command line tools and the registry client.

use serde::{Deserialize, Serialize};

/// The `schemaType` of a registered schema. Absent or null in a request means AVRO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    Avro,
    Protobuf,
    Json,
}

impl SchemaType {
    /// The name the REST API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Protobuf => "PROTOBUF",
            SchemaType::Json => "JSON",
        }
    }

    /// Exact upper-case names only: Confluent 7.9 answers "Invalid schema type avro" for
    /// any other spelling.
    pub fn parse(s: &str) -> Option<SchemaType> {
        match s {
            "AVRO" => Some(SchemaType::Avro),
            "PROTOBUF" => Some(SchemaType::Protobuf),
            "JSON" => Some(SchemaType::Json),
            _ => None,
        }
    }
}

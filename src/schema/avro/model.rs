//! The parsed Avro schema graph. Nodes live in an arena and refer to each other by index,
//! so recursive types are plain cycles, identity (what Avro-Java's checker memoises on) is
//! the index, and dropping even a very deep schema never recurses.

use crate::schema::json_text::{JId, JsonDoc};

pub type NodeId = usize;

/// The Avro type tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record,
    Enum,
    Fixed,
    Array,
    Map,
    Union,
}

impl Type {
    pub fn primitive(name: &str) -> Option<Type> {
        Some(match name {
            "null" => Type::Null,
            "boolean" => Type::Boolean,
            "int" => Type::Int,
            "long" => Type::Long,
            "float" => Type::Float,
            "double" => Type::Double,
            "bytes" => Type::Bytes,
            "string" => Type::String,
            _ => return None,
        })
    }

    /// Lower-case name, as written in schemas (and Avro-Java's `getName()` for unnamed types).
    pub fn name(self) -> &'static str {
        match self {
            Type::Null => "null",
            Type::Boolean => "boolean",
            Type::Int => "int",
            Type::Long => "long",
            Type::Float => "float",
            Type::Double => "double",
            Type::Bytes => "bytes",
            Type::String => "string",
            Type::Record => "record",
            Type::Enum => "enum",
            Type::Fixed => "fixed",
            Type::Array => "array",
            Type::Map => "map",
            Type::Union => "union",
        }
    }

    /// Upper-case name, as Avro-Java's `Schema.Type` prints in checker messages.
    pub fn upper(self) -> &'static str {
        match self {
            Type::Null => "NULL",
            Type::Boolean => "BOOLEAN",
            Type::Int => "INT",
            Type::Long => "LONG",
            Type::Float => "FLOAT",
            Type::Double => "DOUBLE",
            Type::Bytes => "BYTES",
            Type::String => "STRING",
            Type::Record => "RECORD",
            Type::Enum => "ENUM",
            Type::Fixed => "FIXED",
            Type::Array => "ARRAY",
            Type::Map => "MAP",
            Type::Union => "UNION",
        }
    }
}

/// A (simple name, namespace) pair; an empty namespace is stored as `None`, as in Avro-Java.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub name: String,
    pub space: Option<String>,
}

impl Name {
    pub fn full(&self) -> String {
        match &self.space {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Avro-Java `Name.getQualified`: the short name when it lives in `default_space`.
    pub fn qualified(&self, default_space: Option<&str>) -> String {
        match &self.space {
            None => self.name.clone(),
            Some(s) if Some(s.as_str()) == default_space => self.name.clone(),
            Some(_) => self.full(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
    Ignore,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: NodeId,
    pub doc: Option<String>,
    /// The default value as a node of the schema's JSON arena.
    pub default: Option<JId>,
    pub order: Order,
    pub aliases: Vec<String>,
    pub props: Vec<(String, JId)>,
    pub pos: usize,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub ty: Type,
    pub name: Option<Name>,
    pub doc: Option<String>,
    pub aliases: Vec<Name>,
    /// Custom properties (incl. `logicalType`), values in the schema's JSON arena.
    pub props: Vec<(String, JId)>,
    pub fields: Vec<Field>,
    pub symbols: Vec<String>,
    pub enum_default: Option<String>,
    pub size: i64,
    /// Array items, map values, or union branches.
    pub children: Vec<NodeId>,
    pub is_error: bool,
}

impl Node {
    pub fn new(ty: Type) -> Node {
        Node {
            ty,
            name: None,
            doc: None,
            aliases: Vec::new(),
            props: Vec::new(),
            fields: Vec::new(),
            symbols: Vec::new(),
            enum_default: None,
            size: 0,
            children: Vec::new(),
            is_error: false,
        }
    }

    /// Avro-Java `getFullName()`: the full name of a named type, else the type name.
    pub fn full_name(&self) -> String {
        match &self.name {
            Some(n) => n.full(),
            None => self.ty.name().to_string(),
        }
    }
}

/// All nodes of one parsed schema (plus the schemas it references) and the JSON values
/// (defaults, properties) they point into.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub json: JsonDoc,
}

impl Graph {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn add(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }
}

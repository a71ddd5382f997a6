//! Schemata: a Confluent-compatible schema registry.
pub mod schema;

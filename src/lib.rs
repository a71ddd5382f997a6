//! Schemata: a Confluent-compatible schema registry.
//!
//! Data flows one way: `api` (HTTP) → `registry` (the rules) → `schema` (formats) and
//! `store` (sled + the in-memory index).
pub mod api;
pub mod auth;
pub mod check;
pub mod codec_cli;
pub mod config;
pub mod logging;
pub mod metrics;
pub mod registry;
pub mod schema;
pub mod server;
pub mod store;
pub mod tls;
pub mod transfer;
pub mod types;

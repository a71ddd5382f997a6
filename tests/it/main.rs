//! The integration tests, one binary: each file of this folder is a module of it, so the
//! crate and its dependencies are linked into one test executable rather than one per file.
//! The tests of every module share this process and run on parallel test threads: what a
//! test needs (a server, a data directory, a broker, a port) is its own, passed explicitly,
//! never process-wide state. Select a file's tests by its module path, e.g.
//! `cargo test --test it http_compat::`.

mod common;

mod auth;
mod avro_props;
mod avro_vectors;
mod cli_check;
mod cli_codec;
mod cluster;
mod codec_client;
mod crash;
mod dockerfile;
mod election;
mod group_commit;
mod http_compat;
mod http_config;
mod http_contexts;
mod http_json;
mod http_ops;
mod http_protobuf;
mod http_schemas;
mod http_subjects;
mod http_tags;
mod json_vectors;
mod kafka_store;
mod protobuf_indexes;
mod protobuf_vectors;
mod storage;
mod tls;
mod transfer;
mod ui;

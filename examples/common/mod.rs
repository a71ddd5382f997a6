//! What the `produce` and `consume` examples share: the flags that name the broker, the
//! topic, the registry and its credentials, the record format, and the one-line failure exit.
//! Included by each example with `#[path = "common/mod.rs"] mod common;`.

use std::fmt::Display;
use std::path::Path;

use clap::{Args, ValueEnum};
use std::time::Duration;

use rdkafka::client::{Client, ClientContext};
use rdkafka::config::ClientConfig;
use schemata::config::{parse_key_value, ConnectionArgs};
use schemata_codec::client::RegistryClient;

/// The Kafka and registry side of both examples.
#[derive(Debug, Args)]
pub struct Common {
    /// Kafka brokers, HOST:PORT[,HOST:PORT...] (librdkafka's `bootstrap.servers`).
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap: String,

    /// The topic to produce to or consume from.
    #[arg(long)]
    pub topic: String,

    /// The schema registry's base URL.
    #[arg(long, value_name = "URL", default_value = "http://localhost:8081")]
    pub registry: String,

    /// A librdkafka setting, KEY=VALUE (repeatable), for brokers that want TLS or SASL:
    /// security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, sasl.username=...,
    /// ssl.ca.location=FILE.
    #[arg(long = "kafka-config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub kafka_config: Vec<(String, String)>,

    /// Registry credentials and TLS, as `schemata encode`/`decode` take them.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl Common {
    /// The librdkafka settings: the brokers, then every --kafka-config in order.
    pub fn kafka(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        for (key, value) in &self.kafka_config {
            config.set(key, value);
        }
        config
    }

    /// The async registry client these flags describe.
    pub fn registry(&self) -> Result<RegistryClient, String> {
        let settings = self.connection.settings(&self.registry)?;
        RegistryClient::with_settings(&settings).map_err(|e| e.to_string())
    }
}

/// The record format: which codec frames the values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Avro,
    Protobuf,
    Json,
}

/// The partition ids of `topic`; a topic the brokers do not have is an error (rather than
/// records waiting for it until they time out, on brokers that do not create topics).
pub fn partitions<C: ClientContext>(client: &Client<C>, topic: &str) -> Result<Vec<i32>, String> {
    let metadata =
        client.fetch_metadata(Some(topic), Duration::from_secs(10)).map_err(|e| format!("metadata of {topic}: {e}"))?;
    let found = metadata.topics().iter().find(|t| t.name() == topic);
    match found {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
            Ok(t.partitions().iter().map(|p| p.id()).collect())
        }
        _ => Err(format!("topic {topic} does not exist (create it first)")),
    }
}

/// Reads a schema file, naming it in the error.
pub fn read_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Exits with status 1 after one line on stderr, prefixed with the example's name.
pub fn fail(example: &str, error: impl Display) -> ! {
    eprintln!("{example}: {error}");
    std::process::exit(1)
}

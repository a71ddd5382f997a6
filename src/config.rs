//! Command line and environment settings. Every setting has a default that works with no
//! configuration at all: listen on 127.0.0.1:8081, keep data in ./data.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use schemata_codec::client::blocking::RegistryClient;
use schemata_codec::client::{ClientSettings, Credentials};

use crate::auth::Algorithm;
use crate::types::Level;

#[derive(Debug, Parser)]
#[command(name = "schemata", version, about = "A Confluent-compatible schema registry")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the registry's REST API (the default command).
    Serve(Box<ServeArgs>),
    /// Check that a schema change is compatible, against a registry or old files (for CI).
    Check(CheckArgs),
    /// Ask a running server whether it is ready (exit 0) or not (exit 1); for container
    /// health checks, where images have no curl.
    Health(HealthArgs),
    /// Encode one JSON value from stdin into the Confluent wire format of a subject's schema
    /// (Avro, Protobuf or JSON Schema); the framed bytes go to stdout.
    Encode(EncodeArgs),
    /// Decode one Confluent-framed record from stdin and print its value as JSON.
    Decode(DecodeArgs),
    /// Write every subject, version, id, config and mode of a registry (any Confluent-API
    /// one) to a file of JSON lines in the `_schemas` record format.
    Export(ExportArgs),
    /// Write an export file into a registry, keeping ids and versions (IMPORT mode).
    Import(ImportArgs),
    /// Export from one registry and import into another, then check every id and version.
    Migrate(MigrateArgs),
    /// Print a user entry for the auth file (Karapace's format), the password hashed under a
    /// fresh random salt.
    Passwd(PasswdArgs),
}

/// `schemata passwd`. Exit codes: 0 printed, 1 error (one line on stderr).
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
The entry goes to stdout, to be added to the \"users\" list of the auth file; it works in
Karapace's registry_authfile too.

Examples:
  schemata passwd --username alice
  printf '%s\\n' \"$PASSWORD\" | schemata passwd --username ci --algorithm sha512")]
pub struct PasswdArgs {
    /// The user's name.
    #[arg(long, short = 'u')]
    pub username: String,

    /// Hash algorithm: scrypt, sha1, sha256 or sha512.
    #[arg(long, short = 'a', default_value = "scrypt", value_parser = parse_algorithm)]
    pub algorithm: Algorithm,

    /// The password (for scripts: other local users can see it in the process list). Without
    /// it, the first line of stdin is the password.
    #[arg(long)]
    pub password: Option<String>,
}

/// `schemata encode`. Exit codes: 0 encoded, 1 error (one line on stderr).
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
The value is plain JSON: for Avro as Confluent's Python AvroSerializer takes it (a union
value without a type wrapper), for Protobuf the proto3 JSON mapping.

Examples:
  echo '{\"name\":\"ada\"}' | schemata encode --registry http://localhost:8081 --subject users-value > record.bin
  schemata encode --registry http://localhost:8081 --schema-id 7 --message shop.Order.Item < item.json")]
pub struct EncodeArgs {
    /// The registry's base URL.
    #[arg(long, value_name = "URL")]
    pub registry: String,

    /// The subject whose latest version writes the record (unless --schema-id is given).
    #[arg(long, required_unless_present = "schema_id")]
    pub subject: Option<String>,

    /// Write with this registered schema id instead of the subject's latest version.
    #[arg(long, value_name = "N")]
    pub schema_id: Option<i32>,

    /// Protobuf: the full name of the message type (default: the schema's first message).
    #[arg(long, value_name = "FULL.NAME")]
    pub message: Option<String>,

    /// JSON Schema: write the value without checking it against the schema first.
    #[arg(long)]
    pub no_validate: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `schemata decode`. Exit codes: 0 decoded, 1 error (one line on stderr).
#[derive(Debug, Clone, Args)]
pub struct DecodeArgs {
    /// The registry's base URL.
    #[arg(long, value_name = "URL")]
    pub registry: String,

    /// Print `{"schemaId": N, "messageIndexes": [..], "value": ..}` instead of the value alone.
    #[arg(long)]
    pub show_id: bool,

    /// JSON Schema: print the value without checking it against the schema.
    #[arg(long)]
    pub no_validate: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `schemata check`. Exit codes: 0 compatible, 1 incompatible, 2 error.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Exit codes: 0 compatible, 1 incompatible, 2 error (registry unreachable, invalid schema,
unsupported type, bad arguments).

Unknown subject: a subject with no live versions (never registered, or all deleted) has
nothing to be incompatible with, so the check passes (exit 0) and says so, as a registration
would succeed. With --require-subject it is an error (exit 2) instead, to catch a misspelt
subject.

References: offline, named types are resolved from the other .avsc files of the same
directory (or directory tree). Online, the file is sent as is; name what it references with
--reference NAME=SUBJECT:VERSION, as a registration would.

AVRO (.avsc), JSON Schema (.json) and PROTOBUF (.proto) files can be checked.

Examples:
  schemata check --registry http://localhost:8081 --subject users-value schemas/avro/user.avsc
  schemata check --against old/user.avsc new/user.avsc --level FULL
  schemata check --against git:origin/main schemas/avro")]
pub struct CheckArgs {
    /// The new schema: a file, or (offline) a directory of schema files.
    pub file: Option<PathBuf>,

    /// Ask this registry (base URL) about --subject.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// The subject to check against (with --registry).
    #[arg(long)]
    pub subject: Option<String>,

    /// Offline: the old file or directory (paired with FILE by relative path), or git:REF
    /// for the same paths at a git ref of the current repository.
    #[arg(long, value_name = "OLD")]
    pub against: Option<String>,

    /// Compatibility level to judge at. Online, the default is the subject's configured
    /// level (asked of the registry); offline, BACKWARD.
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,

    /// Schema type (AVRO, PROTOBUF, JSON) when the extension does not tell.
    #[arg(long = "type", value_name = "TYPE")]
    pub schema_type: Option<String>,

    /// Online: a reference the schema uses, NAME=SUBJECT:VERSION (repeatable).
    #[arg(long = "reference", value_name = "NAME=SUBJECT:VERSION")]
    pub references: Vec<String>,

    /// Online: fail (exit 2) when the subject has no versions instead of passing.
    #[arg(long)]
    pub require_subject: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `schemata export`. Exit codes: 0 done, 1 failed.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The registry to read (base URL).
    #[arg(long, value_name = "URL")]
    pub registry: String,

    /// The file to write (JSON lines: `{"key": ..., "value": ...}` as in the `_schemas` topic).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `schemata import`. Exit codes: 0 done (or nothing to do), 1 failed or refused.
#[derive(Debug, Clone, Args)]
#[command(after_help = "The file is compared with the target first: if any version or id is there with another
schema, the import stops with a report and writes nothing. What is there with the same schema
is skipped, so an interrupted import can be run again. The target's global mode is set to
IMPORT for the import and put back afterwards; subject modes and configs come from the file.")]
pub struct ImportArgs {
    /// The registry to write to (base URL).
    #[arg(long, value_name = "URL")]
    pub registry: String,

    /// The export file to read.
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `schemata migrate`. Exit codes: 0 done and verified, 1 failed.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The registry to read (base URL; credentials may go in it as user:password@).
    #[arg(long, value_name = "URL")]
    pub from: String,

    /// The registry to write to (base URL).
    #[arg(long, value_name = "URL")]
    pub to: String,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// How `check`, `encode` and `decode` reach a registry that wants credentials or TLS settings
/// of its own. Flags and variables take the names of confluent-kafka's schema registry client
/// properties (`basic.auth.user.info`, `ssl.ca.location`, ...), so settings carry over.
/// Secrets are better passed in the environment than as flags, which other users can see.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// HTTP Basic credentials, USER:PASSWORD (`basic.auth.user.info`). A `user:password@` in
    /// the registry URL works too.
    #[arg(long, env = "SCHEMATA_BASIC_AUTH_USER_INFO", value_name = "USER:PASSWORD", hide_env_values = true)]
    pub basic_auth_user_info: Option<String>,

    /// A bearer token, e.g. an OIDC access token (`bearer.auth.token`).
    #[arg(
        long,
        env = "SCHEMATA_BEARER_AUTH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        conflicts_with = "basic_auth_user_info"
    )]
    pub bearer_auth_token: Option<String>,

    /// PEM file of CAs to trust for the registry's certificate, besides the public roots
    /// (`ssl.ca.location`).
    #[arg(long, env = "SCHEMATA_SSL_CA_LOCATION", value_name = "FILE")]
    pub ssl_ca_location: Option<PathBuf>,

    /// PEM client certificate for a registry that requires one (`ssl.certificate.location`).
    #[arg(long, env = "SCHEMATA_SSL_CERTIFICATE_LOCATION", value_name = "FILE", requires = "ssl_key_location")]
    pub ssl_certificate_location: Option<PathBuf>,

    /// The PEM private key of the client certificate (`ssl.key.location`).
    #[arg(long, env = "SCHEMATA_SSL_KEY_LOCATION", value_name = "FILE", requires = "ssl_certificate_location")]
    pub ssl_key_location: Option<PathBuf>,

    /// Seconds to wait for the registry per request.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
}

impl ConnectionArgs {
    /// A blocking client of the registry at `url` with these settings.
    pub fn connect(&self, url: &str) -> Result<RegistryClient, String> {
        RegistryClient::new(&self.settings(url)?).map_err(|e| e.to_string())
    }

    /// The client settings for the registry at `url`: for the async client too (the
    /// `produce` and `consume` examples).
    pub fn settings(&self, url: &str) -> Result<ClientSettings, String> {
        let mut settings = ClientSettings::new(url);
        settings.timeout = Duration::from_secs(self.timeout_secs);
        settings.ca_location = self.ssl_ca_location.clone();
        settings.certificate_location = self.ssl_certificate_location.clone();
        settings.key_location = self.ssl_key_location.clone();
        let credentials = match (&self.basic_auth_user_info, &self.bearer_auth_token) {
            (Some(info), _) => Some(Credentials::from_user_info(info)),
            (None, Some(token)) => Some(Ok(Credentials::Bearer(token.clone()))),
            (None, None) => None,
        };
        if let Some(c) = credentials {
            settings.set_credentials(c.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        }
        Ok(settings)
    }
}

/// `schemata health`.
#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    /// The server to ask; defaults to the address it listens on.
    #[arg(long, env = "SCHEMATA_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: String,

    /// The server's certificate (its --tls-cert): ask over https, accepting only a server
    /// that presents this very certificate (the name in it need not be the address asked).
    #[arg(long, env = "SCHEMATA_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// A client certificate (PEM) to present to a server that requires one (--tls-client-ca).
    #[arg(long, env = "SCHEMATA_HEALTH_CLIENT_CERT", value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,

    /// The PEM private key of --client-cert.
    #[arg(long, env = "SCHEMATA_HEALTH_CLIENT_KEY", value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "SCHEMATA_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: String,

    /// Directory holding the registry's data; created if missing.
    #[arg(long, env = "SCHEMATA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Compatibility level used where no global or subject config sets one
    /// (NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE).
    #[arg(long, env = "SCHEMATA_COMPATIBILITY", default_value = "BACKWARD", value_parser = parse_level)]
    pub compatibility: Level,

    /// Largest accepted request body in bytes; a larger schema is refused with 42209.
    #[arg(long, env = "SCHEMATA_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Number of HTTP worker threads (default: one per core).
    #[arg(long, env = "SCHEMATA_WORKERS")]
    pub workers: Option<usize>,

    /// Seconds a client has to send a request's headers before it gets 408 and is closed.
    #[arg(long, env = "SCHEMATA_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub request_timeout_secs: u64,

    /// Seconds an idle keep-alive connection is kept open (0 disables keep-alive).
    #[arg(long, env = "SCHEMATA_KEEP_ALIVE_SECS", default_value_t = 30)]
    pub keep_alive_secs: u64,

    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT before workers stop.
    #[arg(long, env = "SCHEMATA_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,

    /// Log line format: `text` (human) or `json` (one JSON object per line).
    #[arg(long, env = "SCHEMATA_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Keep the registry's state in a Kafka topic on these brokers (HOST:PORT,...) instead of
    /// only in the data directory, which then caches the topic. Unset: embedded sled store.
    #[arg(long, env = "SCHEMATA_KAFKA_BOOTSTRAP", value_name = "HOST:PORT[,HOST:PORT...]")]
    pub kafka_bootstrap: Option<String>,

    /// The topic holding the state, in Confluent's `_schemas` record format.
    #[arg(long, env = "SCHEMATA_KAFKA_TOPIC", default_value = "_schemas")]
    pub kafka_topic: String,

    /// The consumer group the registry's nodes meet in (Confluent's `schema.registry.group.id`).
    #[arg(long, env = "SCHEMATA_KAFKA_GROUP_ID", default_value = "schema-registry")]
    pub kafka_group_id: String,

    /// Replication factor of the topic when Schemata creates it (1 for a one-broker cluster).
    #[arg(long, env = "SCHEMATA_KAFKA_REPLICATION_FACTOR", default_value_t = 3)]
    pub kafka_replication_factor: i32,

    /// A librdkafka setting for every Kafka client, KEY=VALUE (repeatable), e.g.
    /// security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, ssl.ca.location=FILE.
    #[arg(long = "kafka-config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub kafka_config: Vec<(String, String)>,

    /// Milliseconds a write may take to be acknowledged by the brokers and read back
    /// (then it fails with 50002).
    #[arg(long, env = "SCHEMATA_KAFKA_TIMEOUT_MS", default_value_t = 10_000)]
    pub kafka_timeout_ms: u64,

    /// Milliseconds after which the group drops a silent node (and a leader stops writing):
    /// how long a failover takes at most. Confluent's default.
    #[arg(long, env = "SCHEMATA_KAFKA_SESSION_TIMEOUT_MS", default_value_t = 10_000)]
    pub kafka_session_timeout_ms: u64,

    /// The URL the other nodes forward writes to (scheme://host:port). Default: http:// and
    /// --listen, with a wildcard address replaced by this machine's host name.
    #[arg(long, env = "SCHEMATA_ADVERTISED_URL", value_name = "URL")]
    pub advertised_url: Option<String>,

    /// Whether this node may be elected leader (`false`: it only serves reads and forwards).
    #[arg(long, env = "SCHEMATA_LEADER_ELIGIBLE", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_eligible: bool,

    /// Serve HTTPS on --listen with this PEM certificate chain (the server's first); needs
    /// --tls-key. Reloaded within a second when the file changes.
    #[arg(long, env = "SCHEMATA_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1). Reloaded with it.
    #[arg(long, env = "SCHEMATA_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require a client certificate issued by a CA of this PEM file (mutual TLS); its subject
    /// CN is the request's principal. Reloaded when the file changes.
    #[arg(long, env = "SCHEMATA_TLS_CLIENT_CA", value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// Also trust the CAs of this PEM file (besides the public roots) for the leader's
    /// certificate when forwarding writes to an https:// advertised URL. Read at start.
    #[arg(long, env = "SCHEMATA_TLS_PEER_CA", value_name = "FILE")]
    pub tls_peer_ca: Option<PathBuf>,

    /// Users and permissions (Karapace's `registry_authfile` format): every route then needs
    /// credentials and a permission. Re-read when it changes. Unset: no authentication.
    #[arg(long, env = "SCHEMATA_AUTH_FILE", value_name = "FILE")]
    pub auth_file: Option<PathBuf>,

    /// Also accept bearer tokens (OIDC JWTs) signed by a key of this JWKS (a file, or an
    /// http(s) URL); needs --auth-file (permissions) and the issuer and audience below.
    #[arg(long, env = "SCHEMATA_AUTH_JWKS", value_name = "FILE|URL", requires_all = ["auth_file", "auth_jwt_issuer", "auth_jwt_audience"])]
    pub auth_jwks: Option<String>,

    /// The one accepted `iss` of bearer tokens.
    #[arg(long, env = "SCHEMATA_AUTH_JWT_ISSUER", value_name = "ISSUER")]
    pub auth_jwt_issuer: Option<String>,

    /// The `aud` bearer tokens must be meant for.
    #[arg(long, env = "SCHEMATA_AUTH_JWT_AUDIENCE", value_name = "AUDIENCE")]
    pub auth_jwt_audience: Option<String>,

    /// The token claim naming the user (the name permissions are looked up under).
    #[arg(long, env = "SCHEMATA_AUTH_JWT_USERNAME_CLAIM", default_value = "sub")]
    pub auth_jwt_username_claim: String,

    /// A token claim listing roles (e.g. `roles`, or `realm_access.roles`): each role is a
    /// further name permissions are looked up under.
    #[arg(long, env = "SCHEMATA_AUTH_JWT_ROLES_CLAIM")]
    pub auth_jwt_roles_claim: Option<String>,

    /// Requests per second each caller may make on average (the authenticated principal,
    /// else the client's IP address); over it, 429 with `Retry-After`. Health probes are not
    /// counted. Unset: no limit.
    #[arg(long, env = "SCHEMATA_RATE_LIMIT", value_name = "PER_SECOND", value_parser = parse_rate)]
    pub rate_limit: Option<f64>,

    /// Requests a caller may make at once before the rate applies (default: one second's worth).
    #[arg(long, env = "SCHEMATA_RATE_LIMIT_BURST", value_name = "N", requires = "rate_limit")]
    pub rate_limit_burst: Option<u32>,

    /// Put `/metrics` behind authentication too (health probes stay open).
    #[arg(long, env = "SCHEMATA_METRICS_AUTH", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub metrics_auth: bool,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs::parse_from::<_, &str>([])
    }
}

impl ServeArgs {
    fn parse_from<I, T>(args: I) -> ServeArgs
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ServeArgs,
        }
        Wrapper::parse_from(std::iter::once("schemata".into()).chain(args.into_iter().map(Into::into))).args
    }
}

/// A `KEY=VALUE` flag (`--kafka-config`).
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{s}'")),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("expected a positive number of requests per second, not {s:?}")),
    }
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("unknown compatibility level '{s}'"))
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(s).ok_or_else(|| format!("unknown algorithm '{s}' (scrypt, sha1, sha256 or sha512)"))
}

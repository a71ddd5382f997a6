//! Command line and environment settings. Every setting has a default that works with no
//! configuration at all: listen on 127.0.0.1:8081, keep data in ./data.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::registry::model::Level;

#[derive(Debug, Parser)]
#[command(name = "schemata", version, about = "A Confluent-compatible schema registry")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the registry's REST API (the default command).
    Serve(ServeArgs),
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

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("unknown compatibility level '{s}'"))
}

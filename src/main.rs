//! The `schemata` binary: `schemata serve` (the default) runs the registry; `check`, `health`,
//! `encode` and `decode` are client tools; `passwd` makes auth file entries.

use std::io::IsTerminal;

use clap::Parser;
use schemata::config::{Cli, Command, ServeArgs};

fn main() {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => *args,
        Some(Command::Check(args)) => std::process::exit(schemata::check::run(&args)),
        Some(Command::Health(args)) => std::process::exit(schemata::server::health(&args)),
        Some(Command::Encode(args)) => std::process::exit(schemata::codec_cli::encode(&args)),
        Some(Command::Decode(args)) => std::process::exit(schemata::codec_cli::decode(&args)),
        Some(Command::Export(args)) => std::process::exit(schemata::transfer::run_export(&args)),
        Some(Command::Import(args)) => std::process::exit(schemata::transfer::run_import(&args)),
        Some(Command::Migrate(args)) => std::process::exit(schemata::transfer::run_migrate(&args)),
        Some(Command::Passwd(args)) => std::process::exit(schemata::auth::passwd::run(&args)),
        None => ServeArgs::default(),
    };
    // rustls warns on every handshake from a client that sends an IP address as SNI (curl
    // and wrk asking https://127.0.0.1 do): noise, not a problem of the server.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,actix_server=warn,rustls::msgs::handshake=error".into());
    // Logs go to stderr, without colour codes in files and pipes (container logs, journald),
    // written by a thread of their own: a request handler only formats its line and queues
    // it, and lines queued together go out in one write. Not lossy: when the queue is full,
    // handlers wait rather than drop audit lines.
    let (writer, flushed_at_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("schemata-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    if args.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
    let result = actix_web::rt::System::new().block_on(schemata::server::serve(args));
    drop(flushed_at_exit);
    if let Err(e) = result {
        eprintln!("schemata: {e}");
        std::process::exit(1);
    }
}

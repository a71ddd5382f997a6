//! The `schemata` binary: `schemata serve` (the default) runs the registry.

use clap::Parser;
use schemata::config::{Cli, Command, ServeArgs};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        Some(Command::Check(args)) => std::process::exit(schemata::check::run(&args)),
        Some(Command::Health(args)) => std::process::exit(schemata::server::health(&args.listen)),
        None => ServeArgs::default(),
    };
    let result = actix_web::rt::System::new().block_on(schemata::server::serve(args));
    if let Err(e) = result {
        eprintln!("schemata: {e}");
        std::process::exit(1);
    }
}

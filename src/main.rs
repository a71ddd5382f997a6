//! The `schemata` binary: `schemata serve` (the default) runs the registry; `check`, `health`,
//! `encode` and `decode` are client tools; `passwd` makes auth file entries.

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
    let flushed_at_exit = schemata::logging::init(&args.log_format);
    let result = actix_web::rt::System::new().block_on(schemata::server::serve(args));
    drop(flushed_at_exit);
    if let Err(e) = result {
        eprintln!("schemata: {e}");
        std::process::exit(1);
    }
}

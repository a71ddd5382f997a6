//! Starting the HTTP server: open the store, build the registry, bind, serve until a signal.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, NormalizePath};
use actix_web::{web, App, HttpServer};

use crate::api;
use crate::config::ServeArgs;
use crate::registry::{Registry, Settings};
use crate::store::Store;

/// Opens the data directory and serves until SIGINT/SIGTERM. Errors are fit to print.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let store = Store::open(&args.data_dir).map_err(|e| e.to_string())?;
    let settings = Settings { default_level: args.compatibility, max_schema_bytes: args.max_body_bytes };
    let registry = Arc::new(Registry::new(store, settings));
    let data = web::Data::new(registry);
    let max_body = args.max_body_bytes;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(max_body))
            // Jersey ignores a trailing slash and empty segments; so do we.
            .wrap(NormalizePath::trim())
            .wrap(ErrorHandlers::new().handler(StatusCode::PAYLOAD_TOO_LARGE, api::too_large))
            .configure(api::routes)
    });
    if let Some(w) = args.workers {
        server = server.workers(w);
    }
    let server = server.bind(&args.listen).map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    tracing::info!(listen = %args.listen, data_dir = %args.data_dir.display(), "schemata serving");
    server.run().await.map_err(|e| e.to_string())
}

/// `schemata health`: 0 when `GET /health/ready` on `listen` answers 200, else 1. A
/// wildcard listen address is asked on loopback.
pub fn health(listen: &str) -> i32 {
    let addr = listen.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(5))).build().into();
    match agent.get(&format!("http://{addr}/health/ready")).call() {
        Ok(r) if r.status().as_u16() == 200 => 0,
        Ok(r) => {
            eprintln!("not ready: HTTP {}", r.status());
            1
        }
        Err(e) => {
            eprintln!("not ready: {e}");
            1
        }
    }
}

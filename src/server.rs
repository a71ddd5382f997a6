//! Starting the HTTP server: open the store, build the registry, bind, serve until a signal.

use std::sync::Arc;

use actix_web::dev::Service;
use actix_web::http::{StatusCode, Uri};
use actix_web::middleware::ErrorHandlers;
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
            .wrap_fn(|mut req, srv| {
                if let Some(uri) = normalized(req.uri()) {
                    req.match_info_mut().get_mut().update(&uri);
                    req.head_mut().uri = uri;
                }
                srv.call(req)
            })
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

/// The URI with empty path segments and a trailing slash removed, or `None` when it has
/// neither. Done by hand: actix's `NormalizePath` runs a regex on every request, which cost
/// several percent of a get-by-id.
fn normalized(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    let trailing = path.len() > 1 && path.ends_with('/');
    if !trailing && !path.contains("//") {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    if let Some(query) = uri.query() {
        out.push('?');
        out.push_str(query);
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(out.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Option<String> {
        normalized(&s.parse().unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn only_paths_needing_it_are_rewritten() {
        assert_eq!(norm("/schemas/ids/1"), None);
        assert_eq!(norm("/"), None);
        assert_eq!(norm("/subjects/"), Some("/subjects".into()));
        assert_eq!(norm("//subjects//a/versions/?deleted=true"), Some("/subjects/a/versions?deleted=true".into()));
        assert_eq!(norm("//"), Some("/".into()));
        assert_eq!(norm("/subjects/a%2F/versions"), None);
    }
}

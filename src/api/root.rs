//! The root resource and server metadata.

use actix_web::{web, HttpRequest};
use serde_json::json;

use super::{body, reply, resource, ApiResult};

async fn root(req: HttpRequest) -> ApiResult {
    reply(&req, &json!({}))
}

/// Confluent accepts any JSON map here and answers `{}`.
async fn root_post(req: HttpRequest, payload: web::Bytes) -> ApiResult {
    if !payload.is_empty() {
        body::string_map(&body::json(&req, &payload, "post.arg0")?)?;
    }
    reply(&req, &json!({}))
}

async fn metadata_id(req: HttpRequest) -> ApiResult {
    reply(&req, &json!({ "scope": { "path": [], "clusters": { "schema-registry-cluster": "schemata" } } }))
}

async fn metadata_version(req: HttpRequest) -> ApiResult {
    reply(
        &req,
        &json!({ "version": env!("CARGO_PKG_VERSION"), "commitId": option_env!("SCHEMATA_COMMIT").unwrap_or("unknown") }),
    )
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").route(web::get().to(root)).route(web::post().to(root_post)))
        .service(resource("/v1/metadata/id").route(web::get().to(metadata_id)))
        .service(resource("/v1/metadata/version").route(web::get().to(metadata_version)));
}

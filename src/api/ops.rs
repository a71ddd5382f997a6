//! Operations endpoints, outside Confluent's API: Prometheus metrics, liveness and
//! readiness probes, and the OpenAPI description of the API itself.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{resource, Reg};
use crate::metrics::METRICS;

/// The API description, embedded so the binary serves the spec it was built with.
const OPENAPI: &str = include_str!("../../openapi.yaml");

async fn metrics(reg: Reg) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(METRICS.render(&reg))
}

/// The process is up and serving HTTP.
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "UP" }))
}

/// Ready to serve: the index is loaded (it is before the socket is bound), the database
/// answers reads and, on a Kafka-backed node, the state has caught up with the topic.
async fn ready(reg: Reg) -> HttpResponse {
    match reg.ready() {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "UP" })),
        Err(reason) => HttpResponse::ServiceUnavailable().json(json!({ "status": "DOWN", "reason": reason })),
    }
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/yaml").body(OPENAPI)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/metrics").route(web::get().to(metrics)))
        .service(resource("/health/live").route(web::get().to(live)))
        .service(resource("/health/ready").route(web::get().to(ready)))
        .service(resource("/openapi.yaml").route(web::get().to(openapi)));
}

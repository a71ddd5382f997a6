//! Operations endpoints, outside Confluent's API: Prometheus metrics, liveness and
//! readiness probes, and the OpenAPI description of the API itself.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{resource, Reg};
use crate::metrics::{role_name, METRICS};
use crate::registry::cluster::NodeRole;

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
/// answers reads and, on a Kafka-backed node, the state has caught up with the topic. Also
/// says the node's role and the leader writes go to (a node with no leader known still
/// serves reads, so it is ready; its writes wait for one).
async fn ready(reg: Reg) -> HttpResponse {
    let role = reg.role();
    let leader = match &role {
        NodeRole::Leader => reg.advertised_url(),
        NodeRole::Follower(url) => Some(url.clone()),
        NodeRole::Unknown(_) => None,
    };
    let mut body = json!({ "status": "UP", "role": role_name(&role), "leader": leader });
    if let NodeRole::Unknown(why) = &role {
        body["leaderReason"] = json!(why);
    }
    match reg.ready() {
        Ok(()) => HttpResponse::Ok().json(body),
        Err(reason) => {
            body["status"] = json!("DOWN");
            body["reason"] = json!(reason);
            HttpResponse::ServiceUnavailable().json(body)
        }
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

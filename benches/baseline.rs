//! The ceiling of our stack: a minimal actix-web server answering `GET /schemas/ids/{id}`
//! from a pre-built in-memory map of pre-rendered bodies, with nothing else in the way. The
//! load bench (`benches/load.sh`) runs it beside schemata and reports ratios against it.
//!
//! Usage: `baseline --listen 127.0.0.1:PORT --count N` (serves ids 1..=N until killed).

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;

use actix_web::{web, App, HttpResponse, HttpServer};

async fn by_id(map: web::Data<HashMap<u32, String>>, id: web::Path<u32>) -> HttpResponse {
    match map.get(&id.into_inner()) {
        Some(body) => HttpResponse::Ok().content_type("application/vnd.schemaregistry.v1+json").body(body.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let listen = support::arg("--listen").unwrap_or_else(|| "127.0.0.1:8090".into());
    let count: u32 = support::arg("--count").and_then(|c| c.parse().ok()).unwrap_or(10_000);
    let map: HashMap<u32, String> = (1..=count)
        .map(|id| (id, serde_json::json!({ "schema": support::bench_schema(id as usize) }).to_string()))
        .collect();
    let data = web::Data::new(map);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || App::new().app_data(data.clone()).route("/schemas/ids/{id}", web::get().to(by_id)))
            .bind(&listen)?
            .run()
            .await
    })
}

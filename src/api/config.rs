//! /config and /mode, global and per subject.

use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

use super::subjects::{blocking, subject};
use super::{body, contexts, negotiate, reply, resource, ApiResult, Params, Reg};
use crate::registry::error::RegistryError;
use crate::types::Config;

/// The subject a setting request is about: the path's, else (unscoped) the URL's context
/// or the global setting.
fn scope(req: &HttpRequest, scoped: bool) -> Result<Option<String>, RegistryError> {
    if scoped {
        subject(req).map(Some)
    } else {
        contexts::setting_scope(req)
    }
}

/// GET answers name the level `compatibilityLevel`.
fn render(config: &Config) -> Value {
    serde_json::to_value(config).unwrap_or_else(|_| json!({}))
}

async fn get_config(req: HttpRequest, reg: Reg, scoped: bool) -> ApiResult {
    let s = scope(&req, scoped)?;
    let config = reg.get_config(s.as_deref(), Params::from(&req).flag("defaultToGlobal"))?;
    reply(&req, &render(&config))
}

async fn put_config(req: HttpRequest, reg: Reg, payload: web::Bytes, scoped: bool) -> ApiResult {
    let op = if scoped { "updateSubjectLevelConfig.arg2" } else { "updateTopLevelConfig.arg1" };
    let (update, echo) = body::config_update(&body::json(&req, &payload, op)?)?;
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let s = scope(&req, scoped)?;
    let registry = reg.get_ref().clone();
    blocking(move || registry.put_config(s.as_deref(), &update)).await?;
    reply(&req, &echo)
}

async fn delete_config(req: HttpRequest, reg: Reg, scoped: bool) -> ApiResult {
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let s = scope(&req, scoped)?;
    let registry = reg.get_ref().clone();
    let previous = blocking(move || registry.delete_config(s.as_deref())).await?;
    reply(&req, &render(&previous))
}

async fn get_mode(req: HttpRequest, reg: Reg, scoped: bool) -> ApiResult {
    let s = scope(&req, scoped)?;
    let mode = reg.get_mode(s.as_deref(), Params::from(&req).flag("defaultToGlobal"))?;
    reply(&req, &json!({ "mode": mode.as_str() }))
}

async fn put_mode(req: HttpRequest, reg: Reg, payload: web::Bytes, scoped: bool) -> ApiResult {
    let op = if scoped { "updateMode.arg1" } else { "updateTopLevelMode.arg1" };
    let (mode, raw) = body::mode_update(&body::json(&req, &payload, op)?)?;
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let force = Params::from(&req).flag("force");
    let s = scope(&req, scoped)?;
    let registry = reg.get_ref().clone();
    blocking(move || registry.put_mode(s.as_deref(), mode, force)).await?;
    reply(&req, &json!({ "mode": raw }))
}

async fn delete_mode(req: HttpRequest, reg: Reg) -> ApiResult {
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let s = subject(&req)?;
    let registry = reg.get_ref().clone();
    let previous = blocking(move || registry.delete_mode(Some(&s))).await?;
    reply(&req, &json!({ "mode": previous.as_str() }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/config")
            .route(web::get().to(|r, g| get_config(r, g, false)))
            .route(web::put().to(|r, g, b| put_config(r, g, b, false)))
            .route(web::delete().to(|r, g| delete_config(r, g, false))),
    )
    .service(
        resource("/config/{subject}")
            .route(web::get().to(|r, g| get_config(r, g, true)))
            .route(web::put().to(|r, g, b| put_config(r, g, b, true)))
            .route(web::delete().to(|r, g| delete_config(r, g, true))),
    )
    .service(
        resource("/mode")
            .route(web::get().to(|r, g| get_mode(r, g, false)))
            .route(web::put().to(|r, g, b| put_mode(r, g, b, false))),
    )
    .service(
        resource("/mode/{subject}")
            .route(web::get().to(|r, g| get_mode(r, g, true)))
            .route(web::put().to(|r, g, b| put_mode(r, g, b, true)))
            .route(web::delete().to(delete_mode)),
    );
}

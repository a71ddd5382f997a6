//! /compatibility: would this schema be accepted, and if not, why. `level` (a Schemata
//! extension) judges at a level other than the subject's.

use actix_web::{web, HttpRequest};
use serde_json::json;

use super::subjects::data_subject;
use super::{body, reply, resource, work, ApiResult, Params, Reg};
use crate::registry::error::RegistryError;
use crate::registry::parse_version;
use crate::types::Level;

async fn check(req: HttpRequest, reg: Reg, payload: web::Bytes, with_version: bool) -> ApiResult {
    let version = if with_version {
        let raw = req.match_info().get("version").unwrap_or("");
        Some(parse_version(&percent_encoding::percent_decode_str(raw).decode_utf8_lossy())?)
    } else {
        None
    };
    let op = if with_version { "testCompatibilityBySubjectName.arg4" } else { "testCompatibilityForSubject.arg3" };
    let input = body::schema_input(&body::json(&req, &payload, op)?)?;
    let p = Params::from(&req);
    let verbose = p.flag("verbose");
    // Schemata's extension: judge at another level than the subject's (absent or empty: its own).
    let level = match p.get("level").filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(Level::parse(l).ok_or(RegistryError::InvalidCompatibilityLevel)?),
    };
    let (s, normalize) = (data_subject(&req, &reg)?, p.flag("normalize"));
    let registry = reg.get_ref().clone();
    let verdict =
        work(&req).run(move || registry.test_compatibility(&s, version, &input, normalize, verbose, level)).await?;
    crate::metrics::METRICS.compatibility_check(verdict.is_compatible);
    if verbose {
        reply(&req, &json!({ "is_compatible": verdict.is_compatible, "messages": verdict.messages }))
    } else {
        reply(&req, &json!({ "is_compatible": verdict.is_compatible }))
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/compatibility/subjects/{subject}/versions").route(web::post().to(|r, g, b| check(r, g, b, false))),
    )
    .service(
        resource("/compatibility/subjects/{subject}/versions/{version}")
            .route(web::post().to(|r, g, b| check(r, g, b, true))),
    );
}

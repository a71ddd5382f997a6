//! /schemas: by global id or GUID, and the global listing.

use actix_web::{web, HttpRequest};
use serde_json::json;

use super::guard::Caller;
use super::{contexts, render, reply, reply_raw, resource, ApiResult, Params, Reg};
use crate::registry::error::RegistryError;
use crate::registry::schemas::SchemaFilter;

/// The `{id}` segment: a Java int, else the path does not exist (404).
fn id(req: &HttpRequest) -> Result<i64, RegistryError> {
    req.match_info().get("id").and_then(|s| s.parse::<i32>().ok()).map(i64::from).ok_or(RegistryError::NotFound)
}

async fn by_id(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let stored = reg.schema_by_id(id(&req)?, contexts::subject_param(&req, &p)?.as_deref())?;
    let max_id = p.flag("fetchMaxId").then(|| reg.max_id());
    let text = reg.formatted_text(&stored, p.get("format"));
    reply(&req, &render::schema_string(&stored, max_id).with_text(text))
}

async fn by_id_schema(req: HttpRequest, reg: Reg) -> ApiResult {
    let stored = reg.schema_by_id(id(&req)?, contexts::subject_param(&req, &Params::from(&req))?.as_deref())?;
    let text = reg.formatted_text(&stored, Params::from(&req).get("format"));
    reply_raw(&req, text.unwrap_or_else(|| render::raw_schema(&stored)))
}

async fn by_guid(req: HttpRequest, reg: Reg) -> ApiResult {
    let stored = reg.schema_by_guid(req.match_info().get("guid").unwrap_or_default())?;
    let text = reg.formatted_text(&stored, Params::from(&req).get("format"));
    reply(&req, &render::schema_string(&stored, None).with_text(text))
}

async fn guid_ids(req: HttpRequest, reg: Reg) -> ApiResult {
    let caller = Caller::of(&req);
    let readable = |id: u32| {
        !caller.restricted()
            || reg
                .id_subjects(i64::from(id), None, true)
                .is_ok_and(|subjects| subjects.iter().any(|s| caller.may_read(s)))
    };
    let ids: Vec<_> = reg
        .guid_ids(req.match_info().get("guid").unwrap_or_default())?
        .into_iter()
        .filter(|(_, id)| readable(*id))
        .map(|(context, id)| json!({ "context": context, "id": id }))
        .collect();
    reply(&req, &ids)
}

async fn id_subjects(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let caller = Caller::of(&req);
    let mut subjects = reg.id_subjects(id(&req)?, contexts::subject_param(&req, &p)?.as_deref(), p.flag("deleted"))?;
    subjects.retain(|s| caller.may_read(s));
    reply(&req, &p.page(subjects, usize::MAX)?)
}

async fn id_versions(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let caller = Caller::of(&req);
    let versions: Vec<_> = reg
        .id_versions(id(&req)?, contexts::subject_param(&req, &p)?.as_deref(), p.flag("deleted"))?
        .into_iter()
        .filter(|(subject, _)| caller.may_read(subject))
        .map(|(subject, version)| json!({ "subject": subject, "version": version }))
        .collect();
    reply(&req, &p.page(versions, usize::MAX)?)
}

async fn list(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let caller = Caller::of(&req);
    let filter = SchemaFilter {
        subject_prefix: contexts::prefix_param(&req, &p)?,
        deleted: p.flag("deleted"),
        latest_only: p.flag("latestOnly"),
        rule_type: p.get("ruleType").filter(|t| !t.is_empty()).map(str::to_string),
    };
    let aliases = if p.flag("aliases") { reg.aliases() } else { Default::default() };
    // Paged as it is built: a page of 100 out of 100k builds and renders 100 entities.
    let versions = reg.list_schemas(&filter, p.range(1000)?, &|s| caller.may_read(s))?;
    let schemas: Vec<_> = versions
        .iter()
        .map(|sv| render::subject_version(sv).with_aliases(aliases.get(&sv.subject).map(Vec::as_slice)))
        .collect();
    reply(&req, &schemas)
}

async fn types(req: HttpRequest) -> ApiResult {
    let names: Vec<&str> = crate::types::SUPPORTED_TYPES.iter().map(|t| t.as_str()).collect();
    reply(&req, &names)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/schemas").route(web::get().to(list)))
        .service(resource("/schemas/types").route(web::get().to(types)))
        .service(resource("/schemas/ids/{id}").route(web::get().to(by_id)))
        .service(resource("/schemas/ids/{id}/schema").route(web::get().to(by_id_schema)))
        .service(resource("/schemas/ids/{id}/subjects").route(web::get().to(id_subjects)))
        .service(resource("/schemas/ids/{id}/versions").route(web::get().to(id_versions)))
        .service(resource("/schemas/guids/{guid}").route(web::get().to(by_guid)))
        .service(resource("/schemas/guids/{guid}/ids").route(web::get().to(guid_ids)));
}

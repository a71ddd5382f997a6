//! /subjects: register, lookup, versions, deletes, referencedby.

use actix_web::{web, HttpRequest};
use serde_json::json;

use super::guard::Caller;
use super::{body, contexts, negotiate, render, reply, reply_raw, resource, work, ApiResult, Params, Reg};
use crate::registry::error::RegistryError;
use crate::registry::parse_version;
use crate::registry::subjects::{Registration, Visibility};

/// The `{subject}` path segment, percent-decoded (a subject may hold `/` as `%2F`), in the
/// context of a `/contexts/{context}/...` URL.
pub fn subject(req: &HttpRequest) -> Result<String, RegistryError> {
    let raw = req.match_info().get("subject").unwrap_or("");
    contexts::in_context(req, &percent_encoding::percent_decode_str(raw).decode_utf8_lossy())
}

/// The subject a data request is served from, after the subject's alias (config `alias`).
pub fn data_subject(req: &HttpRequest, reg: &Reg) -> Result<String, RegistryError> {
    Ok(reg.dealias(&subject(req)?))
}

fn version(req: &HttpRequest) -> Result<Option<u32>, RegistryError> {
    let raw = req.match_info().get("version").unwrap_or("");
    parse_version(&percent_encoding::percent_decode_str(raw).decode_utf8_lossy())
}

fn visibility(p: &Params) -> Visibility {
    Visibility { deleted: p.flag("deleted"), deleted_only: p.flag("deletedOnly") }
}

/// Runs a write off the async workers: it waits for the disk flush.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, RegistryError> {
    web::block(f).await.map_err(|_| RegistryError::Internal)?
}

async fn list_subjects(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let caller = Caller::of(&req);
    let prefix = contexts::prefix_param(&req, &p)?;
    let subjects = reg.list_subjects(prefix.as_deref(), visibility(&p), p.range(usize::MAX)?, &|s| caller.may_read(s));
    reply(&req, &subjects)
}

/// The versions of a subject; with `deletedAsNegative` (Confluent 8.0.4+) soft-deleted ones
/// are included, as negative numbers.
async fn list_versions(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let as_negative = p.flag("deletedAsNegative");
    let mut visible = visibility(&p);
    visible.deleted |= as_negative;
    let versions: Vec<i64> = reg
        .list_versions(&data_subject(&req, &reg)?, visible)?
        .into_iter()
        .map(|(v, deleted)| if deleted && as_negative { -i64::from(v) } else { i64::from(v) })
        .collect();
    reply(&req, &p.page(versions, usize::MAX)?)
}

async fn register(req: HttpRequest, reg: Reg, payload: web::Bytes) -> ApiResult {
    let input = body::schema_input(&body::json(&req, &payload, "register.arg5")?)?;
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let p = Params::from(&req);
    let normalize = p.flag("normalize");
    let s = data_subject(&req, &reg)?;
    // Planned (parsed, checked) on the work pool; a re-registration writes nothing and is
    // answered from there. A real write then waits for its commit on a blocking thread.
    let registry = reg.get_ref().clone();
    let planned = work(&req).run(move || Ok((registry.register_planned(&s, &input, normalize), s, input)));
    let out = match planned.await? {
        (Registration::Answered(out), ..) => out?,
        (Registration::Write(pending), s, input) => {
            let registry = reg.get_ref().clone();
            blocking(move || registry.register_writing(&s, &input, normalize, pending)).await?
        }
    };
    crate::metrics::METRICS.registrations.inc();
    match out.full {
        Some(sv) => {
            let text = reg.formatted_text(&sv.schema, p.get("format"));
            reply(&req, &render::registered(&sv).with_text(text))
        }
        None => reply(&req, &json!({ "id": out.id, "guid": out.guid })),
    }
}

async fn lookup(req: HttpRequest, reg: Reg, payload: web::Bytes) -> ApiResult {
    let input = body::schema_input(&body::json(&req, &payload, "lookUpSchemaUnderSubject.arg4")?)?;
    let p = Params::from(&req);
    let (s, normalize, deleted) = (data_subject(&req, &reg)?, p.flag("normalize"), p.flag("deleted"));
    let registry = reg.get_ref().clone();
    let sv = work(&req).run(move || registry.lookup(&s, &input, normalize, deleted)).await?;
    let text = reg.formatted_text(&sv.schema, p.get("format"));
    reply(&req, &render::subject_version(&sv).with_text(text))
}

async fn delete_subject(req: HttpRequest, reg: Reg) -> ApiResult {
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let permanent = Params::from(&req).flag("permanent");
    let s = data_subject(&req, &reg)?;
    let registry = reg.get_ref().clone();
    let versions = blocking(move || registry.delete_subject(&s, permanent)).await?;
    reply(&req, &versions)
}

async fn get_version(req: HttpRequest, reg: Reg) -> ApiResult {
    let v = version(&req)?;
    let p = Params::from(&req);
    let sv = reg.get_version(&data_subject(&req, &reg)?, v, p.flag("deleted"))?;
    let text = reg.formatted_text(&sv.schema, p.get("format"));
    reply(&req, &render::subject_version(&sv).with_text(text))
}

async fn get_version_schema(req: HttpRequest, reg: Reg) -> ApiResult {
    let v = version(&req)?;
    let p = Params::from(&req);
    let sv = reg.get_version(&data_subject(&req, &reg)?, v, p.flag("deleted"))?;
    let text = reg.formatted_text(&sv.schema, p.get("format"));
    reply_raw(&req, text.unwrap_or_else(|| render::raw_schema(&sv.schema)))
}

async fn referenced_by(req: HttpRequest, reg: Reg) -> ApiResult {
    let v = version(&req)?;
    let p = Params::from(&req);
    let ids = reg.referenced_by(&data_subject(&req, &reg)?, v, p.flag("deleted"))?;
    reply(&req, &p.page(ids, 1000)?)
}

async fn by_metadata(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let pairs: Vec<(&str, &str)> = p.all("key").into_iter().zip(p.all("value")).collect();
    let sv = reg.latest_with_metadata(&data_subject(&req, &reg)?, &pairs, p.flag("deleted"))?;
    reply(&req, &render::subject_version(&sv))
}

async fn modify_tags(req: HttpRequest, reg: Reg, payload: web::Bytes) -> ApiResult {
    let v = version(&req)?;
    let tags = body::tag_request(&body::json(&req, &payload, "modifyTags.arg4")?)?;
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let s = data_subject(&req, &reg)?;
    let registry = reg.get_ref().clone();
    let out = blocking(move || registry.modify_tags(&s, v, &tags)).await?;
    match out.full {
        Some(sv) => reply(&req, &render::registered(&sv)),
        None => reply(&req, &json!({ "id": out.id, "guid": out.guid })),
    }
}

async fn delete_version(req: HttpRequest, reg: Reg) -> ApiResult {
    // Negotiated before acting: an unacceptable Accept must not answer 406 after a write.
    negotiate(&req)?;
    let v = version(&req)?;
    let permanent = Params::from(&req).flag("permanent");
    let s = data_subject(&req, &reg)?;
    let registry = reg.get_ref().clone();
    let deleted = blocking(move || registry.delete_version(&s, v, permanent)).await?;
    reply(&req, &deleted)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/subjects").route(web::get().to(list_subjects)))
        .service(resource("/subjects/{subject}").route(web::post().to(lookup)).route(web::delete().to(delete_subject)))
        .service(resource("/subjects/{subject}/metadata").route(web::get().to(by_metadata)))
        .service(
            resource("/subjects/{subject}/versions")
                .route(web::get().to(list_versions))
                .route(web::post().to(register)),
        )
        .service(
            resource("/subjects/{subject}/versions/{version}")
                .route(web::get().to(get_version))
                .route(web::delete().to(delete_version)),
        )
        .service(resource("/subjects/{subject}/versions/{version}/tags").route(web::post().to(modify_tags)))
        .service(resource("/subjects/{subject}/versions/{version}/schema").route(web::get().to(get_version_schema)))
        .service(resource("/subjects/{subject}/versions/{version}/referencedby").route(web::get().to(referenced_by)));
}

//! `GET /contexts` and the `/contexts/{context}/...` URL prefix. The prefix form serves the
//! same routes as the plain paths; handlers ask this module for the subject, the `subject`
//! query parameter or the listing prefix, which the prefix rewrites into the context as
//! Confluent's context filter does (`/contexts/.c/subjects/x` is `/subjects/:.c:x`).

use actix_web::{web, HttpRequest};

use super::guard::Caller;
use super::{reply, resource, ApiResult, Params, Reg};
use crate::registry::contexts::{qualify, url_context, DEFAULT_CONTEXT};
use crate::registry::error::RegistryError;
use crate::registry::normalize_subject;

/// The context of a `/contexts/{context}/...` request; `None` outside the prefix.
fn context(req: &HttpRequest) -> Result<Option<String>, RegistryError> {
    match req.match_info().get("context") {
        None => Ok(None),
        Some(raw) => url_context(&percent_encoding::percent_decode_str(raw).decode_utf8_lossy()).map(Some),
    }
}

/// A subject name from the path or a query parameter, placed in the URL's context.
pub fn in_context(req: &HttpRequest, name: &str) -> Result<String, RegistryError> {
    Ok(normalize_subject(&match context(req)? {
        Some(ctx) => qualify(&ctx, name),
        None => name.to_string(),
    }))
}

/// The subject a global-looking setting (`/contexts/{c}/config`, `/mode`) applies to: the
/// context itself, or `None` (the global setting) outside a non-default context.
pub fn setting_scope(req: &HttpRequest) -> Result<Option<String>, RegistryError> {
    Ok(context(req)?.filter(|c| c != DEFAULT_CONTEXT).map(|c| qualify(&c, "")))
}

/// The `subject` query parameter of the by-id reads; under the prefix, the URL's context.
pub fn subject_param(req: &HttpRequest, p: &Params) -> Result<Option<String>, RegistryError> {
    match (p.get("subject"), context(req)?) {
        (Some(s), _) => in_context(req, s).map(Some),
        (None, Some(ctx)) => Ok(Some(qualify(&ctx, ""))),
        (None, None) => Ok(None),
    }
}

/// The `subjectPrefix` of a listing; under the URL prefix, it is qualified by the context.
pub fn prefix_param(req: &HttpRequest, p: &Params) -> Result<Option<String>, RegistryError> {
    match (p.get("subjectPrefix"), context(req)?) {
        (prefix, Some(ctx)) if ctx != DEFAULT_CONTEXT => Ok(Some(qualify(&ctx, prefix.unwrap_or("")))),
        (prefix, _) => Ok(prefix.map(str::to_string)),
    }
}

async fn list(req: HttpRequest, reg: Reg) -> ApiResult {
    let p = Params::from(&req);
    let caller = Caller::of(&req);
    let readable = |s: &str| caller.may_read(s);
    let contexts = reg.list_contexts(p.get("contextPrefix"), caller.restricted().then_some(&readable));
    reply(&req, &p.page(contexts, usize::MAX)?)
}

/// `GET /contexts`, and every other route again under `/contexts/{context}`.
pub fn routes(cfg: &mut web::ServiceConfig, inner: fn(&mut web::ServiceConfig)) {
    cfg.service(resource("/contexts").route(web::get().to(list)))
        .service(web::scope("/contexts/{context}").configure(inner));
}

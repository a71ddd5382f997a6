//! The HTTP layer: thin handlers that decode a request, call the registry and encode the
//! answer in Confluent's shapes. Content negotiation, body decoding and error rendering live
//! here once, so every endpoint behaves the same way.

mod access;
mod body;
mod compatibility;
mod config;
mod contexts;
pub mod forward;
pub mod guard;
pub mod limit;
pub mod offload;
mod ops;
mod render;
mod root;
mod schemas;
mod subjects;
mod ui;

/// Entry points for the fuzz targets in `fuzz/` (not an API): request-body decoding is
/// otherwise private to this module.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::body::decode_for_fuzzing as request_body;
}

use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::registry::error::RegistryError;
use crate::registry::{Page, Registry};

pub type Reg = web::Data<Arc<Registry>>;
pub type ApiResult = Result<HttpResponse, RegistryError>;

/// The media types Confluent produces, best first.
const PRODUCED: [&str; 3] =
    ["application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/json"];

impl ResponseError for RegistryError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if self.error_code() >= 50000 || self.error_code() == 500 {
            tracing::error!(error = %self, "request failed");
        }
        let body = serde_json::json!({ "error_code": self.error_code(), "message": self.to_string() });
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PRODUCED[0]));
        if let Some(seconds) = self.retry_after() {
            res.insert_header((header::RETRY_AFTER, seconds));
        }
        res.body(body.to_string())
    }
}

/// Picks the response media type from `Accept`. Wildcard types (the Java client sends
/// `text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2`) get the default. Writes
/// call it before acting, as Jersey negotiates before the resource method runs.
pub fn negotiate(req: &HttpRequest) -> Result<&'static str, RegistryError> {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(PRODUCED[0]);
    };
    let ranges: Vec<&str> = accept.split(',').map(|r| r.split(';').next().unwrap_or("").trim()).collect();
    for produced in PRODUCED {
        if ranges.iter().any(|r| r.eq_ignore_ascii_case(produced)) {
            return Ok(produced);
        }
    }
    if ranges.iter().any(|r| matches_any_produced(r)) {
        return Ok(PRODUCED[0]);
    }
    Err(RegistryError::NotAcceptable)
}

/// The pool heavy work runs on (`offload`), which the server puts in the app data.
pub fn work(req: &HttpRequest) -> &offload::Offload {
    req.app_data::<web::Data<offload::Offload>>().expect("the server sets up the work pool")
}

/// Whether a media range that names none of the produced types exactly still covers them.
/// As in JAX-RS, a wildcard type (`*`, `*/*`, `*/anything`) is compatible with every type
/// whatever its subtype, and `application/*` covers the `application/...` types produced.
fn matches_any_produced(range: &str) -> bool {
    let (kind, subtype) = range.split_once('/').unwrap_or((range, "*"));
    let kind = kind.trim();
    range.is_empty() || kind == "*" || (kind.eq_ignore_ascii_case("application") && subtype.trim() == "*")
}

/// A 200 answer with a JSON body in the negotiated media type.
pub fn reply<T: Serialize + ?Sized>(req: &HttpRequest, value: &T) -> ApiResult {
    let body = serde_json::to_string(value).map_err(|_| RegistryError::Internal)?;
    reply_raw(req, body)
}

/// A 200 answer whose body is already JSON text (raw schema endpoints).
pub fn reply_raw(req: &HttpRequest, body: String) -> ApiResult {
    let content_type = negotiate(req)?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type))).body(body))
}

/// Query parameters, read the way Confluent's Java resources read them.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from(req: &HttpRequest) -> Params {
        Params(
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| q.into_inner())
                .unwrap_or_default(),
        )
    }

    /// Every value of a repeated parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Java's `Boolean.parseBoolean`: `true` in any case; anything else is false.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A Java `int` parameter. A malformed one makes the resource not match: 404, as in Jersey.
    pub fn int(&self, name: &str, default: i32) -> Result<i32, RegistryError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| RegistryError::NotFound),
        }
    }

    /// Applies `offset` and `limit` (-1 or absent = `max`) to a listing.
    pub fn page<T>(&self, items: Vec<T>, max: usize) -> Result<Vec<T>, RegistryError> {
        let page = self.range(max)?;
        Ok(items.into_iter().skip(page.offset).take(page.limit).collect())
    }

    /// `offset` and `limit` (-1 or absent = `max`), for listings paged as they are built.
    pub fn range(&self, max: usize) -> Result<Page, RegistryError> {
        let offset = self.int("offset", 0)?.max(0) as usize;
        let limit = match self.int("limit", -1)? {
            l if l <= 0 => max,
            l => (l as usize).min(max),
        };
        Ok(Page { offset, limit })
    }
}

async fn not_found() -> ApiResult {
    Err(RegistryError::NotFound)
}

async fn method_not_allowed() -> ApiResult {
    Err(RegistryError::MethodNotAllowed)
}

/// A resource whose unknown methods answer 405 as Confluent's do.
/// Named after its pattern: the request log and metrics read the name, which (unlike the
/// matched pattern) costs no allocation per request.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).name(path).default_service(web::to(method_not_allowed))
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    root::routes(cfg);
    ops::routes(cfg);
    // actix tries routes in order, matching each pattern (a regular expression where the
    // pattern has a parameter): the hottest paths go first, the page for people last.
    data_routes(cfg);
    contexts::routes(cfg, data_routes);
    ui::routes(cfg);
    cfg.default_service(web::to(not_found));
}

/// The routes that are also served under the `/contexts/{context}` prefix.
fn data_routes(cfg: &mut web::ServiceConfig) {
    schemas::routes(cfg);
    subjects::routes(cfg);
    config::routes(cfg);
    compatibility::routes(cfg);
}

/// A body over the configured limit is answered as Confluent answers a too-large schema.
pub fn too_large<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let response = RegistryError::SchemaTooLarge.error_response();
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

//! Authentication and authorization of every request, when an auth file is configured. The
//! route table in `access` says what a request needs; this middleware finds out who calls
//! (`auth::Authenticator`: HTTP Basic, a bearer token, or the TLS client certificate), answers
//! 401 or 403 in Confluent's error shape, and otherwise hands the request on with its `Caller`
//! in the request's extensions, which the listings use to show only what the caller may read.
//! Every write is logged (target `schemata::audit`) with its principal; credentials never are.

use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Error, HttpMessage, HttpRequest};
use futures_util::future::{Either, LocalBoxFuture, MapOk, TryFutureExt};

use super::access::{self, Needs};
use super::Reg;
use crate::auth::{Authenticator, Operation, Principal, Resource};
use crate::metrics::METRICS;
use crate::registry::error::RegistryError;

/// Who calls, as the guard established it: nobody in particular without authentication.
#[derive(Clone, Default)]
pub struct Caller(Option<Arc<Known>>);

struct Known {
    principal: Principal,
    auth: Arc<Authenticator>,
}

impl Caller {
    /// The caller of `req` (set by the guard).
    pub fn of(req: &HttpRequest) -> Caller {
        req.extensions().get::<Caller>().cloned().unwrap_or_default()
    }

    /// The authenticated principal's name; `None` without authentication.
    pub fn name(&self) -> Option<&str> {
        self.0.as_ref().map(|known| known.principal.name.as_str())
    }

    /// Whether listings must be filtered for this caller.
    pub fn restricted(&self) -> bool {
        self.0.is_some()
    }

    pub fn may_read(&self, subject: &str) -> bool {
        match &self.0 {
            None => true,
            Some(known) => known.auth.allows(&known.principal, Operation::Read, &Resource::Subject(subject)),
        }
    }
}

/// The middleware; `App::wrap(Guard::new(...))`. Without an authenticator it lets all through.
pub struct Guard {
    auth: Option<Arc<Authenticator>>,
    /// `/metrics` needs an authenticated caller too.
    metrics_protected: bool,
}

impl Guard {
    pub fn new(auth: Option<Arc<Authenticator>>, metrics_protected: bool) -> Guard {
        Guard { auth, metrics_protected }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Guard
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = GuardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GuardService {
            service: Rc::new(service),
            auth: self.auth.clone(),
            metrics_protected: self.metrics_protected,
        }))
    }
}

pub struct GuardService<S> {
    service: Rc<S>,
    auth: Option<Arc<Authenticator>>,
    metrics_protected: bool,
}

type Answer<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

impl<S, B> Service<ServiceRequest> for GuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future =
        Either<MapOk<S::Future, fn(ServiceResponse<B>) -> Self::Response>, LocalBoxFuture<'static, Answer<B>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Without authentication (the default) nothing is looked at: this runs on every request.
        let needs = self.auth.as_ref().map(|_| access::needs(req.method(), req.path(), self.metrics_protected));
        let (Some(auth), Some(needs)) = (&self.auth, needs.filter(|n| *n != Needs::Open)) else {
            let left: fn(ServiceResponse<B>) -> Self::Response = ServiceResponse::map_into_left_body;
            return Either::Left(self.service.call(req).map_ok(left));
        };
        let auth = auth.clone();
        let service = self.service.clone();
        Either::Right(Box::pin(async move {
            let authorization = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec());
            let certificate = req.conn_data::<crate::tls::TlsPrincipal>().map(|p| p.0.clone());
            // Verifying a password hash takes milliseconds: a cache hit does not, a miss runs
            // off the HTTP workers.
            let principal = match auth.cached(authorization.as_deref()) {
                Some(principal) => Ok(principal),
                None => {
                    let verifier = auth.clone();
                    actix_web::web::block(move || {
                        verifier.authenticate(authorization.as_deref(), certificate.as_deref())
                    })
                    .await
                    .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?
                }
            };
            let principal = match principal {
                Ok(principal) => principal,
                Err(failure) => {
                    METRICS.auth_failure(failure.kind());
                    let e = RegistryError::Unauthorized;
                    let mut res = req.error_response(e);
                    let challenge = auth.challenge();
                    if let Ok(value) = HeaderValue::from_str(&challenge) {
                        res.headers_mut().insert(header::WWW_AUTHENTICATE, value);
                    }
                    return Ok(res.map_into_right_body());
                }
            };
            if let Err(denied) = authorize(&auth, &principal, &needs, req.app_data::<Reg>()) {
                METRICS.auth_denied();
                return Ok(req.error_response(denied).map_into_right_body());
            }
            // Lookups and checks are POSTs too, but read.
            let write = matches!(needs, Needs::Subject(_, Operation::Write) | Needs::Config(Operation::Write));
            let (method, path) = (req.method().clone(), req.path().to_string());
            let name = principal.name.clone();
            req.extensions_mut().insert(Caller(Some(Arc::new(Known { principal, auth }))));
            let res = service.call(req).await?;
            if write {
                tracing::info!(
                    target: "schemata::audit",
                    principal = %name,
                    method = %method,
                    path = %path,
                    status = res.status().as_u16(),
                    "write"
                );
            }
            Ok(res.map_into_left_body())
        }))
    }
}

/// `Ok` when `principal` may do what the request needs; else the 403 naming the operation
/// and the resource.
fn authorize(
    auth: &Authenticator,
    principal: &Principal,
    needs: &Needs,
    reg: Option<&Reg>,
) -> Result<(), RegistryError> {
    let denied = |op: Operation, resource: String| {
        Err(RegistryError::Forbidden(format!("User {} is denied operation {op:?} on {resource}", principal.name)))
    };
    match needs {
        Needs::Open | Needs::Authenticated | Needs::Listing => Ok(()),
        Needs::Config(op) if auth.allows(principal, *op, &Resource::Config) => Ok(()),
        Needs::Config(op) => denied(*op, Resource::Config.to_string()),
        Needs::Subject(subject, op) if auth.allows(principal, *op, &Resource::Subject(subject)) => Ok(()),
        Needs::Subject(subject, op) => denied(*op, Resource::Subject(subject).to_string()),
        Needs::SchemaId(_) | Needs::SchemaGuid(_) => {
            let Some(reg) = reg else { return Ok(()) };
            let id = match needs {
                Needs::SchemaId(id) => Some(*id),
                Needs::SchemaGuid(guid) => reg.schema_by_guid(guid).ok().map(|s| i64::from(s.id)),
                _ => None,
            };
            // An unknown id is the handler's 404.
            let Some(subjects) = id.and_then(|id| reg.id_subjects(id, None, true).ok()) else {
                return Ok(());
            };
            if subjects.is_empty()
                || subjects.iter().any(|s| auth.allows(principal, Operation::Read, &Resource::Subject(s)))
            {
                Ok(())
            } else {
                denied(Operation::Read, format!("the subjects of schema {}", id.unwrap_or_default()))
            }
        }
    }
}

//! Writes on a node that does not lead. Only the leader writes to the topic (it computes ids
//! and versions from the state it has read), so a follower sends each write (register,
//! delete, config, mode, tags; imports are registrations) to the leader over HTTP with the
//! caller's headers, credentials included, and returns the leader's answer as it is, as
//! Confluent's followers do. Before answering, the follower waits until it has applied that
//! write itself, so that the caller can read it back from the same node: a Schemata leader
//! says up to which offset (`x-schemata-offset`), for another leader the follower reads the
//! topic to its end. Reads never leave the node.
//!
//! A node that has not caught up with its topic fails writes at once (50002). With no leader
//! known (an election under way, a new leader catching up) a write waits up to the write
//! timeout for one, then gets 50004. A leader that cannot be connected to (it died; the group
//! has not noticed yet) is treated the same way, and gives 50003 when no other takes over in
//! time; a leader that took the request but did not answer gives 50003 at once (the write may
//! have happened, so it is not sent again). A forwarded request is not forwarded again: a
//! node asked as leader that does not lead waits the same way (the sender may have learnt
//! of its election first), then answers 50004, and the caller retries.
//!
//! An https:// leader is trusted when a public root or a `--tls-peer-ca` CA issued its
//! certificate. No client certificate is sent: a leader requiring one (`--tls-client-ca`)
//! refuses forwarded writes, so such a cluster is not supported yet.

use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, Error, FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::{Either, LocalBoxFuture, MapOk, TryFutureExt};

use super::Reg;
use crate::registry::cluster::NodeRole;
use crate::registry::error::RegistryError;

/// Marks a request a follower forwarded (its value: the follower's URL, for the logs).
pub const FORWARDED: &str = "x-schemata-forwarded";
/// On the leader's answer to a forwarded write: the offset the follower must apply first.
pub const OFFSET: &str = "x-schemata-offset";

/// How often a write waiting for a leader looks again.
const LEADER_POLL: Duration = Duration::from_millis(50);

/// The middleware; `App::wrap(Forward)`.
pub struct Forward;

impl<S, B> Transform<S, ServiceRequest> for Forward
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ForwardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ForwardService { service: Rc::new(service) }))
    }
}

pub struct ForwardService<S> {
    service: Rc<S>,
}

type Answer<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

impl<S, B> Service<ServiceRequest> for ForwardService<S>
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
        // Reads, and every request of an embedded node (no cluster), go straight through:
        // this runs on every request, so it allocates nothing.
        let registry = if is_write(req.method(), req.path()) {
            req.app_data::<Reg>().filter(|r| r.applied_offset().is_some()).cloned()
        } else {
            None
        };
        let Some(registry) = registry else {
            let left: fn(ServiceResponse<B>) -> Self::Response = ServiceResponse::map_into_left_body;
            return Either::Left(self.service.call(req).map_ok(left));
        };
        let service = self.service.clone();
        Either::Right(Box::pin(async move {
            // A node still reading its topic (or away from the brokers) fails writes at once,
            // as the store would.
            if let Err(reason) = registry.ready() {
                let e = RegistryError::StoreTimeout(format!("The registry is not ready to write: {reason}"));
                return Ok(req.error_response(e).map_into_right_body());
            }
            let forwarded = req.headers().contains_key(FORWARDED);
            // The body is read here, so that the write can go to whichever node leads by the
            // time one does.
            let (http, mut payload) = req.into_parts();
            let body = match web::Bytes::from_request(&http, &mut payload).await {
                Ok(body) => body,
                Err(e) => return Ok(ServiceResponse::from_err(e, http).map_into_right_body()),
            };
            let deadline = Instant::now() + registry.write_timeout();
            let refuse = |http: HttpRequest, e: RegistryError| ServiceResponse::new(http, e.error_response());
            loop {
                let waited_enough = Instant::now() >= deadline;
                match registry.role() {
                    NodeRole::Leader => {
                        let req = ServiceRequest::from_parts(http, Payload::from(body));
                        let mut res = service.call(req).await?;
                        if let (true, Some(offset)) = (forwarded, registry.applied_offset()) {
                            res.headers_mut().insert(HeaderName::from_static(OFFSET), offset.into());
                        }
                        return Ok(res.map_into_left_body());
                    }
                    // Sent here as to the leader: this node may be about to lead (the sender
                    // learnt of the election first) or have just stopped; wait like above.
                    NodeRole::Follower(leader) if forwarded && waited_enough => {
                        let e = RegistryError::LeaderNotKnown(format!(
                            "This node was sent a write as the leader but does not lead; it knows {leader} as the \
                             leader."
                        ));
                        return Ok(refuse(http, e).map_into_right_body());
                    }
                    NodeRole::Follower(_) if forwarded => {}
                    NodeRole::Follower(leader) => match forward(&registry, &http, body.clone(), &leader).await {
                        Ok(res) => return Ok(ServiceResponse::new(http, res).map_into_right_body()),
                        // The leader is gone before the request reached it: a new one is
                        // being elected, so wait for it.
                        Err(Unsent(e)) if !waited_enough => {
                            tracing::debug!(leader, "cannot reach the leader ({e}); waiting for another");
                        }
                        Err(Unsent(e)) => {
                            tracing::warn!(leader, "forwarding {} {} failed: {e}", http.method(), http.path());
                            let e = RegistryError::Forwarding(format!(
                                "{} {} to {leader}: {e}",
                                http.method(),
                                http.path()
                            ));
                            return Ok(refuse(http, e).map_into_right_body());
                        }
                    },
                    NodeRole::Unknown(reason) if waited_enough => {
                        let e = RegistryError::LeaderNotKnown(format!("{reason}."));
                        return Ok(refuse(http, e).map_into_right_body());
                    }
                    NodeRole::Unknown(_) => {}
                }
                actix_web::rt::time::sleep(LEADER_POLL).await;
            }
        }))
    }
}

/// Whether a request changes state: every PUT and DELETE, and a POST that registers a
/// version or changes tags (a POST to a subject is a lookup, to /compatibility a check).
fn is_write(method: &Method, path: &str) -> bool {
    if method == Method::PUT || method == Method::DELETE {
        return true;
    }
    if method != Method::POST {
        return false;
    }
    // The first segments, on the stack (a longer path is no write of ours).
    let mut segments = [""; 8];
    let mut len = 0;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if len == segments.len() {
            return false;
        }
        segments[len] = segment;
        len += 1;
    }
    let mut segments = &segments[..len];
    if segments.first() == Some(&"contexts") && segments.len() > 2 {
        segments = &segments[2..];
    }
    matches!(segments, ["subjects", _, "versions"] | ["subjects", _, "versions", _, "tags"])
}

thread_local! {
    /// One client per HTTP worker (actix runs each on its own single-threaded runtime).
    static CLIENT: reqwest::Client = client().unwrap_or_else(|_| reqwest::Client::new());
}

/// The CAs trusted besides the public roots for an https:// leader (`--tls-peer-ca`). Set
/// at start, before any worker makes its client.
static PEER_CA: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// Trusts these CAs too for the leader's certificate. Errors when one is unusable.
pub fn trust(certs: &[rustls::pki_types::CertificateDer<'_>]) -> Result<(), String> {
    let certs = certs.iter().map(|c| reqwest::Certificate::from_der(c)).collect::<Result<Vec<_>, _>>();
    let _ = PEER_CA.set(certs.map_err(|e| format!("--tls-peer-ca: {}", describe(e)))?);
    // A certificate rustls refuses fails here, not silently in a worker.
    client().map(drop).map_err(|e| format!("--tls-peer-ca: {}", describe(e)))
}

fn client() -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().no_proxy();
    for ca in PEER_CA.get().into_iter().flatten() {
        builder = builder.add_root_certificate(ca.clone());
    }
    builder.build()
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), and the
/// ones the client recomputes.
const NOT_FORWARDED: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
];

/// A request that did not reach the leader (it could not be connected to), and why.
struct Unsent(String);

/// Sends the request to the leader and returns its answer, once this node has applied it. A
/// request that reached the leader but got no answer is answered 50003 here: it is not sent
/// again, since it may have been applied.
async fn forward(registry: &Reg, http: &HttpRequest, body: web::Bytes, leader: &str) -> Result<HttpResponse, Unsent> {
    let path = http.uri().path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", leader.trim_end_matches('/'));
    let sent = tokio::select! {
        answer = send(registry, http, &url, body) => answer,
        changed = leader_changes(registry, leader) => {
            let e = RegistryError::Forwarding(format!(
                "{} {path} to {leader}: the leader changed to {changed} before it answered; the request may or may \
                 not have been applied",
                http.method()
            ));
            return Ok(e.error_response());
        }
    };
    let (status, headers, body) = match sent {
        Ok(answer) => answer,
        Err(e) if e.is_connect() => return Err(Unsent(describe(e))),
        Err(e) => {
            let e = describe(e);
            tracing::warn!(leader, "forwarding {} {path} failed: {e}", http.method());
            let e = RegistryError::Forwarding(format!("{} {path} to {leader}: {e}", http.method()));
            return Ok(e.error_response());
        }
    };
    if status.is_success() {
        let offset =
            headers.iter().find(|(n, _)| n.as_str() == OFFSET).and_then(|(_, v)| v.to_str().ok()?.parse::<i64>().ok());
        let waiting = registry.clone();
        let applied = web::block(move || waiting.wait_applied(offset)).await;
        if let Ok(Err(e)) | Err(e) = applied.map_err(|e| RegistryError::StoreTimeout(e.to_string())) {
            // The write is done; only reading it back here is late. Its answer stands.
            tracing::warn!("the leader applied a forwarded write that this node has not read back yet: {e}");
        }
    }
    let mut res = HttpResponse::build(status);
    for (name, value) in headers.iter().filter(|(n, _)| n.as_str() != OFFSET) {
        res.append_header((name.clone(), value.clone()));
    }
    Ok(res.body(body))
}

/// Resolves once this node no longer names `leader` as the leader: with the new one's URL, or
/// with why none is known.
async fn leader_changes(registry: &Reg, leader: &str) -> String {
    loop {
        match registry.role() {
            NodeRole::Follower(url) if url == leader => {}
            NodeRole::Follower(url) => return url,
            NodeRole::Leader => return "this node".into(),
            NodeRole::Unknown(_) => {}
        }
        actix_web::rt::time::sleep(LEADER_POLL).await;
    }
}

/// The leader's status, headers and body, or why there is none.
async fn send(
    registry: &Reg,
    http: &HttpRequest,
    url: &str,
    body: web::Bytes,
) -> Result<(StatusCode, Vec<(HeaderName, HeaderValue)>, web::Bytes), reqwest::Error> {
    // Every method actix parsed is a valid token.
    let method = reqwest::Method::from_bytes(http.method().as_str().as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut request = CLIENT.with(|c| c.request(method, url));
    for (name, value) in http.headers().iter().filter(|(n, _)| !NOT_FORWARDED.contains(&n.as_str())) {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let me = http.connection_info().host().to_string();
    let timeout = registry.write_timeout() + Duration::from_secs(5);
    let response = request.header(FORWARDED, me).body(body.to_vec()).timeout(timeout).send().await?;
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response
        .headers()
        .iter()
        .filter(|(n, _)| !NOT_FORWARDED.contains(&n.as_str()))
        .filter_map(|(n, v)| {
            Some((HeaderName::from_bytes(n.as_str().as_bytes()).ok()?, HeaderValue::from_bytes(v.as_bytes()).ok()?))
        })
        .collect();
    let body = response.bytes().await?;
    Ok((status, headers, web::Bytes::from(body.to_vec())))
}

/// A reqwest error with its causes (its own message is only "error sending request").
pub(crate) fn describe(e: reqwest::Error) -> String {
    schemata_codec::client::error_chain(&e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_told_from_reads() {
        let post = Method::POST;
        assert!(is_write(&post, "/subjects/a/versions"));
        assert!(is_write(&post, "/contexts/.c/subjects/a/versions"));
        assert!(is_write(&post, "/subjects/a/versions/1/tags"));
        assert!(is_write(&Method::PUT, "/config"));
        assert!(is_write(&Method::DELETE, "/subjects/a"));
        assert!(!is_write(&post, "/subjects/a"));
        assert!(!is_write(&post, "/compatibility/subjects/a/versions"));
        assert!(!is_write(&post, "/contexts/.c/compatibility/subjects/a/versions/latest"));
        assert!(!is_write(&post, "/"));
        assert!(!is_write(&Method::GET, "/subjects/a/versions"));
        // A subject named like a resource is still a subject.
        assert!(is_write(&post, "/subjects/compatibility/versions"));
    }
}

//! Starting the HTTP server: open the store, build the registry, bind (over TLS with
//! `--tls-cert`, see `tls`), serve until a signal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Service;
use actix_web::http::{StatusCode, Uri};
use actix_web::middleware::{from_fn, Condition, ErrorHandlers};
use actix_web::{web, App, HttpServer};

use crate::api;
use crate::auth::jwt::{JwksSource, JwtSettings, JwtVerifier};
use crate::auth::{AuthFile, Authenticator};
use crate::config::{HealthArgs, ServeArgs};
use crate::registry::{Registry, Settings};
use crate::store::kafka::election::Identity;
use crate::store::kafka::{ElectionSettings, KafkaSettings};
use crate::store::Store;
use crate::tls::{self, TlsPrincipal};

/// Opens the data directory and serves until SIGINT/SIGTERM. Errors are fit to print.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    // Certificates first: a bad file is reported before the store is opened.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key, args.tls_client_ca.as_deref())?),
        _ => None,
    };
    if let Some(ca) = &args.tls_peer_ca {
        api::forward::trust(&tls::load_certs("--tls-peer-ca", ca)?)?;
    }
    let auth = authenticator(&args)?;
    let metrics_auth = args.metrics_auth;
    let limiter = args.rate_limit.map(|rate| {
        let burst = args.rate_limit_burst.unwrap_or(rate.ceil() as u32);
        Arc::new(api::limit::RateLimiter::new(rate, burst))
    });
    let store = match &args.kafka_bootstrap {
        None => Arc::new(Store::open(&args.data_dir).map_err(|e| e.to_string())?),
        Some(bootstrap) => {
            let settings = KafkaSettings {
                bootstrap: bootstrap.clone(),
                topic: args.kafka_topic.clone(),
                group_id: args.kafka_group_id.clone(),
                replication_factor: args.kafka_replication_factor,
                client_config: args.kafka_config.clone(),
                timeout: Duration::from_millis(args.kafka_timeout_ms),
                election: election(&args)?,
            };
            Store::open_kafka(&args.data_dir, settings).map_err(|e| e.to_string())?
        }
    };
    let settings = Settings { default_level: args.compatibility, max_schema_bytes: args.max_body_bytes };
    let registry = Arc::new(Registry::new(store, settings));
    let data = web::Data::new(registry.clone());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let work = web::Data::new(api::offload::Offload::new(cores, WORK_QUEUE));
    let max_body = args.max_body_bytes;
    let limiter_on = limiter.is_some();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(work.clone())
            .app_data(web::PayloadConfig::new(max_body))
            // Writes on a follower go to the leader (inside: too-large bodies become 42209).
            .wrap(api::forward::Forward)
            .wrap(ErrorHandlers::new().handler(StatusCode::PAYLOAD_TOO_LARGE, api::too_large))
            // Inside the guard, which names the caller; not there at all without a limit.
            .wrap({
                let limiter = limiter.clone().unwrap_or_else(|| Arc::new(api::limit::RateLimiter::new(1.0, 1)));
                Condition::new(
                    limiter_on,
                    from_fn(move |req, next| api::limit::limit(limiter.clone(), metrics_auth, req, next)),
                )
            })
            // Who calls and what they may do, before anything is forwarded or done.
            .wrap(api::guard::Guard::new(auth.clone(), metrics_auth))
            // Outermost but for path normalization: sees every answer, errors included.
            .wrap_fn(|req, srv| {
                let started = Instant::now();
                let method = req.method().clone();
                let call = srv.call(req);
                async move {
                    let res = call.await?;
                    record(method.as_str(), &res, started.elapsed());
                    Ok(res)
                }
            })
            // Jersey ignores a trailing slash and empty segments; so do we.
            .wrap_fn(|mut req, srv| {
                if let Some(uri) = normalized(req.uri()) {
                    req.match_info_mut().get_mut().update(&uri);
                    req.head_mut().uri = uri;
                }
                srv.call(req)
            })
            .configure(api::routes)
    })
    // Before binding: actix captures the hook when a listener is bound.
    .on_connect(tls::on_connect)
    .client_request_timeout(Duration::from_secs(args.request_timeout_secs))
    .keep_alive(match args.keep_alive_secs {
        0 => actix_web::http::KeepAlive::Disabled,
        s => actix_web::http::KeepAlive::Timeout(Duration::from_secs(s)),
    })
    .shutdown_timeout(args.shutdown_timeout_secs);
    if let Some(w) = args.workers {
        server = server.workers(w);
    }
    let https = tls.is_some();
    let server = match tls {
        Some(config) => server.bind_rustls_0_23(&args.listen, config),
        None => server.bind(&args.listen),
    }
    .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let client_certs = args.tls_client_ca.is_some();
    tracing::info!(listen = %args.listen, https, client_certs, data_dir = %args.data_dir.display(), "schemata serving");
    // actix stops accepting on SIGTERM/SIGINT and drains in-flight requests; then the
    // store is flushed before the process exits 0.
    let served = server.run().await.map_err(|e| e.to_string());
    registry.store().flush().map_err(|e| format!("flushing the store on shutdown: {e}"))?;
    tracing::info!("schemata stopped");
    served
}

/// Heavy requests (registrations, lookups, checks) that may wait for the work pool; more are
/// refused with 429. At a few milliseconds each, a full queue is well under a second of work.
const WORK_QUEUE: usize = 256;

/// The authenticator `--auth-file` (and `--auth-jwks`) ask for; `None` without them.
fn authenticator(args: &ServeArgs) -> Result<Option<Arc<Authenticator>>, String> {
    let Some(path) = &args.auth_file else {
        return Ok(None);
    };
    let file = AuthFile::open(path).map_err(|e| format!("--auth-file {}: {e}", path.display()))?;
    let jwt = match &args.auth_jwks {
        None => None,
        Some(source) => {
            let jwks = if source.starts_with("http://") || source.starts_with("https://") {
                JwksSource::Url(source.clone())
            } else {
                JwksSource::File(source.into())
            };
            // clap requires both with --auth-jwks.
            let issuer = args.auth_jwt_issuer.clone().unwrap_or_default();
            let audience = args.auth_jwt_audience.clone().unwrap_or_default();
            let mut settings = JwtSettings::new(jwks, issuer, audience);
            settings.username_claim = args.auth_jwt_username_claim.clone();
            settings.roles_claim = args.auth_jwt_roles_claim.clone();
            Some(JwtVerifier::new(settings).map_err(|e| format!("--auth-jwks {source}: {e}"))?)
        }
    };
    tracing::info!(
        auth_file = %path.display(),
        bearer_tokens = jwt.is_some(),
        "authentication required on every route but the health probes"
    );
    Ok(Some(Authenticator::new(file, jwt)))
}

/// How the node takes part in leader election. The election speaks the Kafka protocol over
/// plain TCP: with TLS or SASL to the brokers (`security.protocol`), it cannot join, and the
/// node writes as the only one on its topic, which the log says.
fn election(args: &ServeArgs) -> Result<Option<ElectionSettings>, String> {
    let identity = advertised(args)?;
    let secured =
        args.kafka_config.iter().any(|(k, v)| k == "security.protocol" && !v.eq_ignore_ascii_case("plaintext"));
    if secured {
        tracing::warn!(
            "leader election does not support TLS or SASL to the brokers yet: this node writes without one, \
             so it must be the only Schemata node on its topic"
        );
        return Ok(None);
    }
    Ok(Some(ElectionSettings {
        identity,
        session_timeout: Duration::from_millis(args.kafka_session_timeout_ms.max(1000)),
    }))
}

/// This node's identity in the registry group: `--advertised-url`, or one made of `--listen`
/// (https with `--tls-cert`).
fn advertised(args: &ServeArgs) -> Result<Identity, String> {
    let url = match &args.advertised_url {
        Some(url) => url.clone(),
        None => {
            let (host, port) = args.listen.rsplit_once(':').unwrap_or((&args.listen, "8081"));
            let host = match host {
                "0.0.0.0" | "[::]" | "" => hostname(),
                host => host.to_string(),
            };
            let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
            format!("{scheme}://{host}:{port}")
        }
    };
    let bad = |why: &str| format!("--advertised-url {url}: {why} (expected scheme://host:port)");
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    if scheme != "http" && scheme != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port = port.parse::<u16>().map_err(|_| bad("the port is not a number"))?;
    if host.is_empty() || host.contains('/') {
        return Err(bad("no host"));
    }
    Ok(Identity { scheme: scheme.into(), host: host.into(), port, leader_eligible: args.leader_eligible })
}

/// The machine's host name, for an advertised URL when listening on every address.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The per-request log line and metrics. The route is the matched pattern (bounded label
/// values); a request no route matched is `unmatched`. The principal (authenticated by the
/// guard, else a client certificate's CN) is logged when there is one.
fn record<B>(method: &str, res: &actix_web::dev::ServiceResponse<B>, elapsed: Duration) {
    let route = res.request().match_name().unwrap_or("unmatched");
    let status = res.status().as_u16();
    crate::metrics::METRICS.request(method, route, status, elapsed.as_secs_f64());
    let caller = api::guard::Caller::of(res.request());
    let certificate = res.request().conn_data::<TlsPrincipal>();
    let principal = caller.name().or(certificate.map(|p| p.0.as_str()));
    tracing::info!(
        target: crate::logging::REQUEST_TARGET,
        method,
        route = %route,
        path = res.request().path(),
        status,
        principal,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
}

/// `schemata health`: 0 when `GET /health/ready` on `listen` answers 200, else 1. A
/// wildcard listen address is asked on loopback. With `--tls-cert` (the server's
/// `SCHEMATA_TLS_CERT` in a container) it asks over https and trusts exactly that
/// certificate, not a CA: the name in it is seldom the loopback address asked. Just after a
/// rotation, until the server has reloaded (a second), the check fails once.
pub fn health(args: &HealthArgs) -> i32 {
    let addr = args.listen.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
    let answer = match &args.tls_cert {
        None => health_http(&addr),
        Some(cert) => health_https(&addr, cert, args.client_cert.as_deref().zip(args.client_key.as_deref())),
    };
    match answer {
        Ok(200) => 0,
        Ok(status) => {
            eprintln!("not ready: HTTP {status}");
            1
        }
        Err(e) => {
            eprintln!("not ready: {e}");
            1
        }
    }
}

fn health_http(addr: &str) -> Result<u16, String> {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(std::time::Duration::from_secs(5))).build().into();
    match agent.get(&format!("http://{addr}/health/ready")).call() {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => Err(e.to_string()),
    }
}

/// reqwest, since ureq takes no custom certificate verifier.
fn health_https(
    addr: &str,
    cert: &std::path::Path,
    client: Option<(&std::path::Path, &std::path::Path)>,
) -> Result<u16, String> {
    let config = tls::pinned_client_config(cert, client)?;
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(api::forward::describe)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let r = client.get(format!("https://{addr}/health/ready")).send().await.map_err(api::forward::describe)?;
        Ok(r.status().as_u16())
    })
}

/// The URI with empty path segments and a trailing slash removed, or `None` when it has
/// neither. Done by hand: actix's `NormalizePath` runs a regex on every request, which cost
/// several percent of a get-by-id.
fn normalized(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    let trailing = path.len() > 1 && path.ends_with('/');
    // A byte scan: `contains("//")` builds a substring searcher on every request.
    if !trailing && !path.as_bytes().windows(2).any(|w| w == b"//") {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    if let Some(query) = uri.query() {
        out.push('?');
        out.push_str(query);
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(out.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Option<String> {
        normalized(&s.parse().unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn only_paths_needing_it_are_rewritten() {
        assert_eq!(norm("/schemas/ids/1"), None);
        assert_eq!(norm("/"), None);
        assert_eq!(norm("/subjects/"), Some("/subjects".into()));
        assert_eq!(norm("//subjects//a/versions/?deleted=true"), Some("/subjects/a/versions?deleted=true".into()));
        assert_eq!(norm("//"), Some("/".into()));
        assert_eq!(norm("/subjects/a%2F/versions"), None);
    }
}

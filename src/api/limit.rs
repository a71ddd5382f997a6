//! A request rate per caller (`--rate-limit`), so that one client stuck in a retry loop or a
//! runaway CI job cannot take the registry from every producer sharing it. Each caller (the
//! principal the guard authenticated, else the client's IP address) has a token bucket: it
//! holds up to the burst, refills at the rate, and a request finding it empty is answered 429
//! with `Retry-After`. Health probes are never limited: an orchestrator must always see them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::Error;
use parking_lot::Mutex;

use super::access::{self, Needs};
use super::guard::Caller;
use crate::registry::error::RegistryError;

/// Above this many callers, buckets that have refilled (idle callers) are dropped, so that
/// a scan from many addresses cannot grow the table without bound.
const MAX_CALLERS: usize = 10_000;

pub struct RateLimiter {
    /// Tokens per second.
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `rate` requests per second on average, up to `burst` at once (at least one).
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter { rate, burst: f64::from(burst.max(1)), buckets: Mutex::default() }
    }

    /// Takes a token of `caller`'s bucket, or says how long until one is there.
    pub fn admit(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MAX_CALLERS && !buckets.contains_key(caller) {
            let full = Duration::from_secs_f64(self.burst / self.rate);
            buckets.retain(|_, b| now.duration_since(b.at) < full);
        }
        let bucket = buckets.entry(caller.to_string()).or_insert(Bucket { tokens: self.burst, at: now });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refilled).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// The middleware (`actix_web::middleware::from_fn`); sits inside the guard, which names
/// the caller.
pub async fn limit(
    limiter: Arc<RateLimiter>,
    metrics_protected: bool,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if access::needs(req.method(), req.path(), metrics_protected) == Needs::Open {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let caller = Caller::of(req.request());
    let key = match caller.name() {
        Some(name) => format!("user:{name}"),
        None => format!("ip:{}", req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]))),
    };
    match limiter.admit(&key, Instant::now()) {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(wait) => {
            // Whole seconds, rounded up: a client waiting that long finds a token.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Ok(req.error_response(RegistryError::RateLimited(seconds)).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.admit("a", t0), Ok(()));
        }
        assert_eq!(limiter.admit("a", t0), Err(Duration::from_millis(500)));
        // Another caller has a bucket of its own.
        assert_eq!(limiter.admit("b", t0), Ok(()));
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.admit("a", t1), Ok(()));
        assert!(limiter.admit("a", t1).is_err());
        // A long pause refills to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.admit("a", t2), Ok(()));
        }
        assert!(limiter.admit("a", t2).is_err());
    }

    #[test]
    fn idle_callers_are_forgotten_when_the_table_is_full() {
        let limiter = RateLimiter::new(1000.0, 1);
        let t0 = Instant::now();
        for i in 0..MAX_CALLERS {
            limiter.admit(&i.to_string(), t0).unwrap();
        }
        // Still busy: nothing is dropped, the table grows by one.
        limiter.admit("new", t0).unwrap();
        assert_eq!(limiter.buckets.lock().len(), MAX_CALLERS + 1);
        // A second later every bucket has refilled: the idle ones go.
        limiter.admit("newer", t0 + Duration::from_secs(1)).unwrap();
        assert_eq!(limiter.buckets.lock().len(), 1);
    }
}

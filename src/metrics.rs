//! Prometheus metrics for `GET /metrics`. Counters and histograms are process-wide statics
//! (handlers and the request middleware record into them without plumbing); the gauges
//! about stored data are read from the index and sled when scraped, so they are never stale.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry as PromRegistry, TextEncoder,
};

use crate::registry::cluster::NodeRole;
use crate::registry::Registry;

pub struct Metrics {
    registry: PromRegistry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub registrations: IntCounter,
    compatibility_checks: IntCounterVec,
    /// Requests refused for want of valid credentials, by reason; and refused permissions.
    auth_failures: IntCounterVec,
    auth_denied: IntCounter,
    subjects: IntGauge,
    schemas: IntGauge,
    versions: IntGauge,
    disk_bytes: IntGauge,
    /// Rendered only by a Kafka-backed node.
    kafka: KafkaMetrics,
}

/// The Kafka reader's progress, in a registry of its own so that an embedded node shows none.
struct KafkaMetrics {
    registry: PromRegistry,
    applied_offset: IntGauge,
    end_offset: IntGauge,
    lag: IntGauge,
    skipped: IntCounterVec,
    /// 1 for the node's current role (leader, follower, unknown), 0 for the others.
    role: IntGaugeVec,
    leader_changes: IntCounter,
}

impl KafkaMetrics {
    fn new() -> KafkaMetrics {
        let registry = PromRegistry::new();
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("metric");
        let k = KafkaMetrics {
            applied_offset: gauge("schemata_kafka_applied_offset", "Offset of the last record applied from the topic"),
            end_offset: gauge("schemata_kafka_end_offset", "Log end offset of the topic, as last seen"),
            lag: gauge("schemata_kafka_lag", "Records in the topic not yet applied"),
            skipped: IntCounterVec::new(
                Opts::new("schemata_kafka_records_skipped_total", "Records read from the topic and skipped, by reason"),
                &["reason"],
            )
            .expect("metric"),
            role: IntGaugeVec::new(
                Opts::new(
                    "schemata_cluster_role",
                    "1 for this node's role in its cluster: leader, follower or unknown",
                ),
                &["role"],
            )
            .expect("metric"),
            leader_changes: IntCounter::new(
                "schemata_cluster_leader_changes_total",
                "Times this node saw another node (or itself) become the leader",
            )
            .expect("metric"),
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 6] = [
            Box::new(k.applied_offset.clone()),
            Box::new(k.end_offset.clone()),
            Box::new(k.lag.clone()),
            Box::new(k.skipped.clone()),
            Box::new(k.role.clone()),
            Box::new(k.leader_changes.clone()),
        ];
        for c in collectors {
            k.registry.register(c).expect("metric names are unique");
        }
        k
    }
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let registry = PromRegistry::new();
        // Metric definitions are constants: a failure here is a programming error.
        let requests = IntCounterVec::new(
            Opts::new("schemata_http_requests_total", "HTTP requests by method, route pattern and status"),
            &["method", "route", "status"],
        )
        .expect("metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("schemata_http_request_duration_seconds", "HTTP request latency by route pattern")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route", "status"],
        )
        .expect("metric");
        let registrations =
            IntCounter::new("schemata_registrations_total", "Successful schema registrations").expect("metric");
        let compatibility_checks = IntCounterVec::new(
            Opts::new("schemata_compatibility_checks_total", "Compatibility endpoint checks by result"),
            &["result"],
        )
        .expect("metric");
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "schemata_auth_failures_total",
                "Requests answered 401, by reason (missing, malformed, bad_password, bad_token)",
            ),
            &["reason"],
        )
        .expect("metric");
        let auth_denied =
            IntCounter::new("schemata_auth_denied_total", "Requests answered 403 (authenticated, not allowed)")
                .expect("metric");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("metric");
        let m = Metrics {
            requests,
            latency,
            registrations,
            compatibility_checks,
            auth_failures,
            auth_denied,
            subjects: gauge("schemata_subjects", "Subjects with at least one live version"),
            schemas: gauge("schemata_schemas", "Distinct schemas (ids) stored"),
            versions: gauge("schemata_versions", "Live subject versions"),
            disk_bytes: gauge("schemata_store_size_bytes", "Size of the sled database on disk"),
            registry,
            kafka: KafkaMetrics::new(),
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 10] = [
            Box::new(m.requests.clone()),
            Box::new(m.auth_failures.clone()),
            Box::new(m.auth_denied.clone()),
            Box::new(m.latency.clone()),
            Box::new(m.registrations.clone()),
            Box::new(m.compatibility_checks.clone()),
            Box::new(m.subjects.clone()),
            Box::new(m.schemas.clone()),
            Box::new(m.versions.clone()),
            Box::new(m.disk_bytes.clone()),
        ];
        for c in collectors {
            m.registry.register(c).expect("metric names are unique");
        }
        // Both series exist from the start, so a rate() over them never sees a gap.
        for result in ["compatible", "incompatible"] {
            m.compatibility_checks.with_label_values(&[result]);
        }
        m
    }

    /// A request answered 401; `reason` is one of a few fixed labels.
    pub fn auth_failure(&self, reason: &str) {
        self.auth_failures.with_label_values(&[reason]).inc();
    }

    /// A request answered 403.
    pub fn auth_denied(&self) {
        self.auth_denied.inc();
    }

    /// Records one answered request. `route` is the matched pattern, never the raw path, so
    /// the label set stays bounded whatever clients send.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let series = || {
            let status = status.to_string();
            let labels = [method, route, status.as_str()];
            (self.requests.with_label_values(&labels), self.latency.with_label_values(&labels))
        };
        // Clients choose the method: only the standard ones are kept, so the cache is bounded
        // by methods x routes x statuses.
        let Some(method) = standard_method(method) else {
            let (count, latency) = series();
            count.inc();
            latency.observe(seconds);
            return;
        };
        SERIES.with(|cache| {
            let mut cache = cache.borrow_mut();
            // HashMap is covariant in its key: looked up with the route's borrowed name.
            let view: &HashMap<SeriesKey<'_>, (IntCounter, Histogram)> = &cache;
            if let Some((count, latency)) = view.get(&(method, route, status)) {
                count.inc();
                latency.observe(seconds);
                return;
            }
            let (count, latency) = series();
            count.inc();
            latency.observe(seconds);
            // Route names are the app's patterns (and `unmatched`): a bounded set, kept for
            // the life of the thread.
            let route: &'static str = Box::leak(route.to_string().into_boxed_str());
            cache.insert((method, route, status), (count, latency));
        });
    }

    /// Records the verdict of a compatibility endpoint call.
    pub fn compatibility_check(&self, compatible: bool) {
        self.compatibility_checks.with_label_values(&[if compatible { "compatible" } else { "incompatible" }]).inc();
    }

    /// The text exposition, with the data gauges refreshed from `registry`.
    pub fn render(&self, registry: &Registry) -> String {
        {
            let idx = registry.store().read();
            let live = |vs: &std::collections::BTreeMap<u32, crate::types::VersionState>| {
                vs.values().filter(|s| !s.deleted).count()
            };
            self.subjects.set(idx.subjects.values().filter(|vs| live(vs) > 0).count() as i64);
            self.versions.set(idx.subjects.values().map(|vs| live(vs)).sum::<usize>() as i64);
            self.schemas.set(idx.schemas.len() as i64);
        }
        self.disk_bytes.set(registry.store().size_on_disk() as i64);
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        if let Some(log) = registry.store().kafka() {
            let stats = log.stats();
            let applied = stats.applied_offset.load(Ordering::Acquire);
            let end = stats.end_offset.load(Ordering::Acquire);
            let k = &self.kafka;
            k.applied_offset.set(applied);
            k.end_offset.set(end);
            k.lag.set((end - 1 - applied).max(0));
            let skipped = |reason: &str, n: &AtomicU64| {
                let counter = k.skipped.with_label_values(&[reason]);
                counter.inc_by(n.load(Ordering::Acquire).saturating_sub(counter.get()));
            };
            skipped("unknown_keytype", &stats.unknown_records);
            skipped("malformed", &stats.malformed_records);
            skipped("conflict", &stats.conflicting_records);
            let role = registry.role();
            for name in ["leader", "follower", "unknown"] {
                k.role.with_label_values(&[name]).set(i64::from(role_name(&role) == name));
            }
            k.leader_changes.inc_by(log.leader_changes().saturating_sub(k.leader_changes.get()));
            let _ = TextEncoder::new().encode(&k.registry.gather(), &mut out);
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The name `/metrics` and `/health/ready` give a role.
pub fn role_name(role: &NodeRole) -> &'static str {
    match role {
        NodeRole::Leader => "leader",
        NodeRole::Follower(_) => "follower",
        NodeRole::Unknown(_) => "unknown",
    }
}

thread_local! {
    /// Each worker's handles of the request series it has seen, so the label lookup (hashing,
    /// validation and a lock inside the prometheus crate) runs once per series and thread
    /// rather than on every request.
    static SERIES: RefCell<HashMap<SeriesKey<'static>, (IntCounter, Histogram)>> = RefCell::new(HashMap::new());
}

/// Method, route and status of a request series.
type SeriesKey<'a> = (&'a str, &'a str, u16);

/// The method's name when it is one of HTTP's standard methods.
fn standard_method(method: &str) -> Option<&'static str> {
    ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT"].into_iter().find(|m| *m == method)
}

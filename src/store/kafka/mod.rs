//! The Kafka-backed store: the registry's state as records in a compacted one-partition
//! topic, in Confluent's `_schemas` format, so that Confluent Schema Registry, Karapace and
//! Schemata nodes read each other's writes.
//!
//! A write becomes records (`records::for_changes`) produced with acks=all by an idempotent
//! producer; it is answered once this node's reader (`reader`) has applied those records from
//! the topic, exactly as it applies anyone else's (read-your-writes, as Confluent waits for
//! its own offset). The reader caches what it applied, with the offset, in the local sled
//! database, so a restart resumes from there.

pub mod election;
mod leadership;
mod reader;
pub mod records;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use super::error::StoreError;
pub use leadership::{ElectionSettings, NodeRole};
pub(super) use reader::start as start_reader;
use records::Record;

/// Where the state lives and how to reach it.
#[derive(Clone, Debug)]
pub struct KafkaSettings {
    /// `bootstrap.servers`: HOST:PORT,...
    pub bootstrap: String,
    pub topic: String,
    /// The registry's group, for leader election.
    pub group_id: String,
    /// Replication factor of a topic Schemata creates.
    pub replication_factor: i32,
    /// librdkafka settings for every client (security, SASL, TLS...).
    pub client_config: Vec<(String, String)>,
    /// How long a write may take to be acknowledged and read back.
    pub timeout: Duration,
    /// How the node takes part in leader election; `None`: it writes without one (a node
    /// that must be the only one on its topic).
    pub election: Option<ElectionSettings>,
}

impl KafkaSettings {
    /// A client configuration: `defaults`, then the user's `--kafka-config` settings over
    /// them (so a user can tune any of them).
    fn client(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        config.set("client.id", "schemata");
        for (key, value) in defaults {
            config.set(*key, *value);
        }
        for (key, value) in &self.client_config {
            config.set(key, value);
        }
        config
    }
}

/// The node's connection to its topic: the producer writes go through, and the reader's
/// progress that writers wait on.
pub struct KafkaLog {
    settings: KafkaSettings,
    /// Rebuilt after a fatal error (an idempotent producer that lost its sequence state).
    producer: Mutex<Arc<FutureProducer>>,
    /// A plain producer for NOOP records, made on first use.
    noop_producer: Mutex<Option<Arc<FutureProducer>>>,
    /// Set when the node takes part in leader election.
    leadership: OnceLock<Arc<leadership::Leadership>>,
    /// Offsets of the latest records the reader skipped as conflicts, for their writers.
    rejected: Mutex<VecDeque<i64>>,
    /// The offset of the last record applied (-1: none yet), with its condition variable.
    applied: Mutex<i64>,
    applied_changed: Condvar,
    /// Why the node is not ready; `None` once it has caught up with the topic.
    not_ready: Mutex<Option<String>>,
    stop: AtomicBool,
    stats: Stats,
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Stats {
    /// The last offset applied (-1: none).
    pub applied_offset: AtomicI64,
    /// The log end offset the reader last saw.
    pub end_offset: AtomicI64,
    /// Records with a key type this build does not know, skipped.
    pub unknown_records: AtomicU64,
    /// Records that could not be read (bad JSON, missing fields), skipped and logged.
    pub malformed_records: AtomicU64,
    /// SCHEMA records skipped because an earlier record took their id or version.
    pub conflicting_records: AtomicU64,
}

/// How many skipped offsets are remembered for their writers (a writer looks right after
/// its records were applied, so only the newest matter).
const REJECTED_KEPT: usize = 1024;

impl KafkaLog {
    pub(super) fn new(settings: KafkaSettings) -> Result<KafkaLog, StoreError> {
        let producer = Self::producer(&settings)?;
        Ok(KafkaLog {
            settings,
            producer: Mutex::new(Arc::new(producer)),
            noop_producer: Mutex::new(None),
            leadership: OnceLock::new(),
            rejected: Mutex::new(VecDeque::new()),
            applied: Mutex::new(-1),
            applied_changed: Condvar::new(),
            not_ready: Mutex::new(Some("connecting to the Kafka brokers".into())),
            stop: AtomicBool::new(false),
            stats: Stats::default(),
        })
    }

    fn producer(settings: &KafkaSettings) -> Result<FutureProducer, StoreError> {
        let timeout_ms = settings.timeout.as_millis().max(1).to_string();
        let defaults = [("enable.idempotence", "true"), ("acks", "all"), ("linger.ms", "1")];
        settings
            .client(&defaults)
            .set("message.timeout.ms", &timeout_ms)
            .create()
            .map_err(|e| StoreError::Kafka(e.to_string()))
    }

    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// `Ok` once the reader has caught up with the log end it saw on connecting.
    pub(super) fn ready(&self) -> Result<(), String> {
        match &*self.not_ready.lock() {
            None => Ok(()),
            Some(reason) => Err(reason.clone()),
        }
    }

    fn set_not_ready(&self, reason: Option<String>) {
        *self.not_ready.lock() = reason;
    }

    /// Starts leader election, when the settings ask for it.
    pub(super) fn start_election(log: &Arc<KafkaLog>, incarnation: election::Incarnation) {
        let Some(election) = &log.settings.election else {
            return;
        };
        leadership::Leadership::start(log, election, incarnation);
    }

    /// Whether this node may write now, or where writes go.
    pub fn role(&self) -> NodeRole {
        match self.leadership.get() {
            None => NodeRole::Leader,
            Some(leadership) => leadership.role(),
        }
    }

    /// How many times the elected leader changed since the start (0 without election).
    pub fn leader_changes(&self) -> u64 {
        self.leadership.get().map_or(0, |l| l.changes())
    }

    /// The offset of the last record applied (-1: none).
    pub fn applied(&self) -> i64 {
        *self.applied.lock()
    }

    /// Waits until the reader has applied `offset`, at most the write timeout.
    pub fn wait_applied(&self, offset: i64) -> Result<(), StoreError> {
        let deadline = Instant::now() + self.settings.timeout;
        let mut applied = self.applied.lock();
        while *applied < offset {
            if self.applied_changed.wait_until(&mut applied, deadline).timed_out() {
                return Err(StoreError::Timeout(format!(
                    "the record at offset {offset} of the Kafka topic {} was not read back within {} ms",
                    self.settings.topic,
                    self.settings.timeout.as_millis()
                )));
            }
        }
        Ok(())
    }

    /// Reads the topic up to its end as of now (a NOOP record, as Confluent's writers do);
    /// returns the NOOP's offset.
    pub fn sync(&self) -> Result<i64, StoreError> {
        let offset = self.noop()?;
        self.wait_applied(offset)?;
        Ok(offset)
    }

    pub(super) fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(leadership) = self.leadership.get() {
            leadership.stop();
        }
    }

    /// Called by the reader for a record it skipped as a conflict.
    fn reject(&self, offset: i64) {
        self.stats.conflicting_records.fetch_add(1, Ordering::Relaxed);
        let mut rejected = self.rejected.lock();
        if rejected.len() == REJECTED_KEPT {
            rejected.pop_front();
        }
        rejected.push_back(offset);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Called by the reader after it applied records up to `offset`.
    fn advance(&self, offset: i64) {
        let mut applied = self.applied.lock();
        *applied = offset;
        self.stats.applied_offset.store(offset, Ordering::Release);
        self.applied_changed.notify_all();
    }

    /// Produces `records` in order and waits until the reader has applied the last one.
    pub(super) fn append(&self, records: Vec<Record>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        if let Err(reason) = self.ready() {
            return Err(StoreError::NotReady(format!("The registry is not ready to write: {reason}")));
        }
        match self.role() {
            NodeRole::Leader => {}
            NodeRole::Follower(url) => {
                return Err(StoreError::NotLeader(format!("This node no longer leads; the leader is {url}.")))
            }
            NodeRole::Unknown(reason) => {
                return Err(StoreError::NotLeader(format!("This node may not write: {reason}.")))
            }
        }
        let producer = self.producer.lock().clone();
        let mut deliveries = Vec::with_capacity(records.len());
        for record in &records {
            let mut out = FutureRecord::to(&self.settings.topic).key(&record.key).partition(0);
            if let Some(value) = &record.value {
                out = out.payload(value);
            }
            match producer.send_result(out) {
                Ok(delivery) => deliveries.push(delivery),
                Err((e, _)) => return Err(self.failed(&producer, e)),
            }
        }
        let mut offsets = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            // The producer's message timeout bounds each delivery; a dropped one is an error.
            match futures_executor::block_on(delivery) {
                Ok(Ok(delivered)) => offsets.push(delivered.offset),
                Ok(Err((e, _))) => return Err(self.failed(&producer, e)),
                Err(_) => return Err(StoreError::Kafka("the producer dropped the write".into())),
            }
        }
        let last = offsets.iter().copied().max().unwrap_or(-1);
        self.wait_applied(last).map_err(|_| {
            StoreError::Timeout(format!(
                "Write to the Kafka topic {} was acknowledged (offset {last}) but not read back within {} ms",
                self.settings.topic,
                self.settings.timeout.as_millis()
            ))
        })?;
        let rejected = self.rejected.lock();
        if let Some(offset) = offsets.iter().find(|o| rejected.contains(o)) {
            return Err(StoreError::NotLeader(format!(
                "This node lost the leadership while writing: another leader wrote first, so the record at offset \
                 {offset} was not applied. Retry the request."
            )));
        }
        Ok(())
    }

    /// Writes a NOOP record and returns its offset: the log end as of now. A plain producer
    /// of its own: the idempotent one spends its first second getting a producer id, which
    /// would delay every start by that much, and a repeated NOOP is harmless.
    fn noop(&self) -> Result<i64, StoreError> {
        let producer = {
            let mut cached = self.noop_producer.lock();
            match &*cached {
                Some(producer) => producer.clone(),
                None => {
                    let timeout_ms = self.settings.timeout.as_millis().max(1).to_string();
                    let producer: FutureProducer = self
                        .settings
                        .client(&[("acks", "all"), ("linger.ms", "0")])
                        .set("message.timeout.ms", &timeout_ms)
                        .create()
                        .map_err(|e| StoreError::Kafka(e.to_string()))?;
                    cached.insert(Arc::new(producer)).clone()
                }
            }
        };
        let key = records::noop_key()?;
        let delivery = producer
            .send_result(FutureRecord::<Vec<u8>, Vec<u8>>::to(&self.settings.topic).key(&key).partition(0))
            .map_err(|(e, _)| StoreError::Kafka(e.to_string()))?;
        match futures_executor::block_on(delivery) {
            Ok(Ok(delivered)) => Ok(delivered.offset),
            Ok(Err((e, _))) => Err(StoreError::Kafka(e.to_string())),
            Err(_) => Err(StoreError::Kafka("the producer dropped the NOOP".into())),
        }
    }

    /// The error for a failed produce; a producer in a fatal state is replaced, so that the
    /// next write starts a fresh idempotent session.
    fn failed(&self, producer: &Arc<FutureProducer>, e: KafkaError) -> StoreError {
        let fatal = producer.client().fatal_error().is_some();
        if fatal {
            if let Ok(fresh) = Self::producer(&self.settings) {
                let mut current = self.producer.lock();
                if Arc::ptr_eq(&current, producer) {
                    *current = Arc::new(fresh);
                }
            }
        }
        let _ = producer.flush(Timeout::After(Duration::ZERO));
        match e.rdkafka_error_code() {
            Some(RDKafkaErrorCode::MessageTimedOut) | Some(RDKafkaErrorCode::RequestTimedOut) => {
                StoreError::Timeout(format!(
                    "Write to the Kafka topic {} timed out after {} ms: {e}",
                    self.settings.topic,
                    self.settings.timeout.as_millis()
                ))
            }
            _ => StoreError::Kafka(e.to_string()),
        }
    }
}

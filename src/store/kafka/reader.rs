//! The node's reader: one thread that connects to the topic (creating it if missing and
//! refusing one Confluent would refuse), then applies every record in offset order to the
//! index and the local cache, forever. Writers wait on its progress (`KafkaLog::advance`).
//! While the brokers cannot be reached it retries with backoff, and readiness says why.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};

use super::records::{self, Read};
use super::KafkaLog;
use crate::store::Store;

/// How long one metadata or admin call may take before the attempt is retried.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the reader asks the broker for the log end (the lag metric).
const END_CHECK_EVERY: Duration = Duration::from_secs(5);
/// Most records applied (and cached) in one step.
const BATCH: usize = 5000;

pub(in crate::store) fn start(store: Arc<Store>, log: Arc<KafkaLog>) {
    let spawned = std::thread::Builder::new().name("kafka-reader".into()).spawn(move || run(&store, &log));
    if let Err(e) = spawned {
        tracing::error!("cannot start the Kafka reader thread: {e}");
        std::process::exit(1);
    }
}

/// Why connecting failed: worth retrying (brokers away), or a topic to fix by hand.
enum Failure {
    Retry(String),
    Fatal(String),
}

fn run(store: &Store, log: &KafkaLog) {
    let mut backoff = Duration::from_millis(200);
    while !log.stopping() {
        match connect(store, log) {
            Ok((consumer, target)) => {
                backoff = Duration::from_millis(200);
                if let Err(e) = consume(store, log, &consumer, target) {
                    tracing::error!("{e}; reading the topic again");
                    if let Err(e) = store.reset_from_log() {
                        tracing::error!("cannot clear the local cache: {e}");
                        std::process::exit(1);
                    }
                    log.advance(-1);
                }
            }
            Err(Failure::Fatal(message)) => {
                tracing::error!("{message}");
                eprintln!("schemata: {message}");
                std::process::exit(1);
            }
            Err(Failure::Retry(message)) => {
                let reason = format!(
                    "cannot reach the Kafka topic {} on {}: {message}; retrying",
                    log.settings.topic, log.settings.bootstrap
                );
                tracing::warn!("{reason}");
                log.set_not_ready(Some(reason));
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Checks (or creates) the topic, and positions a consumer after the last cached offset.
/// Returns the consumer and the log end offset to catch up with.
fn connect(store: &Store, log: &KafkaLog) -> Result<(BaseConsumer, i64), Failure> {
    let settings = &log.settings;
    let topic = settings.topic.as_str();
    let admin: AdminClient<DefaultClientContext> =
        settings.client(&[]).create().map_err(|e| Failure::Fatal(format!("bad Kafka client settings: {e}")))?;
    let mut partitions = partition_count(&admin, topic)?;
    if partitions == 0 {
        create_topic(&admin, log)?;
        partitions = partition_count(&admin, topic)?;
    }
    if partitions != 1 {
        return Err(Failure::Fatal(format!(
            "The schema topic {topic} should have only 1 partition but has {partitions}: records must be read \
             in one order. Use a one-partition compacted topic (--kafka-topic), as Confluent Schema Registry \
             requires too."
        )));
    }
    check_compacted(&admin, topic)?;
    tracing::debug!("topic checked");

    let group = format!("{}-reader", settings.group_id);
    let defaults = [
        // A broker that does not end a fetch early when records arrive (tansu) would
        // otherwise hold every write for librdkafka's default 500 ms.
        ("fetch.wait.max.ms", "20"),
        ("group.id", group.as_str()),
    ];
    let consumer: BaseConsumer = settings
        .client(&defaults)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(|e| Failure::Fatal(format!("bad Kafka client settings: {e}")))?;
    let (_, end) = consumer.fetch_watermarks(topic, 0, CALL_TIMEOUT).map_err(|e| Failure::Retry(e.to_string()))?;
    log.stats.end_offset.store(end, Ordering::Release);
    let mut cached = store.local.applied_offset().map_err(|e| Failure::Fatal(e.to_string()))?.unwrap_or(-1);
    if cached >= 0 && end == 0 {
        tracing::warn!("the local cache reaches offset {cached} but the topic {topic} is empty: reading it anew");
        store.reset_from_log().map_err(|e| Failure::Fatal(e.to_string()))?;
        cached = -1;
    }
    log.advance(cached);
    // Resume at the last applied record itself, not after it: finding it there proves the
    // topic is the one cached (a recreated, shorter topic answers from an earlier offset; see
    // `consume`). The log end offset is not trusted for that: some brokers under-report it.
    let mut assignment = TopicPartitionList::new();
    let start = if cached < 0 { Offset::Beginning } else { Offset::Offset(cached) };
    assignment.add_partition_offset(topic, 0, start).map_err(|e| Failure::Fatal(e.to_string()))?;
    consumer.assign(&assignment).map_err(|e| Failure::Retry(e.to_string()))?;
    // As Confluent does: a NOOP record marks the true log end (some brokers under-report
    // the high watermark), and the node is ready once it has read up to it.
    tracing::debug!("watermarks read; writing a NOOP");
    let end = match log.noop() {
        Ok(offset) => offset + 1,
        Err(e) => {
            tracing::warn!("cannot write a NOOP record to find the log end ({e}); using the high watermark {end}");
            end
        }
    };
    log.stats.end_offset.store(end, Ordering::Release);
    if cached + 1 >= end {
        caught_up(log, cached);
    } else {
        log.set_not_ready(Some(format!("catching up with the Kafka topic {topic}: at offset {cached} of {end}")));
        tracing::info!(from = cached + 1, to = end, "reading the Kafka topic {topic}");
    }
    Ok((consumer, end))
}

/// The topic's partition count; 0 when it does not exist.
fn partition_count(admin: &AdminClient<DefaultClientContext>, topic: &str) -> Result<usize, Failure> {
    let metadata =
        admin.inner().fetch_metadata(Some(topic), CALL_TIMEOUT).map_err(|e| Failure::Retry(e.to_string()))?;
    let Some(found) = metadata.topics().iter().find(|t| t.name() == topic) else {
        return Ok(0);
    };
    match found.error() {
        None => Ok(found.partitions().len()),
        Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition => Ok(0),
        Some(e) => Err(Failure::Retry(format!("metadata of {topic}: {}", RDKafkaErrorCode::from(e)))),
    }
}

fn create_topic(admin: &AdminClient<DefaultClientContext>, log: &KafkaLog) -> Result<(), Failure> {
    let settings = &log.settings;
    let factor = settings.replication_factor;
    let topic = NewTopic::new(&settings.topic, 1, TopicReplication::Fixed(factor)).set("cleanup.policy", "compact");
    let options = AdminOptions::new().operation_timeout(Some(CALL_TIMEOUT)).request_timeout(Some(CALL_TIMEOUT));
    let results = futures_executor::block_on(admin.create_topics([&topic], &options))
        .map_err(|e| Failure::Retry(format!("creating the topic: {e}")))?;
    for result in results {
        match result {
            Ok(name) => tracing::info!(replication_factor = factor, "created the Kafka topic {name} (compacted)"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, RDKafkaErrorCode::InvalidReplicationFactor)) => {
                return Err(Failure::Fatal(format!(
                    "The Kafka brokers refused to create the topic {name} with replication factor {factor} \
                     (more than the brokers there are?): set --kafka-replication-factor to at most the number \
                     of brokers (1 for a one-broker cluster), or create the topic yourself"
                )))
            }
            Err((name, code)) => {
                return Err(Failure::Fatal(format!("The Kafka brokers refused to create the topic {name}: {code}")))
            }
        }
    }
    Ok(())
}

/// Refuses a topic that is not compacted: deleting old records would lose schemas.
fn check_compacted(admin: &AdminClient<DefaultClientContext>, topic: &str) -> Result<(), Failure> {
    let options = AdminOptions::new().request_timeout(Some(CALL_TIMEOUT));
    let results = futures_executor::block_on(admin.describe_configs([&ResourceSpecifier::Topic(topic)], &options))
        .map_err(|e| Failure::Retry(format!("describing the topic: {e}")))?;
    for result in results {
        let resource = result.map_err(|e| Failure::Retry(format!("describing the topic: {e}")))?;
        let policy = resource.get("cleanup.policy").and_then(|entry| entry.value.clone());
        match policy {
            Some(policy) if policy == "compact" => {}
            other => {
                return Err(Failure::Fatal(format!(
                    "The retention policy of the schema topic {topic} is incorrect. Expected cleanup.policy to \
                     be 'compact' but it is {}: Kafka would delete old schemas. Change it with kafka-configs \
                     --alter --entity-type topics --entity-name {topic} --add-config cleanup.policy=compact \
                     (Confluent Schema Registry refuses such a topic too)",
                    other.unwrap_or_else(|| "unset".into())
                )))
            }
        }
    }
    Ok(())
}

fn caught_up(log: &KafkaLog, offset: i64) {
    if log.ready().is_err() {
        tracing::info!(offset, "caught up with the Kafka topic {}", log.settings.topic);
    }
    log.set_not_ready(None);
}

/// Applies records as they come until the node stops. An error is a failure of the local
/// cache or a recreated topic (the caller then re-reads the topic).
fn consume(
    store: &Store,
    log: &KafkaLog,
    consumer: &BaseConsumer,
    target: i64,
) -> Result<(), crate::store::StoreError> {
    let mut batch: Vec<OwnedMessage> = Vec::new();
    let mut last_error: Option<Instant> = None;
    let mut last_end_check = Instant::now();
    while !log.stopping() {
        let mut wait = Duration::from_millis(100);
        while batch.len() < BATCH {
            match consumer.poll(wait) {
                Some(Ok(message)) => batch.push(message.detach()),
                Some(Err(e)) => {
                    // librdkafka reconnects by itself; say so at most every 10 s.
                    if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        tracing::warn!("reading the Kafka topic: {e}");
                        last_error = Some(Instant::now());
                    }
                    break;
                }
                None => break,
            }
            wait = Duration::ZERO;
        }
        // The log end, for the lag metric: asked of the broker every few seconds.
        if last_end_check.elapsed() > END_CHECK_EVERY {
            last_end_check = Instant::now();
            if let Ok((_, end)) = consumer.fetch_watermarks(&log.settings.topic, 0, Duration::from_secs(1)) {
                log.stats.end_offset.store(end, Ordering::Release);
            }
        }
        // The record the node resumed at was applied before; an earlier one means the topic
        // is not the one cached.
        let applied = *log.applied.lock();
        if let Some(first) = batch.first().map(|m| m.offset()) {
            if applied >= 0 && first < applied {
                return Err(crate::store::StoreError::Kafka(format!(
                    "the topic {} starts again at offset {first} below the cached offset {applied}: it was recreated",
                    log.settings.topic
                )));
            }
        }
        batch.retain(|m| m.offset() > applied);
        let Some(last) = batch.last().map(|m| m.offset()) else {
            continue;
        };
        store.apply_from_log(last, |idx| {
            let mut applied = Vec::new();
            for message in &batch {
                match records::read(message.key(), message.payload(), idx) {
                    Ok(Read::Apply(changes)) => {
                        for change in changes {
                            idx.apply(change.clone());
                            applied.push(change);
                        }
                    }
                    Ok(Read::Conflict(conflict)) => {
                        log.reject(message.offset());
                        tracing::warn!(
                            offset = message.offset(),
                            "skipped a record written by a deposed leader: {conflict}"
                        );
                    }
                    Ok(Read::Unknown(keytype)) => {
                        log.stats.unknown_records.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(offset = message.offset(), keytype, "skipped a record of an unknown key type");
                    }
                    Err(e) => {
                        log.stats.malformed_records.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(offset = message.offset(), "skipped a malformed record: {e}");
                    }
                }
            }
            applied
        })?;
        batch.clear();
        log.advance(last);
        if last + 1 >= target {
            caught_up(log, last);
        }
    }
    Ok(())
}

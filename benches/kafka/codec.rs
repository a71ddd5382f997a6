//! The codec on the Kafka path (part of `benches/kafka.rs`, `--only-codec` alone): what
//! framing typed records with `schemata-codec` costs a producer and a consumer, against the
//! same broker, producer and consumer moving bytes alone, in one run.
//!
//! - produce typed: a serde struct (built before the clock starts) encoded per record (`RegistryClient::avro_encode`, schema
//!   id cached after the first) and sent;
//! - produce pre-encoded: the same records' bytes, encoded before the clock starts, sent;
//! - consume raw: the records received, payloads touched;
//! - consume + decode: received and decoded into the struct (`RegistryClient::avro_decode`).
//!
//! Each case runs `--codec-rounds` times (default 3), alternating, and its best round counts;
//! `--codec-records` records per round (default 200k). Records go through librdkafka with its
//! default settings (linger 5 ms), one partition, a delivery report awaited for every record;
//! both produce loops run in one async task, as the `produce` example's does.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use schemata_codec::avro::AvroCodec;
use schemata_codec::client::{RegistryClient, Schema, SerializerConfig};
use serde::{Deserialize, Serialize};

use crate::support::{free_addr, num, spawn_schemata, wait_ready, Killed};

const PAYMENT: &str = r#"{"type":"record","name":"Payment","namespace":"bench","fields":[
    {"name":"id","type":"long"},{"name":"account","type":"string"},{"name":"amount","type":"double"},
    {"name":"currency","type":"string"},{"name":"note","type":["null","string"],"default":null},
    {"name":"tags","type":{"type":"array","items":"string"}}]}"#;

/// A typical small record: about 60 bytes encoded.
#[derive(Serialize, Deserialize)]
struct Payment {
    id: i64,
    account: String,
    amount: f64,
    currency: String,
    note: Option<String>,
    tags: Vec<String>,
}

fn payment(i: usize) -> Payment {
    Payment {
        id: i as i64,
        account: format!("acct-{:06}", i % 100_000),
        amount: i as f64 * 0.25,
        currency: "EUR".into(),
        note: i.is_multiple_of(3).then(|| "refund".to_string()),
        tags: vec!["web".into(), format!("region-{}", i % 8)],
    }
}

/// Delivery reports awaited at most this far behind the records sent.
const IN_FLIGHT: usize = 50_000;

pub fn run(schemata: &str, broker: &str, parent: &std::path::Path) {
    let records = num("--codec-records", 200_000);
    let rounds = num("--codec-rounds", 3);
    let addr = free_addr();
    let mut node = Killed(spawn_schemata(schemata, &addr, &parent.join("codec")));
    wait_ready(&addr, "/", &mut node.0, Instant::now());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let client = RegistryClient::new(&format!("http://{addr}")).expect("client");
    let codec = AvroCodec::new();
    let schema = Schema::avro(PAYMENT);
    let config = SerializerConfig::default();
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", broker).create().expect("producer");

    // The first record registers the schema (over HTTP: the runtime drives it); every later
    // one finds its id in the client's cache and its parsed schema in the codec, so their
    // futures complete at once, without the runtime.
    rt.block_on(client.avro_encode(&codec, &config, "payments", &schema, &payment(0))).expect("register");
    let rows: Vec<Payment> = (0..records).map(payment).collect();
    let encode = |i: usize| {
        futures_executor::block_on(client.avro_encode(&codec, &config, "payments", &schema, &rows[i])).expect("encode")
    };
    let t = Instant::now();
    let pre_encoded: Vec<Vec<u8>> = (0..records).map(encode).collect();
    let encoding = t.elapsed();
    let bytes: usize = pre_encoded.iter().map(Vec::len).sum();
    println!();
    println!(
        "codec on the Kafka path: {records} Avro records ({} bytes each on average), {rounds} rounds, best counts",
        bytes / records
    );
    println!("encoding alone (RegistryClient::avro_encode): {} ns per record", encoding.as_nanos() / records as u128);
    // The same without storing the bytes, then without the client (the writer schema held).
    let per_record = |f: &dyn Fn(usize) -> usize| {
        let t = Instant::now();
        let total: usize = (0..records).map(f).sum();
        std::hint::black_box(total);
        t.elapsed().as_nanos() / records as u128
    };
    let through_client = per_record(&|i| encode(i).len());
    let key = schemata_codec::wire::parse(&pre_encoded[0]).expect("framed").schema;
    let writer = codec.get(key).expect("writer cached");
    let direct = per_record(&|i| writer.encode_framed(key, &rows[i]).expect("encode").len());
    println!("  dropped at once: {through_client} ns through the client, {direct} ns with the writer schema at hand");

    let (mut typed, mut raw_produce, mut raw_consume, mut decoded) = (0f64, 0f64, 0f64, 0f64);
    for round in 0..rounds {
        let topic = |case: &str| format!("codec-{case}-{round}");
        for t in [topic("raw"), topic("typed")] {
            create_topic(broker, &t);
        }
        let raw_topic = topic("raw");
        let elapsed = rt.block_on(async {
            let t = Instant::now();
            let mut sender = Sender::new(&producer, &raw_topic);
            for bytes in &pre_encoded {
                sender.send(bytes).await;
            }
            sender.finish().await;
            t.elapsed()
        });
        raw_produce = raw_produce.max(records as f64 / elapsed.as_secs_f64());
        let typed_topic = topic("typed");
        let elapsed = rt.block_on(async {
            let t = Instant::now();
            let mut sender = Sender::new(&producer, &typed_topic);
            for row in &rows {
                let bytes = client.avro_encode(&codec, &config, "payments", &schema, row).await.expect("encode");
                sender.send(&bytes).await;
            }
            sender.finish().await;
            t.elapsed()
        });
        typed = typed.max(records as f64 / elapsed.as_secs_f64());

        let elapsed = consume(broker, &topic("typed"), records, |payload| {
            std::hint::black_box(payload.len());
        });
        raw_consume = raw_consume.max(records as f64 / elapsed.as_secs_f64());
        let elapsed = consume(broker, &topic("typed"), records, |payload| {
            let p: Payment = futures_executor::block_on(client.avro_decode(&codec, payload)).expect("decode");
            std::hint::black_box(p.id);
        });
        decoded = decoded.max(records as f64 / elapsed.as_secs_f64());
    }
    println!("{:<44} {:>12}", "", "records/s");
    println!("{:<44} {:>12.0}", "produce pre-encoded bytes", raw_produce);
    println!("{:<44} {:>12.0}", "produce typed records through the codec", typed);
    println!("{:<44} {:>12.0}", "consume raw bytes", raw_consume);
    println!("{:<44} {:>12.0}", "consume and decode through the codec", decoded);
    println!("produce typed / pre-encoded: {:.2}x", typed / raw_produce);
    println!("consume+decode / raw: {:.2}x", decoded / raw_consume);
}

fn create_topic(broker: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", broker).create().expect("admin");
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    for r in futures_executor::block_on(admin.create_topics([&new], &AdminOptions::new())).expect("create topic") {
        r.expect("topic created");
    }
}

/// Sends records to a topic, awaiting delivery reports a window behind (as the `produce`
/// example does), in the caller's async task.
struct Sender<'a> {
    producer: &'a FutureProducer,
    topic: &'a str,
    pending: VecDeque<DeliveryFuture>,
}

impl<'a> Sender<'a> {
    fn new(producer: &'a FutureProducer, topic: &'a str) -> Sender<'a> {
        Sender { producer, topic, pending: VecDeque::with_capacity(IN_FLIGHT) }
    }

    async fn send(&mut self, bytes: &[u8]) {
        let mut record = FutureRecord::<(), [u8]>::to(self.topic).payload(bytes);
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => break self.pending.push_back(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) if !self.pending.is_empty() => {
                    record = back;
                    self.oldest().await;
                }
                Err((e, _)) => panic!("produce: {e}"),
            }
        }
        if self.pending.len() >= IN_FLIGHT {
            self.oldest().await;
        }
    }

    async fn oldest(&mut self) {
        let report = self.pending.pop_front().expect("a pending delivery").await.expect("producer alive");
        report.map_err(|(e, _)| e).expect("delivered");
    }

    /// Waits for every delivery report.
    async fn finish(mut self) {
        while !self.pending.is_empty() {
            self.oldest().await;
        }
    }
}

/// Receives `records` records of `topic` from the beginning with a fresh consumer, handing
/// each payload to `each`; the time from the first record to the last.
fn consume(broker: &str, topic: &str, records: usize, mut each: impl FnMut(&[u8])) -> Duration {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("group.id", "codec-bench")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Beginning).expect("partition");
    consumer.assign(&assignment).expect("assign");
    let mut t = None;
    let mut seen = 0;
    while seen < records {
        let Some(message) = consumer.poll(Duration::from_secs(10)) else { panic!("{topic}: no record in 10 s") };
        let message = message.expect("record");
        t.get_or_insert_with(Instant::now);
        each(message.payload().expect("a value"));
        seen += 1;
    }
    t.map_or(Duration::ZERO, |t| t.elapsed())
}

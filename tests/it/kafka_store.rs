//! The Kafka-backed store against a real Kafka-protocol broker (tansu, on loopback): what only
//! that mode has. The rest of the API is proven by running the HTTP suites with
//! `SCHEMATA_TEST_KAFKA` set (scripts/test.sh), and Confluent-format interop by the Python
//! tests. Here: restarts from the local cache, a second node reading the topic, topics that
//! must be refused, data directories of the other mode, and the faults (no broker at start,
//! a broker lost while serving).

use std::time::{Duration, Instant};

use crate::common::*;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use serde_json::json;

const ENUM: &str = r#"{"type":"enum","name":"E","symbols":["A"]}"#;

fn record(name: &str) -> String {
    format!(r#"{{"type":"record","name":"{name}","fields":[{{"name":"f","type":"string"}}]}}"#)
}

/// Creates a topic as an operator might have, bypassing Schemata.
fn create_topic(bootstrap: &str, topic: &str, partitions: i32, config: &[(&str, &str)]) {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().expect("admin client");
    let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for (k, v) in config {
        new = new.set(k, v);
    }
    let results = futures_executor::block_on(admin.create_topics([&new], &AdminOptions::new())).expect("create");
    for r in results {
        r.expect("topic created");
    }
}

/// A metric's value from `/metrics`.
fn metric(s: &Server, name: &str) -> Option<f64> {
    let text = s.raw("GET", "/metrics", None, None, &[]).text;
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn a_restart_resumes_from_the_local_cache_and_a_new_node_reads_the_topic() {
    let broker = Broker::start();
    let topic = fresh_topic();
    let mut a = Server::start_kafka(&broker.bootstrap(), &topic, &[]);
    assert_eq!(a.put("/config", json!({"compatibility": "NONE"})).0, 200);
    let ids: Vec<u64> = (0..20).map(|i| a.register(&format!("s{}", i % 3), &record(&format!("R{i}")))).collect();
    a.set_level("s1", "FULL");
    assert_eq!(a.delete("/subjects/s2").0, 200);
    let applied = metric(&a, "schemata_kafka_applied_offset").expect("applied offset metric");
    assert!(applied >= 20.0, "applied offset {applied}");
    assert_eq!(metric(&a, "schemata_kafka_lag"), Some(0.0));

    // The same node restarted reads nothing again: it starts after its cached offset.
    a.restart();
    // A new node with an empty data directory reads the whole topic.
    let b = Server::start_kafka(&broker.bootstrap(), &topic, &[]);
    for s in [&a, &b] {
        assert_eq!(s.get("/subjects").1, json!(["s0", "s1"]));
        assert_eq!(s.get("/subjects?deleted=true").1, json!(["s0", "s1", "s2"]));
        assert_eq!(s.get("/config/s1").1, json!({"compatibilityLevel": "FULL"}));
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(s.get(&format!("/schemas/ids/{id}")).1["schema"], json!(record(&format!("R{i}"))));
        }
    }
    // Both keep writing to one topic: a write on one is read by the other.
    let id = b.register("s0", ENUM);
    assert!(id > *ids.iter().max().unwrap(), "id {id} reused");
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.get(&format!("/schemas/ids/{id}")).0 != 200 {
        assert!(Instant::now() < deadline, "node a never read node b's write");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn topics_confluent_would_refuse_are_refused_at_start() {
    let broker = Broker::start();
    let two = fresh_topic();
    create_topic(&broker.bootstrap(), &two, 2, &[("cleanup.policy", "compact")]);
    let dir = tempfile::TempDir::new().unwrap();
    let (status, log) = run_expecting_exit_with(&dir.path().join("a"), &kafka_args(&broker.bootstrap(), &two));
    assert!(!status.success());
    assert!(log.contains(&format!("The schema topic {two} should have only 1 partition but has 2")), "{log}");

    let deleting = fresh_topic();
    create_topic(&broker.bootstrap(), &deleting, 1, &[("cleanup.policy", "delete")]);
    let (status, log) = run_expecting_exit_with(&dir.path().join("b"), &kafka_args(&broker.bootstrap(), &deleting));
    assert!(!status.success());
    assert!(log.contains("Expected cleanup.policy to be 'compact' but it is delete"), "{log}");
}

#[test]
fn a_data_directory_of_the_other_mode_is_refused() {
    let broker = Broker::start();
    let mut embedded = Server::start();
    if embedded.kafka_backed() {
        return; // SCHEMATA_TEST_KAFKA run: this test is about the embedded default.
    }
    embedded.register("s", ENUM);
    embedded.stop();
    let (status, log) = run_expecting_exit_with(embedded.data_dir(), &kafka_args(&broker.bootstrap(), &fresh_topic()));
    assert!(!status.success());
    assert!(log.contains("holds an embedded (sled-only) registry"), "{log}");

    let mut cache = Server::start_kafka(&broker.bootstrap(), &fresh_topic(), &[]);
    cache.register("s", ENUM);
    cache.stop();
    let (status, log) = run_expecting_exit(cache.data_dir());
    assert!(!status.success());
    assert!(log.contains("is the local cache of the Kafka topic"), "{log}");
}

#[test]
fn no_broker_at_start_is_not_ready_with_the_reason_then_catches_up_by_itself() {
    let port = free_port();
    let bootstrap = format!("127.0.0.1:{port}");
    let s = Server::start_kafka_unready(&bootstrap, &fresh_topic());
    // First "connecting", then, once the first attempt timed out, why it failed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let ready = loop {
        if std::net::TcpStream::connect(("127.0.0.1", s.port())).is_err() {
            assert!(Instant::now() < deadline, "the server never listened");
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let r = s.raw("GET", "/health/ready", None, None, &[]);
        assert_eq!(r.status, 503, "{}", r.text);
        if r.json["reason"].as_str().is_some_and(|reason| reason.contains("cannot reach")) {
            break r;
        }
        assert!(Instant::now() < deadline, "no readiness answer");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json["status"], "DOWN");
    assert!(ready.json["reason"].as_str().unwrap().contains(&format!("on {bootstrap}")), "{}", ready.json);
    // A write now is refused with Confluent's timeout shape, not left hanging.
    let (status, body) = s.post("/subjects/s/versions", schema(ENUM));
    assert_eq!((status, body["error_code"].clone()), (500, json!(50002)), "{body}");

    let _broker = Broker::start_on(port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.raw("GET", "/health/ready", None, None, &[]).status != 200 {
        assert!(Instant::now() < deadline, "never became ready: {}", s.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(s.register("s", ENUM), 1);
}

#[test]
fn a_lost_broker_leaves_reads_working_and_fails_writes_in_bounded_time() {
    let broker = Broker::start();
    let s = Server::start_kafka(&broker.bootstrap(), &fresh_topic(), &["--kafka-timeout-ms", "2000"]);
    assert_eq!(s.put("/config", json!({"compatibility": "NONE"})).0, 200);
    let id = s.register("s", ENUM);
    broker.pause();
    assert_eq!(s.get(&format!("/schemas/ids/{id}")).1["schema"], json!(ENUM));
    assert_eq!(s.get("/subjects/s/versions").1, json!([1]));
    let started = Instant::now();
    let (status, body) = s.post("/subjects/s/versions", schema(&record("Lost")));
    let took = started.elapsed();
    assert_eq!((status, body["error_code"].clone()), (500, json!(50002)), "{body}");
    assert!(took < Duration::from_secs(6), "a write with the broker away took {took:?}");

    broker.resume();
    // The node reconnects by itself; the write that timed out may or may not have landed,
    // and either way a retry ends with exactly one version holding it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let id2 = loop {
        let (status, body) = s.post("/subjects/s/versions", schema(&record("Lost")));
        if status == 200 {
            break body["id"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "writes never came back: {body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(id2 > id);
    assert_eq!(s.get("/subjects/s/versions").1, json!([1, 2]));
}

#[test]
fn the_id_of_a_hard_deleted_newest_schema_is_not_handed_out_again_after_a_restart() {
    let broker = Broker::start();
    let topic = fresh_topic();
    let mut s = Server::start_kafka(&broker.bootstrap(), &topic, &[]);
    assert_eq!(s.register("a", ENUM), 1);
    assert_eq!(s.register("b", &record("B")), 2);
    assert_eq!(s.delete("/subjects/b").0, 200);
    assert_eq!(s.delete("/subjects/b?permanent=true").0, 200);
    s.restart();
    assert_eq!(s.get("/schemas/ids/2").0, 404);
    assert_eq!(s.register("c", &record("C")), 3);
    // A node reading the topic from its start agrees.
    let fresh = Server::start_kafka(&broker.bootstrap(), &topic, &[]);
    assert_eq!(fresh.register("d", &record("D")), 4);
}

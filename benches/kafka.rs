//! Kafka store bench, all in one run against one tansu broker on loopback: an embedded (sled)
//! node and a Kafka-backed node filled with the same N schemas, then get-by-id and
//! register-new (64 clients) on each, as ratios Kafka / sled; then catch-up of a node reading
//! a topic of 100k SCHEMA records written straight into it, and the restart of that node
//! from its local cache; then a two-node cluster: get-by-id on the follower against a sled
//! node, register-new through the follower against through the leader, and the failover
//! time after kill -9 of the leader (to the first write acknowledged through the follower);
//! last, what the codec costs producers and consumers of typed records (`kafka/codec.rs`).
//! Run it with `benches/kafka.sh`.
//!
//! Arguments: `--schemata BIN --tansu BIN [--schemas N] [--records R] [--seconds S]
//! [--clients C] [--codec-records R] [--codec-rounds K] [--only-catchup | --only-cluster |
//! --only-codec]`.

#[path = "support/mod.rs"]
mod support;

#[path = "kafka/codec.rs"]
mod codec;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use support::*;

/// A Kafka-backed node on `topic`; nodes of one topic form one cluster (group named after it).
fn spawn_kafka_node(bin: &str, addr: &str, dir: &std::path::Path, bootstrap: &str, topic: &str) -> Child {
    Command::new(bin)
        .args(["serve", "--listen", addr, "--data-dir"])
        .arg(dir)
        .args(["--kafka-bootstrap", bootstrap, "--kafka-topic", topic, "--kafka-replication-factor", "1"])
        .args(["--kafka-group-id", &format!("group-{topic}")])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn schemata")
}

/// Writes `records` SCHEMA records (as Confluent writes them) straight into a new `topic`;
/// every delivery is checked.
fn produce_schema_records(bootstrap: &str, topic: &str, records: usize) -> Duration {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().expect("admin");
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1)).set("cleanup.policy", "compact");
    for r in futures_executor::block_on(admin.create_topics([&new], &AdminOptions::new())).expect("create topic") {
        r.expect("topic created");
    }
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer");
    let t = Instant::now();
    let mut deliveries = Vec::with_capacity(records);
    for i in 0..records {
        let subject = format!("s{}", i % 1000);
        let version = i / 1000 + 1;
        let key = format!(r#"{{"keytype":"SCHEMA","subject":"{subject}","version":{version},"magic":1}}"#);
        let value = serde_json::json!({
            "subject": subject, "version": version, "id": i + 1, "schema": bench_schema(i), "deleted": false
        })
        .to_string();
        let record = FutureRecord::to(topic).key(&key).payload(&value).partition(0);
        deliveries.push(producer.send_result(record).map_err(|(e, _)| e).expect("queue a record"));
    }
    for d in deliveries {
        futures_executor::block_on(d).expect("delivered").expect("delivered");
    }
    t.elapsed()
}

fn main() {
    let schemata = arg("--schemata").expect("--schemata BIN");
    let tansu = arg("--tansu").expect("--tansu BIN");
    let n = num("--schemas", 10_000);
    let records = num("--records", 100_000);
    let m = 100;
    let secs = Duration::from_secs(num("--seconds", 5) as u64);
    let clients = num("--clients", 64);
    let parent = tempfile::TempDir::new().expect("temp dir");

    let broker_addr = free_addr();
    let url = format!("tcp://{broker_addr}");
    let mut broker = Killed(
        Command::new(&tansu)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tansu"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&broker_addr).is_err() {
        assert!(Instant::now() < deadline && broker.0.try_wait().ok().flatten().is_none(), "tansu did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("{n} schemas in {m} subjects; {clients} clients; {secs:?} per phase; broker: tansu (memory) on loopback");

    // With an --only-* flag, only the parts it names run.
    let only = |flag: &str| std::env::args().any(|a| a == flag);
    let picked = ["--only-catchup", "--only-cluster", "--only-codec"].into_iter().any(only);
    let runs = |flag: &str| !picked || only(flag);
    if !picked {
        load_phases(&schemata, &broker_addr, parent.path(), n, m, secs, clients);
    }
    if runs("--only-catchup") {
        catch_up(&schemata, &broker_addr, parent.path(), records);
    }
    if runs("--only-cluster") {
        cluster(&schemata, &broker_addr, parent.path(), n, m, secs, clients);
    }
    if runs("--only-codec") {
        codec::run(&schemata, &broker_addr, parent.path());
    }
}

/// The node's role and leader URL, from `/health/ready`.
fn role(addr: &str) -> (String, String) {
    let Ok((200, body)) = Conn::open(addr).and_then(|mut c| c.request("GET", "/health/ready", None)) else {
        return (String::new(), String::new());
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    (v["role"].as_str().unwrap_or("").into(), v["leader"].as_str().unwrap_or("").into())
}

/// Two Kafka nodes on one topic and a sled node, filled alike: reads on the follower against
/// sled, writes through the follower against through the leader, then failover.
fn cluster(
    schemata: &str,
    broker_addr: &str,
    parent: &std::path::Path,
    n: usize,
    m: usize,
    secs: Duration,
    clients: usize,
) {
    let topic = "_schemas_cluster";
    let (a_addr, b_addr) = (free_addr(), free_addr());
    let mut a = Killed(spawn_kafka_node(schemata, &a_addr, &parent.join("cluster-a"), broker_addr, topic));
    let mut b = Killed(spawn_kafka_node(schemata, &b_addr, &parent.join("cluster-b"), broker_addr, topic));
    wait_ready(&a_addr, "/health/ready", &mut a.0, Instant::now());
    wait_ready(&b_addr, "/health/ready", &mut b.0, Instant::now());
    let deadline = Instant::now() + Duration::from_secs(60);
    let (leader, follower, mut leader_node) = loop {
        let ((ra, la), (rb, lb)) = (role(&a_addr), role(&b_addr));
        if la == lb && !la.is_empty() && ra != rb && ra != "unknown" && rb != "unknown" {
            break if ra == "leader" {
                (a_addr.clone(), b_addr.clone(), a)
            } else {
                (b_addr.clone(), a_addr.clone(), b)
            };
        }
        assert!(Instant::now() < deadline, "the two nodes did not agree on a leader");
        std::thread::sleep(Duration::from_millis(100));
    };
    let sled_addr = free_addr();
    let mut sled = Killed(spawn_schemata(schemata, &sled_addr, &parent.join("cluster-sled")));
    wait_ready(&sled_addr, "/", &mut sled.0, Instant::now());
    fill(&sled_addr, n, m);
    let filled = fill(&follower, n, m);
    println!();
    println!("cluster: leader and follower on {topic}; filled through the follower in {:.1} s", filled.as_secs_f64());

    let get = get_by_id(n);
    let fresh = |base: usize| register_new(base, m);
    let get_sled = run_load(&sled_addr, clients, secs, get);
    let get_follower = run_load(&follower, clients, secs, get);
    let get_sled2 = run_load(&sled_addr, clients, secs, get);
    let get_follower2 = run_load(&follower, clients, secs, get);
    drop(sled);
    let new_leader = run_load(&leader, clients, secs, fresh(500_000_000));
    let new_follower = run_load(&follower, clients, secs, fresh(600_000_000));
    let new1_leader = run_load(&leader, 1, secs, fresh(700_000_000));
    let new1_follower = run_load(&follower, 1, secs, fresh(800_000_000));

    // Failover at the default session timeout (10 s): kill -9 of the leader, then one client
    // registering through the follower until a write is acknowledged.
    leader_node.0.kill().expect("kill the leader");
    let killed = Instant::now();
    let _ = leader_node.0.wait();
    let mut conn = Conn::open(&follower).expect("connect");
    let mut attempts = 0;
    let failover = loop {
        attempts += 1;
        let body = schema_body(&bench_schema(900_000_000 + attempts));
        match conn.request("POST", "/subjects/failover/versions", Some(&body)) {
            Ok((200, _)) => break killed.elapsed(),
            Ok(_) => {}
            Err(_) => conn = Conn::open(&follower).expect("connect"),
        }
        assert!(killed.elapsed() < Duration::from_secs(120), "no failover within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    };

    table(&[
        ("get by id, sled node".into(), &get_sled),
        ("get by id, kafka follower".into(), &get_follower),
        ("get by id, sled node (again)".into(), &get_sled2),
        ("get by id, kafka follower (again)".into(), &get_follower2),
        (format!("register new, {clients} clients, leader"), &new_leader),
        (format!("register new, {clients} clients, follower"), &new_follower),
        ("register new, 1 client, leader".into(), &new1_leader),
        ("register new, 1 client, follower".into(), &new1_follower),
    ]);
    println!();
    println!(
        "get by id follower / sled: {:.2}x (best of two runs each)",
        best(&get_follower, &get_follower2) / best(&get_sled, &get_sled2)
    );
    println!("register new ({clients} clients) follower / leader: {:.2}x", new_follower.per_sec / new_leader.per_sec);
    println!("register new (1 client) follower / leader: {:.2}x", new1_follower.per_sec / new1_leader.per_sec);
    println!(
        "failover: kill -9 of the leader to the first write acknowledged through the follower: {:.2} s \
         (session timeout 10 s, {attempts} attempts)",
        failover.as_secs_f64()
    );
}

/// Both nodes filled, then get-by-id and register-new on each.
fn load_phases(
    schemata: &str,
    broker_addr: &str,
    parent: &std::path::Path,
    n: usize,
    m: usize,
    secs: Duration,
    clients: usize,
) {
    let sled_addr = free_addr();
    let mut sled = Killed(spawn_schemata(schemata, &sled_addr, &parent.join("sled")));
    wait_ready(&sled_addr, "/", &mut sled.0, Instant::now());
    let kafka_addr = free_addr();
    let mut kafka = Killed(spawn_kafka_node(schemata, &kafka_addr, &parent.join("kafka"), broker_addr, "_schemas"));
    wait_ready(&kafka_addr, "/health/ready", &mut kafka.0, Instant::now());
    let fill_sled = fill(&sled_addr, n, m);
    let fill_kafka = fill(&kafka_addr, n, m);
    println!("filled with 64 writers: sled {:.1} s, kafka {:.1} s", fill_sled.as_secs_f64(), fill_kafka.as_secs_f64());

    let get = get_by_id(n);
    let fresh = |base: usize| register_new(base, m);
    // Alternate the two nodes so that drift of the shared machine hits both alike.
    let get_sled = run_load(&sled_addr, clients, secs, get);
    let get_kafka = run_load(&kafka_addr, clients, secs, get);
    let get_sled2 = run_load(&sled_addr, clients, secs, get);
    let get_kafka2 = run_load(&kafka_addr, clients, secs, get);
    let new_sled = run_load(&sled_addr, clients, secs, fresh(100_000_000));
    let new_kafka = run_load(&kafka_addr, clients, secs, fresh(200_000_000));
    let new1_sled = run_load(&sled_addr, 1, secs, fresh(300_000_000));
    let new1_kafka = run_load(&kafka_addr, 1, secs, fresh(400_000_000));
    drop(sled);
    drop(kafka);

    println!();
    table(&[
        ("get by id, sled".into(), &get_sled),
        ("get by id, kafka".into(), &get_kafka),
        ("get by id, sled (again)".into(), &get_sled2),
        ("get by id, kafka (again)".into(), &get_kafka2),
        (format!("register new, {clients} clients, sled"), &new_sled),
        (format!("register new, {clients} clients, kafka"), &new_kafka),
        ("register new, 1 client, sled".into(), &new1_sled),
        ("register new, 1 client, kafka".into(), &new1_kafka),
    ]);
    println!();
    println!(
        "get by id kafka / sled: {:.2}x (best of two runs each)",
        best(&get_kafka, &get_kafka2) / best(&get_sled, &get_sled2)
    );
    println!("register new ({clients} clients) kafka / sled: {:.2}x", new_kafka.per_sec / new_sled.per_sec);
    println!("register new (1 client) kafka / sled: {:.2}x", new1_kafka.per_sec / new1_sled.per_sec);
}

/// Catch-up of a node from a topic of `records` SCHEMA records, then its restart from the cache.
fn catch_up(schemata: &str, broker_addr: &str, parent: &std::path::Path, records: usize) {
    let topic = "_schemas_catchup";
    let produced = produce_schema_records(broker_addr, topic, records);
    println!();
    println!("wrote {records} SCHEMA records into {topic} in {:.1} s", produced.as_secs_f64());
    let dir = parent.join("catchup");
    let addr = free_addr();
    let t = Instant::now();
    let mut node = Killed(spawn_kafka_node(schemata, &addr, &dir, broker_addr, topic));
    let catch_up = wait_ready(&addr, "/health/ready", &mut node.0, t);
    let mut c = Conn::open(&addr).expect("connect");
    let (status, _) = c.request("GET", &format!("/schemas/ids/{records}"), None).expect("get");
    if status != 200 {
        let (_, metrics) = c.request("GET", "/metrics", None).expect("metrics");
        let kafka: Vec<&str> = metrics.lines().filter(|l| l.starts_with("schemata_kafka")).collect();
        panic!("ready, but the last record is not served: {kafka:?}");
    }
    println!("catch-up of {records} records from an empty data directory: {:.2} s", catch_up.as_secs_f64());
    let rss = rss_bytes(node.0.id());
    drop(node);
    let t = Instant::now();
    let mut node = Killed(spawn_kafka_node(schemata, &addr, &dir, broker_addr, topic));
    let restart = wait_ready(&addr, "/health/ready", &mut node.0, t);
    println!("restart from the local cache with {records} schemas: {:.2} s (ready)", restart.as_secs_f64());
    println!("RSS after catch-up: {:.1} MiB", rss as f64 / (1024.0 * 1024.0));
}

/// Random get-by-id among the first `n` ids.
fn get_by_id(n: usize) -> impl Fn(usize, &mut Conn, &mut Rng, usize) -> u16 + Send + Sync + Copy + 'static {
    move |_, c, r, _| c.request("GET", &format!("/schemas/ids/{}", 1 + r.below(n)), None).expect("get").0
}

/// A new schema per request, over `m` subjects; `base` keeps phases apart.
fn register_new(base: usize, m: usize) -> impl Fn(usize, &mut Conn, &mut Rng, usize) -> u16 + Send + Sync + 'static {
    move |client, c, _, i| {
        let k = base + client * 10_000_000 + i;
        let path = format!("/subjects/s{}/versions", k % m);
        c.request("POST", &path, Some(&schema_body(&bench_schema(k)))).expect("post").0
    }
}

/// Throughput and latency of named phases, one line each.
fn table(rows: &[(String, &Figures)]) {
    println!("{:<40} {:>10} {:>9} {:>9}", "", "req/s", "p50 ms", "p99 ms");
    for (name, f) in rows {
        println!(
            "{:<40} {:>10.0} {:>9.2} {:>9.2}",
            name,
            f.per_sec,
            f.p50_us as f64 / 1000.0,
            f.p99_us as f64 / 1000.0
        );
    }
    println!();
}

/// The better throughput of two runs of one phase.
fn best(a: &Figures, b: &Figures) -> f64 {
    a.per_sec.max(b.per_sec)
}

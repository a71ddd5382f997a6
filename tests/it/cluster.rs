//! Several Schemata nodes on one topic serve as one registry: they elect a leader through the
//! registry group, followers forward writes to it, and a leader that dies or stalls is
//! replaced without losing or duplicating an acknowledged write. Three real nodes and a real
//! Kafka-protocol broker (tansu) per test, on loopback; faults are real signals (SIGKILL,
//! SIGSTOP/SIGCONT). The tests of this file run one at a time (each starts four processes on
//! a two-core machine) and print their measurements (`--nocapture` shows them).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{json, Value};

/// The session timeout the nodes run with: the longest a dead leader goes unnoticed.
const SESSION_MS: &str = "6000";
/// The tests of this file take this lock: one cluster at a time.
static ONE_CLUSTER: Mutex<()> = Mutex::new(());

fn one_cluster() -> std::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner())
}

/// A node of `topic`; an eligible one advertises `localhost`, which sorts after `127.0.0.1`,
/// so that an ineligible node started beside it has the smallest URL of the group.
fn node(bootstrap: &str, topic: &str, eligible: bool) -> Server {
    let mut args = vec!["--kafka-session-timeout-ms", SESSION_MS];
    if eligible {
        args.extend(["--advertised-url", "http://localhost:{port}"]);
    } else {
        args.extend(["--leader-eligible", "false"]);
    }
    Server::start_kafka(bootstrap, topic, &args)
}

fn ready(s: &Server) -> Value {
    s.raw("GET", "/health/ready", None, None, &[]).json
}

/// Waits until every node names the same leader and that one says it leads; returns the
/// index of the leader among `nodes`.
fn agreed_leader(nodes: &[&Server], within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let states: Vec<Value> = nodes.iter().map(|s| ready(s)).collect();
        let leaders: BTreeSet<String> =
            states.iter().filter_map(|r| r["leader"].as_str().map(str::to_string)).collect();
        let leading: Vec<usize> = (0..nodes.len()).filter(|&i| states[i]["role"] == "leader").collect();
        if leaders.len() == 1 && leading.len() == 1 && states.iter().all(|r| r["leader"].is_string()) {
            let url = leaders.into_iter().next().unwrap();
            assert!(url.ends_with(&format!(":{}", nodes[leading[0]].port())), "{url} is not node {}", leading[0]);
            return leading[0];
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = nodes.iter().map(|s| s.log()).collect();
            panic!("the nodes did not agree on a leader within {within:?}: {states:?}\n{}", logs.join("\n---\n"));
        }
        sleep(Duration::from_millis(100));
    }
}

fn record(name: &str) -> String {
    json!({"type": "record", "name": name, "fields": [{"name": "f", "type": "string"}]}).to_string()
}

/// One acknowledged registration.
#[derive(Clone, Debug)]
struct Ack {
    subject: String,
    schema: String,
    id: u64,
    started: Instant,
    done: Instant,
}

/// Clients registering new schemas under a few shared subjects (so that versions are
/// contended, not only ids), each through its own list of nodes; a failed write is retried
/// (on the next node of its list) until it is acknowledged.
struct Load {
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Vec<Ack>>>,
    failures: Arc<Mutex<BTreeMap<String, usize>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(targets: Vec<Vec<u16>>) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(BTreeMap::new()));
        let threads = targets
            .into_iter()
            .enumerate()
            .map(|(client, ports)| {
                let (stop, acks, failures) = (stop.clone(), acks.clone(), failures.clone());
                std::thread::spawn(move || {
                    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
                    let mut attempt = 0usize;
                    for n in 0.. {
                        let subject = format!("shared-{}", n % 3);
                        let schema = record(&format!("C{client}N{n}"));
                        let started = Instant::now();
                        loop {
                            if stop.load(Ordering::Acquire) {
                                return;
                            }
                            let port = ports[attempt % ports.len()];
                            let url = format!("http://127.0.0.1:{port}/subjects/{subject}/versions");
                            let answer = http
                                .post(&url)
                                .header("Content-Type", CT)
                                .body(json!({"schema": schema}).to_string())
                                .send();
                            let outcome = match answer {
                                Ok(r) if r.status() == 200 => {
                                    let body: Value = r.json().unwrap();
                                    let id = body["id"].as_u64().unwrap();
                                    let done = Instant::now();
                                    acks.lock().unwrap().push(Ack {
                                        subject: subject.clone(),
                                        schema: schema.clone(),
                                        id,
                                        started,
                                        done,
                                    });
                                    break;
                                }
                                Ok(r) => {
                                    let body: Value = r.json().unwrap_or(Value::Null);
                                    let message: String =
                                        body["message"].as_str().unwrap_or("").chars().take(70).collect();
                                    format!("{} {message}", body["error_code"])
                                }
                                Err(e) if e.is_connect() => "connect".to_string(),
                                Err(e) if e.is_timeout() => "timeout".to_string(),
                                Err(e) => format!("{e}"),
                            };
                            *failures.lock().unwrap().entry(outcome).or_default() += 1;
                            attempt += 1;
                            sleep(Duration::from_millis(50));
                        }
                    }
                })
            })
            .collect();
        Load { stop, acks, failures, threads }
    }

    fn acked(&self) -> usize {
        self.acks.lock().unwrap().len()
    }

    /// Waits until `n` writes were acknowledged in all, within `within`.
    fn wait_for(&self, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.acked() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} writes acknowledged within {within:?}; failures {:?}",
                self.acked(),
                self.failures.lock().unwrap()
            );
            sleep(Duration::from_millis(50));
        }
    }

    fn finish(self) -> (Vec<Ack>, BTreeMap<String, usize>) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads {
            t.join().unwrap();
        }
        let acks = self.acks.lock().unwrap().clone();
        let failures = self.failures.lock().unwrap().clone();
        (acks, failures)
    }
}

/// Every (subject, version) → id a node serves, and every id → schema text.
fn state(s: &Server) -> (BTreeMap<(String, u64), u64>, BTreeMap<u64, String>) {
    let mut versions = BTreeMap::new();
    let mut schemas = BTreeMap::new();
    let (_, subjects) = s.get("/subjects");
    for subject in subjects.as_array().unwrap() {
        let subject = subject.as_str().unwrap();
        let (_, list) = s.get(&format!("/subjects/{subject}/versions"));
        for v in list.as_array().unwrap() {
            let v = v.as_u64().unwrap();
            let (status, body) = s.get(&format!("/subjects/{subject}/versions/{v}"));
            assert_eq!(status, 200, "{body}");
            let id = body["id"].as_u64().unwrap();
            versions.insert((subject.to_string(), v), id);
            schemas.insert(id, body["schema"].as_str().unwrap().to_string());
        }
    }
    (versions, schemas)
}

/// What every test checks at its end: all nodes serve the same state; in it no id names two
/// schemas, no schema has two versions in a subject, versions have no gaps, and every
/// acknowledged write is there with the id it was acknowledged with.
fn check_consistent(nodes: &[&Server], acks: &[Ack]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let first = loop {
        let states: Vec<_> = nodes.iter().map(|s| state(s)).collect();
        if states.windows(2).all(|w| w[0] == w[1]) {
            break states.into_iter().next().unwrap();
        }
        assert!(Instant::now() < deadline, "the nodes do not converge on one state");
        sleep(Duration::from_millis(200));
    };
    let (versions, schemas) = first;
    let mut per_subject: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for ((subject, version), id) in &versions {
        per_subject.entry(subject).or_default().push((*version, *id));
    }
    for (subject, list) in &per_subject {
        let numbers: Vec<u64> = list.iter().map(|(v, _)| *v).collect();
        assert_eq!(numbers, (1..=list.len() as u64).collect::<Vec<_>>(), "versions of {subject}");
        let ids: BTreeSet<u64> = list.iter().map(|(_, id)| *id).collect();
        assert_eq!(ids.len(), list.len(), "a schema written twice in {subject}: {list:?}");
    }
    let texts: BTreeSet<&String> = schemas.values().collect();
    assert_eq!(texts.len(), schemas.len(), "one schema under two ids");
    for ack in acks {
        let text = schemas.get(&ack.id).unwrap_or_else(|| panic!("acknowledged id {} is gone: {ack:?}", ack.id));
        let canonical: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            canonical,
            serde_json::from_str::<Value>(&ack.schema).unwrap(),
            "id {} names another schema",
            ack.id
        );
        assert!(
            versions.iter().any(|((s, _), id)| *s == ack.subject && *id == ack.id),
            "acknowledged {ack:?} is not in its subject"
        );
    }
}

fn metric(s: &Server, line_start: &str) -> Option<f64> {
    let text = s.raw("GET", "/metrics", None, None, &[]).text;
    text.lines().find(|l| l.starts_with(line_start)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn three_nodes_share_writes_through_the_leader_and_an_ineligible_node_never_leads() {
    let _one = one_cluster();
    let broker = Broker::start();
    let topic = fresh_topic();
    let bootstrap = broker.bootstrap();
    // The ineligible node has the smallest URL: by the rule alone it would lead.
    let a = node(&bootstrap, &topic, false);
    let b = node(&bootstrap, &topic, true);
    let c = node(&bootstrap, &topic, true);
    let nodes = [&a, &b, &c];
    let leader = agreed_leader(&nodes, Duration::from_secs(40));
    assert_ne!(leader, 0, "the ineligible node leads");
    let expected = if b.port().to_string() < c.port().to_string() { 1 } else { 2 };
    assert_eq!(leader, expected, "not the smallest eligible URL");
    assert_eq!(metric(nodes[leader], "schemata_cluster_role{role=\"leader\"}"), Some(1.0));
    assert_eq!(metric(&a, "schemata_cluster_role{role=\"follower\"}"), Some(1.0));

    // A write through any node is answered by the leader and readable at once where it was made.
    assert_eq!(a.put("/config", json!({"compatibility": "NONE"})).0, 200);
    // (Read back where it was made: another follower may not have applied it yet.)
    assert_eq!(a.get("/config").1, json!({"compatibilityLevel": "NONE"}), "a follower's config write is not visible");
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.get("/config").1 != json!({"compatibilityLevel": "NONE"}) {
        assert!(Instant::now() < deadline, "the config write never reached node b");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut ids = BTreeSet::new();
    for (i, s) in nodes.iter().enumerate() {
        let subject = format!("via-{i}");
        let id = s.register(&subject, &record(&format!("R{i}")));
        assert!(ids.insert(id), "id {id} handed out twice");
        assert_eq!(
            s.get(&format!("/subjects/{subject}/versions")).1,
            json!([1]),
            "node {i} does not read its own write"
        );
    }
    // Errors come back as the leader gave them.
    let (status, body) = a.post("/subjects/bad/versions", json!({"schema": "not json"}));
    assert_eq!((status, body["error_code"].clone()), (422, json!(42201)), "{body}");
    assert_eq!(a.delete("/subjects/missing").1, subject_not_found("missing"));
    // Deletes and mode changes are forwarded too.
    assert_eq!(a.delete("/subjects/via-1").1, json!([1]));
    assert_eq!(a.get("/subjects/via-1/versions").0, 404);
    assert_eq!(c.put("/mode/via-2", json!({"mode": "READONLY"})).1, json!({"mode": "READONLY"}));
    assert_eq!(a.get("/mode/via-2").1, json!({"mode": "READONLY"}));
    check_consistent(&nodes, &[]);
}

#[test]
fn killing_the_leader_under_load_loses_no_acknowledged_write_and_a_restarted_node_catches_up() {
    let _one = one_cluster();
    let broker = Broker::start();
    let topic = fresh_topic();
    let bootstrap = broker.bootstrap();
    let mut nodes: Vec<Server> = (0..3).map(|_| node(&bootstrap, &topic, true)).collect();
    let leader = agreed_leader(&nodes.iter().collect::<Vec<_>>(), Duration::from_secs(40));
    assert_eq!(nodes[0].put("/config", json!({"compatibility": "NONE"})).0, 200);
    let followers: Vec<u16> = (0..3).filter(|&i| i != leader).map(|i| nodes[i].port()).collect();
    // Four clients, each starting at another follower.
    let targets = (0..4).map(|c| vec![followers[c % 2], followers[(c + 1) % 2]]).collect();
    let load = Load::start(targets);
    load.wait_for(20, Duration::from_secs(30));

    let killed = Instant::now();
    signal(nodes[leader].pid(), "-KILL");
    let before = load.acked();
    load.wait_for(before + 40, Duration::from_secs(60));
    let (acks, failures) = load.finish();
    let first_after = acks.iter().filter(|a| a.started > killed).map(|a| a.done - killed).min().unwrap();
    println!(
        "failover: first write acknowledged {:.2} s after kill -9 of the leader (session timeout {SESSION_MS} ms); \
         {} writes acknowledged, failed attempts {failures:?}",
        first_after.as_secs_f64(),
        acks.len()
    );
    nodes[leader].stop();
    let survivors: Vec<&Server> = (0..3).filter(|&i| i != leader).map(|i| &nodes[i]).collect();
    agreed_leader(&survivors, Duration::from_secs(30));
    check_consistent(&survivors, &acks);

    // The killed node comes back on its data directory, rejoins and catches up.
    nodes[leader].start_again();
    let all: Vec<&Server> = nodes.iter().collect();
    agreed_leader(&all, Duration::from_secs(40));
    check_consistent(&all, &acks);
}

#[test]
fn a_paused_leader_does_not_write_after_another_took_over() {
    let _one = one_cluster();
    let broker = Broker::start();
    let topic = fresh_topic();
    let bootstrap = broker.bootstrap();
    let nodes: Vec<Server> = (0..3).map(|_| node(&bootstrap, &topic, true)).collect();
    let leader = agreed_leader(&nodes.iter().collect::<Vec<_>>(), Duration::from_secs(40));
    assert_eq!(nodes[0].put("/config", json!({"compatibility": "NONE"})).0, 200);
    let followers: Vec<u16> = (0..3).filter(|&i| i != leader).map(|i| nodes[i].port()).collect();
    let paused = nodes[leader].port();
    // Two clients write through the followers; two straight to the leader, so that writes
    // are in its hands when it stops, and arrive there while it is stopped.
    let targets = vec![vec![followers[0], followers[1]], vec![followers[1], followers[0]], vec![paused], vec![paused]];
    let load = Load::start(targets);
    load.wait_for(20, Duration::from_secs(30));

    signal(nodes[leader].pid(), "-STOP");
    let stopped = Instant::now();
    let session = Duration::from_millis(SESSION_MS.parse().unwrap());
    // Past the session timeout, with writes going on through the others meanwhile. The
    // election that follows takes tansu a few seconds more (it holds a rejoin for 3 s and may
    // rebalance twice), longer on a loaded machine: the window leaves room for that.
    let window = session + Duration::from_secs(16);
    while stopped.elapsed() < window {
        sleep(Duration::from_millis(100));
    }
    let during = load.acked();
    signal(nodes[leader].pid(), "-CONT");
    load.wait_for(during + 30, Duration::from_secs(60));
    let (acks, failures) = load.finish();
    let taken_over = acks.iter().filter(|a| a.started > stopped && a.done < stopped + window).count();
    let conflicts: f64 = nodes
        .iter()
        .map(|s| metric(s, "schemata_kafka_records_skipped_total{reason=\"conflict\"}").unwrap_or(0.0))
        .fold(0.0, f64::max);
    println!(
        "SIGSTOP of the leader for {:.1} s: {taken_over} writes acknowledged by the others meanwhile, {} in all; \
         records skipped as conflicts: {conflicts}; failed attempts {failures:?}",
        window.as_secs_f64(),
        acks.len()
    );
    if taken_over == 0 {
        let logs: Vec<String> = nodes.iter().map(|s| s.log()).collect();
        panic!("no write went through while the leader was paused:\n{}", logs.join("\n---\n"));
    }
    let all: Vec<&Server> = nodes.iter().collect();
    agreed_leader(&all, Duration::from_secs(40));
    check_consistent(&all, &acks);
}

//! Leader election among registry nodes (`store::kafka::election`) against a real
//! Kafka-protocol broker (tansu, on loopback): three members agree on the leader-eligible one
//! with the smallest URL, the next one takes over within seconds when it leaves, a member that
//! is not leader-eligible never leads, a killed leader (another process) is replaced after the
//! session timeout, a leader cut off from the broker gives its role up before that timeout,
//! and a member waits for brokers that are not there yet. The module is not wired into the
//! server yet, so the electors run in the test process, through the library.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::Broker;
use parking_lot::Mutex;
use schemata::store::kafka::election::{Elector, Identity, Role, Timing};

/// Log lines (RUST_LOG=schemata=debug) with the test's output.
fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Heartbeats every second so that rebalances are seen quickly; Confluent's session timeout.
fn timing() -> Timing {
    Timing {
        session_timeout: Duration::from_secs(10),
        rebalance_timeout: Duration::from_secs(10),
        heartbeat_interval: Duration::from_secs(1),
        max_backoff: Duration::from_secs(2),
    }
}

/// An elector and every role it reported.
struct Node {
    url: String,
    elector: Option<Elector>,
    roles: Arc<Mutex<Vec<Role>>>,
}

impl Node {
    fn start(bootstrap: &str, group: &str, port: u16, leader_eligible: bool) -> Node {
        let me = Identity { scheme: "http".into(), host: "127.0.0.1".into(), port, leader_eligible };
        let url = me.url();
        let roles = Arc::new(Mutex::new(Vec::new()));
        let seen = roles.clone();
        let elector = Elector::start_with(bootstrap.to_string(), group.to_string(), me, timing(), move |role| {
            seen.lock().push(role)
        });
        Node { url, elector: Some(elector), roles }
    }

    fn role(&self) -> Role {
        self.elector.as_ref().expect("running").role()
    }

    fn stop(&mut self) {
        self.elector.take().expect("running").stop();
    }

    fn ever_led(&self) -> bool {
        self.roles.lock().iter().any(|r| matches!(r, Role::Leader { .. }))
    }
}

/// Waits until every running node agrees that `leader` leads (in one generation); returns
/// how long it took.
fn wait_for_leader(nodes: &[&Node], leader: &Node, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let roles: Vec<Role> = nodes.iter().map(|n| n.role()).collect();
        if let Role::Leader { generation } = leader.role() {
            let agreed = nodes.iter().zip(&roles).all(|(node, role)| {
                if node.url == leader.url {
                    *role == Role::Leader { generation }
                } else {
                    *role == Role::Follower { leader_url: leader.url.clone(), generation }
                }
            });
            if agreed {
                return start.elapsed();
            }
        }
        assert!(
            start.elapsed() < within,
            "no agreement on {} as leader within {within:?}: {:?}",
            leader.url,
            nodes.iter().map(|n| (n.url.clone(), n.role())).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn nodes_elect_the_smallest_eligible_url_and_the_next_takes_over() {
    logs();
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    let group = format!("schema-registry-{}", std::process::id());

    // :8081 has the smallest URL but may not lead, so :8082 leads and :8083 is next.
    let started = Instant::now();
    let mut c = Node::start(&bootstrap, &group, 8083, true);
    let a = Node::start(&bootstrap, &group, 8081, false);
    let mut b = Node::start(&bootstrap, &group, 8082, true);
    let took = wait_for_leader(&[&a, &b, &c], &b, Duration::from_secs(30));
    println!("three members agreed on {} as leader in {took:?}", b.url);

    // The leader leaves (LeaveGroup): the next eligible one takes over.
    b.stop();
    assert_eq!(b.roles.lock().last(), Some(&Role::Unknown), "a stopped node claims no role");
    let took = wait_for_leader(&[&a, &c], &c, timing().session_timeout + Duration::from_secs(5));
    println!("{} took over {took:?} after the leader left the group", c.url);

    // The ineligible member alone: no leader.
    c.stop();
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.role() != Role::Unknown {
        assert!(Instant::now() < deadline, "{} still sees {:?} with no eligible member left", a.url, a.role());
        std::thread::sleep(Duration::from_millis(50));
    }
    // And still a working member: it follows an eligible node that joins, with a larger URL.
    let d = Node::start(&bootstrap, &group, 8084, true);
    let took = wait_for_leader(&[&a, &d], &d, Duration::from_secs(15));
    println!("{} joined and leads {took:?} later", d.url);
    assert!(!a.ever_led(), "{} is not leader-eligible but led: {:?}", a.url, a.roles.lock());
    println!("whole test: {:?}", started.elapsed());
}

#[test]
fn a_member_waits_for_the_brokers_and_joins_when_they_come() {
    logs();
    let port = crate::common::free_port();
    let bootstrap = format!("127.0.0.1:{port}");
    let mut node = Node::start(&bootstrap, "schema-registry", 8081, true);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(node.role(), Role::Unknown);
    let broker = Broker::start_on(port);
    let took = wait_for_leader(&[&node], &node, Duration::from_secs(15));
    println!("joined {took:?} after the broker listened");
    node.stop();
    drop(broker);
}

/// Not a test by itself: the body of the child process `a_crashed_leader_is_replaced...`
/// starts (this test binary again, with `--ignored`), an elector that runs until killed.
#[test]
#[ignore = "the child process of a_crashed_leader_is_replaced_after_the_session_timeout"]
fn elector_child_process() {
    let (Ok(bootstrap), Ok(group), Ok(port)) = (
        std::env::var("ELECTION_CHILD_BOOTSTRAP"),
        std::env::var("ELECTION_CHILD_GROUP"),
        std::env::var("ELECTION_CHILD_PORT"),
    ) else {
        return;
    };
    let _node = Node::start(&bootstrap, &group, port.parse().expect("port"), true);
    // Killed long before; the bound only keeps an orphan from running on.
    std::thread::sleep(Duration::from_secs(60));
    std::process::exit(1);
}

/// Kills the child process when dropped, also when the test fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_crashed_leader_is_replaced_after_the_session_timeout() {
    logs();
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    let group = format!("schema-registry-crash-{}", std::process::id());
    // The leader runs in another process, joins first (so it is also the group's Kafka
    // leader, the one computing assignments) and is killed without leaving the group.
    let mut child = Child(
        std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "election::elector_child_process", "--ignored", "--nocapture"])
            .env("ELECTION_CHILD_BOOTSTRAP", &bootstrap)
            .env("ELECTION_CHILD_GROUP", &group)
            .env("ELECTION_CHILD_PORT", "8081")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn the child elector"),
    );
    std::thread::sleep(Duration::from_millis(500));
    let node = Node::start(&bootstrap, &group, 8082, true);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(node.role(), Role::Follower { ref leader_url, .. } if leader_url == "http://127.0.0.1:8081") {
        assert!(Instant::now() < deadline, "the child never led: {:?}", node.roles.lock());
        std::thread::sleep(Duration::from_millis(50));
    }
    child.0.kill().expect("kill the child");
    child.0.wait().expect("reap the child");
    // The coordinator notices after the session timeout; tansu then makes a rejoining
    // follower wait 3 s.
    let took = wait_for_leader(&[&node], &node, timing().session_timeout + Duration::from_secs(6));
    println!(
        "{} took over {took:?} after the leader was killed (session timeout {:?})",
        node.url,
        timing().session_timeout
    );
    assert!(took >= Duration::from_secs(5), "took over before the coordinator could have noticed: {took:?}");
}

#[test]
fn a_leader_cut_off_from_the_broker_steps_down_and_leads_again_when_it_is_back() {
    logs();
    let broker = Broker::start();
    let node = Node::start(&broker.bootstrap(), "schema-registry", 8081, true);
    wait_for_leader(&[&node], &node, Duration::from_secs(15));
    // Frozen broker: heartbeats go unanswered. The leader must give up before the session
    // timeout, after which the coordinator could let another node lead.
    broker.pause();
    let paused = Instant::now();
    let deadline = paused + timing().session_timeout;
    while node.role() != Role::Unknown {
        assert!(Instant::now() < deadline, "still {:?} {:?} after the broker froze", node.role(), paused.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    let stepped_down = paused.elapsed();
    broker.resume();
    let took = wait_for_leader(&[&node], &node, Duration::from_secs(20));
    println!("stepped down {stepped_down:?} after the broker froze; leads again {took:?} after it resumed");
}

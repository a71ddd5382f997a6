//! Isolation bench: do cheap reads stay fast while heavy work runs on the same server? A
//! subject holds 100 versions of a growing Avro record (51 to 150 fields) at FULL_TRANSITIVE;
//! get-by-id runs from many clients, first alone, then while 4 clients loop compatibility
//! checks of a 151-field version (each reads all 100 versions), then with a writer registering
//! new schemas on top (a commit waiting for the index lock must not hold up the reads).
//! Throughput and p50/p99 of get-by-id in each phase, and as a ratio to the idle phase, all
//! in one run. Run it with `benches/isolation.sh`.
//!
//! Arguments: `--schemata BIN [--seconds S] [--clients C] [--checkers K] [--dir PARENT]`.

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::*;

/// A record of `n` optional fields: each version adds one, so any two are FULL compatible.
fn record(n: usize) -> String {
    let fields: Vec<String> =
        (0..n).map(|i| format!(r#"{{"name":"f{i}","type":["null","string"],"default":null}}"#)).collect();
    format!(r#"{{"type":"record","name":"Wide","namespace":"bench","fields":[{}]}}"#, fields.join(","))
}

/// Background clients looping `step` until stopped; the count of requests they made.
struct Background {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    threads: Vec<JoinHandle<()>>,
    started: Instant,
}

impl Background {
    fn start(addr: &str, clients: usize, step: fn(&mut Conn, usize) -> u16) -> Background {
        let (stop, done) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let threads = (0..clients)
            .map(|c| {
                let (addr, stop, done) = (addr.to_string(), stop.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut conn = Conn::open(&addr).expect("connect");
                    let mut i = c * 1_000_000;
                    while !stop.load(Ordering::Relaxed) {
                        assert_eq!(step(&mut conn, i), 200, "background request {i}");
                        done.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                })
            })
            .collect();
        Background { stop, done, threads, started: Instant::now() }
    }

    /// Stops the clients; their requests per second.
    fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().expect("background client");
        }
        self.done.load(Ordering::Relaxed) as f64 / self.started.elapsed().as_secs_f64()
    }
}

fn check(conn: &mut Conn, _: usize) -> u16 {
    let body = schema_body(&record(151));
    conn.request("POST", "/compatibility/subjects/wide/versions", Some(&body)).expect("check").0
}

fn register(conn: &mut Conn, i: usize) -> u16 {
    conn.request("POST", "/subjects/writes/versions", Some(&schema_body(&bench_schema(i)))).expect("register").0
}

fn main() {
    let schemata = arg("--schemata").expect("--schemata BIN");
    let secs = Duration::from_secs(num("--seconds", 5) as u64);
    let clients = num("--clients", 64);
    let checkers = num("--checkers", 4);
    let parent = tempfile::TempDir::new_in(arg("--dir").unwrap_or_else(|| std::env::temp_dir().display().to_string()))
        .expect("temp dir");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores; get-by-id from {clients} clients; {checkers} checkers; {secs:?} per phase");

    let addr = free_addr();
    let mut server = Killed(spawn_schemata(&schemata, &addr, &parent.path().join("data")));
    wait_ready(&addr, "/", &mut server.0, Instant::now());
    let mut c = Conn::open(&addr).expect("connect");
    c.ok("PUT", "/config/wide", Some(r#"{"compatibility":"FULL_TRANSITIVE"}"#));
    c.ok("PUT", "/config/writes", Some(r#"{"compatibility":"NONE"}"#));
    for n in 51..151 {
        c.ok("POST", "/subjects/wide/versions", Some(&schema_body(&record(n))));
    }
    let get = move |_: usize, c: &mut Conn, r: &mut Rng, _: usize| {
        c.request("GET", &format!("/schemas/ids/{}", 1 + r.below(100)), None).expect("get").0
    };

    let idle = run_load(&addr, clients, secs, get);
    let busy = Background::start(&addr, checkers, check);
    let checked = run_load(&addr, clients, secs, get);
    let checks = busy.finish();
    let busy = Background::start(&addr, checkers, check);
    let writer = Background::start(&addr, 1, register);
    let writing = run_load(&addr, clients, secs, get);
    let (checks_w, writes) = (busy.finish(), writer.finish());

    println!();
    println!(
        "{:<40} {:>10} {:>9} {:>9} {:>10} {:>10}",
        "get by id", "req/s", "p50 ms", "p99 ms", "x idle", "p99 x idle"
    );
    let line = |name: &str, f: &Figures| {
        println!(
            "{:<40} {:>10.0} {:>9.2} {:>9.2} {:>9.2}x {:>9.1}x",
            name,
            f.per_sec,
            f.p50_us as f64 / 1000.0,
            f.p99_us as f64 / 1000.0,
            f.per_sec / idle.per_sec,
            f.p99_us as f64 / idle.p99_us.max(1) as f64
        );
    };
    line("idle", &idle);
    line(&format!("while {checkers} clients check (151 fields x 100)"), &checked);
    line("... and one client registers", &writing);
    println!();
    println!("checks/s alongside: {checks:.1}, then {checks_w:.1} with {writes:.1} registrations/s");
}

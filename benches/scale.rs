//! Scale figures for a release schemata: time from process start to the first answered
//! request and RSS with 1k, 10k and 100k schemas (one subject each) in the data directory,
//! RSS per schema beyond its text; listing `GET /subjects` and `GET /schemas` with 100k
//! subjects, whole and paged; and FULL_TRANSITIVE register and check cost against 10, 100
//! and 1,000 versions of one subject. Data directories are written through the library API
//! (`Registry` over `Store`) from 64 threads. Run it with `benches/scale.sh`.
//!
//! Arguments: `--schemata BIN [--dir PARENT] [--keep]` (`--keep` leaves the data directories
//! in PARENT, e.g. to profile a start).

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use schemata::registry::settings::ConfigUpdate;
use schemata::registry::{Registry, SchemaInput, Settings};
use schemata::store::Store;
use schemata::types::{Config, Level};
use support::*;

fn input(text: String) -> SchemaInput {
    SchemaInput { schema: Some(text), ..SchemaInput::default() }
}

/// Registers `schema(i)` under `subject(i)` for i in 0..n from 64 threads.
fn fill(registry: &Arc<Registry>, n: usize, subject: fn(usize) -> String, schema: fn(usize) -> String) {
    let next = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let (registry, next) = (registry.clone(), next.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                registry.register(&subject(i), &input(schema(i)), false).expect("register");
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().expect("fill thread"));
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Starts the server on `dir`; returns (time to the first answer, RSS then, the child).
fn start(bin: &str, dir: &Path) -> (Duration, u64, std::process::Child, String) {
    let addr = free_addr();
    let t = Instant::now();
    let mut child = spawn_schemata(bin, &addr, dir);
    let ready = wait_ready(&addr, "/", &mut child, t);
    (ready, rss_bytes(child.id()), child, addr)
}

/// Version `i` of the wide subject: 20 fields, the last one named after `i` with a default,
/// so that every version is FULL compatible with every other.
fn wide(i: usize) -> String {
    let mut fields: Vec<String> = (0..19).map(|f| format!(r#"{{"name":"a{f}","type":"long"}}"#)).collect();
    fields.push(format!(r#"{{"name":"v{i}","type":"string","default":""}}"#));
    format!(r#"{{"type":"record","name":"Wide","fields":[{}]}}"#, fields.join(","))
}

fn main() {
    let bin = arg("--schemata").expect("--schemata BIN");
    let parent = tempfile::TempDir::new_in(arg("--dir").unwrap_or_else(|| std::env::temp_dir().display().to_string()))
        .expect("temp dir");
    let settings = Settings { default_level: Level::Backward, ..Settings::default() };
    if std::env::args().any(|a| a == "--keep") {
        println!("data directories kept in {}", parent.path().display());
    }

    // Start-up and memory.
    let empty = parent.path().join("empty");
    drop(Store::open(&empty).expect("open"));
    let (_, rss_empty, mut child, _) = start(&bin, &empty);
    let _ = child.kill();
    let _ = child.wait();
    println!("empty data dir: RSS {:.1} MiB", rss_empty as f64 / 1048576.0);
    let text_bytes = (0..1000).map(|i| bench_schema(i).len()).sum::<usize>() as f64 / 1000.0;
    for n in [1_000usize, 10_000, 100_000] {
        let dir = parent.path().join(format!("n{n}"));
        let t = Instant::now();
        let registry = Arc::new(Registry::new(Arc::new(Store::open(&dir).expect("open")), settings.clone()));
        fill(&registry, n, |i| format!("subject-{i:06}"), bench_schema);
        let built = t.elapsed();
        drop(registry);
        let disk = dir_bytes(&dir);
        let (ready, rss, mut child, addr) = start(&bin, &dir);
        let per_schema = (rss as f64 - rss_empty as f64) / n as f64;
        println!(
            "{n:>7} schemas: first answer {:>7.1} ms after spawn, RSS {:>6.1} MiB, {:>5.0} B/schema beyond the \
             empty server ({:.0} B of it the schema text), {:.1} MiB on disk (built in {:.1} s)",
            ms(ready),
            rss as f64 / 1048576.0,
            per_schema,
            text_bytes,
            disk as f64 / 1048576.0,
            built.as_secs_f64()
        );
        // A lone write plans on the published index; overlapping writes make the writer
        // build its head state, a second copy of the index's maps (see `Store::write`).
        let mut c = Conn::open(&addr).expect("connect");
        c.ok("POST", "/subjects/one-more/versions", Some(&schema_body(&bench_schema(n + 1))));
        let one = rss_bytes(child.id());
        let writers: Vec<_> = (0..64)
            .map(|w| {
                let addr = addr.clone();
                std::thread::spawn(move || {
                    let mut c = Conn::open(&addr).expect("connect");
                    for k in 0..4 {
                        let body = schema_body(&bench_schema(n + 2 + w * 4 + k));
                        c.ok("POST", &format!("/subjects/more-{w}/versions"), Some(&body));
                    }
                })
            })
            .collect();
        writers.into_iter().for_each(|t| t.join().expect("writer"));
        let overlapped = rss_bytes(child.id());
        let per = |rss: u64| (rss as f64 - rss_empty as f64) / n as f64;
        println!(
            "  after one write: RSS {:.1} MiB ({:.0} B/schema); after 256 writes from 64 clients: RSS {:.1} MiB \
             ({:.0} B/schema)",
            one as f64 / 1048576.0,
            per(one),
            overlapped as f64 / 1048576.0,
            per(overlapped)
        );
        if n == 100_000 {
            for path in [
                "/subjects",
                "/subjects?offset=50000&limit=100",
                "/schemas",
                "/schemas?offset=50000&limit=100",
                "/schemas?offset=99000&limit=1000",
            ] {
                let times: Vec<Duration> = (0..5)
                    .map(|_| {
                        let t = Instant::now();
                        c.ok("GET", path, None);
                        t.elapsed()
                    })
                    .collect();
                let bytes = c.ok("GET", path, None).len();
                println!("  GET {path:<34} median {:>7.2} ms ({bytes} bytes)", ms(median(times)));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    // FULL_TRANSITIVE against k versions.
    for k in [10usize, 100, 1_000] {
        let dir = parent.path().join(format!("wide{k}"));
        let none = Settings { default_level: Level::None, ..Settings::default() };
        let registry = Arc::new(Registry::new(Arc::new(Store::open(&dir).expect("open")), none));
        fill(&registry, k, |_| "wide".to_string(), wide);
        let level = Config { compatibility_level: Some(Level::FullTransitive), ..Config::default() };
        registry.put_config(Some("wide"), &ConfigUpdate { config: level, cleared: vec![] }).expect("config");
        let checks: Vec<Duration> = (0..21)
            .map(|j| {
                let t = Instant::now();
                let verdict = registry.test_compatibility("wide", None, &input(wide(k + j)), false, false, None);
                assert!(verdict.expect("check").is_compatible);
                t.elapsed()
            })
            .collect();
        let registers: Vec<Duration> = (0..7)
            .map(|j| {
                let t = Instant::now();
                registry.register("wide", &input(wide(10 * k + j)), false).expect("register");
                t.elapsed()
            })
            .collect();
        let (check, register) = (median(checks), median(registers));
        println!(
            "FULL_TRANSITIVE, {k:>4} versions: check {:>8.3} ms ({:.1} us/version), register {:>8.3} ms",
            ms(check),
            check.as_secs_f64() * 1e6 / k as f64,
            ms(register)
        );
    }
    if std::env::args().any(|a| a == "--keep") {
        let _ = parent.keep();
    }
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

//! Shared by the load and scale benches: a minimal keep-alive HTTP/1.1 client over a
//! `TcpStream` (cheap enough that the client does not hide the server's cost on a small
//! machine), a closed-loop load runner with latency percentiles, and process helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// One keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Conn {
    pub fn open(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn { reader: BufReader::new(stream.try_clone()?), writer: stream, host: addr.to_string() })
    }

    /// Sends one request and returns (status, body). Panics on a malformed answer.
    pub fn request(&mut self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            req.push_str("\r\n");
        }
        self.writer.write_all(req.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().map_err(std::io::Error::other)?;
                }
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// A request that must answer 200; returns the body.
    pub fn ok(&mut self, method: &str, path: &str, body: Option<&str>) -> String {
        match self.request(method, path, body) {
            Ok((200, b)) => b,
            other => panic!("{method} {path}: {other:?}"),
        }
    }
}

/// A small deterministic generator (xorshift), so runs are repeatable without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Throughput and latency of one measured phase.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    pub per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub requests: usize,
}

/// Runs `clients` closed-loop clients for `duration`; `step(client, conn, rng, i)` sends one
/// request and must return its status. Every status must be 200.
pub fn run_load<F>(addr: &str, clients: usize, duration: Duration, step: F) -> Figures
where
    F: Fn(usize, &mut Conn, &mut Rng, usize) -> u16 + Send + Sync + 'static,
{
    let step = Arc::new(step);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (step, stop, start, addr) = (step.clone(), stop.clone(), start.clone(), addr.to_string());
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr).expect("connect");
                let mut rng = Rng::new(c as u64 + 1);
                let mut latencies = Vec::with_capacity(1 << 16);
                start.wait();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let status = step(c, &mut conn, &mut rng, i);
                    assert_eq!(status, 200, "client {c} request {i}");
                    latencies.push(t.elapsed().as_micros() as u64);
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    start.wait();
    let t = Instant::now();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<u64> = threads.into_iter().flat_map(|h| h.join().expect("client")).collect();
    let elapsed = t.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied();
    Figures {
        per_sec: all.len() as f64 / elapsed,
        p50_us: pct(0.50).unwrap_or(0),
        p99_us: pct(0.99).unwrap_or(0),
        requests: all.len(),
    }
}

/// Waits until `addr` answers `GET path` with 200; returns how long that took from `since`.
pub fn wait_ready(addr: &str, path: &str, child: &mut Child, since: Instant) -> Duration {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited during start: {status}");
        }
        if let Ok(mut c) = Conn::open(addr) {
            if let Ok((200, _)) = c.request("GET", path, None) {
                return since.elapsed();
            }
        }
        assert!(Instant::now() < deadline, "{addr} did not answer");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Starts `schemata serve` (the release build given by path) on a loopback port, logging as it
/// does by default (a line per request), so the figures include that cost; the lines are
/// discarded.
pub fn spawn_schemata(bin: &str, addr: &str, data_dir: &std::path::Path) -> Child {
    Command::new(bin)
        .args(["serve", "--listen", addr, "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn schemata")
}

/// Resident set size of a process in bytes, from /proc.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// A loopback address with a port that was free a moment ago.
pub fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("127.0.0.1:{}", l.local_addr().expect("addr").port())
}

/// The value of `--name value` among the program's arguments.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// The `i`-th schema of the bench data: a record with one defaulted field named after `i`,
/// so that every version of a subject is compatible (BACKWARD and FULL) with every other.
pub fn bench_schema(i: usize) -> String {
    format!(r#"{{"type":"record","name":"Bench","fields":[{{"name":"f{i}","type":"string","default":""}}]}}"#)
}

/// The request body registering `schema`.
pub fn schema_body(schema: &str) -> String {
    serde_json::json!({ "schema": schema }).to_string()
}

/// Kills the child process when dropped, so a failed run leaves no process behind.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The number given as `--name N`, else `default`.
pub fn num(name: &str, default: usize) -> usize {
    arg(name).map(|v| v.parse().unwrap_or_else(|_| panic!("{name} {v}: not a number"))).unwrap_or(default)
}

/// Registers schemas 0..n over `m` subjects from 64 writers; returns the time it took.
pub fn fill(addr: &str, n: usize, m: usize) -> Duration {
    let t = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..64)
        .map(|_| {
            let (addr, next) = (addr.to_string(), next.clone());
            std::thread::spawn(move || {
                let mut c = Conn::open(&addr).expect("connect");
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    c.ok("POST", &format!("/subjects/s{}/versions", i % m), Some(&schema_body(&bench_schema(i))));
                }
            })
        })
        .collect();
    writers.into_iter().for_each(|h| h.join().expect("fill"));
    t.elapsed()
}

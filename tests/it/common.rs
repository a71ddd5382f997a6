//! Test harness shared by the HTTP integration tests: starts the real `schemata` binary on a
//! free loopback port with a fresh (or given) data directory, waits until it answers, talks
//! to it over real HTTP with `reqwest::blocking`, and kills it when dropped. A server can be
//! stopped and started again on the same data directory (storage tests).
//!
//! With `SCHEMATA_TEST_KAFKA=HOST:PORT` set (scripts/test.sh does it for a second run of the
//! HTTP suites), every server is Kafka-backed: its own fresh topic on that broker, kept across
//! its restarts, so the same tests prove both stores. `Broker` starts a tansu broker for the
//! Kafka-store tests themselves.
#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The media type Confluent's clients send and the server produces by default.
pub const CT: &str = "application/vnd.schemaregistry.v1+json";

/// How long a server may take to answer `GET /` after being spawned.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// `{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}`
pub const USER_V1: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#;
/// USER_V1 plus an `age` field with a default (a BACKWARD-compatible change).
pub const USER_V2: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":0}]}"#;
/// USER_V1 with `name` as an int (incompatible in every direction).
pub const USER_INT: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"int"}]}"#;
/// USER_V1 plus an `age` field without a default.
pub const USER_AGE_NO_DEFAULT: &str =
    r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]}"#;
/// USER_V1 with whitespace and line breaks: the same schema once canonicalized.
pub const USER_V1_SPACED: &str = "{ \"type\" : \"record\", \"name\" : \"User\",\n  \"fields\" : [ { \"name\" : \"name\", \"type\" : \"string\" } ] }";

/// The path to the binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_schemata")
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// An HTTP answer: status, `Content-Type` and the body as text and as JSON
/// (`Value::Null` when empty, `Value::String(text)` when not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Value,
}

/// A running `schemata serve`.
pub struct Server {
    child: Option<Child>,
    port: u16,
    data_dir: PathBuf,
    /// Owns the data directory when the server created it.
    _data: Option<TempDir>,
    /// Holds the child's stdout/stderr logs (kept apart from the data directory).
    logs: TempDir,
    starts: u32,
    client: Client,
    /// Extra `serve` arguments and environment (ops tests: limits, log format).
    extra_args: Vec<String>,
    extra_env: Vec<(String, String)>,
    /// The Kafka arguments of a Kafka-backed server (the same topic on every start).
    kafka_args: Vec<String>,
    /// `https` for a server given a certificate (`start_https`), else `http`.
    scheme: &'static str,
}

/// A topic name no other server of this test run uses.
pub fn fresh_topic() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("_schemas-{}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos)
}

/// The `serve` arguments that put a server on `topic` at `bootstrap`, in a registry group
/// of the topic's name (servers of other tests must not join its election).
pub fn kafka_args(bootstrap: &str, topic: &str) -> Vec<String> {
    let group = format!("group{topic}");
    [
        "--kafka-bootstrap",
        bootstrap,
        "--kafka-topic",
        topic,
        "--kafka-group-id",
        &group,
        "--kafka-replication-factor",
        "1",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

impl Server {
    /// Starts a server on a fresh temporary data directory.
    pub fn start() -> Server {
        let data = TempDir::new().expect("temp dir");
        let dir = data.path().join("data");
        let mut server = Server::new(dir, Some(data));
        server.spawn();
        server
    }

    /// Starts a server on a fresh temporary data directory with extra `serve` arguments and
    /// environment variables.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Server {
        let data = TempDir::new().expect("temp dir");
        let dir = data.path().join("data");
        let mut server = Server::new(dir, Some(data));
        server.extra_args = args.iter().map(|a| a.to_string()).collect();
        server.extra_env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        server.spawn();
        server
    }

    /// Starts a server serving HTTPS (`args` name its certificate files) on a fresh temporary
    /// data directory: it is probed and asked over https with `client`, which must trust its
    /// certificate (and present one of its own to a server that requires it).
    pub fn start_https(args: &[&str], env: &[(&str, &str)], client: Client) -> Server {
        let data = TempDir::new().expect("temp dir");
        let mut server = Server::new(data.path().join("data"), Some(data));
        server.extra_args = args.iter().map(|a| a.to_string()).collect();
        server.extra_env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        server.scheme = "https";
        server.client = client;
        server.spawn();
        server
    }

    /// `start_https` for a server backed by `topic` at `bootstrap`.
    pub fn start_https_kafka(bootstrap: &str, topic: &str, args: &[&str], client: Client) -> Server {
        let data = TempDir::new().expect("temp dir");
        let mut server = Server::new(data.path().join("data"), Some(data));
        server.kafka_args = kafka_args(bootstrap, topic);
        server.extra_args = args.iter().map(|a| a.to_string()).collect();
        server.scheme = "https";
        server.client = client;
        server.spawn();
        server
    }

    /// Starts a server on a given data directory (not removed on drop).
    pub fn start_in(dir: &Path) -> Server {
        let mut server = Server::new(dir.to_path_buf(), None);
        server.spawn();
        server
    }

    fn new(data_dir: PathBuf, data: Option<TempDir>) -> Server {
        let client = Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
        Server {
            child: None,
            port: 0,
            data_dir,
            _data: data,
            logs: TempDir::new().expect("temp dir"),
            starts: 0,
            client,
            extra_args: Vec::new(),
            extra_env: Vec::new(),
            kafka_args: match std::env::var("SCHEMATA_TEST_KAFKA") {
                Ok(bootstrap) if !bootstrap.is_empty() => kafka_args(&bootstrap, &fresh_topic()),
                _ => Vec::new(),
            },
            scheme: "http",
        }
    }

    /// Starts a server on a fresh data directory, backed by `topic` at `bootstrap`.
    pub fn start_kafka(bootstrap: &str, topic: &str, args: &[&str]) -> Server {
        let data = TempDir::new().expect("temp dir");
        let mut server = Server::new(data.path().join("data"), Some(data));
        server.kafka_args = kafka_args(bootstrap, topic);
        server.extra_args = args.iter().map(|a| a.to_string()).collect();
        server.spawn();
        server
    }

    /// Spawns the server without waiting for it (fault tests: a broker that is away).
    pub fn start_kafka_unready(bootstrap: &str, topic: &str) -> Server {
        let data = TempDir::new().expect("temp dir");
        let mut server = Server::new(data.path().join("data"), Some(data));
        server.kafka_args = kafka_args(bootstrap, topic);
        server.spawn_process();
        server
    }

    /// True when this server keeps its state in Kafka.
    pub fn kafka_backed(&self) -> bool {
        !self.kafka_args.is_empty()
    }

    /// The process id of the running server (for signals).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    fn spawn(&mut self) {
        let stderr_path = self.spawn_process();
        // Readiness: a Kafka-backed server answers before it has read its topic, and the
        // probe needs no credentials even when the server asks for them.
        let probe = "/health/ready";
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                self.child = None;
                panic!(
                    "schemata exited during start ({status}): {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            if let Ok(r) = self.client.get(self.url(probe)).timeout(Duration::from_millis(500)).send() {
                if r.status().is_success() {
                    return;
                }
            }
            if Instant::now() > deadline {
                self.kill();
                panic!(
                    "schemata did not answer GET {probe} within {START_TIMEOUT:?}: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            sleep(Duration::from_millis(25));
        }
    }

    /// Starts the process on a fresh port; returns its log's path.
    fn spawn_process(&mut self) -> PathBuf {
        assert!(self.child.is_none(), "server already running");
        self.port = free_port();
        self.starts += 1;
        let stderr_path = self.logs.path().join(format!("stderr-{}.log", self.starts));
        let stderr = File::create(&stderr_path).expect("log file");
        let child = Command::new(binary())
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(&self.data_dir)
            // `{port}` in an argument is the port of this start (an advertised URL).
            .args(self.extra_args.iter().map(|a| a.replace("{port}", &self.port.to_string())))
            .args(&self.kafka_args)
            .env("RUST_LOG", "warn")
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("spawn schemata");
        self.child = Some(child);
        stderr_path
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SIGKILL: every answered write must already be on disk).
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Sends SIGTERM and waits (bounded) for the exit, as an orchestrator stops it.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server running");
        let sent = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("schemata did not exit within {START_TIMEOUT:?} of SIGTERM");
            }
            sleep(Duration::from_millis(25));
        }
    }

    /// What the current (or last) run wrote to stderr: its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.logs.path().join(format!("stderr-{}.log", self.starts))).unwrap_or_default()
    }

    /// Starts the server again on the same data directory (after `stop`).
    pub fn start_again(&mut self) {
        self.spawn();
    }

    /// Stops and starts again on the same data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{}", self.scheme, self.port, path)
    }

    /// One request with full control: a raw body (sent as is), an optional Content-Type and
    /// extra headers.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.raw_bytes(method, path, body.map(str::as_bytes), content_type, headers)
    }

    /// `raw` with a body of arbitrary bytes (other encodings than UTF-8).
    pub fn raw_bytes(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b.to_vec());
        }
        let resp = req.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        let text = resp.text().expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Resp { status, content_type, text, json }
    }

    /// Sends a JSON request. Entities' `guid`s (an 8.x field) are checked to be UUIDs and
    /// then removed, so that tests compare the 7.x entity; `send_keeping_guids` keeps them.
    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, mut json) = self.send_keeping_guids(method, path, body);
        strip_guids(&mut json);
        (status, json)
    }

    pub fn send_keeping_guids(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let text = body.map(|b| b.to_string());
        let r = self.raw(method, path, text.as_deref(), Some(CT), &[]);
        (r.status, r.json)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(&body))
    }

    pub fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("PUT", path, Some(&body))
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None)
    }

    /// Registers `schema` (Avro) under `subject` and returns its id; panics unless 200.
    pub fn register(&self, subject: &str, schema: &str) -> u64 {
        let (status, body) = self.post(&format!("/subjects/{subject}/versions"), json!({ "schema": schema }));
        assert_eq!(status, 200, "register {schema} under {subject}: {body}");
        body["id"].as_u64().unwrap_or_else(|| panic!("no id in {body}"))
    }

    /// Sets the subject's compatibility level; panics unless 200.
    pub fn set_level(&self, subject: &str, level: &str) {
        let (status, body) = self.put(&format!("/config/{subject}"), json!({ "compatibility": level }));
        assert_eq!((status, body), (200, json!({ "compatibility": level })));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `schemata serve` on `data_dir` expecting it to refuse to start: waits (bounded) for
/// it to exit and returns the exit status and stderr. Panics if it is still running.
pub fn run_expecting_exit(data_dir: &Path) -> (ExitStatus, String) {
    run_expecting_exit_with(data_dir, &[])
}

/// `run_expecting_exit` with extra `serve` arguments.
pub fn run_expecting_exit_with(data_dir: &Path, args: &[String]) -> (ExitStatus, String) {
    let logs = TempDir::new().expect("temp dir");
    let stderr_path = logs.path().join("stderr.log");
    let mut child = Command::new(binary())
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(File::create(&stderr_path).expect("log file")))
        .spawn()
        .expect("spawn schemata");
    let deadline = Instant::now() + START_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "schemata kept running on {}: {}",
                data_dir.display(),
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        sleep(Duration::from_millis(25));
    };
    (status, std::fs::read_to_string(&stderr_path).unwrap_or_default())
}

/// `{"error_code": code, "message": message}`.
pub fn err(code: u64, message: &str) -> Value {
    json!({ "error_code": code, "message": message })
}

/// The `{"schema": ...}` request body.
pub fn schema(text: &str) -> Value {
    json!({ "schema": text })
}

/// Confluent's 42202 text for a bad `{version}`.
pub fn bad_version(v: &str) -> Value {
    err(42202, &format!("The specified version '{v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""))
}

/// Confluent's 40401 answer.
pub fn subject_not_found(s: &str) -> Value {
    err(40401, &format!("Subject '{s}' not found."))
}

/// Confluent's 40402 answer.
pub fn version_not_found(v: i64) -> Value {
    err(40402, &format!("Version {v} not found."))
}

/// A `Schema` entity for an Avro subject version (schemaType omitted, as 7.x does).
pub fn subject_version(subject: &str, version: u64, id: u64, schema: &str) -> Value {
    json!({ "subject": subject, "version": version, "id": id, "schema": schema })
}

/// Percent-encodes every byte outside the unreserved set, for subject names in paths.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Removes every `guid` of an entity (or list of them), asserting each is a lower-case UUID.
pub fn strip_guids(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(g) = m.remove("guid") {
                let g = g.as_str().unwrap_or_else(|| panic!("guid {g} is not a string"));
                let lengths: Vec<usize> = g.split('-').map(str::len).collect();
                assert!(
                    lengths == [8, 4, 4, 4, 12]
                        && g.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)),
                    "guid {g} is not a UUID"
                );
            }
            m.values_mut().for_each(strip_guids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_guids),
        _ => {}
    }
}

/// A tansu broker (a Kafka-protocol broker, in memory) on a free loopback port, killed when
/// dropped. The binary is `TANSU_BIN`, as scripts/test.sh sets it (scripts/tansu.sh
/// installs it).
pub struct Broker {
    child: Option<Child>,
    port: u16,
    _logs: TempDir,
}

impl Broker {
    pub fn start() -> Broker {
        Broker::spawn(free_port())
    }

    fn spawn(port: u16) -> Broker {
        let bin = std::env::var("TANSU_BIN").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.cache/schemata/tansu-0.6.0/bin/tansu")
        });
        assert!(Path::new(&bin).is_file(), "no tansu broker at {bin}: run scripts/tansu.sh (or set TANSU_BIN)");
        let logs = TempDir::new().expect("temp dir");
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&bin)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(File::create(logs.path().join("stdout.log")).expect("log")))
            .stderr(Stdio::from(File::create(logs.path().join("stderr.log")).expect("log")))
            .spawn()
            .expect("spawn tansu");
        let broker = Broker { child: Some(child), port, _logs: logs };
        let deadline = Instant::now() + START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {port}");
            sleep(Duration::from_millis(50));
        }
        broker
    }

    /// `127.0.0.1:PORT`, for `--kafka-bootstrap`.
    /// Starts a broker on a given port (one a server was already told to use).
    pub fn start_on(port: u16) -> Broker {
        Broker::spawn(port)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Freezes the broker (SIGSTOP): to its clients it is gone, but it keeps its data.
    pub fn pause(&self) {
        signal(self.child.as_ref().expect("broker running").id(), "-STOP");
    }

    /// Lets a paused broker go on (SIGCONT).
    pub fn resume(&self) {
        signal(self.child.as_ref().expect("broker running").id(), "-CONT");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "-CONT");
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends a signal (`-STOP`, `-CONT`, `-KILL`...) to a process.
pub fn signal(pid: u32, sig: &str) {
    let sent = Command::new("kill").arg(sig).arg(pid.to_string()).status().expect("run kill");
    assert!(sent.success(), "kill {sig} {pid} failed");
}

/// One user entry, from `schemata passwd`.
pub fn user(name: &str, password: &str, algorithm: &str) -> Value {
    let out = Command::new(binary())
        .args(["passwd", "--username", name, "--algorithm", algorithm, "--password", password])
        .stderr(Stdio::inherit())
        .output()
        .expect("run schemata passwd");
    assert!(out.status.success(), "schemata passwd failed");
    serde_json::from_slice(&out.stdout).expect("a JSON user entry")
}

pub fn permission(user: &str, operation: &str, resource: &str) -> Value {
    json!({"username": user, "operation": operation, "resource": resource})
}

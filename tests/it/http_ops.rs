//! Operations: Prometheus metrics, health probes, the served OpenAPI spec, request logs in
//! text and JSON, graceful shutdown on SIGTERM, body-size and request-header limits.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::{schema, Server, USER_INT, USER_V1, USER_V2};
use serde_json::{json, Value};

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_count_requests_registrations_checks_and_data() {
    let server = Server::start();
    server.register("a", USER_V1);
    server.register("a", USER_V2);
    server.register("b", USER_V1);
    let (status, _) = server.post("/compatibility/subjects/a/versions", schema(USER_INT));
    assert_eq!(status, 200);
    server.post("/compatibility/subjects/a/versions", schema(USER_V2));
    assert_eq!(server.get("/subjects/a/versions/9").0, 404);

    let r = server.raw("GET", "/metrics", None, None, &[]);
    assert_eq!(r.status, 200);
    assert!(r.content_type.as_deref().unwrap_or("").starts_with("text/plain; version=0.0.4"), "{r:?}");
    let m = &r.text;
    let reg = r#"schemata_http_requests_total{method="POST",route="/subjects/{subject}/versions",status="200"}"#;
    assert_eq!(sample(m, reg), Some(3.0), "{m}");
    let miss =
        r#"schemata_http_requests_total{method="GET",route="/subjects/{subject}/versions/{version}",status="404"}"#;
    assert_eq!(sample(m, miss), Some(1.0), "{m}");
    let hist = r#"schemata_http_request_duration_seconds_count{method="POST",route="/subjects/{subject}/versions",status="200"}"#;
    assert_eq!(sample(m, hist), Some(3.0), "{m}");
    assert_eq!(sample(m, "schemata_registrations_total"), Some(3.0));
    assert_eq!(sample(m, r#"schemata_compatibility_checks_total{result="incompatible"}"#), Some(1.0));
    assert_eq!(sample(m, r#"schemata_compatibility_checks_total{result="compatible"}"#), Some(1.0));
    assert_eq!(sample(m, "schemata_subjects"), Some(2.0));
    assert_eq!(sample(m, "schemata_schemas"), Some(2.0));
    assert_eq!(sample(m, "schemata_versions"), Some(3.0));
    assert!(sample(m, "schemata_store_size_bytes").unwrap_or(0.0) > 0.0, "{m}");

    // Raw paths never become labels: a subject name does not appear in the exposition.
    server.delete("/subjects/b");
    let m = server.raw("GET", "/metrics", None, None, &[]).text;
    assert!(!m.contains("route=\"/subjects/b"), "{m}");
    assert_eq!(sample(&m, "schemata_subjects"), Some(1.0));
}

#[test]
fn health_and_openapi() {
    let server = Server::start();
    assert_eq!(server.get("/health/live"), (200, json!({ "status": "UP" })));
    let (status, ready) = server.get("/health/ready");
    assert_eq!((status, &ready["status"], &ready["role"]), (200, &json!("UP"), &json!("leader")), "{ready}");
    if !server.kafka_backed() {
        assert_eq!(ready["leader"], Value::Null, "an embedded node is in no cluster");
    }
    let r = server.raw("GET", "/openapi.yaml", None, None, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text, include_str!("../../openapi.yaml"));
    for path in ["/metrics:", "/health/live:", "/health/ready:", "/openapi.yaml:"] {
        assert!(r.text.contains(&format!("\n  {path}\n")), "{path} missing from openapi.yaml");
    }
    let status = std::process::Command::new(crate::common::binary())
        .args(["health", "--listen", &format!("0.0.0.0:{}", server.port())])
        .status()
        .expect("run schemata health");
    assert!(status.success());
}

#[test]
fn health_command_fails_without_a_server() {
    let out = std::process::Command::new(crate::common::binary())
        .args(["health", "--listen", &format!("127.0.0.1:{}", crate::common::free_port())])
        .output()
        .expect("run schemata health");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not ready"));
}

#[test]
fn one_log_line_per_request_in_text_and_json() {
    let mut server = Server::start_with(&[], &[("RUST_LOG", "info")]);
    server.get("/subjects/x/versions");
    assert_eq!(server.terminate().code(), Some(0));
    let log = server.log();
    let line =
        log.lines().find(|l| l.contains("route=/subjects/{subject}/versions")).unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains(" INFO ") && line.contains("method=\"GET\""), "{line}");
    assert!(line.contains("status=404") && line.contains("duration_ms="), "{line}");
    assert_eq!(log.lines().filter(|l| l.contains("route=/subjects/{subject}/versions")).count(), 1, "{log}");

    let mut server = Server::start_with(&["--log-format", "json"], &[("RUST_LOG", "info")]);
    server.get("/subjects");
    assert_eq!(server.terminate().code(), Some(0));
    let lines: Vec<Value> = server.log().lines().map(|l| serde_json::from_str(l).expect("JSON log line")).collect();
    let req = lines.iter().find(|l| l["route"] == "/subjects").unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!((&req["level"], &req["method"], &req["status"]), (&json!("INFO"), &json!("GET"), &json!(200)));
    assert!(req["duration_ms"].is_f64(), "{req}");
    assert!(lines.iter().any(|l| l["message"] == "schemata stopped"), "{lines:?}");
}

#[test]
fn sigterm_exits_0_and_data_survives() {
    let mut server = Server::start();
    let id = server.register("kept", USER_V1);
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    server.start_again();
    let (status, body) = server.get("/subjects/kept/versions/1");
    assert_eq!(status, 200);
    assert_eq!(body["id"].as_u64(), Some(id));
}

#[test]
fn body_over_the_limit_is_42209() {
    let server = Server::start_with(&["--max-body-bytes", "1000"], &[]);
    let big = format!(
        r#"{{"type":"record","name":"R","fields":[{{"name":"f","type":"string","doc":"{}"}}]}}"#,
        "x".repeat(2000)
    );
    let (status, body) = server.post("/subjects/s/versions", schema(&big));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error_code"], 42209);
    assert_eq!(server.post("/subjects/s/versions", schema(USER_V1)).0, 200);
}

#[test]
fn slow_request_headers_time_out() {
    let server = Server::start_with(&["--request-timeout-secs", "1"], &[("SCHEMATA_KEEP_ALIVE_SECS", "1")]);
    let mut conn = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    conn.write_all(b"GET /subjects HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    // actix times requests with a clock it refreshes every 500 ms, so the 1 s timeout can
    // fire up to half a second early (seen on a loaded machine).
    assert!(waited >= Duration::from_millis(450) && waited < Duration::from_secs(5), "{waited:?}");
}

/// A request in flight when SIGTERM arrives is answered (and its write kept) before the
/// process exits 0; new connections are refused meanwhile.
#[test]
fn sigterm_drains_a_request_in_flight() {
    let mut server = Server::start();
    let body = schema(USER_V1).to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let mut conn = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        conn,
        "POST /subjects/drained/versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    sleep(Duration::from_millis(200));

    let port = server.port();
    let stopping = std::thread::spawn(move || server.terminate().code().map(|c| (c, server)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting 5s after SIGTERM");
        sleep(Duration::from_millis(25));
    }
    conn.write_all(tail.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let reply: serde_json::Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    assert_eq!(reply["id"], 1, "{answer}");

    let (code, mut server) = stopping.join().unwrap().expect("exit code");
    assert_eq!(code, 0);
    server.start_again();
    assert_eq!(server.get("/subjects/drained/versions").1, json!([1]));
}

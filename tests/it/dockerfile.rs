//! What can be checked of the Dockerfile without a Docker engine: the runtime stage's
//! settings are the documented ones, and the binary serves with the image's environment,
//! command and health check (the listen address moved to loopback, /data to a temp dir),
//! and stops with exit 0 on the image's stop signal.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::{binary, free_port};
use tempfile::TempDir;

/// The instructions of the final stage, with line continuations joined.
fn runtime_stage() -> Vec<(String, String)> {
    let text = include_str!("../../Dockerfile").replace("\\\n", " ");
    let instructions: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (op, rest) = l.split_once(' ').unwrap_or((l, ""));
            (op.to_ascii_uppercase(), rest.trim().to_string())
        })
        .collect();
    let last_from = instructions.iter().rposition(|(op, _)| op == "FROM").expect("a FROM line");
    instructions[last_from..].to_vec()
}

fn all(stage: &[(String, String)], op: &str) -> Vec<String> {
    stage.iter().filter(|(o, _)| o == op).map(|(_, v)| v.clone()).collect()
}

fn one(stage: &[(String, String)], op: &str) -> String {
    let found = all(stage, op);
    assert_eq!(found.len(), 1, "exactly one {op} in the runtime stage: {found:?}");
    found[0].clone()
}

/// `["a", "b"]` (exec form) as a list of words.
fn exec_form(value: &str) -> Vec<String> {
    serde_json::from_str(value).unwrap_or_else(|e| panic!("{value} is not exec form: {e}"))
}

#[test]
fn runtime_stage_settings() {
    let stage = runtime_stage();
    assert!(stage[0].1.contains("slim"), "small base image: {:?}", stage[0]);
    let user = one(&stage, "USER");
    assert!(user != "root" && user != "0", "runs as {user}");
    assert_eq!(one(&stage, "VOLUME"), "/data");
    assert_eq!(one(&stage, "EXPOSE"), "8081");
    let env = env_of(&stage);
    assert_eq!(env["SCHEMATA_LISTEN"], "0.0.0.0:8081");
    assert_eq!(env["SCHEMATA_DATA_DIR"], "/data");
    let health = one(&stage, "HEALTHCHECK");
    let cmd = health.split_once("CMD ").map(|(_, c)| exec_form(c)).expect("HEALTHCHECK ... CMD [...]");
    assert_eq!(cmd, ["schemata", "health"]);
}

fn env_of(stage: &[(String, String)]) -> HashMap<String, String> {
    all(stage, "ENV")
        .iter()
        .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("ENV {kv}: use KEY=VALUE"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn binary_serves_with_the_images_environment_and_health_check() {
    let stage = runtime_stage();
    let mut env = env_of(&stage);
    let data = TempDir::new().unwrap();
    // The image's paths and address, moved to a temp dir and loopback.
    let port = free_port();
    let listen = env["SCHEMATA_LISTEN"].replace("0.0.0.0:8081", &format!("127.0.0.1:{port}"));
    let data_dir = env["SCHEMATA_DATA_DIR"].replace("/data", &data.path().join("data").display().to_string());
    env.insert("SCHEMATA_LISTEN".into(), listen);
    env.insert("SCHEMATA_DATA_DIR".into(), data_dir.clone());

    let entrypoint = exec_form(&one(&stage, "ENTRYPOINT"));
    let cmd = exec_form(&one(&stage, "CMD"));
    assert_eq!(entrypoint, ["schemata"]);
    let health_cmd = one(&stage, "HEALTHCHECK").split_once("CMD ").map(|(_, c)| exec_form(c)).unwrap();
    let run_health = || {
        Command::new(binary())
            .args(&health_cmd[1..])
            .env_clear()
            .envs(&env)
            .stderr(Stdio::null())
            .status()
            .expect("run health check")
    };
    assert!(!run_health().success(), "healthy before the server started");

    let mut server = Command::new(binary())
        .args(&cmd)
        .env_clear()
        .envs(&env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn schemata");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !run_health().success() {
        assert!(server.try_wait().unwrap().is_none(), "schemata exited");
        assert!(Instant::now() < deadline, "not healthy within 10s");
        sleep(Duration::from_millis(50));
    }
    assert!(std::path::Path::new(&data_dir).join("db").is_dir(), "data not in SCHEMATA_DATA_DIR");

    assert_eq!(one(&stage, "STOPSIGNAL"), "SIGTERM");
    let sent = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("no exit within 10s of SIGTERM");
        }
        sleep(Duration::from_millis(25));
    };
    assert_eq!(status.code(), Some(0));
}

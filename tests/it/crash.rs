//! Crash safety against the real binary: concurrent registrations from several clients, a
//! SIGKILL in the middle, a restart on the same data directory. Every registration that was
//! answered 200 must survive with the same id and version, no id may name two schemas,
//! versions per subject stay contiguous, and registering goes on. Also a full disk during a
//! write (a small tmpfs, when this process may mount one): 50001 with the store's message for
//! a lone write and for concurrent ones, and the directory is consistent after a restart.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;
use reqwest::blocking::Client;
use serde_json::{json, Value};

const SUBJECTS: usize = 4;
const CLIENTS: usize = 8;
const ROUNDS: usize = 5;
/// Answered registrations wanted before each kill; varied so the kill lands at other points.
const KILL_AFTER: [usize; ROUNDS] = [230, 170, 290, 210, 250];

/// A schema that no other registration in the test uses.
fn unique_schema(tag: &str) -> String {
    format!(r#"{{"type":"record","name":"R{tag}","fields":[{{"name":"f","type":"string"}}]}}"#)
}

/// Every subject version the server holds (soft-deleted included), paged through /schemas:
/// (subject, version) → (id, schema text).
fn all_versions(s: &Server) -> BTreeMap<(String, u64), (u64, String)> {
    let mut out = BTreeMap::new();
    for page in 0..1000 {
        let (status, body) = s.get(&format!("/schemas?deleted=true&offset={}&limit=1000", page * 1000));
        assert_eq!(status, 200, "{body}");
        let items = body.as_array().expect("array");
        for item in items {
            let key = (item["subject"].as_str().unwrap().to_string(), item["version"].as_u64().unwrap());
            let value = (item["id"].as_u64().unwrap(), item["schema"].as_str().unwrap().to_string());
            assert!(out.insert(key.clone(), value).is_none(), "listed twice: {key:?}");
        }
        if items.len() < 1000 {
            return out;
        }
    }
    panic!("more than a million versions listed");
}

/// One answered registration: the subject and schema sent, the id answered.
#[derive(Clone, Debug)]
struct Acked {
    subject: String,
    schema: String,
    id: u64,
}

/// Registers from `CLIENTS` threads until `stop` is set or the server stops answering.
fn register_until_stopped(
    port: u16,
    round: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> Vec<thread::JoinHandle<()>> {
    let count = Arc::new(AtomicUsize::new(0));
    (0..CLIENTS)
        .map(|client| {
            let (stop, acked, count) = (stop.clone(), acked.clone(), count.clone());
            thread::spawn(move || {
                let http = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                // Bounded: a round never needs more than this many per client.
                for i in 0..2000 {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let subject = format!("s{}", (client + i) % SUBJECTS);
                    let schema = unique_schema(&format!("_{round}_{client}_{i}"));
                    let resp = http
                        .post(format!("http://127.0.0.1:{port}/subjects/{subject}/versions"))
                        .header("Content-Type", CT)
                        .body(json!({ "schema": schema }).to_string())
                        .send();
                    let Ok(resp) = resp else { return };
                    let status = resp.status().as_u16();
                    let Ok(body) = resp.json::<Value>() else { return };
                    assert_eq!(status, 200, "register before the kill: {body}");
                    let id = body["id"].as_u64().expect("id");
                    acked.lock().unwrap().push(Acked { subject, schema, id });
                    count.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect()
}

/// Checks the invariants on the state the server reports now; returns each acknowledged
/// registration's version so later rounds can check it did not move.
fn check_state(s: &Server, acked: &[Acked], known_versions: &mut HashMap<String, u64>) {
    let listed = all_versions(s);
    // Versions per subject are 1..=n without gaps.
    let mut per_subject: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (subject, version) in listed.keys() {
        per_subject.entry(subject).or_default().push(*version);
    }
    for (subject, versions) in &per_subject {
        let expected: Vec<u64> = (1..=versions.len() as u64).collect();
        assert_eq!(versions, &expected, "versions of {subject} are not contiguous");
    }
    // No id names two schemas, no schema has two ids (every schema text here is unique).
    let mut by_id: HashMap<u64, &str> = HashMap::new();
    let mut by_text: HashMap<&str, (u64, &str, u64)> = HashMap::new();
    for ((subject, version), (id, text)) in &listed {
        if let Some(other) = by_id.insert(*id, text) {
            assert_eq!(other, text, "id {id} used for two schemas");
        }
        let before = by_text.insert(text, (*id, subject, *version));
        assert!(before.is_none(), "schema {text} stored twice: {before:?} and {subject} v{version}");
    }
    // Every answered registration is there, with its id, and its version has not moved.
    for a in acked {
        let canonical = a.schema.as_str();
        let &(id, subject, version) =
            by_text.get(canonical).unwrap_or_else(|| panic!("acknowledged registration lost: {a:?}"));
        assert_eq!((id, subject), (a.id, a.subject.as_str()), "acknowledged registration changed: {a:?}");
        let known = *known_versions.entry(a.schema.clone()).or_insert(version);
        assert_eq!(known, version, "version of {a:?} moved");
    }
}

#[test]
fn sigkill_during_concurrent_registrations_loses_no_acknowledged_write() {
    let started = Instant::now();
    let mut s = Server::start();
    assert_eq!(s.put("/config", json!({"compatibility": "NONE"})).0, 200);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut known_versions = HashMap::new();
    for (round, &kill_after) in KILL_AFTER.iter().enumerate() {
        let before = acked.lock().unwrap().len();
        let stop = Arc::new(AtomicBool::new(false));
        let clients = register_until_stopped(s.port(), round, stop.clone(), acked.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().len() - before < kill_after {
            assert!(Instant::now() < deadline, "round {round}: too few registrations answered");
            assert!(!clients.iter().all(|c| c.is_finished()), "round {round}: every client stopped");
            thread::sleep(Duration::from_millis(2));
        }
        // Requests are in flight: the clients keep sending until they see the server gone.
        s.stop();
        stop.store(true, Ordering::SeqCst);
        for c in clients {
            c.join().expect("client thread");
        }
        s.start_again();
        let acked = acked.lock().unwrap().clone();
        check_state(&s, &acked, &mut known_versions);
    }
    let total = acked.lock().unwrap().len();
    assert!(total >= 1000, "only {total} acknowledged registrations");
    // Registering goes on after the last restart, with a fresh id and the next version.
    let listed = all_versions(&s);
    let max_id = listed.values().map(|(id, _)| *id).max().unwrap();
    let next_version = listed.keys().filter(|(subject, _)| subject == "s0").count() as u64 + 1;
    let id = s.register("s0", &unique_schema("_after"));
    assert!(id > max_id, "id {id} not above {max_id}");
    let (status, body) = s.get(&format!("/subjects/s0/versions/{next_version}"));
    assert_eq!((status, body["id"].as_u64()), (200, Some(id)), "{body}");
    eprintln!("{total} acknowledged registrations over {ROUNDS} kills in {:?}", started.elapsed());
}

/// A small tmpfs mounted for one test and unmounted (lazily, so never left busy) on drop.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    /// None when this process may not mount (not root, or in a container without the right).
    fn mount(bytes: u64) -> Option<Tmpfs> {
        let parent = tempfile::TempDir::new().unwrap();
        let dir = parent.path().join("fs");
        std::fs::create_dir(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&dir)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then_some(Tmpfs { dir, _parent: parent })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Fills the filesystem holding `dir` until a write fails for lack of space.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    // Bounded: the tmpfs is a few megabytes.
    for _ in 0..100_000 {
        if f.write_all(&block).and_then(|_| f.sync_all()).is_err() {
            break;
        }
    }
    // Fill the last partial page too.
    for _ in 0..100_000 {
        if f.write_all(&[0u8; 512]).and_then(|_| f.sync_all()).is_err() {
            return path;
        }
    }
    panic!("the filesystem did not fill up");
}

#[test]
fn full_disk_during_a_write_answers_50001_and_leaves_a_consistent_store() {
    let Some(fs) = Tmpfs::mount(32 * 1024 * 1024) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root); the full-disk case is not run");
        return;
    };
    let data = fs.dir.join("data");
    let mut s = Server::start_in(&data);
    assert_eq!(s.put("/config", json!({"compatibility": "NONE"})).0, 200);
    let mut acked = Vec::new();
    for i in 0..20 {
        let schema = unique_schema(&format!("_before_{i}"));
        let id = s.register("full", &schema);
        acked.push(Acked { subject: "full".into(), schema, id });
    }
    let filler = fill(&fs.dir);
    // A schema big enough that it cannot fit in what little space is left.
    let big_doc = "x".repeat(256 * 1024);
    let big =
        format!(r#"{{"type":"record","name":"Big","doc":"{big_doc}","fields":[{{"name":"f","type":"string"}}]}}"#);
    let (status, body) = s.post("/subjects/full/versions", json!({ "schema": big }));
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error_code"], json!(50001), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("Error while writing to the store: "), "{message}");
    // Concurrent writes while the disk is full all fail (committed together or not).
    let port = s.port();
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let schema = big.replace("\"Big\"", &format!("\"Big{t}\""));
            thread::spawn(move || {
                let resp = Client::new()
                    .post(format!("http://127.0.0.1:{port}/subjects/full/versions"))
                    .header("Content-Type", CT)
                    .body(json!({ "schema": schema }).to_string())
                    .send()
                    .expect("answer");
                (resp.status().as_u16(), resp.json::<Value>().expect("json")["error_code"].clone())
            })
        })
        .collect();
    for w in writers {
        assert_eq!(w.join().unwrap(), (500, json!(50001)));
    }
    // Nothing half-written is visible, and the failed registrations left no trace.
    let (status, versions) = s.get("/subjects/full/versions");
    assert_eq!((status, versions), (200, json!((1..=20).collect::<Vec<_>>())));

    std::fs::remove_file(filler).unwrap();
    s.restart();
    let mut known = HashMap::new();
    check_state(&s, &acked, &mut known);
    let listed = all_versions(&s);
    assert!(listed.values().all(|(_, text)| !text.contains(&big_doc)), "a failed registration was stored");
    assert_eq!(listed.len(), 20);
    let id = s.register("full", &big);
    assert!(id > acked.iter().map(|a| a.id).max().unwrap());
    assert_eq!(s.get("/subjects/full/versions/21").1["id"].as_u64(), Some(id));
}

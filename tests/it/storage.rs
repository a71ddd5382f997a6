//! Storage tests against the real binary and a real sled data directory: a restart (after
//! SIGKILL) keeps subjects, versions, soft-deleted state, ids, configs and modes; ids are
//! never reused after a hard delete, also across restarts; and `schemata serve` refuses a
//! data directory locked by a running instance, one with an unknown format version, and a
//! path that is not a directory — with a non-zero exit and a message naming the directory.

use crate::common::*;
use serde_json::{json, Value};

/// Everything a client can read about the registry's state, for before/after comparison.
fn snapshot(s: &Server, ids: &[u64]) -> Vec<(String, (u16, Value))> {
    let mut paths: Vec<String> = [
        "/subjects",
        "/subjects?deleted=true",
        "/subjects?deletedOnly=true",
        "/schemas?deleted=true",
        "/schemas",
        "/config",
        "/mode",
        "/config/a",
        "/config/b",
        "/config/gone",
        "/mode/a",
        "/mode/b",
        "/mode/gone",
        "/subjects/a/versions",
        "/subjects/a/versions?deleted=true",
        "/subjects/b/versions",
        "/subjects/b/versions?deleted=true",
        "/subjects/c/versions?deleted=true",
        "/subjects/gone/versions?deleted=true",
        "/subjects/a/versions/latest",
        "/subjects/a/versions/1?deleted=true",
        "/subjects/a/versions/2?deleted=true",
        "/subjects/a/versions/3",
        "/subjects/dep/versions/1/referencedby",
        "/subjects/holder/versions/1",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    for id in ids {
        paths.push(format!("/schemas/ids/{id}"));
        paths.push(format!("/schemas/ids/{id}/versions?deleted=true"));
    }
    paths.into_iter().map(|p| (p.clone(), s.get(&p))).collect()
}

#[test]
fn restart_keeps_everything() {
    let mut s = Server::start();
    s.set_level("a", "NONE");
    let a1 = s.register("a", USER_V1);
    let a2 = s.register("a", USER_INT);
    let a3 = s.register("a", USER_V2);
    assert_eq!(s.delete("/subjects/a/versions/2"), (200, json!(2)));
    assert_eq!(s.register("b", USER_V1), a1);
    assert_eq!(
        s.put("/config/b", json!({"compatibility": "forward_transitive"})),
        (200, json!({"compatibility": "forward_transitive"}))
    );
    assert_eq!(s.put("/mode/b", json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    let c1 = s.register("c", "\"string\"");
    assert_eq!(s.delete("/subjects/c"), (200, json!([1])));
    let gone = s.register("gone", "\"long\"");
    assert_eq!(s.delete("/subjects/gone"), (200, json!([1])));
    assert_eq!(s.delete("/subjects/gone?permanent=true"), (200, json!([1])));
    let dep = s.register("dep", r#"{"type":"record","name":"Dep","fields":[{"name":"v","type":"int"}]}"#);
    let (status, body) = s.post(
        "/subjects/holder/versions",
        json!({"schema": r#"{"type":"record","name":"H","fields":[{"name":"d","type":"Dep"}]}"#, "references": [{"name": "Dep", "subject": "dep", "version": -1}]}),
    );
    assert_eq!(status, 200, "{body}");
    let holder = body["id"].as_u64().unwrap();
    assert_eq!(
        s.put("/config", json!({"compatibility": "FULL", "normalize": true})),
        (200, json!({"compatibility": "FULL", "normalize": true}))
    );
    let ids = [a1, a2, a3, c1, gone, dep, holder];
    let before = snapshot(&s, &ids);
    // Sanity: the snapshot holds what was written.
    let get = |path: &str| before.iter().find(|(p, _)| p == path).map(|(_, r)| r.clone()).unwrap();
    assert_eq!(get("/subjects"), (200, json!(["a", "b", "dep", "holder"])));
    // A subject with any soft-deleted version is listed by deletedOnly.
    assert_eq!(get("/subjects?deletedOnly=true"), (200, json!(["a", "c"])));
    assert_eq!(get("/subjects/a/versions"), (200, json!([1, 3])));
    assert_eq!(get("/mode/b"), (200, json!({"mode": "READONLY"})));
    assert_eq!(get("/config/b"), (200, json!({"compatibilityLevel": "FORWARD_TRANSITIVE"})));
    assert_eq!(get("/config"), (200, json!({"compatibilityLevel": "FULL", "normalize": true})));
    assert_eq!(get(&format!("/schemas/ids/{gone}")).0, 404);
    assert_eq!(get("/subjects/dep/versions/1/referencedby"), (200, json!([holder])));

    s.restart();
    let after = snapshot(&s, &ids);
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{path} changed across the restart");
    }
    // And the state keeps working: the subject mode still blocks, ids keep counting.
    assert_eq!(s.post("/subjects/b/versions", schema("\"int\"")), (422, err(42205, "Subject b is in read-only mode")));
    let next = s.register("d", "\"double\"");
    assert!(ids.iter().all(|&id| next > id), "{next} is above every earlier id {ids:?}");
    assert_eq!(s.get("/subjects/a/versions?deleted=true"), (200, json!([1, 2, 3])));
    // Soft-deleted a/2 can still be hard-deleted after the restart, and that survives too.
    assert_eq!(s.delete("/subjects/a/versions/2?permanent=true"), (200, json!(2)));
    s.restart();
    assert_eq!(s.get("/subjects/a/versions?deleted=true"), (200, json!([1, 3])));
    assert_eq!(s.get(&format!("/schemas/ids/{a2}")), (404, err(40403, &format!("Schema {a2} not found"))));
    assert_eq!(s.get(&format!("/schemas/ids/{next}")), (200, json!({"schema": "\"double\""})));
}

#[test]
fn ids_are_never_reused_after_hard_delete() {
    let mut s = Server::start();
    let first = s.register("x", "\"string\"");
    assert_eq!(s.delete("/subjects/x"), (200, json!([1])));
    assert_eq!(s.delete("/subjects/x?permanent=true"), (200, json!([1])));
    let second = s.register("x", "\"int\"");
    assert!(second > first, "{second} > {first}");
    // The max id is the one just handed out even though the first is gone.
    assert_eq!(
        s.get(&format!("/schemas/ids/{second}?fetchMaxId=true")),
        (200, json!({"schema": "\"int\"", "maxId": second}))
    );

    // Hard-delete the newest id and restart: the counter is durable, not derived from the
    // schemas that remain.
    assert_eq!(s.delete("/subjects/x"), (200, json!([1])));
    assert_eq!(s.delete("/subjects/x?permanent=true"), (200, json!([1])));
    assert_eq!(s.get(&format!("/schemas/ids/{second}")), (404, err(40403, &format!("Schema {second} not found"))));
    s.restart();
    let third = s.register("y", "\"long\"");
    assert!(third > second, "{third} > {second}");
    // The same text as a purged schema gets a fresh id too.
    let fourth = s.register("z", "\"string\"");
    assert!(fourth > third, "{fourth} > {third}");
    s.restart();
    let fifth = s.register("w", "\"boolean\"");
    assert!(fifth > fourth, "{fifth} > {fourth}");
    assert_eq!(s.get("/subjects"), (200, json!(["w", "y", "z"])));
}

#[test]
fn a_data_dir_in_use_is_refused() {
    let s = Server::start();
    let id = s.register("a", "\"string\"");
    let (status, stderr) = run_expecting_exit(s.data_dir());
    assert!(!status.success(), "a second instance must not start: {status}");
    let dir = s.data_dir().display().to_string();
    assert!(stderr.contains(&dir), "stderr names the directory {dir}: {stderr}");
    assert!(stderr.contains("in use"), "stderr says the directory is in use: {stderr}");
    // The first instance is unaffected.
    assert_eq!(s.get(&format!("/schemas/ids/{id}")), (200, json!({"schema": "\"string\""})));
    assert_eq!(s.register("b", "\"string\""), id);
}

#[test]
fn an_unknown_format_version_is_refused() {
    let mut s = Server::start();
    s.register("a", "\"string\"");
    s.stop();
    let dir = s.data_dir().to_path_buf();
    {
        let db = sled::open(dir.join("db")).expect("open the sled db");
        let meta = db.open_tree("meta").expect("meta tree");
        let current = meta.get("format_version").expect("read").expect("format_version is recorded");
        assert_eq!(current.as_ref(), 1u32.to_be_bytes(), "the current format version is 1");
        meta.insert("format_version", &99u32.to_be_bytes()).expect("write");
        db.flush().expect("flush");
    }
    let (status, stderr) = run_expecting_exit(&dir);
    assert!(!status.success(), "{status}");
    assert!(stderr.contains(&dir.display().to_string()), "stderr names the directory: {stderr}");
    assert!(stderr.contains("format version 99"), "stderr names the unknown format version: {stderr}");
    // The refusal did not touch the data: restoring the version makes it readable again.
    {
        let db = sled::open(dir.join("db")).expect("open the sled db");
        let meta = db.open_tree("meta").expect("meta tree");
        assert_eq!(meta.get("format_version").unwrap().unwrap().as_ref(), 99u32.to_be_bytes());
        meta.insert("format_version", &1u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    s.start_again();
    assert_eq!(s.get("/subjects"), (200, json!(["a"])));
}

#[test]
fn a_data_dir_that_is_a_file_is_refused() {
    let tmp = tempfile::TempDir::new().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"plain file").unwrap();
    let (status, stderr) = run_expecting_exit(&file);
    assert!(!status.success(), "{status}");
    assert!(stderr.contains(&file.display().to_string()), "stderr names the path: {stderr}");
    assert!(stderr.contains("data directory"), "stderr says what is wrong: {stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), b"plain file", "the file is left alone");

    // A data dir below a regular file cannot be created either.
    let below = file.join("data");
    let (status, stderr) = run_expecting_exit(&below);
    assert!(!status.success(), "{status}");
    assert!(stderr.contains(&below.display().to_string()), "stderr names the path: {stderr}");
}

/// A data directory whose records do not fit together (here damaged by hand) is refused at
/// start with the first broken link named, rather than served until a request finds it;
/// the refusal changes nothing, so restoring the record makes it serve again.
#[test]
fn an_inconsistent_data_dir_is_refused_naming_the_first_broken_link() {
    let mut s = Server::start();
    let a = s.register("a", r#"{"type":"record","name":"A","fields":[]}"#);
    let (status, b) = s.post(
        "/subjects/b/versions",
        json!({"schema": r#"{"type":"record","name":"B","fields":[{"name":"a","type":"A"}]}"#,
               "references": [{"name": "A", "subject": "a", "version": 1}]}),
    );
    assert_eq!(status, 200, "{b}");
    let b = b["id"].as_u64().unwrap();
    s.stop();
    let dir = s.data_dir().to_path_buf();
    let tree = |name: &str, damage: &dyn Fn(&sled::Tree)| {
        let db = sled::open(dir.join("db")).expect("open the sled db");
        damage(&db.open_tree(name).expect("tree"));
        db.flush().expect("flush");
    };
    let refused = |expected: &str| {
        let (status, stderr) = run_expecting_exit(&dir);
        assert!(!status.success(), "{status}");
        assert!(stderr.contains("is inconsistent") && stderr.contains(expected), "{stderr}");
    };

    let b_key = (b as u32).to_be_bytes();
    let b_record = std::cell::RefCell::new(None);
    tree("schemas", &|t| *b_record.borrow_mut() = t.remove(b_key).expect("remove"));
    refused(&format!("version 1 of subject \"b\" names schema id {b}, which does not exist"));
    tree("schemas", &|t| {
        t.insert(b_key, b_record.borrow().clone().expect("was there")).expect("restore");
    });

    let a_key = [&b"a\xff"[..], &1u32.to_be_bytes()].concat();
    let a_version = std::cell::RefCell::new(None);
    tree("versions", &|t| *a_version.borrow_mut() = t.remove(&a_key).expect("remove"));
    refused(&format!("schema id {b} references version 1 of subject \"a\", which does not exist"));
    tree("versions", &|t| {
        t.insert(&a_key, a_version.borrow().clone().expect("was there")).expect("restore");
    });

    s.start_again();
    assert_eq!(s.get(&format!("/schemas/ids/{a}")).0, 200);
    assert_eq!(s.get("/subjects/b/versions/1").1["id"], json!(b));
}

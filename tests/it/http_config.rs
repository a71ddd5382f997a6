//! HTTP tests of `/config` and `/mode`, global and per subject: GET/PUT/DELETE, the echo of
//! PUT requests, partial updates, case-insensitive levels and modes, 42203/42204,
//! 40408/40409/40401, `defaultToGlobal`, READONLY blocking writes with 42205, entering
//! IMPORT (existing subjects, `force=true`, purge of soft-deleted versions), and the
//! interplay of subject and global settings. Expected answers follow the recorded
//! Confluent 7.9.0 corpus.

use crate::common::*;
use serde_json::{json, Value};

fn invalid_level() -> Value {
    err(
        42203,
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive",
    )
}

fn invalid_mode() -> Value {
    err(42204, "Invalid mode. Valid values are READWRITE, READONLY, and IMPORT.")
}

fn read_only(subject: &str) -> Value {
    err(42205, &format!("Subject {subject} is in read-only mode"))
}

#[test]
fn global_config_get_put_delete() {
    let s = Server::start();
    s.register("a", "\"string\"");
    assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": "BACKWARD"})));
    for level in ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"]
    {
        assert_eq!(
            s.put("/config", json!({"compatibility": level})),
            (200, json!({"compatibility": level})),
            "{level}"
        );
        assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": level})), "{level}");
    }
    // Case-insensitive; the request is echoed as sent, the level is stored upper case.
    assert_eq!(s.put("/config", json!({"compatibility": "backward"})), (200, json!({"compatibility": "backward"})));
    assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": "BACKWARD"})));
    assert_eq!(s.put("/config", json!({"compatibility": "Full"})), (200, json!({"compatibility": "Full"})));
    assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": "FULL"})));
    // Invalid levels.
    for bad in [json!("NOPE"), json!(""), json!(5)] {
        assert_eq!(s.put("/config", json!({"compatibility": bad})), (422, invalid_level()), "{bad}");
    }
    // Partial updates: absent (or null) fields are kept; the echo holds only what was sent.
    assert_eq!(s.put("/config", json!({"compatibility": null})), (200, json!({})));
    assert_eq!(s.put("/config", json!({"compatibilityLevel": "FORWARD"})), (200, json!({})));
    assert_eq!(s.put("/config", json!({})), (200, json!({})));
    assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": "FULL"})));
    assert_eq!(s.put("/config", json!({"normalize": true})), (200, json!({"normalize": true})));
    assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": "FULL", "normalize": true})));
    assert_eq!(
        s.put("/config", json!({"normalize": "yes"})),
        (
            400,
            err(
                400,
                "Cannot deserialize value of type `Boolean` from String \"yes\": only \"true\" or \"false\" recognized"
            )
        )
    );
    let r = s.raw("PUT", "/config", Some("{"), Some(CT), &[]);
    assert_eq!((r.status, r.json["error_code"].clone()), (400, json!(400)), "{}", r.text);
    let r = s.raw("PUT", "/config", Some(""), Some(CT), &[]);
    assert_eq!((r.status, r.json), (422, err(422, "updateTopLevelConfig.arg1 must not be null (was null)")));
    assert_eq!(
        s.put("/config", json!({"compatibility": "FULL", "unknownKey": 1})),
        (200, json!({"compatibility": "FULL"}))
    );
    assert_eq!(s.put("/config", json!({"validateFields": true})), (200, json!({"validateFields": true})));
    assert_eq!(
        s.put("/config", json!({"compatibilityGroup": "application.major.version"})),
        (200, json!({"compatibilityGroup": "application.major.version"}))
    );
    let full = json!({"compatibilityGroup": "application.major.version", "compatibilityLevel": "FULL", "normalize": true, "validateFields": true});
    assert_eq!(s.get("/config"), (200, full.clone()));
    assert_eq!(s.get("/config?defaultToGlobal=true"), (200, full.clone()));
    // DELETE answers the previous config and reverts to the server default.
    assert_eq!(s.delete("/config"), (200, full));
    assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": "BACKWARD"})));
    assert_eq!(s.delete("/config"), (200, json!({"compatibilityLevel": "BACKWARD"})));
}

#[test]
fn subject_config_get_put_delete() {
    let s = Server::start();
    let unset = |subject: &str| {
        err(40408, &format!("Subject '{subject}' does not have subject-level compatibility configured"))
    };
    assert_eq!(s.get("/config/c"), (404, unset("c")));
    assert_eq!(s.get("/config/c?defaultToGlobal=true"), (200, json!({"compatibilityLevel": "BACKWARD"})));
    assert_eq!(s.put("/config/c", json!({"compatibility": "FULL"})), (200, json!({"compatibility": "FULL"})));
    assert_eq!(s.put("/config/c", json!({"compatibility": "FULL"})), (200, json!({"compatibility": "FULL"})));
    assert_eq!(s.get("/config/c"), (200, json!({"compatibilityLevel": "FULL"})));
    assert_eq!(s.get("/config/c?defaultToGlobal=true"), (200, json!({"compatibilityLevel": "FULL"})));
    assert_eq!(s.put("/config/c", json!({"compatibility": "nope"})), (422, invalid_level()));
    assert_eq!(s.put("/config/c", json!({})), (200, json!({})));
    assert_eq!(s.get("/config/c"), (200, json!({"compatibilityLevel": "FULL"})));
    assert_eq!(s.put("/config/c", json!({"normalize": true})), (200, json!({"normalize": true})));
    assert_eq!(s.get("/config/c"), (200, json!({"compatibilityLevel": "FULL", "normalize": true})));
    assert_eq!(
        s.put("/config/c", json!({"compatibility": "NONE", "normalize": false, "validateFields": false})),
        (200, json!({"compatibility": "NONE", "normalize": false, "validateFields": false}))
    );
    let stored = json!({"compatibilityLevel": "NONE", "normalize": false, "validateFields": false});
    assert_eq!(s.get("/config/c"), (200, stored.clone()));
    let r = s.raw("PUT", "/config/c", Some(""), Some(CT), &[]);
    assert_eq!((r.status, r.json), (422, err(422, "updateSubjectLevelConfig.arg2 must not be null (was null)")));
    assert_eq!(s.delete("/config/c"), (200, stored));
    assert_eq!(s.get("/config/c"), (404, unset("c")));
    assert_eq!(s.delete("/config/c"), (404, subject_not_found("c")));
    assert_eq!(s.delete("/config/never"), (404, subject_not_found("never")));
    // The subject need not exist, and setting its config does not create it.
    assert_eq!(s.put("/config/never", json!({"compatibility": "NONE"})), (200, json!({"compatibility": "NONE"})));
    assert_eq!(s.get("/subjects/never/versions"), (404, subject_not_found("never")));
    assert_eq!(s.get("/subjects"), (200, json!([])));

    // A subject config without a level reads with the server default level, with or without
    // defaultToGlobal: Confluent answers the first config set (subject, else global), unmerged.
    assert_eq!(
        s.put("/config", json!({"compatibility": "FORWARD", "validateFields": true})),
        (200, json!({"compatibility": "FORWARD", "validateFields": true}))
    );
    assert_eq!(s.put("/config/p", json!({"normalize": true})), (200, json!({"normalize": true})));
    assert_eq!(s.get("/config/p"), (200, json!({"compatibilityLevel": "BACKWARD", "normalize": true})));
    assert_eq!(
        s.get("/config/p?defaultToGlobal=true"),
        (200, json!({"compatibilityLevel": "BACKWARD", "normalize": true}))
    );
    assert_eq!(
        s.get("/config/q?defaultToGlobal=true"),
        (200, json!({"compatibilityLevel": "FORWARD", "validateFields": true}))
    );
}

#[test]
fn subject_level_overrides_global_level_on_register() {
    let s = Server::start();
    s.register("a", "\"string\"");
    // Global NONE lets an incompatible change through...
    assert_eq!(s.put("/config", json!({"compatibility": "NONE"})), (200, json!({"compatibility": "NONE"})));
    s.register("a", "\"int\"");
    // ...a subject-level BACKWARD wins over it...
    s.set_level("a", "BACKWARD");
    let (status, body) = s.post("/subjects/a/versions", schema("\"boolean\""));
    assert_eq!((status, body["error_code"].clone()), (409, json!(409)), "{body}");
    // ...and deleting the subject config falls back to global NONE.
    assert_eq!(s.delete("/config/a"), (200, json!({"compatibilityLevel": "BACKWARD"})));
    s.register("a", "\"boolean\"");
    assert_eq!(s.get("/subjects/a/versions"), (200, json!([1, 2, 3])));
}

#[test]
fn global_mode_readonly_and_import() {
    let s = Server::start();
    let id = s.register("a", "\"string\"");
    assert_eq!(s.get("/mode"), (200, json!({"mode": "READWRITE"})));
    assert_eq!(s.put("/mode", json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.get("/mode"), (200, json!({"mode": "READONLY"})));
    // Writes are refused, reads and lookups work.
    assert_eq!(s.post("/subjects/a/versions", schema("\"int\"")), (422, read_only("a")));
    assert_eq!(s.post("/subjects/new/versions", schema("\"int\"")), (422, read_only("new")));
    assert_eq!(s.post("/subjects/a", schema("\"string\"")), (200, subject_version("a", 1, id, "\"string\"")));
    assert_eq!(s.get("/subjects/a/versions/1"), (200, subject_version("a", 1, id, "\"string\"")));
    assert_eq!(s.delete("/subjects/a"), (422, read_only("a")));
    assert_eq!(s.delete("/subjects/a/versions/1"), (422, read_only("a")));
    assert_eq!(s.put("/config/a", json!({"compatibility": "NONE"})), (422, read_only("a")));
    // Re-registering an existing schema is answered without a write.
    assert_eq!(s.post("/subjects/a/versions", schema("\"string\"")), (200, json!({"id": id})));

    assert_eq!(s.put("/mode", json!({"mode": "READONLY_OVERRIDE"})), (200, json!({"mode": "READONLY_OVERRIDE"})));
    assert_eq!(s.post("/subjects/a/versions", schema("\"int\"")), (422, read_only("a")));
    // IMPORT needs no live subjects unless forced.
    assert_eq!(
        s.put("/mode", json!({"mode": "IMPORT"})),
        (422, err(42205, "Cannot import since found existing subjects"))
    );
    assert_eq!(s.get("/mode"), (200, json!({"mode": "READONLY_OVERRIDE"})));
    assert_eq!(s.put("/mode?force=true", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.get("/mode"), (200, json!({"mode": "IMPORT"})));
    assert_eq!(
        s.post("/subjects/a/versions", schema("\"int\"")),
        (422, err(42205, "Subject a is not in read-write mode"))
    );
    assert_eq!(s.put("/mode", json!({"mode": "READWRITE"})), (200, json!({"mode": "READWRITE"})));
    // Case-insensitive, echoed as sent.
    assert_eq!(s.put("/mode", json!({"mode": "readwrite"})), (200, json!({"mode": "readwrite"})));
    assert_eq!(s.get("/mode"), (200, json!({"mode": "READWRITE"})));
    assert_eq!(s.put("/mode", json!({"mode": "NOPE"})), (422, invalid_mode()));
    assert_eq!(s.put("/mode", json!({"mode": ""})), (422, invalid_mode()));
    let r = s.raw("PUT", "/mode", Some("{"), Some(CT), &[]);
    assert_eq!((r.status, r.json["error_code"].clone()), (400, json!(400)), "{}", r.text);
    assert_eq!(s.put("/mode", json!({"mode": "READWRITE", "extra": 1})), (200, json!({"mode": "READWRITE"})));
    assert_eq!(s.get("/mode?defaultToGlobal=true"), (200, json!({"mode": "READWRITE"})));
    // Confluent 7.9 has no DELETE /mode.
    assert_eq!(s.delete("/mode"), (405, err(405, "HTTP 405 Method Not Allowed")));
    // Writable again.
    assert!(s.register("b", USER_V1) > id);
}

#[test]
fn subject_mode_get_put_delete() {
    let s = Server::start();
    let id = s.register("m", "\"string\"");
    let unset = |subject: &str| err(40409, &format!("Subject '{subject}' does not have subject-level mode configured"));
    assert_eq!(s.get("/mode/m"), (404, unset("m")));
    assert_eq!(s.get("/mode/m?defaultToGlobal=true"), (200, json!({"mode": "READWRITE"})));
    assert_eq!(s.put("/mode/m", json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.put("/mode/m", json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.get("/mode/m"), (200, json!({"mode": "READONLY"})));
    // Only this subject is read-only.
    assert_eq!(s.post("/subjects/m/versions", schema("\"int\"")), (422, read_only("m")));
    s.register("other", "\"int\"");
    assert_eq!(s.delete("/subjects/m/versions/1"), (422, read_only("m")));
    assert_eq!(s.delete("/subjects/m"), (422, read_only("m")));
    assert_eq!(s.put("/config/m", json!({"compatibility": "NONE"})), (422, read_only("m")));
    assert_eq!(s.get("/subjects/m/versions/1"), (200, subject_version("m", 1, id, "\"string\"")));
    assert_eq!(s.post("/subjects/m", schema("\"string\"")), (200, subject_version("m", 1, id, "\"string\"")));
    assert_eq!(s.post("/compatibility/subjects/m/versions", schema(USER_V1)), (200, json!({"is_compatible": false})));
    // IMPORT on a subject with live versions needs force.
    assert_eq!(
        s.put("/mode/m", json!({"mode": "IMPORT"})),
        (422, err(42205, "Cannot import since found existing subjects"))
    );
    assert_eq!(s.put("/mode/m?force=true", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.get("/mode/m"), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.put("/mode/m", json!({"mode": "READWRITE"})), (200, json!({"mode": "READWRITE"})));
    // DELETE answers the previous mode; a second DELETE finds none.
    assert_eq!(s.delete("/mode/m"), (200, json!({"mode": "READWRITE"})));
    assert_eq!(s.get("/mode/m"), (404, unset("m")));
    assert_eq!(s.delete("/mode/m"), (404, subject_not_found("m")));
    assert_eq!(s.delete("/mode/never"), (404, subject_not_found("never")));
    // The subject need not exist.
    assert_eq!(s.put("/mode/never", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.get("/mode/never"), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.put("/mode/m", json!({"mode": "bogus"})), (422, invalid_mode()));
    let r = s.raw("PUT", "/mode/m", Some(""), Some(CT), &[]);
    assert_eq!((r.status, r.json), (422, err(422, "updateMode.arg1 must not be null (was null)")));
}

#[test]
fn read_only_subject_config_and_mode_writes() {
    let s = Server::start();
    s.register("r", "\"string\"");
    assert_eq!(s.put("/mode/r", json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.put("/config/r", json!({"compatibility": "NONE"})), (422, read_only("r")));
    assert_eq!(s.delete("/config/r"), (404, subject_not_found("r")));
    // The mode itself can still be changed.
    assert_eq!(s.put("/mode/r?force=true", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.put("/config/r", json!({"compatibility": "NONE"})), (200, json!({"compatibility": "NONE"})));
    assert_eq!(s.put("/mode/r", json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.delete("/subjects/r"), (422, read_only("r")));
    assert_eq!(s.delete("/subjects/r/versions/1"), (422, read_only("r")));
    assert_eq!(s.delete("/mode/r"), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.put("/config/r", json!({"compatibility": "NONE"})), (200, json!({"compatibility": "NONE"})));
}

#[test]
fn entering_import_purges_soft_deleted_versions() {
    let s = Server::start();
    let id1 = s.register("ic.a", "\"string\"");
    s.register("ic.b", "\"int\"");
    assert_eq!(s.delete("/subjects/ic.a"), (200, json!([1])));
    assert_eq!(s.get("/subjects/ic.a/versions?deleted=true"), (200, json!([1])));
    // No live versions: IMPORT is allowed, and the soft-deleted ones are hard-deleted.
    assert_eq!(s.put("/mode/ic.a", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.get("/subjects/ic.a/versions?deleted=true"), (404, subject_not_found("ic.a")));
    assert_eq!(s.get(&format!("/schemas/ids/{id1}")), (404, err(40403, &format!("Schema {id1} not found"))));
    assert_eq!(s.put("/mode/ic.a", json!({"mode": "READWRITE"})), (200, json!({"mode": "READWRITE"})));
    let (status, body) = s.post("/subjects/ic.a/versions", schema("\"string\""));
    assert_eq!(status, 200);
    assert!(body["id"].as_u64().unwrap() > id1, "ids are not reused: {body}");
    assert_eq!(s.get("/subjects/ic.a/versions"), (200, json!([1])));
    assert_eq!(
        s.put("/mode/ic.b", json!({"mode": "IMPORT"})),
        (422, err(42205, "Cannot import since found existing subjects"))
    );
    assert_eq!(s.get("/mode/ic.b"), (404, err(40409, "Subject 'ic.b' does not have subject-level mode configured")));

    // Forcing IMPORT on a live subject keeps its versions.
    assert_eq!(s.put("/mode/ic.b?force=true", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    assert_eq!(
        s.post("/subjects/ic.b/versions", json!({"schema": "\"long\"", "id": 410001, "version": 2})),
        (200, json!({"id": 410001}))
    );
    assert_eq!(
        s.post("/subjects/ic.b/versions", json!({"schema": "\"long\"", "version": 3})),
        (422, err(42205, "Subject ic.b is not in read-write mode"))
    );
    assert_eq!(s.get("/subjects/ic.b/versions"), (200, json!([1, 2])));
}

#[test]
fn hard_deleting_a_subject_drops_its_config_and_mode_but_soft_delete_keeps_them() {
    let s = Server::start();
    s.register("k", "\"string\"");
    s.set_level("k", "NONE");
    assert_eq!(s.put("/mode/k", json!({"mode": "READWRITE"})), (200, json!({"mode": "READWRITE"})));
    assert_eq!(s.delete("/subjects/k"), (200, json!([1])));
    assert_eq!(s.get("/config/k"), (200, json!({"compatibilityLevel": "NONE"})));
    assert_eq!(s.get("/mode/k"), (200, json!({"mode": "READWRITE"})));
    assert_eq!(s.delete("/subjects/k?permanent=true"), (200, json!([1])));
    assert_eq!(
        s.get("/config/k"),
        (404, err(40408, "Subject 'k' does not have subject-level compatibility configured"))
    );
    assert_eq!(s.get("/mode/k"), (404, err(40409, "Subject 'k' does not have subject-level mode configured")));
}

/// Shapes Jackson's typed model refuses are refused (400), so a config is never served back
/// in a shape clients cannot read; a null rule list becomes an empty one, as in RuleSet.
/// Found by schemathesis (tests/python/test_openapi.py).
#[test]
fn rule_sets_and_metadata_keep_their_types() {
    let server = Server::start();
    for bad in [
        json!({ "overrideRuleSet": { "encodingRules": [[null, null]] } }),
        json!({ "overrideRuleSet": { "domainRules": 5 } }),
        json!({ "defaultMetadata": { "properties": [null] } }),
        json!({ "defaultMetadata": { "tags": "x" } }),
    ] {
        let (status, body) = server.put("/config", bad.clone());
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = server.put("/config", json!({ "overrideRuleSet": { "encodingRules": null } }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["overrideRuleSet"]["encodingRules"], json!([]), "{body}");
    assert_eq!(server.get("/config").1["overrideRuleSet"]["encodingRules"], json!([]));
}

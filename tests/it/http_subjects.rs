//! HTTP tests of `/subjects`: registration (ids shared across subjects, idempotent
//! re-registration, canonical text, `normalize`), lookup, subject and version listings, the
//! `{version}` path parameter, raw `/schema` reads, unusual subject names, the soft/hard
//! delete state machines and version numbering, references, IMPORT mode and explicit
//! ids/versions, and request-body / content-type handling. Expected answers follow the
//! recorded Confluent 7.9.0 corpus (`tests/data/conformance/golden.json`).

use crate::common::*;
use serde_json::{json, Value};

#[test]
fn same_schema_gets_same_id_and_reregistering_adds_no_version() {
    let s = Server::start();
    let (status, body) = s.post("/subjects/a/versions", schema(USER_V1));
    assert_eq!(status, 200);
    let id = body["id"].as_u64().expect("id");
    // Confluent 7.9 answers a plain registration with only the id.
    assert_eq!(body, json!({ "id": id }));

    // Same schema, another subject: same id, version 1 there.
    assert_eq!(s.post("/subjects/b/versions", schema(USER_V1)), (200, json!({ "id": id })));
    assert_eq!(s.get("/subjects/b/versions/1"), (200, subject_version("b", 1, id, USER_V1)));

    // Again in the first subject: same id, no new version.
    assert_eq!(s.post("/subjects/a/versions", schema(USER_V1)), (200, json!({ "id": id })));
    assert_eq!(s.get("/subjects/a/versions"), (200, json!([1])));

    // Whitespace-different text is the same schema.
    assert_eq!(s.post("/subjects/a/versions", schema(USER_V1_SPACED)), (200, json!({ "id": id })));
    assert_eq!(s.post("/subjects/sp/versions", schema(USER_V1_SPACED)), (200, json!({ "id": id })));
    assert_eq!(s.get("/subjects/a/versions"), (200, json!([1])));

    // Reads return the canonical (compact) text, not the client's bytes.
    assert_eq!(s.get("/subjects/sp/versions/1"), (200, subject_version("sp", 1, id, USER_V1)));
    assert_eq!(s.get(&format!("/schemas/ids/{id}")), (200, json!({ "schema": USER_V1 })));
    assert_eq!(s.get(&format!("/schemas/ids/{id}/subjects")), (200, json!(["a", "b", "sp"])));
    assert_eq!(
        s.get(&format!("/schemas/ids/{id}/versions")),
        (200, json!([{"subject": "a", "version": 1}, {"subject": "b", "version": 1}, {"subject": "sp", "version": 1}]))
    );

    // A new schema gets a new, larger id and version 2.
    let (status, body) = s.post("/subjects/a/versions", schema(USER_V2));
    assert_eq!(status, 200);
    let id2 = body["id"].as_u64().expect("id");
    assert!(id2 > id, "{id2} > {id}");
    assert_eq!(body, json!({ "id": id2 }));
    assert_eq!(s.get("/subjects/a/versions"), (200, json!([1, 2])));
    // Re-registering an older version returns its id without a new version.
    assert_eq!(s.post("/subjects/a/versions", schema(USER_V1)), (200, json!({ "id": id })));
    assert_eq!(s.get("/subjects/a/versions"), (200, json!([1, 2])));
    assert_eq!(s.get("/subjects"), (200, json!(["a", "b", "sp"])));
}

#[test]
fn canonical_text_of_primitive_and_redundant_forms() {
    let s = Server::start();
    // {"type":"string"} is stored and returned as "string", and is the same schema.
    let id = s.register("p", r#"{"type":"string"}"#);
    assert_eq!(s.get("/subjects/p/versions/1"), (200, subject_version("p", 1, id, "\"string\"")));
    assert_eq!(s.post("/subjects/p/versions", schema("\"string\"")), (200, json!({ "id": id })));
    assert_eq!(s.get("/subjects/p/versions"), (200, json!([1])));
    assert_eq!(s.get("/subjects/p/versions/1/schema"), (200, json!("string")));
}

#[test]
fn normalize_on_register_lookup_and_config() {
    let s = Server::start();
    let (status, body) = s.post("/subjects/a/versions?normalize=true", schema(USER_V1));
    assert_eq!(status, 200);
    let id = body["id"].as_u64().unwrap();
    assert_eq!(s.post("/subjects/a/versions?normalize=true", schema(USER_V1_SPACED)), (200, json!({ "id": id })));
    assert_eq!(s.post("/subjects/a/versions", schema(USER_V1_SPACED)), (200, json!({ "id": id })));
    assert_eq!(
        s.post("/subjects/a?normalize=true", schema(USER_V1_SPACED)),
        (200, subject_version("a", 1, id, USER_V1))
    );
    assert_eq!(s.get("/subjects/a/versions"), (200, json!([1])));

    // normalize from the subject's config.
    assert_eq!(s.put("/config/n", json!({"normalize": true})), (200, json!({"normalize": true})));
    assert_eq!(s.post("/subjects/n/versions", schema(USER_V1)), (200, json!({ "id": id })));
    assert_eq!(s.post("/subjects/n/versions", schema(USER_V1_SPACED)), (200, json!({ "id": id })));
    assert_eq!(s.post("/subjects/n", schema(USER_V1_SPACED)), (200, subject_version("n", 1, id, USER_V1)));
    assert_eq!(s.get("/config/n"), (200, json!({"compatibilityLevel": "BACKWARD", "normalize": true})));
}

#[test]
fn lookup_finds_the_version_or_answers_40401_40403() {
    let s = Server::start();
    let id = s.register("a", USER_V1);
    assert_eq!(s.post("/subjects/a", schema(USER_V1)), (200, subject_version("a", 1, id, USER_V1)));
    // Semantically equal text matches.
    assert_eq!(s.post("/subjects/a", schema(USER_V1_SPACED)), (200, subject_version("a", 1, id, USER_V1)));
    // Unknown schema in an existing subject.
    assert_eq!(s.post("/subjects/a", schema(USER_V2)), (404, err(40403, "Schema not found")));
    // Unknown subject.
    assert_eq!(s.post("/subjects/missing", schema(USER_V1)), (404, subject_not_found("missing")));
    // A schema registered only in another subject is not found in this one.
    let id2 = s.register("b", USER_V2);
    assert_eq!(s.post("/subjects/a", schema(USER_V2)), (404, err(40403, "Schema not found")));
    assert_eq!(s.post("/subjects/b", schema(USER_V2)), (200, subject_version("b", 1, id2, USER_V2)));
    // An invalid schema is 42201.
    let (status, body) = s.post("/subjects/a", schema(r#"{"type":"record","name":"X"}"#));
    assert_eq!((status, body["error_code"].clone()), (422, json!(42201)), "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.starts_with(r#"Invalid schema {subject=a,version=0,id=-1,schemaType=AVRO,references=[],metadata=null,ruleSet=null,schema={"type":"record","name":"X"},schemaTags=null} with refs [] of type AVRO, details: "#),
        "{msg}"
    );
    // An empty schema is 42201 "Empty schema".
    assert_eq!(s.post("/subjects/a", json!({})), (422, err(42201, "Empty schema")));

    // Soft-deleted versions are found only with deleted=true.
    s.register("a", USER_V2);
    assert_eq!(s.delete("/subjects/a/versions/1"), (200, json!(1)));
    assert_eq!(s.post("/subjects/a", schema(USER_V1)), (404, err(40403, "Schema not found")));
    assert_eq!(s.post("/subjects/a?deleted=true", schema(USER_V1)), (200, subject_version("a", 1, id, USER_V1)));
    // A wholly soft-deleted subject is unknown to lookup unless deleted=true.
    assert_eq!(s.delete("/subjects/a"), (200, json!([2])));
    assert_eq!(s.post("/subjects/a", schema(USER_V1)), (404, subject_not_found("a")));
    assert_eq!(s.post("/subjects/a?deleted=true", schema(USER_V1)), (200, subject_version("a", 1, id, USER_V1)));
}

#[test]
fn list_subjects_with_deleted_deleted_only_prefix_and_paging() {
    let s = Server::start();
    let id = s.register("sl.s0", "\"string\"");
    for subject in ["sl.s1", "sl.s2", "sl.s3"] {
        assert_eq!(s.register(subject, "\"string\""), id);
    }
    s.register("other", "\"string\"");
    assert_eq!(s.delete("/subjects/sl.s1"), (200, json!([1])));
    assert_eq!(s.delete("/subjects/sl.s2/versions/1"), (200, json!(1)));

    assert_eq!(s.get("/subjects"), (200, json!(["other", "sl.s0", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl"), (200, json!(["sl.s0", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&deleted=true"), (200, json!(["sl.s0", "sl.s1", "sl.s2", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&deletedOnly=true"), (200, json!(["sl.s1", "sl.s2"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&deleted=true&deletedOnly=true"), (200, json!(["sl.s1", "sl.s2"])));
    assert_eq!(s.get("/subjects?deleted=true"), (200, json!(["other", "sl.s0", "sl.s1", "sl.s2", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&offset=1"), (200, json!(["sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&limit=2"), (200, json!(["sl.s0", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&offset=1&limit=1"), (200, json!(["sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&offset=100"), (200, json!([])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&limit=0"), (200, json!(["sl.s0", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&limit=-1"), (200, json!(["sl.s0", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&limit=%2B1"), (200, json!(["sl.s0"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&limit=x"), (404, err(404, "HTTP 404 Not Found")));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&limit=1.0"), (404, err(404, "HTTP 404 Not Found")));
    assert_eq!(s.get("/subjects?subjectPrefix=sl.s3"), (200, json!(["sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=no-such-prefix"), (200, json!([])));
    // Boolean query params are Java booleans: only "true" (any case) is true.
    assert_eq!(s.get("/subjects?subjectPrefix=sl&deleted=TRUE"), (200, json!(["sl.s0", "sl.s1", "sl.s2", "sl.s3"])));
    assert_eq!(s.get("/subjects?subjectPrefix=sl&deleted=1"), (200, json!(["sl.s0", "sl.s3"])));
    // Trailing slash is ignored.
    assert_eq!(s.get("/subjects/"), (200, json!(["other", "sl.s0", "sl.s3"])));
}

#[test]
fn versions_list_and_version_path_parameter_forms() {
    let s = Server::start();
    let id1 = s.register("v", USER_V1);
    let id2 = s.register("v", USER_V2);
    let v1 = subject_version("v", 1, id1, USER_V1);
    let v2 = subject_version("v", 2, id2, USER_V2);

    assert_eq!(s.get("/subjects/v/versions"), (200, json!([1, 2])));
    assert_eq!(s.get("/subjects/v/versions?deleted=true"), (200, json!([1, 2])));
    assert_eq!(s.get("/subjects/v/versions?deletedOnly=true"), (200, json!([])));
    assert_eq!(s.get("/subjects/v/versions/1"), (200, v1.clone()));
    assert_eq!(s.get("/subjects/v/versions/2"), (200, v2.clone()));
    for latest in ["latest", "LATEST", "Latest", "-1"] {
        assert_eq!(s.get(&format!("/subjects/v/versions/{latest}")), (200, v2.clone()), "{latest}");
    }
    // Java Integer.parseInt forms.
    assert_eq!(s.get("/subjects/v/versions/01"), (200, v1.clone()));
    assert_eq!(s.get("/subjects/v/versions/%2B1"), (200, v1.clone()));
    assert_eq!(s.get("/subjects/v/versions/3"), (404, version_not_found(3)));
    assert_eq!(s.get("/subjects/v/versions/2147483647"), (404, version_not_found(2147483647)));
    for bad in ["0", "-2", "abc", "1.0", "2147483648", "99999999999"] {
        assert_eq!(s.get(&format!("/subjects/v/versions/{bad}")), (422, bad_version(bad)), "{bad}");
    }
    assert_eq!(s.get("/subjects/v/versions/%20"), (422, bad_version(" ")));
    // Unknown subject: 40401, but a bad version is reported first.
    assert_eq!(s.get("/subjects/missing/versions"), (404, subject_not_found("missing")));
    assert_eq!(s.get("/subjects/missing/versions/1"), (404, subject_not_found("missing")));
    assert_eq!(s.get("/subjects/missing/versions/latest"), (404, subject_not_found("missing")));
    assert_eq!(s.get("/subjects/missing/versions/abc"), (422, bad_version("abc")));

    // The raw schema endpoint answers the schema document itself.
    let raw1: Value = serde_json::from_str(USER_V1).unwrap();
    let raw2: Value = serde_json::from_str(USER_V2).unwrap();
    assert_eq!(s.get("/subjects/v/versions/1/schema"), (200, raw1));
    assert_eq!(s.get("/subjects/v/versions/latest/schema"), (200, raw2.clone()));
    assert_eq!(s.get("/subjects/v/versions/-1/schema"), (200, raw2));
    let r = s.raw("GET", "/subjects/v/versions/1/schema", None, None, &[]);
    assert_eq!(r.text, USER_V1, "raw text is the canonical text");
    assert_eq!(s.get("/subjects/v/versions/0/schema"), (422, bad_version("0")));
    assert_eq!(s.get("/subjects/v/versions/abc/schema"), (422, bad_version("abc")));
    assert_eq!(s.get("/subjects/v/versions/3/schema"), (404, version_not_found(3)));
    assert_eq!(s.get("/subjects/missing/versions/1/schema"), (404, subject_not_found("missing")));
}

#[test]
fn unusual_subject_names_round_trip() {
    let s = Server::start();
    let names = [
        "slash/inside",
        "colon:mid",
        "dots.and-dashes_",
        "unicode-é中",
        "with space",
        "trailing ",
        "%percent",
        "plus+sign",
        "q?mark",
        "hash#tag",
        "quote\"d",
        "back\\slash",
        "star*",
        "UPPER",
    ];
    let id = s.register(&enc(names[0]), "\"string\"");
    for name in names {
        let e = enc(name);
        assert_eq!(
            s.post(&format!("/subjects/{e}/versions"), schema("\"string\"")),
            (200, json!({ "id": id })),
            "{name}"
        );
        assert_eq!(s.get(&format!("/subjects/{e}/versions")), (200, json!([1])), "{name}");
        assert_eq!(
            s.get(&format!("/subjects/{e}/versions/1")),
            (200, subject_version(name, 1, id, "\"string\"")),
            "{name}"
        );
        assert_eq!(
            s.post(&format!("/subjects/{e}"), schema("\"string\"")),
            (200, subject_version(name, 1, id, "\"string\"")),
            "{name}"
        );
        assert_eq!(
            s.put(&format!("/config/{e}"), json!({"compatibility": "NONE"})),
            (200, json!({"compatibility": "NONE"})),
            "{name}"
        );
        assert_eq!(s.get(&format!("/config/{e}")), (200, json!({"compatibilityLevel": "NONE"})), "{name}");
    }
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort();
    assert_eq!(s.get("/subjects"), (200, json!(sorted)));
    // Listed in Confluent's (Java HashMap) order, checked by the conformance replay.
    let (status, by_id) = s.get(&format!("/schemas/ids/{id}/subjects"));
    let mut by_id: Vec<String> = serde_json::from_value(by_id).unwrap();
    by_id.sort();
    assert_eq!((status, by_id), (200, sorted.iter().map(|n| n.to_string()).collect::<Vec<_>>()));

    // A control character makes the subject invalid for writes (42208); reads just miss.
    let tab = "tab%09here";
    let invalid = err(42208, "The specified subject 'tab\there' is not a valid.");
    assert_eq!(s.post(&format!("/subjects/{tab}/versions"), schema("\"string\"")), (422, invalid.clone()));
    assert_eq!(s.put(&format!("/config/{tab}"), json!({"compatibility": "NONE"})), (422, invalid.clone()));
    assert_eq!(s.put(&format!("/mode/{tab}"), json!({"mode": "READONLY"})), (422, invalid));
    assert_eq!(s.get(&format!("/subjects/{tab}/versions")), (404, subject_not_found("tab\there")));
    assert_eq!(s.get(&format!("/subjects/{tab}/versions/1")), (404, subject_not_found("tab\there")));
    assert_eq!(
        s.get(&format!("/config/{tab}")),
        (404, err(40408, "Subject 'tab\there' does not have subject-level compatibility configured"))
    );
}

#[test]
fn soft_and_hard_delete_of_versions() {
    let s = Server::start();
    let id1 = s.register("d", USER_V1);
    let id2 = s.register("d", USER_V2);
    let doc = r#"{"type":"record","name":"User","doc":"a user","fields":[{"name":"name","type":"string"}]}"#;
    let id3 = s.register("d", doc);
    assert!(id1 < id2 && id2 < id3);

    let not_first =
        |v: u64| err(40407, &format!("Subject 'd' Version {v} was not deleted first before being permanently deleted"));
    let soft_deleted = |v: u64| {
        err(40406, &format!("Subject 'd' Version {v} was soft deleted.Set permanent=true to delete permanently"))
    };

    assert_eq!(s.delete("/subjects/d/versions/1?permanent=true"), (404, not_first(1)));
    assert_eq!(s.delete("/subjects/d/versions/1"), (200, json!(1)));
    assert_eq!(s.delete("/subjects/d/versions/1"), (404, soft_deleted(1)));
    // Soft-deleted: hidden from reads unless deleted=true.
    assert_eq!(s.get("/subjects/d/versions"), (200, json!([2, 3])));
    assert_eq!(s.get("/subjects/d/versions?deleted=true"), (200, json!([1, 2, 3])));
    assert_eq!(s.get("/subjects/d/versions?deletedOnly=true"), (200, json!([1])));
    // Confluent 8.0.4+: soft-deleted versions as negative numbers.
    assert_eq!(s.get("/subjects/d/versions?deletedAsNegative=true"), (200, json!([-1, 2, 3])));
    assert_eq!(s.get("/subjects/d/versions?deletedOnly=true&deletedAsNegative=true"), (200, json!([-1])));
    assert_eq!(s.get("/subjects/d/versions/1"), (404, version_not_found(1)));
    assert_eq!(s.get("/subjects/d/versions/1?deleted=true"), (200, subject_version("d", 1, id1, USER_V1)));
    assert_eq!(s.get("/subjects/d/versions/1/schema"), (404, version_not_found(1)));
    assert_eq!(
        s.get("/subjects/d/versions/1/schema?deleted=true"),
        (200, serde_json::from_str::<Value>(USER_V1).unwrap())
    );
    // Still readable by id.
    assert_eq!(s.get(&format!("/schemas/ids/{id1}")), (200, json!({ "schema": USER_V1 })));

    assert_eq!(s.delete("/subjects/d/versions/1?permanent=true"), (200, json!(1)));
    assert_eq!(s.delete("/subjects/d/versions/1?permanent=true"), (404, version_not_found(1)));
    assert_eq!(s.delete("/subjects/d/versions/1"), (404, version_not_found(1)));
    assert_eq!(s.get("/subjects/d/versions/1?deleted=true"), (404, version_not_found(1)));
    assert_eq!(s.get(&format!("/schemas/ids/{id1}")), (404, err(40403, &format!("Schema {id1} not found"))));

    // latest = the highest live version.
    assert_eq!(s.delete("/subjects/d/versions/latest"), (200, json!(3)));
    assert_eq!(s.delete("/subjects/d/versions/latest"), (200, json!(2)));
    assert_eq!(s.delete("/subjects/d/versions/-1"), (404, version_not_found(-1)));
    assert_eq!(s.delete("/subjects/d/versions/0"), (422, bad_version("0")));
    assert_eq!(s.delete("/subjects/d/versions/abc"), (422, bad_version("abc")));
    assert_eq!(s.delete("/subjects/d/versions/9"), (404, version_not_found(9)));
    assert_eq!(s.delete("/subjects/missing/versions/1"), (404, subject_not_found("missing")));
    assert_eq!(s.delete("/subjects/missing/versions/latest"), (404, subject_not_found("missing")));
    assert_eq!(s.get("/subjects/d/versions?deleted=true"), (200, json!([2, 3])));
    assert_eq!(s.delete("/subjects/d/versions/3"), (404, soft_deleted(3)));
    // All versions soft-deleted: the subject reads as unknown.
    assert_eq!(s.get("/subjects/d/versions"), (404, subject_not_found("d")));
    assert_eq!(s.get("/subjects/d/versions/latest"), (404, subject_not_found("d")));
    assert_eq!(s.get("/subjects/d/versions/latest?deleted=true"), (404, version_not_found(-1)));
    assert_eq!(s.get("/subjects"), (200, json!([])));
    assert_eq!(s.get("/subjects?deleted=true"), (200, json!(["d"])));

    // Re-registering a soft-deleted schema makes a new version with the same id; numbering
    // continues after the highest (soft-deleted) version.
    assert_eq!(s.post("/subjects/d/versions", schema(USER_V2)), (200, json!({ "id": id2 })));
    assert_eq!(s.get("/subjects/d/versions"), (200, json!([4])));
    assert_eq!(s.get("/subjects/d/versions?deleted=true"), (200, json!([3, 4])));
    assert_eq!(s.get("/subjects/d/versions/4"), (200, subject_version("d", 4, id2, USER_V2)));
    assert_eq!(s.delete("/subjects/d/versions/latest?permanent=true"), (404, not_first(4)));
    assert_eq!(s.delete("/subjects/d/versions/2?permanent=false"), (404, version_not_found(2)));
}

#[test]
fn soft_and_hard_delete_of_subjects() {
    let s = Server::start();
    let id1 = s.register("ds", USER_V1);
    let id2 = s.register("ds", USER_V2);
    assert_eq!(
        s.delete("/subjects/ds?permanent=true"),
        (404, err(40405, "Subject 'ds' was not deleted first before being permanently deleted"))
    );
    assert_eq!(s.delete("/subjects/ds"), (200, json!([1, 2])));
    assert_eq!(
        s.delete("/subjects/ds"),
        (404, err(40404, "Subject 'ds' was soft deleted.Set permanent=true to delete permanently"))
    );
    assert_eq!(s.get("/subjects/ds/versions"), (404, subject_not_found("ds")));
    assert_eq!(s.get("/subjects/ds/versions?deleted=true"), (200, json!([1, 2])));
    assert_eq!(s.get("/subjects/ds/versions/1"), (404, subject_not_found("ds")));
    assert_eq!(s.get("/subjects/ds/versions/1?deleted=true"), (200, subject_version("ds", 1, id1, USER_V1)));
    assert_eq!(s.get(&format!("/schemas/ids/{id1}")), (200, json!({ "schema": USER_V1 })));
    assert_eq!(s.get(&format!("/schemas/ids/{id1}/subjects")), (200, json!([])));
    assert_eq!(s.get(&format!("/schemas/ids/{id1}/subjects?deleted=true")), (200, json!(["ds"])));
    assert_eq!(s.get("/subjects"), (200, json!([])));
    assert_eq!(s.get("/subjects?deleted=true"), (200, json!(["ds"])));
    assert_eq!(s.get("/subjects?deletedOnly=true"), (200, json!(["ds"])));

    // Registering after a soft delete continues the numbering (no compat check against the
    // soft-deleted versions: USER_INT is incompatible with them).
    let id3 = s.register("ds", USER_INT);
    assert_eq!(s.get("/subjects/ds/versions?deleted=true"), (200, json!([1, 2, 3])));
    assert_eq!(s.get("/subjects/ds/versions"), (200, json!([3])));
    // Soft delete returns only the live versions; permanent delete returns all remaining.
    assert_eq!(s.delete("/subjects/ds"), (200, json!([3])));
    assert_eq!(s.delete("/subjects/ds?permanent=true"), (200, json!([1, 2, 3])));
    assert_eq!(s.delete("/subjects/ds?permanent=true"), (404, subject_not_found("ds")));
    assert_eq!(s.get("/subjects/ds/versions?deleted=true"), (404, subject_not_found("ds")));
    for id in [id1, id2, id3] {
        assert_eq!(s.get(&format!("/schemas/ids/{id}")), (404, err(40403, &format!("Schema {id} not found"))));
    }
    // A fully purged subject starts again at version 1, with a new id.
    let (status, body) = s.post("/subjects/ds/versions", schema(USER_V1));
    assert_eq!(status, 200);
    let id4 = body["id"].as_u64().unwrap();
    assert!(id4 > id3, "ids are not reused: {id4} > {id3}");
    assert_eq!(s.get("/subjects/ds/versions"), (200, json!([1])));
    assert_eq!(s.delete("/subjects/missing"), (404, subject_not_found("missing")));
    assert_eq!(s.delete("/subjects/missing?permanent=true"), (404, subject_not_found("missing")));
}

#[test]
fn delete_matrix_and_numbering_after_hard_delete() {
    let s = Server::start();
    s.set_level("m", "NONE");
    let ids: Vec<u64> = ["\"string\"", "\"int\"", "\"long\"", USER_V1].iter().map(|t| s.register("m", t)).collect();
    let not_first =
        |v: u64| err(40407, &format!("Subject 'm' Version {v} was not deleted first before being permanently deleted"));
    assert_eq!(s.delete("/subjects/m/versions/2"), (200, json!(2)));
    assert_eq!(s.delete("/subjects/m/versions/3"), (200, json!(3)));
    assert_eq!(s.delete("/subjects/m/versions/3?permanent=true"), (200, json!(3)));
    assert_eq!(s.delete("/subjects/m/versions/1?permanent=true"), (404, not_first(1)));
    assert_eq!(s.delete("/subjects/m/versions/2?permanent=true"), (200, json!(2)));
    assert_eq!(s.delete("/subjects/m/versions/3"), (404, version_not_found(3)));
    assert_eq!(s.delete("/subjects/m/versions/3?permanent=true"), (404, version_not_found(3)));
    assert_eq!(s.delete("/subjects/m/versions/latest?permanent=true"), (404, not_first(4)));
    assert_eq!(s.get("/subjects/m/versions?deleted=true"), (200, json!([1, 4])));

    // Hard-deleting the tail version: the next version is max remaining + 1.
    assert_eq!(s.delete("/subjects/m/versions/4"), (200, json!(4)));
    assert_eq!(s.delete("/subjects/m/versions/4?permanent=true"), (200, json!(4)));
    let (status, body) =
        s.post("/subjects/m/versions", schema(r#"{"type":"enum","name":"Color","symbols":["RED","GREEN"]}"#));
    assert_eq!(status, 200, "{body}");
    let id5 = body["id"].as_u64().unwrap();
    assert!(id5 > ids[3], "a new schema gets a new id: {id5} > {}", ids[3]);
    assert_eq!(s.get("/subjects/m/versions"), (200, json!([1, 2])));
    // The hard-deleted schema comes back with a new version and (its schema being gone) a new id.
    let (status, body) = s.post("/subjects/m/versions", schema("\"long\""));
    assert_eq!(status, 200);
    let id6 = body["id"].as_u64().unwrap();
    assert!(id6 > id5, "ids are never reused: {id6} > {id5}");
    assert_eq!(s.get("/subjects/m/versions"), (200, json!([1, 2, 3])));
    // Purging everything removes the subject entirely.
    assert_eq!(s.delete("/subjects/m"), (200, json!([1, 2, 3])));
    assert_eq!(s.delete("/subjects/m?permanent=true"), (200, json!([1, 2, 3])));
    assert_eq!(s.delete("/subjects/m/versions/9"), (404, subject_not_found("m")));
    assert_eq!(s.get("/subjects?deleted=true"), (200, json!([])));
    assert_eq!(s.delete("/subjects/m"), (404, subject_not_found("m")));
}

const DEP: &str = r#"{"type":"record","name":"Dep","namespace":"com.x","fields":[{"name":"v","type":"int"}]}"#;
const HOLDER: &str =
    r#"{"type":"record","name":"Holder","namespace":"com.x","fields":[{"name":"d","type":"com.x.Dep"}]}"#;
/// HOLDER's canonical text: the referenced type is written by its short name.
const HOLDER_CANONICAL: &str =
    r#"{"type":"record","name":"Holder","namespace":"com.x","fields":[{"name":"d","type":"Dep"}]}"#;

fn holder(subject: &str, version: Value) -> Value {
    json!({ "schema": HOLDER, "references": [{ "name": "com.x.Dep", "subject": subject, "version": version }] })
}

fn invalid_holder_prefix(subject: &str, refs: &str) -> String {
    format!("Invalid schema {{subject={subject},version=0,id=-1,schemaType=AVRO,references={refs},metadata=null,ruleSet=null,schema={HOLDER},schemaTags=null}} with refs {refs} of type AVRO, details: ")
}

#[test]
fn references_register_lookup_referencedby_and_delete_protection() {
    let s = Server::start();
    let dep_id = s.register("dep", DEP);
    let (status, body) = s.post("/subjects/holder/versions", holder("dep", json!(1)));
    assert_eq!(status, 200, "{body}");
    let holder_id = body["id"].as_u64().unwrap();
    assert_ne!(holder_id, dep_id);
    assert_eq!(s.post("/subjects/holder/versions", holder("dep", json!(1))), (200, json!({ "id": holder_id })));
    let refs = json!([{ "name": "com.x.Dep", "subject": "dep", "version": 1 }]);
    let entity =
        json!({ "subject": "holder", "version": 1, "id": holder_id, "schema": HOLDER_CANONICAL, "references": refs });
    assert_eq!(s.post("/subjects/holder", holder("dep", json!(1))), (200, entity.clone()));
    assert_eq!(s.get("/subjects/holder/versions/1"), (200, entity));
    assert_eq!(
        s.get(&format!("/schemas/ids/{holder_id}")),
        (200, json!({ "schema": HOLDER_CANONICAL, "references": refs }))
    );

    // format=resolved: one standalone schema, the referenced type written inline.
    let resolved = r#"{"type":"record","name":"Holder","namespace":"com.x","fields":[{"name":"d","type":{"type":"record","name":"Dep","fields":[{"name":"v","type":"int"}]}}]}"#;
    assert_eq!(s.get(&format!("/schemas/ids/{holder_id}?format=resolved")).1["schema"], resolved);
    assert_eq!(s.get("/subjects/holder/versions/1?format=resolved").1["schema"], resolved);
    assert_eq!(s.get(&format!("/schemas/ids/{dep_id}?format=resolved")).1["schema"], DEP);

    // Without the reference the named type is unknown.
    let (status, body) = s.post("/subjects/noref/versions", schema(HOLDER));
    assert_eq!((status, body["error_code"].clone()), (422, json!(42201)), "{body}");
    assert!(body["message"].as_str().unwrap().starts_with(&invalid_holder_prefix("noref", "[]")), "{body}");

    assert_eq!(s.get("/subjects/dep/versions/1/referencedby"), (200, json!([holder_id])));
    assert_eq!(s.get("/subjects/dep/versions/latest/referencedby"), (200, json!([holder_id])));
    assert_eq!(s.get("/subjects/holder/versions/1/referencedby"), (200, json!([])));
    assert_eq!(s.get("/subjects/missing/versions/1/referencedby"), (404, subject_not_found("missing")));
    assert_eq!(s.get("/subjects/dep/versions/9/referencedby"), (404, version_not_found(9)));
    assert_eq!(s.get("/subjects/dep/versions/0/referencedby"), (422, bad_version("0")));

    let referenced =
        err(42206, "One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=dep,version=1}.");
    assert_eq!(s.delete("/subjects/dep/versions/1"), (422, referenced.clone()));
    assert_eq!(s.delete("/subjects/dep"), (422, referenced));
    // A soft-deleted referrer no longer protects the target.
    assert_eq!(s.delete("/subjects/holder/versions/1"), (200, json!(1)));
    assert_eq!(s.get("/subjects/dep/versions/1/referencedby"), (200, json!([])));
    assert_eq!(s.delete("/subjects/dep/versions/1"), (200, json!(1)));
    assert_eq!(s.delete("/subjects/holder/versions/1?permanent=true"), (200, json!(1)));
    assert_eq!(
        s.delete("/subjects/dep/versions/1"),
        (404, err(40406, "Subject 'dep' Version 1 was soft deleted.Set permanent=true to delete permanently"))
    );
    assert_eq!(s.get("/subjects/dep/versions/1/referencedby?deleted=true"), (200, json!([])));
}

#[test]
fn reference_version_latest_is_stored_as_concrete_version() {
    let s = Server::start();
    s.register("dep", DEP);
    s.set_level("dep", "NONE");
    let dep2 = r#"{"type":"record","name":"Dep","namespace":"com.x","fields":[{"name":"w","type":"long"}]}"#;
    s.register("dep", dep2);
    let (status, body) = s.post("/subjects/h/versions", holder("dep", json!(-1)));
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_u64().unwrap();
    let refs = json!([{ "name": "com.x.Dep", "subject": "dep", "version": 2 }]);
    assert_eq!(
        s.get("/subjects/h/versions/latest"),
        (200, json!({ "subject": "h", "version": 1, "id": id, "schema": HOLDER_CANONICAL, "references": refs }))
    );
    // The same request with the concrete version is the same schema.
    assert_eq!(s.post("/subjects/h/versions", holder("dep", json!(2))), (200, json!({ "id": id })));
    assert_eq!(s.get("/subjects/dep/versions/2/referencedby"), (200, json!([id])));
    assert_eq!(s.get("/subjects/dep/versions/1/referencedby"), (200, json!([])));
    // The referenced (concrete) version is protected; the other one is not.
    assert_eq!(
        s.delete("/subjects/dep/versions/2"),
        (422, err(42206, "One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=dep,version=2}."))
    );
    assert_eq!(s.delete("/subjects/dep/versions/1"), (200, json!(1)));
}

#[test]
fn bad_references_are_42201() {
    let s = Server::start();
    s.register("dep", DEP);
    let cases = [
        (
            holder("nope", json!(1)),
            "[{name='com.x.Dep', subject='nope', version=1}]",
            Some("No schema reference found for subject \"nope\" and version 1"),
        ),
        (
            holder("dep", json!(5)),
            "[{name='com.x.Dep', subject='dep', version=5}]",
            Some("No schema reference found for subject \"dep\" and version 5"),
        ),
        (
            holder("dep", json!(0)),
            "[{name='com.x.Dep', subject='dep', version=0}]",
            Some("io.confluent.kafka.schemaregistry.exceptions.InvalidVersionException: 0"),
        ),
        (
            json!({ "schema": HOLDER, "references": [{ "name": "com.x.Dep", "subject": "dep" }] }),
            "[{name='com.x.Dep', subject='dep', version=null}]",
            None,
        ),
        (
            json!({ "schema": HOLDER, "references": [{ "name": "com.x.Dep", "version": 1 }] }),
            "[{name='com.x.Dep', subject='null', version=1}]",
            None,
        ),
        (
            json!({ "schema": HOLDER, "references": [{ "subject": "dep", "version": 1 }] }),
            "[{name='null', subject='dep', version=1}]",
            None,
        ),
    ];
    for (i, (body, refs, details)) in cases.into_iter().enumerate() {
        let subject = format!("h{i}");
        let (status, answer) = s.post(&format!("/subjects/{subject}/versions"), body);
        assert_eq!((status, answer["error_code"].clone()), (422, json!(42201)), "case {i}: {answer}");
        let msg = answer["message"].as_str().unwrap();
        let prefix = invalid_holder_prefix(&subject, refs);
        match details {
            Some(d) => assert_eq!(msg, format!("{prefix}{d}"), "case {i}"),
            None => assert!(msg.starts_with(&prefix), "case {i}: {msg}"),
        }
    }
    // -1 on a subject without live versions cannot be resolved.
    assert_eq!(s.delete("/subjects/dep"), (200, json!([1])));
    let (status, answer) = s.post("/subjects/h9/versions", holder("dep", json!(-1)));
    assert_eq!(status, 422);
    assert_eq!(
        answer,
        err(
            42201,
            &format!(
                "{}No schema reference found for subject \"dep\" and version -1",
                invalid_holder_prefix("h9", "[{name='com.x.Dep', subject='dep', version=-1}]")
            )
        )
    );
}

#[test]
fn explicit_id_and_version_outside_import_mode() {
    let s = Server::start();
    let id1 = s.register("e", "\"string\"");
    // The schema's own id is accepted; another id needs IMPORT mode.
    assert_eq!(s.post("/subjects/e/versions", json!({"schema": "\"string\"", "id": id1})), (200, json!({ "id": id1 })));
    assert_eq!(
        s.post("/subjects/e/versions", json!({"schema": "\"string\"", "id": 987654})),
        (422, err(42205, "Subject e is not in import mode"))
    );
    assert_eq!(
        s.post("/subjects/f/versions", json!({"schema": "\"int\"", "id": 987655})),
        (422, err(42205, "Subject f is not in import mode"))
    );
    let not_next = err(42201, "Version is not one more than previous version");
    assert_eq!(s.post("/subjects/e/versions", json!({"schema": "\"string\"", "version": 1})), (422, not_next.clone()));
    // The next version number is accepted and recorded as confluent:version.
    let (status, body) = s.post("/subjects/e/versions", json!({"schema": "\"string\"", "version": 2}));
    assert_eq!(status, 200, "{body}");
    let id2 = body["id"].as_u64().unwrap();
    let md2 = json!({"properties": {"confluent:version": "2"}});
    assert_eq!(body, json!({"id": id2, "version": 2, "schema": "\"string\"", "metadata": md2}));
    // version 0 means "not given" (-1: see explicit_version_minus_one_matches_the_latest_metadata).
    assert_eq!(
        s.post("/subjects/e/versions", json!({"schema": "\"string\"", "version": 0})),
        (200, json!({ "id": id1 }))
    );
    s.set_level("e", "NONE");
    let (status, body) = s.post("/subjects/e/versions", json!({"schema": "\"int\"", "version": 3}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], json!(3));
    assert_eq!(s.post("/subjects/e/versions", json!({"schema": "\"int\"", "version": 2})), (422, not_next.clone()));
    assert_eq!(s.post("/subjects/e/versions", json!({"schema": "\"long\"", "version": 3})), (422, not_next));
    assert_eq!(
        s.get("/subjects/e/versions/2"),
        (200, json!({"subject": "e", "version": 2, "id": id2, "schema": "\"string\"", "metadata": md2}))
    );
    assert_eq!(s.get("/subjects/e/versions"), (200, json!([1, 2, 3])));
}

#[test]
fn import_mode_with_explicit_ids_and_versions() {
    let s = Server::start();
    assert_eq!(s.put("/mode/ia", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    assert_eq!(s.put("/mode/ib", json!({"mode": "IMPORT"})), (200, json!({"mode": "IMPORT"})));
    // IMPORT needs an id.
    assert_eq!(
        s.post("/subjects/ia/versions", schema("\"string\"")),
        (422, err(42205, "Subject ia is not in read-write mode"))
    );
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"string\"", "id": 400001})),
        (200, json!({"id": 400001}))
    );
    // Re-posting the same schema, id and version is idempotent.
    let same = json!({"id": 400001, "version": 1, "schema": "\"string\""});
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"string\"", "id": 400001, "version": 1})),
        (200, same.clone())
    );
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"string\"", "id": 400001, "version": 1})),
        (200, same)
    );
    // An id holding a different schema cannot be overwritten.
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"int\"", "id": 400001, "version": 2})),
        (422, err(42205, "Overwrite new schema with id 400001 is not permitted."))
    );
    // Any version number is accepted, in any order; no compatibility check.
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"int\"", "id": 400002, "version": 5})),
        (200, json!({"id": 400002}))
    );
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"long\"", "id": 400003, "version": 3})),
        (200, json!({"id": 400003}))
    );
    assert_eq!(s.get("/subjects/ia/versions"), (200, json!([1, 3, 5])));
    assert_eq!(s.get("/subjects/ia/versions/5"), (200, subject_version("ia", 5, 400002, "\"int\"")));
    assert_eq!(s.get("/subjects/ia/versions/latest"), (200, subject_version("ia", 5, 400002, "\"int\"")));
    assert_eq!(s.get("/schemas/ids/400003"), (200, json!({"schema": "\"long\""})));
    // The same id in another subject.
    assert_eq!(
        s.post("/subjects/ib/versions", json!({"schema": "\"string\"", "id": 400001, "version": 1})),
        (200, json!({"id": 400001}))
    );
    // id 0 is an explicit id; -1 means none.
    let (status, body) = s.post("/subjects/ib/versions", json!({"schema": USER_V1, "id": 0, "version": 2}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        s.post("/subjects/ib/versions", json!({"schema": USER_V1, "id": -1, "version": 3})),
        (422, err(42205, "Subject ib is not in read-write mode"))
    );
    assert_eq!(
        s.get("/schemas/ids/400001/versions"),
        (200, json!([{"subject": "ia", "version": 1}, {"subject": "ib", "version": 1}]))
    );

    // Back in READWRITE: ids continue above the imported ones, explicit ids are refused.
    assert_eq!(s.put("/mode/ia", json!({"mode": "READWRITE"})), (200, json!({"mode": "READWRITE"})));
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"string\"", "id": 400001, "version": 9})),
        (422, err(42205, "Subject ia is not in import mode"))
    );
    assert_eq!(
        s.post("/subjects/ia/versions", json!({"schema": "\"boolean\"", "id": 400001})),
        (422, err(42205, "Subject ia is not in import mode"))
    );
    s.set_level("ia", "NONE");
    let id = s.register("ia", "\"boolean\"");
    assert!(id > 400003, "new ids are above every imported id: {id}");
    assert_eq!(s.get("/subjects/ia/versions"), (200, json!([1, 3, 5, 6])));
}

#[test]
fn request_bodies_malformed_empty_and_odd() {
    let s = Server::start();
    let path = "/subjects/b/versions";
    let missing = err(422, "register.arg5 must not be null (was null)");
    for raw in ["", "   ", "null"] {
        let r = s.raw("POST", path, Some(raw), Some(CT), &[]);
        assert_eq!((r.status, r.json), (422, missing.clone()), "{raw:?}");
    }
    for raw in [
        "{",
        "not json",
        "[]",
        "\"string\"",
        "42",
        r#"{"schema":{"type":"string"}}"#,
        r#"{"schema":"\"string\"","references":{}}"#,
    ] {
        let r = s.raw("POST", path, Some(raw), Some(CT), &[]);
        assert_eq!((r.status, r.json["error_code"].clone()), (400, json!(400)), "{raw:?}: {}", r.text);
        assert!(r.json["message"].as_str().is_some_and(|m| !m.is_empty()), "{raw:?}: {}", r.text);
    }
    for body in [json!({}), json!({"schema": null}), json!({"schema": ""}), json!({"schema": "   "})] {
        assert_eq!(s.post(path, body.clone()), (422, err(42201, "Empty schema")), "{body}");
    }
    assert_eq!(
        s.post(path, json!({"schema": "\"string\"", "version": "x"})),
        (
            400,
            err(
                400,
                "Cannot deserialize value of type `Integer` from String \"x\": not a valid `java.lang.Integer` value"
            )
        )
    );
    assert_eq!(
        s.post(path, json!({"schema": "\"string\"", "schemaType": 5})),
        (422, err(42201, "Invalid schema type 5"))
    );
    assert_eq!(
        s.post(path, json!({"schema": "\"string\"", "schemaType": "XML"})),
        (422, err(42201, "Invalid schema type XML"))
    );
    // Unknown properties and null optional members are ignored.
    let (status, body) = s.post(path, json!({"schema": "\"string\"", "unknownField": 1}));
    assert_eq!(status, 200);
    let id = body["id"].as_u64().unwrap();
    assert_eq!(body, json!({"id": id}));
    for extra in [
        json!({"references": null}),
        json!({"references": []}),
        json!({"metadata": null, "ruleSet": null}),
        json!({"schemaType": "AVRO"}),
    ] {
        let mut b = extra.clone();
        b["schema"] = json!("\"string\"");
        assert_eq!(s.post(path, b), (200, json!({"id": id})), "{extra}");
    }
    assert_eq!(s.get("/subjects/b/versions"), (200, json!([1])));
}

#[test]
fn content_types_and_accept_negotiation() {
    let s = Server::start();
    let path = "/subjects/ct/versions";
    let body = r#"{"schema":"\"string\""}"#;
    let first = s.raw("POST", path, Some(body), Some(CT), &[]);
    assert_eq!(first.status, 200, "{}", first.text);
    let id = first.json["id"].as_u64().unwrap();
    for ct in [
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
        "application/json; charset=utf-8",
    ] {
        let r = s.raw("POST", path, Some(body), Some(ct), &[]);
        assert_eq!((r.status, &r.json["id"]), (200, &json!(id)), "{ct}");
    }
    // No Content-Type at all (curl, ad-hoc clients) is read as JSON.
    let r = s.raw("POST", path, Some(body), None, &[]);
    assert_eq!((r.status, &r.json["id"]), (200, &json!(id)), "missing Content-Type");
    let unsupported = err(415, "HTTP 415 Unsupported Media Type");
    for (method, p, b) in
        [("POST", path, body), ("POST", "/subjects/ct", body), ("PUT", "/config/ct", r#"{"compatibility":"NONE"}"#)]
    {
        let r = s.raw(method, p, Some(b), Some("text/plain"), &[]);
        assert_eq!((r.status, r.json), (415, unsupported.clone()), "{method} {p}");
    }
    // Body-less requests carrying the Java client's Content-Type are fine.
    assert_eq!(s.get("/subjects/ct/versions"), (200, json!([1])));

    // The Java client's default Accept header gets JSON in the registry's media type.
    let java = [("Accept", "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2")];
    let r = s.raw("GET", "/subjects/ct/versions", None, None, &java);
    assert_eq!((r.status, r.json), (200, json!([1])));
    assert_eq!(r.content_type.as_deref(), Some(CT));
    let r = s.raw("GET", "/subjects/ct/versions", None, None, &[]);
    assert_eq!(r.content_type.as_deref(), Some(CT));
    let r = s.raw("GET", "/subjects/ct/versions", None, None, &[("Accept", "*/*")]);
    assert_eq!(r.content_type.as_deref(), Some(CT));
    for accept in ["application/json", "application/vnd.schemaregistry+json", CT] {
        let r = s.raw("GET", "/subjects/ct/versions", None, None, &[("Accept", accept)]);
        assert_eq!((r.status, r.json), (200, json!([1])), "{accept}");
        assert_eq!(r.content_type.as_deref(), Some(accept), "{accept}");
    }
    let r = s.raw("POST", path, Some(body), Some(CT), &java);
    assert_eq!((r.status, &r.json["id"]), (200, &json!(id)));
    // Errors are JSON too.
    let r = s.raw("GET", "/subjects/none/versions", None, None, &java);
    assert_eq!((r.status, r.json), (404, subject_not_found("none")));
    assert_eq!(r.content_type.as_deref(), Some(CT));

    // An Accept nothing satisfies is refused before any write: nothing is registered,
    // deleted or configured.
    let xml = [("Accept", "application/xml")];
    let new_schema = r#"{"schema":"\"int\""}"#;
    for (method, p, b) in [
        ("POST", "/subjects/ct/versions", Some(new_schema)),
        ("PUT", "/config/ct", Some(r#"{"compatibility":"NONE"}"#)),
        ("PUT", "/mode/ct", Some(r#"{"mode":"READONLY"}"#)),
        ("DELETE", "/subjects/ct/versions/1", None),
        ("DELETE", "/subjects/ct", None),
    ] {
        let r = s.raw(method, p, b, b.map(|_| CT), &xml);
        assert_eq!((r.status, &r.json["error_code"]), (406, &json!(406)), "{method} {p}");
    }
    assert_eq!(s.get("/subjects/ct/versions"), (200, json!([1])));
    assert_eq!(s.get("/config/ct").0, 404);
    assert_eq!(s.get("/mode/ct").0, 404);
}

/// JAX-RS treats a media range whose type is `*` as a wildcard whatever its subtype, so
/// `*/anything` gets the default type; `application/*` does too, `text/*` is refused.
#[test]
fn accept_with_a_wildcard_type_gets_the_default() {
    let s = Server::start();
    s.register("w", "\"string\"");
    for accept in ["*/anything", "*/json", "*/*;q=0.5", "application/*", "text/plain, */x"] {
        let r = s.raw("GET", "/subjects/w/versions", None, None, &[("Accept", accept)]);
        assert_eq!((r.status, r.json), (200, json!([1])), "{accept}");
        assert_eq!(r.content_type.as_deref(), Some(CT), "{accept}");
    }
    for accept in ["text/*", "text/json", "application/xml"] {
        let r = s.raw("GET", "/subjects/w/versions", None, None, &[("Accept", accept)]);
        assert_eq!(r.status, 406, "{accept}");
    }
}

/// Jackson reads the request's raw bytes and detects UTF-16 and UTF-32 (by byte-order mark
/// or by the zero bytes around the first character), whatever the Content-Type's charset.
#[test]
fn bodies_in_utf16_and_utf32_are_decoded() {
    let s = Server::start();
    let path = "/subjects/enc/versions";
    let text = r#"{"schema":"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"doc\":\"é€𝄞\"}"}"#;
    let first = s.raw("POST", path, Some(text), Some(CT), &[]);
    assert_eq!(first.status, 200, "{}", first.text);
    let utf16 = |big: bool, bom: bool| -> Vec<u8> {
        let units = bom.then_some(0xFEFF_u16).into_iter().chain(text.encode_utf16());
        units.flat_map(|u| if big { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    };
    let utf32 = |big: bool, bom: bool| -> Vec<u8> {
        let codes = bom.then_some(0xFEFF_u32).into_iter().chain(text.chars().map(u32::from));
        codes.flat_map(|c| if big { c.to_be_bytes() } else { c.to_le_bytes() }).collect()
    };
    let mut bodies = vec![[b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()];
    for (big, bom) in [(true, true), (true, false), (false, true), (false, false)] {
        bodies.extend([utf16(big, bom), utf32(big, bom)]);
    }
    for body in &bodies {
        for ct in [CT, "application/json; charset=utf-16", "application/json; charset=utf-8"] {
            let r = s.raw_bytes("POST", path, Some(body), Some(ct), &[]);
            assert_eq!((r.status, &r.json), (200, &first.json), "{ct} {:?}", &body[..4]);
        }
    }
    assert_eq!(s.get(path), (200, json!([1])));
    // UCS-4 in an unusual byte order is a 400, not a 500.
    let r = s.raw_bytes("POST", path, Some(&[0, 0, b'{', 0, 0, 0, b'}', 0]), Some(CT), &[]);
    assert_eq!((r.status, &r.json["error_code"]), (400, &json!(400)));
}

/// Confluent 7.9 (reg-explicit-id#7): `"version": -1` is not the "no version" fast path of
/// `"version": 0`; the request inherits the latest version's metadata and so matches v2.
#[test]
fn explicit_version_minus_one_matches_the_latest_metadata() {
    let s = Server::start();
    let id1 = s.register("e", "\"string\"");
    let (status, body) = s.post("/subjects/e/versions", json!({"schema": "\"string\"", "version": 2}));
    assert_eq!(status, 200, "{body}");
    let id2 = body["id"].as_u64().unwrap();
    assert_ne!(id1, id2);
    assert_eq!(
        s.post("/subjects/e/versions", json!({"schema": "\"string\"", "version": 0})),
        (200, json!({ "id": id1 }))
    );
    assert_eq!(
        s.post("/subjects/e/versions", json!({"schema": "\"string\"", "version": -1})),
        (200, json!({ "id": id2 }))
    );
    assert_eq!(s.get("/subjects/e/versions"), (200, json!([1, 2])));
}

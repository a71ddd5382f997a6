//! HTTP tests of schema contexts: registration under context-qualified subjects
//! (`:.ctx:name`), `GET /contexts`, the `/contexts/{ctx}/...` URL prefix, config and mode
//! inheritance through a context, reads by id per context, and the fallback of unqualified
//! reads to other contexts. Expected answers follow the recorded Confluent 7.9.0 corpus;
//! ids are global across contexts in Schemata, so the same schema shares one id everywhere.

use crate::common::*;
use serde_json::json;

/// `:.ctx:name`, percent-encoded for a path.
fn q(ctx: &str, name: &str) -> String {
    enc(&format!(":{ctx}:{name}"))
}

#[test]
fn qualified_registration_and_listing() {
    let s = Server::start();
    let id = s.register(&q(".x", "a"), USER_V1);
    assert_eq!(s.register(&q(".y", "a"), USER_V1), id, "ids are global: the same schema, the same id");
    s.register("plain", "\"string\"");
    // `:.:name` is the default context.
    s.register(&enc(":.:dflt"), "\"string\"");
    assert_eq!(s.get("/subjects/dflt/versions"), (200, json!([1])));

    assert_eq!(s.get("/contexts"), (200, json!([".", ".x", ".y"])));
    assert_eq!(s.get("/contexts?contextPrefix=.x"), (200, json!([".x"])));
    assert_eq!(s.get("/contexts?offset=1&limit=1"), (200, json!([".x"])));
    assert_eq!(s.get("/subjects"), (200, json!([":.x:a", ":.y:a", "dflt", "plain"])));
    assert_eq!(s.get(&format!("/subjects?subjectPrefix={}", enc(":*:"))), s.get("/subjects"));
    assert_eq!(s.get(&format!("/subjects?subjectPrefix={}", q(".x", ""))), (200, json!([":.x:a"])));
    assert_eq!(
        s.get(&format!("/subjects/{}/versions/1", q(".x", "a"))),
        (200, subject_version(":.x:a", 1, id, USER_V1))
    );
    assert_eq!(s.get(&format!("/subjects/{}/versions/1", q(".x", "b"))), (404, subject_not_found(":.x:b")));
    // The context's own name matches its subjects: no versions, but no 40401 either.
    assert_eq!(s.get(&format!("/subjects/{}/versions", q(".x", ""))), (200, json!([])));
    assert_eq!(s.get(&format!("/subjects/{}/versions", q(".z", ""))), (404, subject_not_found(":.z:")));

    // A context stays listed after its last subject is gone, also across a restart.
    assert_eq!(s.delete(&format!("/subjects/{}", q(".y", "a"))), (200, json!([1])));
    assert_eq!(s.delete(&format!("/subjects/{}?permanent=true", q(".y", "a"))), (200, json!([1])));
    let mut s = s;
    s.restart();
    assert_eq!(s.get("/contexts"), (200, json!([".", ".x", ".y"])));
}

#[test]
fn url_prefix_is_a_qualified_subject() {
    let s = Server::start();
    let (status, body) = s.post("/contexts/.c/subjects/a/versions", schema(USER_V1));
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_u64().unwrap();
    assert_eq!(s.get(&format!("/subjects/{}/versions", q(".c", "a"))), (200, json!([1])));
    assert_eq!(s.get("/contexts/.c/subjects/a/versions/1"), (200, subject_version(":.c:a", 1, id, USER_V1)));
    // The leading dot may be left out.
    assert_eq!(s.get("/contexts/c/subjects"), (200, json!([":.c:a"])));
    assert_eq!(s.get("/contexts/.c/schemas"), (200, json!([subject_version(":.c:a", 1, id, USER_V1)])));
    assert_eq!(s.get(&format!("/contexts/.c/schemas/ids/{id}")), (200, json!({"schema": USER_V1})));
    assert_eq!(s.get(&format!("/contexts/.c/schemas/ids/{id}/subjects")), (200, json!([":.c:a"])));
    assert_eq!(s.get("/contexts/.bad:name/subjects"), (400, err(400, "Context name cannot contain a colon")));
    // A subject already qualified is prefixed again, as Confluent does.
    assert_eq!(
        s.get(&format!("/contexts/.c/subjects/{}/versions", q(".o", "a"))),
        (404, subject_not_found(":.c::.o:a"))
    );

    // Unscoped /config and /mode under the prefix are the context's settings.
    assert_eq!(s.put("/contexts/.c/config", json!({"compatibility": "NONE"})), (200, json!({"compatibility": "NONE"})));
    assert_eq!(s.get(&format!("/config/{}", q(".c", ""))), (200, json!({"compatibilityLevel": "NONE"})));
    assert_eq!(s.get("/config"), (200, json!({"compatibilityLevel": "BACKWARD"})));
    assert_eq!(s.put("/contexts/.c/mode", json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.get(&format!("/mode/{}", q(".c", ""))), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.get("/mode"), (200, json!({"mode": "READWRITE"})));
    assert_eq!(
        s.post("/contexts/.c/compatibility/subjects/a/versions/latest", schema(USER_INT)),
        (200, json!({"is_compatible": true})),
        "NONE is inherited from the context"
    );
}

#[test]
fn config_inherits_through_the_context_only() {
    let s = Server::start();
    let (sub, ctx) = (q(".c", "x"), q(".c", ""));
    s.put("/config", json!({"compatibility": "NONE", "normalize": true}));
    // The global (default context) config does not reach another context.
    assert_eq!(s.get(&format!("/config/{sub}?defaultToGlobal=true")), (200, json!({"compatibilityLevel": "BACKWARD"})));
    assert_eq!(s.put(&format!("/config/{ctx}"), json!({"compatibility": "FORWARD"})).0, 200);
    assert_eq!(s.get(&format!("/config/{sub}?defaultToGlobal=true")), (200, json!({"compatibilityLevel": "FORWARD"})));
    assert_eq!(
        s.get(&format!("/config/{sub}")),
        (404, err(40408, "Subject ':.c:x' does not have subject-level compatibility configured"))
    );

    // The context's FORWARD applies to registration: an added field without default is fine
    // forward, while BACKWARD would refuse it.
    s.register(&sub, USER_V1);
    s.register(&sub, USER_AGE_NO_DEFAULT);

    // A subject config wins whole: its missing level is the server default, not FORWARD.
    assert_eq!(s.put(&format!("/config/{sub}"), json!({"normalize": true})).0, 200);
    assert_eq!(
        s.get(&format!("/config/{sub}?defaultToGlobal=true")),
        (200, json!({"compatibilityLevel": "BACKWARD", "normalize": true}))
    );
    let (status, body) = s.post(&format!("/subjects/{sub}/versions"), schema(USER_INT));
    assert_eq!((status, body["error_code"].clone()), (409, json!(409)));

    assert_eq!(s.delete(&format!("/config/{ctx}")), (200, json!({"compatibilityLevel": "FORWARD"})));
    assert_eq!(
        s.get(&format!("/config/{ctx}")),
        (404, err(40408, "Subject ':.c:' does not have subject-level compatibility configured"))
    );
}

#[test]
fn mode_inherits_through_the_context_and_override_beats_all() {
    let s = Server::start();
    let (sub, ctx) = (q(".c", "x"), q(".c", ""));
    let v3 = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":0},{"name":"email","type":"string","default":""}]}"#;
    s.register("d", "\"string\"");
    s.register(&sub, USER_V1);

    // A global READONLY holds the default context only.
    s.put("/mode", json!({"mode": "READONLY"}));
    assert_eq!(s.post("/subjects/d/versions", schema("\"int\"")), (422, err(42205, "Subject d is in read-only mode")));
    assert_eq!(s.get(&format!("/mode/{sub}?defaultToGlobal=true")), (200, json!({"mode": "READWRITE"})));
    assert!(s.register(&sub, USER_V2) > 0, "the context stays writable");
    s.put("/mode", json!({"mode": "READWRITE"}));

    // The context's mode is inherited, a subject's own mode wins over it.
    assert_eq!(s.put(&format!("/mode/{ctx}"), json!({"mode": "READONLY"})), (200, json!({"mode": "READONLY"})));
    assert_eq!(s.get(&format!("/mode/{sub}?defaultToGlobal=true")), (200, json!({"mode": "READONLY"})));
    assert_eq!(
        s.post(&format!("/subjects/{sub}/versions"), schema("\"long\"")),
        (422, err(42205, "Subject :.c:x is in read-only mode"))
    );
    assert_eq!(s.put(&format!("/mode/{sub}"), json!({"mode": "READWRITE"})).0, 200);
    assert!(s.register(&sub, v3) > 0);

    // A global READONLY_OVERRIDE is every subject's mode, in every context.
    s.put("/mode", json!({"mode": "READONLY_OVERRIDE"}));
    assert_eq!(s.get(&format!("/mode/{sub}")), (200, json!({"mode": "READONLY_OVERRIDE"})));
    assert_eq!(s.get("/mode/d"), (200, json!({"mode": "READONLY_OVERRIDE"})));
    assert_eq!(s.post(&format!("/subjects/{sub}/versions"), schema(USER_INT)).0, 422);
    assert_eq!(s.delete(&format!("/mode/{sub}")), (200, json!({"mode": "READONLY_OVERRIDE"})));
    s.put("/mode", json!({"mode": "READWRITE"}));
    assert_eq!(s.get(&format!("/mode/{sub}?defaultToGlobal=true")), (200, json!({"mode": "READONLY"})));

    // IMPORT set on the context accepts explicit ids there.
    assert_eq!(s.put(&format!("/mode/{}", q(".i", "")), json!({"mode": "IMPORT"})).0, 200);
    let body = json!({"schema": "\"string\"", "id": 300001, "version": 1});
    assert_eq!(s.post(&format!("/subjects/{}/versions", q(".i", "a")), body), (200, json!({"id": 300001})));
}

#[test]
fn unqualified_reads_fall_back_to_other_contexts() {
    let s = Server::start();
    let id = s.register(&q(".x", "a"), USER_V1);
    let found = subject_version(":.x:a", 1, id, USER_V1);

    // Listing versions does not fall back; reading a version and lookup do.
    assert_eq!(s.get("/subjects/a/versions"), (404, subject_not_found("a")));
    assert_eq!(s.get("/subjects/a/versions/1"), (200, found.clone()));
    assert_eq!(s.get("/subjects/a/versions/latest"), (200, found.clone()));
    assert_eq!(s.post("/subjects/a", schema(USER_V1)), (200, found.clone()));
    assert_eq!(s.post("/subjects/a", schema(USER_INT)), (404, subject_not_found("a")));
    assert_eq!(s.get("/subjects/a/versions/1/referencedby"), (200, json!([])));

    // By id: the default context lacks it unless an unqualified subject points elsewhere.
    assert_eq!(s.get(&format!("/schemas/ids/{id}")), (404, err(40403, &format!("Schema {id} not found"))));
    assert_eq!(s.get(&format!("/schemas/ids/{id}?subject=a")), (200, json!({"schema": USER_V1})));
    assert_eq!(
        s.get(&format!("/schemas/ids/{id}/versions?subject=a")),
        (200, json!([{"subject": ":.x:a", "version": 1}]))
    );
    assert_eq!(s.get(&format!("/schemas/ids/{id}?subject={}", q(".x", ""))), (200, json!({"schema": USER_V1})));
    assert_eq!(s.get(&format!("/schemas/ids/{id}?subject={}", q(".nope", ""))).0, 404);

    // Once the default context has the subject it shadows the others, except for what it
    // lacks: a schema it does not hold, or a version it soft deleted.
    let plain = s.register("a", "\"string\"");
    assert_eq!(s.get("/subjects/a/versions/1"), (200, subject_version("a", 1, plain, "\"string\"")));
    assert_eq!(s.post("/subjects/a", schema(USER_V1)), (200, found.clone()));
    assert_eq!(s.delete("/subjects/a"), (200, json!([1])));
    assert_eq!(s.get("/subjects/a/versions/1"), (200, found));
    assert_eq!(s.get("/subjects/a/versions/1?deleted=true"), (200, subject_version("a", 1, plain, "\"string\"")));

    // A qualified subject never falls back.
    assert_eq!(s.get(&format!("/subjects/{}/versions/1", q(".y", "a"))), (404, subject_not_found(":.y:a")));
}

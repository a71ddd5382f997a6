//! Schema tags over HTTP: `POST /subjects/{s}/versions/{v}/tags` writes `confluent:tags` into
//! a record or field of an Avro schema and registers the result as the next version.

use crate::common::*;
use serde_json::json;

const USER: &str =
    r#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"name","type":"string"}]}"#;

fn tag(path: &str, entity: &str, tags: &[&str]) -> serde_json::Value {
    json!({"schemaEntity": {"entityPath": path, "entityType": entity}, "tags": tags})
}

#[test]
fn tags_are_written_into_the_schema_as_new_versions() {
    let s = Server::start();
    s.register("t", USER);
    let (status, body) =
        s.post("/subjects/t/versions/1/tags", json!({"tagsToAdd": [tag("User.name", "sr_field", &["PII"])]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["metadata"], json!({"properties": {"confluent:version": "2"}}));
    let tagged = r#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"name","type":"string","confluent:tags":["PII"]}]}"#;
    assert_eq!(body["schema"], tagged);

    // Record-level tags by full name, and removal of the field tag, in one request.
    let (status, body) = s.post(
        "/subjects/t/versions/latest/tags",
        json!({"newVersion": 3, "tagsToAdd": [tag("com.acme.User", "sr_record", &["INTERNAL"])],
               "tagsToRemove": [tag("User.name", "sr_field", &["PII"])]}),
    );
    assert_eq!(status, 200, "{body}");
    let expected = r#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"name","type":"string"}],"confluent:tags":["INTERNAL"]}"#;
    assert_eq!(body["schema"], expected);
    assert_eq!(s.get("/subjects/t/versions/3").1["schema"], expected);
    assert_eq!(s.get("/subjects/t/versions").1, json!([1, 2, 3]));
}

#[test]
fn tag_errors_are_confluents() {
    let s = Server::start();
    s.register("t", USER);
    let (status, body) =
        s.post("/subjects/t/versions/1/tags", json!({"tagsToAdd": [tag("User.nope", "sr_field", &["X"])]}));
    assert_eq!(
        (status, body),
        (422, err(42201, "java.lang.IllegalArgumentException: No matching path 'User.nope' found in the schema"))
    );
    let (status, body) = s.post("/subjects/t/versions/1/tags", json!({"newVersion": 7, "tagsToAdd": []}));
    assert_eq!((status, body), (422, err(42201, "Version is not one more than previous version")));
    assert_eq!(s.post("/subjects/t/versions/9/tags", json!({})), (404, version_not_found(9)));
    assert_eq!(s.post("/subjects/missing/versions/1/tags", json!({})), (404, subject_not_found("missing")));
    assert_eq!(s.get("/subjects/t/versions").1, json!([1]));
}

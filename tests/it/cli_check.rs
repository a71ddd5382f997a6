//! `schemata check` as CI runs it: exit codes (0 compatible, 1 incompatible, 2 error) and
//! the readable reasons, online against a real server, offline on files and directories,
//! and against a git ref of a throwaway repository.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{binary, free_port, Server, USER_AGE_NO_DEFAULT, USER_INT, USER_V1, USER_V2};
use serde_json::json;
use tempfile::TempDir;

/// Runs `schemata check ARGS` in `dir`; returns exit code, stdout, stderr.
fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } =
        Command::new(binary()).arg("check").args(args).current_dir(dir).output().expect("run schemata check");
    (
        status.code().expect("exit code"),
        String::from_utf8_lossy(&stdout).into(),
        String::from_utf8_lossy(&stderr).into(),
    )
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn offline_files_compatible_incompatible_and_level() {
    let d = TempDir::new().unwrap();
    write(d.path(), "old.avsc", USER_V1);
    write(d.path(), "new.avsc", USER_V2);
    write(d.path(), "noage.avsc", USER_AGE_NO_DEFAULT);

    let (code, out, _) = check(d.path(), &["--against", "old.avsc", "new.avsc"]);
    assert_eq!((code, out.trim()), (0, "new.avsc: compatible"));

    let (code, out, _) = check(d.path(), &["--against", "old.avsc", "noage.avsc"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("noage.avsc: INCOMPATIBLE\n"), "{out}");
    assert!(out.contains("- READER_FIELD_MISSING_DEFAULT_VALUE: The field 'age' at path '/fields/1' in the new schema has no default value and is missing in the old schema"), "{out}");
    assert!(out.contains("(level BACKWARD)"), "{out}");

    // Dropping a field is BACKWARD-compatible but not FORWARD without a default.
    let (code, _, _) = check(d.path(), &["--against", "noage.avsc", "old.avsc"]);
    assert_eq!(code, 0);
    let (code, out, _) = check(d.path(), &["--against", "noage.avsc", "old.avsc", "--level", "FORWARD"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("(level FORWARD)"), "{out}");
    let (code, _, _) = check(d.path(), &["--against", "noage.avsc", "old.avsc", "--level", "none"]);
    assert_eq!(code, 0);
}

#[test]
fn offline_errors_exit_2() {
    let d = TempDir::new().unwrap();
    write(d.path(), "old.avsc", USER_V1);
    write(d.path(), "bad.avsc", r#"{"type":"record","name":"User","fields":[{"name":"n","type":"strng"}]}"#);
    write(d.path(), "a.proto", "syntax = \"proto3\";\nmessage A { string a = 1; }\n");
    write(d.path(), "a.json", r#"{"type":"object"}"#);

    let (code, _, err) = check(d.path(), &["--against", "old.avsc", "bad.avsc"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.avsc: invalid schema"), "{err}");

    let (code, out, err) = check(d.path(), &["--against", "a.proto", "a.proto"]);
    assert_eq!(code, 0, "{out}{err}");
    write(d.path(), "b.proto", "syntax = \"proto3\";\npackage other;\nmessage A { string a = 1; }\n");
    let (code, out, _) = check(d.path(), &["--against", "a.proto", "b.proto"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("PACKAGE_CHANGED"), "{out}");
    write(
        d.path(),
        "closed.json",
        r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
    );
    write(
        d.path(),
        "int.json",
        r#"{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false}"#,
    );
    let (code, out, err) = check(d.path(), &["--against", "a.json", "a.json"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = check(d.path(), &["--against", "closed.json", "int.json"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TYPE_CHANGED"), "{out}");
    let (code, _, err) = check(d.path(), &["--against", "old.avsc", "old.avsc", "--type", "PROTOBUF"]);
    assert_eq!(code, 2, "{err}");

    let (code, _, err) = check(d.path(), &["--against", "missing.avsc", "old.avsc"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, _) = check(d.path(), &["old.avsc"]);
    assert_eq!(code, 2);
    let (code, _, err) = check(d.path(), &["--against", ".", "old.avsc"]);
    assert_eq!(code, 2);
    assert!(err.contains("compare a file with a file or a directory with a directory"), "{err}");
}

#[test]
fn offline_directories_pair_by_path_and_resolve_references() {
    let d = TempDir::new().unwrap();
    let address = r#"{"type":"record","name":"Address","namespace":"ex","fields":[{"name":"city","type":"string"}]}"#;
    let user = r#"{"type":"record","name":"User","namespace":"ex","fields":[{"name":"home","type":"ex.Address"}]}"#;
    let address_zip = r#"{"type":"record","name":"Address","namespace":"ex","fields":[{"name":"city","type":"string"},{"name":"zip","type":"string"}]}"#;
    for side in ["old", "new"] {
        write(d.path(), &format!("{side}/nested/user.avsc"), user);
    }
    write(d.path(), "old/nested/address.avsc", address);
    write(d.path(), "new/nested/address.avsc", address);
    write(d.path(), "new/brand-new.avsc", USER_V1);

    let (code, out, err) = check(d.path(), &["--against", "old", "new"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("new/nested/user.avsc: compatible"), "{out}");
    assert!(out.contains("new/brand-new.avsc: new, nothing to compare with"), "{out}");

    // A field without default added to the referenced type breaks both files that use it.
    write(d.path(), "new/nested/address.avsc", address_zip);
    let (code, out, err) = check(d.path(), &["--against", "old", "new"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("new/nested/address.avsc: INCOMPATIBLE"), "{out}");
    assert!(out.contains("new/nested/user.avsc: INCOMPATIBLE"), "{out}");
    assert!(out.contains("'/fields/0/type/fields/1'"), "{out}");
}

#[test]
fn against_a_git_ref() {
    let d = TempDir::new().unwrap();
    git(d.path(), &["init", "-q"]);
    write(d.path(), "schemas/user.avsc", USER_V1);
    git(d.path(), &["add", "."]);
    git(d.path(), &["commit", "-q", "-m", "v1"]);
    git(d.path(), &["tag", "base"]);

    write(d.path(), "schemas/user.avsc", USER_V2);
    let (code, out, err) = check(d.path(), &["--against", "git:base", "schemas"]);
    assert_eq!((code, out.trim()), (0, "schemas/user.avsc: compatible"), "{err}");
    let (code, out, _) = check(d.path(), &["--against", "git:base", "schemas/user.avsc"]);
    assert_eq!((code, out.trim()), (0, "schemas/user.avsc: compatible"));

    write(d.path(), "schemas/user.avsc", USER_INT);
    let (code, out, _) = check(d.path(), &["--against", "git:base", "schemas"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("- TYPE_MISMATCH: The type (path '/fields/0/type') of a field in the new schema does not match with the old schema"), "{out}");

    // From a subdirectory, paths stay relative to where the command runs.
    let (code, _, err) = check(&d.path().join("schemas"), &["--against", "git:base", "user.avsc"]);
    assert_eq!(code, 1, "{err}");

    // An absolute path inside the repository means the same files.
    let absolute = d.path().join("schemas").display().to_string();
    let (code, out, _) = check(d.path(), &["--against", "git:base", &absolute]);
    assert_eq!(code, 1, "{out}");

    let (code, _, err) = check(d.path(), &["--against", "git:no-such-ref", "schemas"]);
    assert_eq!(code, 2);
    assert!(err.contains("git ref 'no-such-ref' not found"), "{err}");
}

#[test]
fn online_against_a_registry() {
    let server = Server::start();
    let d = TempDir::new().unwrap();
    write(d.path(), "v2.avsc", USER_V2);
    write(d.path(), "int.avsc", USER_INT);
    write(d.path(), "noage.avsc", USER_AGE_NO_DEFAULT);
    write(d.path(), "bad.avsc", "{not json");
    let url = server.url("");
    let online = |subject: &str, file: &str, extra: &[&str]| {
        let mut args = vec!["--registry", url.as_str(), "--subject", subject, file];
        args.extend_from_slice(extra);
        check(d.path(), &args)
    };

    // Unknown subject: passes and says why, or fails with --require-subject.
    let (code, out, _) = online("users-value", "v2.avsc", &[]);
    assert_eq!(code, 0);
    assert!(out.contains("the subject has no versions yet"), "{out}");
    let (code, _, err) = online("users-value", "v2.avsc", &["--require-subject"]);
    assert_eq!(code, 2);
    assert!(err.contains("has no versions"), "{err}");

    server.register("users-value", USER_V1);
    let (code, out, _) = online("users-value", "v2.avsc", &[]);
    assert_eq!((code, out.trim()), (0, "v2.avsc against subject users-value: compatible"));
    let (code, out, _) = online("users-value", "int.avsc", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("- TYPE_MISMATCH:"), "{out}");
    assert!(out.contains("(checked against version 1)"), "{out}");
    assert!(out.contains("(level BACKWARD)"), "{out}");

    // The subject's level is the registry's: NONE lets anything through...
    server.set_level("users-value", "NONE");
    assert_eq!(online("users-value", "int.avsc", &[]).0, 0);
    // ...unless --level overrides it, judged here on the fetched versions.
    let (code, out, _) = online("users-value", "int.avsc", &["--level", "BACKWARD"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("at level BACKWARD: INCOMPATIBLE"), "{out}");
    assert_eq!(online("users-value", "v2.avsc", &["--level", "FULL"]).0, 0);
    server.register("users-value", USER_V2);
    // Transitive levels read every version: noage reads v2's data but not v1's (no `age`).
    assert_eq!(online("users-value", "noage.avsc", &["--level", "BACKWARD"]).0, 0);
    assert_eq!(online("users-value", "noage.avsc", &["--level", "BACKWARD_TRANSITIVE"]).0, 1);

    let (code, _, err) = online("users-value", "bad.avsc", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid schema"), "{err}");
}

/// `--level` judges Protobuf and JSON Schema subjects locally too, imports and `$ref`s
/// fetched from the registry by their reference names.
#[test]
fn level_override_for_protobuf_and_json_subjects_with_references() {
    let server = Server::start();
    let d = TempDir::new().unwrap();
    let url = server.url("");
    let money = "syntax = \"proto3\";\npackage p;\nmessage Money { int64 cents = 1; }\n";
    server.post("/subjects/money/versions", json!({"schemaType": "PROTOBUF", "schema": money}));
    let order = |cents_type: &str| {
        format!("syntax = \"proto3\";\npackage p;\nimport \"money.proto\";\nmessage Order {{ Money total = 1; {cents_type} n = 2; }}\n")
    };
    let refs = json!([{"name": "money.proto", "subject": "money", "version": 1}]);
    server.post(
        "/subjects/orders/versions",
        json!({"schemaType": "PROTOBUF", "schema": order("int32"), "references": refs}),
    );
    server.set_level("orders", "NONE");
    // The files' own imports are read from beside them, as in a repository.
    write(d.path(), "money.proto", money);
    write(d.path(), "same.proto", &order("int32"));
    write(d.path(), "retyped.proto", &order("string"));
    let check_level = |file: &str, subject: &str, reference: &str| {
        check(
            d.path(),
            &["--registry", url.as_str(), "--subject", subject, "--reference", reference, file, "--level", "BACKWARD"],
        )
    };
    let (code, out, err) = check_level("same.proto", "orders", "money.proto=money:1");
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = check_level("retyped.proto", "orders", "money.proto=money:1");
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("at level BACKWARD: INCOMPATIBLE"), "{out}");

    let person = r#"{"type":"object","properties":{"name":{"type":"string"}}}"#;
    server.post("/subjects/person/versions", json!({"schemaType": "JSON", "schema": person}));
    let holder = |extra: &str| {
        format!(
            r#"{{"type":"object","properties":{{"who":{{"$ref":"person.json"}}{extra}}},"additionalProperties":false}}"#
        )
    };
    let refs = json!([{"name": "person.json", "subject": "person", "version": 1}]);
    server.post("/subjects/holders/versions", json!({"schemaType": "JSON", "schema": holder(""), "references": refs}));
    write(d.path(), "person.json", person);
    write(d.path(), "same.json", &holder(""));
    write(d.path(), "narrower.json", &holder(r#","n":{"type":"integer"}"#));
    let (code, out, err) = check_level("same.json", "holders", "person.json=person:1");
    assert_eq!(code, 0, "{out}{err}");
    // A closed content model gaining a property: old data may not match (FORWARD breaks).
    let (code, out, err) = check(
        d.path(),
        &[
            "--registry",
            url.as_str(),
            "--subject",
            "holders",
            "--reference",
            "person.json=person:1",
            "narrower.json",
            "--level",
            "FORWARD",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");

    // A file of another type than the subject's versions is an error, not a verdict.
    let (code, _, err) = check_level("same.json", "orders", "person.json=person:1");
    assert_eq!(code, 2, "{err}");
}

#[test]
fn unreachable_registry_exits_2() {
    let d = TempDir::new().unwrap();
    write(d.path(), "v1.avsc", USER_V1);
    // A port that was free a moment ago: nothing listens there.
    let url = format!("http://127.0.0.1:{}", free_port());
    let (code, out, err) = check(d.path(), &["--registry", &url, "--subject", "s", "v1.avsc", "--timeout-secs", "5"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.starts_with("error: versions of s: ") && err.contains("Connection refused"), "{err}");
}

#[test]
fn help_states_unknown_subject_handling_and_exit_codes() {
    let (code, out, _) = check(Path::new("."), &["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Unknown subject:"), "{out}");
    assert!(out.contains("Exit codes: 0 compatible, 1 incompatible, 2 error"), "{out}");
}

/// The repository's `schemas/` examples: the Avro pair checks (the reference resolves from
/// the sibling file), and so do the JSON Schema and Protobuf examples (the import resolves from
/// the sibling file).
#[test]
fn repository_examples() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = check(repo, &["--against", "schemas/avro", "schemas/avro", "--level", "FULL_TRANSITIVE"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("schemas/avro/user.avsc: compatible"), "{out}");
    let (code, out, err) = check(repo, &["--against", "schemas/json", "schemas/json", "--level", "FULL"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("schemas/json/user.json: compatible"), "{out}");
    let (code, out, err) = check(repo, &["--against", "schemas/protobuf", "schemas/protobuf", "--level", "FULL"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("schemas/protobuf/user.proto: compatible"), "{out}");
}

/// Online with a reference: the registry resolves `--reference` as a registration would.
#[test]
fn online_with_a_reference() {
    let server = Server::start();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let address = std::fs::read_to_string(repo.join("schemas/avro/address.avsc")).unwrap();
    let user = std::fs::read_to_string(repo.join("schemas/avro/user.avsc")).unwrap();
    server.register("address-value", &address);
    let reference = serde_json::json!([{ "name": "com.example.Address", "subject": "address-value", "version": 1 }]);
    let (status, body) =
        server.post("/subjects/users-value/versions", serde_json::json!({ "schema": user, "references": reference }));
    assert_eq!(status, 200, "{body}");

    let url = server.url("");
    let args = |extra: &[&'static str]| {
        let mut a = vec!["--registry", url.as_str(), "--subject", "users-value", "schemas/avro/user.avsc"];
        a.extend_from_slice(extra);
        a
    };
    let (code, out, err) = check(repo, &args(&["--reference", "com.example.Address=address-value:1"]));
    assert_eq!(code, 0, "{out}{err}");
    // Without the reference the registry cannot parse the schema: an error, not a verdict.
    let (code, out, err) = check(repo, &args(&[]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("HTTP 422") && err.contains("\"com.example.Address\" is not a defined name"), "{err}");
    // --level judges locally, reading the stored version's reference from the registry.
    let (code, out, err) = check(repo, &args(&["--level", "FULL_TRANSITIVE"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = check(repo, &args(&["--reference", "nonsense"]));
    assert_eq!(code, 2);
    assert!(err.contains("expected NAME=SUBJECT:VERSION"), "{err}");
}

//! Who may do what, against the real server with `--auth-file`: 401 and 403 in Confluent's
//! shape, permissions per subject and on `Config:`, listings that show only what the caller
//! may read, schema reads by id granted through a readable subject, open health probes,
//! bearer tokens (JWT against a JWKS file) whose roles count in the same rules, and an audit
//! line for every write. The auth file's users are made with `schemata passwd`.

use crate::common::*;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const EC_P256: &str = include_str!("../data/jwt/ec_p256.pem");
const ISSUER: &str = "https://idp.test/realms/schemata";
const AUDIENCE: &str = "schemata";

/// The auth file of these tests: an admin, a reader of `general.*`, and the role a token
/// of the test identity provider carries.
fn auth_file(dir: &std::path::Path) -> std::path::PathBuf {
    let file = json!({
        "users": [user("admin", "secret", "sha256"), user("reader", "pw", "sha512")],
        "permissions": [
            permission("admin", "Write", ".*"),
            permission("reader", "Read", r"Subject:general\..*"),
            permission("general-writers", "Write", r"Subject:general\..*"),
        ],
    });
    let path = dir.join("auth.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    path
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// A request with an `Authorization` header (or none).
fn call(s: &Server, auth: Option<&str>, method: &str, path: &str, body: Option<Value>) -> Resp {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    let body = body.map(|b| b.to_string());
    s.raw(method, path, body.as_deref(), Some(CT), &headers)
}

fn register(s: &Server, auth: &str, subject: &str, schema: &str) -> Resp {
    call(s, Some(auth), "POST", &format!("/subjects/{subject}/versions"), Some(json!({ "schema": schema })))
}

/// The `WWW-Authenticate` header of a request without credentials (which must be a 401).
fn challenge(s: &Server) -> String {
    let r = reqwest::blocking::get(s.url("/subjects")).unwrap();
    assert_eq!(r.status(), 401);
    r.headers()["www-authenticate"].to_str().unwrap().to_string()
}

fn record(name: &str) -> String {
    json!({"type": "record", "name": name, "fields": [{"name": "f", "type": "string"}]}).to_string()
}

struct Setup {
    server: Server,
    _dir: tempfile::TempDir,
    admin: String,
    reader: String,
}

fn start(extra: &[&str]) -> Setup {
    let dir = tempfile::TempDir::new().unwrap();
    let path = auth_file(dir.path());
    let mut args = vec!["--auth-file", path.to_str().unwrap()];
    args.extend(extra);
    // The audit lines are at info, the harness's servers log warnings only.
    let server = Server::start_with(&args, &[("RUST_LOG", "warn,schemata::audit=info")]);
    Setup { server, _dir: dir, admin: basic("admin", "secret"), reader: basic("reader", "pw") }
}

#[test]
fn no_or_wrong_credentials_get_the_same_401_and_probes_stay_open() {
    let Setup { server: s, admin, .. } = start(&[]);
    let unauthorized = json!({"error_code": 401, "message": "Unauthorized"});
    for auth in [None, Some(basic("admin", "wrong")), Some(basic("nobody", "secret")), Some("Basic !!".into())] {
        let r = call(&s, auth.as_deref(), "GET", "/subjects", None);
        assert_eq!((r.status, &r.json), (401, &unauthorized), "{auth:?}");
    }
    assert_eq!(challenge(&s), r#"Basic realm="schemata", charset="UTF-8""#);
    assert_eq!(call(&s, None, "GET", "/health/ready", None).status, 200);
    assert_eq!(call(&s, None, "GET", "/health/live", None).status, 200);
    assert_eq!(call(&s, None, "GET", "/metrics", None).status, 200);
    let metrics = call(&s, None, "GET", "/metrics", None).text;
    assert!(metrics.contains("schemata_auth_failures_total{reason=\"missing\"} 2"), "{metrics}");
    assert!(metrics.contains("schemata_auth_failures_total{reason=\"malformed\"} 1"), "{metrics}");
    assert!(metrics.contains("schemata_auth_failures_total{reason=\"bad_password\"} 2"), "{metrics}");
    assert_eq!(call(&s, Some(&admin), "GET", "/subjects", None).status, 200);
}

#[test]
fn a_reader_of_some_subjects_sees_and_reads_only_those() {
    let Setup { server: s, admin, reader, .. } = start(&[]);
    assert_eq!(register(&s, &admin, "general.x", &record("X")).status, 200);
    assert_eq!(register(&s, &admin, "other.y", &record("Y")).status, 200);
    assert_eq!(register(&s, &admin, ":.team:general.z", &record("Z")).status, 200);
    let id_x = call(&s, Some(&admin), "GET", "/subjects/general.x/versions/1", None).json["id"].as_u64().unwrap();
    let id_y = call(&s, Some(&admin), "GET", "/subjects/other.y/versions/1", None).json["id"].as_u64().unwrap();

    // Reads of what it may read.
    assert_eq!(call(&s, Some(&reader), "GET", "/subjects/general.x/versions", None).json, json!([1]));
    assert_eq!(call(&s, Some(&reader), "GET", &format!("/schemas/ids/{id_x}"), None).status, 200);
    let lookup = call(&s, Some(&reader), "POST", "/subjects/general.x", Some(json!({"schema": record("X")})));
    assert_eq!(lookup.status, 200, "{}", lookup.text);
    let check = call(
        &s,
        Some(&reader),
        "POST",
        "/compatibility/subjects/general.x/versions/latest",
        Some(json!({"schema": record("X")})),
    );
    assert_eq!(check.status, 200, "{}", check.text);

    // Listings show only it.
    assert_eq!(call(&s, Some(&reader), "GET", "/subjects", None).json, json!(["general.x"]));
    // Every context's subjects, as Confluent lists them.
    assert_eq!(
        call(&s, Some(&admin), "GET", "/subjects", None).json,
        json!([":.team:general.z", "general.x", "other.y"])
    );
    let schemas = call(&s, Some(&reader), "GET", "/schemas", None).json;
    let subjects: Vec<&str> = schemas.as_array().unwrap().iter().map(|e| e["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["general.x"]);
    assert_eq!(call(&s, Some(&reader), "GET", "/contexts", None).json, json!(["."]));
    assert_eq!(call(&s, Some(&admin), "GET", "/contexts", None).json, json!([".", ".team"]));
    assert_eq!(
        call(&s, Some(&reader), "GET", &format!("/schemas/ids/{id_x}/subjects"), None).json,
        json!(["general.x"])
    );

    // Everything else is refused, naming the operation and the resource.
    let denied = |r: Resp, message: &str| {
        assert_eq!((r.status, r.json), (403, json!({"error_code": 40301, "message": message})));
    };
    denied(
        register(&s, &reader, "general.x", &record("X2")),
        "User reader is denied operation Write on Subject:general.x",
    );
    denied(
        call(&s, Some(&reader), "GET", "/subjects/other.y/versions", None),
        "User reader is denied operation Read on Subject:other.y",
    );
    denied(
        call(&s, Some(&reader), "GET", &format!("/schemas/ids/{id_y}"), None),
        &format!("User reader is denied operation Read on the subjects of schema {id_y}"),
    );
    denied(
        call(&s, Some(&reader), "PUT", "/config", Some(json!({"compatibility": "NONE"}))),
        "User reader is denied operation Write on Config:",
    );
    denied(call(&s, Some(&reader), "GET", "/config", None), "User reader is denied operation Read on Config:");
    denied(
        call(&s, Some(&reader), "DELETE", "/subjects/general.x", None),
        "User reader is denied operation Write on Subject:general.x",
    );
    // A context's subject is named with its context.
    denied(
        call(&s, Some(&reader), "GET", "/contexts/.team/subjects/general.z/versions", None),
        "User reader is denied operation Read on Subject::.team:general.z",
    );
    let metrics = call(&s, None, "GET", "/metrics", None).text;
    assert!(metrics.contains("schemata_auth_denied_total 7"), "{metrics}");
    // An unknown id is still the handler's 404, not a 403.
    assert_eq!(call(&s, Some(&reader), "GET", "/schemas/ids/999", None).status, 404);
}

#[test]
fn writes_are_audited_with_their_principal_and_metrics_can_be_protected() {
    let Setup { server: s, admin, .. } = start(&["--metrics-auth"]);
    assert_eq!(register(&s, &admin, "general.x", &record("X")).status, 200);
    assert_eq!(call(&s, None, "GET", "/metrics", None).status, 401);
    assert_eq!(call(&s, Some(&admin), "GET", "/metrics", None).status, 200);
    assert_eq!(call(&s, None, "GET", "/health/ready", None).status, 200);
    let log = s.log();
    assert!(
        log.lines().any(|l| l.contains("schemata::audit")
            && l.contains("principal=admin")
            && l.contains("path=/subjects/general.x/versions")
            && l.contains("status=200")),
        "no audit line: {log}"
    );
    assert!(!log.contains("secret"), "a password in the log");
}

/// A token of the test identity provider, signed with the EC P-256 test key.
fn token(sub: &str, roles: &[&str], expires_in: i64) -> String {
    let claims = json!({
        "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "roles": roles,
        "exp": get_current_timestamp() as i64 + expires_in,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("test".into());
    let key = EncodingKey::from_ec_pem(EC_P256.as_bytes()).unwrap();
    format!("Bearer {}", encode(&header, &claims, &key).unwrap())
}

#[test]
fn bearer_tokens_are_checked_against_the_jwks_and_their_roles_grant_permissions() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut jwk =
        Jwk::from_encoding_key(&EncodingKey::from_ec_pem(EC_P256.as_bytes()).unwrap(), Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("test".into());
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({ "keys": [jwk] }).to_string()).unwrap();
    let auth = auth_file(dir.path());
    let s = Server::start_with(
        &[
            "--auth-file",
            auth.to_str().unwrap(),
            "--auth-jwks",
            jwks.to_str().unwrap(),
            "--auth-jwt-issuer",
            ISSUER,
            "--auth-jwt-audience",
            AUDIENCE,
            "--auth-jwt-roles-claim",
            "roles",
        ],
        &[],
    );
    let writer = token("ci-pipeline", &["general-writers"], 300);
    assert_eq!(register(&s, &writer, "general.t", &record("T")).status, 200);
    let r = register(&s, &writer, "other.t", &record("T"));
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json["message"], "User ci-pipeline is denied operation Write on Subject:other.t");
    // Expired, or without the role.
    assert_eq!(register(&s, &token("ci-pipeline", &["general-writers"], -120), "general.t", &record("U")).status, 401);
    assert_eq!(register(&s, &token("someone", &[], 300), "general.t", &record("U")).status, 403);
    assert_eq!(challenge(&s), r#"Basic realm="schemata", charset="UTF-8", Bearer realm="schemata""#);
    // Basic still works beside it.
    assert_eq!(call(&s, Some(&basic("admin", "secret")), "GET", "/subjects", None).json, json!(["general.t"]));
}

/// `--rate-limit`: each principal has its own bucket (one caller's burst does not slow
/// another), an empty bucket is a 429 in Confluent's error shape with `Retry-After`, probes
/// are never limited, and a bucket refills with time. Without authentication the caller is
/// the client's address.
#[test]
fn callers_over_their_rate_get_429_with_retry_after() {
    let Setup { server: s, admin, reader, _dir } = start(&["--rate-limit", "1", "--rate-limit-burst", "3"]);
    let get = |auth: &str| {
        reqwest::blocking::Client::new().get(s.url("/subjects")).header("Authorization", auth).send().unwrap()
    };
    for _ in 0..3 {
        assert_eq!(get(&admin).status(), 200);
    }
    let limited = get(&admin);
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().unwrap();
    assert_eq!(body["error_code"], 429);
    assert!(body["message"].as_str().unwrap().contains("retry after 1 seconds"), "{body}");
    assert_eq!(get(&reader).status(), 200, "the reader has a bucket of its own");
    for _ in 0..10 {
        assert_eq!(call(&s, None, "GET", "/health/ready", None).status, 200);
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(get(&admin).status(), 200, "a token is back after a second");

    let open = Server::start_with(&["--rate-limit", "50", "--rate-limit-burst", "2"], &[]);
    let statuses: Vec<u16> = (0..3).map(|_| open.get("/subjects").0).collect();
    assert_eq!(statuses, [200, 200, 429]);
    let log = s.log();
    assert!(!log.contains("panicked"), "{log}");
}

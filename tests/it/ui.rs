//! The web UI's files at `/ui` against the real server: the page and its modules with their
//! Content-Types, revalidation by ETag, 404 for an unknown file, with or without the trailing slash, and
//! open without credentials when authentication is on (the API behind them is not).

use std::process::{Command, Stdio};

use crate::common::*;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use serde_json::json;

fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().expect("client")
}

#[test]
fn serves_the_page_and_its_modules() {
    let s = Server::start();
    let c = client();
    let page = c.get(s.url("/ui/")).send().expect("GET /ui/");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let etag = page.headers()["etag"].to_str().expect("etag").to_string();
    let html = page.text().expect("body");
    assert!(html.contains(r#"<script type="module" src="/ui/app.mjs"></script>"#));
    // Without the slash too (the server ignores a trailing slash).
    let bare = c.get(s.url("/ui")).send().expect("GET /ui");
    assert_eq!(bare.status(), 200);
    assert_eq!(bare.text().expect("body"), html);

    for (file, content_type) in [
        ("app.mjs", "text/javascript; charset=utf-8"),
        ("diff.mjs", "text/javascript; charset=utf-8"),
        ("format.mjs", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
    ] {
        let r = c.get(s.url(&format!("/ui/{file}"))).send().expect("GET");
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(r.headers()["content-type"], content_type, "{file}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag, "{file}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{file}");
    }

    // A browser revalidating gets 304 without a body.
    let again = c.get(s.url("/ui/app.mjs")).header("If-None-Match", &etag).send().expect("GET");
    assert_eq!(again.status(), 304);
    assert_eq!(again.text().expect("body"), "");

    let missing = c.get(s.url("/ui/nope.js")).send().expect("GET");
    assert_eq!(missing.status(), 404);
    assert_eq!(c.post(s.url("/ui/")).send().expect("POST").status(), 405);
}

#[test]
fn the_page_is_open_and_its_data_is_not_with_authentication_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(binary())
        .args(["passwd", "--username", "admin", "--algorithm", "sha256", "--password", "secret"])
        .stderr(Stdio::inherit())
        .output()
        .expect("schemata passwd");
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).expect("user entry");
    let file = json!({"users": [user], "permissions": [{"username": "admin", "operation": "Write", "resource": ".*"}]});
    let path = dir.path().join("auth.json");
    std::fs::write(&path, file.to_string()).expect("write auth file");
    let s = Server::start_with(&["--auth-file", path.to_str().expect("utf-8 path")], &[]);
    let c = client();
    for file in ["/ui", "/ui/", "/ui/app.mjs", "/ui/style.css"] {
        assert_eq!(c.get(s.url(file)).send().expect("GET").status(), 200, "{file}");
    }
    assert_eq!(c.get(s.url("/ui/nope.js")).send().expect("GET").status(), 404);
    assert_eq!(c.get(s.url("/subjects")).send().expect("GET").status(), 401);
}

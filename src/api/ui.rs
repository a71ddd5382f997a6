//! The web UI at `/ui`: a page for people to browse subjects, read and diff versions and try
//! a change, served from the binary itself so that nothing else has to run. The files under
//! `ui/` are the sources and the shipped assets at once (no build step); they are embedded
//! here and call the registry's own REST API from the browser. They hold no data, so the
//! guard lets them through without credentials (`access.rs`); the API calls carry them.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::resource;

/// The embedded files: name, Content-Type, contents.
const FILES: [(&str, &str, &str); 5] = [
    ("index.html", "text/html; charset=utf-8", include_str!("../../ui/index.html")),
    ("style.css", "text/css; charset=utf-8", include_str!("../../ui/style.css")),
    ("app.mjs", "text/javascript; charset=utf-8", include_str!("../../ui/app.mjs")),
    ("diff.mjs", "text/javascript; charset=utf-8", include_str!("../../ui/diff.mjs")),
    ("format.mjs", "text/javascript; charset=utf-8", include_str!("../../ui/format.mjs")),
];

/// One ETag for all files: a hash of every file, so a new binary with other assets makes
/// browsers fetch them again, and an unchanged one answers 304.
fn etag() -> &'static str {
    static ETAG: OnceLock<String> = OnceLock::new();
    ETAG.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for (name, _, body) in FILES {
            hasher.update(name.as_bytes());
            hasher.update(body.as_bytes());
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    })
}

fn serve(req: &HttpRequest, name: &str) -> HttpResponse {
    let Some((_, content_type, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("Not found\n");
    };
    let tag = etag();
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut res = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, tag))
        // Revalidated on every load (a cheap 304): an upgraded server's page is seen at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        ));
    if matches {
        return res.finish();
    }
    res.content_type(*content_type).body(*body)
}

/// `/ui` (and `/ui/`: the server drops a trailing slash before routing). The page names its
/// files by absolute path, `/ui/app.mjs`, as it is served with or without the slash.
async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, "index.html")
}

async fn file(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    serve(&req, &name)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/ui").route(web::get().to(index))).service(resource("/ui/{file}").route(web::get().to(file)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_stay_small() {
        let size: usize = FILES.iter().map(|(_, _, body)| body.len()).sum();
        assert!(size < 300 * 1024, "the UI's assets are {size} bytes");
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        let mut imported = 0;
        for (_, _, text) in FILES {
            for rest in text.split("from './").skip(1) {
                let name = rest.split('\'').next().unwrap_or_default();
                assert!(FILES.iter().any(|(n, _, _)| *n == name), "{name} is imported but not embedded");
                imported += 1;
            }
        }
        assert_eq!(imported, 2, "app.mjs imports diff.mjs and format.mjs");
    }
}

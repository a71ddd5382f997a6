//! What each route needs of its caller, in the auth file's vocabulary (Karapace's `Read` and
//! `Write` on `Config:` or `Subject:<name>`), one table for every route so that no handler
//! can forget its check. Confluent's operations map onto it: SUBJECT_READ and the lookups and
//! compatibility checks of a subject are `Read` on it; SUBJECT_WRITE and SUBJECT_DELETE are
//! `Write`; SUBJECT_COMPATIBILITY_READ/WRITE (its config and mode) are `Read`/`Write` on the
//! subject; GLOBAL_COMPATIBILITY_READ/WRITE and the global mode are on `Config:`; SCHEMA_READ
//! (by id or GUID) is granted when the caller may read a subject that uses the schema; the
//! listings show only what the caller may read.

use actix_web::http::Method;

use crate::auth::Operation;
use crate::registry::contexts::{qualify, url_context, DEFAULT_CONTEXT};
use crate::registry::normalize_subject;

/// What a request needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: probes, the API description and the web UI's files (they hold no data; the
    /// API calls they make carry the caller's credentials).
    Open,
    /// Any authenticated caller (the root, schema types, `/v1/metadata`, unknown paths).
    Authenticated,
    /// The operation on `Config:` (global config and mode, or a context's).
    Config(Operation),
    /// The operation on the subject (qualified with its context).
    Subject(String, Operation),
    /// Read a schema by id: some subject using it must be readable.
    SchemaId(i64),
    /// Read a schema by GUID: likewise.
    SchemaGuid(String),
    /// A listing: authenticated; the handler shows only what the caller may read.
    Listing,
}

/// The needs of `method` on `path` (already normalized: no empty segments). `/metrics` is
/// `Open` unless `metrics_protected`.
pub fn needs(method: &Method, path: &str, metrics_protected: bool) -> Needs {
    use Operation::{Read, Write};
    let mut buffer = [""; 8];
    let mut len = 0;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if len == buffer.len() {
            return Needs::Authenticated;
        }
        buffer[len] = segment;
        len += 1;
    }
    let mut segments = &buffer[..len];
    let mut context = None;
    if let ["contexts", ctx, rest @ ..] = segments {
        if rest.is_empty() {
            return Needs::Authenticated;
        }
        context = Some(*ctx);
        segments = rest;
    }
    let write = *method != Method::GET && *method != Method::HEAD;
    let op = if write { Write } else { Read };
    let subject = |raw: &str| subject_name(context, raw);
    match segments {
        ["health", ..] | ["openapi.yaml"] | ["ui", ..] => Needs::Open,
        ["metrics"] if !metrics_protected => Needs::Open,
        ["contexts"] | ["subjects"] | ["schemas"] => Needs::Listing,
        ["schemas", "ids", _, "subjects" | "versions"] | ["schemas", "guids", _, "ids"] => Needs::Listing,
        ["schemas", "ids", id] | ["schemas", "ids", id, "schema"] => match id.parse() {
            Ok(id) => Needs::SchemaId(id),
            Err(_) => Needs::Authenticated,
        },
        ["schemas", "guids", guid] => Needs::SchemaGuid(guid.to_string()),
        // A lookup (POST /subjects/{s}) reads, as in Karapace.
        ["subjects", s] if *method == Method::POST => {
            subject(s).map_or(Needs::Authenticated, |s| Needs::Subject(s, Read))
        }
        ["subjects", s, ..] => subject(s).map_or(Needs::Authenticated, |s| Needs::Subject(s, op)),
        // Checks read the subject they check against.
        ["compatibility", "subjects", s, ..] => subject(s).map_or(Needs::Authenticated, |s| Needs::Subject(s, Read)),
        ["config" | "mode"] => Needs::Config(op),
        ["config" | "mode", s] => subject(s).map_or(Needs::Authenticated, |s| Needs::Subject(s, op)),
        _ => Needs::Authenticated,
    }
}

/// The subject a path segment names, in the URL's context, as the handlers resolve it; `None`
/// when it cannot be read (the handler then answers the error).
fn subject_name(context: Option<&str>, raw: &str) -> Option<String> {
    let name = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    let name = match context {
        None => name.into_owned(),
        Some(raw_ctx) => {
            let ctx = url_context(&percent_encoding::percent_decode_str(raw_ctx).decode_utf8_lossy()).ok()?;
            if ctx == DEFAULT_CONTEXT {
                name.into_owned()
            } else {
                qualify(&ctx, &name)
            }
        }
    };
    Some(normalize_subject(&name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::{Read, Write};

    fn n(method: Method, path: &str) -> Needs {
        needs(&method, path, false)
    }

    #[test]
    fn every_route_has_its_need() {
        let subject = |s: &str, op| Needs::Subject(s.to_string(), op);
        assert_eq!(n(Method::GET, "/health/ready"), Needs::Open);
        assert_eq!(n(Method::GET, "/metrics"), Needs::Open);
        assert_eq!(n(Method::GET, "/ui"), Needs::Open);
        assert_eq!(n(Method::GET, "/ui/app.mjs"), Needs::Open);
        assert_eq!(needs(&Method::GET, "/metrics", true), Needs::Authenticated);
        assert_eq!(n(Method::GET, "/subjects"), Needs::Listing);
        assert_eq!(n(Method::GET, "/schemas"), Needs::Listing);
        assert_eq!(n(Method::GET, "/schemas/ids/7/subjects"), Needs::Listing);
        assert_eq!(n(Method::GET, "/schemas/ids/7"), Needs::SchemaId(7));
        assert_eq!(n(Method::GET, "/schemas/ids/7/schema"), Needs::SchemaId(7));
        assert_eq!(n(Method::GET, "/schemas/types"), Needs::Authenticated);
        assert_eq!(n(Method::GET, "/subjects/a/versions/1"), subject("a", Read));
        assert_eq!(n(Method::POST, "/subjects/a/versions"), subject("a", Write));
        assert_eq!(n(Method::POST, "/subjects/a"), subject("a", Read));
        assert_eq!(n(Method::DELETE, "/subjects/a"), subject("a", Write));
        assert_eq!(n(Method::POST, "/compatibility/subjects/a/versions/latest"), subject("a", Read));
        assert_eq!(n(Method::GET, "/config"), Needs::Config(Read));
        assert_eq!(n(Method::PUT, "/mode"), Needs::Config(Write));
        assert_eq!(n(Method::PUT, "/config/a"), subject("a", Write));
        assert_eq!(n(Method::GET, "/mode/a"), subject("a", Read));
        // Encoded names and contexts resolve as the handlers resolve them.
        assert_eq!(n(Method::GET, "/subjects/a%2Fb/versions"), subject("a/b", Read));
        assert_eq!(n(Method::POST, "/contexts/.c/subjects/x/versions"), subject(":.c:x", Write));
        assert_eq!(n(Method::POST, "/contexts/./subjects/x/versions"), subject("x", Write));
        assert_eq!(n(Method::PUT, "/contexts/.c/config"), Needs::Config(Write));
        assert_eq!(n(Method::GET, "/contexts"), Needs::Listing);
        assert_eq!(n(Method::GET, "/nowhere"), Needs::Authenticated);
    }
}

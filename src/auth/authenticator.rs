//! Who is calling: the one place that turns a request's credentials into a `Principal` and
//! answers whether that principal may do something. Three ways in, tried in this order:
//! an `Authorization: Basic` header checked against the auth file (with a cache, since a
//! password hash takes milliseconds to verify by design), an `Authorization: Bearer` JWT
//! (when a JWKS is configured; its roles count as further names in the same rules), and the
//! CN of a TLS client certificate (mTLS). Permissions always come from the auth file.

use std::sync::Arc;

use base64::Engine;

use super::jwt::JwtVerifier;
use super::{AuthFile, CredentialCache, Operation, Resource};

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    /// Further names the permissions are looked up under (a token's roles).
    pub roles: Vec<String>,
}

/// Why authentication failed; the HTTP answer is the same 401 for all (no hint whether a
/// user exists), the kind goes to the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No credentials at all.
    Missing,
    /// An `Authorization` header that is neither well-formed Basic (base64 of `user:password`)
    /// nor Bearer.
    Malformed,
    /// A wrong user or password.
    BadPassword,
    /// A bearer token that did not verify, or bearer tokens not configured.
    BadToken(String),
}

impl Failure {
    /// The metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Missing => "missing",
            Failure::Malformed => "malformed",
            Failure::BadPassword => "bad_password",
            Failure::BadToken(_) => "bad_token",
        }
    }
}

pub struct Authenticator {
    file: AuthFile,
    cache: CredentialCache,
    jwt: Option<JwtVerifier>,
}

impl Authenticator {
    pub fn new(file: AuthFile, jwt: Option<JwtVerifier>) -> Arc<Authenticator> {
        Arc::new(Authenticator { file, cache: CredentialCache::new(), jwt })
    }

    /// The principal a Basic header authenticated recently (no hash to verify), if any.
    pub fn cached(&self, authorization: Option<&[u8]>) -> Option<Principal> {
        let header = authorization.filter(|h| starts_with_ignore_case(h, b"basic "))?;
        let (generation, _) = self.file.current();
        let name = self.cache.get(header, generation)?;
        Some(Principal { name, roles: Vec::new() })
    }

    /// Authenticates a request from its `Authorization` header or, without one, its TLS
    /// client certificate's CN. May take milliseconds (a password hash): call it off the
    /// async workers.
    pub fn authenticate(&self, authorization: Option<&[u8]>, certificate: Option<&str>) -> Result<Principal, Failure> {
        let Some(header) = authorization else {
            return match certificate {
                Some(cn) => Ok(Principal { name: cn.to_string(), roles: Vec::new() }),
                None => Err(Failure::Missing),
            };
        };
        if starts_with_ignore_case(header, b"basic ") {
            let (user, password) = basic(&header[6..]).ok_or(Failure::Malformed)?;
            let (generation, rules) = self.file.current();
            if !rules.verify_password(&user, &password) {
                return Err(Failure::BadPassword);
            }
            self.cache.insert(header, generation, &user);
            return Ok(Principal { name: user, roles: Vec::new() });
        }
        if starts_with_ignore_case(header, b"bearer ") {
            let Some(jwt) = &self.jwt else {
                return Err(Failure::BadToken("bearer tokens are not accepted here".into()));
            };
            let token = std::str::from_utf8(&header[7..]).map_err(|_| Failure::Malformed)?.trim();
            let claims = jwt.verify(token).map_err(|e| Failure::BadToken(e.to_string()))?;
            return Ok(Principal { name: claims.username, roles: claims.roles });
        }
        Err(Failure::Malformed)
    }

    /// Whether the principal, under its name or one of its roles, may do `operation` on
    /// `resource`.
    pub fn allows(&self, principal: &Principal, operation: Operation, resource: &Resource) -> bool {
        let (_, rules) = self.file.current();
        std::iter::once(&principal.name).chain(&principal.roles).any(|name| rules.allows(name, operation, resource))
    }

    /// The `WWW-Authenticate` value of a 401.
    pub fn challenge(&self) -> String {
        match self.jwt {
            Some(_) => r#"Basic realm="schemata", charset="UTF-8", Bearer realm="schemata""#.to_string(),
            None => r#"Basic realm="schemata", charset="UTF-8""#.to_string(),
        }
    }
}

fn starts_with_ignore_case(header: &[u8], prefix: &[u8]) -> bool {
    header.len() >= prefix.len() && header[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// `user:password` from the base64 of a Basic header.
fn basic(encoded: &[u8]) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii()).ok()?;
    // UTF-8, as the challenge asks (Confluent's clients send it); else Latin-1, as `requests`
    // and curl send non-ASCII bytes and Karapace (aiohttp) reads them.
    let text = String::from_utf8(decoded).unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect());
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

//! Bearer-token authentication: an OIDC access token (a JWT) is checked against the signing
//! keys its identity provider publishes as a JWKS, the way Karapace's OIDC support does, and
//! becomes a username and roles for the permission checks.
//!
//! The HTTP layer extracts the token from `Authorization: Bearer …` and calls
//! [`JwtVerifier::verify`]; a [`JwtError`] is the body of its 401. Nothing here knows about
//! requests, so the rules are tested without a server.
//!
//! Rules that callers rely on:
//! - `exp`, `iss` and `aud` are required; `nbf` is honoured; clock skew up to `leeway_secs`.
//! - The key is chosen by the token's `kid`; a token without one is accepted only when the
//!   key set holds a single usable key.
//! - A key verifies only the algorithms of its own type (and only its JWK `alg` when it names
//!   one); HMAC and `none` are never accepted, so no algorithm confusion is possible. Symmetric
//!   and encryption keys in the JWKS are ignored.
//! - Keys follow rotation: a file is re-read when its mtime changes (looked at, at most every
//!   2 s, by `verify`); a URL is re-fetched every 5 minutes in the background and, at most
//!   once per 30 s, when a token names an unknown `kid`. A failed reload keeps the keys in
//!   use and is logged.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use serde_json::{Map, Value};

/// More skew than this is a broken clock, not a setting; it also keeps `now - leeway` sane.
const MAX_LEEWAY_SECS: u64 = 3600;
/// RFC 7518 §3.3: RSA keys of 2048 bits or more.
const MIN_RSA_BITS: usize = 2048;
/// A JWKS is a few kilobytes; the cap keeps a misbehaving endpoint from filling memory.
const MAX_JWKS_BYTES: u64 = 1 << 20;
/// A fetch on the request path (unknown `kid`) stalls that request for at most this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the identity provider's public keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS document on disk, e.g. mounted from a secret; re-read when it changes.
    File(PathBuf),
    /// The provider's `jwks_uri`. Must be `https://`, except on a loopback host, since whoever
    /// can change the keys in transit can forge tokens.
    Url(String),
}

impl fmt::Display for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksSource::File(path) => write!(f, "{}", path.display()),
            JwksSource::Url(url) => f.write_str(url),
        }
    }
}

/// What a token must satisfy and where its identity is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    pub jwks: JwksSource,
    /// The one accepted `iss`, compared exactly (OIDC issuers are URLs, trailing slash included).
    pub issuer: String,
    /// Accepted when `aud` is this string or an array containing it.
    pub audience: String,
    /// The claim holding the username; `sub` unless the provider's `sub` is an opaque id.
    pub username_claim: String,
    /// The claim holding the roles: a name, or a dotted path into nested objects such as
    /// Keycloak's `realm_access.roles`. `None`: tokens carry no roles.
    pub roles_claim: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`, at most an hour.
    pub leeway_secs: u64,
}

impl JwtSettings {
    /// Settings with the usual defaults: username from `sub`, no roles, 30 s of leeway
    /// (Karapace's default).
    pub fn new(jwks: JwksSource, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        JwtSettings {
            jwks,
            issuer: issuer.into(),
            audience: audience.into(),
            username_claim: "sub".to_string(),
            roles_claim: None,
            leeway_secs: 30,
        }
    }
}

/// The identity a valid token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub username: String,
    /// Empty when no roles claim is configured or the token has none; a claim that is a string
    /// counts as space-separated roles (as OAuth's `scope`).
    pub roles: Vec<String>,
    /// The token's `exp`, so a caller may cache the result until then.
    pub expires: SystemTime,
}

/// Why a token was refused. The messages are meant for the 401 body: they name the failed
/// check and never a key or a claim's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    #[error("the token's signing key is not known")]
    UnknownKey,
    #[error("the token names no signing key ('kid') and several keys are known")]
    AmbiguousKey,
    #[error("the token's signing algorithm does not match its key")]
    AlgorithmMismatch,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token is not meant for this service (audience)")]
    WrongAudience,
    #[error("the token lacks the required '{0}' claim")]
    MissingClaim(String),
    #[error("the token's '{0}' claim is malformed")]
    InvalidClaim(String),
    #[error("the token is not valid")]
    Invalid,
}

/// Checks bearer tokens; cheap to clone and share between workers.
///
/// `verify` usually takes microseconds, but it may block: it reads a changed JWKS file, and
/// on an unknown `kid` it may fetch the JWKS URL (at most once per 30 s, at most 10 s).
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("jwks", &self.inner.settings.jwks)
            .field("issuer", &self.inner.settings.issuer)
            .field("audience", &self.inner.settings.audience)
            .field("keys", &self.inner.keys.read().keys.len())
            .finish()
    }
}

/// How often keys are looked for; tests shorten or lengthen them.
#[derive(Debug, Clone, Copy)]
struct Intervals {
    /// Between two looks at the JWKS file's mtime.
    file_check: Duration,
    /// Between two background fetches of the JWKS URL.
    url_refresh: Duration,
    /// The least time between two fetches of the URL, for an unknown `kid` or after a failure.
    kid_refetch: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            file_check: Duration::from_secs(2),
            url_refresh: Duration::from_secs(300),
            kid_refetch: Duration::from_secs(30),
        }
    }
}

struct Inner {
    settings: JwtSettings,
    intervals: Intervals,
    /// Swapped whole on reload, so a `verify` in flight keeps a consistent set.
    keys: RwLock<Arc<KeySet>>,
    /// Held while the source is read, so one thread reloads and the others carry on.
    reload: Mutex<ReloadState>,
    /// `Some` for a URL source.
    agent: Option<ureq::Agent>,
}

struct ReloadState {
    /// When `verify` next looks at the file, or starts a background fetch of the URL.
    next_check: Instant,
    /// The last fetch of the URL, whatever its outcome.
    last_fetch: Option<Instant>,
    /// The file's mtime and length when last looked at; `None` after it could not be read.
    file_stamp: Option<FileStamp>,
}

type FileStamp = (SystemTime, u64);

struct KeySet {
    keys: Vec<KeyEntry>,
}

struct KeyEntry {
    kid: Option<String>,
    /// The algorithms this key may verify: its JWK `alg`, or every one of its key type.
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

impl JwtVerifier {
    /// Checks the settings and loads the keys: a verifier that would refuse every token is an
    /// error at startup, not at the first request.
    pub fn new(settings: JwtSettings) -> Result<JwtVerifier, String> {
        Self::with_intervals(settings, Intervals::default())
    }

    fn with_intervals(settings: JwtSettings, intervals: Intervals) -> Result<JwtVerifier, String> {
        check_settings(&settings)?;
        if CryptoProvider::try_get_default().is_none() {
            return Err("no JWT crypto backend: enable exactly one of jsonwebtoken's `rust_crypto` \
                        and `aws_lc_rs` features"
                .to_string());
        }
        let agent = match &settings.jwks {
            JwksSource::Url(_) => {
                Some(ureq::Agent::from(ureq::Agent::config_builder().timeout_global(Some(FETCH_TIMEOUT)).build()))
            }
            JwksSource::File(_) => None,
        };
        let now = Instant::now();
        let (keys, file_stamp) = match &settings.jwks {
            JwksSource::File(path) => {
                // The stamp is taken before reading: a change racing the read is seen next time.
                let stamp = file_stamp(path).map_err(|e| format!("the JWKS file {}: {e}", path.display()))?;
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("reading the JWKS file {}: {e}", path.display()))?;
                (parse_jwks(&text).map_err(|e| format!("the JWKS file {}: {e}", path.display()))?, Some(stamp))
            }
            JwksSource::Url(url) => {
                let text = fetch(agent.as_ref().expect("a URL source has an agent"), url)?;
                (parse_jwks(&text).map_err(|e| format!("the JWKS at {url}: {e}"))?, None)
            }
        };
        let next_check = now
            + match settings.jwks {
                JwksSource::File(_) => intervals.file_check,
                JwksSource::Url(_) => intervals.url_refresh,
            };
        let last_fetch = agent.as_ref().map(|_| now);
        tracing::info!("JWT verification: {} signing keys from {}", keys.keys.len(), settings.jwks);
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                settings,
                intervals,
                keys: RwLock::new(Arc::new(keys)),
                reload: Mutex::new(ReloadState { next_check, last_fetch, file_stamp }),
                agent,
            }),
        })
    }

    /// Checks a bearer token (without the `Bearer ` prefix) and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        let header = parse_header(token)?;
        self.poll_reload();
        let mut keys = self.inner.current_keys();
        let entry = match keys.select(&header) {
            Err(JwtError::UnknownKey) => {
                let kid = header.kid.as_deref().unwrap_or_default();
                self.inner.refetch_for_kid(kid);
                keys = self.inner.current_keys();
                keys.select(&header)?
            }
            other => other?,
        };
        self.inner.check(token, header.alg, entry)
    }

    /// Looks for new keys when it is time: the file inline (a stat, and a read if it
    /// changed), the URL in a background thread so no request waits for it.
    fn poll_reload(&self) {
        let Some(mut state) = self.inner.reload.try_lock() else {
            return; // another thread is reloading
        };
        let now = Instant::now();
        if now < state.next_check {
            return;
        }
        match &self.inner.settings.jwks {
            JwksSource::File(_) => {
                state.next_check = now + self.inner.intervals.file_check;
                self.inner.check_file(&mut state);
            }
            JwksSource::Url(_) => {
                state.next_check = now + self.inner.intervals.url_refresh;
                drop(state);
                let inner = Arc::clone(&self.inner);
                let spawned = std::thread::Builder::new().name("jwks-refresh".into()).spawn(move || {
                    let mut state = inner.reload.lock();
                    inner.fetch_url(&mut state);
                });
                if let Err(e) = spawned {
                    tracing::warn!("could not start the JWKS refresh: {e}");
                }
            }
        }
    }
}

impl Inner {
    fn current_keys(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read())
    }

    fn install(&self, keys: KeySet) {
        tracing::info!("JWKS reloaded from {}: {} signing keys", self.settings.jwks, keys.keys.len());
        *self.keys.write() = Arc::new(keys);
    }

    /// Re-reads the file if its mtime or length changed. A failure is logged once per change,
    /// not at every look.
    fn check_file(&self, state: &mut ReloadState) {
        let JwksSource::File(path) = &self.settings.jwks else { return };
        let stamp = match file_stamp(path) {
            Ok(stamp) => stamp,
            Err(e) => {
                if state.file_stamp.take().is_some() {
                    tracing::warn!("the JWKS file {}: {e}; keeping the keys in use", path.display());
                }
                return;
            }
        };
        if state.file_stamp == Some(stamp) {
            return;
        }
        state.file_stamp = Some(stamp);
        let loaded = std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|text| parse_jwks(&text));
        match loaded {
            Ok(keys) => self.install(keys),
            Err(e) => tracing::warn!("reloading the JWKS file {}: {e}; keeping the keys in use", path.display()),
        }
    }

    /// Fetches the URL and installs its keys; on failure, keeps the keys in use and tries
    /// again after `kid_refetch` rather than a whole refresh interval.
    fn fetch_url(&self, state: &mut ReloadState) {
        let (JwksSource::Url(url), Some(agent)) = (&self.settings.jwks, &self.agent) else { return };
        let now = Instant::now();
        state.last_fetch = Some(now);
        let fetched = fetch(agent, url).and_then(|text| parse_jwks(&text));
        match fetched {
            Ok(keys) => {
                state.next_check = now + self.intervals.url_refresh;
                self.install(keys);
            }
            Err(e) => {
                state.next_check = now + self.intervals.kid_refetch.min(self.intervals.url_refresh);
                tracing::warn!("reloading the JWKS from {url}: {e}; keeping the keys in use");
            }
        }
    }

    /// A token named a `kid` we lack: the provider may have rotated its keys. Fetches the
    /// URL unless it was fetched within `kid_refetch`, so made-up `kid`s cannot flood it.
    fn refetch_for_kid(&self, kid: &str) {
        if self.agent.is_none() {
            return; // a file is looked at by `poll_reload` anyway
        }
        let mut state = self.reload.lock();
        // Another thread may have fetched it while this one waited for the lock.
        if self.current_keys().keys.iter().any(|k| k.kid.as_deref() == Some(kid)) {
            return;
        }
        if state.last_fetch.is_some_and(|t| t.elapsed() < self.intervals.kid_refetch) {
            return;
        }
        self.fetch_url(&mut state);
    }

    /// Signature and claims: the signature first, so a forged token learns nothing about
    /// which claims would have passed.
    fn check(&self, token: &str, alg: Algorithm, entry: &KeyEntry) -> Result<Claims, JwtError> {
        let settings = &self.settings;
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = settings.leeway_secs;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &entry.key, &validation).map_err(map_error)?;
        let claims = data.claims;

        // jsonwebtoken takes an array `iss` containing ours; OIDC says it is one string.
        if !claims.get("iss").is_some_and(Value::is_string) {
            return Err(JwtError::InvalidClaim("iss".into()));
        }
        let exp = claims.get("exp").and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)));
        let expires = UNIX_EPOCH + Duration::from_secs(exp.ok_or_else(|| JwtError::InvalidClaim("exp".into()))?);
        let username = match lookup(&claims, &settings.username_claim) {
            None | Some(Value::Null) => return Err(JwtError::MissingClaim(settings.username_claim.clone())),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(JwtError::InvalidClaim(settings.username_claim.clone())),
        };
        let roles = match &settings.roles_claim {
            Some(name) => roles(lookup(&claims, name)),
            None => Vec::new(),
        };
        Ok(Claims { username, roles, expires })
    }
}

impl KeySet {
    /// The key for a token: by `kid`, or the only key when the token names none.
    fn select(&self, header: &Header) -> Result<&KeyEntry, JwtError> {
        match &header.kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid.as_str())).peekable();
                if named.peek().is_none() {
                    return Err(JwtError::UnknownKey);
                }
                // A `kid` shared by keys of different types: the one for the token's algorithm.
                named.find(|k| k.algorithms.contains(&header.alg)).ok_or(JwtError::AlgorithmMismatch)
            }
            None => match self.keys.as_slice() {
                [only] if only.algorithms.contains(&header.alg) => Ok(only),
                [_] => Err(JwtError::AlgorithmMismatch),
                _ => Err(JwtError::AmbiguousKey),
            },
        }
    }
}

fn check_settings(settings: &JwtSettings) -> Result<(), String> {
    if settings.issuer.trim().is_empty() {
        return Err("the JWT issuer must not be empty".into());
    }
    if settings.audience.trim().is_empty() {
        return Err("the JWT audience must not be empty".into());
    }
    if settings.username_claim.trim().is_empty() {
        return Err("the JWT username claim must not be empty".into());
    }
    if settings.roles_claim.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err("the JWT roles claim must not be empty (leave it unset for no roles)".into());
    }
    if settings.leeway_secs > MAX_LEEWAY_SECS {
        return Err(format!("the JWT leeway must be at most {MAX_LEEWAY_SECS} s, not {}", settings.leeway_secs));
    }
    if let JwksSource::Url(url) = &settings.jwks {
        check_url(url)?;
    }
    Ok(())
}

/// Plain HTTP would let anyone on the path swap the keys and forge tokens; it is allowed
/// only to the same machine (a sidecar, a test).
fn check_url(url: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = url.parse().map_err(|e| format!("the JWKS URL {url:?}: {e}"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => Err(format!("the JWKS URL {url} must use https:// (plain http only to a loopback host)")),
        _ => Err(format!("the JWKS URL {url:?} is not an https:// URL")),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn file_stamp(path: &std::path::Path) -> std::io::Result<FileStamp> {
    let meta = std::fs::metadata(path)?;
    Ok((meta.modified()?, meta.len()))
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<String, String> {
    let fetched = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .and_then(|mut response| response.body_mut().with_config().limit(MAX_JWKS_BYTES).read_to_string());
    fetched.map_err(|e| format!("fetching the JWKS from {url}: {e}"))
}

/// The keys of a JWKS document that can verify token signatures. Keys for other uses
/// (Keycloak publishes an encryption key beside its signing key) are skipped, not errors;
/// a set with no usable key is an error, so a half-written file never replaces good keys.
fn parse_jwks(text: &str) -> Result<KeySet, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(raw_keys) = doc.get("keys").and_then(Value::as_array) else {
        return Err("not a JWKS: no \"keys\" array".into());
    };
    let mut keys = Vec::new();
    for (i, raw) in raw_keys.iter().enumerate() {
        match usable_key(raw) {
            Ok(key) => keys.push(key),
            Err(why) => {
                let kid = raw.get("kid").and_then(Value::as_str).unwrap_or("-");
                tracing::debug!("JWKS key #{i} (kid {kid}) skipped: {why}");
            }
        }
    }
    if keys.is_empty() {
        return Err(format!("none of its {} keys can verify token signatures", raw_keys.len()));
    }
    Ok(KeySet { keys })
}

fn usable_key(raw: &Value) -> Result<KeyEntry, String> {
    let jwk: Jwk = serde_json::from_value(raw.clone()).map_err(|e| format!("not a JWK: {e}"))?;
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
        return Err("not a signing key ('use')".into());
    }
    if jwk.common.key_operations.as_ref().is_some_and(|ops| !ops.contains(&KeyOperations::Verify)) {
        return Err("not a verification key ('key_ops')".into());
    }
    let of_type: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let n = URL_SAFE_NO_PAD.decode(&rsa.n).map_err(|_| "its modulus is not base64url")?;
            let bits = significant_bits(&n);
            if bits < MIN_RSA_BITS {
                return Err(format!("an RSA key of {bits} bits; {MIN_RSA_BITS} at least"));
            }
            AlgorithmFamily::Rsa.algorithms()
        }
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return Err(format!("unsupported curve {:?}", ec.curve)),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => &[Algorithm::EdDSA],
            _ => return Err(format!("unsupported curve {:?}", okp.curve)),
        },
        // A shared secret has no place in a published key set, and would admit HS* tokens.
        AlgorithmParameters::OctetKey(_) => return Err("a symmetric key".into()),
        _ => return Err("an unsupported key type".into()),
    };
    let algorithms = match jwk.common.key_algorithm {
        None => of_type.to_vec(),
        Some(named) => match Algorithm::try_from(named) {
            Ok(alg) if of_type.contains(&alg) => vec![alg],
            _ => return Err(format!("its 'alg' {named} is not a signature algorithm of its key type")),
        },
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("an unusable key: {e}"))?;
    // Building a verifier parses the key (an EC point off its curve fails here), so a bad
    // key is skipped at load instead of failing every token it would check.
    let provider = CryptoProvider::try_get_default().ok_or("no JWT crypto backend")?;
    for alg in &algorithms {
        (provider.verifier_factory)(alg, &key).map_err(|e| format!("an unusable key: {e}"))?;
    }
    Ok(KeyEntry { kid: jwk.common.key_id, algorithms, key })
}

fn significant_bits(big_endian: &[u8]) -> usize {
    let digits: &[u8] = match big_endian.iter().position(|b| *b != 0) {
        Some(first) => &big_endian[first..],
        None => return 0,
    };
    digits.len() * 8 - digits[0].leading_zeros() as usize
}

/// The header fields the key choice needs, read before the signature is checked.
struct Header {
    alg: Algorithm,
    kid: Option<String>,
}

fn parse_header(token: &str) -> Result<Header, JwtError> {
    #[derive(Deserialize)]
    struct Raw {
        alg: String,
        #[serde(default)]
        kid: Option<String>,
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let json = URL_SAFE_NO_PAD.decode(header).map_err(|_| JwtError::Malformed)?;
    let raw: Raw = serde_json::from_slice(&json).map_err(|_| JwtError::Malformed)?;
    // `none` and unknown names fail to parse; HMAC would need a shared secret we never hold.
    let alg: Algorithm = raw.alg.parse().map_err(|_| JwtError::UnsupportedAlgorithm)?;
    if alg.family() == AlgorithmFamily::Hmac {
        return Err(JwtError::UnsupportedAlgorithm);
    }
    Ok(Header { alg, kid: raw.kid })
}

fn map_error(e: jsonwebtoken::errors::Error) -> JwtError {
    match e.into_kind() {
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => JwtError::Malformed,
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => JwtError::MissingClaim(claim),
        ErrorKind::InvalidClaimFormat(claim) => JwtError::InvalidClaim(claim),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => JwtError::AlgorithmMismatch,
        ErrorKind::UnsupportedAlgorithm | ErrorKind::InvalidAlgorithmName => JwtError::UnsupportedAlgorithm,
        other => {
            tracing::debug!("JWT rejected: {other:?}");
            JwtError::Invalid
        }
    }
}

/// A claim by name, or else by dotted path: namespaced claims such as
/// `https://example.com/roles` contain dots and are found whole first.
fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut path = name.split('.');
    let mut value = claims.get(path.next()?)?;
    for part in path {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// Roles from an array of strings, or a space-separated string; anything else grants none.
fn roles(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

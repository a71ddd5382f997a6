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
    #[error("the token's audience is not accepted")]
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
            // An https URL is never redirected to plain http.
            JwksSource::Url(url) => Some(ureq::Agent::from(
                ureq::Agent::config_builder()
                    .timeout_global(Some(FETCH_TIMEOUT))
                    .https_only(url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")))
                    .build(),
            )),
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
        let entry = match (keys.select(&header), &header.kid) {
            (Err(JwtError::UnknownKey), Some(kid)) => {
                self.inner.refetch_for_kid(kid);
                keys = self.inner.current_keys();
                keys.select(&header)?
            }
            (selected, _) => selected?,
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

    /// Logs at info only when the key ids changed: a URL is re-fetched every 5 minutes.
    fn install(&self, keys: KeySet) {
        let kids = |set: &KeySet| set.keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>();
        let mut current = self.keys.write();
        if kids(&current) == kids(&keys) {
            tracing::debug!("JWKS reloaded from {}: the same {} signing keys", self.settings.jwks, keys.keys.len());
        } else {
            tracing::info!("JWKS reloaded from {}: {} signing keys", self.settings.jwks, keys.keys.len());
        }
        *current = Arc::new(keys);
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use jsonwebtoken::{encode, get_current_timestamp, EncodingKey};
    use serde_json::json;

    use super::*;

    const RSA_A: &str = include_str!("../../tests/data/jwt/rsa_a.pem");
    const RSA_B: &str = include_str!("../../tests/data/jwt/rsa_b.pem");
    const EC_P256: &str = include_str!("../../tests/data/jwt/ec_p256.pem");
    const EC_P384: &str = include_str!("../../tests/data/jwt/ec_p384.pem");
    const ED25519: &str = include_str!("../../tests/data/jwt/ed25519.pem");

    const ISSUER: &str = "https://idp.test/realms/schemata";
    const AUDIENCE: &str = "schemata";

    fn encoding_key(pem: &str, alg: Algorithm) -> EncodingKey {
        match alg.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem.as_bytes()),
            AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem.as_bytes()),
            AlgorithmFamily::Ed => EncodingKey::from_ed_pem(pem.as_bytes()),
            AlgorithmFamily::Hmac => EncodingKey::from_secret(pem.as_bytes()),
        }
        .unwrap()
    }

    /// The public JWK of a test key, as a provider publishes it (no `alg` unless given).
    fn jwk(pem: &str, alg: Algorithm, kid: Option<&str>) -> Value {
        let mut jwk = Jwk::from_encoding_key(&encoding_key(pem, alg), alg).unwrap();
        jwk.common.key_algorithm = None;
        jwk.common.key_id = kid.map(str::to_string);
        serde_json::to_value(jwk).unwrap()
    }

    fn jwks(keys: &[Value]) -> String {
        json!({ "keys": keys }).to_string()
    }

    /// RSA, both EC curves and Ed25519, each with its kid.
    fn all_keys() -> String {
        jwks(&[
            jwk(RSA_A, Algorithm::RS256, Some("rsa-a")),
            jwk(EC_P256, Algorithm::ES256, Some("ec-256")),
            jwk(EC_P384, Algorithm::ES384, Some("ec-384")),
            jwk(ED25519, Algorithm::EdDSA, Some("ed")),
        ])
    }

    fn sign(pem: &str, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = kid.map(str::to_string);
        encode(&header, claims, &encoding_key(pem, alg)).unwrap()
    }

    fn now() -> u64 {
        get_current_timestamp()
    }

    fn claims() -> Value {
        json!({
            "sub": "ada", "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "exp": now() + 600,
            "roles": ["reader", "writer"],
        })
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims.as_object_mut().unwrap().remove(name);
        claims
    }

    fn b64(json: &Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    /// A JWKS file in a temporary directory and a verifier reading it.
    struct FileFixture {
        _dir: tempfile::TempDir,
        path: PathBuf,
        verifier: JwtVerifier,
        writes: u64,
    }

    impl FileFixture {
        fn new(keys: &str, configure: impl FnOnce(&mut JwtSettings), intervals: Intervals) -> FileFixture {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("jwks.json");
            std::fs::write(&path, keys).unwrap();
            let mut settings = JwtSettings::new(JwksSource::File(path.clone()), ISSUER, AUDIENCE);
            settings.roles_claim = Some("roles".into());
            configure(&mut settings);
            let verifier = JwtVerifier::with_intervals(settings, intervals).unwrap();
            FileFixture { _dir: dir, path, verifier, writes: 0 }
        }

        /// Rewrites the file with a new mtime, as a secret mount or an operator would.
        fn rewrite(&mut self, keys: &str) {
            self.writes += 1;
            std::fs::write(&self.path, keys).unwrap();
            let file = std::fs::File::options().write(true).open(&self.path).unwrap();
            file.set_modified(SystemTime::now() + Duration::from_secs(self.writes)).unwrap();
        }
    }

    fn verifier(keys: &str) -> JwtVerifier {
        verifier_with(keys, |_| {})
    }

    fn verifier_with(keys: &str, configure: impl FnOnce(&mut JwtSettings)) -> JwtVerifier {
        FileFixture::new(keys, configure, Intervals::default()).verifier
    }

    fn every_check() -> Intervals {
        Intervals { file_check: Duration::ZERO, ..Intervals::default() }
    }

    #[test]
    fn a_valid_token_gives_the_username_roles_and_expiry() {
        let claims = claims();
        let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &claims);
        let got = verifier(&all_keys()).verify(&token).unwrap();
        assert_eq!(got.username, "ada");
        assert_eq!(got.roles, ["reader", "writer"]);
        assert_eq!(got.expires, UNIX_EPOCH + Duration::from_secs(claims["exp"].as_u64().unwrap()));
    }

    #[test]
    fn every_asymmetric_algorithm_of_the_key_type_is_accepted() {
        let v = verifier(&all_keys());
        let cases = [
            (RSA_A, Algorithm::RS256, "rsa-a"),
            (RSA_A, Algorithm::RS384, "rsa-a"),
            (RSA_A, Algorithm::RS512, "rsa-a"),
            (RSA_A, Algorithm::PS256, "rsa-a"),
            (RSA_A, Algorithm::PS384, "rsa-a"),
            (RSA_A, Algorithm::PS512, "rsa-a"),
            (EC_P256, Algorithm::ES256, "ec-256"),
            (EC_P384, Algorithm::ES384, "ec-384"),
            (ED25519, Algorithm::EdDSA, "ed"),
        ];
        for (pem, alg, kid) in cases {
            let token = sign(pem, alg, Some(kid), &claims());
            assert_eq!(v.verify(&token).map(|c| c.username), Ok("ada".to_string()), "{alg:?}");
        }
    }

    #[test]
    fn roles_come_from_a_nested_path_or_a_namespaced_claim() {
        let nested = with(claims(), "realm_access", json!({ "roles": ["admin"] }));
        let v = verifier_with(&all_keys(), |s| s.roles_claim = Some("realm_access.roles".into()));
        let got = v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &nested)).unwrap();
        assert_eq!(got.roles, ["admin"]);

        // A claim whose name holds dots is found whole before the path is followed.
        let namespaced = with(claims(), "https://schemata.test/roles", json!(["auditor"]));
        let v = verifier_with(&all_keys(), |s| s.roles_claim = Some("https://schemata.test/roles".into()));
        let got = v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &namespaced)).unwrap();
        assert_eq!(got.roles, ["auditor"]);
    }

    #[test]
    fn roles_as_a_scope_string_absent_or_of_another_type() {
        let v = verifier_with(&all_keys(), |s| s.roles_claim = Some("scope".into()));
        let scoped = with(claims(), "scope", json!("schema:read  schema:write"));
        let got = v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &scoped)).unwrap();
        assert_eq!(got.roles, ["schema:read", "schema:write"]);

        // No such claim, or one that is not a list of strings: no roles, still authenticated.
        let got = v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &claims())).unwrap();
        assert!(got.roles.is_empty());
        let odd = with(claims(), "scope", json!({ "read": true }));
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &odd)).unwrap().roles.is_empty());
        let mixed = with(claims(), "scope", json!(["read", 7, null]));
        assert_eq!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &mixed)).unwrap().roles, ["read"]);

        // No roles claim configured: roles in the token are ignored.
        let v = verifier_with(&all_keys(), |s| s.roles_claim = None);
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &claims())).unwrap().roles.is_empty());
    }

    #[test]
    fn the_username_claim_is_configurable_and_required() {
        let v = verifier_with(&all_keys(), |s| s.username_claim = "preferred_username".into());
        let named = with(claims(), "preferred_username", json!("ada.lovelace"));
        assert_eq!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &named)).unwrap().username, "ada.lovelace");
        assert_eq!(
            v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &claims())),
            Err(JwtError::MissingClaim("preferred_username".into()))
        );

        let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &with(claims(), "preferred_username", json!(["ada"])));
        assert_eq!(v.verify(&token), Err(JwtError::InvalidClaim("preferred_username".into())));

        let v = verifier(&all_keys());
        for bad in [json!(42), json!("")] {
            let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &with(claims(), "sub", bad));
            assert_eq!(v.verify(&token), Err(JwtError::InvalidClaim("sub".into())));
        }
        // jsonwebtoken reads `sub` itself and finds an array not well-formed.
        let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &with(claims(), "sub", json!(["ada"])));
        assert_eq!(v.verify(&token), Err(JwtError::Malformed));
        let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &without(claims(), "sub"));
        assert_eq!(v.verify(&token), Err(JwtError::MissingClaim("sub".into())));
    }

    #[test]
    fn an_expired_token_is_refused_beyond_the_leeway() {
        let v = verifier_with(&all_keys(), |s| s.leeway_secs = 30);
        let expired = with(claims(), "exp", json!(now() - 120));
        assert_eq!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &expired)), Err(JwtError::Expired));
        let within_leeway = with(claims(), "exp", json!(now() - 10));
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &within_leeway)).is_ok());
    }

    #[test]
    fn a_token_before_its_nbf_is_refused_beyond_the_leeway() {
        let v = verifier_with(&all_keys(), |s| s.leeway_secs = 30);
        let early = with(claims(), "nbf", json!(now() + 300));
        assert_eq!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &early)), Err(JwtError::NotYetValid));
        let within_leeway = with(claims(), "nbf", json!(now() + 10));
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &within_leeway)).is_ok());
        let past = with(claims(), "nbf", json!(now() - 60));
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &past)).is_ok());
    }

    #[test]
    fn only_the_configured_issuer_is_accepted() {
        let v = verifier(&all_keys());
        for iss in [json!("https://evil.test/"), json!(format!("{ISSUER}/")), json!(["https://evil.test/"])] {
            let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &with(claims(), "iss", iss.clone()));
            assert_eq!(v.verify(&token), Err(JwtError::WrongIssuer), "{iss}");
        }
        // OIDC's `iss` is one string, even an array that holds ours.
        let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &with(claims(), "iss", json!([ISSUER])));
        assert_eq!(v.verify(&token), Err(JwtError::InvalidClaim("iss".into())));
    }

    #[test]
    fn the_audience_must_be_ours_alone_or_in_an_array() {
        let v = verifier(&all_keys());
        let listed = with(claims(), "aud", json!(["account", AUDIENCE]));
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &listed)).is_ok());
        for aud in [json!("account"), json!(["account", "other"]), json!([])] {
            let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &with(claims(), "aud", aud.clone()));
            assert_eq!(v.verify(&token), Err(JwtError::WrongAudience), "{aud}");
        }
    }

    #[test]
    fn exp_iss_and_aud_are_required() {
        let v = verifier(&all_keys());
        for claim in ["exp", "iss", "aud"] {
            let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &without(claims(), claim));
            assert_eq!(v.verify(&token), Err(JwtError::MissingClaim(claim.into())), "{claim}");
        }
        let token = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &with(claims(), "exp", json!("tomorrow")));
        assert!(v.verify(&token).is_err());
    }

    #[test]
    fn keys_are_chosen_by_kid() {
        let v = verifier(&all_keys());
        let token = sign(RSA_A, Algorithm::RS256, Some("rsa-z"), &claims());
        assert_eq!(v.verify(&token), Err(JwtError::UnknownKey));
        // The right kid, the wrong key type for the algorithm.
        let token = sign(EC_P256, Algorithm::ES256, Some("rsa-a"), &claims());
        assert_eq!(v.verify(&token), Err(JwtError::AlgorithmMismatch));
        let token = sign(EC_P384, Algorithm::ES384, Some("ec-256"), &claims());
        assert_eq!(v.verify(&token), Err(JwtError::AlgorithmMismatch));
    }

    #[test]
    fn a_token_without_kid_needs_a_single_key() {
        let token = sign(RSA_A, Algorithm::RS256, None, &claims());
        let single = jwks(&[jwk(RSA_A, Algorithm::RS256, Some("rsa-a"))]);
        assert_eq!(verifier(&single).verify(&token).map(|c| c.username), Ok("ada".into()));
        let unnamed = jwks(&[jwk(RSA_A, Algorithm::RS256, None)]);
        assert!(verifier(&unnamed).verify(&token).is_ok());
        assert_eq!(verifier(&all_keys()).verify(&token), Err(JwtError::AmbiguousKey));
        let ec = sign(EC_P256, Algorithm::ES256, None, &claims());
        assert_eq!(verifier(&single).verify(&ec), Err(JwtError::AlgorithmMismatch));
        // Unusable keys do not count: the encryption key beside the signing key is skipped.
        let mut enc = jwk(RSA_B, Algorithm::RS256, Some("enc"));
        enc["use"] = json!("enc");
        let with_enc = jwks(&[jwk(RSA_A, Algorithm::RS256, Some("rsa-a")), enc]);
        assert!(verifier(&with_enc).verify(&token).is_ok());
    }

    #[test]
    fn a_signature_by_another_key_or_over_other_claims_is_refused() {
        let v = verifier(&all_keys());
        let forged = sign(RSA_B, Algorithm::RS256, Some("rsa-a"), &claims());
        assert_eq!(v.verify(&forged), Err(JwtError::BadSignature));
        let forged = sign(RSA_B, Algorithm::PS256, Some("rsa-a"), &claims());
        assert_eq!(v.verify(&forged), Err(JwtError::BadSignature));

        // The payload swapped for one naming someone else, the signature kept.
        let token = sign(EC_P256, Algorithm::ES256, Some("ec-256"), &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let swapped = format!("{}.{}.{}", parts[0], b64(&with(claims(), "sub", json!("root"))), parts[2]);
        assert_eq!(v.verify(&swapped), Err(JwtError::BadSignature));
        let stripped = format!("{}.{}.", parts[0], parts[1]);
        assert_eq!(v.verify(&stripped), Err(JwtError::BadSignature));
    }

    #[test]
    fn the_signature_is_checked_before_the_claims() {
        let v = verifier(&all_keys());
        let expired_forgery = sign(RSA_B, Algorithm::RS256, Some("rsa-a"), &with(claims(), "exp", json!(1)));
        assert_eq!(v.verify(&expired_forgery), Err(JwtError::BadSignature));
    }

    #[test]
    fn alg_none_is_refused() {
        let v = verifier(&all_keys());
        let body = b64(&claims());
        for alg in ["none", "None", "NONE", ""] {
            for kid in [json!("rsa-a"), Value::Null] {
                let header = b64(&json!({ "alg": alg, "typ": "JWT", "kid": kid }));
                for signature in ["", "c2ln"] {
                    let token = format!("{header}.{body}.{signature}");
                    assert_eq!(v.verify(&token), Err(JwtError::UnsupportedAlgorithm), "{alg} {kid} {signature:?}");
                }
            }
        }
    }

    #[test]
    fn hmac_signed_with_the_public_key_is_refused() {
        // The classic confusion: the public key, which anyone has, used as an HMAC secret.
        let v = verifier(&all_keys());
        let public = jwk(RSA_A, Algorithm::RS256, Some("rsa-a"));
        let modulus = URL_SAFE_NO_PAD.decode(public["n"].as_str().unwrap()).unwrap();
        for secret in [public.to_string().into_bytes(), modulus] {
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let mut header = jsonwebtoken::Header::new(alg);
                header.kid = Some("rsa-a".into());
                let token = encode(&header, &claims(), &EncodingKey::from_secret(&secret).unwrap()).unwrap();
                assert_eq!(v.verify(&token), Err(JwtError::UnsupportedAlgorithm), "{alg:?}");
            }
        }
        // Nor is a symmetric key in the JWKS taken up: alone, it leaves no usable key.
        let oct =
            json!({ "kty": "oct", "kid": "shared", "k": URL_SAFE_NO_PAD.encode(b"a shared secret of 32 bytes....!") });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, jwks(&[oct])).unwrap();
        let err = JwtVerifier::new(JwtSettings::new(JwksSource::File(path), ISSUER, AUDIENCE)).unwrap_err();
        assert!(err.contains("none of its 1 keys"), "{err}");
    }

    #[test]
    fn a_jwk_alg_pins_its_key_to_that_algorithm() {
        let mut pinned = jwk(RSA_A, Algorithm::RS256, Some("rsa-a"));
        pinned["alg"] = json!("RS256");
        let v = verifier(&jwks(&[pinned]));
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &claims())).is_ok());
        let pss = sign(RSA_A, Algorithm::PS256, Some("rsa-a"), &claims());
        assert_eq!(v.verify(&pss), Err(JwtError::AlgorithmMismatch));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let v = verifier(&all_keys());
        let good = sign(RSA_A, Algorithm::RS256, Some("rsa-a"), &claims());
        let parts: Vec<&str> = good.split('.').collect();
        let cases = [
            String::new(),
            "Bearer".into(),
            "a.b".into(),
            format!("{good}.extra"),
            format!("!!!.{}.{}", parts[1], parts[2]),
            format!("{}.{}.{}", b64(&json!("not an object")), parts[1], parts[2]),
            format!("{}.{}.{}", b64(&json!({ "typ": "JWT" })), parts[1], parts[2]),
            format!("{}.{}.{}", b64(&json!({ "alg": "RS256", "kid": 7 })), parts[1], parts[2]),
        ];
        for token in cases {
            assert_eq!(v.verify(&token), Err(JwtError::Malformed), "{token:?}");
        }
        // An unknown critical header must be understood, and is not.
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("rsa-a".into());
        header.crit = Some(vec!["exp-v2".into()]);
        header.extras.insert("exp-v2", 1);
        let token = encode(&header, &claims(), &encoding_key(RSA_A, Algorithm::RS256)).unwrap();
        assert_eq!(v.verify(&token), Err(JwtError::Malformed));
    }

    #[test]
    fn unusable_jwks_entries_are_skipped() {
        let mut enc = jwk(RSA_B, Algorithm::RS256, Some("enc"));
        enc["use"] = json!("enc");
        let mut oaep = jwk(RSA_B, Algorithm::RS256, Some("oaep"));
        oaep["alg"] = json!("RSA-OAEP");
        let mut wrap_only = jwk(RSA_B, Algorithm::RS256, Some("wrap"));
        wrap_only["key_ops"] = json!(["wrapKey"]);
        let mut mislabelled = jwk(EC_P256, Algorithm::ES256, Some("mislabelled"));
        mislabelled["alg"] = json!("ES384");
        let mut off_curve = jwk(EC_P256, Algorithm::ES256, Some("off-curve"));
        off_curve["y"] = off_curve["x"].clone();
        let mut small = [0u8; 128];
        small[0] = 0xc5;
        small[127] = 1;
        let weak_rsa = json!({ "kty": "RSA", "kid": "weak", "n": URL_SAFE_NO_PAD.encode(small), "e": "AQAB" });
        let p521 = json!({ "kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA" });
        let unknown = json!({ "kty": "PQC", "kid": "future" });
        let mut verify_ops = jwk(RSA_A, Algorithm::RS256, Some("rsa-a"));
        verify_ops["key_ops"] = json!(["verify"]);
        verify_ops["use"] = json!("sig");
        let keys =
            jwks(&[enc, oaep, wrap_only, mislabelled, off_curve, weak_rsa, p521, unknown, json!("junk"), verify_ops]);
        let v = verifier(&keys);
        assert_eq!(v.inner.current_keys().keys.iter().map(|k| k.kid.as_deref()).collect::<Vec<_>>(), [Some("rsa-a")]);
        assert!(v.verify(&sign(RSA_A, Algorithm::RS256, None, &claims())).is_ok());
        assert_eq!(v.verify(&sign(RSA_B, Algorithm::RS256, Some("enc"), &claims())), Err(JwtError::UnknownKey));
    }

    #[test]
    fn settings_and_sources_are_checked_at_startup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, all_keys()).unwrap();
        let ok = JwtSettings::new(JwksSource::File(path.clone()), ISSUER, AUDIENCE);
        assert!(JwtVerifier::new(ok.clone()).is_ok());
        let broken: [fn(&mut JwtSettings); 6] = [
            |s| s.issuer = " ".into(),
            |s| s.audience = String::new(),
            |s| s.username_claim = String::new(),
            |s| s.roles_claim = Some(String::new()),
            |s| s.leeway_secs = MAX_LEEWAY_SECS + 1,
            |s| s.jwks = JwksSource::File("/nonexistent/jwks.json".into()),
        ];
        for breaking in broken {
            let mut settings = ok.clone();
            breaking(&mut settings);
            assert!(JwtVerifier::new(settings.clone()).is_err(), "{settings:?}");
        }
        for text in ["", "{", "[]", r#"{"keys": {}}"#, r#"{"keys": []}"#] {
            std::fs::write(&path, text).unwrap();
            assert!(JwtVerifier::new(ok.clone()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn jwks_urls_must_be_https_except_to_loopback() {
        for url in
            ["https://idp.test/certs", "http://127.0.0.1:8080/certs", "http://localhost/certs", "http://[::1]:9/c"]
        {
            assert!(check_url(url).is_ok(), "{url}");
        }
        for url in
            ["http://idp.test/certs", "http://10.0.0.1/certs", "ftp://idp.test/certs", "/certs", "https:///x", ""]
        {
            assert!(check_url(url).is_err(), "{url}");
        }
        // Refused before any connection is tried.
        let settings = JwtSettings::new(JwksSource::Url("http://idp.test/certs".into()), ISSUER, AUDIENCE);
        assert!(JwtVerifier::new(settings).unwrap_err().contains("https://"));
    }

    #[test]
    fn a_rotated_jwks_file_is_picked_up() {
        let mut f = FileFixture::new(&jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a"))]), |_| {}, every_check());
        let token_a = sign(RSA_A, Algorithm::RS256, Some("a"), &claims());
        let token_b = sign(RSA_B, Algorithm::RS256, Some("b"), &claims());
        assert!(f.verifier.verify(&token_a).is_ok());
        assert_eq!(f.verifier.verify(&token_b), Err(JwtError::UnknownKey));

        // The provider rolls over: both keys for a while, then only the new one.
        f.rewrite(&jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a")), jwk(RSA_B, Algorithm::RS256, Some("b"))]));
        assert!(f.verifier.verify(&token_a).is_ok());
        assert!(f.verifier.verify(&token_b).is_ok());
        f.rewrite(&jwks(&[jwk(RSA_B, Algorithm::RS256, Some("b"))]));
        assert_eq!(f.verifier.verify(&token_a), Err(JwtError::UnknownKey));
        assert!(f.verifier.verify(&token_b).is_ok());
    }

    #[test]
    fn a_failed_file_reload_keeps_the_keys_in_use() {
        let mut f = FileFixture::new(&jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a"))]), |_| {}, every_check());
        let token_a = sign(RSA_A, Algorithm::RS256, Some("a"), &claims());
        for broken in ["{\"keys\": [", "{\"keys\": []}", ""] {
            f.rewrite(broken);
            assert!(f.verifier.verify(&token_a).is_ok(), "{broken:?}");
        }
        std::fs::remove_file(&f.path).unwrap();
        assert!(f.verifier.verify(&token_a).is_ok());
        // Once a good file is back, it is read.
        f.rewrite(&jwks(&[jwk(RSA_B, Algorithm::RS256, Some("b"))]));
        assert!(f.verifier.verify(&sign(RSA_B, Algorithm::RS256, Some("b"), &claims())).is_ok());
        assert_eq!(f.verifier.verify(&token_a), Err(JwtError::UnknownKey));
    }

    #[test]
    fn the_jwks_file_is_looked_at_only_every_interval() {
        let intervals = Intervals { file_check: Duration::from_secs(3600), ..Intervals::default() };
        let mut f = FileFixture::new(&jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a"))]), |_| {}, intervals);
        f.rewrite(&jwks(&[jwk(RSA_B, Algorithm::RS256, Some("b"))]));
        // Even an unknown kid does not make `verify` read the file sooner.
        assert_eq!(f.verifier.verify(&sign(RSA_B, Algorithm::RS256, Some("b"), &claims())), Err(JwtError::UnknownKey));
        assert!(f.verifier.verify(&sign(RSA_A, Algorithm::RS256, Some("a"), &claims())).is_ok());
    }

    /// A JWKS endpoint on 127.0.0.1 whose answer the test changes, counting requests.
    struct JwksServer {
        url: String,
        answer: Arc<Mutex<(u16, String)>>,
        hits: Arc<AtomicUsize>,
    }

    impl JwksServer {
        fn start(body: String) -> JwksServer {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}/realms/schemata/certs", listener.local_addr().unwrap());
            let answer = Arc::new(Mutex::new((200, body)));
            let hits = Arc::new(AtomicUsize::new(0));
            let (served, counted) = (Arc::clone(&answer), Arc::clone(&hits));
            // Ends with the test process; it only ever talks to this test's verifier.
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    // Counted before answering, so the client never sees an answer not yet counted.
                    counted.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = served.lock().clone();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
            JwksServer { url, answer, hits }
        }

        fn answer(&self, status: u16, body: String) {
            *self.answer.lock() = (status, body);
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }

        fn verifier(&self, intervals: Intervals) -> JwtVerifier {
            let settings = JwtSettings::new(JwksSource::Url(self.url.clone()), ISSUER, AUDIENCE);
            JwtVerifier::with_intervals(settings, intervals).unwrap()
        }
    }

    fn no_background_refresh(kid_refetch: Duration) -> Intervals {
        Intervals { url_refresh: Duration::from_secs(3600), kid_refetch, ..Intervals::default() }
    }

    #[test]
    fn keys_from_a_url_follow_a_new_kid() {
        let server = JwksServer::start(jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a"))]));
        let v = server.verifier(no_background_refresh(Duration::ZERO));
        assert_eq!(server.hits(), 1);
        let token_a = sign(RSA_A, Algorithm::RS256, Some("a"), &claims());
        assert!(v.verify(&token_a).is_ok());
        assert_eq!(server.hits(), 1, "known keys are not fetched again");

        server.answer(200, jwks(&[jwk(RSA_B, Algorithm::RS256, Some("b"))]));
        let token_b = sign(RSA_B, Algorithm::RS256, Some("b"), &claims());
        assert_eq!(v.verify(&token_b).map(|c| c.username), Ok("ada".into()));
        assert_eq!(server.hits(), 2);
        assert_eq!(v.verify(&token_a), Err(JwtError::UnknownKey), "a key dropped by the provider");
    }

    #[test]
    fn unknown_kids_fetch_the_url_at_most_once_per_interval() {
        let server = JwksServer::start(jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a"))]));
        let v = server.verifier(no_background_refresh(Duration::from_secs(3600)));
        server.answer(200, jwks(&[jwk(RSA_B, Algorithm::RS256, Some("b"))]));
        for kid in ["b", "c", "d"] {
            let token = sign(RSA_B, Algorithm::RS256, Some(kid), &claims());
            assert_eq!(v.verify(&token), Err(JwtError::UnknownKey));
        }
        assert_eq!(server.hits(), 1, "the startup fetch counts");
    }

    #[test]
    fn a_failed_url_fetch_keeps_the_keys_in_use() {
        let server = JwksServer::start(jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a"))]));
        let v = server.verifier(no_background_refresh(Duration::ZERO));
        let token_a = sign(RSA_A, Algorithm::RS256, Some("a"), &claims());
        let token_b = sign(RSA_B, Algorithm::RS256, Some("b"), &claims());
        for (status, body) in [(500, "{}".to_string()), (200, "<html>".into()), (200, jwks(&[]))] {
            server.answer(status, body);
            assert_eq!(v.verify(&token_b), Err(JwtError::UnknownKey));
            assert!(v.verify(&token_a).is_ok());
        }
        // Each unknown kid fetched; a failure also brings the next background fetch forward.
        assert!(server.hits() >= 4);
    }

    #[test]
    fn keys_from_a_url_are_refreshed_in_the_background() {
        let server = JwksServer::start(jwks(&[jwk(RSA_A, Algorithm::RS256, Some("a"))]));
        let intervals =
            Intervals { url_refresh: Duration::ZERO, kid_refetch: Duration::from_secs(3600), ..Intervals::default() };
        let v = server.verifier(intervals);
        server.answer(200, jwks(&[jwk(RSA_B, Algorithm::RS256, Some("b"))]));
        let token_a = sign(RSA_A, Algorithm::RS256, Some("a"), &claims());
        // The request that finds the keys due is served with the keys in use.
        assert!(v.verify(&token_a).is_ok());
        let deadline = Instant::now() + Duration::from_secs(10);
        while v.inner.current_keys().keys[0].kid.as_deref() != Some("b") {
            assert!(Instant::now() < deadline, "the background refresh did not happen");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(v.verify(&token_a), Err(JwtError::UnknownKey));
    }

    #[test]
    fn an_unreachable_jwks_url_fails_at_startup() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/certs", listener.local_addr().unwrap());
        drop(listener);
        let err = JwtVerifier::new(JwtSettings::new(JwksSource::Url(url), ISSUER, AUDIENCE)).unwrap_err();
        assert!(err.contains("fetching the JWKS"), "{err}");
    }

    #[test]
    fn error_messages_name_the_check_and_nothing_else() {
        assert_eq!(JwtError::Expired.to_string(), "the token has expired");
        assert_eq!(JwtError::WrongIssuer.to_string(), "the token's issuer is not accepted");
        assert_eq!(JwtError::MissingClaim("aud".into()).to_string(), "the token lacks the required 'aud' claim");
        // A refused forgery says only that: not the key, its kid or the claims.
        let v = verifier(&all_keys());
        let err = v.verify(&sign(RSA_B, Algorithm::RS256, Some("rsa-a"), &claims())).unwrap_err().to_string();
        assert_eq!(err, "the token's signature is not valid");
    }

    #[test]
    fn the_verifier_can_be_shared_between_threads() {
        fn shared<T: Send + Sync + Clone + 'static>() {}
        shared::<JwtVerifier>();
    }
}

//! Users and permissions from an auth file in Karapace's `registry_authfile` format, so that a
//! Karapace deployment's file works here unchanged. This module reads, checks and watches the
//! file and answers two questions, "is this password this user's?" and "may this user do
//! this?"; the HTTP middleware that asks them (HTTP Basic, mapping endpoints to operations)
//! lives elsewhere.
//!
//! - [`Rules`]: one parsed file; [`Rules::verify_password`] and [`Rules::allows`].
//! - [`AuthFile`]: the file on disk, reloaded when it changes, with a generation number.
//! - [`CredentialCache`]: recent successful logins, since hash verification is slow.
//! - [`passwd`]: `schemata passwd`, which prints a user entry for the file.
//! - [`jwt`]: bearer tokens (OIDC JWTs) checked against the issuer's JWKS.
//! - [`Authenticator`]: the one place that turns a request's credentials into a
//!   [`Principal`] and answers what it may do.
//!
//! # The file (as Karapace's `karapace/core/auth.py` reads it)
//!
//! ```json
//! {
//!   "users": [
//!     {"username": "admin", "algorithm": "scrypt", "salt": "...", "password_hash": "..."}
//!   ],
//!   "permissions": [
//!     {"username": "admin", "operation": "Write", "resource": ".*"},
//!     {"username": "admin", "operation": "Read", "resource": "Config:"}
//!   ]
//! }
//! ```
//!
//! - Both lists are required; every field of an entry is a required string; other fields are
//!   ignored. A repeated username: the last entry wins.
//! - `algorithm`: `scrypt` (n=16384, r=8, p=1, 64-byte key) or `sha1`/`sha256`/`sha512`
//!   (PBKDF2-HMAC, 5000 iterations, key as long as the digest). The password's UTF-8 bytes are
//!   hashed with the salt string's UTF-8 bytes as salt; `password_hash` is the key in standard
//!   padded base64. Details and Python one-liners in `hash.rs`.
//! - `operation`: `Read` or `Write`; any permission grants Read, `Write` also grants Write.
//! - `resource`: a regular expression matched against `Config:` (global config and mode) or
//!   `Subject:<name>` with Python's `re.match`: anchored at the start only, so `Subject:orders`
//!   also grants `Subject:orders-value`; end it with `$` for an exact name.
//!
//! # Differences from Karapace
//!
//! - Checked at load: an unknown algorithm or operation, a bad regex, or a `password_hash`
//!   that is not base64 of the algorithm's key length rejects the whole file. Karapace rejects
//!   the first three too, but loads the last and that user can then never log in.
//! - Regexes are Rust's: Python's lookaround and backreferences are rejected at load; `\Z`
//!   (end of text) is understood; `$` matches only at the very end, where Python's also
//!   matches before a final newline (which subject names do not end with).
//! - Extension, `Admin`: a third operation above `Write`. An `Admin` permission grants Read,
//!   Write and Admin on the resources its regex matches, and only an `Admin` permission grants
//!   Admin. Karapace files have none, and the middleware asks for Admin only where Karapace has
//!   no rule (Schemata's own operational endpoints), never instead of the Read or Write
//!   Karapace asks for: so `Write` on `Config:` still changes the global config and mode, as in
//!   Karapace, and a Karapace file means the same here. A file using `Admin` does not load in
//!   Karapace.

mod authenticator;
mod cache;
mod file;
mod hash;
pub mod jwt;
pub mod passwd;
mod rules;

pub use authenticator::{Authenticator, Failure, Principal};
pub use cache::{CredentialCache, DEFAULT_CAPACITY, DEFAULT_TTL};
pub use file::AuthFile;
pub use hash::Algorithm;
pub use rules::{Operation, Resource, Rules};

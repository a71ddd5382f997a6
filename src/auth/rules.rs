//! The parsed auth file: who may log in ([`Rules::verify_password`]) and what they may do
//! ([`Rules::allows`]). Pure and immutable; [`super::AuthFile`] swaps whole `Rules` on reload.

use std::collections::HashMap;
use std::fmt;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::hash::{Algorithm, PasswordHash};

/// What a request does. Karapace's `Read` and `Write`, plus Schemata's `Admin` (module docs).
/// Ordered: a permission for one operation grants every lesser one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Read,
    Write,
    Admin,
}

impl Operation {
    fn from_name(name: &str) -> Option<Operation> {
        match name {
            "Read" => Some(Operation::Read),
            "Write" => Some(Operation::Write),
            "Admin" => Some(Operation::Admin),
            _ => None,
        }
    }
}

/// What a request touches, rendered as Karapace renders it for the permission regexes:
/// `Config:` or `Subject:<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The global config and mode.
    Config,
    /// A subject (its versions, config and mode).
    Subject(&'a str),
}

impl fmt::Display for Resource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Config => f.write_str("Config:"),
            Resource::Subject(name) => write!(f, "Subject:{name}"),
        }
    }
}

/// A parsed and compiled auth file.
#[derive(Debug)]
pub struct Rules {
    users: HashMap<String, PasswordHash>,
    permissions: Vec<Permission>,
    /// Verified against when the user is unknown, so that the answer takes as long.
    dummy: PasswordHash,
}

#[derive(Debug)]
struct Permission {
    username: String,
    operation: Operation,
    /// The file's regex, anchored at the start only (Python's `re.match`).
    resource: Regex,
}

impl Permission {
    fn allows(&self, user: &str, operation: Operation, resource: &str) -> bool {
        // Karapace: any entry grants Read, and Write grants Write; Admin extends the chain.
        self.username == user && operation <= self.operation && self.resource.is_match(resource)
    }
}

/// The file's top level; entries stay loose so that errors can name the entry.
#[derive(Deserialize)]
struct RawFile {
    users: Vec<Value>,
    permissions: Vec<Value>,
}

/// Unknown fields are ignored, as Karapace ignores them.
#[derive(Deserialize)]
struct RawUser {
    username: String,
    algorithm: String,
    salt: String,
    password_hash: String,
}

#[derive(Deserialize)]
struct RawPermission {
    username: String,
    operation: String,
    resource: String,
}

impl Rules {
    /// Parses and checks a whole auth file. The error names the entry and what is wrong with
    /// it; one bad entry rejects the file, so that a reload never half-applies.
    pub fn parse(json: &str) -> Result<Rules, String> {
        let raw: RawFile = serde_json::from_str(json).map_err(|e| format!("not a valid auth file: {e}"))?;

        let mut users = HashMap::new();
        for (i, value) in raw.users.into_iter().enumerate() {
            let context = entry_context("users", i, &value);
            let user: RawUser = serde_json::from_value(value).map_err(|e| format!("{context}: {e}"))?;
            let hash = PasswordHash::parse(&user.algorithm, &user.salt, &user.password_hash)
                .map_err(|e| format!("{context}: {e}"))?;
            // Karapace builds a dict from the list: a later entry replaces an earlier one.
            if users.insert(user.username, hash).is_some() {
                tracing::warn!("auth file: {context} repeats a username; the last entry wins");
            }
        }

        let mut permissions = Vec::new();
        for (i, value) in raw.permissions.into_iter().enumerate() {
            let context = entry_context("permissions", i, &value);
            let entry: RawPermission = serde_json::from_value(value).map_err(|e| format!("{context}: {e}"))?;
            let operation = Operation::from_name(&entry.operation).ok_or_else(|| {
                format!("{context}: unknown operation '{}' (expected Read, Write or Admin)", entry.operation)
            })?;
            let resource = compile_resource(&entry.resource).map_err(|e| format!("{context}: resource {e}"))?;
            permissions.push(Permission { username: entry.username, operation, resource });
        }

        let dummy = PasswordHash::dummy(most_common_algorithm(&users));
        Ok(Rules { users, permissions, dummy })
    }

    /// Whether `password` is `user`'s. Slow by design (scrypt or PBKDF2): cache successes
    /// with [`super::CredentialCache`]. An unknown user costs a verification too, against a
    /// dummy hash of the file's most common algorithm, so the time taken does not tell
    /// whether a user exists (with several algorithms in one file, it tells which is used).
    pub fn verify_password(&self, user: &str, password: &str) -> bool {
        let (stored, known) = match self.users.get(user) {
            Some(stored) => (stored, true),
            None => (&self.dummy, false),
        };
        stored.verify(password) && known
    }

    /// Whether an authenticated `user` may do `operation` on `resource`: some permission of
    /// theirs is for that operation or a greater one, and its regex matches the start of the
    /// rendered resource.
    pub fn allows(&self, user: &str, operation: Operation, resource: &Resource) -> bool {
        let resource = resource.to_string();
        self.permissions.iter().any(|p| p.allows(user, operation, &resource))
    }

    pub(crate) fn user_count(&self) -> usize {
        self.users.len()
    }

    pub(crate) fn permission_count(&self) -> usize {
        self.permissions.len()
    }
}

/// `users[2] ("alice")`: the position always, the name when there is one to show.
fn entry_context(list: &str, index: usize, value: &Value) -> String {
    match value.get("username").and_then(Value::as_str) {
        Some(name) => format!("{list}[{index}] ({name:?})"),
        None => format!("{list}[{index}]"),
    }
}

/// Compiles a permission's regex to behave as Python's `re.match`: anchored at the start,
/// not at the end, so `Subject:foo` also matches `Subject:foobar`. Python's end-of-text `\Z`
/// is Rust's `\z`. Patterns Rust's regex cannot run (lookaround, backreferences) are errors.
fn compile_resource(pattern: &str) -> Result<Regex, String> {
    let pattern = python_end_anchor(pattern);
    // Compiled alone first: a pattern such as `a)|(b` would otherwise escape the group below.
    Regex::new(&pattern).map_err(|e| format!("'{pattern}' is not a valid regex: {e}"))?;
    Regex::new(&format!("^(?:{pattern})")).map_err(|e| format!("'{pattern}' is not a valid regex: {e}"))
}

/// Rewrites Python's `\Z` to Rust's `\z`, leaving other escapes (such as `\\Z`) alone.
fn python_end_anchor(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push('z'),
                Some(next) => out.push(next),
                None => {}
            }
        }
    }
    out
}

/// The dummy hash's algorithm: the one most users have, so an unknown user costs the same.
fn most_common_algorithm(users: &HashMap<String, PasswordHash>) -> Algorithm {
    let count = |algorithm| users.values().filter(|u| u.algorithm() == algorithm).count();
    // Ties (and an empty file) go to the slowest, scrypt, first in the list.
    Algorithm::ALL.into_iter().rev().max_by_key(|&a| count(a)).unwrap_or(Algorithm::Scrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A Karapace auth file as its README shows one; hashes from the fixtures in `hash.rs`
    // (password "s3cret-pw", salt "c2FsdHlzYWx0").
    const KARAPACE_FILE: &str = r#"{
        "users": [
            {"username": "admin", "algorithm": "scrypt", "salt": "c2FsdHlzYWx0",
             "password_hash": "53WRU6fv4uxu2yOfb6nmxGSwZd10o0BP8xfv2/0zJyvqzLgRIRbCnRdGer7x8b8mlR+PtCAGADgUYS2/0KfUpA=="},
            {"username": "plainuser", "algorithm": "sha256", "salt": "c2FsdHlzYWx0",
             "password_hash": "aY5hyLDsn4DnnYZcVVR4qtsoplD/PpJJkpiRUT1Htmw="},
            {"username": "reader", "algorithm": "sha1", "salt": "c2FsdHlzYWx0",
             "password_hash": "UfXTLXAfgOxBCsX5d3O4Hu35QCY="},
            {"username": "writer", "algorithm": "sha512", "salt": "c2FsdHlzYWx0",
             "password_hash": "j4Qqx52rpXCW+FV4c49qVJZrLOsS99NC4TalM4LD/BN2jv5L5oZj6NiAqhheGIyYaUNQOR3/iX66aCNt2atHLg=="}
        ],
        "permissions": [
            {"username": "admin", "operation": "Write", "resource": ".*"},
            {"username": "plainuser", "operation": "Read", "resource": "Subject:general.*"},
            {"username": "plainuser", "operation": "Read", "resource": "Config:"},
            {"username": "reader", "operation": "Read", "resource": "Subject:orders"},
            {"username": "writer", "operation": "Write", "resource": "Subject:payments-value$"}
        ]
    }"#;

    fn rules() -> Rules {
        Rules::parse(KARAPACE_FILE).unwrap()
    }

    fn parse_err(json: &str) -> String {
        Rules::parse(json).unwrap_err()
    }

    /// A file with one sha1 user "u" (password "s3cret-pw") and these permissions.
    fn with_permissions(permissions: &str) -> Result<Rules, String> {
        Rules::parse(&format!(
            r#"{{"users": [{{"username": "u", "algorithm": "sha1", "salt": "c2FsdHlzYWx0",
                "password_hash": "UfXTLXAfgOxBCsX5d3O4Hu35QCY="}}], "permissions": [{permissions}]}}"#
        ))
    }

    #[test]
    fn parses_a_karapace_file() {
        let rules = rules();
        assert_eq!(rules.user_count(), 4);
        assert_eq!(rules.permission_count(), 5);
    }

    #[test]
    fn verifies_passwords_of_every_algorithm() {
        let rules = rules();
        for user in ["admin", "plainuser", "reader", "writer"] {
            assert!(rules.verify_password(user, "s3cret-pw"), "{user}");
            assert!(!rules.verify_password(user, "wrong"), "{user}");
        }
    }

    #[test]
    fn unknown_users_fail_even_with_a_password_that_is_someone_elses() {
        let rules = rules();
        assert!(!rules.verify_password("nobody", "s3cret-pw"));
        assert!(!rules.verify_password("", ""));
        assert!(!rules.verify_password("Admin", "s3cret-pw"), "usernames are case-sensitive");
    }

    #[test]
    fn unknown_users_are_verified_against_the_most_common_algorithm() {
        assert_eq!(rules().dummy.algorithm(), Algorithm::Scrypt, "a four-way tie goes to scrypt");
        let two_sha1 = Rules::parse(
            r#"{"users": [
                {"username": "a", "algorithm": "sha1", "salt": "s", "password_hash": "UfXTLXAfgOxBCsX5d3O4Hu35QCY="},
                {"username": "b", "algorithm": "sha1", "salt": "s", "password_hash": "UfXTLXAfgOxBCsX5d3O4Hu35QCY="},
                {"username": "c", "algorithm": "sha256", "salt": "s",
                 "password_hash": "aY5hyLDsn4DnnYZcVVR4qtsoplD/PpJJkpiRUT1Htmw="}],
               "permissions": []}"#,
        )
        .unwrap();
        assert_eq!(two_sha1.dummy.algorithm(), Algorithm::Sha1);
        assert_eq!(Rules::parse(r#"{"users": [], "permissions": []}"#).unwrap().dummy.algorithm(), Algorithm::Scrypt);
    }

    #[test]
    fn resources_render_as_karapace_renders_them() {
        assert_eq!(Resource::Config.to_string(), "Config:");
        assert_eq!(Resource::Subject("orders-value").to_string(), "Subject:orders-value");
    }

    #[test]
    fn write_implies_read_and_read_does_not_imply_write() {
        let rules = rules();
        let orders = Resource::Subject("orders");
        let payments = Resource::Subject("payments-value");
        assert!(rules.allows("reader", Operation::Read, &orders));
        assert!(!rules.allows("reader", Operation::Write, &orders));
        assert!(rules.allows("writer", Operation::Write, &payments));
        assert!(rules.allows("writer", Operation::Read, &payments));
        assert!(rules.allows("admin", Operation::Write, &Resource::Config));
        assert!(rules.allows("admin", Operation::Read, &orders));
    }

    #[test]
    fn permissions_belong_to_their_user_only() {
        let rules = rules();
        assert!(!rules.allows("reader", Operation::Read, &Resource::Config));
        assert!(rules.allows("plainuser", Operation::Read, &Resource::Config));
        assert!(!rules.allows("plainuser", Operation::Write, &Resource::Config));
        assert!(!rules.allows("nobody", Operation::Read, &Resource::Subject("orders")));
    }

    #[test]
    fn regexes_match_at_the_start_like_python_re_match() {
        let rules = rules();
        // re.match('Subject:orders', 'Subject:orders-value') matches: a prefix is enough.
        assert!(rules.allows("reader", Operation::Read, &Resource::Subject("orders-value")));
        assert!(rules.allows("plainuser", Operation::Read, &Resource::Subject("general")));
        assert!(rules.allows("plainuser", Operation::Read, &Resource::Subject("generalities")));
        // ...but it is anchored at the start: no match in the middle.
        assert!(!rules.allows("reader", Operation::Read, &Resource::Subject("old-orders")));
        assert!(!rules.allows("plainuser", Operation::Read, &Resource::Subject("x-general")));
        // `$` ends the match where the file asks for it.
        assert!(!rules.allows("writer", Operation::Read, &Resource::Subject("payments-value-v2")));
        // "Config:" does not reach subjects, nor does "Subject:..." reach config.
        assert!(!rules.allows("plainuser", Operation::Read, &Resource::Subject("Config:")));
    }

    #[test]
    fn python_end_of_text_anchor_is_understood() {
        let rules = with_permissions(r#"{"username": "u", "operation": "Read", "resource": "Subject:a\\Z"}"#).unwrap();
        assert!(rules.allows("u", Operation::Read, &Resource::Subject("a")));
        assert!(!rules.allows("u", Operation::Read, &Resource::Subject("ab")));
        // An escaped backslash followed by Z stays a literal backslash and Z.
        let rules =
            with_permissions(r#"{"username": "u", "operation": "Read", "resource": "Subject:a\\\\Z"}"#).unwrap();
        assert!(rules.allows("u", Operation::Read, &Resource::Subject("a\\Z")));
        assert!(!rules.allows("u", Operation::Read, &Resource::Subject("a")));
    }

    #[test]
    fn alternations_stay_anchored() {
        // Without the group, `^Subject:a|Subject:b` would match "Subject:b" anywhere.
        let rules =
            with_permissions(r#"{"username": "u", "operation": "Read", "resource": "Subject:a|Subject:b"}"#).unwrap();
        assert!(rules.allows("u", Operation::Read, &Resource::Subject("b")));
        assert!(!rules.allows("u", Operation::Read, &Resource::Subject("xSubject:b")));
        let err = with_permissions(r#"{"username": "u", "operation": "Read", "resource": "a)|(b"}"#).unwrap_err();
        assert!(err.contains("is not a valid regex"), "{err}");
    }

    #[test]
    fn admin_grants_write_and_read_and_only_admin_grants_admin() {
        let rules = with_permissions(
            r#"{"username": "u", "operation": "Admin", "resource": "Config:"},
               {"username": "u", "operation": "Write", "resource": "Subject:.*"}"#,
        )
        .unwrap();
        for op in [Operation::Read, Operation::Write, Operation::Admin] {
            assert!(rules.allows("u", op, &Resource::Config), "{op:?}");
        }
        assert!(rules.allows("u", Operation::Write, &Resource::Subject("s")));
        assert!(!rules.allows("u", Operation::Admin, &Resource::Subject("s")), "Admin is per resource too");
        // Karapace's own `Write` on everything is not Admin.
        assert!(!Rules::parse(KARAPACE_FILE).unwrap().allows("admin", Operation::Admin, &Resource::Config));
    }

    #[test]
    fn unknown_fields_are_ignored_as_karapace_ignores_them() {
        let rules = Rules::parse(
            r#"{"comment": "x", "users": [{"username": "u", "algorithm": "sha1", "salt": "c2FsdHlzYWx0",
                "password_hash": "UfXTLXAfgOxBCsX5d3O4Hu35QCY=", "email": "u@example.com"}],
               "permissions": [{"username": "u", "operation": "Read", "resource": ".*", "note": "all"}]}"#,
        )
        .unwrap();
        assert!(rules.verify_password("u", "s3cret-pw"));
    }

    #[test]
    fn a_repeated_username_keeps_the_last_entry_as_karapace_does() {
        let rules = Rules::parse(
            r#"{"users": [
                {"username": "u", "algorithm": "sha256", "salt": "c2FsdHlzYWx0",
                 "password_hash": "/Eqx8nT2hFHXrbLXftbJB4OHUdv3L7o+zoKlSSFuxEI="},
                {"username": "u", "algorithm": "sha1", "salt": "c2FsdHlzYWx0",
                 "password_hash": "UfXTLXAfgOxBCsX5d3O4Hu35QCY="}],
               "permissions": []}"#,
        )
        .unwrap();
        assert_eq!(rules.user_count(), 1);
        assert!(rules.verify_password("u", "s3cret-pw"));
    }

    #[test]
    fn malformed_files_say_what_and_where() {
        let err = parse_err("{");
        assert!(err.starts_with("not a valid auth file:"), "{err}");
        let err = parse_err(r#"{"users": []}"#);
        assert!(err.contains("missing field `permissions`"), "{err}");
        let err = parse_err(r#"{"users": {}, "permissions": []}"#);
        assert!(err.contains("invalid type: map, expected a sequence"), "{err}");

        let err = parse_err(
            r#"{"users": [{"username": "bob", "algorithm": "sha1", "password_hash": "x"}], "permissions": []}"#,
        );
        assert_eq!(err, r#"users[0] ("bob"): missing field `salt`"#);
        let err = parse_err(r#"{"users": [{"algorithm": "sha1"}], "permissions": []}"#);
        assert_eq!(err, "users[0]: missing field `username`");
        let err = parse_err(
            r#"{"users": [{"username": "bob", "algorithm": "bcrypt", "salt": "s", "password_hash": "x"}],
                "permissions": []}"#,
        );
        assert!(err.starts_with(r#"users[0] ("bob"): unknown algorithm 'bcrypt'"#), "{err}");
        let err = parse_err(
            r#"{"users": [{"username": "bob", "algorithm": "sha1", "salt": "s", "password_hash": "%%%"}],
                "permissions": []}"#,
        );
        assert!(err.starts_with(r#"users[0] ("bob"): password_hash is not valid standard base64"#), "{err}");

        let err = with_permissions(r#"{"username": "u", "operation": "Read"}"#).unwrap_err();
        assert_eq!(err, r#"permissions[0] ("u"): missing field `resource`"#);
        let err = with_permissions(
            r#"{"username": "u", "operation": "Read", "resource": ".*"},
               {"username": "u", "operation": "read", "resource": ".*"}"#,
        )
        .unwrap_err();
        assert_eq!(err, r#"permissions[1] ("u"): unknown operation 'read' (expected Read, Write or Admin)"#);
        let err =
            with_permissions(r#"{"username": "u", "operation": "Read", "resource": "Subject:(unclosed"}"#).unwrap_err();
        assert!(err.starts_with(r#"permissions[0] ("u"): resource 'Subject:(unclosed' is not a valid regex"#), "{err}");
        let err = with_permissions(r#"{"username": "u", "operation": "Read", "resource": "Subject:(?!internal)"}"#)
            .unwrap_err();
        assert!(err.contains("is not a valid regex"), "lookaround is Python-only: {err}");
    }
}

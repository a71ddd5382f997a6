//! `schemata passwd`: prints one user entry for the auth file, with a fresh random salt, as
//! Karapace's `karapace_mkpasswd` does, so that nobody needs Python to add a user. The entry
//! works in Karapace too. Exit codes: 0 printed, 1 failed (one line on stderr).

use std::io::{BufRead, IsTerminal, Write};

use serde_json::{json, Value};

use super::hash::{Algorithm, PasswordHash};
use crate::config::PasswdArgs;

/// Runs `schemata passwd`; returns the exit code.
pub fn run(args: &PasswdArgs) -> i32 {
    let entry = match &args.password {
        Some(password) => Ok(password.clone()),
        None => read_password(&args.username),
    }
    .and_then(|password| user_entry(&args.username, &password, args.algorithm));
    match entry {
        Ok(entry) => {
            println!("{}", serde_json::to_string_pretty(&entry).expect("a JSON object prints"));
            0
        }
        Err(e) => {
            eprintln!("schemata passwd: {e}");
            1
        }
    }
}

/// A `users` entry of the auth file: `{"username", "algorithm", "salt", "password_hash"}`.
pub fn user_entry(username: &str, password: &str, algorithm: Algorithm) -> Result<Value, String> {
    if username.is_empty() {
        return Err("empty username".into());
    }
    if password.is_empty() {
        return Err("empty password".into());
    }
    let hash = PasswordHash::generate(algorithm, password)?;
    Ok(json!({
        "username": username,
        "algorithm": algorithm.name(),
        "salt": hash.salt(),
        "password_hash": hash.encoded(),
    }))
}

/// The first line of stdin, without its line ending; other whitespace is part of the password.
fn read_password(username: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // No way to turn echo off without a terminal library; say so rather than surprise.
        eprint!("Password for {username} (shown as typed; pipe it in to hide it): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| format!("reading the password from stdin: {e}"))?;
    Ok(strip_line_ending(&line).to_string())
}

fn strip_line_ending(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Operation, Resource, Rules};

    #[test]
    fn a_generated_entry_verifies_in_an_auth_file() {
        for algorithm in [Algorithm::Scrypt, Algorithm::Sha256] {
            let entry = user_entry("alice", "correct horse", algorithm).unwrap();
            let keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["username", "algorithm", "salt", "password_hash"], "Karapace's field order");
            assert_eq!(entry["algorithm"], algorithm.name());
            let file = json!({
                "users": [entry],
                "permissions": [{"username": "alice", "operation": "Write", "resource": "Subject:alice-.*"}],
            });
            let rules = Rules::parse(&file.to_string()).unwrap();
            assert!(rules.verify_password("alice", "correct horse"));
            assert!(!rules.verify_password("alice", "correct horse "));
            assert!(rules.allows("alice", Operation::Write, &Resource::Subject("alice-orders")));
        }
    }

    #[test]
    fn refuses_empty_names_and_passwords() {
        assert_eq!(user_entry("", "pw", Algorithm::Sha1).unwrap_err(), "empty username");
        assert_eq!(user_entry("alice", "", Algorithm::Sha1).unwrap_err(), "empty password");
    }

    #[test]
    fn only_the_line_ending_is_stripped_from_stdin() {
        assert_eq!(strip_line_ending("pw\n"), "pw");
        assert_eq!(strip_line_ending("pw\r\n"), "pw");
        assert_eq!(strip_line_ending(" pw \n"), " pw ");
        assert_eq!(strip_line_ending("pw"), "pw");
        assert_eq!(strip_line_ending("pw\n\n"), "pw\n");
    }
}

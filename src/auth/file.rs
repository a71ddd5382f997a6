//! The auth file on disk, re-read when it changes so that users and permissions can be edited
//! without a restart (as Karapace does). A background thread polls the file's modification
//! time and length; a good new file replaces the rules and bumps the generation (which
//! invalidates [`super::CredentialCache`] entries), a broken one is logged and the previous
//! rules stay in force. A broken file at start is an error: better not to serve than to serve
//! with nobody able to log in.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};

use super::Rules;

/// How often the file is checked for changes.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The loaded auth file and the thread that keeps it current; dropping it stops the thread.
pub struct AuthFile {
    shared: Arc<Shared>,
    /// Dropped to wake and stop the thread.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    path: PathBuf,
    /// The generation (1 for the file read at start) and its rules, swapped together.
    current: RwLock<(u64, Arc<Rules>)>,
    /// What the file looked like when last read, loaded or not; `None`: it could not be read.
    seen: Mutex<Option<Stamp>>,
}

/// Enough of the file's metadata to notice an edit or a replacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl AuthFile {
    /// Reads the file and starts watching it.
    pub fn open(path: impl Into<PathBuf>) -> Result<AuthFile, String> {
        AuthFile::open_polling(path, POLL_INTERVAL)
    }

    /// As [`AuthFile::open`], checking the file every `interval` (for tests).
    pub fn open_polling(path: impl Into<PathBuf>, interval: Duration) -> Result<AuthFile, String> {
        let path = path.into();
        let (stamp, rules) = read(&path)?;
        tracing::info!(
            "auth file {}: {} users, {} permissions",
            path.display(),
            rules.user_count(),
            rules.permission_count()
        );
        let shared =
            Arc::new(Shared { path, current: RwLock::new((1, Arc::new(rules))), seen: Mutex::new(Some(stamp)) });
        let (stop, stopped) = mpsc::channel::<()>();
        let watched = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("auth-file".into())
            .spawn(move || {
                // Nothing is ever sent: the sender's drop ends the wait with `Disconnected`.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    watched.reload_if_changed();
                }
            })
            .map_err(|e| format!("cannot start the auth file watcher: {e}"))?;
        Ok(AuthFile { shared, stop: Some(stop), thread: Some(thread) })
    }

    /// The rules in force and their generation, which changes whenever the rules do.
    pub fn current(&self) -> (u64, Arc<Rules>) {
        let current = self.shared.current.read();
        (current.0, Arc::clone(&current.1))
    }

    /// Checks the file now rather than at the next poll (e.g. on SIGHUP); true if new rules
    /// were loaded.
    pub fn reload_if_changed(&self) -> bool {
        self.shared.reload_if_changed()
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }
}

impl Drop for AuthFile {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // It wakes at once and at most finishes one reload; a panic there was logged.
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn reload_if_changed(&self) -> bool {
        // One reload at a time: the watcher and a caller of `reload_if_changed` could race.
        let mut seen = self.seen.lock();
        let stamp = stamp(&self.path).ok();
        if stamp == *seen {
            return false;
        }
        match read(&self.path) {
            Ok((stamp, rules)) => {
                *seen = Some(stamp);
                let mut current = self.current.write();
                *current = (current.0 + 1, Arc::new(rules));
                tracing::info!(
                    "auth file {} reloaded: {} users, {} permissions (generation {})",
                    self.path.display(),
                    current.1.user_count(),
                    current.1.permission_count(),
                    current.0
                );
                true
            }
            Err(e) => {
                // Remembered, so that a broken file is reported once, not at every poll.
                *seen = stamp;
                tracing::warn!("{e}; keeping the previous users and permissions");
                false
            }
        }
    }
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let meta = std::fs::metadata(path)?;
    Ok(Stamp { modified: meta.modified().ok(), len: meta.len() })
}

/// Stamps before reading: a write that lands in between changes the stamp again, so it is
/// read at the next poll rather than missed.
fn read(path: &Path) -> Result<(Stamp, Rules), String> {
    let failed = |e: String| format!("auth file {}: {e}", path.display());
    let stamp = stamp(path).map_err(|e| failed(e.to_string()))?;
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let rules = Rules::parse(&text).map_err(failed)?;
    Ok((stamp, rules))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// One sha1 user (password "s3cret-pw", fixture from `hash.rs`) with these permissions.
    fn file_text(user: &str, resource: &str) -> String {
        format!(
            r#"{{"users": [{{"username": "{user}", "algorithm": "sha1", "salt": "c2FsdHlzYWx0",
                "password_hash": "UfXTLXAfgOxBCsX5d3O4Hu35QCY="}}],
               "permissions": [{{"username": "{user}", "operation": "Read", "resource": "{resource}"}}]}}"#
        )
    }

    /// Writes so that the stamp surely changes, even on file systems with coarse times.
    fn rewrite(path: &Path, text: &str) {
        let before = stamp(path).ok();
        std::fs::write(path, text).unwrap();
        if stamp(path).ok() == before {
            let later = SystemTime::now() + Duration::from_secs(2);
            std::fs::File::options().write(true).open(path).unwrap().set_modified(later).unwrap();
        }
    }

    #[test]
    fn a_broken_file_at_start_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        let err = AuthFile::open(&path).err().unwrap();
        assert!(err.starts_with(&format!("auth file {}:", path.display())), "{err}");
        std::fs::write(&path, r#"{"users": []}"#).unwrap();
        let err = AuthFile::open(&path).err().unwrap();
        assert!(err.contains("missing field `permissions`"), "{err}");
    }

    #[test]
    fn reloads_good_files_and_keeps_the_rules_over_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, file_text("alice", "Subject:a")).unwrap();
        // A poll interval long enough that only the explicit reloads below happen.
        let file = AuthFile::open_polling(&path, Duration::from_secs(3600)).unwrap();
        let (generation, rules) = file.current();
        assert_eq!(generation, 1);
        assert!(rules.verify_password("alice", "s3cret-pw"));
        assert!(!file.reload_if_changed(), "unchanged");

        rewrite(&path, &file_text("bob", "Subject:b"));
        assert!(file.reload_if_changed());
        let (generation, rules) = file.current();
        assert_eq!(generation, 2);
        assert!(rules.verify_password("bob", "s3cret-pw"));
        assert!(!rules.verify_password("alice", "s3cret-pw"));

        rewrite(&path, r#"{"users": [], "permissions": [{"username": "bob"}]}"#);
        assert!(!file.reload_if_changed(), "broken");
        assert_eq!(file.current().0, 2);
        assert!(file.current().1.verify_password("bob", "s3cret-pw"));

        std::fs::remove_file(&path).unwrap();
        assert!(!file.reload_if_changed(), "missing");
        assert_eq!(file.current().0, 2);

        std::fs::write(&path, file_text("carol", "Subject:c")).unwrap();
        assert!(file.reload_if_changed(), "back");
        assert_eq!(file.current().0, 3);
        assert!(file.current().1.verify_password("carol", "s3cret-pw"));
        // Holders of the old rules keep a consistent view.
        assert!(rules.verify_password("bob", "s3cret-pw"));
    }

    #[test]
    fn the_watcher_thread_picks_up_changes_and_stops_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, file_text("alice", "Subject:a")).unwrap();
        let file = AuthFile::open_polling(&path, Duration::from_millis(10)).unwrap();
        rewrite(&path, &file_text("bob", "Subject:b"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while file.current().0 == 1 {
            assert!(Instant::now() < deadline, "no reload within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(file.current().1.verify_password("bob", "s3cret-pw"));

        let started = Instant::now();
        drop(file);
        assert!(started.elapsed() < Duration::from_secs(5), "drop waits for the thread, which stops at once");
    }
}

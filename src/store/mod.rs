//! Durable state in sled plus the in-memory index every read uses.
//!
//! Writes are planned one at a time and committed in groups (group commit): a write computes
//! its `Change`s against the writer's head state (the published index plus every write queued
//! before it), and whichever writer finds no commit running takes every queued write, commits
//! them in one sled transaction across the trees, flushes and fsyncs it once, and only then
//! publishes them to the index and wakes their writers. So an answered write is on disk, one
//! fsync serves many concurrent writers, a failed commit fails every write in it (and the ones
//! planned on top of it) and leaves disk and index untouched, and readers never see a state
//! that is not durable.

pub mod index;

use std::fs::File;
use std::path::{Path, PathBuf};

use fs2::FileExt;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex, RwLock, RwLockReadGuard};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

pub use index::{Change, Index, StoredSchema};

use crate::registry::error::{RegistryError, Result};
use crate::registry::model::{Config, Mode, SchemaRecord, Scope, VersionState};

/// Bumped when the layout of the data directory changes; an unknown version is refused.
pub const FORMAT_VERSION: u32 = 1;

/// Why a data directory could not be opened. Reported at start, before serving.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create or read the data directory {0}: {1}")]
    Directory(PathBuf, std::io::Error),
    #[error("the data directory {0} is in use by another running schemata instance")]
    Locked(PathBuf),
    #[error("cannot open the database in {0}: {1}")]
    Database(PathBuf, sled::Error),
    #[error("the data directory {0} has format version {1}; this build reads version {FORMAT_VERSION}")]
    UnknownFormat(PathBuf, u32),
    #[error("the data directory {0} holds a damaged record ({1})")]
    Corrupt(PathBuf, String),
}

pub struct Store {
    db: sled::Db,
    schemas: sled::Tree,
    versions: sled::Tree,
    configs: sled::Tree,
    modes: sled::Tree,
    meta: sled::Tree,
    /// Context names, the keys only: a context stays listed after its last subject is gone.
    contexts: sled::Tree,
    /// The published state: durable writes only. Every read uses it.
    index: RwLock<Index>,
    writer: Mutex<Writer>,
    /// Signalled when a commit ends, for the writers waiting on it.
    committed: Condvar,
    /// How many commits were published; bumped under the writer lock and the index lock.
    published: AtomicU64,
    /// Held for the life of the store so that a second instance cannot open the directory.
    _lock: File,
    /// sled's log file and blob directory, synced after each flush (see `sync_to_disk`).
    log_file: File,
    blob_dir: PathBuf,
    /// Blob files already synced, so that each is synced once.
    synced_blobs: Mutex<HashSet<std::ffi::OsString>>,
}

/// What `Store::plan_published` found.
pub enum Planned<T> {
    /// The plan writes nothing (or failed): its answer stands as is.
    Answered(Result<T>),
    /// The plan writes: hand it to `Store::write_queued`.
    Write(Pending<T>),
}

/// A plan made against the published state, reusable while that is still the head state.
pub struct Pending<T> {
    generation: u64,
    changes: Vec<Change>,
    answer: T,
}

/// Planned writes by ticket, in plan order.
type Batch = Vec<(u64, Vec<Change>)>;

/// The write queue, under `Store::writer`.
#[derive(Default)]
struct Writer {
    /// The published index plus every committing and queued change: what a plan sees when
    /// other writes are in flight. Built (a clone of the index, sharing the schemas) only
    /// when first needed that way, so a server whose writes never overlap has none; dropped
    /// after a failed commit.
    head: Option<Index>,
    /// Planned writes waiting for the next commit, in plan order.
    queue: Batch,
    /// The writes being committed, in plan order; shared with the committing writer.
    committing_batch: Option<Arc<Batch>>,
    next_ticket: u64,
    /// True while one writer runs a commit with the lock released.
    committing: bool,
    /// The outcome of committed writes whose writers have not yet picked it up.
    outcomes: HashMap<u64, Result<()>>,
}

const NEXT_ID: &[u8] = b"next_id";
/// sled's page cache size.
const CACHE_BYTES: u64 = 1024 * 1024;
const FORMAT: &[u8] = b"format_version";

impl Store {
    pub fn open(dir: &Path) -> std::result::Result<Store, OpenError> {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::Directory(dir.into(), e))?;
        let lock = File::create(dir.join("schemata.lock")).map_err(|e| OpenError::Directory(dir.into(), e))?;
        lock.try_lock_exclusive().map_err(|_| OpenError::Locked(dir.into()))?;
        let db_err = |e| OpenError::Database(dir.into(), e);
        // Every read is served by the index, so sled's page cache only serves writes: a small
        // one keeps the pages read while loading from staying resident (default: 1 GiB).
        let db = sled::Config::new().path(dir.join("db")).cache_capacity(CACHE_BYTES).open().map_err(db_err)?;
        let log_file = File::open(dir.join("db").join("db")).map_err(|e| OpenError::Directory(dir.into(), e))?;
        let tree = |name: &str| db.open_tree(name).map_err(db_err);
        let store = Store {
            schemas: tree("schemas")?,
            versions: tree("versions")?,
            configs: tree("configs")?,
            modes: tree("modes")?,
            meta: tree("meta")?,
            contexts: tree("contexts")?,
            db,
            index: RwLock::new(Index::default()),
            writer: Mutex::new(Writer::default()),
            committed: Condvar::new(),
            published: AtomicU64::new(0),
            _lock: lock,
            log_file,
            blob_dir: dir.join("db").join("blobs"),
            synced_blobs: Mutex::new(HashSet::new()),
        };
        store.check_format(dir)?;
        let index = store.load().map_err(|e| OpenError::Corrupt(dir.into(), e))?;
        *store.index.write() = index;
        Ok(store)
    }

    fn check_format(&self, dir: &Path) -> std::result::Result<(), OpenError> {
        let db_err = |e| OpenError::Database(dir.into(), e);
        match self.meta.get(FORMAT).map_err(db_err)? {
            Some(v) => {
                let found = read_u32(&v).map_err(|e| OpenError::Corrupt(dir.into(), e))?;
                if found != FORMAT_VERSION {
                    return Err(OpenError::UnknownFormat(dir.into(), found));
                }
            }
            None => {
                self.meta.insert(FORMAT, &FORMAT_VERSION.to_be_bytes()).map_err(db_err)?;
                self.db.flush().map_err(db_err)?;
            }
        }
        Ok(())
    }

    /// Rebuilds the index from the trees.
    fn load(&self) -> std::result::Result<Index, String> {
        let mut index = Index::default();
        let bad = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
        for item in self.schemas.iter() {
            let (k, v) = item.map_err(|e| bad("schemas", &e))?;
            let record: SchemaRecord = serde_json::from_slice(&v).map_err(|e| bad("schema record", &e))?;
            index.apply(Change::PutSchema(read_u32(&k)?, record));
        }
        for item in self.versions.iter() {
            let (k, v) = item.map_err(|e| bad("versions", &e))?;
            let (subject, version) = decode_version_key(&k)?;
            let state: VersionState = serde_json::from_slice(&v).map_err(|e| bad("version record", &e))?;
            index.apply(Change::PutVersion(subject, version, state));
        }
        for item in self.configs.iter() {
            let (k, v) = item.map_err(|e| bad("configs", &e))?;
            let config: Config = serde_json::from_slice(&v).map_err(|e| bad("config record", &e))?;
            index.apply(Change::PutConfig(decode_scope(&k)?, config));
        }
        for item in self.modes.iter() {
            let (k, v) = item.map_err(|e| bad("modes", &e))?;
            let mode: Mode = serde_json::from_slice(&v).map_err(|e| bad("mode record", &e))?;
            index.apply(Change::PutMode(decode_scope(&k)?, mode));
        }
        for item in self.contexts.iter() {
            let (k, _) = item.map_err(|e| bad("contexts", &e))?;
            index.apply(Change::PutContext(String::from_utf8(k.to_vec()).map_err(|e| bad("context name", &e))?));
        }
        if let Some(v) = self.meta.get(NEXT_ID).map_err(|e| bad("meta", &e))? {
            index.apply(Change::SetNextId(read_u32(&v)?));
        }
        index.next_id = index.next_id.max(1);
        Ok(index)
    }

    /// True when the database answers a read; the readiness probe.
    pub fn healthy(&self) -> bool {
        self.meta.get(FORMAT).is_ok()
    }

    /// Flushes sled on shutdown. Writes are flushed as they commit; this is belt and braces
    /// for sled's own background state before the process exits.
    pub fn flush(&self) -> std::result::Result<(), String> {
        self.db.flush().map(|_| ()).map_err(|e| e.to_string())
    }

    /// A consistent view of the current state, for reads.
    pub fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read()
    }

    /// Runs one write: `plan` sees the current state and returns the changes to make and the
    /// answer to give; the answer is returned only once the changes are on disk.
    ///
    /// `plan` first runs against the published (durable) state without the writer lock: a
    /// plan that changes nothing (a re-registration, a refusal) is answered from there. A plan
    /// that changes something is used as is when no other write is queued or committing and
    /// nothing was published since (the head state is then the state it saw); otherwise it
    /// runs again under the writer lock against the head state. Either way each write sees
    /// every write queued before it, exactly as if writes ran one at a time; its changes then
    /// wait for a group commit. If that commit fails, this write fails too.
    pub fn write<T>(&self, plan: impl Fn(&Index) -> Result<(Vec<Change>, T)>) -> Result<T> {
        match self.plan_published(&plan) {
            Planned::Answered(answer) => answer,
            Planned::Write(pending) => self.write_queued(plan, Some(pending)),
        }
    }

    /// Runs `plan` against the published state. Never blocks on the disk, so async handlers
    /// may call it and leave only real writes (`write_queued`) to a blocking thread.
    pub fn plan_published<T>(&self, plan: impl Fn(&Index) -> Result<(Vec<Change>, T)>) -> Planned<T> {
        let index = self.index.read();
        let generation = self.published.load(Ordering::Acquire);
        match plan(&index) {
            Ok((changes, answer)) if changes.is_empty() => Planned::Answered(Ok(answer)),
            Ok((changes, answer)) => Planned::Write(Pending { generation, changes, answer }),
            Err(e) => Planned::Answered(Err(e)),
        }
    }

    /// The writing half of `write`: plans against the head state (or takes `pending` when
    /// the head is still the state it was planned on) and waits for the group commit.
    pub fn write_queued<T>(
        &self,
        plan: impl Fn(&Index) -> Result<(Vec<Change>, T)>,
        pending: Option<Pending<T>>,
    ) -> Result<T> {
        let mut w = self.writer.lock();
        // With nothing queued or committing, the head state is the published one; `published`
        // only moves under the writer lock, so an unchanged count means an unchanged state.
        let idle = w.queue.is_empty() && !w.committing;
        let fresh = pending.filter(|p| idle && p.generation == self.published.load(Ordering::Acquire));
        let (changes, answer) = match fresh {
            Some(p) => (p.changes, p.answer),
            None => plan(self.head(&mut w))?,
        };
        if let Some(head) = w.head.as_mut() {
            for change in &changes {
                head.apply_sharing(change.clone(), None);
            }
        }
        // Queued even when empty: the answer may rest on queued writes, so it waits for them.
        let ticket = w.next_ticket;
        w.next_ticket += 1;
        w.queue.push((ticket, changes));
        loop {
            if let Some(outcome) = w.outcomes.remove(&ticket) {
                return outcome.map(|()| answer);
            }
            if w.committing {
                self.committed.wait(&mut w);
                continue;
            }
            w.committing = true;
            let batch = Arc::new(std::mem::take(&mut w.queue));
            w.committing_batch = Some(batch.clone());
            let result = parking_lot::MutexGuard::unlocked(&mut w, || {
                self.persist(batch.iter().flat_map(|(_, changes)| changes))
            });
            w.committing_batch = None;
            match result {
                Ok(()) => {
                    let w = &mut *w;
                    let head = w.head.as_ref();
                    let mut index = self.index.write();
                    self.published.fetch_add(1, Ordering::AcqRel);
                    for (t, changes) in batch.iter() {
                        for change in changes {
                            index.apply_sharing(change.clone(), head);
                        }
                        w.outcomes.insert(*t, Ok(()));
                    }
                }
                Err(e) => {
                    // Writes queued meanwhile were planned on top of the failed ones: fail
                    // them too, and plan again from the published state.
                    let later = std::mem::take(&mut w.queue);
                    for (t, _) in batch.iter().chain(&later) {
                        w.outcomes.insert(*t, Err(e.clone()));
                    }
                    w.head = None;
                }
            }
            w.committing = false;
            self.committed.notify_all();
        }
    }

    /// The head state, built when first needed: the published index plus the committing and
    /// the queued changes (all of them, as the head would have had them applied).
    fn head<'a>(&self, w: &'a mut Writer) -> &'a mut Index {
        if w.head.is_none() {
            let mut head = self.index.read().clone();
            let committing = w.committing_batch.iter().flat_map(|b| b.iter());
            for (_, changes) in committing.chain(&w.queue) {
                for change in changes {
                    head.apply_sharing(change.clone(), None);
                }
            }
            w.head = Some(head);
        }
        w.head.as_mut().expect("head built above")
    }

    /// Commits `changes` in one transaction across the trees and flushes them to disk.
    fn persist<'a>(&self, changes: impl Iterator<Item = &'a Change> + Clone) -> Result<()> {
        let trees = (&self.schemas, &self.versions, &self.configs, &self.modes, &self.meta, &self.contexts);
        let result: std::result::Result<(), TransactionError<String>> =
            trees.transaction(|(schemas, versions, configs, modes, meta, contexts)| {
                let enc =
                    |v: serde_json::Result<Vec<u8>>| v.map_err(|e| ConflictableTransactionError::Abort(e.to_string()));
                for change in changes.clone() {
                    match change {
                        Change::PutSchema(id, record) => {
                            schemas.insert(&id.to_be_bytes(), enc(serde_json::to_vec(record))?)?;
                        }
                        Change::DeleteSchema(id) => {
                            schemas.remove(&id.to_be_bytes())?;
                        }
                        Change::PutVersion(subject, version, state) => {
                            versions.insert(version_key(subject, *version), enc(serde_json::to_vec(state))?)?;
                        }
                        Change::DeleteVersion(subject, version) => {
                            versions.remove(version_key(subject, *version))?;
                        }
                        Change::PutConfig(scope, config) => {
                            configs.insert(scope_key(scope), enc(serde_json::to_vec(config))?)?;
                        }
                        Change::DeleteConfig(scope) => {
                            configs.remove(scope_key(scope))?;
                        }
                        Change::PutMode(scope, mode) => {
                            modes.insert(scope_key(scope), enc(serde_json::to_vec(mode))?)?;
                        }
                        Change::DeleteMode(scope) => {
                            modes.remove(scope_key(scope))?;
                        }
                        Change::SetNextId(next) => {
                            meta.insert(NEXT_ID, &next.to_be_bytes())?;
                        }
                        Change::PutContext(context) => {
                            contexts.insert(context.as_bytes(), &[])?;
                        }
                    }
                }
                Ok(())
            });
        result.map_err(|e| match e {
            TransactionError::Abort(msg) => RegistryError::Store(msg),
            TransactionError::Storage(e) => RegistryError::from(e),
        })?;
        self.db.flush()?;
        self.sync_to_disk().map_err(|e| RegistryError::Store(e.to_string()))
    }

    /// sled 0.34's `flush` ends with `sync_file_range` on Linux, which survives a crash of
    /// the process but neither flushes the drive's cache nor syncs file metadata, and it
    /// writes large items to blob files without any sync. So after each flush: fdatasync the
    /// log, fsync every blob file not yet synced and the blob directory. One group commit
    /// pays this once for all its writes.
    fn sync_to_disk(&self) -> std::io::Result<()> {
        self.log_file.sync_data()?;
        let mut synced = self.synced_blobs.lock();
        let mut new_blob = false;
        let mut present = HashSet::new();
        for entry in std::fs::read_dir(&self.blob_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if !synced.contains(&name) {
                match File::open(entry.path()) {
                    Ok(f) => f.sync_all()?,
                    // sled removed it meanwhile: nothing of it to keep.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                new_blob = true;
            }
            present.insert(name);
        }
        if new_blob {
            File::open(&self.blob_dir)?.sync_all()?;
        }
        // Forget blobs sled has removed.
        *synced = present;
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

/// Subject bytes, then 0xFF (never in UTF-8), then the version big-endian: ordered scans.
fn version_key(subject: &str, version: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(subject.len() + 5);
    key.extend_from_slice(subject.as_bytes());
    key.push(0xFF);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

fn decode_version_key(key: &[u8]) -> std::result::Result<(String, u32), String> {
    let split = key.len().checked_sub(5).filter(|&i| key[i] == 0xFF).ok_or("bad version key")?;
    let subject = String::from_utf8(key[..split].to_vec()).map_err(|e| e.to_string())?;
    Ok((subject, read_u32(&key[split + 1..])?))
}

fn scope_key(scope: &Scope) -> Vec<u8> {
    match scope {
        Scope::Global => b"g".to_vec(),
        Scope::Subject(s) => [b"s", s.as_bytes()].concat(),
    }
}

fn decode_scope(key: &[u8]) -> std::result::Result<Scope, String> {
    match key.split_first() {
        Some((b'g', [])) => Ok(Scope::Global),
        Some((b's', rest)) => Ok(Scope::Subject(String::from_utf8(rest.to_vec()).map_err(|e| e.to_string())?)),
        _ => Err("bad scope key".into()),
    }
}

fn read_u32(bytes: &[u8]) -> std::result::Result<u32, String> {
    <[u8; 4]>::try_from(bytes).map(u32::from_be_bytes).map_err(|_| "bad integer".to_string())
}

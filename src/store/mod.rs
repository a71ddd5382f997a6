//! The registry's state: the in-memory index every read uses, and the write path that makes
//! a change durable before it is published there.
//!
//! Writes are planned one at a time and committed in groups (group commit): a write computes
//! its `Change`s against the writer's head state (the published index plus every write queued
//! before it), and whichever writer finds no commit running takes every queued write and
//! commits them at once. That commit is the one seam between the registry and where its
//! state lives (`Store::commit`):
//! - embedded (default): one sled transaction across the trees, flushed and fsynced once,
//!   then published to the index (`local`);
//! - Kafka: the changes become records in Confluent's `_schemas` format, produced with
//!   acks=all; the node's reader applies them from the topic, exactly as it applies records
//!   other registries wrote, and the commit ends once it has (`kafka`).
//!
//! Either way an answered write is durable, one commit serves many concurrent writers, a
//! failed commit fails every write in it (and the ones planned on top of it), and readers
//! never see a state that is not durable.

pub mod error;
pub mod index;
pub mod kafka;
pub mod local;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex, RwLock, RwLockReadGuard};

pub use error::StoreError;
pub use index::{Change, Index, StoredSchema};
pub use local::{OpenError, FORMAT_VERSION};

use local::{Backend, Local};

pub struct Store {
    local: Local,
    /// Set on a Kafka-backed node: where commits go, and the reader that applies them.
    log: Option<Arc<kafka::KafkaLog>>,
    /// The published state: durable writes only. Every read uses it.
    index: RwLock<Index>,
    writer: Mutex<Writer>,
    /// Signalled when a commit ends, for the writers waiting on it.
    committed: Condvar,
    /// How many times the published state changed; bumped under the index write lock.
    published: AtomicU64,
}

/// What `Store::plan_published` found.
pub enum Planned<T, E> {
    /// The plan writes nothing (or failed): its answer stands as is.
    Answered(Result<T, E>),
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
    /// after a failed commit, and after every Kafka commit (the topic may hold records of
    /// other writers that the head never saw).
    head: Option<Index>,
    /// Planned writes waiting for the next commit, in plan order.
    queue: Batch,
    /// The writes being committed, in plan order; shared with the committing writer.
    committing_batch: Option<Arc<Batch>>,
    next_ticket: u64,
    /// True while one writer runs a commit with the lock released.
    committing: bool,
    /// The outcome of committed writes whose writers have not yet picked it up.
    outcomes: HashMap<u64, Result<(), StoreError>>,
}

impl Store {
    /// Opens the embedded store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, OpenError> {
        let (local, index) = Local::open(dir, &Backend::Embedded)?;
        Ok(Store::new(local, index, None))
    }

    /// Opens a Kafka-backed store: `dir` caches the topic's state. The reader starts at
    /// once and keeps retrying while the brokers cannot be reached; `ready` tells when the
    /// node has caught up.
    pub fn open_kafka(dir: &Path, settings: kafka::KafkaSettings) -> Result<Arc<Store>, OpenError> {
        let (local, index) = Local::open(dir, &Backend::Kafka(settings.topic.clone()))?;
        let log = Arc::new(kafka::KafkaLog::new(settings).map_err(|e| OpenError::Kafka(e.to_string()))?);
        let store = Arc::new(Store::new(local, index, Some(log.clone())));
        kafka::start_reader(store.clone(), log.clone());
        // A member id kept for the next start: a node restarted after a crash removes its
        // old membership instead of waiting for the group to expire it.
        let keeper = Arc::downgrade(&store);
        let incarnation = kafka::election::Incarnation {
            previous: store.local.member_id(),
            on_member_id: Some(Box::new(move |id: &str| {
                if let Some(store) = keeper.upgrade() {
                    store.local.set_member_id(id);
                }
            })),
        };
        kafka::KafkaLog::start_election(&log, incarnation);
        Ok(store)
    }

    fn new(local: Local, index: Index, log: Option<Arc<kafka::KafkaLog>>) -> Store {
        Store {
            local,
            log,
            index: RwLock::new(index),
            writer: Mutex::new(Writer::default()),
            committed: Condvar::new(),
            published: AtomicU64::new(0),
        }
    }

    /// `Ok` when the node can serve: the database answers reads and, on a Kafka-backed node,
    /// the state has caught up with the topic; else why not.
    pub fn ready(&self) -> Result<(), String> {
        if !self.local.healthy() {
            return Err("the local database does not answer reads".into());
        }
        match &self.log {
            Some(log) => log.ready(),
            None => Ok(()),
        }
    }

    /// The Kafka log's state, on a Kafka-backed node (for metrics).
    pub fn kafka(&self) -> Option<&kafka::KafkaLog> {
        self.log.as_deref()
    }

    /// Whether this node takes writes now; an embedded store always does.
    pub fn role(&self) -> kafka::NodeRole {
        self.log.as_ref().map_or(kafka::NodeRole::Leader, |log| log.role())
    }

    /// Flushes the local database on shutdown. Writes are durable as they commit; this is
    /// belt and braces for sled's own background state before the process exits.
    pub fn flush(&self) -> Result<(), StoreError> {
        if let Some(log) = &self.log {
            log.shutdown();
        }
        self.local.flush()
    }

    /// A consistent view of the current state, for reads that may take a while (listings,
    /// checks). Queues behind a commit waiting to publish, so that commits are never kept out.
    pub fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read()
    }

    /// The current state, for a read that holds it for microseconds (a lookup by key). It
    /// does not queue behind a commit waiting to publish, as `read` does: that commit may be
    /// waiting for a slow reader (a compatibility check), and every cheap read would wait with
    /// it. Only brief reads may come in this way, or overlapping ones could keep commits out.
    pub fn read_brief(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read_recursive()
    }

    /// Bytes the local database takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.local.size_on_disk()
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
    pub fn write<T, E: From<StoreError>>(&self, plan: impl Fn(&Index) -> Result<(Vec<Change>, T), E>) -> Result<T, E> {
        match self.plan_published(&plan) {
            Planned::Answered(answer) => answer,
            Planned::Write(pending) => self.write_queued(plan, Some(pending)),
        }
    }

    /// Runs `plan` against the published state. Never blocks on the disk, so async handlers
    /// may call it and leave only real writes (`write_queued`) to a blocking thread.
    pub fn plan_published<T, E>(&self, plan: impl Fn(&Index) -> Result<(Vec<Change>, T), E>) -> Planned<T, E> {
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
    pub fn write_queued<T, E: From<StoreError>>(
        &self,
        plan: impl Fn(&Index) -> Result<(Vec<Change>, T), E>,
        pending: Option<Pending<T>>,
    ) -> Result<T, E> {
        let mut w = self.writer.lock();
        // With nothing queued or committing, the head state is the published one, and an
        // unchanged `published` count means an unchanged state. (A Kafka reader also bumps it,
        // outside this lock, but only for records of this node's finished commits or of other
        // writers, which the cluster's single leader rules out.)
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
                return outcome.map(|()| answer).map_err(E::from);
            }
            if w.committing {
                self.committed.wait(&mut w);
                continue;
            }
            w.committing = true;
            let batch = Arc::new(std::mem::take(&mut w.queue));
            w.committing_batch = Some(batch.clone());
            let result = parking_lot::MutexGuard::unlocked(&mut w, || self.commit(&batch));
            w.committing_batch = None;
            match result {
                Ok(publish) => {
                    let w = &mut *w;
                    if publish {
                        let head = w.head.as_ref();
                        let mut index = self.index.write();
                        self.published.fetch_add(1, Ordering::AcqRel);
                        for (_, changes) in batch.iter() {
                            for change in changes {
                                index.apply_sharing(change.clone(), head);
                            }
                        }
                    } else {
                        w.head = None;
                    }
                    for (t, _) in batch.iter() {
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

    /// The seam: makes a batch of changes durable. True when the caller publishes them to the
    /// index; a Kafka commit returns once the reader has applied them from the topic.
    fn commit(&self, batch: &Batch) -> Result<bool, StoreError> {
        match &self.log {
            None => self.local.commit(batch.iter().flat_map(|(_, changes)| changes), None, true).map(|()| true),
            Some(log) => {
                let writes = batch.iter().map(|(_, changes)| changes.as_slice());
                let records = kafka::records::for_writes(writes, &self.index.read())?;
                log.append(records).map(|()| false)
            }
        }
    }

    /// Applies what the Kafka reader read: `apply` changes the index (under its write lock)
    /// and returns the changes it made, which are then cached locally with `offset`.
    fn apply_from_log(&self, offset: i64, apply: impl FnOnce(&mut Index) -> Vec<Change>) -> Result<(), StoreError> {
        let changes = {
            let mut index = self.index.write();
            let next_id = index.next_id;
            let mut changes = apply(&mut index);
            // The next id is cached too: a hard delete of the newest schema must not let a
            // restart hand its id out again.
            if index.next_id > next_id {
                changes.push(Change::SetNextId(index.next_id));
            }
            self.published.fetch_add(1, Ordering::AcqRel);
            changes
        };
        // The topic is the truth: the cache only has to match the offset stored with it.
        self.local.commit(changes.iter(), Some(offset), false)
    }

    /// Drops the local cache and the index: the topic is read again from its start.
    fn reset_from_log(&self) -> Result<(), StoreError> {
        let mut index = self.index.write();
        self.local.clear()?;
        *index = Index { next_id: 1, ..Index::default() };
        self.published.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}

//! Remembers recently verified credentials, because verifying a password hash is slow by
//! design (tens of milliseconds for scrypt) and clients send the same `Authorization` header
//! with every request.
//!
//! Keys are a SHA-256 of the whole header value under a random per-process key, so neither
//! the header nor the password is kept, and a memory dump does not give hashes that can be
//! attacked offline as plain SHA-256. Only successes are cached: a wrong password always costs
//! a full verification. An entry is valid for one auth file generation and a limited time, so
//! a removed user or changed password stops working at the next reload.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

/// Default bound on entries: far more clients than a registry has, small in memory (~1 MB).
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Default lifetime of an entry.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);

type Key = [u8; 32];

/// A bounded, expiring map from `Authorization` header to the user it authenticated.
pub struct CredentialCache {
    capacity: usize,
    ttl: Duration,
    /// Prefix of every hashed header, random per process.
    secret: [u8; 32],
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// The newest file generation seen; older entries are all dropped when it moves on.
    generation: u64,
}

struct Entry {
    username: String,
    generation: u64,
    expires: Instant,
}

impl CredentialCache {
    /// A cache of [`DEFAULT_CAPACITY`] entries living [`DEFAULT_TTL`].
    pub fn new() -> CredentialCache {
        CredentialCache::with_limits(DEFAULT_CAPACITY, DEFAULT_TTL)
    }

    /// A cache of at most `capacity` entries (0 disables it) living `ttl` each.
    pub fn with_limits(capacity: usize, ttl: Duration) -> CredentialCache {
        let mut secret = [0u8; 32];
        // Without OS randomness the key is merely fixed: the cache still works.
        if let Err(e) = getrandom::fill(&mut secret) {
            tracing::warn!("no randomness for the credential cache key: {e}");
        }
        CredentialCache { capacity, ttl, secret, inner: Mutex::new(Inner::default()) }
    }

    /// The user this exact header authenticated under file `generation`, if still valid.
    pub fn get(&self, authorization: &[u8], generation: u64) -> Option<String> {
        self.get_at(authorization, generation, Instant::now())
    }

    /// Remembers that `authorization` authenticated `username` under file `generation`.
    /// Call only after a successful verification.
    pub fn insert(&self, authorization: &[u8], generation: u64, username: &str) {
        self.insert_at(authorization, generation, username, Instant::now())
    }

    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn key(&self, authorization: &[u8]) -> Key {
        Sha256::new().chain_update(self.secret).chain_update(authorization).finalize().into()
    }

    fn get_at(&self, authorization: &[u8], generation: u64, now: Instant) -> Option<String> {
        let key = self.key(authorization);
        let mut inner = self.inner.lock();
        inner.advance(generation);
        let entry = inner.entries.get(&key)?;
        if now >= entry.expires {
            inner.entries.remove(&key);
            return None;
        }
        // A request holding older rules than the cache has seen misses, and leaves the entry.
        (entry.generation == generation).then(|| entry.username.clone())
    }

    fn insert_at(&self, authorization: &[u8], generation: u64, username: &str, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        let key = self.key(authorization);
        let mut inner = self.inner.lock();
        inner.advance(generation);
        if generation < inner.generation {
            return; // verified against rules that have since been replaced
        }
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&key) {
            inner.entries.retain(|_, e| now < e.expires);
            if inner.entries.len() >= self.capacity {
                // Same lifetime for all: the soonest to expire is the oldest. The scan is
                // rare and cheap next to the verification that led here.
                let oldest = inner.entries.iter().min_by_key(|(_, e)| e.expires).map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    inner.entries.remove(&oldest);
                }
            }
        }
        inner.entries.insert(key, Entry { username: username.to_string(), generation, expires: now + self.ttl });
    }
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache::new()
    }
}

impl Inner {
    /// On a newer generation, drops everything cached under older ones.
    fn advance(&mut self, generation: u64) {
        if generation > self.generation {
            self.generation = generation;
            self.entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &[u8] = b"Basic YWxpY2U6czNjcmV0";
    const BOB: &[u8] = b"Basic Ym9iOmh1bnRlcjI=";

    #[test]
    fn remembers_a_header_until_it_expires() {
        let cache = CredentialCache::with_limits(10, Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(cache.get_at(ALICE, 1, t0), None);
        cache.insert_at(ALICE, 1, "alice", t0);
        assert_eq!(cache.get_at(ALICE, 1, t0 + Duration::from_secs(59)).as_deref(), Some("alice"));
        assert_eq!(cache.get_at(BOB, 1, t0), None);
        assert_eq!(cache.get_at(ALICE, 1, t0 + Duration::from_secs(60)), None, "expired");
        assert!(cache.is_empty(), "an expired entry is dropped when found");
    }

    #[test]
    fn keys_are_the_whole_header_and_not_the_header_itself() {
        let cache = CredentialCache::with_limits(10, Duration::from_secs(60));
        cache.insert(ALICE, 1, "alice");
        assert_eq!(cache.get(ALICE, 1).as_deref(), Some("alice"));
        assert_eq!(cache.get(&ALICE[..ALICE.len() - 1], 1), None);
        assert_eq!(cache.get(b"basic YWxpY2U6czNjcmV0", 1), None);
        let key = cache.key(ALICE);
        assert_ne!(key, <[u8; 32]>::from(Sha256::digest(ALICE)), "keyed per process");
        assert_ne!(key, CredentialCache::new().key(ALICE));
    }

    #[test]
    fn a_new_file_generation_invalidates_everything_older() {
        let cache = CredentialCache::with_limits(10, Duration::from_secs(60));
        let now = Instant::now();
        cache.insert_at(ALICE, 1, "alice", now);
        cache.insert_at(BOB, 1, "bob", now);
        assert_eq!(cache.get_at(ALICE, 2, now), None);
        assert!(cache.is_empty(), "all of generation 1 is gone, bob included");
        // A verification that finished against the old rules after the reload is not kept.
        cache.insert_at(BOB, 1, "bob", now);
        assert!(cache.is_empty());
        cache.insert_at(BOB, 2, "bob", now);
        assert_eq!(cache.get_at(BOB, 2, now).as_deref(), Some("bob"));
        // A request still holding generation 1's rules misses, without evicting the entry.
        assert_eq!(cache.get_at(BOB, 1, now), None);
        assert_eq!(cache.get_at(BOB, 2, now).as_deref(), Some("bob"));
        // An entry never answers for another generation, even one the cache has not seen.
        assert_eq!(cache.get_at(BOB, 3, now), None);
    }

    #[test]
    fn stays_within_capacity_evicting_the_oldest() {
        let cache = CredentialCache::with_limits(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let header = |i: u32| format!("Basic user{i}").into_bytes();
        for i in 0..3 {
            cache.insert_at(&header(i), 1, &format!("user{i}"), t0 + Duration::from_secs(i.into()));
        }
        cache.insert_at(&header(3), 1, "user3", t0 + Duration::from_secs(3));
        assert_eq!(cache.len(), 3);
        let later = t0 + Duration::from_secs(4);
        assert_eq!(cache.get_at(&header(0), 1, later), None, "the oldest went");
        for i in 1..4 {
            assert_eq!(cache.get_at(&header(i), 1, later), Some(format!("user{i}")));
        }
        // Re-inserting a present key does not evict anyone.
        cache.insert_at(&header(3), 1, "user3", later);
        assert_eq!(cache.len(), 3);
        assert!(cache.get_at(&header(1), 1, later).is_some());
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first() {
        let cache = CredentialCache::with_limits(3, Duration::from_secs(10));
        let t0 = Instant::now();
        cache.insert_at(b"a", 1, "a", t0);
        cache.insert_at(b"b", 1, "b", t0);
        cache.insert_at(b"c", 1, "c", t0 + Duration::from_secs(8));
        cache.insert_at(b"d", 1, "d", t0 + Duration::from_secs(11));
        assert_eq!(cache.len(), 2, "a and b had expired");
        let now = t0 + Duration::from_secs(12);
        assert_eq!(cache.get_at(b"c", 1, now).as_deref(), Some("c"));
        assert_eq!(cache.get_at(b"d", 1, now).as_deref(), Some("d"));
    }

    #[test]
    fn capacity_zero_disables_caching() {
        let cache = CredentialCache::with_limits(0, Duration::from_secs(60));
        cache.insert(ALICE, 1, "alice");
        assert_eq!(cache.get(ALICE, 1), None);
    }
}

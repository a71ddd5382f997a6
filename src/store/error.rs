//! What can go wrong below the registry: the local database, encoding, the Kafka log. The
//! registry maps these onto Confluent's error codes (50001 for a store failure, 50002 for a
//! timeout, 50004 when this node may not write); the store itself knows nothing of HTTP.

use std::sync::Arc;

/// A failed store operation. Cloned to every writer of a failed group commit, so sources
/// are shared behind `Arc`s.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the local database failed: {0}")]
    Database(#[source] Arc<sled::Error>),
    #[error("syncing the local database to disk failed: {0}")]
    Sync(#[source] Arc<std::io::Error>),
    #[error("a record could not be encoded: {0}")]
    Encode(String),
    /// The Kafka log refused or failed the write (the broker's or the client's reason).
    #[error("writing to the Kafka topic failed: {0}")]
    Kafka(String),
    /// No answer within the configured time: the write may or may not have landed.
    #[error("{0}")]
    Timeout(String),
    /// The node has not yet read the whole log, so it cannot plan a write safely.
    #[error("{0}")]
    NotReady(String),
    /// This node may not write: another node leads, none is known, or this one lost the
    /// leadership while writing (its records were then not applied).
    #[error("{0}")]
    NotLeader(String),
    /// The index names something it does not hold (a version's schema id): a damaged store,
    /// answered as an error rather than a panic of the worker.
    #[error("inconsistent state: {0}")]
    Inconsistent(String),
}

impl StoreError {
    /// A timeout or a node not ready: Confluent's 50002 rather than 50001.
    pub fn is_timeout(&self) -> bool {
        matches!(self, StoreError::Timeout(_) | StoreError::NotReady(_))
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Database(Arc::new(e))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Sync(Arc::new(e))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Encode(e.to_string())
    }
}

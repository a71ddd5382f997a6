//! The registry's view of its cluster: whether this node takes writes, and waiting until a
//! write another node made has been applied here (read-your-writes after forwarding).

use std::time::Duration;

use super::error::{RegistryError, Result};
use super::Registry;
pub use crate::store::kafka::NodeRole;

impl Registry {
    /// Whether this node takes writes now, or where they go.
    pub fn role(&self) -> NodeRole {
        self.store.role()
    }

    /// The URL this node gives the other nodes of its cluster, when it takes part in one.
    pub fn advertised_url(&self) -> Option<String> {
        let election = self.store.kafka()?.settings().election.as_ref()?;
        Some(election.identity.url())
    }

    /// The offset of the last record this node applied from its topic (Kafka-backed only).
    pub fn applied_offset(&self) -> Option<i64> {
        self.store.kafka().map(|log| log.applied())
    }

    /// How long a write may take, which also bounds waiting for a leader.
    pub fn write_timeout(&self) -> Duration {
        self.store.kafka().map_or(Duration::from_secs(10), |log| log.settings().timeout)
    }

    /// Waits until this node has applied the record at `offset`, or, when the leader did not
    /// say (Confluent and Karapace do not), everything in the topic as of now.
    pub fn wait_applied(&self, offset: Option<i64>) -> Result<()> {
        let Some(log) = self.store.kafka() else {
            return Ok(());
        };
        match offset {
            Some(offset) => log.wait_applied(offset),
            None => log.sync().map(|_| ()),
        }
        .map_err(RegistryError::from)
    }
}

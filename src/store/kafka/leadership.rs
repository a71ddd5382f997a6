//! Which node of a cluster writes. Every Kafka-backed node runs an `Elector` (the group
//! membership Confluent and Karapace use); this module turns its `Role` into what the rest
//! of the node acts on (`NodeRole`), and keeps two writers from ever both writing:
//!
//! 1. A node elected leader first reads the topic up to its end (a NOOP record, then waits
//!    until its reader has applied it), so it plans on every record a previous leader wrote.
//!    Until then it takes no writes.
//! 2. Before each produce the node checks its lease (`Elector::leading`): the role stands only
//!    while the coordinator has answered within the session timeout less one heartbeat
//!    interval, measured on the monotonic clock. A leader paused past its session timeout
//!    (SIGSTOP) or cut off from the brokers finds its lease expired before it writes again,
//!    even before its election thread has run.
//! 3. What a check cannot close (a produce already in flight when the lease ran out, or a
//!    broker that forms a new generation without waiting for the old leader, as tansu does)
//!    the log closes: every node's reader skips a SCHEMA record that would give a taken id to
//!    another schema or a written version another id (`records::Read::Conflict`), so the
//!    first writer in log order wins on every node alike, and the writer whose record was
//!    skipped answers 50004 instead of success.

use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use super::election::{Elector, Identity, Incarnation, Role, Timing};
use super::KafkaLog;

/// How this node joins the registry group.
#[derive(Clone, Debug)]
pub struct ElectionSettings {
    /// The URL other nodes forward writes to, and whether this node may lead.
    pub identity: Identity,
    /// The coordinator drops a member silent for this long; heartbeats go every third of it.
    pub session_timeout: Duration,
}

/// The node's part in the cluster, as the API acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeRole {
    /// This node takes writes (the elected leader, caught up; or a node without election).
    Leader,
    /// Writes go to the leader at this URL.
    Follower(String),
    /// No node may take writes now, and why.
    Unknown(String),
}

pub(super) struct Leadership {
    elector: Mutex<Option<Elector>>,
    state: Mutex<State>,
}

struct State {
    role: Role,
    /// The generation in which this node, as leader, has read the topic to its end.
    caught_up: Option<i32>,
    /// The last leader named (`""` for this node), and how many times that changed.
    last_leader: Option<String>,
    changes: u64,
}

impl Leadership {
    /// Joins the group and follows its elections for `log`, until `stop`.
    pub(super) fn start(log: &Arc<KafkaLog>, election: &ElectionSettings, incarnation: Incarnation) -> Arc<Leadership> {
        let leadership = Arc::new(Leadership { elector: Mutex::new(None), state: Mutex::new(State::new()) });
        if log.leadership.set(leadership.clone()).is_err() {
            panic!("the election is started once");
        }
        let session = election.session_timeout;
        let timing = Timing {
            session_timeout: session,
            heartbeat_interval: session / 3,
            rebalance_timeout: session.max(Duration::from_secs(30)),
            max_backoff: Duration::from_secs(10),
        };
        let weak = Arc::downgrade(log);
        let elector = Elector::start_member(
            log.settings.bootstrap.clone(),
            log.settings.group_id.clone(),
            election.identity.clone(),
            timing,
            incarnation,
            move |role| changed(&weak, role),
        );
        *leadership.elector.lock() = Some(elector);
        leadership
    }

    pub(super) fn role(&self) -> NodeRole {
        let state = self.state.lock();
        match &state.role {
            Role::Leader { generation } => {
                if state.caught_up != Some(*generation) {
                    return NodeRole::Unknown(
                        "this node was just elected leader and reads the topic to its end first".into(),
                    );
                }
                let leading = self.elector.lock().as_ref().and_then(Elector::leading);
                if leading != Some(*generation) {
                    return NodeRole::Unknown(
                        "this node's leadership lapsed: the group coordinator has not answered within the session \
                         timeout"
                            .into(),
                    );
                }
                NodeRole::Leader
            }
            Role::Follower { leader_url, .. } => NodeRole::Follower(leader_url.clone()),
            Role::Unknown => NodeRole::Unknown(
                "no leader is elected (the registry group is forming or rebalancing, or no leader-eligible node \
                 is up)"
                    .into(),
            ),
        }
    }

    pub(super) fn changes(&self) -> u64 {
        self.state.lock().changes
    }

    /// Leaves the group, so that the others elect a new leader at once.
    pub(super) fn stop(&self) {
        let elector = self.elector.lock().take();
        if let Some(elector) = elector {
            elector.stop();
        }
    }
}

impl State {
    fn new() -> State {
        State { role: Role::Unknown, caught_up: None, last_leader: None, changes: 0 }
    }
}

/// The elector's callback: records the role, and has a new leader catch up before it writes.
fn changed(log: &Weak<KafkaLog>, role: Role) {
    let Some(strong) = log.upgrade() else {
        return;
    };
    let Some(leadership) = strong.leadership.get() else {
        return;
    };
    {
        let mut state = leadership.state.lock();
        let named = match &role {
            Role::Leader { .. } => Some(String::new()),
            Role::Follower { leader_url, .. } => Some(leader_url.clone()),
            Role::Unknown => None,
        };
        if named.is_some() && named != state.last_leader {
            state.changes += 1;
            state.last_leader = named;
        }
        state.role = role.clone();
    }
    if let Role::Leader { generation } = role {
        let log = log.clone();
        let spawned =
            std::thread::Builder::new().name("leader-catch-up".into()).spawn(move || catch_up(&log, generation));
        if let Err(e) = spawned {
            tracing::error!("cannot start the leader's catch-up thread: {e}");
        }
    }
}

/// Reads the topic to its end as leader of `generation`, then lets the node write.
fn catch_up(log: &Weak<KafkaLog>, generation: i32) {
    loop {
        let Some(log) = log.upgrade() else {
            return;
        };
        let Some(leadership) = log.leadership.get() else {
            return;
        };
        let still_leader = || leadership.state.lock().role == Role::Leader { generation };
        if !still_leader() || log.stopping() {
            return;
        }
        match log.sync() {
            Ok(offset) => {
                let mut state = leadership.state.lock();
                if state.role == (Role::Leader { generation }) {
                    state.caught_up = Some(generation);
                    tracing::info!(offset, generation, "caught up with the topic as leader: taking writes");
                }
                return;
            }
            Err(e) => {
                tracing::warn!("the new leader cannot read the topic to its end yet ({e}); retrying");
                drop(log);
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

//! Leader election among registry nodes, the way Confluent Schema Registry and Karapace do
//! it, so that a Schemata node can join the same group as theirs.
//!
//! Several nodes may serve one `_schemas` topic, but only one of them may write to it (ids
//! and versions are computed from the state the writer has read). The nodes find out which
//! one through a Kafka consumer group of their own: group id `--kafka-group-id` (default
//! `schema-registry`), protocol type `"sr"`, one protocol `"v0"`. Each member sends its
//! identity as JSON metadata in JoinGroup (`encode_member_metadata`); the member Kafka names
//! group leader computes the assignment (`assign`: the leader-eligible member with the
//! smallest URL `scheme://host:port`) and hands it to every member through SyncGroup
//! (`Assignment`, JSON). Kafka's group leader and the registry leader are different things:
//! the first only does the arithmetic, the second takes the writes.
//!
//! `Elector` runs the member side in one thread over a blocking `TcpStream`: find the group
//! coordinator, join, sync, heartbeat, rejoin on a rebalance, reconnect with backoff when the
//! brokers are away, leave on stop. It reports the node's `Role` through a callback. The
//! wire encodings come from the `kafka-protocol` crate; the requests used (FindCoordinator
//! v3, JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v3) are supported by Apache Kafka
//! 2.4 to 4.x and by tansu.
//!
//! The role is `Unknown` (no leader known: a node must not write) from the moment a rebalance
//! starts, or the coordinator connection is lost, until the next assignment arrives: the
//! conservative choice (Confluent's older electors clear the leader on "Rebalance started";
//! newer ones keep it until the new assignment). A member that has had no answer from the
//! coordinator for the session timeout less one heartbeat interval gives its role up, before
//! the coordinator can drop it and let another node lead.
//!
//! tansu (the broker the tests run) differs from Kafka in ways this member copes with, within
//! the standard protocol: JoinGroup answers at once instead of waiting for every member (a
//! follower's SyncGroup then answers REBALANCE_IN_PROGRESS until the group leader has synced:
//! rejoin after 200 ms), a follower's rejoin is held 3 s by the broker, and after evicting a
//! member that stopped heartbeating it answers the rejoin with the same generation and the old
//! assignment (naming the dead leader) forever: a rejoin that yields no new generation after
//! REBALANCE_IN_PROGRESS makes this member leave and join as a new one, which re-forms the
//! group. Kafka always answers such a rejoin with a new generation, so this never fires there.
//!
//! Not done yet: SASL and TLS on the election connection (it is plain TCP; `--kafka-config`
//! security settings only apply to the librdkafka clients). `leadership` runs an `Elector`
//! for the store and decides from it whether this node may write.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, RequestHeader, ResponseHeader,
    SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use kafka_protocol::ResponseError;
use parking_lot::{Condvar, Mutex};
use serde::Serialize;
use serde_json::Value;

/// The group's protocol type, as Confluent and Karapace register it.
pub const PROTOCOL_TYPE: &str = "sr";
/// The one protocol (assignment format) of the group.
pub const PROTOCOL_NAME: &str = "v0";
/// The version of the metadata JSON this node sends (Confluent's).
pub const METADATA_VERSION: i32 = 1;
/// The version of the assignment JSON.
pub const ASSIGNMENT_VERSION: i32 = 1;
/// Assignment error: none.
pub const NO_ERROR: i16 = 0;
/// Assignment error: two members advertise the same URL (a misconfiguration).
pub const DUPLICATE_URLS: i16 = 1;

/// Client id sent with every request (tansu prefixes member ids with it).
const CLIENT_ID: &str = "schemata";

// Request versions, supported by Apache Kafka 2.4+ (4.0 included) and tansu 0.6.
const FIND_COORDINATOR_VERSION: i16 = 3;
const JOIN_GROUP_VERSION: i16 = 5;
const SYNC_GROUP_VERSION: i16 = 3;
const HEARTBEAT_VERSION: i16 = 3;
const LEAVE_GROUP_VERSION: i16 = 3;

// Kafka error codes the member acts on.
const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const NOT_COORDINATOR: i16 = 16;
const ILLEGAL_GENERATION: i16 = 22;
const UNKNOWN_MEMBER_ID: i16 = 25;
const REBALANCE_IN_PROGRESS: i16 = 27;
const MEMBER_ID_REQUIRED: i16 = 79;

/// Largest response accepted (a JoinGroup response to the group leader carries every
/// member's metadata: a few hundred bytes each).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// How a node presents itself to the group: the URL other nodes forward writes to, and
/// whether it may lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub leader_eligible: bool,
}

impl Identity {
    /// `scheme://host:port`, the string leaders are chosen by.
    pub fn url(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Confluent's member metadata (`SchemaRegistryIdentity`), field order included.
#[derive(Serialize)]
struct MetadataJson<'a> {
    version: i32,
    host: &'a str,
    port: u16,
    master_eligibility: bool,
    scheme: &'a str,
}

/// The JoinGroup metadata of this node: Confluent's version 1 JSON,
/// `{"version":1,"host":H,"port":P,"master_eligibility":B,"scheme":S}`.
pub fn encode_member_metadata(identity: &Identity) -> Vec<u8> {
    serde_json::to_vec(&metadata_json(identity)).expect("member metadata is JSON")
}

fn metadata_json(identity: &Identity) -> MetadataJson<'_> {
    MetadataJson {
        version: METADATA_VERSION,
        host: &identity.host,
        port: identity.port,
        master_eligibility: identity.leader_eligible,
        scheme: &identity.scheme,
    }
}

/// A member's identity from its JoinGroup metadata: Confluent's (version 1) or Karapace's
/// (version 2, with `karapace_version`); unknown fields are ignored. `scheme` defaults to
/// `http`; a member that does not say it is leader-eligible is not.
pub fn parse_member_metadata(bytes: &[u8]) -> Result<Identity, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("member metadata is not JSON: {e}"))?;
    identity_from_json(&value)
}

fn identity_from_json(value: &Value) -> Result<Identity, String> {
    let object = value.as_object().ok_or_else(|| format!("member metadata is not a JSON object: {value}"))?;
    if let Some(version) = object.get("version") {
        if !version.is_i64() && !version.is_u64() {
            return Err(format!("member metadata version is not an integer: {version}"));
        }
    }
    let host = match object.get("host") {
        Some(Value::String(host)) if !host.is_empty() => host.clone(),
        other => return Err(format!("member metadata has no host: {other:?}")),
    };
    let port = object
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| format!("member metadata has no valid port: {:?}", object.get("port")))?;
    let scheme = match object.get("scheme") {
        None | Some(Value::Null) => "http".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(format!("member metadata scheme is not a string: {other}")),
    };
    let leader_eligible = match object.get("master_eligibility") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("member metadata master_eligibility is not a boolean: {other}")),
    };
    Ok(Identity { scheme, host, port, leader_eligible })
}

/// What the group leader sends every member: who the registry leader is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// `NO_ERROR` or `DUPLICATE_URLS`.
    pub error: i16,
    /// The Kafka member id of the registry leader; `None`: no eligible member.
    pub leader: Option<String>,
    pub leader_identity: Option<Identity>,
}

#[derive(Serialize)]
struct AssignmentJson<'a> {
    version: i32,
    error: i16,
    master: Option<&'a str>,
    master_identity: Option<MetadataJson<'a>>,
}

impl Assignment {
    /// `{"version":1,"error":E,"master":ID|null,"master_identity":{...}|null}`, as Confluent
    /// writes it.
    pub fn encode(&self) -> Vec<u8> {
        let json = AssignmentJson {
            version: ASSIGNMENT_VERSION,
            error: self.error,
            master: self.leader.as_deref(),
            master_identity: self.leader_identity.as_ref().map(metadata_json),
        };
        serde_json::to_vec(&json).expect("assignment is JSON")
    }

    /// An assignment as Confluent, Karapace or Schemata wrote it.
    pub fn parse(bytes: &[u8]) -> Result<Assignment, String> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("assignment is not JSON: {e}"))?;
        let object = value.as_object().ok_or_else(|| format!("assignment is not a JSON object: {value}"))?;
        let error = match object.get("error") {
            None | Some(Value::Null) => NO_ERROR,
            Some(e) => e
                .as_i64()
                .and_then(|e| i16::try_from(e).ok())
                .ok_or_else(|| format!("assignment error is not a small integer: {e}"))?,
        };
        let leader = match object.get("master") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(other) => return Err(format!("assignment master is not a string: {other}")),
        };
        let leader_identity = match object.get("master_identity") {
            None | Some(Value::Null) => None,
            Some(identity) => Some(identity_from_json(identity)?),
        };
        Ok(Assignment { error, leader, leader_identity })
    }
}

/// The registry leader among `members` (Kafka member id, identity): the leader-eligible one
/// with the smallest URL. Two members with the same URL are a misconfiguration
/// (`DUPLICATE_URLS`, no leader), as Confluent reports it.
pub fn assign(members: &[(String, Identity)]) -> Assignment {
    let mut urls: Vec<String> = members.iter().map(|(_, identity)| identity.url()).collect();
    urls.sort();
    urls.dedup();
    if urls.len() != members.len() {
        return Assignment { error: DUPLICATE_URLS, leader: None, leader_identity: None };
    }
    let leader =
        members.iter().filter(|(_, identity)| identity.leader_eligible).min_by_key(|(_, identity)| identity.url());
    Assignment {
        error: NO_ERROR,
        leader: leader.map(|(id, _)| id.clone()),
        leader_identity: leader.map(|(_, identity)| identity.clone()),
    }
}

/// This node's part in the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// This node is the registry leader: it may write.
    Leader { generation: i32 },
    /// Another node leads; writes go to `leader_url`.
    Follower { leader_url: String, generation: i32 },
    /// No leader known: not joined yet, rebalancing, brokers away, no eligible member, or a
    /// misconfigured group.
    Unknown,
}

/// The member's timeouts.
#[derive(Clone, Debug)]
pub struct Timing {
    /// The coordinator drops a member it has not heard from for this long.
    pub session_timeout: Duration,
    /// How long the coordinator waits for members to rejoin during a rebalance.
    pub rebalance_timeout: Duration,
    /// Time between heartbeats (a third of the session timeout or less).
    pub heartbeat_interval: Duration,
    /// Longest wait between reconnection attempts (the wait doubles from 200 ms).
    pub max_backoff: Duration,
}

impl Default for Timing {
    /// Confluent's and Karapace's values: session 10 s, heartbeat 3 s.
    fn default() -> Timing {
        Timing {
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(3),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// What the election thread and its owner share.
struct Shared {
    stop: Mutex<bool>,
    wake: Condvar,
    /// The connection a call may be blocked on, shut down by `stop`.
    socket: Mutex<Option<TcpStream>>,
    role: Mutex<Role>,
    /// Until when the role stands without another answer from the coordinator: the send
    /// time of the last request it answered (it counts the session from the receipt, which
    /// is later) plus the session timeout less one heartbeat interval.
    lease: Mutex<Option<Instant>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        *self.stop.lock()
    }

    /// Sleeps up to `duration`; true when stopped meanwhile.
    fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut stop = self.stop.lock();
        while !*stop {
            if self.wake.wait_until(&mut stop, deadline).timed_out() {
                break;
            }
        }
        *stop
    }
}

/// A member of the registry group, running in its own thread until `stop`.
pub struct Elector {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Elector {
    /// Joins `group_id` at `bootstrap` (`HOST:PORT,...`) as `me`, with the default timing.
    /// `on_change` is called from the election thread with every new role (also a new
    /// generation of the same role); it must return quickly and must not stop or drop the
    /// `Elector` (that waits for the very thread running it).
    pub fn start(
        bootstrap: String,
        group_id: String,
        me: Identity,
        on_change: impl Fn(Role) + Send + 'static,
    ) -> Elector {
        Elector::start_with(bootstrap, group_id, me, Timing::default(), on_change)
    }

    /// `start` with given timeouts.
    pub fn start_with(
        bootstrap: String,
        group_id: String,
        me: Identity,
        timing: Timing,
        on_change: impl Fn(Role) + Send + 'static,
    ) -> Elector {
        Elector::start_member(bootstrap, group_id, me, timing, Incarnation::default(), on_change)
    }

    /// `start_with`, first removing the member this node was before a crash (`previous`) so
    /// that the group need not wait out its session timeout (with a dead member that sorts
    /// first, no write could be made meanwhile), and reporting each member id it is given
    /// (`on_member_id`) for the next start to remove.
    pub fn start_member(
        bootstrap: String,
        group_id: String,
        me: Identity,
        timing: Timing,
        incarnation: Incarnation,
        on_change: impl Fn(Role) + Send + 'static,
    ) -> Elector {
        let shared = Arc::new(Shared {
            stop: Mutex::new(false),
            wake: Condvar::new(),
            socket: Mutex::new(None),
            role: Mutex::new(Role::Unknown),
            lease: Mutex::new(None),
        });
        let member = Member {
            shared: shared.clone(),
            bootstrap,
            group_id,
            metadata: encode_member_metadata(&me),
            me,
            timing,
            on_change: Box::new(on_change),
            member_id: String::new(),
            coordinator: None,
            incarnation,
        };
        let thread = std::thread::Builder::new()
            .name("kafka-election".into())
            .spawn(move || member.run())
            .expect("spawn the election thread");
        Elector { shared, thread: Some(thread) }
    }

    /// The node's current role.
    pub fn role(&self) -> Role {
        self.shared.role.lock().clone()
    }

    /// The generation this node leads, while its lease lasts. Unlike `role`, this needs no
    /// help from the election thread: a process paused past its session timeout (SIGSTOP, a
    /// long GC-like stall) finds its lease expired the moment it runs again, before the
    /// thread has noticed that another node was elected.
    pub fn leading(&self) -> Option<i32> {
        let role = self.shared.role.lock();
        let Role::Leader { generation } = *role else {
            return None;
        };
        let lease = *self.shared.lease.lock();
        lease.filter(|until| Instant::now() < *until).map(|_| generation)
    }

    /// Leaves the group (LeaveGroup, so that the others rebalance at once rather than after
    /// the session timeout) and ends the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        {
            let mut stop = self.shared.stop.lock();
            *stop = true;
            self.shared.wake.notify_all();
        }
        if let Some(socket) = self.shared.socket.lock().take() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Elector {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Why a group session ended.
enum End {
    Stopped,
    /// Find the coordinator again (after a wait) for this reason.
    Reconnect(String),
}

/// The election thread's state.
struct Member {
    shared: Arc<Shared>,
    bootstrap: String,
    group_id: String,
    me: Identity,
    metadata: Vec<u8>,
    timing: Timing,
    on_change: Box<dyn Fn(Role) + Send>,
    /// The id the coordinator gave this member ("" before the first join).
    member_id: String,
    /// The coordinator's HOST:PORT, once found.
    coordinator: Option<String>,
    incarnation: Incarnation,
}

/// Called with every member id the coordinator gives this member.
pub type MemberIdReport = Box<dyn Fn(&str) + Send>;

/// What a member knows of its earlier runs.
#[derive(Default)]
pub struct Incarnation {
    /// The member id of the last run, removed from the group before joining.
    pub previous: Option<String>,
    pub on_member_id: Option<MemberIdReport>,
}

impl Member {
    fn run(mut self) {
        let mut backoff = Duration::from_millis(200);
        while !self.shared.stopping() {
            let end = match self.connect() {
                Ok(mut conn) => {
                    let started = Instant::now();
                    let end = self.session(&mut conn);
                    // A session that lasted is no reason to wait long before the next.
                    if started.elapsed() > self.timing.session_timeout {
                        backoff = Duration::from_millis(200);
                    }
                    end
                }
                Err(reason) => End::Reconnect(reason),
            };
            self.shared.socket.lock().take();
            match end {
                End::Stopped => break,
                End::Reconnect(reason) => {
                    if self.shared.stopping() {
                        break;
                    }
                    tracing::warn!(
                        "registry group {} on {}: {reason}; retrying in {} ms",
                        self.group_id,
                        self.bootstrap,
                        backoff.as_millis()
                    );
                    self.set_role(Role::Unknown, &reason);
                    if self.shared.sleep(backoff) {
                        break;
                    }
                    backoff = (backoff * 2).min(self.timing.max_backoff);
                }
            }
        }
        self.leave(None);
        self.set_role(Role::Unknown, "this node left the group");
    }

    /// Finds the group coordinator through the bootstrap brokers and connects to it.
    fn connect(&mut self) -> Result<Connection, String> {
        let timeout = self.timing.session_timeout;
        let mut last_error = String::from("no bootstrap broker given");
        for broker in self.bootstrap.split(',').map(str::trim).filter(|b| !b.is_empty()) {
            let mut conn = match Connection::open(broker, timeout) {
                Ok(conn) => conn,
                Err(e) => {
                    last_error = format!("cannot connect to {broker}: {e}");
                    continue;
                }
            };
            self.register(&conn)?;
            let request = FindCoordinatorRequest::default()
                .with_key(StrBytes::from_string(self.group_id.clone()))
                .with_key_type(0);
            let response: FindCoordinatorResponse = match conn.call(FIND_COORDINATOR_VERSION, &request, timeout) {
                Ok(response) => response,
                Err(e) => {
                    last_error = format!("FindCoordinator on {broker}: {e}");
                    continue;
                }
            };
            if response.error_code != 0 {
                last_error = format!("FindCoordinator on {broker}: {}", error_name(response.error_code));
                continue;
            }
            let address = format!("{}:{}", response.host.as_str(), response.port);
            let coordinator = if address == broker {
                conn
            } else {
                Connection::open(&address, timeout)
                    .map_err(|e| format!("cannot connect to the coordinator {address}: {e}"))?
            };
            self.register(&coordinator)?;
            self.coordinator = Some(address);
            return Ok(coordinator);
        }
        Err(last_error)
    }

    /// Makes `conn` the one `stop` shuts down, to interrupt a call blocked on it.
    fn register(&self, conn: &Connection) -> Result<(), String> {
        let mut socket = self.shared.socket.lock();
        if self.shared.stopping() {
            return Err("stopping".into());
        }
        *socket = conn.stream.try_clone().ok();
        Ok(())
    }

    /// Join, sync and heartbeat on one coordinator connection, rejoining on every rebalance,
    /// until the connection or the coordinator is lost, or the node stops.
    fn session(&mut self, conn: &mut Connection) -> End {
        if let Some(previous) = self.incarnation.previous.take() {
            self.leave_previous(conn, previous);
        }
        // The generation a heartbeat said is being rebalanced, until a join gives a new one.
        let mut rebalancing: Option<i32> = None;
        loop {
            if self.shared.stopping() {
                return End::Stopped;
            }
            // Join.
            let group_call = self.timing.rebalance_timeout + Duration::from_secs(5);
            let request = JoinGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
                .with_session_timeout_ms(millis(self.timing.session_timeout))
                .with_rebalance_timeout_ms(millis(self.timing.rebalance_timeout))
                .with_member_id(StrBytes::from_string(self.member_id.clone()))
                .with_protocol_type(StrBytes::from_static_str(PROTOCOL_TYPE))
                .with_protocols(vec![JoinGroupRequestProtocol::default()
                    .with_name(StrBytes::from_static_str(PROTOCOL_NAME))
                    .with_metadata(Bytes::from(self.metadata.clone()))]);
            let join: JoinGroupResponse = match conn.call(JOIN_GROUP_VERSION, &request, group_call) {
                Ok(join) => join,
                Err(e) => return self.lost(format!("JoinGroup: {e}")),
            };
            tracing::debug!(
                "registry group {}: JoinGroup as {:?}: error {}, generation {}, member {}, group leader {}, {} members",
                self.group_id,
                self.member_id,
                join.error_code,
                join.generation_id,
                join.member_id.as_str(),
                join.leader.as_str(),
                join.members.len()
            );
            match join.error_code {
                0 => {}
                MEMBER_ID_REQUIRED => {
                    self.set_member_id(join.member_id.as_str());
                    continue;
                }
                UNKNOWN_MEMBER_ID | ILLEGAL_GENERATION => {
                    if self.dropped(conn, join.error_code) {
                        return End::Stopped;
                    }
                    continue;
                }
                REBALANCE_IN_PROGRESS | COORDINATOR_LOAD_IN_PROGRESS => {
                    if self.shared.sleep(Duration::from_millis(200)) {
                        return End::Stopped;
                    }
                    continue;
                }
                NOT_COORDINATOR | COORDINATOR_NOT_AVAILABLE => {
                    return End::Reconnect(format!(
                        "JoinGroup: {}; finding the coordinator again",
                        error_name(join.error_code)
                    ))
                }
                code => return End::Reconnect(format!("JoinGroup: {}", error_name(code))),
            }
            self.set_member_id(join.member_id.as_str());
            let generation = join.generation_id;
            if rebalancing.take().is_some_and(|old| generation <= old) {
                // Kafka answers a rejoin after REBALANCE_IN_PROGRESS with a new generation.
                // tansu 0.6, after evicting a member that stopped heartbeating, answers with
                // the same generation and hands out the old assignment again (naming the
                // evicted leader), and stays so. Leaving and joining as a new member makes
                // it form the group anew.
                tracing::warn!(
                    "registry group {}: the coordinator did not rebalance (generation {generation} again); \
                     leaving and joining as a new member",
                    self.group_id
                );
                if self.rejoin_as_new(conn, true) {
                    return End::Stopped;
                }
                continue;
            }

            // Sync: the group leader sends everyone the assignment it computed.
            let assignments = if join.leader.as_str() == self.member_id { self.assignments(&join) } else { Vec::new() };
            let request = SyncGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
                .with_generation_id(generation)
                .with_member_id(StrBytes::from_string(self.member_id.clone()))
                .with_assignments(assignments);
            let sync_sent = Instant::now();
            let sync: SyncGroupResponse = match conn.call(SYNC_GROUP_VERSION, &request, group_call) {
                Ok(sync) => sync,
                Err(e) => return self.lost(format!("SyncGroup: {e}")),
            };
            tracing::debug!(
                "registry group {}: SyncGroup generation {generation}: error {}, assignment {}",
                self.group_id,
                sync.error_code,
                String::from_utf8_lossy(&sync.assignment)
            );
            match sync.error_code {
                0 => {}
                REBALANCE_IN_PROGRESS => {
                    if self.shared.sleep(Duration::from_millis(200)) {
                        return End::Stopped;
                    }
                    continue;
                }
                UNKNOWN_MEMBER_ID | ILLEGAL_GENERATION => {
                    if self.dropped(conn, sync.error_code) {
                        return End::Stopped;
                    }
                    continue;
                }
                NOT_COORDINATOR | COORDINATOR_NOT_AVAILABLE => {
                    return End::Reconnect(format!(
                        "SyncGroup: {}; finding the coordinator again",
                        error_name(sync.error_code)
                    ))
                }
                code => return End::Reconnect(format!("SyncGroup: {}", error_name(code))),
            }
            if sync.assignment.is_empty() {
                // The group leader did not know this member when it computed the assignment.
                // Rejoining under the same id would not start a rebalance (the coordinator
                // just answers the current generation), so leave and join as a new member.
                self.set_role(Role::Unknown, "no assignment for this member");
                if self.shared.sleep(self.timing.heartbeat_interval) {
                    return End::Stopped;
                }
                self.leave(Some(conn));
                continue;
            }
            // The coordinator drops a member it has not heard from for the session timeout,
            // after which another node may be elected; so a member that has had no answer for
            // the session timeout less one heartbeat interval gives its role up (the lease, and
            // the heartbeat's deadline), before that can happen.
            let keep_for =
                self.timing.session_timeout.saturating_sub(self.timing.heartbeat_interval).max(Duration::from_secs(1));
            *self.shared.lease.lock() = Some(sync_sent + keep_for);
            match Assignment::parse(&sync.assignment) {
                Ok(assignment) => self.assigned(&assignment, generation),
                Err(e) => self.set_role(Role::Unknown, &format!("unreadable assignment: {e}")),
            }

            // Heartbeats until the next rebalance, each answered one extending the lease.
            let mut last_answer = Instant::now();
            loop {
                if self.shared.sleep(self.timing.heartbeat_interval) {
                    return End::Stopped;
                }
                let request = HeartbeatRequest::default()
                    .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
                    .with_generation_id(generation)
                    .with_member_id(StrBytes::from_string(self.member_id.clone()));
                let timeout =
                    (last_answer + keep_for).saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
                let sent = Instant::now();
                let beat: HeartbeatResponse = match conn.call(HEARTBEAT_VERSION, &request, timeout) {
                    Ok(beat) => beat,
                    Err(e) => return self.lost(format!("Heartbeat: {e}")),
                };
                last_answer = Instant::now();
                if beat.error_code == 0 {
                    *self.shared.lease.lock() = Some(sent + keep_for);
                }
                if beat.error_code != 0 {
                    tracing::debug!("registry group {}: Heartbeat: {}", self.group_id, error_name(beat.error_code));
                }
                match beat.error_code {
                    0 => continue,
                    REBALANCE_IN_PROGRESS => {}
                    UNKNOWN_MEMBER_ID | ILLEGAL_GENERATION => {
                        self.set_role(Role::Unknown, "this member was dropped from the group");
                        if self.dropped(conn, beat.error_code) {
                            return End::Stopped;
                        }
                    }
                    NOT_COORDINATOR | COORDINATOR_NOT_AVAILABLE => {
                        return End::Reconnect(format!(
                            "Heartbeat: {}; finding the coordinator again",
                            error_name(beat.error_code)
                        ))
                    }
                    code => return End::Reconnect(format!("Heartbeat: {}", error_name(code))),
                }
                if beat.error_code == REBALANCE_IN_PROGRESS {
                    rebalancing = Some(generation);
                }
                self.set_role(Role::Unknown, "rebalance started");
                break;
            }
        }
    }

    /// After UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION (`code`), the next join is as a new
    /// member (empty id). On ILLEGAL_GENERATION the coordinator still knows the old id, so it
    /// is left first: otherwise it would stay in the group until its session expires, with
    /// this node's URL (DUPLICATE_URLS, no leader). True when stopped meanwhile.
    fn dropped(&mut self, conn: &mut Connection, code: i16) -> bool {
        tracing::debug!("registry group {}: {}; rejoining as a new member", self.group_id, error_name(code));
        self.rejoin_as_new(conn, code == ILLEGAL_GENERATION)
    }

    /// Clears the member id (after a LeaveGroup for it when `leave_first`) and waits a little
    /// before the next join; true when stopped meanwhile.
    fn rejoin_as_new(&mut self, conn: &mut Connection, leave_first: bool) -> bool {
        if leave_first {
            self.leave(Some(conn));
        }
        self.member_id.clear();
        self.shared.sleep(Duration::from_millis(100))
    }

    /// An I/O failure: the end of the session, or of the thread when it was the stop.
    fn lost(&self, reason: String) -> End {
        if self.shared.stopping() {
            End::Stopped
        } else {
            End::Reconnect(reason)
        }
    }

    /// The group leader's SyncGroup assignments: the same `Assignment` for every member.
    fn assignments(&self, join: &JoinGroupResponse) -> Vec<SyncGroupRequestAssignment> {
        let mut members = Vec::with_capacity(join.members.len());
        for member in &join.members {
            match parse_member_metadata(&member.metadata) {
                Ok(identity) => members.push((member.member_id.to_string(), identity)),
                // It still gets the assignment; it just cannot lead.
                Err(e) => tracing::warn!(
                    "registry group {}: member {} sent metadata Schemata cannot read ({e}): it cannot lead",
                    self.group_id,
                    member.member_id.as_str()
                ),
            }
        }
        let assignment = assign(&members);
        if assignment.error == DUPLICATE_URLS {
            tracing::error!(
                "registry group {}: several members advertise the same URL; each node needs its own \
                 routable host and port (no leader until that is fixed)",
                self.group_id
            );
        }
        let bytes = Bytes::from(assignment.encode());
        join.members
            .iter()
            .map(|member| {
                SyncGroupRequestAssignment::default()
                    .with_member_id(member.member_id.clone())
                    .with_assignment(bytes.clone())
            })
            .collect()
    }

    /// The role an assignment gives this node.
    fn assigned(&mut self, assignment: &Assignment, generation: i32) {
        if assignment.error != NO_ERROR {
            let reason = if assignment.error == DUPLICATE_URLS {
                "several members of the group advertise the same URL".to_string()
            } else {
                format!("the assignment carries error {}", assignment.error)
            };
            self.set_role(Role::Unknown, &reason);
            return;
        }
        match (&assignment.leader, &assignment.leader_identity) {
            (Some(leader), _) if *leader == self.member_id => self.set_role(Role::Leader { generation }, ""),
            (Some(_), Some(identity)) => self.set_role(Role::Follower { leader_url: identity.url(), generation }, ""),
            (Some(_), None) => self.set_role(Role::Unknown, "the assignment names a leader without its identity"),
            (None, _) => self.set_role(Role::Unknown, "no leader-eligible member in the group"),
        }
    }

    /// Records (and reports) a new role; `reason` explains an `Unknown` one.
    fn set_role(&self, role: Role, reason: &str) {
        let previous = {
            let mut current = self.shared.role.lock();
            if *current == role {
                return;
            }
            std::mem::replace(&mut *current, role.clone())
        };
        let leader_changed = match (&previous, &role) {
            (Role::Leader { .. }, Role::Leader { .. }) => false,
            (Role::Follower { leader_url: a, .. }, Role::Follower { leader_url: b, .. }) => a != b,
            _ => true,
        };
        let group = &self.group_id;
        if leader_changed {
            match &role {
                Role::Leader { generation } => {
                    tracing::info!(
                        "registry group {group}: this node ({}) is the leader (generation {generation})",
                        self.me.url()
                    )
                }
                Role::Follower { leader_url, generation } => {
                    tracing::info!("registry group {group}: the leader is {leader_url} (generation {generation})")
                }
                Role::Unknown => tracing::info!("registry group {group}: no leader known: {reason}"),
            }
        } else {
            tracing::debug!("registry group {group}: role {role:?}");
        }
        (self.on_change)(role);
    }

    /// Takes the id the coordinator gave this member, and reports a new one.
    fn set_member_id(&mut self, id: &str) {
        if self.member_id != id {
            self.member_id = id.to_string();
            if let Some(report) = &self.incarnation.on_member_id {
                report(id);
            }
        }
    }

    /// Removes the member this node was in its previous run (it crashed without leaving).
    fn leave_previous(&mut self, conn: &mut Connection, previous: String) {
        let request = LeaveGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_members(vec![MemberIdentity::default().with_member_id(StrBytes::from_string(previous.clone()))]);
        match conn.call(LEAVE_GROUP_VERSION, &request, Duration::from_secs(2)) {
            Ok(r) if r.error_code == 0 => {
                tracing::info!("registry group {}: removed this node's previous member {previous}", self.group_id)
            }
            // Most often UNKNOWN_MEMBER_ID: it had already expired.
            Ok(r) => {
                tracing::debug!("registry group {}: LeaveGroup {previous}: {}", self.group_id, error_name(r.error_code))
            }
            Err(e) => tracing::debug!("registry group {}: LeaveGroup {previous}: {e}", self.group_id),
        }
    }

    /// Sends LeaveGroup, so that the others rebalance now rather than after the session
    /// timeout: on `conn`, or on a fresh connection (the session's may have been shut down).
    fn leave(&mut self, conn: Option<&mut Connection>) {
        let (Some(coordinator), false) = (self.coordinator.clone(), self.member_id.is_empty()) else {
            return;
        };
        let timeout = Duration::from_secs(2);
        let request = LeaveGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_members(
                vec![MemberIdentity::default().with_member_id(StrBytes::from_string(self.member_id.clone()))],
            );
        let result = match conn {
            Some(conn) => conn.call(LEAVE_GROUP_VERSION, &request, timeout),
            None => Connection::open(&coordinator, timeout)
                .map_err(|e| e.to_string())
                .and_then(|mut conn| conn.call(LEAVE_GROUP_VERSION, &request, timeout)),
        };
        match result {
            Ok(response) if response.error_code == 0 => {
                tracing::debug!("registry group {}: {} left", self.group_id, self.member_id)
            }
            Ok(response) => {
                tracing::warn!("registry group {}: LeaveGroup: {}", self.group_id, error_name(response.error_code))
            }
            Err(e) => tracing::warn!("registry group {}: LeaveGroup: {e}", self.group_id),
        }
        self.member_id.clear();
    }
}

fn millis(duration: Duration) -> i32 {
    i32::try_from(duration.as_millis()).unwrap_or(i32::MAX)
}

/// A Kafka error code with its name.
fn error_name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        Some(ResponseError::Unknown(_)) | None => format!("Kafka error {code}"),
        Some(kind) => format!("{kind:?} ({code})"),
    }
}

/// A request this member sends, with its API key and response.
trait Call: Encodable + HeaderVersion {
    const KEY: ApiKey;
    type Response: Decodable + HeaderVersion;
}

impl Call for FindCoordinatorRequest {
    const KEY: ApiKey = ApiKey::FindCoordinator;
    type Response = FindCoordinatorResponse;
}

impl Call for JoinGroupRequest {
    const KEY: ApiKey = ApiKey::JoinGroup;
    type Response = JoinGroupResponse;
}

impl Call for SyncGroupRequest {
    const KEY: ApiKey = ApiKey::SyncGroup;
    type Response = SyncGroupResponse;
}

impl Call for HeartbeatRequest {
    const KEY: ApiKey = ApiKey::Heartbeat;
    type Response = HeartbeatResponse;
}

impl Call for LeaveGroupRequest {
    const KEY: ApiKey = ApiKey::LeaveGroup;
    type Response = LeaveGroupResponse;
}

/// One blocking connection to a broker: size-prefixed requests and responses, one at a time.
struct Connection {
    stream: TcpStream,
    correlation_id: i32,
}

impl Connection {
    fn open(address: &str, timeout: Duration) -> Result<Connection, std::io::Error> {
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, format!("{address} resolves to nothing"));
        for addr in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(Connection { stream, correlation_id: 0 });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends `request` (as `version` of its API) and reads the response, within `timeout`.
    fn call<Req: Call>(&mut self, version: i16, request: &Req, timeout: Duration) -> Result<Req::Response, String> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(Req::KEY as i16)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation_id)
            .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
        let mut body = BytesMut::new();
        header.encode(&mut body, Req::header_version(version)).map_err(|e| format!("encoding the header: {e}"))?;
        request.encode(&mut body, version).map_err(|e| format!("encoding the request: {e}"))?;
        let mut frame = BytesMut::with_capacity(body.len() + 4);
        frame.put_i32(i32::try_from(body.len()).map_err(|_| "request too large".to_string())?);
        frame.extend_from_slice(&body);

        self.stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        self.stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        let failed = |what: &str, e: std::io::Error| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                format!("no answer within {} ms", timeout.as_millis())
            }
            _ => format!("{what}: {e}"),
        };
        self.stream.write_all(&frame).map_err(|e| failed("sending", e))?;
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).map_err(|e| failed("reading", e))?;
        let size = usize::try_from(i32::from_be_bytes(size)).map_err(|_| "negative response size".to_string())?;
        if size > MAX_RESPONSE {
            return Err(format!("response of {size} bytes"));
        }
        let mut response = vec![0u8; size];
        self.stream.read_exact(&mut response).map_err(|e| failed("reading", e))?;
        let mut response = Bytes::from(response);
        let header = ResponseHeader::decode(&mut response, Req::Response::header_version(version))
            .map_err(|e| format!("decoding the response header: {e}"))?;
        if header.correlation_id != self.correlation_id {
            return Err(format!(
                "response to request {} while waiting for {}",
                header.correlation_id, self.correlation_id
            ));
        }
        let decoded =
            Req::Response::decode(&mut response, version).map_err(|e| format!("decoding the response: {e}"))?;
        if response.has_remaining() {
            tracing::debug!("{} bytes left after the response to API {}", response.remaining(), Req::KEY as i16);
        }
        Ok(decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(scheme: &str, host: &str, port: u16, eligible: bool) -> Identity {
        Identity { scheme: scheme.into(), host: host.into(), port, leader_eligible: eligible }
    }

    #[test]
    fn confluent_metadata_is_read_and_written_as_confluent_does() {
        let confluent = br#"{"version":1,"host":"sr-1.example","port":8081,"master_eligibility":true,"scheme":"http"}"#;
        let identity = parse_member_metadata(confluent).unwrap();
        assert_eq!(identity, id("http", "sr-1.example", 8081, true));
        assert_eq!(identity.url(), "http://sr-1.example:8081");
        assert_eq!(encode_member_metadata(&identity), confluent.to_vec());
        // Ineligible, https, and a field of a later version.
        let other = br#"{"version":1,"host":"10.0.0.2","port":443,"master_eligibility":false,"scheme":"https","is_leader":false}"#;
        assert_eq!(parse_member_metadata(other).unwrap(), id("https", "10.0.0.2", 443, false));
    }

    #[test]
    fn karapace_metadata_is_read() {
        let karapace = br#"{"version":2,"karapace_version":"3.15.0","host":"karapace-0","port":8081,"scheme":"http","master_eligibility":true}"#;
        assert_eq!(parse_member_metadata(karapace).unwrap(), id("http", "karapace-0", 8081, true));
    }

    #[test]
    fn unreadable_metadata_is_refused() {
        for bad in [
            &b"not json"[..],
            br#"[1]"#,
            br#"{"version":1,"port":8081}"#,
            br#"{"version":1,"host":"h","port":"8081"}"#,
            br#"{"version":1,"host":"h","port":70000}"#,
            br#"{"version":"1","host":"h","port":1}"#,
            br#"{"host":"h","port":1,"master_eligibility":"yes"}"#,
        ] {
            assert!(parse_member_metadata(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // Missing scheme and eligibility: http, not eligible.
        assert_eq!(parse_member_metadata(br#"{"host":"h","port":1}"#).unwrap(), id("http", "h", 1, false));
    }

    #[test]
    fn the_leader_is_the_eligible_member_with_the_smallest_url() {
        let members = vec![
            ("m-c".to_string(), id("http", "127.0.0.1", 8083, true)),
            ("m-a".to_string(), id("http", "127.0.0.1", 8081, false)),
            ("m-b".to_string(), id("http", "127.0.0.1", 8082, true)),
        ];
        let assignment = assign(&members);
        assert_eq!(
            assignment,
            Assignment {
                error: NO_ERROR,
                leader: Some("m-b".into()),
                leader_identity: Some(id("http", "127.0.0.1", 8082, true))
            }
        );
        // The comparison is on the URL string: scheme first, then host, then port as text.
        let members = vec![
            ("x".to_string(), id("https", "a", 1, true)),
            ("y".to_string(), id("http", "b", 9, true)),
            ("z".to_string(), id("http", "b", 10, true)),
        ];
        assert_eq!(assign(&members).leader.as_deref(), Some("z"));
    }

    #[test]
    fn no_eligible_member_means_no_leader() {
        let members =
            vec![("m-1".to_string(), id("http", "a", 8081, false)), ("m-2".to_string(), id("http", "b", 8081, false))];
        assert_eq!(assign(&members), Assignment { error: NO_ERROR, leader: None, leader_identity: None });
        assert_eq!(assign(&[]), Assignment { error: NO_ERROR, leader: None, leader_identity: None });
    }

    #[test]
    fn duplicate_urls_are_an_error_without_leader() {
        let members = vec![
            ("m-1".to_string(), id("http", "localhost", 8081, true)),
            ("m-2".to_string(), id("http", "localhost", 8081, false)),
            ("m-3".to_string(), id("http", "other", 8081, true)),
        ];
        assert_eq!(assign(&members), Assignment { error: DUPLICATE_URLS, leader: None, leader_identity: None });
    }

    #[test]
    fn assignments_round_trip_in_confluents_json() {
        let assignment = Assignment {
            error: NO_ERROR,
            leader: Some("schemata-1b2c".into()),
            leader_identity: Some(id("http", "sr-1", 8081, true)),
        };
        let bytes = assignment.encode();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"version":1,"error":0,"master":"schemata-1b2c","master_identity":{"version":1,"host":"sr-1","port":8081,"master_eligibility":true,"scheme":"http"}}"#
        );
        assert_eq!(Assignment::parse(&bytes).unwrap(), assignment);

        let none = Assignment { error: DUPLICATE_URLS, leader: None, leader_identity: None };
        assert_eq!(
            String::from_utf8(none.encode()).unwrap(),
            r#"{"version":1,"error":1,"master":null,"master_identity":null}"#
        );
        assert_eq!(Assignment::parse(&none.encode()).unwrap(), none);

        // Karapace's assignment carries its own metadata as the identity.
        let karapace = br#"{"version":1,"error":0,"master":"k-1","master_identity":{"version":2,"karapace_version":"3.15.0","host":"k","port":8081,"scheme":"http","master_eligibility":true}}"#;
        assert_eq!(
            Assignment::parse(karapace).unwrap(),
            Assignment {
                error: NO_ERROR,
                leader: Some("k-1".into()),
                leader_identity: Some(id("http", "k", 8081, true))
            }
        );
        assert!(Assignment::parse(b"{").is_err());
        assert!(Assignment::parse(br#"{"error":"x"}"#).is_err());
    }
}

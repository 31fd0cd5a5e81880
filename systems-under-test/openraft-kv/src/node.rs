//! Booting a node on the current turmoil host: recover the disk, seed the
//! randomness, start openraft, serve clients and peers over UDP.
use crate::disk::Dir;
use crate::log_store::LogStore;
use crate::network::Network;
use crate::runtime::{node_seed, register_rng};
use crate::server::Server;
use crate::state_machine::StateMachine;
use crate::trace::TraceSink;
use crate::types::{host_name, NodeId, Raft};
use openraft::{BasicNode, ServerState, SnapshotPolicy};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use sut::trace::{Role, TraceEvent};

/// The openraft knobs this system exposes (milliseconds and entry counts).
#[derive(Clone, Debug)]
pub struct Knobs {
    pub heartbeat_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    /// openraft's hard TTL of one snapshot chunk RPC.
    pub install_snapshot_timeout_ms: u64,
    /// Take a snapshot every this many committed entries
    /// (`SnapshotPolicy::LogsSinceLast`).
    pub snapshot_logs_since_last: u64,
    /// Entries kept behind a snapshot (`max_in_snapshot_log_to_keep`): with
    /// 0–2, a follower that misses a few entries must be sent a snapshot.
    pub logs_to_keep: u64,
    /// Bytes per InstallSnapshot chunk (`snapshot_max_chunk_size`).
    pub snapshot_chunk_bytes: u64,
    /// Entries per AppendEntries (`max_payload_entries`).
    pub max_payload_entries: u64,
    /// A lagging follower is sent a snapshot once this far behind
    /// (`replication_lag_threshold`).
    pub replication_lag_threshold: u64,
    /// Rewrite the log file once it exceeds this many bytes at a purge.
    pub log_compact_bytes: u64,
}

impl Default for Knobs {
    /// Aggressive snapshotting: small thresholds so InstallSnapshot, with
    /// several chunks, happens in short runs.
    fn default() -> Self {
        Knobs {
            heartbeat_ms: 50,
            election_min_ms: 150,
            election_max_ms: 300,
            install_snapshot_timeout_ms: 200,
            snapshot_logs_since_last: 8,
            logs_to_keep: 1,
            snapshot_chunk_bytes: 256,
            max_payload_entries: 32,
            replication_lag_threshold: 16,
            log_compact_bytes: 16 * 1024,
        }
    }
}

impl Knobs {
    fn openraft_config(&self) -> Result<openraft::Config, String> {
        let config = openraft::Config {
            cluster_name: "snapstorm".into(),
            heartbeat_interval: self.heartbeat_ms,
            election_timeout_min: self.election_min_ms,
            election_timeout_max: self.election_max_ms,
            install_snapshot_timeout: self.install_snapshot_timeout_ms,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_logs_since_last),
            max_in_snapshot_log_to_keep: self.logs_to_keep,
            snapshot_max_chunk_size: self.snapshot_chunk_bytes,
            max_payload_entries: self.max_payload_entries,
            replication_lag_threshold: self.replication_lag_threshold,
            ..Default::default()
        };
        config.validate().map_err(|e| e.to_string())
    }
}

#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub id: NodeId,
    /// Every voter of the initial cluster, this node included.
    pub peers: Vec<NodeId>,
    /// This node's directory on the host's simulated disk (absolute). A fresh
    /// root is an empty disk: the harness counts generations in the path.
    pub disk_root: PathBuf,
    /// The run seed; the node's stream is derived from it, its id and `boot`.
    pub seed: u64,
    /// How many times this node booted before in this run (0 first).
    pub boot: u64,
    pub knobs: Knobs,
}

/// Runs node `cfg.id` on the current turmoil host until the host crashes:
/// `sim.host("n1", move || openraft_kv::boot(cfg.clone(), trace.clone()))`.
/// The lowest peer initializes the cluster on its first boot; the others
/// learn the membership from it.
pub async fn boot(cfg: NodeConfig, trace: TraceSink) -> turmoil::Result {
    // Before anything of openraft runs: every random draw comes from here.
    let _rng = register_rng(node_seed(cfg.seed, cfg.id, cfg.boot));
    if let Err(reason) = start(&cfg, &trace).await {
        let halt = TraceEvent::Halt {
            reason,
            injected_faults: 0,
        };
        trace.push(cfg.id, halt);
        // Stay up but inert: only a crash or bounce ends this host.
        std::future::pending::<()>().await;
    }
    Ok(())
}

async fn start(cfg: &NodeConfig, trace: &TraceSink) -> Result<(), String> {
    let id = cfg.id;
    let config = Arc::new(cfg.knobs.openraft_config()?);
    let dir = Dir::open(&cfg.disk_root).map_err(|e| format!("open disk: {e}"))?;
    let compact = cfg.knobs.log_compact_bytes;
    let (log, log_rec) = LogStore::open(dir.clone(), id, trace.clone(), compact)?;
    let (sm, sm_rec) = StateMachine::open(dir, id, cfg.boot, trace.clone(), log.clone())?;
    let boot = TraceEvent::Boot {
        generation: cfg.boot,
        term: log_rec.vote.map_or(0, |v| v.leader_id.term),
        vote: log_rec.vote.and_then(|v| v.leader_id.voted_for()),
        commit: log_rec.committed.map_or(0, |c| c.index),
        snapshot_index: sm_rec.snapshot_index,
        snapshot_term: sm_rec.snapshot_term,
        first_index: log_rec.first_index,
        last_index: log_rec.last_index,
        torn_tail_bytes: log_rec.torn_tail_bytes,
        recovering: false,
        // This crate injects no disk faults yet.
        injected_faults: 0,
    };
    trace.push(id, boot);
    let socket = Server::bind().await.map_err(|e| format!("bind: {e}"))?;
    let network = Network {
        node: id,
        trace: trace.clone(),
    };
    let raft = Raft::new(id, config, network, log.clone(), sm.clone())
        .await
        .map_err(|e| format!("raft start: {e}"))?;
    let initialized = raft.is_initialized().await.map_err(|e| e.to_string())?;
    if !initialized && Some(&id) == cfg.peers.iter().min() {
        let members: BTreeMap<NodeId, BasicNode> = cfg
            .peers
            .iter()
            .map(|&p| (p, BasicNode { addr: host_name(p) }))
            .collect();
        raft.initialize(members)
            .await
            .map_err(|e| format!("initialize: {e}"))?;
    }
    tokio::spawn(watch_roles(raft.clone(), log, trace.clone(), id));
    let server = Server {
        node: id,
        raft,
        sm,
        trace: trace.clone(),
        socket: Arc::new(socket),
    };
    server.serve().await.map_err(|e| format!("serve: {e}"))
}

/// Emits a `Role` event whenever openraft's (state, term, leader) changes, as
/// its metrics report them, and a `Halt` when openraft stops on a fatal error
/// (a failed disk write, say). Metrics coalesce: a state held only between
/// two observations (a brief candidacy) can be missed.
async fn watch_roles(raft: Raft, log: LogStore, trace: TraceSink, id: NodeId) {
    let mut metrics = raft.metrics();
    let mut last = None;
    loop {
        let (now, fatal) = {
            let m = metrics.borrow_and_update();
            let role = match m.state {
                ServerState::Leader => Some(Role::Leader),
                ServerState::Candidate => Some(Role::Candidate),
                // A learner (not yet in a membership) follows too.
                ServerState::Follower | ServerState::Learner => Some(Role::Follower),
                ServerState::Shutdown => None,
            };
            let fatal = m.running_state.as_ref().err().map(|e| e.to_string());
            (role.map(|r| (r, m.current_term, m.current_leader)), fatal)
        };
        if let Some(reason) = fatal {
            let halt = TraceEvent::Halt {
                reason,
                injected_faults: 0,
            };
            trace.push(id, halt);
            return;
        }
        if let Some((role, term, leader)) = now.filter(|_| now != last) {
            let last_log = log.last_log_id();
            let event = TraceEvent::Role {
                role,
                term,
                leader,
                last_index: last_log.map_or(0, |l| l.index),
                last_term: last_log.map_or(0, |l| l.leader_id.term),
            };
            trace.push(id, event);
            last = now;
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

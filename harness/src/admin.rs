//! An operator's console in the simulation: a client that performs membership
//! changes queued by the nemesis, one at a time, retrying until each is applied
//! (changes are idempotent, so a retry after an unknown outcome is safe).
use raftkv::node::Response;
use raftkv::raft::{ConfChange, NodeId};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;
use workloads::client::{CallResult, Client, ClientConfig};
use workloads::StopFlag;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminStep {
    Change(ConfChange),
    /// Let a new learner catch up before it is promoted.
    Wait(Duration),
}

pub type AdminQueue = Rc<RefCell<VecDeque<AdminStep>>>;

/// Registers the `admin` client. It exits once `stop` is set and the queue is empty.
pub fn spawn_admin(
    sim: &mut turmoil::Sim<'_>,
    nodes: &[NodeId],
    queue: AdminQueue,
    stop: StopFlag,
) {
    let cfg = ClientConfig::new(nodes.to_vec());
    sim.client("admin", async move {
        let mut client = Client::connect(cfg, u64::MAX, 0xad).await?;
        loop {
            // The step leaves the queue only once it is done, so an empty queue
            // tells the nemesis that every change it asked for has been applied.
            let step = queue.borrow().front().copied();
            match step {
                Some(AdminStep::Change(cc)) => {
                    loop {
                        match client.admin(cc).await {
                            CallResult::Ok {
                                response: Response::AdminDone,
                                ..
                            } => break,
                            _ => tokio::time::sleep(Duration::from_millis(500)).await,
                        }
                    }
                    queue.borrow_mut().pop_front();
                }
                Some(AdminStep::Wait(d)) => {
                    tokio::time::sleep(d).await;
                    queue.borrow_mut().pop_front();
                }
                None if stop.get() => return Ok(()),
                None => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
}

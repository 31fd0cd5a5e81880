//! An operator's console in the simulation: a client that performs membership
//! changes queued by the nemesis, one at a time, retrying until each is applied
//! (changes are idempotent, so a retry after an unknown outcome is safe).
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;
use sut::client::{ClientProtocol, Reply};
use sut::trace::ConfChange;
use sut::NodeId;
use workloads::client::{CallResult, Client, ClientConfig};
use workloads::StopFlag;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminStep {
    Change(ConfChange),
    /// The same change sent twice at once (an operator's double submit): the
    /// system must take one and hold the other back until the first is
    /// applied (one membership change at a time), then find it already done.
    Twice(ConfChange),
    /// Let a new learner catch up before it is promoted.
    Wait(Duration),
}

pub type AdminQueue = Rc<RefCell<VecDeque<AdminStep>>>;

/// Registers the `admin` client. It exits once `stop` is set and the queue is empty.
pub fn spawn_admin(
    sim: &mut turmoil::Sim<'_>,
    nodes: &[NodeId],
    protocol: &Rc<dyn ClientProtocol>,
    queue: AdminQueue,
    stop: StopFlag,
) {
    let cfg = ClientConfig::new(nodes.to_vec(), protocol.clone());
    sim.client("admin", async move {
        let twin_cfg = ClientConfig {
            port: cfg.port + 1,
            ..cfg.clone()
        };
        let mut client = Client::connect(cfg, u64::MAX, 0xad).await?;
        let mut twin = Client::connect(twin_cfg, u64::MAX - 1, 0xae).await?;
        loop {
            // The step leaves the queue only once it is done, so an empty queue
            // tells the nemesis that every change it asked for has been applied.
            let step = queue.borrow().front().copied();
            match step {
                Some(AdminStep::Change(cc)) => {
                    until_applied(&mut client, cc).await;
                    queue.borrow_mut().pop_front();
                }
                Some(AdminStep::Twice(cc)) => {
                    tokio::join!(until_applied(&mut client, cc), until_applied(&mut twin, cc));
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

/// Sends `cc` until the system says it is applied (a retry after a timeout or a
/// refusal is safe: changes are idempotent).
async fn until_applied(client: &mut Client, cc: ConfChange) {
    loop {
        match client.admin(cc).await {
            CallResult::Ok {
                response: Reply::AdminDone,
                ..
            } => return,
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

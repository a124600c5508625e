//! Cluster membership: each node keeps `/dfood/members/<node>` alive under
//! a lease. If the lease is lost (the store was unreachable longer than its
//! TTL), the node registers again with a new lease. On shutdown the lease is
//! revoked so the node disappears at once.

use std::sync::Arc;
use std::time::Duration;

use protocol::messages::Member;
use tokio::sync::oneshot;
use tracing::{debug, warn};

use crate::server::MEMBERS_PREFIX;
use crate::store::{LeaseId, Store, StoreError, Txn, TxnOp};

/// Lease TTL of a member key.
pub const MEMBER_TTL: Duration = Duration::from_secs(10);

pub struct Registration {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn register(store: &dyn Store, member: &Member) -> Result<LeaseId, StoreError> {
    let lease = store.lease_grant(MEMBER_TTL).await?;
    let value = serde_json::to_vec(member).map_err(|e| StoreError::Internal(e.to_string()))?;
    let key = format!("{MEMBERS_PREFIX}{}", member.node);
    store
        .txn(Txn::new().and_then([TxnOp::put_with_lease(key, value, lease)]))
        .await?;
    Ok(lease)
}

impl Registration {
    pub async fn start(store: Arc<dyn Store>, member: Member) -> Result<Registration, StoreError> {
        let mut lease = register(store.as_ref(), &member).await?;
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(MEMBER_TTL / 3);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                match store.lease_keep_alive(lease).await {
                    Ok(_) => {}
                    Err(StoreError::LeaseNotFound(_)) => {
                        match register(store.as_ref(), &member).await {
                            Ok(l) => {
                                warn!(node = %member.node, "membership lease was lost; registered again");
                                lease = l;
                            }
                            Err(e) => warn!(error = %e, "cannot register again"),
                        }
                    }
                    Err(e) => warn!(error = %e, "membership lease renewal failed"),
                }
            }
            if let Err(e) = store.lease_revoke(lease).await {
                debug!(error = %e, "lease revoke on shutdown failed; it will expire");
            }
        });
        Ok(Registration { stop, task })
    }

    /// Revokes the lease and stops renewing it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

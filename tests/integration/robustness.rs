//! Robustness scenarios (see `tests/src/robustness.rs`): 3 etcd members +
//! 3 dfoodd, concurrent customers and a kitchen, one failure each; the
//! checker then verifies every promise of PRODUCT.md. They run one at a
//! time (each is a whole cluster under load on a 2-core machine).
//! `DFOOD_SOAK_SECS=600 cargo test -p tests --test integration robustness`
//! runs a long soak instead of the bounded CI run.

use tests::robustness::{Failure, Settings, run};

/// Runtime-agnostic, so tests on their own runtimes can share it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scenario(name: &str, failure: Failure) {
    let _guard = ONE_AT_A_TIME.lock().await;
    run(name, failure, Settings::from_env()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_a_daemon() {
    scenario("kill-daemon", Failure::KillDaemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_the_leader_daemon() {
    scenario("kill-leader-daemon", Failure::KillLeaderDaemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_kill_the_etcd_leader() {
    scenario("kill-etcd-leader", Failure::KillEtcdLeader).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_pause_a_daemon() {
    scenario("pause-daemon", Failure::PauseDaemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robustness_lossy_network_to_a_node() {
    scenario("lossy-proxy", Failure::LossyProxy).await;
}

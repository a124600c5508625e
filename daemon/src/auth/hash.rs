//! Password hashing (argon2id) on dedicated threads.
//!
//! argon2id allocates 19 MiB per hash. On tokio's blocking pool (up to
//! hundreds of threads) each thread kept such a block in its own glibc
//! arena: a node that had served a few hundred logins stayed at ~460 MiB
//! resident. A [`Hasher`] runs [`HASH_THREADS`] long-lived threads, which
//! keep at most that many blocks, and bounds the CPU a burst of logins can
//! take from everything else. Owned by the node's `AuthState` (not a
//! static), started on first use, stopped when dropped.
//!
//! The queue to the threads is bounded ([`HASH_QUEUE`]): a burst of logins
//! beyond it is answered `unavailable` with a retry hint at once, instead
//! of queueing for seconds ahead of everyone's next login.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::locks::LockAnyway;
use crate::rpc::{ApiError, ApiResult};

/// Threads that compute password hashes, per node.
pub const HASH_THREADS: usize = 2;
/// Hashes waiting for a thread, per node (at ~30 ms a hash, the last
/// waits about a quarter of a second).
pub const HASH_QUEUE: usize = 16;
/// What a client is told to wait when the queue is full.
pub const BUSY_RETRY_MS: u64 = 500;

type HashJob = Box<dyn FnOnce() + Send>;

/// The hashing threads of one node.
#[derive(Default)]
pub struct Hasher {
    jobs: OnceLock<Mutex<SyncSender<HashJob>>>,
    /// A hash of a throwaway password, verified against for unknown users.
    dummy: tokio::sync::OnceCell<String>,
    /// Password verifications run (unknown users included).
    verified: std::sync::atomic::AtomicU64,
}

impl Hasher {
    fn start() -> SyncSender<HashJob> {
        let (tx, rx) = sync_channel::<HashJob>(HASH_QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..HASH_THREADS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let next = rx.lock_anyway().recv();
                        // The hasher was dropped: this thread ends.
                        let Ok(job) = next else { return };
                        // A panic fails that one request (its answer
                        // channel is dropped), not the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        tx
    }

    /// Runs `f` on one of the hashing threads; `unavailable` (with a retry
    /// hint) when [`HASH_QUEUE`] jobs are already waiting.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        self.submit(f)?
            .await
            .map_err(|_| ApiError::internal("password hashing failed"))
    }

    /// Queues `f` for a hashing thread, or refuses at once when the queue
    /// is full; the receiver gets its result.
    pub fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<tokio::sync::oneshot::Receiver<T>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs
            .get_or_init(|| Mutex::new(Self::start()))
            .lock_anyway()
            .try_send(job)
            .map_err(|e| match e {
                TrySendError::Full(_) => ApiError::unavailable(
                    "this node is busy checking passwords: try again in a moment",
                )
                .retry_after(BUSY_RETRY_MS),
                TrySendError::Disconnected(_) => {
                    ApiError::internal("the password hashing threads are gone")
                }
            })?;
        Ok(rx)
    }

    /// argon2id with the crate's default parameters.
    pub async fn hash_password(&self, pw: &str) -> ApiResult<String> {
        let pw = pw.to_string();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(pw.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ApiError::internal(format!("cannot hash password: {e}")))
        })
        .await?
    }

    /// Verifies `pw` against a PHC hash; `None` burns the same time on a
    /// dummy so that unknown usernames cannot be told apart by timing.
    pub async fn verify_password(&self, pw: &str, hash: Option<&str>) -> ApiResult<bool> {
        let known = hash.is_some();
        let hash = match hash {
            Some(h) => h.to_string(),
            None => self.dummy_hash().await?,
        };
        let pw = pw.to_string();
        self.verified
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.run(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| ApiError::internal(format!("damaged password hash: {e}")))?;
            // Verify first, whatever `known` is: `known && verify(..)`
            // would skip the work for unknown users and tell them apart.
            let matches = Argon2::default()
                .verify_password(pw.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await?
    }

    /// How many password verifications this node ran.
    pub fn verifications(&self) -> u64 {
        self.verified.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The hash unknown users are checked against (made once per node,
    /// with the same parameters as every real hash).
    pub async fn dummy_hash(&self) -> ApiResult<String> {
        Ok(self
            .dummy
            .get_or_try_init(|| self.hash_password("not a real password"))
            .await?
            .clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_pass() {
        let h = Hasher::default();
        let phc = h.hash_password("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(
            h.verify_password("correct horse", Some(&phc))
                .await
                .unwrap()
        );
        assert!(!h.verify_password("wrong horse", Some(&phc)).await.unwrap());
        // The dummy's own password does not log an unknown user in.
        assert!(
            !h.verify_password("not a real password", None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn hashes_run_on_the_node_s_hashing_threads() {
        let h = Arc::new(Hasher::default());
        let mut names = std::collections::BTreeSet::new();
        let mut jobs = Vec::new();
        for _ in 0..4 {
            let h = h.clone();
            jobs.push(tokio::spawn(async move {
                h.run(|| std::thread::current().name().map(String::from))
                    .await
                    .unwrap()
            }));
        }
        for j in jobs {
            names.insert(j.await.unwrap().expect("named thread"));
        }
        assert!(
            !names.is_empty() && names.len() <= HASH_THREADS,
            "{names:?}"
        );
        assert!(names.iter().all(|n| n.starts_with("argon2-")), "{names:?}");
        // A panicking job fails alone; the threads carry on.
        assert!(h.run(|| panic!("boom")).await.is_err());
        assert!(h.run(|| 7).await.is_ok());
    }

    #[tokio::test]
    async fn a_full_queue_answers_unavailable_with_a_retry_hint() {
        let h = Hasher::default();
        // Hold both threads, then fill the queue.
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let mut pending = Vec::new();
        for _ in 0..HASH_THREADS {
            let (rx, started) = (release_rx.clone(), started_tx.clone());
            pending.push(
                h.submit(move || {
                    let _ = started.send(());
                    let _ = rx.lock().unwrap().recv();
                })
                .unwrap(),
            );
        }
        for _ in 0..HASH_THREADS {
            started_rx.recv().unwrap();
        }
        let queued: Vec<_> = (0..HASH_QUEUE).map(|_| h.submit(|| ()).unwrap()).collect();
        let err = h.submit(|| ()).unwrap_err();
        assert_eq!(err.code, protocol::wire::ErrorCode::Unavailable);
        assert_eq!(err.retry_after_ms, Some(BUSY_RETRY_MS));
        assert!(err.message.contains("busy"), "{}", err.message);
        for _ in 0..HASH_THREADS {
            release_tx.send(()).unwrap();
        }
        for rx in pending.into_iter().chain(queued) {
            rx.await.expect("queued work still runs");
        }
    }
}

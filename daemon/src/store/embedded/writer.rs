//! The writer thread: group commit of queued requests in one redb write
//! transaction, lease reaping (see the design notes in the parent module).

use super::*;

pub(super) enum Op {
    Txn(Txn),
    Grant(i64),
    KeepAlive(LeaseId),
    Revoke(LeaseId),
    Compact(Revision),
}

pub(super) enum Reply {
    Txn(TxnResponse),
    Lease(LeaseId),
    Ttl(i64),
    Done,
}

/// Each op's result, in order, and the new revision if it changed.
/// Each op's result, the new revision if it changed, and whether the batch
/// was committed (fsync'd).
pub(super) type BatchOutcome = (Vec<Result<Reply, StoreError>>, Option<Revision>, bool);

pub(super) struct Request {
    pub(super) op: Op,
    pub(super) reply: oneshot::Sender<Result<Reply, StoreError>>,
}

pub(super) struct Tables<'t> {
    pub(super) kv: Table<'t, &'static str, &'static [u8]>,
    pub(super) log: Table<'t, i64, &'static [u8]>,
    pub(super) meta: Table<'t, &'static str, i64>,
    pub(super) leases: Table<'t, i64, &'static [u8]>,
    pub(super) lease_keys: Table<'t, (i64, &'static str), ()>,
    pub(super) lease_expiry: Table<'t, (i64, i64), ()>,
}

impl<'t> Tables<'t> {
    /// Opens (creating if needed) every table.
    pub(super) fn open(wtx: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Tables {
            kv: wtx.open_table(KV).map_err(internal("opening kv"))?,
            log: wtx.open_table(LOG).map_err(internal("opening log"))?,
            meta: wtx.open_table(META).map_err(internal("opening meta"))?,
            leases: wtx.open_table(LEASES).map_err(internal("opening leases"))?,
            lease_keys: wtx
                .open_table(LEASE_KEYS)
                .map_err(internal("opening lease_keys"))?,
            lease_expiry: wtx
                .open_table(LEASE_EXPIRY)
                .map_err(internal("opening lease_expiry"))?,
        })
    }
}

/// The state of one group commit: the open tables and the counters.
pub(super) struct Batch<'t> {
    pub(super) t: Tables<'t>,
    pub(super) now: i64,
    pub(super) rev: Revision,
    pub(super) compact: Revision,
    pub(super) next_lease: LeaseId,
    /// Whether anything was written (the batch needs a commit).
    pub(super) dirty: bool,
}

impl<'t> Batch<'t> {
    pub(super) fn begin(wtx: &'t WriteTransaction, now: i64) -> Result<Self, StoreError> {
        let t = Tables::open(wtx)?;
        let rev = meta_get(&t.meta, META_REVISION, FIRST_REVISION)?;
        let compact = meta_get(&t.meta, META_COMPACT, 0)?;
        let next_lease = meta_get(&t.meta, META_NEXT_LEASE, FIRST_LEASE)?;
        Ok(Batch {
            t,
            now,
            rev,
            compact,
            next_lease,
            dirty: false,
        })
    }

    /// Writes the counters back (when anything changed).
    pub(super) fn finish(&mut self) -> Result<(), StoreError> {
        if self.dirty {
            for (name, value) in [
                (META_REVISION, self.rev),
                (META_COMPACT, self.compact),
                (META_NEXT_LEASE, self.next_lease),
            ] {
                self.t
                    .meta
                    .insert(name, value)
                    .map_err(internal("writing metadata"))?;
            }
        }
        Ok(())
    }

    pub(super) fn apply(&mut self, op: Op) -> Result<Reply, StoreError> {
        match op {
            Op::Txn(txn) => self.txn(txn).map(Reply::Txn),
            Op::Grant(ttl) => self.grant(ttl).map(Reply::Lease),
            Op::KeepAlive(id) => self.keep_alive(id).map(Reply::Ttl),
            Op::Revoke(id) => match self.revoke(id)? {
                true => Ok(Reply::Done),
                false => Err(StoreError::LeaseNotFound(id)),
            },
            Op::Compact(rev) => self.compact(rev).map(|()| Reply::Done),
        }
    }

    pub(super) fn load(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        load_kv(&self.t.kv, key)
    }

    /// Appends `events` to the log at the next revision (if there are any).
    pub(super) fn log_events(&mut self, events: &[WatchEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let rev = self.rev + 1;
        self.t
            .log
            .insert(rev, encode_events(events).as_slice())
            .map_err(internal("writing log"))?;
        self.rev = rev;
        self.dirty = true;
        Ok(())
    }

    pub(super) fn lease_alive(&self, id: LeaseId) -> Result<bool, StoreError> {
        Ok(load_lease(&self.t.leases, id)?.is_some_and(|l| l.expiry_ms > self.now))
    }

    pub(super) fn txn(&mut self, txn: Txn) -> Result<TxnResponse, StoreError> {
        let mut succeeded = true;
        for c in &txn.compares {
            if !c.holds(self.load(&c.key)?.as_ref()) {
                succeeded = false;
                break;
            }
        }
        let ops = if succeeded { txn.success } else { txn.failure };

        // Validate everything before changing anything.
        let mut seen = HashSet::new();
        let mut bytes = 0usize;
        for op in &ops {
            let key = match op {
                TxnOp::Put { key, value, .. } => {
                    bytes = bytes.saturating_add(key.len() + value.len());
                    key
                }
                TxnOp::Delete { key } => key,
                TxnOp::Get { .. } => continue,
            };
            if key.is_empty() {
                return Err(StoreError::Invalid("empty key in transaction".into()));
            }
            if !seen.insert(key.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "duplicate key {key:?} in transaction"
                )));
            }
        }
        if bytes > MAX_TXN_BYTES {
            return Err(StoreError::Invalid(format!(
                "transaction writes {bytes} bytes, more than the limit of {MAX_TXN_BYTES}"
            )));
        }
        for op in &ops {
            if let TxnOp::Put { lease, .. } = op
                && *lease != 0
                && !self.lease_alive(*lease)?
            {
                return Err(StoreError::LeaseNotFound(*lease));
            }
        }

        let rev = self.rev + 1;
        let mut events = Vec::new();
        let mut gets = Vec::new();
        for op in ops {
            match op {
                TxnOp::Get { key } => gets.push(self.load(&key)?),
                TxnOp::Put { key, value, lease } => {
                    let old = self.load(&key)?;
                    if let Some(old) = &old
                        && old.lease != 0
                        && old.lease != lease
                    {
                        self.t
                            .lease_keys
                            .remove((old.lease, key.as_str()))
                            .map_err(internal("updating lease keys"))?;
                    }
                    if lease != 0 {
                        self.t
                            .lease_keys
                            .insert((lease, key.as_str()), ())
                            .map_err(internal("updating lease keys"))?;
                    }
                    let kv = KeyValue {
                        create_revision: old.as_ref().map_or(rev, |o| o.create_revision),
                        version: old.as_ref().map_or(1, |o| o.version + 1),
                        mod_revision: rev,
                        key,
                        value,
                        lease,
                    };
                    self.t
                        .kv
                        .insert(kv.key.as_str(), encode_kv(&kv).as_slice())
                        .map_err(internal("writing a key"))?;
                    events.push(WatchEvent {
                        kind: EventKind::Put,
                        kv,
                    });
                }
                TxnOp::Delete { key } => {
                    if let Some(old) = self.load(&key)? {
                        if old.lease != 0 {
                            self.t
                                .lease_keys
                                .remove((old.lease, key.as_str()))
                                .map_err(internal("updating lease keys"))?;
                        }
                        self.t
                            .kv
                            .remove(key.as_str())
                            .map_err(internal("deleting a key"))?;
                        events.push(tombstone(key, rev));
                    }
                }
            }
        }
        self.log_events(&events)?;
        Ok(TxnResponse {
            succeeded,
            revision: self.rev,
            gets,
        })
    }

    pub(super) fn grant(&mut self, ttl_secs: i64) -> Result<LeaseId, StoreError> {
        let id = self.next_lease;
        let lease = LeaseRecord {
            ttl_secs,
            expiry_ms: self.now.saturating_add(ttl_secs.saturating_mul(1000)),
        };
        self.t
            .leases
            .insert(id, encode_lease(lease).as_slice())
            .map_err(internal("writing a lease"))?;
        self.t
            .lease_expiry
            .insert((lease.expiry_ms, id), ())
            .map_err(internal("writing a lease"))?;
        self.next_lease = id + 1;
        self.dirty = true;
        Ok(id)
    }

    pub(super) fn keep_alive(&mut self, id: LeaseId) -> Result<i64, StoreError> {
        let Some(old) = load_lease(&self.t.leases, id)? else {
            return Err(StoreError::LeaseNotFound(id));
        };
        if old.expiry_ms <= self.now {
            self.revoke(id)?;
            return Err(StoreError::LeaseNotFound(id));
        }
        let lease = LeaseRecord {
            ttl_secs: old.ttl_secs,
            expiry_ms: self.now.saturating_add(old.ttl_secs.saturating_mul(1000)),
        };
        self.t
            .lease_expiry
            .remove((old.expiry_ms, id))
            .map_err(internal("writing a lease"))?;
        self.t
            .lease_expiry
            .insert((lease.expiry_ms, id), ())
            .map_err(internal("writing a lease"))?;
        self.t
            .leases
            .insert(id, encode_lease(lease).as_slice())
            .map_err(internal("writing a lease"))?;
        self.dirty = true;
        Ok(lease.ttl_secs)
    }

    /// Removes the lease and deletes its keys at one new revision. False if
    /// there is no such lease.
    pub(super) fn revoke(&mut self, id: LeaseId) -> Result<bool, StoreError> {
        let lease = match self
            .t
            .leases
            .remove(id)
            .map_err(internal("removing a lease"))?
        {
            None => return Ok(false),
            Some(guard) => decode_lease(guard.value())?,
        };
        self.dirty = true;
        self.t
            .lease_expiry
            .remove((lease.expiry_ms, id))
            .map_err(internal("removing a lease"))?;
        let end = id.saturating_add(1);
        let mut keys = Vec::new();
        for entry in self
            .t
            .lease_keys
            .range((id, "")..(end, ""))
            .map_err(internal("reading lease keys"))?
        {
            let (k, _) = entry.map_err(internal("reading lease keys"))?;
            keys.push(k.value().1.to_owned());
        }
        self.t
            .lease_keys
            .retain_in((id, "")..(end, ""), |_, ()| false)
            .map_err(internal("removing lease keys"))?;
        let rev = self.rev + 1;
        let mut events = Vec::new();
        for key in keys {
            // The index is kept exact; the check only guards against drift.
            if self.load(&key)?.is_some_and(|kv| kv.lease == id) {
                self.t
                    .kv
                    .remove(key.as_str())
                    .map_err(internal("deleting a key"))?;
                events.push(tombstone(key, rev));
            }
        }
        self.log_events(&events)?;
        Ok(true)
    }

    /// Revokes every lease whose expiry has passed.
    pub(super) fn reap(&mut self) -> Result<(), StoreError> {
        let mut expired = Vec::new();
        for entry in self
            .t
            .lease_expiry
            .range(..=(self.now, i64::MAX))
            .map_err(internal("reading lease expiry"))?
        {
            let (k, _) = entry.map_err(internal("reading lease expiry"))?;
            expired.push(k.value().1);
        }
        for id in expired {
            if !self.revoke(id)? {
                // An index entry without its lease: drop it.
                self.t
                    .lease_expiry
                    .retain_in(..=(self.now, i64::MAX), |(_, lease), ()| lease != id)
                    .map_err(internal("removing lease expiry"))?;
                self.dirty = true;
            }
        }
        Ok(())
    }

    pub(super) fn compact(&mut self, rev: Revision) -> Result<(), StoreError> {
        if rev > self.rev {
            return Err(StoreError::Invalid(format!(
                "cannot compact at revision {rev}: the current revision is {}",
                self.rev
            )));
        }
        if rev <= self.compact {
            return Ok(());
        }
        self.t
            .log
            .retain_in(..rev, |_, _| false)
            .map_err(internal("compacting log"))?;
        self.compact = rev;
        self.dirty = true;
        Ok(())
    }
}

pub(super) struct Writer {
    pub(super) db: Arc<Database>,
    pub(super) requests: mpsc::Receiver<Request>,
    pub(super) revision: watch::Sender<Revision>,
    pub(super) stats: Arc<Counters>,
}

/// What group commit achieved so far; see [`EmbeddedStore::commit_stats`].
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) commits: AtomicU64,
    pub(super) requests: AtomicU64,
}

/// Commits (each one fsync) and the write requests they carried, since the
/// store was opened. `requests / commits` is how many writers shared an
/// fsync on average.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub commits: u64,
    pub requests: u64,
}

impl Writer {
    pub(super) fn run(self) {
        loop {
            let mut batch = Vec::new();
            match self.requests.recv_timeout(REAP_INTERVAL) {
                Ok(first) => {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match self.requests.try_recv() {
                            Ok(r) => batch.push(r),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !self.lease_expired() {
                        continue;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.run_batch(batch);
        }
        tracing::debug!("embedded store writer stopped");
    }

    /// Whether some lease's expiry has passed (true on a read error, so the
    /// batch that follows reports it).
    pub(super) fn lease_expired(&self) -> bool {
        let check = || -> Result<bool, StoreError> {
            let rtx = begin_read(&self.db)?;
            let table = rtx
                .open_table(LEASE_EXPIRY)
                .map_err(internal("opening lease_expiry"))?;
            let first = table.first().map_err(internal("reading lease expiry"))?;
            Ok(first.is_some_and(|(k, _)| k.value().0 <= now_ms()))
        };
        check().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "embedded store: checking lease expiry");
            true
        })
    }

    pub(super) fn run_batch(&self, batch: Vec<Request>) {
        let (ops, replies): (Vec<Op>, Vec<_>) = batch.into_iter().map(|r| (r.op, r.reply)).unzip();
        let n = ops.len() as u64;
        match self.apply(ops) {
            Ok((results, revision, committed)) => {
                if committed {
                    self.stats.commits.fetch_add(1, Ordering::Relaxed);
                    self.stats.requests.fetch_add(n, Ordering::Relaxed);
                }
                if let Some(revision) = revision {
                    self.revision.send_replace(revision);
                }
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                if replies.is_empty() {
                    tracing::warn!(error = %e, "embedded store: expiring leases failed");
                }
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// Applies `ops` in one write transaction and commits it. Returns each
    /// op's result and the new revision if it changed. An internal error of
    /// any op aborts the whole transaction.
    pub(super) fn apply(&self, ops: Vec<Op>) -> Result<BatchOutcome, StoreError> {
        let wtx = self
            .db
            .begin_write()
            .map_err(internal("beginning a write transaction"))?;
        let (results, dirty, start, end) = {
            let mut batch = Batch::begin(&wtx, now_ms())?;
            let start = batch.rev;
            batch.reap()?;
            let mut results = Vec::with_capacity(ops.len());
            for op in ops {
                let result = batch.apply(op);
                if let Err(StoreError::Internal(e)) = &result {
                    // Dropping the transaction aborts it.
                    return Err(StoreError::Internal(e.clone()));
                }
                results.push(result);
            }
            batch.finish()?;
            (results, batch.dirty, start, batch.rev)
        };
        if dirty {
            wtx.commit().map_err(internal("committing"))?;
        } else {
            wtx.abort()
                .map_err(internal("aborting a read-only batch"))?;
        }
        Ok((results, (end != start).then_some(end), dirty))
    }
}

/// Creates the tables and metadata if needed and gives every lease a fresh
/// `now + ttl`. Returns the current revision.
pub(super) fn initialise(db: &Database, now: i64) -> Result<Revision, StoreError> {
    let wtx = db
        .begin_write()
        .map_err(internal("beginning a write transaction"))?;
    let revision = {
        let mut t = Tables::open(&wtx)?;
        let revision = meta_get(&t.meta, META_REVISION, FIRST_REVISION)?;
        if t.meta
            .get(META_REVISION)
            .map_err(internal("reading metadata"))?
            .is_none()
        {
            for (name, value) in [
                (META_REVISION, FIRST_REVISION),
                (META_COMPACT, 0),
                (META_NEXT_LEASE, FIRST_LEASE),
            ] {
                t.meta
                    .insert(name, value)
                    .map_err(internal("writing metadata"))?;
            }
        }
        let mut leases = Vec::new();
        for entry in t.leases.iter().map_err(internal("reading leases"))? {
            let (id, rec) = entry.map_err(internal("reading leases"))?;
            leases.push((id.value(), decode_lease(rec.value())?));
        }
        t.lease_expiry
            .retain(|_, ()| false)
            .map_err(internal("resetting lease expiry"))?;
        for (id, old) in leases {
            let lease = LeaseRecord {
                ttl_secs: old.ttl_secs,
                expiry_ms: now.saturating_add(old.ttl_secs.saturating_mul(1000)),
            };
            t.leases
                .insert(id, encode_lease(lease).as_slice())
                .map_err(internal("writing a lease"))?;
            t.lease_expiry
                .insert((lease.expiry_ms, id), ())
                .map_err(internal("writing a lease"))?;
        }
        revision
    };
    wtx.commit().map_err(internal("committing"))?;
    Ok(revision)
}

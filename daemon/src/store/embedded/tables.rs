//! Table helpers shared by readers and the writer.

use super::*;

pub(super) fn load_kv(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<KeyValue>, StoreError> {
    match table.get(key).map_err(internal("reading a key"))? {
        None => Ok(None),
        Some(guard) => decode_kv(key, guard.value()).map(Some),
    }
}

pub(super) fn load_lease(
    table: &impl ReadableTable<i64, &'static [u8]>,
    id: LeaseId,
) -> Result<Option<LeaseRecord>, StoreError> {
    match table.get(id).map_err(internal("reading a lease"))? {
        None => Ok(None),
        Some(guard) => decode_lease(guard.value()).map(Some),
    }
}

pub(super) fn meta_get(
    table: &impl ReadableTable<&'static str, i64>,
    name: &str,
    default: i64,
) -> Result<i64, StoreError> {
    Ok(table
        .get(name)
        .map_err(internal("reading metadata"))?
        .map_or(default, |g| g.value()))
}

pub(super) fn begin_read(db: &Database) -> Result<ReadTransaction, StoreError> {
    db.begin_read()
        .map_err(internal("beginning a read transaction"))
}

/// The events under `prefix` of revisions `from..`, grouped by revision, and
/// the revision to continue from.
pub(super) fn read_log(
    db: &Database,
    prefix: &str,
    from: Revision,
) -> Result<(Vec<WatchBatch>, Revision), StoreError> {
    let rtx = begin_read(db)?;
    let meta = rtx.open_table(META).map_err(internal("opening meta"))?;
    let current = meta_get(&meta, META_REVISION, FIRST_REVISION)?;
    let compact = meta_get(&meta, META_COMPACT, 0)?;
    if from < compact {
        return Err(StoreError::Compacted {
            requested: from,
            compact_revision: compact,
        });
    }
    if from > current {
        return Ok((Vec::new(), from));
    }
    let log = rtx.open_table(LOG).map_err(internal("opening log"))?;
    let mut batches = Vec::new();
    let mut next = current + 1;
    let mut read = 0;
    for entry in log.range(from..=current).map_err(internal("reading log"))? {
        let (rev, events) = entry.map_err(internal("reading log"))?;
        let rev = rev.value();
        let events: Vec<WatchEvent> = decode_events(events.value())?
            .into_iter()
            .filter(|e| e.kv.key.starts_with(prefix))
            .collect();
        if !events.is_empty() {
            batches.push(WatchBatch {
                revision: rev,
                events,
            });
        }
        read += 1;
        if read >= WATCH_READ_LIMIT {
            next = rev + 1;
            break;
        }
    }
    Ok((batches, next))
}

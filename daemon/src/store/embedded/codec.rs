//! Record encoding of the embedded store's tables: a small little-endian
//! binary format with a leading format tag; a record that does not decode
//! is [`StoreError::Internal`], never a panic.

use super::*;

pub(super) struct Reader<'a> {
    pub(super) buf: &'a [u8],
    pub(super) what: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8], what: &'static str) -> Result<Self, StoreError> {
        let mut r = Reader { buf, what };
        let tag = r.u8()?;
        if tag != FORMAT_TAG {
            return Err(StoreError::Internal(format!(
                "embedded store: corrupt {what}: unknown format tag {tag}"
            )));
        }
        Ok(r)
    }

    pub(super) fn corrupt(&self) -> StoreError {
        StoreError::Internal(format!(
            "embedded store: corrupt {}: truncated record",
            self.what
        ))
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.buf.len() < n {
            return Err(self.corrupt());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(super) fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }

    pub(super) fn u32(&mut self) -> Result<u32, StoreError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn i64(&mut self) -> Result<i64, StoreError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    pub(super) fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    pub(super) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    pub(super) fn finish(&self) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Internal(format!(
                "embedded store: corrupt {}: {} trailing bytes",
                self.what,
                self.buf.len()
            )))
        }
    }
}

pub(super) fn put_i64s(out: &mut Vec<u8>, nums: [i64; 4]) {
    for n in nums {
        out.extend_from_slice(&n.to_le_bytes());
    }
}

pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Lengths are bounded by MAX_TXN_BYTES, far below u32::MAX.
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// `kv` value: tag, create, mod, version, lease, then the value bytes.
pub(super) fn encode_kv(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(33 + kv.value.len());
    out.push(FORMAT_TAG);
    put_i64s(
        &mut out,
        [kv.create_revision, kv.mod_revision, kv.version, kv.lease],
    );
    out.extend_from_slice(&kv.value);
    out
}

pub(super) fn decode_kv(key: &str, bytes: &[u8]) -> Result<KeyValue, StoreError> {
    let (mut kv, mut r) = decode_head(key, bytes)?;
    kv.value = r.rest().to_vec();
    Ok(kv)
}

/// A `kv` value's key and revisions, its value left empty (not copied).
pub(super) fn decode_kv_head(key: &str, bytes: &[u8]) -> Result<KeyValue, StoreError> {
    Ok(decode_head(key, bytes)?.0)
}

fn decode_head<'a>(key: &str, bytes: &'a [u8]) -> Result<(KeyValue, Reader<'a>), StoreError> {
    let mut r = Reader::new(bytes, "key record")?;
    let create_revision = r.i64()?;
    let mod_revision = r.i64()?;
    let version = r.i64()?;
    let lease = r.i64()?;
    let kv = KeyValue {
        key: key.to_owned(),
        value: Vec::new(),
        create_revision,
        mod_revision,
        version,
        lease,
    };
    Ok((kv, r))
}

/// `log` value: tag, count, then per event: kind, key, value, create, mod,
/// version, lease.
pub(super) fn encode_events(events: &[WatchEvent]) -> Vec<u8> {
    let size: usize = events
        .iter()
        .map(|e| 41 + e.kv.key.len() + e.kv.value.len())
        .sum();
    let mut out = Vec::with_capacity(5 + size);
    out.push(FORMAT_TAG);
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for e in events {
        out.push(match e.kind {
            EventKind::Put => EVENT_PUT,
            EventKind::Delete => EVENT_DELETE,
        });
        put_bytes(&mut out, e.kv.key.as_bytes());
        put_bytes(&mut out, &e.kv.value);
        put_i64s(
            &mut out,
            [
                e.kv.create_revision,
                e.kv.mod_revision,
                e.kv.version,
                e.kv.lease,
            ],
        );
    }
    out
}

pub(super) fn decode_events(bytes: &[u8]) -> Result<Vec<WatchEvent>, StoreError> {
    let mut r = Reader::new(bytes, "log entry")?;
    let count = r.u32()? as usize;
    let mut events = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let kind = match r.u8()? {
            EVENT_PUT => EventKind::Put,
            EVENT_DELETE => EventKind::Delete,
            other => {
                return Err(StoreError::Internal(format!(
                    "embedded store: corrupt log entry: unknown event kind {other}"
                )));
            }
        };
        let key = std::str::from_utf8(r.bytes()?)
            .map_err(internal("corrupt log entry: key is not UTF-8"))?
            .to_owned();
        let value = r.bytes()?.to_vec();
        let kv = KeyValue {
            key,
            value,
            create_revision: r.i64()?,
            mod_revision: r.i64()?,
            version: r.i64()?,
            lease: r.i64()?,
        };
        events.push(WatchEvent { kind, kv });
    }
    r.finish()?;
    Ok(events)
}

#[derive(Debug, Clone, Copy)]
pub(super) struct LeaseRecord {
    pub(super) ttl_secs: i64,
    pub(super) expiry_ms: i64,
}

pub(super) fn encode_lease(l: LeaseRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(17);
    out.push(FORMAT_TAG);
    out.extend_from_slice(&l.ttl_secs.to_le_bytes());
    out.extend_from_slice(&l.expiry_ms.to_le_bytes());
    out
}

pub(super) fn decode_lease(bytes: &[u8]) -> Result<LeaseRecord, StoreError> {
    let mut r = Reader::new(bytes, "lease record")?;
    let l = LeaseRecord {
        ttl_secs: r.i64()?,
        expiry_ms: r.i64()?,
    };
    r.finish()?;
    Ok(l)
}

/// The delete event for `key` at `revision`.
pub(super) fn tombstone(key: String, revision: Revision) -> WatchEvent {
    WatchEvent {
        kind: EventKind::Delete,
        kv: KeyValue {
            key,
            value: Vec::new(),
            create_revision: 0,
            mod_revision: revision,
            version: 0,
            lease: 0,
        },
    }
}

//! The order archive: finished orders after they leave the hot store, in
//! SQL (sqlx's `Any` pool): SQLite in the data dir on one machine (the
//! default, nothing to install), PostgreSQL for a cluster (`archive_url =
//! "postgres://…"`, every node pointing at the same database).
//!
//! Written only by the leader's retention duty (`orders::retention`), with
//! an upsert by order id, so archiving twice (a crash between the archive
//! write and the hot-store delete, a deposed leader) changes nothing.
//! Read by `order.get` (an order no longer in the hot store),
//! `order.history` and the reports.
//!
//! Schema (`schema.sql`, migration 1, portable SQL): `archived_orders` (one
//! row per order: money, state timestamps, and `doc`, the order as
//! `order.get` answers it) and `archived_lines` (one row per line, for the
//! items report). Queries use `$n` placeholders, which both engines take.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use protocol::messages::history::{DaySales, ItemSales, Timing};
use protocol::messages::orders::{Order, OrderState};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("archive database unavailable: {0}")]
    Unavailable(String),
    #[error("archive database refused: {0}")]
    Query(String),
    #[error("damaged archived order {id}: {reason}")]
    Damaged { id: String, reason: String },
}

impl From<sqlx::Error> for ArchiveError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => ArchiveError::Unavailable(e.to_string()),
            other => ArchiveError::Query(other.to_string()),
        }
    }
}

/// The times an order went through its states (unix ms), from its events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeline {
    pub accepted_at: Option<u64>,
    pub ready_at: Option<u64>,
    /// When it reached its final state.
    pub finished_at: u64,
}

/// An open archive.
#[derive(Debug, Clone)]
pub struct Archive {
    pool: AnyPool,
    /// `sqlite` or `postgres`.
    kind: &'static str,
    /// Where it is, with no password, for logs and status.
    shown: String,
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn unms(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// `url` without a password (`postgres://u:secret@h/db` → `postgres://u@h/db`).
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Archive {
    /// The default archive of a node on one machine: `archive.db` (SQLite)
    /// in the data dir.
    pub async fn open_in(data_dir: &Path) -> Result<Archive, ArchiveError> {
        let path = data_dir.join("archive.db");
        Archive::open(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    /// Connects to `url` (`sqlite://FILE?mode=rwc`, `postgres://…`) and
    /// brings the schema up to date.
    pub async fn open(url: &str) -> Result<Archive, ArchiveError> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            "sqlite"
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            "postgres"
        } else {
            return Err(ArchiveError::Query(format!(
                "{}: archive_url must start with sqlite: or postgres:",
                redact(url)
            )));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if kind == "sqlite" { 1 } else { 4 })
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| ArchiveError::Unavailable(format!("{}: {e}", redact(url))))?;
        let archive = Archive {
            pool,
            kind,
            shown: redact(url),
        };
        archive.migrate().await?;
        Ok(archive)
    }

    async fn migrate(&self) -> Result<(), ArchiveError> {
        let migrator = Migrator {
            migrations: Cow::Owned(vec![Migration::new(
                1,
                Cow::Borrowed("archive"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("schema.sql")),
                false,
            )]),
            ..Migrator::DEFAULT
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| ArchiveError::Query(format!("schema migration: {e}")))
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Where it is (no password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Writes (or rewrites) an order and its lines. Idempotent.
    pub async fn upsert(&self, o: &Order, t: Timeline, now_ms: u64) -> Result<(), ArchiveError> {
        self.upsert_many(&[(o.clone(), t)], now_ms).await
    }

    /// [`Archive::upsert`] of several orders in one SQL transaction (one
    /// commit, one sync to disk, for all).
    pub async fn upsert_many(
        &self,
        orders: &[(Order, Timeline)],
        now_ms: u64,
    ) -> Result<(), ArchiveError> {
        let mut tx = self.pool.begin().await?;
        for (o, t) in orders {
            Archive::write(&mut tx, o, *t, now_ms).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn write(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        o: &Order,
        t: Timeline,
        now_ms: u64,
    ) -> Result<(), ArchiveError> {
        let doc = serde_json::to_string(o).map_err(|e| ArchiveError::Damaged {
            id: o.id.clone(),
            reason: e.to_string(),
        })?;
        sqlx::query(
            "INSERT INTO archived_orders (id, restaurant, ticket, customer_id, state, total, \
             currency, payment_state, captured, refunded, created_at, accepted_at, ready_at, \
             finished_at, archived_at, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, total = excluded.total, \
             payment_state = excluded.payment_state, captured = excluded.captured, \
             refunded = excluded.refunded, accepted_at = excluded.accepted_at, \
             ready_at = excluded.ready_at, finished_at = excluded.finished_at, \
             archived_at = excluded.archived_at, doc = excluded.doc",
        )
        .bind(o.id.clone())
        .bind(o.restaurant.clone())
        .bind(ms(o.ticket))
        .bind(o.customer_id.clone())
        .bind(o.state.as_str().to_string())
        .bind(o.total)
        .bind(o.currency.clone())
        .bind(
            serde_json::to_value(o.payment.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        )
        .bind(o.payment.captured)
        .bind(o.payment.refunded)
        .bind(ms(o.created_at))
        .bind(t.accepted_at.map(ms))
        .bind(t.ready_at.map(ms))
        .bind(ms(t.finished_at))
        .bind(ms(now_ms))
        .bind(doc)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM archived_lines WHERE order_id = $1")
            .bind(o.id.clone())
            .execute(&mut **tx)
            .await?;
        for (i, l) in o.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO archived_lines (order_id, line, sku, name, qty, unit_price, station) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(o.id.clone())
            .bind(i64::try_from(i).unwrap_or(i64::MAX))
            .bind(l.sku.clone())
            .bind(l.name.clone())
            .bind(i64::from(l.qty))
            .bind(l.unit_price)
            .bind(l.station.clone())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    fn order_of(row: &AnyRow) -> Result<Order, ArchiveError> {
        let id: String = row.try_get("id")?;
        let doc: String = row.try_get("doc")?;
        serde_json::from_str(&doc).map_err(|e| ArchiveError::Damaged {
            id,
            reason: e.to_string(),
        })
    }

    /// The archived order `id`, if there is one.
    pub async fn get(&self, id: &str) -> Result<Option<Order>, ArchiveError> {
        let row = sqlx::query("SELECT id, doc FROM archived_orders WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Archive::order_of).transpose()
    }

    /// Every archived order, by id: for checkers and tools (unbounded).
    pub async fn all_orders(&self) -> Result<Vec<Order>, ArchiveError> {
        let rows = sqlx::query("SELECT id, doc FROM archived_orders ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Archive::order_of).collect()
    }

    /// Whether orders are archived (for tests and figures).
    pub async fn count(&self) -> Result<u64, ArchiveError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM archived_orders")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(unms(n))
    }

    /// A customer's archived orders, newest first, after `cursor` (the
    /// `next` of the page before); at most `limit`. Returns the page and
    /// the cursor of the next one.
    pub async fn history(
        &self,
        customer_id: &str,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<(Vec<Order>, Option<Cursor>), ArchiveError> {
        let (before, id) = match cursor {
            Some(c) => (ms(c.created_at), c.id.clone()),
            None => (i64::MAX, String::new()),
        };
        let rows = sqlx::query(
            "SELECT id, doc, created_at FROM archived_orders WHERE customer_id = $1 \
             AND (created_at < $2 OR (created_at = $3 AND id < $4)) \
             ORDER BY created_at DESC, id DESC LIMIT $5",
        )
        .bind(customer_id.to_string())
        .bind(before)
        .bind(before)
        .bind(id)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut orders = rows
            .iter()
            .map(Archive::order_of)
            .collect::<Result<Vec<_>, _>>()?;
        let more = orders.len() > limit as usize;
        orders.truncate(limit as usize);
        let next = match orders.last() {
            Some(o) if more => Some(Cursor {
                created_at: o.created_at,
                id: o.id.clone(),
            }),
            _ => None,
        };
        Ok((orders, next))
    }

    /// One restaurant's archived orders placed in `[from_ms, to_ms)`, by UTC
    /// day.
    pub async fn sales(
        &self,
        restaurant: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<DaySales>, ArchiveError> {
        let rows = sqlx::query(
            "SELECT state, captured, refunded, created_at, accepted_at, ready_at, finished_at \
             FROM archived_orders WHERE restaurant = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(restaurant.to_string())
        .bind(ms(from_ms))
        .bind(ms(to_ms))
        .fetch_all(&self.pool)
        .await?;
        #[derive(Default)]
        struct Day {
            sales: Option<DaySales>,
            ready: Vec<u64>,
            completed: Vec<u64>,
        }
        let mut days: BTreeMap<u64, Day> = BTreeMap::new();
        for r in rows {
            let state: String = r.try_get("state")?;
            let created = unms(r.try_get("created_at")?);
            let accepted: Option<i64> = r.try_get("accepted_at")?;
            let ready: Option<i64> = r.try_get("ready_at")?;
            let finished = unms(r.try_get("finished_at")?);
            let d = days.entry(created / DAY_MS).or_default();
            let s = d.sales.get_or_insert_with(|| DaySales {
                day: day_string(created / DAY_MS),
                orders: 0,
                by_state: BTreeMap::new(),
                revenue: 0,
                refunds: 0,
                accepted_to_ready: None,
                placed_to_completed: None,
            });
            s.orders += 1;
            *s.by_state.entry(state.clone()).or_default() += 1;
            s.revenue += r.try_get::<i64, _>("captured")?;
            s.refunds += r.try_get::<i64, _>("refunded")?;
            if let (Some(a), Some(rd)) = (accepted, ready) {
                d.ready.push(unms(rd).saturating_sub(unms(a)));
            }
            if state == OrderState::Completed.as_str() {
                d.completed.push(finished.saturating_sub(created));
            }
        }
        Ok(days
            .into_values()
            .filter_map(|mut d| {
                let mut s = d.sales.take()?;
                s.accepted_to_ready = timing(&mut d.ready);
                s.placed_to_completed = timing(&mut d.completed);
                Some(s)
            })
            .collect())
    }

    /// Units and revenue per item over one restaurant's completed orders
    /// placed in `[from_ms, to_ms)`, best-selling first.
    pub async fn items(
        &self,
        restaurant: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<ItemSales>, ArchiveError> {
        let rows = sqlx::query(
            "SELECT l.sku AS sku, l.name AS name, CAST(SUM(l.qty) AS BIGINT) AS units, \
             CAST(SUM(l.qty * l.unit_price) AS BIGINT) AS revenue \
             FROM archived_lines l JOIN archived_orders o ON o.id = l.order_id \
             WHERE o.restaurant = $1 AND o.state = $2 AND o.created_at >= $3 AND o.created_at < $4 \
             GROUP BY l.sku, l.name ORDER BY revenue DESC, l.sku",
        )
        .bind(restaurant.to_string())
        .bind(OrderState::Completed.as_str().to_string())
        .bind(ms(from_ms))
        .bind(ms(to_ms))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ItemSales {
                    sku: r.try_get("sku")?,
                    name: r.try_get("name")?,
                    units: unms(r.try_get("units")?),
                    revenue: r.try_get("revenue")?,
                })
            })
            .collect()
    }

    /// Closes the pool (waits for connections to finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Where the next `order.history` page starts: the last order of this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: u64,
    pub id: String,
}

impl Cursor {
    /// `<created_at>.<id>` (opaque to clients).
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (t, id) = s.split_once('.')?;
        let ok = !id.is_empty()
            && id.len() <= 200
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return None;
        }
        Some(Cursor {
            created_at: t.parse().ok()?,
            id: id.to_string(),
        })
    }
}

const DAY_MS: u64 = 86_400_000;

/// Average and 90th percentile (nearest rank) of `v`, `None` if empty.
fn timing(v: &mut [u64]) -> Option<Timing> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    let rank = (n * 9).div_ceil(10).max(1);
    Some(Timing {
        count: n as u64,
        avg_ms: v.iter().sum::<u64>() / n as u64,
        p90_ms: v[rank - 1],
    })
}

/// `YYYY-MM-DD` of day `days` since 1970-01-01 (proleptic Gregorian).
pub fn day_string(days: u64) -> String {
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Unix ms of 00:00 UTC on `YYYY-MM-DD`, if it is a date.
pub fn parse_day(s: &str) -> Option<u64> {
    let mut it = s.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if s.len() != 10 || !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-30 and the like: the day must round-trip.
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    u64::try_from(days).ok().map(|x| x * DAY_MS)
}

// Howard Hinnant's algorithms (public domain), on days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates() {
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2026-12-01"), Some(1_796_083_200_000));
        assert_eq!(day_string(1_796_083_200_000 / DAY_MS), "2026-12-01");
        assert_eq!(
            day_string(parse_day("2024-02-29").unwrap() / DAY_MS),
            "2024-02-29"
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "x",
            "",
            "2026-00-10",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn p90_is_the_nearest_rank() {
        let mut v: Vec<u64> = (1..=10).collect();
        let t = timing(&mut v).unwrap();
        assert_eq!((t.count, t.avg_ms, t.p90_ms), (10, 5, 9));
        assert_eq!(timing(&mut [7]).unwrap().p90_ms, 7);
        assert_eq!(timing(&mut []), None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            created_at: 17,
            id: "trattoria-4".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in ["", "x", "12", "12.", "a.b", "1.a/b", "1.a b"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn passwords_stay_out_of_what_is_shown() {
        assert_eq!(
            redact("postgres://dfood:s3cret@db:5432/dfood"),
            "postgres://dfood@db:5432/dfood"
        );
        assert_eq!(redact("sqlite:///x/archive.db"), "sqlite:///x/archive.db");
    }
}

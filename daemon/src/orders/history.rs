//! History and reports: what the archive holds of finished orders (see
//! `crate::archive`). A customer pages through their own past orders; a
//! restaurant's managers (and operators) get sales per day and units per
//! item. Days are UTC, by the day an order was placed.

use protocol::messages::history::*;
use protocol::messages::orders::Order;
use protocol::wire::ErrorCode;

use crate::archive::{self, Archive, ArchiveError, Cursor};
use crate::catalog;
use crate::ctx::Ctx;
use crate::rpc::{ApiError, ApiResult};

const DAY_MS: u64 = 86_400_000;
const DEFAULT_PAGE: u32 = 20;
const DEFAULT_REPORT_DAYS: u64 = 30;

impl From<ArchiveError> for ApiError {
    fn from(e: ArchiveError) -> Self {
        match e {
            e @ ArchiveError::Unavailable(_) => ApiError::unavailable(e.to_string()),
            e => ApiError::internal(e.to_string()),
        }
    }
}

fn the_archive<'a>(ctx: &Ctx<'a>) -> ApiResult<&'a Archive> {
    ctx.archive.ok_or_else(|| {
        ApiError::unavailable(
            "this cluster keeps no order archive (set archive_url on its nodes): finished orders stay in the hot store",
        )
    })
}

/// The archived order `id`, if the node has an archive and it holds it.
pub async fn archived(ctx: &Ctx<'_>, id: &str) -> ApiResult<Option<Order>> {
    match ctx.archive {
        Some(a) => Ok(a.get(id).await?),
        None => Ok(None),
    }
}

/// `order.history`: the caller's archived orders, newest first.
pub async fn history(ctx: &Ctx<'_>, req: HistoryRequest) -> ApiResult<History> {
    let p = ctx.principal().await?;
    let limit = req.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_HISTORY_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_HISTORY_PAGE}, not {limit}"
        )));
    }
    let cursor = match req.cursor.as_deref() {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| {
            ApiError::bad_request(
                "cursor is not one this server gave out (use the `next` of the previous page)",
            )
        })?),
    };
    let (orders, next) = the_archive(ctx)?
        .history(&p.user_id, cursor.as_ref(), limit)
        .await?;
    Ok(History {
        orders,
        next: next.map(|c| c.encode()),
    })
}

/// The days `req` covers: `[from_ms, to_ms)` and their names.
fn span(req: &ReportRequest, now_ms: u64) -> ApiResult<(u64, u64, String, String)> {
    let day = |s: &str, what: &str| {
        archive::parse_day(s).ok_or_else(|| {
            ApiError::bad_request(format!("{what} {s:?} is not a date like 2026-12-01"))
        })
    };
    let to = match &req.to {
        Some(t) => day(t, "to")?,
        None => now_ms / DAY_MS * DAY_MS,
    };
    let from = match &req.from {
        Some(f) => day(f, "from")?,
        None => to.saturating_sub((DEFAULT_REPORT_DAYS - 1) * DAY_MS),
    };
    if from > to {
        return Err(ApiError::bad_request(format!(
            "from {} is after to {}",
            archive::day_string(from / DAY_MS),
            archive::day_string(to / DAY_MS)
        )));
    }
    let days = (to - from) / DAY_MS + 1;
    if days > MAX_REPORT_DAYS {
        return Err(ApiError::bad_request(format!(
            "a report covers at most {MAX_REPORT_DAYS} days, not {days}"
        )));
    }
    Ok((
        from,
        to + DAY_MS,
        archive::day_string(from / DAY_MS),
        archive::day_string(to / DAY_MS),
    ))
}

/// Managers of the restaurant and operators; its currency.
async fn may_report(ctx: &Ctx<'_>, r: &str) -> ApiResult<String> {
    catalog::validate_restaurant_id(r)?;
    let p = ctx.principal().await?;
    if !p.operator {
        catalog::require_manager(ctx, r).await?;
    }
    Ok(catalog::get_restaurant(ctx.store, r).await?.value.currency)
}

pub async fn sales(ctx: &Ctx<'_>, req: ReportRequest) -> ApiResult<SalesReport> {
    let currency = may_report(ctx, &req.restaurant).await?;
    let (from_ms, to_ms, from, to) = span(&req, ctx.now_ms())?;
    let days = the_archive(ctx)?
        .sales(&req.restaurant, from_ms, to_ms)
        .await?;
    Ok(SalesReport {
        restaurant: req.restaurant,
        from,
        to,
        currency,
        days,
    })
}

pub async fn items(ctx: &Ctx<'_>, req: ReportRequest) -> ApiResult<ItemsReport> {
    let currency = may_report(ctx, &req.restaurant).await?;
    let (from_ms, to_ms, from, to) = span(&req, ctx.now_ms())?;
    let items = the_archive(ctx)?
        .items(&req.restaurant, from_ms, to_ms)
        .await?;
    Ok(ItemsReport {
        restaurant: req.restaurant,
        from,
        to,
        currency,
        items,
    })
}

/// Whether `e` says an order is not in the hot store.
pub fn not_found(e: &ApiError) -> bool {
    e.code == ErrorCode::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(from: Option<&str>, to: Option<&str>) -> ReportRequest {
        ReportRequest {
            restaurant: "r".into(),
            from: from.map(String::from),
            to: to.map(String::from),
        }
    }

    #[test]
    fn report_spans() {
        let now = archive::parse_day("2026-12-01").unwrap() + 3_600_000;
        let (f, t, fs, ts) = span(&req(None, None), now).unwrap();
        assert_eq!((fs.as_str(), ts.as_str()), ("2026-11-02", "2026-12-01"));
        assert_eq!((t - f) / DAY_MS, 30);
        let (_, _, fs, ts) = span(&req(Some("2026-11-30"), Some("2026-11-30")), now).unwrap();
        assert_eq!((fs.as_str(), ts.as_str()), ("2026-11-30", "2026-11-30"));
        for (from, to) in [
            (Some("2026-12-02"), Some("2026-12-01")),
            (Some("2020-01-01"), Some("2026-12-01")),
            (Some("yesterday"), None),
            (None, Some("2026-02-30")),
        ] {
            let e = span(&req(from, to), now).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadRequest, "{from:?} {to:?}");
        }
    }
}

//! `dfood report`: a restaurant's sales per day and its best-selling
//! items, from the order archive (managers of the restaurant, operators).

use clap::{Args, Subcommand};
use protocol::messages::history::{
    ItemsReport, ReportRequest, SalesReport, Timing, types as history_types,
};

use super::catalog::show_price;
use crate::args::Global;
use crate::output::{CliError, emit};

#[derive(Debug, Clone, Args)]
pub struct Span {
    /// The restaurant.
    #[arg(long, short, env = "DFOOD_RESTAURANT")]
    pub restaurant: String,
    /// First day, YYYY-MM-DD (UTC) [default: 30 days before --to].
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day, included, YYYY-MM-DD (UTC) [default: today].
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
}

/// Reports read the archive: orders that finished and left the hot store
/// after the cluster's retention window (a day by default), counted by
/// the UTC day they were placed.
#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Per day: orders by final state, revenue, refunds, and the average
    /// and 90th percentile of acceptance-to-ready and placement-to-completion.
    Sales(Span),
    /// Units sold and revenue per item, over completed orders.
    Items(Span),
}

fn request(s: Span) -> ReportRequest {
    ReportRequest {
        restaurant: s.restaurant,
        from: s.from,
        to: s.to,
    }
}

fn timing(t: &Option<Timing>) -> String {
    match t {
        Some(t) => format!(
            "{:.1}/{:.1}",
            t.avg_ms as f64 / 60_000.0,
            t.p90_ms as f64 / 60_000.0
        ),
        None => "-".into(),
    }
}

fn sales_text(r: &SalesReport) -> String {
    let mut s = format!(
        "sales of {} from {} to {} ({}; times in minutes, avg/p90)\n{:<10} {:>6} {:>9} {:>9} {:>9} {:>9} {:>12} {:>14}",
        r.restaurant,
        r.from,
        r.to,
        r.currency,
        "DAY",
        "ORDERS",
        "DONE",
        "OTHER",
        "REVENUE",
        "REFUNDS",
        "ACCEPT→READY",
        "PLACED→DONE"
    );
    for d in &r.days {
        let done = d.by_state.get("completed").copied().unwrap_or(0);
        s.push_str(&format!(
            "\n{:<10} {:>6} {:>9} {:>9} {:>9} {:>9} {:>12} {:>14}",
            d.day,
            d.orders,
            done,
            d.orders - done,
            show_price(d.revenue),
            show_price(d.refunds),
            timing(&d.accepted_to_ready),
            timing(&d.placed_to_completed)
        ));
    }
    if r.days.is_empty() {
        s.push_str("\n(no archived orders in these days)");
    }
    s
}

fn items_text(r: &ItemsReport) -> String {
    let mut s = format!(
        "items of {} from {} to {} ({}, completed orders)\n{:<20} {:<28} {:>8} {:>10}",
        r.restaurant, r.from, r.to, r.currency, "SKU", "NAME", "UNITS", "REVENUE"
    );
    for i in &r.items {
        s.push_str(&format!(
            "\n{:<20} {:<28} {:>8} {:>10}",
            i.sku,
            i.name,
            i.units,
            show_price(i.revenue)
        ));
    }
    if r.items.is_empty() {
        s.push_str("\n(no completed orders archived in these days)");
    }
    s
}

pub async fn report(g: &Global, cmd: ReportCmd) -> Result<(), CliError> {
    let (c, t) = super::connect_authed(g).await?;
    match cmd {
        ReportCmd::Sales(span) => {
            let r: SalesReport = c
                .call(history_types::SALES, Some(&t), &request(span))
                .await?;
            emit(g.output, &r, sales_text);
        }
        ReportCmd::Items(span) => {
            let r: ItemsReport = c
                .call(history_types::ITEMS, Some(&t), &request(span))
                .await?;
            emit(g.output, &r, items_text);
        }
    }
    Ok(())
}

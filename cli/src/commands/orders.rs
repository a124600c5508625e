//! `dfood order ...` and `dfood events`.

use clap::Subcommand;
use protocol::client::{ClientError, SubscriptionItem};
use protocol::messages::catalog::{Menu, RestaurantRef, types as catalog_types};
use protocol::messages::history::{History, HistoryRequest};
use protocol::messages::orders::*;
use protocol::session::{Delivery, Notice, ResumingSubscription, Session};
use protocol::wire::ErrorCode;

use super::auth;
use super::catalog::show_price;
use crate::args::{Global, Output};
use crate::output::{CliError, emit, kv_table, print, print_json};

#[derive(Debug, Subcommand)]
pub enum OrderCmd {
    /// Place an order and pay for it.
    ///
    /// Items are sku[:qty][+modifier...], e.g. --item margherita:2+extra_cheese.
    /// The prices shown by `dfood menu` are checked at placement: if one
    /// changed meanwhile, nothing is ordered and you are told. A retry (by
    /// dfood itself, or by you with the same --idempotency-key) never makes
    /// a second order.
    Place {
        restaurant: String,
        #[arg(
            long = "item",
            short = 'i',
            required = true,
            value_name = "SKU[:QTY][+MOD...]"
        )]
        items: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
        /// Payment method token; the sandbox gateway's test methods are
        /// pm_card_visa, pm_card_mastercard, pm_card_declined,
        /// pm_card_insufficient_funds, pm_card_timeout.
        #[arg(long = "pay", value_name = "PAYMENT_METHOD")]
        pay: String,
        /// Reuse a key to make retries safe [default: a new random key].
        #[arg(long)]
        idempotency_key: Option<String>,
        /// Dine-in at this table (shown on the kitchen's ticket).
        #[arg(long, value_name = "TABLE", group = "service")]
        table: Option<String>,
        /// Takeout, called out by this name.
        #[arg(long, value_name = "NAME", group = "service")]
        takeout: Option<String>,
        /// Delivery, for this name.
        #[arg(long, value_name = "NAME", group = "service")]
        delivery: Option<String>,
    },
    /// Show an order.
    Status { order: String },
    /// List your orders, or a restaurant's (staff).
    ///
    /// Orders still open or recently finished are in the hot store; after
    /// the cluster's retention window (a day by default) finished orders
    /// move to the archive: --history lists yours from there, newest first,
    /// a page at a time (--limit, then --cursor with the `next` printed).
    List {
        #[arg(long, short, conflicts_with = "history")]
        restaurant: Option<String>,
        /// Only orders in this state (repeatable).
        #[arg(long = "state", conflicts_with = "history")]
        states: Vec<String>,
        /// Your past orders, from the archive.
        #[arg(long)]
        history: bool,
        /// --history: orders per page (1-100) [default: 20].
        #[arg(long, requires = "history", value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: Option<u32>,
        /// --history: where the page starts (the `next` of the page before).
        #[arg(long, requires = "history", value_name = "NEXT")]
        cursor: Option<String>,
    },
    /// Cancel your order (before the kitchen accepts it).
    Cancel {
        order: String,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Follow an order live until it is done.
    ///
    /// Prints the order as it is now, then once per change, until it
    /// reaches a final state (payment settled). With --output json, stdout
    /// is JSON Lines: one Order document per line (the same shape as
    /// `dfood order status --output json`, on one line).
    ///
    /// The stream survives the death, drain or restart of the node it is
    /// on: it resumes on another node from the last revision it printed,
    /// so nothing is missed and nothing printed twice. On stderr it says
    /// where it stands, one line each time: "subscribed on NODE (ADDR)
    /// from revision N", "lost NODE (ADDR): REASON; resuming at once",
    /// "resumed on NODE (ADDR) from revision N" (with --output json, one
    /// JSON document per line: {"notice": "subscribed"|"lost"|"resumed",
    /// "endpoint", "node", "from_revision" | "error", "retry_in_ms"}). It
    /// ends with an error only when the cluster refuses for good (the
    /// order is gone, access denied, history compacted).
    Track { order: String },
    /// Kitchen: accept an order (captures the payment).
    Accept {
        order: String,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Kitchen: reject an order (voids the payment).
    Reject {
        order: String,
        #[arg(long)]
        reason: String,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Kitchen: a station's lines of an order are ready (or not, --undo).
    ///
    /// The order starts preparing with its first station and is ready when
    /// every line is; `dfood order status` shows each line's station and
    /// whether it is ready.
    StationReady {
        order: String,
        /// The station whose lines are done (as on the menu).
        #[arg(long)]
        station: String,
        /// Mark them not ready again.
        #[arg(long)]
        undo: bool,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Kitchen: start preparing an accepted order.
    Start {
        order: String,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Kitchen: the order is ready.
    Ready {
        order: String,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Kitchen: the order was handed over.
    Complete {
        order: String,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Manager: refund a captured payment.
    Refund {
        order: String,
        /// Only if the order is still at this version (its `version`, as
        /// last seen): refused with nothing done if it moved meanwhile.
        #[arg(long, value_name = "VERSION")]
        if_version: Option<u64>,
    },
    /// Kitchen: flag an open order as a rush (boards show it first), or
    /// clear the flag with --off. Setting the flag it already has changes
    /// nothing.
    Rush {
        order: String,
        #[arg(long)]
        off: bool,
    },
}

/// A parsed --item.
pub fn parse_item(s: &str) -> Result<LineRequest, String> {
    let mut parts = s.split('+');
    let head = parts.next().unwrap_or_default();
    let (sku, qty) = match head.split_once(':') {
        Some((sku, q)) => (
            sku,
            q.parse::<u32>()
                .map_err(|_| format!("{s:?}: quantity {q:?} is not a whole number"))?,
        ),
        None => (head, 1),
    };
    if sku.is_empty() {
        return Err(format!("{s:?}: missing sku (sku[:qty][+modifier...])"));
    }
    if qty == 0 {
        return Err(format!("{s:?}: quantity must be at least 1"));
    }
    let modifiers: Vec<String> = parts.map(str::to_string).collect();
    if modifiers.iter().any(String::is_empty) {
        return Err(format!("{s:?}: empty modifier"));
    }
    Ok(LineRequest {
        sku: sku.into(),
        qty,
        modifiers,
        expected_unit_price: None,
    })
}

fn random_key() -> String {
    let mut b = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "cli-{}-{nanos:x}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

pub fn order_summary(o: &Order) -> String {
    let mut rows = vec![
        ("order", o.id.clone()),
        ("ticket", format!("#{}", o.ticket)),
        ("state", o.state.to_string()),
        ("customer", o.customer.clone()),
    ];
    if let Some(s) = &o.service {
        rows.push(("service", s.label()));
    }
    for l in &o.lines {
        let mods = if l.modifiers.is_empty() {
            String::new()
        } else {
            format!(" ({})", l.modifiers.join(", "))
        };
        let station = match (&l.station, l.ready_at) {
            (s, _) if s.is_empty() => String::new(),
            (s, Some(_)) => format!(" [{s}: ready]"),
            (s, None) => format!(" [{s}]"),
        };
        rows.push((
            "item",
            format!(
                "{} x {}{} @ {}{station}",
                l.qty,
                l.name,
                mods,
                show_price(l.unit_price)
            ),
        ));
    }
    if !o.note.is_empty() {
        rows.push(("note", o.note.clone()));
    }
    rows.push(("total", format!("{} {}", show_price(o.total), o.currency)));
    let card = o
        .payment
        .last4
        .as_ref()
        .map(|l| format!(", card ...{l}"))
        .unwrap_or_default();
    rows.push((
        "payment",
        format!("{:?}{card}", o.payment.state).to_lowercase(),
    ));
    if let Some(r) = &o.reason {
        rows.push(("reason", r.clone()));
    }
    kv_table(
        &rows
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>(),
    )
}

/// `YYYY-MM-DD` (UTC) of a unix-ms time.
fn day_of(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .take(10)
        .collect()
}

/// A step that names only the order: its type and body.
fn step(
    ty: &'static str,
    order: String,
    if_version: Option<u64>,
) -> (&'static str, serde_json::Value) {
    (
        ty,
        serde_json::json!(OrderRef {
            order,
            expected_version: if_version,
        }),
    )
}

pub async fn order(g: &Global, cmd: OrderCmd) -> Result<(), CliError> {
    match cmd {
        OrderCmd::Place {
            restaurant,
            items,
            note,
            pay,
            idempotency_key,
            table,
            takeout,
            delivery,
        } => {
            let service = match (table, takeout, delivery) {
                (Some(table), _, _) => Some(Service::DineIn { table }),
                (_, Some(name), _) => Some(Service::Takeout { name }),
                (_, _, Some(name)) => Some(Service::Delivery { name }),
                _ => None,
            };
            if let Some(s) = &service {
                protocol::text::check("the table or name", s.text(), protocol::text::SERVICE)
                    .map_err(|e| CliError::new(crate::exit::USAGE, "bad_request", e))?;
            }
            // A card number never leaves this machine (the daemon would
            // refuse it too).
            if protocol::text::card_number_in(&pay, true) {
                return Err(CliError::new(
                    crate::exit::USAGE,
                    "bad_request",
                    "--pay takes a payment token like pm_card_visa: send a payment token, never a card number",
                ));
            }
            let mut lines = Vec::new();
            for i in &items {
                lines.push(
                    parse_item(i)
                        .map_err(|e| CliError::new(crate::exit::USAGE, "bad_request", e))?,
                );
            }
            let (c, t) = super::connect_authed(g).await?;
            // Quote the prices the customer sees now; placement refuses if
            // they change before it commits.
            let menu: Menu = c
                .call(
                    catalog_types::MENU_GET,
                    None,
                    &RestaurantRef {
                        restaurant: restaurant.clone(),
                    },
                )
                .await?;
            for l in &mut lines {
                if let Some(item) = menu.items.iter().find(|i| i.sku == l.sku) {
                    let mods: i64 = l
                        .modifiers
                        .iter()
                        .filter_map(|m| item.modifiers.iter().find(|x| &x.code == m))
                        .map(|m| m.price)
                        .sum();
                    l.expected_unit_price = Some(item.price + mods);
                }
            }
            let body = PlaceOrder {
                service,
                restaurant,
                lines,
                note,
                payment_method: pay,
                idempotency_key: idempotency_key.unwrap_or_else(random_key),
            };
            // The session retries a placement it got no answer for (on
            // another node if need be) with this same idempotency key.
            let order: Order = c.call(types::PLACE, Some(&t), &body).await?;
            emit(g.output, &order, |o| {
                let tail = if o.state == OrderState::PendingPayment {
                    "\n(payment still being confirmed: `dfood order track` follows it)"
                } else {
                    ""
                };
                format!("{}{tail}", order_summary(o))
            });
        }
        OrderCmd::Status { order } => {
            let (c, t) = super::connect_authed(g).await?;
            let o: Order = c
                .call(
                    types::GET,
                    Some(&t),
                    &OrderRef {
                        expected_version: None,
                        order,
                    },
                )
                .await?;
            emit(g.output, &o, order_summary);
        }
        OrderCmd::List {
            history: true,
            limit,
            cursor,
            ..
        } => {
            let (c, t) = super::connect_authed(g).await?;
            let h: History = c
                .call(
                    protocol::messages::history::types::HISTORY,
                    Some(&t),
                    &HistoryRequest { limit, cursor },
                )
                .await?;
            emit(g.output, &h, |h| {
                let mut s = format!(
                    "{:<24} {:<10} {:<16} {:>10} {}",
                    "ORDER", "PLACED", "STATE", "TOTAL", "RESTAURANT"
                );
                for o in &h.orders {
                    s.push_str(&format!(
                        "\n{:<24} {:<10} {:<16} {:>10} {}",
                        o.id,
                        day_of(o.created_at),
                        o.state.to_string(),
                        show_price(o.total),
                        o.restaurant
                    ));
                }
                if h.orders.is_empty() {
                    s.push_str("\n(no archived orders)");
                }
                if let Some(n) = &h.next {
                    s.push_str(&format!("\nmore: dfood order list --history --cursor {n}"));
                }
                s
            });
        }
        OrderCmd::List {
            restaurant, states, ..
        } => {
            let states = states
                .iter()
                .map(|s| {
                    serde_json::from_value::<OrderState>(serde_json::json!(s)).map_err(|_| {
                        CliError::new(
                            crate::exit::USAGE,
                            "bad_request",
                            format!("unknown state {s:?}"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (c, t) = super::connect_authed(g).await?;
            // Every page, in order: the shapes stay `{"orders": [...]}`.
            let mut l = OrderList {
                orders: Vec::new(),
                next_cursor: None,
            };
            let mut cursor = None;
            loop {
                let page: OrderList = c
                    .call(
                        types::LIST,
                        Some(&t),
                        &ListOrders {
                            restaurant: restaurant.clone(),
                            states: states.clone(),
                            limit: Some(MAX_PAGE),
                            cursor: cursor.take(),
                        },
                    )
                    .await?;
                l.orders.extend(page.orders);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            emit(g.output, &l, |l| {
                let mut s = format!(
                    "{:<24} {:>6} {:<16} {:>10} {}",
                    "ORDER", "TICKET", "STATE", "TOTAL", "CUSTOMER"
                );
                for o in &l.orders {
                    s.push_str(&format!(
                        "\n{:<24} {:>6} {:<16} {:>10} {}",
                        o.id,
                        o.ticket,
                        o.state.to_string(),
                        show_price(o.total),
                        o.customer
                    ));
                }
                s
            });
        }
        OrderCmd::Track { order } => track(g, &order).await?,
        other => {
            let (ty, body) = match other {
                OrderCmd::Cancel { order, if_version } => step(types::CANCEL, order, if_version),
                OrderCmd::Accept { order, if_version } => step(types::ACCEPT, order, if_version),
                OrderCmd::Start { order, if_version } => step(types::START, order, if_version),
                OrderCmd::Ready { order, if_version } => step(types::READY, order, if_version),
                OrderCmd::Complete { order, if_version } => {
                    step(types::COMPLETE, order, if_version)
                }
                OrderCmd::Refund { order, if_version } => step(types::REFUND, order, if_version),
                OrderCmd::Reject {
                    order,
                    reason,
                    if_version,
                } => (
                    types::REJECT,
                    serde_json::json!(RejectOrder {
                        expected_version: if_version,
                        order,
                        reason
                    }),
                ),
                OrderCmd::StationReady {
                    order,
                    station,
                    undo,
                    if_version,
                } => (
                    types::STATION_READY,
                    serde_json::json!(StationReady {
                        order,
                        station,
                        ready: !undo,
                        expected_version: if_version,
                    }),
                ),
                OrderCmd::Rush { order, off } => (
                    types::RUSH,
                    serde_json::json!(RushOrder { order, rush: !off }),
                ),
                _ => unreachable!("handled above"),
            };
            let (c, t) = super::connect_authed(g).await?;
            let o: Order = c.call(ty, Some(&t), &body).await?;
            emit(g.output, &o, |o| {
                format!(
                    "{} is now {} (payment {:?})",
                    o.id, o.state, o.payment.state
                )
                .replace("payment ", "payment ")
                .to_lowercase()
            });
        }
    }
    Ok(())
}

/// Prints one line per change (or one JSON document per line) until the
/// order reaches a final state. The subscription resumes on its own, on
/// another node if need be, from the last revision seen: nothing missed,
/// nothing twice.
async fn track(g: &Global, order: &str) -> Result<(), CliError> {
    let (c, t) = super::connect_authed(g).await?;
    let o: Order = c
        .call(
            types::GET,
            Some(&t),
            &OrderRef {
                expected_version: None,
                order: order.to_string(),
            },
        )
        .await?;
    show_track(g.output, &o);
    if o.state.is_terminal() {
        return Ok(());
    }
    let mut stream = Stream::new(g, &c, format!("order:{order}"), t, Some(o.revision + 1)).await;
    loop {
        let SubscriptionItem::Events { events, .. } = stream.next().await? else {
            continue;
        };
        for ev in events {
            if let Ok(o) = serde_json::from_value::<Order>(ev.data) {
                show_track(g.output, &o);
                if o.state.is_terminal()
                    && !matches!(
                        o.payment.state,
                        PaymentState::Capturing | PaymentState::Voiding | PaymentState::Refunding
                    )
                {
                    return Ok(());
                }
            }
        }
    }
}

fn show_track(format: Output, o: &Order) {
    match format {
        Output::Json => print_json(&serde_json::to_string(o).expect("serialisable")),
        Output::Human => print(
            &format!(
                "{} #{} {} (payment {:?})",
                o.id, o.ticket, o.state, o.payment.state
            )
            .to_lowercase(),
        ),
    }
}

/// `dfood events --restaurant R`: every event of a restaurant, live,
/// resuming across reconnects (on another node if need be).
pub async fn events(g: &Global, restaurant: &str, from: Option<u64>) -> Result<(), CliError> {
    let (c, t) = super::connect_authed(g).await?;
    let mut stream = Stream::new(g, &c, format!("restaurant:{restaurant}"), t, from).await;
    loop {
        let SubscriptionItem::Events { revision, events } = stream.next().await? else {
            continue;
        };
        for ev in events {
            match g.output {
                Output::Json => print_json(&serde_json::json!({"revision": revision, "kind": ev.kind, "subject": ev.subject, "data": ev.data}).to_string()),
                Output::Human => print(&format!("{revision:>8}  {:<22} {}", ev.kind, ev.subject)),
            }
        }
    }
}

/// A streaming command's subscription: resumes across node failures (see
/// [`protocol::session::ResumingSubscription`]), tells on stderr where it
/// stands, and renews an expired saved login once when a resubscription
/// is refused for it.
struct Stream<'g> {
    g: &'g Global,
    session: Session,
    sub: ResumingSubscription,
}

impl<'g> Stream<'g> {
    async fn new(
        g: &'g Global,
        session: &Session,
        topic: String,
        token: String,
        from: Option<u64>,
    ) -> Stream<'g> {
        // Learn the members' names now, so that the stderr lines name
        // nodes, not only addresses. Best effort: addresses do too.
        let _ = session.refresh_members().await;
        Stream {
            g,
            session: session.clone(),
            sub: session.subscribe_resuming(topic, Some(&token), from),
        }
    }

    async fn next(&mut self) -> Result<SubscriptionItem, CliError> {
        let mut renewed = false;
        loop {
            match self.sub.next_with_notices().await {
                Ok(Delivery::Item(i)) => return Ok(i),
                Ok(Delivery::Notice(n)) => {
                    if matches!(n, Notice::Subscribed { .. }) {
                        renewed = false;
                    }
                    notice(self.g.output, &n);
                }
                Err(ClientError::Server(b)) if b.code == ErrorCode::Unauthenticated && !renewed => {
                    // The access token expired while the stream ran; a
                    // new one from the saved login, then resume.
                    let Some(t) = auth::renew_saved_token(self.g, &self.session).await? else {
                        return Err(ClientError::Server(b).into());
                    };
                    renewed = true;
                    self.sub.set_token(Some(&t));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// One stderr line about a stream's connection (JSON with --output json).
fn notice(format: Output, n: &Notice) {
    let line = match format {
        Output::Human => n.to_string(),
        Output::Json => match n {
            Notice::Subscribed {
                endpoint,
                node,
                from_revision,
                resumed,
            } => serde_json::json!({
                "notice": if *resumed { "resumed" } else { "subscribed" },
                "endpoint": endpoint,
                "node": node,
                "from_revision": from_revision,
            }),
            Notice::Lost {
                endpoint,
                node,
                error,
                retry_in,
            } => serde_json::json!({
                "notice": "lost",
                "endpoint": endpoint,
                "node": node,
                "error": error,
                "retry_in_ms": retry_in.as_millis() as u64,
            }),
        }
        .to_string(),
    };
    // Node names and errors come from the server: printed harmless.
    match format {
        Output::Human => eprintln!("{}", protocol::text::escape(&line, false)),
        Output::Json => eprintln!("{}", protocol::text::escape_json(&line)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_parse() {
        let l = parse_item("margherita:2+extra_cheese+no_basil").unwrap();
        assert_eq!((l.sku.as_str(), l.qty), ("margherita", 2));
        assert_eq!(l.modifiers, ["extra_cheese", "no_basil"]);
        assert_eq!(parse_item("tiramisu").unwrap().qty, 1);
        for bad in ["", ":2", "x:0", "x:-1", "x:two", "x+"] {
            assert!(parse_item(bad).is_err(), "{bad}");
        }
    }
}

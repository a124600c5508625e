//! `dfood order ...` and `dfood events`.

use std::time::Duration;

use clap::Subcommand;
use protocol::client::{Client, ClientError, SubscriptionItem};
use protocol::messages::SubscribeRequest;
use protocol::messages::catalog::{Menu, RestaurantRef, types as catalog_types};
use protocol::messages::orders::*;

use super::catalog::show_price;
use crate::args::{Global, Output};
use crate::output::{CliError, emit, kv_table, print};

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
    },
    /// Show an order.
    Status { order: String },
    /// List your orders, or a restaurant's (staff).
    List {
        #[arg(long, short)]
        restaurant: Option<String>,
        /// Only orders in this state (repeatable).
        #[arg(long = "state")]
        states: Vec<String>,
    },
    /// Cancel your order (before the kitchen accepts it).
    Cancel { order: String },
    /// Follow an order live until it is done.
    Track { order: String },
    /// Kitchen: accept an order (captures the payment).
    Accept { order: String },
    /// Kitchen: reject an order (voids the payment).
    Reject {
        order: String,
        #[arg(long)]
        reason: String,
    },
    /// Kitchen: start preparing an accepted order.
    Start { order: String },
    /// Kitchen: the order is ready.
    Ready { order: String },
    /// Kitchen: the order was handed over.
    Complete { order: String },
    /// Manager: refund a captured payment.
    Refund { order: String },
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
    for l in &o.lines {
        let mods = if l.modifiers.is_empty() {
            String::new()
        } else {
            format!(" ({})", l.modifiers.join(", "))
        };
        rows.push((
            "item",
            format!(
                "{} x {}{} @ {}",
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

fn retryable(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Connect { .. }
            | ClientError::Timeout { .. }
            | ClientError::Transport { .. }
            | ClientError::GoingAway { .. }
    ) || matches!(e, ClientError::Server(b) if b.code == protocol::wire::ErrorCode::Unavailable)
}

pub async fn order(g: &Global, cmd: OrderCmd) -> Result<(), CliError> {
    match cmd {
        OrderCmd::Place {
            restaurant,
            items,
            note,
            pay,
            idempotency_key,
        } => {
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
                restaurant,
                lines,
                note,
                payment_method: pay,
                idempotency_key: idempotency_key.unwrap_or_else(random_key),
            };
            let mut attempt = 0;
            let order: Order = loop {
                match c.call(types::PLACE, Some(&t), &body).await {
                    Ok(o) => break o,
                    Err(e) if retryable(&e) && attempt < 3 => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            };
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
            let o: Order = c.call(types::GET, Some(&t), &OrderRef { order }).await?;
            emit(g.output, &o, order_summary);
        }
        OrderCmd::List { restaurant, states } => {
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
            let l: OrderList = c
                .call(types::LIST, Some(&t), &ListOrders { restaurant, states })
                .await?;
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
                OrderCmd::Cancel { order } => {
                    (types::CANCEL, serde_json::json!(OrderRef { order }))
                }
                OrderCmd::Accept { order } => {
                    (types::ACCEPT, serde_json::json!(OrderRef { order }))
                }
                OrderCmd::Start { order } => (types::START, serde_json::json!(OrderRef { order })),
                OrderCmd::Ready { order } => (types::READY, serde_json::json!(OrderRef { order })),
                OrderCmd::Complete { order } => {
                    (types::COMPLETE, serde_json::json!(OrderRef { order }))
                }
                OrderCmd::Refund { order } => {
                    (types::REFUND, serde_json::json!(OrderRef { order }))
                }
                OrderCmd::Reject { order, reason } => (
                    types::REJECT,
                    serde_json::json!(RejectOrder { order, reason }),
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
/// order reaches a final state. Reconnects on its own and resumes from the
/// last revision seen: nothing missed, nothing twice.
async fn track(g: &Global, order: &str) -> Result<(), CliError> {
    let (c, t) = super::connect_authed(g).await?;
    let o: Order = c
        .call(
            types::GET,
            Some(&t),
            &OrderRef {
                order: order.to_string(),
            },
        )
        .await?;
    show_track(g.output, &o);
    if o.state.is_terminal() {
        return Ok(());
    }
    let mut next_rev = o.revision + 1;
    let mut client: Option<(Client, String)> = Some((c, t));
    let mut failures = 0;
    loop {
        let (c, token) = match client.take() {
            Some(ct) => ct,
            None => match super::connect_authed(g).await {
                Ok(ct) => ct,
                Err(e) if failures < 20 => {
                    failures += 1;
                    eprintln!("dfood: reconnecting ({})", e.message);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        let sub = c
            .subscribe(
                &SubscribeRequest {
                    topic: format!("order:{order}"),
                    from_revision: Some(next_rev),
                },
                Some(&token),
            )
            .await;
        let mut sub = match sub {
            Ok(s) => s,
            Err(e) if retryable(&e) && failures < 20 => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        loop {
            match sub.next().await {
                Ok(Some(SubscriptionItem::Events { revision, events })) => {
                    failures = 0;
                    next_rev = revision + 1;
                    for ev in events {
                        if let Ok(o) = serde_json::from_value::<Order>(ev.data) {
                            show_track(g.output, &o);
                            if o.state.is_terminal()
                                && !matches!(
                                    o.payment.state,
                                    PaymentState::Capturing
                                        | PaymentState::Voiding
                                        | PaymentState::Refunding
                                )
                            {
                                return Ok(());
                            }
                        }
                    }
                }
                Ok(Some(SubscriptionItem::Progress { revision })) => {
                    next_rev = next_rev.max(revision + 1)
                }
                Ok(None) => break,
                Err(e) if retryable(&e) => break,
                Err(e) => return Err(e.into()),
            }
        }
        failures += 1;
        if failures > 20 {
            return Err(CliError::new(
                crate::exit::UNAVAILABLE,
                "unavailable",
                "lost the daemon while tracking; giving up",
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn show_track(format: Output, o: &Order) {
    match format {
        Output::Json => print(&serde_json::to_string(o).expect("serialisable")),
        Output::Human => print(
            &format!(
                "{} #{} {} (payment {:?})",
                o.id, o.ticket, o.state, o.payment.state
            )
            .to_lowercase(),
        ),
    }
}

/// `dfood events --restaurant R`: every event of a restaurant, live.
pub async fn events(g: &Global, restaurant: &str, from: Option<u64>) -> Result<(), CliError> {
    let mut next_rev = from;
    let mut failures = 0;
    loop {
        let (c, t) = super::connect_authed(g).await?;
        let mut sub = match c
            .subscribe(
                &SubscribeRequest {
                    topic: format!("restaurant:{restaurant}"),
                    from_revision: next_rev,
                },
                Some(&t),
            )
            .await
        {
            Ok(s) => s,
            Err(e) if retryable(&e) && failures < 20 => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if next_rev.is_none() {
            next_rev = Some(sub.start_revision);
        }
        loop {
            match sub.next().await {
                Ok(Some(SubscriptionItem::Events { revision, events })) => {
                    failures = 0;
                    next_rev = Some(revision + 1);
                    for ev in events {
                        match g.output {
                            Output::Json => print(&serde_json::json!({"revision": revision, "kind": ev.kind, "subject": ev.subject, "data": ev.data}).to_string()),
                            Output::Human => print(&format!("{revision:>8}  {:<22} {}", ev.kind, ev.subject)),
                        }
                    }
                }
                Ok(Some(SubscriptionItem::Progress { .. })) => {}
                Ok(None) => break,
                Err(e) if retryable(&e) => break,
                Err(e) => return Err(e.into()),
            }
        }
        failures += 1;
        if failures > 20 {
            return Err(CliError::new(
                crate::exit::UNAVAILABLE,
                "unavailable",
                "lost the daemon; giving up",
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
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

//! `bench track`: subscribers following a restaurant while orders are
//! placed; commit-to-receipt latency.

use super::*;

pub(super) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(super) async fn track(g: &Global, a: TrackArgs) -> Result<(), CliError> {
    check_load(&a.load)?;
    let show = show_progress(g, &a.load);
    let ss = sessions(g, connections(&a.load)).await?;
    let (manager, _) = seed(&ss[0], &a.setup).await?;
    if manager.is_empty() {
        return Err(CliError::new(
            crate::exit::USAGE,
            "bad_request",
            "bench track subscribes as the manager: it cannot --skip-setup",
        ));
    }
    let restaurant = restaurant_ids(&a.setup)[0].clone();
    let tokens = customers(&ss, &a.customer_prefix, a.customers, &a.setup.password).await?;
    // Subscribers: each records, per order event, now - the order's
    // updated_at (both Unix milliseconds on this machine's clock).
    let received = Arc::new(Mutex::new(Recorder::default()));
    let mut subs = tokio::task::JoinSet::new();
    let mut ready = Vec::new();
    for i in 0..a.subscribers {
        let s = ss[i as usize % ss.len()].clone();
        let (token, topic) = (manager.clone(), format!("restaurant:{restaurant}"));
        let received = received.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
        ready.push(rx);
        subs.spawn(async move {
            let req = SubscribeRequest {
                topic,
                from_revision: None,
            };
            let mut sub = match s.subscribe(&req, Some(&token)).await {
                Ok(sub) => {
                    let _ = tx.send(Ok(()));
                    sub
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            // Runs until aborted after the load: reading a frame is not
            // cancel-safe, so no timeout around `next`.
            loop {
                let item = match sub.next().await {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(e) => {
                        received
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .record(Duration::ZERO, Err(client_error_kind(&e)));
                        break;
                    }
                };
                let now = unix_ms();
                if let protocol::client::SubscriptionItem::Events { events, .. } = item {
                    let mut rec = received.lock().unwrap_or_else(PoisonError::into_inner);
                    for ev in events {
                        if !ev.kind.starts_with("order.") {
                            continue;
                        }
                        if let Some(at) = ev.data.get("updated_at").and_then(|v| v.as_u64()) {
                            rec.record(Duration::from_millis(now.saturating_sub(at)), Ok(()));
                        }
                    }
                }
            }
        });
    }
    for rx in ready {
        if let Ok(Err(e)) = rx.await {
            subs.abort_all();
            return Err(CliError::new(
                crate::exit::UNAVAILABLE,
                "unavailable",
                format!("bench setup: subscribing: {e}"),
            ));
        }
    }
    let op = place_op(
        ss.clone(),
        tokens,
        vec![restaurant.clone()],
        order_lines(&seed_menu()),
        "pm_card_visa".into(),
    );
    let (plan, placed) = drive(&load_of(&a.load), op, "track", show).await;
    // Let the last events arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    subs.abort_all();
    while subs.join_next().await.is_some() {}
    let rec = std::mem::take(&mut *received.lock().unwrap_or_else(PoisonError::into_inner));
    let mut rec_all = rec;
    for (k, n) in placed.errors {
        *rec_all.errors.entry(format!("place:{k}")).or_default() += n;
    }
    let against = endpoints_of(&ss);
    let mut report = Report::new("track", "dfoodd", against, &plan, &rec_all);
    report.orders_placed = Some(placed.ok);
    for s in ss {
        s.close().await;
    }
    emit(g.output, &report, render_report);
    Ok(())
}

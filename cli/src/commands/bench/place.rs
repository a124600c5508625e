//! `bench place`: through the daemons, or straight at the store through
//! `dfoodd-bench` (`--raw-store`), or both (`--compare`).

use super::*;

/// Places orders through the daemons.
pub(super) fn place_op(
    sessions: Vec<Session>,
    tokens: Vec<String>,
    restaurants: Vec<String>,
    lines: Vec<LineRequest>,
    pay: String,
) -> Op {
    let run = run_id();
    let ctx = Arc::new((sessions, tokens, restaurants, lines, pay, run));
    Arc::new(move |seq: u64| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let (sessions, tokens, restaurants, lines, pay, run) = &*ctx;
            let s = &sessions[seq as usize % sessions.len()];
            let token = &tokens[seq as usize % tokens.len()];
            let req = PlaceOrder {
                service: None,
                restaurant: restaurants[seq as usize % restaurants.len()].clone(),
                lines: lines.clone(),
                note: String::new(),
                payment_method: pay.clone(),
                idempotency_key: format!("bench-{run}-{seq}"),
            };
            s.call::<_, Order>(order_types::PLACE, Some(token), &req)
                .await
                .map(|_| ())
                .map_err(|e| client_error_kind(&e))
        }) as OpFuture
    })
}

pub(super) async fn place_via_dfoodd(
    g: &Global,
    a: &PlaceArgs,
    show: bool,
) -> Result<Report, CliError> {
    let ss = sessions(g, connections(&a.load)).await?;
    seed(&ss[0], &a.setup).await?;
    let lines = order_lines(&seed_menu());
    let tokens = customers(&ss, &a.customer_prefix, a.customers, &a.setup.password).await?;
    let against = endpoints_of(&ss);
    let op = place_op(
        ss.clone(),
        tokens,
        restaurant_ids(&a.setup),
        lines,
        a.pay.clone(),
    );
    let operator = match &a.operator {
        Some(op) => Some(account(&ss[0], op, &a.setup.password).await?.access_token),
        None => None,
    };
    let sampler = match (a.store_every, &operator) {
        (Some(every), Some(t)) => Some(StoreSampler::start(ss[0].clone(), t.clone(), every)),
        _ => None,
    };
    let counted_before = match &operator {
        Some(t) => Some(node_counters(&ss[0], t).await?),
        None => None,
    };
    let (plan, rec) = drive(&load_of(&a.load), op, "place via dfoodd", show).await;
    let mut report = Report::new("place", "dfoodd", against, &plan, &rec);
    if let (Some(before), Some(t)) = (counted_before, &operator) {
        let after = node_counters(&ss[0], t).await?;
        report.placement = Some(cluster_figures(&before, &after, plan.elapsed));
    }
    if let Some(s) = sampler {
        report.store = s.stop().await;
    }
    for s in ss {
        s.close().await;
    }
    Ok(report)
}

/// Every node's placement counters, from `cluster.top` (each node
/// publishes its figures about once a second: waits for a fresh round).
async fn node_counters(
    s: &Session,
    token: &str,
) -> Result<std::collections::BTreeMap<String, protocol::messages::cluster::NodeStats>, CliError> {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let d: protocol::messages::cluster::Dashboard = s
        .call(
            protocol::messages::cluster::types::TOP,
            Some(token),
            &serde_json::json!({}),
        )
        .await
        .map_err(|e| setup_error("reading every node's counters (cluster.top)", e))?;
    Ok(d.nodes.into_iter().map(|n| (n.node.clone(), n)).collect())
}

/// What the run's placements cost the cluster: the counters' growth over
/// the nodes seen before and after.
pub(super) fn cluster_figures(
    before: &std::collections::BTreeMap<String, protocol::messages::cluster::NodeStats>,
    after: &std::collections::BTreeMap<String, protocol::messages::cluster::NodeStats>,
    elapsed: Duration,
) -> protocol::bench::PlacementFigures {
    let mut sum = (0u64, 0u64, 0u64, 0u64);
    let mut nodes = 0u32;
    for (name, b) in before {
        let Some(a) = after.get(name) else { continue };
        nodes += 1;
        sum.0 += a.placements.saturating_sub(b.placements);
        sum.1 += a
            .placement_lost_races
            .saturating_sub(b.placement_lost_races);
        sum.2 += a.placement_txns.saturating_sub(b.placement_txns);
        sum.3 += a.cpu_ms.saturating_sub(b.cpu_ms);
    }
    protocol::bench::PlacementFigures::of(nodes, elapsed.as_secs_f64(), sum)
}

/// `--raw-store`: the placement transaction straight at the store. The
/// CLI does not link the store: `dfoodd-bench place`, a binary of the
/// daemon's (installed beside `dfoodd`), runs the daemon's own placement
/// loop there with the same load and prints its report as JSON.
pub(super) async fn place_raw(a: &PlaceArgs, show: bool) -> Result<Report, CliError> {
    let bin = dfoodd_bench()?;
    let l = &a.load;
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("place")
        .args(["--concurrency", &l.concurrency.to_string()])
        .args(["--restaurant", &a.setup.restaurant])
        .args(["--restaurants", &a.setup.restaurants.to_string()])
        .args(["--customers", &a.customers.to_string()])
        .args(["--customer-prefix", &a.customer_prefix])
        .args(["--pay", &a.pay])
        .args(["--rss-every", &format!("{}ms", l.rss_every.as_millis())]);
    if let Some(r) = l.rate {
        cmd.args(["--rate", &r.to_string()]);
    }
    if let Some(d) = l.duration {
        cmd.args(["--duration", &format!("{}ms", d.as_millis())]);
    }
    if let Some(n) = l.count {
        cmd.args(["--count", &n.to_string()]);
    }
    for pid in &l.rss_pids {
        cmd.args(["--rss-pid", &pid.to_string()]);
    }
    if let Some(e) = &a.etcd {
        cmd.args(["--etcd", e]);
    }
    if let Some(f) = &a.store {
        cmd.arg("--store").arg(f);
    }
    if !show {
        cmd.arg("--no-progress");
    }
    // The progress bar and errors go to our stderr; the report to a pipe.
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    let out = cmd
        .output()
        .await
        .map_err(|e| CliError::config(format!("cannot run {}: {e}", bin.display())))?;
    if !out.status.success() {
        return Err(CliError::new(
            crate::exit::UNAVAILABLE,
            "unavailable",
            format!(
                "{} failed ({}); see its message above",
                bin.display(),
                out.status
            ),
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        CliError::new(
            crate::exit::PROTOCOL,
            "protocol_error",
            format!("{} printed no report: {e}", bin.display()),
        )
    })
}

/// `dfoodd-bench`: beside this `dfood` (both built or installed
/// together), else on `PATH`.
pub(super) fn dfoodd_bench() -> Result<PathBuf, CliError> {
    const NAME: &str = "dfoodd-bench";
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(NAME)));
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(NAME))
        .collect::<Vec<_>>();
    beside
        .into_iter()
        .chain(on_path)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            CliError::config(format!(
                "--raw-store needs {NAME}, the daemon's raw-store runner, beside dfood or on PATH: build it with `cargo build -p daemon` (it is installed with dfoodd)"
            ))
        })
}

pub(super) async fn place(g: &Global, a: PlaceArgs) -> Result<(), CliError> {
    check_load(&a.load)?;
    let show = show_progress(g, &a.load);
    if a.compare {
        let mut pairs = Vec::new();
        for round in 0..a.rounds {
            if show && a.rounds > 1 {
                eprintln!("round {} of {}", round + 1, a.rounds);
            }
            pairs.push(if round % 2 == 0 {
                let raw = place_raw(&a, show).await?;
                (raw, place_via_dfoodd(g, &a, show).await?)
            } else {
                let via = place_via_dfoodd(g, &a, show).await?;
                (place_raw(&a, show).await?, via)
            });
        }
        let c = Comparison::of_rounds(pairs, a.setup.restaurants)
            .ok_or_else(|| CliError::config("--rounds must be at least 1"))?;
        emit(g.output, &c, render_comparison);
        return Ok(());
    }
    let report = if a.raw_store {
        place_raw(&a, show).await?
    } else {
        place_via_dfoodd(g, &a, show).await?
    };
    emit(g.output, &report, render_report);
    Ok(())
}

/// `--store-every`: samples `cluster.status` while the load runs.
pub(super) struct StoreSampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<protocol::bench::StoreSample>>,
}

impl StoreSampler {
    pub(super) fn start(s: Session, token: String, every: Duration) -> StoreSampler {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let mut out = Vec::new();
            let mut tick = tokio::time::interval(every);
            loop {
                let last = tokio::select! {
                    _ = tick.tick() => false,
                    _ = &mut stopped => true,
                };
                let st: Result<protocol::messages::cluster::ClusterStatus, _> = s
                    .call(
                        protocol::messages::cluster::types::STATUS,
                        Some(&token),
                        &serde_json::json!({}),
                    )
                    .await;
                if let Ok(st) = st
                    && let Some(u) = st.store_usage
                {
                    out.push(protocol::bench::StoreSample {
                        secs: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
                        usage: u,
                        archived_orders: st.archived_orders,
                    });
                }
                if last {
                    return out;
                }
            }
        });
        StoreSampler { stop, task }
    }

    /// Takes a last sample and returns them all.
    pub(super) async fn stop(self) -> Vec<protocol::bench::StoreSample> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

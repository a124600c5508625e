//! The report of a run and of a comparison, as tables for people (the
//! JSON is `protocol::bench::Report` and [`Comparison`] as they are).

use super::*;

pub(super) fn fsync_line(f: &FsyncStats) -> String {
    format!(
        "embedded store: {} write requests in {} commits (fsyncs), {:.2} per fsync",
        f.requests, f.commits, f.requests_per_fsync
    )
}

/// The cluster-wide cost of a run's placements, a line.
pub(super) fn placement_line(who: &str, p: &protocol::bench::PlacementFigures) -> String {
    format!(
        "{who}: {} placements on {} node(s), {:.1}/s; per placement: {:.3} lost races, {:.3} store transactions, {:.2} ms CPU",
        p.placements,
        p.nodes,
        p.orders_per_sec,
        p.lost_races_per_placement,
        p.txns_per_placement,
        p.cpu_ms_per_placement
    )
}

pub(super) fn rss_line(r: &RssSeries) -> String {
    let mib = |k: u64| k as f64 / 1024.0;
    let series: Vec<String> = r
        .samples
        .iter()
        .map(|(t, k)| format!("{t:.0}s {:.1}", mib(*k)))
        .collect();
    format!(
        "RSS of pid {} (MiB): {}; growth {:+.1} MiB",
        r.pid,
        series.join(", "),
        r.growth_kib() as f64 / 1024.0
    )
}

/// `--compare`: both runs and how the daemons fare against the store.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub raw_store: Report,
    pub dfoodd: Report,
    pub ratio: Ratio,
    /// Restaurants the orders were spread over (the targets depend on it).
    pub restaurants: u32,
    /// With `--rounds` above 1: each round's ratios, in the order run.
    /// `ratio` is then their median, field by field, and `raw_store` and
    /// `dfoodd` are the reports of the round whose throughput ratio is
    /// nearest that median.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<Ratio>,
}

/// What a comparison is held to, by the shape of the run (README,
/// "Benchmarks"): one request at a time, the daemon's added latency; under
/// load, throughput and p99 against the store's, the p99 tighter when
/// the load spreads over restaurants (no turns to wait for).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Targets {
    /// c=1: added at the median, at most this many ms.
    AddedMs(f64),
    /// Throughput at least this fraction of the store's, p99 at most this
    /// multiple of it.
    Ratio { throughput: f64, p99: f64 },
}

impl Targets {
    pub fn of(concurrency: u32, restaurants: u32) -> Targets {
        match (concurrency, restaurants) {
            (1, _) => Targets::AddedMs(0.3),
            (_, 1) => Targets::Ratio {
                throughput: 0.90,
                p99: 1.5,
            },
            _ => Targets::Ratio {
                throughput: 0.90,
                p99: 1.2,
            },
        }
    }
}

/// dfoodd / raw store.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ratio {
    /// Throughput of dfoodd as a fraction of the store's (higher is better;
    /// see [`Targets`]).
    pub throughput: f64,
    pub p50: f64,
    /// p99 of dfoodd over the store's (lower is better).
    pub p99: f64,
    /// Added per request at the median, milliseconds.
    pub p50_added_ms: f64,
}

impl Comparison {
    pub fn new(raw_store: Report, dfoodd: Report, restaurants: u32) -> Comparison {
        let ratio = Ratio {
            throughput: ratio(dfoodd.throughput, raw_store.throughput),
            p50: ratio(dfoodd.latency_ms.p50, raw_store.latency_ms.p50),
            p99: ratio(dfoodd.latency_ms.p99, raw_store.latency_ms.p99),
            p50_added_ms: ((dfoodd.latency_ms.p50 - raw_store.latency_ms.p50) * 1000.0).round()
                / 1000.0,
        };
        Comparison {
            raw_store,
            dfoodd,
            ratio,
            restaurants,
            rounds: Vec::new(),
        }
    }

    /// Several rounds of the same pair (raw store, dfoodd): the median of
    /// their ratios, shown with the round nearest the median throughput
    /// ratio. One round is [`Comparison::new`]; none is `None`.
    pub fn of_rounds(pairs: Vec<(Report, Report)>, restaurants: u32) -> Option<Comparison> {
        let mut each: Vec<Comparison> = pairs
            .into_iter()
            .map(|(raw, via)| Comparison::new(raw, via, restaurants))
            .collect();
        if each.len() < 2 {
            return each.pop();
        }
        let rounds: Vec<Ratio> = each.iter().map(|c| c.ratio).collect();
        let median = |field: fn(&Ratio) -> f64| {
            let mut v: Vec<f64> = rounds.iter().map(field).collect();
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let m = if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2.0
            };
            (m * 1000.0).round() / 1000.0
        };
        let ratio = Ratio {
            throughput: median(|r| r.throughput),
            p50: median(|r| r.p50),
            p99: median(|r| r.p99),
            p50_added_ms: median(|r| r.p50_added_ms),
        };
        let nearest = (0..each.len())
            .min_by(|&i, &j| {
                let d = |k: usize| (each[k].ratio.throughput - ratio.throughput).abs();
                d(i).total_cmp(&d(j))
            })
            .unwrap_or(0);
        let shown = each.swap_remove(nearest);
        Some(Comparison {
            ratio,
            rounds,
            ..shown
        })
    }
}

pub(super) fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, s)| {
                    if i == 0 {
                        format!("{s:<w$}", w = widths[i])
                    } else {
                        format!("{s:>w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn errors_line(r: &Report) -> String {
    if r.errors_by_kind.is_empty() {
        "none".into()
    } else {
        r.errors_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(super) fn metric_rows(reports: &[&Report]) -> Vec<Vec<String>> {
    let f = |v: f64| format!("{v:.3}");
    let mut rows = vec![
        (
            "throughput /s",
            reports
                .iter()
                .map(|r| format!("{:.1}", r.throughput))
                .collect(),
        ),
        ("ok", reports.iter().map(|r| r.ok.to_string()).collect()),
        (
            "errors",
            reports.iter().map(|r| r.errors.to_string()).collect(),
        ),
        (
            "p50 ms",
            reports.iter().map(|r| f(r.latency_ms.p50)).collect(),
        ),
        (
            "p90 ms",
            reports.iter().map(|r| f(r.latency_ms.p90)).collect(),
        ),
        (
            "p99 ms",
            reports.iter().map(|r| f(r.latency_ms.p99)).collect(),
        ),
        (
            "p99.9 ms",
            reports.iter().map(|r| f(r.latency_ms.p999)).collect(),
        ),
        (
            "max ms",
            reports.iter().map(|r| f(r.latency_ms.max)).collect(),
        ),
        (
            "mean ms",
            reports.iter().map(|r| f(r.latency_ms.mean)).collect(),
        ),
    ];
    if reports.iter().any(|r| r.lost_races.is_some()) {
        rows.push((
            "lost races",
            reports
                .iter()
                .map(|r| r.lost_races.map_or("-".into(), |n| n.to_string()))
                .collect(),
        ));
    }
    rows.into_iter()
        .map(|(k, vs): (&str, Vec<String>)| {
            let mut row = vec![k.to_string()];
            row.extend(vs);
            row
        })
        .collect()
}

pub(super) fn load_line(r: &Report) -> String {
    let rate = r
        .rate
        .map_or(String::new(), |x| format!(", open loop at {x}/s"));
    format!(
        "bench {} via {} ({}): concurrency {}{rate}, {} connections, {:.1}s",
        r.bench, r.target, r.against, r.concurrency, r.connections, r.elapsed_secs
    )
}

/// The human table of one run.
pub fn render_report(r: &Report) -> String {
    let mut out = load_line(r);
    out.push('\n');
    let mut rows = metric_rows(&[r]);
    if let Some(n) = r.orders_placed {
        rows.push(vec!["orders placed".into(), n.to_string()]);
    }
    out.push_str(&table(&rows));
    out.push_str(&format!("\nerrors by kind: {}", errors_line(r)));
    if let Some(f) = &r.fsyncs {
        out.push('\n');
        out.push_str(&fsync_line(f));
    }
    if let Some(p) = &r.placement {
        out.push('\n');
        out.push_str(&placement_line(&r.target, p));
    }
    for series in &r.rss {
        out.push('\n');
        out.push_str(&rss_line(series));
    }
    if !r.store.is_empty() {
        out.push('\n');
        out.push_str(&store_lines(&r.store));
    }
    out
}

/// The store samples, a line each: time, size, in use, keys, archived.
pub(super) fn store_lines(samples: &[protocol::bench::StoreSample]) -> String {
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let mut rows = vec![vec![
        "t (s)".to_string(),
        "store bytes".into(),
        "in use".into(),
        "keys".into(),
        "archived".into(),
    ]];
    for s in samples {
        rows.push(vec![
            format!("{:.0}", s.secs),
            s.usage.bytes.to_string(),
            opt(s.usage.in_use_bytes),
            opt(s.usage.keys),
            opt(s.archived_orders),
        ]);
    }
    format!("hot store and archive during the run:\n{}", table(&rows))
}

/// How the daemons fared, against the [`Targets`] of the run's shape.
pub(super) fn verdict_line(c: &Comparison) -> String {
    let r = &c.ratio;
    let mark = |met: bool| if met { "met" } else { "missed" };
    let spread = match c.restaurants {
        1 => "one restaurant".to_string(),
        n => format!("{n} restaurants"),
    };
    let measured = format!(
        "dfoodd reaches {:.0}% of the store's throughput, p99 {:.2}x the store's, {:+.3} ms at the median",
        r.throughput * 100.0,
        r.p99,
        r.p50_added_ms
    );
    match Targets::of(c.dfoodd.concurrency, c.restaurants) {
        Targets::AddedMs(most) => format!(
            "{measured}; target at c=1: adds < {most} ms at the median ({})",
            mark(r.p50_added_ms < most)
        ),
        Targets::Ratio { throughput, p99 } => format!(
            "{measured}; target at c={} over {spread}: >= {:.0}% ({}), p99 <= {p99}x ({})",
            c.dfoodd.concurrency,
            throughput * 100.0,
            mark(r.throughput >= throughput),
            mark(r.p99 <= p99)
        ),
    }
}

/// `--rounds`: each round's ratios; the figures above are their medians.
pub(super) fn rounds_line(rounds: &[Ratio]) -> String {
    let list = |f: fn(&Ratio) -> String| rounds.iter().map(f).collect::<Vec<_>>().join(" ");
    format!(
        "{} rounds, alternating which goes first (the ratios above are their medians; the table is the round nearest the median throughput): throughput {}; p99 {}; added at the median (ms) {}",
        rounds.len(),
        list(|r| format!("{:.2}", r.throughput)),
        list(|r| format!("{:.2}", r.p99)),
        list(|r| format!("{:+.3}", r.p50_added_ms)),
    )
}

/// The human table of `--compare`.
pub fn render_comparison(c: &Comparison) -> String {
    let mut rows = vec![vec![
        String::new(),
        "raw store".into(),
        "dfoodd".into(),
        "dfoodd/raw".into(),
    ]];
    for (i, mut row) in metric_rows(&[&c.raw_store, &c.dfoodd])
        .into_iter()
        .enumerate()
    {
        row.push(match i {
            0 => format!("{:.2}", c.ratio.throughput),
            3 => format!("{:.2}", c.ratio.p50),
            5 => format!("{:.2}", c.ratio.p99),
            _ => String::new(),
        });
        rows.push(row);
    }
    let mut out = format!(
        "{}\n{}\n{}\nerrors by kind: raw store: {}; dfoodd: {}\n{}",
        load_line(&c.raw_store),
        load_line(&c.dfoodd),
        table(&rows),
        errors_line(&c.raw_store),
        errors_line(&c.dfoodd),
        verdict_line(c),
    );
    if !c.rounds.is_empty() {
        out.push('\n');
        out.push_str(&rounds_line(&c.rounds));
    }
    if let Some(f) = &c.raw_store.fsyncs {
        out.push('\n');
        out.push_str(&fsync_line(f));
    }
    for r in [&c.raw_store, &c.dfoodd] {
        if let Some(p) = &r.placement {
            out.push('\n');
            out.push_str(&placement_line(&r.target, p));
        }
    }
    out
}

use super::*;
use clap::Parser;
use protocol::bench::{Latency, Limit, Plan, sample_rss, vm_rss_kib};

#[test]
fn ten_seconds_unless_a_count_is_given() {
    let mut load = parse(&["dfood", "bench", "place"]).load;
    assert_eq!(
        Limit::of(&load_of(&load)).duration,
        Some(Duration::from_secs(10))
    );
    load.count = Some(5);
    assert_eq!(
        Limit::of(&load_of(&load)),
        Limit {
            count: Some(5),
            duration: None
        }
    );
}

fn parse(args: &[&str]) -> PlaceArgs {
    let cli = crate::args::Cli::try_parse_from(args).expect("parses");
    match cli.command {
        crate::args::Command::Bench {
            cmd: BenchCmd::Place(a),
        } => *a,
        other => panic!("not bench place: {other:?}"),
    }
}

#[test]
fn args_parse() {
    let a = parse(&[
        "dfood",
        "bench",
        "place",
        "-c",
        "64",
        "--rate",
        "500",
        "-d",
        "3s",
        "--compare",
        "--etcd",
        "127.0.0.1:2379",
        "--restaurants",
        "4",
        "-o",
        "json",
    ]);
    assert_eq!(a.load.concurrency, 64);
    assert_eq!(a.load.rate, Some(500.0));
    assert_eq!(a.load.duration, Some(Duration::from_secs(3)));
    assert!(a.compare && !a.raw_store);
    assert_eq!(a.etcd.as_deref(), Some("127.0.0.1:2379"));
    assert_eq!(
        restaurant_ids(&a.setup),
        ["bench-1", "bench-2", "bench-3", "bench-4"]
    );
    assert_eq!(connections(&a.load), 4);
    let d = parse(&["dfood", "bench", "place"]);
    assert_eq!(d.load.concurrency, 16);
    assert_eq!(d.customers, 8);
    assert_eq!(restaurant_ids(&d.setup), ["bench"]);
    assert_eq!(d.pay, "pm_card_visa");
    let one = parse(&["dfood", "bench", "place", "-c", "1"]);
    assert_eq!(connections(&one.load), 1);
    for bad in [
        &["dfood", "bench", "place", "-c", "0"][..],
        &["dfood", "bench", "place", "--raw-store", "--compare"],
        &["dfood", "bench", "place", "--etcd", "x", "--store", "y"],
    ] {
        assert!(crate::args::Cli::try_parse_from(bad).is_err(), "{bad:?}");
    }
}

fn report_with(latencies_ms: &[u64], errors: &[(&str, u64)]) -> Report {
    let mut rec = Recorder::default();
    for l in latencies_ms {
        rec.record(Duration::from_millis(*l), Ok(()));
    }
    for (k, n) in errors {
        for _ in 0..*n {
            rec.record(Duration::ZERO, Err(k.to_string()));
        }
    }
    let plan = Plan {
        concurrency: 4,
        rate: None,
        connections: 2,
        elapsed: Duration::from_secs(2),
        rss: vec![],
    };
    Report::new("place", "dfoodd", "127.0.0.1:7400".into(), &plan, &rec)
}

#[test]
fn fsyncs_per_commit_are_counted_between_two_readings() {
    let f = FsyncStats::between((10, 12), (110, 1012));
    assert_eq!(
        (f.commits, f.requests, f.requests_per_fsync),
        (100, 1000, 10.0)
    );
    let mut r = report_with(&[1], &[]);
    r.fsyncs = Some(f);
    assert!(
        render_report(&r).contains(
            "embedded store: 1000 write requests in 100 commits (fsyncs), 10.00 per fsync"
        ),
        "{}",
        render_report(&r)
    );
}

#[test]
fn rss_is_read_from_proc_status_and_reported_with_its_growth() {
    let status = "Name:\tdfoodd\nVmPeak:\t  900000 kB\nVmRSS:\t   20480 kB\nThreads:\t5\n";
    assert_eq!(vm_rss_kib(status), Some(20480));
    assert_eq!(vm_rss_kib("Name:\tx\n"), None);
    assert_eq!(vm_rss_kib("VmRSS:\tlots kB\n"), None);
    // Our own process is there to read.
    assert!(sample_rss(std::process::id()).is_some_and(|k| k > 0));
    let series = RssSeries {
        pid: 42,
        samples: vec![(0.0, 20480), (30.0, 22528), (60.0, 21504)],
    };
    assert_eq!(series.growth_kib(), 1024);
    assert_eq!(RssSeries::default().growth_kib(), 0);
    let mut r = report_with(&[1, 2], &[]);
    r.rss = vec![series];
    let text = render_report(&r);
    assert!(
        text.contains("RSS of pid 42 (MiB): 0s 20.0, 30s 22.0, 60s 21.0; growth +1.0 MiB"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["rss"][0]["samples"][1],
        serde_json::json!([30.0, 22528])
    );
}

#[test]
fn recorder_percentiles_and_errors() {
    let lat: Vec<u64> = (1..=100).collect();
    let r = report_with(&lat, &[("conflict", 2), ("timeout", 1)]);
    assert_eq!(r.ok, 100);
    assert_eq!(r.errors, 3);
    assert_eq!(r.throughput, 50.0);
    assert!((r.latency_ms.p50 - 50.0).abs() < 0.1, "{:?}", r.latency_ms);
    assert!((r.latency_ms.p99 - 99.0).abs() < 0.1, "{:?}", r.latency_ms);
    assert!((r.latency_ms.max - 100.0).abs() < 0.1, "{:?}", r.latency_ms);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["errors_by_kind"]["conflict"], 2);
    for k in ["p50", "p90", "p99", "p999", "max", "mean"] {
        assert!(json["latency_ms"][k].is_number(), "{k}");
    }
    assert!(json.get("rate").is_none());
    assert!(json.get("lost_races").is_none());
}

#[test]
fn empty_runs_report_zeros() {
    let r = report_with(&[], &[]);
    assert_eq!(r.latency_ms, Latency::default());
    assert_eq!(r.throughput, 0.0);
    assert!(render_report(&r).contains("errors by kind: none"));
}

#[test]
fn human_report_is_a_table() {
    let r = report_with(&[1, 2, 3], &[("unavailable", 1)]);
    let text = render_report(&r);
    assert!(
        text.starts_with("bench place via dfoodd (127.0.0.1:7400): concurrency 4"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("throughput /s"))
        .unwrap();
    assert!(line.ends_with(" 1.5"), "{text}");
    assert!(text.contains("p99.9 ms"), "{text}");
    assert!(text.contains("errors by kind: unavailable 1"), "{text}");
}

#[test]
fn comparison_ratios() {
    let raw = report_with(&[10; 40], &[]);
    let via = report_with(&[20; 20], &[]);
    let c = Comparison::new(raw, via, 64);
    assert_eq!(c.ratio.throughput, 0.5);
    assert!((c.ratio.p99 - 2.0).abs() < 0.01);
    assert!((c.ratio.p50_added_ms - 10.0).abs() < 0.05);
    let text = render_comparison(&c);
    assert!(text.contains("dfoodd/raw"), "{text}");
    assert!(
        text.contains("dfoodd reaches 50% of the store's throughput, p99 2.00x the store's, +10.0"),
        "{text}"
    );
    assert!(
        text.contains(
            "ms at the median; target at c=4 over 64 restaurants: >= 90% (missed), p99 <= 1.2x (missed)"
        ),
        "{text}"
    );
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["ratio"]["throughput"], 0.5);
    assert_eq!(json["restaurants"], 64);
    assert!(json["raw_store"]["throughput"].is_number());
    assert!(json["dfoodd"]["latency_ms"]["p99"].is_number());
}

#[test]
fn the_verdict_holds_each_shape_of_run_to_its_own_targets() {
    assert_eq!(Targets::of(1, 64), Targets::AddedMs(0.3));
    assert_eq!(
        Targets::of(64, 1),
        Targets::Ratio {
            throughput: 0.90,
            p99: 1.5
        }
    );
    assert_eq!(
        Targets::of(64, 64),
        Targets::Ratio {
            throughput: 0.90,
            p99: 1.2
        }
    );
    // One restaurant: 0.95 of the throughput and 1.4x the p99 meet its
    // targets, and would miss the p99 of a spread load.
    let raw = report_with(&[10; 100], &[]);
    let mut via = report_with(&[14; 95], &[]);
    via.throughput = raw.throughput * 0.95;
    let line = verdict_line(&Comparison::new(raw.clone(), via.clone(), 1));
    assert!(
        line.ends_with("over one restaurant: >= 90% (met), p99 <= 1.5x (met)"),
        "{line}"
    );
    let line = verdict_line(&Comparison::new(raw.clone(), via, 8));
    assert!(
        line.ends_with(">= 90% (met), p99 <= 1.2x (missed)"),
        "{line}"
    );
    // One at a time: the added median decides.
    let mut raw1 = raw.clone();
    raw1.concurrency = 1;
    raw1.latency_ms.p50 = 2.0;
    let mut via1 = raw1.clone();
    via1.latency_ms.p50 = 2.2;
    let line = verdict_line(&Comparison::new(raw1.clone(), via1.clone(), 1));
    assert!(
        line.ends_with("target at c=1: adds < 0.3 ms at the median (met)"),
        "{line}"
    );
    via1.latency_ms.p50 = 2.9;
    let line = verdict_line(&Comparison::new(raw1, via1, 1));
    assert!(line.contains("+0.900 ms at the median"), "{line}");
    assert!(line.ends_with("(missed)"), "{line}");
}

#[test]
fn rounds_report_the_median_of_their_ratios_with_the_round_nearest_it() {
    // Three rounds: dfoodd at 0.5, 0.8 and 0.6 of the store's throughput
    // (elapsed is 2 s, so n placements make n/2 per second).
    let pair = |raw: usize, via: usize, via_ms: u64| {
        (
            report_with(&vec![10; raw], &[]),
            report_with(&vec![via_ms; via], &[]),
        )
    };
    let c = Comparison::of_rounds(
        vec![pair(40, 20, 20), pair(40, 32, 11), pair(40, 24, 30)],
        64,
    )
    .unwrap();
    let through: Vec<f64> = c.rounds.iter().map(|r| r.throughput).collect();
    assert_eq!(through, vec![0.5, 0.8, 0.6]);
    assert_eq!(c.ratio.throughput, 0.6);
    // p99: 2.0, 1.1, 3.0 -> 2.0; added at the median: +10, +1, +20 -> +10.
    assert!((c.ratio.p99 - 2.0).abs() < 0.02, "{:?}", c.ratio);
    assert!((c.ratio.p50_added_ms - 10.0).abs() < 0.1, "{:?}", c.ratio);
    // The table shows the third round (0.6, the median).
    assert_eq!(c.dfoodd.ok, 24);
    let text = render_comparison(&c);
    assert!(
        text.contains("3 rounds, alternating which goes first"),
        "{text}"
    );
    assert!(text.contains("throughput 0.50 0.80 0.60;"), "{text}");
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["rounds"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["ratio"]["throughput"], 0.6);

    // An even number: the mean of the middle two.
    let c = Comparison::of_rounds(vec![pair(40, 20, 20), pair(40, 32, 11)], 64).unwrap();
    assert_eq!(c.ratio.throughput, 0.65);
    // One round is a plain comparison, with no list of rounds.
    let one = Comparison::of_rounds(vec![pair(40, 20, 20)], 64).unwrap();
    assert!(one.rounds.is_empty());
    assert!(serde_json::to_value(&one).unwrap().get("rounds").is_none());
    assert!(Comparison::of_rounds(Vec::new(), 64).is_none());
}

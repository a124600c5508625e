//! `dfood bench`: the load generator against a real embedded `dfoodd`, and
//! its raw-store mode against an embedded store file. Shapes and counts
//! only: no timed assertions, machines are noisy.

use serde_json::Value;
use tests::Daemon;

fn assert_report(r: &Value, target: &str, ok: u64) {
    assert_eq!(r["bench"], "place", "{r}");
    assert_eq!(r["target"], target, "{r}");
    assert_eq!(r["concurrency"], 4, "{r}");
    assert_eq!(r["ok"], ok, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    assert_eq!(r["errors_by_kind"], serde_json::json!({}), "{r}");
    assert!(r["throughput"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["elapsed_secs"].as_f64().unwrap() > 0.0, "{r}");
    let l = &r["latency_ms"];
    for k in ["p50", "p90", "p99", "p999", "max", "mean"] {
        assert!(
            l[k].as_f64().is_some_and(|v| v > 0.0),
            "latency_ms.{k}: {r}"
        );
    }
    assert!(l["p50"].as_f64() <= l["p99"].as_f64(), "{r}");
    assert!(l["p99"].as_f64() <= l["max"].as_f64(), "{r}");
}

#[test]
fn bench_place_through_an_embedded_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("n1", &dir.path().join("n1"), &[]);
    let out = d.dfood().run([
        "bench",
        "place",
        "--count",
        "50",
        "--concurrency",
        "4",
        "-o",
        "json",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    assert_report(&r, "dfoodd", 50);
    assert_eq!(r["against"], d.endpoint(), "{r}");

    // Run again: setup is idempotent, orders go on with new keys.
    let out = d
        .dfood()
        .run(["bench", "place", "-n", "10", "-c", "4", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_report(&out.json(), "dfoodd", 10);

    // --compare: a raw embedded store (a temporary file), then the daemon.
    let compare = |n: &str, more: &[&str]| {
        let mut args = vec![
            "bench",
            "place",
            "--compare",
            "-n",
            n,
            "-c",
            "4",
            "-o",
            "json",
        ];
        args.extend_from_slice(more);
        d.dfood().run(args)
    };
    let out = compare("20", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let c = out.json();
    assert_report(&c["raw_store"], "raw-store", 20);
    assert_report(&c["dfoodd"], "dfoodd", 20);
    for k in ["throughput", "p50", "p99", "p50_added_ms"] {
        assert!(c["ratio"][k].is_number(), "ratio.{k}: {c}");
    }
    assert!(c["ratio"]["throughput"].as_f64().unwrap() > 0.0, "{c}");
    assert!(c.get("rounds").is_none(), "{c}");

    // --rounds: the pair twice, the daemon first the second time; the
    // ratio is the median (the mean of two) of the rounds' ratios.
    let out = compare("12", &["--rounds", "2"]);
    assert_eq!(out.code, 0, "{out:?}");
    let c = out.json();
    assert_report(&c["raw_store"], "raw-store", 12);
    assert_report(&c["dfoodd"], "dfoodd", 12);
    let rounds = c["rounds"].as_array().expect("rounds");
    assert_eq!(rounds.len(), 2, "{c}");
    let each: Vec<f64> = rounds
        .iter()
        .map(|r| r["throughput"].as_f64().unwrap())
        .collect();
    assert!(each.iter().all(|t| *t > 0.0), "{c}");
    let median = ((each[0] + each[1]) / 2.0 * 1000.0).round() / 1000.0;
    assert_eq!(c["ratio"]["throughput"].as_f64().unwrap(), median, "{c}");

    // Menu browsing.
    let out = d
        .dfood()
        .run(["bench", "read", "-n", "20", "-c", "4", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    assert_eq!(r["bench"], "read", "{r}");
    assert_eq!(r["ok"], 20, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
}

#[test]
fn bench_place_raw_store_on_an_embedded_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("raw.redb");
    let out = tests::Dfood::new().run([
        "bench",
        "place",
        "--raw-store",
        "--store",
        file.to_str().unwrap(),
        "--count",
        "50",
        "--concurrency",
        "4",
        "-o",
        "json",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    assert_report(&r, "raw-store", 50);
    assert!(r["lost_races"].is_u64(), "{r}");
    assert!(
        r["against"].as_str().unwrap().starts_with("embedded "),
        "{r}"
    );
    // Group commit is reported: each of the 50 placements was carried by a
    // commit (a lost race is counted only when it shared one).
    let (commits, requests) = (
        r["fsyncs"]["commits"].as_u64().unwrap(),
        r["fsyncs"]["requests"].as_u64().unwrap(),
    );
    let lost = r["lost_races"].as_u64().unwrap();
    assert!((50..=50 + lost).contains(&requests), "{r}");
    assert!(commits >= 1 && commits <= requests, "{r}");
    assert!(file.exists());
}

#[test]
fn bench_refuses_bad_load_flags() {
    let out = tests::Dfood::new().run(["bench", "place", "--rate", "0", "-o", "json"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = tests::Dfood::new().run(["bench", "place", "--raw-store", "--compare"]);
    assert_eq!(out.code, 2, "{out:?}");
    // Rounds are of a comparison, and at least one.
    let out = tests::Dfood::new().run(["bench", "place", "--rounds", "3"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--compare"), "{out:?}");
    let out = tests::Dfood::new().run(["bench", "place", "--compare", "--rounds", "0"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = tests::Dfood::new().run(["bench", "place", "--compare", "--rounds", "51"]);
    assert_eq!(out.code, 2, "{out:?}");
}

//! `dfood top` end to end: the real binary in a real terminal (tmux),
//! against a real 3-node cluster on a real etcd. The dashboard shows the
//! members, the leader and the orders; its actions (pause, resume,
//! switchover, drain) ask first and then change the cluster as the CLI
//! sees it; it follows the cluster when its node is killed with SIGKILL.
//! Without a terminal, or for a non-operator, it refuses clearly.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tests::tmux::Tmux;
use tests::{Daemon, Dfood, Etcd, User, workspace_bin};

const MENU_CSV: &str = "sku,name,price,station,stock,allergens,modifiers
margherita,Margherita,9.50,oven,,gluten; milk,
";

const LONG: Duration = Duration::from_secs(20);

/// `dfood top` (or `extra`) in a clean environment for the user whose
/// config lives in `home`, talking to every node of `nodes`.
fn top_command(nodes: &[Daemon], home: &Path, then: &str) -> String {
    let endpoints: Vec<String> = nodes.iter().map(|d| d.endpoint()).collect();
    format!(
        "env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME={h} XDG_CONFIG_HOME={h}/config DFOOD_ENDPOINT={e} DFOOD_CA={ca} {bin} top{then}",
        h = home.display(),
        e = endpoints.join(","),
        ca = nodes[0].ca_path().display(),
        bin = workspace_bin("dfood").display(),
    )
}

fn status(op: &mut Dfood) -> Value {
    let out = op.run(["cluster", "status", "-o", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json()
}

fn wait_status(op: &mut Dfood, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let st = status(op);
        if f(&st) {
            return st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the CLI never saw {what}: {st}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The node named in "connected to NODE (" on the status line.
fn connected_node(screen: &str) -> Option<String> {
    let rest = screen.split("connected to ").nth(1)?;
    Some(rest.split(' ').next()?.to_string())
}

#[test]
fn top_refuses_without_a_terminal() {
    let out = Dfood::new().run(["top", "-o", "json"]);
    assert_eq!(out.code, cli::exit::USAGE as i32, "{out:?}");
    let e = out.stderr_json();
    assert_eq!(e["error"]["code"], "not_a_terminal");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("dfood cluster status"),
        "{e}"
    );
}

#[test]
fn an_operator_watches_and_runs_the_cluster_from_top() {
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = tests::start_nodes(&etcd, dir.path(), 3);
    let mut op = tests::bootstrap_operator(&nodes);
    wait_status(&mut op, "a leader and 3 members", |st| {
        st["leader"].is_object() && st["members"].as_array().unwrap().len() == 3
    });

    // Two orders, so the order panels have something to count.
    let _mia = tests::shop(&nodes[0], "pizzeria", "mia", MENU_CSV);
    let mut cleo = User::new(&nodes[0], "cleo");
    for _ in 0..2 {
        cleo.ok(&[
            "order",
            "place",
            "pizzeria",
            "--item",
            "margherita",
            "--pay",
            "pm_card_visa",
        ]);
    }

    let tmux = Tmux::new("top");

    // A customer is not an operator: refused before the screen changes,
    // with the usual exit code.
    tmux.start(
        "cleo",
        120,
        40,
        &top_command(&nodes, cleo.cli.home(), "; echo EXIT=$?; sleep 60"),
    );
    let s = tmux.wait("cleo", "the refusal", LONG, |s| s.contains("EXIT="));
    assert!(s.contains(&format!("EXIT={}", cli::exit::FORBIDDEN)), "{s}");
    assert!(s.contains("operator"), "the refusal says who may: {s}");

    tmux.start(
        "ops",
        120,
        40,
        &format!("exec {}", top_command(&nodes, op.home(), "")),
    );
    let screen = tmux.wait("ops", "three members, a leader, two orders", LONG, |s| {
        [
            "node-1",
            "node-2",
            "node-3",
            "★",
            "connected to node-",
            "total 2",
        ]
        .iter()
        .all(|w| s.contains(w))
    });
    let leader = status(&mut op)["leader"]["node"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        screen.contains(&format!("leader {leader} (token")),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains(&format!("  {leader} ")) && l.contains(" token ")),
        "the election is among the leader changes: {screen}"
    );
    let placed = screen
        .lines()
        .find(|l| l.contains("│placed "))
        .unwrap_or_else(|| panic!("no placed row: {screen}"));
    assert!(placed.contains("     2 │"), "two placed orders: {placed}");

    // Pause: asked first; "no" changes nothing, "yes" pauses.
    tmux.keys("ops", &["p"]);
    tmux.wait("ops", "the pause prompt", LONG, |s| {
        s.contains("Pause the cluster")
    });
    tmux.keys("ops", &["n"]);
    tmux.wait("ops", "cancelled", LONG, |s| s.contains("pause: cancelled"));
    assert_eq!(status(&mut op)["paused"], false);
    tmux.keys("ops", &["p"]);
    tmux.wait("ops", "the pause prompt", LONG, |s| {
        s.contains("Pause the cluster")
    });
    tmux.keys("ops", &["y"]);
    wait_status(&mut op, "paused", |st| st["paused"] == true);
    tmux.wait("ops", "PAUSED", LONG, |s| s.contains("· PAUSED"));
    tmux.keys("ops", &["p"]);
    tmux.wait("ops", "the resume prompt", LONG, |s| {
        s.contains("Resume automatic leader changes?")
    });
    tmux.keys("ops", &["y"]);
    wait_status(&mut op, "resumed", |st| st["paused"] == false);

    // Switchover to the first node that is not the leader.
    let names = ["node-1", "node-2", "node-3"];
    let target_ix = names.iter().position(|n| *n != leader).unwrap();
    let target = names[target_ix];
    for _ in 0..target_ix {
        tmux.keys("ops", &["j"]);
    }
    tmux.keys("ops", &["s"]);
    tmux.wait("ops", "the switchover prompt", LONG, |s| {
        s.contains(&format!("Switch leadership from {leader} to {target}?"))
    });
    tmux.keys("ops", &["y"]);
    wait_status(&mut op, "the new leader", |st| {
        st["leader"]["node"] == target
    });
    tmux.wait("ops", "the new leader", LONG, |s| {
        s.contains(&format!("leader {target} (token"))
    });

    // Drain the selected node and take it back.
    tmux.keys("ops", &["d"]);
    tmux.wait("ops", "the drain prompt", LONG, |s| {
        s.contains(&format!("Drain {target} (its clients move"))
    });
    tmux.keys("ops", &["y"]);
    let draining = |st: &Value, want: bool| {
        st["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["node"] == target && m["draining"] == want)
    };
    wait_status(&mut op, "draining", |st| draining(st, true));
    tmux.wait("ops", "draining", LONG, |s| s.contains("draining"));
    tmux.keys("ops", &["d"]);
    tmux.wait("ops", "the undrain prompt", LONG, |s| {
        s.contains(&format!("Let {target} take connections again?"))
    });
    tmux.keys("ops", &["y"]);
    wait_status(&mut op, "not draining", |st| draining(st, false));

    // Kill -9 the node the dashboard talks to: it carries on through
    // another, and the dead node drops out when its lease runs out.
    let screen = tmux.screen("ops");
    let via = connected_node(&screen).unwrap_or_else(|| panic!("{screen}"));
    let i = names.iter().position(|n| *n == via).unwrap();
    nodes[i].proc.kill9();
    let screen = tmux.wait("ops", "another node, two members", LONG, |s| {
        connected_node(s).is_some_and(|n| n != via) && s.contains(" 2 node(s)")
    });
    assert!(!screen.contains(&format!("│  {via} ")), "{screen}");

    tmux.keys("ops", &["q"]);
    let deadline = std::time::Instant::now() + LONG;
    while tmux.alive("ops") {
        assert!(std::time::Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Quit with `q`, with Ctrl-C, and by SIGTERM: each time the alternate
/// screen is left and the terminal is back in cooked mode with echo, the
/// exit code 0.
#[test]
fn top_gives_the_terminal_back_on_every_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = vec![Daemon::start("solo", &dir.path().join("solo"), &[])];
    let op = tests::bootstrap_operator(&nodes);
    let tmux = Tmux::new("top-exit");
    let after = "; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/MODE/'; echo END; sleep 60";
    for (session, how) in [("q", "q"), ("ctrlc", "C-c"), ("term", "SIGTERM")] {
        tmux.start(session, 100, 30, &top_command(&nodes, op.home(), after));
        tmux.wait(session, "the dashboard", LONG, |s| {
            s.contains("connected to solo") && s.contains("★")
        });
        assert_eq!(tmux.pane(session, "#{alternate_on}"), "1");
        if how == "SIGTERM" {
            let shell = tmux.pane(session, "#{pane_pid}");
            let out = std::process::Command::new("pkill")
                .args(["-TERM", "-P", &shell, "-x", "dfood"])
                .status()
                .unwrap();
            assert!(out.success(), "no dfood under the pane's shell {shell}");
        } else {
            tmux.keys(session, &[how]);
        }
        let s = tmux.wait(session, "the shell again", LONG, |s| s.contains("END"));
        assert!(s.contains("EXIT=0"), "{how}: {s}");
        assert!(
            s.contains("MODEicanon") && s.contains("MODEecho"),
            "{how}: the terminal is still raw: {s}"
        );
        assert!(
            !s.contains("MODE-icanon") && !s.contains("MODE-echo"),
            "{how}: {s}"
        );
        assert_eq!(tmux.pane(session, "#{alternate_on}"), "0", "{how}: {s}");
        assert!(
            !s.contains("Members (★ leader)"),
            "{how}: dashboard left on screen: {s}"
        );
    }
}

//! `dfood board` end to end: the real binary in a real terminal (tmux),
//! against a real daemon. Orders placed with the CLI appear on the board;
//! keys bump them through to completed and the CLI sees each state; the
//! 86 panel makes an item unavailable for customers; recall explains that
//! the protocol cannot do it yet; `q` quits. Without a terminal the board
//! refuses and points to `dfood events`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tests::{Daemon, User, workspace_bin};

const MENU_CSV: &str = "sku,name,price,station,stock,allergens,modifiers
margherita,Margherita,9.50,oven,,gluten; milk,extra_cheese:Extra cheese:1.50
tiramisu,Tiramisu,6.00,cold,5,egg; milk,
";

/// A tmux server of its own (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(tag: &str) -> Tmux {
        match Command::new("tmux").arg("-V").output() {
            Ok(o) if o.status.success() => {}
            _ => panic!(
                "tmux is needed for the board's terminal test: apt-get install tmux (or run .ci/setup)"
            ),
        }
        Tmux {
            socket: format!("dfood-{tag}-{}", std::process::id()),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// Runs `shell` in a detached 120×40 session.
    fn start(&self, shell: &str) {
        let st = self
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "120",
                "-y",
                "40",
                shell,
            ])
            .status()
            .expect("tmux new-session");
        assert!(st.success(), "tmux new-session failed");
    }

    fn keys(&self, keys: &[&str]) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    fn screen(&self) -> String {
        let o = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn alive(&self) -> bool {
        self.cmd()
            .args(["has-session", "-t", "t"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Waits until the screen satisfies `f`.
    fn wait(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "board never showed {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

fn wait_state(u: &mut User, id: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = u.order(id);
        if o["state"] == state {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never became {state}: {o}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn board_command(d: &Daemon, home: &Path) -> String {
    format!(
        "exec env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME={h} XDG_CONFIG_HOME={h}/config DFOOD_ENDPOINT={e} DFOOD_CA={ca} {bin} board --restaurant trattoria",
        h = home.display(),
        e = d.endpoint(),
        ca = d.ca_path().display(),
        bin = workspace_bin("dfood").display(),
    )
}

#[test]
fn a_kitchen_runs_orders_through_the_board() {
    let tmux = Tmux::new("board");
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("node-1", &dir.path().join("d"), &[]);
    let mut mia = User::new(&d, "mia");
    let mut kai = User::new(&d, "kai");
    let mut cleo = User::new(&d, "cleo");
    mia.ok(&[
        "restaurant",
        "create",
        "trattoria",
        "--name",
        "Trattoria Roma",
    ]);
    let csv = dir.path().join("menu.csv");
    std::fs::write(&csv, MENU_CSV).unwrap();
    mia.ok(&["menu", "import", "trattoria", csv.to_str().unwrap()]);
    mia.ok(&[
        "staff",
        "add",
        "kai",
        "--restaurant",
        "trattoria",
        "--role",
        "kitchen",
    ]);
    mia.ok(&["restaurant", "open", "trattoria"]);

    // Scripts get a clear refusal instead of a screen.
    let out = kai.cli.run(["board", "--restaurant", "trattoria"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("dfood events"), "{out:?}");

    tmux.start(&board_command(&d, kai.cli.home()));
    tmux.wait("the connected node", |s| {
        s.contains("● node-1") && s.contains("New (0)")
    });

    // A customer orders: the ticket appears, live.
    let o = cleo.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "margherita:2+extra_cheese",
        "--item",
        "tiramisu",
        "--note",
        "ring twice",
        "--pay",
        "pm_card_visa",
    ]);
    let id = o["id"].as_str().unwrap().to_string();
    let s = tmux.wait("the new ticket", |s| {
        s.contains("#1 cleo") && s.contains("New (1)")
    });
    assert!(
        s.contains("2× Margherita") && s.contains("gluten; milk"),
        "{s}"
    );

    // Bump it all the way with keys; the CLI sees every step.
    tmux.keys(&["Enter"]);
    wait_state(&mut kai, &id, "accepted");
    tmux.wait("the ticket in Preparing", |s| s.contains("Preparing (1)"));
    tmux.keys(&["l", "Enter"]);
    wait_state(&mut kai, &id, "preparing");
    tmux.wait("the started ticket", |s| s.contains("#1 preparing"));
    tmux.keys(&["Space"]);
    wait_state(&mut kai, &id, "ready");
    tmux.wait("the ticket in Ready", |s| s.contains("Ready (1)"));
    tmux.keys(&["l", "Enter"]);
    wait_state(&mut kai, &id, "completed");
    tmux.wait("an empty board", |s| {
        s.contains("Ready (0)") && s.contains("0 open")
    });

    // Recall the mistaken completion: the ticket comes back to Ready, and
    // the CLI sees it; then complete it again.
    tmux.keys(&["u"]);
    wait_state(&mut kai, &id, "ready");
    tmux.wait("the recalled ticket in Ready", |s| s.contains("Ready (1)"));
    tmux.keys(&["Enter"]);
    wait_state(&mut kai, &id, "completed");
    tmux.wait("an empty board again", |s| s.contains("Ready (0)"));

    // 86 the margherita from the board: customers see it unavailable.
    tmux.keys(&["8"]);
    tmux.wait("the 86 panel", |s| s.contains("86 (Enter flips"));
    tmux.keys(&["Enter"]);
    tmux.wait("the 86 confirmation", |s| s.contains("Margherita 86'd"));
    let menu = cleo.ok(&["menu", "trattoria"]);
    let margherita = menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == "margherita")
        .unwrap()
        .clone();
    assert_eq!(margherita["available"], false, "{menu}");
    tmux.keys(&["Escape"]);

    // Changes made elsewhere show at once.
    let o = cleo.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "tiramisu",
        "--pay",
        "pm_card_visa",
    ]);
    let id2 = o["id"].as_str().unwrap().to_string();
    tmux.keys(&["h", "h"]);
    tmux.wait("the second ticket", |s| s.contains("#2 cleo"));
    kai.ok(&["order", "accept", &id2]);
    tmux.wait("the other screen's accept", |s| s.contains("Preparing (1)"));
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tmux.alive() {
        assert!(
            Instant::now() < deadline,
            "q did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

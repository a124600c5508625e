//! `dfood board` end to end: the real binary in a real terminal (tmux),
//! against real daemons. Orders placed with the CLI appear on the board;
//! keys bump them through to completed and the CLI sees each state; `r`
//! flags a rush the CLI sees; the 86 panel makes an item unavailable for
//! customers; recall undoes a mistaken bump; `q` quits. Without a terminal
//! the board refuses and points to `dfood events`. Two boards bumping the
//! same ticket at once make one step, and the loser is told why. A board
//! whose node is killed (-9) in a 3-node cluster moves to another node and
//! still shows every ticket, once.

use std::path::Path;
use std::time::{Duration, Instant};

use tests::{Daemon, Etcd, User, workspace_bin};

const MENU_CSV: &str = "sku,name,price,station,stock,allergens,modifiers
margherita,Margherita,9.50,oven,,gluten; milk,extra_cheese:Extra cheese:1.50
tiramisu,Tiramisu,6.00,cold,5,egg; milk,
";

/// One board in a 120×40 terminal: a tmux server of its own
/// (`tests::tmux`) with one session.
struct Tmux(tests::tmux::Tmux);

const SESSION: &str = "t";

impl Tmux {
    fn new(tag: &str) -> Tmux {
        Tmux(tests::tmux::Tmux::new(tag))
    }

    fn start(&self, shell: &str) {
        self.0.start(SESSION, 120, 40, shell)
    }

    fn keys(&self, keys: &[&str]) {
        self.0.keys(SESSION, keys)
    }

    fn screen(&self) -> String {
        self.0.screen(SESSION)
    }

    fn alive(&self) -> bool {
        self.0.alive(SESSION)
    }

    /// Waits (15 s at most) until the screen satisfies `f`.
    fn wait(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        self.wait_for(what, Duration::from_secs(15), f)
    }

    fn wait_for(&self, what: &str, within: Duration, f: impl Fn(&str) -> bool) -> String {
        self.0.wait(SESSION, what, within, f)
    }
}

fn wait_state(u: &mut User, id: &str, state: &str) -> serde_json::Value {
    wait_order(u, id, &format!("state {state}"), |o| o["state"] == state)
}

/// Polls `dfood order status ID -o json` until `f` holds (10 s at most).
fn wait_order(
    u: &mut User,
    id: &str,
    what: &str,
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = u.order(id);
        if f(&o) {
            return o;
        }
        assert!(Instant::now() < deadline, "{id} never had {what}: {o}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `cleo` orders one `item` at trattoria by card (`dfood order place`);
/// the order's id.
fn order_one(cleo: &mut User, item: &str) -> String {
    let o = cleo.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        item,
        "--pay",
        "pm_card_visa",
    ]);
    o["id"].as_str().unwrap().to_string()
}

fn board_command(d: &Daemon, home: &Path) -> String {
    board_command_for(&d.endpoint(), &d.ca_path(), home)
}

/// `dfood board` as `home`'s user, with `endpoints` (a comma list).
fn board_command_for(endpoints: &str, ca: &Path, home: &Path) -> String {
    format!(
        "exec env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME={h} XDG_CONFIG_HOME={h}/config DFOOD_ENDPOINT={e} DFOOD_CA={ca} {bin} board --restaurant trattoria",
        h = home.display(),
        e = endpoints,
        ca = ca.display(),
        bin = workspace_bin("dfood").display(),
    )
}

/// Every node's endpoint, as a comma list.
fn endpoints(nodes: &[Daemon]) -> String {
    nodes
        .iter()
        .map(|d| d.endpoint())
        .collect::<Vec<_>>()
        .join(",")
}

/// The node the status line says the board is connected to (`● node (addr)`).
fn connected_node(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("● "))?;
    let rest = &line[line.find("● ")? + "● ".len()..];
    Some(rest.split_whitespace().next()?.to_string())
}

#[test]
fn a_kitchen_runs_orders_through_the_board() {
    let tmux = Tmux::new("board");
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("node-1", &dir.path().join("d"), &[]);
    let mut mia = User::new(&d, "mia");
    let mut kai = User::new(&d, "kai");
    let mut cleo = User::new(&d, "cleo");
    tests::open_shop(&mut mia, "trattoria", MENU_CSV, &["kai"]);

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
    assert!(!s.contains("RUSH"), "{s}");
    assert_eq!(kai.order(&id)["rush"], false);

    // Rush it: the flag is the order's own, so the CLI sees it too, and
    // the board shows it once the server has it.
    tmux.keys(&["r"]);
    tmux.wait("the rush confirmation", |s| {
        s.contains("#1 marked rush") && s.contains("RUSH")
    });
    wait_order(&mut kai, &id, "rush", |o| o["rush"] == true);
    // `r` again takes it back, for everyone.
    tmux.keys(&["r"]);
    tmux.wait("the rush taken back", |s| {
        s.contains("#1 no longer rush") && !s.contains("RUSH")
    });
    wait_order(&mut kai, &id, "no rush", |o| o["rush"] == false);
    tmux.keys(&["r"]);
    tmux.wait("the rush again", |s| s.contains("RUSH"));
    assert_eq!(kai.order(&id)["rush"], true);

    // Bump it all the way with keys; the CLI sees every step.
    // One column per kitchen state: the cursor stays in its column, so
    // each step is a move right and a bump.
    tmux.keys(&["Enter"]);
    wait_state(&mut kai, &id, "accepted");
    tmux.wait("the ticket in Accepted", |s| s.contains("Accepted (1)"));
    tmux.keys(&["l", "Enter"]);
    wait_state(&mut kai, &id, "preparing");
    tmux.wait("the started ticket", |s| {
        s.contains("#1 preparing") && s.contains("Preparing (1)")
    });
    tmux.keys(&["l", "Space"]);
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
    // The same ticket back under the cursor: Enter is not held back.
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
    let id2 = order_one(&mut cleo, "tiramisu");
    tmux.keys(&["h", "h", "h"]);
    tmux.wait("the second ticket", |s| s.contains("#2 cleo"));
    kai.ok(&["order", "accept", &id2]);
    tmux.wait("the other screen's accept", |s| s.contains("Accepted (1)"));
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

/// The largest order the limits allow (50 lines of 99, every line with
/// all 20 modifiers of its item, names at their longest) reaches the
/// board live, by its event, and again from the snapshot pages when the
/// board starts afresh; the kitchen can bump it.
#[test]
fn the_largest_allowed_order_shows_on_the_board() {
    let tmux = Tmux::new("largest");
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("node-1", &dir.path().join("d"), &[]);
    let mut mia = User::new(&d, "mia");
    let mut kai = User::new(&d, "kai");
    let mut cleo = User::new(&d, "cleo");
    let long = |head: String| format!("{head:é<100}");
    let items: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            serde_json::json!({
                "sku": format!("item-{i:02}"),
                "name": long(format!("Dish {i:02} ")),
                "price": 1,
                "station": "s".repeat(40),
                "allergens": "a".repeat(200),
                "modifiers": (0..20).map(|m| serde_json::json!({
                    "code": format!("m{m:02}"),
                    "name": long(format!("Modifier {m:02} of {i:02} ")),
                    "price": 0,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let menu = dir.path().join("menu.json");
    std::fs::write(&menu, serde_json::json!({ "items": items }).to_string()).unwrap();
    mia.ok(&["restaurant", "create", "trattoria", "--name", "Trattoria"]);
    mia.ok(&["menu", "import", "trattoria", menu.to_str().unwrap()]);
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

    tmux.start(&board_command(&d, kai.cli.home()));
    tmux.wait("the connected node", |s| {
        s.contains("● node-1") && s.contains("New (0)")
    });
    let mods: String = (0..20).map(|m| format!("+m{m:02}")).collect();
    let mut args: Vec<String> = vec!["order".into(), "place".into(), "trattoria".into()];
    for i in 0..50 {
        args.push("--item".into());
        args.push(format!("item-{i:02}:99{mods}"));
    }
    args.extend([
        "--note".into(),
        "n".repeat(500),
        "--pay".into(),
        "pm_card_visa".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cleo.ok(&args);
    let lines = o["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 50);
    assert!(
        lines
            .iter()
            .all(|l| l["qty"] == 99 && l["modifiers"].as_array().unwrap().len() == 20)
    );
    assert_eq!(o["total"], 50 * 99);
    let id = o["id"].as_str().unwrap().to_string();
    tmux.wait("the largest ticket, live", |s| {
        s.contains("#1 cleo") && s.contains("New (1)")
    });
    // A fresh board loads it from its snapshot.
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
    let again = Tmux::new("largest-again");
    again.start(&board_command(&d, kai.cli.home()));
    let s = again.wait("the largest ticket, from the snapshot", |s| {
        s.contains("#1 cleo") && s.contains("New (1)")
    });
    assert!(s.contains("99× Dish 00"), "{s}");
    again.keys(&["Enter"]);
    wait_state(&mut kai, &id, "accepted");
    again.wait("the bumped ticket", |s| s.contains("Accepted (1)"));
    // `dfood order list` pages through it too.
    let listed = kai.ok(&["order", "list", "--restaurant", "trattoria"]);
    assert_eq!(listed["orders"].as_array().unwrap().len(), 1);
}

/// Sends `sig` to a process of ours (SIGSTOP/SIGCONT).
fn signal(pid: u32, sig: libc::c_int) {
    let r = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(
        r,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

#[test]
fn two_boards_bumping_one_ticket_make_one_step() {
    let a = Tmux::new("race-a");
    let b = Tmux::new("race-b");
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("node-1", &dir.path().join("d"), &[]);
    let mut mia = User::new(&d, "mia");
    let mut kai = User::new(&d, "kai");
    let lea = User::new(&d, "lea");
    let mut cleo = User::new(&d, "cleo");
    tests::open_shop(&mut mia, "trattoria", MENU_CSV, &["kai", "lea"]);

    a.start(&board_command(&d, kai.cli.home()));
    b.start(&board_command(&d, lea.cli.home()));
    for t in [&a, &b] {
        t.wait("the connected node", |s| {
            s.contains("● node-1") && s.contains("New (0)")
        });
    }
    // Both cooks bump at once. The daemon is paused meanwhile, so both
    // requests are on their way before either board can hear of the
    // other's: a real race, decided by the daemon's guarded transition.
    // The pause stays under the session's 800 ms idle timeout (a longer
    // one would end the connections and turn the race into resends), so
    // a board too slow to send within 400 ms makes that round sequential:
    // then another order is raced, at most three; the test asserts that
    // one round had both bumps in flight (the pending marker `…` tells
    // that a board has sent). Every round must end in one step.
    let mut rounds_in_flight = Vec::new();
    for n in 1..=3u32 {
        let id = order_one(&mut cleo, "tiramisu");
        let ticket = format!("#{n} cleo");
        for t in [&a, &b] {
            // The only new ticket: selected on both boards.
            t.wait("the new ticket", |s| {
                s.contains(&ticket) && s.contains("New (1)")
            });
        }
        let placed = cleo.order(&id);
        assert_eq!(placed["state"], "placed", "{placed}");
        if n > 1 {
            // The last round's ticket left New under the cursor, so Enter
            // is held back for a moment ("cursor just moved here"): the
            // cook moves away and back by key, which is their own move,
            // and the new ticket is selected (its bold frame).
            let selected = format!("┏{ticket}");
            for t in [&a, &b] {
                t.keys(&["l", "h"]);
                t.wait("the new ticket selected", |s| s.contains(&selected));
            }
        }

        signal(d.proc.pid(), libc::SIGSTOP);
        let paused = Instant::now();
        a.keys(&["Enter"]);
        b.keys(&["Enter"]);
        let pending = format!("#{n} cleo …");
        let both_sent = || a.screen().contains(&pending) && b.screen().contains(&pending);
        let mut in_flight = both_sent();
        while !in_flight && paused.elapsed() < Duration::from_millis(400) {
            std::thread::sleep(Duration::from_millis(10));
            in_flight = both_sent();
        }
        signal(d.proc.pid(), libc::SIGCONT);
        rounds_in_flight.push(in_flight);

        // One success, one clear refusal; whichever board won. The
        // loser's press carried the version it saw: the daemon refuses
        // it as stale, whatever the timing.
        let won = |s: &str| s.contains(&format!("#{n} accepted"));
        let lost = |s: &str| s.contains(&format!("#{n} changed on another screen"));
        let sa = a.wait("an answer to its bump", |s| won(s) || lost(s));
        let sb = b.wait("an answer to its bump", |s| won(s) || lost(s));
        assert!(
            won(&sa) && lost(&sb) || lost(&sa) && won(&sb),
            "round {n}: expected one success and one refusal;\nboard A:\n{sa}\nboard B:\n{sb}"
        );
        // Exactly one step: accepted (not started), paid once. (Both
        // answers are in, so no bump is still on its way.)
        let now = wait_order(&mut kai, &id, "its payment captured", |o| {
            o["payment"]["state"] == "captured"
        });
        assert_eq!(now["state"], "accepted", "{now}");
        assert_eq!(now["payment"]["captured"], placed["total"], "{now}");
        // Both boards show the same: the ticket in Accepted, once.
        let accepted = format!("Accepted ({n})");
        for t in [&a, &b] {
            let s = t.wait("the ticket in Accepted", |s| {
                s.contains("New (0)") && s.contains(&accepted) && s.contains("Ready (0)")
            });
            assert_eq!(s.matches(&ticket).count(), 1, "{s}");
        }
        if in_flight {
            break;
        }
    }
    assert_eq!(
        rounds_in_flight.last(),
        Some(&true),
        "in {} round(s) the two bumps were never both in flight while the daemon was paused",
        rounds_in_flight.len()
    );

    // A rush marked on one board shows on the other.
    a.keys(&["l", "r"]);
    a.wait("the rush confirmation", |s| {
        s.contains("#1 marked rush") && s.contains("RUSH")
    });
    b.wait("the other board's rush", |s| s.contains("#1 cleo RUSH"));
}

const BREAD_CSV: &str = "sku,name,price,station\nbread,Bread,2.00,oven\n";

/// Points `u`'s CLI at `endpoint` (one node, or a comma list).
fn via(u: &mut User, endpoint: &str) {
    u.cli = std::mem::take(&mut u.cli).env("DFOOD_ENDPOINT", endpoint);
}

#[test]
fn the_board_survives_kill9_of_its_node() {
    let tmux = Tmux::new("kill9");
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = tests::start_nodes(&etcd, dir.path(), 3);
    let all = endpoints(&nodes);
    let ca = nodes[0].ca_path();
    let mut mia = User::new(&nodes[0], "mia");
    let mut kai = User::new(&nodes[0], "kai");
    let mut cleo = User::new(&nodes[0], "cleo");
    tests::open_shop(&mut mia, "trattoria", BREAD_CSV, &["kai"]);
    let mut ids = Vec::new();
    let mut place = |cleo: &mut User| ids.push(order_one(cleo, "bread"));
    for _ in 0..3 {
        place(&mut cleo);
    }

    // The board knows every node and picks one at random: that one dies.
    tmux.start(&board_command_for(&all, &ca, kai.cli.home()));
    let s = tmux.wait("the board connected with 3 tickets", |s| {
        connected_node(s).is_some() && s.contains("New (3)")
    });
    let victim_name = connected_node(&s).unwrap();
    let victim = nodes
        .iter()
        .position(|d| d.node == victim_name)
        .unwrap_or_else(|| panic!("the status line names no node of ours:\n{s}"));
    let survivor = nodes[(victim + 1) % 3].endpoint();
    let other = nodes[(victim + 2) % 3].endpoint();
    nodes[victim].proc.kill9();
    // Whether the gap is long enough to see "DISCONNECTED" depends on how
    // fast the session fails over: noted, not asserted.
    let saw = std::cell::Cell::new(false);
    let look = || saw.set(saw.get() || tmux.screen().contains("DISCONNECTED"));
    look();

    // Customers keep ordering through the nodes still up.
    via(&mut cleo, &survivor);
    place(&mut cleo);
    look();
    via(&mut cleo, &other);
    place(&mut cleo);
    look();
    place(&mut cleo);

    let moved = format!("(was {victim_name})");
    let s = tmux.wait_for(
        "another node and all 6 tickets",
        Duration::from_secs(30),
        |s| {
            saw.set(saw.get() || s.contains("DISCONNECTED"));
            connected_node(s).is_some_and(|n| n != victim_name) && s.contains("New (6)")
        },
    );
    eprintln!("DISCONNECTED seen on screen after the kill: {}", saw.get());
    let now = connected_node(&s).unwrap();
    assert!(
        s.contains(&format!("reconnected: now via {now} {moved}")),
        "the status line should say the board moved:\n{s}"
    );
    assert_eq!(ids.len(), 6);
    for id in &ids {
        // Order ids are `<restaurant>-<ticket>`.
        let ticket = format!("#{} cleo", id.rsplit('-').next().unwrap());
        assert_eq!(
            s.matches(&ticket).count(),
            1,
            "{id} ({ticket}) should be on the board once:\n{s}"
        );
    }
    assert!(s.contains("6 open"), "{s}");

    // Bumps work through the new node, and the CLI sees them.
    via(&mut kai, &survivor);
    tmux.keys(&["Enter"]);
    wait_state(&mut kai, &ids[0], "accepted");
    tmux.wait("the accepted ticket", |s| {
        s.contains("#1 accepted") && s.contains("New (5)") && s.contains("Accepted (1)")
    });
    drop(etcd);
}

#[test]
fn a_board_without_a_node_says_so_and_refuses_bumps() {
    let tmux = Tmux::new("down");
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start("node-1", &dir.path().join("d"), &[]);
    let mut mia = User::new(&d, "mia");
    let mut kai = User::new(&d, "kai");
    let mut cleo = User::new(&d, "cleo");
    tests::open_shop(&mut mia, "trattoria", BREAD_CSV, &["kai"]);
    let id = order_one(&mut cleo, "bread");
    tmux.start(&board_command(&d, kai.cli.home()));
    tmux.wait("the ticket", |s| {
        s.contains("● node-1") && s.contains("#1 cleo")
    });

    // The only node dies: the board says so, and a bump is refused, not
    // lost or queued.
    d.proc.kill9();
    tmux.wait_for("the disconnection", Duration::from_secs(30), |s| {
        s.contains("DISCONNECTED")
    });
    tmux.keys(&["Enter"]);
    let s = tmux.wait("the refused bump", |s| {
        s.contains("disconnected: nothing sent, #1 not bumped")
    });
    assert!(s.contains("#1 cleo"), "the ticket stays on screen:\n{s}");

    // The node comes back (same address, same data): the board follows,
    // the order was never touched, and bumps work again.
    d.restart();
    tmux.wait_for("the reconnection", Duration::from_secs(30), |s| {
        s.contains("● node-1") && s.contains("New (1)")
    });
    assert_eq!(kai.order(&id)["state"], "placed");
    tmux.keys(&["Enter"]);
    wait_state(&mut kai, &id, "accepted");
    tmux.wait("the accepted ticket", |s| {
        s.contains("#1 accepted") && s.contains("Accepted (1)")
    });
}

const STATIONS_CSV: &str = "sku,name,price,station,stock,allergens,modifiers
margherita,Margherita,9.50,oven,,gluten; milk,
carbonara,Spaghetti carbonara,11.00,pasta,,egg; milk,
";

const PEANUT: &str = "Table 4: SEVERE peanut allergy - cook in a clean pan, no peanut oil, no satay sauce anywhere near it. EpiPen at table";

/// Issue 15's "done when": a cook on the oven station and one on pasta
/// finish their lines of one order on two boards; the expo board shows it
/// ready only then, and completes it. On the way: the order type on the
/// ticket, a long allergy note read in full in the detail view, and a
/// stale step from the CLI (`--if-version`) refused with nothing changed.
#[test]
fn oven_and_pasta_finish_their_lines_and_expo_sees_ready_only_then() {
    let oven = Tmux::new("st-oven");
    let pasta = Tmux::new("st-pasta");
    let expo = Tmux::new("st-expo");
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start("node-1", &dir.path().join("d"), &[]);
    let mut mia = User::new(&d, "mia");
    let kai = User::new(&d, "kai");
    let lea = User::new(&d, "lea");
    let mut cleo = User::new(&d, "cleo");
    tests::open_shop(&mut mia, "trattoria", STATIONS_CSV, &["kai", "lea"]);
    oven.start(&format!(
        "{} --station oven",
        board_command(&d, kai.cli.home())
    ));
    pasta.start(&format!(
        "{} --station pasta",
        board_command(&d, lea.cli.home())
    ));
    expo.start(&board_command(&d, mia.cli.home()));
    for t in [&oven, &pasta, &expo] {
        t.wait("the connected node", |s| s.contains("● node-1"));
    }
    let o = cleo.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "margherita",
        "--item",
        "carbonara",
        "--table",
        "4",
        "--note",
        PEANUT,
        "--pay",
        "pm_card_visa",
    ]);
    let id = o["id"].as_str().unwrap().to_string();
    assert_eq!(
        o["service"],
        serde_json::json!({"kind": "dine_in", "table": "4"})
    );
    let placed_version = o["version"].as_u64().unwrap();
    // The manager accepts from the CLI; a second accept made on what was
    // seen before it is refused (exit 4) and changes nothing.
    let v = placed_version.to_string();
    let accepted = mia.ok(&["order", "accept", &id, "--if-version", &v]);
    assert_eq!(accepted["state"], "accepted");
    let msg = mia.fails(&["order", "start", &id, "--if-version", &v], 4);
    assert!(msg.contains("changed on another screen"), "{msg}");
    assert_eq!(
        wait_state(&mut mia, &id, "accepted")["version"],
        accepted["version"]
    );

    // Expo: the ticket with its table; the whole allergy note in the
    // detail view.
    let s = expo.wait("the accepted ticket", |s| {
        s.contains("Accepted (1)") && s.contains("table 4")
    });
    assert!(s.contains("#1 cleo"), "{s}");
    expo.keys(&["l", "i"]);
    expo.wait("the note in full", |s| {
        s.contains("EpiPen at table") && s.contains("SEVERE peanut allergy")
    });
    expo.keys(&["Escape"]);
    expo.wait("the detail closed", |s| !s.contains("any key closes"));

    // The oven's cook: its line only, bumped from Accepted.
    let s = oven.wait("the oven's ticket", |s| s.contains("Accepted (1)"));
    assert!(s.contains("Margherita") && !s.contains("carbonara"), "{s}");
    oven.keys(&["l", "Enter"]);
    oven.wait("the oven's line ticked", |s| s.contains("✓1× Margherita"));
    let now = wait_state(&mut mia, &id, "preparing");
    assert!(now["lines"][0]["ready_at"].is_u64(), "{now}");
    assert!(now["lines"][1]["ready_at"].is_null(), "{now}");
    // Expo: preparing, the oven done and pasta not: not ready.
    let s = expo.wait("the stations' progress", |s| {
        s.contains("oven ✓") && s.contains("pasta …")
    });
    assert!(s.contains("Ready (0)"), "{s}");
    // A second press on the oven's board does nothing.
    oven.keys(&["l", "Enter"]);
    oven.wait("the oven told it is done", |s| {
        s.contains("oven is done; waiting for the other stations")
    });

    // The pasta cook finishes: now the order is ready, on every board.
    pasta.wait("the pasta's ticket", |s| s.contains("Preparing (1)"));
    pasta.keys(&["l", "l", "Enter"]);
    wait_state(&mut mia, &id, "ready");
    expo.wait("the order ready", |s| s.contains("Ready (1)"));
    // The expo completes it.
    expo.keys(&["l", "l", "Enter"]);
    let done = wait_state(&mut mia, &id, "completed");
    for k in ["accepted_at", "ready_at", "completed_at"] {
        assert!(done[k].is_u64(), "{k}: {done}");
    }
    for t in [&oven, &pasta, &expo] {
        t.keys(&["q"]);
    }
}

/// Finding 4 of issue 15: a bump pressed as the board's node dies is never
/// silently lost. The node is stopped (SIGSTOP) so the press is sent and
/// cannot be answered, then killed (-9): the board sends it again through
/// another node with the same version guard, and the order makes exactly
/// one step.
#[test]
fn a_bump_pressed_as_the_node_dies_is_sent_again_and_made_once() {
    let tmux = Tmux::new("bump-kill");
    let etcd = Etcd::start(1);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = tests::start_nodes(&etcd, dir.path(), 3);
    let all = endpoints(&nodes);
    let ca = nodes[0].ca_path();
    let mut mia = User::new(&nodes[0], "mia");
    let kai = User::new(&nodes[0], "kai");
    let mut cleo = User::new(&nodes[0], "cleo");
    tests::open_shop(&mut mia, "trattoria", BREAD_CSV, &["kai"]);
    let o = cleo.ok(&[
        "order",
        "place",
        "trattoria",
        "--item",
        "bread",
        "--pay",
        "pm_card_visa",
    ]);
    let id = o["id"].as_str().unwrap().to_string();
    tmux.start(&board_command_for(&all, &ca, kai.cli.home()));
    let s = tmux.wait("the board connected with the ticket", |s| {
        connected_node(s).is_some() && s.contains("New (1)")
    });
    let victim_name = connected_node(&s).unwrap();
    let victim = nodes
        .iter()
        .position(|d| d.node == victim_name)
        .unwrap_or_else(|| panic!("the status line names no node of ours:\n{s}"));
    via(&mut mia, &nodes[(victim + 1) % 3].endpoint());

    signal(nodes[victim].proc.pid(), libc::SIGSTOP);
    tmux.keys(&["Enter"]);
    tmux.wait("the press sent and waiting", |s| s.contains("#1 cleo …"));
    nodes[victim].proc.kill9();

    // Sent again through a live node, with the version the cook saw: one
    // step, and the board shows it done.
    wait_state(&mut mia, &id, "accepted");
    tmux.wait_for(
        "the ticket accepted through another node",
        Duration::from_secs(30),
        |s| {
            connected_node(s).is_some_and(|n| n != victim_name)
                && s.contains("Accepted (1)")
                && s.contains("New (0)")
                && !s.contains("accept failed")
                && !s.contains("no answer")
        },
    );
    // Exactly one step (accepted, not started) and paid once.
    let now = wait_order(&mut mia, &id, "its payment captured", |o| {
        o["payment"]["state"] == "captured"
    });
    assert_eq!(now["state"], "accepted", "{now}");
    assert_eq!(now["payment"]["captured"], o["total"], "{now}");
    drop(etcd);
}

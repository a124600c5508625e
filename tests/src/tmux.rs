//! A real terminal for the full-screen UIs: a tmux server of its own
//! (own socket, so tests never touch a user's tmux), one detached session
//! per [`Tmux::start`], killed on drop. Missing tmux fails the test with
//! the command that installs it.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    /// Where the server put its socket: tmux 3.3 leaves it behind after
    /// `kill-server`, so drop removes it.
    socket_path: std::cell::OnceCell<std::path::PathBuf>,
}

impl Tmux {
    /// A tmux server named after `tag` (and this process).
    pub fn new(tag: &str) -> Tmux {
        match Command::new("tmux").arg("-V").output() {
            Ok(o) if o.status.success() => {}
            _ => panic!(
                "tmux is needed for the terminal UI tests: apt-get install tmux (or run .ci/setup)"
            ),
        }
        Tmux {
            socket: format!("dfood-{tag}-{}", std::process::id()),
            socket_path: std::cell::OnceCell::new(),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// Runs `shell` in a detached `w`×`h` session called `session`.
    pub fn start(&self, session: &str, w: u16, h: u16, shell: &str) {
        let st = self
            .cmd()
            .args(["new-session", "-d", "-s", session])
            .args(["-x", &w.to_string(), "-y", &h.to_string(), shell])
            .status()
            .expect("tmux new-session");
        assert!(st.success(), "tmux new-session failed");
        let path = self.pane(session, "#{socket_path}");
        if !path.is_empty() {
            let _ = self.socket_path.set(path.into());
        }
    }

    /// Types `keys` (tmux key names: `Enter`, `Down`, `y`...) into `session`.
    pub fn keys(&self, session: &str, keys: &[&str]) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", session])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    /// What `session` shows now, as text.
    pub fn screen(&self, session: &str) -> String {
        let o = self
            .cmd()
            .args(["capture-pane", "-p", "-t", session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// A tmux format about `session`'s pane, e.g. `#{pane_pid}` or
    /// `#{alternate_on}` (1 while the program shows the alternate screen).
    pub fn pane(&self, session: &str, format: &str) -> String {
        let o = self
            .cmd()
            .args(["display-message", "-p", "-t", session, format])
            .output()
            .expect("tmux display-message");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// Whether `session` still runs (its command has not exited).
    pub fn alive(&self, session: &str) -> bool {
        self.cmd()
            .args(["has-session", "-t", session])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Waits (up to `within`) until `session`'s screen satisfies `f`;
    /// fails with the screen otherwise.
    pub fn wait(
        &self,
        session: &str,
        what: &str,
        within: Duration,
        f: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let s = self.screen(session);
            if f(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{session} never showed {what} within {within:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
        if let Some(p) = self.socket_path.get() {
            let _ = std::fs::remove_file(p);
        }
    }
}

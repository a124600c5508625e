//! `dfood cluster ...`: operators only.

use std::time::Duration;

use clap::Subcommand;
use protocol::messages::cluster::*;

use crate::args::{Global, Output};
use crate::output::{CliError, emit, human_duration};

#[derive(Debug, Subcommand)]
pub enum ClusterCmd {
    /// Members, roles, leader and fencing token, lease TTLs, versions, store health.
    Status,
    /// The cluster's members.
    Members,
    /// Move leadership in a healthy cluster to NODE, or to the best candidate.
    Switchover {
        #[arg(long)]
        to: Option<String>,
        /// When: an RFC 3339 time (2026-11-24T05:00:00Z) or a delay (10m).
        #[arg(long, value_parser = parse_when)]
        scheduled: Option<u64>,
    },
    /// Force leadership to NODE when the leader is unhealthy.
    Failover {
        #[arg(long)]
        to: String,
    },
    /// Maintenance mode: no automatic leader change (duties keep running).
    Pause,
    /// Leave maintenance mode.
    Resume,
    /// Move NODE's clients away (it stops taking connections), and wait
    /// until the node refuses new connections and its clients have gone.
    Drain {
        node: String,
        /// Take connections again instead (waits until the node says it
        /// does: up to about a second).
        #[arg(long)]
        undo: bool,
        /// Give up waiting after this long.
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        wait: Duration,
    },
}

/// RFC 3339 time or a delay from now → unix milliseconds.
pub fn parse_when(s: &str) -> Result<u64, String> {
    let now = std::time::SystemTime::now();
    let at = match humantime::parse_rfc3339_weak(s) {
        Ok(t) => t,
        Err(_) => {
            now + humantime::parse_duration(s).map_err(|_| {
                format!("{s:?} is neither a time like 2026-11-24T05:00:00Z nor a delay like 10m")
            })?
        }
    };
    Ok(at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis() as u64)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn members_table(ms: &[MemberInfo]) -> String {
    let mut s = format!(
        "{:<2}{:<14} {:<22} {:<8} {:>8} {:>6}  {}",
        "", "NODE", "ADDRESS", "VERSION", "UPTIME", "LEASE", "ROLES"
    );
    for m in ms {
        let mark = if m.leader { "*" } else { " " };
        let drain = if m.member.draining { " (draining)" } else { "" };
        s.push_str(&format!(
            "\n{mark:<2}{:<14} {:<22} {:<8} {:>8} {:>5}s  {}{drain}",
            m.member.node,
            m.member.addr,
            m.member.version,
            human_duration(now_secs().saturating_sub(m.member.started_at)),
            m.lease_ttl_secs,
            m.member.roles.join(",")
        ));
    }
    s
}

fn status_text(st: &ClusterStatus) -> String {
    let mut s = members_table(&st.members);
    s.push_str("\n\n");
    match &st.leader {
        Some(l) => s.push_str(&format!(
            "leader     {} (fencing token {})",
            l.node, l.fencing_token
        )),
        None => s.push_str("leader     none (electing)"),
    }
    s.push_str(&format!(
        "\npaused     {}",
        if st.paused {
            "yes: no automatic leader change"
        } else {
            "no"
        }
    ));
    if let Some(p) = &st.pending_switchover {
        s.push_str(&format!(
            "\nswitchover to {} pending",
            p.to.as_deref().unwrap_or("?")
        ));
    }
    s.push_str(&format!(
        "\nstore      {} (revision {})",
        st.store, st.store_revision
    ));
    if let Some(u) = &st.store_usage {
        s.push_str(&format!("\nsize       {}", tui::top::view::usage_line(u)));
    }
    for m in &st.store_members {
        let health = if m.healthy {
            "healthy".to_string()
        } else {
            format!("UNHEALTHY: {}", m.error.as_deref().unwrap_or("?"))
        };
        let lead = if m.leader { ", raft leader" } else { "" };
        s.push_str(&format!(
            "\n  {:<10} {:<26} {health}{lead}",
            m.name, m.endpoint
        ));
    }
    s
}

pub async fn cluster(g: &Global, cmd: ClusterCmd) -> Result<(), CliError> {
    let (c, t) = super::connect_authed(g).await?;
    let empty = serde_json::json!({});
    match cmd {
        ClusterCmd::Status => {
            let st: ClusterStatus = c.call(types::STATUS, Some(&t), &empty).await?;
            emit(g.output, &st, status_text);
        }
        ClusterCmd::Members => {
            let l: MemberList = c.call(types::MEMBERS, Some(&t), &empty).await?;
            emit(g.output, &l, |l| members_table(&l.members));
        }
        ClusterCmd::Switchover { to, scheduled } => {
            let st: ClusterStatus = c
                .call(
                    types::SWITCHOVER,
                    Some(&t),
                    &Switchover {
                        to,
                        scheduled_at: scheduled,
                    },
                )
                .await?;
            emit(g.output, &st, |st| {
                match (&st.pending_switchover, &st.leader) {
                    (Some(p), _) => {
                        format!("switchover to {} scheduled", p.to.as_deref().unwrap_or("?"))
                    }
                    (None, Some(l)) => format!(
                        "{} is the leader now (fencing token {})",
                        l.node, l.fencing_token
                    ),
                    _ => status_text(st),
                }
            });
        }
        ClusterCmd::Failover { to } => {
            let st: ClusterStatus = c.call(types::FAILOVER, Some(&t), &Failover { to }).await?;
            emit(g.output, &st, |st| match &st.leader {
                Some(l) => format!(
                    "{} is the leader now (fencing token {})",
                    l.node, l.fencing_token
                ),
                None => status_text(st),
            });
        }
        ClusterCmd::Pause | ClusterCmd::Resume => {
            let pause = matches!(cmd, ClusterCmd::Pause);
            let ty = if pause { types::PAUSE } else { types::RESUME };
            let st: ClusterStatus = c.call(ty, Some(&t), &empty).await?;
            emit(g.output, &st, |st| {
                if st.paused {
                    "paused: the leader will not change automatically".into()
                } else {
                    "resumed: automatic leader changes are back on".to_string()
                }
            });
        }
        ClusterCmd::Drain { node, undo, wait } => {
            let req = Drain {
                node: node.clone(),
                drain: !undo,
            };
            let mut st: DrainStatus = c.call(types::DRAIN, Some(&t), &req).await?;
            // The node acts on the flag in its next round and says so in
            // its published figures: wait for that too, so that "drained"
            // means it refuses connections and "takes connections again"
            // that it does.
            let acting = |st: &DrainStatus| st.node_draining.is_none_or(|d| d != undo);
            if undo {
                let deadline = tokio::time::Instant::now() + wait;
                while !acting(&st) {
                    if tokio::time::Instant::now() > deadline {
                        return Err(CliError::new(
                            crate::exit::UNAVAILABLE,
                            "unavailable",
                            format!(
                                "{node} is no longer marked draining, but has not said it takes connections again after {}",
                                humantime::format_duration(wait)
                            ),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    st = c.call(types::DRAIN, Some(&t), &req).await?;
                }
            }
            if !undo {
                let bar = (g.output == Output::Human).then(|| {
                    let b = indicatif::ProgressBar::new_spinner();
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                let deadline = tokio::time::Instant::now() + wait;
                while st.connections > 0 || !acting(&st) {
                    if let Some(b) = &bar {
                        b.set_message(format!(
                            "draining {node}: {} client connection(s) left",
                            st.connections
                        ));
                    }
                    if tokio::time::Instant::now() > deadline {
                        if let Some(b) = &bar {
                            b.finish_and_clear();
                        }
                        return Err(CliError::new(
                            crate::exit::UNAVAILABLE,
                            "unavailable",
                            format!(
                                "{node} still has {} connection(s) after {}",
                                st.connections,
                                humantime::format_duration(wait)
                            ),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    st = c.call(types::DRAIN, Some(&t), &req).await?;
                }
                if let Some(b) = bar {
                    b.finish_and_clear();
                }
            }
            emit(g.output, &st, |st| {
                if st.draining {
                    format!(
                        "{} is drained: no client connections; it takes none until `dfood cluster drain {} --undo`",
                        st.node, st.node
                    )
                } else {
                    format!("{} takes connections again", st.node)
                }
            });
        }
    }
    Ok(())
}

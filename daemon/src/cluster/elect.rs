//! The election, decided without I/O: given what a node read of the cluster
//! (its member record, the leader key, pause and switchover markers) and
//! the time, what should it do? `cluster::step` reads, calls [`decide`],
//! and carries the decision out with guarded store transactions. Tests
//! drive it on virtual time.

use protocol::messages::Member;
use protocol::messages::cluster::Switchover;

use crate::store::{LeaseId, Revision};

/// What a node saw of the cluster in one look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// This node's name.
    pub me: String,
    /// Whether this node runs the `duties` role (only those lead).
    pub duties: bool,
    /// This node's drain flag, as its member record says now.
    pub draining: bool,
    /// The leader key: the leader's name and the key's mod revision (the
    /// fencing token).
    pub leader: Option<(String, Revision)>,
    /// Maintenance mode: nobody campaigns.
    pub paused: bool,
    /// A planned hand-over and the plan key's mod revision.
    pub switchover: Option<(Switchover, Revision)>,
}

/// What to do after one look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Another node leads (or nobody, and this node may not campaign):
    /// hold no fencing token.
    Follow,
    /// No leader and this node may lead: try to take the leader key.
    Campaign,
    /// This node leads, with this fencing token.
    Lead { token: Revision },
    /// This node leads and a planned switchover is due: rewrite the leader
    /// key for `to`, fenced by `token`, and drop the plan (`plan`: its mod
    /// revision).
    HandOver {
        token: Revision,
        to: String,
        plan: Revision,
    },
    /// This node leads and a due plan names no candidate: drop it.
    DropPlan { token: Revision },
}

/// Decides one round (see [`Decision`]); `now_ms` is wall-clock time.
pub fn decide(view: &View, now_ms: u64) -> Decision {
    match &view.leader {
        Some((node, token)) if *node == view.me => {
            let token = *token;
            match &view.switchover {
                Some((plan, _)) if plan.scheduled_at.unwrap_or(0) > now_ms => {
                    Decision::Lead { token }
                }
                Some((plan, rev)) => match &plan.to {
                    Some(to) if *to != view.me => Decision::HandOver {
                        token,
                        to: to.clone(),
                        plan: *rev,
                    },
                    _ => Decision::DropPlan { token },
                },
                None => Decision::Lead { token },
            }
        }
        Some(_) => Decision::Follow,
        None if !view.paused && view.duties && !view.draining => Decision::Campaign,
        None => Decision::Follow,
    }
}

/// Why `node` cannot lead, if it cannot.
pub fn unfit(members: &[(Member, LeaseId)], node: &str, leader: Option<&str>) -> Option<String> {
    let Some((m, _)) = members.iter().find(|(m, _)| m.node == node) else {
        let names: Vec<_> = members.iter().map(|(m, _)| m.node.as_str()).collect();
        return Some(format!(
            "{node} is not a member (members: {})",
            names.join(", ")
        ));
    };
    if leader == Some(node) {
        return Some(format!("{node} is already the leader"));
    }
    if m.draining {
        return Some(format!("candidate {node} is draining"));
    }
    if !m.roles.iter().any(|r| r == "duties") {
        return Some(format!("candidate {node} does not run the duties role"));
    }
    None
}

/// The best candidate to take over from `leader`: fit, then the
/// longest-running, then by name.
pub fn best_candidate(members: &[(Member, LeaseId)], leader: &str) -> Option<String> {
    let mut fit: Vec<_> = members
        .iter()
        .filter(|(m, _)| unfit(members, &m.node, Some(leader)).is_none())
        .collect();
    fit.sort_by_key(|(m, _)| (m.started_at, m.node.clone()));
    fit.first().map(|(m, _)| m.node.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View {
            me: "n1".into(),
            duties: true,
            draining: false,
            leader: None,
            paused: false,
            switchover: None,
        }
    }

    fn member(node: &str, started_at: u64, draining: bool, duties: bool) -> (Member, LeaseId) {
        let roles = if duties {
            vec!["orders".to_string(), "duties".to_string()]
        } else {
            vec!["orders".to_string()]
        };
        (
            Member {
                node: node.into(),
                addr: format!("{node}:7400"),
                roles,
                version: "0".into(),
                started_at,
                draining,
            },
            1,
        )
    }

    #[test]
    fn with_no_leader_a_fit_node_campaigns() {
        assert_eq!(decide(&view(), 0), Decision::Campaign);
        for v in [
            View {
                paused: true,
                ..view()
            },
            View {
                draining: true,
                ..view()
            },
            View {
                duties: false,
                ..view()
            },
        ] {
            assert_eq!(decide(&v, 0), Decision::Follow, "{v:?}");
        }
    }

    #[test]
    fn the_leader_key_decides_who_leads() {
        let mine = View {
            leader: Some(("n1".into(), 42)),
            ..view()
        };
        assert_eq!(decide(&mine, 0), Decision::Lead { token: 42 });
        // Paused or draining does not depose a leader by itself.
        let paused = View {
            paused: true,
            draining: true,
            ..mine.clone()
        };
        assert_eq!(decide(&paused, 0), Decision::Lead { token: 42 });
        let theirs = View {
            leader: Some(("n2".into(), 42)),
            ..view()
        };
        assert_eq!(decide(&theirs, 0), Decision::Follow);
    }

    #[test]
    fn a_scheduled_switchover_waits_for_its_time() {
        let plan = Switchover {
            to: Some("n2".into()),
            scheduled_at: Some(10_000),
        };
        let v = View {
            leader: Some(("n1".into(), 42)),
            switchover: Some((plan, 50)),
            ..view()
        };
        assert_eq!(decide(&v, 9_999), Decision::Lead { token: 42 });
        let due = Decision::HandOver {
            token: 42,
            to: "n2".into(),
            plan: 50,
        };
        assert_eq!(decide(&v, 10_000), due);
        assert_eq!(decide(&v, 99_000), due);
        // Only the leader carries a plan out.
        let follower = View {
            leader: Some(("n3".into(), 42)),
            ..v
        };
        assert_eq!(decide(&follower, 99_000), Decision::Follow);
    }

    #[test]
    fn a_plan_without_a_candidate_or_to_itself_is_dropped() {
        for to in [None, Some("n1".to_string())] {
            let v = View {
                leader: Some(("n1".into(), 7)),
                switchover: Some((
                    Switchover {
                        to,
                        scheduled_at: None,
                    },
                    8,
                )),
                ..view()
            };
            assert_eq!(decide(&v, 0), Decision::DropPlan { token: 7 });
        }
    }

    #[test]
    fn candidates_say_why_they_are_unfit() {
        let ms = [
            member("n1", 1, false, true),
            member("n2", 5, true, true),
            member("n3", 3, false, false),
            member("n4", 9, false, true),
        ];
        assert_eq!(
            unfit(&ms, "n1", Some("n1")).unwrap(),
            "n1 is already the leader"
        );
        assert_eq!(
            unfit(&ms, "n2", Some("n1")).unwrap(),
            "candidate n2 is draining"
        );
        assert_eq!(
            unfit(&ms, "n3", Some("n1")).unwrap(),
            "candidate n3 does not run the duties role"
        );
        assert!(
            unfit(&ms, "n9", None)
                .unwrap()
                .contains("n9 is not a member")
        );
        assert_eq!(unfit(&ms, "n4", Some("n1")), None);
        assert_eq!(best_candidate(&ms, "n1").as_deref(), Some("n4"));
        assert_eq!(best_candidate(&ms, "n4").as_deref(), Some("n1"));
        assert_eq!(best_candidate(&ms[..3], "n1"), None);
    }
}

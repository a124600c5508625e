//! Restaurant ownership: which node serves a restaurant's placements.
//!
//! Rendezvous (highest random weight) hashing over the live members that
//! run the `orders` role and are not draining: each (node, restaurant)
//! pair gets a score, the highest scoring node owns the restaurant. When
//! a member joins or leaves, only the restaurants it wins or owned move.
//! Clients ([`crate::session`]) and nodes (the daemon's `api`) compute
//! the same owner from the same member list, so a placement goes straight
//! to its owner, or is forwarded there once.
//!
//! Ownership is an optimisation, never a guarantee: two nodes that
//! disagree for a moment (one has not seen a member change yet) both
//! place, and the store's compares make one of them lose the race and
//! retry. Sans-IO and stable across processes and versions (FNV-1a and a
//! fixed mixer, not `std`'s randomly keyed hasher).

use crate::messages::cluster::NodeAddr;

/// The role that serves placements.
pub const ROLE: &str = "orders";

/// The score of `node` for `restaurant`; the highest wins.
pub fn score(node: &str, restaurant: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.bytes().chain([0xff]).chain(restaurant.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64's finaliser: FNV alone clusters on similar names.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// `nodes` ranked for `restaurant`, best first (ties, which need equal
/// scores, go to the smaller name).
pub fn rank<'a, I>(restaurant: &str, nodes: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut v: Vec<(u64, &str)> = nodes
        .into_iter()
        .map(|n| (score(n, restaurant), n))
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    v.dedup_by(|a, b| a.1 == b.1);
    v.into_iter().map(|(_, n)| n).collect()
}

/// The owner of `restaurant` among `nodes`, if any.
pub fn owner<'a, I>(restaurant: &str, nodes: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    nodes
        .into_iter()
        .map(|n| (score(n, restaurant), n))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, n)| n)
}

/// Whether a member may own restaurants: it runs the `orders` role (a
/// node that does not say which roles it runs is taken to run them all)
/// and is not draining.
pub fn eligible(draining: bool, roles: &[String]) -> bool {
    !draining && (roles.is_empty() || roles.iter().any(|r| r == ROLE))
}

/// The member of `nodes` that owns `restaurant`.
pub fn owner_of<'a>(restaurant: &str, nodes: &'a [NodeAddr]) -> Option<&'a NodeAddr> {
    let name = owner(
        restaurant,
        nodes
            .iter()
            .filter(|n| eligible(n.draining, &n.roles))
            .map(|n| n.node.as_str()),
    )?;
    nodes.iter().find(|n| n.node == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, roles: &[&str], draining: bool) -> NodeAddr {
        NodeAddr {
            node: name.into(),
            addr: format!("{name}:1"),
            draining,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn everyone_agrees_whatever_the_order_of_the_list() {
        let a = ["n1", "n2", "n3"];
        let b = ["n3", "n1", "n2"];
        for r in 0..200 {
            let r = format!("r{r}");
            assert_eq!(owner(&r, a), owner(&r, b));
            assert_eq!(rank(&r, a), rank(&r, b));
            assert_eq!(owner(&r, a), rank(&r, a).first().copied());
        }
    }

    #[test]
    fn restaurants_spread_and_only_a_leavers_move() {
        let three = ["n1", "n2", "n3"];
        let two = ["n1", "n2"];
        let mut per = std::collections::HashMap::new();
        let mut moved = 0;
        for r in 0..3000 {
            let r = format!("bench-{r}");
            let o3 = owner(&r, three).unwrap();
            *per.entry(o3).or_insert(0) += 1;
            let o2 = owner(&r, two).unwrap();
            if o3 != "n3" {
                assert_eq!(o2, o3, "{r} moved though its owner stayed");
            } else {
                moved += 1;
            }
        }
        for (n, c) in &per {
            assert!((800..=1200).contains(c), "{n} owns {c} of 3000");
        }
        assert_eq!(moved, per["n3"]);
    }

    #[test]
    fn only_live_orders_members_own() {
        let nodes = [
            node("n1", &["gateway"], false),
            node("n2", &["orders", "gateway"], true),
            node("n3", &["orders"], false),
        ];
        for r in ["a", "b", "c", "d"] {
            assert_eq!(owner_of(r, &nodes).unwrap().node, "n3");
        }
        assert!(owner_of("a", &nodes[..2]).is_none());
        // A node that does not list its roles runs them all.
        assert!(owner_of("a", &[node("old", &[], false)]).is_some());
        assert_eq!(owner::<[&str; 0]>("a", []), None);
    }
}

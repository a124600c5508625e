//! The one table of request types: for each `type` the protocol defines,
//! whether it is safe to send twice, which daemon role serves it, and the
//! label it is counted under. Retry ([`crate::retry::idempotent`]), the
//! daemon's metrics and its forwarding between roles are all derived from
//! [`ALL`]; a type missing here is one the daemon refuses as `unsupported`,
//! so a new type cannot be half-added.
//!
//! Sans-IO and runtime-free like the rest of the wire types.

use crate::messages::{self, auth, catalog, cluster, history, orders};

/// The role of `dfoodd` that serves a request type (`--roles`). A node
/// without it forwards the request to a member that has it. Types with no
/// role are served by every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Auth,
    Catalog,
    Orders,
}

impl Role {
    /// The name used in `--roles` and in member records.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Auth => "auth",
            Role::Catalog => "catalog",
            Role::Orders => "orders",
        }
    }
}

/// Whether a request that may have reached a server (sent, no answer) may
/// be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Reads and writes that are idempotent by themselves.
    Safe,
    /// Never: a second delivery could act twice (a kitchen step, a refund).
    Unsafe,
    /// Safe when the body carries a non-empty `idempotency_key`
    /// (`order.place`: the server answers a repeat with the same order).
    WithIdempotencyKey,
    /// Safe when the body carries `expected_version` (an order step): if
    /// the first delivery acted, the order's version moved and the repeat
    /// is refused as stale (`conflict`) instead of acting twice.
    WithExpectedVersion,
    /// `auth.token`: safe for the `password` and `client_credentials`
    /// grants (a repeat at worst opens one more session), never for
    /// `refresh_token`, which rotates: a repeat would present a used token
    /// and revoke the session.
    ByGrant,
}

/// One request type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestType {
    /// The `type` field, e.g. `order.place`.
    pub name: &'static str,
    pub repeat: Repeat,
    /// The role that serves it; `None`: every node.
    pub role: Option<Role>,
    /// Opens a stream of server frames instead of one answer.
    pub streams: bool,
}

impl RequestType {
    const fn new(name: &'static str, repeat: Repeat, role: Option<Role>) -> RequestType {
        RequestType {
            name,
            repeat,
            role,
            streams: false,
        }
    }

    /// The metrics label of this type (bounded: only names in [`ALL`]).
    pub fn label(&self) -> &'static str {
        self.name
    }
}

use Repeat::{ByGrant, Safe, Unsafe, WithExpectedVersion, WithIdempotencyKey};

const AUTH: Option<Role> = Some(Role::Auth);
const CATALOG: Option<Role> = Some(Role::Catalog);
const ORDERS: Option<Role> = Some(Role::Orders);

/// Every request type of the protocol.
pub const ALL: &[RequestType] = &[
    RequestType::new(messages::types::HEALTH, Safe, None),
    RequestType {
        streams: true,
        ..RequestType::new(messages::types::SUBSCRIBE, Safe, None)
    },
    RequestType::new(auth::types::SIGNUP, Unsafe, AUTH),
    RequestType::new(auth::types::TOKEN, ByGrant, AUTH),
    RequestType::new(auth::types::LOGOUT, Unsafe, AUTH),
    RequestType::new(auth::types::WHOAMI, Safe, AUTH),
    RequestType::new(auth::types::SERVICE_ACCOUNT_CREATE, Unsafe, AUTH),
    RequestType::new(auth::types::SERVICE_ACCOUNT_DELETE, Unsafe, AUTH),
    RequestType::new(auth::types::SERVICE_ACCOUNT_ROTATE, Unsafe, AUTH),
    RequestType::new(auth::types::PASSWORD, Unsafe, AUTH),
    RequestType::new(auth::types::ACCOUNT_DISABLE, Unsafe, AUTH),
    RequestType::new(auth::types::ACCOUNT_ENABLE, Unsafe, AUTH),
    RequestType::new(auth::types::ROTATE_KEY, Unsafe, AUTH),
    RequestType::new(auth::types::BOOTSTRAP, Unsafe, AUTH),
    RequestType::new(catalog::types::RESTAURANT_CREATE, Unsafe, CATALOG),
    RequestType::new(catalog::types::RESTAURANT_LIST, Safe, CATALOG),
    RequestType::new(catalog::types::RESTAURANT_SHOW, Safe, CATALOG),
    RequestType::new(catalog::types::RESTAURANT_OPEN, Unsafe, CATALOG),
    RequestType::new(catalog::types::RESTAURANT_CLOSE, Unsafe, CATALOG),
    RequestType::new(catalog::types::RESTAURANT_SET, Unsafe, CATALOG),
    RequestType::new(catalog::types::STAFF_ADD, Unsafe, CATALOG),
    RequestType::new(catalog::types::STAFF_REMOVE, Unsafe, CATALOG),
    RequestType::new(catalog::types::STAFF_LIST, Safe, CATALOG),
    RequestType::new(catalog::types::MENU_GET, Safe, CATALOG),
    RequestType::new(catalog::types::MENU_IMPORT, Unsafe, CATALOG),
    RequestType::new(catalog::types::MENU_SET, Unsafe, CATALOG),
    RequestType::new(catalog::types::MENU_86, Unsafe, CATALOG),
    RequestType::new(catalog::types::MENU_UN86, Unsafe, CATALOG),
    RequestType::new(orders::types::PLACE, WithIdempotencyKey, ORDERS),
    RequestType::new(orders::types::GET, Safe, ORDERS),
    RequestType::new(orders::types::LIST, Safe, ORDERS),
    RequestType::new(orders::types::CANCEL, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::ACCEPT, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::REJECT, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::START, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::READY, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::COMPLETE, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::REFUND, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::RECALL, WithExpectedVersion, ORDERS),
    RequestType::new(orders::types::RUSH, Unsafe, ORDERS),
    RequestType::new(orders::types::STATION_READY, WithExpectedVersion, ORDERS),
    RequestType::new(history::types::HISTORY, Safe, ORDERS),
    RequestType::new(history::types::SALES, Safe, ORDERS),
    RequestType::new(history::types::ITEMS, Safe, ORDERS),
    RequestType::new(cluster::types::NODES, Safe, None),
    RequestType::new(cluster::types::MEMBERS, Safe, None),
    RequestType::new(cluster::types::STATUS, Safe, None),
    RequestType::new(cluster::types::SWITCHOVER, Unsafe, None),
    RequestType::new(cluster::types::FAILOVER, Unsafe, None),
    RequestType::new(cluster::types::PAUSE, Unsafe, None),
    RequestType::new(cluster::types::RESUME, Unsafe, None),
    RequestType::new(cluster::types::DRAIN, Unsafe, None),
    RequestType::new(cluster::types::STATS, Safe, None),
    RequestType::new(cluster::types::TOP, Safe, None),
];

/// The entry for `name`, if the protocol defines it.
pub fn find(name: &str) -> Option<&'static RequestType> {
    ALL.iter().find(|t| t.name == name)
}

/// The names of every type, in table order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|t| t.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for t in ALL {
            assert!(seen.insert(t.name), "{} twice", t.name);
            assert!(
                !t.name.is_empty()
                    && t.name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c)),
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn the_per_domain_lists_are_in_the_table() {
        for name in auth::types::ALL {
            assert!(find(name).is_some(), "{name} missing");
        }
        assert!(find("no.such.type").is_none());
    }

    #[test]
    fn roles_follow_the_domain_prefix() {
        for t in ALL {
            let want = match t.name.split('.').next().unwrap_or_default() {
                "auth" | "admin" => AUTH,
                "restaurant" | "staff" | "menu" => CATALOG,
                "order" | "report" => ORDERS,
                _ => None,
            };
            assert_eq!(t.role, want, "{}", t.name);
        }
    }

    #[test]
    fn only_subscribe_streams() {
        let streaming: Vec<_> = ALL.iter().filter(|t| t.streams).map(|t| t.name).collect();
        assert_eq!(streaming, [messages::types::SUBSCRIBE]);
    }
}

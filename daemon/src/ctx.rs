//! The request context: what a domain handler (auth, catalog, orders) may
//! use, named one by one. A domain sees a [`Ctx`], never the node: not its
//! connections, fan-out or cluster state, so its unit tests build only the
//! pieces they use.
//!
//! [`Deps`] owns the pieces for one node; [`Deps::ctx`] lends them to one
//! request together with the caller's token and request id.

use std::net::IpAddr;
use std::sync::Arc;

use crate::archive::Archive;
use crate::auth::identity::{AuthState, Identity};
use crate::auth::keys::Claims;
use crate::clock::Clock;
use crate::config::Limits;
use crate::payments::Gateway;
use crate::queues::Queues;
use crate::rpc::{ApiResult, Principal};
use crate::store::Store;

/// A node's dependencies, shared by every request it serves.
pub struct Deps {
    /// This node's name.
    pub node: String,
    pub store: Arc<dyn Store>,
    /// Signing keys, token settings, hashing threads.
    pub auth: AuthState,
    /// The payment gateway.
    pub gateway: Arc<dyn Gateway>,
    pub clock: Arc<dyn Clock>,
    /// Placements at one restaurant take turns on this node (see
    /// `orders::place`).
    pub placing: Queues,
    /// Where finished orders go after the hot store (none: they stay).
    pub archive: Option<Arc<Archive>>,
    /// What leaves the hot store, and when (the leader's sweeps).
    pub retention: crate::config::RetentionSettings,
    /// Quotas and default price bounds (`[limits]`).
    pub limits: Limits,
}

impl Deps {
    /// The context of one request.
    pub fn ctx<'a>(&'a self, token: Option<&'a str>, request_id: Option<&'a str>) -> Ctx<'a> {
        Ctx {
            node: &self.node,
            store: self.store.as_ref(),
            auth: &self.auth,
            gateway: self.gateway.as_ref(),
            clock: self.clock.as_ref(),
            placing: &self.placing,
            archive: self.archive.as_deref(),
            limits: &self.limits,
            token,
            request_id,
            peer: None,
        }
    }
}

#[cfg(test)]
impl Deps {
    /// A node "n1" for unit tests: `store`, `clock`, the sandbox gateway,
    /// keys kept under `dir`, default settings.
    pub fn for_tests(store: Arc<dyn Store>, dir: &std::path::Path, clock: Arc<dyn Clock>) -> Deps {
        Deps {
            node: "n1".into(),
            store: store.clone(),
            auth: AuthState::new(Default::default(), dir, crate::secrets::Kek::generate()),
            gateway: Arc::new(crate::payments::sandbox::SandboxGateway::new(store.clone())),
            clock,
            placing: Queues::batching(store, Default::default()),
            archive: None,
            retention: Default::default(),
            limits: Default::default(),
        }
    }
}

/// A request being served (or a duty run by the node itself: no token).
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub node: &'a str,
    pub store: &'a dyn Store,
    pub auth: &'a AuthState,
    pub gateway: &'a dyn Gateway,
    pub clock: &'a dyn Clock,
    pub placing: &'a Queues,
    pub archive: Option<&'a Archive>,
    pub limits: &'a Limits,
    /// The caller's access token, if any.
    pub token: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// The client's address, when the request came over the network (set
    /// by the server; for throttling logins).
    pub peer: Option<IpAddr>,
}

impl<'a> Ctx<'a> {
    /// The same context, for a request from `peer`.
    pub fn with_peer(mut self, peer: Option<IpAddr>) -> Ctx<'a> {
        self.peer = peer;
        self
    }

    /// The identity service (store + auth state + clock).
    pub fn identity(&self) -> Identity<'a> {
        Identity {
            store: self.store,
            auth: self.auth,
            clock: self.clock,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The caller, or `unauthenticated` when there is no valid token.
    pub async fn principal(&self) -> ApiResult<Principal> {
        self.identity().principal(self.token).await
    }

    /// The verified claims of the caller's token, before the account is
    /// read: pair with [`Identity::principal_for`] before acting.
    pub async fn claims(&self) -> ApiResult<Claims> {
        let token = crate::auth::identity::require_token(self.token)?;
        self.identity().verify_token(token).await
    }

    /// The caller if a token was sent, `None` for anonymous requests.
    pub async fn optional_principal(&self) -> ApiResult<Option<Principal>> {
        match self.token {
            None => Ok(None),
            Some(_) => self.principal().await.map(Some),
        }
    }

    pub async fn require_operator(&self) -> ApiResult<Principal> {
        self.identity().require_operator(self.token).await
    }
}

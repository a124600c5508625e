//! The DistribuFood wire protocol, shared by `dfoodd`, `dfood` and the TUIs.
//!
//! Layers, from the bytes up (see `protocol/README.md` for the full spec):
//! - [`frame`]: length-prefixed frames. Sans-IO: it only looks at byte slices,
//!   tells "incomplete" from "garbage", and checks the length before anything
//!   is allocated.
//! - [`wire`]: the JSON envelopes carried in frames (requests, responses,
//!   subscription frames) and the stable error codes.
//! - [`messages`]: the typed bodies of every request and response.
//! - [`requests`]: the one table of request types (safe to repeat? which
//!   daemon role serves it?) that retry, metrics and forwarding derive from.
//! - [`retry`]: the sans-IO retry and failover policy (which requests may be
//!   sent twice, where to, after how long).
//! - [`owner`]: which node owns a restaurant's placements (rendezvous
//!   hashing over the live `orders` members), computed alike by clients
//!   and nodes.
//! - [`text`]: the rule for user-given text (bounds, no control or bidi
//!   characters), escaping for terminals, card numbers spotted.
//! - [`io`], [`client`] and [`session`] (feature `client`, on by default):
//!   the only parts that know about quinn and tokio; they drive the layers
//!   above over QUIC. A [`session::Session`] spreads over and fails over
//!   between nodes, one [`client::Client`] per connection.
//!
//! The wire types never depend on an async runtime, so a fuzzer or another
//! runtime can use them as they are.

pub mod frame;
pub mod messages;
pub mod owner;
pub mod requests;
pub mod retry;
pub mod text;
pub mod wire;

#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "client")]
pub mod io;
#[cfg(feature = "client")]
pub mod session;
#[cfg(feature = "client")]
pub mod tls;

/// The ALPN protocol id. Its suffix is the protocol's major version: a peer
/// that does not offer exactly this id fails the TLS handshake.
pub const ALPN: &[u8] = b"dfood/1";

/// The TLS server name every `dfoodd` certificate carries, whatever its host:
/// clients verify "signed by this cluster's CA, issued to a dfoodd".
pub const DEFAULT_SERVER_NAME: &str = "dfoodd";

/// The default QUIC port of `dfoodd`.
pub const DEFAULT_PORT: u16 = 7400;

//! The QUIC client used by `dfood`, the TUIs and the tests.
//!
//! One [`Client`] holds one QUIC connection to one `dfoodd`. Each request
//! opens a bidirectional stream, writes one request frame, finishes its send
//! side and reads one response frame. A subscription keeps its stream open
//! and reads `event` / `progress` frames until the server ends it.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::frame::MAX_FRAME_LEN;
use crate::io::{FrameIoError, read_frame, write_doc};
use crate::messages::{self, Event, SubscribeRequest, SubscribeResponse};
use crate::tls::{self, TlsError};
use crate::wire::{self, ErrorBody, Request, ServerFrame};

/// Everything that can go wrong talking to a daemon.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("bad endpoint {endpoint:?}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("no answer from {endpoint} within {timeout:?}")]
    Timeout { endpoint: String, timeout: Duration },
    #[error("connection to {endpoint} lost: {reason}")]
    Transport { endpoint: String, reason: String },
    #[error("protocol error from {endpoint}: {reason}")]
    Protocol { endpoint: String, reason: String },
    /// The server answered with an error.
    #[error("{0}")]
    Server(ErrorBody),
    #[error("{endpoint} is going away: {reason}")]
    GoingAway {
        endpoint: String,
        reason: String,
        alternatives: Vec<String>,
    },
}

/// How to reach a daemon.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `host:port`.
    pub endpoint: String,
    /// PEM of the cluster CA the server certificate must chain to.
    pub ca_pem: Vec<u8>,
    /// TLS server name to verify; [`crate::DEFAULT_SERVER_NAME`] by default.
    pub server_name: String,
    /// Bound on connecting and on each request.
    pub timeout: Duration,
}

impl ConnectOptions {
    pub fn new(endpoint: impl Into<String>, ca_pem: Vec<u8>) -> Self {
        ConnectOptions {
            endpoint: endpoint.into(),
            ca_pem,
            server_name: crate::DEFAULT_SERVER_NAME.into(),
            timeout: Duration::from_secs(5),
        }
    }
}

/// One connection. Cloning is cheap and shares the connection (closing
/// one clone closes it for all).
#[derive(Clone)]
pub struct Client {
    endpoint: quinn::Endpoint,
    conn: quinn::Connection,
    name: String,
    timeout: Duration,
}

/// Resolves `host:port` (a bare host gets the default port).
pub async fn resolve(endpoint: &str) -> Result<SocketAddr, ClientError> {
    let bad = |reason: String| ClientError::Endpoint {
        endpoint: endpoint.into(),
        reason,
    };
    let with_port = if endpoint.parse::<SocketAddr>().is_ok()
        || endpoint
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.ends_with(':') && p.parse::<u16>().is_ok() && !h.is_empty())
    {
        endpoint.to_string()
    } else {
        format!("{endpoint}:{}", crate::DEFAULT_PORT)
    };
    let mut addrs = tokio::net::lookup_host(&with_port)
        .await
        .map_err(|e| bad(e.to_string()))?;
    addrs
        .next()
        .ok_or_else(|| bad("resolves to no address".into()))
}

/// A failed request, and whether any of it may have reached the server
/// (`sent: false` proves it did not: retrying it elsewhere is always safe).
#[derive(Debug)]
pub struct RequestFailure {
    pub error: ClientError,
    pub sent: bool,
}

impl Client {
    pub async fn connect(opts: &ConnectOptions) -> Result<Client, ClientError> {
        let config = tls::client_config(&opts.ca_pem)?;
        Self::connect_with(opts, config).await
    }

    /// As [`Client::connect`], with a ready client configuration (TLS from
    /// [`tls::client_config`], maybe a tuned transport); `opts.ca_pem` is
    /// not used.
    pub async fn connect_with(
        opts: &ConnectOptions,
        config: quinn::ClientConfig,
    ) -> Result<Client, ClientError> {
        let addr = resolve(&opts.endpoint).await?;
        let bind: SocketAddr = if addr.is_ipv6() {
            "[::]:0".parse().expect("addr")
        } else {
            "0.0.0.0:0".parse().expect("addr")
        };
        let connect_err = |reason: String| ClientError::Connect {
            endpoint: opts.endpoint.clone(),
            reason,
        };
        let mut endpoint = quinn::Endpoint::client(bind).map_err(|e| connect_err(e.to_string()))?;
        endpoint.set_default_client_config(config);
        let connecting = endpoint
            .connect(addr, &opts.server_name)
            .map_err(|e| connect_err(e.to_string()))?;
        let conn = match tokio::time::timeout(opts.timeout, connecting).await {
            Err(_) => {
                return Err(ClientError::Timeout {
                    endpoint: opts.endpoint.clone(),
                    timeout: opts.timeout,
                });
            }
            Ok(Err(e)) => return Err(connect_err(e.to_string())),
            Ok(Ok(c)) => c,
        };
        Ok(Client {
            endpoint,
            conn,
            name: opts.endpoint.clone(),
            timeout: opts.timeout,
        })
    }

    pub fn remote(&self) -> SocketAddr {
        self.conn.remote_address()
    }

    /// Whether the connection is over (closed by either side, or timed
    /// out): nothing sent on it now would arrive.
    pub fn is_closed(&self) -> bool {
        self.conn.close_reason().is_some()
    }

    /// The endpoint string this client was created with.
    pub fn endpoint_name(&self) -> &str {
        &self.name
    }

    fn transport(&self, e: impl std::fmt::Display) -> ClientError {
        ClientError::Transport {
            endpoint: self.name.clone(),
            reason: e.to_string(),
        }
    }

    fn map_io(&self, e: FrameIoError) -> ClientError {
        match e {
            FrameIoError::Stream(reason) => self.transport(reason),
            other => ClientError::Protocol {
                endpoint: self.name.clone(),
                reason: other.to_string(),
            },
        }
    }

    fn going_away(&self) -> Option<ClientError> {
        match self.conn.close_reason()? {
            quinn::ConnectionError::ApplicationClosed(c)
                if c.error_code.into_inner() == u64::from(wire::close::GOING_AWAY) =>
            {
                Some(ClientError::GoingAway {
                    endpoint: self.name.clone(),
                    reason: String::from_utf8_lossy(&c.reason).into_owned(),
                    alternatives: Vec::new(),
                })
            }
            _ => None,
        }
    }

    /// Opens a stream and writes `req`; `sent` turns true once any of it
    /// may have left.
    async fn open(
        &self,
        req: &Request,
        sent: &AtomicBool,
    ) -> Result<(quinn::SendStream, quinn::RecvStream), ClientError> {
        let (mut send, recv) = self
            .conn
            .open_bi()
            .await
            .map_err(|e| self.going_away().unwrap_or_else(|| self.transport(e)))?;
        sent.store(true, Ordering::Relaxed);
        write_doc(&mut send, req, MAX_FRAME_LEN)
            .await
            .map_err(|e| self.map_io(e))?;
        Ok((send, recv))
    }

    async fn read_server_frame(
        &self,
        recv: &mut quinn::RecvStream,
    ) -> Result<Option<ServerFrame>, ClientError> {
        let payload = read_frame(recv, MAX_FRAME_LEN)
            .await
            .map_err(|e| self.going_away().unwrap_or_else(|| self.map_io(e)))?;
        match payload {
            None => Ok(None),
            Some(p) => wire::decode_server_frame(&p)
                .map(Some)
                .map_err(|e| ClientError::Protocol {
                    endpoint: self.name.clone(),
                    reason: e.to_string(),
                }),
        }
    }

    /// Sends a raw request and returns the `ok` body.
    pub async fn request(&self, req: &Request) -> Result<serde_json::Value, ClientError> {
        self.request_detailed(req).await.map_err(|f| f.error)
    }

    /// As [`Client::request`], telling on failure whether the request may
    /// have reached the server.
    pub async fn request_detailed(
        &self,
        req: &Request,
    ) -> Result<serde_json::Value, RequestFailure> {
        let sent = AtomicBool::new(false);
        let work = async {
            let (mut send, mut recv) = self.open(req, &sent).await?;
            let _ = send.finish();
            loop {
                match self.read_server_frame(&mut recv).await? {
                    Some(ServerFrame::Ok { body, .. }) => return Ok(body),
                    Some(ServerFrame::Error { error, .. }) => {
                        return Err(ClientError::Server(error));
                    }
                    Some(ServerFrame::Goaway {
                        reason,
                        alternatives,
                    }) => {
                        return Err(ClientError::GoingAway {
                            endpoint: self.name.clone(),
                            reason,
                            alternatives,
                        });
                    }
                    Some(ServerFrame::Unknown) => continue,
                    Some(other) => {
                        return Err(ClientError::Protocol {
                            endpoint: self.name.clone(),
                            reason: format!("unexpected frame in a response: {other:?}"),
                        });
                    }
                    None => {
                        return Err(ClientError::Protocol {
                            endpoint: self.name.clone(),
                            reason: "stream ended without a response".into(),
                        });
                    }
                }
            }
        };
        let result = tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Timeout {
                    endpoint: self.name.clone(),
                    timeout: self.timeout,
                })
            });
        result.map_err(|error| RequestFailure {
            error,
            sent: sent.load(Ordering::Relaxed),
        })
    }

    /// Sends a typed request and decodes the typed response.
    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        ty: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<R, ClientError> {
        let mut req = Request::new(ty, body).map_err(|e| ClientError::Protocol {
            endpoint: self.name.clone(),
            reason: e.to_string(),
        })?;
        req.token = token.map(str::to_string);
        let value = self.request(&req).await?;
        serde_json::from_value(value).map_err(|e| ClientError::Protocol {
            endpoint: self.name.clone(),
            reason: format!("unexpected {ty} response: {e}"),
        })
    }

    /// Opens a subscription. Its first frame says where it starts.
    pub async fn subscribe(
        &self,
        sub: &SubscribeRequest,
        token: Option<&str>,
    ) -> Result<Subscription<'_>, ClientError> {
        self.subscribe_inner(sub, token, Cow::Borrowed(self)).await
    }

    /// As [`Client::subscribe`], holding its own handle on the connection
    /// (no borrow of `self`).
    pub async fn subscribe_owned(
        &self,
        sub: &SubscribeRequest,
        token: Option<&str>,
    ) -> Result<Subscription<'static>, ClientError> {
        self.subscribe_inner(sub, token, Cow::Owned(self.clone()))
            .await
    }

    async fn subscribe_inner<'c>(
        &self,
        sub: &SubscribeRequest,
        token: Option<&str>,
        client: Cow<'c, Client>,
    ) -> Result<Subscription<'c>, ClientError> {
        let mut req =
            Request::new(messages::types::SUBSCRIBE, sub).map_err(|e| ClientError::Protocol {
                endpoint: self.name.clone(),
                reason: e.to_string(),
            })?;
        req.token = token.map(str::to_string);
        let sent = AtomicBool::new(false);
        let (send, mut recv) = tokio::time::timeout(self.timeout, self.open(&req, &sent))
            .await
            .map_err(|_| ClientError::Timeout {
                endpoint: self.name.clone(),
                timeout: self.timeout,
            })??;
        let first = tokio::time::timeout(self.timeout, self.read_server_frame(&mut recv))
            .await
            .map_err(|_| ClientError::Timeout {
                endpoint: self.name.clone(),
                timeout: self.timeout,
            })??;
        let start = match first {
            Some(ServerFrame::Ok { body, .. }) => serde_json::from_value::<SubscribeResponse>(body)
                .map_err(|e| ClientError::Protocol {
                    endpoint: self.name.clone(),
                    reason: e.to_string(),
                })?,
            Some(ServerFrame::Error { error, .. }) => return Err(ClientError::Server(error)),
            other => {
                return Err(ClientError::Protocol {
                    endpoint: self.name.clone(),
                    reason: format!("unexpected first subscription frame: {other:?}"),
                });
            }
        };
        Ok(Subscription {
            client,
            _send: send,
            recv,
            start_revision: start.start_revision,
        })
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        self.conn.close(wire::close::DONE.into(), b"bye");
        self.endpoint.wait_idle().await;
    }
}

/// What a subscription delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionItem {
    Events { revision: u64, events: Vec<Event> },
    Progress { revision: u64 },
}

pub struct Subscription<'c> {
    client: Cow<'c, Client>,
    _send: quinn::SendStream,
    recv: quinn::RecvStream,
    pub start_revision: u64,
}

impl Subscription<'_> {
    /// The endpoint the subscription runs on.
    pub fn endpoint_name(&self) -> &str {
        &self.client.name
    }

    /// The next item, `Ok(None)` when the server ended the stream.
    pub async fn next(&mut self) -> Result<Option<SubscriptionItem>, ClientError> {
        loop {
            match self.client.read_server_frame(&mut self.recv).await? {
                None => return Ok(None),
                Some(ServerFrame::Event { revision, events }) => {
                    return Ok(Some(SubscriptionItem::Events { revision, events }));
                }
                Some(ServerFrame::Progress { revision }) => {
                    return Ok(Some(SubscriptionItem::Progress { revision }));
                }
                Some(ServerFrame::Error { error, .. }) => return Err(ClientError::Server(error)),
                Some(ServerFrame::Goaway {
                    reason,
                    alternatives,
                }) => {
                    return Err(ClientError::GoingAway {
                        endpoint: self.client.name.clone(),
                        reason,
                        alternatives,
                    });
                }
                Some(ServerFrame::Unknown) => continue,
                Some(ServerFrame::Ok { .. }) => {
                    return Err(ClientError::Protocol {
                        endpoint: self.client.name.clone(),
                        reason: "unexpected ok frame inside a subscription".into(),
                    });
                }
            }
        }
    }
}

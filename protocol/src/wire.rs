//! The JSON documents carried in frames, and the stable error codes.
//!
//! Every document is a JSON object. Receivers ignore fields they do not know,
//! so a newer peer may add fields without breaking an older one (rolling
//! upgrades). A request's `type` is kept as a string here and resolved by the
//! receiver, so that an unknown type is answered with the `unsupported` error
//! code instead of a parse failure.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A client's request: the first (and only) frame the client sends on a
/// bidirectional stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Message type, e.g. `"health"`. See [`crate::messages`].
    #[serde(rename = "type")]
    pub ty: String,
    /// Optional client-chosen id, echoed in the response and in server logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Optional bearer access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The type-specific body; `{}` when the type has no parameters.
    #[serde(default = "empty_object")]
    pub body: serde_json::Value,
    /// Set by a node that forwards the request to another node (one that
    /// runs the role the request needs); clients leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// With `via`: the address of the client the forwarding node serves
    /// (for login throttling), vouched for by `peer_mac`, a MAC only nodes
    /// of the cluster can make; clients leave both out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_mac: Option<String>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

impl Request {
    pub fn new(ty: impl Into<String>, body: impl Serialize) -> Result<Self, WireError> {
        Ok(Request {
            ty: ty.into(),
            id: None,
            token: None,
            body: serde_json::to_value(body).map_err(|e| WireError::Encode(e.to_string()))?,
            via: None,
            peer: None,
            peer_mac: None,
        })
    }

    /// Decodes the body as the typed message `T`. A body that is not a
    /// JSON object is refused whatever `T` is (serde would otherwise read a
    /// struct from an array).
    pub fn body_as<T: DeserializeOwned>(&self) -> Result<T, WireError> {
        if !self.body.is_object() {
            return Err(WireError::Body {
                ty: self.ty.clone(),
                reason: NOT_AN_OBJECT.into(),
            });
        }
        serde_json::from_value(self.body.clone()).map_err(|e| WireError::Body {
            ty: self.ty.clone(),
            reason: e.to_string(),
        })
    }
}

/// Every frame the server sends, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The request succeeded; `body` is the type's response.
    Ok {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default = "empty_object")]
        body: serde_json::Value,
    },
    /// The request failed, or a subscription ended with an error.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        error: ErrorBody,
    },
    /// One store revision's worth of events on a subscription.
    Event {
        revision: u64,
        events: Vec<crate::messages::Event>,
    },
    /// Nothing new up to `revision`: lets an idle subscriber advance its
    /// resume point and know the stream is alive.
    Progress { revision: u64 },
    /// The server is shutting down or draining: move to another node.
    Goaway {
        reason: String,
        #[serde(default)]
        alternatives: Vec<String>,
    },
    /// A kind this client does not know (sent by a newer server): ignore it.
    #[serde(other)]
    Unknown,
}

impl ServerFrame {
    pub fn ok(id: Option<String>, body: impl Serialize) -> Result<Self, WireError> {
        Ok(ServerFrame::Ok {
            id,
            body: serde_json::to_value(body).map_err(|e| WireError::Encode(e.to_string()))?,
        })
    }

    pub fn error(id: Option<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            id,
            error: ErrorBody::new(code, message),
        }
    }
}

/// A machine-readable error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
#[error("{message} ({code})")]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// One line for humans, naming what was refused and why.
    pub message: String,
    /// The order the error is about, when the request made or found one
    /// (`payment_declined`: the placement's order, which exists as
    /// `payment_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// With `unavailable`: how long to wait before asking again (a busy
    /// node, a throttled login), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
            order: None,
            retry_after_ms: None,
        }
    }
}

/// Stable error codes. New codes may be added; a client maps a code it does
/// not know to [`ErrorCode::Unknown`] and treats it as a generic failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not a valid request document (bad JSON, missing `type`).
    ProtocolError,
    /// The frame's length prefix exceeds the limit.
    TooLarge,
    /// The request `type` is not known to this server.
    Unsupported,
    /// The body does not fit the request type, or a value is invalid.
    BadRequest,
    /// No token, or a bad, tampered or expired one.
    Unauthenticated,
    /// Authenticated, but the role does not allow this.
    Forbidden,
    NotFound,
    /// A guarded change lost a race or the state does not allow it.
    Conflict,
    /// The subscription's resume revision was compacted away.
    Compacted,
    /// The store or a needed node is unavailable; safe to retry later.
    Unavailable,
    PaymentDeclined,
    Internal,
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code the protocol defines (not [`ErrorCode::Unknown`], which
    /// only stands for a code this version does not know).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::ProtocolError,
        ErrorCode::TooLarge,
        ErrorCode::Unsupported,
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Compacted,
        ErrorCode::Unavailable,
        ErrorCode::PaymentDeclined,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ProtocolError => "protocol_error",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Compacted => "compacted",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::PaymentDeclined => "payment_declined",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// QUIC application close codes (connection level).
pub mod close {
    /// Normal close.
    pub const DONE: u32 = 0;
    /// The peer broke the protocol badly enough to end the connection.
    pub const PROTOCOL: u32 = 1;
    /// The server is shutting down or draining; reconnect elsewhere.
    pub const GOING_AWAY: u32 = 2;
}

/// QUIC stream reset / stop-sending codes (stream level).
pub mod stream_code {
    /// The stream carried something that is not a valid frame.
    pub const PROTOCOL: u32 = 1;
    /// A frame's length prefix exceeded the limit.
    pub const TOO_LARGE: u32 = 2;
    /// The sender gave up (timeout, shutdown).
    pub const CANCELLED: u32 = 3;
}

/// Encoding/decoding failures of documents.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("not a valid document: {0}")]
    Malformed(String),
    #[error("bad body for request type {ty:?}: {reason}")]
    Body { ty: String, reason: String },
    #[error("cannot encode: {0}")]
    Encode(String),
}

/// The reason given for a body that is not a JSON object.
pub const NOT_AN_OBJECT: &str = "the body must be a JSON object";

/// Parses a request document. The payload must be a JSON object whose
/// `type` is a string and whose `id` and `token`, when present (and not
/// `null`), are strings: anything else is [`WireError::Malformed`]
/// (`protocol_error`). A `null` body counts as absent (`{}`); a body of
/// another type is kept, for the receiver to refuse as `bad_request`
/// ([`Request::body_as`]).
pub fn decode_request(payload: &[u8]) -> Result<Request, WireError> {
    // serde reads a struct from an array too (`["health","id"]`): only an
    // object is a request. The typed fields refuse non-strings themselves.
    if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(WireError::Malformed(
            "a request must be a JSON object".into(),
        ));
    }
    let mut r: Request =
        serde_json::from_slice(payload).map_err(|e| WireError::Malformed(e.to_string()))?;
    if r.body.is_null() {
        r.body = empty_object();
    }
    Ok(r)
}

/// Parses a server frame document.
pub fn decode_server_frame(payload: &[u8]) -> Result<ServerFrame, WireError> {
    serde_json::from_slice(payload).map_err(|e| WireError::Malformed(e.to_string()))
}

/// Serialises any document to its payload bytes.
pub fn encode_doc(doc: &impl Serialize) -> Result<Vec<u8>, WireError> {
    serde_json::to_vec(doc).map_err(|e| WireError::Encode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unknown_fields_are_ignored() {
        let r = decode_request(br#"{"type":"health","body":{},"future_field":[1,2]}"#).unwrap();
        assert_eq!(r.ty, "health");
        let f = decode_server_frame(br#"{"kind":"progress","revision":7,"extra":true}"#).unwrap();
        assert_eq!(f, ServerFrame::Progress { revision: 7 });
    }

    #[test]
    fn unknown_kinds_and_codes_degrade_gracefully() {
        assert_eq!(
            decode_server_frame(br#"{"kind":"hologram","x":1}"#).unwrap(),
            ServerFrame::Unknown
        );
        let f =
            decode_server_frame(br#"{"kind":"error","error":{"code":"quantum","message":"m"}}"#)
                .unwrap();
        match f {
            ServerFrame::Error { error, .. } => assert_eq!(error.code, ErrorCode::Unknown),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_type_is_malformed_and_body_defaults_to_empty() {
        assert!(matches!(
            decode_request(br#"{"body":{}}"#),
            Err(WireError::Malformed(_))
        ));
        let r = decode_request(br#"{"type":"health"}"#).unwrap();
        assert_eq!(r.body, serde_json::json!({}));
    }

    #[test]
    fn only_objects_with_string_fields_are_requests() {
        for bad in [
            &br#"["health","id"]"#[..],
            br#""health""#,
            br#"{"type":["health"]}"#,
            br#"{"type":7}"#,
            br#"{"type":"health","id":7}"#,
            br#"{"type":"health","token":{"a":1}}"#,
            br#"{"type":"health","via":[]}"#,
        ] {
            assert!(
                matches!(decode_request(bad), Err(WireError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let r = decode_request(br#"{"type":"health","id":null,"body":null}"#).unwrap();
        assert_eq!((r.id, r.body), (None, serde_json::json!({})));
        // A body that is not an object is the receiver's bad request.
        let r = decode_request(br#"{"type":"restaurant.show","body":["trattoria"]}"#).unwrap();
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Show {
            restaurant: String,
        }
        match r.body_as::<Show>() {
            Err(WireError::Body { reason, .. }) => assert_eq!(reason, NOT_AN_OBJECT),
            other => panic!("{other:?}"),
        }
        assert!(r.body_as::<serde_json::Value>().is_err());
    }

    #[test]
    fn error_codes_serialise_as_documented() {
        for code in ErrorCode::ALL {
            let s = serde_json::to_string(&code).unwrap();
            assert_eq!(s, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&s).unwrap(), code);
        }
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_request(&bytes);
            let _ = decode_server_frame(&bytes);
        }

        #[test]
        fn requests_round_trip(ty in "[a-z_]{1,20}", id in proptest::option::of("[a-z0-9-]{0,12}"), n in any::<i64>()) {
            let mut r = Request::new(ty, serde_json::json!({"n": n})).unwrap();
            r.id = id;
            let back = decode_request(&encode_doc(&r).unwrap()).unwrap();
            prop_assert_eq!(back, r);
        }
    }
}

//! What every request handler speaks: typed API errors ([`ApiError`], a
//! stable wire code and a one-line message), the authenticated caller
//! ([`Principal`]), and the JSON documents stored and sent ([`to_doc`],
//! [`from_doc`], [`call`]).
//!
//! Low in the daemon: it knows the store's error type (to map it once,
//! [`From<StoreError>`]) and the wire's error codes, nothing else.

use protocol::wire::{ErrorCode, Request};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::store::StoreError;

/// Who is calling, once their access token checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    /// Operators run cluster commands and may create restaurants.
    pub operator: bool,
    /// A service account (client_credentials grant) rather than a person.
    pub service: bool,
}

/// An error to send to the client: a stable code and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} ({code})")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The order the error is about, if the caller should know it (see
    /// `protocol::wire::ErrorBody::order`).
    pub order: Option<String>,
    /// How long the client should wait before asking again (see
    /// `protocol::wire::ErrorBody::retry_after_ms`).
    pub retry_after_ms: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            order: None,
            retry_after_ms: None,
        }
    }

    /// The same error, telling the client to wait `ms` before retrying.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// The same error, about `order`.
    pub fn about_order(mut self, order: impl Into<String>) -> Self {
        self.order = Some(order.into());
        self
    }

    /// The error frame answering request `id`.
    pub fn frame(self, id: Option<String>) -> protocol::wire::ServerFrame {
        protocol::wire::ServerFrame::Error {
            id,
            error: protocol::wire::ErrorBody {
                code: self.code,
                message: self.message,
                order: self.order,
                retry_after_ms: self.retry_after_ms,
            },
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, m)
    }
    pub fn unauthenticated(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, m)
    }
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, m)
    }
    pub fn payment_declined(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::PaymentDeclined, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, m)
    }
}

/// The one mapping of store failures to wire errors.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            e @ StoreError::Unavailable(_) => ApiError::unavailable(e.to_string()),
            e @ StoreError::Compacted { .. } => ApiError::new(ErrorCode::Compacted, e.to_string()),
            e => ApiError::internal(e.to_string()),
        }
    }
}

/// Decodes the request body as `B`, runs `f`, and encodes its answer.
pub async fn call<B, R, F, Fut>(req: &Request, f: F) -> ApiResult<serde_json::Value>
where
    B: DeserializeOwned,
    R: Serialize,
    F: FnOnce(B) -> Fut,
    Fut: std::future::Future<Output = ApiResult<R>>,
{
    let body: B = req
        .body_as()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let out = f(body).await?;
    serde_json::to_value(out).map_err(|e| ApiError::internal(e.to_string()))
}

/// Serialises a stored document.
pub fn to_doc<T: Serialize>(v: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| ApiError::internal(e.to_string()))
}

/// Parses a stored document, naming the key when it is damaged.
pub fn from_doc<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::internal(format!("damaged record {key}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_wire_codes_once() {
        let e: ApiError = StoreError::Unavailable("etcd has no leader".into()).into();
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert_eq!(e.message, "store unavailable: etcd has no leader");
        let e: ApiError = StoreError::Compacted {
            requested: 3,
            compact_revision: 9,
        }
        .into();
        assert_eq!(e.code, ErrorCode::Compacted);
        let e: ApiError = StoreError::LeaseNotFound(7).into();
        assert_eq!(e.code, ErrorCode::Internal);
    }
}

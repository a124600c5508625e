//! Request routing and the pieces every request handler shares: the
//! request context ([`Ctx`]), typed API errors ([`ApiError`]) and the
//! authenticated caller ([`Principal`]).
//!
//! Each domain module (`auth`, `catalog`, `orders`) exposes
//! `route(ctx, req) -> Option<ApiResult<Value>>`, returning `None` for
//! request types it does not own; [`route`] asks each in turn.

pub mod forward;

use protocol::wire::{ErrorCode, Request};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::server::NodeState;
use crate::store::StoreError;

/// A request being served.
pub struct Ctx<'a> {
    pub state: &'a NodeState,
    pub token: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

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

impl Ctx<'_> {
    /// The caller, or `unauthenticated` when there is no valid token.
    pub async fn principal(&self) -> ApiResult<Principal> {
        let token = self.token.ok_or_else(|| {
            ApiError::unauthenticated("this request needs a login: run `dfood login`")
        })?;
        crate::auth::authenticate(self.state, token).await
    }

    /// The verified claims of the caller's token, before the account is
    /// read: pair with [`crate::auth::principal_for`] before acting.
    pub async fn claims(&self) -> ApiResult<crate::auth::keys::Claims> {
        let token = self.token.ok_or_else(|| {
            ApiError::unauthenticated("this request needs a login: run `dfood login`")
        })?;
        crate::auth::verify_token(self.state, token).await
    }

    /// The caller if a token was sent, `None` for anonymous requests.
    pub async fn optional_principal(&self) -> ApiResult<Option<Principal>> {
        match self.token {
            None => Ok(None),
            Some(_) => self.principal().await.map(Some),
        }
    }

    pub async fn require_operator(&self) -> ApiResult<Principal> {
        let p = self.principal().await?;
        if !p.operator {
            return Err(ApiError::forbidden("only operators may do this"));
        }
        Ok(p)
    }
}

/// An error to send to the client: a stable code and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} ({code})")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
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

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::unavailable(format!("store unavailable: {m}")),
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

/// Routes a one-shot request to the domain that owns its type (on another
/// node if this one lacks the role, see [`forward`]).
pub async fn route(ctx: &Ctx<'_>, req: &Request) -> ApiResult<serde_json::Value> {
    if let Some(r) = forward::maybe_forward(ctx.state, req).await {
        return r;
    }
    if let Some(r) = crate::auth::route(ctx, req).await {
        return r;
    }
    if let Some(r) = crate::catalog::route(ctx, req).await {
        return r;
    }
    if let Some(r) = crate::orders::route(ctx, req).await {
        return r;
    }
    if let Some(r) = crate::cluster::route(ctx, req).await {
        return r;
    }
    Err(ApiError::new(
        ErrorCode::Unsupported,
        format!("unknown message type {:?}", req.ty),
    ))
}

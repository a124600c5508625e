//! Payment gateways behind one trait.
//!
//! [`Gateway`] is what the order/payment state machine calls: authorise
//! (hold) an amount, capture it, void an uncaptured hold, refund a captured
//! payment, and find the payment an authorisation created from its
//! idempotency key. Two implementations:
//!
//! - [`sandbox::SandboxGateway`] (`gateway = "sandbox"`, the default): built
//!   in, deterministic, durable in the [`Store`](crate::store::Store), with
//!   documented test payment methods (`pm_card_visa`, `pm_card_declined`,
//!   `pm_card_timeout`, ...; see the module and `protocol/README.md`).
//! - [`http::HttpGateway`] (`gateway = "http"`): a Stripe-style REST API over
//!   reqwest with `Idempotency-Key` headers, bounded timeouts and retries.
//!
//! # Idempotency contract (both gateways)
//!
//! Every call that changes money carries an idempotency key. Repeating a call
//! with the same key and the same parameters never repeats its effect: it
//! returns the result the first call produced (the payment as it was right
//! after that call, like Stripe's replayed responses). Reusing a key for a
//! different operation or different parameters is [`GatewayError::Rejected`].
//! [`Gateway::find_by_idempotency_key`] returns the payment's *current* state.
//!
//! # What to do with each error
//!
//! - [`GatewayError::Declined`]: the card was refused; final.
//! - [`GatewayError::Rejected`]: our request was wrong (unknown payment,
//!   capture of a canceled payment, refund above the captured amount, key
//!   reused with other parameters); final, do not retry.
//! - [`GatewayError::Unavailable`]: the gateway was never reached; nothing
//!   happened; safe to retry (with the same key anyway).
//! - [`GatewayError::InDoubt`]: the request may or may not have taken effect.
//!   Retry with the *same* key, or for an authorisation resolve it with
//!   [`Gateway::find_by_idempotency_key`]; never call again with a new key to
//!   find out.
//!
//! Card numbers never reach this layer: only payment-method tokens and the
//! last four digits the gateway reports.

pub mod http;
pub mod sandbox;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::{GatewayKind, PaymentsConfig};
use crate::store::{Compare, Store, TxnOp};

#[async_trait::async_trait]
pub trait Gateway: Send + Sync + 'static {
    /// `"sandbox"` or `"http"`.
    fn name(&self) -> &'static str;
    /// Authorises (holds) the amount. Same idempotency_key => same payment,
    /// never a second hold.
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<GatewayPayment, GatewayError>;
    /// Captures the whole authorised amount.
    async fn capture(
        &self,
        payment_id: &str,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError>;
    /// Cancels an uncaptured authorisation.
    async fn void(
        &self,
        payment_id: &str,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError>;
    /// Refunds a captured payment (amount in minor units).
    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError>;
    /// For a gateway that keeps its records in the node's own store (the
    /// sandbox): the authorisation as compares and ops to commit in the
    /// caller's transaction, with the answer that holds once it commits. The
    /// order is then written with its payment in one transaction, and there
    /// is no gateway call (nor a second transaction) to make after it.
    /// `None` (the default; any external gateway): call
    /// [`authorize`](Gateway::authorize) after the order is written.
    fn authorize_in_txn(&self, _req: &AuthorizeRequest) -> Option<TxnAuthorization> {
        None
    }
    /// Finds the payment an authorize call with this idempotency key created,
    /// if any (in-doubt resolution: never charge again to find out).
    async fn find_by_idempotency_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<GatewayPayment>, GatewayError>;
    /// Drops what this node's store keeps of a finished order's payment
    /// (the idempotency keys `<order>:<step>` and the payment `payment_id`),
    /// once the order left for the archive. Nothing for an external gateway
    /// (the default): its records are its own.
    async fn forget(&self, _order_id: &str, _payment_id: Option<&str>) -> Result<(), GatewayError> {
        Ok(())
    }
}

/// The steps whose idempotency keys (`<order>:<step>`) an order's payment
/// uses (see `orders::pay`).
pub const STEPS: [&str; 5] = ["authorize", "capture", "void", "refund", "void-orphan"];

/// An authorisation expressed as store operations, see
/// [`Gateway::authorize_in_txn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnAuthorization {
    /// To add to the caller's transaction's compares...
    pub compares: Vec<Compare>,
    /// ... and to its operations.
    pub ops: Vec<TxnOp>,
    /// The gateway's answer, true once (and only if) the transaction
    /// commits: the payment, or a final refusal (`Declined`/`Rejected`).
    pub outcome: Result<GatewayPayment, GatewayError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    /// Minor units (cents), > 0.
    pub amount: i64,
    /// ISO 4217, e.g. `"eur"` (compared case-insensitively, sent lowercase).
    pub currency: String,
    /// A payment-method token (`pm_...`), never a card number.
    pub payment_method: String,
    pub idempotency_key: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayPayment {
    pub id: String,
    pub status: GatewayStatus,
    pub amount: i64,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub last4: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayStatus {
    /// Authorised (held), not captured yet.
    RequiresCapture,
    /// Captured; refunds are reflected in `amount_refunded`.
    Succeeded,
    /// The authorisation was voided.
    Canceled,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GatewayError {
    /// card_declined, insufficient_funds...: final, do not retry.
    #[error("payment declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// Timeout / 5xx after retries: the outcome is unknown; resolve with
    /// `find_by_idempotency_key` or retry with the SAME key.
    #[error("payment gateway outcome unknown: {0}")]
    InDoubt(String),
    /// Other 4xx: our request was wrong (e.g. capture of a canceled payment); final.
    #[error("payment gateway rejected the request: {0}")]
    Rejected(String),
    /// Could not reach the gateway at all (connect refused): nothing
    /// happened, safe to retry.
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
}

impl GatewayError {
    /// Whether calling again with the same idempotency key may succeed
    /// (`InDoubt`, `Unavailable`); `Declined` and `Rejected` are final.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            GatewayError::InDoubt(_) | GatewayError::Unavailable(_)
        )
    }
}

/// Setting a gateway up failed (bad config that validation cannot see, such
/// as an unreadable API key file).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetupError {
    #[error("cannot read payments.http_api_key_file {path}: {reason}")]
    ApiKeyFile { path: String, reason: String },
    #[error("payments.http_api_key_file {0} is empty")]
    EmptyApiKey(String),
    #[error("cannot build the HTTP client for the payment gateway: {0}")]
    Client(String),
}

/// Checks what both gateways require of an authorisation before anything is
/// sent or stored. Never echoes something that looks like a card number.
pub(crate) fn validate_authorize(req: &AuthorizeRequest) -> Result<(), GatewayError> {
    validate_key(&req.idempotency_key)?;
    if req.amount <= 0 {
        return Err(GatewayError::Rejected(format!(
            "amount must be positive (minor units), got {}",
            req.amount
        )));
    }
    if req.currency.len() != 3 || !req.currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(GatewayError::Rejected(format!(
            "currency {:?} is not a three-letter ISO 4217 code",
            req.currency
        )));
    }
    if looks_like_card_number(&req.payment_method) {
        return Err(GatewayError::Rejected(
            "payment_method looks like a card number; pass a payment-method token (pm_...), never a card number".into(),
        ));
    }
    if req.payment_method.is_empty()
        || req.payment_method.len() > 255
        || !req.payment_method.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(GatewayError::Rejected(
            "payment_method must be a token of 1-255 visible ASCII characters".into(),
        ));
    }
    if looks_like_card_number(&req.description) {
        return Err(GatewayError::Rejected(
            "description looks like it contains a card number".into(),
        ));
    }
    Ok(())
}

/// Idempotency keys: 1-255 visible ASCII characters (Stripe's limit).
pub(crate) fn validate_key(key: &str) -> Result<(), GatewayError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(GatewayError::Rejected(format!(
            "idempotency key {key:?} must be 1-255 visible ASCII characters"
        )));
    }
    Ok(())
}

/// Something that looks like a card number (12-19 digits, separators
/// ignored, valid Luhn sum; see `protocol::text::card_number_in`): a PAN
/// must never be stored, logged or forwarded.
pub(crate) fn looks_like_card_number(s: &str) -> bool {
    protocol::text::card_number_in(s, true)
}

/// Not cryptographic: unique-enough ids and retry jitter.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Builds the gateway the `[payments]` section names. The sandbox keeps its
/// payments in `store`; the HTTP gateway does not use it.
pub fn from_config(
    cfg: &PaymentsConfig,
    store: Arc<dyn Store>,
) -> Result<Arc<dyn Gateway>, SetupError> {
    match cfg.gateway {
        GatewayKind::Sandbox => Ok(Arc::new(sandbox::SandboxGateway::new(store))),
        GatewayKind::Http => Ok(Arc::new(http::HttpGateway::from_config(cfg)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_shapes() {
        let p = GatewayPayment {
            id: "pi_1".into(),
            status: GatewayStatus::RequiresCapture,
            amount: 1250,
            amount_captured: 0,
            amount_refunded: 0,
            currency: "eur".into(),
            last4: Some("4242".into()),
        };
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["status"], "requires_capture");
        assert_eq!(serde_json::from_value::<GatewayPayment>(j).unwrap(), p);
    }

    #[test]
    fn retryable_errors() {
        assert!(GatewayError::InDoubt("x".into()).is_retryable());
        assert!(GatewayError::Unavailable("x".into()).is_retryable());
        assert!(!GatewayError::Rejected("x".into()).is_retryable());
        assert!(
            !GatewayError::Declined {
                code: "card_declined".into(),
                message: "x".into()
            }
            .is_retryable()
        );
    }

    #[test]
    fn card_numbers_are_refused() {
        assert!(looks_like_card_number("4242424242424242"));
        assert!(looks_like_card_number("card 4242 4242 4242 4242 x"));
        assert!(looks_like_card_number("5555-5555-5555-4444"));
        assert!(looks_like_card_number("4111.1111.1111.1111"));
        assert!(!looks_like_card_number("pm_card_visa"));
        assert!(!looks_like_card_number("order 123456789012"));
        let req = AuthorizeRequest {
            amount: 100,
            currency: "eur".into(),
            payment_method: "4242424242424242".into(),
            idempotency_key: "k".into(),
            description: String::new(),
        };
        let e = validate_authorize(&req).unwrap_err().to_string();
        assert!(!e.contains("4242"), "{e}");
        assert!(matches!(
            validate_authorize(&AuthorizeRequest {
                idempotency_key: "has space".into(),
                payment_method: "pm_card_visa".into(),
                ..req.clone()
            }),
            Err(GatewayError::Rejected(_))
        ));
        assert!(matches!(
            validate_authorize(&AuthorizeRequest {
                amount: 0,
                payment_method: "pm_card_visa".into(),
                ..req.clone()
            }),
            Err(GatewayError::Rejected(_))
        ));
        assert!(matches!(
            validate_authorize(&AuthorizeRequest {
                currency: "euro".into(),
                payment_method: "pm_card_visa".into(),
                ..req
            }),
            Err(GatewayError::Rejected(_))
        ));
    }

    #[tokio::test]
    async fn from_config_builds_both() {
        let (dir, store) = crate::store::testing::temp_store();
        let g = from_config(&PaymentsConfig::default(), store.clone()).unwrap();
        assert_eq!(g.name(), "sandbox");
        let http = PaymentsConfig {
            gateway: GatewayKind::Http,
            http_base_url: "https://api.example.com".into(),
            http_api_key: Some(crate::config::ApiKey::Inline("sk_test_x".into())),
            ..PaymentsConfig::default()
        };
        assert_eq!(from_config(&http, store.clone()).unwrap().name(), "http");
        let missing = PaymentsConfig {
            http_api_key: Some(crate::config::ApiKey::File(dir.path().join("nope"))),
            ..http
        };
        let e = from_config(&missing, store).err().unwrap().to_string();
        assert!(e.contains("http_api_key_file"), "{e}");
    }
}

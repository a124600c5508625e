//! The `http` gateway: a Stripe-style REST API over reqwest.
//!
//! # The API it speaks
//!
//! Requests are `application/x-www-form-urlencoded` (as Stripe's), answers
//! JSON; every request carries `Authorization: Bearer <api key>`, and every
//! POST an `Idempotency-Key` header.
//!
//! | call | request | answer |
//! |---|---|---|
//! | authorize | `POST /v1/payment_intents` with `amount`, `currency`, `payment_method`, `capture_method=manual`, `confirm=true`, `description`, `metadata[idempotency_key]`, `expand[]=latest_charge` | PaymentIntent |
//! | capture | `POST /v1/payment_intents/{id}/capture` | PaymentIntent |
//! | void | `POST /v1/payment_intents/{id}/cancel` | PaymentIntent |
//! | refund | `POST /v1/refunds` with `payment_intent`, `amount`, `expand[]=payment_intent` | Refund, its `payment_intent` expanded |
//! | find | `GET /v1/payment_intents?idempotency_key=KEY` | `{"object": "list", "data": [PaymentIntent...]}` |
//!
//! A PaymentIntent is read from `id`, `status` (`requires_capture`,
//! `succeeded`, `canceled`), `amount`, `currency`, `amount_received` (the
//! captured amount), and two fields our own test server adds to Stripe's:
//! `amount_refunded` and `last4` (with Stripe itself they are read from the
//! expanded `latest_charge` when present). The find endpoint is an extension
//! too: against Stripe it maps to a search on `metadata['idempotency_key']`,
//! which every authorisation sets. Errors are Stripe's
//! `{"error": {"type", "code", "decline_code", "message"}}`.
//!
//! # Retries and what errors mean
//!
//! Each attempt is bounded by `timeout` (connect and answer). Timeouts, 5xx,
//! 409 (the same key still in flight), 429 and connection failures are
//! retried up to `max_retries` times with exponential backoff and jitter,
//! always with the same `Idempotency-Key`, so a retry can never create a
//! second payment. When retries run out:
//!
//! - if no attempt can have reached the server (every one failed to
//!   connect, or was refused with 429): [`GatewayError::Unavailable`];
//! - otherwise (a timeout, a 5xx, a dropped connection): the outcome is
//!   unknown, [`GatewayError::InDoubt`].
//!
//! 402 is [`GatewayError::Declined`] with the decline code (Stripe's
//! `decline_code` unless it is `generic_decline`, else `code`, so
//! `card_declined` or `insufficient_funds` as the sandbox says); other 4xx
//! are [`GatewayError::Rejected`].
//!
//! # TLS
//!
//! reqwest is built with `rustls-no-provider`: [`HttpGateway::new`] installs
//! ring as the process's rustls provider (if none is), so aws-lc-rs is never
//! built.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use tracing::{debug, warn};

use super::{
    AuthorizeRequest, Gateway, GatewayError, GatewayPayment, GatewayStatus, SetupError, random_u64,
    validate_authorize, validate_key,
};
use crate::config::{ApiKey, PaymentsConfig};

/// Settings of one [`HttpGateway`].
#[derive(Clone)]
pub struct HttpConfig {
    /// e.g. `https://api.stripe.com` or `http://127.0.0.1:PORT` (no `/v1`).
    pub base_url: String,
    pub api_key: String,
    /// Bound on each attempt.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles per retry, plus up to 50% jitter, capped at 10 s.
    pub retry_backoff: Duration,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .finish()
    }
}

/// See the module documentation.
pub struct HttpGateway {
    client: reqwest::Client,
    cfg: HttpConfig,
}

/// How far one failed attempt may have got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Certainly not processed (connect failed, 429).
    NotSent,
    /// May have been processed (timeout, 5xx, 409, dropped connection).
    Maybe,
}

enum Attempt {
    Done(Value),
    Final(GatewayError),
    Retry(Reach, String),
}

impl HttpGateway {
    pub fn new(cfg: HttpConfig) -> Result<HttpGateway, SetupError> {
        // reqwest is built without a provider of its own (no aws-lc-rs):
        // make ring the process default unless one is installed already.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .user_agent(concat!("dfoodd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SetupError::Client(e.to_string()))?;
        Ok(HttpGateway {
            client,
            cfg: HttpConfig {
                base_url: cfg.base_url.trim_end_matches('/').to_string(),
                ..cfg
            },
        })
    }

    /// From the validated `[payments]` section; reads the API key file.
    pub fn from_config(cfg: &PaymentsConfig) -> Result<HttpGateway, SetupError> {
        let api_key = match &cfg.http_api_key {
            Some(ApiKey::Inline(k)) => k.clone(),
            Some(ApiKey::File(p)) => {
                let k = std::fs::read_to_string(p).map_err(|e| SetupError::ApiKeyFile {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                let k = k.trim().to_string();
                if k.is_empty() {
                    return Err(SetupError::EmptyApiKey(p.display().to_string()));
                }
                k
            }
            None => String::new(),
        };
        HttpGateway::new(HttpConfig {
            base_url: cfg.http_base_url.clone(),
            api_key,
            timeout: cfg.timeout,
            max_retries: cfg.max_retries,
            retry_backoff: cfg.retry_backoff,
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.cfg
    }

    /// One logical call: attempts with retries. `idem` is `Some` for POSTs.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, String)],
        idem: Option<&str>,
    ) -> Result<Value, GatewayError> {
        let url = format!("{}{path}", self.cfg.base_url);
        let mut reach = Reach::NotSent;
        let mut last = String::new();
        for attempt in 0..=self.cfg.max_retries {
            if attempt > 0 {
                tokio::time::sleep(self.backoff(attempt)).await;
            }
            let mut rb = self
                .client
                .request(method.clone(), &url)
                .bearer_auth(&self.cfg.api_key);
            if method == reqwest::Method::GET {
                rb = rb.query(params);
            } else {
                rb = rb.form(params);
            }
            if let Some(k) = idem {
                rb = rb.header("Idempotency-Key", k);
            }
            match self.attempt(rb).await {
                Attempt::Done(v) => return Ok(v),
                Attempt::Final(e) => return Err(e),
                Attempt::Retry(r, why) => {
                    debug!(%url, attempt, %why, "payment gateway attempt failed");
                    if r == Reach::Maybe {
                        reach = Reach::Maybe;
                    }
                    last = why;
                }
            }
        }
        let tries = self.cfg.max_retries + 1;
        warn!(%url, tries, last = %last, "payment gateway: retries exhausted");
        if reach == Reach::NotSent || idem.is_none() {
            Err(GatewayError::Unavailable(format!(
                "{method} {path}: {last} (after {tries} tries)"
            )))
        } else {
            Err(GatewayError::InDoubt(format!(
                "{method} {path}: {last} (after {tries} tries); resolve with the same idempotency key"
            )))
        }
    }

    async fn attempt(&self, rb: reqwest::RequestBuilder) -> Attempt {
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => return transport_error(&e),
        };
        let status = resp.status();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Attempt::Retry(
                    Reach::Maybe,
                    format!("HTTP {status}, reading the answer failed: {e}"),
                );
            }
        };
        if status.is_success() {
            return match serde_json::from_slice::<Value>(&body) {
                Ok(v) => Attempt::Done(v),
                Err(e) => Attempt::Final(GatewayError::InDoubt(format!(
                    "HTTP {status} with an unreadable body: {e}"
                ))),
            };
        }
        let err = ApiError::parse(&body);
        match status {
            StatusCode::PAYMENT_REQUIRED => Attempt::Final(GatewayError::Declined {
                // Stripe: code `card_declined`, decline_code the reason
                // (`insufficient_funds`...); `generic_decline` says nothing more.
                code: err
                    .decline_code
                    .filter(|d| d != "generic_decline")
                    .or(err.code)
                    .unwrap_or_else(|| "card_declined".into()),
                message: err.message.unwrap_or_else(|| "declined".into()),
            }),
            StatusCode::TOO_MANY_REQUESTS => Attempt::Retry(Reach::NotSent, err.describe(status)),
            // Stripe: another request with this key is still being processed.
            StatusCode::CONFLICT => Attempt::Retry(Reach::Maybe, err.describe(status)),
            s if s.is_server_error() => Attempt::Retry(Reach::Maybe, err.describe(status)),
            _ => Attempt::Final(GatewayError::Rejected(err.describe(status))),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .cfg
            .retry_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(Duration::from_secs(10));
        let jitter_ms = match base.as_millis() as u64 / 2 {
            0 => 0,
            half => random_u64() % (half + 1),
        };
        base + Duration::from_millis(jitter_ms)
    }
}

fn transport_error(e: &reqwest::Error) -> Attempt {
    // reqwest's Display hides the cause chain; keep it for the logs.
    let mut why = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        why.push_str(": ");
        why.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_connect() {
        // Nothing was sent: no connection, so no request.
        Attempt::Retry(Reach::NotSent, format!("cannot connect: {why}"))
    } else if e.is_timeout() {
        Attempt::Retry(Reach::Maybe, format!("timed out: {why}"))
    } else if e.is_builder() {
        Attempt::Final(GatewayError::Rejected(format!("bad request: {why}")))
    } else {
        Attempt::Retry(Reach::Maybe, why)
    }
}

#[derive(Debug, Default, Deserialize)]
struct ApiError {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
}

impl ApiError {
    fn parse(body: &[u8]) -> ApiError {
        #[derive(Deserialize)]
        struct Envelope {
            error: ApiError,
        }
        serde_json::from_slice::<Envelope>(body)
            .map(|e| e.error)
            .unwrap_or_default()
    }

    fn describe(&self, status: StatusCode) -> String {
        let mut s = format!("HTTP {}", status.as_u16());
        for part in [&self.kind, &self.code].into_iter().flatten() {
            s.push(' ');
            s.push_str(part);
        }
        if let Some(m) = &self.message {
            s.push_str(": ");
            s.push_str(m);
        }
        s
    }
}

/// Reads a PaymentIntent object (see the module documentation).
fn intent(v: &Value) -> Result<GatewayPayment, GatewayError> {
    let bad =
        |what: &str| GatewayError::InDoubt(format!("gateway answered a bad PaymentIntent: {what}"));
    let id = v["id"].as_str().ok_or_else(|| bad("no id"))?.to_string();
    let status = match v["status"].as_str().ok_or_else(|| bad("no status"))? {
        "requires_capture" => GatewayStatus::RequiresCapture,
        "succeeded" => GatewayStatus::Succeeded,
        "canceled" => GatewayStatus::Canceled,
        other => {
            return Err(GatewayError::Rejected(format!(
                "payment {id} is in state {other:?}, which this gateway does not support (e.g. 3-D Secure)"
            )));
        }
    };
    let amount = v["amount"].as_i64().ok_or_else(|| bad("no amount"))?;
    let charge = &v["latest_charge"];
    let amount_captured = v["amount_received"].as_i64().unwrap_or(0);
    let amount_refunded = v["amount_refunded"]
        .as_i64()
        .or_else(|| charge["amount_refunded"].as_i64())
        .unwrap_or(0);
    let last4 = v["last4"]
        .as_str()
        .or_else(|| charge["payment_method_details"]["card"]["last4"].as_str())
        .or_else(|| v["payment_method"]["card"]["last4"].as_str())
        .map(str::to_string);
    Ok(GatewayPayment {
        id,
        status,
        amount,
        amount_captured,
        amount_refunded,
        currency: v["currency"].as_str().unwrap_or_default().to_string(),
        last4,
    })
}

/// Payment ids go into URL paths: letters, digits and `_` only.
fn check_id(id: &str) -> Result<(), GatewayError> {
    if id.is_empty()
        || id.len() > 255
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(GatewayError::Rejected(format!("bad payment id {id:?}")));
    }
    Ok(())
}

#[async_trait]
impl Gateway for HttpGateway {
    fn name(&self) -> &'static str {
        "http"
    }

    async fn authorize(&self, req: &AuthorizeRequest) -> Result<GatewayPayment, GatewayError> {
        validate_authorize(req)?;
        let params = [
            ("amount", req.amount.to_string()),
            ("currency", req.currency.to_ascii_lowercase()),
            ("payment_method", req.payment_method.clone()),
            ("capture_method", "manual".into()),
            ("confirm", "true".into()),
            ("description", req.description.clone()),
            ("metadata[idempotency_key]", req.idempotency_key.clone()),
            ("expand[]", "latest_charge".into()),
        ];
        let v = self
            .call(
                reqwest::Method::POST,
                "/v1/payment_intents",
                &params,
                Some(&req.idempotency_key),
            )
            .await?;
        intent(&v)
    }

    async fn capture(
        &self,
        payment_id: &str,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        check_id(payment_id)?;
        validate_key(idempotency_key)?;
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/v1/payment_intents/{payment_id}/capture"),
                &[("expand[]", "latest_charge".into())],
                Some(idempotency_key),
            )
            .await?;
        intent(&v)
    }

    async fn void(
        &self,
        payment_id: &str,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        check_id(payment_id)?;
        validate_key(idempotency_key)?;
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/v1/payment_intents/{payment_id}/cancel"),
                &[("expand[]", "latest_charge".into())],
                Some(idempotency_key),
            )
            .await?;
        intent(&v)
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        check_id(payment_id)?;
        validate_key(idempotency_key)?;
        if amount <= 0 {
            return Err(GatewayError::Rejected(format!(
                "refund amount must be positive, got {amount}"
            )));
        }
        let v = self
            .call(
                reqwest::Method::POST,
                "/v1/refunds",
                &[
                    ("payment_intent", payment_id.to_string()),
                    ("amount", amount.to_string()),
                    ("expand[]", "payment_intent".into()),
                ],
                Some(idempotency_key),
            )
            .await?;
        if let Some(s @ ("failed" | "canceled")) = v["status"].as_str() {
            return Err(GatewayError::Rejected(format!(
                "refund {} of payment {payment_id} {s}",
                v["id"].as_str().unwrap_or("?")
            )));
        }
        if v["payment_intent"].is_object() {
            return intent(&v["payment_intent"]);
        }
        // Not expanded: the refund is done; read the payment's state. If
        // that fails, a retry with the same key replays the refund.
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/v1/payment_intents/{payment_id}"),
                &[],
                None,
            )
            .await
            .map_err(|e| {
                GatewayError::InDoubt(format!(
                    "refunded, but reading payment {payment_id} failed ({e}); retry with the same idempotency key"
                ))
            })?;
        intent(&v)
    }

    async fn find_by_idempotency_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<GatewayPayment>, GatewayError> {
        validate_key(idempotency_key)?;
        let v = self
            .call(
                reqwest::Method::GET,
                "/v1/payment_intents",
                &[("idempotency_key", idempotency_key.to_string())],
                None,
            )
            .await?;
        let data = v["data"].as_array().ok_or_else(|| {
            GatewayError::Unavailable("gateway answered a lookup without a data list".into())
        })?;
        if data.len() > 1 {
            warn!(
                idempotency_key,
                n = data.len(),
                "payment gateway has several payments for one idempotency key"
            );
        }
        data.first().map(intent).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gw(url: &str) -> HttpGateway {
        HttpGateway::new(HttpConfig {
            base_url: url.into(),
            api_key: "sk_test".into(),
            timeout: Duration::from_millis(300),
            max_retries: 2,
            retry_backoff: Duration::from_millis(10),
        })
        .unwrap()
    }

    #[test]
    fn reads_intents() {
        let p = intent(
            &json!({"id": "pi_1", "status": "requires_capture", "amount": 500,
            "currency": "eur", "amount_received": 0, "last4": "4242"}),
        )
        .unwrap();
        assert_eq!(p.status, GatewayStatus::RequiresCapture);
        assert_eq!(p.last4.as_deref(), Some("4242"));
        // Stripe's own shape: last4 and refunds on the expanded charge.
        let p = intent(&json!({"id": "pi_2", "status": "succeeded", "amount": 500,
            "currency": "eur", "amount_received": 500,
            "latest_charge": {"amount_refunded": 100,
                "payment_method_details": {"card": {"last4": "4444"}}}}))
        .unwrap();
        assert_eq!((p.amount_captured, p.amount_refunded), (500, 100));
        assert_eq!(p.last4.as_deref(), Some("4444"));
        assert!(matches!(
            intent(&json!({"id": "pi_3", "status": "requires_action", "amount": 1})),
            Err(GatewayError::Rejected(_))
        ));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let g = gw("http://127.0.0.1:9");
        let b1 = g.backoff(1);
        let b3 = g.backoff(3);
        assert!(b1 >= Duration::from_millis(10) && b1 <= Duration::from_millis(15));
        assert!(b3 >= Duration::from_millis(40) && b3 <= Duration::from_millis(60));
        assert!(g.backoff(40) <= Duration::from_secs(15));
    }

    #[test]
    fn ids_cannot_escape_the_path() {
        assert!(check_id("pi_123abc").is_ok());
        assert!(check_id("../refunds").is_err());
        assert!(check_id("pi_1?x=y").is_err());
    }

    #[tokio::test]
    async fn https_client_builds_with_ring() {
        // Building the client sets up rustls; it must not panic for lack of a
        // provider, and it must be ring.
        let _ = gw("https://example.invalid");
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }

    #[tokio::test]
    async fn refused_connection_is_unavailable() {
        // Bind then drop: nothing listens on the port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let g = gw(&format!("http://127.0.0.1:{port}"));
        let e = g.capture("pi_1", "k1").await.unwrap_err();
        assert!(matches!(e, GatewayError::Unavailable(_)), "{e}");
        let e = g.find_by_idempotency_key("k1").await.unwrap_err();
        assert!(matches!(e, GatewayError::Unavailable(_)), "{e}");
    }
}

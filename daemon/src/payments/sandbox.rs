//! The built-in sandbox gateway: deterministic, durable, no network.
//!
//! # Test payment methods
//!
//! | `payment_method` | result of `authorize` |
//! |---|---|
//! | `pm_card_visa` | authorised, `last4` `4242` |
//! | `pm_card_mastercard` | authorised, `last4` `4444` |
//! | `pm_card_declined` | [`Declined`](GatewayError::Declined) `card_declined` |
//! | `pm_card_insufficient_funds` | [`Declined`](GatewayError::Declined) `insufficient_funds` |
//! | `pm_card_timeout` | [`InDoubt`](GatewayError::InDoubt); nothing is created, so `find_by_idempotency_key` returns `None` (every retry times out too) |
//! | `pm_card_timeout_after_auth` | authorised (`last4` `0341`) but the first call answers [`InDoubt`](GatewayError::InDoubt); `find_by_idempotency_key` finds the payment and a retry with the same key returns it |
//! | anything else | [`Rejected`](GatewayError::Rejected) "unknown payment method" |
//!
//! # Rules
//!
//! - `capture` takes the whole authorised amount; capturing a canceled
//!   payment, or a payment already captured under *another* idempotency key,
//!   is [`Rejected`](GatewayError::Rejected) (as Stripe answers
//!   `payment_intent_unexpected_state`); the same key replays the first
//!   result. Either way there is never a second capture.
//! - `void` cancels an uncaptured payment; voiding a captured or already
//!   canceled payment under another key is `Rejected`.
//! - `refund` needs a captured payment; partial refunds add up; more than
//!   what is left to refund is `Rejected`.
//! - Declines are remembered under their key like successes; requests that
//!   fail validation are not.
//!
//! # Storage
//!
//! Everything lives in the [`Store`], so a crash or restart loses nothing and
//! every node of a cluster sees the same payments:
//!
//! - `/dfood/sandbox/payments/<id>`: the payment (JSON);
//! - `/dfood/sandbox/idem/<key>`: the request made with that idempotency key
//!   and its result, written in the same transaction as the payment change it
//!   made, guarded by "key absent" and the payment's `mod_revision`. So two
//!   nodes racing with one key produce one payment, and a capture racing a
//!   void cannot both win.
//!
//! Only the method token and the last four digits are stored.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tracing::info;

use super::{
    AuthorizeRequest, Gateway, GatewayError, GatewayPayment, GatewayStatus, TxnAuthorization,
    random_u64, validate_authorize, validate_key,
};
use crate::store::{Compare, KeyValue, Store, StoreError, Txn, TxnOp};

pub const PAYMENTS_PREFIX: &str = "/dfood/sandbox/payments/";
pub const IDEM_PREFIX: &str = "/dfood/sandbox/idem/";

/// Compare-and-swap conflicts tolerated before giving up (only under heavy
/// contention on one payment).
const MAX_CAS_TRIES: usize = 32;

enum Behaviour {
    Approve {
        last4: &'static str,
        in_doubt: bool,
    },
    Decline {
        code: &'static str,
        message: &'static str,
    },
    TimeOut,
}

fn behaviour(method: &str) -> Option<Behaviour> {
    Some(match method {
        "pm_card_visa" => Behaviour::Approve {
            last4: "4242",
            in_doubt: false,
        },
        "pm_card_mastercard" => Behaviour::Approve {
            last4: "4444",
            in_doubt: false,
        },
        "pm_card_timeout_after_auth" => Behaviour::Approve {
            last4: "0341",
            in_doubt: true,
        },
        "pm_card_declined" => Behaviour::Decline {
            code: "card_declined",
            message: "Your card was declined.",
        },
        "pm_card_insufficient_funds" => Behaviour::Decline {
            code: "insufficient_funds",
            message: "Your card has insufficient funds.",
        },
        "pm_card_timeout" => Behaviour::TimeOut,
        _ => return None,
    })
}

/// The test payment methods, for documentation and listings.
pub const TEST_METHODS: &[&str] = &[
    "pm_card_visa",
    "pm_card_mastercard",
    "pm_card_declined",
    "pm_card_insufficient_funds",
    "pm_card_timeout",
    "pm_card_timeout_after_auth",
];

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    payment: GatewayPayment,
    payment_method: String,
    description: String,
    /// The authorisation's idempotency key.
    idempotency_key: String,
}

/// The request an idempotency key was used for; a replay must match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum IdemRequest {
    Authorize {
        amount: i64,
        currency: String,
        payment_method: String,
        description: String,
    },
    Capture {
        payment_id: String,
    },
    Void {
        payment_id: String,
    },
    Refund {
        payment_id: String,
        amount: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Payment(GatewayPayment),
    Declined { code: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct IdemRecord {
    request: IdemRequest,
    outcome: Outcome,
}

/// See the module documentation.
pub struct SandboxGateway {
    store: Arc<dyn Store>,
}

impl SandboxGateway {
    pub fn new(store: Arc<dyn Store>) -> Self {
        SandboxGateway { store }
    }

    /// Every sandbox payment (current state), sorted by id. For tests and
    /// operators.
    pub async fn payments(&self) -> Result<Vec<GatewayPayment>, GatewayError> {
        let r = self.store.range(PAYMENTS_PREFIX).await.map_err(read_err)?;
        r.kvs
            .iter()
            .map(|kv| decode::<Stored>(kv).map(|s| s.payment))
            .collect()
    }

    async fn idem(&self, key: &str) -> Result<Option<IdemRecord>, GatewayError> {
        match self.store.get(&idem_key(key)).await.map_err(read_err)? {
            Some(kv) => Ok(Some(decode(&kv)?)),
            None => Ok(None),
        }
    }

    /// Writes `record` under `key` if the key is still unused (and, for a
    /// change to an existing payment, if it is unchanged since `guard`).
    /// `Ok(false)`: lost a race; read again.
    async fn commit(
        &self,
        key: &str,
        record: &IdemRecord,
        payment: Option<&Stored>,
        guard: Option<&KeyValue>,
    ) -> Result<bool, GatewayError> {
        let (compares, ops) = commit_ops(key, record, payment, guard);
        let resp = self
            .store
            .txn(Txn::new().when(compares).and_then(ops))
            .await
            .map_err(|e| {
                GatewayError::InDoubt(format!(
                    "sandbox: the store did not confirm the write ({e}); retry with the same idempotency key"
                ))
            })?;
        Ok(resp.succeeded)
    }

    /// Capture, void and refund: read, decide, compare-and-swap, repeat on a
    /// lost race.
    async fn change(
        &self,
        key: &str,
        request: IdemRequest,
        payment_id: &str,
        apply: impl Fn(&GatewayPayment) -> Result<GatewayPayment, GatewayError>,
    ) -> Result<GatewayPayment, GatewayError> {
        validate_key(key)?;
        for _ in 0..MAX_CAS_TRIES {
            if let Some(rec) = self.idem(key).await? {
                return replay(key, rec, &request);
            }
            let Some(kv) = self
                .store
                .get(&payment_key(payment_id))
                .await
                .map_err(read_err)?
            else {
                return Err(GatewayError::Rejected(format!(
                    "no such payment {payment_id:?}"
                )));
            };
            let mut stored: Stored = decode(&kv)?;
            stored.payment = match apply(&stored.payment) {
                Ok(p) => p,
                Err(e) => {
                    // A concurrent request with the same key may have made
                    // this change between our two reads: then its answer is
                    // ours too (one capture, answered twice), not a refusal.
                    if let Some(rec) = self.idem(key).await? {
                        return replay(key, rec, &request);
                    }
                    return Err(e);
                }
            };
            let record = IdemRecord {
                request: request.clone(),
                outcome: Outcome::Payment(stored.payment.clone()),
            };
            if self.commit(key, &record, Some(&stored), Some(&kv)).await? {
                return Ok(stored.payment);
            }
        }
        Err(GatewayError::InDoubt(format!(
            "sandbox: payment {payment_id} is too contended; retry with the same idempotency key"
        )))
    }
}

/// The compares and ops that record `record` under `key` (and write
/// `payment`, guarded by `guard` or, for a new payment, by its absence).
fn commit_ops(
    key: &str,
    record: &IdemRecord,
    payment: Option<&Stored>,
    guard: Option<&KeyValue>,
) -> (Vec<Compare>, Vec<TxnOp>) {
    let mut compares = vec![Compare::absent(idem_key(key))];
    let mut ops = vec![TxnOp::put(idem_key(key), encode(record))];
    if let Some(p) = payment {
        let pkey = payment_key(&p.payment.id);
        compares.push(match guard {
            Some(kv) => Compare::mod_revision(pkey.clone(), kv.mod_revision),
            None => Compare::absent(pkey.clone()),
        });
        ops.push(TxnOp::put(pkey, encode(p)));
    }
    (compares, ops)
}

fn authorize_request(req: &AuthorizeRequest) -> IdemRequest {
    IdemRequest::Authorize {
        amount: req.amount,
        currency: req.currency.to_ascii_lowercase(),
        payment_method: req.payment_method.clone(),
        description: req.description.clone(),
    }
}

/// A new authorised payment for `req` (a fresh random id).
fn new_payment(req: &AuthorizeRequest, last4: &str) -> Stored {
    let id = format!("pi_sbx_{:016x}{:08x}", random_u64(), random_u64() as u32);
    Stored {
        payment: GatewayPayment {
            id,
            status: GatewayStatus::RequiresCapture,
            amount: req.amount,
            amount_captured: 0,
            amount_refunded: 0,
            currency: req.currency.to_ascii_lowercase(),
            last4: Some(last4.into()),
        },
        payment_method: req.payment_method.clone(),
        description: req.description.clone(),
        idempotency_key: req.idempotency_key.clone(),
    }
}

#[async_trait]
impl Gateway for SandboxGateway {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    /// The sandbox keeps its records in the node's store, so an
    /// authorisation with a final answer (approve or decline) can be written
    /// in the caller's transaction: the same payment and idempotency records
    /// [`authorize`](Gateway::authorize) writes, under the same "key absent"
    /// compares. Methods whose answer is in doubt (`pm_card_timeout`,
    /// `pm_card_timeout_after_auth`) and unknown methods go through
    /// `authorize` as before.
    fn authorize_in_txn(&self, req: &AuthorizeRequest) -> Option<TxnAuthorization> {
        validate_authorize(req).ok()?;
        let key = &req.idempotency_key;
        let request = authorize_request(req);
        match behaviour(&req.payment_method)? {
            Behaviour::Approve {
                last4,
                in_doubt: false,
            } => {
                let stored = new_payment(req, last4);
                let record = IdemRecord {
                    request,
                    outcome: Outcome::Payment(stored.payment.clone()),
                };
                let (compares, ops) = commit_ops(key, &record, Some(&stored), None);
                Some(TxnAuthorization {
                    compares,
                    ops,
                    outcome: Ok(stored.payment),
                })
            }
            Behaviour::Decline { code, message } => {
                let record = IdemRecord {
                    request,
                    outcome: Outcome::Declined {
                        code: code.into(),
                        message: message.into(),
                    },
                };
                let (compares, ops) = commit_ops(key, &record, None, None);
                Some(TxnAuthorization {
                    compares,
                    ops,
                    outcome: Err(GatewayError::Declined {
                        code: code.into(),
                        message: message.into(),
                    }),
                })
            }
            Behaviour::Approve { in_doubt: true, .. } | Behaviour::TimeOut => None,
        }
    }

    async fn authorize(&self, req: &AuthorizeRequest) -> Result<GatewayPayment, GatewayError> {
        validate_authorize(req)?;
        let key = &req.idempotency_key;
        let request = authorize_request(req);
        for _ in 0..MAX_CAS_TRIES {
            if let Some(rec) = self.idem(key).await? {
                return replay(key, rec, &request);
            }
            let Some(b) = behaviour(&req.payment_method) else {
                return Err(GatewayError::Rejected(format!(
                    "unknown payment method {:?}; the sandbox knows {}",
                    req.payment_method,
                    TEST_METHODS.join(", ")
                )));
            };
            match b {
                Behaviour::TimeOut => {
                    info!(idempotency_key = %key, "sandbox: pm_card_timeout, nothing authorised");
                    return Err(GatewayError::InDoubt(
                        "sandbox: the gateway timed out (pm_card_timeout)".into(),
                    ));
                }
                Behaviour::Decline { code, message } => {
                    let record = IdemRecord {
                        request: request.clone(),
                        outcome: Outcome::Declined {
                            code: code.into(),
                            message: message.into(),
                        },
                    };
                    if self.commit(key, &record, None, None).await? {
                        info!(idempotency_key = %key, code, "sandbox: declined");
                        return Err(GatewayError::Declined {
                            code: code.into(),
                            message: message.into(),
                        });
                    }
                }
                Behaviour::Approve { last4, in_doubt } => {
                    let stored = new_payment(req, last4);
                    let id = stored.payment.id.clone();
                    let record = IdemRecord {
                        request: request.clone(),
                        outcome: Outcome::Payment(stored.payment.clone()),
                    };
                    if self.commit(key, &record, Some(&stored), None).await? {
                        info!(payment = %id, idempotency_key = %key, amount = req.amount, "sandbox: authorised");
                        if in_doubt {
                            return Err(GatewayError::InDoubt(
                                "sandbox: the gateway timed out after authorising (pm_card_timeout_after_auth)".into(),
                            ));
                        }
                        return Ok(stored.payment);
                    }
                }
            }
        }
        Err(GatewayError::InDoubt(
            "sandbox: idempotency key too contended; retry with the same key".into(),
        ))
    }

    async fn capture(
        &self,
        payment_id: &str,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        let request = IdemRequest::Capture {
            payment_id: payment_id.into(),
        };
        let p = self
            .change(idempotency_key, request, payment_id, |p| match p.status {
                GatewayStatus::RequiresCapture => Ok(GatewayPayment {
                    status: GatewayStatus::Succeeded,
                    amount_captured: p.amount,
                    ..p.clone()
                }),
                GatewayStatus::Succeeded => Err(GatewayError::Rejected(format!(
                    "payment {} is already captured",
                    p.id
                ))),
                GatewayStatus::Canceled => Err(GatewayError::Rejected(format!(
                    "payment {} is canceled and cannot be captured",
                    p.id
                ))),
            })
            .await?;
        info!(payment = %p.id, "sandbox: captured");
        Ok(p)
    }

    async fn void(
        &self,
        payment_id: &str,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        let request = IdemRequest::Void {
            payment_id: payment_id.into(),
        };
        let p = self
            .change(idempotency_key, request, payment_id, |p| match p.status {
                GatewayStatus::RequiresCapture => Ok(GatewayPayment {
                    status: GatewayStatus::Canceled,
                    ..p.clone()
                }),
                GatewayStatus::Succeeded => Err(GatewayError::Rejected(format!(
                    "payment {} is captured; refund it instead",
                    p.id
                ))),
                GatewayStatus::Canceled => Err(GatewayError::Rejected(format!(
                    "payment {} is already canceled",
                    p.id
                ))),
            })
            .await?;
        info!(payment = %p.id, "sandbox: voided");
        Ok(p)
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        if amount <= 0 {
            return Err(GatewayError::Rejected(format!(
                "refund amount must be positive, got {amount}"
            )));
        }
        let request = IdemRequest::Refund {
            payment_id: payment_id.into(),
            amount,
        };
        let p = self
            .change(idempotency_key, request, payment_id, |p| {
                if p.status != GatewayStatus::Succeeded {
                    return Err(GatewayError::Rejected(format!(
                        "payment {} is not captured; only captured payments can be refunded",
                        p.id
                    )));
                }
                let left = p.amount_captured - p.amount_refunded;
                if amount > left {
                    return Err(GatewayError::Rejected(format!(
                        "refund of {amount} exceeds the {left} left to refund on payment {}",
                        p.id
                    )));
                }
                Ok(GatewayPayment {
                    amount_refunded: p.amount_refunded + amount,
                    ..p.clone()
                })
            })
            .await?;
        info!(payment = %p.id, amount, "sandbox: refunded");
        Ok(p)
    }

    async fn find_by_idempotency_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<GatewayPayment>, GatewayError> {
        validate_key(idempotency_key)?;
        let Some(rec) = self.idem(idempotency_key).await? else {
            return Ok(None);
        };
        let (IdemRequest::Authorize { .. }, Outcome::Payment(p)) = (&rec.request, &rec.outcome)
        else {
            return Ok(None);
        };
        match self
            .store
            .get(&payment_key(&p.id))
            .await
            .map_err(read_err)?
        {
            Some(kv) => Ok(Some(decode::<Stored>(&kv)?.payment)),
            None => Err(GatewayError::Rejected(format!(
                "sandbox: payment {} recorded under the key is missing",
                p.id
            ))),
        }
    }

    /// The sandbox keeps its records in the node's store: they go with the
    /// order (one transaction; deleting what is already gone is fine).
    async fn forget(&self, order_id: &str, payment_id: Option<&str>) -> Result<(), GatewayError> {
        let mut ops: Vec<TxnOp> = super::STEPS
            .iter()
            .map(|step| TxnOp::delete(idem_key(&format!("{order_id}:{step}"))))
            .collect();
        if let Some(id) = payment_id {
            ops.push(TxnOp::delete(payment_key(id)));
        }
        self.store
            .txn(Txn::new().and_then(ops))
            .await
            .map_err(read_err)?;
        Ok(())
    }
}

/// The stored result of an earlier call with this key, if the request is the
/// same one.
fn replay(
    key: &str,
    rec: IdemRecord,
    request: &IdemRequest,
) -> Result<GatewayPayment, GatewayError> {
    if &rec.request != request {
        return Err(GatewayError::Rejected(format!(
            "idempotency key {key:?} was already used for a different request"
        )));
    }
    match rec.outcome {
        Outcome::Payment(p) => Ok(p),
        Outcome::Declined { code, message } => Err(GatewayError::Declined { code, message }),
    }
}

fn payment_key(id: &str) -> String {
    format!("{PAYMENTS_PREFIX}{}", escape(id))
}

fn idem_key(key: &str) -> String {
    format!("{IDEM_PREFIX}{}", escape(key))
}

/// Keeps store keys one path segment: anything but `[A-Za-z0-9._:-]`
/// becomes `%XX`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("sandbox records serialise")
}

fn decode<T: for<'de> Deserialize<'de>>(kv: &KeyValue) -> Result<T, GatewayError> {
    serde_json::from_slice(&kv.value)
        .map_err(|e| GatewayError::Rejected(format!("sandbox: corrupt record at {}: {e}", kv.key)))
}

fn read_err(e: StoreError) -> GatewayError {
    GatewayError::Unavailable(format!("sandbox: cannot read the store: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::EmbeddedStore;

    fn req(method: &str, key: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            amount: 1250,
            currency: "EUR".into(),
            payment_method: method.into(),
            idempotency_key: key.into(),
            description: "order o-1".into(),
        }
    }

    fn open(dir: &std::path::Path) -> (Arc<EmbeddedStore>, SandboxGateway) {
        let store = EmbeddedStore::open(&dir.join("store.redb")).unwrap();
        (store.clone(), SandboxGateway::new(store))
    }

    #[tokio::test]
    async fn happy_path_and_idempotency() {
        let dir = tempfile::tempdir().unwrap();
        let (_s, g) = open(dir.path());
        let p = g.authorize(&req("pm_card_visa", "auth-1")).await.unwrap();
        assert_eq!(p.status, GatewayStatus::RequiresCapture);
        assert_eq!(p.currency, "eur");
        assert_eq!(p.last4.as_deref(), Some("4242"));
        assert_eq!(
            g.authorize(&req("pm_card_visa", "auth-1")).await.unwrap(),
            p
        );
        let other = g
            .authorize(&req("pm_card_mastercard", "auth-1"))
            .await
            .unwrap_err();
        assert!(matches!(other, GatewayError::Rejected(_)), "{other}");
        let c = g.capture(&p.id, "cap-1").await.unwrap();
        assert_eq!(c.status, GatewayStatus::Succeeded);
        assert_eq!(c.amount_captured, 1250);
        assert_eq!(g.capture(&p.id, "cap-1").await.unwrap(), c);
        assert!(matches!(
            g.capture(&p.id, "cap-2").await,
            Err(GatewayError::Rejected(_))
        ));
        assert!(matches!(
            g.void(&p.id, "void-1").await,
            Err(GatewayError::Rejected(_))
        ));
        let r = g.refund(&p.id, 250, "ref-1").await.unwrap();
        assert_eq!(r.amount_refunded, 250);
        assert_eq!(g.refund(&p.id, 250, "ref-1").await.unwrap(), r);
        assert!(matches!(
            g.refund(&p.id, 1001, "ref-2").await,
            Err(GatewayError::Rejected(m)) if m.contains("exceeds")
        ));
        assert_eq!(
            g.refund(&p.id, 1000, "ref-3")
                .await
                .unwrap()
                .amount_refunded,
            1250
        );
        let found = g.find_by_idempotency_key("auth-1").await.unwrap().unwrap();
        assert_eq!(found.amount_refunded, 1250);
        assert_eq!(g.payments().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn concurrent_same_key_makes_one_payment() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = open(dir.path());
        let mut tasks = Vec::new();
        for _ in 0..16 {
            // One gateway per "node", all on one store.
            let g = SandboxGateway::new(store.clone());
            tasks.push(tokio::spawn(async move {
                g.authorize(&req("pm_card_visa", "same")).await.unwrap()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap().id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1);
        let g = SandboxGateway::new(store.clone());
        assert_eq!(g.payments().await.unwrap().len(), 1);

        // Capture racing void: exactly one wins.
        let id = ids[0].clone();
        let (a, b) = (
            SandboxGateway::new(store.clone()),
            SandboxGateway::new(store.clone()),
        );
        let (i1, i2) = (id.clone(), id.clone());
        let (c, v) = tokio::join!(
            tokio::spawn(async move { a.capture(&i1, "c").await }),
            tokio::spawn(async move { b.void(&i2, "v").await })
        );
        assert!(c.unwrap().is_ok() != v.unwrap().is_ok());
    }

    #[test]
    fn keys_are_escaped() {
        assert_eq!(escape("a/b c"), "a%2Fb%20c");
        assert_eq!(escape("order:1_x-2.y"), "order:1_x-2.y");
    }
}

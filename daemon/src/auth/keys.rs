//! JWT signing keys and access tokens.
//!
//! Keys live in the store (`/dfood/auth/keys/<kid>`, the current one named
//! by `/dfood/auth/current_kid`) so that every node signs and verifies with
//! the same ones. They are created on first need with create-if-absent
//! compares, cached in memory once read, and an unknown `kid` is looked up
//! in the store (another node may have rotated).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::crypto::random_hex;
use crate::rpc::{ApiError, ApiResult, from_doc, to_doc};
use crate::store::{Compare, Store, Txn, TxnOp};

pub const KEYS_PREFIX: &str = "/dfood/auth/keys/";
pub const CURRENT_KID: &str = "/dfood/auth/current_kid";

/// Retired keys are deleted at the next rotation once retired this long
/// (far longer than any access token lives).
const RETIRED_KEY_KEEP_SECS: u64 = 86_400;

/// A stored signing key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub kid: String,
    /// 32 random bytes, base64url.
    pub secret: String,
    pub created_at: u64,
    /// When another key became current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<u64>,
}

impl KeyRecord {
    fn generate(now_secs: u64) -> KeyRecord {
        let secret: [u8; 32] = rand::random();
        KeyRecord {
            kid: format!("k_{}", random_hex(8)),
            secret: URL_SAFE_NO_PAD.encode(secret),
            created_at: now_secs,
            retired_at: None,
        }
    }
}

pub struct SigningKey {
    pub kid: String,
    enc: EncodingKey,
    dec: DecodingKey,
}

impl SigningKey {
    fn from_record(key: &str, r: &KeyRecord) -> ApiResult<SigningKey> {
        let secret = URL_SAFE_NO_PAD
            .decode(&r.secret)
            .map_err(|e| ApiError::internal(format!("damaged record {key}: {e}")))?;
        Ok(SigningKey {
            kid: r.kid.clone(),
            enc: EncodingKey::from_secret(&secret),
            dec: DecodingKey::from_secret(&secret),
        })
    }
}

/// Access token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Username.
    pub name: String,
    /// Operator.
    pub op: bool,
    /// Service account.
    pub svc: bool,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
}

/// In-memory cache of the keys this node has seen.
#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<String, Arc<SigningKey>>>,
}

fn key_path(kid: &str) -> String {
    format!("{KEYS_PREFIX}{kid}")
}

impl KeyCache {
    /// The key named `kid`, from the cache or the store; `None` if unknown.
    pub async fn get(&self, store: &dyn Store, kid: &str) -> ApiResult<Option<Arc<SigningKey>>> {
        if let Some(k) = self.keys.read().expect("key cache").get(kid) {
            return Ok(Some(k.clone()));
        }
        if kid.is_empty() || kid.contains('/') {
            return Ok(None);
        }
        let path = key_path(kid);
        let Some(kv) = store.get(&path).await? else {
            return Ok(None);
        };
        let rec: KeyRecord = from_doc(&path, &kv.value)?;
        let key = Arc::new(SigningKey::from_record(&path, &rec)?);
        self.keys
            .write()
            .expect("key cache")
            .insert(kid.to_string(), key.clone());
        Ok(Some(key))
    }

    /// The current signing key, creating the first one if there is none.
    pub async fn current(&self, store: &dyn Store, now_secs: u64) -> ApiResult<Arc<SigningKey>> {
        for _ in 0..5 {
            let kid = match store.get(CURRENT_KID).await? {
                Some(kv) => String::from_utf8_lossy(&kv.value).into_owned(),
                None => {
                    // First need: create it; whoever wins, everyone uses it.
                    let rec = KeyRecord::generate(now_secs);
                    let path = key_path(&rec.kid);
                    store
                        .txn(
                            Txn::new()
                                .when([Compare::absent(CURRENT_KID), Compare::absent(&path)])
                                .and_then([
                                    TxnOp::put(&path, to_doc(&rec)?),
                                    TxnOp::put(CURRENT_KID, rec.kid.clone()),
                                ]),
                        )
                        .await?;
                    continue;
                }
            };
            if let Some(k) = self.get(store, &kid).await? {
                return Ok(k);
            }
            return Err(ApiError::internal(format!(
                "current signing key {kid} is missing from the store"
            )));
        }
        Err(ApiError::unavailable(
            "could not settle on a signing key; try again",
        ))
    }

    /// Makes a new key current; the old ones keep verifying.
    pub async fn rotate(
        &self,
        store: &dyn Store,
        now_secs: u64,
    ) -> ApiResult<(String, Option<String>)> {
        let now = now_secs;
        for _ in 0..5 {
            let cur = store.get(CURRENT_KID).await?;
            let rec = KeyRecord::generate(now);
            let path = key_path(&rec.kid);
            let mut compares = vec![Compare::absent(&path)];
            let mut ops = vec![
                TxnOp::put(&path, to_doc(&rec)?),
                TxnOp::put(CURRENT_KID, rec.kid.clone()),
            ];
            let mut previous = None;
            match &cur {
                Some(kv) => {
                    compares.push(Compare::mod_revision(CURRENT_KID, kv.mod_revision));
                    let old_kid = String::from_utf8_lossy(&kv.value).into_owned();
                    let old_path = key_path(&old_kid);
                    if let Some(old) = store.get(&old_path).await? {
                        let mut old_rec: KeyRecord = from_doc(&old_path, &old.value)?;
                        old_rec.retired_at = Some(now);
                        compares.push(Compare::mod_revision(&old_path, old.mod_revision));
                        ops.push(TxnOp::put(&old_path, to_doc(&old_rec)?));
                    }
                    previous = Some(old_kid);
                }
                None => compares.push(Compare::absent(CURRENT_KID)),
            }
            // Forget keys retired long ago: no live token can use them.
            for kv in store.range(KEYS_PREFIX).await?.kvs {
                if let Ok(r) = serde_json::from_slice::<KeyRecord>(&kv.value)
                    && r.retired_at
                        .is_some_and(|t| t + RETIRED_KEY_KEEP_SECS < now)
                {
                    ops.push(TxnOp::delete(kv.key.clone()));
                }
            }
            if store
                .txn(Txn::new().when(compares).and_then(ops))
                .await?
                .succeeded
            {
                return Ok((rec.kid, previous));
            }
        }
        Err(ApiError::conflict(
            "the signing key changed concurrently; try again",
        ))
    }
}

/// Signs `claims` with `key` (HS256, `kid` in the header).
pub fn sign(key: &SigningKey, claims: &Claims) -> ApiResult<String> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.enc)
        .map_err(|e| ApiError::internal(format!("cannot sign a token: {e}")))
}

/// Checks an access token's signature and expiry; returns its claims.
pub async fn verify(cache: &KeyCache, store: &dyn Store, token: &str) -> ApiResult<Claims> {
    let garbled =
        || ApiError::unauthenticated("access token is not a valid token: run `dfood login`");
    let header = jsonwebtoken::decode_header(token).map_err(|_| garbled())?;
    if header.alg != Algorithm::HS256 {
        return Err(ApiError::unauthenticated(
            "access token uses an unsupported algorithm: run `dfood login`",
        ));
    }
    let kid = header.kid.ok_or_else(|| {
        ApiError::unauthenticated("access token has no key id (kid): run `dfood login`")
    })?;
    let key = cache.get(store, &kid).await?.ok_or_else(|| {
        ApiError::unauthenticated("access token was signed with an unknown key: run `dfood login`")
    })?;
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "sub"]);
    match jsonwebtoken::decode::<Claims>(token, &key.dec, &v) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            ErrorKind::ExpiredSignature => {
                ApiError::unauthenticated("access token expired: run `dfood login`")
            }
            ErrorKind::InvalidSignature => ApiError::unauthenticated(
                "access token signature is invalid (tampered?): run `dfood login`",
            ),
            _ => garbled(),
        }),
    }
}

//! JWT signing keys and access tokens.
//!
//! Keys live in the store (`/dfood/auth/keys/<kid>`, the current one named
//! by `/dfood/auth/current_kid`) so that every node signs and verifies with
//! the same ones, each secret sealed under the node's key-encryption key
//! (`crate::secrets`): the store alone yields no usable key. They are
//! created on first need with create-if-absent compares and cached in
//! memory; an unknown `kid` is looked up in the store (another node may
//! have rotated).
//!
//! The cache is trusted only while the node follows the keys prefix with a
//! store watch ([`KeyCache::apply`], driven by `identity::follow`): a
//! deleted key is forgotten within the watch's delay, and while the watch
//! is down every verification reads the key from the store instead.
//!
//! A token is refused when its lifetime (`exp − iat`) exceeds the node's
//! access-token TTL, and when its key was retired longer ago than that TTL
//! (no honest token can still need it). Rotation deletes such keys, and
//! with `revoke_old` every key but the new one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::crypto::random_hex;
use crate::rpc::{ApiError, ApiResult, from_doc, to_doc};
use crate::secrets::Kek;
use crate::store::{Compare, Store, Txn, TxnOp};

pub const KEYS_PREFIX: &str = "/dfood/auth/keys/";
pub const CURRENT_KID: &str = "/dfood/auth/current_kid";

/// How far a token's `iat` may be ahead of this node's clock (other nodes'
/// clocks differ a little).
pub const CLOCK_SKEW_SECS: u64 = 60;

/// A stored signing key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub kid: String,
    /// The 32-byte secret, sealed under the KEK for this record's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// A key from before sealing, in clear: never used again (deleted at
    /// the next rotation, which happens at once when it is current).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: u64,
    /// When another key became current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<u64>,
}

impl KeyRecord {
    fn generate(kek: &Kek, now_secs: u64) -> KeyRecord {
        let secret: [u8; 32] = rand::random();
        let kid = format!("k_{}", random_hex(8));
        KeyRecord {
            sealed: Some(kek.seal(&key_path(&kid), &secret)),
            kid,
            secret: None,
            created_at: now_secs,
            retired_at: None,
        }
    }

    fn legacy(&self) -> bool {
        self.sealed.is_none()
    }
}

pub struct SigningKey {
    pub kid: String,
    enc: EncodingKey,
    dec: DecodingKey,
    pub retired_at: Option<u64>,
}

impl SigningKey {
    fn from_record(kek: &Kek, key: &str, r: &KeyRecord) -> ApiResult<SigningKey> {
        let sealed = r
            .sealed
            .as_deref()
            .ok_or_else(|| ApiError::internal(format!("{key} is not sealed")))?;
        let secret = kek
            .open(key, sealed, &format!("signing key {}", r.kid))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(SigningKey {
            kid: r.kid.clone(),
            enc: EncodingKey::from_secret(&secret),
            dec: DecodingKey::from_secret(&secret),
            retired_at: r.retired_at,
        })
    }

    /// A key from raw secret bytes (tests that forge tokens).
    pub fn from_secret(kid: &str, secret: &[u8]) -> SigningKey {
        SigningKey {
            kid: kid.to_string(),
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
            retired_at: None,
        }
    }
}

/// The secret of the stored key record `value` at `key`, opened with
/// `kek` (what an attacker holding both the store and the KEK would do:
/// the tests forge tokens with it).
pub fn open_record(kek: &Kek, key: &str, value: &[u8]) -> ApiResult<Vec<u8>> {
    let r: KeyRecord = from_doc(key, value)?;
    let sealed = r
        .sealed
        .as_deref()
        .ok_or_else(|| ApiError::internal(format!("{key} is not sealed")))?;
    kek.open(key, sealed, key)
        .map_err(|e| ApiError::internal(e.to_string()))
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
    /// The login session (refresh-token family) the token belongs to.
    #[serde(default)]
    pub sid: String,
    /// The account's token generation when issued: a password change, a
    /// disable or a secret rotation moves it on, ending older tokens.
    #[serde(default)]
    pub tgen: u64,
}

/// In-memory cache of the keys this node has seen.
pub struct KeyCache {
    kek: Kek,
    keys: RwLock<HashMap<String, Arc<SigningKey>>>,
    /// The node follows the keys prefix right now (see the module doc).
    synced: AtomicBool,
}

fn key_path(kid: &str) -> String {
    format!("{KEYS_PREFIX}{kid}")
}

impl KeyCache {
    pub fn new(kek: Kek) -> KeyCache {
        KeyCache {
            kek,
            keys: RwLock::default(),
            synced: AtomicBool::new(false),
        }
    }

    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    fn cached(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kid)
            .cloned()
    }

    fn remember(&self, kid: &str, key: Option<Arc<SigningKey>>) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        match key {
            Some(k) => keys.insert(kid.to_string(), k),
            None => keys.remove(kid),
        };
    }

    /// Whether the cache follows the store (see the module doc).
    pub fn set_synced(&self, synced: bool) {
        self.synced.store(synced, Ordering::SeqCst);
    }

    /// Forgets every key (the watch could not resume: changes were missed).
    pub fn clear(&self) {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// How many keys are cached (tests).
    pub fn len(&self) -> usize {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A change under [`KEYS_PREFIX`] seen by the node's watch: a deleted
    /// key is forgotten, a changed one (retired) re-read.
    pub fn apply(&self, key: &str, value: Option<&[u8]>) {
        let Some(kid) = key.strip_prefix(KEYS_PREFIX) else {
            return;
        };
        match value {
            None => self.remember(kid, None),
            Some(v) => {
                if self.cached(kid).is_none() {
                    return;
                }
                let fresh = serde_json::from_slice::<KeyRecord>(v)
                    .ok()
                    .filter(|r| !r.legacy())
                    .and_then(|r| SigningKey::from_record(&self.kek, key, &r).ok())
                    .map(Arc::new);
                self.remember(kid, fresh);
            }
        }
    }

    /// The key named `kid`, from the cache (while it follows the store) or
    /// the store; `None` if unknown, deleted, or from before sealing.
    pub async fn get(&self, store: &dyn Store, kid: &str) -> ApiResult<Option<Arc<SigningKey>>> {
        if self.synced.load(Ordering::SeqCst)
            && let Some(k) = self.cached(kid)
        {
            return Ok(Some(k));
        }
        if kid.is_empty() || kid.len() > 64 || kid.contains('/') {
            return Ok(None);
        }
        let path = key_path(kid);
        let Some(kv) = store.get(&path).await? else {
            self.remember(kid, None);
            return Ok(None);
        };
        let rec: KeyRecord = from_doc(&path, &kv.value)?;
        if rec.legacy() {
            return Ok(None);
        }
        let key = Arc::new(SigningKey::from_record(&self.kek, &path, &rec)?);
        self.remember(kid, Some(key.clone()));
        Ok(Some(key))
    }

    /// The current signing key, creating the first one if there is none
    /// (and replacing a current key from before sealing).
    pub async fn current(
        &self,
        store: &dyn Store,
        now_secs: u64,
        ttl_secs: u64,
    ) -> ApiResult<Arc<SigningKey>> {
        for _ in 0..5 {
            let kid = match store.get(CURRENT_KID).await? {
                Some(kv) => String::from_utf8_lossy(&kv.value).into_owned(),
                None => {
                    // First need: create it; whoever wins, everyone uses it.
                    let rec = KeyRecord::generate(&self.kek, now_secs);
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
            let path = key_path(&kid);
            match store.get(&path).await? {
                Some(kv) if from_doc::<KeyRecord>(&path, &kv.value)?.legacy() => {
                    tracing::warn!(%kid, "the current signing key was stored in clear: replacing it and every key like it");
                    self.rotate(store, now_secs, ttl_secs, false).await?;
                    continue;
                }
                _ => {}
            }
            return Err(ApiError::internal(format!(
                "current signing key {kid} is missing from the store"
            )));
        }
        Err(ApiError::unavailable(
            "could not settle on a signing key; try again",
        ))
    }

    /// Makes a new key current. Older keys keep verifying for `ttl_secs`
    /// after they retire (the longest an access token lives); keys retired
    /// longer ago, keys from before sealing, and with `revoke_old` every
    /// other key, are deleted. Returns (new kid, previous kid, deleted kids).
    pub async fn rotate(
        &self,
        store: &dyn Store,
        now_secs: u64,
        ttl_secs: u64,
        revoke_old: bool,
    ) -> ApiResult<(String, Option<String>, Vec<String>)> {
        let now = now_secs;
        for _ in 0..5 {
            let cur = store.get(CURRENT_KID).await?;
            let rec = KeyRecord::generate(&self.kek, now);
            let path = key_path(&rec.kid);
            let mut compares = vec![Compare::absent(&path)];
            let mut ops = vec![
                TxnOp::put(&path, to_doc(&rec)?),
                TxnOp::put(CURRENT_KID, rec.kid.clone()),
            ];
            let mut previous = None;
            let mut deleted = Vec::new();
            match &cur {
                Some(kv) => {
                    compares.push(Compare::mod_revision(CURRENT_KID, kv.mod_revision));
                    previous = Some(String::from_utf8_lossy(&kv.value).into_owned());
                }
                None => compares.push(Compare::absent(CURRENT_KID)),
            }
            for kv in store.range(KEYS_PREFIX).await?.kvs {
                let Ok(mut r) = serde_json::from_slice::<KeyRecord>(&kv.value) else {
                    continue;
                };
                compares.push(Compare::mod_revision(&kv.key, kv.mod_revision));
                let expired = r.retired_at.is_some_and(|t| t + ttl_secs < now);
                if revoke_old || r.legacy() || expired {
                    ops.push(TxnOp::delete(kv.key.clone()));
                    deleted.push(r.kid);
                } else if r.retired_at.is_none() {
                    r.retired_at = Some(now);
                    ops.push(TxnOp::put(kv.key.clone(), to_doc(&r)?));
                }
            }
            if store
                .txn(Txn::new().when(compares).and_then(ops))
                .await?
                .succeeded
            {
                for kid in &deleted {
                    self.remember(kid, None);
                }
                return Ok((rec.kid, previous, deleted));
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

/// Checks an access token's signature, expiry and lifetime, and its key's
/// standing; returns its claims.
pub async fn verify(
    cache: &KeyCache,
    store: &dyn Store,
    token: &str,
    now_secs: u64,
    ttl_secs: u64,
) -> ApiResult<Claims> {
    let garbled =
        || ApiError::unauthenticated("access token is not a valid token: run `dfood login`");
    if token.len() > 8192 {
        return Err(garbled());
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| garbled())?;
    if header.alg != Algorithm::HS256 {
        return Err(ApiError::unauthenticated(
            "access token uses an unsupported algorithm: run `dfood login`",
        ));
    }
    let kid = header.kid.ok_or_else(|| {
        ApiError::unauthenticated("access token has no key id (kid): run `dfood login`")
    })?;
    let unknown = || {
        ApiError::unauthenticated(
            "access token was signed with an unknown or revoked key: run `dfood login`",
        )
    };
    let key = cache.get(store, &kid).await?.ok_or_else(unknown)?;
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "iat", "sub"]);
    let claims = match jsonwebtoken::decode::<Claims>(token, &key.dec, &v) {
        Ok(data) => data.claims,
        Err(e) => {
            return Err(match e.kind() {
                ErrorKind::ExpiredSignature => {
                    ApiError::unauthenticated("access token expired: run `dfood login`")
                }
                ErrorKind::InvalidSignature => ApiError::unauthenticated(
                    "access token signature is invalid (tampered?): run `dfood login`",
                ),
                _ => garbled(),
            });
        }
    };
    if claims.exp.saturating_sub(claims.iat) > ttl_secs
        || claims.iat > now_secs.saturating_add(CLOCK_SKEW_SECS)
    {
        return Err(ApiError::unauthenticated(format!(
            "access token lifetime exceeds this cluster's limit ({ttl_secs} s): run `dfood login`"
        )));
    }
    if key
        .retired_at
        .is_some_and(|t| t.saturating_add(ttl_secs) < now_secs)
    {
        return Err(unknown());
    }
    Ok(claims)
}

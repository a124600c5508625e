//! Who is calling: accounts as stored, access-token verification and the
//! [`Principal`] every other domain checks. Works on the store and the
//! node's [`AuthState`] only ([`Identity`]), so `Ctx` and the auth handlers
//! sit above it and its tests need nothing else.
//!
//! Revocation costs no extra store read: every request already reads the
//! caller's account record, and that record carries what ends tokens —
//! `disabled`, the token generation `tgen` (moved on by a password change,
//! a disable, a service account's new secret: every older token is
//! refused) and `revoked_sessions` (sessions logged out or revoked for
//! refresh-token reuse, kept until their last access token has expired).
//! A change is seen by the next request on every node.
//!
//! [`follow`] keeps a node's view fresh: one store watch on the signing
//! keys (a deleted key leaves the cache), and watches on accounts and staff
//! whose changes it announces on [`AuthState::changes`], so that open
//! subscriptions re-check their caller at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use protocol::messages::auth::Account;
use serde::{Deserialize, Serialize};

use super::hash::Hasher;
use super::keys::{self, Claims, KeyCache};
use super::throttle::Throttle;
use crate::clock::Clock;
use crate::memo::Memo;
use crate::rpc::{ApiError, ApiResult, Principal, from_doc};
use crate::secrets::Kek;
use crate::store::{Compare, EventKind, KeyValue, Revision, Store, StoreError};

pub const USERS_PREFIX: &str = "/dfood/auth/users/";
pub const USERNAMES_PREFIX: &str = "/dfood/auth/usernames/";
/// Name of the setup token file in the data dir.
pub const SETUP_TOKEN_FILE: &str = "setup-token";

/// The `[auth]` section of the daemon config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Lifetime of access tokens, seconds [default: 900].
    pub access_ttl_secs: u64,
    /// Lifetime of a login session (its refresh tokens), seconds from the
    /// login, however often it is renewed [default: 30 days].
    pub refresh_ttl_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            access_ttl_secs: 900,
            refresh_ttl_secs: 30 * 86_400,
        }
    }
}

impl AuthSettings {
    /// Checks the values; the error is the reason, for `ConfigError`.
    pub fn validate(self) -> Result<AuthSettings, String> {
        if !(1..=86_400).contains(&self.access_ttl_secs) {
            return Err(format!(
                "access_ttl_secs = {} must be between 1 and 86400",
                self.access_ttl_secs
            ));
        }
        if self.refresh_ttl_secs < self.access_ttl_secs || self.refresh_ttl_secs > 365 * 86_400 {
            return Err(format!(
                "refresh_ttl_secs = {} must be at least access_ttl_secs and at most a year",
                self.refresh_ttl_secs
            ));
        }
        Ok(self)
    }
}

/// What the auth module keeps per node.
pub struct AuthState {
    pub settings: AuthSettings,
    /// Where this node writes its setup token.
    pub data_dir: PathBuf,
    /// Signing keys seen so far (and the KEK that opens them).
    pub keys: KeyCache,
    /// This node's password hashing threads.
    pub hasher: Hasher,
    /// Failed logins, per account and per source address.
    pub throttle: Throttle,
    /// Accounts and staff memberships changed (see [`follow`]).
    pub changes: tokio::sync::broadcast::Sender<AuthChange>,
    /// Accounts as last read, with their mod revision, for
    /// [`Identity::principal_guarded`] (a guess its caller's transaction
    /// checks).
    pub accounts: Memo<(Arc<UserRecord>, Revision)>,
}

/// The most accounts a node remembers for placements, and their bytes as
/// stored.
pub const REMEMBERED_ACCOUNTS: usize = 20_000;
pub const REMEMBERED_ACCOUNT_BYTES: usize = 16 * 1024 * 1024;

/// Announced by [`follow`]: what changed, for open subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthChange {
    /// The account record of this user id changed or went away.
    User(String),
    /// A staff membership changed: the key under `/dfood/staff/`.
    Staff(String),
    /// Changes may have been missed: everyone checks again.
    Everything,
}

impl AuthState {
    pub fn new(settings: AuthSettings, data_dir: &Path, kek: Kek) -> AuthState {
        AuthState {
            settings,
            data_dir: data_dir.to_path_buf(),
            keys: KeyCache::new(kek),
            hasher: Hasher::default(),
            throttle: Throttle::default(),
            changes: tokio::sync::broadcast::channel(1024).0,
            accounts: Memo::new(REMEMBERED_ACCOUNTS, REMEMBERED_ACCOUNT_BYTES),
        }
    }

    pub fn setup_token_path(&self) -> PathBuf {
        self.data_dir.join(SETUP_TOKEN_FILE)
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: String,
    pub username: String,
    /// argon2id PHC string; absent for service accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// SHA-256 (hex) of a service account's 256-bit random client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_sha256: Option<String>,
    #[serde(default)]
    pub operator: bool,
    #[serde(default)]
    pub service: bool,
    #[serde(default)]
    pub created_at: u64,
    /// Disabled by an operator: no login, no token accepted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Token generation: tokens and sessions issued under an older one are
    /// refused (see the module doc).
    #[serde(default)]
    pub tgen: u64,
    /// Sessions ended while their access tokens may still live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_sessions: Vec<RevokedSession>,
}

/// A session whose access tokens are refused until `until` (Unix seconds:
/// when the last of them expires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSession {
    pub sid: String,
    pub until: u64,
}

/// At most this many revoked sessions are listed per account; beyond, the
/// account's token generation moves on (every access token of the account
/// is refused; its other sessions renew theirs).
pub const MAX_REVOKED_SESSIONS: usize = 64;

impl UserRecord {
    pub fn account(&self) -> Account {
        Account {
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            operator: self.operator,
            service: self.service,
            created_at: self.created_at,
            disabled: self.disabled,
        }
    }

    /// Lists `sid` as revoked until `until`, dropping entries past their
    /// time; when the list is full, ends every token instead.
    pub fn revoke_session(&mut self, sid: &str, now: u64, until: u64) {
        self.revoked_sessions
            .retain(|r| r.until >= now && r.sid != sid);
        if self.revoked_sessions.len() >= MAX_REVOKED_SESSIONS {
            self.revoked_sessions.clear();
            self.tgen += 1;
            return;
        }
        self.revoked_sessions.push(RevokedSession {
            sid: sid.to_string(),
            until,
        });
    }

    /// Why tokens with `claims` no longer stand, if they do not.
    pub fn refuses(&self, claims: &Claims, now: u64) -> Option<ApiError> {
        if self.disabled {
            return Some(ApiError::unauthenticated(
                "this account is disabled: ask an operator",
            ));
        }
        if claims.tgen != self.tgen {
            return Some(ApiError::unauthenticated(
                "this token's session has ended (password changed, or credentials reset): run `dfood login`",
            ));
        }
        if !claims.sid.is_empty()
            && self
                .revoked_sessions
                .iter()
                .any(|r| r.sid == claims.sid && r.until >= now)
        {
            return Some(ApiError::unauthenticated(
                "this session was logged out or revoked: run `dfood login`",
            ));
        }
        None
    }

    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            operator: self.operator,
            service: self.service,
        }
    }
}

/// Roles as reported in tokens' `scope` and by whoami. Staff roles are
/// per restaurant and live with the catalog, not here.
pub fn roles(operator: bool, service: bool) -> Vec<String> {
    let mut r = vec![if service { "service" } else { "customer" }.to_string()];
    if operator {
        r.push("operator".into());
    }
    r
}

/// 3-32 characters of `a-z`, `0-9`, `_`, `.`, `-`.
pub fn validate_username(name: &str, what: &str) -> ApiResult<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if !(3..=32).contains(&name.len()) || !ok_chars {
        return Err(ApiError::bad_request(format!(
            "{what} {name:?} must be 3-32 characters of a-z, 0-9, '_', '.' or '-'"
        )));
    }
    Ok(())
}

/// A stored JSON document and its key-value, if present.
pub async fn get_doc<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    key: &str,
) -> ApiResult<Option<(T, KeyValue)>> {
    match store.get(key).await? {
        Some(kv) => Ok(Some((from_doc(key, &kv.value)?, kv))),
        None => Ok(None),
    }
}

pub async fn user_by_id(store: &dyn Store, id: &str) -> ApiResult<Option<UserRecord>> {
    Ok(user_doc_by_id(store, id).await?.map(|(u, _)| u))
}

/// [`user_by_id`] with the record as stored (its mod revision).
async fn user_doc_by_id(store: &dyn Store, id: &str) -> ApiResult<Option<(UserRecord, KeyValue)>> {
    if id.is_empty() || id.contains('/') {
        return Ok(None);
    }
    get_doc::<UserRecord>(store, &format!("{USERS_PREFIX}{id}")).await
}

pub async fn user_by_name(store: &dyn Store, name: &str) -> ApiResult<Option<UserRecord>> {
    if validate_username(name, "username").is_err() {
        return Ok(None);
    }
    match store.get(&format!("{USERNAMES_PREFIX}{name}")).await? {
        Some(kv) => user_by_id(store, &String::from_utf8_lossy(&kv.value)).await,
        None => Ok(None),
    }
}

/// The identity service of one node: its store, auth state and clock.
#[derive(Clone, Copy)]
pub struct Identity<'a> {
    pub store: &'a dyn Store,
    pub auth: &'a AuthState,
    pub clock: &'a dyn Clock,
}

/// The token a request carried, or `unauthenticated`.
pub fn require_token(token: Option<&str>) -> ApiResult<&str> {
    token.ok_or_else(|| ApiError::unauthenticated("this request needs a login: run `dfood login`"))
}

impl Identity<'_> {
    /// The caller of a request that carried `token`.
    pub async fn principal(&self, token: Option<&str>) -> ApiResult<Principal> {
        self.authenticate(require_token(token)?).await
    }

    /// The caller, who must be an operator.
    pub async fn require_operator(&self, token: Option<&str>) -> ApiResult<Principal> {
        let p = self.principal(token).await?;
        if !p.operator {
            return Err(ApiError::forbidden("only operators may do this"));
        }
        Ok(p)
    }

    /// The account named `username` (people and service accounts), for
    /// other domains (e.g. adding restaurant staff by name). Never any
    /// secret.
    pub async fn lookup_user(&self, username: &str) -> ApiResult<Option<Account>> {
        Ok(user_by_name(self.store, username)
            .await?
            .map(|u| u.account()))
    }

    /// The account with id `user_id`, if it exists.
    pub async fn lookup_user_id(&self, user_id: &str) -> ApiResult<Option<Account>> {
        Ok(user_by_id(self.store, user_id).await?.map(|u| u.account()))
    }

    /// Checks an access token and returns its principal.
    pub async fn authenticate(&self, token: &str) -> ApiResult<Principal> {
        Ok(self.authenticate_claims(token).await?.0)
    }

    /// [`Identity::authenticate`], keeping the verified claims.
    pub async fn authenticate_claims(&self, token: &str) -> ApiResult<(Principal, Claims)> {
        let claims = self.verify_token(token).await?;
        Ok((self.principal_for(&claims).await?, claims))
    }

    /// The first half of [`Identity::authenticate`]: the token's signature,
    /// expiry and claims (no store read while the signing key is cached).
    /// Only [`Identity::principal_for`] makes it a principal: a caller may
    /// start other reads in between, but must not act before the account
    /// is checked.
    pub async fn verify_token(&self, token: &str) -> ApiResult<Claims> {
        keys::verify(
            &self.auth.keys,
            self.store,
            token,
            self.clock.now_secs(),
            self.auth.settings.access_ttl_secs,
        )
        .await
    }

    /// The second half of [`Identity::authenticate`]: the account the
    /// verified claims name, read from the store (so a deleted or disabled
    /// account's tokens, and a revoked session's, stop working).
    pub async fn principal_for(&self, claims: &Claims) -> ApiResult<Principal> {
        let (user, _) = self.account(claims).await?;
        if let Some(e) = user.refuses(claims, self.clock.now_secs()) {
            return Err(e);
        }
        Ok(user.principal())
    }

    /// The account the verified claims name, as stored; `unauthenticated`
    /// when there is none.
    async fn account(&self, claims: &Claims) -> ApiResult<(UserRecord, KeyValue)> {
        user_doc_by_id(self.store, &claims.sub)
            .await?
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "the account this token was issued to no longer exists: run `dfood login`",
                )
            })
    }

    /// [`Identity::principal_for`] for a caller about to write: the
    /// principal, and a compare that holds while the account is still as
    /// it was when checked. Put the compare in the transaction that acts:
    /// the account need not be read again for each request, since a
    /// transaction whose account changed since (disabled, deleted, tokens
    /// revoked) fails, and its caller asks again with `fresh` set.
    ///
    /// Unless `fresh`, the account may come from this node's memory of it;
    /// a refusal is never taken from memory (the store is asked).
    pub async fn principal_guarded(
        &self,
        claims: &Claims,
        fresh: bool,
    ) -> ApiResult<(Principal, Compare)> {
        let now = self.clock.now_secs();
        if !fresh
            && let Some((user, rev)) = self.auth.accounts.get(&claims.sub)
            && user.refuses(claims, now).is_none()
        {
            let key = format!("{USERS_PREFIX}{}", claims.sub);
            return Ok((user.principal(), Compare::mod_revision(key, rev)));
        }
        let (user, kv) = match self.account(claims).await {
            Ok(a) => a,
            Err(e) => {
                self.auth.accounts.forget(&claims.sub);
                return Err(e);
            }
        };
        let user = Arc::new(user);
        self.auth
            .accounts
            .put(&claims.sub, (user.clone(), kv.mod_revision), kv.value.len());
        if let Some(e) = user.refuses(claims, now) {
            return Err(e);
        }
        Ok((
            user.principal(),
            Compare::mod_revision(kv.key, kv.mod_revision),
        ))
    }
}

/// Where staff memberships live (the catalog's `/dfood/staff/R/<user id>`):
/// watched here only to announce changes.
const STAFF_PREFIX: &str = "/dfood/staff/";

/// Follows the store for this node's auth state until `stop` turns true:
/// signing keys (the cache forgets deleted keys and is trusted only while
/// its watch runs), accounts and staff memberships (announced on
/// [`AuthState::changes`]). One watch per prefix; a broken watch resumes
/// after the last revision it delivered; one that cannot (compacted)
/// starts afresh: the key cache is emptied and [`AuthChange::Everything`]
/// announced.
pub async fn follow(store: &dyn Store, auth: &AuthState, stop: tokio::sync::watch::Receiver<bool>) {
    futures::join!(
        follow_prefix(store, auth, keys::KEYS_PREFIX, stop.clone()),
        follow_prefix(store, auth, USERS_PREFIX, stop.clone()),
        follow_prefix(store, auth, STAFF_PREFIX, stop),
    );
}

async fn follow_prefix(
    store: &dyn Store,
    auth: &AuthState,
    prefix: &str,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use futures::StreamExt;
    let keys = prefix == keys::KEYS_PREFIX;
    let mut resume: Option<crate::store::Revision> = None;
    let mut backoff = std::time::Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            return;
        }
        let from = match resume {
            Some(r) => r,
            None => match store.revision().await {
                Ok(r) => r + 1,
                Err(_) => {
                    if wait_or_stop(&mut stop, backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(2));
                    continue;
                }
            },
        };
        let mut stream = match store.watch(prefix, from).await {
            Ok(s) => s,
            Err(e) => {
                if matches!(e, StoreError::Compacted { .. }) {
                    resume = None;
                }
                tracing::debug!(prefix, error = %e, "auth follower: cannot watch; trying again");
                if wait_or_stop(&mut stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(std::time::Duration::from_secs(2));
                continue;
            }
        };
        if resume.is_none() {
            // Starting afresh: whatever changed before `from` is read from
            // the store from now on.
            if keys {
                auth.keys.clear();
            } else {
                let _ = auth.changes.send(AuthChange::Everything);
            }
        }
        if keys {
            auth.keys.set_synced(true);
        }
        backoff = std::time::Duration::from_millis(100);
        let mut last = from - 1;
        let ended: Option<StoreError> = loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(batch)) => {
                        for ev in &batch.events {
                            let key = ev.kv.key.as_str();
                            if keys {
                                let value = (ev.kind == EventKind::Put).then_some(ev.kv.value.as_slice());
                                auth.keys.apply(key, value);
                            } else if let Some(id) = key.strip_prefix(USERS_PREFIX) {
                                let _ = auth.changes.send(AuthChange::User(id.to_string()));
                            } else {
                                let _ = auth.changes.send(AuthChange::Staff(key.to_string()));
                            }
                        }
                        last = batch.revision;
                    }
                    Some(Err(e)) => break Some(e),
                    None => break None,
                },
                _ = stop.changed() => {
                    if keys {
                        auth.keys.set_synced(false);
                    }
                    return;
                }
            }
        };
        if keys {
            auth.keys.set_synced(false);
        }
        resume = match ended {
            Some(StoreError::Compacted { .. }) => None,
            _ => Some(last + 1),
        };
        tracing::debug!(prefix, error = ?ended, "auth follower: watch ended; resuming");
        if wait_or_stop(&mut stop, std::time::Duration::from_millis(50)).await {
            return;
        }
    }
}

/// Sleeps `d`; true when `stop` turned true meanwhile.
async fn wait_or_stop(
    stop: &mut tokio::sync::watch::Receiver<bool>,
    d: std::time::Duration,
) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

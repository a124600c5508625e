//! Who is calling: accounts as stored, access-token verification and the
//! [`Principal`] every other domain checks. Works on the store and the
//! node's [`AuthState`] only ([`Identity`]), so `Ctx` and the auth handlers
//! sit above it and its tests need nothing else.

use std::path::{Path, PathBuf};

use protocol::messages::auth::Account;
use serde::{Deserialize, Serialize};

use super::hash::Hasher;
use super::keys::{self, Claims, KeyCache};
use crate::clock::Clock;
use crate::rpc::{ApiError, ApiResult, Principal, from_doc};
use crate::store::{KeyValue, Store};

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
    /// Lifetime of refresh tokens, seconds [default: 30 days].
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
    /// Signing keys seen so far.
    pub keys: KeyCache,
    /// This node's password hashing threads.
    pub hasher: Hasher,
}

impl AuthState {
    pub fn new(settings: AuthSettings, data_dir: &Path) -> AuthState {
        AuthState {
            settings,
            data_dir: data_dir.to_path_buf(),
            keys: KeyCache::default(),
            hasher: Hasher::default(),
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
}

impl UserRecord {
    pub fn account(&self) -> Account {
        Account {
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            operator: self.operator,
            service: self.service,
            created_at: self.created_at,
        }
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
    if id.is_empty() || id.contains('/') {
        return Ok(None);
    }
    Ok(get_doc::<UserRecord>(store, &format!("{USERS_PREFIX}{id}"))
        .await?
        .map(|(u, _)| u))
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
        keys::verify(&self.auth.keys, self.store, token).await
    }

    /// The second half of [`Identity::authenticate`]: the account the
    /// verified claims name, read from the store (so a deleted account's
    /// tokens stop working).
    pub async fn principal_for(&self, claims: &Claims) -> ApiResult<Principal> {
        let user = user_by_id(self.store, &claims.sub).await?.ok_or_else(|| {
            ApiError::unauthenticated(
                "the account this token was issued to no longer exists: run `dfood login`",
            )
        })?;
        Ok(user.principal())
    }
}

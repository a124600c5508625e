//! Accounts and tokens: signup, the OAuth 2.0-style `auth.token` grants
//! (password, refresh_token, client_credentials), logout, whoami, service
//! accounts, signing-key rotation, and the first operator's bootstrap.
//!
//! Store keys (all under `/dfood/auth/`):
//!
//! | key                           | value                                         |
//! |-------------------------------|-----------------------------------------------|
//! | `users/<user_id>`             | [`UserRecord`] (argon2id hash, flags)         |
//! | `usernames/<username>`        | the user id (uniqueness index, service accounts too) |
//! | `keys/<kid>`, `current_kid`   | JWT signing keys, see [`keys`]                |
//! | `refresh/<sha256 hex>`        | [`RefreshRecord`]: one refresh token, hashed  |
//! | `families/<family>`           | [`FamilyRecord`]: one login session           |
//! | `setup`                       | [`SetupRecord`]: pending bootstrap token hash |
//! | `bootstrapped`                | set once the first operator exists            |
//!
//! Access tokens are short-lived HS256 JWTs; every request re-reads the
//! user record, so a deleted account is refused at once and the operator
//! flag comes from the store, not the token. Refresh tokens are random,
//! stored only as SHA-256 hashes, and rotate on every use in one store
//! transaction guarded by the old record's and the family's revisions;
//! presenting an already-rotated token revokes its whole family.

pub mod keys;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use protocol::messages::auth::{
    Account, BootstrapRequest, LogoutRequest, LogoutResponse, RotateKeyRequest, RotateKeyResponse,
    ServiceAccountCreateRequest, ServiceAccountCreated, SignupRequest, TokenRequest, TokenResponse,
    WhoamiRequest, WhoamiResponse, grant, types,
};
use protocol::wire::Request;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::api::{ApiError, ApiResult, Ctx, Principal, call, from_doc, to_doc};
use crate::server::NodeState;
use crate::store::{Compare, KeyValue, Store, Txn, TxnOp};
use keys::{Claims, KeyCache};

pub const USERS_PREFIX: &str = "/dfood/auth/users/";
pub const USERNAMES_PREFIX: &str = "/dfood/auth/usernames/";
pub const REFRESH_PREFIX: &str = "/dfood/auth/refresh/";
pub const FAMILIES_PREFIX: &str = "/dfood/auth/families/";
pub const SETUP_KEY: &str = "/dfood/auth/setup";
pub const BOOTSTRAPPED_KEY: &str = "/dfood/auth/bootstrapped";
/// Name of the setup token file in the data dir.
pub const SETUP_TOKEN_FILE: &str = "setup-token";

pub const MIN_PASSWORD_LEN: usize = 8;
/// Bounds the work one signup can cause.
pub const MAX_PASSWORD_LEN: usize = 1024;

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
    keys: KeyCache,
}

impl AuthState {
    pub fn new(settings: AuthSettings, data_dir: &Path) -> AuthState {
        AuthState {
            settings,
            data_dir: data_dir.to_path_buf(),
            keys: KeyCache::default(),
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
    fn account(&self) -> Account {
        Account {
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            operator: self.operator,
            service: self.service,
            created_at: self.created_at,
        }
    }

    fn principal(&self) -> Principal {
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

/// One refresh token (stored under the SHA-256 of the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub user_id: String,
    pub family: String,
    pub expires_at: u64,
    /// Already exchanged: presenting it again revokes the family.
    #[serde(default)]
    pub used: bool,
    #[serde(default)]
    pub created_at: u64,
}

/// One login session: every refresh token descending from one login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyRecord {
    pub user_id: String,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
    #[serde(default)]
    pub created_at: u64,
}

/// The pending bootstrap token (only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRecord {
    pub sha256: String,
    /// The node that wrote the plain token to its data dir.
    pub node: String,
    pub path: String,
    pub created_at: u64,
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// 32 random bytes, base64url without padding.
fn random_secret() -> String {
    let b: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(b)
}

pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

pub fn validate_password(pw: &str) -> ApiResult<()> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "password too short: at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if pw.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "password too long: at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    Ok(())
}

/// Threads that compute password hashes.
///
/// argon2id allocates 19 MiB per hash. On tokio's blocking pool (up to
/// hundreds of threads) each thread kept such a block in its own glibc
/// arena: a node that had served a few hundred logins stayed at ~460 MiB
/// resident. Two long-lived threads keep at most two, and bound the CPU
/// that a burst of logins can take from everything else.
pub const HASH_THREADS: usize = 2;

type HashJob = Box<dyn FnOnce() + Send>;

/// Runs `f` on one of the [`HASH_THREADS`] hashing threads.
pub async fn on_hash_threads<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    static POOL: std::sync::LazyLock<std::sync::mpsc::Sender<HashJob>> =
        std::sync::LazyLock::new(|| {
            let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
            let rx = Arc::new(std::sync::Mutex::new(rx));
            for i in 0..HASH_THREADS {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("argon2-{i}"))
                    .spawn(move || {
                        loop {
                            let next = rx
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .recv();
                            let Ok(job) = next else { return };
                            // A panic fails that one request (its answer
                            // channel is dropped), not the thread.
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                    });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "cannot start a password hashing thread");
                }
            }
            tx
        });
    let (tx, rx) = tokio::sync::oneshot::channel();
    POOL.send(Box::new(move || {
        let _ = tx.send(f());
    }))
    .map_err(|_| ApiError::internal("the password hashing threads are gone"))?;
    rx.await
        .map_err(|_| ApiError::internal("password hashing failed"))
}

/// argon2id with the crate's default parameters, on the hashing threads.
pub async fn hash_password(pw: &str) -> ApiResult<String> {
    let pw = pw.to_string();
    on_hash_threads(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(format!("cannot hash password: {e}")))
    })
    .await?
}

/// Verifies `pw` against a PHC hash; `None` burns the same time on a dummy
/// so that unknown usernames cannot be told apart by timing.
async fn verify_password(pw: &str, hash: Option<&str>) -> ApiResult<bool> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let pw = pw.to_string();
    let known = hash.is_some();
    let hash = match hash {
        Some(h) => h.to_string(),
        None => match DUMMY.get() {
            Some(d) => d.clone(),
            None => {
                let d = hash_password("not a real password").await?;
                DUMMY.get_or_init(|| d).clone()
            }
        },
    };
    on_hash_threads(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| ApiError::internal(format!("damaged password hash: {e}")))?;
        Ok(known
            && Argon2::default()
                .verify_password(pw.as_bytes(), &parsed)
                .is_ok())
    })
    .await?
}

fn wrong_credentials() -> ApiError {
    ApiError::unauthenticated("wrong username or password")
}

async fn get_doc<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    key: &str,
) -> ApiResult<Option<(T, KeyValue)>> {
    match store.get(key).await? {
        Some(kv) => Ok(Some((from_doc(key, &kv.value)?, kv))),
        None => Ok(None),
    }
}

async fn user_by_id(store: &dyn Store, id: &str) -> ApiResult<Option<UserRecord>> {
    if id.is_empty() || id.contains('/') {
        return Ok(None);
    }
    Ok(get_doc::<UserRecord>(store, &format!("{USERS_PREFIX}{id}"))
        .await?
        .map(|(u, _)| u))
}

async fn user_by_name(store: &dyn Store, name: &str) -> ApiResult<Option<UserRecord>> {
    if validate_username(name, "username").is_err() {
        return Ok(None);
    }
    match store.get(&format!("{USERNAMES_PREFIX}{name}")).await? {
        Some(kv) => user_by_id(store, &String::from_utf8_lossy(&kv.value)).await,
        None => Ok(None),
    }
}

/// The account named `username` (people and service accounts), for other
/// domains (e.g. adding restaurant staff by name). Never any secret.
pub async fn lookup_user(state: &NodeState, username: &str) -> ApiResult<Option<Account>> {
    Ok(user_by_name(state.store.as_ref(), username)
        .await?
        .map(|u| u.account()))
}

/// The account with id `user_id`, if it exists.
pub async fn lookup_user_id(state: &NodeState, user_id: &str) -> ApiResult<Option<Account>> {
    Ok(user_by_id(state.store.as_ref(), user_id)
        .await?
        .map(|u| u.account()))
}

/// Writes a new account if its name is free; `conflict` otherwise.
async fn create_user(store: &dyn Store, user: &UserRecord, extra: Txn) -> ApiResult<()> {
    let name_key = format!("{USERNAMES_PREFIX}{}", user.username);
    let user_key = format!("{USERS_PREFIX}{}", user.user_id);
    let txn = Txn::new()
        .when([Compare::absent(&name_key), Compare::absent(&user_key)])
        .when(extra.compares)
        .and_then([
            TxnOp::put(&name_key, user.user_id.clone()),
            TxnOp::put(&user_key, to_doc(user)?),
        ])
        .and_then(extra.success);
    if store.txn(txn).await?.succeeded {
        return Ok(());
    }
    if store.get(&name_key).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "username {:?} is taken",
            user.username
        )));
    }
    Err(ApiError::conflict(
        "the request raced with another change; try again",
    ))
}

/// Checks an access token and returns its principal.
pub async fn authenticate(state: &NodeState, token: &str) -> ApiResult<Principal> {
    Ok(authenticate_claims(state, token).await?.0)
}

async fn authenticate_claims(state: &NodeState, token: &str) -> ApiResult<(Principal, Claims)> {
    let claims = verify_token(state, token).await?;
    Ok((principal_for(state, &claims).await?, claims))
}

/// The first half of [`authenticate`]: the token's signature, expiry and
/// claims (no store read while the signing key is cached). Only
/// [`principal_for`] makes it a principal: a caller may start other reads in
/// between, but must not act before the account is checked.
pub async fn verify_token(state: &NodeState, token: &str) -> ApiResult<Claims> {
    keys::verify(&state.auth.keys, state.store.as_ref(), token).await
}

/// The second half of [`authenticate`]: the account the verified claims
/// name, read from the store (so a deleted account's tokens stop working).
pub async fn principal_for(state: &NodeState, claims: &Claims) -> ApiResult<Principal> {
    let user = user_by_id(state.store.as_ref(), &claims.sub)
        .await?
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "the account this token was issued to no longer exists: run `dfood login`",
            )
        })?;
    Ok(user.principal())
}

/// Routes `auth.*` and `admin.*` requests.
pub async fn route(ctx: &Ctx<'_>, req: &Request) -> Option<ApiResult<serde_json::Value>> {
    let s = ctx.state;
    Some(match req.ty.as_str() {
        types::SIGNUP => call(req, |b: SignupRequest| signup(s, b)).await,
        types::TOKEN => call(req, |b: TokenRequest| token(s, b)).await,
        types::LOGOUT => call(req, |b: LogoutRequest| logout(s, b)).await,
        types::WHOAMI => call(req, |_: WhoamiRequest| whoami(ctx)).await,
        types::SERVICE_ACCOUNT_CREATE => {
            call(req, |b: ServiceAccountCreateRequest| {
                create_service_account(ctx, b)
            })
            .await
        }
        types::ROTATE_KEY => call(req, |_: RotateKeyRequest| rotate_key(ctx)).await,
        types::BOOTSTRAP => call(req, |b: BootstrapRequest| bootstrap(s, b)).await,
        _ => return None,
    })
}

pub async fn signup(state: &NodeState, b: SignupRequest) -> ApiResult<Account> {
    validate_username(&b.username, "username")?;
    validate_password(&b.password)?;
    let user = UserRecord {
        user_id: format!("usr_{}", random_hex(12)),
        username: b.username,
        password_hash: Some(hash_password(&b.password).await?),
        secret_sha256: None,
        operator: false,
        service: false,
        created_at: unix_now(),
    };
    create_user(state.store.as_ref(), &user, Txn::new()).await?;
    info!(username = %user.username, user_id = %user.user_id, "account created");
    Ok(user.account())
}

pub async fn token(state: &NodeState, b: TokenRequest) -> ApiResult<TokenResponse> {
    let missing =
        |f: &str| ApiError::bad_request(format!("grant_type {:?} needs {f}", b.grant_type));
    match b.grant_type.as_str() {
        grant::PASSWORD => {
            let username = b.username.as_deref().ok_or_else(|| missing("username"))?;
            let password = b.password.as_deref().ok_or_else(|| missing("password"))?;
            let user = user_by_name(state.store.as_ref(), username).await?;
            let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
            if !verify_password(password, hash).await? {
                return Err(wrong_credentials());
            }
            let user = user.expect("verified");
            issue(state, &user, true).await
        }
        grant::REFRESH_TOKEN => {
            let rt = b
                .refresh_token
                .as_deref()
                .ok_or_else(|| missing("refresh_token"))?;
            refresh(state, rt).await
        }
        grant::CLIENT_CREDENTIALS => {
            let id = b.client_id.as_deref().ok_or_else(|| missing("client_id"))?;
            let secret = b
                .client_secret
                .as_deref()
                .ok_or_else(|| missing("client_secret"))?;
            let bad = || ApiError::unauthenticated("wrong client_id or client_secret");
            let user = user_by_id(state.store.as_ref(), id)
                .await?
                .filter(|u| u.service)
                .ok_or_else(bad)?;
            let want = user.secret_sha256.as_deref().ok_or_else(bad)?;
            if !constant_time_eq(sha256_hex(secret).as_bytes(), want.as_bytes()) {
                return Err(bad());
            }
            issue(state, &user, false).await
        }
        other => Err(ApiError::bad_request(format!(
            "unknown grant_type {other:?}; known: password, refresh_token, client_credentials"
        ))),
    }
}

/// Signs an access token, and with `refresh`, starts a new session.
async fn issue(state: &NodeState, user: &UserRecord, refresh: bool) -> ApiResult<TokenResponse> {
    let refresh_token = if refresh {
        let family = format!("fam_{}", random_hex(12));
        let now = unix_now();
        let fam = FamilyRecord {
            user_id: user.user_id.clone(),
            revoked: false,
            revoked_reason: None,
            created_at: now,
        };
        let (token, rec) = new_refresh(state, user, &family);
        let txn = Txn::new()
            .when([Compare::absent(format!("{FAMILIES_PREFIX}{family}"))])
            .and_then([
                TxnOp::put(format!("{FAMILIES_PREFIX}{family}"), to_doc(&fam)?),
                TxnOp::put(refresh_key(&token), to_doc(&rec)?),
            ]);
        if !state.store.txn(txn).await?.succeeded {
            return Err(ApiError::internal("session id collision; try again"));
        }
        Some(token)
    } else {
        None
    };
    access_response(state, user, refresh_token).await
}

fn new_refresh(state: &NodeState, user: &UserRecord, family: &str) -> (String, RefreshRecord) {
    let now = unix_now();
    (
        random_secret(),
        RefreshRecord {
            user_id: user.user_id.clone(),
            family: family.to_string(),
            expires_at: now + state.auth.settings.refresh_ttl_secs,
            used: false,
            created_at: now,
        },
    )
}

fn refresh_key(token: &str) -> String {
    format!("{REFRESH_PREFIX}{}", sha256_hex(token))
}

async fn access_response(
    state: &NodeState,
    user: &UserRecord,
    refresh_token: Option<String>,
) -> ApiResult<TokenResponse> {
    let key = state.auth.keys.current(state.store.as_ref()).await?;
    let now = unix_now();
    let ttl = state.auth.settings.access_ttl_secs;
    let claims = Claims {
        sub: user.user_id.clone(),
        name: user.username.clone(),
        op: user.operator,
        svc: user.service,
        exp: now + ttl,
        iat: now,
        jti: random_hex(16),
    };
    let roles = roles(user.operator, user.service);
    Ok(TokenResponse {
        access_token: keys::sign(&key, &claims)?,
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_expires_in: refresh_token
            .as_ref()
            .map(|_| state.auth.settings.refresh_ttl_secs),
        refresh_token,
        scope: roles.join(" "),
        roles,
        user_id: user.user_id.clone(),
        username: user.username.clone(),
    })
}

fn session_over() -> ApiError {
    ApiError::unauthenticated("session revoked or expired: run `dfood login`")
}

/// Marks a session revoked (idempotent).
async fn revoke_family(store: &dyn Store, family: &str, reason: &str) -> ApiResult<()> {
    let key = format!("{FAMILIES_PREFIX}{family}");
    for _ in 0..5 {
        let Some((mut fam, kv)) = get_doc::<FamilyRecord>(store, &key).await? else {
            return Ok(());
        };
        if fam.revoked {
            return Ok(());
        }
        fam.revoked = true;
        fam.revoked_reason = Some(reason.to_string());
        let txn = Txn::new()
            .when([Compare::mod_revision(&key, kv.mod_revision)])
            .and_then([TxnOp::put(&key, to_doc(&fam)?)]);
        if store.txn(txn).await?.succeeded {
            return Ok(());
        }
    }
    Err(ApiError::unavailable(
        "could not revoke the session; try again",
    ))
}

/// The `refresh_token` grant: one use, then rotated; reuse revokes the family.
async fn refresh(state: &NodeState, token: &str) -> ApiResult<TokenResponse> {
    let store = state.store.as_ref();
    let key = refresh_key(token);
    for _ in 0..5 {
        let Some((rec, kv)) = get_doc::<RefreshRecord>(store, &key).await? else {
            return Err(ApiError::unauthenticated(
                "refresh token not recognised: run `dfood login`",
            ));
        };
        let fam_key = format!("{FAMILIES_PREFIX}{}", rec.family);
        let Some((fam, fam_kv)) = get_doc::<FamilyRecord>(store, &fam_key).await? else {
            return Err(session_over());
        };
        if fam.revoked {
            return Err(session_over());
        }
        if rec.used {
            warn!(user_id = %rec.user_id, family = %rec.family, "refresh token reused: revoking its session");
            revoke_family(store, &rec.family, "refresh token reused").await?;
            return Err(ApiError::unauthenticated(
                "refresh token was already used, so the session has been revoked for safety: run `dfood login`",
            ));
        }
        if rec.expires_at <= unix_now() {
            return Err(ApiError::unauthenticated(
                "refresh token expired: run `dfood login`",
            ));
        }
        let user = user_by_id(store, &rec.user_id).await?.ok_or_else(|| {
            ApiError::unauthenticated("the account of this session no longer exists")
        })?;
        let (new_token, new_rec) = new_refresh(state, &user, &rec.family);
        let mut old = rec.clone();
        old.used = true;
        let txn = Txn::new()
            .when([
                Compare::mod_revision(&key, kv.mod_revision),
                Compare::mod_revision(&fam_key, fam_kv.mod_revision),
                Compare::absent(refresh_key(&new_token)),
            ])
            .and_then([
                TxnOp::put(&key, to_doc(&old)?),
                TxnOp::put(refresh_key(&new_token), to_doc(&new_rec)?),
            ]);
        if store.txn(txn).await?.succeeded {
            return access_response(state, &user, Some(new_token)).await;
        }
        // Lost a race (a concurrent use, or a logout): look again; a
        // concurrent use now shows as reuse.
    }
    Err(ApiError::unavailable(
        "could not rotate the refresh token; try again",
    ))
}

pub async fn logout(state: &NodeState, b: LogoutRequest) -> ApiResult<LogoutResponse> {
    let store = state.store.as_ref();
    match get_doc::<RefreshRecord>(store, &refresh_key(&b.refresh_token)).await? {
        None => Ok(LogoutResponse { revoked: false }),
        Some((rec, _)) => {
            revoke_family(store, &rec.family, "logout").await?;
            Ok(LogoutResponse { revoked: true })
        }
    }
}

async fn whoami(ctx: &Ctx<'_>) -> ApiResult<WhoamiResponse> {
    let token = ctx.token.ok_or_else(|| {
        ApiError::unauthenticated("this request needs a login: run `dfood login`")
    })?;
    let (p, claims) = authenticate_claims(ctx.state, token).await?;
    Ok(WhoamiResponse {
        roles: roles(p.operator, p.service),
        user_id: p.user_id,
        username: p.username,
        operator: p.operator,
        service: p.service,
        token_expires_at: claims.exp,
    })
}

async fn create_service_account(
    ctx: &Ctx<'_>,
    b: ServiceAccountCreateRequest,
) -> ApiResult<ServiceAccountCreated> {
    let by = ctx.require_operator().await?;
    validate_username(&b.name, "service account name")?;
    let secret = random_secret();
    let user = UserRecord {
        user_id: format!("svc_{}", random_hex(12)),
        username: b.name,
        password_hash: None,
        secret_sha256: Some(sha256_hex(&secret)),
        operator: false,
        service: true,
        created_at: unix_now(),
    };
    create_user(ctx.state.store.as_ref(), &user, Txn::new()).await?;
    info!(name = %user.username, client_id = %user.user_id, by = %by.username, "service account created");
    Ok(ServiceAccountCreated {
        name: user.username,
        client_id: user.user_id,
        client_secret: secret,
        created_at: user.created_at,
    })
}

async fn rotate_key(ctx: &Ctx<'_>) -> ApiResult<RotateKeyResponse> {
    let by = ctx.require_operator().await?;
    let (kid, previous_kid) = ctx.state.auth.keys.rotate(ctx.state.store.as_ref()).await?;
    info!(%kid, previous = ?previous_kid, by = %by.username, "signing key rotated");
    Ok(RotateKeyResponse { kid, previous_kid })
}

/// `admin.bootstrap`: the setup token buys the first operator, once.
pub async fn bootstrap(state: &NodeState, b: BootstrapRequest) -> ApiResult<Account> {
    let store = state.store.as_ref();
    validate_username(&b.username, "username")?;
    validate_password(&b.password)?;
    let already =
        || ApiError::conflict("the cluster already has an operator; the setup token was used");
    if store.get(BOOTSTRAPPED_KEY).await?.is_some() {
        return Err(already());
    }
    let bad = || ApiError::unauthenticated("setup token is not valid");
    let (setup, kv) = get_doc::<SetupRecord>(store, SETUP_KEY)
        .await?
        .ok_or_else(bad)?;
    if !constant_time_eq(
        sha256_hex(b.setup_token.trim()).as_bytes(),
        setup.sha256.as_bytes(),
    ) {
        return Err(bad());
    }
    let user = UserRecord {
        user_id: format!("usr_{}", random_hex(12)),
        username: b.username,
        password_hash: Some(hash_password(&b.password).await?),
        secret_sha256: None,
        operator: true,
        service: false,
        created_at: unix_now(),
    };
    let marker = serde_json::json!({"user_id": user.user_id, "at": user.created_at});
    let extra = Txn::new()
        .when([
            Compare::mod_revision(SETUP_KEY, kv.mod_revision),
            Compare::absent(BOOTSTRAPPED_KEY),
        ])
        .and_then([
            TxnOp::delete(SETUP_KEY),
            TxnOp::put(BOOTSTRAPPED_KEY, to_doc(&marker)?),
        ]);
    if let Err(e) = create_user(store, &user, extra).await {
        if store.get(BOOTSTRAPPED_KEY).await?.is_some() {
            return Err(already());
        }
        return Err(e);
    }
    let _ = std::fs::remove_file(state.auth.setup_token_path());
    info!(username = %user.username, user_id = %user.user_id, "first operator created; setup token consumed");
    Ok(user.account())
}

/// At start: if no operator was ever bootstrapped, make sure a setup token
/// is pending (one for the whole cluster: create-if-absent) and tell the
/// admin how to use it. Returns the token file's path when this node holds it.
pub async fn prepare_bootstrap(
    store: &dyn Store,
    data_dir: &Path,
    node: &str,
) -> ApiResult<Option<PathBuf>> {
    let path = data_dir.join(SETUP_TOKEN_FILE);
    if store.get(BOOTSTRAPPED_KEY).await?.is_some() {
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    for _ in 0..5 {
        let existing = get_doc::<SetupRecord>(store, SETUP_KEY).await?;
        let guard = match &existing {
            Some((rec, kv)) => {
                // Another node holds it, or ours is still on disk: keep it.
                if rec.node != node || path.exists() {
                    let holder = if rec.node == node {
                        path.display().to_string()
                    } else {
                        format!("{} on node {}", rec.path, rec.node)
                    };
                    info!(
                        "no operator yet: run `dfood admin bootstrap --token-file {holder} --username U` to create the first one"
                    );
                    return Ok((rec.node == node).then_some(path));
                }
                // Ours, but the file is gone: issue a new one.
                Compare::mod_revision(SETUP_KEY, kv.mod_revision)
            }
            None => Compare::absent(SETUP_KEY),
        };
        let token = random_secret();
        let rec = SetupRecord {
            sha256: sha256_hex(&token),
            node: node.to_string(),
            path: path.display().to_string(),
            created_at: unix_now(),
        };
        let txn = Txn::new()
            .when([guard, Compare::absent(BOOTSTRAPPED_KEY)])
            .and_then([TxnOp::put(SETUP_KEY, to_doc(&rec)?)]);
        if !store.txn(txn).await?.succeeded {
            if store.get(BOOTSTRAPPED_KEY).await?.is_some() {
                return Ok(None);
            }
            continue;
        }
        write_private(&path, &format!("{token}\n"))
            .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))?;
        info!(
            "no operator yet: run `dfood admin bootstrap --token-file {} --username U` to create the first one (the token works once)",
            path.display()
        );
        return Ok(Some(path));
    }
    Err(ApiError::unavailable("could not settle the setup token"))
}

/// Writes `text` to `path` atomically, readable by the owner only (0600).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests;

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

pub mod crypto;
pub mod hash;
pub mod identity;
pub mod keys;

use std::path::{Path, PathBuf};

use protocol::messages::auth::{
    Account, BootstrapRequest, LogoutRequest, LogoutResponse, RotateKeyRequest, RotateKeyResponse,
    ServiceAccountCreateRequest, ServiceAccountCreated, SignupRequest, TokenRequest, TokenResponse,
    WhoamiRequest, WhoamiResponse, grant, types,
};
use protocol::wire::Request;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::ctx::Ctx;
use crate::rpc::{ApiError, ApiResult, call, to_doc};
use crate::store::{Compare, Store, Txn, TxnOp};
use crypto::{constant_time_eq, random_hex, random_secret, sha256_hex};
use identity::{
    Identity, SETUP_TOKEN_FILE, USERNAMES_PREFIX, USERS_PREFIX, UserRecord, get_doc, roles,
    user_by_id, user_by_name, validate_username,
};
use keys::Claims;

pub const REFRESH_PREFIX: &str = "/dfood/auth/refresh/";
pub const FAMILIES_PREFIX: &str = "/dfood/auth/families/";
pub const SETUP_KEY: &str = "/dfood/auth/setup";
pub const BOOTSTRAPPED_KEY: &str = "/dfood/auth/bootstrapped";

pub const MIN_PASSWORD_LEN: usize = 8;
/// Bounds the work one signup can cause.
pub const MAX_PASSWORD_LEN: usize = 1024;

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

fn wrong_credentials() -> ApiError {
    ApiError::unauthenticated("wrong username or password")
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

/// Routes `auth.*` and `admin.*` requests.
pub async fn route(ctx: &Ctx<'_>, req: &Request) -> Option<ApiResult<serde_json::Value>> {
    let (id, t) = (ctx.identity(), ctx.token);
    Some(match req.ty.as_str() {
        types::SIGNUP => call(req, |b: SignupRequest| signup(id, b)).await,
        types::TOKEN => call(req, |b: TokenRequest| token(id, b)).await,
        types::LOGOUT => call(req, |b: LogoutRequest| logout(id, b)).await,
        types::WHOAMI => call(req, |_: WhoamiRequest| whoami(id, t)).await,
        types::SERVICE_ACCOUNT_CREATE => {
            call(req, |b: ServiceAccountCreateRequest| {
                create_service_account(id, t, b)
            })
            .await
        }
        types::ROTATE_KEY => call(req, |_: RotateKeyRequest| rotate_key(id, t)).await,
        types::BOOTSTRAP => call(req, |b: BootstrapRequest| bootstrap(id, b)).await,
        _ => return None,
    })
}

pub async fn signup(id: Identity<'_>, b: SignupRequest) -> ApiResult<Account> {
    validate_username(&b.username, "username")?;
    validate_password(&b.password)?;
    let user = UserRecord {
        user_id: format!("usr_{}", random_hex(12)),
        username: b.username,
        password_hash: Some(id.auth.hasher.hash_password(&b.password).await?),
        secret_sha256: None,
        operator: false,
        service: false,
        created_at: id.clock.now_secs(),
    };
    create_user(id.store, &user, Txn::new()).await?;
    info!(username = %user.username, user_id = %user.user_id, "account created");
    Ok(user.account())
}

pub async fn token(id: Identity<'_>, b: TokenRequest) -> ApiResult<TokenResponse> {
    let missing =
        |f: &str| ApiError::bad_request(format!("grant_type {:?} needs {f}", b.grant_type));
    match b.grant_type.as_str() {
        grant::PASSWORD => {
            let username = b.username.as_deref().ok_or_else(|| missing("username"))?;
            let password = b.password.as_deref().ok_or_else(|| missing("password"))?;
            let user = user_by_name(id.store, username).await?;
            let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
            if !id.auth.hasher.verify_password(password, hash).await? {
                return Err(wrong_credentials());
            }
            let user = user.expect("verified");
            issue(id, &user, true).await
        }
        grant::REFRESH_TOKEN => {
            let rt = b
                .refresh_token
                .as_deref()
                .ok_or_else(|| missing("refresh_token"))?;
            refresh(id, rt).await
        }
        grant::CLIENT_CREDENTIALS => {
            let client_id = b.client_id.as_deref().ok_or_else(|| missing("client_id"))?;
            let secret = b
                .client_secret
                .as_deref()
                .ok_or_else(|| missing("client_secret"))?;
            let bad = || ApiError::unauthenticated("wrong client_id or client_secret");
            let user = user_by_id(id.store, client_id)
                .await?
                .filter(|u| u.service)
                .ok_or_else(bad)?;
            let want = user.secret_sha256.as_deref().ok_or_else(bad)?;
            if !constant_time_eq(sha256_hex(secret).as_bytes(), want.as_bytes()) {
                return Err(bad());
            }
            issue(id, &user, false).await
        }
        other => Err(ApiError::bad_request(format!(
            "unknown grant_type {other:?}; known: password, refresh_token, client_credentials"
        ))),
    }
}

/// Signs an access token, and with `refresh`, starts a new session.
async fn issue(id: Identity<'_>, user: &UserRecord, refresh: bool) -> ApiResult<TokenResponse> {
    let refresh_token = if refresh {
        let family = format!("fam_{}", random_hex(12));
        let now = id.clock.now_secs();
        let fam = FamilyRecord {
            user_id: user.user_id.clone(),
            revoked: false,
            revoked_reason: None,
            created_at: now,
        };
        let (token, rec) = new_refresh(id, user, &family);
        let txn = Txn::new()
            .when([Compare::absent(format!("{FAMILIES_PREFIX}{family}"))])
            .and_then([
                TxnOp::put(format!("{FAMILIES_PREFIX}{family}"), to_doc(&fam)?),
                TxnOp::put(refresh_key(&token), to_doc(&rec)?),
            ]);
        if !id.store.txn(txn).await?.succeeded {
            return Err(ApiError::internal("session id collision; try again"));
        }
        Some(token)
    } else {
        None
    };
    access_response(id, user, refresh_token).await
}

fn new_refresh(id: Identity<'_>, user: &UserRecord, family: &str) -> (String, RefreshRecord) {
    let now = id.clock.now_secs();
    (
        random_secret(),
        RefreshRecord {
            user_id: user.user_id.clone(),
            family: family.to_string(),
            expires_at: now + id.auth.settings.refresh_ttl_secs,
            used: false,
            created_at: now,
        },
    )
}

fn refresh_key(token: &str) -> String {
    format!("{REFRESH_PREFIX}{}", sha256_hex(token))
}

async fn access_response(
    id: Identity<'_>,
    user: &UserRecord,
    refresh_token: Option<String>,
) -> ApiResult<TokenResponse> {
    let key = id.auth.keys.current(id.store, id.clock.now_secs()).await?;
    let now = id.clock.now_secs();
    let ttl = id.auth.settings.access_ttl_secs;
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
            .map(|_| id.auth.settings.refresh_ttl_secs),
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
async fn refresh(id: Identity<'_>, token: &str) -> ApiResult<TokenResponse> {
    let store = id.store;
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
        if rec.expires_at <= id.clock.now_secs() {
            return Err(ApiError::unauthenticated(
                "refresh token expired: run `dfood login`",
            ));
        }
        let user = user_by_id(store, &rec.user_id).await?.ok_or_else(|| {
            ApiError::unauthenticated("the account of this session no longer exists")
        })?;
        let (new_token, new_rec) = new_refresh(id, &user, &rec.family);
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
            return access_response(id, &user, Some(new_token)).await;
        }
        // Lost a race (a concurrent use, or a logout): look again; a
        // concurrent use now shows as reuse.
    }
    Err(ApiError::unavailable(
        "could not rotate the refresh token; try again",
    ))
}

pub async fn logout(id: Identity<'_>, b: LogoutRequest) -> ApiResult<LogoutResponse> {
    let store = id.store;
    match get_doc::<RefreshRecord>(store, &refresh_key(&b.refresh_token)).await? {
        None => Ok(LogoutResponse { revoked: false }),
        Some((rec, _)) => {
            revoke_family(store, &rec.family, "logout").await?;
            Ok(LogoutResponse { revoked: true })
        }
    }
}

pub async fn whoami(id: Identity<'_>, token: Option<&str>) -> ApiResult<WhoamiResponse> {
    let (p, claims) = id
        .authenticate_claims(identity::require_token(token)?)
        .await?;
    Ok(WhoamiResponse {
        roles: roles(p.operator, p.service),
        user_id: p.user_id,
        username: p.username,
        operator: p.operator,
        service: p.service,
        token_expires_at: claims.exp,
    })
}

pub async fn create_service_account(
    id: Identity<'_>,
    token: Option<&str>,
    b: ServiceAccountCreateRequest,
) -> ApiResult<ServiceAccountCreated> {
    let by = id.require_operator(token).await?;
    validate_username(&b.name, "service account name")?;
    let secret = random_secret();
    let user = UserRecord {
        user_id: format!("svc_{}", random_hex(12)),
        username: b.name,
        password_hash: None,
        secret_sha256: Some(sha256_hex(&secret)),
        operator: false,
        service: true,
        created_at: id.clock.now_secs(),
    };
    create_user(id.store, &user, Txn::new()).await?;
    info!(name = %user.username, client_id = %user.user_id, by = %by.username, "service account created");
    Ok(ServiceAccountCreated {
        name: user.username,
        client_id: user.user_id,
        client_secret: secret,
        created_at: user.created_at,
    })
}

pub async fn rotate_key(id: Identity<'_>, token: Option<&str>) -> ApiResult<RotateKeyResponse> {
    let by = id.require_operator(token).await?;
    let (kid, previous_kid) = id.auth.keys.rotate(id.store, id.clock.now_secs()).await?;
    info!(%kid, previous = ?previous_kid, by = %by.username, "signing key rotated");
    Ok(RotateKeyResponse { kid, previous_kid })
}

/// `admin.bootstrap`: the setup token buys the first operator, once.
pub async fn bootstrap(id: Identity<'_>, b: BootstrapRequest) -> ApiResult<Account> {
    let store = id.store;
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
        password_hash: Some(id.auth.hasher.hash_password(&b.password).await?),
        secret_sha256: None,
        operator: true,
        service: false,
        created_at: id.clock.now_secs(),
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
    let _ = std::fs::remove_file(id.auth.setup_token_path());
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
    now_secs: u64,
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
            created_at: now_secs,
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

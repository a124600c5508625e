//! Accounts and tokens: signup, the OAuth 2.0-style `auth.token` grants
//! (password, refresh_token, client_credentials), logout, password change,
//! whoami, service accounts, account disable/enable, signing-key rotation,
//! and the first operator's bootstrap.
//!
//! Store keys (all under `/dfood/auth/`):
//!
//! | key                           | value                                         |
//! |-------------------------------|-----------------------------------------------|
//! | `users/<user_id>`             | [`UserRecord`] (argon2id hash, flags, token generation, revoked sessions) |
//! | `usernames/<username>`        | the user id (uniqueness index, service accounts too) |
//! | `keys/<kid>`, `current_kid`   | JWT signing keys, sealed, see [`keys`]        |
//! | `refresh/<sha256 hex>`        | [`RefreshRecord`]: one refresh token, hashed  |
//! | `families/<family>`           | [`FamilyRecord`]: one login session           |
//! | `throttle/<username>`         | failed logins, under a lease, see [`throttle`] |
//! | `setup`                       | [`SetupRecord`]: pending bootstrap token hash |
//! | `bootstrapped`                | set once the first operator exists            |
//!
//! Access tokens are short-lived HS256 JWTs naming their session (`sid`,
//! the family) and the account's token generation (`tgen`); every request
//! re-reads the account record, which says whether they still stand (see
//! [`identity`]): logout and refresh-token reuse list the session as
//! revoked there, a password change, a disable or a service account's new
//! secret move the generation on. Refresh tokens are random, stored only as
//! SHA-256 hashes, and rotate on every use in one store transaction guarded
//! by the old record's and the family's revisions; presenting an
//! already-rotated token revokes its whole family. A session lives at most
//! `refresh_ttl_secs` from its login, however often it is renewed.
//!
//! Logins are throttled per account and per source address ([`throttle`]),
//! cost the same for unknown usernames (a dummy hash is checked), and new
//! passwords follow [`policy`].

pub mod crypto;
pub mod hash;
pub mod identity;
pub mod keys;
pub mod policy;
pub mod throttle;

use std::path::{Path, PathBuf};

use std::net::IpAddr;

use protocol::messages::auth::{
    Account, AccountRef, BootstrapRequest, LogoutRequest, LogoutResponse, PasswordChangeRequest,
    RotateKeyRequest, RotateKeyResponse, ServiceAccountCreateRequest, ServiceAccountCreated,
    ServiceAccountDeleted, ServiceAccountRef, SignupRequest, TokenRequest, TokenResponse,
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

pub use policy::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};

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
    /// The session ends then, however often it is renewed (0: a session
    /// from before absolute lifetimes: its refresh token's own expiry).
    #[serde(default)]
    pub expires_at: u64,
    /// The account's token generation at login.
    #[serde(default)]
    pub tgen: u64,
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

/// Deletes the sessions that have ended for good: a family past its
/// absolute lifetime with its refresh tokens, and refresh tokens past
/// their own expiry whose family is gone or ended (a used token is kept as
/// long as its family lives, so presenting it still revokes the family).
/// For the leader's retention sweep (`now_secs`: Unix seconds); `fence`
/// guards every delete. Returns how many records went.
pub async fn sweep_ended_sessions(
    store: &dyn Store,
    now_secs: u64,
    fence: &[Compare],
) -> ApiResult<usize> {
    // Session records keep Unix seconds.
    let now = now_secs;
    #[derive(PartialEq)]
    enum Family {
        Ended,
        Live,
        /// From before absolute lifetimes: ends with its last token.
        Legacy,
    }
    let families = store.range(FAMILIES_PREFIX).await?.kvs;
    let status: std::collections::HashMap<&str, Family> = families
        .iter()
        .map(|kv| {
            let id = &kv.key[FAMILIES_PREFIX.len()..];
            let st = match serde_json::from_slice::<FamilyRecord>(&kv.value) {
                Ok(f) if f.expires_at == 0 => Family::Legacy,
                Ok(f) if f.expires_at < now => Family::Ended,
                // Unreadable: left alone.
                _ => Family::Live,
            };
            (id, st)
        })
        .collect();
    let refresh = store.range(REFRESH_PREFIX).await?.kvs;
    let mut gone = Vec::new();
    let mut legacy_alive = std::collections::HashSet::new();
    for kv in &refresh {
        let Ok(r) = serde_json::from_slice::<RefreshRecord>(&kv.value) else {
            continue;
        };
        let expired = r.expires_at < now;
        let delete = match status.get(r.family.as_str()) {
            Some(Family::Ended) => true,
            Some(Family::Live) => false,
            Some(Family::Legacy) => {
                if !expired {
                    legacy_alive.insert(r.family.clone());
                }
                expired
            }
            None => expired,
        };
        if delete {
            gone.push(kv);
        }
    }
    gone.extend(families.iter().filter(|kv| {
        let id = &kv.key[FAMILIES_PREFIX.len()..];
        match status.get(id) {
            Some(Family::Ended) => true,
            Some(Family::Legacy) => !legacy_alive.contains(id),
            _ => false,
        }
    }));
    Ok(crate::store::delete_guarded(store, &gone, fence, 16).await?)
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
    let (id, t, peer) = (ctx.identity(), ctx.token, ctx.peer);
    Some(match req.ty.as_str() {
        types::SIGNUP => call(req, |b: SignupRequest| signup(id, b)).await,
        types::TOKEN => call(req, |b: TokenRequest| token(id, peer, b)).await,
        types::LOGOUT => call(req, |b: LogoutRequest| logout(id, b)).await,
        types::WHOAMI => call(req, |_: WhoamiRequest| whoami(id, t)).await,
        types::PASSWORD => {
            call(req, |b: PasswordChangeRequest| {
                change_password(id, t, peer, b)
            })
            .await
        }
        types::SERVICE_ACCOUNT_CREATE => {
            call(req, |b: ServiceAccountCreateRequest| {
                create_service_account(id, t, b)
            })
            .await
        }
        types::SERVICE_ACCOUNT_DELETE => {
            call(req, |b: ServiceAccountRef| delete_service_account(id, t, b)).await
        }
        types::SERVICE_ACCOUNT_ROTATE => {
            call(req, |b: ServiceAccountRef| rotate_service_secret(id, t, b)).await
        }
        types::ACCOUNT_DISABLE => call(req, |b: AccountRef| set_disabled(id, t, b, true)).await,
        types::ACCOUNT_ENABLE => call(req, |b: AccountRef| set_disabled(id, t, b, false)).await,
        types::ROTATE_KEY => call(req, |b: RotateKeyRequest| rotate_key(id, t, b)).await,
        types::BOOTSTRAP => call(req, |b: BootstrapRequest| bootstrap(id, b)).await,
        _ => return None,
    })
}

pub async fn signup(id: Identity<'_>, b: SignupRequest) -> ApiResult<Account> {
    validate_username(&b.username, "username")?;
    policy::check(&b.password, &b.username)?;
    let user = UserRecord {
        user_id: format!("usr_{}", random_hex(12)),
        username: b.username,
        password_hash: Some(id.auth.hasher.hash_password(&b.password).await?),
        secret_sha256: None,
        operator: false,
        service: false,
        created_at: id.clock.now_secs(),
        disabled: false,
        tgen: 0,
        revoked_sessions: Vec::new(),
    };
    create_user(id.store, &user, Txn::new()).await?;
    info!(username = %user.username, user_id = %user.user_id, "account created");
    Ok(user.account())
}

fn disabled() -> ApiError {
    ApiError::unauthenticated("this account is disabled: ask an operator")
}

/// Checks `password` for `username` the same way whether or not the
/// account exists (a dummy hash for unknown ones), throttled per account
/// and per `peer`; the account when it matches.
async fn check_password(
    id: Identity<'_>,
    peer: Option<IpAddr>,
    username: &str,
    password: &str,
) -> ApiResult<Option<UserRecord>> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "password too long: at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    let name_ok = validate_username(username, "username").is_ok();
    let now_ms = id.clock.now_ms();
    let attempt = id
        .auth
        .throttle
        .admit(id.store, now_ms, name_ok.then_some(username), peer)
        .await?;
    let user = if name_ok {
        user_by_name(id.store, username).await?
    } else {
        None
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    if !id.auth.hasher.verify_password(password, hash).await? {
        id.auth.throttle.failed(id.store, now_ms, &attempt).await;
        return Ok(None);
    }
    id.auth.throttle.succeeded(id.store, &attempt).await;
    Ok(user)
}

pub async fn token(
    id: Identity<'_>,
    peer: Option<IpAddr>,
    b: TokenRequest,
) -> ApiResult<TokenResponse> {
    let missing =
        |f: &str| ApiError::bad_request(format!("grant_type {:?} needs {f}", b.grant_type));
    match b.grant_type.as_str() {
        grant::PASSWORD => {
            let username = b.username.as_deref().ok_or_else(|| missing("username"))?;
            let password = b.password.as_deref().ok_or_else(|| missing("password"))?;
            let user = check_password(id, peer, username, password)
                .await?
                .ok_or_else(wrong_credentials)?;
            if user.disabled {
                return Err(disabled());
            }
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
            if user.disabled {
                return Err(disabled());
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
    let now = id.clock.now_secs();
    let ttl = id.auth.settings.refresh_ttl_secs;
    if !refresh {
        // Client credentials: no refresh token, a session of one token.
        let sid = format!("cc_{}", random_hex(12));
        return access_response(id, user, &sid, None).await;
    }
    let family = format!("fam_{}", random_hex(12));
    let fam = FamilyRecord {
        user_id: user.user_id.clone(),
        revoked: false,
        revoked_reason: None,
        created_at: now,
        expires_at: now + ttl,
        tgen: user.tgen,
    };
    let (token, rec) = new_refresh(id, user, &family, fam.expires_at);
    let txn = Txn::new()
        .when([Compare::absent(format!("{FAMILIES_PREFIX}{family}"))])
        .and_then([
            TxnOp::put(format!("{FAMILIES_PREFIX}{family}"), to_doc(&fam)?),
            TxnOp::put(refresh_key(&token), to_doc(&rec)?),
        ]);
    if !id.store.txn(txn).await?.succeeded {
        return Err(ApiError::internal("session id collision; try again"));
    }
    access_response(id, user, &family, Some((token, ttl))).await
}

fn new_refresh(
    id: Identity<'_>,
    user: &UserRecord,
    family: &str,
    expires_at: u64,
) -> (String, RefreshRecord) {
    (
        random_secret(),
        RefreshRecord {
            user_id: user.user_id.clone(),
            family: family.to_string(),
            expires_at,
            used: false,
            created_at: id.clock.now_secs(),
        },
    )
}

fn refresh_key(token: &str) -> String {
    format!("{REFRESH_PREFIX}{}", sha256_hex(token))
}

/// The answer to a grant: an access token for session `sid`, and the
/// refresh token with the seconds it has left, if any.
async fn access_response(
    id: Identity<'_>,
    user: &UserRecord,
    sid: &str,
    refresh: Option<(String, u64)>,
) -> ApiResult<TokenResponse> {
    let now = id.clock.now_secs();
    let ttl = id.auth.settings.access_ttl_secs;
    let key = id.auth.keys.current(id.store, now, ttl).await?;
    let claims = Claims {
        sub: user.user_id.clone(),
        name: user.username.clone(),
        op: user.operator,
        svc: user.service,
        exp: now + ttl,
        iat: now,
        jti: random_hex(16),
        sid: sid.to_string(),
        tgen: user.tgen,
    };
    let roles = roles(user.operator, user.service);
    let (refresh_token, refresh_expires_in) = match refresh {
        Some((t, left)) => (Some(t), Some(left)),
        None => (None, None),
    };
    Ok(TokenResponse {
        access_token: keys::sign(&key, &claims)?,
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_expires_in,
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

/// Changes the account `user_id` with `f`, guarded by its revision (tried
/// again on a concurrent change); `not_found` when it does not exist.
async fn update_user(
    store: &dyn Store,
    user_id: &str,
    f: impl Fn(&mut UserRecord) -> ApiResult<()>,
) -> ApiResult<UserRecord> {
    let key = format!("{USERS_PREFIX}{user_id}");
    for _ in 0..5 {
        let Some((mut user, kv)) = get_doc::<UserRecord>(store, &key).await? else {
            return Err(ApiError::not_found("no such account"));
        };
        f(&mut user)?;
        let txn = Txn::new()
            .when([Compare::mod_revision(&key, kv.mod_revision)])
            .and_then([TxnOp::put(&key, to_doc(&user)?)]);
        if store.txn(txn).await?.succeeded {
            return Ok(user);
        }
    }
    Err(ApiError::unavailable(
        "the account kept changing; try again",
    ))
}

/// Ends session `family` of `user_id` for good: its refresh tokens (the
/// family) and its access tokens (listed on the account until the last
/// of them expires).
async fn end_session(id: Identity<'_>, user_id: &str, family: &str, reason: &str) -> ApiResult<()> {
    revoke_family(id.store, family, reason).await?;
    let now = id.clock.now_secs();
    let until = now + id.auth.settings.access_ttl_secs + keys::CLOCK_SKEW_SECS;
    match update_user(id.store, user_id, |u| {
        u.revoke_session(family, now, until);
        Ok(())
    })
    .await
    {
        Ok(_) => Ok(()),
        // No account, no tokens to refuse.
        Err(e) if e.code == protocol::wire::ErrorCode::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The `refresh_token` grant: one use, then rotated; reuse revokes the family.
async fn refresh(id: Identity<'_>, token: &str) -> ApiResult<TokenResponse> {
    let store = id.store;
    if token.len() > 256 {
        return Err(ApiError::unauthenticated(
            "refresh token not recognised: run `dfood login`",
        ));
    }
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
            end_session(id, &rec.user_id, &rec.family, "refresh token reused").await?;
            return Err(ApiError::unauthenticated(
                "refresh token was already used, so the session has been revoked for safety: run `dfood login`",
            ));
        }
        let now = id.clock.now_secs();
        let ends = if fam.expires_at > 0 {
            fam.expires_at.min(rec.expires_at)
        } else {
            rec.expires_at
        };
        if ends <= now {
            return Err(ApiError::unauthenticated(
                "session expired (sessions last a fixed time from login): run `dfood login`",
            ));
        }
        let user = user_by_id(store, &rec.user_id).await?.ok_or_else(|| {
            ApiError::unauthenticated("the account of this session no longer exists")
        })?;
        if user.disabled {
            return Err(disabled());
        }
        if fam.tgen != user.tgen {
            return Err(ApiError::unauthenticated(
                "this session has ended (password changed, or credentials reset): run `dfood login`",
            ));
        }
        let (new_token, new_rec) = new_refresh(id, &user, &rec.family, ends);
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
            return access_response(id, &user, &rec.family, Some((new_token, ends - now))).await;
        }
        // Lost a race (a concurrent use, or a logout): look again; a
        // concurrent use now shows as reuse.
    }
    Err(ApiError::unavailable(
        "could not rotate the refresh token; try again",
    ))
}

pub async fn logout(id: Identity<'_>, b: LogoutRequest) -> ApiResult<LogoutResponse> {
    if b.refresh_token.len() > 256 {
        return Ok(LogoutResponse { revoked: false });
    }
    match get_doc::<RefreshRecord>(id.store, &refresh_key(&b.refresh_token)).await? {
        None => Ok(LogoutResponse { revoked: false }),
        Some((rec, _)) => {
            end_session(id, &rec.user_id, &rec.family, "logout").await?;
            info!(user_id = %rec.user_id, session = %rec.family, "logged out");
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
        session: (!claims.sid.is_empty()).then_some(claims.sid),
    })
}

/// `auth.password`: the caller's password changes; every session of the
/// account ends, and the caller gets a new one.
pub async fn change_password(
    id: Identity<'_>,
    token: Option<&str>,
    peer: Option<IpAddr>,
    b: PasswordChangeRequest,
) -> ApiResult<TokenResponse> {
    let p = id.principal(token).await?;
    if p.service {
        return Err(ApiError::bad_request(
            "service accounts have no password: an operator gives them a new secret (`dfood service-account rotate-secret`)",
        ));
    }
    let user = check_password(id, peer, &p.username, &b.current_password)
        .await?
        .filter(|u| u.user_id == p.user_id)
        .ok_or_else(|| ApiError::unauthenticated("the current password is wrong"))?;
    policy::check(&b.new_password, &user.username)?;
    if b.new_password == b.current_password {
        return Err(ApiError::bad_request(
            "the new password is the current one: choose another",
        ));
    }
    let hash = id.auth.hasher.hash_password(&b.new_password).await?;
    let updated = update_user(id.store, &user.user_id, |u| {
        u.password_hash = Some(hash.clone());
        u.tgen += 1;
        u.revoked_sessions.clear();
        Ok(())
    })
    .await?;
    info!(username = %updated.username, "password changed; every session of the account ended");
    issue(id, &updated, true).await
}

/// The account named `username` (people and service accounts).
async fn named(store: &dyn Store, username: &str) -> ApiResult<UserRecord> {
    user_by_name(store, username)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no account named {username:?}")))
}

/// `auth.account.disable` / `enable` (operators): a disabled account cannot
/// log in, and its tokens and sessions are refused at once.
pub async fn set_disabled(
    id: Identity<'_>,
    token: Option<&str>,
    b: AccountRef,
    disable: bool,
) -> ApiResult<Account> {
    let by = id.require_operator(token).await?;
    let target = named(id.store, &b.username).await?;
    if disable && target.user_id == by.user_id {
        return Err(ApiError::bad_request("you cannot disable your own account"));
    }
    let updated = update_user(id.store, &target.user_id, |u| {
        if disable && !u.disabled {
            u.tgen += 1;
            u.revoked_sessions.clear();
        }
        u.disabled = disable;
        Ok(())
    })
    .await?;
    info!(username = %updated.username, by = %by.username, disabled = disable, "account {}", if disable { "disabled" } else { "enabled" });
    Ok(updated.account())
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
        disabled: false,
        tgen: 0,
        revoked_sessions: Vec::new(),
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

async fn service_account(store: &dyn Store, name: &str) -> ApiResult<UserRecord> {
    user_by_name(store, name)
        .await?
        .filter(|u| u.service)
        .ok_or_else(|| ApiError::not_found(format!("no service account named {name:?}")))
}

/// `auth.service_account.delete` (operators): the account and its name go;
/// its tokens are refused at once.
pub async fn delete_service_account(
    id: Identity<'_>,
    token: Option<&str>,
    b: ServiceAccountRef,
) -> ApiResult<ServiceAccountDeleted> {
    let by = id.require_operator(token).await?;
    for _ in 0..5 {
        let sa = service_account(id.store, &b.name).await?;
        let user_key = format!("{USERS_PREFIX}{}", sa.user_id);
        let name_key = format!("{USERNAMES_PREFIX}{}", sa.username);
        let Some(kv) = id.store.get(&user_key).await? else {
            continue;
        };
        let txn = Txn::new()
            .when([
                Compare::mod_revision(&user_key, kv.mod_revision),
                Compare::value(&name_key, sa.user_id.clone()),
            ])
            .and_then([TxnOp::delete(&user_key), TxnOp::delete(&name_key)]);
        if id.store.txn(txn).await?.succeeded {
            info!(name = %sa.username, client_id = %sa.user_id, by = %by.username, "service account deleted");
            return Ok(ServiceAccountDeleted {
                name: sa.username,
                client_id: sa.user_id,
            });
        }
    }
    Err(ApiError::unavailable(
        "the service account kept changing; try again",
    ))
}

/// `auth.service_account.rotate` (operators): a new secret; the old one
/// and every token issued with it stop working at once.
pub async fn rotate_service_secret(
    id: Identity<'_>,
    token: Option<&str>,
    b: ServiceAccountRef,
) -> ApiResult<ServiceAccountCreated> {
    let by = id.require_operator(token).await?;
    let sa = service_account(id.store, &b.name).await?;
    let secret = random_secret();
    let digest = sha256_hex(&secret);
    let updated = update_user(id.store, &sa.user_id, |u| {
        if !u.service {
            return Err(ApiError::not_found("no such service account"));
        }
        u.secret_sha256 = Some(digest.clone());
        u.tgen += 1;
        u.revoked_sessions.clear();
        Ok(())
    })
    .await?;
    info!(name = %updated.username, by = %by.username, "service account secret rotated");
    Ok(ServiceAccountCreated {
        name: updated.username,
        client_id: updated.user_id,
        client_secret: secret,
        created_at: updated.created_at,
    })
}

pub async fn rotate_key(
    id: Identity<'_>,
    token: Option<&str>,
    b: RotateKeyRequest,
) -> ApiResult<RotateKeyResponse> {
    let by = id.require_operator(token).await?;
    let (kid, previous_kid, revoked) = id
        .auth
        .keys
        .rotate(
            id.store,
            id.clock.now_secs(),
            id.auth.settings.access_ttl_secs,
            b.revoke_old,
        )
        .await?;
    info!(%kid, previous = ?previous_kid, revoked = ?revoked, by = %by.username, "signing key rotated");
    Ok(RotateKeyResponse {
        kid,
        previous_kid,
        revoked,
    })
}

/// `admin.bootstrap`: the setup token buys the first operator, once.
pub async fn bootstrap(id: Identity<'_>, b: BootstrapRequest) -> ApiResult<Account> {
    let store = id.store;
    validate_username(&b.username, "username")?;
    policy::check(&b.password, &b.username)?;
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
        disabled: false,
        tgen: 0,
        revoked_sessions: Vec::new(),
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

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    crate::secrets::write_private(path, text.as_bytes())
}

#[cfg(test)]
mod tests;

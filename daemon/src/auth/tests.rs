use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use protocol::wire::ErrorCode;

use super::*;
use crate::auth::identity::{AuthSettings, AuthState};
use crate::clock::{Clock, SystemClock};
use crate::rpc::Principal;

struct Fixture {
    store: Arc<dyn Store>,
    auth: AuthState,
    clock: SystemClock,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// The identity service of one node: store, auth state and clock only
    /// (no gateway, fan-out or cluster).
    fn id(&self) -> Identity<'_> {
        Identity {
            store: self.store.as_ref(),
            auth: &self.auth,
            clock: &self.clock,
        }
    }
}

fn fixture() -> Fixture {
    let (dir, store) = crate::store::testing::temp_store();
    Fixture {
        store,
        auth: AuthState::new(
            AuthSettings::default(),
            dir.path(),
            crate::secrets::Kek::generate(),
        ),
        clock: SystemClock,
        _dir: dir,
    }
}

fn code<T: std::fmt::Debug>(r: ApiResult<T>) -> ErrorCode {
    r.unwrap_err().code
}

async fn signup_login(s: Identity<'_>, name: &str) -> TokenResponse {
    signup(
        s,
        SignupRequest {
            username: name.into(),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    token(
        s,
        None,
        TokenRequest::password(name, "correct horse battery"),
    )
    .await
    .unwrap()
}

#[test]
fn usernames_and_passwords_are_validated() {
    for ok in ["abc", "a.b-c_d", "user0123456789012345678901234567"] {
        assert!(validate_username(ok, "username").is_ok(), "{ok}");
    }
    for bad in ["ab", "Abc", "a b", "a/b", "émile", "", &"x".repeat(33)] {
        assert_eq!(
            validate_username(bad, "username").unwrap_err().code,
            ErrorCode::BadRequest,
            "{bad}"
        );
    }
    assert!(policy::check("tortoise umbrella kettle", "alice").is_ok());
    assert!(policy::check("12345678", "alice").is_err());
    assert!(policy::check(&"x".repeat(2000), "alice").is_err());
    assert!(AuthSettings::default().validate().is_ok());
    assert!(
        AuthSettings {
            access_ttl_secs: 0,
            ..Default::default()
        }
        .validate()
        .is_err()
    );
}

#[tokio::test]
async fn signup_login_authenticate() {
    let f = fixture();
    let s = f.id();
    let t = signup_login(s, "alice").await;
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.expires_in, 900);
    assert_eq!(t.roles, ["customer"]);
    assert!(t.refresh_token.is_some());
    let p = s.authenticate(&t.access_token).await.unwrap();
    assert_eq!(p.username, "alice");
    assert!(!p.operator && !p.service);

    // Stored: only a hash, argon2id.
    let u = user_by_name(s.store, "alice").await.unwrap().unwrap();
    assert!(u.password_hash.unwrap().starts_with("$argon2id$"));

    let dup = signup(
        s,
        SignupRequest {
            username: "alice".into(),
            password: "another fine password".into(),
        },
    )
    .await;
    assert_eq!(code(dup), ErrorCode::Conflict);
    let wrong = token(s, None, TokenRequest::password("alice", "wrong password")).await;
    assert_eq!(code(wrong), ErrorCode::Unauthenticated);
    let nobody = token(s, None, TokenRequest::password("nobody", "wrong password")).await;
    assert_eq!(code(nobody), ErrorCode::Unauthenticated);
    let grant = token(
        s,
        None,
        TokenRequest {
            grant_type: "implicit".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code(grant), ErrorCode::BadRequest);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let f = fixture();
    let s = f.id();
    let t0 = signup_login(s, "bob").await;
    let r0 = t0.refresh_token.unwrap();
    let t1 = token(s, None, TokenRequest::refresh(&r0)).await.unwrap();
    let r1 = t1.refresh_token.clone().unwrap();
    assert_ne!(r0, r1);
    s.authenticate(&t1.access_token).await.unwrap();
    // A second, independent session is not affected by the first's fate.
    let other = token(
        s,
        None,
        TokenRequest::password("bob", "correct horse battery"),
    )
    .await
    .unwrap();

    // r0 again: reuse. Refused, and the family is revoked...
    let e = token(s, None, TokenRequest::refresh(&r0))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    assert!(e.message.contains("already used"), "{e}");
    // ...so the newest token of that family is refused too.
    let e = token(s, None, TokenRequest::refresh(&r1))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    token(s, None, TokenRequest::refresh(other.refresh_token.unwrap()))
        .await
        .unwrap();
    let e = token(s, None, TokenRequest::refresh("garbage"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let f = fixture();
    let s = f.id();
    let t = signup_login(s, "carol").await;
    let r0 = t.refresh_token.unwrap();
    let r1 = token(s, None, TokenRequest::refresh(&r0))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    // Logging out with a stale token of the family still ends it.
    let out = logout(
        s,
        LogoutRequest {
            refresh_token: r0.clone(),
        },
    )
    .await
    .unwrap();
    assert!(out.revoked);
    assert_eq!(
        code(token(s, None, TokenRequest::refresh(&r1)).await),
        ErrorCode::Unauthenticated
    );
    let again = logout(
        s,
        LogoutRequest {
            refresh_token: "unknown".into(),
        },
    )
    .await
    .unwrap();
    assert!(!again.revoked);
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_with_reasons() {
    let f = fixture();
    let s = f.id();
    let t = signup_login(s, "dave").await;
    let msg = |r: ApiResult<Principal>| {
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthenticated, "{e}");
        e.message
    };
    assert!(msg(s.authenticate("").await).contains("not a valid token"));
    assert!(msg(s.authenticate("a.b.c").await).contains("not a valid token"));

    // Flip one character in the middle of the signature.
    let (head, sig) = t.access_token.rsplit_once('.').unwrap();
    let mut sig: Vec<u8> = sig.bytes().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{head}.{}", String::from_utf8(sig).unwrap());
    assert!(msg(s.authenticate(&tampered).await).contains("signature"));

    // Expired: sign a token that ended a second ago with the real key.
    let key = s
        .auth
        .keys
        .current(s.store, s.clock.now_secs(), 900)
        .await
        .unwrap();
    let now = s.clock.now_secs();
    let mut claims = Claims {
        sub: t.user_id.clone(),
        name: "dave".into(),
        op: false,
        svc: false,
        exp: now - 1,
        iat: now - 901,
        jti: "x".into(),
        sid: String::new(),
        tgen: 0,
    };
    let expired = keys::sign(&key, &claims).unwrap();
    assert!(msg(s.authenticate(&expired).await).contains("expired"));

    // Unknown kid.
    let (_, body) = expired.split_once('.').unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"k_nope"}"#);
    assert!(
        msg(s.authenticate(&format!("{header}.{body}")).await).contains("unknown or revoked key")
    );

    // A deleted account.
    claims.exp = now + 60;
    claims.iat = now;
    let live = keys::sign(&key, &claims).unwrap();
    s.authenticate(&live).await.unwrap();
    s.store
        .txn(Txn::new().and_then([TxnOp::delete(format!("{USERS_PREFIX}{}", t.user_id))]))
        .await
        .unwrap();
    assert!(msg(s.authenticate(&live).await).contains("no longer exists"));
}

#[tokio::test]
async fn rotated_keys_keep_old_tokens_valid_and_other_nodes_learn_them() {
    let f = fixture();
    let s = f.id();
    let before = signup_login(s, "erin").await;
    let (new_kid, old_kid, deleted) = s
        .auth
        .keys
        .rotate(s.store, s.clock.now_secs(), 900, false)
        .await
        .unwrap();
    assert!(deleted.is_empty());
    assert!(old_kid.is_some());
    assert_ne!(Some(new_kid.clone()), old_kid);
    s.authenticate(&before.access_token).await.unwrap();
    let after = token(
        s,
        None,
        TokenRequest::password("erin", "correct horse battery"),
    )
    .await
    .unwrap();
    let kid = jsonwebtoken::decode_header(&after.access_token)
        .unwrap()
        .kid
        .unwrap();
    assert_eq!(kid, new_kid);

    // A second node sharing the store, with a cold cache, verifies both.
    let other_auth = AuthState::new(
        AuthSettings::default(),
        f._dir.path(),
        s.auth.keys.kek().clone(),
    );
    let other = Identity {
        store: s.store,
        auth: &other_auth,
        clock: &f.clock,
    };
    other.authenticate(&before.access_token).await.unwrap();
    other.authenticate(&after.access_token).await.unwrap();
}

#[tokio::test]
async fn bootstrap_once_then_service_accounts() {
    let f = fixture();
    let s = f.id();
    let path = prepare_bootstrap(s.store, f._dir.path(), "n1", s.clock.now_secs())
        .await
        .unwrap()
        .expect("this node holds the token");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let setup = std::fs::read_to_string(&path).unwrap();
    // A restart keeps the pending token.
    prepare_bootstrap(s.store, f._dir.path(), "n1", s.clock.now_secs())
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), setup);
    // Another node does not write a second one.
    let other_dir = tempfile::tempdir().unwrap();
    assert!(
        prepare_bootstrap(s.store, other_dir.path(), "n2", s.clock.now_secs())
            .await
            .unwrap()
            .is_none()
    );

    let req = |tok: &str, name: &str| BootstrapRequest {
        setup_token: tok.into(),
        username: name.into(),
        password: "operator password".into(),
    };
    assert_eq!(
        code(bootstrap(s, req("wrong", "root")).await),
        ErrorCode::Unauthenticated
    );
    let op = bootstrap(s, req(&setup, "root")).await.unwrap();
    assert!(op.operator);
    assert!(!path.exists(), "consumed token file removed");
    assert_eq!(
        code(bootstrap(s, req(&setup, "root2")).await),
        ErrorCode::Conflict
    );
    assert!(
        prepare_bootstrap(s.store, f._dir.path(), "n1", s.clock.now_secs())
            .await
            .unwrap()
            .is_none()
    );

    let op_token = token(s, None, TokenRequest::password("root", "operator password"))
        .await
        .unwrap();
    assert_eq!(op_token.scope, "customer operator");
    let sa = create_service_account(
        s,
        Some(&op_token.access_token),
        ServiceAccountCreateRequest {
            name: "printer".into(),
        },
    )
    .await
    .unwrap();
    let t = token(
        s,
        None,
        TokenRequest::client_credentials(&sa.client_id, &sa.client_secret),
    )
    .await
    .unwrap();
    assert!(t.refresh_token.is_none());
    assert_eq!(t.roles, ["service"]);
    let p = s.authenticate(&t.access_token).await.unwrap();
    assert!(p.service && !p.operator);
    assert_eq!(
        code(
            token(
                s,
                None,
                TokenRequest::client_credentials(&sa.client_id, "nope")
            )
            .await
        ),
        ErrorCode::Unauthenticated
    );
    // Service accounts have no password.
    assert_eq!(
        code(token(s, None, TokenRequest::password("printer", "whatever1")).await),
        ErrorCode::Unauthenticated
    );

    let customer = signup_login(s, "frank").await;
    let as_customer = Some(customer.access_token.as_str());
    let e = create_service_account(
        s,
        as_customer,
        ServiceAccountCreateRequest {
            name: "sneaky".into(),
        },
    )
    .await;
    assert_eq!(code(e), ErrorCode::Forbidden);
    assert_eq!(
        code(rotate_key(s, as_customer, RotateKeyRequest::default()).await),
        ErrorCode::Forbidden
    );
}

#[test]
fn the_auth_config_section_is_parsed_and_checked() {
    use crate::config::{Config, FileConfig};
    let parse = |t: &str| {
        FileConfig::parse(&format!("node = 'n1'\n{t}"), "t.toml")
            .and_then(Config::from_file)
            .map(|c| c.auth)
    };
    assert_eq!(parse("").unwrap(), AuthSettings::default());
    let a = parse("[auth]\naccess_ttl_secs = 60\nrefresh_ttl_secs = 3600").unwrap();
    assert_eq!((a.access_ttl_secs, a.refresh_ttl_secs), (60, 3600));
    let e = parse("[auth]\naccess_ttl_secs = 0")
        .unwrap_err()
        .to_string();
    assert!(e.contains("auth") && e.contains("access_ttl_secs"), "{e}");
    let e = parse("[auth]\naccess_ttl = 5").unwrap_err().to_string();
    assert!(e.contains("access_ttl"), "{e}");
}

/// A fixture on a manual clock (refresh lifetimes, throttling delays).
fn manual_fixture(settings: AuthSettings) -> (Fixture, crate::clock::ManualClock) {
    let f = fixture();
    let clock = crate::clock::ManualClock::at(SystemClock.now_ms());
    let f = Fixture {
        auth: AuthState::new(settings, f._dir.path(), crate::secrets::Kek::generate()),
        ..f
    };
    (f, clock)
}

fn on<'a>(f: &'a Fixture, clock: &'a crate::clock::ManualClock) -> Identity<'a> {
    Identity {
        store: f.store.as_ref(),
        auth: &f.auth,
        clock,
    }
}

#[tokio::test]
async fn a_token_living_longer_than_the_ttl_is_refused_whoever_signed_it() {
    let f = fixture();
    let s = f.id();
    let t = signup_login(s, "gina").await;
    let key = s
        .auth
        .keys
        .current(s.store, s.clock.now_secs(), 900)
        .await
        .unwrap();
    let now = s.clock.now_secs();
    // Signed with the real key, for a real account, 100 years long.
    let forged = Claims {
        sub: t.user_id.clone(),
        name: "gina".into(),
        op: true,
        svc: false,
        exp: now + 100 * 365 * 86_400,
        iat: now,
        jti: "f".into(),
        sid: String::new(),
        tgen: 0,
    };
    let e = s
        .authenticate(&keys::sign(&key, &forged).unwrap())
        .await
        .unwrap_err();
    assert!(e.message.contains("lifetime exceeds"), "{e}");
    // An iat in the future to stretch the window: refused too.
    let future = Claims {
        iat: now + 3600,
        exp: now + 3600 + 900,
        ..forged.clone()
    };
    let e = s
        .authenticate(&keys::sign(&key, &future).unwrap())
        .await
        .unwrap_err();
    assert!(e.message.contains("lifetime exceeds"), "{e}");
    // Within the TTL: accepted (so the refusals above are about lifetime).
    let fair = Claims {
        exp: now + 900,
        ..forged
    };
    s.authenticate(&keys::sign(&key, &fair).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn keys_are_sealed_revoked_keys_are_refused_and_caches_forget() {
    let f = fixture();
    let s = f.id();
    let before = signup_login(s, "hank").await;
    let kid = jsonwebtoken::decode_header(&before.access_token)
        .unwrap()
        .kid
        .unwrap();
    // Stored sealed: the record holds no usable secret.
    let path = format!("{}{kid}", keys::KEYS_PREFIX);
    let raw = s.store.get(&path).await.unwrap().unwrap().value;
    let rec: keys::KeyRecord = serde_json::from_slice(&raw).unwrap();
    assert!(
        rec.secret.is_none()
            && rec
                .sealed
                .as_deref()
                .is_some_and(|v| v.starts_with("kek1:"))
    );
    let secret = keys::open_record(s.auth.keys.kek(), &path, &raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains(&URL_SAFE_NO_PAD.encode(&secret)), "{text}");
    // Another KEK cannot open it.
    assert!(keys::open_record(&crate::secrets::Kek::generate(), &path, &raw).is_err());

    // A node following the keys (synced cache) and a cold one.
    s.auth.keys.set_synced(true);
    s.authenticate(&before.access_token).await.unwrap();
    let (new_kid, _, revoked) = s
        .auth
        .keys
        .rotate(s.store, s.clock.now_secs(), 900, true)
        .await
        .unwrap();
    assert_eq!(revoked, std::slice::from_ref(&kid));
    let e = s.authenticate(&before.access_token).await.unwrap_err();
    assert!(e.message.contains("unknown or revoked key"), "{e}");
    let cold = AuthState::new(
        AuthSettings::default(),
        f._dir.path(),
        s.auth.keys.kek().clone(),
    );
    let cold_id = Identity { auth: &cold, ..s };
    assert!(cold_id.authenticate(&before.access_token).await.is_err());
    let after = token(
        s,
        None,
        TokenRequest::password("hank", "correct horse battery"),
    )
    .await
    .unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&after.access_token)
            .unwrap()
            .kid
            .unwrap(),
        new_kid
    );
    cold_id.authenticate(&after.access_token).await.unwrap();

    // A cache that follows the store forgets a key deleted elsewhere (the
    // watch's delete) even though it had it.
    let other = AuthState::new(
        AuthSettings::default(),
        f._dir.path(),
        s.auth.keys.kek().clone(),
    );
    other.keys.set_synced(true);
    let other_id = Identity { auth: &other, ..s };
    other_id.authenticate(&after.access_token).await.unwrap();
    assert_eq!(other.keys.len(), 1);
    other
        .keys
        .apply(&format!("{}{new_kid}", keys::KEYS_PREFIX), None);
    assert!(other.keys.is_empty());

    // A key retired longer ago than the TTL is refused even if present.
    let (_, _, _) = s
        .auth
        .keys
        .rotate(s.store, s.clock.now_secs(), 900, false)
        .await
        .unwrap();
    let retired_path = format!("{}{new_kid}", keys::KEYS_PREFIX);
    let mut r: keys::KeyRecord =
        serde_json::from_slice(&s.store.get(&retired_path).await.unwrap().unwrap().value).unwrap();
    r.retired_at = Some(s.clock.now_secs() - 901);
    crate::store::put(s.store, &retired_path, serde_json::to_vec(&r).unwrap())
        .await
        .unwrap();
    let fresh = AuthState::new(
        AuthSettings::default(),
        f._dir.path(),
        s.auth.keys.kek().clone(),
    );
    let e = Identity { auth: &fresh, ..s }
        .authenticate(&after.access_token)
        .await
        .unwrap_err();
    assert!(e.message.contains("unknown or revoked key"), "{e}");
    // ... and the next rotation deletes it.
    let (_, _, gone) = s
        .auth
        .keys
        .rotate(s.store, s.clock.now_secs(), 900, false)
        .await
        .unwrap();
    assert!(gone.contains(&new_kid), "{gone:?}");
}

#[tokio::test]
async fn logout_and_refresh_reuse_end_the_access_tokens_of_the_session() {
    let f = fixture();
    let s = f.id();
    let a = signup_login(s, "ivy").await;
    let b = token(
        s,
        None,
        TokenRequest::password("ivy", "correct horse battery"),
    )
    .await
    .unwrap();
    s.authenticate(&a.access_token).await.unwrap();
    logout(
        s,
        LogoutRequest {
            refresh_token: a.refresh_token.clone().unwrap(),
        },
    )
    .await
    .unwrap();
    let e = s.authenticate(&a.access_token).await.unwrap_err();
    assert!(e.message.contains("logged out or revoked"), "{e}");
    // The other session carries on.
    s.authenticate(&b.access_token).await.unwrap();
    let w = whoami(s, Some(&b.access_token)).await.unwrap();
    assert!(w.session.is_some_and(|sid| sid.starts_with("fam_")));

    // Reuse of b's first refresh token: the session and its access tokens end.
    let rb = b.refresh_token.clone().unwrap();
    let b2 = token(s, None, TokenRequest::refresh(&rb)).await.unwrap();
    s.authenticate(&b2.access_token).await.unwrap();
    assert!(token(s, None, TokenRequest::refresh(&rb)).await.is_err());
    for t in [&b.access_token, &b2.access_token] {
        let e = s.authenticate(t).await.unwrap_err();
        assert!(e.message.contains("logged out or revoked"), "{e}");
    }
}

#[tokio::test]
async fn password_change_ends_every_session_and_starts_a_new_one() {
    let f = fixture();
    let s = f.id();
    let a = signup_login(s, "jack").await;
    let b = token(
        s,
        None,
        TokenRequest::password("jack", "correct horse battery"),
    )
    .await
    .unwrap();
    let req = |cur: &str, new: &str| PasswordChangeRequest {
        current_password: cur.into(),
        new_password: new.into(),
    };
    let t = Some(a.access_token.as_str());
    let e = change_password(s, t, None, req("wrong one", "tortoise umbrella kettle"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    assert!(e.message.contains("current password"), "{e}");
    let e = change_password(s, t, None, req("correct horse battery", "password1"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    let fresh = change_password(
        s,
        t,
        None,
        req("correct horse battery", "tortoise umbrella kettle"),
    )
    .await
    .unwrap();
    for old in [&a.access_token, &b.access_token] {
        let e = s.authenticate(old).await.unwrap_err();
        assert!(e.message.contains("session has ended"), "{e}");
    }
    for rt in [a.refresh_token.unwrap(), b.refresh_token.unwrap()] {
        assert_eq!(
            code(token(s, None, TokenRequest::refresh(rt)).await),
            ErrorCode::Unauthenticated
        );
    }
    s.authenticate(&fresh.access_token).await.unwrap();
    token(s, None, TokenRequest::refresh(fresh.refresh_token.unwrap()))
        .await
        .unwrap();
    assert!(
        token(
            s,
            None,
            TokenRequest::password("jack", "correct horse battery")
        )
        .await
        .is_err()
    );
    token(
        s,
        None,
        TokenRequest::password("jack", "tortoise umbrella kettle"),
    )
    .await
    .unwrap();
}

async fn operator(s: Identity<'_>, dir: &std::path::Path) -> TokenResponse {
    let path = prepare_bootstrap(s.store, dir, "n1", s.clock.now_secs())
        .await
        .unwrap()
        .unwrap();
    let setup = std::fs::read_to_string(path).unwrap();
    bootstrap(
        s,
        BootstrapRequest {
            setup_token: setup,
            username: "root".into(),
            password: "operator password".into(),
        },
    )
    .await
    .unwrap();
    token(s, None, TokenRequest::password("root", "operator password"))
        .await
        .unwrap()
}

#[tokio::test]
async fn operators_disable_and_enable_accounts() {
    let f = fixture();
    let s = f.id();
    let op = operator(s, f._dir.path()).await;
    let opt = Some(op.access_token.as_str());
    let k = signup_login(s, "kim").await;
    let who = |n: &str| AccountRef { username: n.into() };
    assert_eq!(
        code(set_disabled(s, Some(&k.access_token), who("root"), true).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(set_disabled(s, opt, who("root"), true).await),
        ErrorCode::BadRequest
    );
    assert_eq!(
        code(set_disabled(s, opt, who("nobody"), true).await),
        ErrorCode::NotFound
    );
    let acc = set_disabled(s, opt, who("kim"), true).await.unwrap();
    assert!(acc.disabled);
    let e = s.authenticate(&k.access_token).await.unwrap_err();
    assert!(e.message.contains("disabled"), "{e}");
    let e = token(
        s,
        None,
        TokenRequest::refresh(k.refresh_token.clone().unwrap()),
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("disabled"), "{e}");
    let e = token(
        s,
        None,
        TokenRequest::password("kim", "correct horse battery"),
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("disabled"), "{e}");
    // A wrong password still says only that.
    let e = token(s, None, TokenRequest::password("kim", "not her password"))
        .await
        .unwrap_err();
    assert_eq!(e.message, "wrong username or password");
    assert!(
        !set_disabled(s, opt, who("kim"), false)
            .await
            .unwrap()
            .disabled
    );
    // Enabled again: a new login works; the old session stays ended.
    token(
        s,
        None,
        TokenRequest::password("kim", "correct horse battery"),
    )
    .await
    .unwrap();
    assert!(s.authenticate(&k.access_token).await.is_err());
}

#[tokio::test]
async fn service_accounts_are_deleted_and_their_secrets_rotated() {
    let f = fixture();
    let s = f.id();
    let op = operator(s, f._dir.path()).await;
    let opt = Some(op.access_token.as_str());
    let sa = create_service_account(
        s,
        opt,
        ServiceAccountCreateRequest {
            name: "printer".into(),
        },
    )
    .await
    .unwrap();
    let t = token(
        s,
        None,
        TokenRequest::client_credentials(&sa.client_id, &sa.client_secret),
    )
    .await
    .unwrap();
    let name = || ServiceAccountRef {
        name: "printer".into(),
    };
    let rotated = rotate_service_secret(s, opt, name()).await.unwrap();
    assert_eq!(rotated.client_id, sa.client_id);
    assert_ne!(rotated.client_secret, sa.client_secret);
    assert!(
        s.authenticate(&t.access_token).await.is_err(),
        "old tokens end"
    );
    assert!(
        token(
            s,
            None,
            TokenRequest::client_credentials(&sa.client_id, &sa.client_secret)
        )
        .await
        .is_err()
    );
    let t2 = token(
        s,
        None,
        TokenRequest::client_credentials(&sa.client_id, &rotated.client_secret),
    )
    .await
    .unwrap();
    s.authenticate(&t2.access_token).await.unwrap();
    // Only service accounts, only by operators.
    assert_eq!(
        code(
            rotate_service_secret(
                s,
                opt,
                ServiceAccountRef {
                    name: "root".into()
                }
            )
            .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(delete_service_account(s, Some(&t2.access_token), name()).await),
        ErrorCode::Forbidden
    );
    let gone = delete_service_account(s, opt, name()).await.unwrap();
    assert_eq!(gone.client_id, sa.client_id);
    assert!(s.authenticate(&t2.access_token).await.is_err());
    assert!(user_by_name(s.store, "printer").await.unwrap().is_none());
    assert_eq!(
        code(delete_service_account(s, opt, name()).await),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn sessions_end_a_fixed_time_after_login_however_often_renewed() {
    let settings = AuthSettings {
        access_ttl_secs: 60,
        refresh_ttl_secs: 3600,
    };
    let (f, clock) = manual_fixture(settings);
    let s = on(&f, &clock);
    signup(
        s,
        SignupRequest {
            username: "lea".into(),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    let t = token(
        s,
        None,
        TokenRequest::password("lea", "correct horse battery"),
    )
    .await
    .unwrap();
    assert_eq!(t.refresh_expires_in, Some(3600));
    let mut rt = t.refresh_token.unwrap();
    // Renewed every 20 minutes: the last renewal still ends at login + 1 h.
    for left in [2400, 1200] {
        clock.advance(1200000);
        let t = token(s, None, TokenRequest::refresh(&rt)).await.unwrap();
        assert_eq!(t.refresh_expires_in, Some(left));
        rt = t.refresh_token.unwrap();
    }
    clock.advance(1200000);
    let e = token(s, None, TokenRequest::refresh(&rt))
        .await
        .unwrap_err();
    assert!(e.message.contains("session expired"), "{e}");
}

#[tokio::test]
async fn logins_are_throttled_per_account_for_known_and_unknown_names() {
    let (f, clock) = manual_fixture(AuthSettings::default());
    let s = on(&f, &clock);
    signup(
        s,
        SignupRequest {
            username: "max".into(),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    for name in ["max", "nobody-here"] {
        for i in 0..throttle::ACCOUNT_FREE {
            let e = token(s, None, TokenRequest::password(name, "bad guess"))
                .await
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::Unauthenticated, "{name} attempt {i}");
        }
        // The next attempt must wait a second: refused without a check,
        // the right password included.
        let e = token(
            s,
            None,
            TokenRequest::password(name, "correct horse battery"),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unavailable, "{name}: {e}");
        assert!(
            e.message
                .contains("too many failed logins for this account"),
            "{e}"
        );
        assert_eq!(e.retry_after_ms, Some(1000));
        clock.advance(1000);
        let e = token(s, None, TokenRequest::password(name, "bad guess"))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthenticated, "{name}: its turn came");
        // Then two seconds.
        clock.advance(1500);
        let e = token(s, None, TokenRequest::password(name, "bad guess"))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.retry_after_ms),
            (ErrorCode::Unavailable, Some(500)),
            "{e}"
        );
    }
    // After waiting, the right password works and clears the count.
    clock.advance(2000);
    token(
        s,
        None,
        TokenRequest::password("max", "correct horse battery"),
    )
    .await
    .unwrap();
    let e = token(s, None, TokenRequest::password("max", "bad guess"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
}

#[tokio::test]
async fn logins_are_throttled_per_source_address() {
    let (f, clock) = manual_fixture(AuthSettings::default());
    let s = on(&f, &clock);
    let here: Option<std::net::IpAddr> = Some("192.0.2.7".parse().unwrap());
    let elsewhere: Option<std::net::IpAddr> = Some("192.0.2.8".parse().unwrap());
    // Many names, one address: the address's free failures run out.
    for i in 0..throttle::ADDR_FREE {
        let e = token(
            s,
            here,
            TokenRequest::password(format!("user{i}"), "bad guess"),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthenticated, "attempt {i}");
    }
    let e = token(s, here, TokenRequest::password("someone", "bad guess"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unavailable, "{e}");
    assert!(e.message.contains("from this address"), "{e}");
    assert!(e.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 1000));
    // Another address is not held back.
    let e = token(s, elsewhere, TokenRequest::password("someone", "bad guess"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
}

#[tokio::test]
async fn unknown_usernames_take_the_same_path_as_known_ones() {
    let f = fixture();
    let s = f.id();
    signup_login(s, "nina").await;
    // Warm up (the dummy hash is made on first need).
    let _ = token(s, None, TokenRequest::password("zed", "bad guess")).await;
    for name in ["nina", "zed-unknown", "Not A Valid Name"] {
        let before = s.auth.hasher.verifications();
        let e = token(s, None, TokenRequest::password(name, "bad guess"))
            .await
            .unwrap_err();
        assert_eq!(e.message, "wrong username or password", "{name}");
        assert_eq!(
            s.auth.hasher.verifications(),
            before + 1,
            "{name}: exactly one argon2id verification"
        );
    }
    // The dummy hash has the parameters of a real one.
    let real = user_by_name(s.store, "nina")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    let dummy = s.auth.hasher.dummy_hash().await.unwrap();
    let params = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_string();
    assert_eq!(params(&real), params(&dummy));
}

/// The reads, transactions and lease grants a store was asked for.
fn reads_and_writes(calls: &crate::store::testing::Recorded) -> usize {
    use crate::store::testing::Call::*;
    calls.count(&[Revision, Get, Range, Txn, LeaseGrant])
}

/// What revocation costs: checking a token reads the caller's account
/// record and nothing else (the record says whether the session, the
/// token generation and the account still stand), the same one read a
/// request made before sessions could be revoked; with the key cache
/// following the store, the signing key costs no read.
#[tokio::test]
async fn checking_a_token_costs_one_store_read_revocation_included() {
    let f = fixture();
    let counting = Arc::new(crate::store::testing::Hooked {
        inner: f.store.clone(),
        hooks: crate::store::testing::Recorded::default(),
    });
    let s = Identity {
        store: counting.as_ref(),
        auth: &f.auth,
        clock: &f.clock,
    };
    let t = signup_login(s, "olga").await;
    // Some revoked sessions on the record, as after a few logouts.
    for _ in 0..3 {
        let other = token(
            s,
            None,
            TokenRequest::password("olga", "correct horse battery"),
        )
        .await
        .unwrap();
        logout(
            s,
            LogoutRequest {
                refresh_token: other.refresh_token.unwrap(),
            },
        )
        .await
        .unwrap();
    }
    s.authenticate(&t.access_token).await.unwrap();
    f.auth.keys.set_synced(true);
    let before = reads_and_writes(&counting.hooks);
    s.authenticate(&t.access_token).await.unwrap();
    assert_eq!(
        reads_and_writes(&counting.hooks) - before,
        1,
        "one read: the account record"
    );
    // While the key cache does not follow the store, the key is read too.
    f.auth.keys.set_synced(false);
    let before = reads_and_writes(&counting.hooks);
    s.authenticate(&t.access_token).await.unwrap();
    assert_eq!(reads_and_writes(&counting.hooks) - before, 2);
}

/// Issue 13: ended sessions leave the store. A family past its absolute
/// lifetime goes with its refresh tokens (used ones included); a live
/// session, and its used tokens (kept so that presenting one still revokes
/// the family), stay.
#[tokio::test]
async fn the_retention_sweep_deletes_ended_sessions_only() {
    let settings = AuthSettings {
        access_ttl_secs: 60,
        refresh_ttl_secs: 3600,
    };
    let (f, clock) = manual_fixture(settings);
    let s = on(&f, &clock);
    let old = signup_login(s, "lea").await;
    // Renewed once: one used token, one current.
    let renewed = token(
        s,
        None,
        TokenRequest::refresh(old.refresh_token.as_ref().unwrap()),
    )
    .await
    .unwrap();
    let count = |prefix: &'static str| {
        let store = f.store.clone();
        async move { store.range(prefix).await.unwrap().kvs.len() }
    };
    assert_eq!(
        (count(FAMILIES_PREFIX).await, count(REFRESH_PREFIX).await),
        (1, 2)
    );
    // Half an hour later a second session starts; nothing has ended.
    clock.advance(1_800_000);
    let second = signup_login(s, "kai").await;
    let n = sweep_ended_sessions(f.store.as_ref(), clock.now_secs(), &[])
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Past the first session's hour: it goes (its family and both tokens),
    // the second stays and still renews.
    clock.advance(1_900_000);
    let n = sweep_ended_sessions(f.store.as_ref(), clock.now_secs(), &[])
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        (count(FAMILIES_PREFIX).await, count(REFRESH_PREFIX).await),
        (1, 1)
    );
    token(
        s,
        None,
        TokenRequest::refresh(second.refresh_token.as_ref().unwrap()),
    )
    .await
    .unwrap();
    // The ended session's token is refused, as before the sweep.
    let e = token(
        s,
        None,
        TokenRequest::refresh(renewed.refresh_token.as_ref().unwrap()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated, "{e}");
    // A fence that no longer holds deletes nothing.
    clock.advance(3_700_000);
    let fence = [Compare::mod_revision("/dfood/leader", 999_999)];
    let n = sweep_ended_sessions(f.store.as_ref(), clock.now_secs(), &fence)
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(count(FAMILIES_PREFIX).await, 1);
}

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use protocol::wire::ErrorCode;

use super::*;
use crate::auth::identity::{AuthSettings, AuthState};
use crate::clock::SystemClock;
use crate::rpc::Principal;
use crate::store::embedded::EmbeddedStore;

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
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
    Fixture {
        store,
        auth: AuthState::new(AuthSettings::default(), dir.path()),
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
            password: "correct horse".into(),
        },
    )
    .await
    .unwrap();
    token(s, TokenRequest::password(name, "correct horse"))
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
    assert!(validate_password("12345678").is_ok());
    assert!(validate_password("1234567").is_err());
    assert!(validate_password(&"x".repeat(2000)).is_err());
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
            password: "another one".into(),
        },
    )
    .await;
    assert_eq!(code(dup), ErrorCode::Conflict);
    let wrong = token(s, TokenRequest::password("alice", "wrong password")).await;
    assert_eq!(code(wrong), ErrorCode::Unauthenticated);
    let nobody = token(s, TokenRequest::password("nobody", "wrong password")).await;
    assert_eq!(code(nobody), ErrorCode::Unauthenticated);
    let grant = token(
        s,
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
    let t1 = token(s, TokenRequest::refresh(&r0)).await.unwrap();
    let r1 = t1.refresh_token.clone().unwrap();
    assert_ne!(r0, r1);
    s.authenticate(&t1.access_token).await.unwrap();
    // A second, independent session is not affected by the first's fate.
    let other = token(s, TokenRequest::password("bob", "correct horse"))
        .await
        .unwrap();

    // r0 again: reuse. Refused, and the family is revoked...
    let e = token(s, TokenRequest::refresh(&r0)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    assert!(e.message.contains("already used"), "{e}");
    // ...so the newest token of that family is refused too.
    let e = token(s, TokenRequest::refresh(&r1)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    token(s, TokenRequest::refresh(other.refresh_token.unwrap()))
        .await
        .unwrap();
    let e = token(s, TokenRequest::refresh("garbage"))
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
    let r1 = token(s, TokenRequest::refresh(&r0))
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
        code(token(s, TokenRequest::refresh(&r1)).await),
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
        .current(s.store, s.clock.now_secs())
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
    };
    let expired = keys::sign(&key, &claims).unwrap();
    assert!(msg(s.authenticate(&expired).await).contains("expired"));

    // Unknown kid.
    let (_, body) = expired.split_once('.').unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"k_nope"}"#);
    assert!(msg(s.authenticate(&format!("{header}.{body}")).await).contains("unknown key"));

    // A deleted account.
    claims.exp = now + 60;
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
    let (new_kid, old_kid) = s
        .auth
        .keys
        .rotate(s.store, s.clock.now_secs())
        .await
        .unwrap();
    assert!(old_kid.is_some());
    assert_ne!(Some(new_kid.clone()), old_kid);
    s.authenticate(&before.access_token).await.unwrap();
    let after = token(s, TokenRequest::password("erin", "correct horse"))
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(&after.access_token)
        .unwrap()
        .kid
        .unwrap();
    assert_eq!(kid, new_kid);

    // A second node sharing the store, with a cold cache, verifies both.
    let other_auth = AuthState::new(AuthSettings::default(), f._dir.path());
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
        password: "operator pw".into(),
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

    let op_token = token(s, TokenRequest::password("root", "operator pw"))
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
        TokenRequest::client_credentials(&sa.client_id, &sa.client_secret),
    )
    .await
    .unwrap();
    assert!(t.refresh_token.is_none());
    assert_eq!(t.roles, ["service"]);
    let p = s.authenticate(&t.access_token).await.unwrap();
    assert!(p.service && !p.operator);
    assert_eq!(
        code(token(s, TokenRequest::client_credentials(&sa.client_id, "nope")).await),
        ErrorCode::Unauthenticated
    );
    // Service accounts have no password.
    assert_eq!(
        code(token(s, TokenRequest::password("printer", "whatever1")).await),
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
    assert_eq!(code(rotate_key(s, as_customer).await), ErrorCode::Forbidden);
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

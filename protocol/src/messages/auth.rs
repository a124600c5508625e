//! Accounts and tokens: the bodies of `auth.*` and `admin.*` requests.
//!
//! | type                          | request body                | response body            | token    |
//! |-------------------------------|-----------------------------|--------------------------|----------|
//! | `auth.signup`                 | [`SignupRequest`]           | [`Account`]              | none     |
//! | `auth.token`                  | [`TokenRequest`]            | [`TokenResponse`]        | none     |
//! | `auth.logout`                 | [`LogoutRequest`]           | [`LogoutResponse`]       | none     |
//! | `auth.whoami`                 | `{}`                        | [`WhoamiResponse`]       | required |
//! | `auth.service_account.create` | [`ServiceAccountCreateRequest`] | [`ServiceAccountCreated`] | operator |
//! | `auth.service_account.delete` | [`ServiceAccountRef`]       | [`ServiceAccountDeleted`] | operator |
//! | `auth.service_account.rotate` | [`ServiceAccountRef`]       | [`ServiceAccountCreated`] | operator |
//! | `auth.password`               | [`PasswordChangeRequest`]   | [`TokenResponse`]        | required |
//! | `auth.account.disable`        | [`AccountRef`]              | [`Account`]              | operator |
//! | `auth.account.enable`         | [`AccountRef`]              | [`Account`]              | operator |
//! | `auth.rotate_key`             | [`RotateKeyRequest`]        | [`RotateKeyResponse`]    | operator |
//! | `admin.bootstrap`             | [`BootstrapRequest`]        | [`Account`]              | none (setup token in body) |
//!
//! See `protocol/README.md` §5.3 for the semantics.

use serde::{Deserialize, Serialize};

/// Request type names.
pub mod types {
    pub const SIGNUP: &str = "auth.signup";
    pub const TOKEN: &str = "auth.token";
    pub const LOGOUT: &str = "auth.logout";
    pub const WHOAMI: &str = "auth.whoami";
    pub const SERVICE_ACCOUNT_CREATE: &str = "auth.service_account.create";
    pub const SERVICE_ACCOUNT_DELETE: &str = "auth.service_account.delete";
    pub const SERVICE_ACCOUNT_ROTATE: &str = "auth.service_account.rotate";
    pub const PASSWORD: &str = "auth.password";
    pub const ACCOUNT_DISABLE: &str = "auth.account.disable";
    pub const ACCOUNT_ENABLE: &str = "auth.account.enable";
    pub const ROTATE_KEY: &str = "auth.rotate_key";
    pub const BOOTSTRAP: &str = "admin.bootstrap";
    /// Every type above, for "known types" lists.
    pub const ALL: &[&str] = &[
        SIGNUP,
        TOKEN,
        LOGOUT,
        WHOAMI,
        SERVICE_ACCOUNT_CREATE,
        SERVICE_ACCOUNT_DELETE,
        SERVICE_ACCOUNT_ROTATE,
        PASSWORD,
        ACCOUNT_DISABLE,
        ACCOUNT_ENABLE,
        ROTATE_KEY,
        BOOTSTRAP,
    ];
}

/// `grant_type` values of `auth.token`.
pub mod grant {
    pub const PASSWORD: &str = "password";
    pub const REFRESH_TOKEN: &str = "refresh_token";
    pub const CLIENT_CREDENTIALS: &str = "client_credentials";
}

/// `auth.signup`: create a customer account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignupRequest {
    /// 3-32 characters of `a-z`, `0-9`, `_`, `.`, `-`.
    pub username: String,
    /// 8 to 1024 bytes, not common or easily guessed (see `protocol/README.md`
    /// §5.3, the password policy).
    pub password: String,
}

/// An account as the server describes it (never any secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub user_id: String,
    pub username: String,
    #[serde(default)]
    pub operator: bool,
    #[serde(default)]
    pub service: bool,
    /// Unix seconds.
    #[serde(default)]
    pub created_at: u64,
    /// Disabled by an operator: no login, no token accepted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// `auth.token`: OAuth 2.0-style token request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// `password`, `refresh_token` or `client_credentials`.
    pub grant_type: String,
    /// `password` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `password` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `refresh_token` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `client_credentials` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `client_credentials` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl TokenRequest {
    pub fn password(username: impl Into<String>, password: impl Into<String>) -> Self {
        TokenRequest {
            grant_type: grant::PASSWORD.into(),
            username: Some(username.into()),
            password: Some(password.into()),
            ..Default::default()
        }
    }

    pub fn refresh(refresh_token: impl Into<String>) -> Self {
        TokenRequest {
            grant_type: grant::REFRESH_TOKEN.into(),
            refresh_token: Some(refresh_token.into()),
            ..Default::default()
        }
    }

    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        TokenRequest {
            grant_type: grant::CLIENT_CREDENTIALS.into(),
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// A JWT (HS256) to send as the request envelope's `token`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    /// One-use refresh token (absent for `client_credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Seconds the refresh token is valid for (absent with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<u64>,
    /// The roles, space separated (OAuth `scope`), e.g. `customer operator`.
    #[serde(default)]
    pub scope: String,
    /// The same roles as a list.
    #[serde(default)]
    pub roles: Vec<String>,
    pub user_id: String,
    pub username: String,
}

/// `auth.logout`: revoke the refresh token's whole family (the session).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutResponse {
    /// False when the token was unknown (logging out twice is fine).
    pub revoked: bool,
}

/// `auth.whoami`: the caller, from its access token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhoamiRequest {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoamiResponse {
    pub user_id: String,
    pub username: String,
    pub operator: bool,
    pub service: bool,
    pub roles: Vec<String>,
    /// When the access token used expires, Unix seconds.
    pub token_expires_at: u64,
    /// The login session the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// `auth.service_account.create` (operator only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceAccountCreateRequest {
    /// Same rules as a username; shares their namespace.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountCreated {
    pub name: String,
    /// Also the account's user id.
    pub client_id: String,
    /// Shown once: the server keeps only its hash.
    pub client_secret: String,
    #[serde(default)]
    pub created_at: u64,
}

/// `auth.service_account.delete` and `.rotate` (operator only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceAccountRef {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountDeleted {
    pub name: String,
    pub client_id: String,
}

/// `auth.password`: change the caller's password. Every session of the
/// account ends (its access tokens are refused on every node); the answer
/// is a new session for the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

/// `auth.account.disable` / `auth.account.enable` (operator only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRef {
    pub username: String,
}

/// `auth.rotate_key` (operator only): a new signing key becomes current.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RotateKeyRequest {
    /// Also delete every older key: tokens they signed are refused on
    /// every node within a second (clients renew theirs with their
    /// refresh tokens).
    #[serde(default)]
    pub revoke_old: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateKeyResponse {
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_kid: Option<String>,
    /// Keys deleted (with `revoke_old`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
}

/// `admin.bootstrap`: create the first operator with the one-time setup
/// token `dfoodd` wrote to `<data_dir>/setup-token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapRequest {
    pub setup_token: String,
    pub username: String,
    pub password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_request_omits_unused_fields() {
        let j = serde_json::to_value(TokenRequest::refresh("r")).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"grant_type": "refresh_token", "refresh_token": "r"})
        );
    }

    #[test]
    fn token_response_tolerates_missing_optionals() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","token_type":"Bearer","expires_in":900,"user_id":"u","username":"n","extra":1}"#,
        )
        .unwrap();
        assert!(r.refresh_token.is_none());
        assert!(r.roles.is_empty());
    }
}

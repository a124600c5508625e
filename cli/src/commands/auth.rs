//! Accounts and sessions: `signup`, `login`, `logout`, `whoami`, `passwd`,
//! `service-account create|delete|rotate-secret`, `admin bootstrap`,
//! `admin rotate-key`, `admin disable|enable`, and [`connect_authed`],
//! which every command that needs a login uses.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use protocol::client::ClientError;
use protocol::messages::auth::{
    Account, AccountRef, BootstrapRequest, LogoutRequest, LogoutResponse, PasswordChangeRequest,
    RotateKeyRequest, RotateKeyResponse, ServiceAccountCreateRequest, ServiceAccountCreated,
    ServiceAccountDeleted, ServiceAccountRef, SignupRequest, TokenRequest, TokenResponse,
    WhoamiRequest, WhoamiResponse, types,
};
use protocol::session::Session;
use protocol::wire::ErrorCode;
use serde::Serialize;

use super::{config_path, connect};
use crate::args::Global;
use crate::credentials::{self, Credentials, CredentialsError, unix_now};
use crate::exit;
use crate::output::{CliError, emit, kv_table};

/// Refresh when the access token has less than this left.
pub const REFRESH_MARGIN_SECS: u64 = 30;

#[derive(Debug, Args)]
pub struct SignupArgs {
    /// 3-32 characters of a-z, 0-9, '_', '.' or '-'.
    #[arg(long, short = 'u', value_name = "NAME")]
    pub username: String,
    /// Read the password from the first line of stdin (else DFOOD_PASSWORD,
    /// else a prompt when stdin is a terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Log in as this user (password grant).
    #[arg(
        long,
        short = 'u',
        value_name = "NAME",
        required_unless_present = "client_id",
        conflicts_with = "client_id"
    )]
    pub username: Option<String>,
    /// Log in as this service account instead (client credentials); the
    /// secret comes from stdin with --password-stdin, else
    /// DFOOD_CLIENT_SECRET, else a prompt.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the password (or client secret) from the first line of stdin
    /// (else DFOOD_PASSWORD, else a prompt when stdin is a terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the current password, then the new one, from the first two
    /// lines of stdin (else DFOOD_PASSWORD and DFOOD_NEW_PASSWORD, else
    /// prompts when stdin is a terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum ServiceAccountCmd {
    /// Create a service account; prints its client_id and client_secret
    /// (shown once: store it now). Scripts log in with
    /// `dfood login --client-id ID` and DFOOD_CLIENT_SECRET.
    Create {
        /// Same rules as a username.
        name: String,
    },
    /// Delete a service account: its secret and every token it holds stop
    /// working at once.
    Delete { name: String },
    /// Give a service account a new secret (printed once); the old secret
    /// and every token issued with it stop working at once.
    RotateSecret { name: String },
}

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create the first operator with the one-time setup token dfoodd wrote
    /// to <data-dir>/setup-token, then log in as it.
    Bootstrap {
        /// The setup token file (dfoodd logs its path).
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// The operator's username.
        #[arg(long, short = 'u', value_name = "NAME")]
        username: String,
        /// Read the password from the first line of stdin (else
        /// DFOOD_PASSWORD, else a prompt when stdin is a terminal).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make a new token signing key current (operators). Tokens signed with
    /// older keys stay valid until they expire, unless --revoke-old.
    RotateKey {
        /// Also delete every older key: tokens they signed are refused on
        /// every node within a second (clients renew theirs with their
        /// refresh tokens). For a key that may have leaked.
        #[arg(long)]
        revoke_old: bool,
    },
    /// Disable an account (operators): it cannot log in, and its sessions
    /// and tokens are refused on every node at once.
    Disable {
        /// The username (or service account name).
        username: String,
    },
    /// Enable a disabled account again (operators); it logs in anew.
    Enable {
        /// The username (or service account name).
        username: String,
    },
}

/// What login, signup and bootstrap print.
#[derive(Debug, Serialize)]
pub struct SessionOut {
    pub user_id: String,
    pub username: String,
    pub operator: bool,
    pub service: bool,
    pub roles: Vec<String>,
    /// Unix seconds.
    pub access_expires_at: u64,
    /// Whether the session renews itself (false for service accounts).
    pub refreshable: bool,
    pub credentials_file: PathBuf,
}

#[derive(Debug, Serialize)]
struct LogoutOut {
    logged_out: bool,
    /// The session was revoked on the daemon.
    revoked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}

fn unauthenticated(message: impl Into<String>) -> CliError {
    CliError::new(exit::UNAUTHENTICATED, "unauthenticated", message)
}

fn not_logged_in() -> CliError {
    unauthenticated("not logged in: run `dfood login --username NAME`")
}

impl From<CredentialsError> for CliError {
    fn from(e: CredentialsError) -> Self {
        CliError::config(e.to_string())
    }
}

/// Where this config dir keeps the session.
pub fn credentials_path(g: &Global) -> Result<PathBuf, CliError> {
    config_path(g)
        .map(|p| credentials::path_for(&p))
        .ok_or_else(|| CliError::config("no config directory; pass --config FILE"))
}

/// Connects and returns an access token: `--token`/DFOOD_TOKEN if given,
/// else the saved session's, refreshed first when it is expired or within
/// 30 s of expiry (the new pair is saved).
pub async fn connect_authed(g: &Global) -> Result<(Session, String), CliError> {
    if let Some(t) = g.token.as_deref().filter(|t| !t.is_empty()) {
        return Ok((connect(g).await?, t.to_string()));
    }
    let path = credentials_path(g)?;
    let creds = credentials::load(&path)?.ok_or_else(not_logged_in)?;
    let client = connect(g).await?;
    if !creds.stale(unix_now(), REFRESH_MARGIN_SECS) {
        return Ok((client, creds.access_token));
    }
    let token = refresh_saved(&client, &path).await?;
    Ok((client, token))
}

/// A fresh access token for a long-lived command whose token expired
/// (a stream resubscribing after a quarter of an hour): the saved login
/// renewed, or `None` when the token was given with `--token` (nothing to
/// renew it with).
pub async fn renew_saved_token(g: &Global, client: &Session) -> Result<Option<String>, CliError> {
    if g.token.as_deref().is_some_and(|t| !t.is_empty()) {
        return Ok(None);
    }
    let path = credentials_path(g)?;
    refresh_saved(client, &path).await.map(Some)
}

/// Renews the saved session's access token even though it has not expired
/// (the daemon refused it: its signing key was revoked, say). True when a
/// new one was saved; false when there is nothing to renew with (`--token`,
/// no saved session, a service account's) or the session is over.
pub async fn force_refresh(g: &Global) -> bool {
    if g.token.as_deref().is_some_and(|t| !t.is_empty()) {
        return false;
    }
    let Ok(path) = credentials_path(g) else {
        return false;
    };
    match credentials::load(&path) {
        Ok(Some(c)) if c.refresh_token.is_some() => {}
        _ => return false,
    }
    let Ok(client) = connect(g).await else {
        return false;
    };
    let renewed = renew(&client, &path, true).await.is_ok();
    client.close().await;
    renewed
}

async fn refresh_saved(client: &Session, path: &Path) -> Result<String, CliError> {
    renew(client, path, false).await
}

async fn renew(client: &Session, path: &Path, force: bool) -> Result<String, CliError> {
    // One refresher at a time: a refresh token works once.
    let _lock = credentials::lock(path)?;
    let creds = credentials::load(path)?.ok_or_else(not_logged_in)?;
    if !force && !creds.stale(unix_now(), REFRESH_MARGIN_SECS) {
        return Ok(creds.access_token); // another dfood refreshed meanwhile
    }
    let Some(rt) = creds.refresh_token.clone() else {
        return Err(unauthenticated(
            "access token expired and service account sessions do not renew: run `dfood login --client-id ID`",
        ));
    };
    let resp: TokenResponse = match client
        .call(types::TOKEN, None, &TokenRequest::refresh(rt))
        .await
    {
        Ok(r) => r,
        Err(ClientError::Server(b)) if b.code == ErrorCode::Unauthenticated => {
            // The session is over (expired, revoked, or reused): forget it.
            let _ = credentials::remove(path);
            return Err(unauthenticated(format!("{} (session ended)", b.message)));
        }
        Err(e) => return Err(e.into()),
    };
    let next = credentials_from(&creds.endpoint, &resp, &creds);
    credentials::save(path, &next)?;
    Ok(next.access_token)
}

fn credentials_from(endpoint: &str, t: &TokenResponse, prev: &Credentials) -> Credentials {
    let now = unix_now();
    Credentials {
        endpoint: endpoint.to_string(),
        user_id: t.user_id.clone(),
        username: t.username.clone(),
        operator: t.roles.iter().any(|r| r == "operator"),
        service: t.roles.iter().any(|r| r == "service"),
        access_token: t.access_token.clone(),
        access_expires_at: now + t.expires_in,
        refresh_token: t.refresh_token.clone(),
        refresh_expires_at: t.refresh_expires_in.map(|s| now + s).or(prev
            .refresh_expires_at
            .filter(|_| t.refresh_token.is_some())),
    }
}

/// Saves a fresh session and describes it.
fn save_session(g: &Global, client: &Session, t: &TokenResponse) -> Result<SessionOut, CliError> {
    let path = credentials_path(g)?;
    let blank = Credentials {
        endpoint: String::new(),
        user_id: String::new(),
        username: String::new(),
        operator: false,
        service: false,
        access_token: String::new(),
        access_expires_at: 0,
        refresh_token: None,
        refresh_expires_at: None,
    };
    let c = credentials_from(&client.remote().to_string(), t, &blank);
    {
        let _lock = credentials::lock(&path)?;
        credentials::save(&path, &c)?;
    }
    Ok(SessionOut {
        user_id: c.user_id,
        username: c.username,
        operator: c.operator,
        service: c.service,
        roles: t.roles.clone(),
        access_expires_at: c.access_expires_at,
        refreshable: c.refresh_token.is_some(),
        credentials_file: path,
    })
}

fn human_session(verb: &str, s: &SessionOut) -> String {
    let mut roles = s.roles.join(", ");
    if roles.is_empty() {
        roles = "-".into();
    }
    format!("{verb} {} (roles: {roles})", s.username)
}

/// A password or secret: `--password-stdin`, else the environment
/// variable, else a no-echo prompt when stdin is a terminal. Never prompts
/// otherwise.
fn read_secret(what: &str, from_stdin: bool, env: &str, confirm: bool) -> Result<String, CliError> {
    let usage = |m: String| CliError::new(exit::USAGE, "bad_request", m);
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| usage(format!("cannot read the {what} from stdin: {e}")))?;
        let s = line.trim_end_matches(['\n', '\r']).to_string();
        if s.is_empty() {
            return Err(usage(format!("--password-stdin: no {what} on stdin")));
        }
        return Ok(s);
    }
    if let Ok(v) = std::env::var(env)
        && !v.is_empty()
    {
        return Ok(v);
    }
    if !std::io::stdin().is_terminal() {
        return Err(usage(format!(
            "no {what} given and stdin is not a terminal: use --password-stdin or set {env}"
        )));
    }
    let first = rpassword::prompt_password(format!("{what}: "))
        .map_err(|e| usage(format!("cannot read the {what}: {e}")))?;
    if confirm {
        let again = rpassword::prompt_password(format!("repeat {what}: "))
            .map_err(|e| usage(format!("cannot read the {what}: {e}")))?;
        if again != first {
            return Err(usage(format!("the two {what}s differ")));
        }
    }
    Ok(first)
}

pub async fn signup(g: &Global, a: SignupArgs) -> Result<(), CliError> {
    let password = read_secret("password", a.password_stdin, "DFOOD_PASSWORD", true)?;
    let client = connect(g).await?;
    let _: Account = client
        .call(
            types::SIGNUP,
            None,
            &SignupRequest {
                username: a.username.clone(),
                password: password.clone(),
            },
        )
        .await?;
    let t: TokenResponse = client
        .call(
            types::TOKEN,
            None,
            &TokenRequest::password(&a.username, &password),
        )
        .await?;
    let out = save_session(g, &client, &t)?;
    emit(g.output, &out, |s| {
        human_session("signed up and logged in as", s)
    });
    client.close().await;
    Ok(())
}

pub async fn login(g: &Global, a: LoginArgs) -> Result<(), CliError> {
    let req = match (&a.username, &a.client_id) {
        (_, Some(id)) => {
            let secret = read_secret(
                "client secret",
                a.password_stdin,
                "DFOOD_CLIENT_SECRET",
                false,
            )?;
            TokenRequest::client_credentials(id, secret)
        }
        (Some(u), None) => {
            let password = read_secret("password", a.password_stdin, "DFOOD_PASSWORD", false)?;
            TokenRequest::password(u, password)
        }
        (None, None) => {
            return Err(CliError::new(
                exit::USAGE,
                "bad_request",
                "give --username NAME or --client-id ID",
            ));
        }
    };
    let client = connect(g).await?;
    let t: TokenResponse = client.call(types::TOKEN, None, &req).await?;
    let out = save_session(g, &client, &t)?;
    emit(g.output, &out, |s| human_session("logged in as", s));
    client.close().await;
    Ok(())
}

pub async fn logout(g: &Global) -> Result<(), CliError> {
    let path = credentials_path(g)?;
    let _lock = credentials::lock(&path)?;
    let Some(creds) = credentials::load(&path).ok().flatten() else {
        credentials::remove(&path)?;
        let out = LogoutOut {
            logged_out: false,
            revoked: false,
            username: None,
        };
        emit(g.output, &out, |_| "not logged in".to_string());
        return Ok(());
    };
    // Revoke on the daemon first; the local session goes either way.
    let revoked = match &creds.refresh_token {
        None => Ok(false),
        Some(rt) => {
            async {
                let client = connect(g).await?;
                let r: LogoutResponse = client
                    .call(
                        types::LOGOUT,
                        None,
                        &LogoutRequest {
                            refresh_token: rt.clone(),
                        },
                    )
                    .await?;
                client.close().await;
                Ok::<_, CliError>(r.revoked)
            }
            .await
        }
    };
    credentials::remove(&path)?;
    let revoked = revoked.map_err(|mut e| {
        e.message = format!(
            "logged out here, but could not revoke the session on the daemon: {}",
            e.message
        );
        e
    })?;
    let out = LogoutOut {
        logged_out: true,
        revoked,
        username: Some(creds.username),
    };
    emit(g.output, &out, |o| {
        format!("logged out {}", o.username.as_deref().unwrap_or_default())
    });
    Ok(())
}

pub async fn whoami(g: &Global) -> Result<(), CliError> {
    let (client, token) = connect_authed(g).await?;
    let w: WhoamiResponse = client
        .call(types::WHOAMI, Some(&token), &WhoamiRequest {})
        .await?;
    emit(g.output, &w, |w| {
        let left = w.token_expires_at.saturating_sub(unix_now());
        kv_table(&[
            ("username", w.username.clone()),
            ("user_id", w.user_id.clone()),
            ("roles", w.roles.join(", ")),
            (
                "token",
                format!(
                    "expires in {} (renewed automatically)",
                    crate::output::human_duration(left)
                ),
            ),
        ])
    });
    client.close().await;
    Ok(())
}

pub async fn service_account(g: &Global, cmd: ServiceAccountCmd) -> Result<(), CliError> {
    match cmd {
        ServiceAccountCmd::Create { name } => {
            let (client, token) = connect_authed(g).await?;
            let sa: ServiceAccountCreated = client
                .call(
                    types::SERVICE_ACCOUNT_CREATE,
                    Some(&token),
                    &ServiceAccountCreateRequest { name },
                )
                .await?;
            emit(g.output, &sa, |s| {
                format!(
                    "{}\n\nThe secret is shown only this once: store it now.\nLog in with: DFOOD_CLIENT_SECRET=... dfood login --client-id {}",
                    kv_table(&[
                        ("name", s.name.clone()),
                        ("client_id", s.client_id.clone()),
                        ("client_secret", s.client_secret.clone()),
                    ]),
                    s.client_id
                )
            });
            client.close().await;
            Ok(())
        }
        ServiceAccountCmd::Delete { name } => {
            let (client, token) = connect_authed(g).await?;
            let d: ServiceAccountDeleted = client
                .call(
                    types::SERVICE_ACCOUNT_DELETE,
                    Some(&token),
                    &ServiceAccountRef { name },
                )
                .await?;
            emit(g.output, &d, |d| {
                format!("service account {} ({}) deleted", d.name, d.client_id)
            });
            client.close().await;
            Ok(())
        }
        ServiceAccountCmd::RotateSecret { name } => {
            let (client, token) = connect_authed(g).await?;
            let sa: ServiceAccountCreated = client
                .call(
                    types::SERVICE_ACCOUNT_ROTATE,
                    Some(&token),
                    &ServiceAccountRef { name },
                )
                .await?;
            emit(g.output, &sa, |s| {
                format!(
                    "{}\n\nThe new secret is shown only this once: store it now. The old one no longer works.",
                    kv_table(&[
                        ("name", s.name.clone()),
                        ("client_id", s.client_id.clone()),
                        ("client_secret", s.client_secret.clone()),
                    ])
                )
            });
            client.close().await;
            Ok(())
        }
    }
}

async fn set_disabled(g: &Global, ty: &str, username: String) -> Result<(), CliError> {
    let (client, token) = connect_authed(g).await?;
    let a: Account = client
        .call(ty, Some(&token), &AccountRef { username })
        .await?;
    emit(g.output, &a, |a| {
        if a.disabled {
            format!(
                "{} is disabled: no login, and its sessions are refused",
                a.username
            )
        } else {
            format!("{} is enabled: it may log in again", a.username)
        }
    });
    client.close().await;
    Ok(())
}

pub async fn passwd(g: &Global, a: PasswdArgs) -> Result<(), CliError> {
    let current = read_secret(
        "current password",
        a.password_stdin,
        "DFOOD_PASSWORD",
        false,
    )?;
    let new = read_secret("new password", a.password_stdin, "DFOOD_NEW_PASSWORD", true)?;
    let (client, token) = connect_authed(g).await?;
    let t: TokenResponse = client
        .call(
            types::PASSWORD,
            Some(&token),
            &PasswordChangeRequest {
                current_password: current,
                new_password: new,
            },
        )
        .await?;
    let out = save_session(g, &client, &t)?;
    emit(g.output, &out, |s| {
        format!(
            "password changed; every other session has ended. {}",
            human_session("Logged in as", s)
        )
    });
    client.close().await;
    Ok(())
}

pub async fn admin(g: &Global, cmd: AdminCmd) -> Result<(), CliError> {
    match cmd {
        AdminCmd::Bootstrap {
            token_file,
            username,
            password_stdin,
        } => {
            let setup_token = std::fs::read_to_string(&token_file)
                .map_err(|e| {
                    CliError::config(format!(
                        "cannot read setup token file {}: {e}",
                        token_file.display()
                    ))
                })?
                .trim()
                .to_string();
            let password = read_secret("password", password_stdin, "DFOOD_PASSWORD", true)?;
            let client = connect(g).await?;
            let _: Account = client
                .call(
                    types::BOOTSTRAP,
                    None,
                    &BootstrapRequest {
                        setup_token,
                        username: username.clone(),
                        password: password.clone(),
                    },
                )
                .await?;
            let t: TokenResponse = client
                .call(
                    types::TOKEN,
                    None,
                    &TokenRequest::password(&username, &password),
                )
                .await?;
            let out = save_session(g, &client, &t)?;
            emit(g.output, &out, |s| {
                human_session("first operator created; logged in as", s)
            });
            client.close().await;
            Ok(())
        }
        AdminCmd::RotateKey { revoke_old } => {
            let (client, token) = connect_authed(g).await?;
            let r: RotateKeyResponse = client
                .call(
                    types::ROTATE_KEY,
                    Some(&token),
                    &RotateKeyRequest { revoke_old },
                )
                .await?;
            emit(g.output, &r, |r| match (&r.previous_kid, revoke_old) {
                (_, true) => format!(
                    "signing key {} is now current; {} older key(s) deleted: tokens they signed are refused (logged-in clients renew theirs)",
                    r.kid,
                    r.revoked.len()
                ),
                (Some(p), false) => format!(
                    "signing key {} is now current; tokens signed with {p} stay valid until they expire",
                    r.kid
                ),
                (None, false) => format!("signing key {} is now current", r.kid),
            });
            client.close().await;
            Ok(())
        }
        AdminCmd::Disable { username } => set_disabled(g, types::ACCOUNT_DISABLE, username).await,
        AdminCmd::Enable { username } => set_disabled(g, types::ACCOUNT_ENABLE, username).await,
    }
}

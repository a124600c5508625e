//! Setup through the protocol: sessions, accounts, the seeded restaurants.

use super::*;

pub(super) fn client_error_kind(e: &ClientError) -> String {
    match e {
        ClientError::Server(b) => b.code.as_str().to_string(),
        ClientError::Timeout { .. } => "timeout".into(),
        ClientError::Transport { .. } => "transport".into(),
        ClientError::Connect { .. } => "connect".into(),
        ClientError::GoingAway { .. } => "going_away".into(),
        ClientError::Protocol { .. } => "protocol_error".into(),
        ClientError::Tls(_) | ClientError::Endpoint { .. } => "config".into(),
    }
}

/// `k` sessions over the configured endpoints, each moving once to a
/// random member, so that load spreads over the cluster.
pub(super) async fn sessions(g: &Global, k: u32) -> Result<Vec<Session>, CliError> {
    let eff = crate::commands::effective(g)?;
    let ca_path = eff.ca.ok_or_else(|| {
        CliError::config(
            "no CA configured: pass --ca FILE, set DFOOD_CA, or `dfood config set ca FILE`",
        )
    })?;
    let ca_pem = std::fs::read(&ca_path)
        .map_err(|e| CliError::config(format!("cannot read CA file {}: {e}", ca_path.display())))?;
    let seeds = session::parse_endpoints(&eff.endpoint);
    let mut out = Vec::new();
    for _ in 0..k {
        let mut opts = SessionOptions::new(seeds.clone(), ca_pem.clone());
        opts.server_name = eff.server_name.clone();
        opts.timeout = g.timeout;
        opts.rebalance = true;
        let s = Session::connect(opts).await?;
        // Learn the members now, so the first requests already spread.
        let _ = s.refresh_members().await;
        out.push(s);
    }
    Ok(out)
}

/// The distinct nodes the sessions are connected to.
pub(super) fn endpoints_of(ss: &[Session]) -> String {
    let set: std::collections::BTreeSet<String> =
        ss.iter().filter_map(Session::current_endpoint).collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

/// Signs `name` up (an existing account is fine) and logs in.
pub(super) async fn account(
    s: &Session,
    name: &str,
    password: &str,
) -> Result<TokenResponse, CliError> {
    let signup = SignupRequest {
        username: name.into(),
        password: password.into(),
    };
    match s
        .call::<_, Account>(protocol::messages::auth::types::SIGNUP, None, &signup)
        .await
    {
        Ok(_) => {}
        Err(ClientError::Server(b)) if b.code == ErrorCode::Conflict => {}
        Err(e) => return Err(setup_error(&format!("signing up {name}"), e)),
    }
    s.call(
        protocol::messages::auth::types::TOKEN,
        None,
        &TokenRequest::password(name, password),
    )
    .await
    .map_err(|e| setup_error(&format!("logging in as {name}"), e))
}

pub(super) fn setup_error(what: &str, e: ClientError) -> CliError {
    let mut c = CliError::from(e);
    c.message = format!("bench setup: {what}: {}", c.message);
    c
}

/// Customer tokens, signed up and logged in a few at a time (password
/// hashing is deliberately slow).
pub(super) async fn customers(
    sessions: &[Session],
    prefix: &str,
    n: u32,
    password: &str,
) -> Result<Vec<String>, CliError> {
    let mut tokens = Vec::new();
    let names: Vec<String> = (1..=n).map(|i| format!("{prefix}-{i}")).collect();
    for chunk in names.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for (i, name) in chunk.iter().enumerate() {
            let s = sessions[i % sessions.len()].clone();
            let (name, password) = (name.clone(), password.to_string());
            set.spawn(async move { account(&s, &name, &password).await });
        }
        while let Some(r) = set.join_next().await {
            let t =
                r.map_err(|e| CliError::new(crate::exit::FAILURE, "internal", e.to_string()))??;
            tokens.push(t.access_token);
        }
    }
    Ok(tokens)
}

pub(super) fn restaurant_ids(setup: &SetupArgs) -> Vec<String> {
    if setup.restaurants <= 1 {
        vec![setup.restaurant.clone()]
    } else {
        (1..=setup.restaurants)
            .map(|i| format!("{}-{i}", setup.restaurant))
            .collect()
    }
}

/// Creates, seeds and opens the restaurants as the manager; returns the
/// manager's token and the lines to order.
pub(super) async fn seed(
    s: &Session,
    setup: &SetupArgs,
) -> Result<(String, Vec<LineRequest>), CliError> {
    let ids = restaurant_ids(setup);
    if setup.skip_setup {
        let menu: Menu = s
            .call(
                catalog_types::MENU_GET,
                None,
                &RestaurantRef {
                    restaurant: ids[0].clone(),
                },
            )
            .await?;
        return Ok((String::new(), order_lines(&menu.items)));
    }
    let manager = account(s, &setup.manager, &setup.password).await?;
    let token = Some(manager.access_token.as_str());
    for id in &ids {
        let create = CreateRestaurant {
            id: id.clone(),
            name: format!("Bench {id}"),
            currency: "EUR".into(),
            // By default, orders left unaccepted do not expire during a run.
            acceptance_timeout_secs: Some(setup.acceptance_timeout.as_secs().max(1)),
        };
        match s
            .call::<_, Restaurant>(catalog_types::RESTAURANT_CREATE, token, &create)
            .await
        {
            Ok(_) => {}
            // A conflict is "it exists already" (a rerun) unless it is
            // not there: then it was a quota refusal, told as such.
            Err(ClientError::Server(b)) if b.code == ErrorCode::Conflict => {
                let there = s
                    .call::<_, Restaurant>(
                        catalog_types::RESTAURANT_SHOW,
                        None,
                        &RestaurantRef {
                            restaurant: id.clone(),
                        },
                    )
                    .await
                    .is_ok();
                if !there {
                    return Err(setup_error(
                        &format!(
                            "creating restaurant {id} (more restaurants need a higher [limits] restaurants_per_account on the daemons)"
                        ),
                        ClientError::Server(b),
                    ));
                }
            }
            Err(e) => return Err(setup_error(&format!("creating restaurant {id}"), e)),
        }
        let import = MenuImport {
            restaurant: id.clone(),
            items: seed_menu(),
            replace: true,
        };
        s.call::<_, Menu>(catalog_types::MENU_IMPORT, token, &import)
            .await
            .map_err(|e| setup_error(&format!("importing the menu of {id}"), e))?;
        s.call::<_, Restaurant>(
            catalog_types::RESTAURANT_OPEN,
            token,
            &RestaurantRef {
                restaurant: id.clone(),
            },
        )
        .await
        .map_err(|e| setup_error(&format!("opening {id}"), e))?;
    }
    let menu: Menu = s
        .call(
            catalog_types::MENU_GET,
            None,
            &RestaurantRef {
                restaurant: ids[0].clone(),
            },
        )
        .await?;
    Ok((manager.access_token, order_lines(&menu.items)))
}

/// A run id that keeps idempotency keys of separate runs apart.
pub(super) fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos, std::process::id())
}

pub(super) fn show_progress(g: &Global, load: &LoadArgs) -> bool {
    g.output == Output::Human && !load.no_progress
}

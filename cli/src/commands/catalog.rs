//! `dfood restaurant`, `dfood staff`, `dfood menu`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use protocol::messages::catalog::*;

use crate::args::Global;
use crate::output::{CliError, emit, kv_table};

#[derive(Debug, Subcommand)]
pub enum RestaurantCmd {
    /// Create a restaurant; you become its manager. It starts closed.
    Create {
        /// Slug used in commands and order ids, e.g. trattoria.
        id: String,
        #[arg(long)]
        name: String,
        /// ISO 4217 currency of every price.
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Orders not accepted within this time expire (e.g. 5m, 90s).
        #[arg(long, value_parser = humantime::parse_duration)]
        acceptance_timeout: Option<std::time::Duration>,
    },
    /// List restaurants (no login needed).
    List,
    /// Show one restaurant.
    Show { id: String },
    /// Start taking orders.
    Open { id: String },
    /// Stop taking orders.
    Close { id: String },
    /// Rename a restaurant, or bound what a line or an order may cost
    /// (manager only).
    ///
    /// Amounts are in the currency's units (e.g. 500 or 499.99); 0 goes
    /// back to the daemon's default (`[limits]` in its config).
    Set {
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// Most one line (unit price × quantity) may cost.
        #[arg(long, value_parser = parse_amount)]
        max_line_total: Option<i64>,
        /// Most an order may cost.
        #[arg(long, value_parser = parse_amount)]
        max_order_total: Option<i64>,
    },
}

/// `12`, `12.5` or `12.50` as minor units (hundredths).
fn parse_amount(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not an amount like 500 or 499.99");
    let (units, cents) = match s.split_once('.') {
        Some((u, c)) if (1..=2).contains(&c.len()) => (u, c),
        Some(_) => return Err(bad()),
        None => (s, "0"),
    };
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let units: i64 = units.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .ok_or_else(bad)
}

#[derive(Debug, Subcommand)]
pub enum StaffCmd {
    /// Give a user a role at a restaurant (manager only).
    Add {
        username: String,
        #[arg(long, short, env = "DFOOD_RESTAURANT")]
        restaurant: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Remove a user from a restaurant's staff (manager only).
    Remove {
        username: String,
        #[arg(long, short, env = "DFOOD_RESTAURANT")]
        restaurant: String,
    },
    /// List a restaurant's staff (manager only).
    List {
        #[arg(long, short, env = "DFOOD_RESTAURANT")]
        restaurant: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Kitchen,
    Manager,
}

/// Show a restaurant's menu, or change it.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MenuCmd {
    /// Restaurant whose menu to show.
    pub restaurant: Option<String>,
    #[command(subcommand)]
    pub action: Option<MenuAction>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FileFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum MenuAction {
    /// Show a restaurant's menu (no login needed).
    Show { restaurant: String },
    /// Import items from a CSV or JSON file (manager only).
    ///
    /// Every row is checked first and each bad row is reported with its
    /// line number; then the whole file is applied at once, or nothing.
    ///
    /// CSV columns (header required, any order): sku, name, price (e.g.
    /// 12.50), and optionally station, stock (empty = unlimited),
    /// available (true/false), allergens, modifiers
    /// (code:Name:price separated by '|', e.g.
    /// "extra_cheese:Extra cheese:1.50|no_basil:No basil:0").
    ///
    /// JSON: {"items": [...]} or a bare list of items as in the protocol
    /// (prices in minor units).
    Import {
        restaurant: String,
        file: PathBuf,
        /// Default: from the file extension.
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// Replace the whole menu instead of adding/updating items.
        #[arg(long)]
        replace: bool,
    },
    /// Change an item's price, station or stock (manager only).
    Set {
        sku: String,
        #[arg(long, short, env = "DFOOD_RESTAURANT")]
        restaurant: String,
        /// New price, e.g. 12.50.
        #[arg(long, value_parser = parse_price)]
        price: Option<i64>,
        #[arg(long)]
        station: Option<String>,
        /// Units left.
        #[arg(long, conflicts_with = "unlimited")]
        stock: Option<i64>,
        /// Stop counting stock for this item.
        #[arg(long)]
        unlimited: bool,
    },
    /// Mark an item sold out ("86 it"; kitchen staff or manager).
    #[command(name = "86")]
    EightySix {
        sku: String,
        #[arg(long, short, env = "DFOOD_RESTAURANT")]
        restaurant: String,
    },
    /// Make an 86'd item available again.
    #[command(name = "un86")]
    UnEightySix {
        sku: String,
        #[arg(long, short, env = "DFOOD_RESTAURANT")]
        restaurant: String,
    },
}

/// `12.50` → 1250 minor units. At most two decimals, no sign.
pub fn parse_price(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let ok = !whole.is_empty()
        && whole.len() <= 9
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.len() <= 2
        && frac.chars().all(|c| c.is_ascii_digit());
    if !ok {
        return Err(format!("{s:?} is not a price like 12.50"));
    }
    let whole: i64 = whole.parse().map_err(|_| format!("{s:?} is not a price"))?;
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    Ok(whole * 100 + frac)
}

pub fn show_price(minor: i64) -> String {
    format!(
        "{}{}.{:02}",
        if minor < 0 { "-" } else { "" },
        minor.unsigned_abs() / 100,
        minor.unsigned_abs() % 100
    )
}

fn restaurant_rows(r: &Restaurant) -> String {
    kv_table(&[
        ("id", r.id.clone()),
        ("name", r.name.clone()),
        ("currency", r.currency.clone()),
        ("open", if r.open { "yes".into() } else { "no".into() }),
        (
            "acceptance timeout",
            format!("{}s", r.acceptance_timeout_secs),
        ),
        (
            "max per line",
            r.max_line_total
                .map_or("the daemon's default".into(), show_price),
        ),
        (
            "max per order",
            r.max_order_total
                .map_or("the daemon's default".into(), show_price),
        ),
    ])
}

pub fn menu_table(m: &Menu) -> String {
    let mut out = format!(
        "{:<16} {:<28} {:>9} {:<8} {:>6}  {}\n",
        "SKU", "NAME", "PRICE", "STATION", "STOCK", "NOTES"
    );
    for i in &m.items {
        let mut notes = Vec::new();
        if !i.available {
            notes.push("86'd".to_string());
        }
        if !i.modifiers.is_empty() {
            notes.push(format!(
                "+{}",
                i.modifiers
                    .iter()
                    .map(|m| m.code.as_str())
                    .collect::<Vec<_>>()
                    .join(" +")
            ));
        }
        if !i.allergens.is_empty() {
            notes.push(format!("allergens: {}", i.allergens));
        }
        out.push_str(&format!(
            "{:<16} {:<28} {:>9} {:<8} {:>6}  {}\n",
            i.sku,
            i.name,
            show_price(i.price),
            i.station,
            i.stock.map_or("-".into(), |s| s.to_string()),
            notes.join("; ")
        ));
    }
    out.push_str(&format!(
        "{} items, prices in {}",
        m.items.len(),
        m.currency
    ));
    out
}

pub async fn restaurant(g: &Global, cmd: RestaurantCmd) -> Result<(), CliError> {
    use types::*;
    match cmd {
        RestaurantCmd::List => {
            let c = super::connect(g).await?;
            let l: RestaurantList = c
                .call(RESTAURANT_LIST, None, &serde_json::json!({}))
                .await?;
            emit(g.output, &l, |l| {
                let mut s = format!("{:<20} {:<30} {:<8} {}", "ID", "NAME", "CURRENCY", "OPEN");
                for r in &l.restaurants {
                    s.push_str(&format!(
                        "\n{:<20} {:<30} {:<8} {}",
                        r.id,
                        r.name,
                        r.currency,
                        if r.open { "yes" } else { "no" }
                    ));
                }
                s
            });
        }
        RestaurantCmd::Show { id } => {
            let c = super::connect(g).await?;
            let r: Restaurant = c
                .call(RESTAURANT_SHOW, None, &RestaurantRef { restaurant: id })
                .await?;
            emit(g.output, &r, restaurant_rows);
        }
        RestaurantCmd::Create {
            id,
            name,
            currency,
            acceptance_timeout,
        } => {
            let (c, t) = super::connect_authed(g).await?;
            let body = CreateRestaurant {
                id,
                name,
                currency,
                acceptance_timeout_secs: acceptance_timeout.map(|d| d.as_secs()),
            };
            let r: Restaurant = c.call(RESTAURANT_CREATE, Some(&t), &body).await?;
            emit(g.output, &r, |r| {
                format!(
                    "created {} (closed; `dfood restaurant open {}` to take orders)\n{}",
                    r.id,
                    r.id,
                    restaurant_rows(r)
                )
            });
        }
        RestaurantCmd::Open { id } => {
            let (c, t) = super::connect_authed(g).await?;
            let r: Restaurant = c
                .call(RESTAURANT_OPEN, Some(&t), &RestaurantRef { restaurant: id })
                .await?;
            emit(g.output, &r, |r| format!("{} is open", r.id));
        }
        RestaurantCmd::Set {
            id,
            name,
            max_line_total,
            max_order_total,
        } => {
            let (c, t) = super::connect_authed(g).await?;
            let body = RestaurantSet {
                restaurant: id,
                name,
                max_line_total,
                max_order_total,
            };
            let r: Restaurant = c.call(RESTAURANT_SET, Some(&t), &body).await?;
            emit(g.output, &r, restaurant_rows);
        }
        RestaurantCmd::Close { id } => {
            let (c, t) = super::connect_authed(g).await?;
            let r: Restaurant = c
                .call(
                    RESTAURANT_CLOSE,
                    Some(&t),
                    &RestaurantRef { restaurant: id },
                )
                .await?;
            emit(g.output, &r, |r| format!("{} is closed", r.id));
        }
    }
    Ok(())
}

pub async fn staff(g: &Global, cmd: StaffCmd) -> Result<(), CliError> {
    use types::*;
    let (c, t) = super::connect_authed(g).await?;
    match cmd {
        StaffCmd::Add {
            username,
            restaurant,
            role,
        } => {
            let role = match role {
                RoleArg::Kitchen => StaffRole::Kitchen,
                RoleArg::Manager => StaffRole::Manager,
            };
            let m: StaffMember = c
                .call(
                    STAFF_ADD,
                    Some(&t),
                    &StaffAdd {
                        restaurant,
                        username,
                        role,
                    },
                )
                .await?;
            emit(g.output, &m, |m| {
                format!(
                    "{} is now {:?} staff of {}",
                    m.username, m.role, m.restaurant
                )
                .to_lowercase()
            });
        }
        StaffCmd::Remove {
            username,
            restaurant,
        } => {
            let _: serde_json::Value = c
                .call(
                    STAFF_REMOVE,
                    Some(&t),
                    &StaffRemove {
                        restaurant: restaurant.clone(),
                        username: username.clone(),
                    },
                )
                .await?;
            emit(
                g.output,
                &serde_json::json!({"removed": username, "restaurant": restaurant}),
                |_| format!("{username} removed from {restaurant}"),
            );
        }
        StaffCmd::List { restaurant } => {
            let l: StaffList = c
                .call(STAFF_LIST, Some(&t), &RestaurantRef { restaurant })
                .await?;
            emit(g.output, &l, |l| {
                let mut s = format!("{:<24} {}", "USER", "ROLE");
                for m in &l.staff {
                    s.push_str(&format!("\n{:<24} {:?}", m.username, m.role).to_lowercase());
                }
                s
            });
        }
    }
    Ok(())
}

pub async fn menu(g: &Global, cmd: MenuCmd) -> Result<(), CliError> {
    use types::*;
    let action = match (cmd.restaurant, cmd.action) {
        (_, Some(a)) => a,
        (Some(r), None) => MenuAction::Show { restaurant: r },
        (None, None) => {
            return Err(CliError::new(
                crate::exit::USAGE,
                "usage",
                "name a restaurant: dfood menu <restaurant> (see dfood menu --help)",
            ));
        }
    };
    match action {
        MenuAction::Show { restaurant } => {
            let c = super::connect(g).await?;
            let m: Menu = c
                .call(MENU_GET, None, &RestaurantRef { restaurant })
                .await?;
            emit(g.output, &m, menu_table);
        }
        MenuAction::Import {
            restaurant,
            file,
            format,
            replace,
        } => {
            let items = read_menu_file(&file, format, g.output == crate::args::Output::Human)?;
            let (c, t) = super::connect_authed(g).await?;
            let m: Menu = c
                .call(
                    MENU_IMPORT,
                    Some(&t),
                    &MenuImport {
                        restaurant,
                        items,
                        replace,
                    },
                )
                .await?;
            emit(g.output, &m, |m| {
                format!(
                    "imported; the menu of {} now has {} items",
                    m.restaurant,
                    m.items.len()
                )
            });
        }
        MenuAction::Set {
            sku,
            restaurant,
            price,
            station,
            stock,
            unlimited,
        } => {
            if price.is_none() && station.is_none() && stock.is_none() && !unlimited {
                return Err(CliError::new(
                    crate::exit::USAGE,
                    "usage",
                    "nothing to change: give --price, --station, --stock or --unlimited",
                ));
            }
            let (c, t) = super::connect_authed(g).await?;
            let body = MenuSet {
                restaurant,
                sku,
                price,
                station,
                stock,
                unlimited_stock: unlimited,
            };
            let i: MenuItem = c.call(MENU_SET, Some(&t), &body).await?;
            emit(g.output, &i, |i| {
                format!(
                    "{}: {} {}, station {}, stock {}",
                    i.sku,
                    i.name,
                    show_price(i.price),
                    i.station,
                    i.stock.map_or("unlimited".into(), |s| s.to_string())
                )
            });
        }
        MenuAction::EightySix { sku, restaurant } => {
            let (c, t) = super::connect_authed(g).await?;
            let i: MenuItem = c
                .call(MENU_86, Some(&t), &ItemRef { restaurant, sku })
                .await?;
            emit(g.output, &i, |i| {
                format!("{} ({}) is 86'd: sold out", i.name, i.sku)
            });
        }
        MenuAction::UnEightySix { sku, restaurant } => {
            let (c, t) = super::connect_authed(g).await?;
            let i: MenuItem = c
                .call(MENU_UN86, Some(&t), &ItemRef { restaurant, sku })
                .await?;
            emit(g.output, &i, |i| {
                format!("{} ({}) is available again", i.name, i.sku)
            });
        }
    }
    Ok(())
}

/// Reads and checks a menu file; every bad row is reported, with its line.
pub fn read_menu_file(
    path: &Path,
    format: Option<FileFormat>,
    progress: bool,
) -> Result<Vec<MenuItem>, CliError> {
    let bad = |m: String| CliError::new(crate::exit::USAGE, "bad_request", m);
    let format = match format {
        Some(f) => f,
        None => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => FileFormat::Csv,
            Some("json") => FileFormat::Json,
            _ => {
                return Err(bad(format!(
                    "cannot tell the format of {}: use --format csv|json",
                    path.display()
                )));
            }
        },
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let items = match format {
        FileFormat::Json => {
            #[derive(serde::Deserialize)]
            #[serde(untagged)]
            enum Doc {
                Wrapped { items: Vec<MenuItem> },
                Bare(Vec<MenuItem>),
            }
            match serde_json::from_str::<Doc>(&text) {
                Ok(Doc::Wrapped { items }) | Ok(Doc::Bare(items)) => items,
                Err(e) => return Err(bad(format!("{}: not a menu document: {e}", path.display()))),
            }
        }
        FileFormat::Csv => parse_csv(&text, progress).map_err(|errors| {
            bad(format!(
                "{}: {} bad row(s), nothing imported:\n  {}",
                path.display(),
                errors.len(),
                errors.join("\n  ")
            ))
        })?,
    };
    // The same checks the daemon makes, so every problem shows at once.
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let place = match format {
            FileFormat::Csv => format!("line {}", i + 2),
            FileFormat::Json => format!("item {}", i + 1),
        };
        if let Some(first) = seen.insert(item.sku.clone(), place.clone()) {
            errors.push(format!(
                "{place}: sku {:?} already used on {first}",
                item.sku
            ));
        }
        if item.price < 0 {
            errors.push(format!("{place}: negative price"));
        }
        if item.stock.is_some_and(|s| s < 0) {
            errors.push(format!("{place}: negative stock"));
        }
    }
    if !errors.is_empty() {
        return Err(bad(format!(
            "{}: {} problem(s), nothing imported:\n  {}",
            path.display(),
            errors.len(),
            errors.join("\n  ")
        )));
    }
    Ok(items)
}

/// Parses menu CSV; `Err` lists every bad row as `line N: why`.
pub fn parse_csv(text: &str, progress: bool) -> Result<Vec<MenuItem>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![format!("line 1: bad header: {e}")]),
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(sku_i), Some(name_i), Some(price_i)) = (col("sku"), col("name"), col("price")) else {
        return Err(vec![
            "line 1: the header must name at least sku, name and price".into(),
        ]);
    };
    let known = [
        "sku",
        "name",
        "price",
        "station",
        "stock",
        "available",
        "allergens",
        "modifiers",
    ];
    if let Some(h) = headers.iter().find(|h| !known.contains(&h.as_str())) {
        return Err(vec![format!(
            "line 1: unknown column {h:?}; columns are: {}",
            known.join(", ")
        )]);
    }
    let records: Vec<_> = reader.records().collect();
    let bar = (progress && records.len() > 500).then(|| {
        let b = indicatif::ProgressBar::new(records.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("checking {pos}/{len} rows {bar:30} {eta}")
                .expect("template"),
        );
        b
    });
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in records.into_iter().enumerate() {
        if let Some(b) = &bar {
            b.inc(1);
        }
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").to_string();
        match parse_row(
            &get(Some(sku_i)),
            &get(Some(name_i)),
            &get(Some(price_i)),
            &get(col("station")),
            &get(col("stock")),
            &get(col("available")),
            &get(col("allergens")),
            &get(col("modifiers")),
        ) {
            Ok(item) => items.push(item),
            Err(e) => errors.push(format!("line {line}: {e}")),
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

#[allow(clippy::too_many_arguments)]
fn parse_row(
    sku: &str,
    name: &str,
    price: &str,
    station: &str,
    stock: &str,
    available: &str,
    allergens: &str,
    modifiers: &str,
) -> Result<MenuItem, String> {
    if sku.is_empty() {
        return Err("empty sku".into());
    }
    if name.is_empty() {
        return Err(format!("{sku}: empty name"));
    }
    let price = parse_price(price).map_err(|e| format!("{sku}: price {e}"))?;
    let stock = match stock {
        "" => None,
        s => Some(
            s.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| format!("{sku}: stock {s:?} must be a whole number >= 0"))?,
        ),
    };
    let available = match available.to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" => true,
        "false" | "no" | "0" => false,
        other => return Err(format!("{sku}: available {other:?} must be true or false")),
    };
    let mut mods = Vec::new();
    for m in modifiers
        .split('|')
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        let parts: Vec<_> = m.split(':').collect();
        let [code, mname, mprice] = parts.as_slice() else {
            return Err(format!("{sku}: modifier {m:?} must be code:Name:price"));
        };
        mods.push(Modifier {
            code: code.to_string(),
            name: mname.to_string(),
            price: parse_price(mprice).map_err(|e| format!("{sku}: modifier {code} price {e}"))?,
        });
    }
    Ok(MenuItem {
        sku: sku.into(),
        name: name.into(),
        price,
        station: station.into(),
        modifiers: mods,
        available,
        stock,
        allergens: allergens.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices() {
        assert_eq!(parse_price("12.50"), Ok(1250));
        assert_eq!(parse_price("12.5"), Ok(1250));
        assert_eq!(parse_price("7"), Ok(700));
        assert_eq!(parse_price("0.05"), Ok(5));
        for bad in ["", "-1", "1.234", "abc", "1,50", ".5"] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
        assert_eq!(show_price(1250), "12.50");
    }

    #[test]
    fn csv_reports_every_bad_row_with_its_line() {
        let text = "sku,name,price,stock,modifiers\n\
                    margherita,Margherita,9.50,,extra_cheese:Extra cheese:1.50\n\
                    bad,Bad,-3,,\n\
                    tiramisu,Tiramisu,6,-2,\n\
                    ok,Ok,1,5,\n\
                    m,Mod,1,,broken\n";
        let errs = parse_csv(text, false).unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("line 3:"), "{errs:?}");
        assert!(errs[1].starts_with("line 4:"), "{errs:?}");
        assert!(errs[2].starts_with("line 6:"), "{errs:?}");
        let good = parse_csv("sku,name,price,station,modifiers\nmargherita,Margherita,9.50,oven,extra_cheese:Extra cheese:1.50\n", false).unwrap();
        assert_eq!(good[0].price, 950);
        assert_eq!(good[0].modifiers[0].price, 150);
        assert_eq!(good[0].station, "oven");
    }
}

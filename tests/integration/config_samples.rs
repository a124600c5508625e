//! Every sample config in `etc/` parses and validates.

use std::path::Path;

fn etc(name: &str) -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../etc")).join(name)
}

#[test]
fn dfoodd_samples_parse() {
    for name in ["dfoodd.toml", "dfoodd-cluster.toml"] {
        let f =
            daemon::config::FileConfig::load(&etc(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let c = daemon::config::Config::from_file(f).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!c.node.is_empty());
        if name.contains("cluster") {
            assert_eq!(c.etcd_endpoints.len(), 3, "{name}");
        } else {
            assert!(
                c.etcd_endpoints.is_empty(),
                "{name} is the embedded default"
            );
        }
    }
}

#[test]
fn dfood_sample_parses() {
    let s = cli::settings::FileSettings::load(&etc("dfood.toml")).unwrap();
    assert!(s.endpoint.is_some());
    assert!(s.ca.is_some());
}

#[test]
fn every_file_in_etc_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(etc(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "demo-menu.csv",
            "dfood.toml",
            "dfoodd-cluster.toml",
            "dfoodd.toml"
        ],
        "a new sample needs a test here"
    );
}

#[test]
fn demo_menu_parses() {
    let text = std::fs::read_to_string(etc("demo-menu.csv")).unwrap();
    let items = cli::commands::catalog::parse_csv(&text, false).unwrap();
    assert!(items.len() >= 5);
    assert!(
        items
            .iter()
            .any(|i| i.sku == "margherita" && !i.modifiers.is_empty())
    );
}

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
            // The cluster sample shows a secured etcd and the KEK.
            assert!(c.etcd_endpoints.iter().all(|e| e.starts_with("https://")));
            assert!(c.etcd.ca_file.is_some() && c.etcd.identity.is_some());
            assert!(!c.kek.create, "a cluster's KEK is given, never made");
        } else {
            assert!(
                c.etcd_endpoints.is_empty(),
                "{name} is the embedded default"
            );
            assert_eq!(
                c.limits,
                daemon::config::Limits::default(),
                "{name} shows the default [limits]"
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

/// The dfoodd configs the Kubernetes manifests ship as ConfigMaps parse,
/// and the cluster one keeps to the settings of etc/dfoodd-cluster.toml
/// (every key it sets, with the same roles and log format); per-pod values
/// (node, advertise) come from the environment, not the file.
#[test]
fn kubernetes_dfoodd_configs_parse() {
    let load = |name: &str| {
        let f =
            daemon::config::FileConfig::load(&etc(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        (
            f.clone(),
            daemon::config::Config::from_file(f).unwrap_or_else(|e| panic!("{name}: {e}")),
        )
    };
    let (sample_file, _) = load("dfoodd-cluster.toml");
    let (k8s_file, k8s) = load("kubernetes/base/dfoodd.toml");
    assert_eq!(k8s.etcd_endpoints.len(), 3);
    assert!(
        k8s.metrics_listen.is_some(),
        "the probes need metrics_listen"
    );
    assert!(
        k8s_file.node.is_none() && k8s_file.advertise.is_none(),
        "per pod, from the environment"
    );
    assert_eq!(k8s.log_format, daemon::config::LogFormat::Json);
    assert_eq!(sample_file.log_format, k8s_file.log_format);
    assert!(
        k8s.tls.ca_cert.is_some() && k8s.tls.ca_key.is_some(),
        "the CA Secret"
    );
    // Keys the sample sets that the Kubernetes file must set too (node
    // and advertise come from the environment there).
    // The [etcd] section is left out: the manifests' etcd is reached on
    // the cluster's pod network without TLS (README.md says how to
    // secure it).
    let sample = std::fs::read_to_string(etc("dfoodd-cluster.toml")).unwrap();
    let k8s_text = std::fs::read_to_string(etc("kubernetes/base/dfoodd.toml")).unwrap();
    assert!(
        k8s.kek.path.starts_with("/etc/dfoodd-kek"),
        "the KEK Secret"
    );
    for line in sample
        .lines()
        .take_while(|l| !l.starts_with("[etcd]"))
        .filter(|l| !l.starts_with('#') && l.contains(" = "))
    {
        let key = line.split(" = ").next().unwrap();
        if key == "node" || key == "advertise" {
            continue;
        }
        assert!(
            k8s_text
                .lines()
                .any(|l| l.starts_with(&format!("{key} = "))),
            "kubernetes/base/dfoodd.toml lacks {key}"
        );
    }
    let (_, single) = load("kubernetes/overlays/single-node/dfoodd.toml");
    assert!(single.etcd_endpoints.is_empty(), "the embedded store");
    assert!(single.metrics_listen.is_some());
}

fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            files_under(&e.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

#[test]
fn every_file_in_etc_is_covered() {
    let mut names = Vec::new();
    files_under(&etc(""), "", &mut names);
    names.sort();
    assert_eq!(
        names,
        [
            "demo-menu.csv",                      // demo_menu_parses, .ci/demo
            "dfood.toml",                         // dfood_sample_parses
            "dfoodd-cluster.toml",                // dfoodd_samples_parse
            "dfoodd.toml",                        // dfoodd_samples_parse
            "docker/.env",                        // containers (compose's project name)
            "docker/compose.yaml",                // containers
            "docker/dfood.Dockerfile",            // containers (.ci/images)
            "docker/dfoodd.Dockerfile",           // containers (.ci/images)
            "docker/etcd.Dockerfile",             // containers (.ci/images)
            "kubernetes/base/dfoodd.toml",        // here, and deploy::kubernetes_*
            "kubernetes/base/kustomization.yaml", // deploy::kubernetes_*
            "kubernetes/overlays/single-node/dfoodd.toml",
            "kubernetes/overlays/single-node/kustomization.yaml",
            "kubernetes/overlays/single-node/one-node.yaml",
            "kubernetes/parts/dfoodd/dfoodd.yaml",
            "kubernetes/parts/dfoodd/kustomization.yaml",
            "kubernetes/parts/dfoodd/namespace.yaml",
            "kubernetes/parts/etcd/etcd.yaml",
            "kubernetes/parts/etcd/kustomization.yaml",
            "systemd/dfoodd.service", // deploy::systemd_unit_verifies_and_is_sandboxed
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

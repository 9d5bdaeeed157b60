//! `deploy/` works as documented: every Kubernetes manifest passes the Kubernetes schemas
//! (`kubernetes-validate`, PyPI: `.ci/run` installs it; missing is a failure with the install
//! line, never a skip); the kustomizations name files and objects that exist; the pod spec agrees
//! with ficus (probes on the admin port, a ConfigMap mounted as a directory, a grace period
//! longer than preStop plus `drain_timeout_ms`, the container's arguments those of the image);
//! the Dockerfile builds with the command CI runs; and `ficus serve` started as the container
//! starts it — on deploy/config/routes.toml and the copybooks laid out as the kubelet lays out a
//! ConfigMap, its journal a real PostgreSQL — is ready, and takes in a ConfigMap update.

mod common;
#[path = "support/postgres.rs"]
mod postgres;
#[allow(dead_code)] // the fleet tests use all of it
#[path = "support/replica.rs"]
mod replica;

use common::*;
use replica::Replica;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python(args: &[&str]) -> std::process::Output {
    std::process::Command::new("python3").args(args).output().expect("python3 runs")
}

/// Every document of a YAML file, as JSON (PyYAML, which kubernetes-validate brings).
fn yaml(path: &Path) -> Vec<Value> {
    let code = "import json,sys,yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = python(&["-c", code, path.to_str().unwrap()]);
    assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn manifests() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["deploy/k8s/base", "deploy/k8s/overlays/three-replicas"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn validator_installed() {
    let probe = python(&["-c", "import kubernetes_validate, yaml"]);
    assert!(
        probe.status.success(),
        "kubernetes-validate is not installed: python3 -m pip install kubernetes-validate (.ci/run does)"
    );
}

#[test]
fn every_manifest_passes_the_kubernetes_schemas() {
    validator_installed();
    let objects: Vec<PathBuf> = manifests().into_iter().filter(|p| !p.ends_with("kustomization.yaml")).collect();
    assert!(objects.len() >= 3, "{objects:?}");
    let mut args = vec!["-m", "kubernetes_validate", "--strict", "--quiet"];
    let names: Vec<String> = objects.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = python(&args);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // The validator does refuse: the Deployment with a field misspelled.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("deploy/k8s/base/deployment.yaml")).unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, text.replace("terminationGracePeriodSeconds", "terminationGracePeriod")).unwrap();
    let out = python(&["-m", "kubernetes_validate", "--strict", "--quiet", bad.to_str().unwrap()]);
    assert!(!out.status.success(), "a misspelled field must fail");
}

#[test]
fn kustomizations_name_what_exists() {
    validator_installed();
    for k in manifests().into_iter().filter(|p| p.ends_with("kustomization.yaml")) {
        let doc = &yaml(&k)[0];
        let dir = k.parent().unwrap();
        for r in doc["resources"].as_array().unwrap() {
            let path = dir.join(r.as_str().unwrap());
            assert!(path.exists(), "{}: resource {} is missing", k.display(), path.display());
        }
        for r in doc["replicas"].as_array().into_iter().flatten() {
            assert_eq!(r["name"], "ficus", "{}: replicas names the Deployment", k.display());
        }
        for i in doc["images"].as_array().into_iter().flatten() {
            assert_eq!(i["name"], "ficus", "{}: images names the container's image", k.display());
        }
    }
}

/// The Deployment's pod spec.
fn pod() -> Value {
    yaml(&root().join("deploy/k8s/base/deployment.yaml"))[0]["spec"]["template"]["spec"].clone()
}

/// deploy/config/routes.toml and every copybook in one directory laid out as the kubelet lays out
/// a ConfigMap (`..<stamp>/` files, `..data` → it, each name → `..data/name`), with the journal's
/// store replaced by `store`.
fn configmap(dir: &Path, stamp: &str, store: &str, edit: impl Fn(String) -> String) {
    let data = dir.join(format!("..{stamp}"));
    std::fs::create_dir(&data).unwrap();
    let toml = std::fs::read_to_string(root().join("deploy/config/routes.toml")).unwrap();
    let toml = edit(toml.replace("postgres://ficus@ficus-journal.core-banking.svc.cluster.local:5432/ficus", store));
    std::fs::write(data.join("routes.toml"), toml).unwrap();
    let mut names = vec!["routes.toml".to_string()];
    for e in std::fs::read_dir(root().join("copybooks")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::copy(&p, data.join(&name)).unwrap();
        names.push(name);
    }
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..{stamp}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    for name in names {
        let link = dir.join(&name);
        if !link.exists() {
            std::os::unix::fs::symlink(format!("..data/{name}"), link).unwrap();
        }
    }
}

#[test]
fn the_pod_spec_agrees_with_ficus_and_the_image() {
    validator_installed();
    let pod = pod();
    let c = &pod["containers"][0];
    let port = |name: &str| {
        c["ports"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["containerPort"].clone()
    };
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["httpGet"]["port"], "admin", "{probe} on the admin port");
    }
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    let args: Vec<&str> = c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    for (flag, name) in [("--admin", "admin"), ("--listen-http", "http"), ("--listen-tcp", "tcp")] {
        let at = args.iter().position(|a| *a == flag).unwrap_or_else(|| panic!("{flag} in {args:?}"));
        assert_eq!(args[at + 1], format!("0.0.0.0:{}", port(name)), "{flag} listens on the {name} port");
    }
    // Mounted as a directory: never subPath (a subPath file never updates: no hot reload).
    let mount = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "config").unwrap();
    assert_eq!((mount["mountPath"].as_str(), mount.get("subPath")), (Some("/etc/ficus"), None));
    let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "config").unwrap();
    assert_eq!(volume["configMap"]["name"], "ficus-config");
    // The grace period outlasts preStop's sleep and the drain.
    let dir = tempfile::tempdir().unwrap();
    configmap(dir.path(), "1", "postgres://ficus@127.0.0.1:9/ficus", |t| t);
    let table =
        ficus::config::load(&dir.path().join("routes.toml"), None, 1).expect("deploy/config/routes.toml builds");
    let sleep: u64 = c["lifecycle"]["preStop"]["exec"]["command"][1].as_str().unwrap().parse().unwrap();
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(grace * 1000 > sleep * 1000 + table.limits.drain_timeout_ms, "grace {grace} s");
    let file = std::fs::read_to_string(root().join("deploy/config/routes.toml")).unwrap();
    assert!(file.contains("records = \"postgres\""), "every replica's shadow records in one store");
    let state = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "state").unwrap();
    assert_eq!(state["mountPath"], "/var/lib/ficus");
    let audit = table.file.gateway.audit_log.as_deref().expect("an audit_log off the read-only ConfigMap");
    assert!(audit.starts_with("/var/lib/ficus/"), "the audit log on the writable volume: {audit}");

    // The image: the build CI runs, and the container's arguments are the Deployment's.
    let docker = std::fs::read_to_string(root().join("deploy/Dockerfile")).unwrap();
    let build = "cargo build --release --locked --bin ficus";
    assert!(docker.lines().any(|l| l.trim() == format!("RUN {build}")), "the Dockerfile builds with {build}");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == build), ".ci/run builds the image's binary as the Dockerfile does");
    let cmd = docker.lines().find_map(|l| l.strip_prefix("CMD ")).unwrap();
    let cmd: Vec<String> = serde_json::from_str(cmd).unwrap();
    assert_eq!(cmd, args[..args.len() - 2], "the image's CMD, then the Deployment's --peers");
    assert_eq!(args[args.len() - 2..], ["--peers", "ficus-replicas:9901"], "the headless Service names the replicas");
    let services = yaml(&root().join("deploy/k8s/base/services.yaml"));
    let headless = services.iter().find(|s| s["metadata"]["name"] == "ficus-replicas").expect("ficus-replicas");
    assert_eq!(
        (headless["spec"]["clusterIP"].as_str(), headless["spec"]["ports"][0]["port"].as_u64()),
        (Some("None"), Some(9901))
    );
    assert!(docker.contains("USER 10001") && pod["securityContext"]["runAsUser"] == 10001, "non-root, one user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ficus_starts_as_the_container_does_and_takes_in_a_configmap_update() {
    let pg = postgres::Postgres::start();
    let store = pg.create_database("deploy");
    let dir = tempfile::tempdir().unwrap();
    // The pod's writable volume (an emptyDir at /var/lib/ficus).
    let state = tempfile::tempdir().unwrap();
    let volume = state.path().to_str().unwrap().to_string();
    configmap(dir.path(), "1", &store, |t| t.replace("/var/lib/ficus", &volume));
    let args = ["--listen-http", "127.0.0.1:0", "--listen-tcp", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
    let replica = Replica::serve(&dir.path().join("routes.toml"), &args, tempfile::tempdir().unwrap()).await;
    let admin = replica.admin;
    for path in ["/readyz", "/healthz"] {
        let (code, v) = admin_call_at(admin, "GET", path, None, None).await;
        assert_eq!(code, 200, "{path}: {v}");
    }
    let (_, routes) = admin_call_at(admin, "GET", "/routes", None, None).await;
    assert_eq!(routes["routes"]["TXNHIST"]["target"], "legacy", "{routes}");

    // kubectl apply of an edited ConfigMap: the kubelet swaps ..data; ficus reloads it.
    configmap(dir.path(), "2", &store, |t| {
        t.replace("/var/lib/ficus", &volume).replacen(
            "target   = \"legacy\"\nread_only = true\ncontinuation",
            "target   = \"accounts\"\nread_only = true\ncontinuation",
            1,
        )
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, routes) = admin_call_at(admin, "GET", "/routes", None, None).await;
        if routes["routes"]["TXNHIST"]["target"] == "accounts" {
            break;
        }
        assert!(Instant::now() < deadline, "the ConfigMap update was not taken in: {routes}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The change is audited on the writable volume, nothing is written into the ConfigMap.
    let (_, audit) = admin_call_at(admin, "GET", "/audit", None, None).await;
    assert_eq!(audit["entries"].as_array().map(Vec::len), Some(1), "{audit}");
    let text = std::fs::read_to_string(state.path().join("routes.audit.jsonl")).expect("the audit log on the volume");
    assert!(text.contains("\"source\":\"file\""), "{text}");
    assert!(!dir.path().join("routes.audit.jsonl").exists(), "nothing written beside the ConfigMap");
    let (_, status) = admin_call_at(admin, "GET", "/status", None, None).await;
    assert!(status["reload"].get("audit_error").is_none(), "{status}");
    drop(replica);
}

//! The config watcher sees every way a save reaches the disk — written in place, renamed over
//! routes.toml, and a Kubernetes ConfigMap's `..data` symlink swap — and nothing else: a file
//! written continuously in the same directory (the journal's SQLite WAL is one) never reloads.

mod common;

use common::*;
use std::os::unix::fs::symlink;
use std::time::Duration;

async fn wait_generation(running: &ficus::server::Running, at_least: u64) -> u64 {
    for _ in 0..200 {
        let g = running.gateway.table().generation;
        if g >= at_least {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.gateway.table().generation
}

fn options() -> ficus::server::Options {
    ficus::server::Options { watch: true, sighup: false, takeover: false, ..Default::default() }
}

#[tokio::test]
async fn a_configmap_symlink_swap_is_seen() {
    let sims = sims().await;
    let dir = tempfile::tempdir().unwrap();
    let first = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "");
    // As the kubelet lays a ConfigMap out: routes.toml → ..data/routes.toml, ..data → ..<stamp>.
    std::fs::create_dir(dir.path().join("..2026_12_01_1")).unwrap();
    std::fs::write(dir.path().join("..2026_12_01_1/routes.toml"), &first).unwrap();
    symlink("..2026_12_01_1", dir.path().join("..data")).unwrap();
    symlink("..data/routes.toml", dir.path().join("routes.toml")).unwrap();
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let running = ficus::server::start(&dir.path().join("routes.toml"), options()).await.unwrap();
    assert_eq!(running.gateway.table().routes["ACCTINQ"].target.name, "legacy");

    // An update: a new stamped directory, a new symlink renamed over ..data.
    let second = first.replacen("target   = \"legacy\"", "target   = \"accounts\"", 1);
    std::fs::create_dir(dir.path().join("..2026_12_01_2")).unwrap();
    std::fs::write(dir.path().join("..2026_12_01_2/routes.toml"), &second).unwrap();
    symlink("..2026_12_01_2", dir.path().join("..data_tmp")).unwrap();
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).unwrap();
    assert_eq!(wait_generation(&running, 2).await, 2, "the swap is taken in within 2 s");
    assert_eq!(running.gateway.table().routes["ACCTINQ"].target.name, "accounts");
    sims.stop();
}

#[tokio::test]
async fn in_place_writes_reload_and_a_busy_neighbour_file_does_not() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    // A neighbour written without pause (and kept open, as SQLite keeps its WAL) for a while.
    let wal = gw.dir.path().join("journal.db-wal");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&wal).unwrap();
        for n in 0..300 {
            file.write_all(format!("frame {n}\n").as_bytes()).unwrap();
            file.sync_data().unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    tokio::time::sleep(ficus::control::watch::SETTLE * 3).await;
    assert_eq!(gw.generation(), 1, "a file that is not the configuration never reloads");

    // routes.toml written in place (truncate, write, close).
    let text =
        std::fs::read_to_string(&gw.config).unwrap().replacen("target   = \"legacy\"", "target   = \"accounts\"", 1);
    std::fs::write(&gw.config, text).unwrap();
    assert_eq!(wait_generation(&gw.running, 2).await, 2, "an in-place save is taken in within 2 s");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "accounts");
    sims.stop();
}

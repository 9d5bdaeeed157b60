//! Reload cost: time to parse, validate, build and swap a route table of 1,000 operations.
//!
//! Informs: how often routes can be changed (by file, SIGHUP or the admin API) and how large a
//! routes.toml can grow before a reload is noticeable. Every route has request and response
//! layouts (compiled per route) and a shadow comparison, as a busy migration would.
//!
//! Run: `cargo bench --bench reload`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;

const ROUTES: usize = 1000;

fn routes_toml(n: usize) -> String {
    let copybooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("copybooks");
    let mut text = format!(
        r#"[gateway]
listen_http = "127.0.0.1:0"
copybooks = "{}"
[header]
copybook = "COMMHDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
length_field = "HDR-MSG-LEN"
[upstreams.legacy]
kind = "tcp"
address = "127.0.0.1:7001"
[upstreams.accounts]
kind = "http-json"
url = "http://127.0.0.1:7002/ops"
[default]
target = "legacy"
"#,
        copybooks.display()
    );
    for i in 0..n {
        let target = if i % 3 == 0 { "accounts" } else { "legacy" };
        let _ = write!(
            text,
            "[routes.OP{i:05}]\nrequest = \"TXNHIST.cpy#TXNHIST-REQ\"\nresponse = \"TXNHIST.cpy#TXNHIST-RESP\"\ntarget = \"{target}\"\nread_only = true\nshadow = \"{}\"\nignore = [\"HDR-TIMESTAMP\"]\n",
            if target == "legacy" { "accounts" } else { "legacy" }
        );
    }
    text
}

fn reload(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("routes.toml");
    let text = routes_toml(ROUTES);
    std::fs::write(&path, &text).expect("write routes");
    let first = ficus::config::load(&path, None, 1).expect("the generated file is valid");
    let gateway = ficus::gateway::Gateway::new(first, None);
    let mut group = c.benchmark_group("reload");
    group.sample_size(20);
    group.bench_function("build_1000_routes", |b| {
        b.iter(|| ficus::config::build::build(black_box(&text), &path, None, 2).expect("builds"))
    });
    group.bench_function("build_and_swap_1000_routes", |b| {
        b.iter(|| {
            let current = gateway.table();
            let table = ficus::config::build::build(black_box(&text), &path, Some(&current), current.generation + 1)
                .expect("builds");
            gateway.swap(table)
        })
    });
    group.finish();
}

criterion_group!(benches, reload);
criterion_main!(benches);

//! The `main` every load benchmark shares: `--help`, a full run when cargo passes `--bench`, and
//! otherwise (as `cargo test --all-targets` runs bench targets) a bounded smoke check.

use std::future::Future;
use std::time::Duration;

/// Runs a benchmark binary: `parse` reads the options, `bench` measures, `smoke` checks quickly.
/// Exits 2 on bad options and 1 on failure.
pub fn main<O, B, S>(
    name: &str,
    help: &str,
    parse: fn(&[String]) -> Result<O, String>,
    bench: fn(O) -> B,
    smoke: fn() -> S,
) where
    B: Future<Output = Result<(), String>>,
    S: Future<Output = Result<(), String>>,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{help}");
        return;
    }
    // The generator and the simulators share one two-thread runtime (the machine has 2 cores);
    // the proxies under test run as their own processes.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let result = if args.iter().any(|a| a == "--bench") {
        match parse(&args) {
            Ok(options) => runtime.block_on(bench(options)),
            Err(e) => {
                eprintln!("{e}\n\n{help}");
                std::process::exit(2);
            }
        }
    } else {
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), smoke())
                .await
                .unwrap_or_else(|_| Err("smoke check took over 60 s".into()))
        })
    };
    if let Err(e) = result {
        eprintln!("{name} bench failed: {e}");
        std::process::exit(1);
    }
}

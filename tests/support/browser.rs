//! Driving headless Chromium in tests: finding the browser and chromedriver, starting
//! chromedriver on a free port, opening a WebDriver session, and waiting for what the page shows.

#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long any one thing in the page may take to appear.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|c| {
        let direct = Path::new(c);
        if direct.is_absolute() {
            return direct.is_file().then(|| direct.to_path_buf());
        }
        std::env::split_paths(&path).map(|d| d.join(c)).find(|p| p.is_file())
    })
}

/// Starts chromedriver on a free port and waits until it accepts connections.
pub async fn start_chromedriver(driver: &Path) -> (tokio::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let deadline = Instant::now() + PATIENCE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    (child, port)
}

/// Polls `f` until it returns `Some`, for at most [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {PATIENCE:?} waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn text_of(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

/// Runs `script` in the page and returns what it returns (null on an error).
pub async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap_or(Value::Null)
}

/// Chromium and chromedriver, or a failure saying what to install.
pub fn programs() -> (PathBuf, PathBuf) {
    let chromium = find_program(&["/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome"])
        .expect("chromium is not installed: apt-get install -y chromium chromium-driver (.ci/run does this)");
    let driver = find_program(&["chromedriver", "/usr/lib/chromium/chromedriver"])
        .expect("chromedriver is not installed: apt-get install -y chromium-driver (.ci/run does this)");
    (chromium, driver)
}

/// A headless Chromium session (1440×1000, profile in `profile`) through chromedriver on `port`.
pub async fn session(chromium: &Path, port: u16, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        &format!("--user-data-dir={}", profile.display()),
    ];
    let caps = json!({ "goog:chromeOptions": { "binary": chromium, "args": args } });
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().cloned().unwrap_or_default())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session with headless chromium")
}

//! The dashboard in a real browser: headless Chromium driven through chromedriver (WebDriver,
//! with fantoccini) against a running gateway and the demo's simulators. It sees the
//! operations with their modes, flips ACCTINQ to the new service through the page (token and
//! confirmation), and checks that the table and the gateway's routing changed; with a journal,
//! its header shows the journal's counts; the channels panel lists the default channel's
//! traffic and a cp949 `[[channels]]` entry. A screenshot is
//! saved under `target/tmp/dashboard-test/` and checked not to be blank.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them the
//! test fails with a message saying so.

mod common;

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long any one thing in the page may take to appear.
const PATIENCE: Duration = Duration::from_secs(15);

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|c| {
        let direct = Path::new(c);
        if direct.is_absolute() {
            return direct.is_file().then(|| direct.to_path_buf());
        }
        std::env::split_paths(&path).map(|d| d.join(c)).find(|p| p.is_file())
    })
}

fn acct(n: u64) -> Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + (n % 10) + 1) })
}

/// Starts chromedriver on a free port and waits until it accepts connections.
async fn start_chromedriver(driver: &Path) -> (tokio::process::Child, u16) {
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
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> Result<T, String>
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

async fn text_of(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

/// Where the screenshots go: `target/tmp/dashboard-test/`.
fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-test");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Checks a PNG is a real picture: big enough and many colours (a blank page has one or two).
fn check_not_blank(png_bytes: &[u8]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
    let frame = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = frame.color_type.samples();
    let pixels = &buf[..frame.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut counts = std::collections::HashMap::<Vec<u8>, usize>::new();
    for px in pixels.chunks(channels) {
        colours.insert(px.to_vec());
        *counts.entry(px.to_vec()).or_default() += 1;
    }
    let dominant = counts.values().max().copied().unwrap_or(0) as f64 / (pixels.len() / channels) as f64;
    assert!(frame.width >= 1000 && frame.height >= 600, "screenshot {}×{}", frame.width, frame.height);
    assert!(colours.len() >= 64, "screenshot looks blank: {} colours", colours.len());
    assert!(dominant < 0.9, "screenshot is {:.0}% one colour", dominant * 100.0);
    (frame.width, frame.height, colours.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_modes_and_flips_a_route() {
    let chromium = find_program(&["/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome"])
        .expect("chromium is not installed: apt-get install -y chromium chromium-driver (.ci/run does this)");
    let driver = find_program(&["chromedriver", "/usr/lib/chromium/chromedriver"])
        .expect("chromedriver is not installed: apt-get install -y chromium-driver (.ci/run does this)");

    let sims = sims().await;
    // TXNHIST is shadowed to the new service, so the shadow panel has something to show; so is
    // ACCTINQ, whose shadow the flip turns around.
    let toml = routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")
        .replacen("read_only = true\n\n[routes.XFER]", "read_only = true\nshadow = \"accounts\"\n\n[routes.XFER]", 1)
        .replacen("read_only = true\n", "read_only = true\nshadow = \"accounts\"\n", 1)
        + "\n[journal]\nstore = \"sqlite:journal.db\"\n"
        + "\n[[channels]]\nname = \"internet-banking\"\nlisten_http = \"127.0.0.1:0\"\ncodepage = \"cp949\"\n";
    let gw = Arc::new(Gateway::start(&toml).await);
    // Steady traffic while the page is open, so it has rates and latencies to show.
    let traffic_on = Arc::new(AtomicBool::new(true));
    let traffic = {
        let (gw, on) = (gw.clone(), traffic_on.clone());
        tokio::spawn(async move {
            for n in 0..20_000u64 {
                if !on.load(Ordering::SeqCst) {
                    break;
                }
                let (op, body) = if n % 3 == 2 {
                    (
                        "TXNHIST",
                        json!({ "ACCT-NO": acct(n)["ACCT-NO"], "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 5 }),
                    )
                } else {
                    ("ACCTINQ", acct(n))
                };
                gw.post(&gw.request(op, body)).await;
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };

    let (mut chromedriver, port) = start_chromedriver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
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
        &format!("--user-data-dir={}", profile.path().display()),
    ];
    let caps = json!({ "goog:chromeOptions": { "binary": chromium, "args": args } });
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().cloned().unwrap_or_default())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session with headless chromium");

    let outcome = drive(&client, &gw).await;
    traffic_on.store(false, Ordering::SeqCst);
    let _ = client.close().await;
    let _ = chromedriver.kill().await;
    let _ = traffic.await;
    let screenshot = outcome.unwrap_or_else(|e| panic!("{e}"));

    // The routing really changed: the table, and who serves the next message; the shadow was
    // turned around as the CLI does it, so the flip still compares.
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "accounts");
    assert_eq!(gw.table().routes["ACCTINQ"].shadow.as_ref().map(|s| s.to.name.as_str()), Some("legacy"));
    let served = |x: &str| {
        let (gw, target) = (gw.clone(), x.to_string());
        async move {
            let (_, body) = gw.admin_call("GET", "/stats", None, None).await;
            let side = if target == "accounts" { "new" } else { "legacy" };
            body["ops"]["ACCTINQ"]["sides"][side]["total"].as_f64().unwrap_or(0.0)
        }
    };
    let (new_before, legacy_before) = (served("accounts").await, served("legacy").await);
    let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(3))).await;
    assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"));
    assert_eq!(served("accounts").await - new_before, 1.0, "the new service served the message");
    assert_eq!(served("legacy").await - legacy_before, 0.0, "the legacy host did not");

    let file = output_dir().join("dashboard.png");
    std::fs::write(&file, &screenshot).unwrap();
    let (w, h, colours) = check_not_blank(&screenshot);
    eprintln!("screenshot: {} ({w}×{h}, {colours} colours)", file.display());
    sims.stop();
}

/// The browser part; returns the screenshot taken after the flip. On failure, the error says
/// what the page showed.
async fn drive(client: &Client, gw: &Gateway) -> Result<Vec<u8>, String> {
    match steps(client, gw).await {
        Ok(png) => Ok(png),
        Err(e) => {
            let page = text_of(client, "body").await.unwrap_or_else(|| "(no page text)".into());
            Err(format!("{e}\n--- the page showed:\n{page}"))
        }
    }
}

async fn steps(client: &Client, gw: &Gateway) -> Result<Vec<u8>, String> {
    let e = |what: &str| {
        let what = what.to_string();
        move |err: fantoccini::error::CmdError| format!("{what}: {err}")
    };
    client.goto(&format!("http://{}/", gw.admin())).await.map_err(e("open the dashboard"))?;
    // Every operation listed with its mode.
    for op in ["ACCTINQ", "TXNHIST", "XFER"] {
        let css = format!("#mode-{op}");
        let mode = eventually(&format!("{op} listed"), || text_of(client, &css)).await?;
        if mode != "legacy" {
            return Err(format!("{op} shows mode {mode:?}, expected legacy"));
        }
    }
    let shadow = eventually("TXNHIST shadowed", || text_of(client, "#mode-TXNHIST + .badge.shadow")).await?;
    if !shadow.contains("accounts") {
        return Err(format!("TXNHIST shadow badge says {shadow:?}"));
    }
    // With a journal, the header shows its unknown outcomes (none) and duplicates answered.
    let journal = eventually("the journal's counts", || text_of(client, "#journal-facts dd")).await?;
    if journal != "0 · 0" {
        return Err(format!("the journal shows {journal:?}, expected no unknown outcomes and no duplicates"));
    }
    // The channels panel: the default channel carries the traffic; the cp949 one is converted.
    eventually("the default channel's messages", || async {
        let n = text_of(client, "tr[data-channel=default] td:nth-child(4)").await?;
        (n.parse::<u64>().ok()? > 0).then_some(())
    })
    .await?;
    let ib =
        eventually("the internet-banking channel", || text_of(client, "tr[data-channel=internet-banking]")).await?;
    if !ib.contains("cp949 (converted)") {
        return Err(format!("the internet-banking row shows {ib:?}"));
    }
    // The shadow panel appears once /shadow has compared something.
    eventually("the shadow panel's TXNHIST row", || text_of(client, "#shadow-body tr[data-op=TXNHIST]")).await?;
    // Traffic appears (rates need two refreshes).
    eventually("ACCTINQ legacy msg/s", || async {
        let rate = text_of(client, "tr[data-op=ACCTINQ] td:nth-child(4)").await?;
        (rate != "–" && rate != "0").then_some(())
    })
    .await?;

    // A change the gateway refuses shows its problems, and nothing changes.
    click(client, "change-ACCTINQ").await?;
    for (id, text) in [("canary-percent", "10"), ("canary-sticky", "NO-SUCH-FIELD")] {
        let input = client.find(Locator::Id(id)).await.map_err(e(id))?;
        input.clear().await.map_err(e(id))?;
        input.send_keys(text).await.map_err(e(id))?;
    }
    click(client, "set-canary").await?;
    type_token_and_apply(client).await?;
    let refused = eventually("the refusal", || async {
        let t = text_of(client, "#change-error").await?;
        (!t.is_empty()).then_some(t)
    })
    .await?;
    if !refused.contains("HTTP 422") || !refused.contains("NO-SUCH-FIELD") {
        return Err(format!("refusal shows {refused:?}"));
    }
    if gw.generation() != 1 {
        return Err("a refused change was applied".into());
    }
    let refused_png = client.screenshot().await.map_err(e("screenshot of the refusal"))?;
    std::fs::write(output_dir().join("dashboard-refused.png"), refused_png).map_err(|e| e.to_string())?;
    click(client, "confirm-back").await?;

    // Flip ACCTINQ to the new service through the page.
    let select = client.find(Locator::Id("target-select")).await.map_err(e("target select"))?;
    select.select_by_value("accounts").await.map_err(e("choose accounts"))?;
    click(client, "flip-target").await?;
    let confirm = eventually("the confirmation", || text_of(client, "#confirm-text")).await?;
    if !confirm.contains("ACCTINQ") || !confirm.contains("accounts") {
        return Err(format!("confirmation says {confirm:?}"));
    }
    type_token_and_apply(client).await?;

    let result = eventually("the result banner", || async {
        let el = client.find(Locator::Id("result")).await.ok()?;
        el.is_displayed().await.ok()?.then_some(())?;
        el.text().await.ok()
    })
    .await?;
    if !result.contains("generation 2") || !result.contains("shadow turned around: ACCTINQ now shadows legacy") {
        return Err(format!("result banner says {result:?}"));
    }
    eventually("ACCTINQ mode new", || async { (text_of(client, "#mode-ACCTINQ").await? == "new").then_some(()) })
        .await?;
    let audit = eventually("the audit row", || async {
        let t = text_of(client, "#audit-body").await?;
        t.contains("ACCTINQ").then_some(t)
    })
    .await?;
    if !audit.contains("legacy → accounts") || !audit.contains(ADMIN_NAME) {
        return Err(format!("audit shows {audit:?}"));
    }
    // The new side's traffic shows up before the picture is taken.
    eventually("ACCTINQ new-side msg/s", || async {
        let rate = text_of(client, "tr[data-op=ACCTINQ] td:nth-child(7)").await?;
        (rate != "–" && rate != "0").then_some(())
    })
    .await?;
    let png = client.screenshot().await.map_err(e("screenshot"))?;

    // A change the gateway takes with a warning shows it: a canary to TXNHIST's shadow.
    click(client, "change-TXNHIST").await?;
    for (id, text) in [("canary-percent", "10"), ("canary-sticky", "ACCT-NO")] {
        let input = client.find(Locator::Id(id)).await.map_err(e(id))?;
        input.clear().await.map_err(e(id))?;
        input.send_keys(text).await.map_err(e(id))?;
    }
    let to = client.find(Locator::Id("canary-to")).await.map_err(e("canary-to"))?;
    to.select_by_value("accounts").await.map_err(e("choose accounts"))?;
    click(client, "set-canary").await?;
    type_token_and_apply(client).await?;
    let warned = eventually("the warning", || async {
        let t = text_of(client, "#result.warn").await?;
        t.contains("generation 3").then_some(t)
    })
    .await?;
    if !warned.contains("Warning: TXNHIST: shadow accounts is the canary's upstream") {
        return Err(format!("result banner says {warned:?}"));
    }
    Ok(png)
}

async fn click(client: &Client, id: &str) -> Result<(), String> {
    let element = client.find(Locator::Id(id)).await.map_err(|err| format!("#{id}: {err}"))?;
    element.click().await.map_err(|err| format!("click #{id}: {err}"))
}

/// On the confirmation step: types the admin token and applies.
async fn type_token_and_apply(client: &Client) -> Result<(), String> {
    let token = client.find(Locator::Id("token-input")).await.map_err(|err| format!("#token-input: {err}"))?;
    token.clear().await.map_err(|err| format!("clear the token: {err}"))?;
    token.send_keys(ADMIN_TOKEN).await.map_err(|err| format!("type the token: {err}"))?;
    click(client, "confirm-apply").await
}

//! The dashboard's shadow panel says whose numbers it shows: with `[shadow] records =
//! "postgres"` it reads every replica's records from the store ("all replicas (store)"), warns
//! when the read stopped at its row cap, and — the store hung (a real PostgreSQL stopped with
//! SIGSTOP) — shows this replica's counters, labelled so, with a warning naming the store's
//! failure. Headless Chromium against a gateway and a PostgreSQL started by the test.

#[path = "support/browser.rs"]
mod browser;
mod common;
#[path = "support/postgres.rs"]
mod postgres;

use browser::*;
use common::*;
use fantoccini::Client;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shadow_panel_names_its_source_and_warns_when_the_store_is_capped_or_down() {
    let (chromium, driver) = programs();
    let pg = postgres::Postgres::start();
    let url = pg.create_database("panel");
    // More comparison records than GET /shadow reads: the read is capped.
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let record = json!({ "time": now, "op": "ACCTINQ", "id": null, "result": "match", "primary": "legacy",
                         "shadow": "accounts", "legacy_ms": 1.0, "new_ms": 1.0 });
    for sql in [
        "CREATE TABLE ficus_shadow_records (kind TEXT NOT NULL, time DOUBLE PRECISION NOT NULL, replica TEXT NOT NULL, \
         op TEXT NOT NULL, body TEXT NOT NULL)"
            .to_string(),
        format!(
            "INSERT INTO ficus_shadow_records SELECT 'comparison', {now}, 'elsewhere:1', 'ACCTINQ', '{record}' FROM \
             generate_series(1, {})",
            ficus::shadow::store::READ_LIMIT + 10
        ),
    ] {
        sqlx::query(&sql).execute(&mut db).await.unwrap();
    }
    drop(db);
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "")
        + &format!("\n[journal]\nstore = \"{url}\"\n\n[shadow]\nrecords = \"postgres\"\n");
    let gw = Gateway::start(&toml).await;

    let (mut chromedriver, port) = start_chromedriver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let client = session(&chromium, port, profile.path()).await;
    let outcome = steps(&client, &gw, &pg).await;
    let page = if outcome.is_err() { text_of(&client, "body").await.unwrap_or_default() } else { String::new() };
    let _ = client.close().await;
    let _ = chromedriver.kill().await;
    pg.resume();
    if let Err(e) = outcome {
        panic!("{e}\n--- the page showed:\n{page}");
    }
}

async fn steps(client: &Client, gw: &Gateway, pg: &postgres::Postgres) -> Result<(), String> {
    client.goto(&format!("http://{}/", gw.admin())).await.map_err(|e| format!("open the dashboard: {e}"))?;
    let source = eventually("the store as the source", || async {
        let t = text_of(client, "#shadow-source").await?;
        t.to_lowercase().starts_with("all replicas (store").then_some(t)
    })
    .await?;
    let capped = eventually("the row cap's warning", || async {
        let t = text_of(client, "#shadow-warning").await?;
        t.contains("Only the newest").then_some(t)
    })
    .await?;
    if !capped.contains(&ficus::shadow::store::READ_LIMIT.to_string()) {
        return Err(format!("the cap's warning says {capped:?} (source {source:?})"));
    }
    eventually("the store's records in the panel", || text_of(client, "#shadow-body tr[data-op=ACCTINQ]")).await?;

    // The store hangs: this replica's counters, labelled so, and why.
    pg.pause();
    let down = eventually("the store's failure as a warning", || async {
        let t = text_of(client, "#shadow-warning").await?;
        t.contains("Store not readable").then_some(t)
    })
    .await?;
    if !down.contains("this replica's counters only") {
        return Err(format!("the warning says {down:?}"));
    }
    let source = text_of(client, "#shadow-source").await.unwrap_or_default();
    if source.to_lowercase() != "this replica" {
        return Err(format!("with the store down the source says {source:?}"));
    }
    Ok(())
}

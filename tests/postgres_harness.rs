//! The PostgreSQL test harness (tests/support/postgres.rs) gives a real server: sqlx connects
//! to it over loopback, each test's database is its own (a table made in one is absent in the
//! other), and once the handle is dropped the server is gone — its port refuses connections
//! and its directory is removed.

#[path = "support/postgres.rs"]
mod postgres;

use postgres::Postgres;
use sqlx::Connection;

async fn connect(url: &str, pg: &Postgres) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| panic!("connect {url}: {e}\nserver log:\n{}", pg.log()))
}

async fn has_marker(conn: &mut sqlx::PgConnection) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass('public.marker') IS NOT NULL").fetch_one(conn).await.unwrap()
}

#[tokio::test]
async fn one_server_two_databases_gone_after_drop() {
    let pg = Postgres::start();
    let port = pg.port();
    assert_eq!(pg.url(), format!("postgres://ficus@127.0.0.1:{port}/postgres"));

    let mut admin = connect(&pg.url(), &pg).await;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut admin).await.unwrap();
    assert_eq!(one, 1);
    let encoding: String = sqlx::query_scalar("SHOW server_encoding").fetch_one(&mut admin).await.unwrap();
    assert_eq!(encoding, "UTF8");
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&mut admin).await.unwrap();
    assert_eq!(fsync, "off", "the harness runs without fsync");
    admin.close().await.unwrap();

    let (a_url, b_url) = (pg.create_database("journal_a"), pg.create_database("journal_b"));
    assert_eq!(a_url, format!("postgres://ficus@127.0.0.1:{port}/journal_a"));
    let (mut a, mut b) = (connect(&a_url, &pg).await, connect(&b_url, &pg).await);
    let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&mut b).await.unwrap();
    assert_eq!(name, "journal_b");
    sqlx::query("CREATE TABLE marker (id int PRIMARY KEY)").execute(&mut a).await.unwrap();
    sqlx::query("INSERT INTO marker VALUES (14)").execute(&mut a).await.unwrap();
    assert!(has_marker(&mut a).await, "the table is in the database it was made in");
    assert!(!has_marker(&mut b).await, "and not in the other");
    // Korean text round-trips (UTF8 cluster).
    let text: String = sqlx::query_scalar("SELECT $1::text").bind("이체 취소").fetch_one(&mut a).await.unwrap();
    assert_eq!(text, "이체 취소");
    a.close().await.unwrap();
    b.close().await.unwrap();

    assert!(postgres::accepts(port), "the server listens while the handle lives");
    let log = pg.log();
    assert!(log.contains("ready to accept connections"), "{log}");
    let dir = pg.dir().to_path_buf();
    assert!(dir.join("data/PG_VERSION").is_file());
    drop(pg);
    assert!(!postgres::accepts(port), "after drop, 127.0.0.1:{port} must refuse connections");
    assert!(!dir.exists(), "after drop, {} must be gone", dir.display());
}

#[test]
fn servers_are_independent() {
    // Two servers at once (two test binaries, or two tests in one) get their own ports and
    // directories; dropping one leaves the other running.
    let (first, second) = (Postgres::start(), Postgres::start());
    assert_ne!(first.port(), second.port());
    let keep = second.port();
    drop(first);
    assert!(postgres::accepts(keep));
    second.create_database("still_here");
}

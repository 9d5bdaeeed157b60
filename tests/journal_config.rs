//! `[journal]` and the routes that use it are checked when the table is built: every way of
//! naming a key that could journal a write under the wrong key, send a reversal to a guess, or
//! leave a route unguarded is refused with its line and a reason — and a reload that brings one
//! keeps the running table.

mod common;

use common::*;

fn base(extra_routes: &str, journal: &str) -> String {
    let up = Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() };
    format!("{}{extra_routes}\n{journal}", routes_toml(&up, "legacy", "legacy", ""))
}

fn problems(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    match ficus::config::build::build(text, &path, None, 1) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

const JOURNAL: &str = "[journal]\nstore = \"sqlite:journal.db\"\n";

#[test]
fn a_well_formed_journal_builds_and_compiles_its_routes() {
    let dir = tempfile::tempdir().unwrap();
    let text = base("owner_key = \"FROM-ACCT\"\n", JOURNAL);
    let table = ficus::config::build::build(&text, &dir.path().join("routes.toml"), None, 1).unwrap();
    let plan = table.journal.as_ref().expect("journal");
    assert_eq!(plan.key.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["HDR-SEQ-NO"], "default key: message_id");
    let xfer = table.routes["XFER"].journal.as_ref().expect("XFER, a write, is journaled by default");
    assert!(xfer.dedupe);
    assert_eq!(xfer.owner_key.as_ref().unwrap().offset, table.header.size, "FROM-ACCT starts the body");
    assert!(table.routes["ACCTINQ"].journal.is_none(), "reads are not journaled");
    assert!(plan.store.display().ends_with("journal.db"));
}

#[test]
fn each_misnamed_or_unsafe_setting_is_refused_with_its_reason() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "[journal]\nstore = \"mysql://x\"\n", "expected \"sqlite:FILE\" or \"postgres://"),
        ("", "[journal]\nstore = \"sqlite:j.db\"\nkey = [\"HDR-SEQ\"]\n", "no field HDR-SEQ"),
        ("", "[journal]\nstore = \"sqlite:j.db\"\non_store_error = \"ignore\"\n", "on_store_error = \"ignore\""),
        ("", "[journal]\nstore = \"sqlite:j.db\"\nretention = 3\n", "unknown field `retention`"),
        ("dedupe = true\n", "", "dedupe needs a [journal] section"),
        ("owner_key = \"FROM-ACCT\"\n", "", "owner_key needs a [journal] section"),
        ("owner_key = \"ACCT-NUM\"\n", JOURNAL, "no field ACCT-NUM"),
        ("owner_key = \"MEMO\"\nreverses = \"XFERX\"\n", JOURNAL, "no route for operation XFERX"),
        ("reverses = \"ACCTINQ\"\noriginal_key = [\"MEMO\"]\n", JOURNAL, "ACCTINQ is not journaled (read_only)"),
        ("original_key = [\"MEMO\"]\n", JOURNAL, "original_key and original_missing belong to a reversal route"),
    ];
    for (route, journal, expected) in cases {
        let found = problems(&base(route, journal));
        assert!(found.contains(expected), "{route}{journal}\nexpected {expected:?} in:\n{found}");
        assert!(found.contains("routes.toml:"), "a line is named: {found}");
    }
}

#[test]
fn a_reversal_names_as_many_original_key_fields_as_the_journal_key_and_of_the_same_kind() {
    // A second journaled write whose reversal is configured on XFER's own layout.
    let reversal = |keys: &str| {
        format!(
            "\n[routes.XFERCAN]\nrequest = \"XFER.cpy#XFER-REQ\"\nresponse = \"XFER.cpy#XFER-RESP\"\ntarget = \
             \"legacy\"\nreverses = \"XFER\"\noriginal_key = {keys}\n"
        )
    };
    let two = problems(&base(&reversal("[\"FROM-ACCT\", \"TO-ACCT\"]"), JOURNAL));
    assert!(two.contains("original_key names 2 field(s); [journal] key has 1 (HDR-SEQ-NO)"), "{two}");
    let text_vs_number = problems(&base(&reversal("[\"MEMO\"]"), JOURNAL));
    assert!(text_vs_number.contains("read differently (one text, one a number)"), "{text_vs_number}");
    let packed = problems(&base(&reversal("[\"AMOUNT\"]"), JOURNAL));
    assert_eq!(packed, "", "a packed number and a zoned one both read as numbers");
    let read_only = base(&reversal("[\"AMOUNT\"]").replace("reverses", "read_only = true\nreverses"), JOURNAL);
    assert!(problems(&read_only).contains("reverses is for writes"), "{}", problems(&read_only));
}

#[test]
fn a_key_field_after_a_table_of_varying_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["COMMHDR.cpy", "ACCTINQ.cpy", "TXNHIST.cpy", "XFER.cpy"] {
        std::fs::copy(copybooks().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join("ODO.cpy"),
        "       01  ODO-REQ.\n           05  N        PIC 9(2).\n           05  ROW      PIC X(4) OCCURS 1 TO 9 \
         DEPENDING ON N.\n           05  ACCT     PIC X(16).\n",
    )
    .unwrap();
    let text =
        base("\n[routes.ODO]\nrequest = \"ODO.cpy#ODO-REQ\"\ntarget = \"legacy\"\nowner_key = \"ACCT\"\n", JOURNAL)
            .replace(&copybooks().display().to_string(), &dir.path().display().to_string());
    let path = dir.path().join("routes.toml");
    let found = ficus::config::build::build(&text, &path, None, 1).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(found.contains("ACCT follows a table whose size varies"), "{found}");
    // The same kind elsewhere: a canary's sticky field read at a largest-form offset.
    let sticky = text.replace("owner_key = \"ACCT\"", "canary = { to = \"accounts\", percent = 5, sticky = \"ACCT\" }");
    let found = ficus::config::build::build(&sticky, &path, None, 1).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(found.contains("sticky field ACCT: it follows a table whose size varies"), "{found}");
}

#[tokio::test]
async fn a_reload_with_a_bad_journal_keeps_the_running_table() {
    let sims = sims().await;
    let text = format!("{}\n{JOURNAL}", routes_toml(&sim_upstreams(&sims), "legacy", "legacy", ""));
    let gw = Gateway::start_unwatched(&text).await;
    let before = gw.generation();
    std::fs::write(&gw.config, text.replace("store = \"sqlite:journal.db\"", "store = \"sqlite:\"")).unwrap();
    let outcome = gw.running.reloader.reload(ficus::control::reload::Trigger::Signal);
    let error = outcome.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("journal store \"sqlite:\""), "{error}");
    assert_eq!(gw.generation(), before, "the running table stays");
    assert!(gw.table().journal.is_some());
}

#[tokio::test]
async fn a_reload_may_not_change_the_journal_store_or_key_under_traffic() {
    let sims = sims().await;
    let text = format!("{}\n{JOURNAL}", routes_toml(&sim_upstreams(&sims), "legacy", "legacy", ""));
    let gw = Gateway::start_unwatched(&text).await;
    let before = gw.generation();
    let reload = |text: String| {
        std::fs::write(&gw.config, text).unwrap();
        gw.running
            .reloader
            .reload(ficus::control::reload::Trigger::Signal)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let other_store = reload(text.replace("sqlite:journal.db", "sqlite:other.db"));
    assert!(other_store.contains("store changes only on a restart (running: \"sqlite:journal.db\")"), "{other_store}");
    let other_key = reload(text.replace(JOURNAL, &format!("{JOURNAL}key = [\"HDR-CHANNEL\", \"HDR-SEQ-NO\"]\n")));
    assert!(other_key.contains("key changes only on a restart (running: HDR-SEQ-NO)"), "{other_key}");
    assert_eq!(gw.generation(), before, "the running table stays");
    // The same key written out, and other settings, reload fine.
    let same = reload(text.replace(JOURNAL, &format!("{JOURNAL}key = [\"HDR-SEQ-NO\"]\nretention_hours = 24\n")));
    assert_eq!(same, "");
    assert_eq!(gw.generation(), before + 1);
}

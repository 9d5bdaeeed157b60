//! Two owner moves of one account at once: the second is refused (nothing changes for it)
//! instead of overwriting the first one's mark, which made the first settle the account at the
//! second one's target (reporting its own) and the second report nothing moved.

use ficus::journal::owners::MoveTo;
use ficus::journal::store::NewEntry;
use ficus::journal::Store;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn a_second_move_of_an_account_being_moved_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open("sqlite:journal.db", dir.path(), 4).unwrap());
    let account = "1000000000000001".to_string();
    // A write in flight for the account holds the first move in its wait.
    let new = NewEntry {
        key: "1",
        op: "XFER",
        request_hash: "h",
        route_key: Some(&account),
        upstream: "legacy",
        request: b"x",
        claim: "c1",
        generation: 1,
        lease: Duration::from_secs(60),
    };
    assert!(store.claim(&new).await.unwrap().is_none());
    let first = tokio::spawn({
        let (store, keys) = (store.clone(), vec![account.clone()]);
        async move { store.move_owners(&keys, &MoveTo::Upstream("accounts".into()), "ops-a", Duration::from_secs(20)).await }
    });
    while store.owner(&account).await.unwrap().and_then(|o| o.moving_to).is_none() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let second = store
        .move_owners(
            std::slice::from_ref(&account),
            &MoveTo::Upstream("other".into()),
            "ops-b",
            Duration::from_millis(200),
        )
        .await;
    assert!(second.is_err(), "{second:?}");
    // The write finishes: the first move goes where it was asked to.
    assert!(store.finish("1", "c1", Some("0000"), b"r").await.unwrap());
    let report = first.await.unwrap().unwrap();
    assert_eq!(report.moved, 1);
    let owner = store.owner(&account).await.unwrap().unwrap();
    assert_eq!((owner.upstream.as_str(), owner.moving_to), ("accounts", None));
}

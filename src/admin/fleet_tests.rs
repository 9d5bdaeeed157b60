//! Counting replicas per process ([`super::per_process`]).

use super::*;

fn status(pid: u64) -> Result<Value, String> {
    Ok(json!({ "replica": { "pid": pid, "host": "h", "started_ms": 1 }, "hash": "abc" }))
}

fn row(addr: &str, target: &str, status: Result<Value, String>) -> Seen {
    Seen::new(addr.into(), target.into(), status)
}

#[test]
fn a_dual_stack_name_whose_other_family_is_not_listened_on_is_not_a_missing_replica() {
    let down = || Err("connection refused".to_string());
    let seen = vec![row("127.0.0.1:9", "localhost:9", status(7)), row("[::1]:9", "localhost:9", down())];
    let out = per_process(seen, &[Some(false), Some(true)]);
    assert_eq!(out.len(), 2);
    assert!(out[1].not_counted.as_deref().is_some_and(|n| n.contains("IPv4")), "{:?}", out[1].not_counted);
    let survey = Survey { seen: out, hashes: BTreeMap::from([("abc".into(), vec!["127.0.0.1:9".into()])]) };
    assert_eq!((survey.replicas(), survey.unreachable(), survey.agree()), (1, 0, true));
    assert!(survey.problems().is_empty());
}

#[test]
fn a_family_with_one_address_answering_counts_its_silent_ones() {
    // Two pods, each with an IPv4 and an IPv6 address; pod 8 is down on both.
    let down = || Err("no answer".to_string());
    let seen = vec![
        row("10.0.0.1:9", "svc:9", status(7)),
        row("10.0.0.2:9", "svc:9", down()),
        row("[fd00::1]:9", "svc:9", status(7)),
        row("[fd00::2]:9", "svc:9", down()),
    ];
    let out = per_process(seen, &[Some(false), Some(false), Some(true), Some(true)]);
    assert_eq!(out.len(), 3, "pod 7 once, with its other address");
    assert_eq!(out[0].also, vec!["[fd00::1]:9".to_string()]);
    assert!(out.iter().all(|s| s.not_counted.is_none()), "both families answered somewhere: a pod is missing");
}

#[test]
fn every_address_is_shown_once_and_every_process_counted_once() {
    // Randomized, with a fixed seed: targets of one to four addresses of either family, each
    // answering as one of three processes or failing.
    let mut seed = 19u64;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for case in 0..3000 {
        let (mut seen, mut families) = (Vec::new(), Vec::new());
        for t in 0..1 + next(3) {
            for a in 0..1 + next(4) {
                let v6 = next(2) == 1;
                let who = next(4);
                let status = if who == 3 { Err("no answer".to_string()) } else { status(who) };
                seen.push(row(&format!("{t}.{a}.{v6}:9"), &format!("t{t}:9"), status));
                families.push(Some(v6));
            }
        }
        let fam = |i: usize| families[i];
        let failed_family = |target: &str, v6: bool, rows: &[Seen]| {
            let of = |ok: bool| {
                rows.iter().enumerate().any(|(i, s)| s.target == target && fam(i) == Some(v6) && s.status.is_ok() == ok)
            };
            of(false) && !of(true)
        };
        let expect_not_counted: Vec<bool> = seen
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let v6 = fam(i).unwrap();
                s.status.is_err()
                    && failed_family(&s.target, v6, &seen)
                    && seen
                        .iter()
                        .enumerate()
                        .any(|(j, o)| o.target == s.target && fam(j) == Some(!v6) && o.status.is_ok())
            })
            .collect();
        let processes: std::collections::BTreeSet<String> =
            seen.iter().filter_map(|s| s.status.as_ref().ok().and_then(identity)).collect();
        let failures = seen.iter().filter(|s| s.status.is_err()).count();
        let addresses: Vec<String> = seen.iter().map(|s| s.addr.clone()).collect();
        let out = per_process(seen, &families);
        let mut shown: Vec<String> =
            out.iter().flat_map(|s| std::iter::once(s.addr.clone()).chain(s.also.clone())).collect();
        let mut all = addresses.clone();
        shown.sort();
        all.sort();
        assert_eq!(shown, all, "case {case}: every address once");
        assert_eq!(out.iter().filter(|s| s.status.is_ok()).count(), processes.len(), "case {case}");
        let not_counted = out.iter().filter(|s| s.not_counted.is_some()).count();
        assert_eq!(not_counted, expect_not_counted.iter().filter(|b| **b).count(), "case {case}");
        let survey = Survey { seen: out, hashes: BTreeMap::new() };
        assert_eq!(survey.unreachable(), failures - not_counted, "case {case}");
        assert_eq!(survey.replicas(), processes.len() + failures - not_counted, "case {case}");
    }
}

#[test]
fn replicas_are_told_apart_by_pid_host_and_start() {
    let seen = vec![row("a:1", "a:1", status(7)), row("b:1", "b:1", status(8)), row("c:1", "c:1", status(7))];
    let out = per_process(seen, &[Some(false); 3]);
    assert_eq!(out.iter().map(|s| s.addr.as_str()).collect::<Vec<_>>(), ["a:1", "b:1"]);
    assert_eq!(out[0].also, vec!["c:1".to_string()]);
    assert_eq!(identity(&json!({})), None, "no identity: never merged");
}

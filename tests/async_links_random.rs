//! Random interleavings on a `tcp-async` link (fixed seeds, so a failure replays): many
//! channels at once, match keys that collide, and a host that answers now, twice, later (past
//! the deadline), never, or with a reply for a key nobody sent, in a shuffled order. Whatever
//! happens, every channel gets its own reply or an error reply — never another channel's.

#[path = "support/async_host.rs"]
mod async_host;
mod common;

use async_host::*;
use common::*;
use ficus::upstream::async_link::table::Unmatched;

/// xorshift64*: small, fixed, good enough to pick actions.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

const CHANNELS: u64 = 16;
const MESSAGES: u64 = 3;
const SEEDS: [u64; 4] = [0x9E37_79B9, 7, 1234, 0xDEAD_BEEF];

#[tokio::test]
async fn every_channel_gets_its_own_reply_or_an_error_never_another_s() {
    let mut host = AsyncHost::start().await;
    let routes =
        async_routes(host.send_addr, r#"{ listen = "127.0.0.1:0" }"#, "match = [\"HDR-SEQ-NO\"]\nbreaker_failures = 0");
    let gw = Gateway::start(&routes.replace("timeout_ms = 500", "timeout_ms = 300")).await;
    let entry = link(&gw, "kftc");
    let l = as_link(&entry);
    host.connect_receive(l.listening(PATIENCE).await.unwrap()).await;
    assert!(l.receive_ready(PATIENCE).await);
    let (mut own, mut errors) = (0, 0);
    for (round, seed) in SEEDS.iter().enumerate() {
        let mut rng = Rng(*seed);
        // Keys from a pool twice the channels' size: some collide while waiting.
        let base = 10_000 * (round as u64 + 1);
        let mut channels = tokio::task::JoinSet::new();
        for i in 0..CHANNELS {
            // Each channel sends its messages one after another; after a timeout its next
            // message reuses the sequence number (a counter restarted): the late reply must not
            // reach it.
            let sends: Vec<(String, u64)> =
                (0..MESSAGES).map(|m| (format!("R{round}C{i:06}M{m:06}"), base + rng.next(CHANNELS * 2))).collect();
            let (http, table) = (gw.http(), gw.table());
            channels.spawn(async move {
                let mut got: Vec<(String, u64, (u16, Vec<u8>))> = Vec::new();
                for (acct, mut seq) in sends {
                    if let Some((_, last, (504, _))) = got.last() {
                        seq = *last;
                    }
                    let body = serde_json::json!({ "ACCT-NO": acct });
                    let header = serde_json::json!({ "HDR-SEQ-NO": seq });
                    let message = ficus::cli::build_request(&table, "ACCTINQ", &body, &header).unwrap();
                    got.push((acct, seq, post(http, &message).await));
                }
                got
            });
        }
        let mut later: Vec<Vec<u8>> = Vec::new();
        let mut results = Vec::new();
        loop {
            tokio::select! {
                request = host.recv() => {
                    let request = request.expect("the host runs");
                    // Replies held back go out before this request is acted on: always one for
                    // its key (the worst moment: a late reply while a new request with that key
                    // waits), the others now and then, shuffled.
                    let mut i = 0;
                    while i < later.len() {
                        if later[i][17..27] == request[17..27] || rng.next(3) == 0 {
                            let at = rng.next((later.len() - i) as u64) as usize;
                            later.swap(i, i + at);
                            if later[i][17..27] == request[17..27] || rng.next(2) == 0 {
                                host.reply(&later.swap_remove(i)).await;
                                continue;
                            }
                        }
                        i += 1;
                    }
                    let reply = answer(&gw, &request);
                    match rng.next(5) {
                        0 => host.reply(&reply).await,
                        1 => {
                            host.reply(&reply).await;
                            host.reply(&reply).await;
                        }
                        2 => later.push(reply),
                        3 => {}
                        _ => {
                            let stranger = inquiry(&gw, "STRANGER00000000", base + 5_000 + rng.next(100), None);
                            host.reply(&answer(&gw, &stranger)).await;
                            host.reply(&reply).await;
                        }
                    }
                }
                done = channels.join_next() => match done {
                    Some(result) => results.extend(result.unwrap()),
                    None => break,
                },
            }
        }
        // Whatever is still held back arrives after its channel was answered FC11.
        for reply in later {
            host.reply(&reply).await;
        }
        for (acct, seq, (status, reply)) in results {
            let (code, msg, got) = read_reply(&reply);
            // Error replies are the request's header alone: their message id says whose they are.
            assert_eq!(text(&reply[17..27]).parse::<u64>().unwrap(), seq, "seed {seed}: {acct} got {code} {msg}");
            match code.as_str() {
                "0000" => {
                    assert_eq!(got, acct, "seed {seed}: a channel got another's reply");
                    assert_eq!((status, msg), (200, format!("ANSWER {acct}")), "seed {seed}");
                    own += 1;
                }
                "FC11" | "FC45" => {
                    assert_eq!(reply.len(), 85, "seed {seed}: an error reply is the header alone");
                    errors += 1;
                }
                other => panic!("seed {seed}: {acct} got {other} {msg}"),
            }
        }
    }
    // A last message behind everything on the receive connection: when it is answered, every
    // late or stray reply before it has been read.
    let message = inquiry(&gw, "LASTONE000000000", 99_999, None);
    let http = gw.http();
    let last = tokio::spawn(async move { post(http, &message).await });
    loop {
        let request = host.next_request().await;
        if text(&request[ACCT_NO]) == "LASTONE000000000" {
            host.reply(&answer(&gw, &request)).await;
            break;
        }
    }
    assert_eq!(read_reply(&last.await.unwrap().1).2, "LASTONE000000000");
    assert!(own > 0 && errors > 0, "the seeds exercise both outcomes: {own} answered, {errors} errors");
    let unmatched: u64 = Unmatched::ALL.iter().map(|c| l.unmatched(*c)).sum();
    assert!(l.unmatched(Unmatched::Duplicate) > 0 && l.unmatched(Unmatched::Unknown) > 0, "{unmatched} unmatched");
    assert_eq!(l.outstanding().0, 0, "nothing left waiting");
}

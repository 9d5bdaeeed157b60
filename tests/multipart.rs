//! Multi-part messages (장전문) over real sockets: a request in three parts reaches a JSON
//! service as one JSON message and its long reply comes back in parts; every wrong part (out of
//! order, missing, duplicate, another message's, too big, too late, over HTTP) gets its named
//! error reply and nothing reaches the service; a legacy route's parts pass to the host one by
//! one; single messages are served byte for byte as without `multipart`. The header, layouts
//! and routes.toml are the test's own (ASCII, in a temp dir).

mod common;
#[path = "support/multipart.rs"]
mod rig;

use rig::*;
use serde_json::{json, Value};
use tokio::net::TcpStream;

#[tokio::test]
async fn three_parts_reach_the_service_as_one_json_message_and_the_long_reply_comes_back_in_parts() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let body = request_body();
    let ps = parts("BIGREQ", 4242, &body, &[200, 400]);
    send(&mut conn, &ps[0]).await;
    // A link test between two parts is answered, and the message stays open.
    send(&mut conn, &message("HEARTBT", 1, ' ', 0, b"")).await;
    let beat = recv(&mut conn).await.unwrap();
    assert_eq!((text(&beat[5..13]).as_str(), code(&beat).0.as_str(), beat.len()), ("HEARTBT", "0000", SIZE));
    send(&mut conn, &ps[1]).await;
    send(&mut conn, &ps[2]).await;
    // 909 body bytes at 300 a part: 300, 300, 300, 9.
    let mut replies = Vec::new();
    for _ in 0..4 {
        replies.push(recv(&mut conn).await.unwrap());
    }
    let seen = rig.svc.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one JSON message: {seen:?}");
    let items = seen[0]["request"]["ITEM"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[19], json!({"ITEM-NAME": "ITEM 20", "ITEM-AMT": 2000}));
    assert_eq!(seen[0]["header"]["HDR-CONT-FLAG"], "1", "the service sees a single message");
    assert_eq!(seen[0]["header"]["HDR-MSG-LEN"], SIZE + REQ_BODY);
    let mut whole = Vec::new();
    for (i, r) in replies.iter().enumerate() {
        let want_flag = ["2", "3", "3", "4"][i];
        assert_eq!(text(&r[23..24]), want_flag, "part {i} flag");
        assert_eq!(text(&r[24..27]), format!("{:03}", i + 1), "part {i} number");
        assert_eq!(text(&r[0..5]).parse::<usize>().unwrap(), r.len(), "part {i} length field");
        assert_eq!(&r[5..23], &ps[0][5..23], "operation and message id of the request");
        assert_eq!(code(r).0, "0000");
        assert_eq!(r.len() - SIZE, [300, 300, 300, 9][i]);
        whole.extend_from_slice(&r[SIZE..]);
    }
    assert_eq!(whole.len(), RESP_BODY);
    assert_eq!(&whole[..9], format!("{:09}", 21_000).as_bytes(), "TOTAL of the 20 items");
    assert_eq!(text(&whole[9 + 29 * 30..]), "LINE 29 OF THE REPLY");
    assert!(rig.host.lock().unwrap().is_empty());
    rig.gw.stop().await;
}

#[tokio::test]
async fn every_wrong_part_gets_its_named_error_and_nothing_is_routed() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let body = request_body();
    let ps = parts("BIGREQ", 7, &body, &[200, 400]);
    let other = parts("BIGREQ", 8, &body, &[200, 400]);
    // (what is sent, the code and words of the reply to its last message).
    let cases: Vec<(&str, Vec<Vec<u8>>, &str, &str)> = vec![
        ("out of order", vec![ps[0].clone(), ps[2].clone()], "FC40", "PART ORDER: expected part 2, got 3"),
        ("duplicate", vec![ps[0].clone(), ps[1].clone(), ps[1].clone()], "FC40", "expected part 3, got 2"),
        ("middle with none open", vec![ps[1].clone()], "FC41", "PART MISSING: middle part 2 with no"),
        ("last with none open", vec![ps[2].clone()], "FC41", "PART MISSING: last part 3"),
        ("first while open", vec![ps[0].clone(), other[0].clone()], "FC41", "PART MISSING: first part of a new"),
        ("single while open", vec![ps[0].clone(), message("BIGREQ", 9, '1', 1, &body)], "FC41", "PART MISSING: single"),
        (
            "another message id",
            vec![ps[0].clone(), other[1].clone()],
            "FC44",
            "PART REFUSED: part 2 carries HDR-SEQ-NO",
        ),
        (
            "another operation",
            vec![ps[0].clone(), message("OTHEROP", 7, '3', 2, &body[200..400])],
            "FC44",
            "PART REFUSED: part 2 carries operation",
        ),
        ("first part not 1", vec![message("BIGREQ", 7, '2', 2, b"x")], "FC40", "expected part 1, got 2"),
        ("unknown flag", vec![message("BIGREQ", 7, '9', 1, b"x")], "FC44", "HDR-CONT-FLAG is \"9\""),
    ];
    for (what, sent, want, words) in cases {
        let mut last = None;
        for (i, m) in sent.iter().enumerate() {
            send(&mut conn, m).await;
            // Held parts are not answered (ack = "none"); a refused one is.
            if i + 1 == sent.len() {
                last = recv(&mut conn).await;
            }
        }
        let (got, msg) = code(&last.unwrap());
        assert_eq!(got, want, "{what}: {msg}");
        assert!(msg.contains(words), "{what}: {msg:?}");
    }
    // Too big: 71 + 300 + 300 + 300 > max_bytes 700, at part 3.
    let big = parts("BIGREQ", 10, &[b'A'; 900], &[300, 600]);
    for m in &big {
        send(&mut conn, m).await;
    }
    let (got, msg) = code(&recv(&mut conn).await.unwrap());
    assert_eq!((got.as_str(), msg.as_str()), ("FC42", "PARTS TOO LARGE: 971 bytes at part 3, ov"));
    // The connection stays usable: a whole message after all that is served.
    for m in &ps {
        send(&mut conn, m).await;
    }
    assert_eq!(code(&recv(&mut conn).await.unwrap()).0, "0000");
    assert_eq!(rig.svc.lock().unwrap().len(), 1, "only the whole message reached the service");
    rig.gw.stop().await;
}

#[tokio::test]
async fn a_channel_that_stops_mid_message_is_told_and_closed() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let ps = parts("BIGREQ", 31, &request_body(), &[200, 400]);
    send(&mut conn, &ps[0]).await;
    send(&mut conn, &ps[1]).await;
    let reply = recv(&mut conn).await.expect("the timeout is answered");
    let (got, msg) = code(&reply);
    assert_eq!((got.as_str(), msg.as_str()), ("FC43", "PARTS TIMEOUT: part 3 of message 31 did"));
    assert_eq!(text(&reply[24..27]), "001", "answered on the first part's header");
    assert_eq!(recv(&mut conn).await, None, "then closed");
    assert!(rig.svc.lock().unwrap().is_empty());
    rig.gw.stop().await;
}

#[tokio::test]
async fn parts_over_http_are_refused_and_whole_messages_served() {
    let rig = rig(Some(KNOBS)).await;
    let ps = parts("BIGREQ", 5, &request_body(), &[200, 400]);
    let (status, reply) = common::post(rig.gw.http.unwrap(), &ps[0]).await;
    assert_eq!(status, 400);
    assert_eq!(code(&reply).0, "FC44");
    assert!(code(&reply).1.starts_with("PART REFUSED: first part on HTTP"), "{:?}", code(&reply).1);
    assert!(rig.svc.lock().unwrap().is_empty());
    // A whole message over HTTP: one reply, never split.
    let (status, reply) = common::post(rig.gw.http.unwrap(), &message("BIGREQ", 6, '1', 1, &request_body())).await;
    assert_eq!((status, reply.len()), (200, SIZE + RESP_BODY));
    rig.gw.stop().await;
}

#[tokio::test]
async fn legacy_parts_pass_to_the_host_one_by_one_and_its_answers_are_relayed() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let ps = parts("LEGREQ", 77, &[b'L'; 1200], &[500, 1000]);
    for (i, p) in ps.iter().enumerate() {
        send(&mut conn, p).await;
        let reply = recv(&mut conn).await.unwrap();
        assert_eq!(text(&reply[SIZE..]), format!("HOST GOT PART {:03}", i + 1));
    }
    assert_eq!(*rig.host.lock().unwrap(), ps, "the host got each part as it was sent");
    // Out of order on a legacy route: refused before the host sees it.
    send(&mut conn, &ps[0]).await;
    recv(&mut conn).await.unwrap();
    send(&mut conn, &ps[2]).await;
    assert_eq!(code(&recv(&mut conn).await.unwrap()).0, "FC40");
    assert_eq!(rig.host.lock().unwrap().len(), 4, "part 3 out of order never reached the host");
    rig.gw.stop().await;
}

#[tokio::test]
async fn single_messages_are_served_byte_for_byte_as_without_multipart() {
    let single = message("BIGREQ", 12, '1', 1, &request_body());
    let legacy = message("LEGREQ", 13, '1', 1, b"SOME BODY");
    let mut answers = Vec::new();
    for multipart in [None, Some("")] {
        let rig = rig(multipart).await;
        let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
        send(&mut conn, &single).await;
        let a = recv(&mut conn).await.unwrap();
        send(&mut conn, &legacy).await;
        let b = recv(&mut conn).await.unwrap();
        let host = rig.host.lock().unwrap().clone();
        let svc = rig.svc.lock().unwrap().clone();
        answers.push((a, b, host, svc));
        rig.gw.stop().await;
    }
    let (a, b, host, _) = &answers[0];
    assert_eq!(a.len(), SIZE + RESP_BODY, "one reply, not split (default part size)");
    assert_eq!(*host, vec![legacy.clone()]);
    assert_eq!(text(&b[SIZE..]), "HOST GOT PART 001");
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["header"]["HDR-TIMESTAMP"] = Value::Null;
        v
    };
    assert_eq!(answers[0].0, answers[1].0, "the JSON service's reply");
    assert_eq!(answers[0].1, answers[1].1, "the host's reply");
    assert_eq!(answers[0].2, answers[1].2, "what the host got");
    assert_eq!(strip(&answers[0].3[0]), strip(&answers[1].3[0]), "what the service got");
}

#[tokio::test]
async fn ack_each_answers_every_held_part_at_once() {
    let rig = rig(Some(", ack = \"each\", ack_code = \"0001\"")).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let ps = parts("BIGREQ", 55, &request_body(), &[200, 400]);
    for (i, p) in ps[..2].iter().enumerate() {
        send(&mut conn, p).await;
        let ack = recv(&mut conn).await.unwrap();
        assert_eq!(ack.len(), SIZE, "header only");
        assert_eq!(code(&ack).0, "0001");
        assert_eq!(&ack[5..27], &p[5..27], "the part's operation, id, flag and number");
        assert_eq!(i + 1, text(&ack[24..27]).parse::<usize>().unwrap());
    }
    assert!(rig.svc.lock().unwrap().is_empty(), "nothing routed before the last part");
    send(&mut conn, &ps[2]).await;
    let reply = recv(&mut conn).await.unwrap();
    assert_eq!((code(&reply).0.as_str(), reply.len()), ("0000", SIZE + RESP_BODY));
    rig.gw.stop().await;
}

#[tokio::test]
async fn a_reload_removing_multipart_mid_message_refuses_the_rest_of_it() {
    let rig = rig(Some(KNOBS)).await;
    let mut conn = TcpStream::connect(rig.gw.tcp.unwrap()).await.unwrap();
    let ps = parts("BIGREQ", 4343, &request_body(), &[200, 400]);
    send(&mut conn, &ps[0]).await;
    send(&mut conn, &message("HEARTBT", 1, ' ', 0, b"")).await;
    recv(&mut conn).await.unwrap(); // part 1 is held (no ack) once the link test is answered
    let config = rig.dir.path().join("routes.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let line = text.lines().find(|l| l.starts_with("multipart")).unwrap().to_string();
    std::fs::write(&config, text.replace(&line, "")).unwrap();
    rig.gw.reloader.reload(ficus::control::reload::Trigger::File).unwrap();
    // Part 2 of a message whose part 1 was taken: a fragment, never served as a whole message.
    send(&mut conn, &ps[1]).await;
    let reply = recv(&mut conn).await.unwrap();
    assert_eq!(code(&reply).0, "FC41", "{:?}", code(&reply));
    assert!(code(&reply).1.contains("PART"), "{:?}", code(&reply));
    assert!(rig.svc.lock().unwrap().is_empty(), "nothing of the message reached the service");
    // The next message after it is served as before (multipart is off now).
    send(&mut conn, &message("HEARTBT", 2, ' ', 0, b"")).await;
    assert_eq!(code(&recv(&mut conn).await.unwrap()).0, "0000");
    rig.gw.stop().await;
}

//! [`HeaderLayout::read`] against the values a header was encoded from: the operation key and
//! the message id read once per message (inline when short, on the heap when long) are the
//! fields' trimmed texts and numbers, in every code page and on both sides of the inline limit.

use crate::header::HeaderLayout;
use proptest::prelude::*;
use serde_json::json;

fn header(codepage: &str, id_pic: &str) -> HeaderLayout {
    crate::header::test_layout(codepage, "PIC X(20)", "PIC X(12)", id_pic, false)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        rng_seed: proptest::test_runner::RngSeed::Fixed(17),
        ..Default::default()
    })]

    /// Keys of 3 to 33 bytes and ids of 1 to 30 digits (the inline limit is 24 bytes): what
    /// `read` gives is what was written, trimmed, and what `operation`/`message_id` give.
    #[test]
    fn the_head_read_once_is_what_the_header_says(
        op in "[A-Z0-9]{1,20}",
        sub in "[A-Z0-9]{1,12}",
        lead in 0usize..3,
        digits in "[1-9][0-9]{0,29}",
        picture in 0usize..4,
    ) {
        let (cp, pic) = [("cp037", "PIC 9(30)"), ("ascii", "PIC 9(30)"), ("cp949", "PIC X(30)"), ("cp037", "PIC S9(29) COMP-3")][picture];
        let digits = if picture == 3 { &digits[..digits.len().min(29)] } else { &digits[..] };
        let h = header(cp, pic);
        // Leading spaces where the field has room: trimmed on both sides when read.
        let padded = format!("{}{op}", " ".repeat(lead.min(20 - op.len())));
        let id = if pic.contains('X') { json!(digits) } else { crate::codec::json::number_value(digits) };
        let value = json!({ "H-LEN": 0, "H-OP": padded, "H-SUB": sub, "H-ID": id, "H-RC": "", "H-MSG": "" });
        let message = h.codec.encode_json(&value).unwrap();
        let head = h.read(&message);
        let key = format!("{op}.{sub}");
        prop_assert_eq!(head.op.as_deref(), Ok(key.as_str()));
        prop_assert_eq!(head.id.as_deref(), Some(digits));
        let (op_again, id_again) = (h.operation(&message), h.message_id(&message));
        prop_assert_eq!(op_again.as_deref(), Ok(key.as_str()));
        prop_assert_eq!(id_again.as_deref(), Some(digits));
    }
}

#[test]
fn an_unreadable_operation_or_id_reads_as_such() {
    let h = header("cp037", "PIC 9(30)");
    let value = json!({ "H-LEN": 0, "H-OP": "XFER", "H-SUB": "1", "H-ID": 5, "H-RC": "", "H-MSG": "" });
    let mut message = h.codec.encode_json(&value).unwrap();
    // A letter in the id's digits: no id (the message is still routed by its operation).
    message[4 + 32] = 0xC1;
    assert_eq!(h.read(&message).id, None);
    // A blank operation: unreadable, naming both fields.
    message[4..36].fill(0x40);
    let err = h.read(&message).op.unwrap_err().to_string();
    assert!(err.contains("H-OP+H-SUB"), "{err}");
    assert!(h.read(&message[..10]).op.is_err(), "a short message has no operation");
}

//! Link management messages built from the common header: the gateway's answer to a channel's
//! heartbeat, and the poll it sends on idle host links. Pure: no I/O.
//!
//! Both are header-only. A heartbeat's answer is the request's header with the configured
//! response code (through [`HeaderLayout::error_reply`], so the length field is set the way
//! every reply ficus builds sets it); a poll is a blank header with the operation fields and a
//! fresh message id written, its length field set likewise.

use super::{HeaderField, HeaderLayout};
use crate::codec::charset::Overflow;
use crate::codec::decimal::Decimal;
use crate::codec::number::encode_number;
use crate::codec::plan::LeafKind;

/// A channel's heartbeat, checked against the header: a message whose operation key is `op` is
/// answered by the gateway with `reply_code` and goes no further.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// The operation key of a heartbeat, as [`HeaderLayout::operation`] reads it.
    pub op: String,
    /// The response code of the answer.
    pub reply_code: String,
}

impl Heartbeat {
    /// A heartbeat for `op`, answered with `reply_code`: `op` must be writable into the
    /// operation fields and read back as itself, and `reply_code` must fit the response-code
    /// field. Errors name the field and the value.
    pub fn new(header: &HeaderLayout, op: &str, reply_code: &str) -> Result<Heartbeat, String> {
        header.link_message(op, 1)?;
        header.check_response_code(reply_code)?;
        Ok(Heartbeat { op: op.to_string(), reply_code: reply_code.to_string() })
    }

    /// The answer to heartbeat `request`: its header, with the response code set (length
    /// field right, no body).
    pub fn reply(&self, header: &HeaderLayout, request: &[u8]) -> Vec<u8> {
        header.error_reply(request, &self.reply_code, "")
    }
}

/// The largest number `digits` decimal digits hold (at most 18, so it fits a u64).
fn nines(digits: u32) -> u64 {
    10u64.pow(digits.clamp(1, 18)) - 1
}

impl HeaderLayout {
    /// Checks that `code` can be written into the response-code field as it is (never cut).
    pub fn check_response_code(&self, code: &str) -> Result<(), String> {
        let f = &self.response_code;
        let mut dst = vec![0u8; f.len];
        self.options
            .codepage
            .encode_into(code, &mut dst, Overflow::Error)
            .map_err(|e| format!("reply_code = {code:?} does not fit {} ({} bytes): {e}", f.name, f.len))
    }

    /// The largest message id a fresh message can carry (a number in the message id field:
    /// its digits, or for a PIC X field its width in digits); `None` without a message id field.
    pub fn message_id_capacity(&self) -> Option<u64> {
        let f = self.message_id.as_ref()?;
        Some(match f.kind {
            LeafKind::Zoned { digits, scale, .. }
            | LeafKind::Packed { digits, scale, .. }
            | LeafKind::Binary { digits, scale, .. }
                if digits > 0 =>
            {
                nines((digits as i32 - scale.max(0)).max(1) as u32)
            }
            // A binary field without a picture: what its storage holds unsigned, kept to digits.
            LeafKind::Binary { .. } => nines((f.len as u32 * 2).saturating_sub(1)),
            _ => nines(f.len as u32),
        })
    }

    /// Message id `n` as the header's JSON holds it: a number, or for a PIC X id field its
    /// zero-padded digits (as channels number their messages); `None` without a message id field.
    pub fn message_id_json(&self, n: u64) -> Option<serde_json::Value> {
        let f = self.message_id.as_ref()?;
        Some(match f.kind {
            LeafKind::Text { .. } => serde_json::Value::from(format!("{n:0>width$}", width = f.len)),
            _ => serde_json::Value::from(n),
        })
    }

    /// A header-only message for operation `op` (several operation fields: their values joined
    /// by `.`) carrying message id `id` (when the header has a message id field), every other
    /// field blank and the length field set. Errors name the field a value does not fit, or say
    /// that `op` would not be read back as itself.
    pub fn link_message(&self, op: &str, id: u64) -> Result<Vec<u8>, String> {
        let parts: Vec<&str> = if self.operation.len() > 1 { op.split('.').collect() } else { vec![op] };
        if parts.len() != self.operation.len() {
            let names: Vec<&str> = self.operation.iter().map(|f| f.name.as_str()).collect();
            return Err(format!(
                "op = {op:?}: the operation is {} header fields ({}), so give {} values joined by '.'",
                names.len(),
                names.join(" + "),
                names.len()
            ));
        }
        let mut message = self.blank.clone();
        for (field, part) in self.operation.iter().zip(parts) {
            self.write_field(&mut message, field, part).map_err(|e| format!("op = {op:?}: {e}"))?;
        }
        if let Some(f) = &self.message_id {
            self.write_field(&mut message, f, &id.to_string())?;
        }
        match self.operation(&message) {
            Ok(read) if read == op => {}
            Ok(read) => return Err(format!("op = {op:?} would be read from the header as {read:?}")),
            Err(e) => return Err(format!("op = {op:?}: {e}")),
        }
        self.set_length(&mut message);
        Ok(message)
    }

    /// Writes `value` into `field` of `message`: text in the code page (padded, never cut), a
    /// number into a zoned, packed or binary field, right-aligned digits into a PIC X id.
    fn write_field(&self, message: &mut [u8], field: &HeaderField, value: &str) -> Result<(), String> {
        let dst = &mut message[field.offset..field.offset + field.len];
        let numeric = !matches!(field.kind, LeafKind::Text { .. });
        let is_id = self.message_id.as_ref().is_some_and(|f| f.offset == field.offset);
        if numeric {
            let number: Decimal =
                value.parse().map_err(|e| format!("{value:?} is not a number for {}: {e}", field.name))?;
            return encode_number(field.kind, number, self.options, dst)
                .map_err(|e| format!("{value:?} does not fit {}: {e}", field.name));
        }
        // A message id kept as text is numbered with zero-padded digits, as channels write them.
        let text = if is_id { format!("{value:0>width$}", width = field.len) } else { value.to_string() };
        self.options
            .codepage
            .encode_into(&text, dst, Overflow::Error)
            .map_err(|e| format!("{value:?} does not fit {} ({} bytes): {e}", field.name, field.len))
    }
}

#[cfg(test)]
mod tests {
    use crate::header::HeaderLayout;

    fn header(codepage: &str, id_pic: &str) -> HeaderLayout {
        crate::header::test_layout(codepage, "PIC X(6)", "PIC 9(2)", id_pic, true)
    }

    #[test]
    fn a_poll_message_carries_its_operation_and_id_and_reads_back() {
        for (cp, pic, id) in
            [("cp037", "PIC 9(6)", "4242"), ("ascii", "PIC X(6)", "004242"), ("cp037", "PIC S9(7) COMP-3", "4242")]
        {
            let h = header(cp, pic);
            let m = h.link_message("HEARTB.7", 4242).unwrap();
            assert_eq!(m.len(), h.size, "{cp} {pic}: header only");
            assert_eq!(h.operation(&m).unwrap(), "HEARTB.7");
            assert_eq!(h.message_id(&m).as_deref(), Some(id), "{cp} {pic}");
            h.check_length(&m).unwrap();
            h.validate(&m).unwrap();
        }
        assert_eq!(header("ascii", "PIC X(6)").message_id_capacity(), Some(999_999));
        assert_eq!(header("ascii", "PIC X(6)").message_id_json(42), Some(serde_json::json!("000042")));
        assert_eq!(header("ascii", "PIC 9(6)").message_id_json(42), Some(serde_json::json!(42)));
        assert_eq!(header("cp037", "PIC S9(7) COMP-3").message_id_capacity(), Some(9_999_999));
    }

    #[test]
    fn operations_that_cannot_be_written_or_read_back_are_refused_by_name() {
        let h = header("cp037", "PIC 9(6)");
        assert!(h.link_message("HEARTBT.1", 1).unwrap_err().contains("H-OP"), "7 bytes in a 6-byte field");
        assert!(h.link_message("HB", 1).unwrap_err().contains("2 values joined by '.'"));
        assert!(h.link_message("HB.X", 1).unwrap_err().contains("H-SUB"));
        assert!(h.link_message(" HB.1", 1).unwrap_err().contains("read from the header as \"HB.1\""));
        assert!(h.link_message("HB.1", 1_000_000).unwrap_err().contains("H-ID"));
        assert!(h.check_response_code("00000").unwrap_err().contains("H-RC (4 bytes)"));
        h.check_response_code("0000").unwrap();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 600,
            rng_seed: proptest::test_runner::RngSeed::Fixed(15),
            ..Default::default()
        })]

        /// Any operation and id: a link message is built exactly when both fit their fields, and
        /// then reads back as itself, valid, with its length right — in every id picture.
        #[test]
        fn link_messages_read_back_or_are_refused(
            op in "[A-Z0-9]{1,8}",
            sub in 0u32..150,
            id in 0u64..2_000_000,
            picture in 0usize..3,
        ) {
            let (cp, pic) = [("cp037", "PIC 9(6)"), ("ascii", "PIC X(6)"), ("cp037", "PIC S9(7) COMP-3")][picture];
            let h = header(cp, pic);
            let key = format!("{op}.{sub}");
            let fits = op.len() <= 6 && sub < 100 && id <= h.message_id_capacity().unwrap();
            match h.link_message(&key, id) {
                Ok(m) => {
                    proptest::prop_assert!(fits, "{key} {id} built in {pic}");
                    proptest::prop_assert_eq!(h.operation(&m).unwrap(), key);
                    let read: u64 = h.message_id(&m).unwrap().parse().unwrap();
                    proptest::prop_assert_eq!(read, id);
                    proptest::prop_assert!(h.check_length(&m).is_ok() && h.validate(&m).is_ok());
                }
                Err(e) => proptest::prop_assert!(!fits, "{key} {id} refused in {pic}: {e}"),
            }
        }
    }

    #[test]
    fn a_heartbeat_answer_is_the_request_header_with_the_code() {
        let h = header("cp037", "PIC 9(6)");
        let hb = super::Heartbeat::new(&h, "HEARTB.1", "0000").unwrap();
        let mut request = h.link_message("HEARTB.1", 77).unwrap();
        request.extend_from_slice(&[0x40; 5]);
        let reply = hb.reply(&h, &request);
        assert_eq!(reply.len(), h.size, "header only");
        assert_eq!(h.response_code(&reply).as_deref(), Some("0000"));
        assert_eq!(h.message_id(&reply).as_deref(), Some("77"));
        h.check_length(&reply).unwrap();
    }
}

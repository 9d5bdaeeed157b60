//! `[header] multipart` → [`MultipartPlan`]: the flag and part number fields exist in the header
//! copybook, the four flag values fit the flag field and differ (none blank but `single`), the
//! part number field holds a number; `ack` is `"none"` or `"each"` (its code fits the
//! response-code field); the bounds are sane: `max_bytes` at most `[limits] max_message_bytes`
//! and larger than the header, `timeout_ms` and `reply_part_bytes` at least 1. A channel whose
//! code page is not the host's cannot take parts yet: refused, naming it. Every problem names the
//! `multipart` line.

use super::Builder;
use crate::codec::charset::CodePage;
use crate::header::parts::MultipartSettings;
use crate::header::{HeaderLayout, MultipartPlan};
use crate::route::file::RoutesFile;
use std::sync::Arc;

impl Builder<'_> {
    /// `[header] multipart`, compiled against `header` (after the framings' length rules were
    /// adopted): `None` without one, or with the problem recorded.
    pub(super) fn multipart(
        &mut self,
        file: &RoutesFile,
        header: &HeaderLayout,
        host: CodePage,
    ) -> Option<Arc<MultipartPlan>> {
        let spec = file.header.multipart.as_ref()?;
        let problem = |b: &mut Self, m: String| b.problem("header", Some("multipart"), format!("multipart: {m}"));
        let limit = file.limits.max_message_bytes;
        let ack_each = match spec.ack.as_deref().unwrap_or("none") {
            "none" => false,
            "each" => true,
            other => {
                problem(self, format!("ack = {other:?}: use \"none\" (answer at the last part) or \"each\""));
                return None;
            }
        };
        let ack_code = spec.ack_code.clone().unwrap_or_else(|| "0000".into());
        if let Err(e) = header.check_response_code(&ack_code) {
            problem(self, format!("ack_code: {e}"));
            return None;
        }
        let max_bytes = spec.max_bytes.unwrap_or(limit);
        if max_bytes > limit || max_bytes <= header.size {
            let why = format!(
                "max_bytes = {max_bytes} must be more than the {}-byte header and at most [limits] \
                 max_message_bytes ({limit}): a reassembled message is served like any message",
                header.size
            );
            problem(self, why);
            return None;
        }
        let timeout_ms = spec.timeout_ms.unwrap_or(file.limits.read_timeout_ms);
        if timeout_ms == 0 {
            problem(self, "timeout_ms must be at least 1 (milliseconds to wait for the next part)".into());
            return None;
        }
        let reply_part_bytes = spec.reply_part_bytes.unwrap_or(limit.saturating_sub(header.size).max(1));
        if reply_part_bytes == 0 {
            problem(self, "reply_part_bytes must be at least 1 (body bytes in one part of a reply)".into());
            return None;
        }
        let settings = MultipartSettings {
            ack_each,
            ack_code,
            timeout_ms,
            max_parts: spec.max_parts,
            max_bytes,
            reply_part_bytes,
        };
        let values = [spec.single.as_str(), &spec.first, &spec.middle, &spec.last];
        let plan = match MultipartPlan::new(header, &spec.flag, values, &spec.part_no, settings) {
            Ok(plan) => plan,
            Err(e) => {
                problem(self, e);
                return None;
            }
        };
        for c in &file.channels {
            let page = c.codepage.as_deref().and_then(|p| CodePage::from_name(p).ok());
            if page.is_some_and(|p| p != host) {
                let why = format!(
                    "[[channels]] {:?} converts {} to the host's {host}: parts are not yet reassembled on a \
                     converting channel (its parts' bodies cannot be converted one by one); remove multipart \
                     or give the channel the host's code page",
                    c.name,
                    page.map(|p| p.name()).unwrap_or_default()
                );
                problem(self, why);
                return None;
            }
        }
        Some(Arc::new(plan))
    }
}

//! A framing in words, for `ficus check` and logs: "8 ASCII digits before each message,
//! counting the bytes after it".

use super::{Digits, Framing, Place};
use std::fmt;

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = match self.digits {
            d if d.is_text() => format!("{} {}", self.width, d.words()),
            Digits::Bcd => format!("{}-byte BCD ({} digits)", self.width, 2 * self.width),
            d => format!("{}-byte {}", self.width, d.words()),
        };
        match self.place {
            Place::Prefix => write!(f, "{size} length before each message")?,
            Place::Field { offset, .. } => write!(f, "length in the header at offset {offset} ({size})")?,
        }
        write!(f, ", counting {}", self.counts)?;
        if self.adjust != 0 {
            write!(f, ", {:+} added to what it states", self.adjust)?;
        }
        if !self.trailer().is_empty() {
            write!(f, "; each message followed by {}", self.trailer)?;
        }
        Ok(())
    }
}

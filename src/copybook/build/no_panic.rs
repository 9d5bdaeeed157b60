//! Property tests: the copybook parser never panics, whatever the input.

use crate::copybook::{parse_copybook, NoCopy};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "01",
    "05",
    "10",
    "66",
    "77",
    "88",
    "49",
    "A",
    "B",
    "FILLER",
    "PIC",
    "X(3)",
    "9(5)",
    "S9(4)V99",
    "ZZ9.99",
    "N(2)",
    "P(3)9",
    "9(0)",
    "X(99999999)",
    "COMP",
    "COMP-3",
    "COMP-1",
    "USAGE",
    "SIGN",
    "LEADING",
    "SEPARATE",
    "OCCURS",
    "5",
    "0",
    "TO",
    "99999",
    "TIMES",
    "DEPENDING",
    "ON",
    "REDEFINES",
    "SYNC",
    "JUST",
    "BLANK",
    "WHEN",
    "ZERO",
    "VALUE",
    "VALUES",
    "THRU",
    "'x'",
    "X'0F'",
    "ALL",
    "INDEXED",
    "BY",
    "KEY",
    "RENAMES",
    "COPY",
    ".",
    "\n",
    "\n      -",
    "\n      *",
    "'",
    "==",
    "*>",
    "\t",
    "(",
    ")",
];

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC*") {
        let _ = parse_copybook(&s, "t", &NoCopy);
    }

    #[test]
    fn token_soup_never_panics(idx in prop::collection::vec(0..WORDS.len(), 0..60)) {
        let mut text = String::from("       ");
        for i in idx {
            text.push_str(WORDS[i]);
            text.push(' ');
        }
        let _ = parse_copybook(&text, "t", &NoCopy);
    }
}

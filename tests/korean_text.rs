//! Korean text that does not fit its field. Strict encode (the default) is an error naming the
//! field and both lengths; with `truncate_text` (`ficus encode --truncate-text`, or
//! `truncate_text = true` on a route) the text is cut after its last whole character — never
//! half of a double-byte character (cp949), never SO without its SI (cp933, cp1364) — and the
//! field is padded after it, as COBOL's MOVE of a longer alphanumeric item truncates on the
//! right (IBM Enterprise COBOL Language Reference, "Alphanumeric moves"; for DBCS data in
//! mixed items the shift codes are kept paired, "DBCS and mixed data").

use ficus::codec::charset::CodePage;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::{parse_copybook, NoCopy};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

const COPYBOOK: &str = "       01 CUST.\n           05 CUST-NAME PIC X(30).\n           05 CUST-END PIC X(2).\n";

fn codec(page: CodePage, truncate_text: bool) -> Codec {
    let book = parse_copybook(COPYBOOK, "cust.cpy", &NoCopy).unwrap();
    Codec::new(&book.records[0], CodecOptions { truncate_text, ..CodecOptions::for_codepage(page) }).unwrap()
}

/// Names of 14, 15 and 16 Hangul syllables.
const NAMES: [&str; 3] =
    ["김이박최정강조윤장임한오서신", "김이박최정강조윤장임한오서신권", "김이박최정강조윤장임한오서신권황"];

const KOREAN: [CodePage; 3] = [CodePage::Cp949, CodePage::Cp933, CodePage::Cp1364];

/// Bytes the name takes in the page: two per syllable, plus SO and SI on the EBCDIC pages.
fn needed(page: CodePage, chars: usize) -> usize {
    2 * chars + if page == CodePage::Cp949 { 0 } else { 2 }
}

#[test]
fn strict_encode_names_the_field_and_both_lengths() {
    for page in KOREAN {
        for name in NAMES {
            let chars = name.chars().count();
            let result = codec(page, false).encode_json(&json!({"CUST-NAME": name, "CUST-END": "$$"}));
            if needed(page, chars) <= 30 {
                assert!(result.is_ok(), "{page} {chars}: {result:?}");
                continue;
            }
            let e = result.unwrap_err().to_string();
            let want = format!("CUST-NAME: text needs {} bytes, field has 30", needed(page, chars));
            assert_eq!(e, want, "{page} {chars}");
        }
    }
}

#[test]
fn truncation_keeps_whole_characters_and_closes_the_run() {
    for page in KOREAN {
        let codec = codec(page, true);
        for name in NAMES {
            let bytes = codec.encode_json(&json!({"CUST-NAME": name, "CUST-END": "$$"})).unwrap();
            assert_eq!(bytes.len(), 32);
            let field = &bytes[..30];
            // Whole syllables that fit: 15 on cp949 (30 bytes), 14 between SO and SI.
            let fit = name.chars().count().min(if page == CodePage::Cp949 { 15 } else { 14 });
            let (decoded, _) = codec.decode_json(&bytes).unwrap();
            let kept: String = name.chars().take(fit).collect();
            assert_eq!(decoded["CUST-NAME"], kept.as_str(), "{page} {name}");
            assert_eq!(decoded["CUST-END"], "$$", "{page}: the next field is untouched");
            if page != CodePage::Cp949 {
                assert_eq!(field[0], 0x0E, "{page}: SO first");
                let si = field.iter().rposition(|&b| b == 0x0F).expect("SI");
                assert_eq!(si, 1 + 2 * fit, "{page}: SI right after the last whole character");
                assert!(field[si + 1..].iter().all(|&b| b == 0x40), "{page}: padded after SI");
            } else {
                assert!(field[2 * fit..].iter().all(|&b| b == 0x20), "{page}: padded after the last character");
            }
        }
    }
}

/// A runner with a fixed seed, so CI sees the same cases every run.
fn runner() -> TestRunner {
    let config = Config { cases: 300, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]))
}

/// Any text of Hangul, ASCII and spaces into a field of any length: the output is valid in the
/// page, decodes to a prefix of the text, and that prefix is the longest that fits.
#[test]
fn any_text_into_any_field_is_a_valid_longest_prefix() {
    // Hangul every page maps (cp933/cp1364 carry the 2,350 syllables of KS X 1001), ASCII, space.
    let mut repertoire: Vec<char> = ('가'..='힣')
        .filter(|c| {
            KOREAN
                .iter()
                .all(|p| p.encode_into(&c.to_string(), &mut [0u8; 4], ficus::codec::charset::Overflow::Error).is_ok())
        })
        .collect();
    repertoire.extend(('a'..='z').chain('0'..='9').chain([' ', ' ', ' ']));
    let text = prop::collection::vec(prop::sample::select(repertoire), 0..24).prop_map(String::from_iter);
    let strategy = (prop::sample::select(KOREAN.to_vec()), text, 1usize..40);
    runner()
        .run(&strategy, |(page, text, len)| {
            let copybook = format!("       01 R.\n           05 F PIC X({len}).\n");
            let book = parse_copybook(&copybook, "r.cpy", &NoCopy).unwrap();
            let options = CodecOptions { truncate_text: true, ..CodecOptions::for_codepage(page) };
            let codec = Codec::new(&book.records[0], options).unwrap();
            let bytes = codec.encode_json(&json!({ "F": text })).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(bytes.len(), len);
            let (decoded, _) = codec.decode_json(&bytes).map_err(|e| TestCaseError::fail(format!("{page}: {e}")))?;
            let kept = decoded["F"].as_str().unwrap_or_default().to_string();
            prop_assert!(text.starts_with(&kept), "{}: {:?} is not a prefix of {:?}", page, kept, text);
            // Longest: one more character of the text would not fit (a space that decode trims
            // off the end is no more character).
            let longer: String = text.chars().take(kept.chars().count() + 1).collect();
            if longer.trim_end_matches(' ') != kept {
                let strict = Codec::new(&book.records[0], CodecOptions::for_codepage(page)).unwrap();
                let fits = strict.encode_json(&json!({ "F": longer })).is_ok();
                prop_assert!(!fits, "{}: {:?} would fit X({}), kept only {:?}", page, longer, len, kept);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_cli_truncates_only_when_asked() {
    let dir = std::env::temp_dir().join(format!("ficus-korean-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copybook = dir.join("cust.cpy");
    std::fs::write(&copybook, COPYBOOK).unwrap();
    let run = |extra: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ficus"))
            .args(["encode", "--codepage", "cp933", "--copybook"])
            .arg(&copybook)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let line = format!("{}\n", json!({"CUST-NAME": NAMES[2], "CUST-END": "$$"}));
        child.stdin.take().unwrap().write_all(line.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let strict = run(&[]);
    assert!(!strict.status.success());
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(stderr.contains("CUST-NAME: text needs 34 bytes, field has 30"), "{stderr}");
    let cut = run(&["--truncate-text"]);
    assert!(cut.status.success(), "{}", String::from_utf8_lossy(&cut.stderr));
    assert_eq!(cut.stdout.len(), 32);
    assert_eq!((cut.stdout[0], cut.stdout[29]), (0x0E, 0x0F));
    std::fs::remove_dir_all(&dir).ok();
}

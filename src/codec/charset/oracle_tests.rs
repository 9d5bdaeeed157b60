//! The code pages against the machine's glibc `iconv`, run at test time: fixed Korean
//! strings, whole repertoires, and random mixes. Without iconv (or its IBM933/IBM1364 gconv
//! modules) these tests fail with a message saying so; they never pass silently.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{dbcs, CharsetError, CodePage, Overflow};

/// `iconv -f from -t to` (with `-c`: drop what does not convert), or `Err` with its stderr.
fn iconv(from: &str, to: &str, skip_invalid: bool, input: &[u8]) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new("iconv");
    if skip_invalid {
        cmd.arg("-c");
    }
    let mut child = cmd
        .args(["-f", from, "-t", to])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `iconv` ({e}): these tests need glibc's iconv (Debian libc-bin)"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let data = input.to_vec();
    // Write from a thread: iconv may fill its stdout pipe before reading all its input.
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("iconv output");
    writer.join().expect("writer thread").expect("write to iconv");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("unsupported") && !stderr.contains("not supported"),
        "iconv cannot convert {from} -> {to} ({stderr}): install glibc's gconv modules"
    );
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(stderr)
    }
}

fn iconv_name(page: CodePage) -> &'static str {
    match page {
        CodePage::Ascii => unreachable!("iconv's ASCII is 7-bit"),
        CodePage::Cp037 => "IBM037",
        CodePage::Cp1047 => "IBM1047",
        CodePage::Cp949 => "CP949",
        CodePage::Cp933 => "IBM933",
        CodePage::Cp1364 => "IBM1364",
    }
}

/// Our encoding of `text` in a field 3 bytes longer than iconv's, checked against iconv's,
/// and iconv's bytes decoded back to `text`.
fn assert_matches_iconv(page: CodePage, text: &str) {
    let want = iconv("UTF-8", iconv_name(page), false, text.as_bytes())
        .unwrap_or_else(|e| panic!("iconv cannot write {text:?} in {page}: {e}"));
    let mut dst = vec![0; want.len() + 3];
    page.encode_into(text, &mut dst, Overflow::Error).unwrap();
    assert_eq!(dst[..want.len()], want[..], "{page}: {text:?}");
    assert!(dst[want.len()..].iter().all(|&b| b == page.space()));
    let mut back = String::new();
    page.decode_into(&want, &mut back).unwrap();
    assert_eq!(back, text, "{page}");
}

/// Deterministic pseudo-random numbers (xorshift64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn single_byte_tables_match_iconv() {
    let all: Vec<u8> = (0..=255).collect();
    for page in [CodePage::Cp037, CodePage::Cp1047] {
        let utf8 = iconv(iconv_name(page), "UTF-8", false, &all).unwrap();
        let mut ours = String::new();
        page.decode_into(&all, &mut ours).unwrap();
        assert_eq!(ours.as_bytes(), utf8, "{page}");
    }
    for page in [CodePage::Cp933, CodePage::Cp1364] {
        for b in (0..=255u8).filter(|b| !matches!(b, 0x0E | 0x0F)) {
            let theirs = iconv(iconv_name(page), "UTF-8", false, &[b]).ok();
            let mut ours = String::new();
            let ok = page.decode_into(&[b], &mut ours).is_ok();
            assert_eq!(ok.then(|| ours.into_bytes()), theirs, "{page} byte {b:#04X}");
        }
    }
}

#[test]
fn korean_strings_match_iconv() {
    let texts = [
        "홍길동",
        "국민은행 강남지점",
        "ABC 김철수 123",
        "서울특별시 中區 明洞 1-2",
        "（주）한국전자 ＃１２３",
        "가",
        "  앞뒤 공백  ",
        "金剛山 ㈜ ㄱㄴㄷ",
        "₩1,000",
    ];
    for text in texts {
        for page in [CodePage::Cp933, CodePage::Cp1364] {
            assert_matches_iconv(page, text);
        }
        if !text.contains('₩') {
            assert_matches_iconv(CodePage::Cp949, text);
        }
    }
    assert_matches_iconv(CodePage::Cp1364, "똠방각하");
    assert_matches_iconv(CodePage::Cp949, "똠방각하 ￦1,000");
}

#[test]
fn whole_double_byte_repertoires_match_iconv() {
    for (page, table) in [(CodePage::Cp933, dbcs::cp933()), (CodePage::Cp1364, dbcs::cp1364())] {
        let text: String = table.repertoire().into_iter().collect();
        assert!(text.chars().count() > 10_000, "{page}");
        assert_matches_iconv(page, &text);
    }
}

#[test]
fn random_mixes_match_iconv() {
    let mut rng = Rng(0x5EED_F1C5);
    let ascii: Vec<char> = (' '..='~').collect();
    for (page, table) in [(CodePage::Cp933, dbcs::cp933()), (CodePage::Cp1364, dbcs::cp1364())] {
        let korean = table.repertoire();
        for _ in 0..5 {
            // Runs of 1..=6 characters, so SO/SI transitions land everywhere.
            let (mut text, mut korean_run) = (String::new(), false);
            while text.chars().count() < 300 {
                korean_run = !korean_run;
                for _ in 0..=rng.below(6) {
                    let from = if korean_run { &korean } else { &ascii };
                    text.push(from[rng.below(from.len())]);
                }
            }
            assert_matches_iconv(page, &text);
        }
    }
    // Hangul syllables and Hanja (those of cp933's that cp949 has too; which those are is
    // checked against iconv below), mixed with ASCII.
    let in_cp949 = |c: &char| CodePage::Cp949.encode_into(&c.to_string(), &mut [0; 2], Overflow::Error).is_ok();
    let hanja: Vec<char> =
        dbcs::cp933().repertoire().into_iter().filter(|c| ('一'..='龥').contains(c)).filter(in_cp949).collect();
    let hangul: String = (0..400)
        .map(|i| match i % 4 {
            0 => ascii[rng.below(ascii.len())],
            1 => hanja[rng.below(hanja.len())],
            _ => char::from_u32(0xAC00 + rng.below(11172) as u32).unwrap_or('가'),
        })
        .collect();
    assert_matches_iconv(CodePage::Cp949, &hangul);
}

#[test]
fn cp949_agrees_with_iconv_on_every_character() {
    // Every character either page knows, one per line; `iconv -c` leaves an empty line for
    // what it cannot write. Both must agree on what maps and on the bytes.
    let mut chars: Vec<char> = dbcs::cp1364().repertoire();
    chars.extend((0xAC00..=0xD7A3).filter_map(char::from_u32));
    chars.extend((' '..='~').chain('\u{80}'..='\u{FF}'));
    chars.sort_unstable();
    chars.dedup();
    let input: String = chars.iter().flat_map(|&c| [c, '\n']).collect();
    let out = iconv("UTF-8", "CP949", true, input.as_bytes()).unwrap();
    let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), chars.len() + 1);
    let mut mapped = 0;
    for (&c, theirs) in chars.iter().zip(lines) {
        let mut dst = [0u8; 2];
        let ours = match CodePage::Cp949.encode_into(&c.to_string(), &mut dst, Overflow::Truncate) {
            Ok(()) => &dst[..if c.is_ascii() { 1 } else { 2 }],
            Err(CharsetError::Unmappable { .. }) => &[][..],
            Err(e) => panic!("{c:?}: {e}"),
        };
        assert_eq!(ours, theirs, "cp949 {c:?} U+{:04X}", u32::from(c));
        mapped += usize::from(!theirs.is_empty());
    }
    assert!(mapped > 17_000, "{mapped}");
}

#[test]
fn cp949_decodes_every_pair_like_iconv() {
    // glibc's `iconv -c` misbehaves on bad CP949 input (it can emit runs of NULs), so the
    // pairs we accept go through one strict call, and a sample of those we reject one by one.
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for hi in 0x81..=0xFEu8 {
        for lo in 0x41..=0xFEu8 {
            let mut text = String::new();
            match CodePage::Cp949.decode_into(&[hi, lo], &mut text) {
                Ok(()) => good.push(([hi, lo], text)),
                Err(_) => bad.push([hi, lo]),
            }
        }
    }
    assert!(good.len() > 17_000, "{}", good.len());
    let input: Vec<u8> = good.iter().flat_map(|(p, _)| [p[0], p[1], b'\n']).collect();
    let out = iconv("CP949", "UTF-8", false, &input).unwrap();
    let out = String::from_utf8(out).unwrap();
    let theirs: Vec<&str> = out.lines().collect();
    assert_eq!(theirs.len(), good.len());
    for ((pair, ours), theirs) in good.iter().zip(theirs) {
        assert_eq!(ours, theirs, "cp949 {pair:02X?}");
    }
    let mut rng = Rng(0xC0DE_0949);
    for _ in 0..200 {
        let pair = bad[rng.below(bad.len())];
        assert!(iconv("CP949", "UTF-8", false, &pair).is_err(), "iconv decodes {pair:02X?}");
    }
}

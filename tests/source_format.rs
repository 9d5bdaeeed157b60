//! Source format as the compilers read it: odd copybooks (tabs in the sequence and indicator
//! areas, a 90-column line, free format with `*>` comments, `>>SOURCE FORMAT` directives, an
//! identification area in columns 73–80) laid out by ficus and by GnuCOBOL (`LENGTH OF` the
//! record in a program that COPYs the member), which must agree. GnuCOBOL 3.1 has no auto
//! mode: each case names the `-fixed`/`-free` flag that reads it as intended.
//!
//! Rules cited: IBM Enterprise COBOL Language Reference, "Reference format" — sequence area
//! 1–6, indicator 7, area A 8–11, area B 12–72, columns 73–80 ignored; GnuCOBOL `cobc --help`:
//! `-ftab-width=1..12` (default 8), `-ftext-column=72..255`, `-free`/`-fixed`.

use ficus::copybook::{parse_copybook_with, NoCopy, SourceFormat};
use std::path::Path;
use std::process::Command;

/// Compiles a program that COPYs `text` (as member `MEMBER`) and prints `LENGTH OF record`.
fn cobc_length(text: &str, record: &str, flag: &str) -> Result<usize, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("MEMBER.cpy"), text).map_err(|e| e.to_string())?;
    let program = format!(
        "       IDENTIFICATION DIVISION.\n       PROGRAM-ID. P.\n       DATA DIVISION.\n\
         \x20      WORKING-STORAGE SECTION.\n       COPY MEMBER.\n       PROCEDURE DIVISION.\n\
         \x20          DISPLAY LENGTH OF {record}.\n           STOP RUN.\n"
    );
    let src = dir.path().join("p.cbl");
    std::fs::write(&src, program).map_err(|e| e.to_string())?;
    let exe = dir.path().join("p");
    let out = Command::new("cobc")
        .args(["-x", flag, "-I"])
        .arg(dir.path())
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .map_err(|e| format!("cobc: {e} (GnuCOBOL is the oracle: install gnucobol3)"))?;
    if !out.status.success() {
        return Err(format!("cobc {flag}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let run = Command::new(&exe).output().map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&run.stdout).trim().parse().map_err(|e| format!("program output: {e}"))
}

fn ficus_length(text: &str, record: &str, format: SourceFormat) -> Result<usize, String> {
    let book = parse_copybook_with(text, "MEMBER.cpy", &NoCopy, format).map_err(|e| e.to_string())?;
    let rec = book.record(Some(record)).ok_or_else(|| format!("no record {record}"))?;
    Ok(rec.max_size())
}

struct Case {
    name: &'static str,
    text: String,
    record: &'static str,
    /// The cobc flag that reads the text as intended.
    cobc: &'static str,
    /// The ficus formats that must give cobc's length.
    formats: &'static [SourceFormat],
}

fn cases() -> Vec<Case> {
    use SourceFormat::{Auto, Fixed, Free};
    vec![
        Case {
            // A tab alone, a tab after a 6-digit and a 5-digit sequence number, a tab after six
            // blanks: each moves the code to column 9 (next multiple of 8), indicator blank.
            name: "tabs in the sequence and indicator areas",
            text: "       01 R1.\n\t05 A PIC X(3).\n000100\t05 B PIC X(4).\n      \t05 C PIC X(5).\n 00010\t05 D PIC X(6).\n"
                .into(),
            record: "R1",
            cobc: "-fixed",
            formats: &[Auto, Fixed],
        },
        Case {
            // A free-format source saved as .cpy: one line of 90 columns.
            name: "a line of 90 columns",
            text: format!("       01 R2.\n{:<80}PIC X(30).\n           05 B PIC X(2).\n", "           05 LONG-NAME-ONE"),
            record: "R2",
            cobc: "-free",
            formats: &[Auto, Free],
        },
        Case {
            name: "free format with *> comments",
            text: "01 R3. *> record\n   05 A PIC X(7). *> a field\n   05 B PIC 9(3).\n".into(),
            record: "R3",
            cobc: "-free",
            formats: &[Auto, Free],
        },
        Case {
            name: ">>SOURCE FORMAT directives",
            text: "       01 R4.\n       >>SOURCE FORMAT IS FREE\n05 A PIC X(11). *> free now\n>>SOURCE FORMAT IS FIXED\n           05 B PIC X(2).\n"
                .into(),
            record: "R4",
            cobc: "-fixed",
            formats: &[Auto, Fixed, Free],
        },
        Case {
            // Sequence numbers, an identification area, a literal continued through column 72
            // with a sequence number right behind it.
            name: "identification area and a literal continued through column 72",
            text: [
                ("000100 01 R5.".to_string(), "ACCT0001"),
                (format!("000200     05 A PIC X(60) VALUE 'A{}", "A".repeat(37)), "00020000"),
                ("000300-    'BC'.".to_string(), "ACCT0003"),
                ("000400     05 B PIC 9(4).".to_string(), "ACCT0004"),
            ]
            .iter()
            .map(|(code, id)| format!("{code:<72}{id}\n"))
            .collect(),
            record: "R5",
            cobc: "-fixed",
            formats: &[Auto, Fixed],
        },
    ]
}

#[test]
fn odd_sources_lay_out_as_gnucobol_reads_them() {
    let mut failures = Vec::new();
    for case in cases() {
        let want = match cobc_length(&case.text, case.record, case.cobc) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        for &format in case.formats {
            match ficus_length(&case.text, case.record, format) {
                Ok(got) if got == want => {}
                other => failures.push(format!("{} (--format {format}): cobc {want}, ficus {other:?}", case.name)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Tabs that push code past column 72 in a sequence-numbered file: GnuCOBOL cuts the picture
/// (and rejects the entry); ficus in auto mode refuses with the line, the text and the option.
#[test]
fn tabs_pushing_code_past_column_72_are_an_error_naming_the_text_cut() {
    let text = "000100 01 R6.\n000200\t\t05 FIELD-A\t\t\t\t\t\t\tPIC X(30).\n000300     05 B PIC X(2).\n";
    assert!(cobc_length(text, "R6", "-fixed").is_err(), "GnuCOBOL cuts at column 72 too");
    let err = ficus_length(text, "R6", SourceFormat::Auto).unwrap_err();
    for part in ["MEMBER.cpy:2:73", "\"PIC X(30).\"", "tabs", "--format free"] {
        assert!(err.contains(part), "{part} missing from: {err}");
    }
}

/// The same through the command line: `ficus layout` refuses, `--format free` reads it.
#[test]
fn layout_takes_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WIDE.cpy");
    let text = format!("000100 01 R7.\n000200     05 A{:52}PIC X(30).\n000300     05 B PIC X(2).\n", "");
    std::fs::write(&path, text).unwrap();
    let layout = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_ficus")).arg("layout").args(args).arg(&path).output();
    let auto = layout(&[]).unwrap();
    assert_eq!(auto.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&auto.stderr);
    assert!(
        stderr.contains(":2:73: text past column 72 would be cut: \"(30).\"") && stderr.contains("--format"),
        "{stderr}"
    );
    // --format fixed cuts as the compiler does: the picture loses its length.
    let fixed = layout(&["--format", "fixed"]).unwrap();
    assert!(String::from_utf8_lossy(&fixed.stdout).contains("TOTAL 3 BYTES"), "{fixed:?}");
    assert!(Path::new(&path).exists());
}

//! GnuCOBOL as the oracle for record bytes: write a COBOL program that `COPY`s a fixture
//! copybook, runs a few statements against one of its records and writes the record's raw
//! bytes, then compile it with `cobc`, run it and hand the bytes back.
//!
//! One [`Oracle::run`] compiles one program for a whole list of [`Snap`]s. Each snapshot is
//! a contained program of its own, so it starts from freshly `VALUE`-initialised storage.
//! The bytes are written with `CBL_CREATE_FILE`/`CBL_WRITE_FILE` (no record headers, no
//! newline handling) for `LENGTH OF` the record, which under `-fodoslide` is the record's
//! actual length for its current `OCCURS DEPENDING ON` counts.
//!
//! GnuCOBOL runs in ASCII: with `-fsign=EBCDIC` overpunched signs are IBM style (`{ A–I` for
//! +0..+9, `} J–R` for -0..-9), with `-fsign=ASCII` Micro Focus style (plain digits for +,
//! `p–y` for -0..-9). Packed and binary bytes do not depend on the code page.
//!
//! This module knows nothing of ficus: it only turns COBOL statements into bytes. A missing
//! `cobc` is an error (the tests fail), never a skip.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Columns 8–72 hold the program text of fixed-format COBOL.
const LAST_COLUMN: usize = 72;
/// Indent of a statement (area B, column 12).
const STATEMENT_INDENT: usize = 11;
/// Indent of a statement's continuation lines.
const CONTINUATION_INDENT: usize = 15;

/// The directory of the fixture copybooks.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cobol")
}

/// The text of fixture copybook `name` (e.g. `zoned.cpy`).
pub fn read_fixture(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// Bytes as upper-case hex pairs separated by spaces: `12 34 5C`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// How `cobc` writes the sign of a zoned (USAGE DISPLAY) number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// `-fsign=EBCDIC`: IBM overpunch, in ASCII `{ A–I` and `} J–R`.
    Ebcdic,
    /// `-fsign=ASCII`: Micro Focus overpunch, plain digits and `p–y`.
    Ascii,
}

impl Sign {
    fn flag(self) -> &'static str {
        match self {
            Sign::Ebcdic => "-fsign=EBCDIC",
            Sign::Ascii => "-fsign=ASCII",
        }
    }
}

/// One record to capture: the statements run on fresh storage, then the record's bytes.
#[derive(Clone, Debug)]
pub struct Snap {
    /// The 01-level record to write, as named in the copybook.
    pub record: String,
    /// COBOL statements (no periods), e.g. `MOVE -12.5 TO AMOUNT`.
    pub statements: Vec<String>,
}

impl Snap {
    /// A snapshot of `record` after `statements`.
    pub fn new<S: AsRef<str>>(record: &str, statements: &[S]) -> Snap {
        Snap { record: record.to_string(), statements: statements.iter().map(|s| s.as_ref().to_string()).collect() }
    }
}

/// A copybook compiled by GnuCOBOL with one sign convention and IBM binary sizes.
#[derive(Clone, Debug)]
pub struct Oracle {
    copybook: String,
    sign: Sign,
    flags: Vec<String>,
}

impl Oracle {
    /// The fixture `copybook` (a file name in [`fixtures_dir`]) compiled with
    /// `-fbinary-size=2-4-8 -fodoslide` and the `sign` convention.
    pub fn new(copybook: &str, sign: Sign) -> Oracle {
        Oracle { copybook: copybook.to_string(), sign, flags: Vec::new() }
    }

    /// Adds a `cobc` option, e.g. `-fnotrunc`.
    pub fn flag(mut self, flag: &str) -> Oracle {
        self.flags.push(flag.to_string());
        self
    }

    /// The `cobc` options used, in order.
    pub fn options(&self) -> Vec<String> {
        let mut options: Vec<String> =
            ["-x", "-fbinary-size=2-4-8", "-fodoslide", self.sign.flag()].iter().map(|s| s.to_string()).collect();
        options.extend(self.flags.iter().cloned());
        options
    }

    /// The fixture copybook's file name.
    pub fn copybook(&self) -> &str {
        &self.copybook
    }

    /// The options that set this oracle apart, for messages: `-fsign=EBCDIC -fnotrunc`.
    pub fn label(&self) -> String {
        self.options()[3..].join(" ")
    }

    /// The COBOL source of the program capturing `snaps` (fixed format).
    pub fn program(&self, snaps: &[Snap]) -> Result<String, String> {
        let mut p = String::new();
        let a = |p: &mut String, line: &str| {
            p.push_str("       ");
            p.push_str(line);
            p.push('\n');
        };
        a(&mut p, "IDENTIFICATION DIVISION.");
        a(&mut p, "PROGRAM-ID. FICUS-ORACLE.");
        // cobc 3.1.2 declares its decimal temporaries for every program in the file only if
        // the first program uses one; without this COMPUTE, a COMPUTE in a snapshot fails to
        // compile with "unknown type name 'cob_decimal'".
        a(&mut p, "DATA DIVISION.");
        a(&mut p, "WORKING-STORAGE SECTION.");
        a(&mut p, "01  FICUS-ORC-DECIMAL PIC S9(3)V9 VALUE 0.");
        a(&mut p, "PROCEDURE DIVISION.");
        a(&mut p, "    COMPUTE FICUS-ORC-DECIMAL = FICUS-ORC-DECIMAL + 0.5");
        for i in 1..=snaps.len() {
            a(&mut p, &format!("    CALL \"FICUS-SNAP-{i:03}\""));
        }
        a(&mut p, "    STOP RUN.");
        for (i, snap) in snaps.iter().enumerate() {
            let n = i + 1;
            let record = snap.record.as_str();
            if record.is_empty() || !record.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("snapshot {n}: {record:?} is not a record name"));
            }
            p.push_str("      * A contained program: its storage starts from the VALUE clauses.\n");
            a(&mut p, "IDENTIFICATION DIVISION.");
            a(&mut p, &format!("PROGRAM-ID. FICUS-SNAP-{n:03}."));
            a(&mut p, "DATA DIVISION.");
            a(&mut p, "WORKING-STORAGE SECTION.");
            a(&mut p, "01  FICUS-ORC-HANDLE  PIC X(4) USAGE COMP-X.");
            a(&mut p, "01  FICUS-ORC-OFFSET  PIC X(8) USAGE COMP-X VALUE 0.");
            a(&mut p, "01  FICUS-ORC-LENGTH  PIC X(4) USAGE COMP-X.");
            a(&mut p, "01  FICUS-ORC-FLAGS   PIC X USAGE COMP-X VALUE 0.");
            a(&mut p, "01  FICUS-ORC-ACCESS  PIC X USAGE COMP-X VALUE 2.");
            a(&mut p, "01  FICUS-ORC-DENY    PIC X USAGE COMP-X VALUE 0.");
            a(&mut p, "01  FICUS-ORC-DEVICE  PIC X USAGE COMP-X VALUE 0.");
            a(&mut p, "01  FICUS-ORC-SHOWN   PIC 9(9).");
            a(&mut p, &format!("COPY \"{}\".", self.copybook));
            a(&mut p, "PROCEDURE DIVISION.");
            for statement in &snap.statements {
                for line in wrap_statement(statement).map_err(|e| format!("snapshot {n}: {e}"))? {
                    p.push_str(&line);
                    p.push('\n');
                }
            }
            let calls = [
                (
                    "CBL_CREATE_FILE",
                    format!("\"snap-{n:03}.bin\" FICUS-ORC-ACCESS FICUS-ORC-DENY FICUS-ORC-DEVICE FICUS-ORC-HANDLE"),
                ),
                (
                    "CBL_WRITE_FILE",
                    format!("FICUS-ORC-HANDLE FICUS-ORC-OFFSET FICUS-ORC-LENGTH FICUS-ORC-FLAGS {record}"),
                ),
                ("CBL_CLOSE_FILE", "FICUS-ORC-HANDLE".to_string()),
            ];
            for line in wrap_statement(&format!("MOVE LENGTH OF {record} TO FICUS-ORC-LENGTH"))? {
                p.push_str(&line);
                p.push('\n');
            }
            for (routine, args) in calls {
                for line in wrap_statement(&format!("CALL \"{routine}\" USING {args}"))? {
                    p.push_str(&line);
                    p.push('\n');
                }
                a(&mut p, "    IF RETURN-CODE NOT = 0");
                a(&mut p, &format!("        DISPLAY \"FICUS-FAIL {n:03} {routine} \" RETURN-CODE"));
                a(&mut p, "        STOP RUN");
                a(&mut p, "    END-IF");
            }
            a(&mut p, "    MOVE FICUS-ORC-LENGTH TO FICUS-ORC-SHOWN");
            a(&mut p, &format!("    DISPLAY \"FICUS-SNAP {n:03} \" FICUS-ORC-SHOWN"));
            a(&mut p, "    GOBACK.");
            a(&mut p, &format!("END PROGRAM FICUS-SNAP-{n:03}."));
        }
        a(&mut p, "END PROGRAM FICUS-ORACLE.");
        Ok(p)
    }

    /// Compiles and runs the program for `snaps`; returns each snapshot's record bytes.
    pub fn try_run(&self, snaps: &[Snap]) -> Result<Vec<Vec<u8>>, String> {
        let source = self.program(snaps)?;
        let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
        std::fs::write(dir.path().join("oracle.cob"), &source).map_err(|e| format!("cannot write oracle.cob: {e}"))?;

        let cobc = std::env::var("COBC").unwrap_or_else(|_| "cobc".to_string());
        let mut compile = Command::new(&cobc);
        compile.current_dir(dir.path()).args(self.options()).arg("-I").arg(fixtures_dir()).args([
            "-o",
            "oracle",
            "oracle.cob",
        ]);
        let out = compile.stdin(Stdio::null()).output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "`{cobc}` not found: the COBOL oracle tests need GnuCOBOL 3 \
                     (`apt-get install -y gnucobol3`; CI installs it)"
                )
            } else {
                format!("cannot run `{cobc}`: {e}")
            }
        })?;
        if !out.status.success() {
            return Err(format!(
                "cobc {} failed ({}):\n{}{}\n--- program ---\n{}",
                self.options().join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                numbered(&source)
            ));
        }

        let mut run = Command::new(dir.path().join("oracle"));
        run.current_dir(dir.path()).stdin(Stdio::null());
        // A developer's COB_* settings (file paths, sign handling) must not change the bytes.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("COB_") {
                run.env_remove(key);
            }
        }
        let out = run.output().map_err(|e| format!("cannot run the compiled oracle: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(format!(
                "the compiled oracle failed ({}):\n{stdout}{stderr}\n--- program ---\n{}",
                out.status,
                numbered(&source)
            ));
        }

        let mut records = Vec::with_capacity(snaps.len());
        for n in 1..=snaps.len() {
            let tag = format!("FICUS-SNAP {n:03} ");
            let shown = stdout
                .lines()
                .find_map(|l| l.strip_prefix(&tag))
                .ok_or_else(|| format!("snapshot {n} did not report its length:\n{stdout}{stderr}"))?;
            let len: usize = shown.trim().parse().map_err(|e| format!("snapshot {n}: bad length {shown:?}: {e}"))?;
            let path = dir.path().join(format!("snap-{n:03}.bin"));
            let bytes =
                std::fs::read(&path).map_err(|e| format!("snapshot {n}: cannot read {}: {e}", path.display()))?;
            if bytes.len() != len {
                return Err(format!(
                    "snapshot {n}: COBOL wrote {len} bytes but the file has {}: {}",
                    bytes.len(),
                    hex(&bytes)
                ));
            }
            records.push(bytes);
        }
        Ok(records)
    }

    /// [`Oracle::try_run`], panicking with the compiler's or program's messages on failure.
    pub fn run(&self, snaps: &[Snap]) -> Vec<Vec<u8>> {
        self.try_run(snaps).unwrap_or_else(|e| panic!("COBOL oracle for {} ({:?}): {e}", self.copybook, self.sign))
    }
}

/// Splits a statement into fixed-format lines (area B, at most column 72), breaking only
/// between words and never inside a quoted literal.
fn wrap_statement(statement: &str) -> Result<Vec<String>, String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in statement.chars() {
        if c == '\n' || c == '\r' || c == '\t' {
            return Err(format!("statement {statement:?} holds a control character"));
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ' ' => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            None => {}
        }
        word.push(c);
    }
    if quote.is_some() {
        return Err(format!("statement {statement:?} has an unclosed literal"));
    }
    if !word.is_empty() {
        words.push(word);
    }
    if words.is_empty() {
        return Err("empty statement".to_string());
    }
    if words.last().is_some_and(|w| w.ends_with('.')) {
        return Err(format!("statement {statement:?} ends with a period; the harness adds its own"));
    }

    let mut lines = Vec::new();
    let mut line = " ".repeat(STATEMENT_INDENT);
    let mut fresh = true;
    for w in words {
        if !fresh && line.len() + 1 + w.len() > LAST_COLUMN {
            lines.push(std::mem::replace(&mut line, " ".repeat(CONTINUATION_INDENT)));
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        if line.len() + w.len() > LAST_COLUMN {
            return Err(format!("word {w:?} is too long for one fixed-format line"));
        }
        line.push_str(&w);
        fresh = false;
    }
    lines.push(line);
    Ok(lines)
}

/// The program with line numbers, for error messages.
fn numbered(source: &str) -> String {
    source.lines().enumerate().map(|(i, l)| format!("{:4} {l}\n", i + 1)).collect()
}

/// Checks of the harness on its own, against bytes worked out by hand.
#[cfg(test)]
mod self_tests {
    use super::*;

    const HARNESS: &str = "harness.cpy";

    #[test]
    fn packed_move_writes_ibm_packed_bytes() {
        let bytes =
            Oracle::new(HARNESS, Sign::Ebcdic).run(&[Snap::new("HARNESS-PACKED", &["MOVE 12345 TO HP-AMOUNT"])]);
        assert_eq!(hex(&bytes[0]), "12 34 5C", "MOVE 12345 TO PIC S9(5) COMP-3");
    }

    #[test]
    fn sign_conventions_differ_only_in_the_zone() {
        let snaps =
            [Snap::new("HARNESS-ZONED", &["MOVE -123 TO HZ-SIGNED", "MOVE 45 TO HZ-PLUS", "MOVE 7 TO HZ-UNSIGNED"])];
        let ibm = Oracle::new(HARNESS, Sign::Ebcdic).run(&snaps);
        let mf = Oracle::new(HARNESS, Sign::Ascii).run(&snaps);
        assert_eq!(ibm[0], b"12L04E007", "-fsign=EBCDIC: IBM overpunch in ASCII, got {}", hex(&ibm[0]));
        assert_eq!(mf[0], b"12s045007", "-fsign=ASCII: Micro Focus overpunch, got {}", hex(&mf[0]));
    }

    #[test]
    fn compute_works_in_a_snapshot() {
        let bytes = Oracle::new(HARNESS, Sign::Ebcdic)
            .run(&[Snap::new("HARNESS-ZONED", &["COMPUTE HZ-SIGNED = 1.5 * 4 - 10"])]);
        assert_eq!(bytes[0], b"00M000000", "COMPUTE -4 into PIC S9(3) is 00M (IBM -4), got {}", hex(&bytes[0]));
    }

    #[test]
    fn every_byte_value_is_written_unchanged() {
        // Newlines, carriage returns, NUL, ^Z and high bytes must survive the file write.
        let bytes = Oracle::new(HARNESS, Sign::Ebcdic)
            .run(&[Snap::new("HARNESS-TEXT", &["MOVE X'000A0D1A7F80FF20' TO HT-TEXT"])]);
        assert_eq!(hex(&bytes[0]), "00 0A 0D 1A 7F 80 FF 20");
    }

    #[test]
    fn each_snapshot_starts_from_the_value_clauses() {
        let bytes = Oracle::new(HARNESS, Sign::Ebcdic)
            .run(&[Snap::new("HARNESS-TEXT", &["MOVE 'CHANGED' TO HT-TEXT"]), Snap::new::<&str>("HARNESS-TEXT", &[])]);
        assert_eq!(bytes[0], b"CHANGED ", "first snapshot, got {}", hex(&bytes[0]));
        assert_eq!(bytes[1], b"INITIAL ", "second snapshot must see VALUE again, got {}", hex(&bytes[1]));
    }

    #[test]
    fn odo_records_are_written_at_their_actual_length_with_later_items_slid() {
        let snaps = [
            Snap::new(
                "HARNESS-ODO",
                &["MOVE 2 TO HO-COUNT", "MOVE 'AAA' TO HO-ITEM(1)", "MOVE 'BBB' TO HO-ITEM(2)", "MOVE 'ZZ' TO HO-TAIL"],
            ),
            Snap::new("HARNESS-ODO", &["MOVE 0 TO HO-COUNT", "MOVE 'ZZ' TO HO-TAIL"]),
        ];
        let bytes = Oracle::new(HARNESS, Sign::Ebcdic).run(&snaps);
        assert_eq!(bytes[0], b"02AAABBBZZ", "count 2, got {}", hex(&bytes[0]));
        assert_eq!(bytes[1], b"00ZZ", "count 0, got {}", hex(&bytes[1]));
    }

    #[test]
    fn long_statements_are_wrapped_between_words_only() {
        let literal = "'Q U O T E D  L I T E R A L'";
        let statement = format!(
            "COMPUTE HZ-SIGNED = {} + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 {literal}",
            "1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 +".repeat(2)
        );
        let lines = wrap_statement(&statement).unwrap_or_default();
        assert!(lines.len() > 1, "expected several lines, got {lines:?}");
        assert!(lines.iter().all(|l| l.len() <= LAST_COLUMN), "a line passes column 72: {lines:?}");
        assert!(lines.iter().any(|l| l.contains(literal)), "the literal was split: {lines:?}");
        assert!(wrap_statement("MOVE 1 TO X.").is_err(), "a trailing period must be refused");
        assert!(wrap_statement("MOVE 'open TO X").is_err(), "an unclosed literal must be refused");
    }

    #[test]
    fn compile_errors_are_reported_with_the_program() {
        let err = Oracle::new(HARNESS, Sign::Ebcdic)
            .try_run(&[Snap::new("HARNESS-TEXT", &["MOVE 1 TO NO-SUCH-FIELD"])])
            .expect_err("a statement naming an unknown field must fail to compile");
        assert!(err.contains("NO-SUCH-FIELD"), "cobc's message should name the field: {err}");
        assert!(err.contains("--- program ---"), "the program text should be shown: {err}");
    }
}

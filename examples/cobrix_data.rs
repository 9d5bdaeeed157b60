//! Measures the codec on Cobrix's test data: for every `data/testN_data` (or `testN_*` folder of
//! `.dat` files) with a copybook and expected JSON, decodes the records and compares them field by
//! field with what Cobrix printed.
//!
//! Usage: `cargo run --example cobrix_data [-- [-v] CORPUS_DIR]` (default `../shared/corpus`, the
//! folder holding `cobrix/data`; `-v` lists every difference in each test's first record). Reads the corpus in place; copies nothing into the project.
//!
//! How the comparison reads Cobrix's output: field names map `-` to `_`; numbers compare by
//! value (`30.50 == 30.5`); strings compare trimmed at both ends (Cobrix trims both); members
//! Cobrix adds on request (`File_Id`, `Record_Id`, `*_debug`, `*_NT`) are not fields of the
//! layout and are left out. Records decode leniently (as Cobrix does: an invalid field is
//! `null`; Cobrix leaves such a field out, which counts as equal), and the count of records
//! that also decode strictly is shown.
//!
//! Records follow one another with no RDW: the next record starts where the last ended, so a
//! fixed-length file is read record by record and a variable one (ODO) by the lengths decode
//! returns. The code page is guessed from the bytes (EBCDIC digits and spaces or ASCII ones);
//! floats are IBM hex except in the tests listed in [`IEEE_FLOAT_TESTS`].
//! A copybook ficus rejects is retried with each rejected elementary item replaced by a FILLER
//! of the length Cobrix's layout listing gives it; those fields are then not compared, and
//! their names are printed.

use ficus::codec::charset::CodePage;
use ficus::codec::decimal::Decimal;
use ficus::codec::float::FloatFormat;
use ficus::codec::{Codec, CodecOptions};
use ficus::copybook::{parse_copybook, Copybook, NoCopy};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Tests whose COMP-1/COMP-2 data Cobrix wrote and read as IEEE 754 (its
/// `floating_point_format` option): `C6EE4FDC` is -30503.93 as IEEE, -15618012 as IBM hex,
/// and the expected output has -30503.93. Every other test uses ficus's default, IBM hex.
const IEEE_FLOAT_TESTS: [&str; 2] = ["test6", "test24"];

/// Most rejected items one copybook may have replaced before the test is skipped.
const MAX_SUBSTITUTIONS: usize = 40;

/// One Cobrix test with data.
struct Test {
    name: String,
    copybook: PathBuf,
    data: Vec<PathBuf>,
    expected: Vec<PathBuf>,
    layout: Option<PathBuf>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let root = args.iter().find(|a| *a != "-v").map_or_else(|| PathBuf::from("../shared/corpus"), PathBuf::from);
    let dir = root.join("cobrix/data");
    let tests = match discover(&dir) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            std::process::exit(2);
        }
    };
    let mut totals = (0usize, 0usize, 0usize);
    for test in &tests {
        let (decoded, compared, matching) = run(test, verbose);
        totals.0 += decoded;
        totals.1 += compared;
        totals.2 += matching;
    }
    println!(
        "total: {} tests with data, {} records decoded, {} compared, {} matching",
        tests.len(),
        totals.0,
        totals.1,
        totals.2
    );
}

fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    out.retain(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(&keep));
    out.sort();
    out
}

/// Finds the data folders and what belongs to each.
fn discover(dir: &Path) -> std::io::Result<Vec<Test>> {
    let mut tests = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    for d in dirs.iter().filter(|d| d.is_dir()) {
        let name = d.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name.ends_with("_expected") {
            continue;
        }
        let data = files_in(d, |n| n.ends_with(".dat"));
        if data.is_empty() {
            continue;
        }
        let base = name.strip_suffix("_data").unwrap_or(&name).to_string();
        let copybook = [format!("{base}_copybook.cob"), format!("{name}.cob"), format!("{base}.cob")]
            .into_iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file());
        let expected_dir = [format!("{base}_expected"), format!("{name}_expected")]
            .into_iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_dir());
        let (expected, layout) = match &expected_dir {
            Some(e) => (
                files_in(e, |n| n.ends_with(".txt") && !n.ends_with("_layout.txt")),
                files_in(e, |n| n.ends_with("_layout.txt")).into_iter().next(),
            ),
            None => (Vec::new(), None),
        };
        match copybook {
            Some(copybook) => tests.push(Test { name: base, copybook, data, expected, layout }),
            None => println!("{base}: skipped, no copybook beside the data"),
        }
    }
    Ok(tests)
}

/// EBCDIC if its digits and spaces outnumber ASCII ones.
fn guess_codepage(bytes: &[u8]) -> CodePage {
    let ebcdic = bytes.iter().filter(|&&b| b == 0x40 || (0xF0..=0xF9).contains(&b)).count();
    let ascii = bytes.iter().filter(|&&b| b == 0x20 || b.is_ascii_digit()).count();
    if ebcdic > ascii {
        CodePage::Cp037
    } else {
        CodePage::Ascii
    }
}

/// Parses the copybook; on rejection replaces the rejected elementary item with a FILLER of
/// Cobrix's length (from the layout listing) and tries again. Returns the names replaced.
fn load_copybook(test: &Test) -> Result<(Copybook, Vec<String>), String> {
    let text = std::fs::read_to_string(&test.copybook).map_err(|e| e.to_string())?;
    let listing = test.layout.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut replaced = Vec::new();
    let file = test.copybook.display().to_string();
    loop {
        let err = match parse_copybook(&lines.join("\n"), &file, &NoCopy) {
            Ok(book) => return Ok((book, replaced)),
            Err(e) => e,
        };
        if replaced.len() >= MAX_SUBSTITUTIONS || err.line == 0 {
            return Err(err.to_string());
        }
        let at = err.line as usize - 1;
        let code = |l: &str| l.get(7..l.len().min(72)).unwrap_or("").to_string();
        let starts_entry = |l: &str| {
            let c = code(l);
            l.get(6..7) != Some("*") && c.split_whitespace().next().is_some_and(|w| w.parse::<u8>().is_ok())
        };
        let Some(start) = (0..=at.min(lines.len().saturating_sub(1))).rev().find(|&i| starts_entry(&lines[i])) else {
            return Err(err.to_string());
        };
        let Some(end) = (start..lines.len()).find(|&i| code(&lines[i]).trim_end().ends_with('.')) else {
            return Err(err.to_string());
        };
        let words: Vec<String> = code(&lines[start]).split_whitespace().map(str::to_string).collect();
        let (Some(level), Some(name)) = (words.first(), words.get(1)) else { return Err(err.to_string()) };
        let cobrix_name = name.trim_end_matches('.').replace('-', "_");
        let Some(len) = listing.lines().find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 5 && w[1] == cobrix_name).then(|| w[w.len() - 1].parse::<usize>().ok()).flatten()
        }) else {
            return Err(format!("{err} (and {cobrix_name} is not in the layout listing)"));
        };
        for l in &mut lines[start..=end] {
            l.clear();
        }
        lines[start] = format!("       {level}  FILLER PIC X({len}).");
        replaced.push(name.trim_end_matches('.').to_string());
    }
}

/// Decodes and compares one test; returns (records decoded, compared, matching).
fn run(test: &Test, verbose: bool) -> (usize, usize, usize) {
    let (book, replaced) = match load_copybook(test) {
        Ok(b) => b,
        Err(e) => {
            println!("{}: skipped, copybook rejected: {e}", test.name);
            return (0, 0, 0);
        }
    };
    let mut data = Vec::new();
    for f in &test.data {
        data.extend(std::fs::read(f).unwrap_or_default());
    }
    let cp = guess_codepage(&data);
    let mut options = CodecOptions::for_codepage(cp);
    if IEEE_FLOAT_TESTS.contains(&test.name.as_str()) {
        options.float = FloatFormat::IeeeBig;
    }
    let mut codecs = Vec::new();
    for record in &book.records {
        let strict = Codec::new(record, options);
        let lenient = Codec::new(record, CodecOptions { lenient: true, ..options });
        match (strict, lenient) {
            (Ok(s), Ok(l)) => codecs.push((record.name.clone(), s, l)),
            (Err(e), _) | (_, Err(e)) => {
                println!("{}: skipped, layout not supported by the codec: {e}", test.name);
                return (0, 0, 0);
            }
        }
    }
    // Decode record after record with the first layout; other 01s are views of the same bytes.
    let mut records = Vec::new();
    let (mut pos, mut strict_ok, mut failure, mut strict_error) = (0, 0, None, None);
    while pos < data.len() {
        let bytes = &data[pos..];
        let mut views = Map::new();
        let mut len = 0;
        for (i, (name, strict, lenient)) in codecs.iter().enumerate() {
            if i == 0 {
                match strict.decode_json(bytes) {
                    Ok(_) => strict_ok += 1,
                    Err(e) => {
                        strict_error.get_or_insert_with(|| format!("record {}: {e}", records.len()));
                    }
                }
            }
            match lenient.decode_json(bytes) {
                Ok((v, n)) => {
                    views.insert(name.clone(), v);
                    if i == 0 {
                        len = n;
                    }
                }
                Err(e) => failure = Some(format!("record {} at byte {pos}: {e}", records.len())),
            }
        }
        if failure.is_some() || len == 0 {
            break;
        }
        records.push(views);
        pos += len;
    }
    let mut line = format!(
        "{}: {cp}, record {} bytes{}; decoded {} (strict {strict_ok})",
        test.name,
        codecs.first().map_or(0, |c| c.1.max_size()),
        if codecs.len() > 1 { format!(", {} 01-levels", codecs.len()) } else { String::new() },
        records.len()
    );
    if pos < data.len() {
        line += &format!(", {} bytes left undecoded", data.len() - pos);
    }
    if let Some(f) = failure {
        line += &format!(" [{f}]");
    }
    if !replaced.is_empty() {
        line += &format!("; {} items ficus rejects read as FILLER: {}", replaced.len(), replaced.join(" "));
    }
    println!("{line}");
    if let Some(e) = strict_error {
        println!("  first strict decode error: {e}");
    }
    if test.expected.is_empty() {
        println!("  no expected output");
        return (records.len(), 0, 0);
    }
    let skip: Vec<String> = replaced.iter().map(|n| n.replace('-', "_")).collect();
    let (mut compared, mut matching) = (0, 0);
    for file in &test.expected {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let expected: Vec<Value> =
            text.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect();
        let (mut n, mut ok, mut fields, mut fields_ok, mut first) = (0, 0, 0, 0, None);
        let mut by_field: Vec<(String, usize)> = Vec::new();
        for (i, exp) in expected.iter().enumerate() {
            let Some(views) = records.get(i) else { break };
            // Cobrix wraps a record in its 01's name when asked; otherwise prints its fields.
            let wrapped =
                exp.as_object().is_some_and(|o| o.keys().all(|k| views.keys().any(|r| r.replace('-', "_") == *k)));
            let actual =
                if wrapped { Value::Object(views.clone()) } else { views.values().next().cloned().unwrap_or_default() };
            if i == 0 && verbose {
                let mut all = Vec::new();
                compare(exp, &actual, "", &skip, &mut all, &mut (0, 0));
                all.iter().for_each(|m| println!("    record 0: {m}"));
            }
            let mut mismatches = Vec::new();
            let mut counts = (0, 0);
            compare(exp, &actual, "", &skip, &mut mismatches, &mut counts);
            n += 1;
            fields += counts.0;
            fields_ok += counts.1;
            for m in &mismatches {
                let field = m.split(':').next().unwrap_or_default().to_string();
                match by_field.iter_mut().find(|(f, _)| *f == field) {
                    Some((_, c)) => *c += 1,
                    None => by_field.push((field, 1)),
                }
            }
            if mismatches.is_empty() {
                ok += 1;
            } else if first.is_none() {
                first = Some(format!("record {i}: {} ({} fields differ)", mismatches[0], mismatches.len()));
            }
        }
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        println!(
            "  vs {name}: {} expected, {n} compared, {ok} matching; fields {fields_ok}/{fields} equal{}",
            expected.len(),
            first.map_or_else(String::new, |f| format!("; first mismatch: {f}"))
        );
        if by_field.len() > 1 {
            by_field.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let list: Vec<String> = by_field.iter().map(|(f, c)| format!("{f} ({c})")).collect();
            println!("    fields that differ (records): {}", list.join(", "));
        }
        compared += n;
        matching += ok;
    }
    (records.len(), compared, matching)
}

/// True for members Cobrix adds that are not fields of the layout.
fn cobrix_extra(key: &str) -> bool {
    key == "File_Id" || key == "Record_Id" || key.ends_with("_debug") || key.ends_with("_NT")
}

/// Compares Cobrix's `expected` with ficus's `actual`, collecting differences; `counts` is
/// (leaf fields compared, equal).
fn compare(
    expected: &Value,
    actual: &Value,
    path: &str,
    skip: &[String],
    out: &mut Vec<String>,
    counts: &mut (usize, usize),
) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let find = |k: &str| a.iter().find(|(ak, _)| ak.replace('-', "_") == k).map(|(_, v)| v);
            for (k, v) in e {
                if skip.contains(k) {
                    continue;
                }
                let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match find(k) {
                    Some(av) => compare(v, av, &sub, skip, out, counts),
                    None if cobrix_extra(k) => {}
                    None => {
                        counts.0 += 1;
                        out.push(format!("{sub}: missing (expected {v})"));
                    }
                }
            }
            for (k, v) in a {
                let k2 = k.replace('-', "_");
                if e.contains_key(&k2) || skip.contains(&k2) {
                    continue;
                }
                // Cobrix leaves a field that did not decode (null) out of its output.
                counts.0 += 1;
                if v.is_null() {
                    counts.1 += 1;
                } else {
                    out.push(format!("{path}.{k}: {v}, not in Cobrix's output"));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, &format!("{path}[{i}]"), skip, out, counts);
            }
        }
        _ => {
            counts.0 += 1;
            if leaf_equal(expected, actual) {
                counts.1 += 1;
            } else {
                out.push(format!("{path}: expected {expected}, decoded {actual}"));
            }
        }
    }
}

fn leaf_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.to_string(), a.to_string());
            match (e.parse::<Decimal>(), a.parse::<Decimal>()) {
                (Ok(x), Ok(y)) => x.cmp_value(&y).is_eq(),
                _ => e == a,
            }
        }
        // Cobrix trims as Java's String.trim does: every char up to U+0020, NUL included.
        (Value::String(e), Value::String(a)) => e.trim_matches(|c| c <= ' ') == a.trim_matches(|c| c <= ' '),
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

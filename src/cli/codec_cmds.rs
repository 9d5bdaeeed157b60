//! `ficus layout`, `ficus decode`, `ficus encode`: the codec on files and pipes.

use super::{record_io, ByteOrderArg, CliError, CodecArgs, FloatArg, SignStyleArg};
use crate::codec::binary::ByteOrder;
use crate::codec::charset::CodePage;
use crate::codec::float::FloatFormat;
use crate::codec::zoned::SignStyle;
use crate::codec::{Codec, CodecOptions, Scratch};
use crate::copybook::{self, listing, Copybook, SourceFormat};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;

/// Inputs larger than this get a progress bar (when stderr is a terminal).
const PROGRESS_THRESHOLD: usize = 4 << 20;

fn load_copybook(path: &Path, format: SourceFormat) -> Result<Copybook, CliError> {
    let copybook = copybook::load_with(path, format).map_err(|e| CliError::config(e.to_string()))?;
    if copybook.records.is_empty() {
        return Err(CliError::config(format!("{}: no records (01 or 77 items) found", path.display())));
    }
    Ok(copybook)
}

fn record_names(copybook: &Copybook) -> String {
    copybook.records.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// `ficus layout`.
pub fn layout(path: &Path, record: Option<&str>, json: bool, format: SourceFormat) -> Result<(), CliError> {
    let copybook = load_copybook(path, format)?;
    let records: Vec<_> = match record {
        Some(name) => vec![copybook.record(Some(name)).ok_or_else(|| {
            CliError::config(format!("no record {name} in {} (it has: {})", path.display(), record_names(&copybook)))
        })?],
        None => copybook.records.iter().collect(),
    };
    // A layout is only shown if decode and encode would take it: the codec's checks (one JSON
    // key per object, counters) run here too, so `layout` never accepts what they refuse.
    // A picture a code page cannot carry (PIC G without a DBCS page) is decode's and encode's
    // concern: `layout` has no code page.
    for r in &records {
        match crate::codec::Codec::new(r, crate::codec::CodecOptions::default()) {
            Ok(_) | Err(crate::codec::plan::PlanError::Unsupported { .. }) => {}
            Err(e) => return Err(CliError::config(format!("{}: {e}", path.display()))),
        }
    }
    let mut out = std::io::stdout().lock();
    let written = if json {
        let value = serde_json::Value::Array(records.iter().map(|r| listing::listing_json(r)).collect());
        writeln!(out, "{}", serde_json::to_string_pretty(&value).unwrap_or_default())
    } else {
        records.iter().try_for_each(|r| write!(out, "{}", listing::listing(r)))
    };
    written.map_err(CliError::writing)
}

fn codec(args: &CodecArgs, lenient: bool) -> Result<Codec, CliError> {
    codec_with(args, lenient, &EncodeArgs::default())
}

fn codec_with(args: &CodecArgs, lenient: bool, encode: &EncodeArgs) -> Result<Codec, CliError> {
    let copybook = load_copybook(&args.copybook, args.format.into())?;
    let record = copybook.record(args.record.as_deref()).ok_or_else(|| {
        CliError::config(format!(
            "no record {} in {} (it has: {})",
            args.record.as_deref().unwrap_or("?"),
            args.copybook.display(),
            record_names(&copybook)
        ))
    })?;
    let codepage = CodePage::from_name(&args.codepage).map_err(|e| CliError::config(e.to_string()))?;
    let sign_style = match (codepage.is_ebcdic(), args.sign_style) {
        (true, _) => SignStyle::Ebcdic,
        (false, SignStyleArg::Ibm) => SignStyle::AsciiIbm,
        (false, SignStyleArg::Mf) => SignStyle::AsciiMf,
    };
    let options = CodecOptions {
        codepage,
        sign_style,
        comp5_order: match args.comp5 {
            ByteOrderArg::Big => ByteOrder::Big,
            ByteOrderArg::Little => ByteOrder::Little,
        },
        float: match args.float {
            FloatArg::Ibm => FloatFormat::IbmHex,
            FloatArg::Ieee => FloatFormat::IeeeBig,
        },
        lenient,
        trunc_bin: args.trunc_bin,
        fill_missing: encode.fill_missing,
        truncate_text: encode.truncate_text,
    };
    Codec::new(record, options).map_err(|e| CliError::config(format!("{}: {e}", args.copybook.display())))
}

fn read_input(args: &CodecArgs) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    let result = match &args.input {
        Some(path) => std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)),
        None => std::io::stdin().lock().read_to_end(&mut bytes),
    };
    let name = args.input.as_ref().map_or("standard input".to_string(), |p| p.display().to_string());
    result.map_err(|e| CliError::runtime(format!("reading {name}: {e}")))?;
    Ok(bytes)
}

/// `ficus decode`: every record in the input, one JSON line each.
pub fn decode(args: &CodecArgs, lenient: bool) -> Result<(), CliError> {
    let codec = codec(args, lenient)?;
    let framing = record_io::framing(args, &codec)?;
    let bytes = read_input(args)?;
    let progress = (bytes.len() > PROGRESS_THRESHOLD && std::io::stderr().is_terminal())
        .then(|| indicatif::ProgressBar::new(bytes.len() as u64).with_style(progress_style()));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut line = String::new();
    let mut scratch = Scratch::default();
    let mut write_error = None;
    record_io::for_each_record(&framing, &bytes, |_, offset, data, whole| {
        line.clear();
        let len = codec.decode_json_text(data, &mut line, &mut scratch).map_err(|e| e.to_string())?;
        // Known to be whole and described before a byte of it is written.
        if let Some(whole) = whole {
            whole.check(len)?;
        }
        line.push('\n');
        if let Err(e) = out.write_all(line.as_bytes()) {
            write_error = Some(e);
            return Err("output closed".into());
        }
        if let Some(p) = &progress {
            p.set_position((offset + len) as u64);
        }
        Ok(len)
    })
    .map_err(|e| write_error.take().map_or(e, CliError::writing))?;
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    out.flush().map_err(CliError::writing)
}

/// What `ficus encode` may do beyond writing exactly the JSON it is given.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct EncodeArgs {
    /// Write a field the JSON leaves out as its VALUE clause says (without one: spaces for
    /// text, zero for numbers, as INITIALIZE does); a group or table left out is filled field by
    /// field. FILLER always gets its VALUE. Default: a missing field is an error naming it.
    #[arg(long)]
    pub fill_missing: bool,
    /// Cut text longer than its field at the last whole character (never half a Korean
    /// character, never SO without SI) and pad after it, as COBOL's MOVE does. Default: such
    /// text is an error naming the field and both lengths.
    #[arg(long)]
    pub truncate_text: bool,
}

/// `ficus encode`: one record per JSON line of the input.
pub fn encode(args: &CodecArgs, encode: &EncodeArgs) -> Result<(), CliError> {
    let codec = codec_with(args, false, encode)?;
    let mut writer = record_io::RecordWriter::new(record_io::framing(args, &codec)?)?;
    let bytes = read_input(args)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut record = Vec::with_capacity(codec.max_size());
    let mut framed = Vec::with_capacity(codec.max_size() + 8);
    for (index, line) in bytes.lines().enumerate() {
        let line = line.map_err(|e| CliError::runtime(format!("line {}: {e}", index + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| CliError::runtime(format!("line {}: not JSON: {e}", index + 1)))?;
        codec
            .encode_json_into(&value, &mut record)
            .map_err(|e| CliError::runtime(format!("line {}: {e}", index + 1)))?;
        framed.clear();
        writer.push(&record, &mut framed).map_err(|e| CliError::runtime(format!("line {}: {e}", index + 1)))?;
        out.write_all(&framed).map_err(CliError::writing)?;
    }
    framed.clear();
    writer.finish(&mut framed);
    out.write_all(&framed).map_err(CliError::writing)?;
    out.flush().map_err(CliError::writing)
}

fn progress_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
}

//! Files as mainframes write them, for `ficus decode` and `ficus encode`: `--record-format
//! F|FB|V|VB`, `--block-size`, `--length-field`, `--length-adjust`. The format rules live in
//! [`crate::codec::records`]; this file reads the options and walks the input with them.

use super::{CliError, CodecArgs, RecordFormatArg};
use crate::codec::records::{
    check_fb_block, looks_variable, write_rdw, LengthField, RecordFormat, Records, RecordsError, VbWriter, MAX_BDW_LEN,
};
use crate::codec::Codec;

/// The record format of one run, checked against the layout.
pub(super) struct Framing {
    format: RecordFormat,
    /// FB: the record length.
    lrecl: usize,
    length: Option<LengthField>,
    adjust: i64,
    block_size: Option<usize>,
}

impl From<RecordFormatArg> for RecordFormat {
    fn from(f: RecordFormatArg) -> Self {
        match f {
            RecordFormatArg::F => RecordFormat::F,
            RecordFormatArg::Fb => RecordFormat::Fb,
            RecordFormatArg::V => RecordFormat::V,
            RecordFormatArg::Vb => RecordFormat::Vb,
        }
    }
}

/// Reads the record-format options of `args` for `codec`'s layout; a contradiction is exit 64.
pub(super) fn framing(args: &CodecArgs, codec: &Codec) -> Result<Framing, CliError> {
    let format = RecordFormat::from(args.record_format);
    let lrecl = codec.max_size();
    let variable = matches!(format, RecordFormat::V | RecordFormat::Vb);
    if args.length_field.is_some() && format != RecordFormat::F {
        return Err(CliError::config(
            "--length-field finds records without descriptors: use it with --record-format F (the default)",
        ));
    }
    if args.length_adjust != 0 && !variable && args.length_field.is_none() {
        return Err(CliError::config("--length-adjust applies to RDW lengths (V, VB) or to --length-field"));
    }
    match (format, args.block_size) {
        (RecordFormat::Fb, Some(b)) => check_fb_block(b, lrecl).map_err(CliError::config)?,
        (RecordFormat::F | RecordFormat::V, Some(_)) => {
            return Err(CliError::config("--block-size applies to FB and VB files"));
        }
        _ => {}
    }
    let length = match &args.length_field {
        Some(name) => Some(LengthField::new(codec.plan(), name, args.length_adjust).map_err(CliError::config)?),
        None => None,
    };
    Ok(Framing { format, lrecl, length, adjust: args.length_adjust, block_size: args.block_size })
}

fn records_error(e: RecordsError) -> CliError {
    CliError::runtime(e.to_string())
}

/// A hint when fixed-length reading fails on what looks like a V or VB file.
fn variable_hint(bytes: &[u8]) -> String {
    match looks_variable(bytes) {
        Some(f) => {
            let (name, word) = if f == RecordFormat::Vb { ("VB", "a BDW") } else { ("V", "an RDW") };
            let first: String = bytes.iter().take(4).map(|b| format!("{b:02X}")).collect();
            format!(
                ". The input looks like {name} records (its first 4 bytes, X'{first}', read as {word} and \
                 the descriptors chain through the file): try --record-format {name}"
            )
        }
        None => String::new(),
    }
}

/// How long a record is known to be, from its file: the layout must use exactly `len` bytes.
/// The caller checks this before it emits anything of the record, so a record the copybook
/// does not describe is never half written out (with `--lenient` too: its fields may be
/// wrong, its length is not).
#[derive(Clone, Copy, Debug)]
pub(super) struct Whole {
    /// The record's length.
    pub len: usize,
    /// Where the length comes from ("its RDW", "the length field").
    pub from: &'static str,
}

impl Whole {
    /// Ok when the layout used all of the record.
    pub fn check(self, used: usize) -> Result<(), String> {
        if used == self.len {
            return Ok(());
        }
        Err(format!(
            "{} gives {} bytes, but the layout takes {used}: the copybook does not describe this record",
            self.from, self.len
        ))
    }
}

/// Calls `each(index, offset, data, whole)` for every record of `bytes`; `each` decodes the
/// record, checks it against `whole` (when the file gives the record's length) before it emits
/// anything, and returns the bytes it used.
pub(super) fn for_each_record(
    framing: &Framing,
    bytes: &[u8],
    mut each: impl FnMut(usize, usize, &[u8], Option<Whole>) -> Result<usize, String>,
) -> Result<(), CliError> {
    let at_record = |index: usize, offset: usize, e: String| format!("record {index} (input byte {offset}): {e}");
    match (framing.format, &framing.length) {
        (RecordFormat::F, Some(field)) => {
            let (mut at, mut index) = (0, 1);
            while at < bytes.len() {
                let len = field.record_len(&bytes[at..], index, at).map_err(records_error)?;
                let data = bytes.get(at..at + len).ok_or_else(|| {
                    CliError::runtime(format!(
                        "record {index} at byte {at}: the length field gives {len} bytes, only {} are left",
                        bytes.len() - at
                    ))
                })?;
                let whole = Whole { len, from: "the length field" };
                each(index, at, data, Some(whole)).map_err(|e| CliError::runtime(at_record(index, at, e)))?;
                at += len;
                index += 1;
            }
        }
        (RecordFormat::F, None) => {
            // Records of a layout with DEPENDING ON are as long as their counters say.
            let partial = !bytes.len().is_multiple_of(framing.lrecl.max(1));
            let hint = variable_hint(bytes);
            if partial && !hint.is_empty() {
                return Err(CliError::runtime(format!(
                    "{} bytes is not a whole number of {}-byte records{hint}",
                    bytes.len(),
                    framing.lrecl
                )));
            }
            let (mut at, mut index) = (0, 1);
            while at < bytes.len() {
                let used = each(index, at, &bytes[at..], None)
                    .map_err(|e| CliError::runtime(at_record(index, at, e) + &hint))?;
                if used == 0 {
                    break;
                }
                at += used;
                index += 1;
            }
        }
        (RecordFormat::Fb, _) => {
            for (i, data) in bytes.chunks(framing.lrecl.max(1)).enumerate() {
                let at = i * framing.lrecl;
                if data.len() < framing.lrecl {
                    return Err(CliError::runtime(format!(
                        "record {} at byte {at}: the input ends {} bytes into an FB record of {} bytes",
                        i + 1,
                        data.len(),
                        framing.lrecl
                    )));
                }
                each(i + 1, at, data, None).map_err(|e| CliError::runtime(at_record(i + 1, at, e)))?;
            }
        }
        (RecordFormat::V | RecordFormat::Vb, _) => {
            for found in Records::new(bytes, framing.format, framing.adjust) {
                let r = found.map_err(records_error)?;
                let whole = Whole { len: r.data.len(), from: "its RDW" };
                each(r.index, r.offset, r.data, Some(whole))
                    .map_err(|e| CliError::runtime(at_record(r.index, r.offset, e)))?;
            }
        }
    }
    Ok(())
}

/// Writes encoded records in the run's format.
pub(super) struct RecordWriter {
    format: RecordFormat,
    lrecl: usize,
    adjust: i64,
    length: Option<LengthField>,
    vb: Option<VbWriter>,
    count: usize,
}

impl RecordWriter {
    /// A writer for `framing` (VB blocks default to 32 760 bytes).
    pub(super) fn new(framing: Framing) -> Result<RecordWriter, CliError> {
        let vb = match framing.format {
            RecordFormat::Vb => Some(
                VbWriter::new(framing.block_size.unwrap_or(MAX_BDW_LEN), framing.adjust).map_err(CliError::config)?,
            ),
            _ => None,
        };
        Ok(RecordWriter {
            format: framing.format,
            lrecl: framing.lrecl,
            adjust: framing.adjust,
            length: framing.length,
            vb,
            count: 0,
        })
    }

    /// Appends `record` (with its descriptors) to `out`.
    pub(super) fn push(&mut self, record: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        self.count += 1;
        if let Some(field) = &self.length {
            let says = field.record_len(record, self.count, 0).map_err(|e| e.to_string())?;
            if says != record.len() {
                return Err(format!(
                    "the record is {} bytes, but its length field gives {says} (value plus --length-adjust {})",
                    record.len(),
                    self.adjust
                ));
            }
        }
        match self.format {
            RecordFormat::F => out.extend_from_slice(record),
            RecordFormat::Fb if record.len() != self.lrecl => {
                return Err(format!(
                    "the record is {} bytes, FB records are all {} (the layout varies with DEPENDING ON): \
                     use --record-format V or VB",
                    record.len(),
                    self.lrecl
                ))
            }
            RecordFormat::Fb => out.extend_from_slice(record),
            RecordFormat::V => write_rdw(record, self.count, self.adjust, out).map_err(|e| e.to_string())?,
            RecordFormat::Vb => {
                let vb = self.vb.as_mut().ok_or("VB writer missing")?;
                vb.push(record, out).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Appends what is still buffered (the last VB block).
    pub(super) fn finish(self, out: &mut Vec<u8>) {
        if let Some(vb) = self.vb {
            vb.finish(out);
        }
    }
}

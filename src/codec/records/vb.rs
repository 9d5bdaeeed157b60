//! RDW and BDW: reading V/VB files record by record, writing them, and recognising one that
//! was handed over as fixed-length.

use super::{hex, RecordFormat, RecordsError, DESCRIPTOR_LEN, MAX_BDW_LEN, MAX_RDW_LEN};

/// One record found in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found<'a> {
    /// 1-based record number in the file.
    pub index: usize,
    /// Byte offset of the record's data in the file.
    pub offset: usize,
    /// The record's data (descriptor removed).
    pub data: &'a [u8],
}

/// The records of a V or VB file, in order; after an error the iterator ends.
pub struct Records<'a> {
    bytes: &'a [u8],
    blocked: bool,
    adjust: i64,
    at: usize,
    /// End of the current block (VB), else of the file.
    limit: usize,
    record: usize,
    block: usize,
    failed: bool,
}

impl<'a> Records<'a> {
    /// Records of `bytes` in `format` (`V` or `VB`; `F`/`FB` are read by the codec itself).
    /// `adjust` is added to each RDW's length, for files whose RDWs do not count themselves
    /// (`4`) or count something else.
    pub fn new(bytes: &'a [u8], format: RecordFormat, adjust: i64) -> Records<'a> {
        let blocked = format == RecordFormat::Vb;
        let limit = if blocked { 0 } else { bytes.len() };
        Records { bytes, blocked, adjust, at: 0, limit, record: 0, block: 0, failed: false }
    }

    fn within(&self) -> String {
        if self.blocked {
            format!("in block {}", self.block)
        } else {
            "in the file".to_string()
        }
    }

    fn next_block(&mut self) -> Result<(), RecordsError> {
        self.block += 1;
        let (at, index) = (self.at, self.block);
        let left = self.bytes.len() - at;
        let word = self.bytes.get(at..at + DESCRIPTOR_LEN).ok_or_else(|| RecordsError::Truncated {
            unit: "BDW of block",
            index,
            offset: at,
            needed: DESCRIPTOR_LEN,
            left,
            within: "in the file".into(),
        })?;
        let bad = |problem: String| RecordsError::Descriptor {
            word: "BDW",
            unit: "block",
            index,
            offset: at,
            hex: hex(word),
            problem,
        };
        let len = if word[0] & 0x80 != 0 {
            // Extended BDW (large block interface): bits 1-31 are the length.
            (u32::from_be_bytes([word[0], word[1], word[2], word[3]]) & 0x7FFF_FFFF) as usize
        } else {
            if word[2] != 0 || word[3] != 0 {
                return Err(bad("bytes 3-4 of a BDW must be zero (is this a VB file?)".into()));
            }
            usize::from(u16::from_be_bytes([word[0], word[1]]))
        };
        if len < 2 * DESCRIPTOR_LEN {
            return Err(bad(format!(
                "block length {len} is below 8 (a BDW and one RDW){}",
                padding_hint(self.bytes, at)
            )));
        }
        if len > left {
            return Err(RecordsError::Truncated {
                unit: "block",
                index,
                offset: at,
                needed: len,
                left,
                within: "in the file".into(),
            });
        }
        self.limit = at + len;
        self.at += DESCRIPTOR_LEN;
        Ok(())
    }

    fn next_record(&mut self) -> Result<Found<'a>, RecordsError> {
        if self.blocked && self.at == self.limit {
            self.next_block()?;
        }
        self.record += 1;
        let (at, index) = (self.at, self.record);
        let left = self.limit - at;
        let Some(word) = self.bytes.get(at..at + DESCRIPTOR_LEN).filter(|_| left >= DESCRIPTOR_LEN) else {
            return Err(RecordsError::Truncated {
                unit: "RDW of record",
                index,
                offset: at,
                needed: DESCRIPTOR_LEN,
                left,
                within: self.within(),
            });
        };
        let bad = |problem: String| RecordsError::Descriptor {
            word: "RDW",
            unit: "record",
            index,
            offset: at,
            hex: hex(word),
            problem,
        };
        if word[2] != 0 || word[3] != 0 {
            let problem = if word[3] == 0 && word[2] <= 3 {
                "bytes 3-4 hold a segment code: spanned records (RECFM=VS/VBS) are not supported".to_string()
            } else {
                "bytes 3-4 of an RDW must be zero".to_string()
            };
            return Err(bad(problem));
        }
        let ll = i64::from(u16::from_be_bytes([word[0], word[1]]));
        let len = ll + self.adjust;
        if len < DESCRIPTOR_LEN as i64 {
            let adj = if self.adjust == 0 { String::new() } else { format!(" {:+} (--length-adjust)", self.adjust) };
            let pad = padding_hint(&self.bytes[..self.limit], at);
            return Err(bad(format!("record length {ll}{adj} is below 4 (the RDW counts itself){pad}")));
        }
        let len = len as usize;
        if len > left {
            return Err(RecordsError::Truncated {
                unit: "record",
                index,
                offset: at,
                needed: len,
                left,
                within: self.within(),
            });
        }
        self.at += len;
        Ok(Found { index, offset: at + DESCRIPTOR_LEN, data: &self.bytes[at + DESCRIPTOR_LEN..at + len] })
    }
}

/// When everything from `at` to the end is X'00' — padding after the last block or record, as
/// a fixed-size transfer or a tape block leaves — a hint saying so and how to drop it.
fn padding_hint(bytes: &[u8], at: usize) -> String {
    let rest = &bytes[at.min(bytes.len())..];
    if rest.is_empty() || rest.iter().any(|&b| b != 0) {
        return String::new();
    }
    format!(
        "; the last {} bytes of the file are all X'00': padding after the last record, not data \
         (drop them, e.g. `head -c {at} FILE`)",
        rest.len()
    )
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Found<'a>, RecordsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.bytes.len() {
            return None;
        }
        let item = self.next_record();
        self.failed = item.is_err();
        Some(item)
    }
}

/// Appends `data` behind its RDW (record number `index`, for errors).
pub fn write_rdw(data: &[u8], index: usize, adjust: i64, out: &mut Vec<u8>) -> Result<(), RecordsError> {
    let ll = (data.len() + DESCRIPTOR_LEN) as i64 - adjust;
    if !(DESCRIPTOR_LEN as i64..=MAX_RDW_LEN as i64).contains(&ll) {
        return Err(RecordsError::TooLong {
            index,
            len: data.len(),
            problem: format!("an RDW gives 4 to {MAX_RDW_LEN} bytes, RDW included (here {ll})"),
        });
    }
    out.extend_from_slice(&(ll as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(data);
    Ok(())
}

/// Packs records into VB blocks of at most `block_size` bytes (BDW included), in order.
pub struct VbWriter {
    block_size: usize,
    adjust: i64,
    block: Vec<u8>,
    records: usize,
}

impl VbWriter {
    /// A writer for blocks of at most `block_size` bytes; above 32 760 a block gets an
    /// extended BDW (as QSAM writes them on tape).
    pub fn new(block_size: usize, adjust: i64) -> Result<VbWriter, String> {
        if !(2 * DESCRIPTOR_LEN..=0x7FFF_FFFF).contains(&block_size) {
            return Err(format!("--block-size {block_size}: a VB block is 8 to 2147483647 bytes, BDW included"));
        }
        Ok(VbWriter { block_size, adjust, block: Vec::new(), records: 0 })
    }

    /// Adds a record; a full block is appended to `out` first.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), RecordsError> {
        self.records += 1;
        let need = data.len() + DESCRIPTOR_LEN;
        if need + DESCRIPTOR_LEN > self.block_size {
            return Err(RecordsError::TooLong {
                index: self.records,
                len: data.len(),
                problem: format!("with its RDW and a BDW it does not fit a block of --block-size {}", self.block_size),
            });
        }
        if !self.block.is_empty() && DESCRIPTOR_LEN + self.block.len() + need > self.block_size {
            self.flush(out);
        }
        write_rdw(data, self.records, self.adjust, &mut self.block)
    }

    /// Appends the last, partly filled block.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        self.flush(out);
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        if self.block.is_empty() {
            return;
        }
        let len = self.block.len() + DESCRIPTOR_LEN;
        if len > MAX_BDW_LEN {
            out.extend_from_slice(&(len as u32 | 0x8000_0000).to_be_bytes());
        } else {
            out.extend_from_slice(&(len as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        out.append(&mut self.block);
    }
}

/// Whether `bytes`, handed over as fixed-length records, look like a V or VB file: the first 4
/// bytes are a plausible RDW (or a BDW followed by one) and descriptors chain through the file
/// (up to 64 of them) without a contradiction.
pub fn looks_variable(bytes: &[u8]) -> Option<RecordFormat> {
    let plausible = |at: usize, max: usize| -> Option<usize> {
        let w = bytes.get(at..at + DESCRIPTOR_LEN)?;
        let len = usize::from(u16::from_be_bytes([w[0], w[1]]));
        (w[2] == 0 && w[3] == 0 && len > DESCRIPTOR_LEN && len <= max).then_some(len)
    };
    let chains =
        |format: RecordFormat| Records::new(bytes, format, 0).take(64).all(|r| r.is_ok_and(|f| !f.data.is_empty()));
    let first = plausible(0, bytes.len())?;
    if plausible(DESCRIPTOR_LEN, first - DESCRIPTOR_LEN).is_some() && chains(RecordFormat::Vb) {
        return Some(RecordFormat::Vb);
    }
    chains(RecordFormat::V).then_some(RecordFormat::V)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], format: RecordFormat) -> Result<Vec<Vec<u8>>, RecordsError> {
        Records::new(bytes, format, 0).map(|r| r.map(|f| f.data.to_vec())).collect()
    }

    #[test]
    fn v_records_behind_rdws() {
        let file = [0, 6, 0, 0, b'A', b'B', 0, 5, 0, 0, b'C'];
        assert_eq!(read(&file, RecordFormat::V), Ok(vec![b"AB".to_vec(), b"C".to_vec()]));
        let found: Vec<_> = Records::new(&file, RecordFormat::V, 0).map(|r| r.unwrap().offset).collect();
        assert_eq!(found, [4, 10]);
    }

    #[test]
    fn vb_blocks_and_the_extended_bdw() {
        let mut out = Vec::new();
        let mut w = VbWriter::new(45_000, 0).unwrap();
        w.push(&[7u8; 20_000], &mut out).unwrap();
        w.push(&[8u8; 20_000], &mut out).unwrap();
        w.push(&[9u8; 10], &mut out).unwrap();
        w.finish(&mut out);
        // 4 + 3 × (4 + data): past 32 760, so bit 0 is set and bits 1-31 hold the length.
        assert_eq!(out[..4], (40_026u32 | 0x8000_0000).to_be_bytes());
        assert_eq!(read(&out, RecordFormat::Vb).unwrap(), vec![vec![7u8; 20_000], vec![8u8; 20_000], vec![9u8; 10]]);
    }

    #[test]
    fn corrupt_descriptors_name_record_and_offset() {
        let e = read(&[0, 6, 0, 0, b'A', b'B', 0, 9, 0, 0, b'C'], RecordFormat::V).unwrap_err();
        assert_eq!(e.to_string(), "record 2 at byte 6: needs 9 bytes, but only 5 are left in the file");
        let e = read(&[0, 6, 1, 0, b'A', b'B'], RecordFormat::V).unwrap_err();
        assert!(
            e.to_string().starts_with("RDW of record 1 at byte 0 (00060100): bytes 3-4 hold a segment code"),
            "{e}"
        );
        let e = read(&[0, 3, 0, 0], RecordFormat::V).unwrap_err();
        assert!(e.to_string().contains("below 4"), "{e}");
        let e = read(&[0, 10, 0, 0, 0, 5, 0, 0, b'A', b'B'], RecordFormat::Vb).unwrap_err();
        assert!(
            e.to_string().starts_with("RDW of record 2 at byte 9: needs 4 bytes, but only 1 are left in block 1"),
            "{e}"
        );
        let e = read(&[0, 10, 0], RecordFormat::Vb).unwrap_err();
        assert!(e.to_string().starts_with("BDW of block 1 at byte 0"), "{e}");
    }

    #[test]
    fn zero_padding_after_the_last_block_is_named() {
        let mut file = Vec::new();
        let mut w = VbWriter::new(100, 0).unwrap();
        w.push(b"abc", &mut file).unwrap();
        w.finish(&mut file);
        let end = file.len();
        file.extend([0u8; 12]);
        let e = read(&file, RecordFormat::Vb).unwrap_err().to_string();
        assert!(e.contains("block length 0") && e.contains("the last 12 bytes of the file are all X'00'"), "{e}");
        assert!(e.contains(&format!("head -c {end} FILE")), "{e}");
        let mut v = Vec::new();
        write_rdw(b"abc", 1, 0, &mut v).unwrap();
        v.extend([0u8; 6]);
        let e = read(&v, RecordFormat::V).unwrap_err().to_string();
        assert!(e.contains("the last 6 bytes of the file are all X'00'"), "{e}");
        // Not padding: a zero BDW followed by data gets no hint.
        file.push(1);
        let e = read(&file, RecordFormat::Vb).unwrap_err().to_string();
        assert!(!e.contains("padding"), "{e}");
    }

    #[test]
    fn an_rdw_file_is_recognised() {
        assert_eq!(looks_variable(&[0, 6, 0, 0, b'A', b'B', 0, 5, 0, 0, b'C']), Some(RecordFormat::V));
        assert_eq!(looks_variable(&[0, 13, 0, 0, 0, 9, 0, 0, b'A', b'B', b'C', b'D', b'E']), Some(RecordFormat::Vb));
        assert_eq!(looks_variable(b"0001ACCOUNT"), None);
        assert_eq!(looks_variable(&[0, 60, 0, 0, b'A']), None);
    }

    #[test]
    fn write_refuses_what_an_rdw_cannot_hold() {
        let mut out = Vec::new();
        assert!(write_rdw(&[0; 32_756], 1, 0, &mut out).is_ok());
        assert!(write_rdw(&[0; 32_757], 2, 0, &mut out)
            .unwrap_err()
            .to_string()
            .starts_with("record 2 is 32757 bytes"));
    }
}

//! The simulated legacy core-banking host: framed TCP (and HTTP, so nginx can front it in
//! benchmarks), EBCDIC messages laid out by the same copybooks the gateway reads.
//!
//! It behaves as a COBOL program would: read the header and body into their records, run the
//! operation, MOVE the results into the reply records, write the bytes. The transfers it posts
//! are recorded in its own [`Postings`] by HDR-SEQ-NO, so only it can cancel them (XFERCAN).
//! Writes are never sent to the host as dry runs: it applies everything it is sent.

use super::ledger::{Effect, Ledger};
use super::ops::{self, OpResult};
use super::postings::Postings;
use crate::codec::{Codec, CodecOptions};
use crate::copybook::{self, Copybook};
use crate::frame::{write_digits, Framing};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::io::BufReader;
use tokio::net::TcpListener;

/// The host's compiled layouts, the shared ledger and the host's own postings.
pub struct HostSim {
    header: Codec,
    ops: HashMap<&'static str, (Codec, Codec)>,
    ledger: Arc<Ledger>,
    postings: Arc<Postings>,
    ebcdic: bool,
}

/// The link-test operation the host answers itself, header-only with code 0000 (a gateway's
/// `poll = { op = "HEARTBT", .. }` on its link, or a channel's heartbeat passed on).
pub const HEARTBEAT: &str = "HEARTBT";

/// The operations the host serves and the copybook of each (records `OP-REQ` and `OP-RESP`).
pub const OPERATIONS: [(&str, &str); 4] =
    [("ACCTINQ", "ACCTINQ.cpy"), ("TXNHIST", "TXNHIST.cpy"), ("XFER", "XFER.cpy"), ("XFERCAN", "XFERCAN.cpy")];

fn record(
    copybooks: &HashMap<String, Copybook>,
    file: &str,
    name: &str,
    options: CodecOptions,
) -> Result<Codec, String> {
    let book = copybooks.get(file).ok_or_else(|| format!("{file} not loaded"))?;
    let rec = book.record(Some(name)).ok_or_else(|| format!("{file} has no {name}"))?;
    Codec::new(rec, options).map_err(|e| e.to_string())
}

impl HostSim {
    /// Loads the demo copybooks from `dir`, with postings of its own.
    pub fn new(dir: &Path, options: CodecOptions, ledger: Arc<Ledger>) -> Result<HostSim, String> {
        HostSim::with_postings(dir, options, ledger, Arc::new(Postings::default()))
    }

    /// Loads the demo copybooks from `dir`; the host records its transfers in `postings`.
    ///
    /// COMMHDR.cpy and each operation's copybook are required, except XFERCAN.cpy: a demo
    /// directory written before XFERCAN existed (`ficus demo --resume`) still starts, and the
    /// host answers XFERCAN as an unknown transaction (E998), saying so in its log.
    pub fn with_postings(
        dir: &Path,
        options: CodecOptions,
        ledger: Arc<Ledger>,
        postings: Arc<Postings>,
    ) -> Result<HostSim, String> {
        let mut books = HashMap::new();
        for file in std::iter::once("COMMHDR.cpy").chain(OPERATIONS.iter().map(|(_, f)| *f)) {
            let path = dir.join(file);
            if file == "XFERCAN.cpy" && !path.exists() {
                tracing::warn!(path = %path.display(), "no XFERCAN copybook: the host will not serve XFERCAN");
                continue;
            }
            let book = copybook::load(&path).map_err(|e| e.to_string())?;
            books.insert(file.to_string(), book);
        }
        let mut ops = HashMap::new();
        for (op, file) in OPERATIONS {
            if !books.contains_key(file) {
                continue;
            }
            let req = record(&books, file, &format!("{op}-REQ"), options)?;
            let resp = record(&books, file, &format!("{op}-RESP"), options)?;
            ops.insert(op, (req, resp));
        }
        let header = record(&books, "COMMHDR.cpy", "COMM-HDR", options)?;
        Ok(HostSim { header, ops, ledger, postings, ebcdic: options.codepage.is_ebcdic() })
    }

    /// The host's own postings: the transfers it applied, which only it can cancel.
    pub fn postings(&self) -> &Arc<Postings> {
        &self.postings
    }

    /// Answers one message.
    pub fn reply(&self, message: &[u8]) -> Vec<u8> {
        let hl = self.header.max_size();
        let Ok((mut header, _)) = self.header.decode_json(message) else {
            return self.finish(None, "E999", "HOST: UNREADABLE HEADER", None);
        };
        let op = header.get("HDR-TRAN-CODE").and_then(Value::as_str).unwrap_or("").to_string();
        // A link poll is answered by the region itself, with the header alone: no program runs.
        if op == HEARTBEAT {
            if let Value::Object(h) = &mut header {
                h.insert("HDR-TIMESTAMP".into(), Value::from(ops::timestamp()));
            }
            return self.finish(Some(header), "0000", "", None);
        }
        let result = match self.ops.get(op.as_str()) {
            None => OpResult { code: "E998", message: "HOST: UNKNOWN TRANSACTION", response: None },
            Some((req, _)) => match req.decode_json(message.get(hl..).unwrap_or_default()) {
                Err(_) => OpResult { code: "E997", message: "HOST: INVALID REQUEST DATA", response: None },
                Ok((request, _)) => {
                    let seq = ops::sequence(&header);
                    ops::serve_on(
                        &self.ledger,
                        &self.postings,
                        seq,
                        &op,
                        &request,
                        ops::now(),
                        Effect::Apply,
                        ops::Paging::Host,
                    )
                    .unwrap_or(OpResult {
                        code: "E998",
                        message: "HOST: UNKNOWN TRANSACTION",
                        response: None,
                    })
                }
            },
        };
        let resp_codec = self.ops.get(op.as_str()).map(|(_, r)| r);
        if let Value::Object(h) = &mut header {
            h.insert("HDR-MSG-LEN".into(), Value::from(0));
            h.insert("HDR-TIMESTAMP".into(), Value::from(ops::timestamp()));
        }
        let body = result.response.as_ref().zip(resp_codec);
        self.finish(Some(header), result.code, result.message, body)
    }

    fn finish(&self, header: Option<Value>, code: &str, message: &str, body: Option<(&Value, &Codec)>) -> Vec<u8> {
        let mut header = header.unwrap_or_else(|| {
            let blank = vec![if self.ebcdic { 0xF0 } else { b'0' }; self.header.max_size()];
            self.header.decode_json(&blank).map(|(v, _)| v).unwrap_or(Value::Null)
        });
        if let Value::Object(h) = &mut header {
            h.insert("HDR-RESP-CODE".into(), Value::from(code));
            h.insert("HDR-RESP-MSG".into(), Value::from(message));
        }
        let mut out = self.header.encode_json(&header).unwrap_or_default();
        if let Some((value, codec)) = body {
            match codec.encode_json(value) {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(_) => return self.finish(Some(header), "E996", "HOST: REPLY ENCODING FAILED", None),
            }
        }
        let len = out.len();
        if let Some(field) = out.get_mut(..6) {
            write_digits(field, len, self.ebcdic);
        }
        out
    }

    /// Serves framed TCP until `shutdown` fires; every connection is persistent.
    pub async fn serve_tcp(
        self: Arc<Self>,
        listener: TcpListener,
        framing: Framing,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted { Ok((s, _)) => s, Err(_) => continue },
                _ = shutdown.changed() => return,
            };
            let _ = stream.set_nodelay(true);
            let host = self.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                while let Ok(Some(message)) = framing.read(&mut read, 1 << 20).await {
                    let reply = host.reply(&message);
                    if framing.write(&mut write, &reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    }

    /// Serves HTTP (POST bytes, reply bytes) until `shutdown` fires.
    pub async fn serve_http(self: Arc<Self>, listener: TcpListener, shutdown: tokio::sync::watch::Receiver<bool>) {
        let handler: super::http::Handler =
            Arc::new(move |body, _| (200, "application/octet-stream", self.reply(&body)));
        super::http::serve(listener, handler, shutdown).await;
    }
}

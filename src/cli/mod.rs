//! The command line: argument definitions (clap derive) and one function per verb.
//!
//! `main.rs` only sets up logging and calls [`run`]. Exit codes: 0 ok, 1 runtime failure,
//! 2 usage (clap), 64 invalid configuration or copybook.

mod admin_cmds;
mod clock;
mod codec_cmds;
pub mod config_path;
mod contract_cmds;
mod demo_cmd;
mod fields;
mod fleet_cmd;
mod format_args;
mod gateway_cmds;
mod journal_cmds;
mod journal_summary;
mod owners_cmds;
mod record_io;
mod route_change;
mod scaffold_cmd;
mod send_cmds;
mod shadow_cmds;

pub use format_args::{FormatArg, RecordFormatArg};
pub use journal_cmds::JournalCommand;
pub use owners_cmds::OwnersCommand;
pub use route_change::RouteChange;
pub use send_cmds::{build_raw, build_request, decode_reply};

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit code for an invalid configuration (EX_USAGE-style, as sysexits' EX_USAGE = 64).
pub const EXIT_CONFIG: i32 = 64;

/// ficus — a strangler-fig gateway for mainframe fixed-width messages.
///
/// Channels keep sending the same fixed-width messages; ficus routes each operation to the
/// legacy host or to a new service, per routes.toml, and can shadow and compare the two.
///
/// Start with `ficus demo`, then read routes.toml.
#[derive(Parser, Debug)]
#[command(name = "ficus", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output style.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per event, for log shippers.
    Json,
}

/// The verbs.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a copybook's layout as a compiler listing: level, name, offset, length, type.
    ///
    /// Example: ficus layout copybooks/ACCTINQ.cpy --record ACCTINQ-RESP
    Layout {
        /// The copybook file.
        copybook: PathBuf,
        /// The 01 record to show (case-insensitive; default: every record).
        #[arg(long)]
        record: Option<String>,
        /// Print the layout as JSON instead of a listing.
        #[arg(long)]
        json: bool,
        /// Source format of the copybook and its COPY members.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto, long_help = format_args::FORMAT_HELP)]
        format: FormatArg,
    },
    /// Decode fixed-width records to JSON Lines (one object per record).
    ///
    /// Example: ficus decode --copybook copybooks/ACCTINQ.cpy --record ACCTINQ-RESP --input reply.bin
    Decode {
        #[command(flatten)]
        codec: CodecArgs,
        /// Invalid fields become null and the rest of the record still decodes.
        #[arg(long)]
        lenient: bool,
    },
    /// Encode JSON Lines (one object per record) to fixed-width records.
    ///
    /// Example: echo '{"ACCT-NO":"1000000000000001"}' | ficus encode --copybook copybooks/ACCTINQ.cpy > req.bin
    Encode {
        #[command(flatten)]
        codec: CodecArgs,
        #[command(flatten)]
        encode: codec_cmds::EncodeArgs,
    },
    /// Write the OpenAPI 3.1 contract a new JSON service must implement, from routes.toml and
    /// the copybooks.
    ///
    /// ficus POSTs every routed operation to the service as
    /// {"operation": OP, "header": {...}, "request": {...}} and encodes the answer
    /// {"header": {...}, "response": {...} | null} into the response copybook. The document gives
    /// each operation's request and reply as schemas from the copybooks (components OP.request,
    /// OP.reply): PIC X as strings with maxLength, S9(13)V99 COMP-3 as a number with
    /// multipleOf 0.01 and +/-9999999999999.99, OCCURS as arrays, REDEFINES as oneOf, level 88s
    /// named in x-cobol-88; the Ficus-Message-Id and Ficus-Shadow headers; what each status
    /// means. Check it with any OpenAPI tool, or generate a server stub from it.
    /// Examples:
    ///   ficus openapi --config routes.toml --out openapi.json
    ///   ficus openapi --config routes.toml --op ACCTINQ --op XFER
    #[command(verbatim_doc_comment)]
    Openapi {
        #[command(flatten)]
        args: contract_cmds::OpenApiArgs,
    },
    /// Write a new service's Rust crate from routes.toml and the copybooks: serde types, a handler
    /// stub per operation, and a contract test replaying captured host traffic.
    ///
    /// The crate (hyper + tokio) serves ficus's JSON protocol: src/model.rs has one struct per
    /// record with #[serde(rename = "ACCT-NO")] fields (PIC X as String, S9(13)V99 COMP-3 as an
    /// exact rust_decimal::Decimal, PIC 9(8) as u64, OCCURS as Vec, REDEFINES views as Option);
    /// src/handlers.rs has one function per operation that refuses politely ("not implemented")
    /// until you fill it in; tests/contract.rs posts every captured request (--capture, decoded
    /// now into tests/traffic.jsonl) and checks the answer field by field against the host's
    /// reply. It builds and its tests pass as generated.
    /// Examples:
    ///   ficus scaffold --config routes.toml --op ACCTINQ --out ../acctinq-service
    ///   ficus scaffold --config routes.toml --op ACCTINQ --op TXNHIST --out ../accounts \
    ///       --capture shadow/capture.jsonl --ignore HDR-TIMESTAMP
    ///   cd ../acctinq-service && cargo test && cargo run -- --listen 127.0.0.1:7002
    #[command(verbatim_doc_comment)]
    Scaffold {
        #[command(flatten)]
        args: scaffold_cmd::ScaffoldArgs,
    },
    /// Write the JSON Schema (2020-12) of one copybook record, as ficus reads or writes its JSON.
    ///
    /// The same schemas `ficus openapi` puts in its document. --direction encode (default) is the
    /// JSON ficus accepts to encode the record (a service's answer: every named field, numbers
    /// within the picture); decode is the JSON ficus writes when it decodes one (a service's
    /// request: every field, REDEFINES views null where their bytes do not fit).
    /// Examples:
    ///   ficus schema copybooks/ACCTINQ.cpy --record ACCTINQ-RESP
    ///   ficus schema copybooks/TXNHIST.cpy --record TXNHIST-RESP --direction decode --out txnhist.json
    #[command(verbatim_doc_comment)]
    Schema {
        #[command(flatten)]
        args: contract_cmds::SchemaArgs,
    },
    /// Validate routes.toml: files, records, fields, upstream names, addresses. Exit 64 if invalid.
    Check {
        /// The routes file.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
    },
    /// Run the gateway on routes.toml until Ctrl-C / SIGTERM. Exit 64 if the file is invalid.
    ///
    /// Several replicas on one host can share one routes.toml (and its copybooks) with their own
    /// addresses; the table and its hash stay the file's, so `ficus fleet` sees one hash.
    /// Traces (OpenTelemetry, OTLP/HTTP) go where [telemetry] otlp or OTEL_EXPORTER_OTLP_ENDPOINT
    /// says (routes.toml first); neither: no traces. `ficus check` shows where.
    /// Examples:
    ///   ficus serve --config /etc/ficus/routes.toml
    ///   ficus serve --listen-http 127.0.0.1:8081 --listen-tcp 127.0.0.1:9001 --admin 127.0.0.1:9901
    ///   ficus serve --peers ficus-replicas.core-banking.svc:9901     (the dashboard's fleet view)
    #[command(verbatim_doc_comment)]
    Serve {
        /// The routes file.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
        /// Take over from a ficus already running on the same ports (an upgrade): share its
        /// ports, then SIGTERM the old process. Without it a port in use is an error.
        #[arg(long)]
        takeover: bool,
        /// Listen for HTTP channel messages here instead of [gateway] listen_http (port 0: any).
        #[arg(long, value_name = "ADDR")]
        listen_http: Option<std::net::SocketAddr>,
        /// Listen for framed TCP channel messages here instead of [gateway] listen_tcp.
        #[arg(long, value_name = "ADDR")]
        listen_tcp: Option<std::net::SocketAddr>,
        /// Serve the admin API here instead of [gateway] admin.
        #[arg(long, value_name = "ADDR")]
        admin: Option<std::net::SocketAddr>,
        /// The replicas' admin addresses (host:port, comma-separated; a name may resolve to
        /// every replica) for the dashboard's fleet view (GET /fleet), as `ficus fleet` sees them.
        #[arg(long, value_name = "HOST:PORT,…", value_delimiter = ',')]
        peers: Vec<String>,
    },
    /// Every replica's status side by side, and a loud line when they serve different tables.
    ///
    /// Asks each replica's admin API (GET /status) for its table hash (routes.toml and the
    /// copybooks it uses), generation, last reload, messages in flight and breakers. A name
    /// resolving to several addresses (a Kubernetes headless Service) is every replica.
    /// Generations may differ (each replica counts its own reloads); hashes must not.
    /// Replicas are counted per process (pid, host and start from GET /status): one replica
    /// reached at several addresses is one row ("also …"); a dual-stack name whose other
    /// family answered does not count its silent family as missing replicas ("not counted").
    /// Exit 0: one table everywhere; 3: tables differ or a replica did not answer.
    /// Examples:
    ///   ficus fleet --targets 10.0.0.5:9901,10.0.0.6:9901,10.0.0.7:9901
    ///   ficus fleet --targets ficus-admin.bank.svc.cluster.local:9901 --json
    #[command(verbatim_doc_comment)]
    Fleet {
        /// Admin addresses, host:port, comma-separated or repeated.
        #[arg(long, required = true, value_name = "HOST:PORT,…")]
        targets: Vec<String>,
        /// Print every replica's status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the whole demo: a simulated legacy host, the sample `accounts` service and the gateway.
    ///
    /// The demo runs on its own copy of routes.toml and the copybooks, in a state directory
    /// (default: target/ficus-demo in the repository, else ficus-demo in the temporary
    /// directory): flips, the audit log and shadow records land there, never in the checkout.
    /// Each start begins clean; --resume keeps the last run's routes and records.
    /// Examples:
    ///   ficus demo
    ///   ficus demo --resume
    ///   ficus demo --state /tmp/my-demo
    #[command(verbatim_doc_comment)]
    Demo {
        /// Run on this routes file in place instead of a copy (its upstreams `legacy` and
        /// `accounts` are started by the demo).
        #[arg(long, conflicts_with_all = ["state", "resume"])]
        config: Option<PathBuf>,
        /// The state directory (cleared on start unless --resume; a directory that is not the
        /// demo's is refused, never cleared).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Keep the last run's routes.toml, audit log and shadow records.
        #[arg(long)]
        resume: bool,
    },
    /// Show a running gateway's live routes (via its admin API).
    Routes {
        /// The admin API's base URL (default: `[gateway] admin` of --config, else
        /// http://127.0.0.1:9901).
        #[arg(long, env = "FICUS_ADMIN")]
        admin: Option<String>,
        /// The routes.toml the gateway runs, to find its admin address.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
    },
    /// Change one operation's route on a running gateway: flip, canary, roll back, shadow,
    /// capture, kill switch.
    ///
    /// The change is validated, written to routes.toml (comments kept), swapped in and audited;
    /// it is refused if the routes changed since they were read. Needs FICUS_ADMIN_TOKEN.
    ///
    /// A shadow compares only the side that did not answer, so on a flip or rollback of a
    /// read-only route whose shadow would become the new target, the shadow is turned around to
    /// the side that answered before (unless --keep-shadow). A write is never shadowed to the
    /// host: its shadow is left as it is, with a warning saying what to run.
    ///
    /// Examples:
    ///   ficus route ACCTINQ --canary 10 --to accounts --sticky ACCT-NO
    ///   ficus route ACCTINQ --canary 50
    ///   ficus route ACCTINQ --target accounts       # a shadow on accounts turns to legacy
    ///   ficus route ACCTINQ --rollback              # ... and back to accounts
    ///   ficus route ACCTINQ --shadow accounts --shadow-percent 25
    ///   ficus route ACCTINQ --ignore HDR-TIMESTAMP --ignore 'TXN-ROW[*].TXN-TIME'
    ///   ficus route ACCTINQ --no-ignore HDR-TIMESTAMP
    ///   ficus route XFER --shadow accounts --shadow-writes dry-run
    ///   ficus route ACCTINQ --capture 5             # record 5% for `ficus replay`
    ///   ficus route ACCTINQ --no-shadow --no-capture
    ///   ficus route XFER --disable                  # kill switch; --enable undoes it
    #[command(verbatim_doc_comment)]
    Route {
        /// What to change.
        #[command(flatten)]
        change: RouteChange,
        /// The admin API's base URL (default: `[gateway] admin` of --config, else
        /// http://127.0.0.1:9901).
        #[arg(long, env = "FICUS_ADMIN")]
        admin: Option<String>,
        /// The routes.toml the gateway runs, to find its admin address (read even when it does
        /// not validate: a rollback must work while routes.toml is being fixed).
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
    },
    /// The transaction journal: unknown outcomes to reconcile, one transaction, daily totals (대사).
    ///
    /// Reads the store named by routes.toml's [journal] directly, with or without a running
    /// gateway. Examples:
    ///   ficus journal unknown
    ///   ficus journal show 555
    ///   ficus journal forget 555
    ///   ficus journal summary --date 2026-12-01 --utc-offset +09:00 --sum AMOUNT
    #[command(verbatim_doc_comment)]
    Journal {
        /// What to do with the journal.
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Per-account cut-over: move accounts' writes to an upstream, roll back, show an owner.
    ///
    /// Talks to a running gateway's admin API (like `ficus route`); moves need FICUS_ADMIN_TOKEN.
    /// Examples:
    ///   ficus owners move --to accounts --keys accounts.txt
    ///   ficus owners move --rollback --keys accounts.txt
    ///   ficus owners show 1000000000000001
    #[command(verbatim_doc_comment)]
    Owners {
        /// What to do with the owner table.
        #[command(subcommand)]
        command: OwnersCommand,
    },
    /// Shadow comparison reports.
    Shadow {
        /// What to do with shadow records.
        #[command(subcommand)]
        command: ShadowCommand,
    },
    /// Replay captured traffic against an upstream and compare its replies with the captured ones.
    ///
    /// This is how writes are tested against a new service in staging. Examples:
    ///   ficus replay shadow/capture.jsonl --against accounts --rate 50 --html replay.html
    ///   ficus replay postgres://ficus@10.0.0.5:5432/ficus --against accounts   (every replica's
    ///       captures, with [shadow] records = "postgres"; records go to ./replay.jsonl)
    /// Lines of the capture that are not records (a last line cut short) are skipped and
    /// counted; so are captured requests whose bytes are damaged. A clock field that moved by
    /// the time since the capture is replay lag and is not compared (said on the terminal).
    /// Exit codes: 0 every replayed message was compared (matches and findings alike);
    /// 1 some got no comparable reply (listed), nothing was compared, or nothing was captured.
    #[command(verbatim_doc_comment)]
    Replay {
        /// A capture file (capture.jsonl, written for routes with `capture = { percent = N }`), or
        /// a PostgreSQL store (postgres://…) holding every replica's captures.
        capture: PathBuf,
        /// The routes file (layouts, comparison rules, upstream addresses).
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
        /// The upstream to send the captured requests to (its replies are labelled with its name;
        /// the captured ones with the upstream that answered them live).
        #[arg(long)]
        against: String,
        /// Messages per second (default: one after another, as fast as replies come).
        #[arg(long)]
        rate: Option<f64>,
        /// Where to write comparison records (default: replay.jsonl beside the capture file, or
        /// in the current directory for a store).
        #[arg(long)]
        records: Option<PathBuf>,
        /// Also write a self-contained HTML report.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Send one message through the gateway, built from JSON with the copybooks; print the reply.
    ///
    /// The body names fields of the operation's request record (as in its copybook); the reply
    /// is decoded with the response record. On stderr: the HTTP status and which upstream
    /// answered (HTTP replies name it). Examples:
    ///   ficus send ACCTINQ '{"ACCT-NO":"1000000000000001"}'
    ///   ficus send --tcp --hex ACCTINQ '{"ACCT-NO":"1000000000000001"}'
    ///   ficus send --header '{"HDR-CHANNEL":"MBK"}' ACCTINQ '{"ACCT-NO":"1000000000000001"}'
    ///   ficus send --raw PING ''        (an operation without a request copybook: body in hex)
    /// Exit codes:
    ///   0  a reply came from the upstream, whatever its response code (E201 is the host's answer)
    ///   3  the gateway answered with its own error reply (a code FCxx, or HTTP 400 and up);
    ///      the reply is still printed, and the reason is on stderr
    ///   1  no reply (cannot connect, timeout) or a request that cannot be built
    #[command(verbatim_doc_comment)]
    Send {
        /// The routes file (for copybooks, header and listener addresses).
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
        /// Send over the framed TCP listener instead of HTTP.
        #[arg(long)]
        tcp: bool,
        /// Address to send to (default: the listener in routes.toml).
        #[arg(long)]
        to: Option<String>,
        /// Send through this [[channels]] entry of routes.toml: its address, framing and code
        /// page (the message is built, and the reply read, in the channel's code page).
        #[arg(long)]
        channel: Option<String>,
        /// Header fields to set, as a JSON object (e.g. '{"HDR-CHANNEL":"MBK"}').
        #[arg(long)]
        header: Option<String>,
        /// Also print the reply's bytes in hex (on stderr).
        #[arg(long)]
        hex: bool,
        /// The body is hex bytes, sent as they are after the header: for an operation without a
        /// request copybook in routes.toml.
        #[arg(long)]
        raw: bool,
        /// The operation code (e.g. ACCTINQ); several operation fields are joined by '.'.
        op: String,
        /// The request body as JSON (fields of the route's request record), or hex with --raw.
        body: String,
    },
}

/// `ficus shadow ...`.
#[derive(Subcommand, Debug)]
pub enum ShadowCommand {
    /// Summarise comparison records (shadow.jsonl…) per operation; optionally as an HTML page.
    ///
    /// Examples:
    ///   ficus shadow report shadow/shadow.jsonl* --html report.html
    ///   ficus shadow report --store postgres://ficus@10.0.0.5:5432/ficus   (every replica's records,
    ///       with [shadow] records = "postgres")
    #[command(verbatim_doc_comment)]
    Report {
        /// Record files.
        #[arg(required_unless_present = "store", conflicts_with = "store")]
        records: Vec<PathBuf>,
        /// Read every replica's records from this PostgreSQL store (the journal's, where
        /// `[shadow] records = "postgres"` sends them) instead of files.
        #[arg(long, value_name = "postgres://USER@HOST:PORT/DB")]
        store: Option<String>,
        /// Write a self-contained HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
    },
}

/// Options shared by `decode` and `encode`.
#[derive(clap::Args, Debug)]
pub struct CodecArgs {
    /// The copybook file.
    #[arg(long)]
    pub copybook: PathBuf,
    /// The 01 record to use (case-insensitive; default: the first).
    #[arg(long)]
    pub record: Option<String>,
    /// Source format of the copybook and its COPY members.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto, long_help = format_args::FORMAT_HELP)]
    pub format: FormatArg,
    /// Code page of text and zoned digits: ascii, cp037, cp1047, cp949 (euc-kr), cp933, cp1364.
    #[arg(long, default_value = "cp037")]
    pub codepage: String,
    /// Overpunched sign convention written for ASCII code pages: ibm ({A-I}J-R) or mf (0-9/p-y).
    /// EBCDIC pages always write C/D/F zones. Decode accepts every convention.
    #[arg(long, value_enum, default_value_t = SignStyleArg::Ibm)]
    pub sign_style: SignStyleArg,
    /// Byte order of COMP-5 fields.
    #[arg(long, value_enum, default_value_t = ByteOrderArg::Big)]
    pub comp5: ByteOrderArg,
    /// Format of COMP-1/COMP-2 fields.
    #[arg(long, value_enum, default_value_t = FloatArg::Ibm)]
    pub float: FloatArg,
    /// Input file (default: standard input).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// COMP/BINARY/COMP-4 fields may hold any value their bytes can (IBM TRUNC(BIN)); by default
    /// encode refuses values with more digits than the picture (TRUNC(STD)). COMP-5 always holds
    /// its whole storage (S9(4) COMP-5: -32768 to 32767), with or without this option.
    #[arg(long)]
    pub trunc_bin: bool,
    /// How the file's records are laid out (RECFM), for files transferred from the mainframe in
    /// binary: F records back to back (with DEPENDING ON, each as long as its counters say);
    /// FB records of exactly the record's largest size; V each record behind a 4-byte RDW
    /// (big-endian length including the RDW, then two zero bytes); VB blocks behind a 4-byte
    /// BDW (an extended BDW, bit 0 set, above 32760 bytes), each holding RDW records.
    #[arg(long, value_enum, default_value_t = RecordFormatArg::F, ignore_case = true)]
    pub record_format: RecordFormatArg,
    /// FB: the block size to check (a multiple of the record length). VB encode: the largest
    /// block written, BDW included (default 32760).
    #[arg(long)]
    pub block_size: Option<usize>,
    /// Records without descriptors, each as long as this numeric field at its start says
    /// (plus --length-adjust); with --record-format F.
    #[arg(long, value_name = "FIELD")]
    pub length_field: Option<String>,
    /// Added to the length an RDW or --length-field gives: 4 for RDWs that do not count
    /// themselves, -N for a length field that counts N bytes fewer than the whole record.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_name = "N")]
    pub length_adjust: i64,
}

/// `--sign-style`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SignStyleArg {
    /// IBM style: `{ A-I` positive, `} J-R` negative.
    Ibm,
    /// GnuCOBOL / Micro Focus style: `0-9` positive, `p-y` negative.
    Mf,
}

/// `--comp5`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ByteOrderArg {
    /// Most significant byte first (mainframe).
    Big,
    /// Least significant byte first (x86).
    Little,
}

/// `--float`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum FloatArg {
    /// IBM hexadecimal floating point.
    Ibm,
    /// IEEE 754, big-endian.
    Ieee,
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Layout { copybook, record, json, format } => {
            codec_cmds::layout(&copybook, record.as_deref(), json, format.into())
        }
        Command::Decode { codec, lenient } => codec_cmds::decode(&codec, lenient),
        Command::Encode { codec, encode } => codec_cmds::encode(&codec, &encode),
        Command::Openapi { args } => contract_cmds::openapi(&args),
        Command::Schema { args } => contract_cmds::schema(&args),
        Command::Scaffold { args } => scaffold_cmd::scaffold(&args),
        Command::Check { config } => gateway_cmds::check(&config),
        Command::Serve { config, takeover, listen_http, listen_tcp, admin, peers } => {
            let listen = crate::server::Listen { http: listen_http, tcp: listen_tcp, admin };
            gateway_cmds::serve(&config, crate::server::Options { takeover, listen, peers, ..Default::default() })
        }
        Command::Fleet { targets, json } => fleet_cmd::fleet(fleet_cmd::FleetArgs { targets, json }),
        Command::Demo { config, state, resume } => demo_cmd::demo(demo_cmd::DemoArgs { config, state, resume }),
        Command::Routes { admin, config } => {
            admin_cmds::admin_url(admin, &config).and_then(|a| admin_cmds::routes(&announce(a)))
        }
        Command::Route { change, admin, config } => {
            admin_cmds::admin_url(admin, &config).and_then(|a| route_change::route(&announce(a), change))
        }
        Command::Journal { command } => journal_cmds::run(command),
        Command::Owners { command } => {
            let (admin, config) = owners_cmds::admin_args(&command);
            admin_cmds::admin_url(admin, config).and_then(|a| owners_cmds::run(command, &announce(a)))
        }
        // `--store` conflicts with record files (clap refuses both).
        Command::Shadow { command: ShadowCommand::Report { store: Some(url), html, .. } } => {
            shadow_cmds::report_store(&url, html.as_deref())
        }
        Command::Shadow { command: ShadowCommand::Report { records, html, .. } } => {
            shadow_cmds::report(&records, html.as_deref())
        }
        Command::Replay { capture, config, against, rate, records, html } => {
            shadow_cmds::replay(shadow_cmds::ReplayArgs { capture, config, against, rate, records, html })
        }
        Command::Send { config, tcp, to, channel, header, hex, raw, op, body } => {
            send_cmds::send(send_cmds::SendArgs { config, tcp, to, channel, op, body, header, hex, raw })
        }
    };
    match result {
        Ok(()) => 0,
        Err(CliError { code, message }) => {
            if !message.is_empty() {
                eprintln!("ficus: {message}");
            }
            code
        }
    }
}

/// Says on stderr which gateway a command talks to, and why that one; returns its URL.
fn announce(admin: admin_cmds::AdminUrl) -> String {
    eprintln!("gateway admin API {} ({})", admin.url, admin.from);
    admin.url
}

/// A failed command: what to print and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: i32,
    /// Message for stderr.
    pub message: String,
}

impl CliError {
    /// A runtime failure (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        CliError { code: 1, message: message.into() }
    }
    /// Standard output could not be written. When its reader has gone (`ficus … | head`), the
    /// command simply stops: exit 0 and nothing more to say.
    pub fn writing(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError { code: 0, message: String::new() }
        } else {
            CliError::runtime(format!("writing output: {e}"))
        }
    }
    /// An invalid configuration or copybook (exit 64).
    pub fn config(message: impl Into<String>) -> Self {
        CliError { code: EXIT_CONFIG, message: message.into() }
    }
}

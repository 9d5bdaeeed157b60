//! The `ficus` command: thin — parse arguments, set up tracing, call the library.

use clap::Parser;
use ficus::cli::{run, Cli, Command, LogFormat};
use ficus::telemetry::BoxedLayer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

fn main() {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    // PostgreSQL's notices ("relation … already exists, skipping" at every start) are the
    // server's chatter, not ficus's news: shown from warnings up unless FICUS_LOG asks.
    let filter =
        EnvFilter::try_from_env("FICUS_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    // Colours only for a person at a terminal, never into files or log shippers.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
    let log: BoxedLayer = match cli.log_format {
        LogFormat::Json => fmt.json().with_filter(ficus::telemetry::filters::log_filter(filter)).boxed(),
        LogFormat::Text => fmt.with_filter(ficus::telemetry::filters::log_filter(filter)).boxed(),
    };
    // Traces: only `ficus serve`, only when [telemetry] or OTEL_* name a collector; otherwise no
    // layer at all. FICUS_LOG filters the log, not what the collector gets.
    let mut ignored = Vec::new();
    let (tracing, traces) = match &cli.command {
        Command::Serve { config, .. } => {
            let resolved = ficus::telemetry::for_config(config);
            ignored = resolved.ignored;
            match resolved.settings.map(|s| ficus::telemetry::start(&s)) {
                Some(Ok((tracing, layer))) => (Some(tracing), Some(layer)),
                Some(Err(e)) => {
                    eprintln!("ficus: {e}; serving without traces");
                    (None, None)
                }
                None => (None, None),
            }
        }
        _ => (None, None),
    };
    let layers: Vec<BoxedLayer> = std::iter::once(log).chain(traces).collect();
    tracing_subscriber::registry().with(layers).init();
    for variable in &ignored {
        tracing::warn!(%variable, "traces: an OTEL_* variable is ignored");
    }
    if let Some(t) = &tracing {
        tracing::info!(collector = %t.endpoint, "traces: exporting spans over OTLP/HTTP");
    }
    let code = run(cli);
    if let Some(t) = tracing {
        t.shutdown();
    }
    std::process::exit(code);
}

/// `ficus routes | head -1`: once the reader has gone, stop quietly like any Unix tool, instead
/// of the standard library's panic ("failed printing to stdout: Broken pipe"). Rust ignores
/// SIGPIPE, so every `println!` would otherwise panic there; restoring SIGPIPE instead would also
/// kill a gateway writing to a closed socket.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info)
    }));
}

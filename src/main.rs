//! The `ficus` command: thin — parse arguments, set up tracing, call the library.

use clap::Parser;
use ficus::cli::{run, Cli, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("FICUS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into files or log shippers.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    std::process::exit(run(cli));
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

//! `ficus scaffold`: writes a new service's Rust crate generated from routes.toml and the
//! copybooks (the generator is `crate::contract::scaffold`; this file reads and writes files).

use super::contract_cmds::{operations, record_of};
use super::CliError;
use crate::config;
use crate::contract::scaffold::{files, traffic_line, Scaffold};
use crate::shadow::capture;
use std::path::{Path, PathBuf};

/// Arguments of `ficus scaffold`.
#[derive(clap::Args, Debug)]
pub struct ScaffoldArgs {
    /// The routes file: its header, routes and copybooks.
    #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
    pub config: PathBuf,
    /// An operation the service serves (repeat for more; default: every route with request
    /// and response layouts).
    #[arg(long = "op", value_name = "OP")]
    pub ops: Vec<String>,
    /// The folder to write the crate to (created; must be empty unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// The crate's name (default: the --out folder's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Captured traffic (capture.jsonl, written by a route's `capture = { percent = N }`):
    /// decoded into tests/traffic.jsonl for the contract test (default: an empty file).
    #[arg(long)]
    pub capture: Option<PathBuf>,
    /// A header field the contract test does not compare (repeat; the routes' `ignore` lists
    /// and the length field are always left out), e.g. HDR-TIMESTAMP.
    #[arg(long = "ignore", value_name = "FIELD")]
    pub ignore: Vec<String>,
    /// Where the generated service listens by default.
    #[arg(long, default_value = "127.0.0.1:7002")]
    pub listen: String,
    /// Write into a folder that is not empty (files of the same name are replaced).
    #[arg(long)]
    pub force: bool,
}

fn crate_name(args: &ScaffoldArgs) -> Result<String, CliError> {
    let name = match &args.name {
        Some(n) => n.clone(),
        None => args.out.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(name)
    } else {
        Err(CliError::config(format!(
            "crate name {name:?} (from --name or the --out folder): use letters, digits, - and _, starting with a letter"
        )))
    }
}

fn check_out(out: &Path, force: bool) -> Result<(), CliError> {
    let not_empty = std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some());
    match not_empty {
        true if !force => Err(CliError::config(format!(
            "--out {}: the folder is not empty (choose another, or --force to write over its files)",
            out.display()
        ))),
        _ => Ok(()),
    }
}

/// `ficus scaffold`.
pub fn scaffold(args: &ScaffoldArgs) -> Result<(), CliError> {
    let config_name = args.config.display().to_string();
    let name = crate_name(args)?;
    check_out(&args.out, args.force)?;
    let table = config::load(&args.config, None, 0).map_err(|e| CliError::config(e.to_string()))?;
    let operations = operations(&table, &config_name, &args.ops)?;
    let served: Vec<String> = operations.iter().map(|o| o.op.clone()).collect();
    // Each operation is a Rust module and a handler: two names that become one would not build.
    let mut modules = std::collections::BTreeMap::new();
    for op in &served {
        if let Some(other) = modules.insert(crate::contract::scaffold::module_name(op), op) {
            return Err(CliError::config(format!(
                "operations {other} and {op} would both be the Rust module {}: scaffold them into separate crates",
                crate::contract::scaffold::module_name(op)
            )));
        }
    }
    let mut ignored: Vec<String> = table.header.length_field().map(str::to_string).into_iter().collect();
    for op in &served {
        for field in &table.file.routes[op].ignore {
            if !ignored.contains(field) {
                ignored.push(field.clone());
            }
        }
    }
    for field in &args.ignore {
        if !ignored.contains(field) {
            ignored.push(field.clone());
        }
    }
    let mut traffic = String::new();
    let (mut kept, mut other, mut bad) = (0usize, 0usize, Vec::new());
    if let Some(path) = &args.capture {
        let records = capture::read(path).map_err(CliError::config)?;
        for (n, record) in records.iter().enumerate() {
            if !served.contains(&record.op) {
                other += 1;
                continue;
            }
            match traffic_line(&table, record) {
                Ok(line) => {
                    traffic.push_str(&line.to_string());
                    traffic.push('\n');
                    kept += 1;
                }
                Err(e) => bad.push(format!("{}: record {} ({}): {e}", path.display(), n + 1, record.op)),
            }
        }
    }
    let h = &table.file.header;
    let scaffold = Scaffold {
        name: name.clone(),
        config: config_name,
        listen: args.listen.clone(),
        upstream: name.trim_end_matches("-service").to_string(),
        header: (table.header.codec.plan(), record_of(&table, &h.copybook)),
        response_code: Some(h.response_code.clone()).filter(|f| !f.is_empty()),
        response_message: Some(h.response_message.clone()).filter(|f| !f.is_empty()),
        operations,
        ignored,
        traffic,
    };
    for (path, text) in files(&scaffold) {
        let target = args.out.join(&path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::runtime(format!("cannot create {}: {e}", dir.display())))?;
        }
        std::fs::write(&target, text)
            .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", target.display())))?;
    }
    for line in &bad {
        eprintln!("skipped {line}");
    }
    let capture_note = match &args.capture {
        Some(_) => format!(
            "{kept} captured exchanges in tests/traffic.jsonl{}{}",
            if other > 0 { format!(", {other} of other operations left out") } else { String::new() },
            if bad.is_empty() { String::new() } else { format!(", {} unreadable skipped", bad.len()) }
        ),
        None => "no captured traffic (--capture capture.jsonl adds it)".into(),
    };
    eprintln!(
        "wrote {} (crate {name}) for {}: {capture_note}. Next: cd {} && cargo test",
        args.out.display(),
        served.join(", "),
        args.out.display()
    );
    Ok(())
}

//! The embedded demo: a simulated legacy host and a sample new service over one seeded
//! ledger, plus the default routes.toml and copybooks compiled into the binary so `ficus demo`
//! runs anywhere.

pub mod accounts;
pub mod host;
pub mod http;
pub mod ledger;
pub mod ops;
pub mod postings;

/// The default routes.toml, as shipped at the top of the repository.
pub const ROUTES_TOML: &str = include_str!("../../routes.toml");

/// The demo copybooks, as shipped in `copybooks/`.
pub const COPYBOOKS: [(&str, &str); 5] = [
    ("COMMHDR.cpy", include_str!("../../copybooks/COMMHDR.cpy")),
    ("ACCTINQ.cpy", include_str!("../../copybooks/ACCTINQ.cpy")),
    ("TXNHIST.cpy", include_str!("../../copybooks/TXNHIST.cpy")),
    ("XFER.cpy", include_str!("../../copybooks/XFER.cpy")),
    ("XFERCAN.cpy", include_str!("../../copybooks/XFERCAN.cpy")),
];

/// Writes the embedded routes.toml and copybooks into `dir`; returns the routes.toml path.
pub fn write_defaults(dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir.join("copybooks"))?;
    for (name, text) in COPYBOOKS {
        std::fs::write(dir.join("copybooks").join(name), text)?;
    }
    let path = dir.join("routes.toml");
    std::fs::write(&path, ROUTES_TOML)?;
    Ok(path)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cancel;

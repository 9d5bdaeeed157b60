//! A PostgreSQL store URL checked before it is used: every query parameter is one ficus's driver
//! (sqlx) reads — an unknown one is refused by name, never passed on to be logged with its value
//! (sqlx warns "ignoring unrecognized connect parameter" with the value in clear, and
//! `sslpassword` is a secret) — its values parse (`sslmode=bogus` is refused here, not at the
//! first write), and the TLS files it names can be read where the gateway runs.

use std::path::Path;

/// The parameters sqlx's PostgreSQL driver reads from a URL (sqlx-postgres 0.8
/// `options/parse.rs`); libpq spells them the same way.
const KNOWN: [&str; 18] = [
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// The parameters naming files (the CA, the client certificate and key).
const FILES: [&str; 7] = ["sslrootcert", "ssl-root-cert", "ssl-ca", "sslcert", "ssl-cert", "sslkey", "ssl-key"];

fn params(url: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Why `url` (a `postgres://` store URL) cannot be used, without its secrets: an unknown
/// parameter (named, its value never shown) or a value that does not parse.
pub fn check(url: &str) -> Result<(), String> {
    for (key, _) in params(url) {
        if !KNOWN.contains(&key) {
            return Err(format!(
                "parameter {key:?} is not one ficus reads; it takes sslmode, sslrootcert, sslcert, sslkey, \
                 application_name, options, statement-cache-capacity, host, hostaddr, port, dbname, user, password \
                 (an encrypted sslkey with sslpassword is not supported: give an unencrypted key file, readable only \
                 by ficus)"
            ));
        }
    }
    url.parse::<sqlx::postgres::PgConnectOptions>().map(drop).map_err(|e| e.to_string())
}

/// Whether the TLS files `url` names can be read here: each one's parameter and path, and why
/// not. Checked by `ficus serve` at start, where the files must be (not by `ficus check`).
pub fn unreadable_files(url: &str) -> Vec<String> {
    params(url)
        .filter(|(key, _)| FILES.contains(key))
        .filter_map(|(key, value)| {
            let path = percent_decoded(value);
            let why = match std::fs::metadata(Path::new(&path)) {
                Ok(m) if m.is_file() => std::fs::File::open(&path).err().map(|e| e.to_string()),
                Ok(_) => Some("not a file".into()),
                Err(e) => Some(e.to_string()),
            };
            why.map(|why| format!("{key} = {path}: {why}"))
        })
        .collect()
}

/// `%2F` and friends decoded (a path in a URL may be written either way).
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_named_never_their_values() {
        let e = check("postgres://ficus@h/db?sslmode=require&sslpassword=SECRET").unwrap_err();
        assert!(e.contains("\"sslpassword\"") && !e.contains("SECRET"), "{e}");
        let e = check("postgres://ficus@h/db?connect_timeout=5").unwrap_err();
        assert!(e.contains("\"connect_timeout\""), "{e}");
        assert!(check("postgres://ficus@h/db?sslmode=bogus").unwrap_err().contains("bogus"));
        for good in [
            "postgres://ficus@h/db",
            "postgres://ficus:pw@h:5432/db?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgresql://ficus@h/db?application_name=ficus&sslmode=prefer",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn tls_files_are_checked_where_ficus_runs() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "x").unwrap();
        let url = format!("postgres://h/db?sslrootcert={}&sslcert=/nonexistent/c.pem", ca.display());
        let bad = unreadable_files(&url);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].starts_with("sslcert = /nonexistent/c.pem: "), "{bad:?}");
        let dir_url = format!("postgres://h/db?sslrootcert={}", dir.path().display());
        assert!(unreadable_files(&dir_url)[0].ends_with("not a file"));
        assert_eq!(percent_decoded("%2Fetc%2Fca.pem"), "/etc/ca.pem");
    }
}

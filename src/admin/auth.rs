//! Admin tokens: named bearer tokens from `FICUS_ADMIN_TOKEN` (`secret`, or
//! `name:secret,name:secret`) and an optional token file (`name:secret` a line). Every mutation
//! needs one; the holder's name goes into the audit log. Secrets are compared in constant time.

use subtle::ConstantTimeEq;

/// The environment variable holding admin tokens.
pub const TOKEN_ENV: &str = "FICUS_ADMIN_TOKEN";

/// The known tokens.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    entries: Vec<(String, Vec<u8>)>,
}

impl Tokens {
    /// Parses `name:secret` entries separated by commas or newlines; a bare `secret` is named
    /// `admin`. Blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Tokens {
        let entries = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.starts_with('#'))
            .map(|e| match e.split_once(':') {
                Some((name, secret)) => (name.trim().to_string(), secret.trim().as_bytes().to_vec()),
                None => ("admin".to_string(), e.as_bytes().to_vec()),
            })
            .filter(|(_, s)| !s.is_empty())
            .collect();
        Tokens { entries }
    }

    /// Tokens from the environment and, if given, a file.
    pub fn load(file: Option<&std::path::Path>) -> Result<Tokens, String> {
        let mut tokens = Tokens::parse(&std::env::var(TOKEN_ENV).unwrap_or_default());
        if let Some(path) = file {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("admin token file {}: {e}", path.display()))?;
            tokens.entries.extend(Tokens::parse(&text).entries);
        }
        Ok(tokens)
    }

    /// True if no token is configured (mutations are then refused).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The name of the token in an `Authorization: Bearer …` header value, if it is valid.
    /// Every configured secret is compared, in constant time, whatever matches.
    pub fn check(&self, authorization: Option<&str>) -> Option<String> {
        let presented = authorization?.strip_prefix("Bearer ")?.trim().as_bytes();
        let mut found = None;
        for (name, secret) in &self.entries {
            let equal: bool = secret.as_slice().ct_eq(presented).into();
            if equal && found.is_none() {
                found = Some(name.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_bare_tokens() {
        let t = Tokens::parse("alice:s3cret, bob:hunter2\n# comment\nplain");
        assert_eq!(t.check(Some("Bearer s3cret")).as_deref(), Some("alice"));
        assert_eq!(t.check(Some("Bearer hunter2")).as_deref(), Some("bob"));
        assert_eq!(t.check(Some("Bearer plain")).as_deref(), Some("admin"));
        assert_eq!(t.check(Some("Bearer wrong")), None);
        assert_eq!(t.check(Some("s3cret")), None, "the Bearer scheme is required");
        assert_eq!(t.check(None), None);
        assert!(Tokens::parse("").is_empty());
        assert_eq!(Tokens::parse("x:").check(Some("Bearer ")), None, "empty secrets are never valid");
    }
}

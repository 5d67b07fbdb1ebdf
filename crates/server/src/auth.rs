//! Bearer tokens with roles. The token file keeps only the SHA-256 of each token, so a
//! copy of the file does not let anyone in; a token is shown once, when it is made.
//!
//! File layout (CSV, no quoting needed): `name,role,sha256` per line, optionally followed
//! by `,ENGINE;ENGINE…`, the engines whose voter-identifying fields the token may see;
//! `#` starts a comment.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use scrutineer_core::Engine;
use sha2::{Digest, Sha256};

/// Why the token file could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The token file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of the file is not `name,role,sha256`.
    #[error("{path}:{line}: {problem}")]
    Format {
        /// The token file.
        path: PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// A token of that name exists already.
    #[error("a token named '{0}' already exists")]
    Exists(String),
    /// No token has that name.
    #[error("no token named '{0}'")]
    Missing(String),
    /// The name holds characters a token name may not.
    #[error("token names are letters, digits, '.', '-', '_' and '@' (got '{0}')")]
    BadName(String),
    /// No random bytes for a new token.
    #[error("the system's random source failed: {0}")]
    Random(String),
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read findings, runs and the dashboard, never voter-identifying fields.
    Viewer,
    /// Read findings, runs, the dashboard and the STIX export; triage findings; see the
    /// voter fields of the engines granted.
    Analyst,
    /// Everything an analyst may, and read the access log.
    Admin,
}

impl Role {
    /// The role's name in the token file (`analyst`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// The role a name in the token file stands for, in any case.
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// One token: who holds it, its role, and its hash (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// The holder's name, as the access log shows it.
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// Hex SHA-256 of the token.
    pub sha256: String,
    /// Engines whose voter-identifying fields the token may see (an analyst's grant;
    /// admins see all, viewers none, whatever is written here).
    pub voter_engines: Vec<Engine>,
}

/// The token file: every token that may use the server.
#[derive(Debug, Clone, Default)]
pub struct TokenFile {
    /// The tokens, in file order.
    pub entries: Vec<TokenEntry>,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares without stopping at the first difference, so response time says nothing
/// about how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl TokenFile {
    /// Reads the file; a file that does not exist holds no token.
    pub fn load(path: &Path) -> Result<TokenFile, TokenError> {
        if !path.exists() {
            return Ok(TokenFile::default());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|source| TokenError::Io { path: path.to_owned(), source })?;
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split(',').collect();
            let bad = |problem: &str| TokenError::Format {
                path: path.to_owned(),
                line: i + 1,
                problem: problem.into(),
            };
            if parts.len() != 3 && parts.len() != 4 {
                return Err(bad("expected name,role,sha256 or name,role,sha256,engines"));
            }
            let role = Role::parse(parts[1]).ok_or_else(|| bad("role must be viewer, analyst or admin"))?;
            let voter_engines = match parts.get(3) {
                Some(list) => parse_engines(list, ';').map_err(|e| bad(&e))?,
                None => Vec::new(),
            };
            if parts[2].len() != 64 || !parts[2].bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("sha256 must be 64 hex digits"));
            }
            entries.push(TokenEntry {
                name: parts[0].to_owned(),
                role,
                sha256: parts[2].to_ascii_lowercase(),
                voter_engines,
            });
        }
        Ok(TokenFile { entries })
    }

    /// Writes the file (mode 0600), through a temporary file renamed into place.
    pub fn save(&self, path: &Path) -> Result<(), TokenError> {
        let io = |source| TokenError::Io { path: path.to_owned(), source };
        let tmp = path.with_extension("tokens.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io)?;
        writeln!(f, "# scrutineer dashboard tokens: name,role,sha256 of the token").map_err(io)?;
        for e in &self.entries {
            if e.voter_engines.is_empty() {
                writeln!(f, "{},{},{}", e.name, e.role.as_str(), e.sha256).map_err(io)?;
            } else {
                let engines: Vec<&str> = e.voter_engines.iter().map(|e| e.as_str()).collect();
                writeln!(f, "{},{},{},{}", e.name, e.role.as_str(), e.sha256, engines.join(";"))
                    .map_err(io)?;
            }
        }
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Makes a new token for `name`; returns the token (the only time it is seen).
    pub fn add(&mut self, name: &str, role: Role) -> Result<String, TokenError> {
        self.add_with_voter_engines(name, role, &[])
    }

    /// Makes a new token for `name` that may see the voter fields of `voter_engines`.
    pub fn add_with_voter_engines(
        &mut self,
        name: &str,
        role: Role,
        voter_engines: &[Engine],
    ) -> Result<String, TokenError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c)) {
            return Err(TokenError::BadName(name.to_owned()));
        }
        if self.entries.iter().any(|e| e.name == name) {
            return Err(TokenError::Exists(name.to_owned()));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
        let token = format!("scr_{}", hex::encode(bytes));
        self.entries.push(TokenEntry {
            name: name.to_owned(),
            role,
            sha256: digest(&token),
            voter_engines: voter_engines.to_vec(),
        });
        Ok(token)
    }

    /// Removes `name`'s token.
    pub fn revoke(&mut self, name: &str) -> Result<(), TokenError> {
        let before = self.entries.len();
        self.entries.retain(|e| e.name != name);
        if self.entries.len() == before { Err(TokenError::Missing(name.to_owned())) } else { Ok(()) }
    }

    /// The entry a presented token belongs to.
    pub fn check(&self, token: &str) -> Option<&TokenEntry> {
        let d = digest(token.trim());
        self.entries.iter().find(|e| same(&e.sha256, &d))
    }
}

/// Engines named in `list`, separated by `sep` (`ballots;audit`); an unknown name is an
/// error naming it.
pub fn parse_engines(list: &str, sep: char) -> Result<Vec<Engine>, String> {
    let mut out = Vec::new();
    for name in list.split(sep).map(str::trim).filter(|n| !n.is_empty()) {
        let engine = name.parse::<Engine>().map_err(|_| format!("unknown engine '{name}'"))?;
        if !out.contains(&engine) {
            out.push(engine);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_the_file_and_only_hashes_are_stored() {
        let dir = std::env::temp_dir().join(format!("scrutineer-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("t.tokens");
        let mut f = TokenFile::default();
        let a = f.add("ana", Role::Analyst).expect("add");
        let b = f.add("root", Role::Admin).expect("add");
        let v =
            f.add_with_voter_engines("val", Role::Analyst, &[Engine::Ballots, Engine::Audit]).expect("add");
        assert_ne!(a, b);
        assert!(matches!(f.add("ana", Role::Admin), Err(TokenError::Exists(_))));
        assert!(matches!(f.add("a,b", Role::Admin), Err(TokenError::BadName(_))));
        f.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains(&a) && !text.contains(&b));
        let g = TokenFile::load(&path).expect("load");
        assert_eq!(g.check(&a).map(|e| e.role), Some(Role::Analyst));
        assert_eq!(g.check(&b).map(|e| e.name.as_str()), Some("root"));
        assert_eq!(g.check(&v).map(|e| e.voter_engines.clone()), Some(vec![Engine::Ballots, Engine::Audit]));
        assert_eq!(g.check(&a).map(|e| e.voter_engines.len()), Some(0));
        assert!(g.check("scr_wrong").is_none());
        let mut h = g.clone();
        h.revoke("ana").expect("revoke");
        assert!(h.check(&a).is_none());
        std::fs::write(&path, "x,boss,abc\n").expect("write");
        assert!(matches!(TokenFile::load(&path), Err(TokenError::Format { line: 1, .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

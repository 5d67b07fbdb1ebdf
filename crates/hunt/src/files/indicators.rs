//! Indicators of compromise for files: hashes, file names and paths, from CSV lists,
//! CISA CHIRP-style YAML indicator files and (through the binary, which reads bundles
//! with the share crate) STIX 2.1 indicators.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a file indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileIndicatorKind {
    /// MD5 of the file's bytes (32 hex digits).
    Md5,
    /// SHA-1 of the file's bytes (40 hex digits).
    Sha1,
    /// SHA-256 of the file's bytes (64 hex digits).
    Sha256,
    /// The file's name (last path component), compared without regard to case as
    /// Windows compares names.
    Name,
    /// A path: matches a scanned file whose path ends with it, component by component,
    /// without regard to case, `\` and `/` alike, a drive letter ignored.
    Path,
}

impl FileIndicatorKind {
    /// The kind's name in indicator CSV lists and in `hits.csv` (`ioc:<kind>:<value>`).
    pub fn as_str(self) -> &'static str {
        match self {
            FileIndicatorKind::Md5 => "md5",
            FileIndicatorKind::Sha1 => "sha1",
            FileIndicatorKind::Sha256 => "sha256",
            FileIndicatorKind::Name => "name",
            FileIndicatorKind::Path => "path",
        }
    }

    /// Reads a `type` column: `md5`, `sha1`/`sha-1`, `sha256`/`sha-256`, `hash` (the
    /// kind told by the value's length), `name`/`file_name`/`filename`, `path`/`file_path`.
    /// `Ok(None)` for `hash`, which needs the value.
    fn parse(s: &str) -> Result<Option<FileIndicatorKind>, ()> {
        Ok(Some(match s.trim().to_ascii_lowercase().as_str() {
            "md5" => FileIndicatorKind::Md5,
            "sha1" | "sha-1" => FileIndicatorKind::Sha1,
            "sha256" | "sha-256" => FileIndicatorKind::Sha256,
            "hash" | "file_hash" | "filehash" => return Ok(None),
            "name" | "file_name" | "filename" | "file-name" => FileIndicatorKind::Name,
            "path" | "file_path" | "filepath" | "file-path" => FileIndicatorKind::Path,
            _ => return Err(()),
        }))
    }

    /// The hash kind of a value by its length, when it is all hex digits.
    pub fn of_hash(value: &str) -> Option<FileIndicatorKind> {
        if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        match value.len() {
            32 => Some(FileIndicatorKind::Md5),
            40 => Some(FileIndicatorKind::Sha1),
            64 => Some(FileIndicatorKind::Sha256),
            _ => None,
        }
    }

    fn is_hash(self) -> bool {
        matches!(self, FileIndicatorKind::Md5 | FileIndicatorKind::Sha1 | FileIndicatorKind::Sha256)
    }
}

/// One file indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileIndicator {
    /// What the value is.
    pub kind: FileIndicatorKind,
    /// The hash (lower-case hex), name or path.
    pub value: String,
    /// The list it came from (its file name).
    pub source: String,
    /// The STIX id, when it came from a bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stix_id: Option<String>,
    /// What the list says about it (a CHIRP indicator's name, a STIX indicator's name, a
    /// CSV `description`); may be empty.
    #[serde(default)]
    pub description: String,
}

impl FileIndicator {
    /// The file indicator of one comparison of a STIX 2.1 pattern (`file:hashes.'SHA-256'
    /// = '...'`, `file:name = '...'`, `directory:path = '...'`,
    /// `file:parent_directory_ref.path = '...'`): object type and property as written;
    /// `None` for comparisons on anything else.
    pub fn from_stix(
        object_type: &str,
        property: &str,
        value: &str,
        source: &str,
        stix_id: &str,
        name: Option<&str>,
    ) -> Option<FileIndicator> {
        let prop = property.replace('\'', "").to_ascii_lowercase();
        let kind = match (object_type, prop.as_str()) {
            ("file", "hashes.md5") => FileIndicatorKind::Md5,
            ("file", "hashes.sha-1" | "hashes.sha1") => FileIndicatorKind::Sha1,
            ("file", "hashes.sha-256" | "hashes.sha256") => FileIndicatorKind::Sha256,
            ("file", "name") => FileIndicatorKind::Name,
            ("file", "parent_directory_ref.path") | ("directory", "path") => FileIndicatorKind::Path,
            _ => return None,
        };
        let value = if kind.is_hash() { value.trim().to_ascii_lowercase() } else { value.to_owned() };
        if kind.is_hash() && FileIndicatorKind::of_hash(&value) != Some(kind) {
            return None;
        }
        Some(FileIndicator {
            kind,
            value,
            source: source.to_owned(),
            stix_id: Some(stix_id.to_owned()),
            description: name.unwrap_or_default().to_owned(),
        })
    }

    /// The `rule` column of `hits.csv` for a match of this indicator.
    pub fn rule_name(&self) -> String {
        format!("ioc:{}:{}", self.kind.as_str(), self.value)
    }
}

/// Why an indicator file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorListError {
    /// The file could not be read.
    #[error("reading the indicator list {path}: {source}")]
    Io {
        /// The list.
        path: PathBuf,
        /// What the system reported.
        source: std::io::Error,
    },
    /// A row or document holds something that is not a file indicator.
    #[error("{}:{line}: {field}: {message}", .path.display())]
    Bad {
        /// The list.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The column or YAML key.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// A YARA rule carried by a CHIRP indicator (`ioc_type: yara`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChirpYaraRule {
    /// The CHIRP indicator file.
    pub path: PathBuf,
    /// The indicator's `name`.
    pub name: String,
    /// The rule source (`indicator.rule`).
    pub source: String,
    /// The line of the indicator file where the rule text starts (1-based), so that a
    /// compile error names the indicator file's line.
    pub first_line: usize,
}

/// What a CHIRP indicator file held.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChirpCounts {
    /// Indicators (YAML documents) read.
    pub indicators: usize,
    /// `yara` indicators, whose rules run over the scanned files.
    pub yara: usize,
    /// Hashes taken from the `MD5*`, `SHA1*`, `SHA256*` metadata of those rules (the
    /// analysed samples' hashes, as CISA writes them).
    pub meta_hashes: usize,
    /// Indicators for CHIRP's other plugins (`events`, `registry`, `network`), which
    /// are about event logs, the registry and connections, not files: counted, not used.
    pub other_plugins: BTreeCounts,
}

/// Counts by name, in name order.
pub type BTreeCounts = std::collections::BTreeMap<String, usize>;

/// File indicators indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct FileIndicators {
    /// Every indicator, in the order added; matches refer to them by index.
    pub list: Vec<FileIndicator>,
    /// YARA rules from CHIRP indicator files.
    pub chirp_rules: Vec<ChirpYaraRule>,
    /// What the CHIRP files held, all together.
    pub chirp: ChirpCounts,
    by_hash: HashMap<(FileIndicatorKind, String), Vec<u32>>,
    by_name: HashMap<String, Vec<u32>>,
    paths: Vec<(Vec<String>, u32)>,
}

/// A path's components, lower-case, `\` and `/` alike, a drive letter (`C:`) and empty
/// components dropped.
fn path_components(p: &str) -> Vec<String> {
    let mut parts: Vec<String> =
        p.split(['\\', '/']).filter(|c| !c.is_empty() && *c != ".").map(str::to_lowercase).collect();
    if parts.first().is_some_and(|c| c.len() == 2 && c.ends_with(':')) {
        parts.remove(0);
    }
    parts
}

impl FileIndicators {
    /// An empty set.
    pub fn new() -> FileIndicators {
        FileIndicators::default()
    }

    /// Indicators in the set (CHIRP YARA rules not counted).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the set holds no indicator and no CHIRP rule.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.chirp_rules.is_empty()
    }

    /// Adds an indicator (hash values are compared in lower case).
    pub fn add(&mut self, mut ind: FileIndicator) {
        let idx = self.list.len() as u32;
        match ind.kind {
            k if k.is_hash() => {
                ind.value = ind.value.trim().to_ascii_lowercase();
                self.by_hash.entry((k, ind.value.clone())).or_default().push(idx);
            }
            FileIndicatorKind::Name => self.by_name.entry(ind.value.to_lowercase()).or_default().push(idx),
            _ => {
                let parts = path_components(&ind.value);
                if parts.is_empty() {
                    return;
                }
                self.paths.push((parts, idx));
            }
        }
        self.list.push(ind);
    }

    /// Indices of the indicators a file matches: its hashes (lower-case hex) and its path
    /// (for an archive member, its path inside the archive).
    pub fn matches(&self, path: &str, md5: &str, sha1: &str, sha256: &str) -> Vec<u32> {
        let mut out = Vec::new();
        if !self.by_hash.is_empty() {
            for (k, v) in [
                (FileIndicatorKind::Md5, md5),
                (FileIndicatorKind::Sha1, sha1),
                (FileIndicatorKind::Sha256, sha256),
            ] {
                if let Some(found) = self.by_hash.get(&(k, v.to_owned())) {
                    out.extend_from_slice(found);
                }
            }
        }
        if !self.by_name.is_empty() || !self.paths.is_empty() {
            let parts = path_components(path);
            if let Some(found) = parts.last().and_then(|n| self.by_name.get(n)) {
                out.extend_from_slice(found);
            }
            for (want, idx) in &self.paths {
                if parts.ends_with(want) {
                    out.push(*idx);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Reads a CSV list with a header naming a `value` (or `indicator`, `ioc`) column and
    /// optionally `type` (or `kind`) and `description` columns; without a header, a plain
    /// list of one value a line. A value's kind comes from `type` when given, otherwise
    /// from its form: 32/40/64 hex digits a hash, a value with `\` or `/` a path, anything
    /// else a file name. Returns the number of indicators added.
    pub fn load_csv(&mut self, path: &Path) -> Result<usize, IndicatorListError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| IndicatorListError::Io { path: path.to_owned(), source })?;
        let source = list_name(path);
        let bad = |line: usize, field: &str, message: String| IndicatorListError::Bad {
            path: path.to_owned(),
            line,
            field: field.to_owned(),
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut cols: Option<(usize, Option<usize>, Option<usize>)> = None;
        let mut first = true;
        let before = self.len();
        for row in reader.records() {
            let row = row.map_err(|e| {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                bad(line, "row", e.to_string())
            })?;
            let line = row.position().map(|p| p.line() as usize).unwrap_or(0);
            if row.iter().all(str::is_empty) {
                continue;
            }
            if first {
                first = false;
                let lower: Vec<String> = row.iter().map(str::to_ascii_lowercase).collect();
                if let Some(v) = lower.iter().position(|f| f == "value" || f == "indicator" || f == "ioc") {
                    let t = lower.iter().position(|f| f == "type" || f == "kind");
                    let d = lower.iter().position(|f| f == "description" || f == "comment" || f == "name");
                    cols = Some((v, t, d));
                    continue;
                }
            }
            let (vi, ti, di) = cols.unwrap_or((0, None, None));
            let value = row.get(vi).unwrap_or_default();
            if value.is_empty() {
                return Err(bad(line, "value", "empty".to_owned()));
            }
            let declared = match ti.and_then(|t| row.get(t)).filter(|t| !t.is_empty()) {
                Some(t) => FileIndicatorKind::parse(t).map_err(|()| {
                    bad(
                        line,
                        "type",
                        format!("'{t}' is not a file indicator type (md5, sha1, sha256, hash, name, path)"),
                    )
                })?,
                None => None,
            };
            let kind = match declared {
                Some(k) if k.is_hash() => {
                    if FileIndicatorKind::of_hash(value) != Some(k) {
                        return Err(bad(line, "value", format!("'{value}' is not a {} hash", k.as_str())));
                    }
                    k
                }
                Some(k) => k,
                None if ti.is_some_and(|t| row.get(t).is_some_and(|t| !t.is_empty())) => {
                    // `hash`: the length tells which.
                    FileIndicatorKind::of_hash(value).ok_or_else(|| {
                        bad(line, "value", format!("'{value}' is not an MD5, SHA-1 or SHA-256 hash"))
                    })?
                }
                None => FileIndicatorKind::of_hash(value).unwrap_or(if value.contains(['\\', '/']) {
                    FileIndicatorKind::Path
                } else {
                    FileIndicatorKind::Name
                }),
            };
            self.add(FileIndicator {
                kind,
                value: value.to_owned(),
                source: source.clone(),
                stix_id: None,
                description: di.and_then(|d| row.get(d)).unwrap_or_default().to_owned(),
            });
        }
        Ok(self.len() - before)
    }

    /// Reads a CISA CHIRP indicator file: YAML documents separated by `---`, each with
    /// `name`, `description`, `confidence`, `ioc_type` and `indicator`. `yara` indicators
    /// give their rule (`indicator.rule`, run over every scanned file: the `files` scope
    /// names places on the live host, which collected files no longer have) and the
    /// hashes of their `MD5*`/`SHA1*`/`SHA256*` metadata as hash indicators; the other
    /// plugins' indicators are counted. Returns the number of indicators (documents) read.
    pub fn load_chirp(&mut self, path: &Path) -> Result<usize, IndicatorListError> {
        use serde::Deserialize as _;
        let text = std::fs::read_to_string(path)
            .map_err(|source| IndicatorListError::Io { path: path.to_owned(), source })?;
        let source = list_name(path);
        let bad = |line: usize, field: &str, message: String| IndicatorListError::Bad {
            path: path.to_owned(),
            line,
            field: field.to_owned(),
            message,
        };
        let mut read = 0;
        // Where each document starts, to name a line for problems the YAML parser does
        // not see (a missing key).
        // (The first line after each `---` separator.)
        let first = if text.starts_with("---") { 2 } else { 1 };
        let starts: Vec<usize> = std::iter::once(first)
            .chain(text.match_indices("\n---").map(|(i, _)| text[..i].matches('\n').count() + 3))
            .collect();
        let mut search_from = 0;
        for (n, doc) in yaml_serde::Deserializer::from_str(&text).enumerate() {
            let value = yaml_serde::Value::deserialize(doc).map_err(|e| {
                let line = e.location().map(|l| l.line()).unwrap_or(0);
                bad(line, "yaml", e.to_string())
            })?;
            if value.is_null() {
                continue;
            }
            let doc_line = starts.get(n).copied().unwrap_or(1);
            let get = |v: &yaml_serde::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
            let ioc_type = get(&value, "ioc_type").ok_or_else(|| {
                bad(doc_line, "ioc_type", "missing (every CHIRP indicator names its plugin)".into())
            })?;
            let name = get(&value, "name").unwrap_or_default();
            read += 1;
            self.chirp.indicators += 1;
            if ioc_type != "yara" {
                *self.chirp.other_plugins.entry(ioc_type).or_default() += 1;
                continue;
            }
            let rule = value
                .get("indicator")
                .and_then(|i| i.get("rule"))
                .and_then(|r| r.as_str())
                .ok_or_else(|| {
                    bad(doc_line, "indicator.rule", format!("the yara indicator '{name}' has no rule"))
                })?
                .to_owned();
            // The rule's first line as it stands in the file, for compile errors.
            let first = rule.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim();
            let first_line = match text[search_from..].find(first) {
                Some(at) if !first.is_empty() => {
                    search_from += at + first.len();
                    text[..search_from].matches('\n').count() + 1
                }
                _ => doc_line,
            };
            for (kind, hash) in meta_hashes(&rule) {
                self.add(FileIndicator {
                    kind,
                    value: hash,
                    source: source.clone(),
                    stix_id: None,
                    description: name.clone(),
                });
                self.chirp.meta_hashes += 1;
            }
            self.chirp.yara += 1;
            self.chirp_rules.push(ChirpYaraRule { path: path.to_owned(), name, source: rule, first_line });
        }
        Ok(read)
    }
}

fn list_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// `MD5_1 = "..."`, `SHA256 = "..."`, `sha1 = "..."` lines of a rule's `meta:` section:
/// the hash values whose length fits the name.
fn meta_hashes(rule: &str) -> Vec<(FileIndicatorKind, String)> {
    let mut out = Vec::new();
    let mut in_meta = false;
    for line in rule.lines() {
        let t = line.trim();
        if t.starts_with("meta:") {
            in_meta = true;
            continue;
        }
        if t.starts_with("strings:") || t.starts_with("condition:") {
            in_meta = false;
        }
        if !in_meta {
            continue;
        }
        let Some((key, value)) = t.split_once('=') else { continue };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim().trim_matches('"').trim().to_ascii_lowercase();
        let want = if key.starts_with("sha256") || key.starts_with("sha-256") {
            FileIndicatorKind::Sha256
        } else if key.starts_with("sha1") || key.starts_with("sha-1") {
            FileIndicatorKind::Sha1
        } else if key.starts_with("md5") {
            FileIndicatorKind::Md5
        } else {
            continue;
        };
        if FileIndicatorKind::of_hash(&value) == Some(want) && !out.iter().any(|(_, v)| *v == value) {
            out.push((want, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn csv_lists_infer_kinds_and_name_bad_rows() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        writeln!(
            f,
            "type,value,description\nsha256,{},sample\nname,NetSetupSvc.dll,teardrop\npath,C:\\Windows\\Temp\\x.ps1,dropper",
            "A".repeat(64)
        )
        .expect("write");
        let mut set = FileIndicators::new();
        assert_eq!(set.load_csv(f.path()).expect("load"), 3);
        let a = "a".repeat(64);
        assert_eq!(set.matches("/img/bin/foo", "", "", &a), vec![0]);
        assert_eq!(set.matches("/img/Windows/System32/netsetupsvc.dll", "", "", ""), vec![1]);
        assert_eq!(set.matches("/mnt/c/windows/temp/X.PS1", "", "", ""), vec![2]);
        assert!(set.matches("/mnt/c/other/temp/x.ps1", "", "", "").is_empty());

        let mut bad = tempfile::NamedTempFile::new().expect("temp");
        writeln!(bad, "type,value\nmd5,{}\nmd5,abc", "b".repeat(32)).expect("write");
        let err = FileIndicators::new().load_csv(bad.path()).expect_err("bad hash");
        assert!(err.to_string().contains(":3: value:"), "{err}");
    }

    #[test]
    fn stix_file_comparisons_become_indicators() {
        let i = FileIndicator::from_stix(
            "file",
            "hashes.'SHA-256'",
            &"C".repeat(64),
            "b.json",
            "indicator--1",
            None,
        )
        .expect("sha256");
        assert_eq!((i.kind, i.value.as_str()), (FileIndicatorKind::Sha256, "c".repeat(64).as_str()));
        assert!(FileIndicator::from_stix("file", "hashes.MD5", "short", "b", "i", None).is_none());
        assert!(FileIndicator::from_stix("ipv4-addr", "value", "1.2.3.4", "b", "i", None).is_none());
    }
}

//! `hunt files`: files, directories and archives hashed, matched against file indicators
//! and scanned with YARA rules, in parallel; every file that could not be scanned is
//! reported with its reason.

pub(crate) mod indicators;
pub(crate) mod summary;
pub(crate) mod yara;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use md5::Digest as _;
use rayon::prelude::*;
use scrutineer_core::{Engine, Evidence, Finding, Severity};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::hits::HITS_CSV_HEADER;
use indicators::{FileIndicator, FileIndicatorKind, FileIndicators};
use yara::{YaraMatch, YaraRules, YaraScanner};

/// Files a finding lists as evidence; the count covers the rest.
const EVIDENCE_FILES: usize = 25;

/// The default of `--max-size`: larger files are skipped, with that reason.
pub const DEFAULT_MAX_SIZE: u64 = 256 * 1024 * 1024;

/// The version of the records of `matches.jsonl`; bumped when a field is added, removed
/// or changes meaning.
pub const MATCH_RECORD_VERSION: u32 = 1;

/// What a file scan runs.
#[derive(Debug, Clone, Copy)]
pub struct FileScanConfig<'a> {
    /// Hash, name and path indicators.
    pub indicators: &'a FileIndicators,
    /// Compiled YARA rules, if any.
    pub yara: Option<&'a YaraRules>,
    /// Files (and archive members) larger than this many bytes are skipped.
    pub max_size: u64,
    /// Whether zip and tar (plain or gzip) archives are opened and their members scanned
    /// (the archive itself is always scanned as a file).
    pub open_archives: bool,
}

/// A file (or archive member) that was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedFile {
    /// Its path; an archive member as `archive!member`.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// MD5 of its bytes, lower-case hex.
    pub md5: String,
    /// SHA-1, lower-case hex.
    pub sha1: String,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Whether it is a member of an archive.
    pub in_archive: bool,
}

/// Why a file was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The system refused to open or list it.
    Permission,
    /// Larger than `--max-size`.
    SizeLimit,
    /// Any other read error (a file that vanished, an I/O error).
    Unreadable,
    /// An archive, or a member of it, that could not be read (damaged, encrypted,
    /// unsupported compression).
    ArchiveMember,
    /// Not a regular file (a symbolic link, device, socket or pipe); links are not
    /// followed, so nothing is scanned twice or outside the given paths.
    NotRegular,
    /// yara-x stopped the scan (timeout or another scan error).
    ScanError,
}

impl SkipReason {
    /// The reason's name in `skipped.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Permission => "permission",
            SkipReason::SizeLimit => "size_limit",
            SkipReason::Unreadable => "unreadable",
            SkipReason::ArchiveMember => "archive_member",
            SkipReason::NotRegular => "not_regular",
            SkipReason::ScanError => "scan_error",
        }
    }
}

/// A file that was not scanned, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    /// Its path (an archive member as `archive!member`).
    pub path: String,
    /// Why.
    pub reason: SkipReason,
    /// What the system or the archive reader said.
    pub detail: String,
}

/// What matched a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MatchDetail {
    /// A YARA rule.
    Yara(YaraMatch),
    /// A file indicator.
    Indicator(FileIndicator),
}

/// One detection matching one scanned file: a row of `hits.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMatch {
    /// Index into [`FilesReport::scanned`].
    pub file: usize,
    /// The YARA rule's name or `ioc:<kind>:<value>`.
    pub rule: String,
    /// How serious the match is: high for a YARA rule or a hash, medium for a name or path.
    pub severity: Severity,
    /// What matched.
    pub detail: MatchDetail,
}

/// The outcome of a file scan.
#[derive(Debug, Clone, Default)]
pub struct FilesReport {
    /// Every file and archive member scanned, inputs in the order given, directories in
    /// name order, members after their archive.
    pub scanned: Vec<ScannedFile>,
    /// Every file not scanned, with its reason.
    pub skipped: Vec<SkippedFile>,
    /// Every match, by file.
    pub matches: Vec<FileMatch>,
    /// The matches grouped per rule and per indicator.
    pub findings: Vec<Finding>,
}

impl FilesReport {
    /// Bytes scanned (files and members).
    pub fn bytes(&self) -> u64 {
        self.scanned.iter().map(|f| f.bytes).sum()
    }

    /// Skipped files per reason.
    pub fn skipped_by_reason(&self) -> BTreeMap<SkipReason, usize> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.reason).or_default() += 1;
        }
        m
    }
}

/// Why the inputs could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum FileInputError {
    /// An input path does not exist.
    #[error("input {} does not exist", .0.display())]
    Missing(PathBuf),
}

/// A file to scan, or one already known to be skipped (an unreadable directory, a link).
enum Candidate {
    File(PathBuf),
    Skipped(SkippedFile),
}

fn io_reason(e: &std::io::Error) -> SkipReason {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        SkipReason::Permission
    } else {
        SkipReason::Unreadable
    }
}

fn skipped(path: &Path, reason: SkipReason, detail: impl Into<String>) -> Candidate {
    Candidate::Skipped(SkippedFile { path: path.display().to_string(), reason, detail: detail.into() })
}

fn collect(inputs: &[PathBuf]) -> Result<Vec<Candidate>, FileInputError> {
    fn walk(dir: &Path, out: &mut Vec<Candidate>) {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => {
                let mut v = Vec::new();
                for e in rd {
                    match e {
                        Ok(e) => v.push(e.path()),
                        Err(e) => {
                            out.push(skipped(dir, io_reason(&e), format!("listing the directory: {e}")))
                        }
                    }
                }
                v
            }
            Err(e) => {
                out.push(skipped(dir, io_reason(&e), format!("listing the directory: {e}")));
                return;
            }
        };
        entries.sort();
        for p in entries {
            visit(&p, out);
        }
    }
    fn visit(p: &Path, out: &mut Vec<Candidate>) {
        match std::fs::symlink_metadata(p) {
            Ok(md) if md.is_dir() => walk(p, out),
            Ok(md) if md.is_file() => out.push(Candidate::File(p.to_owned())),
            Ok(md) if md.file_type().is_symlink() => {
                out.push(skipped(p, SkipReason::NotRegular, "symbolic link (not followed)"))
            }
            Ok(_) => out.push(skipped(p, SkipReason::NotRegular, "not a regular file")),
            Err(e) => out.push(skipped(p, io_reason(&e), e.to_string())),
        }
    }
    let mut out = Vec::new();
    for input in inputs {
        // A link given by name is followed: the analyst chose it.
        match std::fs::metadata(input) {
            Ok(md) if md.is_dir() => walk(input, &mut out),
            Ok(md) if md.is_file() => out.push(Candidate::File(input.clone())),
            Ok(_) => out.push(skipped(input, SkipReason::NotRegular, "not a regular file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FileInputError::Missing(input.clone()));
            }
            Err(e) => out.push(skipped(input, io_reason(&e), e.to_string())),
        }
    }
    Ok(out)
}

/// What one input file gave.
#[derive(Default)]
struct Outcome {
    scanned: Vec<ScannedFile>,
    skipped: Vec<SkippedFile>,
    /// Matches with `file` an index into this outcome's `scanned`.
    matches: Vec<FileMatch>,
}

struct Worker<'a, 'r> {
    config: &'a FileScanConfig<'r>,
    yara: Option<YaraScanner<'r>>,
}

impl Worker<'_, '_> {
    fn skip(&self, out: &mut Outcome, path: String, reason: SkipReason, detail: String) {
        out.skipped.push(SkippedFile { path, reason, detail });
    }

    /// Hashes, matches and YARA-scans one file's bytes.
    /// `member` is an archive member's own path, which name and path indicators see.
    fn scan_bytes(&mut self, out: &mut Outcome, path: String, member: Option<&str>, data: &[u8]) {
        let md5 = hex::encode(md5::Md5::digest(data));
        let sha1 = hex::encode(sha1::Sha1::digest(data));
        let sha256 = hex::encode(sha2::Sha256::digest(data));
        let yara_matches = match self.yara.as_mut().map(|s| s.scan(data)) {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                // The hashes and indicators still count: the file was read.
                self.skip(out, path.clone(), SkipReason::ScanError, format!("YARA scan stopped: {e}"));
                Vec::new()
            }
            None => Vec::new(),
        };
        let file = out.scanned.len();
        for i in self.config.indicators.matches(member.unwrap_or(&path), &md5, &sha1, &sha256) {
            let ind = &self.config.indicators.list[i as usize];
            let severity = match ind.kind {
                FileIndicatorKind::Name | FileIndicatorKind::Path => Severity::Medium,
                _ => Severity::High,
            };
            out.matches.push(FileMatch {
                file,
                rule: ind.rule_name(),
                severity,
                detail: MatchDetail::Indicator(ind.clone()),
            });
        }
        for m in yara_matches {
            out.matches.push(FileMatch {
                file,
                rule: m.rule.clone(),
                severity: Severity::High,
                detail: MatchDetail::Yara(m),
            });
        }
        out.scanned.push(ScannedFile {
            path,
            bytes: data.len() as u64,
            md5,
            sha1,
            sha256,
            in_archive: member.is_some(),
        });
    }

    /// Reads at most `max_size` bytes of `r`; `Err(size)` when there is more.
    fn read_limited(&self, r: impl Read, size_hint: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
        let max = self.config.max_size;
        let mut data = Vec::with_capacity(size_hint.min(max) as usize);
        r.take(max.saturating_add(1)).read_to_end(&mut data)?;
        if data.len() as u64 > max {
            return Ok(Err(data.len() as u64));
        }
        Ok(Ok(data))
    }

    fn too_big(&self, size: u64) -> String {
        format!("{size} bytes or more, over the limit of {} bytes", self.config.max_size)
    }

    fn scan_file(&mut self, path: &Path) -> Outcome {
        let mut out = Outcome::default();
        let name = path.display().to_string();
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                self.skip(&mut out, name, io_reason(&e), e.to_string());
                return out;
            }
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if size > self.config.max_size {
            let detail = self.too_big(size);
            self.skip(&mut out, name, SkipReason::SizeLimit, detail);
            return out;
        }
        let data = match self.read_limited(file, size) {
            Ok(Ok(d)) => d,
            Ok(Err(n)) => {
                let detail = self.too_big(n);
                self.skip(&mut out, name, SkipReason::SizeLimit, detail);
                return out;
            }
            Err(e) => {
                self.skip(&mut out, name, io_reason(&e), e.to_string());
                return out;
            }
        };
        self.scan_bytes(&mut out, name.clone(), None, &data);
        if self.config.open_archives {
            match archive_kind(&name, &data) {
                Some(ArchiveKind::Zip) => self.scan_zip(&mut out, &name, &data),
                Some(ArchiveKind::Tar) => self.scan_tar(&mut out, &name, &data[..]),
                Some(ArchiveKind::TarGz) => {
                    self.scan_tar(&mut out, &name, flate2::read::GzDecoder::new(&data[..]))
                }
                None => {}
            }
        }
        out
    }

    fn scan_zip(&mut self, out: &mut Outcome, name: &str, data: &[u8]) {
        let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(data)) {
            Ok(a) => a,
            Err(e) => {
                self.skip(
                    out,
                    format!("{name}!"),
                    SkipReason::ArchiveMember,
                    format!("cannot read the zip archive: {e}"),
                );
                return;
            }
        };
        for i in 0..archive.len() {
            let label = archive
                .name_for_index(i)
                .and_then(Result::ok)
                .map(|n| n.into_owned())
                .unwrap_or_else(|| format!("#{i}"));
            let member = match archive.by_index(i) {
                Ok(m) => m,
                Err(e) => {
                    self.skip(out, format!("{name}!{label}"), SkipReason::ArchiveMember, e.to_string());
                    continue;
                }
            };
            if member.is_dir() {
                continue;
            }
            let inner = String::from_utf8_lossy(member.name_raw()).into_owned();
            let path = format!("{name}!{inner}");
            if member.is_symlink() {
                self.skip(out, path, SkipReason::NotRegular, "symbolic link in the archive".into());
                continue;
            }
            let size = member.size();
            if size > self.config.max_size {
                let detail = self.too_big(size);
                self.skip(out, path, SkipReason::SizeLimit, detail);
                continue;
            }
            match self.read_limited(member, size) {
                Ok(Ok(d)) => self.scan_bytes(out, path, Some(&inner), &d),
                Ok(Err(n)) => {
                    let detail = self.too_big(n);
                    self.skip(out, path, SkipReason::SizeLimit, detail)
                }
                Err(e) => self.skip(out, path, SkipReason::ArchiveMember, e.to_string()),
            }
        }
    }

    fn scan_tar(&mut self, out: &mut Outcome, name: &str, reader: impl Read) {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.skip(
                    out,
                    format!("{name}!"),
                    SkipReason::ArchiveMember,
                    format!("cannot read the tar archive: {e}"),
                );
                return;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // A damaged stream: nothing after this point can be found.
                    self.skip(
                        out,
                        format!("{name}!"),
                        SkipReason::ArchiveMember,
                        format!("the tar archive is damaged after {} member(s): {e}", out.scanned.len() - 1),
                    );
                    return;
                }
            };
            let inner = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = format!("{name}!{inner}");
            let kind = entry.header().entry_type();
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            if !kind.is_file() {
                self.skip(out, path, SkipReason::NotRegular, "link or special file in the archive".into());
                continue;
            }
            let size = entry.size();
            if size > self.config.max_size {
                let detail = self.too_big(size);
                self.skip(out, path, SkipReason::SizeLimit, detail);
                continue;
            }
            match self.read_limited(entry, size) {
                Ok(Ok(d)) => self.scan_bytes(out, path, Some(&inner), &d),
                Ok(Err(n)) => {
                    let detail = self.too_big(n);
                    self.skip(out, path, SkipReason::SizeLimit, detail)
                }
                Err(e) => {
                    self.skip(out, path, SkipReason::ArchiveMember, e.to_string());
                    return;
                }
            }
        }
    }
}

enum ArchiveKind {
    Zip,
    Tar,
    TarGz,
}

/// Zip files by their signature (so `.docx`, `.jar` and renamed archives are opened too);
/// tar by its `ustar` magic; gzip-compressed tar by its signature and a `.tar.gz`/`.tgz` name.
fn archive_kind(name: &str, data: &[u8]) -> Option<ArchiveKind> {
    let lower = name.to_ascii_lowercase();
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(ArchiveKind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b]) && (lower.ends_with(".tar.gz") || lower.ends_with(".tgz")) {
        Some(ArchiveKind::TarGz)
    } else if data.get(257..262) == Some(b"ustar") {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

/// Scans `inputs` (files, and directories searched recursively in name order; symbolic
/// links inside them not followed) with `config`, files in parallel.
pub fn scan_files(inputs: &[PathBuf], config: &FileScanConfig<'_>) -> Result<FilesReport, FileInputError> {
    let candidates = collect(inputs)?;
    let outcomes: Vec<Outcome> = candidates
        .par_iter()
        .map_init(
            || Worker { config, yara: config.yara.map(|r| r.scanner()) },
            |worker, c| match c {
                Candidate::File(p) => worker.scan_file(p),
                Candidate::Skipped(s) => Outcome { skipped: vec![s.clone()], ..Outcome::default() },
            },
        )
        .collect();
    let mut report = FilesReport::default();
    for o in outcomes {
        let base = report.scanned.len();
        report.scanned.extend(o.scanned);
        report.skipped.extend(o.skipped);
        report.matches.extend(o.matches.into_iter().map(|mut m| {
            m.file += base;
            m
        }));
    }
    report.findings = findings(&report);
    Ok(report)
}

fn findings(report: &FilesReport) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, &str), Vec<&FileMatch>> = BTreeMap::new();
    for m in &report.matches {
        let ns = match &m.detail {
            MatchDetail::Yara(y) => y.namespace.as_str(),
            MatchDetail::Indicator(_) => "ioc",
        };
        groups.entry((m.rule.clone(), ns)).or_default().push(m);
    }
    let mut out = Vec::new();
    for ((rule, ns), matches) in groups {
        let n = matches.len();
        let (kind, title, confidence) = match &matches[0].detail {
            MatchDetail::Yara(_) => ("yara_rule", format!("YARA rule {rule} matched {n} file(s)"), 0.7),
            MatchDetail::Indicator(ind) => {
                let what = if ind.description.is_empty() {
                    ind.source.clone()
                } else {
                    format!("{} ({})", ind.description, ind.source)
                };
                (
                    "file_indicator",
                    format!("{} indicator {} of {what} found in {n} file(s)", ind.kind.as_str(), ind.value),
                    0.9,
                )
            }
        };
        let severity = matches.iter().map(|m| m.severity).max().unwrap_or(Severity::Info);
        let mut f = Finding::new(Engine::Hunt, kind, &format!("{ns}|{rule}"), title)
            .summary(format!("{n} scanned file(s) matched {rule}"))
            .severity(severity)
            .confidence(confidence);
        for m in matches.iter().take(EVIDENCE_FILES) {
            let file = &report.scanned[m.file];
            let patterns = match &m.detail {
                MatchDetail::Yara(y) => y.patterns.clone(),
                MatchDetail::Indicator(_) => Vec::new(),
            };
            f = f.evidence(Evidence::new(
                "file",
                format!("{} matched {rule}", file.path),
                json!({"file": file.path, "bytes": file.bytes, "md5": file.md5, "sha1": file.sha1, "sha256": file.sha256, "patterns": patterns}),
            ));
        }
        if n > EVIDENCE_FILES {
            f = f.evidence(Evidence::new(
                "more_files",
                format!("{} more matching files are listed in hits.csv", n - EVIDENCE_FILES),
                json!({"files": n}),
            ));
        }
        out.push(f);
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.title.cmp(&b.title)));
    out
}

/// Writes the matches as `hits.csv` rows (the header `hunt evtx` writes): `record` and
/// `technique` empty, `source` the file's SHA-256.
pub fn write_file_hits_csv<W: Write>(out: W, report: &FilesReport) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HITS_CSV_HEADER)?;
    for m in &report.matches {
        let f = &report.scanned[m.file];
        w.write_record([f.path.as_str(), "", &m.rule, &f.sha256, "", m.severity.as_str()])?;
    }
    w.flush()?;
    Ok(())
}

/// The header of `hashes.csv`.
pub const HASHES_CSV_HEADER: [&str; 5] = ["file", "bytes", "md5", "sha1", "sha256"];

/// Writes every scanned file's hashes: `file,bytes,md5,sha1,sha256`.
pub fn write_hashes_csv<W: Write>(out: W, report: &FilesReport) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HASHES_CSV_HEADER)?;
    for f in &report.scanned {
        w.write_record([f.path.as_str(), &f.bytes.to_string(), &f.md5, &f.sha1, &f.sha256])?;
    }
    w.flush()?;
    Ok(())
}

/// The header of `skipped.csv`.
pub const SKIPPED_CSV_HEADER: [&str; 3] = ["file", "reason", "detail"];

/// Writes every skipped file: `file,reason,detail`.
pub fn write_skipped_csv<W: Write>(out: W, report: &FilesReport) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(SKIPPED_CSV_HEADER)?;
    for s in &report.skipped {
        w.write_record([s.path.as_str(), s.reason.as_str(), &s.detail])?;
    }
    w.flush()?;
    Ok(())
}

/// One line of `matches.jsonl`: a match with the file's hashes, typed and versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchRecord {
    /// [`MATCH_RECORD_VERSION`].
    pub version: u32,
    /// The file matched.
    pub file: ScannedFile,
    /// The YARA rule's name or `ioc:<kind>:<value>`.
    pub rule: String,
    /// How serious the match is.
    pub severity: Severity,
    /// What matched.
    pub detail: MatchDetail,
}

/// Writes every match as a [`MatchRecord`], one JSON object a line.
pub fn write_matches_jsonl<W: Write>(mut out: W, report: &FilesReport) -> std::io::Result<()> {
    for m in &report.matches {
        let rec = MatchRecord {
            version: MATCH_RECORD_VERSION,
            file: report.scanned[m.file].clone(),
            rule: m.rule.clone(),
            severity: m.severity,
            detail: m.detail.clone(),
        };
        serde_json::to_writer(&mut out, &rec)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Reads a size such as `1048576`, `64K`, `100M`, `2G` (binary multiples, `B`/`iB`
/// suffixes accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 1 << 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 1 << 30),
        Some('t' | 'T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: u64 =
        num.trim().parse().map_err(|_| format!("'{s}' is not a size (such as 1048576, 64K, 100M, 2G)"))?;
    n.checked_mul(mult).ok_or_else(|| format!("'{s}' is too large"))
}

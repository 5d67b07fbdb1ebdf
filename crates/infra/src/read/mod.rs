//! Readers: every supported log format to [`Event`]s, streaming, plain, gzip or zstd.
//!
//! Reading is split in two. A sequential *framer* cuts the input into records (a line,
//! or a whole request for raw HTTP dumps) and tracks the little state some formats carry
//! (IIS `#Fields:` directives); records are then parsed and analysed in parallel with
//! rayon, a batch at a time, and handed back in input order. Memory holds one batch.

mod auth;
mod clf;
mod http;
mod iis;
mod json;
mod zeek;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rayon::prelude::*;

use crate::event::Event;

pub use auth::parse_auth_line;
pub use clf::parse_clf_line;
pub use http::{is_request_line, parse_http_request};
pub use iis::{IisFields, parse_iis_line};
pub use json::{parse_eve_line, parse_nginx_json_line};
pub use zeek::{ZeekHeader, looks_like_zeek_json, parse_zeek_json_line, parse_zeek_tsv_line};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Sniff the format from the first non-empty line.
    Auto,
    /// Apache/nginx combined or common log format, with or without a leading virtual
    /// host, trailing response time, or an extra pair of quotes around each line.
    Combined,
    /// nginx `log_format ... escape=json` lines (one JSON object per line).
    NginxJson,
    /// IIS W3C extended log format (`#Fields:` directive).
    Iis,
    /// Suricata EVE JSON (alert, http, dns, tls, flow and other event types).
    Eve,
    /// Linux auth/secure logs (syslog lines; sshd logins are recognised).
    Auth,
    /// Raw HTTP request dumps: request line, headers, blank line, body (CSIC 2010).
    Http,
    /// Zeek tab-separated logs (`#fields` header directives): conn, dns, http, ssl,
    /// x509, files, notice, weird, smtp, rdp, ssh and any other log.
    Zeek,
    /// Zeek JSON logs (one object per line), the same logs as [`Format::Zeek`].
    ZeekJson,
}

impl Format {
    /// The names `--format` accepts, for messages.
    pub const NAMES: &'static str =
        "auto, combined, common, nginx-json, iis, eve, auth, http, zeek, zeek-json";

    /// The format's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Combined => "combined",
            Format::NginxJson => "nginx-json",
            Format::Iis => "iis",
            Format::Eve => "eve",
            Format::Auth => "auth",
            Format::Http => "http",
            Format::Zeek => "zeek",
            Format::ZeekJson => "zeek-json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::NAMES`].
#[derive(Debug, thiserror::Error)]
#[error("unknown log format '{0}' (expected one of: {names})", names = Format::NAMES)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "combined" | "common" | "clf" | "apache" | "nginx" | "vhost" | "vhost-combined" => {
                Format::Combined
            }
            "nginx-json" | "json" => Format::NginxJson,
            "iis" | "w3c" => Format::Iis,
            "eve" | "suricata" | "eve-json" => Format::Eve,
            "auth" | "syslog" | "sshd" => Format::Auth,
            "http" | "raw-http" | "raw" | "csic" => Format::Http,
            "zeek" | "zeek-tsv" | "bro" => Format::Zeek,
            "zeek-json" | "bro-json" => Format::ZeekJson,
            _ => return Err(UnknownFormat(s.to_owned())),
        })
    }
}

/// Errors that stop a whole input (a bad line never does).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The input could not be opened or read (or a consumer's write failed).
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system reported.
        source: std::io::Error,
    },
    #[error("{path}: could not recognise the log format from its first lines; pass --format ({names})", names = Format::NAMES)]
    /// `--format auto` could not tell the format.
    Undetected {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be opened or decoded (compression, stdin).
    #[error(transparent)]
    Input(#[from] scrutineer_core::input::InputError),
}

/// Options shared by every reader.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The input's format, or [`Format::Auto`].
    pub format: Format,
    /// The office the input's events are placed at.
    pub jurisdiction: Arc<str>,
    /// Year for syslog timestamps, which carry none.
    pub year: i32,
    /// Bytes read per step (a batch holds about this much input).
    pub chunk: usize,
    /// Longest line read; a longer one is one malformed record ([`LONG_LINE`]), never
    /// held whole nor split.
    pub max_line: usize,
}

impl ReadOptions {
    /// Defaults: this year for syslog, 4 MiB steps, the workspace's line limit.
    pub fn new(format: Format, jurisdiction: &str) -> ReadOptions {
        use chrono::Datelike;
        ReadOptions {
            format,
            jurisdiction: Arc::from(jurisdiction),
            year: chrono::Utc::now().year(),
            chunk: 4 << 20,
            max_line: scrutineer_core::lines::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// One record of the input: its first line number (1-based) and what it parsed to.
pub struct Parsed<T> {
    /// First line of the record, 1-based.
    pub line: u64,
    /// The record, or why it is malformed.
    pub result: Result<T, &'static str>,
}

/// What a read saw, for the summary line.
#[derive(Debug, Clone, Default)]
pub struct ReadStats {
    /// The format read (as detected, with `auto`).
    pub format: Option<Format>,
    /// Records read, malformed ones included.
    pub records: u64,
    /// Records that could not be parsed.
    pub malformed: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// The input ended in a read error (a truncated or corrupt gzip member): every
    /// complete record before it was read. Holds the error and the line it came after.
    pub truncated: Option<Truncation>,
}

/// Where and why an input stopped early.
#[derive(Debug, Clone)]
pub struct Truncation {
    /// The first line that was not read.
    pub line: u64,
    /// What the reader reported.
    pub error: String,
}

/// The reason given for a line longer than [`ReadOptions::max_line`].
pub const LONG_LINE: &str = "line longer than --max-line-bytes, not read";

/// Read errors that mean the data itself ends early or is damaged (flate2 reports a cut
/// gzip member as an unexpected end of file, bad deflate data as invalid input or data),
/// as opposed to a failing disk or a vanished file, which stop the run.
fn is_damage(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::InvalidData
            | std::io::ErrorKind::InvalidInput
    )
}

/// Opens a file, transparently decompressing gzip or zstd (by magic number, not by name;
/// see [`scrutineer_core::input`]).
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, ReadError> {
    Ok(Box::new(scrutineer_core::input::open(path)?))
}

/// Guesses the format from a sample of the input's first bytes.
pub fn sniff(sample: &[u8]) -> Option<Format> {
    let line = sample.split(|&b| b == b'\n').map(trim_cr).find(|l| !l.iter().all(u8::is_ascii_whitespace))?;
    let l = trim_ascii_start(line);
    if l.starts_with(b"{") {
        return Some(if memchr::memmem::find(l, b"\"event_type\"").is_some() {
            Format::Eve
        } else if looks_like_zeek_json(l) {
            Format::ZeekJson
        } else {
            Format::NginxJson
        });
    }
    if l.starts_with(b"#separator") || l.starts_with(b"#fields\t") || l.starts_with(b"#path\t") {
        return Some(Format::Zeek);
    }
    if l.starts_with(b"#Software")
        || l.starts_with(b"#Version")
        || l.starts_with(b"#Fields")
        || l.starts_with(b"#Date")
    {
        return Some(Format::Iis);
    }
    if is_request_line(l) {
        return Some(Format::Http);
    }
    if parse_clf_line(l, &Arc::from("")).is_ok() {
        return Some(Format::Combined);
    }
    if parse_auth_line(l, 2000, &Arc::from("")).is_ok() {
        return Some(Format::Auth);
    }
    None
}

pub(crate) fn trim_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

pub(crate) fn trim_ascii_start(mut l: &[u8]) -> &[u8] {
    while let [b, rest @ ..] = l {
        if b.is_ascii_whitespace() {
            l = rest;
        } else {
            break;
        }
    }
    l
}

/// A record cut by the framer: its first line and its byte range in the batch buffer.
struct Rec {
    line: u64,
    start: usize,
    end: usize,
    /// Index into the batch's IIS field lists or Zeek headers (IIS and Zeek only).
    fields: u32,
}

/// Reads `path`, calling `analyse` on every parsed event in parallel and `sink` on each
/// batch of results in input order; `progress` hears how many bytes (after
/// decompression) each read added. Returns what was read.
pub fn read_file<T, A, S>(
    path: &Path,
    opts: &ReadOptions,
    progress: &dyn Fn(u64),
    analyse: A,
    sink: S,
) -> Result<ReadStats, ReadError>
where
    T: Send,
    A: Fn(Event) -> T + Sync,
    S: FnMut(Vec<Parsed<T>>) -> Result<(), ReadError> + Send,
{
    let input = open(path)?;
    read_stream(input, path, opts, progress, analyse, sink)
}

/// [`read_file`] on any byte stream (already decompressed); `path` names it in errors.
/// A read error that means damaged data ends the input as if it ended there (see
/// [`ReadStats::truncated`]); any other read error is returned.
pub fn read_stream<T, A, S, R>(
    input: R,
    path: &Path,
    opts: &ReadOptions,
    progress: &dyn Fn(u64),
    analyse: A,
    mut sink: S,
) -> Result<ReadStats, ReadError>
where
    T: Send,
    A: Fn(Event) -> T + Sync,
    S: FnMut(Vec<Parsed<T>>) -> Result<(), ReadError> + Send,
    R: Read,
{
    // The previous batch goes to `sink` while the current one is parsed, so that the
    // sequential consumer overlaps the parallel parse.
    let mut pending: Option<Vec<Parsed<T>>> = None;
    let io = |source| ReadError::Io { path: path.to_owned(), source };
    // Lines are bounded before framing, so the framer can always wait for a newline and
    // a long line stays one record with its true line number.
    let mut input = scrutineer_core::lines::LineLimit::new(input, opts.max_line);
    let cut_lines = input.cut_lines();
    let max_record = opts.max_line.max(1024);
    let step = opts.chunk.max(64);
    let mut buf: Vec<u8> = Vec::with_capacity(step);
    let mut chunk = vec![0u8; step];
    let mut stats = ReadStats::default();
    let mut format = opts.format;
    let mut next_line: u64 = 1;
    let mut eof = false;
    let mut iis_fields: Vec<Arc<IisFields>> = vec![Arc::new(IisFields::default_fields())];
    let mut zeek_headers: Vec<Arc<ZeekHeader>> = vec![Arc::new(ZeekHeader::default())];
    while !eof {
        let n = loop {
            match input.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if is_damage(&e) => {
                    // Complete lines before the damage are framed below; an unfinished
                    // last line is part of the damage.
                    let complete = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
                    let lost = buf.len() - complete;
                    buf.truncate(complete);
                    let lost_line = next_line + buf.iter().filter(|&&b| b == b'\n').count() as u64;
                    stats.truncated = Some(Truncation {
                        line: lost_line,
                        error: format!("{e} ({lost} bytes of an unfinished line dropped)"),
                    });
                    break 0;
                }
                Err(e) => return Err(io(e)),
            }
        };
        stats.bytes += n as u64;
        progress(n as u64);
        if n == 0 {
            eof = true;
        } else {
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() < step / 2 && !eof {
                continue;
            }
        }
        if format == Format::Auto {
            if buf.is_empty() && eof {
                break;
            }
            match sniff(&buf[..buf.len().min(64 << 10)]) {
                Some(f) => format = f,
                None if eof || buf.len() > (1 << 20) => {
                    return Err(ReadError::Undetected { path: path.to_owned() });
                }
                None => continue,
            }
        }
        // Frame the complete lines of the buffer.
        let complete = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None => continue,
            }
        };
        let mut recs: Vec<Rec> = Vec::new();
        let consumed = if format == Format::Http {
            frame_http(&buf[..complete], eof, max_record, &mut next_line, &mut recs)
        } else {
            let layouts = Layouts { iis: &mut iis_fields, zeek: &mut zeek_headers };
            frame_lines(&buf[..complete], format, &mut next_line, layouts, &mut recs);
            complete
        };
        stats.records += recs.len() as u64;
        let jur = &opts.jurisdiction;
        let year = opts.year;
        let fields = &iis_fields;
        let headers = &zeek_headers;
        let data = &buf;
        let any_cut = cut_lines.load(std::sync::atomic::Ordering::Relaxed) > 0;
        let parse = || -> Vec<Parsed<T>> {
            recs.par_iter()
                .with_min_len(256)
                .map(|r| {
                    let bytes = &data[r.start..r.end];
                    let parsed = if any_cut && scrutineer_core::lines::long_line(bytes).is_some() {
                        Err(LONG_LINE)
                    } else if r.end - r.start > max_record {
                        Err("request longer than --max-line-bytes, not read")
                    } else {
                        match format {
                            Format::Combined => parse_clf_line(bytes, jur),
                            Format::NginxJson => parse_nginx_json_line(bytes, jur),
                            Format::Iis => {
                                let f = fields.get(r.fields as usize).map(|f| f.as_ref());
                                match f {
                                    Some(f) => parse_iis_line(bytes, f, jur),
                                    None => Err("no #Fields directive"),
                                }
                            }
                            Format::Eve => parse_eve_line(bytes, jur),
                            Format::Auth => parse_auth_line(bytes, year, jur),
                            Format::Http => parse_http_request(bytes, jur),
                            Format::Zeek => match headers.get(r.fields as usize) {
                                Some(h) => parse_zeek_tsv_line(bytes, h, jur),
                                None => Err("no #fields header before this line"),
                            },
                            Format::ZeekJson => parse_zeek_json_line(bytes, jur),
                            Format::Auto => Err("format not detected"),
                        }
                    };
                    Parsed { line: r.line, result: parsed.map(&analyse) }
                })
                .collect()
        };
        let out = match pending.take() {
            Some(prev) => {
                let (out, sunk) = rayon::join(parse, || sink(prev));
                sunk?;
                out
            }
            None => parse(),
        };
        stats.malformed += out.iter().filter(|p| p.result.is_err()).count() as u64;
        pending = Some(out);
        buf.drain(..consumed);
        if format == Format::Iis {
            // Field lists before the current one are no longer referenced.
            let last = iis_fields.last().cloned();
            iis_fields.clear();
            iis_fields.extend(last);
        }
        if format == Format::Zeek {
            let last = zeek_headers.last().cloned();
            zeek_headers.clear();
            zeek_headers.extend(last);
        }
    }
    if let Some(last) = pending.take() {
        sink(last)?;
    }
    stats.format = Some(format);
    Ok(stats)
}

/// The column layouts header directives announce, the last one current.
struct Layouts<'a> {
    iis: &'a mut Vec<Arc<IisFields>>,
    zeek: &'a mut Vec<Arc<ZeekHeader>>,
}

/// Cuts `data` (whole lines) into one record per non-empty line; IIS and Zeek header
/// directives change the layout of the lines after them and are not records.
fn frame_lines(data: &[u8], format: Format, next_line: &mut u64, layouts: Layouts<'_>, recs: &mut Vec<Rec>) {
    let Layouts { iis, zeek } = layouts;
    let mut pos = 0;
    while pos < data.len() {
        let end = memchr::memchr(b'\n', &data[pos..]).map(|i| pos + i).unwrap_or(data.len());
        let line = trim_cr(&data[pos..end]);
        let line_no = *next_line;
        *next_line += 1;
        if !line.iter().all(u8::is_ascii_whitespace) {
            if format == Format::Iis && line.first() == Some(&b'#') {
                if let Some(f) = IisFields::from_directive(line) {
                    iis.push(Arc::new(f));
                }
            } else if format == Format::Zeek && line.first() == Some(&b'#') {
                let mut next = zeek.last().map(|h| ZeekHeader::clone(h)).unwrap_or_default();
                if next.apply(line) {
                    zeek.push(Arc::new(next));
                }
            } else {
                let layout = if format == Format::Zeek { zeek.len() } else { iis.len() };
                recs.push(Rec {
                    line: line_no,
                    start: pos,
                    end: pos + line.len(),
                    fields: (layout - 1) as u32,
                });
            }
        }
        pos = end + 1;
    }
}

/// Cuts raw HTTP dumps into requests: a request starts at a request line at the start of
/// input or after a blank line; everything up to the next such line belongs to it. Lines
/// before the first request form one (malformed) record. Returns how many bytes were
/// consumed: the unfinished last request stays in the buffer unless `eof`.
fn frame_http(data: &[u8], eof: bool, max_record: usize, next_line: &mut u64, recs: &mut Vec<Rec>) -> usize {
    let mut pos = 0;
    let mut line_no = *next_line;
    // (first line, start, end of last non-blank line, is a request)
    let mut open: Option<(u64, usize, usize, bool)> = None;
    let mut prev_blank = true;
    while pos < data.len() {
        let end = memchr::memchr(b'\n', &data[pos..]).map(|i| pos + i).unwrap_or(data.len());
        let line = trim_cr(&data[pos..end]);
        let blank = line.iter().all(u8::is_ascii_whitespace);
        let open_is_request = matches!(open, Some((_, _, _, true)));
        if (prev_blank || !open_is_request) && is_request_line(line) {
            if let Some((l, s, e, _)) = open.take() {
                recs.push(Rec { line: l, start: s, end: e, fields: 0 });
            }
            open = Some((line_no, pos, pos + line.len(), true));
        } else if !blank {
            match &mut open {
                Some((_, _, e, _)) => *e = pos + line.len(),
                None => open = Some((line_no, pos, pos + line.len(), false)),
            }
        }
        prev_blank = blank;
        line_no += 1;
        pos = end + 1;
    }
    match open {
        Some((l, s, _, _)) if !eof && data.len() - s <= max_record => {
            *next_line = l;
            s
        }
        Some((l, s, e, _)) => {
            recs.push(Rec { line: l, start: s, end: e, fields: 0 });
            *next_line = line_no;
            data.len()
        }
        None => {
            *next_line = line_no;
            data.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    type Records = Vec<(u64, Result<Event, &'static str>)>;

    fn read_all(content: &[u8], format: Format) -> (Records, ReadStats) {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        f.write_all(content).expect("write");
        let mut out = Vec::new();
        let stats = read_file(
            f.path(),
            &ReadOptions::new(format, "j"),
            &|_| {},
            |e| e,
            |batch| {
                out.extend(batch.into_iter().map(|p| (p.line, p.result)));
                Ok(())
            },
        )
        .expect("read");
        (out, stats)
    }

    #[test]
    fn raw_http_requests_are_framed_with_bodies() {
        let dump = b"GET http://h/a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n\r\nPOST http://h/b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nx=2\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n";
        let (recs, stats) = read_all(dump, Format::Auto);
        assert_eq!(stats.format, Some(Format::Http));
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].0, 1);
        assert_eq!(recs[1].0, 5);
        let post = recs[1].1.as_ref().expect("parsed");
        assert_eq!(post.method.as_deref(), Some("POST"));
        assert_eq!(post.body.as_deref(), Some("x=2"));
        assert_eq!(recs[2].1.as_ref().expect("parsed").path(), Some("/c"));
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5\n").expect("gz");
        let gz = enc.finish().expect("gz");
        let (recs, stats) = read_all(&gz, Format::Auto);
        assert_eq!(stats.format, Some(Format::Combined));
        assert_eq!(recs.len(), 1);
        assert!(recs[0].1.is_ok());
    }

    #[test]
    fn malformed_lines_are_counted_with_line_numbers() {
        let log = b"1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5\ngarbage here\n\n\x00\xff\xfe\n1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET /x HTTP/1.1\" 404 -\n";
        let (recs, stats) = read_all(log, Format::Combined);
        assert_eq!(recs.len(), 4);
        assert_eq!(stats.malformed, 2);
        assert_eq!(recs[1].0, 2);
        assert!(recs[1].1.is_err());
        assert_eq!(recs[2].0, 4);
        assert_eq!(recs[3].0, 5);
    }

    #[test]
    fn requests_split_across_small_reads_stay_whole() {
        let mut dump = Vec::new();
        for i in 0..500 {
            write!(dump, "POST http://h/p{i} HTTP/1.1\r\nHost: h\r\n\r\nx={i}\r\n\r\n").expect("write");
        }
        let mut opts = ReadOptions::new(Format::Http, "j");
        opts.chunk = 700;
        let mut got = Vec::new();
        read_stream(
            &dump[..],
            Path::new("t"),
            &opts,
            &|_| {},
            |e| e,
            |batch| {
                got.extend(batch.into_iter().map(|p| (p.line, p.result)));
                Ok(())
            },
        )
        .expect("read");
        assert_eq!(got.len(), 500);
        for (i, (line, r)) in got.iter().enumerate() {
            assert_eq!(*line, 5 * i as u64 + 1);
            let e = r.as_ref().expect("parsed");
            assert_eq!(e.path(), Some(format!("/p{i}").as_str()));
            assert_eq!(e.body.as_deref(), Some(format!("x={i}").as_str()));
        }
    }

    #[test]
    fn many_batches_keep_order_and_line_numbers() {
        let mut log = Vec::new();
        for i in 0..200_000 {
            writeln!(
                log,
                "10.0.{}.{} - - [17/May/2015:10:05:03 +0000] \"GET /p{i} HTTP/1.1\" 200 5",
                i % 200,
                i % 250
            )
            .expect("write");
        }
        let (recs, _) = read_all(&log, Format::Combined);
        assert_eq!(recs.len(), 200_000);
        for (i, (line, r)) in recs.iter().enumerate() {
            assert_eq!(*line, i as u64 + 1);
            assert_eq!(r.as_ref().expect("ok").path(), Some(format!("/p{i}").as_str()));
        }
    }
}

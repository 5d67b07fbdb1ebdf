//! What every reader of line-based input shares: a bound on line length, and the policy
//! that fails a run when too many records were malformed.
//!
//! [`LineLimit`] sits between an input (after decompression) and a reader. Lines up to
//! the limit pass through unchanged; a longer line is never held in memory whole: it is
//! replaced, in place, by one short marker line that names its length and quotes its
//! first bytes, so that the reader's line numbers stay true and the reader reports the
//! line as malformed ([`long_line`]) instead of buffering hundreds of megabytes.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::text::{ECHO_BYTES, echo};

/// The default `--max-line-bytes`: 16 MiB. The longest legitimate lines we read are
/// tweet objects with their quoted and retweeted tweets and users (tens of KiB) and
/// nginx JSON lines with long query strings (a few KiB); 16 MiB leaves room for a
/// thousand times that, and a reader holding a few such lines stays far below a
/// laptop's memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// The default `--max-malformed`: 1% of the records. Clean exports have none, and the
/// real inputs we evaluate on stay below 0.1%; a file where one record in a hundred
/// cannot be read is more likely the wrong format, a corrupt archive or a broken
/// export than data to draw conclusions from.
pub const DEFAULT_MAX_MALFORMED: f64 = 0.01;

/// Starts the marker line that replaces an over-long line. The NUL bytes keep it from
/// being mistaken for data: no text format we read holds NUL.
pub const LONG_LINE_MARK: &[u8] = b"\0\0line-too-long:";

const CHUNK: usize = 256 * 1024;

/// A line that was longer than the limit and was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongLine {
    /// Its length in bytes (without the newline).
    pub bytes: u64,
    /// The limit it broke.
    pub limit: u64,
    /// Its first bytes, escaped ([`echo`]).
    pub starts: String,
}

impl LongLine {
    /// A one-line reason for a skip report.
    pub fn reason(&self) -> String {
        format!(
            "line of {} bytes is longer than the limit of {} bytes (--max-line-bytes) and was not read; it starts '{}'",
            self.bytes, self.limit, self.starts
        )
    }
}

/// The over-long line whose marker `record` holds, if any.
pub fn long_line(record: &[u8]) -> Option<LongLine> {
    let at = memchr::memmem::find(record, LONG_LINE_MARK)?;
    let rest = &record[at + LONG_LINE_MARK.len()..];
    let end = memchr::memchr(0, rest).unwrap_or(rest.len());
    let body = std::str::from_utf8(&rest[..end]).ok()?;
    let mut parts = body.splitn(3, ':');
    let bytes = parts.next()?.parse().ok()?;
    let limit = parts.next()?.parse().ok()?;
    let starts = parts.next().unwrap_or("").to_owned();
    Some(LongLine { bytes, limit, starts })
}

/// A [`BufRead`] over `inner` in which no line is longer than `max` bytes: each longer
/// line is replaced by a marker line (see the module documentation). It holds at most
/// `max` bytes plus one read of the input.
pub struct LineLimit<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
    /// `buf[pos..ready]` is handed out; `buf[ready..]` is a line not yet complete.
    pos: usize,
    ready: usize,
    eof: bool,
    /// Input read past the end of a cut line, handed out next.
    pending: Vec<u8>,
    /// Newlines seen so far (the line number of the open line, less one).
    newlines: u64,
    /// Fail with an error at a long line instead of replacing it.
    strict: bool,
    cut: Arc<AtomicU64>,
}

impl<R: Read> LineLimit<R> {
    /// Bounds the lines of `inner` to `max` bytes (at least 1 KiB).
    pub fn new(inner: R, max: usize) -> LineLimit<R> {
        LineLimit {
            inner,
            max: max.max(1024),
            buf: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            ready: 0,
            eof: false,
            pending: Vec::new(),
            newlines: 0,
            strict: false,
            cut: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Like [`LineLimit::new`], but a line longer than `max` is a read error of kind
    /// `InvalidData` naming its line number, for readers that stop at the first bad record.
    pub fn strict(inner: R, max: usize) -> LineLimit<R> {
        LineLimit { strict: true, ..LineLimit::new(inner, max) }
    }

    fn too_long(&self, line: u64, bytes: u64) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("line {line} is longer than the limit of {} bytes ({bytes} bytes or more)", self.max),
        )
    }

    /// How many lines have been replaced so far; shared, so that a reader on another
    /// thread can skip looking for markers while it is 0.
    pub fn cut_lines(&self) -> Arc<AtomicU64> {
        self.cut.clone()
    }

    /// Appends the next bytes of the input (first any held back by a cut) to `buf`.
    fn read_some(&mut self) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.buf.append(&mut self.pending);
            return Ok(n);
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.inner.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(old + n);
        Ok(n)
    }

    fn marker(&self, line: &[u8], bytes: u64) -> Vec<u8> {
        // No quote in the marker: it could open a quoted field in a CSV reader.
        let starts = echo(&line[..line.len().min(ECHO_BYTES)]).replace('"', "\\x22");
        let mut m = LONG_LINE_MARK.to_vec();
        m.extend_from_slice(format!("{bytes}:{}:{starts}", self.max).as_bytes());
        m.push(0);
        m
    }

    /// The open line `buf[start..]` is longer than the limit: replaces it by a marker and
    /// skips the input to its end, keeping what follows for the next read.
    fn cut_open_line(&mut self, start: usize) -> io::Result<()> {
        if self.strict {
            return Err(self.too_long(self.newlines + 1, (self.buf.len() - start) as u64));
        }
        let head_end = self.buf.len().min(start + ECHO_BYTES);
        let head = self.buf[start..head_end].to_vec();
        let mut total = (self.buf.len() - start) as u64;
        self.buf.truncate(start);
        let mut scratch = vec![0u8; CHUNK];
        loop {
            let n = loop {
                match self.inner.read(&mut scratch) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                self.eof = true;
                break;
            }
            if let Some(i) = memchr::memchr(b'\n', &scratch[..n]) {
                // A CR before the newline is the line ending, not the line.
                let end = if i > 0 && scratch[i - 1] == b'\r' { i - 1 } else { i };
                total += end as u64;
                self.pending.extend_from_slice(&scratch[end..n]);
                break;
            }
            total += n as u64;
        }
        let marker = self.marker(&head, total);
        self.buf.extend_from_slice(&marker);
        self.cut.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for LineLimit<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.ready {
            return Ok(&self.buf[self.pos..self.ready]);
        }
        // What is left is one open line, no longer than the limit.
        self.buf.drain(..self.pos);
        self.pos = 0;
        self.ready = 0;
        loop {
            if self.eof {
                self.ready = self.buf.len();
                return Ok(&self.buf[..self.ready]);
            }
            let old = self.buf.len();
            if self.read_some()? == 0 {
                self.eof = true;
                continue;
            }
            // Check every line the new bytes complete; cut those over the limit.
            let mut line_start = 0;
            let mut search = old;
            while let Some(off) = memchr::memchr(b'\n', &self.buf[search..]) {
                let nl = search + off;
                let end = if nl > line_start && self.buf[nl - 1] == b'\r' { nl - 1 } else { nl };
                self.newlines += 1;
                if end - line_start > self.max {
                    if self.strict {
                        return Err(self.too_long(self.newlines, (end - line_start) as u64));
                    }
                    let marker = self.marker(&self.buf[line_start..end], (end - line_start) as u64);
                    let marker_len = marker.len();
                    self.buf.splice(line_start..end, marker);
                    self.cut.fetch_add(1, Ordering::Relaxed);
                    line_start = line_start + marker_len + (nl - end) + 1;
                } else {
                    line_start = nl + 1;
                }
                search = line_start;
            }
            if self.buf.len() - line_start > self.max {
                self.cut_open_line(line_start)?;
            }
            if line_start > 0 {
                self.ready = line_start;
                return Ok(&self.buf[..self.ready]);
            }
        }
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.ready);
    }
}

/// Too many records could not be read for the run's results to be trusted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{malformed} of {records} {what} ({percent:.2}%) were malformed, more than --max-malformed allows ({limit_percent}%): \
     check the input's format and integrity (the skipped records are listed with their line numbers), \
     or raise --max-malformed to accept them"
)]
pub struct TooManyMalformed {
    /// What was counted ("records", "rows", "posts").
    pub what: String,
    pub malformed: u64,
    pub records: u64,
    pub percent: f64,
    pub limit_percent: f64,
}

/// Fails when more than `max_share` (0..=1) of `records` were malformed.
pub fn check_malformed(
    what: &str,
    malformed: u64,
    records: u64,
    max_share: f64,
) -> Result<(), TooManyMalformed> {
    if malformed == 0 || (malformed as f64) <= max_share * records as f64 {
        return Ok(());
    }
    Err(TooManyMalformed {
        what: what.to_owned(),
        malformed,
        records,
        percent: 100.0 * malformed as f64 / records.max(1) as f64,
        limit_percent: 100.0 * max_share,
    })
}

/// Parses a `--max-malformed` value: a share from 0 to 1 (`0.01`) or a percentage (`1%`).
pub fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("'{t}' is not a share (0 to 1, e.g. 0.01) or a percentage (e.g. 1%)"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("'{t}' is outside 0..1 (0% to 100%)"));
    }
    Ok(v)
}

/// Parses a `--max-line-bytes` value: a byte count with an optional K, M or G suffix
/// (powers of 1024), at least 1 KiB.
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (t, 1usize),
        Some((i, _)) => {
            let mul = match t[i..].trim().to_ascii_lowercase().as_str() {
                "k" | "kb" | "kib" => 1 << 10,
                "m" | "mb" | "mib" => 1 << 20,
                "g" | "gb" | "gib" => 1 << 30,
                _ => return Err(format!("'{t}' is not a byte count (e.g. 16M)")),
            };
            (&t[..i], mul)
        }
    };
    let n: usize = num.parse().map_err(|_| format!("'{t}' is not a byte count (e.g. 16M)"))?;
    let v = n.checked_mul(mul).ok_or_else(|| format!("'{t}' is too large"))?;
    if v < 1024 {
        return Err(format!("'{t}' is below the smallest line limit, 1K"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn through(input: &[u8], max: usize, step: usize) -> (Vec<u8>, u64) {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(self.1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut l = LineLimit::new(Trickle(input, step), max);
        let mut out = Vec::new();
        l.read_to_end(&mut out).expect("read");
        (out, l.cut.load(Ordering::Relaxed))
    }

    #[test]
    fn a_long_line_becomes_one_marker_line() {
        let mut input = b"short\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        input.extend_from_slice(b"\r\nafter\nlast");
        let (out, cut) = through(&input, 1024, 700);
        assert_eq!(cut, 1);
        let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], b"short\r");
        let long = long_line(lines[1]).expect("marker");
        assert_eq!(long.bytes, 5000);
        assert_eq!(long.limit, 1024);
        assert!(long.starts.starts_with("xxxx") && long.starts.len() < 300);
        assert_eq!(lines[1].last(), Some(&b'\r'));
        assert_eq!(lines[2], b"after");
        assert_eq!(lines[3], b"last");
    }

    #[test]
    fn a_long_last_line_without_newline_is_cut() {
        let input = vec![b'"'; 3000];
        let (out, cut) = through(&input, 1024, 4096);
        assert_eq!(cut, 1);
        assert!(!out.contains(&b'"'), "a quote in the marker would open a CSV field");
        assert_eq!(long_line(&out).expect("marker").bytes, 3000);
    }

    proptest! {
        #[test]
        fn lines_within_the_limit_pass_unchanged(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no line ending", |b| *b != b'\n' && *b != b'\r'), 0..1500), 0..20),
            step in 1usize..3000,
            final_newline: bool,
        ) {
            let mut input = lines.join(&b'\n');
            if final_newline { input.push(b'\n'); }
            let (out, cut) = through(&input, 1024, step);
            let expect: Vec<Option<usize>> = lines.iter().map(|l| (l.len() <= 1024).then_some(l.len())).collect();
            let got: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
            prop_assert_eq!(got.len(), input.split(|&b| b == b'\n').count());
            prop_assert_eq!(cut as usize, expect.iter().filter(|e| e.is_none()).count());
            for (i, e) in expect.iter().enumerate() {
                match e {
                    Some(_) => prop_assert_eq!(got[i], &lines[i][..]),
                    None => prop_assert_eq!(long_line(got[i]).map(|l| l.bytes), Some(lines[i].len() as u64)),
                }
            }
        }
    }

    #[test]
    fn the_malformed_policy_fails_above_the_share() {
        assert!(check_malformed("rows", 0, 0, 0.0).is_ok());
        assert!(check_malformed("rows", 1, 100, 0.01).is_ok());
        let e = check_malformed("rows", 84, 100, 0.01).expect_err("84%");
        assert!(e.to_string().starts_with("84 of 100 rows (84.00%) were malformed"), "{e}");
        assert!(check_malformed("rows", 1, 0, 0.5).is_err());
        assert_eq!(parse_share("5%"), Ok(0.05));
        assert_eq!(parse_share("0.2"), Ok(0.2));
        assert!(parse_share("2").is_err());
        assert_eq!(parse_bytes("16M"), Ok(16 << 20));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("10").is_err());
        assert!(parse_bytes("1X").is_err());
    }
}

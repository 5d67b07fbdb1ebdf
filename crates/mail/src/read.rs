//! Reading dumps: files, directories, Maildirs and tar archives of mbox (mboxo or mboxrd)
//! and single messages, plain, gzip or zstd, one message at a time.
//!
//! Only the message being read is held in memory, and at most
//! [`ReadOptions::max_message_bytes`] of it: a longer message is skipped (counted, with
//! its file and offset) and its bytes are not kept. Offsets are byte offsets in the
//! decompressed file: of the `From ` line in an mbox, 0 for a single message.

use std::fs;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use scrutineer_core::input::{self, InputError};

use crate::message::{Message, MessageError};

/// How `>From ` lines in an mbox are unescaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MboxFlavor {
    /// mboxrd: every `>`-quoted `From ` line loses one `>` (`>>From ` becomes `>From `).
    #[default]
    Rd,
    /// mboxo: only `>From ` becomes `From `; deeper quoting is left alone.
    O,
}

impl std::str::FromStr for MboxFlavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "rd" | "mboxrd" => Ok(MboxFlavor::Rd),
            "o" | "mboxo" => Ok(MboxFlavor::O),
            _ => Err(format!("unknown mbox flavour '{s}' (expected rd or o)")),
        }
    }
}

/// The default [`ReadOptions::max_message_bytes`]: 64 MiB, past the size limits of every
/// large mail provider (Gmail takes 50 MB with its encoding).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 << 20;

/// How dumps are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// A message longer than this is skipped and counted as unreadable.
    pub max_message_bytes: usize,
    /// How mbox files are unescaped.
    pub mbox: MboxFlavor,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES, mbox: MboxFlavor::Rd }
    }
}

/// A message that could not be read, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Why.
    pub reason: String,
}

/// One message read from a dump, parsed or not.
#[derive(Debug)]
pub struct ReadMessage {
    /// The file it came from, as named (directories expanded).
    pub file: Arc<str>,
    /// Its byte offset in the decompressed file.
    pub offset: u64,
    /// The message, or why it could not be read.
    pub result: Result<Message, Unreadable>,
}

/// One message as it stands in a dump (mbox escaping undone), not yet parsed.
#[derive(Debug)]
pub struct RawMessage {
    /// The file it came from, as named (directories expanded).
    pub file: Arc<str>,
    /// Its byte offset in the decompressed file.
    pub offset: u64,
    /// Its bytes, or why they could not be read.
    pub result: Result<Vec<u8>, Unreadable>,
}

impl RawMessage {
    /// The message parsed (or why it could not be).
    pub fn parse(self) -> ReadMessage {
        let result = self.result.and_then(|bytes| {
            Message::parse(&bytes).map_err(|e: MessageError| Unreadable { reason: e.to_string() })
        });
        ReadMessage { file: self.file, offset: self.offset, result }
    }

    /// Parses, adding one to `unparsable` when the bytes were read but are no message.
    fn parse_counting(self, unparsable: &mut u64) -> ReadMessage {
        let was_read = self.result.is_ok();
        let m = self.parse();
        if was_read && m.result.is_err() {
            *unparsable += 1;
        }
        m
    }
}

/// What reading a dump counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadStats {
    /// Files read.
    pub files: u64,
    /// Messages found, unreadable ones included.
    pub messages: u64,
    /// Messages that could not be read.
    pub unreadable: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Files that ended early (cut or corrupt compressed data); the complete messages
    /// before the cut were read.
    pub truncated_files: u64,
}

/// Why a dump could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A file could not be opened (or is compressed in a way no reader takes).
    #[error(transparent)]
    Input(#[from] InputError),
    /// A directory could not be listed, or a file failed while it was read.
    #[error("{name}: {source}")]
    Io {
        /// The file or directory.
        name: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The consumer of the messages failed.
    #[error("{0}")]
    Sink(#[source] io::Error),
}

/// The files a list of paths stands for: files as they are; directories walked in name
/// order (a Maildir's `cur/` and `new/`, never its `tmp/`; hidden entries skipped).
pub fn dump_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let io_err = |source| ReadError::Io { name: dir.display().to_string(), source };
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_err)?;
    entries.sort();
    let maildir = ["cur", "new"].iter().any(|d| dir.join(d).is_dir()) && dir.join("tmp").is_dir();
    for e in entries {
        let name = e.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') || (maildir && name == "tmp") {
            continue;
        }
        if maildir && e.is_file() {
            // A Maildir's own files (dovecot indexes, subscriptions) are not messages.
            continue;
        }
        if e.is_dir() {
            walk(&e, out)?;
        } else if e.is_file() {
            out.push(e);
        }
    }
    Ok(())
}

/// Reads every message of the dump `paths`, handing each to `sink` in order, parsed.
pub fn read_dump(
    paths: &[PathBuf],
    opts: &ReadOptions,
    mut sink: impl FnMut(ReadMessage) -> io::Result<()>,
) -> Result<ReadStats, ReadError> {
    let mut unparsable = 0;
    let mut stats = read_dump_raw(paths, opts, |m| sink(m.parse_counting(&mut unparsable)))?;
    stats.unreadable += unparsable;
    Ok(stats)
}

/// Reads every message of the dump `paths`, handing each to `sink` in order as it stands,
/// not yet parsed (to parse on other threads: [`RawMessage::parse`]). Only messages cut
/// short or over the size limit are counted as unreadable here; one that fails to parse
/// is counted by whoever parses it.
pub fn read_dump_raw(
    paths: &[PathBuf],
    opts: &ReadOptions,
    mut sink: impl FnMut(RawMessage) -> io::Result<()>,
) -> Result<ReadStats, ReadError> {
    let mut stats = ReadStats::default();
    for file in dump_files(paths)? {
        read_one(&file, opts, &mut stats, &mut sink)?;
    }
    Ok(stats)
}

/// Reads one file of a dump (mbox, single message, or a tar archive of them) from an
/// open stream.
pub fn read_stream(
    name: &str,
    reader: impl BufRead,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(ReadMessage) -> io::Result<()>,
) -> Result<(), ReadError> {
    let mut reader = reader;
    let mut unparsable = 0;
    let read = read_any(
        name,
        &mut reader,
        opts,
        stats,
        &mut |m: RawMessage| sink(m.parse_counting(&mut unparsable)),
        0,
    );
    stats.unreadable += unparsable;
    read
}

/// How deep tar archives inside tar archives are opened.
const MAX_ARCHIVE_DEPTH: usize = 4;

fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

fn read_any(
    name: &str,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(RawMessage) -> io::Result<()>,
    depth: usize,
) -> Result<(), ReadError> {
    let head = reader.fill_buf().map_err(|source| ReadError::Io { name: name.to_owned(), source })?;
    if is_tar(head) && depth < MAX_ARCHIVE_DEPTH {
        return read_tar(name, reader, opts, stats, sink, depth);
    }
    if is_zip(head) && depth < MAX_ARCHIVE_DEPTH {
        return read_zip(name, reader, opts, stats, sink, depth);
    }
    let file: Arc<str> = Arc::from(name);
    stats.files += 1;
    let mbox = head.starts_with(b"From ");
    let mut splitter = Splitter { file, opts, stats, sink, current: None, prev_blank: true };
    if mbox { splitter.mbox(reader) } else { splitter.single(reader) }
}

/// Lists a file or archive that could not be read as one unreadable item.
fn unreadable_file(
    name: &str,
    reason: String,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(RawMessage) -> io::Result<()>,
) -> Result<(), ReadError> {
    stats.messages += 1;
    stats.unreadable += 1;
    sink(RawMessage { file: Arc::from(name), offset: 0, result: Err(Unreadable { reason }) })
        .map_err(ReadError::Sink)
}

/// Every regular file of a tar archive, as a file of the dump named `archive!path`
/// (compressed members are decompressed). A damaged archive keeps what came before the
/// damage and lists the damage as one unreadable item.
fn read_tar(
    name: &str,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(RawMessage) -> io::Result<()>,
    depth: usize,
) -> Result<(), ReadError> {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            stats.truncated_files += 1;
            return unreadable_file(name, format!("archive truncated or corrupt: {e}"), stats, sink);
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                stats.truncated_files += 1;
                return unreadable_file(name, format!("archive truncated or corrupt: {e}"), stats, sink);
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = format!("{name}!{}", entry.path().map(|p| p.display().to_string()).unwrap_or_default());
        match input::decode(entry, &member) {
            Ok(mut decoded) => read_any(&member, &mut decoded, opts, stats, sink, depth + 1)?,
            Err(e) => unreadable_file(&member, e.to_string(), stats, sink)?,
        }
    }
    Ok(())
}

fn is_zip(head: &[u8]) -> bool {
    // A local file header, or the end record of an empty archive.
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Every file of a zip archive, read from the stream entry by entry (the central
/// directory at its end is not needed), each as a file of the dump named
/// `archive!path`. A damaged or cut archive keeps the entries before the damage and
/// lists the damage as one unreadable item; an entry the stream cannot be read past
/// (sizes left to a trailing data descriptor) ends the archive the same way.
fn read_zip(
    name: &str,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(RawMessage) -> io::Result<()>,
    depth: usize,
) -> Result<(), ReadError> {
    let mut reader = reader;
    loop {
        let entry = match zip::read::read_zipfile_from_stream(&mut reader) {
            Ok(Some(e)) => e,
            Ok(None) => return Ok(()),
            Err(e) => {
                stats.truncated_files += 1;
                return unreadable_file(name, format!("zip archive truncated or corrupt: {e}"), stats, sink);
            }
        };
        if !entry.is_file() {
            continue;
        }
        let path = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(entry.name_raw()).into_owned());
        let member = format!("{name}!{path}");
        match input::decode(entry, &member) {
            Ok(mut decoded) => read_any(&member, &mut decoded, opts, stats, sink, depth + 1)?,
            Err(e) => unreadable_file(&member, e.to_string(), stats, sink)?,
        }
    }
}

fn read_one(
    path: &Path,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(RawMessage) -> io::Result<()>,
) -> Result<(), ReadError> {
    let input = match input::open(path) {
        Ok(i) => i,
        // The shared reader refuses zip; this crate reads it as a stream of entries.
        Err(InputError::Unsupported { kind: "zip", .. }) => {
            let file = fs::File::open(path)
                .map_err(|source| ReadError::Io { name: path.display().to_string(), source })?;
            let mut reader = io::BufReader::with_capacity(1 << 16, file);
            return read_zip(&path.display().to_string(), &mut reader, opts, stats, sink, 0);
        }
        // One file of a dump in a format no reader takes is listed, and the rest is read.
        Err(InputError::Unsupported { name, kind }) => {
            stats.files += 1;
            let reason = format!(
                "{kind}-compressed file not read: decompress it first (gzip, zstd, tar and zip are read directly)"
            );
            return unreadable_file(&name, reason, stats, sink);
        }
        Err(e) => return Err(e.into()),
    };
    let mut input = input;
    read_any(&path.display().to_string(), &mut input, opts, stats, sink, 0)
}

/// A message being collected.
struct Current {
    offset: u64,
    bytes: Vec<u8>,
    size: u64,
}

struct Splitter<'a, S> {
    file: Arc<str>,
    opts: &'a ReadOptions,
    stats: &'a mut ReadStats,
    sink: &'a mut S,
    current: Option<Current>,
    prev_blank: bool,
}

/// Lines are read in segments of at most this many bytes, so a line of any length costs
/// no more memory than the message limit allows.
const SEGMENT: u64 = 64 * 1024;

fn is_cut(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof)
}

impl<S: FnMut(RawMessage) -> io::Result<()>> Splitter<'_, S> {
    fn single(&mut self, reader: &mut dyn BufRead) -> Result<(), ReadError> {
        let limit = self.opts.max_message_bytes as u64;
        let mut bytes = Vec::new();
        let read = (&mut *reader).take(limit + 1).read_to_end(&mut bytes);
        self.stats.bytes += bytes.len() as u64;
        self.current = Some(Current { offset: 0, size: bytes.len() as u64, bytes });
        match read {
            Ok(_) => {}
            Err(e) if is_cut(&e) => return self.cut(e),
            Err(source) => return Err(ReadError::Io { name: self.file.to_string(), source }),
        }
        if let Some(c) = self.current.as_mut()
            && c.size > limit
        {
            // Count the rest without keeping it.
            c.bytes = Vec::new();
            match io::copy(reader, &mut io::sink()) {
                Ok(n) => {
                    c.size += n;
                    self.stats.bytes += n;
                }
                Err(e) if is_cut(&e) => return self.cut(e),
                Err(source) => return Err(ReadError::Io { name: self.file.to_string(), source }),
            }
        }
        self.finish_message(None)
    }

    fn mbox(&mut self, reader: &mut dyn BufRead) -> Result<(), ReadError> {
        let mut pos: u64 = 0;
        let mut segment = Vec::with_capacity(SEGMENT as usize);
        let mut at_line_start = true;
        loop {
            segment.clear();
            match (&mut *reader).take(SEGMENT).read_until(b'\n', &mut segment) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if is_cut(&e) => {
                    self.stats.bytes += pos;
                    return self.cut(e);
                }
                Err(source) => return Err(ReadError::Io { name: self.file.to_string(), source }),
            }
            let ends_line = segment.last() == Some(&b'\n');
            let mut data: &[u8] = &segment;
            if at_line_start {
                if self.prev_blank && segment.starts_with(b"From ") {
                    self.finish_message(Some(pos))?;
                    self.current = Some(Current { offset: pos, bytes: Vec::new(), size: 0 });
                    data = &[];
                } else if self.unescapes(&segment) {
                    data = &segment[1..];
                }
                self.prev_blank = segment == b"\n" || segment == b"\r\n";
            } else if ends_line {
                self.prev_blank = false;
            }
            self.append(data);
            pos += segment.len() as u64;
            at_line_start = ends_line;
        }
        self.stats.bytes += pos;
        self.finish_message(None)
    }

    fn unescapes(&self, line: &[u8]) -> bool {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        let quoted_from = quotes > 0 && line[quotes..].starts_with(b"From ");
        match self.opts.mbox {
            MboxFlavor::Rd => quoted_from,
            MboxFlavor::O => quoted_from && quotes == 1,
        }
    }

    fn append(&mut self, data: &[u8]) {
        let limit = self.opts.max_message_bytes as u64;
        if let Some(c) = self.current.as_mut() {
            c.size += data.len() as u64;
            if c.size <= limit {
                c.bytes.extend_from_slice(data);
            } else if !c.bytes.is_empty() {
                c.bytes = Vec::new();
            }
        }
    }

    /// Hands the current message on. `next` is where the following `From ` line starts
    /// (the blank line before it is the separator, not the message's).
    fn finish_message(&mut self, next: Option<u64>) -> Result<(), ReadError> {
        let Some(mut c) = self.current.take() else { return Ok(()) };
        if next.is_some() {
            if c.bytes.ends_with(b"\r\n") {
                c.bytes.truncate(c.bytes.len() - 2);
            } else if c.bytes.ends_with(b"\n") {
                c.bytes.truncate(c.bytes.len() - 1);
            }
        }
        let limit = self.opts.max_message_bytes as u64;
        let result = if c.size > limit {
            Err(Unreadable {
                reason: format!(
                    "message of {} bytes is longer than the limit of {limit} bytes (--max-message-bytes); skipped",
                    c.size
                ),
            })
        } else {
            Ok(c.bytes)
        };
        self.emit(c.offset, result)
    }

    fn emit(&mut self, offset: u64, result: Result<Vec<u8>, Unreadable>) -> Result<(), ReadError> {
        self.stats.messages += 1;
        if result.is_err() {
            self.stats.unreadable += 1;
        }
        (self.sink)(RawMessage { file: self.file.clone(), offset, result }).map_err(ReadError::Sink)
    }

    /// The input ended in damaged or cut compressed data: the message being read is lost
    /// and counted; every complete one before it was handed on.
    fn cut(&mut self, e: io::Error) -> Result<(), ReadError> {
        self.stats.truncated_files += 1;
        let offset = self.current.take().map(|c| c.offset).unwrap_or(0);
        self.emit(offset, Err(Unreadable { reason: format!("input truncated or corrupt: {e}") }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each message's offset and bytes (or why it is unreadable).
    type Read = Vec<(u64, Result<Vec<u8>, String>)>;

    fn read(bytes: &[u8], opts: &ReadOptions) -> (Read, ReadStats) {
        let mut out = Vec::new();
        let mut stats = ReadStats::default();
        read_stream("t", bytes, opts, &mut stats, &mut |m: ReadMessage| {
            out.push((m.offset, m.result.map(|m| m.raw).map_err(|u| u.reason)));
            Ok(())
        })
        .expect("read");
        (out, stats)
    }

    #[test]
    fn an_mboxrd_splits_at_from_lines_after_blank_lines_and_unescapes() {
        let mbox = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From here\n>>From there\nFrom inside\n\nFrom c@d Tue Jan  2 00:00:00 2024\nSubject: two\n\nbody\n";
        let (msgs, stats) = read(mbox, &ReadOptions::default());
        assert_eq!(stats.messages, 2);
        assert_eq!(msgs[0].0, 0);
        assert_eq!(
            msgs[0].1.as_ref().expect("first"),
            b"Subject: one\r\n\r\nFrom here\r\n>From there\r\nFrom inside\r\n"
        );
        let second = mbox.windows(7).position(|w| w == b"From c@").expect("offset") as u64;
        assert_eq!(msgs[1].0, second);
        assert_eq!(msgs[1].1.as_ref().expect("second"), b"Subject: two\r\n\r\nbody\r\n");

        let (o, _) = read(mbox, &ReadOptions { mbox: MboxFlavor::O, ..ReadOptions::default() });
        assert_eq!(
            o[0].1.as_ref().expect("first"),
            b"Subject: one\r\n\r\nFrom here\r\n>>From there\r\nFrom inside\r\n"
        );
    }

    #[test]
    fn a_message_over_the_limit_is_counted_with_its_offset_and_the_next_is_read() {
        let mut mbox = b"From x\nX-Big: ".to_vec();
        mbox.extend(std::iter::repeat_n(b'a', 200_000));
        mbox.extend_from_slice(b"\n\nFrom y\nSubject: small\n\nok\n");
        let (msgs, stats) = read(&mbox, &ReadOptions { max_message_bytes: 1000, ..ReadOptions::default() });
        assert_eq!((stats.messages, stats.unreadable), (2, 1));
        assert!(msgs[0].1.as_ref().expect_err("an error").contains("longer than the limit of 1000"));
        assert_eq!(msgs[1].1.as_ref().expect("small"), b"Subject: small\r\n\r\nok\r\n");
    }

    #[test]
    fn a_single_message_and_garbage_are_told_apart() {
        let (msgs, _) = read(b"Subject: x\n\nbody", &ReadOptions::default());
        assert!(msgs[0].1.is_ok());
        let (msgs, stats) = read(b"\x89PNG\r\n\x1a\n\0\0\0", &ReadOptions::default());
        assert_eq!(stats.unreadable, 1);
        assert!(msgs[0].1.as_ref().expect_err("an error").contains("not a field"));
    }

    #[test]
    fn a_cut_gzip_keeps_the_complete_messages() {
        use std::io::Write;
        let mut mbox = Vec::new();
        for i in 0..200 {
            write!(mbox, "From x\nSubject: {i}\nMessage-ID: <{i}@x>\n\n{}\n\n", "text ".repeat(50))
                .expect("write");
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&mbox).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let cut = &gz[..gz.len() / 2];
        let mut stats = ReadStats::default();
        let mut ok = 0;
        let mut bad = Vec::new();
        let decoded = scrutineer_core::input::decode(cut, "cut.gz").expect("sniff");
        read_stream("cut.gz", decoded, &ReadOptions::default(), &mut stats, &mut |m: ReadMessage| {
            match m.result {
                Ok(_) => ok += 1,
                Err(u) => bad.push(u.reason),
            }
            Ok(())
        })
        .expect("read");
        assert_eq!(stats.truncated_files, 1);
        assert!(ok > 10 && ok < 200, "{ok} complete messages");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("truncated"), "{bad:?}");
    }

    #[test]
    fn a_tar_gz_of_messages_and_mboxes_is_read_member_by_member_and_a_cut_one_keeps_what_came_before() {
        use std::io::Write;
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |path: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, path, data).expect("append");
        };
        add("a/one.eml", b"Subject: one\n\nbody\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"From x\nSubject: two\n\nb\n\nFrom y\nSubject: three\n\nc\n").expect("gzip");
        add("a/box.mbox.gz", &gz.finish().expect("gzip"));
        add("a/zz.eml", &vec![b'x'; 3000]);
        let bytes = tar.into_inner().expect("tar");
        let mut names = Vec::new();
        let mut stats = ReadStats::default();
        read_stream("d.tar", &bytes[..], &ReadOptions::default(), &mut stats, &mut |m: ReadMessage| {
            names.push((m.file.to_string(), m.offset, m.result.is_ok()));
            Ok(())
        })
        .expect("read");
        assert_eq!(
            names,
            [
                ("d.tar!a/one.eml".to_owned(), 0, true),
                ("d.tar!a/box.mbox.gz".to_owned(), 0, true),
                ("d.tar!a/box.mbox.gz".to_owned(), 24, true),
                ("d.tar!a/zz.eml".to_owned(), 0, false),
            ]
        );
        let mut cut_stats = ReadStats::default();
        let mut seen = Vec::new();
        read_stream(
            "cut.tar",
            &bytes[..bytes.len() - 2500],
            &ReadOptions::default(),
            &mut cut_stats,
            &mut |m: ReadMessage| {
                seen.push(m.result.map(|_| ()).map_err(|u| u.reason));
                Ok(())
            },
        )
        .expect("read");
        assert_eq!(cut_stats.truncated_files, 1, "{seen:?}");
        assert!(seen[..3].iter().all(Result::is_ok), "{seen:?}");
        assert!(
            seen.last().expect("last").as_ref().expect_err("cut").contains("truncated or corrupt"),
            "{seen:?}"
        );
    }

    #[test]
    fn a_zip_of_messages_is_read_entry_by_entry_and_a_cut_one_names_what_it_lost() {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let deflated =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.add_directory("leak/", stored).expect("dir");
        zip.start_file("leak/one.eml", stored).expect("entry");
        zip.write_all(b"Subject: one\n\nbody\n").expect("write");
        zip.start_file("leak/box.mbox", deflated).expect("entry");
        zip.write_all(b"From x\nSubject: two\n\nb\n\nFrom y\nSubject: three\n\nc\n").expect("write");
        zip.start_file("leak/last.eml", deflated).expect("entry");
        zip.write_all("Subject: four\n\n".repeat(200).as_bytes()).expect("write");
        let bytes = zip.finish().expect("zip").into_inner();
        let names = |bytes: &[u8]| {
            let mut names = Vec::new();
            let mut stats = ReadStats::default();
            read_stream("d.zip", bytes, &ReadOptions::default(), &mut stats, &mut |m: ReadMessage| {
                names.push((m.file.to_string(), m.offset, m.result.map(|_| ()).map_err(|u| u.reason)));
                Ok(())
            })
            .expect("read");
            (names, stats)
        };
        let (all, stats) = names(&bytes);
        assert_eq!(
            all,
            [
                ("d.zip!leak/one.eml".to_owned(), 0, Ok(())),
                ("d.zip!leak/box.mbox".to_owned(), 0, Ok(())),
                ("d.zip!leak/box.mbox".to_owned(), 24, Ok(())),
                ("d.zip!leak/last.eml".to_owned(), 0, Ok(())),
            ]
        );
        assert_eq!((stats.files, stats.truncated_files), (3, 0));
        // From a file (the shared input opener refuses zip; this reader takes it over).
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("leak.zip");
        std::fs::write(&path, &bytes).expect("write");
        let mut from_file = Vec::new();
        read_dump(std::slice::from_ref(&path), &ReadOptions::default(), |m| {
            from_file.push((m.file.to_string(), m.result.is_ok()));
            Ok(())
        })
        .expect("read");
        let shown = path.display().to_string();
        assert_eq!(from_file.len(), 4);
        assert!(
            from_file.iter().all(|(f, ok)| *ok && f.starts_with(&format!("{shown}!leak/"))),
            "{from_file:?}"
        );
        // Cut inside the last entry: the entries before it are kept, the cut is listed.
        let end = bytes.windows(4).position(|w| w == b"PK\x01\x02").expect("central directory");
        let (cut, stats) = names(&bytes[..end - 20]);
        assert_eq!(cut[..3], all[..3]);
        assert!(stats.truncated_files >= 1, "{cut:?}");
        assert!(
            cut[3..].iter().any(|(_, _, r)| r.as_ref().is_err_and(|e| e.contains("truncated or corrupt"))),
            "{cut:?}"
        );
    }
}

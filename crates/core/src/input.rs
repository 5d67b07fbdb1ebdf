//! Opening an input file the same way in every engine: plain, gzip or zstd, told apart
//! by the magic bytes at its start (never by its name), with one error type that names
//! the file.
//!
//! [`open`] opens a path (`-` is standard input) and returns an [`Input`], a buffered
//! reader of the decompressed bytes; [`decode`] does the same for a stream that is
//! already open. Other compressions an analyst meets (bzip2, xz, zip) are refused with
//! [`InputError::Unsupported`], naming the kind, rather than read as text.
//!
//! Lines are not bounded here: readers of line-based formats put a
//! [`crate::lines::LineLimit`] on top of the decompressed stream.
//!
//! Both decoders read concatenated members (`cat a.gz b.gz`, multi-frame zstd as `pzstd`
//! writes it, skippable frames included). Damaged compressed data surfaces as a read
//! error of kind [`io::ErrorKind::InvalidData`] (or [`io::ErrorKind::UnexpectedEof`] for
//! a cut gzip member or skippable frame), so that readers can tell a damaged archive from a failing disk.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// The read buffer under the decoders, and of plain inputs.
const BUFFER_BYTES: usize = 256 * 1024;

/// The longest magic number looked at (xz's).
const MAGIC_BYTES: usize = 6;

/// How an input is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed (or in no format we recognise: read as it is).
    Plain,
    /// gzip (RFC 1952), one member or several.
    Gzip,
    /// Zstandard (RFC 8878), one frame or several.
    Zstd,
}

impl Compression {
    /// The name used in messages: `plain`, `gzip` or `zstd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Plain => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// True for the compressed kinds.
    pub fn is_compressed(self) -> bool {
        self != Compression::Plain
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an input could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or its first bytes read.
    #[error("{name}: {source}")]
    Io {
        /// The input, as the user named it.
        name: String,
        /// The error from the operating system.
        #[source]
        source: io::Error,
    },
    /// The input is compressed in a format no reader takes.
    #[error(
        "{name}: {kind}-compressed input is not supported: decompress it first (gzip and zstd are read directly)"
    )]
    Unsupported {
        /// The input, as the user named it.
        name: String,
        /// The compression found: `bzip2`, `xz` or `zip`.
        kind: &'static str,
    },
}

impl InputError {
    /// The input the error is about, as the user named it.
    pub fn name(&self) -> &str {
        match self {
            InputError::Io { name, .. } | InputError::Unsupported { name, .. } => name,
        }
    }
}

/// What the first bytes of an input say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A format that [`decode`] reads.
    Readable(Compression),
    /// A compression it refuses, by name.
    Unsupported(&'static str),
}

/// Tells the compression from the first bytes of an input (at least six, where the input
/// has them).
pub fn sniff(head: &[u8]) -> Sniffed {
    let zstd_skippable = head.len() >= 4 && head[0] & 0xF0 == 0x50 && head[1..4] == [0x2A, 0x4D, 0x18];
    if head.starts_with(&[0x1f, 0x8b]) {
        Sniffed::Readable(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) || zstd_skippable {
        Sniffed::Readable(Compression::Zstd)
    } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        Sniffed::Unsupported("bzip2")
    } else if head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        Sniffed::Unsupported("xz")
    } else if head.starts_with(b"PK\x03\x04") {
        Sniffed::Unsupported("zip")
    } else {
        Sniffed::Readable(Compression::Plain)
    }
}

/// A raw stream with its first bytes, read for sniffing, put back in front.
pub type Prefixed<R> = BufReader<Chain<Cursor<Vec<u8>>, R>>;

/// The decompressed bytes of a stream `R`, buffered.
pub enum Decoded<R: Read> {
    /// An uncompressed stream, read as it is.
    Plain(Prefixed<R>),
    /// A gzip stream (boxed, as the zstd one: a decoder's state is large).
    Gzip(Box<BufReader<MultiGzDecoder<Prefixed<R>>>>),
    /// A zstd stream.
    Zstd(Box<BufReader<ZstdFrames<Prefixed<R>>>>),
}

impl<R: Read> Decoded<R> {
    /// How the stream is compressed.
    pub fn compression(&self) -> Compression {
        match self {
            Decoded::Plain(_) => Compression::Plain,
            Decoded::Gzip(_) => Compression::Gzip,
            Decoded::Zstd(_) => Compression::Zstd,
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Plain(r) => r.read(buf),
            Decoded::Gzip(r) => r.read(buf),
            Decoded::Zstd(r) => r.read(buf),
        }
    }
}

impl<R: Read> BufRead for Decoded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Decoded::Plain(r) => r.fill_buf(),
            Decoded::Gzip(r) => r.fill_buf(),
            Decoded::Zstd(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match self {
            Decoded::Plain(r) => r.consume(amt),
            Decoded::Gzip(r) => r.consume(amt),
            Decoded::Zstd(r) => r.consume(amt),
        }
    }
}

/// Sniffs `raw` and returns its decompressed bytes; `name` names it in errors.
pub fn decode<R: Read>(mut raw: R, name: &str) -> Result<Decoded<R>, InputError> {
    let mut head = vec![0u8; MAGIC_BYTES];
    let mut n = 0;
    // A pipe may hand over the first bytes a few at a time.
    while n < head.len() {
        match raw.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(InputError::Io { name: name.to_owned(), source }),
        }
    }
    head.truncate(n);
    let sniffed = sniff(&head);
    let stream = BufReader::with_capacity(BUFFER_BYTES, Cursor::new(head).chain(raw));
    Ok(match sniffed {
        Sniffed::Readable(Compression::Plain) => Decoded::Plain(stream),
        Sniffed::Readable(Compression::Gzip) => {
            Decoded::Gzip(Box::new(BufReader::with_capacity(BUFFER_BYTES, MultiGzDecoder::new(stream))))
        }
        Sniffed::Readable(Compression::Zstd) => {
            Decoded::Zstd(Box::new(BufReader::with_capacity(BUFFER_BYTES, ZstdFrames::new(stream))))
        }
        Sniffed::Unsupported(kind) => return Err(InputError::Unsupported { name: name.to_owned(), kind }),
    })
}

/// The raw bytes of a file or of standard input.
pub type Source = Box<dyn Read + Send>;

/// An opened input: its decompressed bytes, buffered, and what is known about it.
pub struct Input {
    name: String,
    path: PathBuf,
    len: Option<u64>,
    reader: Decoded<Source>,
}

impl Input {
    /// The input as the user named it (`-` for standard input).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The size of the file on disk (compressed, if it is), when it is a file.
    pub fn file_len(&self) -> Option<u64> {
        self.len
    }

    /// How it is compressed.
    pub fn compression(&self) -> Compression {
        self.reader.compression()
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("len", &self.len)
            .field("compression", &self.compression())
            .finish()
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.reader.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.reader.consume(amt)
    }
}

/// True when `path` names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens `path` (`-` for standard input), plain, gzip or zstd.
pub fn open(path: &Path) -> Result<Input, InputError> {
    let name = path.display().to_string();
    let (source, len): (Source, Option<u64>) = if is_stdin(path) {
        (Box::new(io::stdin()), None)
    } else {
        let file = File::open(path).map_err(|source| InputError::Io { name: name.clone(), source })?;
        let len = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        (Box::new(file), len)
    };
    let reader = decode(source, &name)?;
    Ok(Input { name, path: path.to_owned(), len, reader })
}

/// The largest zstd window read: 2 GiB, what `zstd --long=31` writes (the most the zstd
/// tool itself decodes without `--memory`).
pub const MAX_ZSTD_WINDOW: u64 = 1 << 31;

/// A reader of the decompressed bytes of a zstd stream of any number of frames.
pub struct ZstdFrames<R: BufRead> {
    source: R,
    frame: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    /// Decodes `source`, which starts at a frame.
    pub fn new(source: R) -> ZstdFrames<R> {
        let mut frame = FrameDecoder::new();
        // Pushshift and Arctic-Shift publish their Reddit dumps compressed with
        // `zstd --long=31`: a 2 GiB window, past ruzstd's default limit of 128 MiB. The
        // decoder reserves the window the frame declares when the frame starts: address
        // space, whose pages the system commits only as decoded bytes fill them (a
        // 26-byte frame declaring 2 GiB runs in 25 MB of resident memory).
        frame.set_max_window_size(MAX_ZSTD_WINDOW);
        ZstdFrames { source, frame, in_frame: false }
    }

    /// Starts the next frame; false at the end of the input.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.frame.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(&mut (&mut self.source).take(u64::from(length)), &mut io::sink())?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "zstd: the input ends inside a skippable frame",
                        ));
                    }
                }
                Err(e) => return Err(damaged(e)),
            }
        }
    }

    /// Checks the frame's checksum, where it has one, once it is decoded.
    fn check_frame(&self) -> io::Result<()> {
        match (self.frame.get_checksum_from_data(), self.frame.get_calculated_checksum()) {
            (Some(stored), Some(computed)) if stored != computed => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("zstd: frame checksum mismatch (stored {stored:08x}, computed {computed:08x})"),
            )),
            _ => Ok(()),
        }
    }
}

fn damaged(e: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            if self.frame.can_collect() > 0 {
                let n = self.frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
            }
            if self.frame.is_finished() {
                if self.frame.can_collect() == 0 {
                    self.check_frame()?;
                    self.in_frame = false;
                }
                continue;
            }
            self.frame
                .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                .map_err(damaged)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("gzip");
        enc.finish().expect("gzip")
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn read_all(bytes: &[u8]) -> Result<(Compression, Vec<u8>), String> {
        let mut d = decode(bytes, "t").map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        d.read_to_end(&mut out).map_err(|e| e.to_string())?;
        Ok((d.compression(), out))
    }

    /// Text long enough to span several zstd blocks and gzip buffers.
    fn sample() -> Vec<u8> {
        (0..40_000u32)
            .flat_map(|i| format!("{i},row {},{}\n", i * 7919 % 1000, i % 13).into_bytes())
            .collect()
    }

    /// A zstd frame as `zstd --long=N` writes it: the frame header declares a window of
    /// 2^`window_log` bytes; the content is one raw block.
    fn long_window_frame(window_log: u8, content: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD];
        // Frame header descriptor: no content size, not single-segment, no checksum,
        // no dictionary; then the window descriptor (exponent = log - 10, mantissa 0).
        frame.push(0x00);
        frame.push((window_log - 10) << 3);
        let header = 1u32 | (u32::try_from(content.len()).expect("small") << 3);
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.extend_from_slice(content);
        frame
    }

    /// The Pushshift and Arctic-Shift dumps' `--long=31` window is read; a larger one is
    /// refused with the window named, before anything is allocated for it.
    #[test]
    fn long_window_zstd_is_read() {
        let line = b"{\"author\":\"a\",\"subreddit\":\"s\",\"created_utc\":1}\n";
        let (kind, out) = read_all(&long_window_frame(31, line)).expect("a 2 GiB window is read");
        assert_eq!((kind, out.as_slice()), (Compression::Zstd, &line[..]));
        let err = read_all(&long_window_frame(32, line)).expect_err("a 4 GiB window is refused");
        assert!(err.contains("window"), "{err}");
    }

    #[test]
    fn plain_gzip_and_zstd_read_the_same() {
        let text = sample();
        assert_eq!(read_all(&text), Ok((Compression::Plain, text.clone())));
        assert_eq!(read_all(&gzip(&text)), Ok((Compression::Gzip, text.clone())));
        assert_eq!(read_all(&zstd(&text)), Ok((Compression::Zstd, text.clone())));
    }

    #[test]
    fn concatenated_members_and_frames_are_all_read() {
        let (a, b) = (b"first,1\n".as_slice(), b"second,2\n".as_slice());
        let both = [a, b].concat();
        assert_eq!(read_all(&[gzip(a), gzip(b)].concat()).map(|r| r.1), Ok(both.clone()));
        // A skippable frame (as pzstd writes) between two data frames.
        let skippable = [&[0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0][..], b"xyz"].concat();
        let stream = [skippable.clone(), zstd(a), skippable, zstd(b)].concat();
        assert_eq!(read_all(&stream), Ok((Compression::Zstd, both)));
    }

    #[test]
    fn short_and_empty_inputs_are_plain() {
        assert_eq!(read_all(b""), Ok((Compression::Plain, Vec::new())));
        assert_eq!(read_all(b"\x1f"), Ok((Compression::Plain, b"\x1f".to_vec())));
        assert_eq!(read_all(b"a,b\n"), Ok((Compression::Plain, b"a,b\n".to_vec())));
    }

    /// A reader that hands over one byte a call, as a slow pipe may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((&b, rest)) = self.0.split_first() else { return Ok(0) };
            if buf.is_empty() {
                return Ok(0);
            }
            buf[0] = b;
            self.0 = rest;
            Ok(1)
        }
    }

    #[test]
    fn magic_bytes_arriving_one_at_a_time_are_still_seen() {
        let text = sample();
        let compressed = zstd(&text);
        let mut d = decode(Trickle(&compressed), "pipe").expect("opens");
        assert_eq!(d.compression(), Compression::Zstd);
        let mut out = Vec::new();
        d.read_to_end(&mut out).expect("reads");
        assert_eq!(out, text);
    }

    #[test]
    fn other_compressions_are_refused_by_name() {
        for (bytes, kind) in [
            (&b"BZh91AY&SY"[..], "bzip2"),
            (&[0xFD, b'7', b'z', b'X', b'Z', 0x00, 0, 0][..], "xz"),
            (&b"PK\x03\x04rest"[..], "zip"),
        ] {
            let err = read_all(bytes).expect_err(kind);
            assert!(err.starts_with("t: ") && err.contains(&format!("{kind}-compressed")), "{err}");
        }
        // "BZh" followed by anything but a block-size digit is text.
        assert!(read_all(b"BZhello").is_ok());
    }

    #[test]
    fn damaged_archives_are_data_errors() {
        let text = sample();
        for (what, mut bytes) in [("gzip", gzip(&text)), ("zstd", zstd(&text))] {
            // Cut short.
            let cut = &bytes[..bytes.len() / 2];
            let mut out = Vec::new();
            let err = decode(cut, "t").expect("opens").read_to_end(&mut out).expect_err(what);
            assert!(
                matches!(err.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData),
                "{what}: {err:?}"
            );
            // Altered in the middle.
            let mid = bytes.len() / 2;
            for b in &mut bytes[mid..mid + 16] {
                *b ^= 0x5a;
            }
            let mut out = Vec::new();
            let result = decode(bytes.as_slice(), "t").expect("opens").read_to_end(&mut out);
            assert!(result.is_err() || out != text, "{what}: altered data read back unchanged");
        }
    }

    #[test]
    fn open_names_the_file_it_cannot_open() {
        let err = open(Path::new("/nonexistent/dir/roll.csv.zst")).expect_err("missing");
        assert_eq!(err.name(), "/nonexistent/dir/roll.csv.zst");
        assert!(err.to_string().starts_with("/nonexistent/dir/roll.csv.zst: "), "{err}");
    }
}

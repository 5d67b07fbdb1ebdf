//! Bluesky firehose frames: the messages of `com.atproto.sync.subscribeRepos` (the AT
//! Protocol's repository event stream, served by every PDS and relay at
//! `wss://<host>/xrpc/com.atproto.sync.subscribeRepos`), saved to a file as they arrived:
//! each WebSocket binary message's bytes, one after another.
//!
//! - A frame ([event stream spec](https://atproto.com/specs/event-stream)) is two DAG-CBOR
//!   objects back to back: a header `{op, t}` (`op` 1 with `t` the message type, such as
//!   `#commit`; `op` -1 for an error, whose body is `{error, message}`), then the body.
//!   CBOR items carry their own lengths, so the file needs no framing of its own: the
//!   reader measures each item ([`item_len`]) and decodes it from its exact bytes.
//! - `#commit` ([`com.atproto.sync.subscribeRepos`
//!   lexicon](https://github.com/bluesky-social/atproto/blob/main/lexicons/com/atproto/sync/subscribeRepos.json),
//!   [sync spec](https://atproto.com/specs/sync)): `repo` (the account's DID), `ops`
//!   (`{action, path, cid}`, `path` = `<collection>/<rkey>`), `blocks` (a CAR v1 slice
//!   holding the commit, the changed tree nodes and the new records, by CID), `time` (when
//!   the message was first broadcast) and `tooBig` (the blocks were left out).
//! - A `create` of `app.bsky.feed.post` or `app.bsky.feed.repost` is a post, read from its
//!   record block as the Jetstream and CAR readers read records: account `bluesky:` +
//!   `repo`, id `bluesky:at://<repo>/<path>`. Time: the frame's `time` (as Jetstream's
//!   `time_us`, when the network saw it), else the record's client-set `createdAt`.
//! - Other operations (likes, follows, updates, deletes), empty commits and the other
//!   messages (`#identity`, `#account`, `#sync`, `#info`, and the retired `#handle`,
//!   `#migrate`, `#tombstone`) are counted as not posts.
//! - Skips name the frame and its byte offset (there are no lines): a frame that is not
//!   DAG-CBOR (reading resumes at the next frame header found after it), a body without the
//!   fields its type needs, a created post whose record is not in the frame's blocks, an
//!   error frame (the stream was cut by the server: what came after it is missing). A file
//!   cut inside a frame keeps every frame before it.
//!
//! Memory holds one frame at a time (a frame's blocks are at most 1 MB by the lexicon).

use std::io::BufRead;

use ipld_core::cid::Cid;
use serde::Deserialize;

use super::bluesky::{Record, record_post};
use super::bluesky_car::car_slice_blocks;
use crate::read::Out;
use crate::read::text::{clip, parse_time};

/// A frame is a few KiB; the lexicon bounds a commit's blocks at 1,000,000 bytes. An item
/// claiming more than this is corrupt, not a frame to wait for.
const MAX_ITEM_BYTES: usize = 8 << 20;

/// How much is asked of the input at a time.
const READ_BYTES: usize = 256 << 10;

const POST: &str = "app.bsky.feed.post";
const REPOST: &str = "app.bsky.feed.repost";

/// Whether `head` starts with a firehose frame header: a DAG-CBOR map of `t` (a message
/// type, `#...`) and `op`, in DAG-CBOR's key order (`t` first, the shorter key) or the
/// other; or an error frame's `{op: -1}`.
pub(super) fn is_firehose_header(head: &[u8]) -> bool {
    match head {
        [0xa2, 0x61, b't', len, b'#', ..] => (0x61..=0x77).contains(len),
        [0xa2, 0x62, b'o', b'p', 0x01, 0x61, b't', ..] => true,
        [0xa1 | 0xa2, 0x62, b'o', b'p', 0x20, ..] => true,
        _ => false,
    }
}

/// Why an item's length is not known yet.
#[derive(Debug, PartialEq)]
enum Measure {
    /// The bytes end inside the item.
    More,
    /// Not DAG-CBOR.
    Bad(String),
}

/// The length of the one DAG-CBOR item at the start of `b`, nested items and all. A flat
/// count of the items still owed stands in for a stack: an array of n owes n more, a map
/// of n owes 2n, a tag one.
fn item_len(b: &[u8]) -> Result<usize, Measure> {
    let mut pos = 0usize;
    let mut owed: u64 = 1;
    while owed > 0 {
        let &first = b.get(pos).ok_or(Measure::More)?;
        owed -= 1;
        let major = first >> 5;
        let info = first & 0x1f;
        let extra = match info {
            0..=23 => 0,
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => {
                return Err(Measure::Bad(format!(
                    "byte {pos} of the item: {} (DAG-CBOR has neither indefinite lengths nor reserved values)",
                    if info == 31 { "an indefinite length" } else { "a reserved value" }
                )));
            }
        };
        let arg_bytes = b.get(pos + 1..pos + 1 + extra).ok_or(Measure::More)?;
        let arg = if extra == 0 {
            u64::from(info)
        } else {
            arg_bytes.iter().fold(0u64, |a, &x| a << 8 | u64::from(x))
        };
        pos += 1 + extra;
        match major {
            // Integers; and simple values and floats, whose bytes are the argument's.
            0 | 1 | 7 => {}
            2 | 3 => {
                let len = usize::try_from(arg).ok().filter(|&l| l <= MAX_ITEM_BYTES).ok_or_else(|| {
                    Measure::Bad(format!(
                        "a string of {arg} bytes at byte {pos} of the item: more than any frame"
                    ))
                })?;
                pos += len;
                if pos > b.len() {
                    return Err(Measure::More);
                }
            }
            4 => owed = owed.saturating_add(arg),
            5 => owed = owed.saturating_add(arg.saturating_mul(2)),
            _ => owed += 1,
        }
        // Every item owed takes at least a byte: more than the bound is a corrupt count.
        if owed > MAX_ITEM_BYTES as u64 {
            return Err(Measure::Bad(format!(
                "a container of {arg} items at byte {pos} of the item: more than any frame"
            )));
        }
    }
    Ok(pos)
}

/// The input, read into a buffer that holds at least the item being measured.
struct Frames<R> {
    inner: R,
    buf: Vec<u8>,
    /// Where the next item starts in `buf`.
    start: usize,
    /// The input's offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// A read error, met once the bytes before it are used.
    failed: Option<std::io::Error>,
}

/// What the next item is.
enum Next {
    /// `buf[start..start + len]`.
    Item(usize),
    /// The input ended cleanly, between items.
    End,
    /// The input ended inside an item.
    Cut,
    /// The bytes there are no DAG-CBOR item.
    Bad(String),
}

impl<R: BufRead> Frames<R> {
    fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Reads more of the input after what is held, dropping what was used.
    fn read_more(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let held = self.buf.len();
        self.buf.resize(held + READ_BYTES, 0);
        loop {
            match self.inner.read(&mut self.buf[held..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    self.buf.truncate(held + n);
                    return;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.failed = Some(e);
                    self.eof = true;
                    break;
                }
            }
        }
        self.buf.truncate(held);
    }

    fn next(&mut self) -> Next {
        loop {
            match item_len(&self.buf[self.start..]) {
                Ok(len) => return Next::Item(len),
                Err(Measure::Bad(reason)) => return Next::Bad(reason),
                Err(Measure::More) if self.buf.len() - self.start > MAX_ITEM_BYTES => {
                    return Next::Bad(format!("an item longer than {MAX_ITEM_BYTES} bytes: no frame is"));
                }
                Err(Measure::More) if self.eof => {
                    return if self.start == self.buf.len() { Next::End } else { Next::Cut };
                }
                Err(Measure::More) => self.read_more(),
            }
        }
    }

    /// Moves to the next frame header after the current position, reading on as needed;
    /// false when the input ends first.
    fn resync(&mut self) -> bool {
        self.start += 1;
        loop {
            let held = &self.buf[self.start..];
            let found = memchr::memchr2_iter(0xa1, 0xa2, held)
                .find(|&i| held.len() - i >= 8 && is_firehose_header(&held[i..]));
            if let Some(i) = found {
                self.start += i;
                return true;
            }
            // Keep the last few bytes: a header may straddle the read.
            self.start = self.buf.len().saturating_sub(7).max(self.start);
            if self.eof {
                self.start = self.buf.len();
                return false;
            }
            self.read_more();
        }
    }
}

#[derive(Deserialize)]
struct Header<'a> {
    op: i64,
    #[serde(borrow)]
    t: Option<&'a str>,
}

#[derive(Deserialize)]
struct CommitBody<'a> {
    #[serde(borrow)]
    repo: &'a str,
    #[serde(borrow)]
    blocks: &'a [u8],
    #[serde(borrow)]
    ops: Vec<RepoOp<'a>>,
    #[serde(borrow)]
    time: Option<&'a str>,
    #[serde(rename = "tooBig", default)]
    too_big: bool,
}

#[derive(Deserialize)]
struct RepoOp<'a> {
    #[serde(borrow)]
    action: &'a str,
    #[serde(borrow)]
    path: &'a str,
    cid: Option<Cid>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    message: Option<String>,
}

/// What kind of message a header announced.
enum Kind {
    Commit,
    Error,
    Other,
}

/// Reads saved firehose frames, emitting the posts of each `#commit` as it comes.
pub(super) fn read_firehose(stream: impl BufRead, out: &mut Out<'_>) {
    let mut frames = Frames { inner: stream, buf: Vec::new(), start: 0, base: 0, eof: false, failed: None };
    let mut frame = 0u64;
    loop {
        let at = frames.offset();
        let header_len = match frames.next() {
            Next::Item(len) => len,
            Next::End => break,
            Next::Cut => {
                cut(out, &mut frames, frame + 1, at, "its header");
                break;
            }
            Next::Bad(reason) => {
                frame += 1;
                out.skip(0, format!("frame {frame} at byte {at}: the header is not DAG-CBOR ({reason})"));
                if frames.resync() {
                    continue;
                }
                break;
            }
        };
        frame += 1;
        let header = &frames.buf[frames.start..frames.start + header_len];
        let kind = match serde_ipld_dagcbor::from_slice::<Header<'_>>(header) {
            Ok(Header { op: 1, t: Some("#commit") }) => Ok(Kind::Commit),
            Ok(Header { op: -1, .. }) => Ok(Kind::Error),
            Ok(Header { op: 1, .. }) => Ok(Kind::Other),
            Ok(Header { op, .. }) => Err(format!("header op {op} is neither 1 nor -1")),
            Err(e) => Err(format!("the header is not {{op, t}} ({e})")),
        };
        let kind = match kind {
            Ok(kind) => kind,
            Err(reason) => {
                out.skip(0, format!("frame {frame} at byte {at}: {reason}"));
                if frames.resync() {
                    continue;
                }
                break;
            }
        };
        frames.start += header_len;
        let body_len = match frames.next() {
            Next::Item(len) => len,
            Next::End | Next::Cut => {
                cut(out, &mut frames, frame, at, "its body");
                break;
            }
            Next::Bad(reason) => {
                out.skip(0, format!("frame {frame} at byte {at}: the body is not DAG-CBOR ({reason})"));
                if frames.resync() {
                    continue;
                }
                break;
            }
        };
        let body = &frames.buf[frames.start..frames.start + body_len];
        let place = Place { frame, at };
        match kind {
            Kind::Commit => commit(body, &place, out),
            Kind::Error => {
                out.report.records += 1;
                let (error, message) = match serde_ipld_dagcbor::from_slice::<ErrorBody>(body) {
                    Ok(b) => (b.error.unwrap_or_default(), b.message.unwrap_or_default()),
                    Err(_) => (String::new(), String::new()),
                };
                out.skip(
                    0,
                    format!(
                        "frame {frame} at byte {at}: an error frame from the server ({} {}): the stream was cut \
                         there, and what it would have sent next is not in the file",
                        clip(&error),
                        clip(&message)
                    ),
                );
            }
            Kind::Other => {
                out.report.records += 1;
                out.report.not_posts += 1;
            }
        }
        frames.start += body_len;
    }
    if let Some(e) = frames.failed.take() {
        out.report.truncated = true;
        out.skip(
            0,
            format!("cannot read past byte {} ({e}): the frames before it were kept", frames.offset()),
        );
    }
}

/// The input ended inside frame `frame`, which started at byte `at`.
fn cut<R: BufRead>(out: &mut Out<'_>, frames: &mut Frames<R>, frame: u64, at: u64, part: &str) {
    if frames.failed.is_some() {
        // Reported with the read error itself.
        return;
    }
    out.report.truncated = true;
    out.skip(
        0,
        format!("frame {frame} at byte {at}: the input ends inside {part}: the file is cut; the frames before it were kept"),
    );
}

/// Where a frame is, for the skips it causes.
struct Place {
    frame: u64,
    at: u64,
}

impl Place {
    fn skip(&self, out: &mut Out<'_>, reason: impl std::fmt::Display) {
        out.skip(0, format!("frame {} at byte {}: {reason}", self.frame, self.at));
    }
}

/// One `#commit` body: its created posts and reposts emitted, its other operations counted.
fn commit(body: &[u8], place: &Place, out: &mut Out<'_>) {
    let c = match serde_ipld_dagcbor::from_slice::<CommitBody<'_>>(body) {
        Ok(c) => c,
        Err(e) => {
            out.report.records += 1;
            return place.skip(out, format_args!("#commit: {e}"));
        }
    };
    if c.ops.is_empty() {
        // An empty commit: a new revision and signature, no record changed.
        out.report.records += 1;
        out.report.not_posts += 1;
        return;
    }
    out.report.records += c.ops.len() as u64;
    let wanted = |op: &RepoOp<'_>| {
        op.action == "create" && matches!(op.path.split_once('/'), Some((POST | REPOST, _)))
    };
    let posts = c.ops.iter().filter(|op| wanted(op)).count();
    out.report.not_posts += (c.ops.len() - posts) as u64;
    if posts == 0 {
        return;
    }
    let blocks = if c.blocks.is_empty() {
        Vec::new()
    } else {
        match car_slice_blocks(c.blocks) {
            Ok(blocks) => blocks,
            Err(reason) => {
                out.report.skipped += posts as u64 - 1;
                return place.skip(out, format_args!("#commit of {}: {reason}", c.repo));
            }
        }
    };
    let time = c.time.and_then(parse_time);
    for op in c.ops.iter().filter(|op| wanted(op)) {
        let Some((collection, rkey)) = op.path.split_once('/') else { continue };
        let Some(cid) = op.cid else {
            place.skip(out, format_args!("create of {}: field cid: missing", op.path));
            continue;
        };
        let Some(&(_, data)) = blocks.iter().find(|(id, _)| *id == cid) else {
            let why = if c.too_big {
                " (the commit is marked tooBig: the server left its blocks out; fetch the repository to read it)"
            } else {
                ""
            };
            place.skip(
                out,
                format_args!(
                    "create of {} by {}: its record {cid} is not in the frame's blocks{why}",
                    op.path, c.repo
                ),
            );
            continue;
        };
        let record = match serde_ipld_dagcbor::from_slice::<Record>(data) {
            Ok(r) => r,
            Err(e) => {
                place.skip(out, format_args!("create of {}: the record is not DAG-CBOR ({e})", op.path));
                continue;
            }
        };
        let time = match time {
            Some(t) => t,
            None => match record.created_at().map(|s| (s, parse_time(s))) {
                Some((_, Some(t))) => t,
                Some((s, None)) => {
                    place.skip(
                        out,
                        format_args!(
                            "create of {}: no frame time, and record.createdAt '{}' does not parse as a time",
                            op.path,
                            clip(s)
                        ),
                    );
                    continue;
                }
                None => {
                    place.skip(
                        out,
                        format_args!("create of {}: no frame time, and no record.createdAt", op.path),
                    );
                    continue;
                }
            },
        };
        match record_post(c.repo, collection, rkey, record, time, "record.") {
            Ok(post) => out.emit(post),
            Err(reason) => place.skip(out, format_args!("create of {}: {reason}", op.path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Measure, is_firehose_header, item_len};

    #[test]
    fn item_lengths() {
        // {"a": [1, h'0102', "x"]} then a trailing byte that is not part of it.
        let item = [0xa1, 0x61, b'a', 0x83, 0x01, 0x42, 0x01, 0x02, 0x61, b'x', 0xff];
        assert_eq!(item_len(&item), Ok(10));
        assert_eq!(item_len(&item[..9]), Err(Measure::More));
        // A tag 42 (a CID link) holding bytes; a 2-byte length; a float.
        assert_eq!(item_len(&[0xd8, 0x2a, 0x43, 0, 1, 2]), Ok(6));
        assert_eq!(item_len(&[0x59, 0x00, 0x02, 7, 7]), Ok(5));
        assert_eq!(item_len(&[0xfb, 0, 0, 0, 0, 0, 0, 0, 0]), Ok(9));
        assert!(matches!(item_len(&[0x9f, 0x01, 0xff]), Err(Measure::Bad(r)) if r.contains("indefinite")));
        assert!(matches!(item_len(&[0x5b, 0xff, 0, 0, 0, 0, 0, 0, 0]), Err(Measure::Bad(_))));
    }

    #[test]
    fn headers() {
        assert!(is_firehose_header(b"\xa2\x61t\x67#commit\x62op\x01"));
        assert!(is_firehose_header(b"\xa2\x62op\x01\x61t\x69#identity"));
        assert!(is_firehose_header(b"\xa1\x62op\x20"));
        assert!(!is_firehose_header(b"\xa2\x65roots"));
        assert!(!is_firehose_header(b"{\"op\":1}"));
    }
}

//! Bluesky repository exports: what `com.atproto.sync.getRepo` returns (and what "Export my
//! data" in the Bluesky app saves, `repo.car`), a CAR v1 file of DAG-CBOR blocks holding one
//! account's whole repository: its signed commit, the Merkle Search Tree (MST) of its
//! records and the records themselves.
//!
//! - The CAR framing ([CAR v1](https://ipld.io/specs/transport/car/carv1/)) is a varint-
//!   prefixed DAG-CBOR header `{version: 1, roots: [commit CID]}`, then blocks, each a
//!   varint length, a CID and the block's bytes. Blocks are decoded as they arrive;
//!   CIDs and DAG-CBOR come from `ipld-core` and `serde_ipld_dagcbor`.
//! - The commit (`{did, version, data, rev, prev, sig}`) names the account: every post is
//!   by `bluesky:` + its `did`. Its `data` is the MST root; a tree node is
//!   `{l: left subtree, e: [{p: prefix length, k: key suffix, v: record CID, t: right
//!   subtree}]}`, and keys are `<collection>/<rkey>`. The tree is walked in key order once
//!   every block is read (the export gives blocks in no promised order), and a post's id is
//!   its AT URI, `bluesky:at://<did>/<collection>/<rkey>`: the id Jetstream events and other
//!   accounts' replies, quotes and reposts give it.
//! - `app.bsky.feed.post` and `app.bsky.feed.repost` records are posts, read as the Jetstream
//!   reader reads them (facets, embeds, replies, quotes; a repost is of `subject.uri`).
//!   Their time is the record's `createdAt`, the only time a repository keeps (set by the
//!   client). Likes, follows, blocks, lists and profiles are counted as not posts.
//! - Skips name the block and its byte offset (there are no lines): a block that is not
//!   DAG-CBOR, a post whose `createdAt` does not parse, a record the tree names that the
//!   file does not hold (a cut file), a post no tree path reaches. A cut file keeps every
//!   post whose block arrived.
//!
//! Records are held until the tree is walked: memory grows with the repository (a few
//! hundred bytes a post), not with anything else in the file.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::io::{BufRead, Read};

use ipld_core::cid::Cid;
use ipld_core::ipld::Ipld;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::bluesky::{Record, record_post};
use crate::read::Out;
use crate::read::text::{clip, parse_time};

/// Repository blocks are small (records are limited to 1 MiB); a length beyond this is a
/// corrupt file, not a block to hold.
const MAX_BLOCK_BYTES: u64 = 8 << 20;

/// The MST's depth is about log4 of the record count; far beyond it is a corrupt tree.
const MAX_TREE_DEPTH: usize = 128;

const POST: &str = "app.bsky.feed.post";
const REPOST: &str = "app.bsky.feed.repost";

/// Whether `head` starts with a CAR v1 header: a varint length, then a DAG-CBOR map of two
/// entries keyed `roots` and `version` (in DAG-CBOR's key order, `roots` first; `version`
/// first is accepted too).
pub(super) fn is_car_header(head: &[u8]) -> bool {
    let Ok((len, rest)) = unsigned_varint::decode::u64(head) else { return false };
    (8..=4096).contains(&len)
        && rest.first() == Some(&0xa2)
        && (rest[1..].starts_with(b"\x65roots") || rest[1..].starts_with(b"\x67version"))
}

/// Counts the bytes read through it, for the offsets skips name.
struct Counted<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.offset += n as u64;
        Ok(n)
    }
}

#[derive(Deserialize)]
struct CarHeader {
    version: u64,
    #[serde(default)]
    roots: Vec<Cid>,
}

/// Enough of a block to tell a record, a tree node and a commit apart.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "$type")]
    kind: Option<String>,
    e: Option<IgnoredAny>,
    did: Option<IgnoredAny>,
    data: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Commit {
    did: String,
    data: Cid,
}

#[derive(Deserialize)]
struct TreeNode {
    l: Option<Cid>,
    #[serde(default)]
    e: Vec<TreeEntry>,
}

#[derive(Deserialize)]
struct TreeEntry {
    p: usize,
    /// Bytes: read as IPLD, which keeps CBOR byte strings as bytes.
    k: Ipld,
    v: Cid,
    t: Option<Cid>,
}

/// A CID as a map key, hashed by the first 8 bytes of its digest (SHA-256: uniform
/// already) and compared whole: hashing the whole CID, and comparing the CIDs of the many
/// keys the hasher's weaker spread sent to one group, cost more than decoding the blocks.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key(Cid);

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let digest = self.0.hash().digest();
        let mut first = [0u8; 8];
        let n = digest.len().min(8);
        first[..n].copy_from_slice(&digest[..n]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

/// A post or repost record, waiting for the tree to give its key.
struct Held {
    record: Record,
    block: u64,
    offset: u64,
}

/// What the blocks gave.
#[derive(Default)]
struct Repository {
    roots: Vec<Cid>,
    commits: HashMap<Key, Commit>,
    nodes: HashMap<Key, TreeNode>,
    /// Boxed: a record is some hundreds of bytes, moved whole each time the map grows.
    held: HashMap<Key, Box<Held>>,
    /// Records of other collections, by CID: met again on the walk, and not posts.
    others: HashSet<Key>,
    /// Blocks skipped as damaged: met again on the walk, and reported once.
    damaged: HashSet<Key>,
}

enum Read1 {
    /// The section's bytes are in the buffer given.
    Block,
    End,
}

/// Reads one varint-prefixed section into `bytes` (one buffer for every block: records are
/// decoded out of it, never kept in it); `End` at a clean end of input.
fn section(r: &mut Counted<impl Read>, what: &str, bytes: &mut Vec<u8>) -> Result<Read1, (bool, String)> {
    let start = r.offset;
    let len = match unsigned_varint::io::read_u64(&mut *r) {
        Ok(len) => len,
        Err(unsigned_varint::io::ReadError::Io(e))
            if e.kind() == std::io::ErrorKind::UnexpectedEof && r.offset == start =>
        {
            return Ok(Read1::End);
        }
        Err(unsigned_varint::io::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err((true, format!("the input ends inside the length of the {what} at byte {start}")));
        }
        Err(e) => {
            return Err((false, format!("the length of the {what} at byte {start} is not a varint ({e})")));
        }
    };
    if len > MAX_BLOCK_BYTES {
        return Err((
            false,
            format!(
                "the {what} at byte {start} claims {len} bytes, more than any repository block \
                 ({MAX_BLOCK_BYTES}): the file is corrupt"
            ),
        ));
    }
    bytes.clear();
    let body = r.offset;
    match (&mut *r).take(len).read_to_end(bytes) {
        Ok(n) if n as u64 == len => Ok(Read1::Block),
        Ok(_) => Err((
            true,
            format!("the input ends {} bytes into the {len}-byte {what} at byte {start}", r.offset - body),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err((
            true,
            format!("the input ends {} bytes into the {len}-byte {what} at byte {start}", r.offset - body),
        )),
        Err(e) => Err((true, format!("cannot read the {what} at byte {start} ({e})"))),
    }
}

/// `$type` and a post or repost collection, as DAG-CBOR writes the pair: most blocks of a
/// repository are these records, decoded once, straight into a [`Record`].
const POST_TYPE: &[u8] = b"\x65$type\x72app.bsky.feed.post";
const REPOST_TYPE: &[u8] = b"\x65$type\x74app.bsky.feed.repost";

/// The searchers for those, built once (building one per block cost more than searching).
static POST_FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(POST_TYPE));
static REPOST_FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(REPOST_TYPE));

fn classify(repo: &mut Repository, cid: Cid, data: &[u8], block: u64, offset: u64, out: &mut Out<'_>) {
    let at = |reason: String| format!("block {block} at byte {offset} ({cid}): {reason}");
    if (POST_FINDER.find(data).is_some() || REPOST_FINDER.find(data).is_some())
        && let Ok(record) = serde_ipld_dagcbor::from_slice::<Record>(data)
        && matches!(record.kind(), Some(POST | REPOST))
    {
        out.report.records += 1;
        repo.held.insert(Key(cid), Box::new(Held { record, block, offset }));
        return;
    }
    let probe: Probe = match serde_ipld_dagcbor::from_slice(data) {
        Ok(p) => p,
        Err(e) => {
            out.skip(0, at(format!("not a DAG-CBOR map ({e})")));
            repo.damaged.insert(Key(cid));
            return;
        }
    };
    if let Some(kind) = probe.kind {
        out.report.records += 1;
        if kind == POST || kind == REPOST {
            match serde_ipld_dagcbor::from_slice::<Record>(data) {
                Ok(record) => {
                    repo.held.insert(Key(cid), Box::new(Held { record, block, offset }));
                }
                Err(e) => {
                    out.skip(0, at(format!("{kind} record: {e}")));
                    repo.damaged.insert(Key(cid));
                }
            }
        } else {
            out.report.not_posts += 1;
            repo.others.insert(Key(cid));
        }
    } else if probe.e.is_some() {
        match serde_ipld_dagcbor::from_slice::<TreeNode>(data) {
            Ok(node) => {
                repo.nodes.insert(Key(cid), node);
            }
            Err(e) => out.skip(0, at(format!("repository tree node: {e}"))),
        }
    } else if probe.did.is_some() && probe.data.is_some() {
        match serde_ipld_dagcbor::from_slice::<Commit>(data) {
            Ok(commit) => {
                repo.commits.insert(Key(cid), commit);
            }
            Err(e) => out.skip(0, at(format!("commit: {e}"))),
        }
    }
    // Anything else (a CBOR map that is none of these) is structure the reader does not
    // need, such as the blocks of a record's own links.
}

/// The blocks of a CAR v1 held in memory (a firehose commit's `blocks`, a diff of the
/// repository), each CID with its bytes, in file order. The header's roots are not needed
/// by the firehose reader (the frame names its commit) and are not returned.
pub(super) fn car_slice_blocks(bytes: &[u8]) -> Result<Vec<(Cid, &[u8])>, String> {
    let section = |at: usize| -> Result<(usize, usize), String> {
        let (len, rest) = unsigned_varint::decode::u64(&bytes[at..])
            .map_err(|e| format!("the length at byte {at} of the CAR slice is not a varint ({e})"))?;
        let start = bytes.len() - rest.len();
        let end = usize::try_from(len).ok().and_then(|l| start.checked_add(l)).filter(|&e| e <= bytes.len());
        let end = end.ok_or_else(|| {
            format!(
                "the section at byte {at} of the CAR slice claims {len} bytes, past its end ({})",
                bytes.len()
            )
        })?;
        Ok((start, end))
    };
    let (start, end) = section(0)?;
    match serde_ipld_dagcbor::from_slice::<CarHeader>(&bytes[start..end]) {
        Ok(h) if h.version == 1 => {}
        Ok(h) => return Err(format!("the CAR slice is version {}, not 1", h.version)),
        Err(e) => return Err(format!("the CAR slice's header is not {{version, roots}} ({e})")),
    }
    let mut blocks = Vec::new();
    let mut at = end;
    while at < bytes.len() {
        let (start, end) = section(at)?;
        let mut cursor = std::io::Cursor::new(&bytes[start..end]);
        let cid = Cid::read_bytes(&mut cursor)
            .map_err(|e| format!("the block at byte {at} of the CAR slice: its CID does not parse ({e})"))?;
        blocks.push((cid, &bytes[start + cursor.position() as usize..end]));
        at = end;
    }
    Ok(blocks)
}

/// Walks the tree from `node` in key order, handing each `(key, record CID)` to `visit`.
fn walk(
    repo: &Repository,
    node: Cid,
    depth: usize,
    seen: &mut HashSet<Key>,
    visit: &mut dyn FnMut(Result<(String, Cid), String>),
) {
    if depth > MAX_TREE_DEPTH || !seen.insert(Key(node)) {
        visit(Err(format!("repository tree node {node} is reached again or too deep: the tree is corrupt")));
        return;
    }
    let Some(n) = repo.nodes.get(&Key(node)) else {
        visit(Err(format!(
            "repository tree node {node} is not in the file; the records under it are not read"
        )));
        return;
    };
    if let Some(left) = n.l {
        walk(repo, left, depth + 1, seen, visit);
    }
    let mut key: Vec<u8> = Vec::new();
    for entry in &n.e {
        let Ipld::Bytes(suffix) = &entry.k else {
            visit(Err(format!("repository tree node {node}: a key is not bytes")));
            return;
        };
        if entry.p > key.len() {
            visit(Err(format!(
                "repository tree node {node}: a key shares more bytes than the one before it has"
            )));
            return;
        }
        key.truncate(entry.p);
        key.extend_from_slice(suffix);
        match std::str::from_utf8(&key) {
            Ok(k) => visit(Ok((k.to_string(), entry.v))),
            Err(_) => visit(Err(format!("repository tree node {node}: a key is not UTF-8"))),
        }
        if let Some(right) = entry.t {
            walk(repo, right, depth + 1, seen, visit);
        }
    }
}

/// Reads a repository CAR file: blocks as they arrive, then the tree, emitting its posts
/// in key order.
pub(super) fn read_car(stream: impl BufRead, out: &mut Out<'_>) {
    let mut r = Counted { inner: stream, offset: 0 };
    let mut repo = Repository::default();
    let mut bytes = Vec::new();
    match section(&mut r, "CAR header", &mut bytes) {
        Ok(Read1::Block) => match serde_ipld_dagcbor::from_slice::<CarHeader>(&bytes) {
            Ok(h) if h.version == 1 => repo.roots = h.roots,
            Ok(h) => {
                out.skip(0, format!("CAR version {} is not read: getRepo writes version 1", h.version));
                return;
            }
            Err(e) => {
                out.skip(0, format!("not a CAR file: the header at byte 0 is not {{version, roots}} ({e})"));
                return;
            }
        },
        Ok(Read1::End) => {
            out.skip(0, "the CAR file is empty".to_string());
            return;
        }
        Err((_, reason)) => {
            out.skip(0, format!("not a CAR file: {reason}"));
            return;
        }
    }
    let mut block = 0u64;
    loop {
        let offset = r.offset;
        match section(&mut r, "block", &mut bytes) {
            Ok(Read1::End) => break,
            Ok(Read1::Block) => {
                block += 1;
                let mut cursor = std::io::Cursor::new(&bytes[..]);
                match Cid::read_bytes(&mut cursor) {
                    Ok(cid) => {
                        let data = &bytes[cursor.position() as usize..];
                        classify(&mut repo, cid, data, block, offset, out);
                    }
                    Err(e) => {
                        out.skip(0, format!("block {} at byte {offset}: its CID does not parse ({e})", block))
                    }
                }
            }
            Err((truncated, reason)) => {
                out.report.truncated |= truncated;
                out.skip(0, format!("{reason}; the blocks before it were kept"));
                break;
            }
        }
    }
    let Some(commit) = repo.roots.first().and_then(|root| repo.commits.get(&Key(*root))) else {
        let root = repo.roots.first().map_or("none".to_string(), Cid::to_string);
        out.skip(
            0,
            format!(
                "the file holds no commit for its root ({root}): not a repository export; its {} post records \
                 have no account",
                repo.held.len()
            ),
        );
        out.report.skipped += repo.held.len() as u64;
        return;
    };
    let did = commit.did.clone();
    let mut held = std::mem::take(&mut repo.held);
    let mut seen = HashSet::default();
    walk(&repo, commit.data, 0, &mut seen, &mut |entry| {
        let (key, cid) = match entry {
            Ok(entry) => entry,
            Err(reason) => return out.skip(0, reason),
        };
        let Some((collection, rkey)) = key.split_once('/') else {
            return out.skip(0, format!("repository key '{}' is not <collection>/<rkey>", clip(&key)));
        };
        if collection != POST && collection != REPOST {
            return;
        }
        let Some(h) = held.remove(&Key(cid)).map(|h| *h) else {
            if !repo.others.contains(&Key(cid)) && !repo.damaged.contains(&Key(cid)) {
                out.skip(0, format!("record {key} ({cid}) is named by the tree but not in the file"));
            }
            return;
        };
        let at = format!("block {} at byte {} ({key})", h.block, h.offset);
        let Some(created) = h.record.created_at().map(str::to_string) else {
            return out.skip(0, format!("{at}: field createdAt: missing"));
        };
        let Some(time) = parse_time(&created) else {
            return out
                .skip(0, format!("{at}: field createdAt: cannot parse '{}' as a time", clip(&created)));
        };
        match record_post(&did, collection, rkey, h.record, time, "") {
            Ok(post) => out.emit(post),
            Err(reason) => out.skip(0, format!("{at}: {reason}")),
        }
    });
    // Post records the walk did not reach (a tree cut off, or blocks outside it).
    let mut left: Vec<&Held> = held.values().map(|h| &**h).collect();
    left.sort_by_key(|h| h.block);
    for h in left {
        out.skip(
            0,
            format!(
                "block {} at byte {}: a post record that no repository tree path reaches",
                h.block, h.offset
            ),
        );
    }
}

//! Readers: every input format, streamed into one [`Post`] type.
//!
//! | name         | input                                                                   |
//! |--------------|-------------------------------------------------------------------------|
//! | `twitter-v1` | Twitter API v1.1 tweet objects, one JSON object per line                |
//! | `twitter-v2` | Twitter API v2 JSONL as twarc2 writes it (response pages, or flattened) |
//! | `ira`        | the Clemson/FiveThirtyEight IRA CSV, and its per-author reorganisation   |
//! | `io-archive` | Twitter's information-operations archive CSV (and its column subsets)   |
//! | `csv`        | any CSV, with a [`ColumnMapping`] naming the columns                    |
//! | `telegram`   | Telegram Desktop's JSON export (`result.json`: one chat, or a whole account) |
//! | `telegram-html` | Telegram Desktop's HTML export (`messages.html`, `messages2.html`, ...) |
//! | `telethon`   | Telegram API messages as Telethon writes them (`Message.to_dict()`), one per line |
//! | `reddit`     | Pushshift / Arctic-Shift NDJSON dumps of submissions and comments        |
//! | `reddit-export` | Reddit's own data export (GDPR request) `posts.csv` and `comments.csv` |
//! | `bluesky`    | Bluesky Jetstream JSON lines (`app.bsky.feed.post`, `repost`, `like`)    |
//! | `bluesky-car` | a Bluesky repository export (`com.atproto.sync.getRepo`, CAR v1)       |
//! | `bluesky-firehose` | saved `com.atproto.sync.subscribeRepos` frames (DAG-CBOR, `#commit` CAR slices) |
//! | `meta`       | Meta Content Library CSV exports (Facebook and Instagram posts)         |
//! | `crowdtangle`| CrowdTangle historical CSV exports (Facebook and Instagram)             |
//! | `tiktok`     | TikTok Research API responses (videos and comments)                      |
//! | `youtube`    | YouTube Data API `commentThreads` responses                             |
//! | `4cat`       | 4CAT exports (CSV or NDJSON with 4CAT's mapped columns)                 |
//!
//! Accounts of the platform readers are platform-qualified (`telegram:channel1036362176`,
//! `reddit:some_user`, `bluesky:did:plc:...`), and so are the ids of the posts they refer
//! to, so that one scan can read several platforms without their accounts or posts
//! colliding. The Twitter readers keep Twitter's ids as they are.
//!
//! Every reader takes plain, gzip or zstd input (told apart by the magic bytes, not the file
//! name), never panics on bad input, and reports what it could not use in a
//! [`ReadReport`]: malformed records are skipped and counted with their line number (for
//! a binary CAR file, the block and its byte offset) and the field at fault; a truncated
//! input keeps every complete record before the cut.

mod csvio;
mod generic;
mod input;
mod io_archive;
mod ira;
mod items;
mod jsonl;
mod platforms;
mod records;
pub(crate) mod text;
mod twitter_v1;
mod twitter_v2;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

pub use generic::{ColumnMapping, MappedField};
pub use items::{ITEM_COLUMNS, ingest_items};
pub use scrutineer_core::lines::DEFAULT_MAX_LINE_BYTES;
pub use text::{TextEntities, extract_entities};

use crate::post::{Post, PostRef};

/// An input format, as named on the command line (`--format`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Format {
    /// Sniff the input: JSON lines are told apart by their keys, CSV by its header.
    #[default]
    Auto,
    /// Twitter API v1.1 tweet objects, one per line.
    TwitterV1,
    /// Twitter API v2 JSON lines as twarc2 writes them.
    TwitterV2,
    /// The Clemson/FiveThirtyEight IRA CSV.
    Ira,
    /// Twitter's information-operations archive CSV.
    IoArchive,
    /// Generic CSV with the columns named by a mapping.
    Csv(ColumnMapping),
    /// Telegram Desktop's JSON export (`result.json`).
    Telegram,
    /// Telegram Desktop's HTML export (`messages*.html`).
    TelegramHtml,
    /// Telethon `Message` objects, one per line.
    Telethon,
    /// Pushshift / Arctic-Shift Reddit NDJSON.
    Reddit,
    /// Reddit's data export CSVs (`posts.csv`, `comments.csv`).
    RedditExport,
    /// Bluesky Jetstream JSON lines.
    Bluesky,
    /// A Bluesky repository CAR export.
    BlueskyCar,
    /// Saved Bluesky firehose (`com.atproto.sync.subscribeRepos`) frames.
    BlueskyFirehose,
    /// Meta Content Library CSV.
    MetaContentLibrary,
    /// CrowdTangle historical CSV.
    CrowdTangle,
    /// TikTok Research API JSON.
    TikTok,
    /// YouTube Data API comment threads JSON.
    YouTube,
    /// 4CAT CSV or NDJSON.
    FourCat,
}

impl Format {
    /// The names accepted by [`Format::from_str`], in the order `--help` lists them.
    pub const NAMES: [&'static str; 19] = [
        "auto",
        "twitter-v1",
        "twitter-v2",
        "ira",
        "io-archive",
        "csv",
        "telegram",
        "telegram-html",
        "telethon",
        "reddit",
        "reddit-export",
        "bluesky",
        "bluesky-car",
        "bluesky-firehose",
        "meta",
        "crowdtangle",
        "tiktok",
        "youtube",
        "4cat",
    ];

    /// The command-line name of this format.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::TwitterV1 => "twitter-v1",
            Format::TwitterV2 => "twitter-v2",
            Format::Ira => "ira",
            Format::IoArchive => "io-archive",
            Format::Csv(_) => "csv",
            Format::Telegram => "telegram",
            Format::TelegramHtml => "telegram-html",
            Format::Telethon => "telethon",
            Format::Reddit => "reddit",
            Format::RedditExport => "reddit-export",
            Format::Bluesky => "bluesky",
            Format::BlueskyCar => "bluesky-car",
            Format::BlueskyFirehose => "bluesky-firehose",
            Format::MetaContentLibrary => "meta",
            Format::CrowdTangle => "crowdtangle",
            Format::TikTok => "tiktok",
            Format::YouTube => "youtube",
            Format::FourCat => "4cat",
        }
    }

    /// Attaches a column mapping: `csv` takes it; any other format is left as it is.
    pub fn with_mapping(self, mapping: ColumnMapping) -> Format {
        match self {
            Format::Csv(_) => Format::Csv(mapping),
            other => other,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ReadError;

    /// Parses a format name. `csv` gives a generic CSV format with an empty mapping (attach
    /// one with [`Format::with_mapping`]); `csv:account=user,time=created_at` gives it
    /// with that mapping.
    fn from_str(s: &str) -> Result<Format, ReadError> {
        let s = s.trim();
        if let Some(spec) = s.strip_prefix("csv:") {
            return Ok(Format::Csv(spec.parse()?));
        }
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "twitter-v1" | "twitter-v1.1" | "v1" => Format::TwitterV1,
            "twitter-v2" | "twarc2" | "v2" => Format::TwitterV2,
            "ira" => Format::Ira,
            "io-archive" => Format::IoArchive,
            "csv" => Format::Csv(ColumnMapping::default()),
            "telegram" | "telegram-desktop" => Format::Telegram,
            "telegram-html" => Format::TelegramHtml,
            "telethon" | "telegram-api" => Format::Telethon,
            "reddit" | "pushshift" | "arctic-shift" => Format::Reddit,
            "reddit-export" | "reddit-gdpr" => Format::RedditExport,
            "bluesky" | "jetstream" => Format::Bluesky,
            "bluesky-car" | "atproto-car" | "car" => Format::BlueskyCar,
            "bluesky-firehose" | "firehose" | "subscribe-repos" => Format::BlueskyFirehose,
            "meta" | "meta-content-library" => Format::MetaContentLibrary,
            "crowdtangle" => Format::CrowdTangle,
            "tiktok" => Format::TikTok,
            "youtube" => Format::YouTube,
            "4cat" => Format::FourCat,
            _ => return Err(ReadError::UnknownFormatName { name: s.to_string() }),
        })
    }
}

/// Which of a post's entity lists the caller uses. Readers leave the others empty and
/// skip the work of finding them (in post text, or in list cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// Fill [`Post::urls`].
    pub urls: bool,
    /// Fill [`Post::hashtags`].
    pub hashtags: bool,
    /// Fill [`Post::mentions`].
    pub mentions: bool,
}

impl Fields {
    /// Every list filled.
    pub const ALL: Fields = Fields { urls: true, hashtags: true, mentions: true };
}

/// A record that was not turned into a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Physical line (1-based) where the record starts; for CSV the header is line 1. 0 for
    /// a binary input (a CAR file), whose reason names the block and its byte offset.
    pub line: u64,
    /// Why, naming the field at fault where there is one.
    pub reason: String,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // A binary input (CAR): the reason names the block and its byte offset.
            return f.write_str(&self.reason);
        }
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What a reader did with one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReport {
    /// The name the input was read under (a path, or what the caller passed).
    pub source: String,
    /// The format actually read (after sniffing for `auto`).
    pub format: &'static str,
    /// Records seen: CSV rows after the header, non-blank JSON lines.
    pub records: u64,
    /// Posts handed to the sink (a twarc2 page line holds many).
    pub posts: u64,
    /// Records, or posts within a record, that were skipped.
    pub skipped: u64,
    /// The first [`ReadReport::MAX_SKIP_SAMPLES`] skips, in input order.
    pub skip_samples: Vec<Skip>,
    /// Records that were not valid UTF-8 and were decoded as Windows-1252.
    pub decoded_latin1: u64,
    /// The input ended early (cut mid-stream, mid-record or mid-quoted-field); every
    /// complete record before the cut was read.
    pub truncated: bool,
    /// Well-formed posts with no account to attribute them to (Reddit's `[deleted]` and
    /// `[removed]` authors, TikTok comments, which the Research API gives without one):
    /// counted here, never made an account.
    pub unattributed: u64,
    /// Well-formed records that are not posts (Telegram service messages, Bluesky likes,
    /// follows, deletions and identity events): counted here, not skipped as faults.
    pub not_posts: u64,
}

impl ReadReport {
    /// How many skips are kept as samples.
    pub const MAX_SKIP_SAMPLES: usize = 100;

    fn new(source: &str) -> ReadReport {
        ReadReport {
            source: source.to_string(),
            format: "auto",
            records: 0,
            posts: 0,
            skipped: 0,
            skip_samples: Vec::new(),
            decoded_latin1: 0,
            truncated: false,
            unattributed: 0,
            not_posts: 0,
        }
    }

    /// Longest skip reason kept: reasons quote the value at fault, which can be as long
    /// as a line.
    pub const MAX_REASON_BYTES: usize = 400;

    fn skip(&mut self, line: u64, reason: String) {
        self.skipped += 1;
        if self.skip_samples.len() < Self::MAX_SKIP_SAMPLES {
            let reason = if reason.len() > Self::MAX_REASON_BYTES {
                let mut cut = Self::MAX_REASON_BYTES;
                while !reason.is_char_boundary(cut) {
                    cut -= 1;
                }
                format!("{}… ({} bytes in all)", &reason[..cut], reason.len())
            } else {
                reason
            };
            self.skip_samples.push(Skip { line, reason });
        }
    }
}

impl fmt::Display for ReadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} posts from {} records ({}), {} skipped",
            self.source, self.posts, self.records, self.format, self.skipped
        )?;
        if self.decoded_latin1 > 0 {
            write!(f, ", {} decoded as Windows-1252", self.decoded_latin1)?;
        }
        if self.unattributed > 0 {
            write!(f, ", {} without an account (deleted authors; counted, not accused)", self.unattributed)?;
        }
        if self.not_posts > 0 {
            write!(f, ", {} records that are not posts", self.not_posts)?;
        }
        if self.truncated {
            write!(f, ", input truncated")?;
        }
        Ok(())
    }
}

/// Why an input could not be read at all. Record-level problems are not errors: they are
/// [`Skip`]s in the [`ReadReport`].
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{source_name}: {source}")]
    /// The input could not be read.
    Io {
        /// The input's name.
        source_name: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: the input is empty")]
    /// The input holds nothing.
    Empty {
        /// The input's name.
        source_name: String,
    },
    #[error(
        "{source_name}: cannot tell the input format: saw {seen}. Expected one of: twitter-v1 (JSON lines \
         with id_str and user), twitter-v2 (twarc2 JSONL with data/includes, or flattened tweets with \
         author_id), ira (CSV with author_id or external_author_id, content, publish_date), io-archive \
         (CSV with tweetid, userid, tweet_time), telegram (result.json with messages), telethon (JSON \
         lines with \"_\": \"Message\" and peer_id), reddit (JSON lines with author, subreddit, \
         created_utc), reddit-export (Reddit's data-export CSV with id, permalink, date, and subreddit or \
         link), bluesky (Jetstream JSON lines with did, time_us, kind), bluesky-car (a repository CAR \
         file), bluesky-firehose (saved subscribeRepos frames), telegram-html (Telegram Desktop's messages.html), meta (CSV with id, \
         creation_time, post_owner.id or owner.id), crowdtangle (CSV with Post Created and Facebook Id \
         or User Name), tiktok (Research API JSON with data.videos or data.comments), youtube \
         (youtube#commentThread JSON), 4cat (CSV or JSON lines with id, thread_id, author, body, \
         timestamp), or a generic CSV with a column mapping (--format csv)"
    )]
    /// The input is none of the formats read.
    UnknownFormat {
        /// The input's name.
        source_name: String,
        /// What its start looked like.
        seen: String,
    },
    #[error(
        "unknown input format '{name}': expected one of auto, twitter-v1, twitter-v2, ira, io-archive, csv, \
         telegram, telegram-html, telethon, reddit, reddit-export, bluesky, bluesky-car, bluesky-firehose, \
         meta, crowdtangle, tiktok, youtube, 4cat"
    )]
    /// A format name that is not one of [`Format::NAMES`].
    UnknownFormatName {
        /// The name given.
        name: String,
    },
    #[error(
        "{source_name}: {kind}-compressed input is not supported: decompress it first (gzip and zstd are read directly)"
    )]
    /// The input is compressed in a way not read (only gzip is).
    UnsupportedCompression {
        /// The input's name.
        source_name: String,
        /// The compression found (`zstd`, `bzip2`, `xz`, ...).
        kind: &'static str,
    },
    #[error(
        "{source_name}: missing required column{} for format {format}: {}; the header has: {}",
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", "),
        found.join(", ")
    )]
    /// A CSV header lacks columns the format needs.
    MissingColumns {
        /// The input's name.
        source_name: String,
        /// The format read.
        format: &'static str,
        /// The columns missing.
        missing: Vec<String>,
        /// The columns the header has.
        found: Vec<String>,
    },
    #[error("{source_name}: cannot tell whose posts these are: {why}")]
    /// An export that names no account, and whose account could not be found beside it
    /// (Reddit's data export names it only in `statistics.csv`).
    NoAccount {
        /// The input's name.
        source_name: String,
        /// What was looked for, and where.
        why: String,
    },
    #[error("bad column mapping ({origin}): {reason}")]
    /// A column mapping that cannot be used.
    BadMapping {
        /// Where the mapping came from (`--map`, a file).
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Streams posts from any reader (plain or gzip) into `sink`, returning what was read and
/// skipped. `source_name` names the input in the report and in errors.
pub fn read_posts<R: Read>(
    input: R,
    source_name: &str,
    format: &Format,
    sink: impl FnMut(Post),
) -> Result<ReadReport, ReadError> {
    read_posts_with(input, source_name, format, Fields::ALL, &keep, sink)
}

fn keep(post: PostRef<'_>) -> Post {
    post.into_owned()
}

/// Like [`read_posts`], but only the entity lists in `fields` are filled, each post first
/// goes through `transform`, and `sink` gets what it returns, still in input order. CSV
/// readers run `transform` on their mapping threads together with the row mapping, on a
/// [`PostRef`] that borrows from the record, so a caller's per-post work done there is
/// spread over the cores, and neither the post nor any of its strings is copied unless
/// `transform` keeps it.
pub fn read_posts_with<R: Read, T: Send>(
    input: R,
    source_name: &str,
    format: &Format,
    fields: Fields,
    transform: &(dyn Fn(PostRef<'_>) -> T + Sync),
    sink: impl FnMut(T),
) -> Result<ReadReport, ReadError> {
    read_posts_limited(input, source_name, format, fields, DEFAULT_MAX_LINE_BYTES, transform, sink)
}

/// Like [`read_posts_with`], with lines longer than `max_line` bytes (after
/// decompression) skipped, and reported with their length and first bytes, without
/// ever being held whole.
pub fn read_posts_limited<R: Read, T: Send>(
    input: R,
    source_name: &str,
    format: &Format,
    fields: Fields,
    max_line: usize,
    transform: &(dyn Fn(PostRef<'_>) -> T + Sync),
    mut sink: impl FnMut(T),
) -> Result<ReadReport, ReadError> {
    let mut input = input;
    let mut out = Out { report: ReadReport::new(source_name), sink: &mut sink, transform, fields };
    read_dyn(&mut input, format, max_line, &mut out)?;
    Ok(out.report)
}

/// Opens `path` and streams its posts into `sink`; see [`read_posts`].
pub fn read_posts_from_path(
    path: &Path,
    format: &Format,
    sink: impl FnMut(Post),
) -> Result<ReadReport, ReadError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| ReadError::Io { source_name: name.clone(), source })?;
    read_posts(file, &name, format, sink)
}

/// A rough count of the posts in the files at `paths`, from their sizes and kinds: about
/// 200 bytes a post in CSV (a row of the usual exports) and 3,000 in JSON lines (a tweet
/// object with its user; also taken for JSON documents, HTML pages and CAR files, whose
/// posts are larger than a CSV row), three times as many bytes once gzip is undone. Both err low, so
/// that room made by the estimate is rarely more than needed. Files that cannot be read
/// count as empty. It is a guess to make room by ([`crate::corpus::Corpus::expect_posts`]),
/// never a limit.
pub fn estimate_posts<P: AsRef<Path>>(paths: &[P]) -> usize {
    const CSV_BYTES_PER_POST: u64 = 200;
    const JSON_BYTES_PER_POST: u64 = 3_000;
    const GZIP_RATIO: u64 = 3;
    let posts: u64 = paths
        .iter()
        .map(|path| {
            let Ok(mut file) = File::open(path) else { return 0 };
            let size = file.metadata().map_or(0, |m| m.len());
            let mut magic = [0u8; 6];
            let n = file.read(&mut magic).unwrap_or(0);
            let compressed = matches!(
                scrutineer_core::input::sniff(&magic[..n]),
                scrutineer_core::input::Sniffed::Readable(c) if c.is_compressed()
            );
            let json = File::open(path).ok().and_then(|f| detect_format(f, "").ok()).is_some_and(|format| {
                matches!(
                    format,
                    Format::TwitterV1
                        | Format::TwitterV2
                        | Format::Telegram
                        | Format::TelegramHtml
                        | Format::Telethon
                        | Format::Reddit
                        | Format::Bluesky
                        | Format::BlueskyCar
                        | Format::BlueskyFirehose
                        | Format::TikTok
                        | Format::YouTube
                )
            });
            let bytes = if compressed { size.saturating_mul(GZIP_RATIO) } else { size };
            bytes / if json { JSON_BYTES_PER_POST } else { CSV_BYTES_PER_POST }
        })
        .fold(0, u64::saturating_add);
    usize::try_from(posts).unwrap_or(usize::MAX)
}

/// Works out the format of an input without reading past its first non-blank line.
pub fn detect_format<R: Read>(input: R, source_name: &str) -> Result<Format, ReadError> {
    let mut input = input;
    let opened = input::open(&mut input, source_name, DEFAULT_MAX_LINE_BYTES)?;
    match opened.binary() {
        Some(input::Binary::Car) => return Ok(Format::BlueskyCar),
        Some(input::Binary::Firehose) => return Ok(Format::BlueskyFirehose),
        None => {}
    }
    if opened.first_line.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ReadError::Empty { source_name: source_name.to_string() });
    }
    Ok(match input::detect(opened.head(), source_name)? {
        input::Sniffed::TwitterV1 => Format::TwitterV1,
        input::Sniffed::TwitterV2 => Format::TwitterV2,
        input::Sniffed::Ira => Format::Ira,
        input::Sniffed::IoArchive => Format::IoArchive,
        input::Sniffed::Platform(p) => p.format(),
    })
}

/// Where readers put their output: each post goes through `transform` into `sink`.
pub(crate) struct Out<'s, T = Post> {
    pub report: ReadReport,
    pub sink: &'s mut dyn FnMut(T),
    pub transform: &'s (dyn Fn(PostRef<'_>) -> T + Sync),
    pub fields: Fields,
}

impl Out<'_, Post> {
    /// Emits a post as it is. Only the JSON parsers emit this way, into the `Out` that
    /// [`drive_json`] gives them, which hands their posts to the caller's transform
    /// itself, on another thread.
    pub fn emit(&mut self, post: Post) {
        self.emit_transformed(post);
    }
}

impl<T> Out<'_, T> {
    /// Emits a post that has been through `transform` already (on another thread).
    pub fn emit_transformed(&mut self, item: T) {
        self.report.posts += 1;
        (self.sink)(item);
    }

    pub fn skip(&mut self, line: u64, reason: String) {
        self.report.skip(line, reason);
    }

    pub fn source(&self) -> &str {
        &self.report.source
    }
}

fn read_dyn<T: Send>(
    raw: &mut dyn Read,
    format: &Format,
    max_line: usize,
    out: &mut Out<'_, T>,
) -> Result<(), ReadError> {
    if let Format::Csv(mapping) = format {
        mapping.validate()?;
    }
    let source_name = out.source().to_string();
    let opened = input::open(raw, &source_name, max_line)?;
    let resolved = match format {
        Format::Auto if opened.binary() == Some(input::Binary::Car) => {
            Resolved::Platform(platforms::Platform::BlueskyCar)
        }
        Format::Auto if opened.binary() == Some(input::Binary::Firehose) => {
            Resolved::Platform(platforms::Platform::BlueskyFirehose)
        }
        Format::Auto => {
            if opened.first_line.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(ReadError::Empty { source_name });
            }
            input::detect(opened.head(), &source_name)?.into()
        }
        Format::TwitterV1 => Resolved::TwitterV1,
        Format::TwitterV2 => Resolved::TwitterV2,
        Format::Ira => Resolved::Ira,
        Format::IoArchive => Resolved::IoArchive,
        Format::Csv(mapping) => Resolved::Csv(mapping),
        Format::Telegram => Resolved::Platform(platforms::Platform::Telegram),
        Format::TelegramHtml => Resolved::Platform(platforms::Platform::TelegramHtml),
        Format::Telethon => Resolved::Platform(platforms::Platform::Telethon),
        Format::Reddit => Resolved::Platform(platforms::Platform::Reddit),
        Format::RedditExport => Resolved::Platform(platforms::Platform::RedditExport),
        Format::Bluesky => Resolved::Platform(platforms::Platform::Bluesky),
        Format::BlueskyCar => Resolved::Platform(platforms::Platform::BlueskyCar),
        Format::BlueskyFirehose => Resolved::Platform(platforms::Platform::BlueskyFirehose),
        Format::MetaContentLibrary => Resolved::Platform(platforms::Platform::MetaContentLibrary),
        Format::CrowdTangle => Resolved::Platform(platforms::Platform::CrowdTangle),
        Format::TikTok => Resolved::Platform(platforms::Platform::TikTok),
        Format::YouTube => Resolved::Platform(platforms::Platform::YouTube),
        Format::FourCat => Resolved::Platform(platforms::Platform::FourCat),
    };
    // JSON documents written over several lines (Telegram's result.json, a pretty-printed
    // API response) are read as documents, not lines.
    let shape = platforms::Shape {
        json: opened
            .first_line
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&opened.first_line)
            .trim_ascii()
            .starts_with(b"{"),
        lines: opened.first_line_is_whole_json(),
    };
    match resolved {
        Resolved::Platform(platforms::Platform::BlueskyCar) => {
            out.report.format = "bluesky-car";
            let stream = opened.into_binary();
            drive_owned(out, |o| platforms::read_car(stream, o));
            return Ok(());
        }
        Resolved::Platform(platforms::Platform::BlueskyFirehose) => {
            out.report.format = "bluesky-firehose";
            let stream = opened.into_binary();
            drive_owned(out, |o| platforms::read_firehose(stream, o));
            return Ok(());
        }
        _ => {}
    }
    let stream = opened.into_stream();
    match resolved {
        Resolved::TwitterV1 => {
            out.report.format = "twitter-v1";
            drive_json(stream, out, &mut twitter_v1::V1Parser);
        }
        Resolved::TwitterV2 => {
            out.report.format = "twitter-v2";
            drive_json(stream, out, &mut twitter_v2::V2Parser);
        }
        Resolved::Ira => {
            out.report.format = "ira";
            csvio::drive(stream, b',', out, "ira", ira::IraMapper::from_headers)?;
        }
        Resolved::IoArchive => {
            out.report.format = "io-archive";
            csvio::drive(stream, b',', out, "io-archive", io_archive::IoMapper::from_headers)?;
        }
        Resolved::Csv(mapping) => {
            out.report.format = "csv";
            csvio::drive(stream, mapping.delimiter(), out, "csv", |h| mapping.resolve(h))?;
        }
        Resolved::Platform(platform) => {
            out.report.format = platform.format().name();
            platforms::read(platform, stream, shape, out)?;
        }
    }
    Ok(())
}

/// Runs a JSON-lines parser on this thread while another thread transforms its posts in
/// batches (on the rayon pool); the sink gets them back here, in input order.
fn drive_json<T: Send>(
    stream: impl std::io::BufRead,
    out: &mut Out<'_, T>,
    parser: &mut dyn jsonl::LineParser,
) {
    drive_owned(out, |inner| jsonl::drive(stream, inner, parser));
}

/// Runs `produce`, which emits owned posts on this thread, while another thread
/// transforms them in batches (on the rayon pool); the sink gets them back here, in input
/// order.
fn drive_owned<T: Send>(out: &mut Out<'_, T>, produce: impl FnOnce(&mut Out<'_>)) {
    use rayon::prelude::*;
    use std::sync::mpsc;
    const BATCH: usize = 1024;
    let transform = out.transform;
    let fields = out.fields;
    let sink = &mut *out.sink;
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = mpsc::sync_channel::<Vec<Post>>(4);
        let (done_tx, done_rx) = mpsc::channel::<Vec<T>>();
        scope.spawn(move || {
            for batch in work_rx {
                // Moved, not borrowed: a transform that keeps the strings takes them
                // as they are instead of copying each.
                let done: Vec<T> = batch.into_par_iter().map(|post| transform(post.into_cows())).collect();
                if done_tx.send(done).is_err() {
                    break;
                }
            }
        });
        let mut pending: Vec<Post> = Vec::with_capacity(BATCH);
        // A send fails only if the transforming thread panicked; the scope re-raises it.
        let hand_over = |pending: &mut Vec<Post>, sink: &mut dyn FnMut(T)| {
            if !pending.is_empty() {
                let _ = work_tx.send(std::mem::replace(pending, Vec::with_capacity(BATCH)));
            }
            while let Ok(done) = done_rx.try_recv() {
                done.into_iter().for_each(&mut *sink);
            }
        };
        // JSON carries its entities, so there is nothing to save: unwanted lists are
        // emptied only so that every reader keeps the same contract.
        let mut posts = |mut post: Post| {
            if !fields.urls {
                post.urls.clear();
            }
            if !fields.hashtags {
                post.hashtags.clear();
            }
            if !fields.mentions {
                post.mentions.clear();
            }
            pending.push(post);
            if pending.len() == BATCH {
                hand_over(&mut pending, &mut *sink);
            }
        };
        let report = std::mem::replace(&mut out.report, ReadReport::new(""));
        let mut inner = Out { report, sink: &mut posts, transform: &keep, fields };
        produce(&mut inner);
        out.report = inner.report;
        hand_over(&mut pending, &mut *sink);
        drop(work_tx);
        for done in done_rx {
            done.into_iter().for_each(&mut *sink);
        }
    });
}

/// A format with `auto` decided.
enum Resolved<'m> {
    TwitterV1,
    TwitterV2,
    Ira,
    IoArchive,
    Csv(&'m ColumnMapping),
    Platform(platforms::Platform),
}

impl From<input::Sniffed> for Resolved<'_> {
    fn from(s: input::Sniffed) -> Self {
        match s {
            input::Sniffed::TwitterV1 => Resolved::TwitterV1,
            input::Sniffed::TwitterV2 => Resolved::TwitterV2,
            input::Sniffed::Ira => Resolved::Ira,
            input::Sniffed::IoArchive => Resolved::IoArchive,
            input::Sniffed::Platform(p) => Resolved::Platform(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate is within a factor of two of the real count: on the real IRA export
    /// (gzip) and on a plain CSV of 200-byte rows; an unreadable path counts as empty.
    #[test]
    fn post_estimates_are_near_the_real_counts() {
        let ira = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz");
        assert!(ira.is_file(), "missing shared data file {} (see ../shared/data/README.md)", ira.display());
        let mut posts = 0;
        read_posts_from_path(&ira, &Format::Auto, |_| posts += 1).expect("reads");
        let guess = estimate_posts(&[&ira]);
        assert!(guess > posts / 2 && guess < posts * 2, "{guess} for {posts} posts");

        let dir = std::env::temp_dir().join(format!("scrutineer-estimate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let plain = dir.join("rows.csv");
        let row = format!("{}\n", "x".repeat(199));
        std::fs::write(&plain, row.repeat(1000)).expect("write");
        assert_eq!(estimate_posts(&[&plain, &dir.join("missing.csv")]), 1000);
        // Tweet objects of 3,000 bytes: one post each, not fifteen.
        let json = dir.join("tweets.jsonl");
        let tweet = r#"{"id_str":"1","created_at":"Wed Oct 05 20:00:00 +0000 2016","text":"t","user":{"id_str":"u","description":"PAD"}}"#;
        let tweet = tweet.replace("PAD", &"x".repeat(3_000 - tweet.len() + 2));
        std::fs::write(&json, format!("{tweet}\n").repeat(100)).expect("write");
        assert_eq!(estimate_posts(&[&json]), 100);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn format_names_round_trip() {
        for name in Format::NAMES {
            let f: Format = name.parse().expect("known name");
            assert_eq!(f.to_string(), name);
        }
        assert!(matches!("nope".parse::<Format>(), Err(ReadError::UnknownFormatName { .. })));
        let f: Format = "csv:account=u,time=t".parse().expect("inline mapping");
        assert!(matches!(f, Format::Csv(ref m) if m.column(MappedField::Account) == Some("u")));
    }

    #[test]
    fn batched_readers_keep_input_order() {
        // Enough posts for several batches of both the JSON and the CSV pipelines.
        let n = 5000;
        let json: String = (0..n)
            .map(|i| {
                format!(
                    "{{\"id_str\":\"{i}\",\"created_at\":\"Wed Oct 05 20:00:00 +0000 2016\",\"text\":\"t {i}\",\"user\":{{\"id_str\":\"u{}\"}}}}\n",
                    i % 7
                )
            })
            .collect();
        let csv: String = std::iter::once("account,time,id\n".to_string())
            .chain((0..n).map(|i| format!("u{},2016-10-05T20:00:00Z,{i}\n", i % 7)))
            .collect();
        let csv_format = Format::Csv("account=account,time=time,id=id".parse().expect("mapping"));
        for (input, format) in [(json.as_str(), Format::TwitterV1), (csv.as_str(), csv_format)] {
            let mut ids = Vec::new();
            let report = read_posts_with(
                input.as_bytes(),
                "order",
                &format,
                Fields::ALL,
                &|p: PostRef<'_>| p.id.unwrap_or_default().into_owned(),
                |id| ids.push(id),
            )
            .expect("reads");
            assert_eq!(report.posts, n as u64, "{format}");
            let want: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            assert_eq!(ids, want, "{format}");
        }
    }

    #[test]
    fn skip_displays_with_line() {
        let s = Skip { line: 17, reason: "field publish_date: cannot parse 'x' as a time".into() };
        assert_eq!(s.to_string(), "line 17: field publish_date: cannot parse 'x' as a time");
    }
}

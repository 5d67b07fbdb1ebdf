//! Readers for the platforms beyond Twitter. Each maps its export to the one [`Post`]
//! type with platform-qualified account and post ids (`telegram:channel1036362176`,
//! `reddit:t1_abc`), so that one scan reads several platforms without collisions.
//!
//! JSON lines go through the shared line driver ([`super::jsonl`]); documents written
//! over several lines (Telegram's `result.json`, pretty-printed API responses) through
//! [`doc`], which streams them without holding them whole; CSV exports through the shared
//! CSV driver ([`super::csvio`]). Telegram's HTML export is cut into one message's markup
//! at a time ([`telegram_html`]); a Bluesky repository CAR file and saved firehose frames
//! are read from their binary stream, never cut into lines ([`bluesky_car`],
//! [`bluesky_firehose`]).

mod bluesky;
mod bluesky_car;
mod bluesky_firehose;
mod crowdtangle;
mod doc;
mod fourcat;
mod jsonscan;
mod meta;
mod reddit;
mod reddit_export;
mod telegram;
mod telegram_html;
mod tiktok;
mod youtube;

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::Value;

use super::jsonl::{LineError, LineParser};
use super::{Format, Out, ReadError};
use crate::post::Post;

/// A platform format, once `--format` or sniffing has decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    Telegram,
    TelegramHtml,
    Telethon,
    Reddit,
    RedditExport,
    Bluesky,
    BlueskyCar,
    BlueskyFirehose,
    MetaContentLibrary,
    CrowdTangle,
    TikTok,
    YouTube,
    FourCat,
}

impl Platform {
    pub fn format(self) -> Format {
        match self {
            Platform::Telegram => Format::Telegram,
            Platform::TelegramHtml => Format::TelegramHtml,
            Platform::Telethon => Format::Telethon,
            Platform::Reddit => Format::Reddit,
            Platform::RedditExport => Format::RedditExport,
            Platform::Bluesky => Format::Bluesky,
            Platform::BlueskyCar => Format::BlueskyCar,
            Platform::BlueskyFirehose => Format::BlueskyFirehose,
            Platform::MetaContentLibrary => Format::MetaContentLibrary,
            Platform::CrowdTangle => Format::CrowdTangle,
            Platform::TikTok => Format::TikTok,
            Platform::YouTube => Format::YouTube,
            Platform::FourCat => Format::FourCat,
        }
    }
}

/// What the start of an input looked like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// It starts with a JSON object.
    pub json: bool,
    /// Its first line is a whole JSON object (JSON lines), or it is not JSON at all.
    pub lines: bool,
}

/// `platform:id`.
pub(crate) fn qualify(platform: &str, id: &str) -> String {
    let mut s = String::with_capacity(platform.len() + 1 + id.len());
    s.push_str(platform);
    s.push(':');
    s.push_str(id);
    s
}

/// Recognises a platform export from what sniffing sees ([`super::input::Opened::head`]):
/// a JSON line by its keys, a JSON document over several lines by telltale keys in its
/// first 64 KiB, a CSV by its header. `None` leaves it to the Twitter formats.
pub(crate) fn sniff(head: &[u8]) -> Option<Platform> {
    let find = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    if head.starts_with(b"<") {
        return telegram_html::looks_like_export(head).then_some(Platform::TelegramHtml);
    }
    if head.starts_with(b"{") {
        let Ok(keys) = serde_json::from_slice::<BTreeMap<String, serde::de::IgnoredAny>>(head) else {
            // A document over several lines (or a line cut off).
            return if find(b"\"youtube#") {
                Some(Platform::YouTube)
            } else if (find(b"\"messages\"") && (find(b"\"date\"") || find(b"\"type\"")))
                || (find(b"\"chats\"") && find(b"\"list\""))
            {
                Some(Platform::Telegram)
            } else if find(b"\"data\"")
                && (find(b"\"videos\"") || find(b"\"comments\""))
                && find(b"\"create_time\"")
            {
                Some(Platform::TikTok)
            } else {
                None
            };
        };
        let has = |k: &str| keys.contains_key(k);
        return if has("_") && (has("peer_id") || has("message")) {
            Some(Platform::Telethon)
        } else if has("did") && has("time_us") && has("kind") {
            Some(Platform::Bluesky)
        } else if has("subreddit") && has("created_utc") && (has("author") || has("link_id")) {
            Some(Platform::Reddit)
        } else if has("kind") && find(b"\"youtube#") {
            Some(Platform::YouTube)
        } else if (has("data") && has("error") && (find(b"\"videos\"") || find(b"\"comments\"")))
            || has("video_description")
            || (has("video_id") && has("create_time"))
        {
            Some(Platform::TikTok)
        } else if has("thread_id") && has("author") && has("body") && has("timestamp") {
            Some(Platform::FourCat)
        } else if (has("messages") && (has("type") || has("name"))) || (has("chats") && find(b"\"list\"")) {
            Some(Platform::Telegram)
        } else {
            None
        };
    }
    let header = super::input::header_names(head.split(|&b| b == b'\n').next().unwrap_or(head));
    let has = |k: &str| header.iter().any(|h| h.eq_ignore_ascii_case(k));
    if has("id") && has("creation_time") && meta::OWNER_COLUMNS.iter().any(|c| has(c)) {
        Some(Platform::MetaContentLibrary)
    } else if has("post created") && (has("facebook id") || has("user name")) {
        Some(Platform::CrowdTangle)
    } else if has("id") && has("thread_id") && has("author") && has("body") && has("timestamp") {
        Some(Platform::FourCat)
    } else if reddit_export::is_export_header(&header) {
        Some(Platform::RedditExport)
    } else {
        None
    }
}

/// Reads `stream` (the whole input, from its first byte) as `platform`.
pub(super) fn read<T: Send>(
    platform: Platform,
    stream: impl BufRead,
    shape: Shape,
    out: &mut Out<'_, T>,
) -> Result<(), ReadError> {
    match platform {
        Platform::Telegram => super::drive_owned(out, |o| telegram::read_desktop(stream, o)),
        Platform::TelegramHtml => super::drive_owned(out, |o| telegram_html::read_html(stream, o)),
        // Read from the binary stream by `read_car`, before any line is cut.
        Platform::BlueskyCar => super::drive_owned(out, |o| bluesky_car::read_car(stream, o)),
        Platform::BlueskyFirehose => super::drive_owned(out, |o| bluesky_firehose::read_firehose(stream, o)),
        Platform::RedditExport => {
            let account = reddit_export::account_for(out.source())?;
            super::csvio::drive(stream, b',', out, "reddit-export", |h| {
                reddit_export::RedditExportMapper::new(account, h)
            })?;
        }
        Platform::Telethon => super::drive_json(stream, out, &mut telegram::TelethonParser),
        Platform::Reddit => super::drive_json(stream, out, &mut reddit::RedditParser),
        Platform::Bluesky => super::drive_json(stream, out, &mut bluesky::JetstreamParser),
        Platform::TikTok => read_values(stream, shape, out, tiktok::handle, tiktok::fast_page),
        Platform::YouTube => read_values(stream, shape, out, youtube::handle, youtube::fast_page),
        Platform::FourCat if shape.json => super::drive_json(stream, out, &mut fourcat::FourCatJsonParser),
        Platform::FourCat => {
            super::csvio::drive(stream, b',', out, "4cat", fourcat::FourCatMapper::from_headers)?;
        }
        Platform::MetaContentLibrary => {
            super::csvio::drive(stream, b',', out, "meta", meta::MetaMapper::from_headers)?;
        }
        Platform::CrowdTangle => {
            super::csvio::drive(
                stream,
                b',',
                out,
                "crowdtangle",
                crowdtangle::CrowdTangleMapper::from_headers,
            )?;
        }
    }
    Ok(())
}

/// Whether `head` starts with a CAR v1 header (a Bluesky repository export).
pub(crate) fn is_car_header(head: &[u8]) -> bool {
    bluesky_car::is_car_header(head)
}

/// Whether `head` starts with a `com.atproto.sync.subscribeRepos` frame header.
pub(crate) fn is_firehose_header(head: &[u8]) -> bool {
    bluesky_firehose::is_firehose_header(head)
}

/// Reads a CAR file (the decoded bytes, not cut into lines).
pub(crate) fn read_car(stream: impl BufRead, out: &mut Out<'_>) {
    bluesky_car::read_car(stream, out);
}

/// Reads saved firehose frames (the decoded bytes, not cut into lines).
pub(crate) fn read_firehose(stream: impl BufRead, out: &mut Out<'_>) {
    bluesky_firehose::read_firehose(stream, out);
}

/// Turns one JSON value (a response page, or one item) into posts; `at` names where it
/// is, for skips of items inside it.
pub(crate) type ValueHandler = fn(Value, &Position, &mut Out<'_>) -> Result<(), String>;

/// Where a JSON value was read.
pub(crate) struct Position {
    /// The line it starts on (JSON lines) or ends on (documents over several lines).
    pub line: u64,
    /// Whether `line` is where it ends.
    pub ends: bool,
}

impl Position {
    /// Records a skip of the `index`-th item inside the value.
    pub fn skip_item(&self, out: &mut Out<'_>, what: &str, index: usize, reason: &str) {
        let place = if self.ends { "in the document ending on this line" } else { "on this line" };
        out.skip(self.line, format!("{what} {} {place}: {reason}", index + 1));
    }
}

/// JSON lines of values, or JSON documents over several lines, each handed to `handle`.
fn read_values<T: Send>(
    stream: impl BufRead,
    shape: Shape,
    out: &mut Out<'_, T>,
    handle: ValueHandler,
    fast: FastLine,
) {
    if shape.lines {
        super::drive_json(stream, out, &mut ValueLines(handle, fast));
    } else {
        super::drive_owned(out, |o| doc::drive_documents(stream, o, handle));
    }
}

/// Reads a whole line in one typed pass when it can, emitting nothing when it cannot.
pub(crate) type FastLine = fn(&str, &mut Out<'_>) -> bool;

struct ValueLines(ValueHandler, FastLine);

impl LineParser for ValueLines {
    fn parse(&mut self, line: &str, line_no: u64, out: &mut Out<'_>) -> Result<(), LineError> {
        if (self.1)(line, out) {
            return Ok(());
        }
        let value: Value = super::jsonl::parse_json(line)?;
        (self.0)(value, &Position { line: line_no, ends: false }, out).map_err(LineError::Other)
    }
}

/// Deserialises `value` as `T`, naming the field at fault.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." { e.into_inner().to_string() } else { format!("field {path}: {}", e.into_inner()) }
    })
}

/// A required time from a field that is a Unix time in seconds (number or string) or a
/// date-time string.
pub(crate) fn required_time(
    field: &str,
    value: Option<&str>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let v = value.ok_or_else(|| format!("field {field}: missing"))?;
    parse_platform_time(v)
        .ok_or_else(|| format!("field {field}: cannot parse '{}' as a time", super::text::clip(v)))
}

/// [`super::text::parse_time`], and the ISO 8601 layout Meta's APIs write, with a zone
/// offset without a colon (`2024-10-01T12:00:00+0000`).
pub(crate) fn parse_platform_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    // Meta's layout first, by hand: it is on every row of a Content Library export, and the
    // general parser tries many layouts before giving up on it.
    let b = s.as_bytes();
    if b.len() == 24 && matches!(b[19], b'+' | b'-') && b[20..].iter().all(u8::is_ascii_digit) {
        let local = super::text::parse_time(&s[..19])?;
        let minutes = i64::from((b[20] - b'0') * 10 + (b[21] - b'0')) * 60
            + i64::from((b[22] - b'0') * 10 + (b[23] - b'0'));
        let offset = chrono::Duration::minutes(if b[19] == b'+' { minutes } else { -minutes });
        return Some(local - offset);
    }
    // Unix seconds written as a decimal string (`"1476900060.0"`, in older Pushshift dumps).
    if let Some((whole, fraction)) = s.split_once('.')
        && !whole.is_empty()
        && whole.bytes().all(|c| c.is_ascii_digit())
        && fraction.bytes().all(|c| c.is_ascii_digit())
    {
        return super::text::parse_time(whole);
    }
    super::text::parse_time(s).or_else(|| {
        chrono::DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%z")
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    })
}

#[cfg(test)]
mod time_tests {
    use super::parse_platform_time;

    #[test]
    fn offsets_without_a_colon() {
        let t = |s: &str| parse_platform_time(s).map(|t| t.to_rfc3339());
        assert_eq!(t("2024-10-01T12:00:00+0000").as_deref(), Some("2024-10-01T12:00:00+00:00"));
        assert_eq!(t("2024-10-01T12:00:00+0230").as_deref(), Some("2024-10-01T09:30:00+00:00"));
        assert_eq!(t("2024-10-01T23:00:00-0500").as_deref(), Some("2024-10-02T04:00:00+00:00"));
        assert_eq!(t("2024-10-01T12:00:00+00:00").as_deref(), Some("2024-10-01T12:00:00+00:00"));
        assert_eq!(t("2024-13-01T12:00:00+0000"), None);
        assert_eq!(t("1476900060.0").as_deref(), Some("2016-10-19T18:01:00+00:00"));
        assert_eq!(t("1476900060.x"), None);
    }
}

/// Moves the entities found in `post.text` into its lists, for platforms that do not
/// mark them.
pub(crate) fn fill_entities_from_text(post: &mut Post) {
    let ents = super::text::extract_entities(&post.text);
    for url in ents.urls {
        if !post.urls.contains(&url) {
            post.urls.push(url);
        }
    }
    for tag in ents.hashtags {
        if !post.hashtags.contains(&tag) {
            post.hashtags.push(tag);
        }
    }
    for m in ents.mentions {
        if !post.mentions.contains(&m) {
            post.mentions.push(m);
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::read::{Format, ReadReport, read_posts};
    use crate::{Post, read_posts_from_path};

    /// Reads `input` as `format`, and checks that `auto` finds the same format and posts.
    pub fn read_both(input: &[u8], format: Format) -> (Vec<Post>, ReadReport) {
        let mut posts = Vec::new();
        let report = read_posts(input, "export", &format, |p| posts.push(p)).expect("reads");
        let mut auto = Vec::new();
        let auto_report = read_posts(input, "export", &Format::Auto, |p| auto.push(p)).expect("auto reads");
        assert_eq!(auto_report.format, format.name(), "auto finds the format");
        assert_eq!(auto, posts, "auto reads the same posts");
        (posts, report)
    }

    /// The same input compressed with gzip and zstd reads the same.
    pub fn compressed_reads_the_same(input: &[u8], format: &Format) {
        use std::io::Write;
        let mut plain = Vec::new();
        read_posts(input, "plain", format, |p| plain.push(p)).expect("reads");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(input).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let zst = ruzstd::encoding::compress_to_vec(input, ruzstd::encoding::CompressionLevel::Fastest);
        for (name, bytes) in [("gz", gz), ("zst", zst)] {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join(format!("export.{name}"));
            std::fs::write(&path, bytes).expect("write");
            let mut posts = Vec::new();
            read_posts_from_path(&path, &Format::Auto, |p| posts.push(p)).expect("reads compressed");
            assert_eq!(posts, plain, "{name}");
        }
    }
}

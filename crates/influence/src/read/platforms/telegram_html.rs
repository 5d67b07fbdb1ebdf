//! Telegram Desktop's HTML export ("Export chat history", format "HTML"): `messages.html`,
//! then `messages2.html`, `messages3.html`, ... of at most 1,000 messages each, as
//! tdesktop's HTML writer (`export_output_html.cpp`) lays them out:
//!
//! ```html
//! <div class="page_header"> ... <div class="text bold">Channel name</div> ...
//! <div class="history">
//!  <div class="message service" id="message-1"> <div class="body details">15 March 2024</div>
//!  <div class="message default clearfix" id="message2">
//!   <div class="body">
//!    <div class="pull_right date details" title="15.03.2024 12:34:56 UTC+03:00">12:34</div>
//!    <div class="from_name">Sender</div>
//!    <div class="forwarded body">
//!     <div class="from_name">Original channel<span class="date details" ...> ...</span></div>
//!     <div class="reply_to details">In reply to <a href="#go_to_message1" ...>this message</a></div>
//!     <div class="text">Text <a href="https://...">https://...</a> <a href="" onclick="return ShowHashtag(&quot;tag&quot;)">#tag</a></div>
//!   ...
//!  <div class="message default clearfix joined" id="message3"> (same sender: no from_name)
//! ```
//!
//! - The export names no ids: an account is `telegram:name:` + the sender's name as shown
//!   (the same key the JSON reader gives a forward's author when the export has no id), the
//!   chat is `telegram:name:` + the page header's name, and a post id is
//!   `telegram:name:<chat>/<message id>`. The same channel read from a JSON export has its
//!   numeric id instead: one export format per chat keeps its accounts together.
//! - A "joined" message (the writer's grouping of consecutive messages from one sender)
//!   has no `from_name`: it is the previous message's sender, and a joined forward the
//!   previous forward's author. A joined message with no message before it in the input is
//!   skipped, naming why.
//! - Time: the date's `title`, `dd.MM.yyyy hh:mm:ss UTC+hh:mm` (the exporting computer's
//!   zone offset, applied); exports before the offset was written have only the local time,
//!   read as UTC.
//! - A forward (`forwarded body`) is a repost of its author; replies keep the id of the
//!   message replied to (`go_to_message<id>`, in this file or another of the export);
//!   links, hashtags and mentions come from the text's anchors (`ShowHashtag`, `t.me`
//!   mention links, `ShowMentionName` for a user without a username).
//! - `Deleted Account` senders are counted as without an account; service messages (date
//!   separators, joins, pins) as not posts.
//!
//! The file is streamed: each message's markup (tdesktop writes every block tag on a line
//! of its own) is cut out as it arrives and parsed with `tl` on its own, so a damaged
//! message is a skip with the line it starts on, and only one message is held at a time.

use std::io::BufRead;

use chrono::{DateTime, NaiveDateTime, Utc};
use tl::{HTMLTag, Node, NodeHandle, Parser};

use super::{fill_entities_from_text, qualify};
use crate::post::{AccountMeta, Post, PostKind};
use crate::read::Out;

const PLATFORM: &str = "telegram";

/// The name tdesktop writes for a sender whose account is gone: many people, never one
/// account.
const DELETED: [&str; 2] = ["Deleted Account", "Deleted"];

/// A message's markup is a few KiB; more than this is not a Telegram message.
const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// The page header (before the first message) is read for the chat's name up to this much.
const MAX_HEADER_BYTES: usize = 256 << 10;

/// Whether the start of an HTML input is a Telegram Desktop export page.
pub(crate) fn looks_like_export(head: &[u8]) -> bool {
    let find = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    (find(b"<title>Exported Data</title>") || find(b"CheckLocation()"))
        && (find(b"chat_page") || find(b"class=\"message "))
}

/// What the messages before this one leave for it.
#[derive(Default)]
struct Context {
    /// `name:<chat name>`, from the page header.
    chat: Option<String>,
    /// The last sender named, for joined messages.
    sender: Option<String>,
    /// The last forward's author named, for joined forwards.
    forwarded_from: Option<String>,
}

/// What one message's markup holds.
#[derive(Default)]
struct Message {
    id: Option<String>,
    service: bool,
    joined: bool,
    date: Option<String>,
    from: Option<String>,
    forwarded: bool,
    forwarded_from: Option<String>,
    reply_to: Option<String>,
    reply_elsewhere: bool,
    text: String,
    urls: Vec<String>,
    hashtags: Vec<String>,
    mentions: Vec<String>,
}

/// Appends `raw` (markup text) with its entities decoded.
fn push_decoded(into: &mut String, raw: &tl::Bytes<'_>) {
    let text = raw.as_utf8_str();
    if text.contains('&') {
        into.push_str(&html_escape::decode_html_entities(&text));
    } else {
        into.push_str(&text);
    }
}

fn attr(tag: &HTMLTag<'_>, name: &str) -> Option<String> {
    tag.attributes().get(name).flatten().map(|v| {
        let mut s = String::new();
        push_decoded(&mut s, v);
        s
    })
}

/// A tag's classes, as a list to test membership in without allocating.
struct Classes<'t>(&'t [u8]);

impl Classes<'_> {
    fn of<'t>(tag: &'t HTMLTag<'_>) -> Classes<'t> {
        Classes(tag.attributes().class().map_or(&[][..], |c| c.as_bytes()))
    }

    fn has(&self, class: &str) -> bool {
        self.0.split(|b| b.is_ascii_whitespace()).any(|c| c == class.as_bytes())
    }
}

/// The text of a tag's own text nodes (not of its child tags), trimmed.
fn own_text(tag: &HTMLTag<'_>, parser: &Parser<'_>) -> String {
    let mut s = String::new();
    for child in tag.children().top().iter() {
        if let Some(Node::Raw(raw)) = child.get(parser) {
            push_decoded(&mut s, raw);
        }
    }
    let s = s.trim();
    // `Name via @bot`: the bot posted on the sender's behalf.
    let s = s.rsplit_once(" via @").map_or(s, |(name, _)| name.trim_end());
    s.to_string()
}

impl Message {
    fn walk(&mut self, handle: NodeHandle, parser: &Parser<'_>, in_forward: bool) {
        let Some(Node::Tag(tag)) = handle.get(parser) else { return };
        let class = Classes::of(tag);
        let has = |c: &str| class.has(c);
        let name = tag.name().as_bytes();
        if name == b"div" && has("message") && self.id.is_none() {
            self.id = attr(tag, "id").map(|id| id.trim_start_matches("message").to_string());
            self.service = has("service");
            self.joined = has("joined");
        } else if has("date") && has("details") && has("pull_right") {
            if self.date.is_none() {
                self.date = attr(tag, "title");
            }
            return;
        } else if has("from_name") {
            let who = own_text(tag, parser);
            if in_forward {
                self.forwarded_from = Some(who);
            } else {
                self.from = Some(who);
            }
            return;
        } else if has("forwarded") && has("body") {
            self.forwarded = true;
            for child in tag.children().top().iter() {
                self.walk(*child, parser, true);
            }
            return;
        } else if has("reply_to") {
            self.reply_elsewhere = true;
            let mut found = None;
            find_reply_link(tag, parser, &mut found);
            if found.is_some() {
                self.reply_to = found;
                self.reply_elsewhere = false;
            }
            return;
        } else if name == b"div" && has("text") {
            let mut text = String::new();
            self.collect_text(tag, parser, &mut text);
            if !self.text.is_empty() {
                self.text.push('\n');
            }
            self.text.push_str(text.trim());
            return;
        } else if has("media_wrap") || has("signature") || has("reactions") || has("userpic_wrap") {
            return;
        }
        for child in tag.children().top().iter() {
            self.walk(*child, parser, in_forward);
        }
    }

    /// The text of a `text` div, and the links, hashtags and mentions of its anchors.
    fn collect_text(&mut self, tag: &HTMLTag<'_>, parser: &Parser<'_>, into: &mut String) {
        for child in tag.children().top().iter() {
            match child.get(parser) {
                Some(Node::Raw(raw)) => push_decoded(into, raw),
                Some(Node::Tag(inner)) => {
                    let name = inner.name().as_bytes();
                    if name == b"br" {
                        into.push('\n');
                        continue;
                    }
                    let mut piece = String::new();
                    self.collect_text(inner, parser, &mut piece);
                    if name == b"a" {
                        let href = attr(inner, "href").unwrap_or_default();
                        let onclick = attr(inner, "onclick").unwrap_or_default();
                        if onclick.contains("ShowHashtag(") {
                            self.hashtags.push(piece.trim_start_matches('#').to_string());
                        } else if onclick.contains("ShowMentionName(") {
                            self.mentions.push(qualify(PLATFORM, &format!("name:{piece}")));
                        } else if piece.starts_with('@') && href.starts_with("https://t.me/") {
                            self.mentions.push(piece.trim_start_matches('@').to_string());
                        } else if href.starts_with("http://") || href.starts_with("https://") {
                            self.urls.push(href);
                        }
                    }
                    into.push_str(&piece);
                }
                _ => {}
            }
        }
    }
}

/// `#go_to_message123` or `messages2.html#go_to_message123`, in the reply's anchor.
fn find_reply_link(tag: &HTMLTag<'_>, parser: &Parser<'_>, found: &mut Option<String>) {
    for child in tag.children().top().iter() {
        if let Some(Node::Tag(inner)) = child.get(parser) {
            if inner.name().as_bytes() == b"a"
                && let Some(href) = attr(inner, "href")
                && let Some((_, id)) = href.split_once("go_to_message")
                && !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
            {
                *found = Some(id.to_string());
                return;
            }
            find_reply_link(inner, parser, found);
        }
    }
}

/// `dd.MM.yyyy hh:mm:ss`, by hand: it is on every message, and chrono's format strings
/// are re-read on every call.
fn local_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 19 || b[2] != b'.' || b[5] != b'.' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return NaiveDateTime::parse_from_str(s, "%d.%m.%Y %H:%M:%S").ok().map(|t| t.and_utc());
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(6..10)? as i32, num(3..5)?, num(0..2)?)?;
    Some(date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?.and_utc())
}

/// `15.03.2024 12:34:56 UTC+03:00`, or without the offset (older exports: read as UTC).
fn parse_date(title: &str) -> Option<DateTime<Utc>> {
    let title = title.trim();
    let (local, zone) = match title.split_once(" UTC") {
        Some((local, zone)) => (local, Some(zone)),
        None => (title, None),
    };
    let local = local_time(local.trim())?;
    let Some(zone) = zone else { return Some(local) };
    let (sign, hm) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (h, m) = hm.split_once(':').unwrap_or((hm, "0"));
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    Some(local - chrono::Duration::minutes(sign * (h * 60 + m)))
}

/// The chat's name, from the page header's `text bold` div.
fn chat_name(header: &str) -> Option<String> {
    let dom = tl::parse(header, tl::ParserOptions::default()).ok()?;
    let parser = dom.parser();
    let mut in_header = false;
    for node in dom.nodes() {
        if let Node::Tag(tag) = node {
            let class = Classes::of(tag);
            if class.has("page_header") {
                in_header = true;
            } else if in_header && class.has("text") && class.has("bold") {
                let name = tag.inner_text(parser);
                let name = html_escape::decode_html_entities(name.trim()).trim().to_string();
                return (!name.is_empty()).then_some(name);
            }
        }
    }
    None
}

/// What one message's markup gives.
enum Outcome {
    Post(Box<Post>),
    NotPost,
    Unattributed,
}

/// Parses one message's markup: the part that needs no other message, run on many
/// messages at once.
fn parse_message(chunk: &str) -> Result<Message, String> {
    let dom =
        tl::parse(chunk, tl::ParserOptions::default()).map_err(|e| format!("cannot parse the HTML: {e}"))?;
    let parser = dom.parser();
    let mut m = Message::default();
    for child in dom.children() {
        m.walk(*child, parser, false);
    }
    Ok(m)
}

/// Makes the post of a parsed message, with what the messages before it left (its sender
/// when it is joined to them), in input order.
fn to_post(m: Message, ctx: &mut Context) -> Result<Outcome, String> {
    if m.service {
        return Ok(Outcome::NotPost);
    }
    let id = m.id.filter(|id| !id.is_empty()).ok_or("field id: the message div has no id")?;
    let title = m.date.ok_or("field date: the message has no date title")?;
    let time = parse_date(&title)
        .ok_or_else(|| format!("field date: cannot parse '{}' as a time", crate::read::text::clip(&title)))?;
    let sender = match m.from {
        Some(from) => {
            ctx.sender = Some(from.clone());
            from
        }
        None if m.joined => ctx
            .sender
            .clone()
            .ok_or("field from_name: a joined message with no message before it names its sender")?,
        None => return Err("field from_name: missing".to_string()),
    };
    let forwarded_from = if m.forwarded {
        match m.forwarded_from {
            Some(f) => {
                ctx.forwarded_from = Some(f.clone());
                Some(f)
            }
            None => ctx.forwarded_from.clone(),
        }
    } else {
        None
    };
    if sender.is_empty() || DELETED.contains(&sender.as_str()) {
        return Ok(Outcome::Unattributed);
    }
    let chat = ctx.chat.as_deref().unwrap_or("chat");
    let mut post = Post::new(qualify(PLATFORM, &format!("name:{sender}")), time, PostKind::Original, m.text);
    post.id = Some(qualify(PLATFORM, &format!("{chat}/{id}")));
    post.community = ctx.chat.as_deref().map(|c| qualify(PLATFORM, c));
    post.reply_to_id = m.reply_to.map(|r| qualify(PLATFORM, &format!("{chat}/{r}")));
    post.urls = m.urls;
    post.hashtags = m.hashtags;
    post.mentions = m.mentions;
    if post.urls.is_empty() && post.hashtags.is_empty() && post.mentions.is_empty() {
        fill_entities_from_text(&mut post);
    }
    post.retweeted_account = forwarded_from
        .as_deref()
        .filter(|f| !f.is_empty() && !DELETED.contains(f))
        .map(|f| qualify(PLATFORM, &format!("name:{f}")));
    post.kind =
        PostKind::from_references(m.forwarded, false, post.reply_to_id.is_some() || m.reply_elsewhere);
    post.handle = Some(sender.clone());
    post.account_meta = AccountMeta { display_name: Some(sender), ..AccountMeta::default() }.non_empty();
    Ok(Outcome::Post(Box::new(post)))
}

/// One message's markup being gathered.
struct Pending {
    bytes: Vec<u8>,
    line: u64,
    /// It grew past [`MAX_MESSAGE_BYTES`] (the rest is dropped as it arrives), or held a
    /// line longer than the line limit: the reason it is skipped.
    fault: Option<String>,
}

/// A message parsed on its own.
struct Parsed {
    line: u64,
    /// Its bytes were not UTF-8 and were decoded as Windows-1252.
    latin1: bool,
    /// The message, or why it is skipped (already worded).
    message: Result<Message, String>,
}

fn parse_pending(pending: Pending) -> Parsed {
    if let Some(reason) = pending.fault {
        return Parsed { line: pending.line, latin1: false, message: Err(reason) };
    }
    let (text, latin1) = match simdutf8::basic::from_utf8(&pending.bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), false),
        Err(_) => (crate::read::text::decode_1252(&pending.bytes), true),
    };
    Parsed { line: pending.line, latin1, message: parse_message(&text).map_err(|r| format!("message: {r}")) }
}

/// How many messages are parsed at once, on the rayon pool.
const BATCH: usize = 256;

/// Parses `batch` on the rayon pool, then makes its posts in input order.
fn finish(batch: &mut Vec<Pending>, ctx: &mut Context, out: &mut Out<'_>) {
    use rayon::prelude::*;
    let parsed: Vec<Parsed> = std::mem::take(batch).into_par_iter().map(parse_pending).collect();
    for p in parsed {
        out.report.records += 1;
        if p.latin1 {
            out.report.decoded_latin1 += 1;
        }
        match p.message.and_then(|m| to_post(m, ctx).map_err(|r| format!("message: {r}"))) {
            Ok(Outcome::Post(post)) => out.emit(*post),
            Ok(Outcome::NotPost) => out.report.not_posts += 1,
            Ok(Outcome::Unattributed) => out.report.unattributed += 1,
            Err(reason) => out.skip(p.line, reason),
        }
    }
}

/// Whether a message's markup is complete: every `<div` it opens is closed (message text
/// never holds a raw `<`: the writer escapes it).
fn balanced(bytes: &[u8]) -> bool {
    let opens = memchr::memmem::find_iter(bytes, b"<div").count();
    let closes = memchr::memmem::find_iter(bytes, b"</div>").count();
    closes >= opens
}

/// Reads one HTML export page, message by message.
pub(crate) fn read_html(mut stream: impl BufRead, out: &mut Out<'_>) {
    let mut ctx = Context::default();
    let mut header: Vec<u8> = Vec::new();
    let mut header_read = false;
    let mut pending: Option<Pending> = None;
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    let mut page_ended = false;
    loop {
        buf.clear();
        match stream.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => line_no += 1,
            Err(e) => {
                finish(&mut batch, &mut ctx, out);
                out.report.truncated = true;
                out.skip(
                    line_no + 1,
                    format!("cannot read past this point ({e}): the messages before it were kept"),
                );
                return;
            }
        }
        let line = buf.trim_ascii();
        if line.starts_with(b"<div class=\"message ") || line.starts_with(b"<div class=\"message\"") {
            if !header_read {
                header_read = true;
                ctx.chat = chat_name(&String::from_utf8_lossy(&header)).map(|n| format!("name:{n}"));
                header = Vec::new();
            }
            if let Some(p) = pending.take() {
                batch.push(p);
                if batch.len() == BATCH {
                    finish(&mut batch, &mut ctx, out);
                }
            }
            pending = Some(Pending { bytes: Vec::with_capacity(2048), line: line_no, fault: None });
            page_ended = false;
        } else if line.starts_with(b"</body") || line.starts_with(b"</html") {
            page_ended = true;
        }
        match pending.as_mut() {
            Some(p) if !page_ended => {
                if p.fault.is_some() {
                    continue;
                }
                // The marker starts with NUL bytes, which markup never holds: looked for
                // only then (a search per line cost more than the parse).
                if let Some(long) =
                    memchr::memchr(0, line).and_then(|_| scrutineer_core::lines::long_line(line))
                {
                    p.fault = Some(long.reason());
                } else if p.bytes.len() + buf.len() > MAX_MESSAGE_BYTES {
                    p.fault = Some(format!(
                        "message: its markup runs past {MAX_MESSAGE_BYTES} bytes without the next message: \
                         not a Telegram message"
                    ));
                    p.bytes = Vec::new();
                } else {
                    p.bytes.extend_from_slice(&buf);
                }
            }
            Some(_) => {}
            None if header.len() + buf.len() <= MAX_HEADER_BYTES => header.extend_from_slice(&buf),
            None => {}
        }
    }
    finish(&mut batch, &mut ctx, out);
    if let Some(p) = pending {
        if !page_ended && p.fault.is_none() && !balanced(&p.bytes) {
            out.report.records += 1;
            out.report.truncated = true;
            out.skip(
                p.line,
                "message: the input ends inside this message: it is truncated; the messages before it were kept"
                    .to_string(),
            );
        } else {
            batch.push(p);
            finish(&mut batch, &mut ctx, out);
        }
    } else if !header_read && !looks_like_export(&header) {
        out.skip(1, "not a Telegram Desktop HTML export (no page header or messages)".to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_with_and_without_the_offset() {
        let t = |s: &str| parse_date(s).map(|t| t.to_rfc3339());
        assert_eq!(t("15.03.2024 12:34:56 UTC+03:00").as_deref(), Some("2024-03-15T09:34:56+00:00"));
        assert_eq!(t("15.03.2024 01:00:00 UTC-05:30").as_deref(), Some("2024-03-15T06:30:00+00:00"));
        assert_eq!(t("15.03.2024 12:34:56").as_deref(), Some("2024-03-15T12:34:56+00:00"));
        assert_eq!(t("31.02.2024 12:34:56 UTC+03:00"), None);
        assert_eq!(t("15.03.2024 12:34:56 UTC+25:00"), None);
        assert_eq!(t("yesterday"), None);
    }
}

//! Telegram: Telegram Desktop's JSON export (`result.json`) and Telethon `Message` JSON lines.
//!
//! **Desktop export** (Settings → Advanced → Export Telegram data, or a chat's "Export chat
//! history", format "Machine-readable JSON"). One chat is an object with `name`, `type`,
//! `id` and `messages`; a whole-account export holds the chats under `chats.list` (and
//! `left_chats.list`). Each message has `id`, `type` (`message` or `service`), `date` (the
//! exporting computer's local time, no zone) and, since 2022, `date_unixtime` (UTC seconds,
//! as a string), `from` and `from_id` (`user123` / `channel123`), `text` and
//! `forwarded_from` (the original author's *name*), `reply_to_message_id`.
//!
//! - `text` is a string, or an array mixing strings and entity objects
//!   (`{"type": "link", "text": "https://..."}`, `text_link` with `href`, `hashtag`,
//!   `mention`, `mention_name` with `user_id`, `bold`, ...): the text is their
//!   concatenation, and links, hashtags and mentions come from the entities.
//! - Time: `date_unixtime` when present; otherwise `date`, read as UTC (the export does not
//!   say the computer's zone: older exports can be off by it).
//! - Account: `telegram:` + `from_id` (`telegram:channel1036362176`); without `from_id`, the
//!   chat's own id. Post id: `telegram:<chat>/<message id>`.
//! - A forward is a repost of the original author: `retweeted_account` =
//!   `telegram:` + `forwarded_from_id` where the export has it, else `telegram:name:` + the
//!   name. The export does not keep the original message's id, so forwards of one message
//!   are matched by author and text (co-forwarding).
//! - Service messages (joins, pins, calls) are counted as not posts.
//!
//! **Telethon** (`json.dumps(message.to_dict(), default=str)` per line, as most Telegram
//! collection scripts write). `_` is `Message` (others, such as `MessageService`, are not
//! posts); `peer_id` is the chat (`PeerChannel.channel_id`, `PeerChat.chat_id`,
//! `PeerUser.user_id`), `from_id` the sender (null for a channel's own posts), `date`,
//! `message` (the text), `entities` (with offsets in UTF-16 code units), `fwd_from`
//! (`from_id` of the original chat and `channel_post`, the original message's id) and
//! `reply_to.reply_to_msg_id`. A forward is a repost of `telegram:channel<id>/<channel_post>`,
//! the same post id the original channel's own messages get, so co-forwarding is
//! matched by message.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::{jsonscan, qualify, required_time};
use crate::post::{AccountMeta, Post, PostKind, Reaction, ReactionKind};
use crate::read::Out;
use crate::read::jsonl::{LineError, LineParser, lenient_count, lenient_id, parse_json};

const PLATFORM: &str = "telegram";

// ---------------------------------------------------------------- Desktop export

/// The chat a message is read in.
#[derive(Default, Clone)]
struct Chat {
    /// `channel123`, `chat123` or `user123`, as `from_id` names chats.
    key: Option<String>,
}

impl Chat {
    fn from_parts(kind: Option<&str>, id: Option<&str>) -> Chat {
        let key = id.map(|id| {
            let prefix = match kind.unwrap_or("") {
                k if k.ends_with("channel") || k.ends_with("supergroup") => "channel",
                "private_group" => "chat",
                "personal_chat" | "bot_chat" | "saved_messages" => "user",
                _ => "chat",
            };
            format!("{prefix}{id}")
        });
        Chat { key }
    }
}

/// A Desktop `text`: a string, or an array mixing strings and entity objects
/// (`{"type": "link", "text": "https://..."}`), whose concatenation is the text. Built as it
/// is read, with the links, hashtags and mentions of its entities: the pieces are appended
/// where they lie in the record's bytes, never held one by one.
#[derive(Default)]
struct DesktopText {
    text: String,
    urls: Vec<String>,
    hashtags: Vec<String>,
    mentions: Vec<String>,
}

/// One entity object of a `text` array.
#[derive(Deserialize)]
struct TextEntity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Cow<'a, str>,
    href: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    user_id: Option<String>,
}

impl DesktopText {
    fn add(&mut self, e: TextEntity<'_>) {
        match &*e.kind {
            "link" => self.urls.push(e.text.to_string()),
            "text_link" => self.urls.extend(e.href),
            "hashtag" => self.hashtags.push(e.text.trim_start_matches('#').to_string()),
            "mention" => self.mentions.push(e.text.trim_start_matches('@').to_string()),
            "mention_name" => {
                self.mentions.extend(e.user_id.map(|u| qualify(PLATFORM, &format!("user{u}"))));
            }
            _ => {}
        }
        self.text.push_str(&e.text);
    }
}

impl<'de> Deserialize<'de> for DesktopText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DesktopText, D::Error> {
        struct Whole;
        impl<'de> serde::de::Visitor<'de> for Whole {
            type Value = DesktopText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, or an array of strings and entity objects")
            }
            fn visit_str<E>(self, v: &str) -> Result<DesktopText, E> {
                Ok(DesktopText { text: v.to_string(), ..DesktopText::default() })
            }
            fn visit_string<E>(self, v: String) -> Result<DesktopText, E> {
                Ok(DesktopText { text: v, ..DesktopText::default() })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<DesktopText, A::Error> {
                let mut text = DesktopText::default();
                while seq.next_element_seed(Piece(&mut text))?.is_some() {}
                Ok(text)
            }
        }
        d.deserialize_any(Whole)
    }
}

/// One element of a `text` array, appended to the text being built.
struct Piece<'t>(&'t mut DesktopText);

impl<'de> serde::de::DeserializeSeed<'de> for Piece<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Piece<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string or an entity object")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.text.push_str(v);
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let entity = TextEntity::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        self.0.add(entity);
        Ok(())
    }
}

#[derive(Deserialize)]
struct DesktopMessage {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    date: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    date_unixtime: Option<String>,
    from: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    from_id: Option<String>,
    text: Option<DesktopText>,
    forwarded_from: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    forwarded_from_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    reply_to_message_id: Option<String>,
    reactions: Option<Lenient<Vec<DesktopReaction>>>,
}

/// A field read when it has the shape expected and ignored when not: reactions are kept
/// where they can be, and a shape not met before never costs the message itself.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient<T> {
    Known(T),
    Other(serde::de::IgnoredAny),
}

impl<T> Lenient<T> {
    fn known(this: Option<Self>) -> Option<T> {
        match this {
            Some(Lenient::Known(t)) => Some(t),
            _ => None,
        }
    }
}

/// One of a Desktop message's `reactions` (tdesktop's `export_output_json.cpp`):
/// `{"type": "emoji", "count": 5, "emoji": "👍", "recent": [...]}`, `custom_emoji` with
/// `document_id`, or `paid`.
#[derive(Deserialize)]
struct DesktopReaction {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default, deserialize_with = "lenient_count")]
    count: Option<u64>,
    emoji: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    document_id: Option<String>,
}

impl DesktopReaction {
    /// The typed reaction; `None` for a type tdesktop may add later, which is not guessed at.
    fn typed(self) -> Option<Reaction> {
        let count = self.count.unwrap_or(0);
        let (kind, emoji) = match self.kind.as_str() {
            "emoji" => (ReactionKind::Emoji, Some(self.emoji?)),
            "custom_emoji" => (ReactionKind::CustomEmoji, Some(self.document_id?)),
            "paid" => (ReactionKind::Paid, None),
            _ => return None,
        };
        Some(Reaction { kind, emoji, count })
    }
}

fn desktop_post(m: DesktopMessage, chat: &Chat) -> Result<Option<Post>, String> {
    if m.kind.as_deref().is_some_and(|k| k != "message") {
        return Ok(None);
    }
    let time = match m.date_unixtime.as_deref() {
        Some(unix) => required_time("date_unixtime", Some(unix))?,
        None => required_time("date", m.date.as_deref())?,
    };
    // Exports before 2021 write a user's `from_id` as a bare number.
    let from_id =
        m.from_id.map(|f| if f.bytes().all(|b| b.is_ascii_digit()) { format!("user{f}") } else { f });
    let sender =
        from_id.or_else(|| chat.key.clone()).ok_or("field from_id: missing, and the chat has no id")?;
    let mut post = Post::new(qualify(PLATFORM, &sender), time, PostKind::Original, String::new());
    if let Some(text) = m.text {
        post.text = text.text;
        post.urls = text.urls;
        post.hashtags = text.hashtags;
        post.mentions = text.mentions;
    }
    if post.urls.is_empty() && post.hashtags.is_empty() && post.mentions.is_empty() {
        super::fill_entities_from_text(&mut post);
    }
    let chat_key = chat.key.as_deref().unwrap_or("chat");
    post.id = m.id.as_deref().map(|id| qualify(PLATFORM, &format!("{chat_key}/{id}")));
    post.community = chat.key.as_deref().map(|k| qualify(PLATFORM, k));
    post.reply_to_id =
        m.reply_to_message_id.as_deref().map(|id| qualify(PLATFORM, &format!("{chat_key}/{id}")));
    let forwarded = match (m.forwarded_from_id, m.forwarded_from) {
        (Some(id), _) => Some(qualify(PLATFORM, &id)),
        (None, Some(name)) => Some(qualify(PLATFORM, &format!("name:{name}"))),
        (None, None) => None,
    };
    post.kind = PostKind::from_references(forwarded.is_some(), false, post.reply_to_id.is_some());
    post.retweeted_account = forwarded;
    post.reactions = Lenient::known(m.reactions)
        .unwrap_or_default()
        .into_iter()
        .filter_map(DesktopReaction::typed)
        .collect();
    post.handle = m.from.clone();
    post.account_meta = AccountMeta { display_name: m.from, ..AccountMeta::default() }.non_empty();
    Ok(Some(post))
}

/// The chat a record's array belongs to, from the scalar fields written before it.
fn chat_of(context: &[(Vec<u8>, Vec<u8>)]) -> Chat {
    let field = |name: &[u8]| {
        context
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| serde_json::from_slice::<Value>(v).ok())
    };
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (kind, id) = (text(field(b"type")), text(field(b"id")));
    Chat::from_parts(kind.as_deref(), id.as_deref())
}

/// Reads a Desktop export, streaming its messages: each is parsed from its own bytes, so
/// one of an unexpected shape is a skip with its line, not the end of the export.
pub(crate) fn read_desktop(stream: impl BufRead, out: &mut Out<'_>) {
    let mut chat = Chat::default();
    let mut chat_context: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let end = jsonscan::scan_records(stream, b"messages", &[b"type", b"id"], |found| {
        if found.context != chat_context.as_slice() {
            chat_context = found.context.to_vec();
            chat = chat_of(found.context);
        }
        out.report.records += 1;
        let message = serde_json::from_slice::<DesktopMessage>(found.bytes).map_err(|e| {
            // The field at fault, found by parsing again (only bad records pay for it).
            let mut de = serde_json::Deserializer::from_slice(found.bytes);
            match serde_path_to_error::deserialize::<_, DesktopMessage>(&mut de) {
                Err(pe) if pe.path().to_string() != "." => {
                    let path = pe.path().to_string();
                    format!("field {path}: {}", pe.into_inner())
                }
                _ => e.to_string(),
            }
        });
        match message.and_then(|m| desktop_post(m, &chat)) {
            Ok(Some(post)) => out.emit(post),
            Ok(None) => out.report.not_posts += 1,
            Err(reason) => out.skip(found.line, format!("message: {reason}")),
        }
    });
    match end {
        jsonscan::End::Complete => {}
        jsonscan::End::Truncated(at, line) => {
            out.report.truncated = true;
            out.skip(
                line,
                format!(
                    "the JSON ends at byte {at} before the document is complete: the input is truncated; the \
                     messages before it were kept"
                ),
            );
        }
        jsonscan::End::Failed(at, line, e) => {
            out.report.truncated = true;
            out.skip(line, format!("cannot read past byte {at} ({e}): the messages before it were kept"));
        }
        jsonscan::End::NotJson => out.skip(1, "not a JSON object: not a Telegram Desktop export".to_string()),
    }
}

// ---------------------------------------------------------------- Telethon

#[derive(Deserialize)]
struct Peer {
    #[serde(default, deserialize_with = "lenient_id")]
    channel_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    chat_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    user_id: Option<String>,
}

impl Peer {
    /// `channel123`, `chat123` or `user123`: the keys the Desktop export uses too.
    fn key(&self) -> Option<String> {
        match (&self.channel_id, &self.chat_id, &self.user_id) {
            (Some(id), _, _) => Some(format!("channel{id}")),
            (_, Some(id), _) => Some(format!("chat{id}")),
            (_, _, Some(id)) => Some(format!("user{id}")),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Entity {
    #[serde(rename = "_", default)]
    kind: String,
    #[serde(default)]
    offset: usize,
    #[serde(default)]
    length: usize,
    url: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct FwdHeader {
    from_id: Option<Peer>,
    from_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    channel_post: Option<String>,
}

#[derive(Deserialize)]
struct ReplyHeader {
    #[serde(default, deserialize_with = "lenient_id")]
    reply_to_msg_id: Option<String>,
    reply_to_peer_id: Option<Peer>,
    #[serde(default, deserialize_with = "lenient_id")]
    reply_to_top_id: Option<String>,
}

#[derive(Deserialize)]
struct TelethonMessage {
    #[serde(rename = "_", default)]
    kind: String,
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    peer_id: Option<Peer>,
    from_id: Option<Peer>,
    date: Option<Value>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    entities: Vec<Entity>,
    fwd_from: Option<FwdHeader>,
    reply_to: Option<ReplyHeader>,
    post_author: Option<String>,
    reactions: Option<Lenient<MessageReactions>>,
}

/// `MessageReactions`: `results` holds a `ReactionCount` per reaction.
#[derive(Deserialize)]
struct MessageReactions {
    #[serde(default)]
    results: Vec<ReactionCount>,
}

#[derive(Deserialize)]
struct ReactionCount {
    reaction: Option<TlReaction>,
    #[serde(default, deserialize_with = "lenient_count")]
    count: Option<u64>,
}

/// A `ReactionCount`'s `reaction`: an object since API layer 145 (`ReactionEmoji` with
/// `emoticon`, `ReactionCustomEmoji` with `document_id`, `ReactionPaid`), the emoji as a
/// bare string before it.
#[derive(Deserialize)]
#[serde(untagged)]
enum TlReaction {
    Emoticon(String),
    Object {
        #[serde(rename = "_", default)]
        kind: String,
        emoticon: Option<String>,
        #[serde(default, deserialize_with = "lenient_id")]
        document_id: Option<String>,
    },
}

impl ReactionCount {
    fn typed(self) -> Option<Reaction> {
        let count = self.count.unwrap_or(0);
        let (kind, emoji) = match self.reaction? {
            TlReaction::Emoticon(e) => (ReactionKind::Emoji, Some(e)),
            TlReaction::Object { kind, emoticon, document_id } => match kind.as_str() {
                "ReactionEmoji" => (ReactionKind::Emoji, Some(emoticon?)),
                "ReactionCustomEmoji" => (ReactionKind::CustomEmoji, Some(document_id?)),
                "ReactionPaid" => (ReactionKind::Paid, None),
                _ => return None,
            },
        };
        Some(Reaction { kind, emoji, count })
    }
}

/// The piece of `text` at UTF-16 offsets `offset..offset + length` (Telegram counts
/// entity offsets in UTF-16 code units, so emoji and other astral characters count twice).
fn utf16_slice(text: &str, offset: usize, length: usize) -> Option<&str> {
    let (mut units, mut start, mut end) = (0usize, None, None);
    for (i, c) in text.char_indices() {
        if units == offset {
            start = Some(i);
        }
        if units == offset + length {
            end = Some(i);
            break;
        }
        units += c.len_utf16();
    }
    if units == offset + length && end.is_none() {
        end = Some(text.len());
    }
    if units == offset && start.is_none() {
        start = Some(text.len());
    }
    text.get(start?..end?)
}

pub(crate) struct TelethonParser;

impl LineParser for TelethonParser {
    fn parse(&mut self, line: &str, _line_no: u64, out: &mut Out<'_>) -> Result<(), LineError> {
        let m: TelethonMessage = parse_json(line)?;
        match telethon_post(m).map_err(LineError::Other)? {
            Some(post) => out.emit(post),
            None => out.report.not_posts += 1,
        }
        Ok(())
    }
}

fn telethon_post(m: TelethonMessage) -> Result<Option<Post>, String> {
    if m.kind != "Message" {
        return if m.kind.is_empty() {
            Err("field _: missing (not a Telethon object?)".to_string())
        } else {
            Ok(None)
        };
    }
    let chat = m.peer_id.as_ref().and_then(Peer::key).ok_or("field peer_id: missing or without an id")?;
    let sender = m.from_id.as_ref().and_then(Peer::key).unwrap_or_else(|| chat.clone());
    let date = match &m.date {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let time = required_time("date", date.as_deref())?;
    let mut post = Post::new(qualify(PLATFORM, &sender), time, PostKind::Original, m.message);
    for e in &m.entities {
        let piece = utf16_slice(&post.text, e.offset, e.length);
        match e.kind.as_str() {
            "MessageEntityUrl" => post.urls.extend(piece.map(str::to_string)),
            "MessageEntityTextUrl" => post.urls.extend(e.url.clone()),
            "MessageEntityHashtag" => {
                post.hashtags.extend(piece.map(|p| p.trim_start_matches('#').to_string()))
            }
            "MessageEntityMention" => {
                post.mentions.extend(piece.map(|p| p.trim_start_matches('@').to_string()))
            }
            "MessageEntityMentionName" | "InputMessageEntityMentionName" => {
                post.mentions.extend(e.user_id.as_ref().map(|u| qualify(PLATFORM, &format!("user{u}"))));
            }
            _ => {}
        }
    }
    if m.entities.is_empty() {
        super::fill_entities_from_text(&mut post);
    }
    post.id = m.id.as_deref().map(|id| qualify(PLATFORM, &format!("{chat}/{id}")));
    post.community = Some(qualify(PLATFORM, &chat));
    if let Some(reply) = &m.reply_to {
        let in_chat = reply.reply_to_peer_id.as_ref().and_then(Peer::key).unwrap_or_else(|| chat.clone());
        post.reply_to_id =
            reply.reply_to_msg_id.as_deref().map(|id| qualify(PLATFORM, &format!("{in_chat}/{id}")));
        post.thread_id =
            reply.reply_to_top_id.as_deref().map(|id| qualify(PLATFORM, &format!("{in_chat}/{id}")));
    }
    if let Some(fwd) = m.fwd_from {
        let origin = fwd.from_id.as_ref().and_then(Peer::key);
        post.retweeted_account = match (&origin, fwd.from_name) {
            (Some(key), _) => Some(qualify(PLATFORM, key)),
            (None, Some(name)) => Some(qualify(PLATFORM, &format!("name:{name}"))),
            // Forwarded from an account that hides itself: still a forward.
            (None, None) => Some(qualify(PLATFORM, "name:(hidden)")),
        };
        post.retweeted_id =
            origin.zip(fwd.channel_post).map(|(key, id)| qualify(PLATFORM, &format!("{key}/{id}")));
    }
    post.kind =
        PostKind::from_references(post.retweeted_account.is_some(), false, post.reply_to_id.is_some());
    post.account_meta = AccountMeta { display_name: m.post_author, ..AccountMeta::default() }.non_empty();
    post.reactions = Lenient::known(m.reactions)
        .map(|r| r.results.into_iter().filter_map(ReactionCount::typed).collect())
        .unwrap_or_default();
    Ok(Some(post))
}

#[cfg(test)]
mod tests {
    use super::utf16_slice;
    use crate::post::{PostKind, Reaction, ReactionKind};
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// A channel export in Telegram Desktop's layout (pretty-printed with one space, as
    /// Desktop writes it): a service message, a message whose `text` mixes strings and
    /// entity objects and reactions of each type, a forward (by name only), a reply (whose
    /// `reactions` has a shape no export writes: ignored, the message kept), an old-style
    /// message without `date_unixtime`, and one whose `text` is a number (skipped, not the
    /// end of the export).
    const CHANNEL: &str = r##"{
 "name": "Новости 24",
 "type": "public_channel",
 "id": 1036362176,
 "messages": [
  {
   "id": 1,
   "type": "service",
   "date": "2022-02-24T05:00:00",
   "date_unixtime": "1645668000",
   "actor": "Новости 24",
   "actor_id": "channel1036362176",
   "action": "create_channel",
   "title": "Новости 24",
   "text": "",
   "text_entities": []
  },
  {
   "id": 2,
   "type": "message",
   "date": "2022-02-24T06:00:00",
   "date_unixtime": "1645671600",
   "from": "Новости 24",
   "from_id": "channel1036362176",
   "text": [
    "Read ",
    {
     "type": "text_link",
     "text": "this",
     "href": "https://example.org/story"
    },
    " and ",
    {
     "type": "link",
     "text": "https://t.me/other/5"
    },
    " ",
    {
     "type": "hashtag",
     "text": "#выборы"
    },
    " ",
    {
     "type": "mention",
     "text": "@someone"
    },
    {
     "type": "bold",
     "text": "!"
    }
   ],
   "text_entities": [],
   "reactions": [
    {
     "type": "emoji",
     "count": 12,
     "emoji": "👍",
     "recent": [
      {
       "from": "Ann",
       "from_id": "user42",
       "date": "2022-02-24T06:01:00"
      }
     ]
    },
    {
     "type": "custom_emoji",
     "count": 3,
     "document_id": "5368324170671202286"
    },
    {
     "type": "paid",
     "count": 50
    }
   ]
  },
  {
   "id": 3,
   "type": "message",
   "date": "2022-02-24T06:05:00",
   "date_unixtime": "1645671900",
   "from": "Новости 24",
   "from_id": "channel1036362176",
   "forwarded_from": "Rybar",
   "text": "forwarded text",
   "text_entities": [{"type": "plain", "text": "forwarded text"}]
  },
  {
   "id": 4,
   "type": "message",
   "date": "2022-02-24T06:10:00",
   "date_unixtime": "1645672200",
   "from": "Новости 24",
   "from_id": "channel1036362176",
   "reply_to_message_id": 2,
   "text": "a reply https://x.org/a",
   "text_entities": [],
   "reactions": "a shape no export writes"
  },
  {
   "id": 5,
   "type": "message",
   "date": "2019-05-01T10:00:00",
   "from": "Новости 24",
   "text": "old export",
   "text_entities": []
  },
  {
   "id": 6,
   "type": "message",
   "date": "2022-02-24T06:20:00",
   "date_unixtime": "1645672800",
   "from_id": "channel1036362176",
   "text": 17
  }
 ]
}
"##;

    #[test]
    fn desktop_channel_export() {
        let (posts, report) = read_both(CHANNEL.as_bytes(), Format::Telegram);
        assert_eq!(
            (report.records, report.not_posts, report.skipped),
            (6, 1, 1),
            "{:?}",
            report.skip_samples
        );
        assert_eq!(posts.len(), 4);
        let skip = &report.skip_samples[0];
        let marker = CHANNEL.find("\"text\": 17").expect("marker");
        let start = CHANNEL[..marker].rfind('{').expect("start");
        let start_line = CHANNEL[..=start].lines().count() as u64;
        assert_eq!(skip.line, start_line, "the skipped message's first line: {skip}");
        assert!(skip.reason.starts_with("message: field text: "), "{skip}");

        let p = &posts[0];
        assert_eq!(p.account, "telegram:channel1036362176");
        assert_eq!(p.id.as_deref(), Some("telegram:channel1036362176/2"));
        assert_eq!(p.text, "Read this and https://t.me/other/5 #выборы @someone!");
        assert_eq!(p.urls, vec!["https://example.org/story", "https://t.me/other/5"]);
        assert_eq!(p.hashtags, vec!["выборы"]);
        assert_eq!(p.mentions, vec!["someone"]);
        assert_eq!(p.time.to_rfc3339(), "2022-02-24T03:00:00+00:00", "date_unixtime, not the local date");
        assert_eq!(p.community.as_deref(), Some("telegram:channel1036362176"));
        assert_eq!(
            p.reactions,
            vec![
                Reaction { kind: ReactionKind::Emoji, emoji: Some("👍".to_string()), count: 12 },
                Reaction {
                    kind: ReactionKind::CustomEmoji,
                    emoji: Some("5368324170671202286".to_string()),
                    count: 3
                },
                Reaction { kind: ReactionKind::Paid, emoji: None, count: 50 },
            ]
        );

        let f = &posts[1];
        assert_eq!(f.kind, PostKind::Retweet);
        assert_eq!(f.retweeted_account.as_deref(), Some("telegram:name:Rybar"));

        let r = &posts[2];
        assert_eq!(r.kind, PostKind::Reply);
        assert_eq!(r.reply_to_id.as_deref(), Some("telegram:channel1036362176/2"));
        assert_eq!(r.urls, vec!["https://x.org/a"], "links found in plain text");
        assert!(r.reactions.is_empty());

        let old = &posts[3];
        assert_eq!(old.account, "telegram:channel1036362176", "no from_id: the chat's id");
        assert_eq!(old.time.to_rfc3339(), "2019-05-01T10:00:00+00:00");
        compressed_reads_the_same(CHANNEL.as_bytes(), &Format::Telegram);
    }

    #[test]
    fn desktop_account_export_and_truncation() {
        let account = r#"{
 "about": "Here is the data you requested.",
 "personal_information": {"user_id": 1, "first_name": "A"},
 "chats": {
  "about": "This page lists all chats from this export.",
  "list": [
   {"name": "Group", "type": "private_supergroup", "id": 777, "messages": [
    {"id": 10, "type": "message", "date_unixtime": "1700000000", "from": "Ann", "from_id": "user42", "text": "hi"},
    {"id": 12, "type": "message", "date": "2019-01-01T00:00:00", "from": "Ann", "from_id": 42, "text": "old"}
   ]},
   {"name": "Bob", "type": "personal_chat", "id": 55, "messages": [
    {"id": 11, "type": "message", "date_unixtime": "1700000060", "from": "Bob", "from_id": "user55", "text": "yo"}
   ]}
  ]
 }
}"#;
        let (posts, report) = read_both(account.as_bytes(), Format::Telegram);
        assert_eq!(report.skipped, 0, "{:?}", report.skip_samples);
        let ids: Vec<_> = posts.iter().map(|p| (p.account.as_str(), p.id.as_deref().unwrap_or(""))).collect();
        assert_eq!(
            ids,
            [
                ("telegram:user42", "telegram:channel777/10"),
                ("telegram:user42", "telegram:channel777/12"),
                ("telegram:user55", "telegram:user55/11")
            ],
            "a bare numeric from_id is the same user"
        );

        // Cut inside the third message: the two before it are kept, the cut is reported.
        let cut = &CHANNEL[..CHANNEL.find("a reply").expect("marker")];
        let mut posts = Vec::new();
        let report =
            crate::read::read_posts(cut.as_bytes(), "cut.json", &Format::Telegram, |p| posts.push(p))
                .expect("reads");
        assert_eq!(posts.len(), 2);
        assert!(report.truncated);
        assert!(report.skip_samples[0].reason.contains("truncated"), "{:?}", report.skip_samples);
    }

    #[test]
    fn telethon_lines() {
        // `json.dumps(message.to_dict(), default=str)`: dates are `str(datetime)`.
        let lines = [
            r#"{"_": "Message", "id": 4431, "peer_id": {"_": "PeerChannel", "channel_id": 1101170442}, "date": "2024-03-01 09:30:00+00:00", "message": "👍 Look https://ex.org/a #тег", "out": false, "mentioned": false, "from_id": null, "fwd_from": {"_": "MessageFwdHeader", "date": "2024-03-01 09:00:00+00:00", "imported": false, "from_id": {"_": "PeerChannel", "channel_id": 1036362176}, "from_name": null, "channel_post": 2, "post_author": null}, "reply_to": null, "entities": [{"_": "MessageEntityUrl", "offset": 8, "length": 16}, {"_": "MessageEntityHashtag", "offset": 25, "length": 4}], "views": 1200, "forwards": 3, "reactions": {"_": "MessageReactions", "results": [{"_": "ReactionCount", "reaction": {"_": "ReactionEmoji", "emoticon": "🔥"}, "count": 120, "chosen_order": null}, {"_": "ReactionCount", "reaction": {"_": "ReactionCustomEmoji", "document_id": 5368324170671202286}, "count": 7, "chosen_order": null}, {"_": "ReactionCount", "reaction": {"_": "ReactionPaid"}, "count": 15, "chosen_order": null}], "min": false, "can_see_list": false, "reactions_as_tags": false, "recent_reactions": [], "top_reactors": []}}"#,
            r#"{"_": "MessageService", "id": 4432, "peer_id": {"_": "PeerChannel", "channel_id": 1101170442}, "date": "2024-03-01 09:31:00+00:00", "action": {"_": "MessageActionPinMessage"}}"#,
            r#"{"_": "Message", "id": 99, "peer_id": {"_": "PeerChannel", "channel_id": 1500000000}, "date": "2024-03-01T09:32:00+00:00", "message": "agreed", "from_id": {"_": "PeerUser", "user_id": 777000}, "reply_to": {"_": "MessageReplyHeader", "reply_to_msg_id": 98, "reply_to_peer_id": null, "reply_to_top_id": null}, "entities": [], "reactions": {"_": "MessageReactions", "results": [{"_": "ReactionCount", "reaction": "👍", "count": 2, "chosen": false}], "min": false, "can_see_list": false, "recent_reactions": null}}"#,
            r#"{"_": "Message", "id": 100, "date": "2024-03-01 09:33:00+00:00", "message": "no chat"}"#,
        ];
        let input = lines.join("\n");
        let (posts, report) = read_both(input.as_bytes(), Format::Telethon);
        assert_eq!((report.records, report.not_posts, report.skipped), (4, 1, 1));
        assert_eq!(report.skip_samples[0].to_string(), "line 4: field peer_id: missing or without an id");
        let f = &posts[0];
        assert_eq!(f.account, "telegram:channel1101170442", "a channel's own post: the channel");
        assert_eq!(f.kind, PostKind::Retweet);
        assert_eq!(f.retweeted_id.as_deref(), Some("telegram:channel1036362176/2"));
        assert_eq!(f.retweeted_account.as_deref(), Some("telegram:channel1036362176"));
        assert_eq!(f.urls, vec!["https://ex.org/a"], "UTF-16 offsets: the emoji counts twice");
        assert_eq!(f.hashtags, vec!["тег"]);
        let r = &posts[1];
        assert_eq!(r.account, "telegram:user777000");
        assert_eq!(r.reply_to_id.as_deref(), Some("telegram:channel1500000000/98"));
        assert_eq!(r.time.to_rfc3339(), "2024-03-01T09:32:00+00:00");
        assert_eq!(
            f.reactions,
            vec![
                Reaction { kind: ReactionKind::Emoji, emoji: Some("🔥".to_string()), count: 120 },
                Reaction {
                    kind: ReactionKind::CustomEmoji,
                    emoji: Some("5368324170671202286".to_string()),
                    count: 7
                },
                Reaction { kind: ReactionKind::Paid, emoji: None, count: 15 },
            ],
            "API layer 145 and later: reactions as objects"
        );
        assert_eq!(
            r.reactions,
            vec![Reaction { kind: ReactionKind::Emoji, emoji: Some("👍".to_string()), count: 2 }],
            "before layer 145: the emoji as a bare string"
        );
        compressed_reads_the_same(input.as_bytes(), &Format::Telethon);
    }

    #[test]
    fn utf16_offsets() {
        assert_eq!(utf16_slice("👍 ab", 3, 2), Some("ab"));
        assert_eq!(utf16_slice("ab", 0, 2), Some("ab"));
        assert_eq!(utf16_slice("ab", 1, 5), None);
        // An offset inside a surrogate pair points at no character boundary.
        assert_eq!(utf16_slice("👍", 1, 1), None);
    }
}
